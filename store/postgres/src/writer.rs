//! The writer: the one task through which this process changes jobs and notices.
//!
//! Changes sent with [`Handle::write`] are taken in batches, as many as are waiting, and each
//! batch is one transaction on the writer's own connection. The transaction first locks the
//! row of `event_ids` (`SELECT ... FOR UPDATE`), hands out the ids after it, and moves it before
//! committing: every transaction that writes events, in any process, waits for the one before
//! it, so ids follow commit order. Nothing else happens under that lock but the batch's own
//! statements, and events and log lines are inserted with one statement each per batch.
//!
//! If a change fails, the batch is written again with a savepoint around each change, so that
//! only the failing one is undone and its outcome says why; the others commit. Once a batch has
//! committed, the tailer is woken (it publishes the events, from whichever process) and other
//! processes are hinted with a `NOTIFY`; a change is answered once its events are published
//! here, so that a caller that reads its own write back on a stream finds it.

use crate::job_from_row;
use crate::tailer::Shared;
use model::{
    DoneEvent, EventType, Job, JobError, JobStatus, Level, LogLine, Notice, Progress, ProgressEvent,
};
use sqlx::postgres::PgPool;
use sqlx::{Acquire, PgConnection};
use std::collections::HashMap;
use std::sync::Arc;
use store::{
    now_ms, Applied, BatchHook, BatchStats, Candidate, Change, CommittedEvent, FairPick, Outcome,
    QueuedJob, StoreError, StoreResult, StoredEvent, Write, CLAIM_SCAN, OWNER_SCAN,
};
use tokio::sync::{mpsc, oneshot};

/// How many changes one transaction takes at most.
const MAX_BATCH: usize = 512;

#[allow(clippy::large_enum_variant)] // short-lived, one per change: not worth an allocation
enum Request {
    Write(Write),
    Flush(oneshot::Sender<()>),
    Apply(Vec<Change>, oneshot::Sender<StoreResult<Applied>>),
    Version(String, oneshot::Sender<StoreResult<i64>>),
    Import(String, Vec<Job>, oneshot::Sender<StoreResult<()>>),
}

/// Sends requests to the writer task; the task ends when the last handle is dropped.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
    /// Where committed batches are reported.
    pub batches: BatchHook,
}

impl Handle {
    /// Starts the writer on `write_pool` (one connection); hints go out through `pool`.
    pub fn start(write_pool: PgPool, pool: PgPool, tailer: Arc<Shared>) -> Handle {
        let (tx, rx) = mpsc::channel(8192);
        let hints = tailer.start_hints(pool);
        let batches = BatchHook::default();
        tokio::spawn(
            Task {
                batches: batches.clone(),
                pool: write_pool,
                tailer,
                hints,
            }
            .run(rx),
        );
        Handle { tx, batches }
    }

    pub async fn write(&self, write: Write) -> StoreResult<()> {
        self.tx
            .send(Request::Write(write))
            .await
            .map_err(|_| stopped())
    }

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

    pub async fn version_event(&self, data: String) -> StoreResult<i64> {
        self.ask(|reply| Request::Version(data, reply)).await
    }

    pub async fn import(&self, owner: String, jobs: Vec<Job>) -> StoreResult<()> {
        self.ask(|reply| Request::Import(owner, jobs, reply)).await
    }
}

fn stopped() -> StoreError {
    StoreError("the database writer has stopped".into())
}

struct Task {
    batches: BatchHook,
    pool: PgPool,
    tailer: Arc<Shared>,
    /// The newest event id committed here, for the task that sends `NOTIFY` hints.
    hints: tokio::sync::watch::Sender<i64>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut waiting = Vec::with_capacity(MAX_BATCH);
        let mut writes = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.recv().await {
            waiting.push(first);
            while waiting.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(request) => waiting.push(request),
                    Err(_) => break,
                }
            }
            // In the order they came: consecutive writes make one batch.
            for request in std::mem::take(&mut waiting) {
                match request {
                    Request::Write(write) => writes.push(write),
                    other => {
                        self.write_batch(&mut writes).await;
                        self.answer(other).await;
                    }
                }
            }
            self.write_batch(&mut writes).await;
        }
    }

    /// Writes the waiting changes as one batch; each is answered once its events are published.
    async fn write_batch(&mut self, writes: &mut Vec<Write>) {
        if writes.is_empty() {
            return;
        }
        let (changes, replies): (Vec<Change>, Vec<_>) =
            writes.drain(..).map(|w| (w.change, w.reply)).unzip();
        let (started, n) = (std::time::Instant::now(), changes.len());
        match self.apply(changes).await {
            Ok(applied) => {
                self.batches.report(BatchStats {
                    changes: n,
                    events: applied.events.len(),
                    took: started.elapsed(),
                });
                let answers = replies
                    .into_iter()
                    .zip(applied.outcomes)
                    .filter_map(|(r, o)| Some((r?, o)));
                let newest = applied.events.last().map(|e| e.event.id);
                self.tailer.answer_once_published(newest, answers.collect());
            }
            Err(e) => {
                tracing::error!(error = %e, "writing a batch of job changes failed; it was rolled back");
                for reply in replies.into_iter().flatten() {
                    let _ = reply.send(Outcome::Failed(e.clone()));
                }
            }
        }
    }

    async fn answer(&mut self, request: Request) {
        match request {
            Request::Write(_) => unreachable!("writes are batched"),
            Request::Flush(reply) => {
                let _ = reply.send(());
            }
            Request::Apply(changes, reply) => {
                let _ = reply.send(self.apply(changes).await);
            }
            Request::Version(data, reply) => {
                let _ = reply.send(self.version(data).await);
            }
            Request::Import(owner, jobs, reply) => {
                let _ = reply.send(
                    self.import(&owner, &jobs)
                        .await
                        .map_err(|e| StoreError::new("importing jobs", e)),
                );
            }
        }
    }

    /// Writes a batch in one transaction; if one of its changes fails, writes it again change
    /// by change, each in a savepoint, so that the failing one is undone alone.
    async fn apply(&mut self, changes: Vec<Change>) -> StoreResult<Applied> {
        let result = match self.apply_batch(&changes, false).await {
            Err(Failure::Change(e)) => {
                tracing::debug!(error = %e, "a change of a batch failed; writing it again change by change");
                self.apply_batch(&changes, true).await
            }
            other => other,
        };
        let applied = result.map_err(|e| StoreError::new("writing a batch", e.into_inner()))?;
        if let Some(last) = applied.events.last() {
            self.committed(last.event.id);
        }
        Ok(applied)
    }

    /// Events up to `id` are committed: the tailer reads them now, the others are hinted.
    fn committed(&self, id: i64) {
        self.tailer.wake();
        self.hints.send_if_modified(|newest| {
            let newer = id > *newest;
            *newest = (*newest).max(id);
            newer
        });
    }

    async fn apply_batch(&mut self, changes: &[Change], careful: bool) -> Result<Applied, Failure> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        let last = lock_ids(&mut tx).await?;
        let mut batch = Batch {
            next_id: last + 1,
            events: Vec::new(),
            event_rows: Rows::default(),
            logs: LogRows::default(),
            queued: HashMap::new(),
        };
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            if !careful {
                outcomes.push(
                    batch
                        .apply(&mut tx, change)
                        .await
                        .map_err(Failure::Change)?,
                );
                continue;
            }
            let (next_id, events) = (batch.next_id, batch.events.len());
            sqlx::query("SAVEPOINT change").execute(&mut *tx).await?;
            let done = match batch.apply(&mut tx, change).await {
                Ok(outcome) => batch.insert_rows(&mut tx).await.map(|()| outcome),
                Err(e) => Err(e),
            };
            match done {
                Ok(outcome) => {
                    sqlx::query("RELEASE SAVEPOINT change")
                        .execute(&mut *tx)
                        .await?;
                    outcomes.push(outcome);
                }
                Err(e) => {
                    // Undo this change alone: its rows, its events and the ids it took.
                    sqlx::query("ROLLBACK TO SAVEPOINT change")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("RELEASE SAVEPOINT change")
                        .execute(&mut *tx)
                        .await?;
                    batch.next_id = next_id;
                    batch.events.truncate(events);
                    batch.event_rows = Rows::default();
                    batch.logs = LogRows::default();
                    tracing::error!(error = %e, "a change was refused by the database; the rest of its batch goes on");
                    outcomes.push(Outcome::Failed(StoreError::new(
                        "the database refused the change",
                        e,
                    )));
                }
            }
        }
        batch.insert_rows(&mut tx).await?;
        let head = batch.next_id - 1;
        if head > last {
            sqlx::query!("UPDATE event_ids SET last = $1 WHERE one = 1", head)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Applied {
            outcomes,
            events: batch.events,
            head,
        })
    }

    /// Stores a `version` event for every process's streams.
    async fn version(&mut self, data: String) -> StoreResult<i64> {
        let result: Result<i64, sqlx::Error> = async {
            let mut conn = self.pool.acquire().await?;
            let mut tx = conn.begin().await?;
            let id = lock_ids(&mut tx).await? + 1;
            sqlx::query!(
                "INSERT INTO events (id, owner, job_id, type, data, at) VALUES ($1, NULL, NULL, 'version', $2, $3)",
                id,
                data,
                now_ms()
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!("UPDATE event_ids SET last = $1 WHERE one = 1", id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(id)
        }
        .await;
        let id = result.map_err(|e| StoreError::new("storing the version event", e))?;
        self.committed(id);
        Ok(id)
    }

    /// Finished jobs inserted as they are, a few thousand per statement; ids go on after theirs.
    async fn import(&mut self, owner: &str, jobs: &[Job]) -> Result<(), sqlx::Error> {
        const PER_STATEMENT: usize = 5000;
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        let last = lock_ids(&mut tx).await?;
        let mut highest = last;
        for chunk in jobs.chunks(PER_STATEMENT) {
            let mut c = ImportColumns::default();
            for job in chunk {
                highest = highest.max(job.event_id);
                c.push(job);
            }
            sqlx::query!(
                "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                     error_code, error_message, created_at, started_at, finished_at, event_id, timeout_ms, \
                     origin, progress_at) \
                 SELECT id, $1, kind, params, status, current, total, unit, message, level, error_code, \
                     error_message, created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at \
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], \
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], \
                     $15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::bigint[]) \
                 AS t(id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                     created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at)",
                owner,
                &c.id as &[String],
                &c.kind as &[String],
                &c.params as &[String],
                &c.status as &[String],
                &c.current as &[i64],
                &c.total as &[Option<i64>],
                &c.unit as &[String],
                &c.message as &[String],
                &c.level as &[String],
                &c.error_code as &[Option<String>],
                &c.error_message as &[Option<String>],
                &c.created_at as &[i64],
                &c.started_at as &[Option<i64>],
                &c.finished_at as &[Option<i64>],
                &c.event_id as &[i64],
                &c.timeout_ms as &[Option<i64>],
                &c.origin as &[Option<String>],
                &c.progress_at as &[Option<i64>],
            )
            .execute(&mut *tx)
            .await?;
        }
        if highest > last {
            sqlx::query!("UPDATE event_ids SET last = $1 WHERE one = 1", highest)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}

/// Locks the counter of event ids until the transaction ends; returns the last id handed out.
async fn lock_ids(tx: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT last FROM event_ids WHERE one = 1 FOR UPDATE")
        .fetch_one(tx)
        .await
}

/// Why a batch was not written.
enum Failure {
    /// One change failed: the batch may be written again without it.
    Change(sqlx::Error),
    /// The transaction itself failed.
    Batch(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Batch(e)
    }
}

impl Failure {
    fn into_inner(self) -> sqlx::Error {
        match self {
            Failure::Change(e) | Failure::Batch(e) => e,
        }
    }
}

/// `events` rows waiting to be inserted, column by column.
#[derive(Default)]
struct Rows {
    id: Vec<i64>,
    owner: Vec<Option<String>>,
    job_id: Vec<Option<String>>,
    kind: Vec<String>,
    data: Vec<String>,
    at: Vec<i64>,
}

/// `job_logs` rows waiting to be inserted.
#[derive(Default)]
struct LogRows {
    job_id: Vec<String>,
    seq: Vec<i64>,
    level: Vec<String>,
    line: Vec<String>,
    at: Vec<i64>,
}

/// Imported jobs, column by column.
#[derive(Default)]
struct ImportColumns {
    id: Vec<String>,
    kind: Vec<String>,
    params: Vec<String>,
    status: Vec<String>,
    current: Vec<i64>,
    total: Vec<Option<i64>>,
    unit: Vec<String>,
    message: Vec<String>,
    level: Vec<String>,
    error_code: Vec<Option<String>>,
    error_message: Vec<Option<String>>,
    created_at: Vec<i64>,
    started_at: Vec<Option<i64>>,
    finished_at: Vec<Option<i64>>,
    event_id: Vec<i64>,
    timeout_ms: Vec<Option<i64>>,
    origin: Vec<Option<String>>,
    progress_at: Vec<Option<i64>>,
}

impl ImportColumns {
    fn push(&mut self, job: &Job) {
        self.id.push(job.id.clone());
        self.kind.push(job.kind.clone());
        self.params.push(job.params.to_string());
        self.status.push(job.status.as_str().to_string());
        self.current.push(job.progress.current as i64);
        self.total.push(job.progress.total.map(|t| t as i64));
        self.unit.push(job.progress.unit.clone());
        self.message.push(job.progress.message.clone());
        self.level.push(job.progress.level.as_str().to_string());
        self.error_code
            .push(job.error.as_ref().map(|e| e.code.clone()));
        self.error_message
            .push(job.error.as_ref().map(|e| e.message.clone()));
        self.created_at.push(job.created_at);
        self.started_at.push(job.started_at);
        self.finished_at.push(job.finished_at);
        self.event_id.push(job.event_id);
        self.timeout_ms.push(job.timeout_ms.map(|t| t as i64));
        self.origin.push(job.origin.clone());
        self.progress_at.push(job.progress.at);
    }
}

/// The batch being written: the next event id to hand out, the events made so far, and the rows
/// not inserted yet (inserted at the end of the batch, or after each change in a careful one).
struct Batch {
    next_id: i64,
    events: Vec<CommittedEvent>,
    event_rows: Rows,
    logs: LogRows,
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

    /// Keeps an event for the batch's insert and for publishing.
    fn event(
        &mut self,
        owner: Option<&str>,
        id: i64,
        job_id: Option<&str>,
        kind: EventType,
        data: String,
        at: i64,
    ) {
        let r = &mut self.event_rows;
        r.id.push(id);
        r.owner.push(owner.map(str::to_string));
        r.job_id.push(job_id.map(str::to_string));
        r.kind.push(kind.as_str().to_string());
        r.data.push(data.clone());
        r.at.push(at);
        self.events.push(CommittedEvent {
            owner: owner.map(str::to_string),
            event: StoredEvent {
                id,
                job_id: job_id.map(str::to_string),
                kind,
                data,
            },
        });
    }

    /// Inserts the events and log lines kept so far, one statement each.
    async fn insert_rows(&mut self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let r = std::mem::take(&mut self.event_rows);
        if !r.id.is_empty() {
            sqlx::query!(
                "INSERT INTO events (id, owner, job_id, type, data, at) \
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
                &r.id as &[i64],
                &r.owner as &[Option<String>],
                &r.job_id as &[Option<String>],
                &r.kind as &[String],
                &r.data as &[String],
                &r.at as &[i64],
            )
            .execute(&mut *tx)
            .await?;
        }
        let l = std::mem::take(&mut self.logs);
        if !l.seq.is_empty() {
            sqlx::query!(
                "INSERT INTO job_logs (job_id, seq, level, line, at) \
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])",
                &l.job_id as &[String],
                &l.seq as &[i64],
                &l.level as &[String],
                &l.line as &[String],
                &l.at as &[i64],
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    /// Writes one change and keeps the events it makes.
    async fn apply(
        &mut self,
        tx: &mut PgConnection,
        change: &Change,
    ) -> Result<Outcome, sqlx::Error> {
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
                            let n = sqlx::query_scalar!(
                                r#"SELECT COUNT(*) AS "n!" FROM (SELECT 1 FROM jobs
                                   WHERE owner = $1 AND status = 'queued' LIMIT $2) q"#,
                                owner,
                                (*max).min(i64::MAX as u64) as i64
                            )
                            .fetch_one(&mut *tx)
                            .await?
                            .max(0) as u64;
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
                sqlx::query!(
                    "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                         created_at, event_id, timeout_ms, origin) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    job.id,
                    owner,
                    job.kind,
                    job.params.to_string(),
                    job.status.as_str(),
                    job.progress.current as i64,
                    job.progress.total.map(|t| t as i64),
                    job.progress.unit,
                    job.progress.message,
                    job.progress.level.as_str(),
                    job.created_at,
                    job.event_id,
                    job.timeout_ms.map(|t| t as i64),
                    job.origin,
                )
                .execute(&mut *tx)
                .await?;
                if let Some(n) = self.queued.get_mut(owner) {
                    *n += 1;
                }
                self.event(
                    Some(owner),
                    job.event_id,
                    Some(&job.id),
                    EventType::Job,
                    json(&job),
                    at,
                );
                Outcome::Job(Some(job))
            }
            Change::Transition {
                owner,
                job_id,
                to,
                error,
                fence,
            } => Outcome::Job(
                self.move_job(tx, owner, job_id, *to, error.as_ref(), fence.as_deref(), at)
                    .await?,
            ),
            Change::Interrupt {
                owner,
                job_id,
                error,
                requeue,
                fence,
            } => {
                let fence = fence.as_deref();
                let interrupted = self
                    .move_job(
                        tx,
                        owner,
                        job_id,
                        JobStatus::Interrupted,
                        Some(error),
                        fence,
                        at,
                    )
                    .await?;
                match (interrupted, requeue) {
                    (Some(_), true) => Outcome::Job(
                        self.move_job(tx, owner, job_id, JobStatus::Queued, None, fence, at)
                            .await?,
                    ),
                    (job, _) => Outcome::Job(job),
                }
            }
            Change::Claim {
                by,
                slots,
                kinds,
                limits,
                per_owner,
            } => Outcome::Claimed(
                self.claim(tx, by, *slots, kinds, limits, *per_owner, at)
                    .await?,
            ),
            Change::Progress {
                owner,
                job_id,
                progress: p,
                fence,
            } => {
                let id = self.take_id();
                let done = sqlx::query!(
                    "UPDATE jobs SET current = $1, total = $2, unit = $3, message = $4, level = $5, \
                         event_id = $6, progress_at = $7 \
                     WHERE id = $8 AND status IN ('running', 'cancelling') AND ($9::text IS NULL OR claimed_by = $9)",
                    p.current as i64,
                    p.total.map(|t| t as i64),
                    p.unit,
                    p.message,
                    p.level.as_str(),
                    id,
                    p.at,
                    job_id,
                    fence.as_deref(),
                )
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    self.next_id = id;
                    return Ok(Outcome::Recorded(false));
                }
                let data = json(&ProgressEvent::new(job_id, p));
                self.event(Some(owner), id, Some(job_id), EventType::Progress, data, at);
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
                let seq = sqlx::query_scalar!(
                    "UPDATE jobs SET log_seq = log_seq + 1, event_id = $1 \
                     WHERE id = $2 AND status IN ('running', 'cancelling') AND ($3::text IS NULL OR claimed_by = $3) \
                     RETURNING log_seq",
                    id,
                    job_id,
                    fence.as_deref(),
                )
                .fetch_optional(&mut *tx)
                .await?;
                let Some(seq) = seq else {
                    self.next_id = id;
                    return Ok(Outcome::Recorded(false));
                };
                let l = &mut self.logs;
                l.job_id.push(job_id.clone());
                l.seq.push(seq);
                l.level.push(level.as_str().to_string());
                l.line.push(line.clone());
                l.at.push(at);
                let log = LogLine {
                    job_id: job_id.clone(),
                    seq: seq as u64,
                    level: *level,
                    line: line.clone(),
                    at,
                };
                self.event(
                    Some(owner),
                    id,
                    Some(job_id),
                    EventType::Log,
                    json(&log),
                    at,
                );
                Outcome::Recorded(true)
            }
            Change::Together(changes) => {
                let mut last = Outcome::Recorded(true);
                for change in changes {
                    // Boxed: the future would otherwise contain itself.
                    last = Box::pin(self.apply(&mut *tx, change)).await?;
                }
                last
            }
            Change::Checkpoint {
                job_id,
                value,
                fence,
            } => {
                let done = sqlx::query!(
                    "UPDATE jobs SET checkpoint = $1 \
                     WHERE id = $2 AND status IN ('running', 'cancelling') AND ($3::text IS NULL OR claimed_by = $3)",
                    value.to_string(),
                    job_id,
                    fence.as_deref(),
                )
                .execute(&mut *tx)
                .await?;
                Outcome::Recorded(done.rows_affected() == 1)
            }
            Change::Prune { before_ms, limit } => {
                let last = sqlx::query_scalar!(
                    "SELECT MAX(id) FROM (SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2) oldest",
                    before_ms,
                    *limit as i64
                )
                .fetch_one(&mut *tx)
                .await?;
                if let Some(last) = last {
                    sqlx::query!("DELETE FROM events WHERE id <= $1", last)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query!(
                        "UPDATE event_ids SET pruned_through = GREATEST(pruned_through, $1) WHERE one = 1",
                        last
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                Outcome::Pruned(last)
            }
            Change::PostNotice { text } => {
                let notice = Notice {
                    id: self.take_id(),
                    text: text.clone(),
                    created_at: at,
                };
                sqlx::query!(
                    "INSERT INTO notices (id, text, created_at) VALUES ($1, $2, $3)",
                    notice.id,
                    notice.text,
                    notice.created_at
                )
                .execute(&mut *tx)
                .await?;
                self.event(None, notice.id, None, EventType::Notice, json(&notice), at);
                Outcome::Notice(notice)
            }
            Change::WithdrawNotices => {
                let withdrawn = sqlx::query_as!(
                    Notice,
                    "UPDATE notices SET withdrawn_at = $1 WHERE withdrawn_at IS NULL RETURNING id, text, created_at",
                    at
                )
                .fetch_all(&mut *tx)
                .await?;
                for notice in &withdrawn {
                    let gone = Notice {
                        text: String::new(),
                        ..notice.clone()
                    };
                    let id = self.take_id();
                    self.event(None, id, None, EventType::Notice, json(&gone), at);
                }
                Outcome::Withdrawn(withdrawn.len())
            }
        })
    }

    /// Moves a job to `to` (if its status and the fence allow it) with its `job` event and, for
    /// a terminal status, its `done` event.
    #[allow(clippy::too_many_arguments)]
    async fn move_job(
        &mut self,
        tx: &mut PgConnection,
        owner: &str,
        job_id: &str,
        to: JobStatus,
        error: Option<&JobError>,
        fence: Option<&str>,
        at: i64,
    ) -> Result<Option<Job>, sqlx::Error> {
        let from: Vec<String> = JobStatus::ALL
            .iter()
            .filter(|s| s.can_become(to))
            .map(|s| s.as_str().to_string())
            .collect();
        if from.is_empty() {
            return Ok(None);
        }
        let job_event = self.take_id();
        let done_event = to.is_terminal().then(|| self.take_id());
        // started_at is set on the first move to running; finished_at on reaching a terminal
        // state (and cleared when an interrupted job is queued again). Moving to running claims
        // the job for the fence's process, queued again releases it; any other move by a
        // process needs the job to be still its own.
        let row = sqlx::query!(
            "UPDATE jobs SET status = $1, \
                 started_at = CASE WHEN $1 = 'running' THEN COALESCE(started_at, $2) ELSE started_at END, \
                 finished_at = CASE WHEN $3 THEN $2 ELSE NULL END, \
                 error_code = $4, error_message = $5, event_id = $6, \
                 claimed_by = CASE WHEN $1 = 'running' THEN $7 WHEN $1 = 'queued' THEN NULL ELSE claimed_by END \
             WHERE id = $8 AND status = ANY($9) AND ($1 = 'running' OR $7::text IS NULL OR claimed_by = $7) \
             RETURNING id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                 created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at",
            to.as_str(),
            at,
            to.is_terminal(),
            error.map(|e| e.code.as_str()),
            error.map(|e| e.message.as_str()),
            done_event.unwrap_or(job_event),
            fence,
            job_id,
            &from as &[String],
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            self.next_id = job_event;
            return Ok(None);
        };
        let job = job_from_row!(row);
        let shown = Job {
            event_id: job_event,
            ..job.clone()
        };
        self.event(
            Some(owner),
            job_event,
            Some(job_id),
            EventType::Job,
            json(&shown),
            at,
        );
        if let Some(id) = done_event {
            let done = DoneEvent {
                job_id: job_id.to_string(),
                status: to,
                error: job.error.clone(),
            };
            self.event(
                Some(owner),
                id,
                Some(job_id),
                EventType::Done,
                json(&done),
                at,
            );
        }
        Ok(Some(job))
    }

    /// Takes up to `slots` queued jobs of `kinds` for process `by`, each slot for the user with
    /// the fewest jobs running anywhere ([`FairPick`]), past the kinds at their limit of jobs
    /// running anywhere and the users at `per_owner`. The batch holds the lock on event ids, so
    /// no other process claims meanwhile: the counts stay true until the commit.
    #[allow(clippy::too_many_arguments)]
    async fn claim(
        &mut self,
        tx: &mut PgConnection,
        by: &str,
        slots: u32,
        kinds: &[String],
        limits: &[(String, u32)],
        per_owner: u32,
        at: i64,
    ) -> Result<Vec<QueuedJob>, sqlx::Error> {
        // Exact across processes: this batch holds the lock on `event_ids`, which every claim
        // (every batch of every process) takes first, so no other claim commits between these
        // counts and this batch's commit.
        let by_kind: HashMap<String, u32> = sqlx::query!(
            r#"SELECT kind, COUNT(*) AS "n!" FROM jobs WHERE status IN ('running', 'cancelling') GROUP BY kind"#
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.n as u32))
        .collect();
        let by_owner: HashMap<String, u32> = sqlx::query!(
            r#"SELECT owner, COUNT(*) AS "n!" FROM jobs WHERE status IN ('running', 'cancelling') GROUP BY owner"#
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.owner, r.n as u32))
        .collect();
        // The oldest queued jobs...
        let mut candidates: Vec<Candidate> = sqlx::query!(
            "SELECT seq, id, owner, kind, checkpoint FROM jobs WHERE status = 'queued' AND kind = ANY($1) \
             ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED",
            kinds,
            CLAIM_SCAN as i64
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| Candidate {
            seq: r.seq,
            id: r.id,
            owner: r.owner,
            kind: r.kind,
            checkpoint: r.checkpoint,
        })
        .collect();
        // ...and each user's oldest, however far back in the queue they wait: the users with
        // queued jobs are found by skipping from one to the next along an index.
        let oldest = sqlx::query!(
            r#"WITH RECURSIVE owners(owner, n) AS (
                 (SELECT owner, 1 FROM jobs WHERE status = 'queued' ORDER BY owner LIMIT 1)
                 UNION ALL
                 SELECT (SELECT j.owner FROM jobs j WHERE j.status = 'queued' AND j.owner > o.owner
                         ORDER BY j.owner LIMIT 1), o.n + 1
                 FROM owners o WHERE o.owner IS NOT NULL AND o.n < $3)
               SELECT c.seq AS "seq!", c.id AS "id!", c.owner AS "owner!", c.kind AS "kind!", c.checkpoint
               FROM owners o CROSS JOIN LATERAL (
                 SELECT seq, id, owner, kind, checkpoint FROM jobs
                 WHERE status = 'queued' AND owner = o.owner AND kind = ANY($1)
                 ORDER BY seq LIMIT $2) c
               WHERE o.owner IS NOT NULL"#,
            kinds,
            slots as i64,
            OWNER_SCAN as i32
        )
        .fetch_all(&mut *tx)
        .await?;
        candidates.extend(oldest.into_iter().map(|r| Candidate {
            seq: r.seq,
            id: r.id,
            owner: r.owner,
            kind: r.kind,
            checkpoint: r.checkpoint,
        }));
        let mut pick = FairPick::new(candidates, by_kind, by_owner, limits, per_owner);
        let mut claimed = Vec::new();
        while (claimed.len() as u32) < slots {
            let Some(c) = pick.pick() else { break };
            if let Some(job) = self
                .move_job(tx, &c.owner, &c.id, JobStatus::Running, None, Some(by), at)
                .await?
            {
                pick.started(&c);
                let checkpoint = c.checkpoint.and_then(|s| serde_json::from_str(&s).ok());
                claimed.push(QueuedJob {
                    owner: c.owner,
                    job,
                    checkpoint,
                });
            }
        }
        Ok(claimed)
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("job types always serialize")
}
