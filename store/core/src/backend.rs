//! The seam's traits: everything the engine asks of a database. A backend implements what is
//! its own ([`JobStore`]: its writer, its publishing, its event counter; [`SessionStore`]) and
//! gets the rest, written once for both databases, by handing its pool to [`crate::sql`]
//! ([`crate::SqlBackend`]). The engine holds a backend as `Arc<dyn Backend>`; the contract tests
//! (`store/core/tests/contract/`) run every method against both backends.

use crate::{
    Applied, Change, FinishedJob, JobFilter, KindCount, OnBatch, Orphan, ProcessRow, Publish,
    QueueStanding, RunningJob, ScheduleRow, SessionRow, StoreResult, StoredEvent, TokenRow,
    UserEdit, UserEdited, UserRow,
};
use async_trait::async_trait;
use model::{
    FailureGroup, Job, JobId, JobStatus, KindPause, LogLine, MinuteStats, Notice, ProcessId,
    ScheduleId, StatusChange, StatusCount, Upload, UploadId, UserId,
};
use std::path::Path;
use std::time::Duration;

/// A whole backend: a database holding Headway's jobs and events, accounts, sessions and
/// processes.
pub trait Backend:
    JobStore
    + JobReads
    + FigureReads
    + EventReads
    + LogReads
    + AccountStore
    + SessionStore
    + ProcessRegistry
    + ScheduleStore
    + FileStore
    + crate::WebhookStore
    + crate::RemoteStore
{
}

impl<
        T: JobStore
            + JobReads
            + FigureReads
            + EventReads
            + LogReads
            + AccountStore
            + SessionStore
            + ProcessRegistry
            + ScheduleStore
            + FileStore
            + crate::WebhookStore
            + crate::RemoteStore,
    > Backend for T
{
}

/// Jobs' writes and what only a backend knows of its database: its writer, how it publishes
/// what it committed, its event counter, its size.
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Whether other processes may share the database (and write to it).
    fn is_shared(&self) -> bool {
        false
    }

    /// The folder holding the database, where a file database keeps its companions (the
    /// operator token); `None` when the database is not a local file.
    fn local_dir(&self) -> Option<&Path> {
        None
    }

    /// Lets another server open the database: called once this one has written its last
    /// change.
    fn release(&self) {}

    /// Whether this store can serve a process: it answers with the schema this build migrates
    /// to, and its writer takes writes within `within`. `Err` says what is wrong.
    async fn check_ready(&self, within: Duration) -> StoreResult<()>;

    /// Queues a change for the writer, which writes it with those waiting next to it in one
    /// transaction (a change that fails fails alone), hands the batch's events to the publisher
    /// set with [`JobStore::publish_to`], then sends the change's [`Answer`](crate::Answer).
    async fn write(&self, change: Change) -> StoreResult<()>;

    /// Reports every batch this process's writer commits from now on to `on_batch` (its size,
    /// events and commit time); set once.
    fn observe_batches(&self, on_batch: OnBatch);

    /// Returns once every change sent before is written (or has failed).
    async fn flush(&self);

    /// Writes the ended jobs queued for the search index into it now ([`crate::search`]; the
    /// writer does so by itself after its batches) and returns how many it wrote.
    async fn index_search(&self) -> StoreResult<u64>;

    /// Where every event committed after `after` goes, in id order: those this process
    /// writes, and on a shared database those of every other process.
    async fn publish_to(&self, publish: Publish, after: i64) -> StoreResult<()>;

    /// Allocates the id of this process's `version` event (`data` is its JSON); on a shared
    /// database the event is stored, so that pages following other processes learn of the
    /// build too.
    async fn version_event(&self, data: String) -> StoreResult<i64>;

    /// Applies `changes` in one transaction (a change that fails fails alone), sends each its
    /// answer and returns the events they made, without publishing them. An error here means
    /// nothing of the batch was committed.
    async fn apply(&self, changes: Vec<Change>) -> StoreResult<Applied>;

    /// Allocates one event id and commits it: a write that proves the database takes writes.
    async fn reserve_event_id(&self) -> StoreResult<i64>;

    /// The highest event id ever allocated (0 for an empty store).
    async fn last_event_id(&self) -> StoreResult<i64>;

    /// The database's size on disk, in bytes.
    async fn size_bytes(&self) -> StoreResult<u64>;

    /// Inserts finished jobs of `owner` as they are, in one transaction, without events (a
    /// history brought in from elsewhere, or a benchmark's). Their `event_id`s are taken as
    /// given and the event counter moved past them.
    async fn import_history(&self, owner: &UserId, jobs: Vec<Job>) -> StoreResult<()>;
}

/// Jobs read back. Every read that takes an `owner` reads that owner's jobs, or every
/// owner's with `None`.
#[async_trait]
pub trait JobReads: Send + Sync + 'static {
    /// The job, if it exists and belongs to `owner` (`None`: to anyone).
    async fn job(&self, owner: Option<&UserId>, id: &JobId) -> StoreResult<Option<Job>>;

    /// Who a job belongs to, if it exists.
    async fn job_owner(&self, id: &JobId) -> StoreResult<Option<UserId>>;

    /// What a stream's `snapshot` shows: the owner's unfinished jobs and the `recent` latest
    /// ones, newest first.
    async fn snapshot_jobs(&self, owner: Option<&UserId>, recent: u32) -> StoreResult<Vec<Job>>;

    /// One page of the owner's jobs, newest first: the `limit` jobs just older than `before`, or
    /// just newer than `after`, or the newest ones.
    async fn list_jobs(&self, owner: Option<&UserId>, filter: &JobFilter) -> StoreResult<Vec<Job>>;

    /// How many of the jobs `ids` exist and are `sees`'s (`None`: anyone's), in one query.
    async fn count_jobs(&self, sees: Option<&UserId>, ids: &[JobId]) -> StoreResult<u64>;

    /// The status of each of the jobs `ids` that exists and is `sees`'s (`None`: anyone's), in
    /// one query; a job that is not there is left out.
    async fn job_statuses(
        &self,
        sees: Option<&UserId>,
        ids: &[JobId],
    ) -> StoreResult<Vec<(JobId, JobStatus)>>;

    /// The checkpoint a resumable job saved last.
    async fn checkpoint(&self, job_id: &JobId) -> StoreResult<Option<serde_json::Value>>;

    /// A workflow run's plan ([`model::workflows::Plan`], as JSON), if the job is a run.
    async fn run_plan(&self, job_id: &JobId) -> StoreResult<Option<String>>;

    /// Jobs running or cancelling for a process that is not registered (it is gone), or for
    /// none, oldest first: they are to be taken over.
    async fn orphaned_jobs(&self) -> StoreResult<Vec<Orphan>>;

    /// Running (or cancelling) external jobs whose lease ended before `now`, with their owners:
    /// at most `limit`, the longest lost first.
    async fn expired_leases(&self, now: i64, limit: u32) -> StoreResult<Vec<(UserId, JobId)>>;

    /// An external job's owner and the hash of its report token.
    async fn report_hash(&self, id: &JobId) -> StoreResult<Option<(UserId, String)>>;
}

/// The figures of the queue and of the jobs: counts, the chart, the running and the ended.
#[async_trait]
pub trait FigureReads: Send + Sync + 'static {
    /// The owner's jobs that failed since `since`, by kind and error code, the groups with the
    /// newest failure first, `limit` groups at most.
    async fn failure_groups(
        &self,
        owner: Option<&UserId>,
        since: i64,
        limit: u32,
    ) -> StoreResult<Vec<FailureGroup>>;

    /// How many jobs the owner has in each status (of one kind, or of all).
    async fn status_counts(
        &self,
        owner: Option<&UserId>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<StatusCount>>;

    /// The owner's jobs finished per minute in `[since, until)`, oldest minute first; minutes
    /// without a finished job are absent.
    async fn finished_per_minute(
        &self,
        owner: Option<&UserId>,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<MinuteStats>>;

    /// Unfinished jobs of every user (queued, running, cancelling), by kind and status.
    async fn unfinished_by_kind(&self) -> StoreResult<Vec<KindCount>>;

    /// Every user's running (and cancelling) jobs.
    async fn running_jobs(&self) -> StoreResult<Vec<RunningJob>>;

    /// Jobs of every user that ended at or after `since`, the newest [`crate::FINISHED_SAMPLE`] at most.
    async fn finished_since(&self, since: i64) -> StoreResult<Vec<FinishedJob>>;

    /// How many of `user`'s jobs wait in the queue.
    async fn queued_count(&self, user: &UserId) -> StoreResult<u64>;

    /// Where each of the jobs `ids` stands in the queue of every user's jobs, in the order
    /// claims take them; `None` for one that is not queued, waits for its `run_after`, or is of
    /// a paused kind (jobs of paused kinds are out of line).
    async fn queue_standings(&self, ids: &[JobId]) -> StoreResult<Vec<Option<QueueStanding>>>;

    /// The soonest time a queued job waits for (its `run_after`, later than now), if one does.
    async fn next_start(&self) -> StoreResult<Option<i64>>;

    /// The kinds paused now, by whom and since when ([`model::EVERY_KIND`] for all of them).
    async fn kind_pauses(&self) -> StoreResult<Vec<KindPause>>;

    /// The limits set at run time ([`crate::limits`]).
    async fn set_limits(&self) -> StoreResult<Vec<crate::limits::SetLimit>>;

    /// The owner and parameters' JSON text of every running (or cancelling) job of `kind`.
    async fn running_params(&self, kind: &str) -> StoreResult<Vec<(String, String)>>;

    /// The starts recorded under a rate limit's `signature` at or after `since`, by key: how
    /// many, and the oldest one's time.
    async fn limit_uses(&self, signature: &str, since: i64)
        -> StoreResult<Vec<(String, u32, i64)>>;
}

/// Stored events, for replays and timelines, and the notices in force.
#[async_trait]
pub trait EventReads: Send + Sync + 'static {
    /// Events with ids up to this one may have been pruned: a replay from below it is not
    /// complete. Moved in the transaction that deletes them.
    async fn pruned_through(&self) -> StoreResult<i64>;

    /// The statuses a job went through and when, from its stored `job` events (oldest first).
    async fn status_changes(&self, job_id: &JobId) -> StoreResult<Vec<StatusChange>>;

    /// Stored events of one owner with ids in `(after, until]`, oldest first.
    async fn owner_events_after(
        &self,
        owner: Option<&UserId>,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>>;

    /// Stored events of one job with ids in `(after, until]`, oldest first.
    async fn job_events_after(
        &self,
        job_id: &JobId,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>>;

    /// Notices in force, oldest first.
    async fn active_notices(&self) -> StoreResult<Vec<Notice>>;
}

/// Jobs' logs.
#[async_trait]
pub trait LogReads: Send + Sync + 'static {
    /// The last `limit` log lines of a job, in order, and how many lines it has in all.
    async fn log_tail(&self, job_id: &JobId, limit: u32) -> StoreResult<(Vec<LogLine>, u64)>;

    /// The newest `limit` lines of a job that pass `filter`, oldest first, and how many pass.
    async fn log_search(
        &self,
        job_id: &JobId,
        filter: &model::LogFilter,
        limit: u32,
    ) -> StoreResult<(Vec<LogLine>, u64)>;

    /// Log lines of one job with `seq > after`, in order.
    async fn log_lines(&self, job_id: &JobId, after: u64, limit: u32) -> StoreResult<Vec<LogLine>>;
}

/// Accounts and their API tokens.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Adds an account; `false` if the name is taken.
    async fn create_user(&self, user: &UserRow) -> StoreResult<bool>;

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRow>>;

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRow>>;

    /// Every account, by name.
    async fn users(&self) -> StoreResult<Vec<UserRow>>;

    /// Changes an account, all of `edit` or nothing, unless it is the last enabled admin and
    /// would no longer be. A new password hash, or disabling or enabling it, ends every session
    /// it has (its generation moves and its sessions are deleted), in the same transaction.
    async fn change_user(&self, name: &str, edit: &UserEdit<'_>) -> StoreResult<UserEdited>;

    /// Stores a new API token under the SHA-256 `hash` of its secret, unless its owner has
    /// `most` tokens in force already (revoked ones do not count): then nothing is written.
    /// Tokens made at once, in any number of processes, cannot pass the bound together.
    async fn create_token(
        &self,
        token: &TokenRow,
        hash: &str,
        most: u64,
    ) -> StoreResult<TokenAdded>;

    /// The token in force whose secret hashes to `hash`, with its owner.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRow, UserRow)>>;

    /// A page of the tokens of one account (`None`: of all), newest first, revoked ones
    /// included: `limit` at most, after the token `before` (one of them) when given.
    async fn tokens(
        &self,
        user_id: Option<&UserId>,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TokenRow>>;

    /// Revokes a token (only if it is `user_id`'s, unless `None`); `false` if there is no such
    /// token in force.
    async fn revoke_token(&self, id: &str, user_id: Option<&UserId>, now: i64)
        -> StoreResult<bool>;

    /// Records that a token was just used.
    async fn touch_token(&self, id: &str, now: i64) -> StoreResult<()>;

    /// Stores a new token of an open server's anonymous user (kept apart from accounts'),
    /// bounded as [`AccountStore::create_token`].
    async fn create_anonymous_token(
        &self,
        token: &TokenRow,
        hash: &str,
        most: u64,
    ) -> StoreResult<TokenAdded>;

    /// The anonymous user's token in force whose secret hashes to `hash`.
    async fn anonymous_token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRow>>;

    /// A page of an anonymous user's tokens, newest first, revoked ones too: `limit` at most,
    /// after the token `before` (one of theirs) when given.
    async fn anonymous_tokens(
        &self,
        user_id: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TokenRow>>;

    /// Revokes an anonymous user's token; `false` if they have no such token in force.
    async fn revoke_anonymous_token(
        &self,
        id: &str,
        user_id: &UserId,
        now: i64,
    ) -> StoreResult<bool>;

    /// Records that an anonymous user's token was just used.
    async fn touch_anonymous_token(&self, id: &str, now: i64) -> StoreResult<()>;
}

/// Schedules (their writes are changes: [`crate::Change::PutSchedule`],
/// [`crate::Change::DeleteSchedule`], [`crate::Change::Fire`]).
#[async_trait]
pub trait ScheduleStore: Send + Sync + 'static {
    /// The schedules of `owner` (`None`: everyone's), oldest first, with their owners' names.
    async fn schedules(&self, owner: Option<&UserId>) -> StoreResult<Vec<ScheduleRow>>;

    async fn schedule(&self, id: &ScheduleId) -> StoreResult<Option<ScheduleRow>>;

    /// How many schedules `owner` has.
    async fn schedule_count(&self, owner: &UserId) -> StoreResult<u64>;

    /// Up to `limit` enabled schedules whose fire time is at or before `now`, soonest first.
    async fn due_schedules(&self, now: i64, limit: u32) -> StoreResult<Vec<ScheduleRow>>;

    /// The soonest fire time any enabled schedule waits for.
    async fn next_fire(&self) -> StoreResult<Option<i64>>;
}

/// What became of a new token ([`AccountStore::create_token`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAdded {
    Added,
    /// The owner has this many tokens in force, as many as they may: nothing was written.
    TooMany(u64),
}

/// What became of [`FileStore::add_upload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAdded {
    Added,
    /// Its bytes would pass the owner's quota: nothing was written.
    OverQuota,
    /// The owner has as many uploads as they may: nothing was written.
    TooMany,
}

impl UploadAdded {
    /// Why an upload the totals refused was refused, from the owner's count of uploads: as
    /// many as `most`, or else its bytes.
    pub fn refused(count: i64, most: i64) -> UploadAdded {
        if count >= most {
            UploadAdded::TooMany
        } else {
            UploadAdded::OverQuota
        }
    }
}

/// What the database knows of files: uploads (their bytes are in the file store, under their
/// id), the file store every process must share, and the expiry of jobs' outputs.
#[async_trait]
pub trait FileStore: Send + Sync + 'static {
    /// The id of the file store the database's files are in: `candidate` if none was
    /// recorded yet (then it is recorded), else the one recorded first.
    async fn file_store_id(&self, candidate: &str, at: i64) -> StoreResult<String>;

    /// Records an upload of `owner`, unless the bytes of their uploads would then pass `quota`
    /// or they have `most` uploads already: then nothing is written. Uploads racing each
    /// other, in any number of processes, cannot pass either together. Reads one row of
    /// running totals, however many uploads the owner has.
    async fn add_upload(
        &self,
        owner: &UserId,
        upload: &Upload,
        quota: u64,
        most: u64,
    ) -> StoreResult<UploadAdded>;

    /// How many uploads `owner` has, and their bytes together (running totals: one row).
    async fn upload_totals(&self, owner: &UserId) -> StoreResult<(u64, u64)>;

    /// An upload and its owner.
    async fn upload(&self, id: &UploadId) -> StoreResult<Option<(UserId, Upload)>>;

    /// `owner`'s uploads, newest first: `limit` at most, after the upload `before` (one of
    /// theirs) when given.
    async fn uploads_of(
        &self,
        owner: &UserId,
        before: Option<&UploadId>,
        limit: u32,
    ) -> StoreResult<Vec<Upload>>;

    /// Deletes an upload no job used; whether it did.
    async fn delete_unused_upload(&self, id: &UploadId) -> StoreResult<bool>;

    /// Records that a job took the uploads `ids` at `at`.
    async fn use_uploads(&self, ids: &[UploadId], at: i64) -> StoreResult<()>;

    /// Deletes up to `limit` uploads no job used that came before `unused_before`, and used
    /// ones last used before `used_before`; their ids.
    async fn delete_stale_uploads(
        &self,
        unused_before: i64,
        used_before: i64,
        limit: u32,
    ) -> StoreResult<Vec<UploadId>>;

    /// Forgets the outputs of up to `limit` jobs that ended before `before`; those jobs' ids,
    /// whose output files may go.
    async fn expire_outputs(&self, before: i64, limit: u32) -> StoreResult<Vec<JobId>>;
}

/// Sign-in sessions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id, if it exists (expired or not).
    async fn load_session(&self, id: &str) -> StoreResult<Option<SessionRow>>;

    /// Up to `limit` sessions still stored under the cookie's own value (from before session ids
    /// were stored as hashes).
    async fn unhashed_sessions(&self, limit: i64) -> StoreResult<Vec<SessionRow>>;

    /// How many sessions are stored.
    async fn session_count(&self) -> StoreResult<u64>;

    /// Inserts a new session; false if one with this id exists already.
    async fn create_session(&self, row: SessionRow) -> StoreResult<bool>;

    /// Inserts or replaces a session.
    async fn save_session(&self, row: SessionRow) -> StoreResult<()>;

    async fn delete_session(&self, id: &str) -> StoreResult<()>;

    /// Deletes every session that expired before `now` (Unix seconds); returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64>;
}

/// The processes sharing the database, and the leases on work one of them does for all.
#[async_trait]
pub trait ProcessRegistry: Send + Sync + 'static {
    /// Adds a process to the registry, its heartbeat now; returns it as registered.
    async fn register(&self, process: &ProcessRow) -> StoreResult<ProcessRow>;

    /// Refreshes a process's heartbeat; false if it is no longer registered (it was taken for
    /// dead and its jobs were taken over).
    async fn heartbeat(&self, id: &ProcessId) -> StoreResult<bool>;

    async fn deregister(&self, id: &ProcessId) -> StoreResult<()>;

    /// The registered processes, oldest first.
    async fn processes(&self) -> StoreResult<Vec<ProcessRow>>;

    /// Removes from the registry every process other than `me` that is gone: silent for longer
    /// than `lease_ms` on a shared database, any other one on a database only one server may
    /// use. Returns their ids.
    async fn reap_stale(&self, me: &ProcessId, lease_ms: i64) -> StoreResult<Vec<ProcessId>>;

    /// Takes or renews the lease `name` (work one process does for all) for `ttl_ms`; false if
    /// another process holds it.
    async fn try_lease(&self, name: &str, holder: &ProcessId, ttl_ms: i64) -> StoreResult<bool>;
}
