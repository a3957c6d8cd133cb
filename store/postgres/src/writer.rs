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

use crate::tailer::Shared;
use model::{Job, JobStatus, KindPause, LogLine, Notice, Progress, UserId};
use sqlx::postgres::PgPool;
use sqlx::{Acquire, PgConnection};
use std::sync::Arc;
use store_core::batch::{
    self, apply_changes, BatchSql, Failure, LogSeq, Move, Retry, RunningCounts, Transaction,
    MAX_BATCH,
};
use store_core::search::{self, Indexer};
use store_core::sql::Dialect;
use store_core::{
    now_ms, said_column, Applied, BatchHook, BatchStats, Candidate, Change, CommittedEvent,
    ExternalState, JobRow, KeyedJobRow, ScheduleRow, StartKey, StoreError, StoreResult, CLAIM_SCAN,
    JOB_COLUMNS, OWNER_SCAN,
};
use tokio::sync::{mpsc, oneshot};

#[allow(clippy::large_enum_variant)] // short-lived, one per change: not worth an allocation
enum Request {
    Write(Change),
    Flush(oneshot::Sender<()>),
    Apply(Vec<Change>, oneshot::Sender<StoreResult<Applied>>),
    Version(String, oneshot::Sender<StoreResult<i64>>),
    Import(String, Vec<Job>, oneshot::Sender<StoreResult<()>>),
    /// Writes the jobs queued for the search index into it now.
    Index(oneshot::Sender<StoreResult<u64>>),
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
                indexer: Indexer::default(),
            }
            .run(rx),
        );
        Handle { tx, batches }
    }

    pub async fn write(&self, change: Change) -> StoreResult<()> {
        self.tx
            .send(Request::Write(change))
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

    /// Writes the ended jobs queued for the search index into it; how many.
    pub async fn index_search(&self) -> StoreResult<u64> {
        self.ask(Request::Index).await
    }

    pub async fn import(&self, owner: String, jobs: Vec<Job>) -> StoreResult<()> {
        self.ask(|reply| Request::Import(owner, jobs, reply)).await
    }
}

fn stopped() -> StoreError {
    StoreError::msg("the database writer has stopped")
}

/// The job a row a change returned holds; a row whose ids do not parse is corrupted, and fails
/// the change as a column the driver cannot decode does.
fn job(row: JobRow) -> Result<Job, sqlx::Error> {
    Job::try_from(row).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

struct Task {
    batches: BatchHook,
    pool: PgPool,
    tailer: Arc<Shared>,
    /// The newest event id committed here, for the task that sends `NOTIFY` hints.
    hints: tokio::sync::watch::Sender<i64>,
    /// When the jobs queued for the search index are written into it.
    indexer: Indexer,
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
                        self.write_waiting(&mut writes).await;
                        self.answer(other).await;
                    }
                }
            }
            self.write_waiting(&mut writes).await;
            if self.indexer.due(std::time::Instant::now()) {
                if let Err(e) = self.index_search().await {
                    tracing::warn!(error = %e, "writing ended jobs into the search index failed; they are searched where they are until the next try");
                }
            }
        }
    }

    /// Writes the jobs queued for the search index into it, in one transaction.
    async fn index_search(&mut self) -> StoreResult<u64> {
        let queued = search::index_queued(Dialect::Postgres);
        let fail = |e| StoreError::new("writing the search index", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let mut written = 0;
        for (i, statement) in queued.statements.iter().enumerate() {
            let n = sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(fail)?
                .rows_affected();
            if i == queued.counted {
                written = n;
            }
        }
        tx.commit().await.map_err(fail)?;
        Ok(written)
    }

    /// Writes the waiting changes as one batch; each is answered once its events are published.
    async fn write_waiting(&mut self, writes: &mut Vec<Change>) {
        if writes.is_empty() {
            return;
        }
        let mut changes = std::mem::take(writes);
        let (started, n) = (std::time::Instant::now(), changes.len());
        match self.apply(&mut changes).await {
            Ok(applied) => {
                self.batches.report(BatchStats {
                    changes: n,
                    events: applied.events.len(),
                    took: started.elapsed(),
                });
                let newest = applied.events.last().map(|e| e.event.id);
                // Kept until published: only the changes someone waits for, not every log line.
                changes.retain_mut(Change::awaited);
                self.tailer.answer_once_published(newest, changes);
            }
            Err(e) => {
                tracing::error!(error = %e, "writing a batch of job changes failed; it was rolled back");
                for change in &mut changes {
                    change.settle(Err(&e));
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
            Request::Apply(mut changes, reply) => {
                let applied = self.apply(&mut changes).await;
                for change in &mut changes {
                    change.settle(applied.as_ref().map(|_| ()));
                }
                let _ = reply.send(applied);
            }
            Request::Version(data, reply) => {
                let _ = reply.send(self.version(data).await);
            }
            Request::Index(reply) => {
                let _ = reply.send(self.index_search().await);
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

    /// Writes a batch in one transaction ([`batch::write_batch`]: again change by change if one
    /// of them fails).
    async fn apply(&mut self, changes: &mut [Change]) -> StoreResult<Applied> {
        let applied = batch::write_batch(self, changes)
            .await
            .map_err(|e| StoreError::new("writing a batch", e))?;
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
                     origin, progress_at, said, error_said) \
                 SELECT id, $1, kind, params, status, current, total, unit, message, level, error_code, \
                     error_message, created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at, \
                     said, error_said \
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], \
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], \
                     $15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::bigint[], $20::text[], \
                     $21::text[]) \
                 AS t(id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                     created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at, said, \
                     error_said)",
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
                &c.said as &[Option<String>],
                &c.error_said as &[Option<String>],
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

impl Transaction for Task {
    type Error = sqlx::Error;

    async fn attempt(
        &mut self,
        changes: &mut [Change],
        careful: bool,
    ) -> Result<Applied, Failure<sqlx::Error>> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        let last = lock_ids(&mut tx).await?;
        let written = apply_changes(&mut Statements(&mut tx), last + 1, changes, careful).await?;
        if written.head > last {
            sqlx::query!("UPDATE event_ids SET last = $1 WHERE one = 1", written.head)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Applied {
            failed: written.failed,
            events: written.events,
            head: written.head,
        })
    }
}

/// Locks the counter of event ids until the transaction ends; returns the last id handed out.
async fn lock_ids(tx: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT last FROM event_ids WHERE one = 1 FOR UPDATE")
        .fetch_one(tx)
        .await
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
    said: Vec<Option<String>>,
    error_said: Vec<Option<String>>,
}

impl ImportColumns {
    fn push(&mut self, job: &Job) {
        self.id.push(job.id.to_string());
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
        self.origin.push(job.origin.as_deref().map(str::to_string));
        self.progress_at.push(job.progress.at);
        self.said.push(said_column(job.progress.said.as_ref()));
        self.error_said.push(said_column(
            job.error.as_ref().and_then(|e| e.said.as_ref()),
        ));
    }
}

/// A batch's statements inside its transaction.
struct Statements<'a>(&'a mut PgConnection);

impl BatchSql for Statements<'_> {
    type Error = sqlx::Error;
    /// Other processes' tailers read notices' events from `events`, like any other.
    const STORES_NOTICE_EVENTS: bool = true;

    async fn queued_of(&mut self, owner: &str, up_to: u64) -> Result<u64, sqlx::Error> {
        // From the counts the triggers keep exact in this same transaction: a row per kind of
        // the owner's, not a row per queued job.
        let n = sqlx::query_scalar!(
            r#"SELECT COALESCE(SUM(n), 0)::BIGINT AS "n!" FROM job_counts
               WHERE owner = $1 AND status = 'queued'"#,
            owner
        )
        .fetch_one(&mut *self.0)
        .await?;
        Ok((n.max(0) as u64).min(up_to))
    }

    async fn insert_job(&mut self, owner: &str, job: &Job) -> Result<(), sqlx::Error> {
        let (id, origin) = (job.id.as_str(), job.origin.as_deref());
        sqlx::query!(
            "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                 created_at, event_id, timeout_ms, origin, run_after, max_attempts, schedule_id, scheduled_for, \
                 priority, rank, after_jobs, needs_left, parent_id, step, started_by, said) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                 $21, $22, $23, $24, $25, $26)",
            id,
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
            origin,
            job.run_after,
            job.max_attempts as i64,
            job.schedule_id.as_deref(),
            job.scheduled_for,
            i64::from(job.priority.level()),
            job.rank(),
            store_core::after_column(job.after.as_ref()),
            job.after.as_ref().map_or(0, |a| i64::from(a.left)),
            job.parent.as_deref(),
            job.step.as_deref(),
            job.started_by.as_ref().map(model::Actor::stored),
            said_column(job.progress.said.as_ref()),
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn started_with(
        &mut self,
        owner: &str,
        key: &str,
        since: i64,
    ) -> Result<Option<(String, Job)>, sqlx::Error> {
        let sql = format!(
            "SELECT k.fingerprint, {JOB_COLUMNS} FROM jobs, \
                 (SELECT fingerprint, job_id FROM start_keys \
                  WHERE owner = $1 AND key = $2 AND created_at >= $3) k \
             WHERE jobs.id = k.job_id"
        );
        let row: Option<KeyedJobRow> = sqlx::query_as(&sql)
            .bind(owner)
            .bind(key)
            .bind(since)
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(|r| Ok((r.fingerprint, job(r.job)?))).transpose()
    }

    async fn keep_start_key(
        &mut self,
        owner: &str,
        key: &StartKey,
        job_id: &str,
        at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO start_keys (owner, key, fingerprint, job_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 job_id = excluded.job_id, created_at = excluded.created_at",
            owner,
            key.key,
            key.fingerprint,
            job_id,
            at,
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn forget_start_keys(&mut self, before: i64) -> Result<(), sqlx::Error> {
        sqlx::query!("DELETE FROM start_keys WHERE created_at < $1", before)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn move_job(&mut self, m: &Move<'_>) -> Result<Option<Job>, sqlx::Error> {
        let from: Vec<String> = m.from.iter().map(|s| s.as_str().to_string()).collect();
        let row = sqlx::query_as!(
            JobRow,
            "UPDATE jobs SET status = $1, \
                 started_at = CASE WHEN $1 = 'running' THEN COALESCE(started_at, $2) ELSE started_at END, \
                 finished_at = CASE WHEN $3 THEN $2 ELSE NULL END, \
                 error_code = $4, error_message = $5, error_said = $11, event_id = $6, \
                 claimed_by = CASE WHEN $1 = 'running' THEN $7 WHEN $1 = 'queued' THEN NULL ELSE claimed_by END, \
                 cancelled_by = COALESCE($10, cancelled_by) \
             WHERE id = $8 AND status = ANY($9) AND ($1 = 'running' OR $7::text IS NULL OR claimed_by = $7) \
               AND NOT ($1 = 'succeeded' AND plan IS NULL AND steps_succeeded < steps_made) \
             RETURNING id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                 created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at, run_after, \
                 attempt, max_attempts, attempts, schedule_id, scheduled_for, outputs, result, priority, \
                 after_jobs, needs_left, parent_id, step, started_by, cancelled_by, claimed_by AS ran_on, said, \
                 error_said",
            m.to.as_str(),
            m.at,
            m.to.is_terminal(),
            m.error.map(|e| e.code.as_str()),
            m.error.map(|e| e.message.as_str()),
            m.event_id,
            m.fence,
            m.job_id,
            &from as &[String],
            m.by,
            said_column(m.error.and_then(|e| e.said.as_ref())),
        )
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(job).transpose()
    }

    async fn record_progress(
        &mut self,
        job_id: &str,
        p: &Progress,
        event_id: i64,
        fence: Option<&str>,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        sqlx::query_scalar!(
            "UPDATE jobs SET current = $1, total = $2, unit = $3, message = $4, level = $5, \
                 event_id = $6, progress_at = $7, said = $10 \
             WHERE id = $8 AND status IN ('running', 'cancelling') AND ($9::text IS NULL OR claimed_by = $9) \
             RETURNING parent_id",
            p.current as i64,
            p.total.map(|t| t as i64),
            p.unit,
            p.message,
            p.level.as_str(),
            event_id,
            p.at,
            job_id,
            fence,
            said_column(p.said.as_ref()),
        )
        .fetch_optional(&mut *self.0)
        .await
    }

    async fn next_log_seq(
        &mut self,
        job_id: &str,
        event_id: i64,
        fence: Option<&str>,
        bytes: i64,
        max_bytes: i64,
    ) -> Result<Option<LogSeq>, sqlx::Error> {
        // Every expression reads the row as it was: a line past the bound is only counted.
        let row = sqlx::query!(
            r#"UPDATE jobs SET log_bytes = log_bytes + $4,
                   log_seq = log_seq + CASE WHEN log_bytes < $5 THEN 1 ELSE 0 END,
                   event_id = CASE WHEN log_bytes < $5 THEN $1 ELSE event_id END
               WHERE id = $2 AND status IN ('running', 'cancelling') AND ($3::text IS NULL OR claimed_by = $3)
               RETURNING log_seq, attempt, log_bytes - $4 AS "bytes_before!""#,
            event_id,
            job_id,
            fence,
            bytes,
            max_bytes,
        )
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(row.map(|r| LogSeq {
            seq: r.log_seq,
            attempt: r.attempt,
            bytes_before: r.bytes_before,
        }))
    }

    async fn retry_job(&mut self, r: &Retry<'_>) -> Result<Option<Job>, sqlx::Error> {
        // Every expression reads the row as it was: the attempt recorded is the one that ended.
        let row = sqlx::query_as!(
            JobRow,
            "UPDATE jobs SET status = 'queued', \
                 attempts = (COALESCE(attempts, '[]')::jsonb || jsonb_build_array(jsonb_build_object( \
                     'n', attempt, 'started_at', started_at, 'finished_at', $1::bigint, \
                     'error', jsonb_build_object('code', $2::text, 'message', $3::text, \
                         'said', $9::text::jsonb), \
                     'on', claimed_by)))::text, \
                 attempt = attempt + 1, run_after = $4, started_at = NULL, finished_at = NULL, \
                 error_code = $2, error_message = $3, error_said = $9, event_id = $5, claimed_by = NULL, \
                 current = CASE WHEN $6 THEN 0 ELSE current END, \
                 total = CASE WHEN $6 THEN NULL ELSE total END, \
                 unit = CASE WHEN $6 THEN '' ELSE unit END, \
                 message = CASE WHEN $6 THEN '' ELSE message END, \
                 said = CASE WHEN $6 THEN NULL ELSE said END, \
                 level = CASE WHEN $6 THEN 'success' ELSE level END, \
                 progress_at = CASE WHEN $6 THEN NULL ELSE progress_at END \
             WHERE id = $7 AND status = 'running' AND attempt < max_attempts \
               AND ($8::text IS NULL OR claimed_by = $8) \
             RETURNING id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                 created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at, run_after, \
                 attempt, max_attempts, attempts, schedule_id, scheduled_for, outputs, result, priority, \
                 after_jobs, needs_left, parent_id, step, started_by, cancelled_by, claimed_by AS ran_on, said, \
                 error_said",
            r.at,
            r.error.code,
            r.error.message,
            r.next_at,
            r.event_id,
            r.reset_progress,
            r.job_id,
            r.fence,
            said_column(r.error.said.as_ref()),
        )
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(job).transpose()
    }

    async fn outputs_of(
        &mut self,
        job_id: &str,
        fence: Option<&str>,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        // Locked: the read and the write that follows it see the same list.
        let row = sqlx::query_scalar!(
            "SELECT outputs FROM jobs \
             WHERE id = $1 AND status IN ('running', 'cancelling') AND ($2::text IS NULL OR claimed_by = $2) \
             FOR UPDATE",
            job_id,
            fence,
        )
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(row)
    }

    async fn file_bytes(&mut self, owner: &str) -> Result<i64, sqlx::Error> {
        let bytes: Option<i64> = sqlx::query_scalar(batch::FILE_BYTES)
            .bind(owner)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(bytes.unwrap_or(0))
    }

    async fn attach(
        &mut self,
        job_id: &str,
        outputs: Option<&str>,
        result: Option<&str>,
        event_id: i64,
        fence: Option<&str>,
    ) -> Result<Option<Job>, sqlx::Error> {
        let row = sqlx::query_as!(
            JobRow,
            "UPDATE jobs SET outputs = COALESCE($1, outputs), result = COALESCE($2, result), event_id = $3 \
             WHERE id = $4 AND status IN ('running', 'cancelling') AND ($5::text IS NULL OR claimed_by = $5) \
             RETURNING id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                 created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at, run_after, \
                 attempt, max_attempts, attempts, schedule_id, scheduled_for, outputs, result, priority, \
                 after_jobs, needs_left, parent_id, step, started_by, cancelled_by, claimed_by AS ran_on, said, \
                 error_said",
            outputs,
            result,
            event_id,
            job_id,
            fence,
        )
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(job).transpose()
    }

    async fn set_priority(
        &mut self,
        job_id: &str,
        priority: i64,
        event_id: i64,
    ) -> Result<Option<Job>, sqlx::Error> {
        // The right-hand sides read the row as it was: the rank moves by the old level less
        // the new one.
        let row = sqlx::query_as!(
            JobRow,
            "UPDATE jobs SET rank = rank + (priority - $1) * $2, priority = $1, event_id = $3 \
             WHERE id = $4 AND status = 'queued' \
             RETURNING id, kind, params, status, current, total, unit, message, level, error_code, error_message, \
                 created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at, run_after, \
                 attempt, max_attempts, attempts, schedule_id, scheduled_for, outputs, result, priority, \
                 after_jobs, needs_left, parent_id, step, started_by, cancelled_by, claimed_by AS ran_on, said, \
                 error_said",
            priority,
            model::Priority::AGING_MS,
            event_id,
            job_id,
        )
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(job).transpose()
    }

    async fn save_checkpoint(
        &mut self,
        job_id: &str,
        value: &str,
        fence: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query!(
            "UPDATE jobs SET checkpoint = $1 \
             WHERE id = $2 AND status IN ('running', 'cancelling') AND ($3::text IS NULL OR claimed_by = $3)",
            value,
            job_id,
            fence,
        )
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn prune_events(
        &mut self,
        before_ms: i64,
        limit: u32,
    ) -> Result<Option<i64>, sqlx::Error> {
        let last = sqlx::query_scalar!(
            "SELECT MAX(id) FROM (SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2) oldest",
            before_ms,
            limit as i64
        )
        .fetch_one(&mut *self.0)
        .await?;
        if let Some(last) = last {
            sqlx::query!("DELETE FROM events WHERE id <= $1", last)
                .execute(&mut *self.0)
                .await?;
            sqlx::query!(
                "UPDATE event_ids SET pruned_through = GREATEST(pruned_through, $1) WHERE one = 1",
                last
            )
            .execute(&mut *self.0)
            .await?;
        }
        Ok(last)
    }

    async fn insert_notice(&mut self, notice: &Notice) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO notices (id, text, created_at) VALUES ($1, $2, $3)",
            notice.id,
            notice.text,
            notice.created_at
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn withdraw_notices(&mut self, at: i64) -> Result<Vec<Notice>, sqlx::Error> {
        sqlx::query_as!(
            Notice,
            "UPDATE notices SET withdrawn_at = $1 WHERE withdrawn_at IS NULL RETURNING id, text, created_at",
            at
        )
        .fetch_all(&mut *self.0)
        .await
    }

    /// Exact across processes: this batch holds the lock on `event_ids`, which every claim
    /// (every batch of every process) takes first, so no other claim commits between these
    /// counts and this batch's commit.
    async fn put_schedule(&mut self, r: &ScheduleRow) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO schedules (id, owner, kind, params, cron, timezone, enabled, overlap, catch_up, \
                 max_attempts, next_fire_at, created_at, updated_at, name, priority) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, params = excluded.params, \
                 cron = excluded.cron, \
                 timezone = excluded.timezone, enabled = excluded.enabled, overlap = excluded.overlap, \
                 catch_up = excluded.catch_up, max_attempts = excluded.max_attempts, \
                 next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at, \
                 priority = excluded.priority",
            r.id.as_str(),
            r.owner.as_str(),
            r.kind,
            r.params,
            r.cron,
            r.timezone,
            r.enabled,
            r.overlap,
            r.catch_up,
            r.max_attempts,
            r.next_fire_at,
            r.created_at,
            r.updated_at,
            r.name,
            r.priority.map(|p| i64::from(p.level())),
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn delete_schedule(&mut self, id: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query!("DELETE FROM schedules WHERE id = $1", id)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn advance_schedule(
        &mut self,
        id: &str,
        due: i64,
        next: Option<i64>,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        let row = sqlx::query!(
            "UPDATE schedules SET next_fire_at = $1, last_fire_at = $2 \
             WHERE id = $3 AND enabled AND next_fire_at = $2 RETURNING last_job_id",
            next,
            due,
            id
        )
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(row.map(|r| r.last_job_id))
    }

    async fn external_state(
        &mut self,
        job_id: &str,
        fence: Option<&str>,
    ) -> Result<Option<ExternalState>, sqlx::Error> {
        let query = match fence {
            Some(fence) => sqlx::query_as(batch::CLAIMED_STATE)
                .bind(job_id)
                .bind(fence),
            None => sqlx::query_as(batch::EXTERNAL_STATE).bind(job_id),
        };
        let row: Option<(String, i64, Option<i64>, i64)> =
            query.fetch_optional(&mut *self.0).await?;
        Ok(
            row.map(|(status, log_seq, lease_until, event_id)| ExternalState {
                status: JobStatus::parse(&status).unwrap_or(JobStatus::Running),
                log_seq,
                lease_until,
                event_id,
            }),
        )
    }

    async fn end_hooks(&mut self) -> Result<Vec<store_core::HookMatch>, sqlx::Error> {
        let rows: Vec<(String, String, String, String, String, Option<String>)> =
            sqlx::query_as(store_core::HookMatch::SELECT)
                .bind(true)
                .fetch_all(&mut *self.0)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, owner, scope, statuses, kinds, state)| {
                store_core::HookMatch::stored(
                    id,
                    owner,
                    &scope,
                    &statuses,
                    &kinds,
                    state.as_deref(),
                )
            })
            .collect())
    }

    async fn insert_delivery(&mut self, d: &store_core::NewDelivery) -> Result<(), sqlx::Error> {
        sqlx::query(store_core::webhooks::INSERT_DELIVERY)
            .bind(d.id.as_str())
            .bind(d.webhook_id.as_str())
            .bind(&d.event)
            .bind(d.job_id.as_deref())
            .bind(&d.payload)
            .bind(d.created_at)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_lease(
        &mut self,
        job_id: &str,
        until: i64,
        hash: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(batch::SET_LEASE)
            .bind(until)
            .bind(hash)
            .bind(job_id)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn any_waiting(&mut self) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query_scalar(batch::ANY_WAITING)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(n > 0)
    }

    async fn need_status(&mut self, job_id: &str) -> Result<Option<JobStatus>, sqlx::Error> {
        let status: Option<String> = sqlx::query_scalar(batch::NEED_STATUS)
            .bind(job_id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(status.as_deref().map(store_core::stored_status))
    }

    async fn wait_for(&mut self, need_id: &str, job_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(batch::WAIT_FOR)
            .bind(need_id)
            .bind(job_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn take_waiting(&mut self, need_id: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(batch::TAKE_WAITING)
            .bind(need_id)
            .fetch_all(&mut *self.0)
            .await
    }

    async fn waiting_job(&mut self, job_id: &str) -> Result<Option<(UserId, Job)>, sqlx::Error> {
        let row: Option<store_core::OrphanRow> = sqlx::query_as(batch::WAITING_JOB)
            .bind(job_id)
            .fetch_optional(&mut *self.0)
            .await?;
        // A row whose ids do not parse is passed over: nothing can start it.
        Ok(row
            .and_then(|r| store_core::Orphan::try_from(r).ok())
            .map(|o| (o.owner, o.job)))
    }

    async fn set_plan(
        &mut self,
        job_id: &str,
        plan: &str,
        made: i64,
        ended: i64,
        succeeded: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(batch::SET_PLAN)
            .bind(plan)
            .bind(made)
            .bind(ended)
            .bind(succeeded)
            .bind(job_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_ended(
        &mut self,
        job_id: &str,
        started_at: Option<i64>,
        finished_at: Option<i64>,
        result: Option<String>,
        outputs: Option<String>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(batch::SET_ENDED)
            .bind(started_at)
            .bind(finished_at)
            .bind(result)
            .bind(outputs)
            .bind(job_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_params(&mut self, job_id: &str, params: &str) -> Result<(), sqlx::Error> {
        sqlx::query(batch::SET_PARAMS)
            .bind(params)
            .bind(job_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn run_of(&mut self, job_id: &str) -> Result<Option<batch::RunRow>, sqlx::Error> {
        sqlx::query_as(batch::RUN_OF)
            .bind(job_id)
            .fetch_optional(&mut *self.0)
            .await
    }

    async fn steps_of(&mut self, job_id: &str) -> Result<Vec<batch::StepRow>, sqlx::Error> {
        sqlx::query_as(batch::STEPS_OF)
            .bind(job_id)
            .fetch_all(&mut *self.0)
            .await
    }

    async fn child_named(
        &mut self,
        parent: &str,
        name: &str,
    ) -> Result<Option<(UserId, Job)>, sqlx::Error> {
        let row: Option<store_core::OrphanRow> = sqlx::query_as(batch::CHILD_NAMED)
            .bind(parent)
            .bind(name)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row
            .and_then(|r| store_core::Orphan::try_from(r).ok())
            .map(|o| (o.owner, o.job)))
    }

    async fn count_child(
        &mut self,
        parent: &str,
        n: i64,
        fence: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let counted = sqlx::query(batch::COUNT_CHILD)
            .bind(n)
            .bind(parent)
            .bind(fence)
            .execute(&mut *self.0)
            .await?;
        Ok(counted.rows_affected() > 0)
    }

    async fn await_children(
        &mut self,
        job_id: &str,
        plan: &str,
        fence: Option<&str>,
    ) -> Result<Option<Job>, sqlx::Error> {
        let row: Option<JobRow> = sqlx::query_as(batch::AWAIT_CHILDREN)
            .bind(plan)
            .bind(job_id)
            .bind(fence)
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(job).transpose()
    }

    async fn items_made(&mut self, run_id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(batch::ITEMS_MADE)
            .bind(run_id)
            .fetch_one(&mut *self.0)
            .await
    }

    async fn tally_of(&mut self, job_id: &str) -> Result<Option<batch::TallyRow>, sqlx::Error> {
        sqlx::query_as(batch::TALLY_OF)
            .bind(job_id)
            .fetch_optional(&mut *self.0)
            .await
    }

    async fn steps_ended(
        &mut self,
        job_id: &str,
        ended: i64,
        succeeded: i64,
    ) -> Result<Option<batch::TallyRow>, sqlx::Error> {
        sqlx::query_as(batch::STEPS_ENDED)
            .bind(ended)
            .bind(succeeded)
            .bind(job_id)
            .fetch_optional(&mut *self.0)
            .await
    }

    async fn need_met(
        &mut self,
        job_id: &str,
        rank: i64,
        event_id: i64,
    ) -> Result<Option<Job>, sqlx::Error> {
        let row: Option<JobRow> = sqlx::query_as(batch::NEED_MET)
            .bind(rank)
            .bind(event_id)
            .bind(job_id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.and_then(|row| row.try_into().ok()))
    }

    async fn job_active(&mut self, job_id: &str) -> Result<bool, sqlx::Error> {
        let active = sqlx::query_scalar!(
            r#"SELECT status IN ('queued', 'running', 'cancelling') AS "active!" FROM jobs WHERE id = $1"#,
            job_id
        )
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(active.unwrap_or(false))
    }

    async fn schedule_started(&mut self, id: &str, job_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE schedules SET last_job_id = $1 WHERE id = $2",
            job_id,
            id
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn schedule_fired(
        &mut self,
        id: &str,
        job_id: Option<&str>,
        why: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE schedules SET last_job_id = COALESCE($1, last_job_id), last_skip = $2 \
             WHERE id = $3",
            job_id,
            why,
            id
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn pause_kind(
        &mut self,
        kind: &str,
        by: &str,
        at: i64,
    ) -> Result<KindPause, sqlx::Error> {
        sqlx::query!(
            "INSERT INTO kind_pauses (kind, paused_by, paused_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kind) DO NOTHING",
            kind,
            by,
            at
        )
        .execute(&mut *self.0)
        .await?;
        sqlx::query_as!(
            KindPause,
            "SELECT kind, paused_by, paused_at FROM kind_pauses WHERE kind = $1",
            kind
        )
        .fetch_one(&mut *self.0)
        .await
    }

    async fn resume_kind(&mut self, kind: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query!("DELETE FROM kind_pauses WHERE kind = $1", kind)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn paused_kinds(&mut self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar!("SELECT kind FROM kind_pauses")
            .fetch_all(&mut *self.0)
            .await
    }

    async fn running_counts(&mut self) -> Result<RunningCounts, sqlx::Error> {
        // The running jobs' rows themselves (see [`store_core::RUNNING`]), counted in one pass.
        let rows: Vec<(String, String)> = sqlx::query_as(store_core::RUNNING_KINDS_AND_OWNERS)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(store_core::batch::count_running(rows))
    }

    async fn set_limits(&mut self) -> Result<Vec<store_core::limits::SetLimit>, sqlx::Error> {
        let rows = sqlx::query_as(store_core::limits::SET_LIMITS)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(store_core::limits::set_limits(rows))
    }

    async fn put_limit(&mut self, limit: &store_core::limits::SetLimit) -> Result<(), sqlx::Error> {
        sqlx::query(store_core::limits::PUT_LIMIT)
            .bind(limit.limit.signature())
            .bind(store_core::limits::limit_json(&limit.limit))
            .bind(&limit.set_by)
            .bind(limit.set_at)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn delete_limit(&mut self, signature: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM limits WHERE signature = $1")
            .bind(signature)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn running_keys(
        &mut self,
        kind: &str,
        param: Option<&str>,
    ) -> Result<Vec<(String, u32)>, sqlx::Error> {
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT CASE WHEN CAST($2 AS TEXT) IS NULL THEN owner \
               ELSE COALESCE(CAST(params AS JSONB) ->> CAST($2 AS TEXT), '') END AS key, COUNT(*) \
             FROM jobs WHERE {} AND kind = $1 GROUP BY 1",
            store_core::WORKING
        ))
        .bind(kind)
        .bind(param)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key, n)| (key, n.clamp(0, u32::MAX as i64) as u32))
            .collect())
    }

    async fn limit_uses(
        &mut self,
        signature: &str,
        since: i64,
    ) -> Result<Vec<(String, u32)>, sqlx::Error> {
        let rows: Vec<(String, i64)> = sqlx::query_as(store_core::limits::LIMIT_USES)
            .bind(signature)
            .bind(since)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(key, n)| (key, n.clamp(0, u32::MAX as i64) as u32))
            .collect())
    }

    async fn use_limit(&mut self, signature: &str, key: &str, at: i64) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO limit_uses (signature, key, at) VALUES ($1, $2, $3)")
            .bind(signature)
            .bind(key)
            .bind(at)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn forget_limit_uses(&mut self, signature: &str, before: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM limit_uses WHERE signature = $1 AND at < $2")
            .bind(signature)
            .bind(before)
            .execute(&mut *self.0)
            .await?;
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
    ) -> Result<Vec<Candidate>, sqlx::Error> {
        // By place: `seq, rank, priority, id, owner, kind, checkpoint, params`.
        type Row = (
            i64,
            Option<i64>,
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let candidate = |r: Row| Candidate::stored(r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7);
        // Without keyed limits, the same parameters with nothing to do for each row.
        let (params_of, not_excluded) = match keyed.is_empty() {
            true => (NO_PARAMS, NONE_EXCLUDED),
            false => (PARAMS, NOT_EXCLUDED),
        };
        let ready = &*store_core::READY;
        // The first queued jobs by rank (priority, then age)...
        let first: Vec<Row> = sqlx::query_as(&format!(
            "SELECT seq, rank, priority, id, owner, kind, checkpoint, {params_of} FROM jobs \
               WHERE status = 'queued' AND kind = ANY($1) AND (run_after IS NULL OR run_after <= $3) \
               AND {ready} {not_excluded} \
             ORDER BY rank, seq LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(kinds)
        .bind(scan.min(CLAIM_SCAN) as i64)
        .bind(now)
        .bind(keyed)
        .bind(excluded)
        .fetch_all(&mut *self.0)
        .await?;
        let mut candidates: Vec<Candidate> = first.into_iter().filter_map(candidate).collect();
        // ...and each user's first, however far back in the queue they wait: the users with
        // queued jobs are found by skipping from one to the next along an index.
        let each: Vec<Row> = sqlx::query_as(&format!(
            r#"WITH RECURSIVE owners(owner, n) AS (
                 (SELECT owner, 1 FROM jobs WHERE status = 'queued' ORDER BY owner LIMIT 1)
                 UNION ALL
                 SELECT (SELECT j.owner FROM jobs j WHERE j.status = 'queued' AND j.owner > o.owner
                         ORDER BY j.owner LIMIT 1), o.n + 1
                 FROM owners o WHERE o.owner IS NOT NULL AND o.n < $3)
               SELECT c.seq, c.rank, c.priority, c.id, c.owner, c.kind, c.checkpoint, c.params
               FROM owners o CROSS JOIN LATERAL (
                 SELECT seq, rank, priority, id, owner, kind, checkpoint, {params_of} FROM jobs
                 WHERE status = 'queued' AND owner = o.owner AND kind = ANY($1)
                   AND (run_after IS NULL OR run_after <= $2) AND {ready} {not_excluded}
                 ORDER BY rank, seq LIMIT $6) c
               WHERE o.owner IS NOT NULL"#
        ))
        .bind(kinds)
        .bind(now)
        .bind(OWNER_SCAN as i32)
        .bind(keyed)
        .bind(excluded)
        .bind(slots as i64)
        .fetch_all(&mut *self.0)
        .await?;
        candidates.extend(each.into_iter().filter_map(candidate));
        Ok(candidates)
    }

    /// One statement each for the events and the log lines.
    async fn insert_rows(
        &mut self,
        events: &[(&CommittedEvent, i64)],
        logs: &[LogLine],
    ) -> Result<(), sqlx::Error> {
        if !events.is_empty() {
            let mut r = EventColumns::default();
            for (CommittedEvent { owner, event, .. }, at) in events {
                r.id.push(event.id);
                r.owner.push(owner.as_deref().map(str::to_string));
                r.job_id.push(event.job_id.as_deref().map(str::to_string));
                r.kind.push(event.kind.as_str().to_string());
                r.data.push(event.data.clone());
                r.at.push(*at);
            }
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
            .execute(&mut *self.0)
            .await?;
        }
        if !logs.is_empty() {
            let mut l = LogColumns::default();
            for log in logs {
                l.job_id.push(log.job_id.to_string());
                l.seq.push(log.seq as i64);
                l.level.push(log.level.as_str().to_string());
                l.line.push(log.line.clone());
                l.at.push(log.at);
                l.attempt.push(log.attempt as i64);
            }
            sqlx::query!(
                "INSERT INTO job_logs (job_id, seq, level, line, at, attempt) \
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])",
                &l.job_id as &[String],
                &l.seq as &[i64],
                &l.level as &[String],
                &l.line as &[String],
                &l.at as &[i64],
                &l.attempt as &[i64],
            )
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

    async fn savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("SAVEPOINT change")
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn release(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("RELEASE SAVEPOINT change")
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn roll_back(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("ROLLBACK TO SAVEPOINT change")
            .execute(&mut *self.0)
            .await?;
        self.release().await
    }
}

/// `events` rows, column by column.
#[derive(Default)]
struct EventColumns {
    id: Vec<i64>,
    owner: Vec<Option<String>>,
    job_id: Vec<Option<String>>,
    kind: Vec<String>,
    data: Vec<String>,
    at: Vec<i64>,
}

/// `job_logs` rows, column by column.
#[derive(Default)]
struct LogColumns {
    job_id: Vec<String>,
    seq: Vec<i64>,
    level: Vec<String>,
    line: Vec<String>,
    at: Vec<i64>,
    attempt: Vec<i64>,
}

/// [`PARAMS`] and [`NOT_EXCLUDED`] when no limit is keyed: no parameters, nothing left out.
const NO_PARAMS: &str = "CASE WHEN CAST($4 AS TEXT[]) IS NULL THEN params END AS params";
const NONE_EXCLUDED: &str = "AND CAST($5 AS TEXT) IS NOT NULL";

/// A candidate's parameters, read for the kinds with keyed limits alone (`$4`).
const PARAMS: &str = "CASE WHEN kind = ANY($4) THEN params END AS params";

/// Leaves out the jobs whose key is full (`$5`, `store_core::limits::Keyed::excluded`): for
/// each limit with full keys, the job's key is worked out once (a parameter's value as
/// `model::limits::key_text` writes it) and looked up among them.
const NOT_EXCLUDED: &str =
    "AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(CAST($5 AS JSONB)) f \
     WHERE f ->> 0 = jobs.kind AND (f ->> 1 = 'k' \
       OR (f -> 3) ? (CASE f ->> 1 WHEN 'o' THEN jobs.owner \
             ELSE COALESCE(CAST(jobs.params AS JSONB) ->> (f ->> 2), '') END)))";
