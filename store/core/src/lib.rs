//! The store's seam: what Headway's engine asks of a database, whichever backend holds it.
//!
//! Each backend (`store-sqlite`, `store-postgres`) is a crate of its own that owns its
//! migrations, its connections, its writer and the SQL only its database speaks; this crate
//! holds what they share: the changes a writer applies ([`Change`]), each with its typed
//! [`Answer`], the job-state logic of a batch ([`batch`]), the events a batch committed, the
//! rows read back, the errors, and every statement both databases speak alike ([`sql`]), which
//! each backend runs on its own pool.
//!
//! Writes are [`Change`]s applied in batches: one transaction per batch, and a change that fails
//! is undone alone and reported as such while the rest of its batch commits. The backend
//! allocates event ids inside that transaction so that ids follow commit order whatever the
//! number of writers and processes; events are handed on only once committed.

mod answer;
mod backend;
pub mod batch;
mod claim;
mod history;
pub mod limits;
pub mod remotes;
mod rows;
pub mod search;
pub mod sql;
pub mod webhooks;

pub use answer::{Answer, Answered};
pub use backend::{
    AccountStore, Backend, EventReads, FigureReads, FileStore, JobReads, JobStore, LogReads,
    ProcessRegistry, ScheduleStore, SessionStore, TokenAdded, UploadAdded,
};
pub use claim::{scan_for, Candidate, FairPick, CLAIM_SCAN, OWNER_SCAN, READY};
pub use history::{failure_groups, FailureGroupRow, FailureGroupsQuery, HistoryQuery};
use model::{
    EventType, IdError, Job, JobError, JobId, JobStatus, KindPause, LogLevel, Notice, ProcessId,
    Progress, ScheduleId, StatusCount, UserId,
};
pub use remotes::{HeldJob, RemoteRow, RemoteStore, WorkerKindRow, WorkerTokenRow, REMOTE_ROLE};
pub use rows::{after_column, said_column, JobRow, KeyedJobRow, OrphanRow, JOB_COLUMNS};
pub use sql::SqlBackend;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
pub use webhooks::{Attempt, DeliveryRow, HookMatch, NewDelivery, Next, WebhookRow, WebhookStore};

macro_rules! running {
    () => {
        "status IN ('queued', 'running', 'cancelling') AND status IN ('running', 'cancelling')"
    };
}
/// The condition that picks the running (and cancelling) jobs out of `jobs`, for both
/// databases. Its first term is the condition of the `jobs_active` partial index, written out
/// so that SQLite, which uses a partial index only for a query that states the index's own
/// condition, finds these few rows through it instead of reading every job ever run; the
/// second is what is meant. PostgreSQL reads it the same way.
pub const RUNNING: &str = running!();

macro_rules! working {
    () => {
        concat!(running!(), " AND plan IS NULL")
    };
}
/// The running jobs that hold a slot: not a workflow run's own job nor a parent waiting for its
/// children (both keep a plan), which run nothing themselves. These are what slots, shares and
/// limits count, so that a parent waiting for children of its own kind or owner never keeps
/// them from starting.
pub const WORKING: &str = working!();

/// The kind and owner of every job holding a slot, for a claim's counts
/// ([`batch::count_running`]): the same statement on both databases. Its condition is the one
/// of the `jobs_working` partial index, so that both read the index alone.
pub const RUNNING_KINDS_AND_OWNERS: &str =
    "SELECT kind, owner FROM jobs WHERE status IN ('running', 'cancelling') AND plan IS NULL";

/// Why the store could not do something: what it was doing, in words fit for a log line or a
/// startup error, and the driver's error that stopped it as its source (render both with
/// [`model::error::Chain`]). The driver's own error types stay behind `dyn Error`.
#[derive(Debug, Clone)]
pub struct StoreError {
    doing: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure while `doing` something, caused by the driver's `error`.
    pub fn new(doing: &str, error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError {
            doing: doing.to_string(),
            source: Some(Arc::new(error)),
        }
    }

    /// A failure the store found itself, with no driver error behind it.
    pub fn msg(what: impl Into<String>) -> StoreError {
        StoreError {
            doing: what.into(),
            source: None,
        }
    }

    /// Whether it failed only because no connection of the pool came free within its wait: the
    /// database is sound, the server too busy to ask it now.
    pub fn is_busy(&self) -> bool {
        self.source
            .as_deref()
            .and_then(|e| e.downcast_ref::<sqlx::Error>())
            .is_some_and(|e| matches!(e, sqlx::Error::PoolTimedOut))
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.doing)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod busy_tests {
    use super::StoreError;

    #[test]
    fn only_a_pool_that_found_no_free_connection_is_busy() {
        assert!(StoreError::new("reading a job", sqlx::Error::PoolTimedOut).is_busy());
        assert!(!StoreError::new("reading a job", sqlx::Error::RowNotFound).is_busy());
        assert!(!StoreError::msg("a bad row").is_busy());
    }
}

/// An id read back from a row. Headway stores only ids it parsed or drew, so one that does not
/// parse is a corrupted row: reading it fails, as reading a row the driver cannot decode does.
pub fn stored_id<T: TryFrom<String, Error = IdError>>(id: String) -> StoreResult<T> {
    T::try_from(id).map_err(|e| StoreError::new("reading an id stored in the database", e))
}

/// A job's status read back from a row. A status this build does not know (written by a newer
/// one) reads as `interrupted`: the job is not running here, and a reader can still show it.
pub fn stored_status(status: &str) -> model::JobStatus {
    model::JobStatus::parse(status).unwrap_or(model::JobStatus::Interrupted)
}

/// An optional id read back from a row ([`stored_id`]).
pub fn stored_opt_id<T: TryFrom<String, Error = IdError>>(
    id: Option<String>,
) -> StoreResult<Option<T>> {
    id.map(stored_id).transpose()
}

/// Why the database could not be opened, as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("invalid database URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot open database {url:?}: {reason}")]
    Open { url: String, reason: String },
    #[error("cannot apply migrations to {url:?}: {reason}")]
    Migrate { url: String, reason: String },
    #[error("cannot write to database {url:?}: {reason}")]
    NotWritable { url: String, reason: String },
    #[error("the database {path} is in use by another Headway process{holder}; stop it first, or give this one another --database-url")]
    InUse { path: PathBuf, holder: String },
}

/// How much log one job may write, whatever writes it (a kind, a command's output, an external
/// job's reports): bounded where every line is written, in the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBounds {
    /// Bytes of one line at most; a longer line is cut there and ends with [`LINE_CUT`].
    pub line_bytes: usize,
    /// Bytes of log one job may write (attempts together). The line that would pass it is
    /// replaced by a warning that the log was cut; the lines after it are dropped, and only
    /// counted (in the job's `log_bytes`).
    pub job_bytes: u64,
}

impl Default for LogBounds {
    fn default() -> Self {
        LogBounds {
            line_bytes: 16 * 1024,
            job_bytes: 32 * 1024 * 1024,
        }
    }
}

/// What ends a line cut at [`LogBounds::line_bytes`].
pub const LINE_CUT: &str = " [line cut]";

impl LogBounds {
    /// `line`, cut to `line_bytes` (on a character boundary, marked) if it is longer.
    pub fn cut_line(&self, line: &str) -> String {
        if line.len() <= self.line_bytes {
            return line.to_string();
        }
        let mut end = self.line_bytes.saturating_sub(LINE_CUT.len());
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{LINE_CUT}", &line[..end])
    }

    /// The line that takes the place of the one that would pass `job_bytes`.
    pub fn cut_log(&self) -> String {
        format!(
            "log cut: this job wrote more than {} bytes of log; the lines after this one are dropped",
            self.job_bytes
        )
    }
}

/// How a process uses the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The server: the only process that runs the database's jobs. A second one on the same
    /// database is refused.
    Exclusive,
    /// A command-line tool that reads or changes a few rows, whether a server runs or not.
    Shared,
}

/// The process a job's writes come from: a job takes them only while that process holds it
/// (it claimed the job and has not lost it). `None`: a write not made by the job's runner (a
/// cancel request, a recovery).
pub type Fence = Option<ProcessId>;

/// One change to jobs, logs or notices, applied by a backend's writer. Each carries its
/// [`Answer`], of its own type, which the writer sends once the change's batch is committed.
// A change lives only in the batch being written: its size is not worth an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Change {
    /// Inserts a new job with its `job` event. Its `event_id` is assigned here. With
    /// `max_queued`, refused (nothing written) when the owner has that many jobs queued already:
    /// counted inside the batch, so that starts arriving together cannot pass it, in any
    /// number of processes.
    ///
    /// With a `key`, a start the same owner made with that key within [`START_KEY_MS`] is not
    /// made again: its job is the answer ([`Created::Again`]), or [`Created::KeyTaken`] when
    /// that start asked for something else. Starts racing with one key, in one batch or in
    /// several processes, make one job.
    Create {
        owner: UserId,
        job: Job,
        max_queued: Option<u64>,
        key: Option<StartKey>,
        answer: Answer<Created>,
    },
    /// Starts a workflow run ([`model::workflows::run`]): its job `run` (kind `workflow`) as
    /// [`Change::Create`] makes a job, with its `plan` (JSON), then running, claimed by no
    /// process; then its `steps`, children of `run`, each after the steps it needs (so listed
    /// after them). The answer is the run's job.
    StartRun {
        owner: UserId,
        run: Job,
        plan: String,
        steps: Vec<Job>,
        max_queued: Option<u64>,
        key: Option<StartKey>,
        answer: Answer<Created>,
    },
    /// Starts `child` (queued, its `parent` and its name as `step` set) for its parent, which
    /// must run its own work as the fence's ([`batch`]'s children: counted in the parent's row,
    /// which then waits for them before it ends). The child of that name the parent started
    /// before is the answer ([`Created::Again`]); `None` when the parent does not run its own
    /// work (any more). With `max_queued`, refused like [`Change::Create`].
    StartChild {
        owner: UserId,
        child: Job,
        fence: Fence,
        max_queued: Option<u64>,
        answer: Answer<Option<Created>>,
    },
    /// Moves a job to `to` if the state machine allows it (and the fence holds), with its `job`
    /// event and, for a terminal status, its `done` event. Moving to `running` claims the job
    /// for the fence's process; moving back to `queued` releases it. The job as it is then, or
    /// `None` when the move was refused (unknown job, not allowed from its status, or no longer
    /// the fence's). A parent moved to `succeeded` while a child of it has not succeeded does
    /// not end: it waits for its children, still running (see [`Change::StartChild`]).
    Transition {
        owner: UserId,
        job_id: JobId,
        to: JobStatus,
        error: Option<JobError>,
        fence: Fence,
        answer: Answer<Option<Job>>,
    },
    /// A person's cancel: moves a job to `to` (`cancelled` while it waits, `cancelling` while it
    /// runs) as [`Change::Transition`] does without a fence, and keeps `by` as who cancelled it.
    Cancel {
        owner: UserId,
        job_id: JobId,
        to: JobStatus,
        by: Option<model::Actor>,
        answer: Answer<Option<Job>>,
    },
    /// Moves a running (or cancelling) job to `interrupted` with `error`, and with `requeue`
    /// straight on to `queued` (to continue from its checkpoint), in one change: a stream never
    /// sees the `done` of an interruption without the queueing that follows it.
    Interrupt {
        owner: UserId,
        job_id: JobId,
        error: JobError,
        requeue: bool,
        fence: Fence,
        answer: Answer<Option<Job>>,
    },
    /// Takes up to `slots` queued jobs of `kinds` for process `by`, each free slot for the user
    /// with the fewest jobs running and their oldest job ([`FairPick`]), keeping every kind of
    /// `limits` under its limit of jobs running (or cancelling) anywhere and every user under
    /// `per_owner`, and every key under its limits ([`limits`]: the `declared` ones, and those
    /// set at run time, read in the claim): each becomes running, with its `job` event.
    Claim {
        by: ProcessId,
        slots: u32,
        kinds: Vec<String>,
        limits: Vec<(String, u32)>,
        declared: Vec<model::limits::Limit>,
        per_owner: u32,
        answer: Answer<Vec<QueuedJob>>,
    },
    /// Queues a running job that failed (with `error`) again for its next attempt, to start
    /// `wait_ms` after the commit that records the failure (the attempt's `finished_at`): its attempt is recorded among its attempts, its number moves on, and with
    /// `reset_progress` its progress starts again from nothing. Refused (`None`) unless it runs
    /// (and the fence holds) and has attempts left. Its `job` event says when it starts again.
    Retry {
        owner: UserId,
        job_id: JobId,
        error: JobError,
        wait_ms: i64,
        reset_progress: bool,
        fence: Fence,
        answer: Answer<Option<Job>>,
    },
    /// Records a progress sample of a running job, with its `progress` event; whether the job
    /// took it (it must be running, for the fence).
    Progress {
        owner: UserId,
        job_id: JobId,
        progress: Progress,
        fence: Fence,
        answer: Answer<bool>,
    },
    /// Appends a log line of a running job, with its `log` event; whether the job took it.
    Log {
        owner: UserId,
        job_id: JobId,
        level: LogLevel,
        line: String,
        fence: Fence,
        /// How long a line and a job's whole log may be.
        bounds: LogBounds,
        answer: Answer<bool>,
    },
    /// Saves a resumable job's checkpoint (no event: it is the job's private state); whether
    /// the job took it.
    Checkpoint {
        job_id: JobId,
        value: serde_json::Value,
        fence: Fence,
        answer: Answer<bool>,
    },
    /// Adds a file a running job wrote to its outputs (replacing one of the same name) or sets
    /// its result, with a `job` event ([`Attached`]).
    Attach {
        owner: UserId,
        job_id: JobId,
        what: Attachment,
        fence: Fence,
        answer: Answer<Attached>,
    },
    /// Sets a queued job's priority, moving its rank by the difference of the levels (its
    /// time waited counts as before), with its `job` event. The job as it is then, or `None`
    /// when it is not queued.
    Prioritize {
        owner: UserId,
        job_id: JobId,
        priority: model::Priority,
        answer: Answer<Option<Job>>,
    },
    /// Starts a queued external job (kind [`model::EXTERNAL_KIND`]): running at once, claimed by
    /// no process, with the hash of its report token and the time its lease ends. The job as it
    /// is then, or `None` when it was not queued.
    Open {
        owner: UserId,
        job_id: JobId,
        report_hash: String,
        lease_until: i64,
        answer: Answer<Option<Job>>,
    },
    /// What the program of a running external job reported ([`ExternalReport`]).
    Report {
        report: Box<ExternalReport>,
        answer: Answer<Reported>,
    },
    /// Ends a running external job whose lease ended before `now` (no report came): a job
    /// asked to stop is `cancelled`, any other `interrupted` with `error`. `None` when its lease
    /// holds (a report came meanwhile) or it is not running.
    Expire {
        owner: UserId,
        job_id: JobId,
        now: i64,
        error: JobError,
        answer: Answer<Option<Job>>,
    },
    /// Several changes applied as one, in order: all of them or none (a job's log line and the
    /// checkpoint that says the work behind it is done). Each answers with its own answer.
    Together(Vec<Change>),
    /// Deletes up to `limit` of the oldest events written before `before_ms` (and the start
    /// keys that no longer hold); the highest event id deleted, if any.
    Prune {
        before_ms: i64,
        limit: u32,
        answer: Answer<Option<i64>>,
    },
    /// Stores a notice for every user, announced with a `notice` event whose id is its id.
    PostNotice {
        text: String,
        answer: Answer<Notice>,
    },
    /// Withdraws every notice in force, each announced with an empty `notice` event; how many.
    WithdrawNotices { answer: Answer<usize> },
    /// Adds a schedule, or changes one: everything a person may change, and the fire time it
    /// waits for (what its fires recorded stays).
    PutSchedule {
        row: ScheduleRow,
        answer: Answer<()>,
    },
    /// Deletes a schedule (the jobs it started stay, with its id); whether there was one.
    DeleteSchedule {
        id: ScheduleId,
        answer: Answer<bool>,
    },
    /// A fire time of a schedule ([`Fire`]): exactly once, whatever the number of processes.
    /// What it did, or `None` when it was not the schedule's due time any more (another process
    /// fired it, or the schedule changed): then nothing was written.
    Fire {
        fire: Fire,
        answer: Answer<Option<Fired>>,
    },
    /// Pauses a kind (or every kind, [`model::EVERY_KIND`]) for every process: claims pass its
    /// queued jobs over until it is resumed. A kind paused already stays as it was paused: the
    /// pause in force is the answer.
    Pause {
        kind: String,
        by: String,
        answer: Answer<KindPause>,
    },
    /// Resumes a paused kind (or the pause of every kind); whether it was paused.
    Resume { kind: String, answer: Answer<bool> },
    /// Sets a limit for every process ([`limits`]), in place of the one set with its signature;
    /// `set_at` is the commit's time.
    SetLimit {
        limit: model::limits::Limit,
        by: String,
        answer: Answer<limits::SetLimit>,
    },
    /// Removes the limit set at run time with this signature; whether there was one.
    RemoveLimit {
        signature: String,
        answer: Answer<bool>,
    },
}

impl Change {
    /// Calls `each` with this change's answer (with every one of a [`Change::Together`]'s).
    fn answers(&mut self, each: &mut dyn FnMut(&mut dyn answer::Settle)) {
        match self {
            Change::Create { answer, .. } | Change::StartRun { answer, .. } => each(answer),
            Change::StartChild { answer, .. } => each(answer),
            Change::Transition { answer, .. }
            | Change::Cancel { answer, .. }
            | Change::Interrupt { answer, .. }
            | Change::Retry { answer, .. }
            | Change::Open { answer, .. }
            | Change::Prioritize { answer, .. }
            | Change::Expire { answer, .. } => each(answer),
            Change::Claim { answer, .. } => each(answer),
            Change::Progress { answer, .. }
            | Change::Log { answer, .. }
            | Change::Checkpoint { answer, .. }
            | Change::DeleteSchedule { answer, .. }
            | Change::Resume { answer, .. }
            | Change::RemoveLimit { answer, .. } => each(answer),
            Change::SetLimit { answer, .. } => each(answer),
            Change::Attach { answer, .. } => each(answer),
            Change::Report { answer, .. } => each(answer),
            Change::Together(changes) => {
                for change in changes {
                    change.answers(each);
                }
            }
            Change::Prune { answer, .. } => each(answer),
            Change::PostNotice { answer, .. } => each(answer),
            Change::WithdrawNotices { answer } => each(answer),
            Change::PutSchedule { answer, .. } => each(answer),
            Change::Fire { answer, .. } => each(answer),
            Change::Pause { answer, .. } => each(answer),
        }
    }

    /// The change failed alone and was undone (the rest of its batch goes on): its answer is
    /// `error`.
    pub(crate) fn fail(&mut self, error: &StoreError) {
        self.answers(&mut |a| a.fail(error));
    }

    /// Whether someone waits for this change's answer (for one of a `Together`'s): a writer
    /// that answers a batch later keeps only those.
    pub fn awaited(&mut self) -> bool {
        let mut awaited = false;
        self.answers(&mut |a| awaited |= a.awaited());
        awaited
    }

    /// Sends the change's answer now that its batch is done: committed (`Ok`), or not.
    pub fn settle(&mut self, batch: Result<(), &StoreError>) {
        self.answers(&mut |a| a.send(batch));
    }
}

/// What became of a [`Change::Create`].
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// The job, as stored.
    New(Job),
    /// The job an earlier start with the same key made, as it is now. Nothing was written.
    Again(Job),
    /// The owner had `waiting` jobs queued, as many as `max_queued`. Nothing was written.
    Full { waiting: u64 },
    /// The key was used for another start. Nothing was written.
    KeyTaken,
    /// No job has this id, which the job was to start after. Nothing was written.
    UnknownNeed(JobId),
}

/// What became of a [`Change::Attach`].
#[derive(Debug, Clone, PartialEq)]
pub enum Attached {
    /// The job as it is now.
    Done(Box<Job>),
    /// The job is no longer running (for the fence): nothing was written.
    NotRunning,
    /// The output is new and the job has this many, as many as it may: nothing was written.
    Full(usize),
    /// The output would take its owner's stored files (uploads and outputs, which hold this
    /// many bytes now) past their quota: nothing was written.
    OverQuota(u64),
}

/// A fire time of a schedule: the schedule moves on from `due` to `next` only if `due` is still
/// the time it waits for, and only then, in the same transaction, `job` is started (unless
/// `skip_if_busy` and the schedule's previous job is still queued or running, or its owner's
/// queue is full). A fire time therefore starts at most one job, whichever process fires it.
#[derive(Debug, Clone)]
pub struct Fire {
    pub schedule_id: ScheduleId,
    /// The fire time it waits for (Unix ms).
    pub due: i64,
    /// Its next fire time after this one (`None`: none within years).
    pub next: Option<i64>,
    /// The job to start, as its owner, with its `schedule_id` and `scheduled_for` set.
    pub job: Option<(UserId, Job)>,
    /// When that job is a workflow's run: its plan (JSON) and its steps
    /// ([`Change::StartRun`]).
    pub run: Option<(String, Vec<Job>)>,
    pub skip_if_busy: bool,
    /// The owner's share of the queue.
    pub max_queued: Option<u64>,
    /// Why no job is to be started (with `job` `None`).
    pub skipped: Option<String>,
}

/// What a fire time did.
#[derive(Debug, Clone)]
pub struct Fired {
    /// The job it started.
    pub job: Option<Job>,
    /// Why it started none.
    pub skipped: Option<String>,
}

/// A schedule as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    pub id: ScheduleId,
    pub owner: UserId,
    /// The owner's account name, read with the row (`None` for an anonymous owner).
    pub owner_name: Option<String>,
    /// What its owner calls it, if they named it.
    pub name: Option<String>,
    pub kind: String,
    /// JSON.
    pub params: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    /// `skip` or `start`.
    pub overlap: String,
    /// `skip` or `one`.
    pub catch_up: String,
    pub max_attempts: Option<i64>,
    /// The fire time it waits for; `None` when it has none within years.
    pub next_fire_at: Option<i64>,
    pub last_job_id: Option<JobId>,
    pub last_fire_at: Option<i64>,
    pub last_skip: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Its jobs' priority; `None`: their kind's.
    pub priority: Option<model::Priority>,
}

/// An idempotency key of a start, with what that start asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartKey {
    /// The caller's key (`Idempotency-Key`, or the start form's).
    pub key: String,
    /// What the start asked for (kind, parameters, times), as a digest: the same key with
    /// another fingerprint is refused.
    pub fingerprint: String,
}

/// How long a start's idempotency key holds: a day.
pub const START_KEY_MS: i64 = 24 * 3_600_000;

/// A report of an external job's program, for [`Change::Report`]: its log lines are written
/// only from the one after the last kept (a report sent again writes none twice), then its
/// progress and result, its lease moved on to `lease_until`, and its end.
#[derive(Debug, Clone)]
pub struct ExternalReport {
    pub owner: UserId,
    pub job_id: JobId,
    /// How long a line and the job's whole log may be.
    pub bounds: LogBounds,
    /// Numbered from 1, in order, without gaps (checked before).
    pub log: Vec<model::ReportLine>,
    pub progress: Option<Progress>,
    pub result: Option<serde_json::Value>,
    pub end: Option<(JobStatus, Option<JobError>)>,
    pub lease_until: i64,
    /// For a job a worker on another machine runs: the worker's process, which must hold the
    /// job (its lease is that process's heartbeat, and `lease_until` is not used).
    pub fence: Option<ProcessId>,
}

/// What a [`Change::Report`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reported {
    /// Taken: every log line up to `acked` is kept; the job's status and latest event now.
    Taken {
        acked: u64,
        status: JobStatus,
        event_id: i64,
    },
    /// Its first new line is not the one after the last kept (`acked`): lines are missing in
    /// between. Nothing was written.
    Gap { acked: u64 },
    /// The job is not a running external job.
    NotRunning,
}

/// The state of a running external job, as [`batch::BatchSql::external_state`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalState {
    pub status: JobStatus,
    /// The number of its last log line.
    pub log_seq: i64,
    pub lease_until: Option<i64>,
    pub event_id: i64,
}

/// What [`Change::Attach`] adds to a job.
#[derive(Debug, Clone)]
pub enum Attachment {
    /// An output, refused ([`Attached::Full`]) when it is a new name and the job has
    /// `most` outputs already, or ([`Attached::OverQuota`]) when it would take the bytes of its
    /// owner's stored files (uploads and outputs) past `quota`.
    Output {
        output: model::Output,
        most: usize,
        quota: u64,
    },
    Result(serde_json::Value),
}

/// An event as stored: its id, the job it is about (none for notices), its type and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub job_id: Option<JobId>,
    pub kind: EventType,
    pub data: String,
}

/// An event a batch committed, with the user it is for (`None`: everyone).
#[derive(Debug, Clone)]
pub struct CommittedEvent {
    pub owner: Option<UserId>,
    pub event: StoredEvent,
    /// For a `job` event, the move it records, typed: what the engine acts on (stop a job, wake
    /// the runner) without reading the event's JSON again.
    pub moved: Option<Moved>,
}

/// A job's move, as a `job` event records it: the job is the event's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub status: JobStatus,
    /// When a queued job may start (`None`: now).
    pub run_after: Option<i64>,
}

impl Moved {
    pub fn of(job: &Job) -> Moved {
        Moved {
            status: job.status,
            run_after: job.run_after,
        }
    }
}

/// What a committed batch did: the events to publish (each change's answer is its own).
#[derive(Debug, Default)]
pub struct Applied {
    pub events: Vec<CommittedEvent>,
    /// The highest event id allocated so far (every lower id is committed or was never used).
    pub head: i64,
    /// How many of its changes failed alone and were undone (each answered with its error).
    pub failed: usize,
}

/// Called by the writer once a batch has committed, before any of its changes is answered: the
/// batch's events, in id order, and the highest id allocated so far.
pub type Publish = std::sync::Arc<dyn Fn(Vec<CommittedEvent>, i64) + Send + Sync>;

/// A job left running or cancelling by a process that is gone (or by nobody): it must be taken
/// over. `claimed_by` is the fence for taking it over: once someone else holds it, it is not
/// touched.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub owner: UserId,
    pub job: Job,
    pub claimed_by: Option<ProcessId>,
}

/// A Headway process sharing the database, as it registered itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProcessRow {
    pub id: ProcessId,
    /// `all`, `web` or `worker`.
    pub role: String,
    pub build: String,
    pub host: String,
    pub pid: i64,
    /// Unix milliseconds, by the database's clock where processes share it.
    pub started_at: i64,
    pub heartbeat_at: i64,
    /// The tags it offers (`--tags`, [`model::tags`]), sorted.
    pub tags: Vec<String>,
    /// A worker's name (`headway worker --name`); empty for a server's own process.
    pub name: String,
}

/// A queued job with its owner and the checkpoint of an earlier run.
#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub owner: UserId,
    pub job: Job,
    pub checkpoint: Option<serde_json::Value>,
}

/// Which jobs a history page shows by the workflow run they are a step of.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Steps {
    /// Every job.
    #[default]
    All,
    /// The jobs that are no run's step (a run is one row).
    None,
    /// The steps of this run.
    Of(JobId),
}

/// Which jobs a history page shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Any of these statuses (all when empty).
    pub statuses: Vec<JobStatus>,
    pub kind: Option<String>,
    /// The jobs one schedule started.
    pub schedule: Option<ScheduleId>,
    /// Which jobs by the workflow run they are steps of.
    pub steps: Steps,
    /// A prefix of the id, or text found in the id, kind, step, parameters, error or message.
    pub search: Option<String>,
    /// The kinds and workflows whose title, in any language, has the search's text: their jobs
    /// (a workflow's runs, whose parameters name it) are found too. The store knows no titles;
    /// the engine's registry does.
    pub search_names: Vec<String>,
    /// The jobs that ended with this error code.
    pub error_code: Option<String>,
    /// Only jobs older than this one (the last id of the previous page).
    pub before: Option<String>,
    /// Only jobs newer than this one (the first id of the next page); ignored with `before`.
    pub after: Option<String>,
    /// Only jobs created at or after this time (Unix ms).
    pub created_from: Option<i64>,
    /// Only jobs created before this time (Unix ms).
    pub created_to: Option<i64>,
    pub limit: u32,
}

/// A session as the store keeps it: an opaque record and its expiry. The user id is kept beside
/// the record so that a user's sessions can be found.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub data: Vec<u8>,
    /// Unix seconds.
    pub expires_at: i64,
    pub user: Option<String>,
}

/// An account as the store keeps it (`--auth accounts`). The role and scope are kept as their
/// names; the engine parses them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    /// Moves when the password changes or the account is disabled.
    pub generation: i64,
    pub created_at: i64,
}

/// A change to an account as the store writes it, all or nothing: any of a new role, a new
/// password hash, disabled (or enabled again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEdit<'a> {
    pub role: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub disabled: Option<bool>,
}

/// What became of a [`UserEdit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEdited {
    Done,
    NoSuchUser,
    /// Refused, nothing written: the account is the last enabled admin, and would not be.
    LastAdmin,
}

/// A personal API token, without its secret (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: String,
    pub user_id: UserId,
    /// The owner's name, for listing.
    pub user_name: String,
    pub name: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What a search string asks for: a job by (the start of) its id, or text in its searched columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// Ids from `low` (inclusive) to `high` (exclusive): every id starting with the prefix.
    IdPrefix { low: String, high: String },
    /// Text to find anywhere in a job's searched columns (its id, kind, step, parameters,
    /// error and message), without regard to case.
    Text(String),
}

impl Search {
    /// The fewest characters of an id that search ids (the 8 every page shows).
    pub const MIN_ID_START: usize = 8;

    /// At least [`Search::MIN_ID_START`] characters of a UUID (hex digits and dashes) search
    /// ids; anything else searches messages.
    pub fn parse(search: &str) -> Search {
        let s = search.trim().to_ascii_lowercase();
        let id_like = s.len() >= Search::MIN_ID_START
            && s.len() <= 36
            && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if id_like {
            // Dashes and hex digits are ASCII: bumping the last byte gives the end of the range.
            let mut high = s.clone().into_bytes();
            *high.last_mut().expect("at least 8 bytes") += 1;
            let high = String::from_utf8(high).expect("ASCII stays UTF-8");
            return Search::IdPrefix { low: s, high };
        }
        Search::Text(search.trim().to_string())
    }
}

/// A `LIKE` pattern (with `ESCAPE '\'`) matching `text` anywhere.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Every status with its count, from `(status, n)` rows (statuses without a row count 0).
pub fn status_counts(rows: impl IntoIterator<Item = (String, i64)>) -> Vec<StatusCount> {
    let mut counts: Vec<StatusCount> = JobStatus::ALL
        .iter()
        .map(|&status| StatusCount { status, n: 0 })
        .collect();
    for (status, n) in rows {
        if let Some(c) = counts.iter_mut().find(|c| c.status.as_str() == status) {
            c.n = n.max(0) as u64;
        }
    }
    counts
}

/// Where a queued job stands: how many queued jobs (of every user) claims take before it
/// ([`FairPick`]'s order: each user's `n`-th waiting job takes its turn once those of users with
/// fewer jobs running and waiting ahead have), of any kind and of its own kind, and the kinds of
/// the first ones ahead, nearest last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStanding {
    pub ahead: u64,
    pub ahead_of_kind: u64,
    /// The kinds of the jobs ahead, first to start first (at most [`QUEUE_LOOKAHEAD`]).
    pub kinds_ahead: Vec<String>,
}

impl QueueStanding {
    /// The standings of `ids` from `rows` (`id, kind, ahead, ahead_of_kind`), which hold the
    /// queued jobs among `ids` and the first [`QUEUE_LOOKAHEAD`] of the queue, in its order.
    pub fn of(
        ids: &[JobId],
        rows: impl IntoIterator<Item = (String, String, i64, i64)>,
    ) -> Vec<Option<QueueStanding>> {
        let rows: Vec<(String, String, i64, i64)> = rows.into_iter().collect();
        let first: Vec<&str> = rows
            .iter()
            .filter(|r| r.2 < QUEUE_LOOKAHEAD)
            .map(|r| r.1.as_str())
            .collect();
        ids.iter()
            .map(|id| {
                let (_, _, ahead, of_kind) = rows.iter().find(|r| *id == r.0)?;
                let ahead = (*ahead).max(0) as u64;
                Some(QueueStanding {
                    ahead,
                    ahead_of_kind: (*of_kind).max(0) as u64,
                    kinds_ahead: first
                        .iter()
                        .take(ahead as usize)
                        .map(|k| k.to_string())
                        .collect(),
                })
            })
            .collect()
    }
}

/// The most jobs ahead whose kinds [`QueueStanding`] lists.
pub const QUEUE_LOOKAHEAD: i64 = 500;

/// A running job of any user, for estimates: its kind, start and progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningJob {
    pub kind: String,
    pub started_at: Option<i64>,
    pub current: i64,
    pub total: Option<i64>,
}

/// A job of any user that ended: how long it waited and ran (`None` if it never started).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedJob {
    pub kind: String,
    pub status: String,
    pub queued_ms: Option<i64>,
    pub ran_ms: Option<i64>,
}

/// The most jobs [`FinishedJob`] queries return: the newest ones.
pub const FINISHED_SAMPLE: i64 = 20_000;

/// How many jobs of one kind, of every user, are in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCount {
    pub kind: String,
    pub status: JobStatus,
    pub n: u64,
}

/// Rows of (kind, status, count) as [`KindCount`]s; statuses this build does not know are left out.
pub fn kind_counts(rows: impl IntoIterator<Item = (String, String, i64)>) -> Vec<KindCount> {
    rows.into_iter()
        .filter_map(|(kind, status, n)| {
            let status = JobStatus::ALL
                .iter()
                .copied()
                .find(|s| s.as_str() == status)?;
            Some(KindCount {
                kind,
                status,
                n: n.max(0) as u64,
            })
        })
        .collect()
}

/// A stored event read back; `None` (logged) for a type this build does not know, or for an
/// event whose job id does not parse: one event the stream cannot carry must not stop the
/// stream.
pub fn stored_event(
    id: i64,
    job_id: Option<String>,
    kind: &str,
    data: String,
) -> Option<StoredEvent> {
    let Some(kind) = EventType::parse(kind) else {
        tracing::error!(
            id,
            kind,
            "an event of an unknown type is stored; it is not replayed"
        );
        return None;
    };
    match job_id.map(JobId::try_from).transpose() {
        Ok(job_id) => Some(StoredEvent {
            id,
            job_id,
            kind,
            data,
        }),
        Err(e) => {
            tracing::error!(
                id,
                error = %e,
                "an event of a job whose id is malformed is stored; it is not replayed"
            );
            None
        }
    }
}

/// What one committed batch of the writer was, for the process's metrics.
#[derive(Debug, Clone, Copy)]
pub struct BatchStats {
    /// Changes in the batch.
    pub changes: usize,
    /// Events it committed.
    pub events: usize,
    /// From the start of its transaction to the end of its commit.
    pub took: Duration,
}

/// Told of every batch the writer commits (see [`BatchHook`]).
pub type OnBatch = Arc<dyn Fn(BatchStats) + Send + Sync>;

/// Where a backend's writer reports its batches: set once, by whoever keeps the metrics.
#[derive(Clone, Default)]
pub struct BatchHook(Arc<OnceLock<OnBatch>>);

impl BatchHook {
    /// Reports every later batch to `on_batch`; a second call is ignored.
    pub fn set(&self, on_batch: OnBatch) {
        let _ = self.0.set(on_batch);
    }

    pub fn report(&self, stats: BatchStats) {
        if let Some(on_batch) = self.0.get() {
            on_batch(stats);
        }
    }
}
