//! The store: the one way into Headway's database.
//!
//! [`Store`] is an enum over backends; each backend owns all of its SQL, its driver types and its
//! connections, and nothing outside this module names them. Today there is one backend,
//! [`sqlite`]: reads through a small sqlx pool with compile-checked queries, and every write on
//! one writer thread with a connection of its own.
//!
//! Writes are [`Change`]s applied in batches ([`Store::apply`]): one transaction per batch, one
//! savepoint per change, so a change that fails is undone alone and reported as such while the
//! rest of its batch commits. The backend allocates event ids inside that transaction, so ids
//! follow commit order whatever the number of writers; events are returned only once committed.

pub mod sqlite;

use model::{
    EventType, Job, JobError, JobStatus, LogLevel, LogLine, MinuteStats, Notice, Progress,
    StatusChange, StatusCount,
};
use std::path::{Path, PathBuf};

/// Why the store could not do something, in words fit for a log line or a startup error. The
/// driver's own error types stay inside the backend.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub(crate) String);

impl StoreError {
    pub(crate) fn new(context: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError(format!("{context}: {e}"))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

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
pub type Fence = Option<String>;

/// One change to jobs, logs or notices. [`Store::apply`] answers each with an [`Outcome`].
// A change lives only in the batch being written: its size is not worth an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Change {
    /// Inserts a new job with its `job` event. Its `event_id` is assigned here.
    Create { owner: String, job: Job },
    /// Moves a job to `to` if the state machine allows it (and the fence holds), with its `job`
    /// event and, for a terminal status, its `done` event. Moving to `running` claims the job
    /// for the fence's process; moving back to `queued` releases it.
    Transition {
        owner: String,
        job_id: String,
        to: JobStatus,
        error: Option<JobError>,
        fence: Fence,
    },
    /// Takes up to `slots` queued jobs of `kinds` for process `by`, oldest first, keeping every
    /// kind of `limits` under its limit of jobs running (or cancelling) anywhere: each becomes
    /// running, with its `job` event.
    Claim { by: String, slots: u32, kinds: Vec<String>, limits: Vec<(String, u32)> },
    /// Records a progress sample of a running job, with its `progress` event.
    Progress {
        owner: String,
        job_id: String,
        progress: Progress,
        fence: Fence,
    },
    /// Appends a log line of a running job, with its `log` event.
    Log {
        owner: String,
        job_id: String,
        level: LogLevel,
        line: String,
        fence: Fence,
    },
    /// Saves a resumable job's checkpoint (no event: it is the job's private state).
    Checkpoint {
        job_id: String,
        value: serde_json::Value,
        fence: Fence,
    },
    /// Deletes up to `limit` of the oldest events written before `before_ms`.
    Prune { before_ms: i64, limit: u32 },
    /// Stores a notice for every user, announced with a `notice` event whose id is its id.
    PostNotice { text: String },
    /// Withdraws every notice in force, each announced with an empty `notice` event.
    WithdrawNotices,
}

/// What became of one [`Change`].
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `Create` and `Transition`: the job as stored, or `None` when the move was refused
    /// (unknown job, or not allowed from its status).
    Job(Option<Job>),
    /// `Progress`, `Log`, `Checkpoint`: whether the job took it (it must be running).
    Recorded(bool),
    /// `Claim`: the jobs taken, now running, with their owners and checkpoints.
    Claimed(Vec<QueuedJob>),
    /// `Prune`: the highest event id deleted, if any.
    Pruned(Option<i64>),
    Notice(Notice),
    Withdrawn(usize),
    /// The change failed and was undone; the rest of its batch was not affected.
    Failed(StoreError),
}

/// An event as stored: its id, the job it is about (none for notices), its type and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub job_id: Option<String>,
    pub kind: EventType,
    pub data: String,
}

/// An event a batch committed, with the user it is for (`None`: everyone).
#[derive(Debug, Clone)]
pub struct CommittedEvent {
    pub owner: Option<String>,
    pub event: StoredEvent,
}

/// What a committed batch did: one outcome per change, in order, and the events to publish.
#[derive(Debug, Default)]
pub struct Applied {
    pub outcomes: Vec<Outcome>,
    pub events: Vec<CommittedEvent>,
    /// The highest event id allocated so far (every lower id is committed or was never used).
    pub head: i64,
}

/// A change for the writer, and where to say what became of it (`None`: nobody waits).
pub struct Write {
    pub change: Change,
    pub reply: Option<tokio::sync::oneshot::Sender<Outcome>>,
}

/// Called by the writer once a batch has committed, before any of its changes is answered: the
/// batch's events, in id order, and the highest id allocated so far.
pub type Publish = std::sync::Arc<dyn Fn(Vec<CommittedEvent>, i64) + Send + Sync>;

/// A queued job with its owner and the checkpoint of an earlier run.
#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub owner: String,
    pub job: Job,
    pub checkpoint: Option<serde_json::Value>,
}

/// Which jobs a history page shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Any of these statuses (all when empty).
    pub statuses: Vec<JobStatus>,
    pub kind: Option<String>,
    /// A prefix of the id, or a part of the message.
    pub search: Option<String>,
    /// Only jobs older than this one (the last id of the previous page).
    pub before: Option<String>,
    /// Only jobs newer than this one (the first id of the next page); ignored with `before`.
    pub after: Option<String>,
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

/// The folder a database's companion files (the operator token) live in, read from its URL
/// without opening it; `None` when the database is not a local file.
pub fn local_dir(url: &str) -> Option<PathBuf> {
    sqlite::Location::parse(url).ok().map(|l| l.dir())
}

/// The database, whichever backend holds it.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
}

/// Calls the same method on whichever backend this is.
macro_rules! backend {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
        }
    };
}

impl Store {
    /// Opens the database `url` names, creating it and applying migrations when needed.
    pub async fn open(url: &str, access: Access) -> Result<Store, OpenError> {
        if url.starts_with("sqlite:") {
            return Ok(Store::Sqlite(sqlite::SqliteStore::open(url, access).await?));
        }
        Err(OpenError::BadUrl {
            url: url.into(),
            reason: "this build of Headway stores jobs in SQLite; use a sqlite: URL, e.g. sqlite://data/headway.db"
                .into(),
        })
    }

    /// The folder holding the database, where a file database keeps its companions (the
    /// operator token); `None` when the database is not a local file.
    pub fn local_dir(&self) -> Option<&Path> {
        backend!(self, s => s.local_dir())
    }

    /// Lets another server open the database: called once this one has written its last change.
    pub fn release(&self) {
        backend!(self, s => s.release())
    }

    /// Queues a change for the writer, which writes it with those waiting next to it in one
    /// transaction (a change that fails fails alone), hands the batch's events to the publisher
    /// set with [`Store::publish_to`], then answers `write.reply`.
    pub async fn write(&self, write: Write) -> StoreResult<()> {
        backend!(self, s => s.write(write).await)
    }

    /// Returns once every change sent before is written (or has failed).
    pub async fn flush(&self) {
        backend!(self, s => s.flush().await)
    }

    /// Where the events of every batch written from now on go.
    pub async fn publish_to(&self, publish: Publish) -> StoreResult<()> {
        backend!(self, s => s.publish_to(publish).await)
    }

    /// Applies `changes` in one transaction (a change that fails fails alone) and returns what
    /// each did and the events it made, without publishing them. An error here means nothing of
    /// the batch was committed.
    pub async fn apply(&self, changes: Vec<Change>) -> StoreResult<Applied> {
        backend!(self, s => s.apply(changes).await)
    }

    /// Allocates one event id and commits it: a write that proves the database takes writes.
    pub async fn reserve_event_id(&self) -> StoreResult<i64> {
        backend!(self, s => s.reserve_event_id().await)
    }

    /// The highest event id ever allocated (0 for an empty store).
    pub async fn last_event_id(&self) -> StoreResult<i64> {
        backend!(self, s => s.last_event_id().await)
    }

    /// The smallest event id still stored, if any.
    pub async fn oldest_event_id(&self) -> StoreResult<Option<i64>> {
        backend!(self, s => s.oldest_event_id().await)
    }

    /// The job, if it exists and belongs to `owner`.
    pub async fn job(&self, owner: &str, id: &str) -> StoreResult<Option<Job>> {
        backend!(self, s => s.job(owner, id).await)
    }

    /// What a stream's `snapshot` shows: the owner's unfinished jobs and the `recent` latest
    /// ones, newest first.
    pub async fn snapshot_jobs(&self, owner: &str, recent: u32) -> StoreResult<Vec<Job>> {
        backend!(self, s => s.snapshot_jobs(owner, recent).await)
    }

    /// Jobs of every owner that were running or cancelling, oldest first (recovery at start).
    pub async fn unfinished_jobs(&self) -> StoreResult<Vec<(String, Job)>> {
        backend!(self, s => s.unfinished_jobs().await)
    }

    /// Queued jobs of every owner in queue order, with the checkpoint of an earlier run.
    pub async fn queued_jobs(&self) -> StoreResult<Vec<QueuedJob>> {
        backend!(self, s => s.queued_jobs().await)
    }

    /// The checkpoint a resumable job saved last.
    pub async fn checkpoint(&self, job_id: &str) -> StoreResult<Option<serde_json::Value>> {
        backend!(self, s => s.checkpoint(job_id).await)
    }

    /// One page of the owner's jobs, newest first: the `limit` jobs just older than `before`, or
    /// just newer than `after`, or the newest ones.
    pub async fn list_jobs(&self, owner: &str, filter: &JobFilter) -> StoreResult<Vec<Job>> {
        backend!(self, s => s.list_jobs(owner, filter).await)
    }

    /// How many jobs the owner has in each status (of one kind, or of all).
    pub async fn status_counts(
        &self,
        owner: &str,
        kind: Option<&str>,
    ) -> StoreResult<Vec<StatusCount>> {
        backend!(self, s => s.status_counts(owner, kind).await)
    }

    /// The owner's jobs finished per minute in `[since, until)`, oldest minute first; minutes
    /// without a finished job are absent.
    pub async fn finished_per_minute(
        &self,
        owner: &str,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<MinuteStats>> {
        backend!(self, s => s.finished_per_minute(owner, since, until).await)
    }

    /// The statuses a job went through and when, from its stored `job` events (oldest first).
    pub async fn status_changes(&self, job_id: &str) -> StoreResult<Vec<StatusChange>> {
        backend!(self, s => s.status_changes(job_id).await)
    }

    /// The last `limit` log lines of a job, in order, and how many lines it has in all.
    pub async fn log_tail(&self, job_id: &str, limit: u32) -> StoreResult<(Vec<LogLine>, u64)> {
        backend!(self, s => s.log_tail(job_id, limit).await)
    }

    /// Log lines of one job with `seq > after`, in order.
    pub async fn log_lines(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<LogLine>> {
        backend!(self, s => s.log_lines(job_id, after, limit).await)
    }

    /// Notices in force, oldest first.
    pub async fn active_notices(&self) -> StoreResult<Vec<Notice>> {
        backend!(self, s => s.active_notices().await)
    }

    /// Stored events of one owner with ids in `(after, until]`, oldest first.
    pub async fn owner_events_after(
        &self,
        owner: &str,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        backend!(self, s => s.owner_events_after(owner, after, until, limit).await)
    }

    /// Stored events of one job with ids in `(after, until]`, oldest first.
    pub async fn job_events_after(
        &self,
        job_id: &str,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        backend!(self, s => s.job_events_after(job_id, after, until, limit).await)
    }

    /// The session with this id, if it exists (expired or not).
    pub async fn load_session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        backend!(self, s => s.load_session(id).await)
    }

    /// Inserts a new session; false if one with this id exists already.
    pub async fn create_session(&self, row: SessionRow) -> StoreResult<bool> {
        backend!(self, s => s.create_session(row).await)
    }

    /// Inserts or replaces a session.
    pub async fn save_session(&self, row: SessionRow) -> StoreResult<()> {
        backend!(self, s => s.save_session(row).await)
    }

    pub async fn delete_session(&self, id: &str) -> StoreResult<()> {
        backend!(self, s => s.delete_session(id).await)
    }

    /// Deletes every session that expired before `now` (Unix seconds); returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        backend!(self, s => s.delete_expired_sessions(now).await)
    }

    /// Inserts finished jobs of `owner` as they are, in one transaction, without events (a
    /// history brought in from elsewhere, or a benchmark's). Their `event_id`s are taken as
    /// given and the event counter moved past them.
    pub async fn import_history(&self, owner: &str, jobs: Vec<Job>) -> StoreResult<()> {
        backend!(self, s => s.import_history(owner, jobs).await)
    }
}
