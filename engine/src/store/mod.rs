//! The store: the one way into Headway's database.
//!
//! [`Store`] is an enum over the backends, each a crate of its own that owns all of its SQL, its
//! migrations, its driver types and its connections; nothing outside them names those. The
//! types they share with the engine (changes, outcomes, events, rows, errors) come from the
//! `store` crate and are re-exported here.
//!
//! - [`sqlite`] (the embedded default): reads through a small sqlx pool with compile-checked
//!   queries, every write on one writer thread with a connection of its own; one server per
//!   database file.
//! - [`postgres`]: any number of processes on one database; each writes through a task of its
//!   own, and publishes what every process committed by reading it back in id order.
//!
//! Writes are [`Change`]s applied in batches ([`Store::write`], [`Store::apply`]): one
//! transaction per batch, a change that fails undone alone while the rest of its batch commits.
//! Event ids are allocated inside that transaction, so ids follow commit order.

pub use store::*;
pub use store_postgres as postgres;
pub use store_sqlite as sqlite;

use model::{Job, LogLine, MinuteStats, Notice, StatusChange, StatusCount};
use std::path::{Path, PathBuf};

/// The folder a database's companion files (the operator token) live in, read from its URL
/// without opening it; `None` when the database is not a local file.
pub fn local_dir(url: &str) -> Option<PathBuf> {
    sqlite::Location::parse(url).ok().map(|l| l.dir())
}

/// The database, whichever backend holds it.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Calls the same method on whichever backend this is.
macro_rules! backend {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

impl Store {
    /// Opens the database `url` names, creating it and applying migrations when needed.
    pub async fn open(url: &str, access: Access) -> Result<Store, OpenError> {
        if url.starts_with("sqlite:") {
            return Ok(Store::Sqlite(sqlite::SqliteStore::open(url, access).await?));
        }
        if postgres::is_postgres_url(url) {
            return Ok(Store::Postgres(postgres::PgStore::open(url).await?));
        }
        Err(OpenError::BadUrl {
            url: postgres::redact(url),
            reason: "Headway stores jobs in SQLite (sqlite://data/headway.db) or PostgreSQL \
                     (postgres://USER:PASSWORD@HOST:PORT/DB)"
                .into(),
        })
    }

    /// Whether other processes may share the database (and write to it).
    pub fn is_shared(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// The folder holding the database, where a file database keeps its companions (the
    /// operator token); `None` when the database is not a local file.
    pub fn local_dir(&self) -> Option<&Path> {
        match self {
            Store::Sqlite(s) => s.local_dir(),
            Store::Postgres(_) => None,
        }
    }

    /// Lets another server open the database: called once this one has written its last change.
    pub fn release(&self) {
        match self {
            Store::Sqlite(s) => s.release(),
            Store::Postgres(_) => {}
        }
    }

    /// Queues a change for the writer, which writes it with those waiting next to it in one
    /// transaction (a change that fails fails alone), hands the batch's events to the publisher
    /// set with [`Store::publish_to`], then answers `write.reply`.
    pub async fn write(&self, write: Write) -> StoreResult<()> {
        backend!(self, s => s.write(write).await)
    }

    /// Whether this store can serve a process (see the backends' `check_ready`): the writer
    /// must answer within two seconds.
    pub async fn check_ready(&self) -> StoreResult<()> {
        let within = std::time::Duration::from_secs(2);
        backend!(self, s => s.check_ready(within).await)
    }

    /// Where each of the jobs `ids` stands in the queue of every user's jobs, in the order
    /// claims take them; `None` for one that is not queued.
    pub async fn queue_standings(&self, ids: &[String]) -> StoreResult<Vec<Option<QueueStanding>>> {
        backend!(self, s => s.queue_standings(ids).await)
    }

    /// How many of the jobs `ids` exist and are `sees`'s (`None`: anyone's), in one query.
    pub async fn count_jobs(&self, sees: Option<&str>, ids: &[String]) -> StoreResult<u64> {
        backend!(self, s => s.count_jobs(sees, ids).await)
    }

    /// How many of `user`'s jobs wait in the queue.
    pub async fn queued_count(&self, user: &str) -> StoreResult<u64> {
        backend!(self, s => s.queued_count(user).await)
    }

    /// Every user's running (and cancelling) jobs.
    pub async fn running_jobs(&self) -> StoreResult<Vec<RunningJob>> {
        backend!(self, s => s.running_jobs().await)
    }

    /// Jobs of every user that ended at or after `since`, the newest [`FINISHED_SAMPLE`] at most.
    pub async fn finished_since(&self, since: i64) -> StoreResult<Vec<FinishedJob>> {
        backend!(self, s => s.finished_since(since).await)
    }

    /// The database's size on disk, in bytes.
    pub async fn size_bytes(&self) -> StoreResult<u64> {
        backend!(self, s => s.size_bytes().await)
    }

    /// Unfinished jobs of every user (queued, running, cancelling), by kind and status.
    pub async fn unfinished_by_kind(&self) -> StoreResult<Vec<KindCount>> {
        backend!(self, s => s.unfinished_by_kind().await)
    }

    /// Reports every batch this process's writer commits from now on to `on_batch` (its size,
    /// events and commit time); set once.
    pub fn observe_batches(&self, on_batch: store::OnBatch) {
        backend!(self, s => s.observe_batches(on_batch))
    }

    /// Returns once every change sent before is written (or has failed).
    pub async fn flush(&self) {
        backend!(self, s => s.flush().await)
    }

    /// Where every event committed after `after` goes, in id order: those this process
    /// writes, and on a shared database those of every other process.
    pub async fn publish_to(&self, publish: Publish, after: i64) -> StoreResult<()> {
        backend!(self, s => s.publish_to(publish, after).await)
    }

    /// Allocates the id of this process's `version` event (`data` is its JSON); on a shared
    /// database the event is stored, so that pages following other processes learn of the
    /// build too.
    pub async fn version_event(&self, data: String) -> StoreResult<i64> {
        backend!(self, s => s.version_event(data).await)
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

    /// Events with ids up to this one may have been pruned: a replay from below it is not
    /// complete. Moved in the transaction that deletes them.
    pub async fn pruned_through(&self) -> StoreResult<i64> {
        backend!(self, s => s.pruned_through().await)
    }

    /// The job, if it exists and belongs to `owner` (`None`: to anyone). Every read that takes
    /// an `owner` reads that owner's jobs, or every owner's with `None`.
    pub async fn job(&self, owner: Option<&str>, id: &str) -> StoreResult<Option<Job>> {
        backend!(self, s => s.job(owner, id).await)
    }

    /// Who a job belongs to, if it exists.
    pub async fn job_owner(&self, id: &str) -> StoreResult<Option<String>> {
        backend!(self, s => s.job_owner(id).await)
    }

    /// What a stream's `snapshot` shows: the owner's unfinished jobs and the `recent` latest
    /// ones, newest first.
    pub async fn snapshot_jobs(&self, owner: Option<&str>, recent: u32) -> StoreResult<Vec<Job>> {
        backend!(self, s => s.snapshot_jobs(owner, recent).await)
    }

    /// Jobs running or cancelling for a process that is not registered (it is gone), or for
    /// none, oldest first: they are to be taken over.
    pub async fn orphaned_jobs(&self) -> StoreResult<Vec<Orphan>> {
        backend!(self, s => s.orphaned_jobs().await)
    }

    /// The checkpoint a resumable job saved last.
    pub async fn checkpoint(&self, job_id: &str) -> StoreResult<Option<serde_json::Value>> {
        backend!(self, s => s.checkpoint(job_id).await)
    }

    /// One page of the owner's jobs, newest first: the `limit` jobs just older than `before`, or
    /// just newer than `after`, or the newest ones.
    pub async fn list_jobs(
        &self,
        owner: Option<&str>,
        filter: &JobFilter,
    ) -> StoreResult<Vec<Job>> {
        backend!(self, s => s.list_jobs(owner, filter).await)
    }

    /// How many jobs the owner has in each status (of one kind, or of all).
    pub async fn status_counts(
        &self,
        owner: Option<&str>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<StatusCount>> {
        backend!(self, s => s.status_counts(owner, kind).await)
    }

    /// The owner's jobs finished per minute in `[since, until)`, oldest minute first; minutes
    /// without a finished job are absent.
    pub async fn finished_per_minute(
        &self,
        owner: Option<&str>,
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

    /// The newest `limit` lines of a job that pass `filter`, oldest first, and how many pass.
    pub async fn log_search(
        &self,
        job_id: &str,
        filter: &model::LogFilter,
        limit: u32,
    ) -> StoreResult<(Vec<LogLine>, u64)> {
        backend!(self, s => s.log_search(job_id, filter, limit).await)
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
        owner: Option<&str>,
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

    /// Adds an account; `false` if the name is taken.
    pub async fn create_user(&self, user: &UserRow) -> StoreResult<bool> {
        backend!(self, s => s.create_user(user).await)
    }

    pub async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRow>> {
        backend!(self, s => s.user_by_name(name).await)
    }

    pub async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        backend!(self, s => s.user_by_id(id).await)
    }

    /// Every account, by name.
    pub async fn users(&self) -> StoreResult<Vec<UserRow>> {
        backend!(self, s => s.users().await)
    }

    /// Changes an account, all of `edit` or nothing, unless it is the last enabled admin and
    /// would no longer be. A new password hash, or disabling or enabling it, ends every session
    /// it has (its generation moves and its sessions are deleted), in the same transaction.
    pub async fn change_user(&self, name: &str, edit: &UserEdit<'_>) -> StoreResult<UserEdited> {
        backend!(self, s => s.change_user(name, edit).await)
    }

    /// Stores a new API token under the SHA-256 `hash` of its secret.
    pub async fn create_token(&self, token: &TokenRow, hash: &str) -> StoreResult<()> {
        backend!(self, s => s.create_token(token, hash).await)
    }

    /// The token in force whose secret hashes to `hash`, with its owner.
    pub async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRow, UserRow)>> {
        backend!(self, s => s.token_by_hash(hash).await)
    }

    /// Tokens of one account (`None`: of all), newest first, revoked ones included.
    pub async fn tokens(&self, user_id: Option<&str>) -> StoreResult<Vec<TokenRow>> {
        backend!(self, s => s.tokens(user_id).await)
    }

    /// Revokes a token (only if it is `user_id`'s, unless `None`); `false` if there is no such
    /// token in force.
    pub async fn revoke_token(
        &self,
        id: &str,
        user_id: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        backend!(self, s => s.revoke_token(id, user_id, now).await)
    }

    /// Records that a token was just used.
    pub async fn touch_token(&self, id: &str, now: i64) -> StoreResult<()> {
        backend!(self, s => s.touch_token(id, now).await)
    }

    /// The session with this id, if it exists (expired or not).
    pub async fn load_session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        backend!(self, s => s.load_session(id).await)
    }

    /// Up to `limit` sessions still stored under the cookie's own value (from before session ids
    /// were stored as hashes).
    pub async fn unhashed_sessions(&self, limit: i64) -> StoreResult<Vec<SessionRow>> {
        backend!(self, s => s.unhashed_sessions(limit).await)
    }

    /// How many sessions are stored.
    pub async fn session_count(&self) -> StoreResult<u64> {
        backend!(self, s => s.session_count().await)
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

    /// Adds a process to the registry, its heartbeat now; returns it as registered.
    pub async fn register(&self, process: &ProcessRow) -> StoreResult<ProcessRow> {
        backend!(self, s => s.register(process).await)
    }

    /// Refreshes a process's heartbeat; false if it is no longer registered (it was taken for
    /// dead and its jobs were taken over).
    pub async fn heartbeat(&self, id: &str) -> StoreResult<bool> {
        backend!(self, s => s.heartbeat(id).await)
    }

    pub async fn deregister(&self, id: &str) -> StoreResult<()> {
        backend!(self, s => s.deregister(id).await)
    }

    /// The registered processes, oldest first.
    pub async fn processes(&self) -> StoreResult<Vec<ProcessRow>> {
        backend!(self, s => s.processes().await)
    }

    /// Removes from the registry every process other than `me` that is gone: silent for longer
    /// than `lease_ms` on a shared database, any other one on a database only one server may
    /// use. Returns their ids.
    pub async fn reap_stale(&self, me: &str, lease_ms: i64) -> StoreResult<Vec<String>> {
        backend!(self, s => s.reap_stale(me, lease_ms).await)
    }

    /// Takes or renews the lease `name` (work one process does for all) for `ttl_ms`; false if
    /// another process holds it.
    pub async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> StoreResult<bool> {
        backend!(self, s => s.try_lease(name, holder, ttl_ms).await)
    }
}

#[cfg(test)]
mod tests;
