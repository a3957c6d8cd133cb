//! External jobs: programs that run elsewhere (`headway run`, a CI step, a cron job on another
//! machine) and report over HTTP. Such a job is stored running at once, claimed by no process,
//! with a report token that may only report for it ([`Jobs::create_external`]). Its program
//! sends reports ([`Jobs::report`]): numbered log lines, written once each however often a
//! report is sent again, its progress, its result and its end. Each report moves its lease on;
//! a job whose lease ends without a report is taken for lost ([`Jobs::spawn_lease_keeper`]),
//! by whichever process looks first. The wire format is in [`model::external`], the
//! walk-through in docs/EXTERNAL.md.

use super::Jobs;
use crate::accounts::{same_secret, token_hash};
use crate::bounds::Reporter;
use crate::children::ChildOf;
use crate::committer::WriteError;
use crate::failures::{read_failed, write_failed};
use crate::kinds::external::check_params;
use crate::kinds::Starts;
use crate::store::{ExternalReport, Reported, Store};
use crate::{now_ms, Caller, StartOptions, Started};
use model::children::ChildStart;
use model::error::Chain;
use model::external::{
    Report, ReportReply, MAX_REPORT_CHILDREN, MAX_REPORT_LINES, REPORT_TOKEN_PREFIX,
};
use model::{
    AppError, ErrorCode, FieldError, Job, JobError, JobId, JobStatus, Progress, UserId,
    EXTERNAL_KIND,
};
use std::time::Duration;

/// The longest log line a report may carry, in bytes (as a command kind's).
pub const MAX_LINE_BYTES: usize = crate::commands::lines::MAX_LINE;
/// The longest unit and message of a report, in characters.
const MAX_UNIT: usize = 32;
const MAX_MESSAGE: usize = 1_000;
/// How many external jobs one user may have running at once.
pub const MAX_RUNNING_PER_USER: u64 = 200;
/// How often leases are looked at.
const LEASE_CHECK: Duration = Duration::from_secs(1);

/// A new external job and the token that may report for it (shown once).
#[derive(Debug, Clone)]
pub struct Opened {
    pub job: Job,
    pub report_token: String,
}

/// What a start of any kind made ([`Jobs::start_any`]).
#[derive(Debug, Clone)]
pub enum Start {
    /// A job of a registered kind (or the one an earlier start with the same key made).
    Job(Started),
    /// An external job, with the token its program reports with.
    External(Opened),
}

impl Jobs {
    /// Starts a job of any kind for the caller, with `options`: a job of a kind that runs
    /// elsewhere ([`Starts::Elsewhere`], [`Jobs::create_external`]) runs now, once, where its
    /// program runs, so it takes no later start, no attempts beyond its one and no idempotency
    /// key; a kind that runs here goes through [`Jobs::create_job_with`].
    pub async fn start_any(
        &self,
        caller: &Caller,
        kind: &str,
        params: serde_json::Value,
        options: StartOptions,
    ) -> Result<Start, AppError> {
        // A workflow's name starts a run of it with these parameters, as its form does.
        if self.workflow_named(kind).is_some() {
            return self
                .start_workflow(caller, kind, params, options)
                .await
                .map(Start::Job);
        }
        if kind == crate::workflows::WORKFLOW_KIND {
            // A definition posted with its run, read by the workflows file's rules.
            if params.get("workflow").is_some_and(|w| w.is_object()) {
                return self
                    .start_posted(caller, params, options)
                    .await
                    .map(Start::Job);
            }
            let asked: model::workflows::RunParams =
                serde_json::from_value(params).map_err(|e| {
                    AppError::invalid_field(
                        "params",
                        format!(
                            "a workflow's run takes {{\"workflow\": NAME or DEFINITION, \"params\": {{…}}}}: {e}"
                        ),
                    )
                })?;
            return self
                .start_workflow(
                    caller,
                    &asked.workflow,
                    serde_json::Value::Object(asked.params),
                    options,
                )
                .await
                .map(Start::Job);
        }
        if self.inner.kinds.starts(kind) != Some(Starts::Elsewhere) {
            return self
                .create_job_with(caller, kind, params, options)
                .await
                .map(Start::Job);
        }
        if options.run_after.is_some()
            || options.max_attempts.is_some()
            || options.key.is_some()
            || options.after.is_some()
        {
            return Err(AppError::invalid(vec![FieldError::new(
                "kind",
                "an external job runs now, once, where its program runs: it takes no \
                          run_after, max_attempts, after or idempotency key",
            )]));
        }
        self.create_external(caller, params)
            .await
            .map(Start::External)
    }

    /// Every kind a job may have: those that run here and those that run elsewhere.
    pub fn job_kinds(&self) -> Vec<String> {
        self.inner.kinds.job_kinds()
    }

    /// Starts an external job for the caller: running at once, reported on by its program with
    /// the token returned.
    pub async fn create_external(
        &self,
        caller: &Caller,
        params: serde_json::Value,
    ) -> Result<Opened, AppError> {
        caller.may_start()?;
        let params = check_params(params)?;
        let running = self
            .inner
            .store
            .status_counts(Some(caller.user()), Some(EXTERNAL_KIND))
            .await
            .map_err(read_failed)?
            .iter()
            .filter(|c| matches!(c.status, JobStatus::Running | JobStatus::Cancelling))
            .map(|c| c.n)
            .sum::<u64>();
        if running >= MAX_RUNNING_PER_USER {
            return Err(AppError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "you have {running} external jobs running, the most one user may have; \
                     end some first"
                ),
            ));
        }
        if self.stopping().is_cancelled() {
            return Err(AppError::new(
                ErrorCode::Unavailable,
                "the server is shutting down",
            ));
        }
        let lease_ms = i64::from(params.lease_secs) * 1000;
        let value = serde_json::to_value(&params).expect("external parameters serialize");
        let job = Job {
            started_by: caller.actor(),
            ..Job::queued(JobId::random(), EXTERNAL_KIND, value, now_ms())
        };
        let report_token = format!(
            "{REPORT_TOKEN_PREFIX}{}.{}{}",
            job.id,
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let job = self
            .inner
            .committer
            .open_external(
                caller.user(),
                job,
                token_hash(&report_token),
                now_ms() + lease_ms,
            )
            .await
            .map_err(|e| write_failed("store a new external job", e))?;
        Ok(Opened { job, report_token })
    }

    /// Writes what the program of the external job `id` (of `owner`) reported: 422 for a report
    /// that is not well formed (nothing written), 409 once the job has ended.
    pub async fn report(
        &self,
        owner: &UserId,
        id: &JobId,
        report: Report,
    ) -> Result<ReportReply, AppError> {
        check_report(&report)?;
        let job = self.job(&Caller::new(owner.clone()), id).await?;
        // Counted before anything is written, whatever becomes of the report: a refused one
        // costs its sender too.
        self.take_report_budget(Reporter::User(owner), &report)?;
        if job.status.is_terminal() || self.inner.kinds.starts(&job.kind) != Some(Starts::Elsewhere)
        {
            return Err(ended(&job));
        }
        let lease_secs = job.params["lease_secs"]
            .as_u64()
            .unwrap_or(u64::from(model::external::DEFAULT_LEASE_SECS));
        // Its children first: a report that ends the job ends it once they did.
        let children = self
            .start_reported_children(owner, id, None, report.children.clone())
            .await?;
        let progress = merged_progress(&job.progress, &report);
        let end = report.end.map(reported_end);
        let reported = self
            .inner
            .committer
            .report(ExternalReport {
                owner: owner.clone(),
                job_id: id.clone(),
                bounds: Default::default(),
                log: report.log,
                progress,
                result: report.result,
                end,
                lease_until: now_ms() + lease_secs as i64 * 1000,
                fence: None,
            })
            .await
            .map_err(|e| write_failed("store an external job's report", e))?;
        match reported {
            Reported::Taken {
                acked,
                status,
                event_id,
            } => Ok(ReportReply {
                acked,
                status,
                event_id,
                children,
            }),
            Reported::Gap { acked } => Err(lines_missing(acked)),
            Reported::NotRunning => {
                let job = self.job(&Caller::new(owner.clone()), id).await?;
                Err(ended(&job))
            }
        }
    }

    /// Takes what a report costs ([`crate::bounds::REPORT_COST`] and its log bytes) from its
    /// sender's budget, before anything is written, whatever becomes of the report: a refused
    /// one costs its sender too.
    pub(crate) fn take_report_budget(
        &self,
        from: Reporter<'_>,
        report: &Report,
    ) -> Result<(), AppError> {
        let bytes: u64 = report.log.iter().map(|l| l.line.len() as u64).sum();
        self.inner.report_budget.take(from, bytes)
    }

    /// Starts the children an external job's report asks for, in order: their jobs (a
    /// worker's job's, only what `worker` allows). A child refused refuses the report, naming it
    /// (`children[1].params.steps`); the ones before it are started, and found again by name
    /// when the report is sent again.
    pub(crate) async fn start_reported_children(
        &self,
        owner: &UserId,
        id: &JobId,
        worker: Option<crate::children::WorkerChildren>,
        children: Vec<ChildStart>,
    ) -> Result<Vec<JobId>, AppError> {
        let of = ChildOf {
            parent: id.clone(),
            owner: owner.clone(),
            fence: None,
            worker,
        };
        let mut started = Vec::with_capacity(children.len());
        for (i, child) in children.into_iter().enumerate() {
            let job = self.start_child(&of, child).await.map_err(|mut e| {
                for field in &mut e.fields {
                    field.field = format!("children[{i}].{}", field.field);
                }
                e
            })?;
            started.push(job.id);
        }
        Ok(started)
    }

    /// Ends, every second, the external jobs whose programs stopped reporting (no report within
    /// their lease): `interrupted`, or `cancelled` if they were asked to stop. Every process
    /// looks; a job ends once, whichever does.
    pub(crate) fn spawn_lease_keeper(&self) {
        let engine = self.clone();
        let stopping = self.stopping();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LEASE_CHECK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopping.cancelled() => return,
                }
                if let Err(e) = engine.expire_leases().await {
                    tracing::warn!(error = %Chain(&e), "cannot end lost external jobs; retrying in a second");
                }
            }
        });
    }

    /// Ends the external jobs whose leases ended before now.
    pub async fn expire_leases(&self) -> Result<usize, WriteError> {
        let now = now_ms();
        let expired = self.inner.store.expired_leases(now, 500).await?;
        let mut ended = 0;
        for (owner, id) in expired {
            let lost = JobError::new(
                "lost",
                "its program stopped reporting: no report came within its lease",
            );
            if let Some(job) = self.inner.committer.expire(&owner, &id, now, lost).await? {
                tracing::warn!(job = %job.id, status = %job.status, "an external job's program stopped reporting");
                ended += 1;
            }
        }
        Ok(ended)
    }
}

/// The job a report token may report for, and its owner: `None` unless `token` is the report
/// token of an external job (of any status: a report to one that ended is answered 409).
pub async fn token_job(store: &Store, token: &str) -> Result<Option<(JobId, UserId)>, AppError> {
    let Some((id, _)) = token
        .strip_prefix(REPORT_TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('.'))
    else {
        return Ok(None);
    };
    let Ok(id) = JobId::parse(id) else {
        return Ok(None);
    };
    let Some((owner, hash)) = store.report_hash(&id).await.map_err(read_failed)? else {
        return Ok(None);
    };
    let given = token_hash(token);
    Ok(same_secret(given.as_bytes(), hash.as_bytes()).then_some((id, owner)))
}

/// How a report's end ends its job: a failure without an error gets one.
pub(crate) fn reported_end(end: model::external::ReportEnd) -> (JobStatus, Option<JobError>) {
    let error = match end.status {
        JobStatus::Failed => Some(
            end.error
                .unwrap_or_else(|| JobError::new("failed", "the program reported a failure")),
        ),
        _ => None,
    };
    (end.status, error)
}

/// 422 for a report whose first new line is not the one after the last kept (`acked`).
pub(crate) fn lines_missing(acked: u64) -> AppError {
    AppError::invalid(vec![FieldError::new(
        "log",
        format!(
            "log lines are missing: the job has every line up to {acked}, and this report's \
             next one is later than {}; send the lines from {} on",
            acked + 1,
            acked + 1
        ),
    )])
}

/// 409 for a report to a job that has ended.
fn ended(job: &Job) -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        format!(
            "the job has already ended ({}); it takes no more reports",
            job.status
        ),
    )
}

/// Refuses a report that is not well formed, naming what is wrong.
pub fn check_report(report: &Report) -> Result<(), AppError> {
    if report.log.len() > MAX_REPORT_LINES {
        return Err(AppError::invalid_field(
            "log",
            format!(
                "a report carries at most {MAX_REPORT_LINES} log lines, not {}; send the rest in the next",
                report.log.len()
            ),
        ));
    }
    for (i, line) in report.log.iter().enumerate() {
        if line.seq == 0 {
            return Err(AppError::invalid_field(
                "log",
                "log lines are numbered from 1",
            ));
        }
        if let Some(previous) = i.checked_sub(1).map(|p| report.log[p].seq) {
            if line.seq != previous + 1 {
                return Err(AppError::invalid_field(
                    "log",
                    format!(
                        "log lines go in order without gaps: line {} follows line {previous}",
                        line.seq
                    ),
                ));
            }
        }
        if line.line.len() > MAX_LINE_BYTES {
            return Err(AppError::invalid_field(
                "log",
                format!(
                    "log line {} has {} bytes, more than the {MAX_LINE_BYTES} a line may have",
                    line.seq,
                    line.line.len()
                ),
            ));
        }
    }
    if report
        .unit
        .as_ref()
        .is_some_and(|u| u.chars().count() > MAX_UNIT)
    {
        return Err(AppError::invalid_field(
            "unit",
            format!("a unit has at most {MAX_UNIT} characters"),
        ));
    }
    if report.unit.as_deref().is_some_and(not_plain) {
        return Err(AppError::invalid_field(
            "unit",
            "a unit is a word or two of plain text: no control characters (NUL, ESC…) or \
             direction marks",
        ));
    }
    for (field, amount) in [("progress", report.progress), ("total", report.total)] {
        if amount.is_some_and(|n| n > Progress::MAX_AMOUNT) {
            return Err(AppError::invalid_field(
                field,
                format!("an amount is at most {}", Progress::MAX_AMOUNT),
            ));
        }
    }
    if report
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_MESSAGE)
    {
        return Err(AppError::invalid_field(
            "message",
            format!("a message has at most {MAX_MESSAGE} characters"),
        ));
    }
    if report.children.len() > MAX_REPORT_CHILDREN {
        return Err(AppError::invalid_field(
            "children",
            format!(
                "a report asks for at most {MAX_REPORT_CHILDREN} children, not {}; ask for the rest in the next",
                report.children.len()
            ),
        ));
    }
    for (i, child) in report.children.iter().enumerate() {
        if let Some(why) = child.name_problem() {
            return Err(AppError::invalid_field(&format!("children[{i}].name"), why));
        }
    }
    if let Some(result) = &report.result {
        if !result.is_object() {
            return Err(AppError::invalid_field(
                "result",
                "a result is a JSON object",
            ));
        }
        if let Some(why) = model::json::too_deep(result, "a result") {
            return Err(AppError::invalid_field("result", why));
        }
        let size = result.to_string().len();
        if size > crate::context::MAX_RESULT_BYTES {
            return Err(AppError::invalid_field(
                "result",
                format!(
                    "a result is {} bytes of JSON at most, not {size}",
                    crate::context::MAX_RESULT_BYTES
                ),
            ));
        }
    }
    if let Some(end) = &report.end {
        if !matches!(
            end.status,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        ) {
            return Err(AppError::invalid_field(
                "end",
                format!(
                    "a job ends succeeded, failed or cancelled, not {}",
                    end.status
                ),
            ));
        }
        if let Some(error) = &end.error {
            if error.code.is_empty()
                || error.code.len() > 64
                || not_plain(&error.code)
                || error.message.chars().count() > MAX_MESSAGE
                || error.said.as_ref().is_some_and(|s| !said_fits(s))
            {
                return Err(AppError::invalid_field(
                    "end",
                    format!("an error has a code of 1 to 64 characters without control characters, a message of at most {MAX_MESSAGE}, and words (said) of Headway's catalogs (an engine- id) in as many characters of JSON"),
                ));
            }
        }
    }
    Ok(())
}

/// Whether an error's words, from a worker or `headway run`, name a message of Headway's
/// (`engine-…`) and take no more room than a message may.
fn said_fits(said: &model::Said) -> bool {
    said.id.starts_with("engine-")
        && serde_json::to_string(said).is_ok_and(|json| json.chars().count() <= MAX_MESSAGE)
}

/// Whether `text` holds a control character or a direction mark, which a unit or an error
/// code (shown in pages, exports and terminals) may not.
fn not_plain(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || model::is_format_mark(c))
}

/// The job's progress with what the report changes, or `None` if it changes none of it.
pub(crate) fn merged_progress(now: &Progress, report: &Report) -> Option<Progress> {
    let says = report.progress.is_some()
        || report.total.is_some()
        || report.unit.is_some()
        || report.message.is_some()
        || report.level.is_some();
    says.then(|| Progress {
        current: report.progress.unwrap_or(now.current),
        total: report.total.or(now.total),
        unit: report.unit.clone().unwrap_or_else(|| now.unit.clone()),
        message: report
            .message
            .clone()
            .unwrap_or_else(|| now.message.clone()),
        level: report.level.unwrap_or(now.level),
        at: Some(now_ms()),
        // A reported message is the program's own text; the words go with the message they said.
        said: match report.message {
            Some(_) => None,
            None => now.said.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::external::{ReportEnd, ReportLine};
    use serde_json::json;

    fn line(seq: u64) -> ReportLine {
        ReportLine {
            seq,
            level: model::LogLevel::Info,
            line: format!("line {seq}"),
        }
    }

    /// An object `levels` deep: `{"a": {"a": … {}}}`.
    fn nested(levels: usize) -> serde_json::Value {
        let mut v = json!({});
        for _ in 1..levels {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn a_report_is_refused_for_what_is_wrong_with_it() {
        let ok = Report {
            log: vec![line(4), line(5)],
            result: Some(json!({"rows": 3})),
            end: Some(ReportEnd {
                status: JobStatus::Succeeded,
                error: None,
            }),
            ..Report::default()
        };
        assert!(check_report(&ok).is_ok());
        let deepest = Report {
            result: Some(nested(model::json::MAX_DEPTH)),
            ..Report::default()
        };
        assert!(check_report(&deepest).is_ok());
        // A worker's or `headway run`'s error may come in Headway's words.
        let ended = |error: JobError| Report {
            end: Some(ReportEnd {
                status: JobStatus::Failed,
                error: Some(error),
            }),
            ..Report::default()
        };
        let exited = JobError::words("exit_7", model::words::jobs::exited(7));
        assert!(check_report(&ended(exited.clone())).is_ok());
        let mut not_ours = exited.clone();
        not_ours.said.as_mut().unwrap().id = "kind-demo".into();
        let mut too_long = exited.clone();
        too_long
            .said
            .as_mut()
            .unwrap()
            .values
            .insert("status".into(), "7".repeat(MAX_MESSAGE));
        let bad = [
            ended(not_ours),
            ended(too_long),
            Report {
                log: vec![line(0)],
                ..Report::default()
            },
            Report {
                log: vec![line(1), line(3)],
                ..Report::default()
            },
            Report {
                log: vec![line(2), line(1)],
                ..Report::default()
            },
            Report {
                log: (1..=MAX_REPORT_LINES as u64 + 1).map(line).collect(),
                ..Report::default()
            },
            Report {
                log: vec![ReportLine {
                    line: "x".repeat(MAX_LINE_BYTES + 1),
                    ..line(1)
                }],
                ..Report::default()
            },
            Report {
                result: Some(json!([1, 2])),
                ..Report::default()
            },
            Report {
                result: Some(nested(model::json::MAX_DEPTH + 1)),
                ..Report::default()
            },
            Report {
                end: Some(ReportEnd {
                    status: JobStatus::Running,
                    error: None,
                }),
                ..Report::default()
            },
            Report {
                unit: Some("u".repeat(33)),
                ..Report::default()
            },
        ];
        for report in bad {
            let e = check_report(&report).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParams, "{report:?}");
            assert!(!e.fields[0].message.is_empty());
        }
    }

    #[test]
    fn a_report_changes_only_the_parts_of_the_bar_it_names() {
        let now = Progress {
            current: 5,
            total: Some(10),
            unit: "files".into(),
            message: "copying".into(),
            ..Progress::default()
        };
        assert_eq!(merged_progress(&now, &Report::default()), None);
        let moved = merged_progress(
            &now,
            &Report {
                progress: Some(7),
                ..Report::default()
            },
        )
        .unwrap();
        assert_eq!(
            (
                moved.current,
                moved.total,
                moved.unit.as_str(),
                moved.message.as_str()
            ),
            (7, Some(10), "files", "copying")
        );
    }
}
