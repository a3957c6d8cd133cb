//! The PostgreSQL backend: one database shared by any number of Headway processes.
//!
//! - reads, sessions and the processes' registry go through a small sqlx pool, with queries
//!   checked at compile time against the schema (`sqlx::query!`, offline data in `.sqlx/`);
//! - every change to jobs and notices goes through this process's [`writer`]: one task with a
//!   connection of its own that writes whatever is waiting as one transaction. Each such
//!   transaction first locks the one row of `event_ids`, so event ids are handed out in commit
//!   order across all processes: a reader that has seen id N never later finds a smaller one;
//! - the [`tailer`] publishes every committed event, whichever process wrote it, by reading
//!   `events` in id order: woken by this process's own commits, by `NOTIFY` hints from the
//!   others (a hint only: nothing is ever read from a notification), by a short poll, and after
//!   its listening connection comes back. A lost notification delays an event, never loses it;
//! - [`throwaway`] starts a temporary PostgreSQL for tests and benchmarks.
//!
//! Migrations live in `migrations/postgres/`. Times are Unix milliseconds; heartbeats and
//! leases use the database's clock, so that processes on machines whose clocks differ agree.

mod accounts;
mod files;
mod schedules;
mod tailer;
pub mod throwaway;
mod writer;

use async_trait::async_trait;
use model::{
    Job, JobId, JobStatus, LogFilter, LogLevel, LogLine, MinuteStats, Notice, ProcessId,
    StatusChange, StatusCount, UserId,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use store_core::{
    now_ms, Applied, Change, JobFilter, JobRow, JobStore, OpenError, Orphan, OrphanRow,
    ProcessRegistry, ProcessRow, Publish, SessionRow, SessionStore, StoreError, StoreResult,
    StoredEvent, Write, JOB_COLUMNS,
};

/// Connections of the read pool, per process (the writer and the listener have one each).
pub const READ_CONNECTIONS: u32 = 8;

/// How long a request waits for a connection, and a new connection for the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    writer: writer::Handle,
    tailer: Arc<tailer::Shared>,
    /// Stops the tailer when the last handle on the store is dropped.
    _running: Arc<tailer::Stop>,
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connects, applies migrations (several processes starting at once take turns: sqlx holds
    /// an advisory lock while it migrates) and starts the writer.
    pub async fn open(url: &str) -> Result<PgStore, OpenError> {
        let shown = redact(url);
        let options = PgConnectOptions::from_str(url).map_err(|e| OpenError::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let options = options.application_name("headway");
        let open_err = |e: sqlx::Error| OpenError::Open {
            url: shown.clone(),
            reason: e.to_string(),
        };
        let pool = PgPoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate {
                url: shown.clone(),
                reason: e.to_string(),
            })?;
        // The writer's own connection: its transactions never wait for a reader's.
        let write_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        let tailer = Arc::new(tailer::Shared::new(options));
        let writer = writer::Handle::start(write_pool, pool.clone(), Arc::clone(&tailer));
        let store = PgStore {
            pool,
            writer,
            _running: Arc::new(tailer.stop_handle()),
            tailer,
        };
        // Proves that the database takes writes (a read-only replica does not).
        sqlx::query!("UPDATE event_ids SET last = last WHERE one = 1")
            .execute(&store.pool)
            .await
            .map_err(|e| OpenError::NotWritable {
                url: shown,
                reason: e.to_string(),
            })?;
        Ok(store)
    }
}

#[async_trait]
impl JobStore for PgStore {
    /// Other processes may share a PostgreSQL database.
    fn is_shared(&self) -> bool {
        true
    }

    /// Whether this store can serve a process: the database answers with the schema this build
    /// migrates to, and the writer takes writes within `within`. `Err` says what is wrong.
    async fn check_ready(&self, within: std::time::Duration) -> StoreResult<()> {
        let newest = sqlx::migrate!("../../migrations/postgres")
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let applied: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("reading the schema version"))?;
        if applied != newest {
            return Err(StoreError::msg(format!(
                "the database's schema is at migration {applied}, this build's at {newest}"
            )));
        }
        match tokio::time::timeout(within, self.writer.alive()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::msg("the writer has stopped")),
            Err(_) => Err(StoreError::msg(format!(
                "the writer did not answer within {} ms",
                within.as_millis()
            ))),
        }
    }

    /// Reports every batch the writer commits from now on to `on_batch`.
    fn observe_batches(&self, on_batch: store_core::OnBatch) {
        self.writer.batches.set(on_batch);
    }

    async fn write(&self, write: Write) -> StoreResult<()> {
        self.writer.write(write).await
    }

    async fn flush(&self) {
        self.writer.flush().await
    }

    /// Publishes every event committed after `after`, by any process, in id order.
    async fn publish_to(&self, publish: Publish, after: i64) -> StoreResult<()> {
        self.tailer.start(self.pool.clone(), publish, after);
        Ok(())
    }

    async fn apply(&self, changes: Vec<Change>) -> StoreResult<Applied> {
        self.writer.apply(changes).await
    }

    async fn reserve_event_id(&self) -> StoreResult<i64> {
        sqlx::query_scalar!("UPDATE event_ids SET last = last + 1 WHERE one = 1 RETURNING last")
            .fetch_one(&self.pool)
            .await
            .map_err(read_err("allocating an event id"))
    }

    /// Stores this process's `version` event for every process's streams; returns its id.
    async fn version_event(&self, data: String) -> StoreResult<i64> {
        self.writer.version_event(data).await
    }

    async fn last_event_id(&self) -> StoreResult<i64> {
        sqlx::query_scalar!("SELECT last FROM event_ids WHERE one = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(read_err("reading the last event id"))
    }

    async fn pruned_through(&self) -> StoreResult<i64> {
        sqlx::query_scalar!("SELECT pruned_through FROM event_ids WHERE one = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(read_err("reading how far events were pruned"))
    }

    async fn job(&self, owner: Option<&UserId>, id: &JobId) -> StoreResult<Option<Job>> {
        let owner = owner.map(UserId::as_str);
        let id = id.as_str();
        let job = match owner {
            Some(owner) => select_jobs!("WHERE id = $1 AND owner = $2", id, owner)
                .fetch_optional(&self.pool)
                .await
                .map(|row| row.map(Job::from)),
            None => select_jobs!("WHERE id = $1", id)
                .fetch_optional(&self.pool)
                .await
                .map(|row| row.map(Job::from)),
        };
        job.map_err(read_err("reading a job"))
    }

    async fn job_owner(&self, id: &JobId) -> StoreResult<Option<UserId>> {
        let id = id.as_str();
        sqlx::query_scalar!("SELECT owner FROM jobs WHERE id = $1", id)
            .fetch_optional(&self.pool)
            .await
            .map(|owner| owner.map(UserId::from))
            .map_err(read_err("reading a job's owner"))
    }

    async fn snapshot_jobs(&self, owner: Option<&UserId>, recent: u32) -> StoreResult<Vec<Job>> {
        let owner = owner.map(UserId::as_str);
        let jobs = match owner {
            Some(owner) => select_jobs!(
                "WHERE seq IN ( \
                     SELECT seq FROM jobs WHERE owner = $1 AND status IN ('queued', 'running', 'cancelling') \
                     UNION \
                     SELECT seq FROM (SELECT seq FROM jobs WHERE owner = $1 ORDER BY seq DESC LIMIT $2) recent \
                 ) ORDER BY seq DESC",
                owner,
                recent as i64
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(Job::from).collect()),
            None => select_jobs!(
                "WHERE seq IN ( \
                     SELECT seq FROM jobs WHERE status IN ('queued', 'running', 'cancelling') \
                     UNION \
                     SELECT seq FROM (SELECT seq FROM jobs ORDER BY seq DESC LIMIT $1) recent \
                 ) ORDER BY seq DESC",
                recent as i64
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(Job::from).collect()),
        };
        jobs.map_err(read_err("reading a snapshot"))
    }

    async fn orphaned_jobs(&self) -> StoreResult<Vec<Orphan>> {
        let rows: Vec<OrphanRow> = sqlx::query_as(&format!(
            "SELECT owner, claimed_by, {JOB_COLUMNS} FROM jobs \
             WHERE status IN ('running', 'cancelling') AND kind <> 'external' \
               AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM processes)) ORDER BY seq"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading orphaned jobs"))?;
        Ok(rows.into_iter().map(Orphan::from).collect())
    }

    async fn expired_leases(&self, now: i64, limit: u32) -> StoreResult<Vec<(UserId, JobId)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT owner, id FROM jobs \
             WHERE lease_until IS NOT NULL AND lease_until < $1 AND status IN ('running', 'cancelling') \
             ORDER BY lease_until LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading external jobs' leases"))?;
        Ok(rows
            .into_iter()
            .map(|(owner, id)| (owner.into(), id.into()))
            .collect())
    }

    async fn report_hash(&self, id: &JobId) -> StoreResult<Option<(UserId, String)>> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT owner, report_hash FROM jobs WHERE id = $1 AND kind = 'external'",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading a report token"))?;
        Ok(row.and_then(|(owner, hash)| Some((owner.into(), hash?))))
    }

    async fn checkpoint(&self, job_id: &JobId) -> StoreResult<Option<serde_json::Value>> {
        let job_id = job_id.as_str();
        let saved = sqlx::query_scalar!("SELECT checkpoint FROM jobs WHERE id = $1", job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(read_err("reading a checkpoint"))?;
        Ok(saved.flatten().and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn list_jobs(&self, owner: Option<&UserId>, filter: &JobFilter) -> StoreResult<Vec<Job>> {
        let owner = owner.map(UserId::as_str);
        let mut history = store_core::HistoryQuery::<sqlx::Postgres>::new(owner, filter, "ILIKE");
        let rows: Vec<JobRow> = history
            .query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(read_err("listing jobs"))?;
        Ok(history.jobs(rows))
    }

    async fn failure_groups(
        &self,
        owner: Option<&UserId>,
        since: i64,
        limit: u32,
    ) -> StoreResult<Vec<model::FailureGroup>> {
        let owner = owner.map(UserId::as_str);
        let mut groups = store_core::FailureGroupsQuery::<sqlx::Postgres>::new(owner, since, limit);
        let rows: Vec<store_core::FailureGroupRow> = groups
            .query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(read_err("grouping failed jobs"))?;
        Ok(store_core::FailureGroupsQuery::<sqlx::Postgres>::groups(
            rows,
        ))
    }

    async fn status_counts(
        &self,
        owner: Option<&UserId>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<StatusCount>> {
        let owner = owner.map(UserId::as_str);
        let counts: Result<Vec<(String, i64)>, sqlx::Error> = match owner {
            Some(owner) => sqlx::query!(
                r#"SELECT status, SUM(n)::bigint AS "n!" FROM job_counts
                   WHERE owner = $1 AND ($2::text IS NULL OR kind = $2) GROUP BY status"#,
                owner,
                kind
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(|r| (r.status, r.n)).collect()),
            None => sqlx::query!(
                r#"SELECT status, SUM(n)::bigint AS "n!" FROM job_counts
                   WHERE ($1::text IS NULL OR kind = $1) GROUP BY status"#,
                kind
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(|r| (r.status, r.n)).collect()),
        };
        Ok(store_core::status_counts(
            counts.map_err(read_err("counting jobs"))?,
        ))
    }

    async fn kind_pauses(&self) -> StoreResult<Vec<model::KindPause>> {
        sqlx::query_as!(
            model::KindPause,
            "SELECT kind, paused_by, paused_at FROM kind_pauses ORDER BY kind"
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading the paused kinds"))
    }

    async fn next_start(&self) -> StoreResult<Option<i64>> {
        let now = now_ms();
        sqlx::query_scalar!(
            "SELECT MIN(run_after) FROM jobs WHERE status = 'queued' AND run_after > $1",
            now
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("reading when the next waiting job is due"))
    }

    /// How many of the jobs `ids` exist and are `sees`'s (`None`: anyone's), in one query.
    async fn count_jobs(&self, sees: Option<&UserId>, ids: &[JobId]) -> StoreResult<u64> {
        let sees = sees.map(UserId::as_str);
        let ids: Vec<String> = ids.iter().map(JobId::to_string).collect();
        let n = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!" FROM jobs
               WHERE id = ANY($1) AND ($2::text IS NULL OR owner = $2)"#,
            &ids[..],
            sees
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("counting jobs"))?;
        Ok(n.max(0) as u64)
    }

    /// How many of `user`'s jobs wait in the queue.
    async fn queued_count(&self, user: &UserId) -> StoreResult<u64> {
        let user = user.as_str();
        let n = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!" FROM jobs WHERE owner = $1 AND status = 'queued'"#,
            user
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("counting a user's queued jobs"))?;
        Ok(n.max(0) as u64)
    }

    /// Where each of the jobs `ids` stands in the queue of every user's jobs, in the order
    /// claims take them ([`store_core::FairPick`]); `None` for one that is not queued.
    async fn queue_standings(
        &self,
        ids: &[JobId],
    ) -> StoreResult<Vec<Option<store_core::QueueStanding>>> {
        let wanted: Vec<String> = ids.iter().map(JobId::to_string).collect();
        let rows = sqlx::query!(
            r#"WITH running AS (
                 SELECT owner, COUNT(*) AS n FROM jobs WHERE status IN ('running', 'cancelling') GROUP BY owner
               ), queued AS (
                 SELECT j.id, j.kind, j.seq,
                        ROW_NUMBER() OVER (PARTITION BY j.owner ORDER BY j.seq) - 1 + COALESCE(r.n, 0) AS turn
                 FROM jobs j LEFT JOIN running r ON r.owner = j.owner
                 WHERE j.status = 'queued' AND (j.run_after IS NULL OR j.run_after <= $3)
                   AND NOT EXISTS (SELECT 1 FROM kind_pauses p WHERE p.kind IN (j.kind, '*'))
               ), ranked AS (
                 SELECT id, kind,
                        ROW_NUMBER() OVER (ORDER BY turn, seq) - 1 AS ahead,
                        ROW_NUMBER() OVER (PARTITION BY kind ORDER BY turn, seq) - 1 AS ahead_of_kind
                 FROM queued
               )
               SELECT id AS "id!", kind AS "kind!", ahead AS "ahead!", ahead_of_kind AS "ahead_of_kind!"
               FROM ranked WHERE id = ANY($1) OR ahead < $2 ORDER BY ahead"#,
            &wanted[..],
            store_core::QUEUE_LOOKAHEAD,
            now_ms()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading jobs' places in the queue"))?;
        Ok(store_core::QueueStanding::of(
            ids,
            rows.into_iter()
                .map(|r| (r.id, r.kind, r.ahead, r.ahead_of_kind)),
        ))
    }

    /// Every user's running (and cancelling) jobs, for estimates.
    async fn running_jobs(&self) -> StoreResult<Vec<store_core::RunningJob>> {
        let rows = sqlx::query!(
            r#"SELECT kind, started_at, current, total FROM jobs
               WHERE status IN ('running', 'cancelling')"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading the running jobs"))?;
        Ok(rows
            .into_iter()
            .map(|r| store_core::RunningJob {
                kind: r.kind,
                started_at: r.started_at,
                current: r.current,
                total: r.total,
            })
            .collect())
    }

    /// Jobs of every user that ended at or after `since` (Unix ms), the newest
    /// [`store_core::FINISHED_SAMPLE`] at most.
    async fn finished_since(&self, since: i64) -> StoreResult<Vec<store_core::FinishedJob>> {
        let limit = store_core::FINISHED_SAMPLE;
        let rows = sqlx::query!(
            r#"SELECT kind, status, started_at - created_at AS queued_ms, finished_at - started_at AS ran_ms
               FROM jobs WHERE finished_at >= $1 ORDER BY finished_at DESC LIMIT $2"#,
            since,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading the jobs that ended"))?;
        Ok(rows
            .into_iter()
            .map(|r| store_core::FinishedJob {
                kind: r.kind,
                status: r.status,
                queued_ms: r.queued_ms,
                ran_ms: r.ran_ms,
            })
            .collect())
    }

    /// The database's size on disk.
    async fn size_bytes(&self) -> StoreResult<u64> {
        let bytes: i64 =
            sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "n!""#)
                .fetch_one(&self.pool)
                .await
                .map_err(read_err("reading the database's size"))?;
        Ok(bytes.max(0) as u64)
    }

    /// Unfinished jobs of every user (queued, running, cancelling), by kind and status.
    async fn unfinished_by_kind(&self) -> StoreResult<Vec<store_core::KindCount>> {
        let rows = sqlx::query!(
            r#"SELECT kind, status, SUM(n)::bigint AS "n!" FROM job_counts
               WHERE status IN ('queued', 'running', 'cancelling') GROUP BY kind, status"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("counting unfinished jobs"))?;
        Ok(store_core::kind_counts(
            rows.into_iter().map(|r| (r.kind, r.status, r.n)),
        ))
    }

    async fn finished_per_minute(
        &self,
        owner: Option<&UserId>,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<MinuteStats>> {
        let owner = owner.map(UserId::as_str);
        macro_rules! minute_stats {
            ($rows:expr) => {
                $rows.map(|rows| {
                    rows.into_iter()
                        .map(|r| MinuteStats {
                            start: since + r.minute * 60_000,
                            finished: r.finished.max(0) as u64,
                            unsuccessful: r.unsuccessful.max(0) as u64,
                            avg_run_ms: r.avg_run.map(|a| a.max(0.0) as u64),
                            max_run_ms: r.max_run.map(|m| m.max(0) as u64),
                        })
                        .collect()
                })
            };
        }
        let stats = match owner {
            Some(owner) => minute_stats!(
                sqlx::query!(
                    r#"SELECT (finished_at - $2) / 60000 AS "minute!",
                          COUNT(*) AS "finished!",
                          COUNT(*) FILTER (WHERE status <> 'succeeded') AS "unsuccessful!",
                          AVG(finished_at - started_at)::float8 AS avg_run,
                          MAX(finished_at - started_at) AS max_run
                   FROM jobs WHERE owner = $1 AND finished_at >= $2 AND finished_at < $3
                   GROUP BY 1 ORDER BY 1"#,
                    owner,
                    since,
                    until
                )
                .fetch_all(&self.pool)
                .await
            ),
            None => minute_stats!(
                sqlx::query!(
                    r#"SELECT (finished_at - $1) / 60000 AS "minute!",
                          COUNT(*) AS "finished!",
                          COUNT(*) FILTER (WHERE status <> 'succeeded') AS "unsuccessful!",
                          AVG(finished_at - started_at)::float8 AS avg_run,
                          MAX(finished_at - started_at) AS max_run
                   FROM jobs WHERE finished_at >= $1 AND finished_at < $2
                   GROUP BY 1 ORDER BY 1"#,
                    since,
                    until
                )
                .fetch_all(&self.pool)
                .await
            ),
        };
        stats.map_err(read_err("reading the chart"))
    }

    async fn status_changes(&self, job_id: &JobId) -> StoreResult<Vec<StatusChange>> {
        let job_id = job_id.as_str();
        let rows = sqlx::query!(
            r#"SELECT (data::json ->> 'status') AS status, at
               FROM events WHERE job_id = $1 AND type = 'job' ORDER BY id"#,
            job_id
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading a timeline"))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(StatusChange {
                    status: JobStatus::parse(r.status.as_deref()?)?,
                    at: r.at,
                })
            })
            .collect())
    }

    async fn log_tail(&self, job_id: &JobId, limit: u32) -> StoreResult<(Vec<LogLine>, u64)> {
        let id = job_id.as_str();
        let total = sqlx::query_scalar!("SELECT log_seq FROM jobs WHERE id = $1", id)
            .fetch_optional(&self.pool)
            .await
            .map_err(read_err("counting log lines"))?;
        let total = total.unwrap_or(0).max(0) as u64;
        let after = total.saturating_sub(limit as u64);
        Ok((self.log_lines(job_id, after, limit).await?, total))
    }

    async fn log_lines(&self, job_id: &JobId, after: u64, limit: u32) -> StoreResult<Vec<LogLine>> {
        let job_id = job_id.as_str();
        let after = after.min(i64::MAX as u64) as i64;
        let rows = sqlx::query!(
            "SELECT job_id, seq, level, line, at, attempt FROM job_logs WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            job_id,
            after,
            limit as i64
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading log lines"))?;
        Ok(rows
            .into_iter()
            .map(|r| LogLine {
                job_id: r.job_id.into(),
                seq: r.seq.max(0) as u64,
                level: LogLevel::parse(&r.level).unwrap_or_default(),
                line: r.line,
                at: r.at,
                attempt: r.attempt.clamp(1, u32::MAX as i64) as u32,
            })
            .collect())
    }

    /// The newest `limit` lines of a job that pass `filter`, oldest first, and how many pass.
    async fn log_search(
        &self,
        job_id: &JobId,
        filter: &LogFilter,
        limit: u32,
    ) -> StoreResult<(Vec<LogLine>, u64)> {
        let job_id = job_id.as_str();
        let rank = filter.min_rank() as i32;
        let pattern = filter.q.as_deref().map(store_core::like_pattern);
        let fail = read_err("searching a log");
        let matching = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!" FROM job_logs
               WHERE job_id = $1
                 AND ($2 = 0 OR ($2 = 1 AND level IN ('warn', 'error')) OR ($2 = 2 AND level = 'error'))
                 AND ($3::text IS NULL OR line ILIKE $3 ESCAPE '\')"#,
            job_id,
            rank,
            pattern
        )
        .fetch_one(&self.pool)
        .await
        .map_err(&fail)?;
        let rows = sqlx::query!(
            r#"SELECT job_id, seq, level, line, at, attempt FROM job_logs
               WHERE job_id = $1
                 AND ($2 = 0 OR ($2 = 1 AND level IN ('warn', 'error')) OR ($2 = 2 AND level = 'error'))
                 AND ($3::text IS NULL OR line ILIKE $3 ESCAPE '\')
               ORDER BY seq DESC LIMIT $4"#,
            job_id,
            rank,
            pattern,
            limit as i64
        )
        .fetch_all(&self.pool)
        .await
        .map_err(&fail)?;
        let mut lines: Vec<LogLine> = rows
            .into_iter()
            .map(|r| LogLine {
                job_id: r.job_id.into(),
                seq: r.seq.max(0) as u64,
                level: LogLevel::parse(&r.level).unwrap_or_default(),
                line: r.line,
                at: r.at,
                attempt: r.attempt.clamp(1, u32::MAX as i64) as u32,
            })
            .collect();
        lines.reverse();
        Ok((lines, matching.max(0) as u64))
    }

    async fn active_notices(&self) -> StoreResult<Vec<Notice>> {
        sqlx::query_as!(
            Notice,
            "SELECT id, text, created_at FROM notices WHERE withdrawn_at IS NULL ORDER BY id"
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading notices"))
    }

    async fn owner_events_after(
        &self,
        owner: Option<&UserId>,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        let owner = owner.map(UserId::as_str);
        let rows = match owner {
            Some(owner) => {
                sqlx::query_as!(
                    EventRow,
                    r#"SELECT id, job_id, type AS kind, data FROM events
                   WHERE owner = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4"#,
                    owner,
                    after,
                    until,
                    limit as i64
                )
                .fetch_all(&self.pool)
                .await
            }
            // Every user's events: those of jobs (notices, without an owner, are not replayed).
            None => {
                sqlx::query_as!(
                    EventRow,
                    r#"SELECT id, job_id, type AS kind, data FROM events
                   WHERE id > $1 AND id <= $2 AND owner IS NOT NULL ORDER BY id LIMIT $3"#,
                    after,
                    until,
                    limit as i64
                )
                .fetch_all(&self.pool)
                .await
            }
        };
        Ok(stored_events(
            rows.map_err(read_err("reading a user's events"))?,
        ))
    }

    async fn job_events_after(
        &self,
        job_id: &JobId,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        let job_id = job_id.as_str();
        let rows = sqlx::query_as!(
            EventRow,
            r#"SELECT id, job_id, type AS kind, data FROM events
               WHERE job_id = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4"#,
            job_id,
            after,
            until,
            limit as i64
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading a job's events"))?;
        Ok(stored_events(rows))
    }

    async fn import_history(&self, owner: &UserId, jobs: Vec<Job>) -> StoreResult<()> {
        let owner = owner.as_str();
        self.writer.import(owner.to_string(), jobs).await
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn load_session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        sqlx::query_as!(
            SessionRow,
            r#"SELECT id, data, expires_at, user_id AS "user" FROM sessions WHERE id = $1"#,
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading a session"))
    }

    /// Up to `limit` sessions still stored under the cookie's own value (from before ids were
    /// stored as hashes, which are 64 characters long).
    async fn unhashed_sessions(&self, limit: i64) -> StoreResult<Vec<SessionRow>> {
        sqlx::query_as!(
            SessionRow,
            r#"SELECT id, data, expires_at, user_id AS "user" FROM sessions
               WHERE length(id) <> 64 LIMIT $1"#,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading sessions"))
    }

    /// How many sessions are stored.
    async fn session_count(&self) -> StoreResult<u64> {
        let n = sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!" FROM sessions"#)
            .fetch_one(&self.pool)
            .await
            .map_err(read_err("counting sessions"))?;
        Ok(n.max(0) as u64)
    }

    async fn create_session(&self, row: SessionRow) -> StoreResult<bool> {
        let done = sqlx::query!(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            row.id,
            row.data,
            row.expires_at,
            row.user
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("writing a session"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn save_session(&self, row: SessionRow) -> StoreResult<()> {
        sqlx::query!(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
                 user_id = excluded.user_id",
            row.id,
            row.data,
            row.expires_at,
            row.user
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("writing a session"))?;
        Ok(())
    }

    async fn delete_session(&self, id: &str) -> StoreResult<()> {
        sqlx::query!("DELETE FROM sessions WHERE id = $1", id)
            .execute(&self.pool)
            .await
            .map_err(read_err("deleting a session"))?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query!("DELETE FROM sessions WHERE expires_at < $1", now)
            .execute(&self.pool)
            .await
            .map_err(read_err("deleting expired sessions"))?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl ProcessRegistry for PgStore {
    /// Adds this process to the registry, its heartbeat now.
    async fn register(&self, p: &ProcessRow) -> StoreResult<ProcessRow> {
        let id = p.id.as_str();
        let row = sqlx::query!(
            "INSERT INTO processes (id, role, build, host, pid, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, headway_now_ms(), headway_now_ms()) \
             RETURNING id, role, build, host, pid, started_at, heartbeat_at",
            id,
            p.role,
            p.build,
            p.host,
            p.pid
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("registering this process"))?;
        Ok(store_core::process_row!(row))
    }

    /// Refreshes this process's heartbeat; false if it is no longer registered (another
    /// process took it for dead and took its jobs over).
    async fn heartbeat(&self, id: &ProcessId) -> StoreResult<bool> {
        let id = id.as_str();
        let done = sqlx::query!(
            "UPDATE processes SET heartbeat_at = headway_now_ms() WHERE id = $1",
            id
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("refreshing the heartbeat"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn deregister(&self, id: &ProcessId) -> StoreResult<()> {
        let id = id.as_str();
        sqlx::query!("DELETE FROM processes WHERE id = $1", id)
            .execute(&self.pool)
            .await
            .map_err(read_err("leaving the registry"))?;
        Ok(())
    }

    async fn processes(&self) -> StoreResult<Vec<ProcessRow>> {
        let rows = sqlx::query!(
            "SELECT id, role, build, host, pid, started_at, heartbeat_at FROM processes ORDER BY started_at, id"
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading the processes"))?;
        Ok(rows
            .into_iter()
            .map(|r| store_core::process_row!(r))
            .collect())
    }

    /// Removes from the registry every other process silent for longer than `lease_ms`;
    /// returns their ids. Their jobs are then orphans.
    async fn reap_stale(&self, me: &ProcessId, lease_ms: i64) -> StoreResult<Vec<ProcessId>> {
        let me = me.as_str();
        sqlx::query_scalar!(
            "DELETE FROM processes WHERE id <> $1 AND heartbeat_at < headway_now_ms() - $2 RETURNING id",
            me,
            lease_ms
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("removing silent processes"))
        .map(|ids| ids.into_iter().map(ProcessId::from).collect())
    }

    /// Takes or renews the lease `name` for `holder` for `ttl_ms`; false if another process
    /// holds it.
    async fn try_lease(&self, name: &str, holder: &ProcessId, ttl_ms: i64) -> StoreResult<bool> {
        let holder = holder.as_str();
        let held = sqlx::query_scalar!(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, headway_now_ms() + $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE leases.holder = excluded.holder OR leases.until < headway_now_ms() \
             RETURNING holder",
            name,
            holder,
            ttl_ms
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("taking a lease"))?;
        Ok(held.is_some())
    }
}

fn read_err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::new(what, e)
}

/// An `events` row as read back for a replay.
struct EventRow {
    id: i64,
    job_id: Option<String>,
    kind: String,
    data: String,
}

fn stored_events(rows: Vec<EventRow>) -> Vec<StoredEvent> {
    rows.into_iter()
        .filter_map(|r| store_core::stored_event(r.id, r.job_id, &r.kind, r.data))
        .collect()
}

/// `SELECT <job columns> FROM jobs <tail>` as a compile-checked query of [`JobRow`]s.
macro_rules! select_jobs {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(JobRow, "SELECT id, kind, params, status, current, total, unit, message, \
                      level, error_code, error_message, created_at, started_at, finished_at, event_id, \
                      timeout_ms, origin, progress_at, run_after, attempt, max_attempts, attempts, \
                      schedule_id, scheduled_for, outputs, result FROM jobs " + $tail $(, $arg)*)
    };
}
use select_jobs;

store_core::webhook_store!(PgStore, pool);
