//! Shared types: the job model and the events that describe its life.
//!
//! These cross every boundary (SQLite rows, JSON API, SSE `data:` lines, island props), so they
//! are plain serde types that compile for both the server and the browser.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a job is in its life. See [`JobStatus::can_become`] for the allowed moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

impl JobStatus {
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Cancelling,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Cancelling => "cancelling",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A terminal job never changes again (a re-run is a new job).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled | JobStatus::Interrupted
        )
    }

    /// Queued, running or cancelling: the job still holds (or waits for) a worker.
    pub fn is_active(self) -> bool {
        !self.is_terminal()
    }

    /// The state machine: `queued -> running -> succeeded | failed | cancelled`, with
    /// `cancelling` between a cancel request and the job stopping, and `interrupted` for a job
    /// the server stopped without finishing it. An interrupted job may be queued again when its
    /// kind can resume from a checkpoint.
    pub fn can_become(self, next: JobStatus) -> bool {
        use JobStatus::*;
        match (self, next) {
            (Queued, Running | Cancelled | Failed | Interrupted) => true,
            (Running, Succeeded | Failed | Cancelling | Cancelled | Interrupted) => true,
            (Cancelling, Succeeded | Failed | Cancelled | Interrupted) => true,
            (Interrupted, Queued) => true,
            _ => false,
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The colour of a bar. A job that succeeds with problems ends `warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Success,
    Warning,
    Danger,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Danger => "danger",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        [Level::Success, Level::Warning, Level::Danger]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// How far a job has come. `total: None` means the amount of work is not known (yet).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Progress {
    pub current: u64,
    pub total: Option<u64>,
    pub unit: String,
    pub message: String,
    pub level: Level,
    /// When the job reported this sample (Unix ms); `None` before its first sample.
    #[serde(default)]
    pub at: Option<i64>,
}

impl Progress {
    /// Completion in percent, when the total is known.
    pub fn percent(&self) -> Option<f64> {
        match self.total {
            Some(0) => Some(100.0),
            Some(t) => Some((self.current.min(t) as f64) * 100.0 / t as f64),
            None => None,
        }
    }
}

/// Why a job failed: a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

/// A job as every client sees it. Times are Unix milliseconds (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub params: serde_json::Value,
    pub status: JobStatus,
    pub progress: Progress,
    pub error: Option<JobError>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The id of the latest event about this job: a client ignores older events for it.
    pub event_id: i64,
    /// The job's own time limit, if it has one (else its kind's).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// The job this one re-runs.
    #[serde(default)]
    pub origin: Option<String>,
}

/// Payload of a `progress` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub job_id: String,
    pub current: u64,
    pub total: Option<u64>,
    pub unit: String,
    pub message: String,
    pub level: Level,
    /// When the job reported this sample (Unix ms).
    #[serde(default)]
    pub at: Option<i64>,
}

impl ProgressEvent {
    pub fn new(job_id: &str, p: &Progress) -> Self {
        ProgressEvent {
            job_id: job_id.to_string(),
            current: p.current,
            total: p.total,
            unit: p.unit.clone(),
            message: p.message.clone(),
            level: p.level,
            at: p.at,
        }
    }

    pub fn progress(&self) -> Progress {
        Progress {
            current: self.current,
            total: self.total,
            unit: self.unit.clone(),
            message: self.message.clone(),
            level: self.level,
            at: self.at,
        }
    }
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<LogLevel> {
        [LogLevel::Info, LogLevel::Warn, LogLevel::Error]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// Payload of a `log` event, and one line of `GET /api/v1/jobs/{id}/log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub job_id: String,
    /// 1, 2, 3... per job, without gaps.
    pub seq: u64,
    pub level: LogLevel,
    pub line: String,
    pub at: i64,
}

/// Payload of a `done` event: the terminal status and, for a failure, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoneEvent {
    pub job_id: String,
    pub status: JobStatus,
    pub error: Option<JobError>,
}

/// Payload of a `snapshot` event: the current state of the jobs in view.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub jobs: Vec<Job>,
    /// The build id of the server sending it (see [`VersionEvent`]).
    #[serde(default)]
    pub build: String,
    /// Operator notices still in force, oldest first.
    #[serde(default)]
    pub notices: Vec<Notice>,
}

/// What a history view shows: the filters and the page, as they appear in its URL (`/?status=
/// failed&kind=batch&q=disk&before=<id>`) and in `GET /api/v1/jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Comma-separated statuses; all when absent.
    pub status: Option<String>,
    pub kind: Option<String>,
    /// The start of a job id, or a part of its message.
    pub q: Option<String>,
    /// Jobs older than this job id (the `next` of the previous page).
    pub before: Option<String>,
    /// Jobs newer than this job id (the `prev` of the next page).
    pub after: Option<String>,
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The query string (without `?`) of this view, empty values left out.
    pub fn to_query_string(&self) -> String {
        let limit = self.limit.map(|l| l.to_string());
        let pairs = [
            ("status", self.status.as_deref()),
            ("kind", self.kind.as_deref()),
            ("q", self.q.as_deref()),
            ("before", self.before.as_deref()),
            ("after", self.after.as_deref()),
            ("limit", limit.as_deref()),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{k}={}", url_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The same filters on another page.
    pub fn page(&self, before: Option<String>, after: Option<String>) -> HistoryQuery {
        HistoryQuery { before, after, ..self.clone() }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a history view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `before` for the next, older page; absent on the last page.
    pub next: Option<String>,
    /// Pass as `after` for the previous, newer page; absent on the first page.
    pub prev: Option<String>,
}

/// What the job page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: Job,
    /// Its states in order, with their times.
    pub timeline: Vec<StatusChange>,
    /// The latest log lines, oldest first.
    pub log: Vec<LogLine>,
    /// How many lines the log has in all.
    pub log_total: u64,
}

/// The colour theme a person chose; `System` follows the system setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(s: &str) -> Option<Theme> {
        [Theme::System, Theme::Light, Theme::Dark].into_iter().find(|t| t.as_str() == s)
    }

    /// The one a toggle switches to: system, then light, then dark, then system again.
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
}

/// How many of a user's jobs are in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: JobStatus,
    pub n: u64,
}

/// Jobs that finished in one minute, and how long they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteStats {
    /// Start of the minute (Unix ms).
    pub start: i64,
    pub finished: u64,
    /// Of those, the ones that did not succeed (failed, cancelled, interrupted).
    pub unsuccessful: u64,
    /// Mean and longest run time of the ones that started.
    pub avg_run_ms: Option<u64>,
    pub max_run_ms: Option<u64>,
}

/// A job entered `status` at `at` (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: JobStatus,
    pub at: i64,
}

/// A message from the operator to every connected user (`headway notice "..."`). Payload of a
/// `notice` event; `text` empty means the notice was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub text: String,
    pub created_at: i64,
}

/// Payload of a `version` event: the server's build id. A page rendered by another build offers
/// a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEvent {
    pub build: String,
}

/// The type of a kind's parameter, as the start form and the JSON API see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    Integer,
    Number,
    Boolean,
    String,
}

/// One parameter of a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub name: String,
    /// A short label for the form.
    pub label: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// What `GET /api/v1/kinds` says about a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub params: Vec<ParamInfo>,
}

/// The `event:` names of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Snapshot,
    Job,
    Progress,
    Log,
    Done,
    Resync,
    Notice,
    Version,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Snapshot => "snapshot",
            EventType::Job => "job",
            EventType::Progress => "progress",
            EventType::Log => "log",
            EventType::Done => "done",
            EventType::Resync => "resync",
            EventType::Notice => "notice",
            EventType::Version => "version",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        use EventType::*;
        [Snapshot, Job, Progress, Log, Done, Resync, Notice, Version]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobStatus::*;

    #[test]
    fn terminal_states_are_final() {
        for from in JobStatus::ALL.into_iter().filter(|s| s.is_terminal() && *s != Interrupted) {
            for to in JobStatus::ALL {
                assert!(!from.can_become(to), "{from} -> {to} must be refused");
            }
        }
    }

    #[test]
    fn normal_life_is_allowed() {
        assert!(Queued.can_become(Running));
        assert!(Running.can_become(Succeeded));
        assert!(Running.can_become(Cancelling));
        assert!(Cancelling.can_become(Cancelled));
        assert!(Running.can_become(Interrupted));
        assert!(Interrupted.can_become(Queued));
    }

    #[test]
    fn skipping_or_going_back_is_refused() {
        assert!(!Queued.can_become(Succeeded));
        assert!(!Running.can_become(Queued));
        assert!(!Cancelling.can_become(Running));
        assert!(!Interrupted.can_become(Running));
        assert!(!Queued.can_become(Queued));
    }

    #[test]
    fn names_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        assert_eq!(JobStatus::parse("done"), None);
    }

    #[test]
    fn percent_handles_unknown_zero_and_overshoot() {
        let mut p = Progress { current: 5, total: Some(10), ..Default::default() };
        assert_eq!(p.percent(), Some(50.0));
        p.total = None;
        assert_eq!(p.percent(), None);
        p.total = Some(0);
        assert_eq!(p.percent(), Some(100.0));
        p.total = Some(4);
        assert_eq!(p.percent(), Some(100.0));
    }
}
