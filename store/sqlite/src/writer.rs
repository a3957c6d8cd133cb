//! The writer: the one thread that writes to the SQLite file.
//!
//! It opens a rusqlite connection of its own (nothing else uses it) and runs every statement
//! synchronously, each prepared once and kept: a batch of a few hundred statements never leaves
//! the thread. Requests come over a bounded channel (senders wait when it is full) and are
//! answered over oneshot channels.
//!
//! Changes sent with [`Handle::write`] are taken in batches, as many as are waiting: a batch is
//! one `BEGIN IMMEDIATE … COMMIT`. If a change fails, the batch is written again with a savepoint
//! around each change, so that only the failing one is undone and its outcome says why; the
//! others commit. Event ids come from the `event_ids` row, read at the start of the batch and
//! written back before the commit, so the ids a batch hands out are exactly the ones it commits.
//! Once a batch has committed, its events go to the publisher, then each change is answered.
//!
//! Rows are read by column name.

use crate::checkpoint::{self, Checkpoints};
use crate::Location;
use model::{Job, JobStatus, KindPause, LogLine, Notice, Progress, UserId};
use rusqlite::{
    named_params, params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior,
};
use std::sync::Arc;
use store_core::batch::{
    self, apply_changes, ready, BatchSql, Failure, LogSeq, Move, Retry, RunningCounts, Transaction,
    MAX_BATCH,
};
use store_core::search::{self, Indexer};
use store_core::sql::Dialect;
use store_core::{
    said_column, Applied, BatchHook, BatchStats, Candidate, Change, CommittedEvent, ExternalState,
    JobRow, Publish, ScheduleRow, SessionRow, StartKey, StoreError, StoreResult, CLAIM_SCAN,
    JOB_COLUMNS, OWNER_SCAN,
};
use tokio::sync::{mpsc, oneshot};

/// A request to the writer thread.
#[allow(clippy::large_enum_variant)] // short-lived, one per change: not worth an allocation
enum Request {
    /// One change, batched with those waiting next to it.
    Write(Change),
    /// Answered once everything sent before it is written.
    Flush(oneshot::Sender<()>),
    /// Where committed events go from now on.
    Publish(Publish),
    Apply(Vec<Change>, oneshot::Sender<StoreResult<Applied>>),
    Reserve(oneshot::Sender<StoreResult<i64>>),
    Probe(oneshot::Sender<StoreResult<()>>),
    Session(SessionWrite, oneshot::Sender<StoreResult<u64>>),
    Import(String, Vec<Job>, oneshot::Sender<StoreResult<()>>),
    /// Writes the jobs queued for the search index into it now.
    Index(oneshot::Sender<StoreResult<u64>>),
}

enum SessionWrite {
    Create(SessionRow),
    Save(SessionRow),
    Delete(String),
    DeleteExpired(i64),
}

/// Sends requests to the writer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
    /// Where committed batches are reported.
    pub batches: BatchHook,
    /// The checkpoints of the database's log done so far.
    #[cfg(test)]
    pub checkpoints: Arc<Checkpoints>,
}

impl Handle {
    /// Opens the writer's connection and starts its thread. Fails if the file cannot be opened
    /// for writing.
    pub fn start(location: &Location, exclusive: bool) -> Result<Handle, String> {
        let db = open(location).map_err(|e| e.to_string())?;
        let checkpoints = Arc::new(Checkpoints::default());
        // Checkpoints run on a thread of their own (see `checkpoint`); a read-only file has none.
        let hook = match location.read_only {
            true => None,
            false => Some(checkpoint::install(
                &db,
                &location.path,
                checkpoint::CHECKPOINT_PAGES,
                checkpoints.clone(),
            )),
        };
        let (tx, rx) = mpsc::channel(8192);
        let batches = BatchHook::default();
        let handle = Handle {
            tx,
            batches: batches.clone(),
            #[cfg(test)]
            checkpoints: checkpoints.clone(),
        };
        std::thread::Builder::new()
            .name("headway-writer".into())
            .spawn(move || {
                Thread {
                    db,
                    _checkpoints: hook,
                    batches,
                    publish: None,
                    next_id: None,
                    exclusive,
                    indexer: Indexer::default(),
                }
                .run(rx)
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(handle)
    }

    /// Queues a change for the next batch.
    pub async fn write(&self, change: Change) -> StoreResult<()> {
        self.tx
            .send(Request::Write(change))
            .await
            .map_err(|_| stopped())
    }

    /// Returns once everything sent before is written (or failed).
    pub async fn flush(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Request::Flush(reply)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether the writer answers: it has taken and answered a request sent now.
    pub async fn alive(&self) -> bool {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Request::Flush(reply)).await.is_ok() && rx.await.is_ok()
    }

    /// Sends the events of every batch written from now on to `publish`.
    pub async fn publish_to(&self, publish: Publish) -> StoreResult<()> {
        self.tx
            .send(Request::Publish(publish))
            .await
            .map_err(|_| stopped())
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Request,
    ) -> StoreResult<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(request(reply)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    pub async fn apply(&self, changes: Vec<Change>) -> StoreResult<Applied> {
        self.ask(|reply| Request::Apply(changes, reply)).await
    }

    pub async fn reserve_event_id(&self) -> StoreResult<i64> {
        self.ask(Request::Reserve).await
    }

    /// Proves that the database takes writes: writes the floor of event ids as it is.
    pub async fn probe(&self) -> StoreResult<()> {
        self.ask(Request::Probe).await
    }

    pub async fn create_session(&self, row: SessionRow) -> StoreResult<bool> {
        self.ask(|reply| Request::Session(SessionWrite::Create(row), reply))
            .await
            .map(|n| n == 1)
    }

    pub async fn save_session(&self, row: SessionRow) -> StoreResult<()> {
        self.ask(|reply| Request::Session(SessionWrite::Save(row), reply))
            .await
            .map(drop)
    }

    pub async fn delete_session(&self, id: String) -> StoreResult<()> {
        self.ask(|reply| Request::Session(SessionWrite::Delete(id), reply))
            .await
            .map(drop)
    }

    pub async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        self.ask(|reply| Request::Session(SessionWrite::DeleteExpired(now), reply))
            .await
    }

    pub async fn import_history(&self, owner: String, jobs: Vec<Job>) -> StoreResult<()> {
        self.ask(|reply| Request::Import(owner, jobs, reply)).await
    }

    /// Writes the ended jobs queued for the search index into it; how many.
    pub async fn index_search(&self) -> StoreResult<u64> {
        self.ask(Request::Index).await
    }
}

fn stopped() -> StoreError {
    StoreError::msg("the database writer has stopped")
}

fn open(location: &Location) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
    flags |= if location.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let db = Connection::open_with_flags(&location.path, flags)?;
    db.busy_timeout(crate::BUSY_TIMEOUT)?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    // A savepoint's undo pages stay in memory rather than in a temporary file.
    db.pragma_update(None, "temp_store", "MEMORY")?;
    // 16 MiB of page cache (SQLite's default is 2 MiB): the jobs table's eleven indexes and the
    // events' stay in memory under a long queue instead of being read again from the file.
    db.pragma_update(None, "cache_size", -16384)?;
    db.set_prepared_statement_cache_capacity(64);
    Ok(db)
}

struct Thread {
    db: Connection,
    /// After `db`, so that it is dropped after the connection that calls it.
    _checkpoints: Option<checkpoint::Hook>,
    batches: BatchHook,
    publish: Option<Publish>,
    /// A server's writer is the only one that hands out event ids (the lock file keeps other
    /// servers off the database): it carries the next id from one batch to the next instead of
    /// reading it again. `None` when it must be read (at first, after a failure, or always for a
    /// tool sharing the database).
    next_id: Option<i64>,
    exclusive: bool,
    /// When the jobs queued for the search index are written into it.
    indexer: Indexer,
}

impl Thread {
    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut waiting = Vec::with_capacity(MAX_BATCH);
        let mut writes = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.blocking_recv() {
            waiting.push(first);
            while waiting.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(request) => waiting.push(request),
                    Err(_) => break,
                }
            }
            // In the order they came: consecutive writes make one batch.
            for request in waiting.drain(..) {
                match request {
                    Request::Write(write) => writes.push(write),
                    other => {
                        self.write_waiting(&mut writes);
                        self.answer(other);
                    }
                }
            }
            self.write_waiting(&mut writes);
            if self.indexer.due(std::time::Instant::now()) {
                if let Err(e) = self.index_search() {
                    tracing::warn!(error = %e, "writing ended jobs into the search index failed; they are searched where they are until the next try");
                }
            }
        }
    }

    /// Writes the waiting changes as one batch, publishes their events, answers their senders.
    fn write_waiting(&mut self, changes: &mut Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        let (started, n) = (std::time::Instant::now(), changes.len());
        match self.apply(changes) {
            Ok(Applied { events, head, .. }) => {
                self.batches.report(BatchStats {
                    changes: n,
                    events: events.len(),
                    took: started.elapsed(),
                });
                if let Some(publish) = &self.publish {
                    publish(events, head);
                }
                for change in changes.iter_mut() {
                    change.settle(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "writing a batch of job changes failed; it was rolled back");
                let e = StoreError::new("writing a batch", e);
                for change in changes.iter_mut() {
                    change.settle(Err(&e));
                }
            }
        }
        changes.clear();
    }

    fn answer(&mut self, request: Request) {
        match request {
            Request::Write(_) => unreachable!("writes are batched"),
            Request::Flush(reply) => {
                let _ = reply.send(());
            }
            Request::Publish(publish) => self.publish = Some(publish),
            Request::Apply(mut changes, reply) => {
                let applied = self
                    .apply(&mut changes)
                    .map_err(|e| StoreError::new("writing a batch", e));
                for change in &mut changes {
                    change.settle(applied.as_ref().map(|_| ()));
                }
                let _ = reply.send(applied);
            }
            Request::Probe(reply) => {
                let _ = reply.send(self.probe().map_err(|e| StoreError::new("writing", e)));
            }
            Request::Reserve(reply) => {
                let _ = reply.send(
                    self.reserve()
                        .map_err(|e| StoreError::new("allocating an event id", e)),
                );
            }
            Request::Session(write, reply) => {
                let _ = reply.send(
                    self.session(write)
                        .map_err(|e| StoreError::new("writing a session", e)),
                );
            }
            Request::Index(reply) => {
                let _ = reply.send(
                    self.index_search()
                        .map_err(|e| StoreError::new("writing the search index", e)),
                );
            }
            Request::Import(owner, jobs, reply) => {
                let _ = reply.send(
                    self.import(&owner, &jobs)
                        .map_err(|e| StoreError::new("importing jobs", e)),
                );
            }
        }
    }

    /// Writes a batch in one transaction ([`batch::write_batch`]: again change by change if one
    /// of them fails).
    fn apply(&mut self, changes: &mut [Change]) -> rusqlite::Result<Applied> {
        ready(batch::write_batch(self, changes))
    }

    fn probe(&mut self) -> rusqlite::Result<()> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        set_last_event_id(&tx, last_event_id(&tx)?)?;
        tx.commit()
    }

    /// Writes the jobs queued for the search index into it, in one transaction.
    fn index_search(&mut self) -> rusqlite::Result<u64> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let queued = search::index_queued(Dialect::Sqlite);
        let mut written = 0;
        for (i, statement) in queued.statements.iter().enumerate() {
            let n = tx.prepare_cached(statement)?.execute([])?;
            if i == queued.counted {
                written = n as u64;
            }
        }
        tx.commit()?;
        Ok(written)
    }

    fn reserve(&mut self) -> rusqlite::Result<i64> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.next_id = None;
        let id = last_event_id(&tx)? + 1;
        set_last_event_id(&tx, id)?;
        tx.commit()?;
        Ok(id)
    }

    fn session(&mut self, write: SessionWrite) -> rusqlite::Result<u64> {
        let db = &self.db;
        let n = match write {
            SessionWrite::Create(r) => db
                .prepare_cached(
                    "INSERT OR IGNORE INTO tower_sessions (id, data, expiry_date, user) \
                     VALUES (:id, :data, :expires_at, :user)",
                )?
                .execute(named_params! {":id": r.id, ":data": r.data, ":expires_at": r.expires_at, ":user": r.user})?,
            SessionWrite::Save(r) => db
                .prepare_cached(
                    "INSERT INTO tower_sessions (id, data, expiry_date, user) \
                     VALUES (:id, :data, :expires_at, :user) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_date = excluded.expiry_date, \
                         user = excluded.user",
                )?
                .execute(named_params! {":id": r.id, ":data": r.data, ":expires_at": r.expires_at, ":user": r.user})?,
            SessionWrite::Delete(id) => db.prepare_cached("DELETE FROM tower_sessions WHERE id = ?")?.execute([id])?,
            SessionWrite::DeleteExpired(now) => {
                db.prepare_cached("DELETE FROM tower_sessions WHERE expiry_date < ?")?.execute([now])?
            }
        };
        Ok(n as u64)
    }

    /// Finished jobs inserted as they are: one multi-row statement per few hundred jobs.
    fn import(&mut self, owner: &str, jobs: &[Job]) -> rusqlite::Result<()> {
        const PER_STATEMENT: usize = 256;
        const COLUMNS: usize = 21;
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.next_id = None;
        let mut highest = last_event_id(&tx)?;
        for chunk in jobs.chunks(PER_STATEMENT) {
            let values =
                vec![format!("({})", vec!["?"; COLUMNS].join(", ")); chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                     error_code, error_message, created_at, started_at, finished_at, event_id, timeout_ms, \
                     origin, progress_at, said, error_said) VALUES {values}"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut i = 0;
            let mut bind = |stmt: &mut rusqlite::CachedStatement<'_>,
                            v: &dyn rusqlite::ToSql|
             -> rusqlite::Result<()> {
                i += 1;
                stmt.raw_bind_parameter(i, v)
            };
            for job in chunk {
                highest = highest.max(job.event_id);
                bind(&mut stmt, &job.id.as_str())?;
                bind(&mut stmt, &owner)?;
                bind(&mut stmt, &job.kind)?;
                bind(&mut stmt, &job.params.to_string())?;
                bind(&mut stmt, &job.status.as_str())?;
                bind(&mut stmt, &(job.progress.current as i64))?;
                bind(&mut stmt, &job.progress.total.map(|t| t as i64))?;
                bind(&mut stmt, &job.progress.unit)?;
                bind(&mut stmt, &job.progress.message)?;
                bind(&mut stmt, &job.progress.level.as_str())?;
                bind(&mut stmt, &job.error.as_ref().map(|e| e.code.as_str()))?;
                bind(&mut stmt, &job.error.as_ref().map(|e| e.message.as_str()))?;
                bind(&mut stmt, &job.created_at)?;
                bind(&mut stmt, &job.started_at)?;
                bind(&mut stmt, &job.finished_at)?;
                bind(&mut stmt, &job.event_id)?;
                bind(&mut stmt, &job.timeout_ms.map(|t| t as i64))?;
                bind(&mut stmt, &job.origin.as_deref())?;
                bind(&mut stmt, &job.progress.at)?;
                bind(&mut stmt, &said_column(job.progress.said.as_ref()))?;
                bind(
                    &mut stmt,
                    &said_column(job.error.as_ref().and_then(|e| e.said.as_ref())),
                )?;
            }
            stmt.raw_execute()?;
        }
        set_last_event_id(&tx, highest)?;
        tx.commit()
    }
}

impl Transaction for Thread {
    type Error = rusqlite::Error;

    async fn attempt(
        &mut self,
        changes: &mut [Change],
        careful: bool,
    ) -> Result<Applied, Failure<rusqlite::Error>> {
        let known = self.next_id.take().filter(|_| self.exclusive);
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let first = match known {
            Some(next) => next,
            None => last_event_id(&tx)? + 1,
        };
        let written = ready(apply_changes(&mut Statements(&tx), first, changes, careful))?;
        if written.unstored_ids {
            set_last_event_id(&tx, written.head)?;
        }
        tx.commit()?;
        self.next_id = Some(written.head + 1);
        Ok(Applied {
            failed: written.failed,
            events: written.events,
            head: written.head,
        })
    }
}

/// The highest event id allocated: the newest stored event's, or the floor kept in `event_ids`
/// for ids that are not stored as events (notices, a server's `version` event) or were pruned.
/// Reading it is two index seeks; a batch of job events writes no counter.
fn last_event_id(db: &Connection) -> rusqlite::Result<i64> {
    db.prepare_cached(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), \
                    COALESCE((SELECT last FROM event_ids WHERE one = 1), 0)) AS last",
    )?
    .query_row([], |r| r.get("last"))
}

/// Raises the floor of event ids to `last`.
fn set_last_event_id(tx: &Connection, last: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO event_ids (one, last) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET last = excluded.last")?
        .execute([last])?;
    Ok(())
}

/// A batch's statements on the writer's connection, run synchronously: each is prepared once
/// and kept.
struct Statements<'a>(&'a Connection);

impl Statements<'_> {
    /// The job `sql` reads (its owner first, then [`store_core::JOB_COLUMNS`]), with its owner.
    /// A row whose ids do not parse is passed over: nothing can act on it.
    fn owned_job(
        &mut self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> rusqlite::Result<Option<(UserId, Job)>> {
        let row = self
            .0
            .prepare_cached(sql)?
            .query_row(params, |r| {
                let owner: String = r.get("owner")?;
                Ok((owner, job_row(r)?))
            })
            .optional()?;
        Ok(
            row.and_then(|(owner, row)| {
                Some((UserId::try_from(owner).ok()?, row.try_into().ok()?))
            }),
        )
    }
}

impl BatchSql for Statements<'_> {
    type Error = rusqlite::Error;
    /// One process writes the database: notices reach its streams as they are published.
    const STORES_NOTICE_EVENTS: bool = false;

    async fn queued_of(&mut self, owner: &str, up_to: u64) -> rusqlite::Result<u64> {
        // From the counts the triggers keep exact in this same transaction: a row per kind of
        // the owner's, not a row per queued job.
        let n: i64 = self
            .0
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE owner = ? AND status = 'queued'",
            )?
            .query_row(params![owner], |r| r.get(0))?;
        Ok((n.max(0) as u64).min(up_to))
    }

    async fn insert_job(&mut self, owner: &str, job: &Job) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                     created_at, event_id, timeout_ms, origin, run_after, max_attempts, schedule_id, \
                     scheduled_for, priority, rank, after_jobs, needs_left, parent_id, step, started_by, said) \
                 VALUES (:id, :owner, :kind, :params, :status, :current, :total, :unit, :message, :level, \
                     :created_at, :event_id, :timeout_ms, :origin, :run_after, :max_attempts, :schedule_id, \
                     :scheduled_for, :priority, :rank, :after_jobs, :needs_left, :parent_id, :step, :started_by, \
                     :said)",
            )?
            .execute(named_params! {
                ":id": job.id.as_str(),
                ":owner": owner,
                ":kind": job.kind,
                ":params": job.params.to_string(),
                ":status": job.status.as_str(),
                ":current": job.progress.current as i64,
                ":total": job.progress.total.map(|t| t as i64),
                ":unit": job.progress.unit,
                ":message": job.progress.message,
                ":level": job.progress.level.as_str(),
                ":created_at": job.created_at,
                ":event_id": job.event_id,
                ":timeout_ms": job.timeout_ms.map(|t| t as i64),
                ":origin": job.origin.as_deref(),
                ":run_after": job.run_after,
                ":max_attempts": job.max_attempts as i64,
                ":schedule_id": job.schedule_id.as_deref(),
                ":scheduled_for": job.scheduled_for,
                ":priority": job.priority.level(),
                ":rank": job.rank(),
                ":after_jobs": store_core::after_column(job.after.as_ref()),
                ":needs_left": job.after.as_ref().map_or(0, |a| a.left),
                ":parent_id": job.parent.as_deref(),
                ":step": job.step.as_deref(),
                ":started_by": job.started_by.as_ref().map(model::Actor::stored),
                ":said": said_column(job.progress.said.as_ref()),
            })?;
        Ok(())
    }

    async fn started_with(
        &mut self,
        owner: &str,
        key: &str,
        since: i64,
    ) -> rusqlite::Result<Option<(String, Job)>> {
        let sql = format!(
            "SELECT k.fingerprint AS fingerprint, {JOB_COLUMNS} FROM jobs, \
                 (SELECT fingerprint, job_id FROM start_keys \
                  WHERE owner = :owner AND key = :key AND created_at >= :since) k \
             WHERE jobs.id = k.job_id"
        );
        self.0
            .prepare_cached(&sql)?
            .query_row(
                named_params! {":owner": owner, ":key": key, ":since": since},
                |r| Ok((r.get("fingerprint")?, job(r)?)),
            )
            .optional()
    }

    async fn keep_start_key(
        &mut self,
        owner: &str,
        key: &StartKey,
        job_id: &str,
        at: i64,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO start_keys (owner, key, fingerprint, job_id, created_at) \
                 VALUES (:owner, :key, :fingerprint, :job_id, :at) \
                 ON CONFLICT (owner, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                     job_id = excluded.job_id, created_at = excluded.created_at",
            )?
            .execute(named_params! {
                ":owner": owner,
                ":key": key.key,
                ":fingerprint": key.fingerprint,
                ":job_id": job_id,
                ":at": at,
            })?;
        Ok(())
    }

    async fn forget_start_keys(&mut self, before: i64) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("DELETE FROM start_keys WHERE created_at < ?")?
            .execute([before])?;
        Ok(())
    }

    async fn move_job(&mut self, m: &Move<'_>) -> rusqlite::Result<Option<Job>> {
        // The names are fixed identifiers from the enum, never user input; one statement per
        // target status.
        let from = m
            .from
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE jobs SET status = :to, \
                 started_at = CASE WHEN :to = 'running' THEN COALESCE(started_at, :at) ELSE started_at END, \
                 finished_at = CASE WHEN :terminal THEN :at ELSE NULL END, \
                 error_code = :code, error_message = :message, error_said = :said, event_id = :event_id, \
                 claimed_by = CASE WHEN :to = 'running' THEN :fence WHEN :to = 'queued' THEN NULL ELSE claimed_by END, \
                 cancelled_by = COALESCE(:by, cancelled_by) \
             WHERE id = :id AND status IN ({from}) AND (:to = 'running' OR :fence IS NULL OR claimed_by = :fence) \
               AND NOT (:to = 'succeeded' AND plan IS NULL AND steps_succeeded < steps_made) \
             RETURNING {JOB_COLUMNS}"
        );
        self.0
            .prepare_cached(&sql)?
            .query_row(
                named_params! {
                    ":to": m.to.as_str(),
                    ":at": m.at,
                    ":terminal": m.to.is_terminal(),
                    ":code": m.error.map(|e| e.code.as_str()),
                    ":message": m.error.map(|e| e.message.as_str()),
                    ":said": said_column(m.error.and_then(|e| e.said.as_ref())),
                    ":event_id": m.event_id,
                    ":id": m.job_id,
                    ":fence": m.fence,
                    ":by": m.by,
                },
                job,
            )
            .optional()
    }

    async fn retry_job(&mut self, r: &Retry<'_>) -> rusqlite::Result<Option<Job>> {
        // Every expression reads the row as it was: the attempt recorded is the one that ended.
        let sql = format!(
            "UPDATE jobs SET status = 'queued', \
                 attempts = json_insert(COALESCE(attempts, '[]'), '$[#]', json_object('n', attempt, \
                     'started_at', started_at, 'finished_at', :at, \
                     'error', json_object('code', :code, 'message', :message, 'said', json(:said)), \
                     'on', claimed_by)), \
                 attempt = attempt + 1, run_after = :next_at, started_at = NULL, finished_at = NULL, \
                 error_code = :code, error_message = :message, error_said = :said, event_id = :event_id, \
                 claimed_by = NULL, \
                 current = CASE WHEN :reset THEN 0 ELSE current END, \
                 total = CASE WHEN :reset THEN NULL ELSE total END, \
                 unit = CASE WHEN :reset THEN '' ELSE unit END, \
                 message = CASE WHEN :reset THEN '' ELSE message END, \
                 said = CASE WHEN :reset THEN NULL ELSE said END, \
                 level = CASE WHEN :reset THEN 'success' ELSE level END, \
                 progress_at = CASE WHEN :reset THEN NULL ELSE progress_at END \
             WHERE id = :id AND status = 'running' AND attempt < max_attempts \
               AND (:fence IS NULL OR claimed_by = :fence) \
             RETURNING {JOB_COLUMNS}"
        );
        self.0
            .prepare_cached(&sql)?
            .query_row(
                named_params! {
                    ":at": r.at,
                    ":code": r.error.code,
                    ":message": r.error.message,
                    ":said": said_column(r.error.said.as_ref()),
                    ":next_at": r.next_at,
                    ":event_id": r.event_id,
                    ":reset": r.reset_progress,
                    ":id": r.job_id,
                    ":fence": r.fence,
                },
                job,
            )
            .optional()
    }

    async fn record_progress(
        &mut self,
        job_id: &str,
        p: &Progress,
        event_id: i64,
        fence: Option<&str>,
    ) -> rusqlite::Result<Option<Option<String>>> {
        self.0
            .prepare_cached(
                "UPDATE jobs SET current = :current, total = :total, unit = :unit, message = :message, \
                     said = :said, level = :level, event_id = :event_id, progress_at = :at \
                 WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence) \
                 RETURNING parent_id",
            )?
            .query_row(named_params! {
                ":current": p.current as i64,
                ":total": p.total.map(|t| t as i64),
                ":unit": p.unit,
                ":message": p.message,
                ":said": said_column(p.said.as_ref()),
                ":level": p.level.as_str(),
                ":event_id": event_id,
                ":at": p.at,
                ":id": job_id,
                ":fence": fence,
            }, |r| r.get(0))
            .optional()
    }

    async fn next_log_seq(
        &mut self,
        job_id: &str,
        event_id: i64,
        fence: Option<&str>,
        bytes: i64,
        max_bytes: i64,
    ) -> rusqlite::Result<Option<LogSeq>> {
        // Every expression reads the row as it was: a line past the bound is only counted.
        self.0
            .prepare_cached(
                "UPDATE jobs SET log_bytes = log_bytes + :bytes, \
                     log_seq = log_seq + (log_bytes < :max), \
                     event_id = CASE WHEN log_bytes < :max THEN :event_id ELSE event_id END \
                 WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence) \
                 RETURNING log_seq, attempt, log_bytes - :bytes AS bytes_before",
            )?
            .query_row(
                named_params! {
                    ":event_id": event_id, ":id": job_id, ":fence": fence,
                    ":bytes": bytes, ":max": max_bytes,
                },
                |r| {
                    Ok(LogSeq {
                        seq: r.get("log_seq")?,
                        attempt: r.get("attempt")?,
                        bytes_before: r.get("bytes_before")?,
                    })
                },
            )
            .optional()
    }

    async fn outputs_of(
        &mut self,
        job_id: &str,
        fence: Option<&str>,
    ) -> rusqlite::Result<Option<Option<String>>> {
        self.0
            .prepare_cached(
                "SELECT outputs FROM jobs \
                 WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence)",
            )?
            .query_row(named_params! {":id": job_id, ":fence": fence}, |r| {
                r.get("outputs")
            })
            .optional()
    }

    async fn file_bytes(&mut self, owner: &str) -> rusqlite::Result<i64> {
        Ok(self
            .0
            .prepare_cached(batch::FILE_BYTES)?
            .query_row(params![owner], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    async fn attach(
        &mut self,
        job_id: &str,
        outputs: Option<&str>,
        result: Option<&str>,
        event_id: i64,
        fence: Option<&str>,
    ) -> rusqlite::Result<Option<Job>> {
        let sql = format!(
            "UPDATE jobs SET outputs = COALESCE(:outputs, outputs), result = COALESCE(:result, result), \
                 event_id = :event_id \
             WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence) \
             RETURNING {JOB_COLUMNS}"
        );
        self.0
            .prepare_cached(&sql)?
            .query_row(
                named_params! {
                    ":outputs": outputs,
                    ":result": result,
                    ":event_id": event_id,
                    ":id": job_id,
                    ":fence": fence,
                },
                job,
            )
            .optional()
    }

    async fn set_priority(
        &mut self,
        job_id: &str,
        priority: i64,
        event_id: i64,
    ) -> rusqlite::Result<Option<Job>> {
        // The right-hand sides read the row as it was: the rank moves by the old level less
        // the new one.
        let sql = format!(
            "UPDATE jobs SET rank = rank + (priority - :priority) * :step, priority = :priority, \
                 event_id = :event_id \
             WHERE id = :id AND status = 'queued' \
             RETURNING {JOB_COLUMNS}"
        );
        self.0
            .prepare_cached(&sql)?
            .query_row(
                named_params! {
                    ":priority": priority,
                    ":step": model::Priority::AGING_MS,
                    ":event_id": event_id,
                    ":id": job_id,
                },
                job,
            )
            .optional()
    }

    async fn save_checkpoint(
        &mut self,
        job_id: &str,
        value: &str,
        fence: Option<&str>,
    ) -> rusqlite::Result<bool> {
        let n = self
            .0
            .prepare_cached(
                "UPDATE jobs SET checkpoint = :value \
                 WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence)",
            )?
            .execute(named_params! {":value": value, ":id": job_id, ":fence": fence})?;
        Ok(n == 1)
    }

    /// The floor of ids moves to the newest event first, so that ids are never handed out
    /// again, however many events are deleted.
    async fn prune_events(&mut self, before_ms: i64, limit: u32) -> rusqlite::Result<Option<i64>> {
        let db = self.0;
        set_last_event_id(db, last_event_id(db)?)?;
        let last: Option<i64> = db
            .prepare_cached(
                "SELECT MAX(id) AS last FROM (SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?)",
            )?
            .query_row(params![before_ms, limit], |r| r.get("last"))?;
        if let Some(last) = last {
            db.prepare_cached("DELETE FROM events WHERE id <= ?")?
                .execute([last])?;
            db.prepare_cached(
                "UPDATE event_ids SET pruned_through = MAX(pruned_through, ?) WHERE one = 1",
            )?
            .execute([last])?;
        }
        Ok(last)
    }

    async fn insert_notice(&mut self, notice: &Notice) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("INSERT INTO notices (id, text, created_at) VALUES (?, ?, ?)")?
            .execute(params![notice.id, notice.text, notice.created_at])?;
        Ok(())
    }

    async fn withdraw_notices(&mut self, at: i64) -> rusqlite::Result<Vec<Notice>> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE notices SET withdrawn_at = ? WHERE withdrawn_at IS NULL RETURNING id, text, created_at",
        )?;
        let rows = stmt.query_map([at], |r| {
            Ok(Notice {
                id: r.get("id")?,
                text: r.get("text")?,
                created_at: r.get("created_at")?,
            })
        })?;
        rows.collect()
    }

    async fn put_schedule(&mut self, r: &ScheduleRow) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO schedules (id, owner, name, kind, params, cron, timezone, enabled, overlap, \
                     catch_up, max_attempts, next_fire_at, created_at, updated_at, priority) \
                 VALUES (:id, :owner, :name, :kind, :params, :cron, :timezone, :enabled, :overlap, \
                     :catch_up, :max_attempts, :next_fire_at, :created_at, :updated_at, :priority) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, params = excluded.params, \
                     cron = excluded.cron, \
                     timezone = excluded.timezone, enabled = excluded.enabled, overlap = excluded.overlap, \
                     catch_up = excluded.catch_up, max_attempts = excluded.max_attempts, \
                     next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at, \
                     priority = excluded.priority",
            )?
            .execute(named_params! {
                ":id": r.id.as_str(),
                ":owner": r.owner.as_str(),
                ":name": r.name,
                ":kind": r.kind,
                ":params": r.params,
                ":cron": r.cron,
                ":timezone": r.timezone,
                ":enabled": r.enabled,
                ":overlap": r.overlap,
                ":catch_up": r.catch_up,
                ":max_attempts": r.max_attempts,
                ":next_fire_at": r.next_fire_at,
                ":created_at": r.created_at,
                ":updated_at": r.updated_at,
                ":priority": r.priority.map(|p| p.level()),
            })?;
        Ok(())
    }

    async fn delete_schedule(&mut self, id: &str) -> rusqlite::Result<bool> {
        let n = self
            .0
            .prepare_cached("DELETE FROM schedules WHERE id = ?")?
            .execute([id])?;
        Ok(n == 1)
    }

    async fn advance_schedule(
        &mut self,
        id: &str,
        due: i64,
        next: Option<i64>,
    ) -> rusqlite::Result<Option<Option<String>>> {
        self.0
            .prepare_cached(
                "UPDATE schedules SET next_fire_at = :next, last_fire_at = :due \
                 WHERE id = :id AND enabled = 1 AND next_fire_at = :due RETURNING last_job_id",
            )?
            .query_row(named_params! {":next": next, ":due": due, ":id": id}, |r| {
                r.get("last_job_id")
            })
            .optional()
    }

    async fn external_state(
        &mut self,
        job_id: &str,
        fence: Option<&str>,
    ) -> rusqlite::Result<Option<ExternalState>> {
        let (sql, params) = match fence {
            Some(fence) => (batch::CLAIMED_STATE, vec![job_id, fence]),
            None => (batch::EXTERNAL_STATE, vec![job_id]),
        };
        self.0
            .prepare_cached(sql)?
            .query_row(rusqlite::params_from_iter(params), |r| {
                let status: String = r.get("status")?;
                Ok(ExternalState {
                    status: JobStatus::parse(&status).unwrap_or(JobStatus::Running),
                    log_seq: r.get("log_seq")?,
                    lease_until: r.get("lease_until")?,
                    event_id: r.get("event_id")?,
                })
            })
            .optional()
    }

    async fn end_hooks(&mut self) -> rusqlite::Result<Vec<store_core::HookMatch>> {
        self.0
            .prepare_cached(store_core::HookMatch::SELECT)?
            .query_map([true], |r| {
                let (scope, statuses, kinds): (String, String, String) =
                    (r.get("scope")?, r.get("statuses")?, r.get("kinds")?);
                let owner_state: Option<String> = r.get("owner_state")?;
                Ok(store_core::HookMatch::stored(
                    r.get("id")?,
                    r.get("owner")?,
                    &scope,
                    &statuses,
                    &kinds,
                    owner_state.as_deref(),
                ))
            })?
            .filter_map(Result::transpose)
            .collect()
    }

    async fn insert_delivery(&mut self, d: &store_core::NewDelivery) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(store_core::webhooks::INSERT_DELIVERY)?
            .execute(params![
                d.id.as_str(),
                d.webhook_id.as_str(),
                d.event,
                d.job_id.as_deref(),
                d.payload,
                d.created_at
            ])?;
        Ok(())
    }

    async fn set_lease(
        &mut self,
        job_id: &str,
        until: i64,
        hash: Option<&str>,
    ) -> rusqlite::Result<bool> {
        let n = self
            .0
            .prepare_cached(batch::SET_LEASE)?
            .execute(params![until, hash, job_id])?;
        Ok(n == 1)
    }

    async fn any_waiting(&mut self) -> rusqlite::Result<bool> {
        let n: i64 = self
            .0
            .prepare_cached(batch::ANY_WAITING)?
            .query_row([], |r| r.get(0))?;
        Ok(n > 0)
    }

    async fn need_status(&mut self, job_id: &str) -> rusqlite::Result<Option<JobStatus>> {
        let status: Option<String> = self
            .0
            .prepare_cached(batch::NEED_STATUS)?
            .query_row([job_id], |r| r.get(0))
            .optional()?;
        Ok(status.as_deref().map(store_core::stored_status))
    }

    async fn wait_for(&mut self, need_id: &str, job_id: &str) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(batch::WAIT_FOR)?
            .execute([need_id, job_id])?;
        Ok(())
    }

    async fn take_waiting(&mut self, need_id: &str) -> rusqlite::Result<Vec<String>> {
        self.0
            .prepare_cached(batch::TAKE_WAITING)?
            .query_map([need_id], |r| r.get(0))?
            .collect()
    }

    async fn waiting_job(&mut self, job_id: &str) -> rusqlite::Result<Option<(UserId, Job)>> {
        self.owned_job(batch::WAITING_JOB, [job_id])
    }

    async fn set_plan(
        &mut self,
        job_id: &str,
        plan: &str,
        made: i64,
        ended: i64,
        succeeded: i64,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(batch::SET_PLAN)?
            .execute(params![plan, made, ended, succeeded, job_id])?;
        Ok(())
    }

    async fn set_ended(
        &mut self,
        job_id: &str,
        started_at: Option<i64>,
        finished_at: Option<i64>,
        result: Option<String>,
        outputs: Option<String>,
    ) -> rusqlite::Result<()> {
        self.0.prepare_cached(batch::SET_ENDED)?.execute(params![
            started_at,
            finished_at,
            result,
            outputs,
            job_id
        ])?;
        Ok(())
    }

    async fn set_params(&mut self, job_id: &str, params: &str) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(batch::SET_PARAMS)?
            .execute(params![params, job_id])?;
        Ok(())
    }

    async fn run_of(&mut self, job_id: &str) -> rusqlite::Result<Option<batch::RunRow>> {
        self.0
            .prepare_cached(batch::RUN_OF)?
            .query_row([job_id], |r| {
                Ok(batch::RunRow {
                    params: r.get(0)?,
                    plan: r.get(1)?,
                })
            })
            .optional()
    }

    async fn steps_of(&mut self, job_id: &str) -> rusqlite::Result<Vec<batch::StepRow>> {
        let mut stmt = self.0.prepare_cached(batch::STEPS_OF)?;
        let rows = stmt.query_map([job_id], |r| {
            Ok(batch::StepRow {
                id: r.get(0)?,
                step: r.get(1)?,
                status: r.get(2)?,
                error_code: r.get(3)?,
                error_message: r.get(4)?,
                result: r.get(5)?,
                outputs: r.get(6)?,
            })
        })?;
        rows.collect()
    }

    async fn child_named(
        &mut self,
        parent: &str,
        name: &str,
    ) -> rusqlite::Result<Option<(UserId, Job)>> {
        self.owned_job(batch::CHILD_NAMED, [parent, name])
    }

    async fn count_child(
        &mut self,
        parent: &str,
        n: i64,
        fence: Option<&str>,
    ) -> rusqlite::Result<bool> {
        let counted = self
            .0
            .prepare_cached(batch::COUNT_CHILD)?
            .execute(params![n, parent, fence])?;
        Ok(counted > 0)
    }

    async fn await_children(
        &mut self,
        job_id: &str,
        plan: &str,
        fence: Option<&str>,
    ) -> rusqlite::Result<Option<Job>> {
        self.0
            .prepare_cached(batch::AWAIT_CHILDREN)?
            .query_row(params![plan, job_id, fence], job)
            .optional()
    }

    async fn items_made(&mut self, run_id: &str) -> rusqlite::Result<i64> {
        self.0
            .prepare_cached(batch::ITEMS_MADE)?
            .query_row([run_id], |row| row.get(0))
    }

    async fn tally_of(&mut self, job_id: &str) -> rusqlite::Result<Option<batch::TallyRow>> {
        self.0
            .prepare_cached(batch::TALLY_OF)?
            .query_row([job_id], tally_row)
            .optional()
    }

    async fn steps_ended(
        &mut self,
        job_id: &str,
        ended: i64,
        succeeded: i64,
    ) -> rusqlite::Result<Option<batch::TallyRow>> {
        self.0
            .prepare_cached(batch::STEPS_ENDED)?
            .query_row(params![ended, succeeded, job_id], tally_row)
            .optional()
    }

    async fn need_met(
        &mut self,
        job_id: &str,
        rank: i64,
        event_id: i64,
    ) -> rusqlite::Result<Option<Job>> {
        let row = self
            .0
            .prepare_cached(batch::NEED_MET)?
            .query_row(params![rank, event_id, job_id], job_row)
            .optional()?;
        Ok(row.and_then(|row| row.try_into().ok()))
    }

    async fn job_active(&mut self, job_id: &str) -> rusqlite::Result<bool> {
        let active: Option<bool> = self
            .0
            .prepare_cached(
                "SELECT status IN ('queued', 'running', 'cancelling') AS active FROM jobs WHERE id = ?",
            )?
            .query_row([job_id], |r| r.get("active"))
            .optional()?;
        Ok(active.unwrap_or(false))
    }

    async fn schedule_started(&mut self, id: &str, job_id: &str) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("UPDATE schedules SET last_job_id = ? WHERE id = ?")?
            .execute([job_id, id])?;
        Ok(())
    }

    async fn schedule_fired(
        &mut self,
        id: &str,
        job_id: Option<&str>,
        why: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "UPDATE schedules SET last_job_id = COALESCE(?, last_job_id), last_skip = ? \
                 WHERE id = ?",
            )?
            .execute(params![job_id, why, id])?;
        Ok(())
    }

    async fn pause_kind(&mut self, kind: &str, by: &str, at: i64) -> rusqlite::Result<KindPause> {
        self.0
            .prepare_cached(
                "INSERT INTO kind_pauses (kind, paused_by, paused_at) VALUES (?, ?, ?) \
                 ON CONFLICT (kind) DO NOTHING",
            )?
            .execute(params![kind, by, at])?;
        self.0
            .prepare_cached("SELECT kind, paused_by, paused_at FROM kind_pauses WHERE kind = ?")?
            .query_row([kind], |r| {
                Ok(KindPause {
                    kind: r.get("kind")?,
                    paused_by: r.get("paused_by")?,
                    paused_at: r.get("paused_at")?,
                })
            })
    }

    async fn resume_kind(&mut self, kind: &str) -> rusqlite::Result<bool> {
        let n = self
            .0
            .prepare_cached("DELETE FROM kind_pauses WHERE kind = ?")?
            .execute([kind])?;
        Ok(n == 1)
    }

    async fn paused_kinds(&mut self) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self.0.prepare_cached("SELECT kind FROM kind_pauses")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    async fn running_counts(&mut self) -> rusqlite::Result<RunningCounts> {
        // From the `jobs_working` index alone: a claim reads as many index entries as jobs
        // hold a slot, not the history, nor the running jobs' rows.
        let mut stmt = self
            .0
            .prepare_cached(store_core::RUNNING_KINDS_AND_OWNERS)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(store_core::batch::count_running(
            rows.collect::<rusqlite::Result<Vec<_>>>()?,
        ))
    }

    async fn set_limits(&mut self) -> rusqlite::Result<Vec<store_core::limits::SetLimit>> {
        let mut stmt = self.0.prepare_cached(store_core::limits::SET_LIMITS)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(store_core::limits::set_limits(
            rows.collect::<rusqlite::Result<Vec<_>>>()?,
        ))
    }

    async fn put_limit(&mut self, limit: &store_core::limits::SetLimit) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(store_core::limits::PUT_LIMIT)?
            .execute(params![
                limit.limit.signature(),
                store_core::limits::limit_json(&limit.limit),
                limit.set_by,
                limit.set_at
            ])?;
        Ok(())
    }

    async fn delete_limit(&mut self, signature: &str) -> rusqlite::Result<bool> {
        let n = self
            .0
            .prepare_cached("DELETE FROM limits WHERE signature = ?")?
            .execute([signature])?;
        Ok(n == 1)
    }

    async fn running_keys(
        &mut self,
        kind: &str,
        param: Option<&str>,
    ) -> rusqlite::Result<Vec<(String, u32)>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT CASE WHEN ?2 IS NULL THEN owner ELSE COALESCE( \
               CASE json_type(params, '$.' || ?2) \
                 WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL \
                 ELSE CAST(json_extract(params, '$.' || ?2) AS TEXT) END, '') END AS key, \
               COUNT(*) FROM jobs WHERE {} AND kind = ?1 GROUP BY key",
            store_core::WORKING
        ))?;
        let rows = stmt.query_map(params![kind, param], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    async fn limit_uses(
        &mut self,
        signature: &str,
        since: i64,
    ) -> rusqlite::Result<Vec<(String, u32)>> {
        let mut stmt = self.0.prepare_cached(store_core::limits::LIMIT_USES)?;
        let rows = stmt.query_map(params![signature, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    async fn use_limit(&mut self, signature: &str, key: &str, at: i64) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("INSERT INTO limit_uses (signature, key, at) VALUES (?, ?, ?)")?
            .execute(params![signature, key, at])?;
        Ok(())
    }

    async fn forget_limit_uses(&mut self, signature: &str, before: i64) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("DELETE FROM limit_uses WHERE signature = ? AND at < ?")?
            .execute(params![signature, before])?;
        Ok(())
    }

    async fn claim_candidates(
        &mut self,
        kinds: &[String],
        slots: u32,
        scan: u32,
        now: i64,
        keyed: &[String],
        excluded: &str,
    ) -> rusqlite::Result<Vec<Candidate>> {
        let db = self.0;
        let kinds = serde_json::to_string(kinds).expect("kind names serialize");
        // Without keyed limits, the same parameters with nothing to do for each row.
        let (params_of, not_excluded) = match keyed.is_empty() {
            true => (NO_PARAMS, NONE_EXCLUDED),
            false => (PARAMS, NOT_EXCLUDED),
        };
        let ready = &*store_core::READY;
        let keyed = serde_json::to_string(keyed).expect("kind names serialize");
        let candidate = |r: &Row| {
            // By place (both queries select `seq, rank, priority, id, owner, kind, checkpoint,
            // params`):
            // a claim reads many rows, and a name is looked up among the columns for every
            // value.
            Ok(Candidate::stored(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        };
        // The first queued jobs by rank (priority, then age)...
        let mut candidates: Vec<Candidate> = db
            .prepare_cached(&format!(
                "SELECT seq, rank, priority, id, owner, kind, checkpoint, {params_of} FROM jobs \
                 WHERE status = 'queued' AND kind IN (SELECT value FROM json_each(:kinds)) \
                   AND (run_after IS NULL OR run_after <= :now) AND {ready} {not_excluded} \
                 ORDER BY rank, seq LIMIT :scan",
            ))?
            .query_map(
                named_params! {
                    ":kinds": kinds, ":scan": scan.min(CLAIM_SCAN), ":now": now,
                    ":keyed": keyed, ":excluded": excluded,
                },
                candidate,
            )?
            .filter_map(Result::transpose)
            .collect::<rusqlite::Result<_>>()?;
        // ...and each user's first, however far back in the queue they wait: the users with
        // queued jobs are found by skipping from one to the next along an index.
        let owners: Vec<String> = db
            .prepare_cached(
                "WITH RECURSIVE owners(owner, n) AS ( \
                   SELECT (SELECT owner FROM jobs WHERE status = 'queued' ORDER BY owner LIMIT 1), 1 \
                   UNION ALL \
                   SELECT (SELECT j.owner FROM jobs j WHERE j.status = 'queued' AND j.owner > o.owner \
                           ORDER BY j.owner LIMIT 1), o.n + 1 \
                   FROM owners o WHERE o.owner IS NOT NULL AND o.n < :owners) \
                 SELECT owner FROM owners WHERE owner IS NOT NULL",
            )?
            .query_map(named_params! {":owners": OWNER_SCAN}, |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut oldest_of = db.prepare_cached(&format!(
            "SELECT seq, rank, priority, id, owner, kind, checkpoint, {params_of} FROM jobs \
             WHERE status = 'queued' AND owner = :owner \
               AND kind IN (SELECT value FROM json_each(:kinds)) \
               AND (run_after IS NULL OR run_after <= :now) AND {ready} {not_excluded} \
             ORDER BY rank, seq LIMIT :slots",
        ))?;
        // A user with `slots` jobs among the oldest already has there the ones this would read.
        let mut read: std::collections::HashMap<&str, u32> = Default::default();
        for c in &candidates {
            *read.entry(c.owner.as_str()).or_default() += 1;
        }
        let owners: Vec<String> = owners
            .into_iter()
            .filter(|o| read.get(o.as_str()).is_none_or(|n| *n < slots))
            .collect();
        for owner in &owners {
            let rows = oldest_of.query_map(
                named_params! {
                    ":owner": owner, ":kinds": kinds, ":slots": slots, ":now": now,
                    ":keyed": keyed, ":excluded": excluded,
                },
                candidate,
            )?;
            for row in rows {
                candidates.extend(row?);
            }
        }
        Ok(candidates)
    }

    async fn insert_rows(
        &mut self,
        events: &[(&CommittedEvent, i64)],
        logs: &[LogLine],
    ) -> rusqlite::Result<()> {
        insert_many(
            self.0,
            "events (id, owner, job_id, type, data, at)",
            6,
            events,
            |stmt, p, (CommittedEvent { owner, event, .. }, at)| {
                stmt.raw_bind_parameter(p + 1, event.id)?;
                stmt.raw_bind_parameter(p + 2, owner.as_deref())?;
                stmt.raw_bind_parameter(p + 3, event.job_id.as_deref())?;
                stmt.raw_bind_parameter(p + 4, event.kind.as_str())?;
                stmt.raw_bind_parameter(p + 5, &event.data)?;
                stmt.raw_bind_parameter(p + 6, at)
            },
        )?;
        insert_many(
            self.0,
            "job_logs (job_id, seq, level, line, at, attempt)",
            6,
            logs,
            |stmt, p, log| {
                stmt.raw_bind_parameter(p + 1, log.job_id.as_str())?;
                stmt.raw_bind_parameter(p + 2, log.seq as i64)?;
                stmt.raw_bind_parameter(p + 3, log.level.as_str())?;
                stmt.raw_bind_parameter(p + 4, &log.line)?;
                stmt.raw_bind_parameter(p + 5, log.at)?;
                stmt.raw_bind_parameter(p + 6, log.attempt as i64)
            },
        )
    }

    async fn savepoint(&mut self) -> rusqlite::Result<()> {
        self.0.prepare_cached("SAVEPOINT change")?.execute([])?;
        Ok(())
    }

    async fn release(&mut self) -> rusqlite::Result<()> {
        self.0.prepare_cached("RELEASE change")?.execute([])?;
        Ok(())
    }

    async fn roll_back(&mut self) -> rusqlite::Result<()> {
        self.0.prepare_cached("ROLLBACK TO change")?.execute([])?;
        self.0.prepare_cached("RELEASE change")?.execute([])?;
        Ok(())
    }
}

/// Rows per multi-row `INSERT` at most; statements are made for powers of two up to it, so that
/// a handful of prepared statements serve every batch size.
const ROWS_PER_INSERT: usize = 256;

/// Inserts `rows` into `into` (`table (columns)`, `columns` of them) with multi-row `INSERT`s;
/// `bind` binds one row's values after parameter `p`.
fn insert_many<T>(
    db: &Connection,
    into: &str,
    columns: usize,
    rows: &[T],
    bind: impl Fn(&mut rusqlite::CachedStatement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let one = format!("({})", vec!["?"; columns].join(", "));
    let mut rest = rows;
    while !rest.is_empty() {
        let n = ROWS_PER_INSERT.min(1 << rest.len().ilog2());
        let (now, later) = rest.split_at(n);
        let values = vec![one.as_str(); n].join(", ");
        let mut stmt = db.prepare_cached(&format!("INSERT INTO {into} VALUES {values}"))?;
        for (k, row) in now.iter().enumerate() {
            bind(&mut stmt, k * columns, row)?;
        }
        stmt.raw_execute()?;
        rest = later;
    }
    Ok(())
}

/// The job a row holds; a row whose ids do not parse is corrupted, and fails the change as a
/// column that cannot be converted does.
fn job(r: &Row<'_>) -> rusqlite::Result<Job> {
    Job::try_from(job_row(r)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// The job columns of a row, by name.
fn job_row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get("id")?,
        kind: r.get("kind")?,
        params: r.get("params")?,
        status: r.get("status")?,
        current: r.get("current")?,
        total: r.get("total")?,
        unit: r.get("unit")?,
        message: r.get("message")?,
        level: r.get("level")?,
        error_code: r.get("error_code")?,
        error_message: r.get("error_message")?,
        created_at: r.get("created_at")?,
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
        event_id: r.get("event_id")?,
        timeout_ms: r.get("timeout_ms")?,
        origin: r.get("origin")?,
        progress_at: r.get("progress_at")?,
        run_after: r.get("run_after")?,
        attempt: r.get("attempt")?,
        max_attempts: r.get("max_attempts")?,
        attempts: r.get("attempts")?,
        schedule_id: r.get("schedule_id")?,
        scheduled_for: r.get("scheduled_for")?,
        outputs: r.get("outputs")?,
        result: r.get("result")?,
        priority: r.get("priority")?,
        after_jobs: r.get("after_jobs")?,
        needs_left: r.get("needs_left")?,
        parent_id: r.get("parent_id")?,
        step: r.get("step")?,
        started_by: r.get("started_by")?,
        cancelled_by: r.get("cancelled_by")?,
        said: r.get("said")?,
        error_said: r.get("error_said")?,
        ran_on: r.get("ran_on")?,
    })
}

/// [`PARAMS`] and [`NOT_EXCLUDED`] when no limit is keyed: no parameters, nothing left out.
const NO_PARAMS: &str = "CASE WHEN :keyed IS NULL THEN params END AS params";
const NONE_EXCLUDED: &str = "AND :excluded IS NOT NULL";

/// A candidate's parameters, read for the kinds with keyed limits alone (`:keyed`).
const PARAMS: &str =
    "CASE WHEN kind IN (SELECT value FROM json_each(:keyed)) THEN params END AS params";

/// Leaves out the jobs whose key is full (`:excluded`, `store_core::limits::Keyed::excluded`):
/// for each limit with full keys, the job's key is worked out once (a parameter's value as
/// `model::limits::key_text` writes it) and looked up among them.
const NOT_EXCLUDED: &str = "AND NOT EXISTS (SELECT 1 FROM json_each(:excluded) f \
     WHERE f.value ->> 0 = jobs.kind AND (f.value ->> 1 = 'k' \
       OR (CASE f.value ->> 1 WHEN 'o' THEN jobs.owner ELSE COALESCE( \
             CASE json_type(jobs.params, '$.' || (f.value ->> 2)) \
               WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL \
               ELSE CAST(json_extract(jobs.params, '$.' || (f.value ->> 2)) AS TEXT) END, '') END) \
          IN (SELECT value FROM json_each(f.value, '$[3]'))))";

/// A run's tally as [`batch::TALLY_OF`] and [`batch::STEPS_ENDED`] read it.
fn tally_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<batch::TallyRow> {
    Ok(batch::TallyRow {
        owner: r.get(0)?,
        status: r.get(1)?,
        parent_id: r.get(2)?,
        steps_made: r.get(3)?,
        steps_ended: r.get(4)?,
        steps_succeeded: r.get(5)?,
        shares: r.get(6)?,
        planned: r.get(7)?,
    })
}
