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

use super::Location;
use model::{
    DoneEvent, EventType, Job, JobError, JobStatus, Level, LogLevel, LogLine, Notice, Progress,
    ProgressEvent,
};
use rusqlite::{
    named_params, params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior,
};
use std::collections::HashMap;
use store::{
    now_ms, Applied, BatchHook, BatchStats, Candidate, Change, CommittedEvent, FairPick, Outcome,
    Publish, QueuedJob, SessionRow, StoreError, StoreResult, StoredEvent, Write, CLAIM_SCAN,
    OWNER_SCAN,
};
use tokio::sync::{mpsc, oneshot};

/// How many changes one transaction takes at most.
const MAX_BATCH: usize = 512;

/// A request to the writer thread.
#[allow(clippy::large_enum_variant)] // short-lived, one per change: not worth an allocation
enum Request {
    /// One change, batched with those waiting next to it.
    Write(Write),
    /// Answered once everything sent before it is written.
    Flush(oneshot::Sender<()>),
    /// Where committed events go from now on.
    Publish(Publish),
    Apply(Vec<Change>, oneshot::Sender<StoreResult<Applied>>),
    Reserve(oneshot::Sender<StoreResult<i64>>),
    Probe(oneshot::Sender<StoreResult<()>>),
    Session(SessionWrite, oneshot::Sender<StoreResult<u64>>),
    Import(String, Vec<Job>, oneshot::Sender<StoreResult<()>>),
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
}

impl Handle {
    /// Opens the writer's connection and starts its thread. Fails if the file cannot be opened
    /// for writing.
    pub fn start(location: &Location, exclusive: bool) -> Result<Handle, String> {
        let db = open(location).map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel(8192);
        let batches = BatchHook::default();
        let hook = batches.clone();
        std::thread::Builder::new()
            .name("headway-writer".into())
            .spawn(move || {
                Thread {
                    db,
                    batches: hook,
                    publish: None,
                    next_id: None,
                    exclusive,
                }
                .run(rx)
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Handle { tx, batches })
    }

    /// Queues a change for the next batch.
    pub async fn write(&self, write: Write) -> StoreResult<()> {
        self.tx
            .send(Request::Write(write))
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
}

fn stopped() -> StoreError {
    StoreError("the database writer has stopped".into())
}

fn open(location: &Location) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
    flags |= if location.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let db = Connection::open_with_flags(&location.path, flags)?;
    db.busy_timeout(super::BUSY_TIMEOUT)?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    // A savepoint's undo pages stay in memory rather than in a temporary file.
    db.pragma_update(None, "temp_store", "MEMORY")?;
    db.set_prepared_statement_cache_capacity(64);
    Ok(db)
}

struct Thread {
    db: Connection,
    batches: BatchHook,
    publish: Option<Publish>,
    /// A server's writer is the only one that hands out event ids (the lock file keeps other
    /// servers off the database): it carries the next id from one batch to the next instead of
    /// reading it again. `None` when it must be read (at first, after a failure, or always for a
    /// tool sharing the database).
    next_id: Option<i64>,
    exclusive: bool,
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
                        self.write_batch(&mut writes);
                        self.answer(other);
                    }
                }
            }
            self.write_batch(&mut writes);
        }
    }

    /// Writes the waiting changes as one batch, publishes their events, answers their senders.
    fn write_batch(&mut self, writes: &mut Vec<Write>) {
        if writes.is_empty() {
            return;
        }
        let (changes, replies): (Vec<Change>, Vec<_>) =
            writes.drain(..).map(|w| (w.change, w.reply)).unzip();
        let (started, n) = (std::time::Instant::now(), changes.len());
        match self.apply(changes) {
            Ok(Applied {
                outcomes,
                events,
                head,
            }) => {
                self.batches.report(BatchStats {
                    changes: n,
                    events: events.len(),
                    took: started.elapsed(),
                });
                if let Some(publish) = &self.publish {
                    publish(events, head);
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    if let Some(reply) = reply {
                        let _ = reply.send(outcome);
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "writing a batch of job changes failed; it was rolled back");
                let e = StoreError::new("writing a batch", e);
                for reply in replies.into_iter().flatten() {
                    let _ = reply.send(Outcome::Failed(e.clone()));
                }
            }
        }
    }

    fn answer(&mut self, request: Request) {
        match request {
            Request::Write(_) => unreachable!("writes are batched"),
            Request::Flush(reply) => {
                let _ = reply.send(());
            }
            Request::Publish(publish) => self.publish = Some(publish),
            Request::Apply(changes, reply) => {
                let _ = reply.send(
                    self.apply(changes)
                        .map_err(|e| StoreError::new("writing a batch", e)),
                );
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
            Request::Import(owner, jobs, reply) => {
                let _ = reply.send(
                    self.import(&owner, &jobs)
                        .map_err(|e| StoreError::new("importing jobs", e)),
                );
            }
        }
    }

    /// Writes a batch in one transaction. Changes are applied as they come, their events
    /// inserted together at the end; if one of them fails, the transaction is rolled back and
    /// the batch applied again with a savepoint around each change, so that the failing one is
    /// undone alone and the others commit.
    fn apply(&mut self, changes: Vec<Change>) -> rusqlite::Result<Applied> {
        match self.apply_batch(&changes, false) {
            Err(Failure::Change(e)) => {
                tracing::debug!(error = %e, "a change of a batch failed; writing it again change by change");
                self.apply_batch(&changes, true)
                    .map_err(Failure::into_inner)
            }
            other => other.map_err(Failure::into_inner),
        }
    }

    fn apply_batch(&mut self, changes: &[Change], careful: bool) -> Result<Applied, Failure> {
        let known = self.next_id.take().filter(|_| self.exclusive);
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut batch = Batch {
            next_id: match known {
                Some(next) => next,
                None => last_event_id(&tx)? + 1,
            },
            events: Vec::new(),
            rows: Vec::new(),
            careful,
            unstored_ids: false,
            queued: HashMap::new(),
        };
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            if !careful {
                outcomes.push(batch.apply(&tx, change).map_err(Failure::Change)?);
                continue;
            }
            let (next_id, events) = (batch.next_id, batch.events.len());
            tx.prepare_cached("SAVEPOINT change")?.execute([])?;
            match batch.apply(&tx, change) {
                Ok(outcome) => {
                    tx.prepare_cached("RELEASE change")?.execute([])?;
                    outcomes.push(outcome);
                }
                Err(e) => {
                    // Undo this change alone: its rows, its events and the ids it took.
                    tx.prepare_cached("ROLLBACK TO change")?.execute([])?;
                    tx.prepare_cached("RELEASE change")?.execute([])?;
                    batch.next_id = next_id;
                    batch.events.truncate(events);
                    tracing::error!(error = %e, "a change was refused by the database; the rest of its batch goes on");
                    outcomes.push(Outcome::Failed(StoreError::new(
                        "the database refused the change",
                        e,
                    )));
                }
            }
        }
        insert_events(&tx, &batch.events, &batch.rows)?;
        let head = batch.next_id - 1;
        if batch.unstored_ids {
            set_last_event_id(&tx, head)?;
        }
        tx.commit()?;
        self.next_id = Some(head + 1);
        Ok(Applied {
            outcomes,
            events: batch.events,
            head,
        })
    }

    fn probe(&mut self) -> rusqlite::Result<()> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        set_last_event_id(&tx, last_event_id(&tx)?)?;
        tx.commit()
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
        const COLUMNS: usize = 19;
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
                     origin, progress_at) VALUES {values}"
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
                bind(&mut stmt, &job.id)?;
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
                bind(&mut stmt, &job.origin)?;
                bind(&mut stmt, &job.progress.at)?;
            }
            stmt.raw_execute()?;
        }
        set_last_event_id(&tx, highest)?;
        tx.commit()
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

/// Why a batch was not written.
enum Failure {
    /// One change failed: the batch may be written again without it.
    Change(rusqlite::Error),
    /// The transaction itself failed.
    Batch(rusqlite::Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Batch(e)
    }
}

impl Failure {
    fn into_inner(self) -> rusqlite::Error {
        match self {
            Failure::Change(e) | Failure::Batch(e) => e,
        }
    }
}

/// The batch being written: the next event id to hand out and the events written so far.
struct Batch {
    next_id: i64,
    events: Vec<CommittedEvent>,
    /// The events to insert at the end of the batch (by index in `events`), with their times.
    rows: Vec<(usize, i64)>,
    /// Each change in a savepoint of its own: its events are inserted with it.
    careful: bool,
    /// Ids were handed out that are not stored as events (notices): the floor must move.
    unstored_ids: bool,
    /// Each owner's queued jobs, counted at their first start in the batch (no further than
    /// their share) and counting the starts written since: a flood of one user's starts costs
    /// one count per batch. Jobs leaving the queue in the batch are not subtracted: the count
    /// errs high, never low.
    queued: HashMap<String, u64>,
}

impl Batch {
    fn take_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Writes one change (inside its savepoint) and the events it makes.
    fn apply(&mut self, db: &Connection, change: &Change) -> rusqlite::Result<Outcome> {
        let at = now_ms();
        Ok(match change {
            Change::Create {
                owner,
                job,
                max_queued,
            } => {
                if let Some(max) = max_queued {
                    let waiting = match self.queued.get(owner) {
                        Some(n) => *n,
                        None => {
                            // Counted no further than the share: a flood costs no more to refuse.
                            let n: u64 = db
                                .prepare_cached(
                                    "SELECT COUNT(*) FROM (SELECT 1 FROM jobs \
                                     WHERE owner = ? AND status = 'queued' LIMIT ?)",
                                )?
                                .query_row(params![owner, *max], |r| r.get(0))?;
                            self.queued.insert(owner.clone(), n);
                            n
                        }
                    };
                    if waiting >= *max {
                        return Ok(Outcome::Full { waiting });
                    }
                }
                let mut job = job.clone();
                job.event_id = self.take_id();
                insert_job(db, owner, &job)?;
                if let Some(n) = self.queued.get_mut(owner) {
                    *n += 1;
                }
                self.event(
                    db,
                    Some(owner),
                    job.event_id,
                    Some(&job.id),
                    EventType::Job,
                    json(&job),
                    at,
                )?;
                Outcome::Job(Some(job))
            }
            Change::Transition {
                owner,
                job_id,
                to,
                error,
                fence,
            } => Outcome::Job(self.move_job(
                db,
                owner,
                job_id,
                *to,
                error.as_ref(),
                fence.as_deref(),
                at,
            )?),
            Change::Interrupt {
                owner,
                job_id,
                error,
                requeue,
                fence,
            } => {
                let fence = fence.as_deref();
                let interrupted = self.move_job(
                    db,
                    owner,
                    job_id,
                    JobStatus::Interrupted,
                    Some(error),
                    fence,
                    at,
                )?;
                match (interrupted, requeue) {
                    (Some(_), true) => Outcome::Job(self.move_job(
                        db,
                        owner,
                        job_id,
                        JobStatus::Queued,
                        None,
                        fence,
                        at,
                    )?),
                    (job, _) => Outcome::Job(job),
                }
            }
            Change::Claim {
                by,
                slots,
                kinds,
                limits,
                per_owner,
            } => Outcome::Claimed(self.claim(db, by, *slots, kinds, limits, *per_owner, at)?),
            Change::Progress {
                owner,
                job_id,
                progress,
                fence,
            } => {
                let id = self.take_id();
                if !record_progress(db, job_id, progress, id, fence.as_deref())? {
                    self.next_id = id;
                    return Ok(Outcome::Recorded(false));
                }
                let data = json(&ProgressEvent::new(job_id, progress));
                self.event(
                    db,
                    Some(owner),
                    id,
                    Some(job_id),
                    EventType::Progress,
                    data,
                    at,
                )?;
                Outcome::Recorded(true)
            }
            Change::Log {
                owner,
                job_id,
                level,
                line,
                fence,
            } => {
                let id = self.take_id();
                let Some(log) = append_log(db, job_id, *level, line, at, id, fence.as_deref())?
                else {
                    self.next_id = id;
                    return Ok(Outcome::Recorded(false));
                };
                self.event(
                    db,
                    Some(owner),
                    id,
                    Some(job_id),
                    EventType::Log,
                    json(&log),
                    at,
                )?;
                Outcome::Recorded(true)
            }
            Change::Together(changes) => {
                let mut last = Outcome::Recorded(true);
                for change in changes {
                    last = self.apply(db, change)?;
                }
                last
            }
            Change::Checkpoint {
                job_id,
                value,
                fence,
            } => {
                let n = db
                    .prepare_cached(
                        "UPDATE jobs SET checkpoint = :value \
                         WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence)",
                    )?
                    .execute(named_params! {":value": value.to_string(), ":id": job_id, ":fence": fence})?;
                Outcome::Recorded(n == 1)
            }
            Change::Prune { before_ms, limit } => {
                Outcome::Pruned(prune_events(db, *before_ms, *limit)?)
            }
            Change::PostNotice { text } => {
                let notice = Notice {
                    id: self.take_id(),
                    text: text.clone(),
                    created_at: at,
                };
                db.prepare_cached("INSERT INTO notices (id, text, created_at) VALUES (?, ?, ?)")?
                    .execute(params![notice.id, notice.text, notice.created_at])?;
                self.events.push(notice_event(notice.id, &notice));
                self.unstored_ids = true;
                Outcome::Notice(notice)
            }
            Change::WithdrawNotices => {
                let mut stmt = db.prepare_cached(
                    "UPDATE notices SET withdrawn_at = ? WHERE withdrawn_at IS NULL RETURNING id, text, created_at",
                )?;
                let withdrawn: Vec<Notice> = stmt
                    .query_map([at], |r| {
                        Ok(Notice {
                            id: r.get("id")?,
                            text: r.get("text")?,
                            created_at: r.get("created_at")?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                for notice in &withdrawn {
                    let gone = Notice {
                        text: String::new(),
                        ..notice.clone()
                    };
                    let id = self.take_id();
                    self.events.push(notice_event(id, &gone));
                    self.unstored_ids = true;
                }
                Outcome::Withdrawn(withdrawn.len())
            }
        })
    }

    /// Moves a job to `to` (if its status and the fence allow it) with its `job` event and, for
    /// a terminal status, its `done` event.
    #[allow(clippy::too_many_arguments)]
    fn move_job(
        &mut self,
        db: &Connection,
        owner: &str,
        job_id: &str,
        to: JobStatus,
        error: Option<&JobError>,
        fence: Option<&str>,
        at: i64,
    ) -> rusqlite::Result<Option<Job>> {
        let job_event = self.take_id();
        let done_event = to.is_terminal().then(|| self.take_id());
        let Some(job) = transition(
            db,
            job_id,
            to,
            error,
            at,
            done_event.unwrap_or(job_event),
            fence,
        )?
        else {
            self.next_id = job_event;
            return Ok(None);
        };
        let shown = Job {
            event_id: job_event,
            ..job.clone()
        };
        self.event(
            db,
            Some(owner),
            job_event,
            Some(job_id),
            EventType::Job,
            json(&shown),
            at,
        )?;
        if let Some(id) = done_event {
            let done = DoneEvent {
                job_id: job_id.to_string(),
                status: to,
                error: job.error.clone(),
            };
            self.event(
                db,
                Some(owner),
                id,
                Some(job_id),
                EventType::Done,
                json(&done),
                at,
            )?;
        }
        Ok(Some(job))
    }

    /// Takes up to `slots` queued jobs of `kinds` for process `by`, each slot for the user with
    /// the fewest jobs running ([`FairPick`]), past the kinds at their limit of jobs running
    /// anywhere and the users at `per_owner`.
    #[allow(clippy::too_many_arguments)]
    fn claim(
        &mut self,
        db: &Connection,
        by: &str,
        slots: u32,
        kinds: &[String],
        limits: &[(String, u32)],
        per_owner: u32,
        at: i64,
    ) -> rusqlite::Result<Vec<QueuedJob>> {
        let running = |column: &str| -> rusqlite::Result<HashMap<String, u32>> {
            let sql = format!(
                "SELECT {column} AS k, COUNT(*) AS n FROM jobs \
                 WHERE status IN ('running', 'cancelling') GROUP BY {column}"
            );
            let mut stmt = db.prepare_cached(&sql)?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>("k")?, r.get::<_, u32>("n")?))
            })?;
            rows.collect()
        };
        let (by_kind, by_owner) = (running("kind")?, running("owner")?);
        let kinds = json(&kinds);
        let candidate = |r: &Row| {
            Ok(Candidate {
                seq: r.get("seq")?,
                id: r.get("id")?,
                owner: r.get("owner")?,
                kind: r.get("kind")?,
                checkpoint: r.get("checkpoint")?,
            })
        };
        // The oldest queued jobs...
        let mut candidates: Vec<Candidate> = db
            .prepare_cached(
                "SELECT seq, id, owner, kind, checkpoint FROM jobs \
                 WHERE status = 'queued' AND kind IN (SELECT value FROM json_each(:kinds)) \
                 ORDER BY seq LIMIT :scan",
            )?
            .query_map(
                named_params! {":kinds": kinds, ":scan": CLAIM_SCAN},
                candidate,
            )?
            .collect::<rusqlite::Result<_>>()?;
        // ...and each user's oldest, however far back in the queue they wait: the users with
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
        let mut oldest_of = db.prepare_cached(
            "SELECT seq, id, owner, kind, checkpoint FROM jobs \
             WHERE status = 'queued' AND owner = :owner \
               AND kind IN (SELECT value FROM json_each(:kinds)) \
             ORDER BY seq LIMIT :slots",
        )?;
        for owner in &owners {
            let rows = oldest_of.query_map(
                named_params! {":owner": owner, ":kinds": kinds, ":slots": slots},
                candidate,
            )?;
            for row in rows {
                candidates.push(row?);
            }
        }
        let mut pick = FairPick::new(candidates, by_kind, by_owner, limits, per_owner);
        let mut claimed = Vec::new();
        while (claimed.len() as u32) < slots {
            let Some(c) = pick.pick() else { break };
            if let Some(job) =
                self.move_job(db, &c.owner, &c.id, JobStatus::Running, None, Some(by), at)?
            {
                pick.started(&c);
                let checkpoint = c.checkpoint.and_then(|c| serde_json::from_str(&c).ok());
                claimed.push(QueuedJob {
                    owner: c.owner,
                    job,
                    checkpoint,
                });
            }
        }
        Ok(claimed)
    }

    /// Inserts a job's event and keeps it for publishing once the batch commits.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        db: &Connection,
        owner: Option<&str>,
        id: i64,
        job_id: Option<&str>,
        kind: EventType,
        data: String,
        at: i64,
    ) -> rusqlite::Result<()> {
        let event = StoredEvent {
            id,
            job_id: job_id.map(str::to_string),
            kind,
            data,
        };
        self.events.push(CommittedEvent {
            owner: owner.map(str::to_string),
            event,
        });
        if self.careful {
            insert_events(db, &self.events, &[(self.events.len() - 1, at)])
        } else {
            self.rows.push((self.events.len() - 1, at));
            Ok(())
        }
    }
}

/// Rows per multi-row `INSERT` into `events` at most; statements are made for powers of two up
/// to it, so that a handful of prepared statements serve every batch size.
const EVENT_ROWS_PER_INSERT: usize = 256;

/// Inserts `events[i]` (at time `at`) for each `(i, at)` of `rows`, with multi-row `INSERT`s.
fn insert_events(
    db: &Connection,
    events: &[CommittedEvent],
    rows: &[(usize, i64)],
) -> rusqlite::Result<()> {
    let mut rest = rows;
    while !rest.is_empty() {
        let n = EVENT_ROWS_PER_INSERT.min(1 << rest.len().ilog2());
        let (now, later) = rest.split_at(n);
        let values = vec!["(?, ?, ?, ?, ?, ?)"; n].join(", ");
        let mut stmt = db.prepare_cached(&format!(
            "INSERT INTO events (id, owner, job_id, type, data, at) VALUES {values}"
        ))?;
        for (k, &(i, at)) in now.iter().enumerate() {
            let CommittedEvent { owner, event } = &events[i];
            let p = k * 6;
            stmt.raw_bind_parameter(p + 1, event.id)?;
            stmt.raw_bind_parameter(p + 2, owner)?;
            stmt.raw_bind_parameter(p + 3, &event.job_id)?;
            stmt.raw_bind_parameter(p + 4, event.kind.as_str())?;
            stmt.raw_bind_parameter(p + 5, &event.data)?;
            stmt.raw_bind_parameter(p + 6, at)?;
        }
        stmt.raw_execute()?;
        rest = later;
    }
    Ok(())
}

/// A `notice` event: sent to every stream, kept in the notices table rather than as an event.
fn notice_event(id: i64, notice: &Notice) -> CommittedEvent {
    CommittedEvent {
        owner: None,
        event: StoredEvent {
            id,
            job_id: None,
            kind: EventType::Notice,
            data: json(notice),
        },
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("job types always serialize")
}

fn insert_job(db: &Connection, owner: &str, job: &Job) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
             created_at, event_id, timeout_ms, origin) \
         VALUES (:id, :owner, :kind, :params, :status, :current, :total, :unit, :message, :level, \
             :created_at, :event_id, :timeout_ms, :origin)",
    )?
    .execute(named_params! {
        ":id": job.id,
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
        ":origin": job.origin,
    })?;
    Ok(())
}

/// Moves a job to `to` if the state machine allows it from its current status; returns the
/// updated job, or `None` when it does not (or there is no such job).
fn transition(
    db: &Connection,
    job_id: &str,
    to: JobStatus,
    error: Option<&JobError>,
    at: i64,
    event_id: i64,
    fence: Option<&str>,
) -> rusqlite::Result<Option<Job>> {
    let from: Vec<&str> = JobStatus::ALL
        .iter()
        .filter(|s| s.can_become(to))
        .map(|s| s.as_str())
        .collect();
    if from.is_empty() {
        return Ok(None);
    }
    // The names are fixed identifiers from the enum, never user input; one statement per target.
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // started_at is set on the first move to running; finished_at on reaching a terminal
    // state (and cleared when an interrupted job is queued again). Moving to running claims the
    // job for the fence's process, queued again releases it; any other move by a process needs
    // the job to be still its own.
    let sql = format!(
        "UPDATE jobs SET status = :to, \
             started_at = CASE WHEN :to = 'running' THEN COALESCE(started_at, :at) ELSE started_at END, \
             finished_at = CASE WHEN :terminal THEN :at ELSE NULL END, \
             error_code = :code, error_message = :message, event_id = :event_id, \
             claimed_by = CASE WHEN :to = 'running' THEN :fence WHEN :to = 'queued' THEN NULL ELSE claimed_by END \
         WHERE id = :id AND status IN ({list}) AND (:to = 'running' OR :fence IS NULL OR claimed_by = :fence) \
         RETURNING id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
             created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at"
    );
    db.prepare_cached(&sql)?
        .query_row(
            named_params! {
                ":to": to.as_str(),
                ":at": at,
                ":terminal": to.is_terminal(),
                ":code": error.map(|e| e.code.as_str()),
                ":message": error.map(|e| e.message.as_str()),
                ":event_id": event_id,
                ":id": job_id,
                ":fence": fence,
            },
            job_from_row,
        )
        .optional()
}

/// A [`Job`] from a row with the job columns, by name.
fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let params: String = r.get("params")?;
    let status: String = r.get("status")?;
    let level: String = r.get("level")?;
    let error_code: Option<String> = r.get("error_code")?;
    Ok(Job {
        id: r.get("id")?,
        kind: r.get("kind")?,
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Interrupted),
        progress: Progress {
            current: r.get::<_, i64>("current")?.max(0) as u64,
            total: r.get::<_, Option<i64>>("total")?.map(|t| t.max(0) as u64),
            unit: r.get("unit")?,
            message: r.get("message")?,
            level: Level::parse(&level).unwrap_or_default(),
            at: r.get("progress_at")?,
        },
        error: match error_code {
            Some(code) => Some(JobError {
                code,
                message: r
                    .get::<_, Option<String>>("error_message")?
                    .unwrap_or_default(),
            }),
            None => None,
        },
        created_at: r.get("created_at")?,
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
        event_id: r.get("event_id")?,
        timeout_ms: r
            .get::<_, Option<i64>>("timeout_ms")?
            .map(|t| t.max(0) as u64),
        origin: r.get("origin")?,
    })
}

/// Records a progress sample of a running (or cancelling) job; false if the job is not.
fn record_progress(
    db: &Connection,
    job_id: &str,
    p: &Progress,
    event_id: i64,
    fence: Option<&str>,
) -> rusqlite::Result<bool> {
    let changed = db
        .prepare_cached(
            "UPDATE jobs SET current = :current, total = :total, unit = :unit, message = :message, \
                 level = :level, event_id = :event_id, progress_at = :at \
             WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence)",
        )?
        .execute(named_params! {
            ":current": p.current as i64,
            ":total": p.total.map(|t| t as i64),
            ":unit": p.unit,
            ":message": p.message,
            ":level": p.level.as_str(),
            ":event_id": event_id,
            ":at": p.at,
            ":id": job_id,
            ":fence": fence,
        })?;
    Ok(changed == 1)
}

/// Appends a line to a running (or cancelling) job's log; `None` if the job is not.
fn append_log(
    db: &Connection,
    job_id: &str,
    level: LogLevel,
    line: &str,
    at: i64,
    event_id: i64,
    fence: Option<&str>,
) -> rusqlite::Result<Option<LogLine>> {
    let seq: Option<i64> = db
        .prepare_cached(
            "UPDATE jobs SET log_seq = log_seq + 1, event_id = :event_id \
             WHERE id = :id AND status IN ('running', 'cancelling') AND (:fence IS NULL OR claimed_by = :fence) \
             RETURNING log_seq",
        )?
        .query_row(named_params! {":event_id": event_id, ":id": job_id, ":fence": fence}, |r| r.get("log_seq"))
        .optional()?;
    let Some(seq) = seq else { return Ok(None) };
    db.prepare_cached(
        "INSERT INTO job_logs (job_id, seq, level, line, at) VALUES (?, ?, ?, ?, ?)",
    )?
    .execute(params![job_id, seq, level.as_str(), line, at])?;
    Ok(Some(LogLine {
        job_id: job_id.to_string(),
        seq: seq as u64,
        level,
        line: line.to_string(),
        at,
    }))
}

/// Deletes up to `limit` of the oldest events written before `before_ms`; returns the highest
/// id deleted, which is recorded as how far events were pruned. The floor of ids moves to the
/// newest event first, so that ids are never handed out again, however many events are deleted.
fn prune_events(db: &Connection, before_ms: i64, limit: u32) -> rusqlite::Result<Option<i64>> {
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
