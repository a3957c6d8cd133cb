//! A job as a row of `jobs`, the same columns in every backend, and the one mapping from that
//! row to a [`Job`].

use crate::{stored_id, stored_opt_id, StoreError, StoreResult};
use model::{Attempt, Job, JobError, JobStatus, Level, Priority, Progress};

/// The columns of `jobs` that make up a [`Job`], in the order of [`JOB_COLUMNS`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub params: String,
    pub status: String,
    pub current: i64,
    pub total: Option<i64>,
    pub unit: String,
    pub message: String,
    pub level: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub event_id: i64,
    pub timeout_ms: Option<i64>,
    pub origin: Option<String>,
    pub progress_at: Option<i64>,
    pub run_after: Option<i64>,
    pub attempt: i64,
    pub max_attempts: i64,
    /// The attempts that failed and were tried again, as JSON.
    pub attempts: Option<String>,
    pub schedule_id: Option<String>,
    pub scheduled_for: Option<i64>,
    /// The files it wrote, as JSON.
    pub outputs: Option<String>,
    /// Its result, as JSON.
    pub result: Option<String>,
    pub priority: i64,
    /// The jobs it starts after and on what condition, as JSON ([`model::After`] without
    /// `left`).
    pub after_jobs: Option<String>,
    /// How many of them have not ended.
    pub needs_left: i64,
    /// The workflow run it is a step of.
    pub parent_id: Option<String>,
    /// Its step's name in that run.
    pub step: Option<String>,
    /// [`model::Actor`] as JSON.
    pub started_by: Option<String>,
    pub cancelled_by: Option<String>,
    /// The process that claimed it (`claimed_by`): where its current or last attempt ran.
    pub ran_on: Option<String>,
    /// Its message in Headway's words ([`model::Said`] as JSON).
    pub said: Option<String>,
    /// Its error's message in Headway's words.
    pub error_said: Option<String>,
}

/// The job columns as a literal, for statements put together at compile time (`concat!`).
macro_rules! job_columns {
    () => {
        "id, kind, params, status, current, total, unit, message, level, error_code, \
         error_message, created_at, started_at, finished_at, event_id, timeout_ms, origin, \
         progress_at, run_after, attempt, max_attempts, attempts, schedule_id, scheduled_for, \
         outputs, result, priority, after_jobs, needs_left, parent_id, step, started_by, \
         cancelled_by, claimed_by AS ran_on, said, error_said"
    };
}
pub(crate) use job_columns;

/// The job columns, for `SELECT` and `RETURNING` lists.
pub const JOB_COLUMNS: &str = job_columns!();

/// A job with the fingerprint of the start whose key made it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyedJobRow {
    pub fingerprint: String,
    #[sqlx(flatten)]
    pub job: JobRow,
}

/// A job left running by a process that is gone: its owner and claim beside its columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrphanRow {
    pub owner: String,
    pub claimed_by: Option<String>,
    #[sqlx(flatten)]
    pub job: JobRow,
}

impl TryFrom<OrphanRow> for crate::Orphan {
    type Error = StoreError;

    fn try_from(r: OrphanRow) -> StoreResult<Self> {
        Ok(crate::Orphan {
            owner: stored_id(r.owner)?,
            claimed_by: stored_opt_id(r.claimed_by)?,
            job: r.job.try_into()?,
        })
    }
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    /// Values the database cannot hold wrongly are read leniently: parameters that do not parse
    /// are `null`, an unknown status is `interrupted`, an unknown level the default, negative
    /// counts zero. An id that does not parse is a corrupted row, and fails the read.
    fn try_from(r: JobRow) -> StoreResult<Job> {
        let status = crate::stored_status(&r.status);
        let error = r.error_code.map(|code| JobError {
            code,
            message: r.error_message.unwrap_or_default(),
            said: said_of(r.error_said.as_deref()),
        });
        let attempt = r.attempt.clamp(1, u32::MAX as i64) as u32;
        // The attempts tried again, then the current or last one (if it started).
        let mut attempts: Vec<Attempt> = r
            .attempts
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default();
        if let Some(started_at) = r.started_at {
            let ended = status.is_terminal();
            attempts.push(Attempt {
                n: attempt,
                started_at,
                finished_at: r.finished_at.filter(|_| ended),
                error: error.clone().filter(|_| ended),
                on: r.ran_on,
            });
        }
        let retrying = status == JobStatus::Queued && attempt > 1;
        Ok(Job {
            attempt,
            max_attempts: r.max_attempts.clamp(1, u32::MAX as i64) as u32,
            next_attempt_at: r.run_after.filter(|_| retrying),
            attempts,
            params: serde_json::from_str(&r.params).unwrap_or(serde_json::Value::Null),
            status,
            progress: Progress {
                current: r.current.max(0) as u64,
                total: r.total.map(|t| t.max(0) as u64),
                unit: r.unit,
                message: r.message,
                level: Level::parse(&r.level).unwrap_or_default(),
                at: r.progress_at,
                said: said_of(r.said.as_deref()),
            },
            error,
            id: stored_id(r.id)?,
            kind: r.kind,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            event_id: r.event_id,
            timeout_ms: r.timeout_ms.map(|t| t.max(0) as u64),
            origin: stored_opt_id(r.origin)?,
            run_after: r.run_after,
            schedule_id: stored_opt_id(r.schedule_id)?,
            scheduled_for: r.scheduled_for,
            priority: Priority::of_level(r.priority).unwrap_or_default(),
            outputs: r
                .outputs
                .and_then(|o| serde_json::from_str(&o).ok())
                .unwrap_or_default(),
            result: r.result.and_then(|o| serde_json::from_str(&o).ok()),
            after: r.after_jobs.and_then(|a| after_of(&a, r.needs_left)),
            parent: stored_opt_id(r.parent_id)?,
            step: r.step,
            started_by: model::Actor::from_stored(r.started_by.as_deref()),
            cancelled_by: model::Actor::from_stored(r.cancelled_by.as_deref()),
        })
    }
}

/// A `said` column as [`model::Said`]; words that do not parse are left out (the English
/// message stays).
fn said_of(stored: Option<&str>) -> Option<model::Said> {
    serde_json::from_str(stored?).ok()
}

/// [`model::Said`] as a `said` column.
pub fn said_column(said: Option<&model::Said>) -> Option<String> {
    said.map(|s| serde_json::to_string(s).expect("words serialize"))
}

/// A job's `after_jobs` column as [`model::After`], with `needs_left`.
fn after_of(stored: &str, needs_left: i64) -> Option<model::After> {
    let mut after: model::After = serde_json::from_str(stored).ok()?;
    after.left = needs_left.clamp(0, u32::MAX as i64) as u32;
    Some(after)
}

/// [`model::After`] as a job's `after_jobs` column: its jobs and condition (`left` is a column of
/// its own).
pub fn after_column(after: Option<&model::After>) -> Option<String> {
    after.map(|a| serde_json::json!({ "jobs": a.jobs, "when": a.when }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> JobRow {
        JobRow {
            id: "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93".into(),
            kind: "demo".into(),
            params: r#"{"steps":3}"#.into(),
            status: "failed".into(),
            current: 2,
            total: Some(3),
            unit: "steps".into(),
            message: "two".into(),
            level: "warning".into(),
            error_code: Some("boom".into()),
            error_message: None,
            created_at: 1,
            started_at: Some(2),
            finished_at: Some(3),
            event_id: 9,
            timeout_ms: Some(1000),
            origin: None,
            progress_at: Some(2),
            run_after: None,
            attempt: 1,
            max_attempts: 1,
            attempts: None,
            schedule_id: None,
            scheduled_for: None,
            outputs: None,
            result: None,
            priority: 2,
            after_jobs: None,
            needs_left: 0,
            parent_id: None,
            step: None,
            started_by: None,
            cancelled_by: None,
            ran_on: None,
            said: None,
            error_said: None,
        }
    }

    fn job(row: JobRow) -> Job {
        Job::try_from(row).unwrap()
    }

    #[test]
    fn a_job_lists_its_attempts_tried_again_then_its_own() {
        let past = r#"[{"n":1,"started_at":2,"finished_at":3,"error":{"code":"timeout","message":"too long"}}]"#;
        // Waiting for its second attempt: the first is listed, the next time is said.
        let waiting = job(JobRow {
            status: "queued".into(),
            started_at: None,
            finished_at: None,
            attempt: 2,
            max_attempts: 3,
            run_after: Some(40),
            attempts: Some(past.into()),
            ..row()
        });
        assert_eq!((waiting.attempt, waiting.max_attempts), (2, 3));
        assert_eq!(waiting.next_attempt_at, Some(40));
        assert_eq!(waiting.attempts.len(), 1);
        assert_eq!(waiting.attempts[0].error.as_ref().unwrap().code, "timeout");
        // Its second attempt failed for good: both are listed, the last with its error.
        let failed = job(JobRow {
            started_at: Some(41),
            finished_at: Some(50),
            attempt: 2,
            max_attempts: 3,
            run_after: Some(40),
            attempts: Some(past.into()),
            ..row()
        });
        assert_eq!(failed.next_attempt_at, None);
        let second = &failed.attempts[1];
        assert_eq!(
            (second.n, second.started_at, second.finished_at),
            (2, 41, Some(50))
        );
        assert_eq!(second.error.as_ref().unwrap().code, "boom");
        // Running: its attempt has no end yet.
        let running = job(JobRow {
            status: "running".into(),
            finished_at: None,
            ..row()
        });
        assert_eq!(running.attempts.len(), 1);
        assert_eq!(
            (running.attempts[0].finished_at, &running.attempts[0].error),
            (None, &None)
        );
    }

    #[test]
    fn a_row_becomes_its_job() {
        let job = job(row());
        assert_eq!(job.status, JobStatus::Failed);
        assert_eq!(job.params["steps"], 3);
        assert_eq!((job.progress.current, job.progress.total), (2, Some(3)));
        assert_eq!(job.progress.level, Level::Warning);
        let error = job.error.unwrap();
        assert_eq!((error.code.as_str(), error.message.as_str()), ("boom", ""));
        assert_eq!(job.timeout_ms, Some(1000));
    }

    #[test]
    fn what_the_database_should_not_hold_is_read_leniently() {
        let job = job(JobRow {
            params: "not json".into(),
            status: "exploded".into(),
            level: "loud".into(),
            current: -5,
            total: Some(-1),
            error_code: None,
            ..row()
        });
        assert_eq!(job.params, serde_json::Value::Null);
        assert_eq!(job.status, JobStatus::Interrupted);
        assert_eq!(job.progress.level, Level::default());
        assert_eq!((job.progress.current, job.progress.total), (0, Some(0)));
        assert!(job.error.is_none());
    }

    #[test]
    fn a_row_whose_ids_do_not_parse_is_corrupted() {
        for row in [
            JobRow {
                id: "j1".into(),
                ..row()
            },
            JobRow {
                origin: Some(String::new()),
                ..row()
            },
            JobRow {
                schedule_id: Some("S1".into()),
                ..row()
            },
        ] {
            let e = Job::try_from(row).unwrap_err();
            let cause = std::error::Error::source(&e).unwrap().to_string();
            assert!(cause.starts_with("not a "), "{cause}");
        }
    }
}
