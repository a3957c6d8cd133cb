//! A job as a row of `jobs`, the same columns in every backend, and the one mapping from that
//! row to a [`Job`].

use model::{Job, JobError, JobId, JobStatus, Level, ProcessId, Progress};

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
}

/// The job columns, for `SELECT` and `RETURNING` lists.
pub const JOB_COLUMNS: &str = "id, kind, params, status, current, total, unit, message, level, \
     error_code, error_message, created_at, started_at, finished_at, event_id, timeout_ms, origin, \
     progress_at, run_after";

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

impl From<OrphanRow> for crate::Orphan {
    fn from(r: OrphanRow) -> Self {
        crate::Orphan {
            owner: r.owner.into(),
            claimed_by: r.claimed_by.map(ProcessId::from),
            job: r.job.into(),
        }
    }
}

impl From<JobRow> for Job {
    /// Values the database cannot hold wrongly are read leniently: parameters that do not parse
    /// are `null`, an unknown status is `interrupted`, an unknown level the default, negative
    /// counts zero.
    fn from(r: JobRow) -> Job {
        Job {
            params: serde_json::from_str(&r.params).unwrap_or(serde_json::Value::Null),
            status: JobStatus::parse(&r.status).unwrap_or(JobStatus::Interrupted),
            progress: Progress {
                current: r.current.max(0) as u64,
                total: r.total.map(|t| t.max(0) as u64),
                unit: r.unit,
                message: r.message,
                level: Level::parse(&r.level).unwrap_or_default(),
                at: r.progress_at,
            },
            error: r.error_code.map(|code| JobError {
                code,
                message: r.error_message.unwrap_or_default(),
            }),
            id: r.id.into(),
            kind: r.kind,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            event_id: r.event_id,
            timeout_ms: r.timeout_ms.map(|t| t.max(0) as u64),
            origin: r.origin.map(JobId::from),
            run_after: r.run_after,
        }
    }
}

/// A `users` row as a backend's compile-checked query reads it (its columns by name), as a
/// [`UserRow`](crate::UserRow). A macro, because each query's record is a type of its own.
#[macro_export]
macro_rules! user_row {
    ($r:expr) => {{
        let r = $r;
        $crate::UserRow {
            id: r.id.into(),
            name: r.name,
            role: r.role,
            password_hash: r.password_hash,
            disabled: r.disabled,
            generation: r.generation,
            created_at: r.created_at,
        }
    }};
}

/// An `api_tokens` row joined with its owner's name, as a [`TokenRow`](crate::TokenRow).
#[macro_export]
macro_rules! token_row {
    ($r:expr) => {{
        let r = $r;
        $crate::TokenRow {
            id: r.id,
            user_id: r.user_id.into(),
            user_name: r.user_name,
            name: r.name,
            scope: r.scope,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }};
}

/// A `processes` row, as a [`ProcessRow`](crate::ProcessRow).
#[macro_export]
macro_rules! process_row {
    ($r:expr) => {{
        let r = $r;
        $crate::ProcessRow {
            id: r.id.into(),
            role: r.role,
            build: r.build,
            host: r.host,
            pid: r.pid,
            started_at: r.started_at,
            heartbeat_at: r.heartbeat_at,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> JobRow {
        JobRow {
            id: "j1".into(),
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
        }
    }

    #[test]
    fn a_row_becomes_its_job() {
        let job = Job::from(row());
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
        let job = Job::from(JobRow {
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
}
