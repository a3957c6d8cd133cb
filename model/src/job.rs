//! A job as every client sees it: its status and the moves allowed between statuses, its
//! progress, its error and its log lines.

use crate::error::{Said, Words};
use crate::files::Output;
use crate::ids::{JobId, ScheduleId};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// The most bytes of JSON a job's parameters may be stored as, however they were made (a
/// start's, a template's once rendered, a fan-out item's).
pub const MAX_PARAMS_BYTES: usize = 64 * 1024;

/// Where a job is in its life. See [`JobStatus::can_become`] for the allowed moves.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum JobStatus {
    Queued,
    Running,
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

names!(JobStatus);

impl JobStatus {
    pub const ALL: &'static [JobStatus] = JobStatus::VARIANTS;

    /// A terminal job never changes again (a re-run is a new job).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded
                | JobStatus::Failed
                | JobStatus::Cancelled
                | JobStatus::Interrupted
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
        matches!(
            (self, next),
            (Queued, Running | Cancelled | Failed | Interrupted)
                | (
                    Running,
                    Succeeded | Failed | Cancelling | Cancelled | Interrupted
                )
                | (Cancelling, Succeeded | Failed | Cancelled | Interrupted)
                | (Interrupted, Queued)
        )
    }
}

/// The colour of a bar. A job that succeeds with problems ends `warning`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Level {
    #[default]
    Success,
    Warning,
    Danger,
}

names!(Level);

/// How far a job has come. `total: None` means the amount of work is not known (yet).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Progress {
    pub current: u64,
    pub total: Option<u64>,
    pub unit: String,
    pub message: String,
    pub level: Level,
    /// When the job reported this sample (Unix ms); `None` before its first sample.
    #[serde(default)]
    pub at: Option<i64>,
    /// The message in the words of Headway's catalogs, when Headway wrote it (a built-in
    /// kind's "step 3 of 10"), for a page to say in its reader's language; `None` for a
    /// program's own message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub said: Option<Said>,
}

impl Progress {
    /// The largest amount (`current`, `total`) a job's progress may hold: the largest the
    /// stores keep (a signed 64-bit integer). A report past it is refused; a command's or a
    /// kind's count that would pass it stops there.
    pub const MAX_AMOUNT: u64 = i64::MAX as u64;

    /// Completion in percent, when the total is known.
    pub fn percent(&self) -> Option<f64> {
        match self.total {
            Some(0) => Some(100.0),
            Some(t) => Some((self.current.min(t) as f64) * 100.0 / t as f64),
            None => None,
        }
    }

    /// Sets the message: Headway's words, said in English and by their id and values.
    pub fn say(&mut self, words: Words) {
        self.message = words.english;
        self.said = Some(words.said);
    }

    /// Sets the message to a program's own text, which has no words.
    pub fn set_text(&mut self, message: String) {
        self.message = message;
        self.said = None;
    }
}

/// Why a job failed: a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct JobError {
    pub code: String,
    pub message: String,
    /// The message in the words of Headway's catalogs, when Headway wrote it ("the program
    /// exited with status 7"); `None` for a program's or a kind's own message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub said: Option<Said>,
}

impl JobError {
    /// A failure `code` with a message of the job's own (a program's, a kind's).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> JobError {
        JobError {
            code: code.into(),
            message: message.into(),
            said: None,
        }
    }

    /// A failure `code` said in Headway's words.
    pub fn words(code: impl Into<String>, words: Words) -> JobError {
        JobError {
            code: code.into(),
            message: words.english,
            said: Some(words.said),
        }
    }
}

/// A job as every client sees it. Times are Unix milliseconds (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Job {
    pub id: JobId,
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
    pub origin: Option<JobId>,
    /// Unix ms before which the job does not start: until then it waits `queued`, out of line.
    #[serde(default)]
    pub run_after: Option<i64>,
    /// The number of its current attempt (1 for a new job), or of its next one while it waits
    /// to be tried again.
    #[serde(default = "one")]
    pub attempt: u32,
    /// How many attempts it may take in all (1: no retry).
    #[serde(default = "one")]
    pub max_attempts: u32,
    /// When its next attempt starts, while it waits to be tried again after a failed one.
    #[serde(default)]
    pub next_attempt_at: Option<i64>,
    /// Every attempt that started, oldest first: the ones that failed and were tried again, and
    /// the current or last one.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// The schedule that started it, if one did.
    #[serde(default)]
    pub schedule_id: Option<ScheduleId>,
    /// The fire time of its schedule it stands for (Unix ms); `None` for a job a person started
    /// from a schedule ("Run now").
    #[serde(default)]
    pub scheduled_for: Option<i64>,
    /// The files it wrote, in the order they were first written.
    #[serde(default)]
    pub outputs: Vec<Output>,
    /// What it found, as a small JSON object it set while running.
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    /// Which queued job a free slot goes to first ([`crate::priority`]).
    #[serde(default)]
    pub priority: crate::Priority,
    /// The jobs it starts after, if any ([`crate::after`]). The server says it on the job's
    /// page; the browser's islands never read it, so the dashboard's bundle does not carry the
    /// code to (a job read there has `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    pub after: Option<crate::After>,
    /// The workflow run it is a step of: that run's job ([`crate::workflows::run`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<JobId>,
    /// The name of its step in that run's workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The account that started it (from a page, the command line or the API, a re-run
    /// included), and the token it came through; `None` for the one anonymous user of an open
    /// server, and for a job a schedule (`schedule_id`) or a run (`parent`) started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<Actor>,
    /// The account that asked for it to be cancelled, once one did (`None`: nobody, the
    /// anonymous user, or Headway itself, as when a run or a job it runs after fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<Actor>,
}

/// Who did something to a job: an account by its name, and the name of the API token it came
/// through when it came through one (the operator token is the account `operator`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Actor {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The most bytes of an [`Actor`]'s name or token name stored (names are bounded where they are
/// made; this holds a stored row to it whatever made it).
pub const MAX_ACTOR_NAME_BYTES: usize = 200;

impl Actor {
    /// `self` as stored: JSON.
    pub fn stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An actor as stored ([`Actor::stored`]); `None` for none, or for what does not parse.
    pub fn from_stored(stored: Option<&str>) -> Option<Actor> {
        serde_json::from_str(stored?).ok()
    }
}

fn one() -> u32 {
    1
}

/// One attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Attempt {
    /// 1, 2, 3…
    pub n: u32,
    pub started_at: i64,
    /// `None` while it runs.
    pub finished_at: Option<i64>,
    /// Why it failed; `None` for one that runs or did not fail.
    pub error: Option<JobError>,
    /// The process that ran it ([`crate::ProcessInfo::id`]: a server's, or a worker's on
    /// another machine); `None` for an external job's, and for attempts stored before it was
    /// recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
}

impl Job {
    /// What the job is called on a page: its title if it has one (an external job's:
    /// [`Job::title`]), else its kind.
    pub fn label(&self) -> String {
        self.title().unwrap_or(&self.kind).to_string()
    }

    /// A new job, queued, with nothing reported yet.
    pub fn queued(id: JobId, kind: &str, params: serde_json::Value, created_at: i64) -> Job {
        Job {
            id,
            kind: kind.to_string(),
            params,
            status: JobStatus::Queued,
            progress: Progress::default(),
            error: None,
            created_at,
            started_at: None,
            finished_at: None,
            event_id: 0,
            timeout_ms: None,
            origin: None,
            run_after: None,
            attempt: 1,
            max_attempts: 1,
            next_attempt_at: None,
            attempts: Vec::new(),
            schedule_id: None,
            scheduled_for: None,
            outputs: Vec::new(),
            result: None,
            priority: crate::Priority::NORMAL,
            after: None,
            parent: None,
            step: None,
            started_by: None,
            cancelled_by: None,
        }
    }

    /// The rank of a job waiting for others to end: behind every job that may start, so that
    /// a claim's read, in rank order, reaches it last. Its rank is set when its wait ends.
    pub const WAITING_RANK: i64 = i64::MAX / 4;

    /// Its rank in the queue ([`crate::priority`]): from when it is ready to start (created, or
    /// its `run_after` if later) and its priority.
    ///
    /// While it waits for jobs it starts after, it is out of line: [`Job::WAITING_RANK`].
    pub fn rank(&self) -> i64 {
        if self.after.as_ref().is_some_and(crate::After::waits) {
            return Job::WAITING_RANK;
        }
        let ready_at = self
            .run_after
            .map_or(self.created_at, |at| at.max(self.created_at));
        self.priority.rank(ready_at)
    }

    /// Its rank once its wait for the jobs it starts after ended at `now`: ready from then, or
    /// from its `run_after` if later (the time it waited for them does not age it).
    pub fn rank_from(&self, now: i64) -> i64 {
        self.priority
            .rank(self.run_after.map_or(now, |at| at.max(now)))
    }

    /// Whether it succeeded with warnings (its last word was a warning): an outcome of its own
    /// on every page, not only a colour.
    pub fn succeeded_with_warnings(&self) -> bool {
        self.status == JobStatus::Succeeded && self.progress.level == Level::Warning
    }

    /// Whether it waits to be tried again after a failed attempt.
    pub fn waits_to_retry(&self) -> bool {
        self.status == JobStatus::Queued && self.next_attempt_at.is_some()
    }
}

/// Severity of a log line.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum LogLevel {
    #[default]
    Info,
    Warn,
    Error,
}

names!(LogLevel);

/// Payload of a `log` event, and one line of `GET /api/v1/jobs/{id}/log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LogLine {
    pub job_id: JobId,
    /// 1, 2, 3... per job, without gaps, across its attempts.
    pub seq: u64,
    pub level: LogLevel,
    pub line: String,
    pub at: i64,
    /// The attempt that wrote it.
    #[serde(default = "one")]
    pub attempt: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobStatus::*;

    #[test]
    fn terminal_states_are_final() {
        for &from in JobStatus::ALL
            .iter()
            .filter(|s| s.is_terminal() && **s != Interrupted)
        {
            for &to in JobStatus::ALL {
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
    fn names_are_the_same_in_serde_and_in_text() {
        for &s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(JobStatus::parse("done"), None);
        assert_eq!(JobStatus::Cancelling.to_string(), "cancelling");
        for l in [Level::Success, Level::Warning, Level::Danger] {
            assert_eq!(
                serde_json::to_value(l).unwrap(),
                serde_json::json!(l.as_str())
            );
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        for l in [LogLevel::Info, LogLevel::Warn, LogLevel::Error] {
            assert_eq!(
                serde_json::to_value(l).unwrap(),
                serde_json::json!(l.as_str())
            );
            assert_eq!(LogLevel::parse(l.as_str()), Some(l));
        }
    }

    #[test]
    fn percent_handles_unknown_zero_and_overshoot() {
        let mut p = Progress {
            current: 5,
            total: Some(10),
            ..Default::default()
        };
        assert_eq!(p.percent(), Some(50.0));
        p.total = None;
        assert_eq!(p.percent(), None);
        p.total = Some(0);
        assert_eq!(p.percent(), Some(100.0));
        p.total = Some(4);
        assert_eq!(p.percent(), Some(100.0));
    }
}
