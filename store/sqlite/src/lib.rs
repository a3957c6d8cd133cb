//! The SQLite backend: a file under `./data/` by default, in WAL mode.
//!
//! - reads go through a small sqlx pool, with queries checked at compile time against the schema
//!   (`sqlx::query!`, offline data in `.sqlx/`);
//! - every write happens on one thread with a rusqlite connection of its own ([`writer`]),
//!   statements prepared once, a batch per transaction;
//! - a lock file next to the database keeps a second server off it ([`lock`]);
//! - [`import`] writes `import_csv`'s tables into their own SQLite files.
//!
//! Migrations live in `migrations/sqlite/`.

mod accounts;
mod checkpoint;
mod files;
pub mod import;
mod lock;
mod private;
mod schedules;
mod writer;

use async_trait::async_trait;
use model::{
    Job, JobId, JobStatus, LogFilter, LogLevel, LogLine, MinuteStats, Notice, ProcessId,
    StatusChange, StatusCount, UserId,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store_core::{
    now_ms, Access, Applied, Change, JobFilter, JobRow, JobStore, OpenError, Orphan, OrphanRow,
    ProcessRegistry, ProcessRow, Publish, SessionRow, SessionStore, StoreError, StoreResult,
    StoredEvent, Write, JOB_COLUMNS,
};

/// How long a statement waits for a lock held by another connection before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: writer::Handle,
    /// The folder of the database file.
    dir: PathBuf,
    /// Held by a server until it has shut down: another server on this database is refused.
    lock: Arc<std::sync::Mutex<Option<lock::ProcessLock>>>,
}

/// Where the database is: `sqlite://data/headway.db`, `sqlite:data/headway.db?mode=rwc`,
/// `sqlite:///var/lib/headway/h.db?mode=ro`.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub path: PathBuf,
    /// `mode=ro`: open read-only (a server then refuses to start; see [`SqliteStore::open`]).
    pub read_only: bool,
    /// `mode=rw`: the file must exist already.
    pub must_exist: bool,
}

impl Location {
    pub fn parse(url: &str) -> Result<Location, String> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or("a SQLite URL starts with sqlite:")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err("the URL names no file".into());
        }
        if path == ":memory:" {
            return Err(
                "in-memory databases lose every job when the process exits; name a file".into(),
            );
        }
        let mut location = Location {
            path: PathBuf::from(path),
            read_only: false,
            must_exist: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("mode", "ro")) => location.read_only = true,
                Some(("mode", "rw")) => location.must_exist = true,
                Some(("mode", "rwc")) => {}
                _ => {
                    return Err(format!(
                        "unsupported parameter {pair:?} (mode=ro, mode=rw or mode=rwc)"
                    ))
                }
            }
        }
        Ok(location)
    }

    /// The folder holding the file (`.` for a bare file name).
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

impl SqliteStore {
    /// Opens the database, creating the file and its folder if missing, applies migrations, and
    /// starts the writer. With [`Access::Exclusive`] it first takes the database's lock, and then
    /// proves it can write: a server that could only fail requests does not start.
    pub async fn open(url: &str, access: Access) -> Result<SqliteStore, OpenError> {
        let location = Location::parse(url).map_err(|reason| OpenError::BadUrl {
            url: url.into(),
            reason,
        })?;
        let dir = location.dir();
        let open_err = |reason: String| OpenError::Open {
            url: url.into(),
            reason,
        };
        if !location.read_only && !location.must_exist {
            private::create_dir(&dir).map_err(|e| {
                open_err(format!(
                    "cannot create the directory {}: {e}",
                    dir.display()
                ))
            })?;
            // Created readable by this user only; SQLite gives its journal the same mode.
            private::create_file(&location.path).map_err(|e| {
                open_err(format!(
                    "cannot create the database file {}: {e}",
                    location.path.display()
                ))
            })?;
        }
        let lock = match access {
            Access::Exclusive => Some(lock::ProcessLock::take(&location.path)?),
            Access::Shared => None,
        };
        let options = SqliteConnectOptions::new()
            .filename(&location.path)
            .create_if_missing(!location.read_only && !location.must_exist)
            .read_only(location.read_only)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        if !location.read_only {
            sqlx::migrate!("../../migrations/sqlite")
                .run(&pool)
                .await
                .map_err(|e| OpenError::Migrate {
                    url: url.into(),
                    reason: e.to_string(),
                })?;
        }
        let writer =
            writer::Handle::start(&location, access == Access::Exclusive).map_err(|reason| {
                match location.read_only {
                    true => OpenError::NotWritable {
                        url: url.into(),
                        reason,
                    },
                    false => open_err(reason),
                }
            })?;
        let store = SqliteStore {
            pool,
            writer,
            dir,
            lock: Arc::new(std::sync::Mutex::new(lock)),
        };
        if access == Access::Exclusive {
            store
                .writer
                .probe()
                .await
                .map_err(|e| OpenError::NotWritable {
                    url: url.into(),
                    reason: model::error::Chain(&e).to_string(),
                })?;
        }
        Ok(store)
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    fn local_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn release(&self) {
        self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Whether this store can serve a process: the database answers with the schema this build
    /// migrates to, and the writer takes writes within `within`. `Err` says what is wrong.
    async fn check_ready(&self, within: std::time::Duration) -> StoreResult<()> {
        let newest = sqlx::migrate!("../../migrations/sqlite")
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

    /// Publishes every batch this process's writer commits from now on (the only writer of the
    /// database: nothing after `after` comes from elsewhere).
    async fn publish_to(&self, publish: Publish, _after: i64) -> StoreResult<()> {
        self.writer.publish_to(publish).await
    }

    async fn apply(&self, changes: Vec<Change>) -> StoreResult<Applied> {
        self.writer.apply(changes).await
    }

    async fn reserve_event_id(&self) -> StoreResult<i64> {
        self.writer.reserve_event_id().await
    }

    /// Allocates the id of this server's `version` event: the only server on the database, it
    /// tells its own streams.
    async fn version_event(&self, _data: String) -> StoreResult<i64> {
        self.writer.reserve_event_id().await
    }

    async fn last_event_id(&self) -> StoreResult<i64> {
        // As the writer counts: the newest stored event, or the floor kept for the others.
        sqlx::query_scalar!(
            r#"SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0),
                          COALESCE((SELECT last FROM event_ids WHERE one = 1), 0)) AS "last!: i64""#
        )
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
            Some(owner) => select_jobs!("WHERE id = ? AND owner = ?", id, owner)
                .fetch_optional(&self.pool)
                .await
                .map(|row| row.map(Job::from)),
            None => select_jobs!("WHERE id = ?", id)
                .fetch_optional(&self.pool)
                .await
                .map(|row| row.map(Job::from)),
        };
        job.map_err(read_err("reading a job"))
    }

    async fn job_owner(&self, id: &JobId) -> StoreResult<Option<UserId>> {
        let id = id.as_str();
        sqlx::query_scalar!("SELECT owner FROM jobs WHERE id = ?", id)
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
                     SELECT seq FROM jobs WHERE owner = ?1 AND status IN ('queued', 'running', 'cancelling') \
                     UNION \
                     SELECT seq FROM (SELECT seq FROM jobs WHERE owner = ?1 ORDER BY seq DESC LIMIT ?2) \
                 ) ORDER BY seq DESC",
                owner,
                recent
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(Job::from).collect()),
            None => select_jobs!(
                "WHERE seq IN ( \
                     SELECT seq FROM jobs WHERE status IN ('queued', 'running', 'cancelling') \
                     UNION \
                     SELECT seq FROM (SELECT seq FROM jobs ORDER BY seq DESC LIMIT ?1) \
                 ) ORDER BY seq DESC",
                recent
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(Job::from).collect()),
        };
        jobs.map_err(read_err("reading a snapshot"))
    }

    async fn orphaned_jobs(&self) -> StoreResult<Vec<Orphan>> {
        // The running jobs through `jobs_active`, not a read of every job: [`store_core::RUNNING`].
        let rows: Vec<OrphanRow> = sqlx::query_as(&format!(
            "SELECT owner, claimed_by, {JOB_COLUMNS} FROM jobs \
             WHERE status IN ('queued', 'running', 'cancelling') AND status IN ('running', 'cancelling') \
               AND kind <> 'external' \
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
             WHERE lease_until IS NOT NULL AND lease_until < ? AND status IN ('running', 'cancelling') \
             ORDER BY lease_until LIMIT ?",
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
            "SELECT owner, report_hash FROM jobs WHERE id = ? AND kind = 'external'",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading a report token"))?;
        Ok(row.and_then(|(owner, hash)| Some((owner.into(), hash?))))
    }

    async fn checkpoint(&self, job_id: &JobId) -> StoreResult<Option<serde_json::Value>> {
        let job_id = job_id.as_str();
        let saved = sqlx::query_scalar!("SELECT checkpoint FROM jobs WHERE id = ?", job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(read_err("reading a checkpoint"))?;
        Ok(saved.flatten().and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn list_jobs(&self, owner: Option<&UserId>, filter: &JobFilter) -> StoreResult<Vec<Job>> {
        let owner = owner.map(UserId::as_str);
        let mut history = store_core::HistoryQuery::<sqlx::Sqlite>::new(owner, filter, "LIKE");
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
        let mut groups = store_core::FailureGroupsQuery::<sqlx::Sqlite>::new(owner, since, limit);
        let rows: Vec<store_core::FailureGroupRow> = groups
            .query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(read_err("grouping failed jobs"))?;
        Ok(store_core::FailureGroupsQuery::<sqlx::Sqlite>::groups(rows))
    }

    async fn status_counts(
        &self,
        owner: Option<&UserId>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<StatusCount>> {
        let owner = owner.map(UserId::as_str);
        let counts: Result<Vec<(String, i64)>, sqlx::Error> = match owner {
            Some(owner) => sqlx::query!(
                r#"SELECT status, SUM(n) AS "n!: i64" FROM job_counts
                   WHERE owner = ?1 AND (?2 IS NULL OR kind = ?2) GROUP BY status"#,
                owner,
                kind
            )
            .fetch_all(&self.pool)
            .await
            .map(|rows| rows.into_iter().map(|r| (r.status, r.n)).collect()),
            None => sqlx::query!(
                r#"SELECT status, SUM(n) AS "n!: i64" FROM job_counts
                   WHERE (?1 IS NULL OR kind = ?1) GROUP BY status"#,
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
            r#"SELECT kind AS "kind!", paused_by, paused_at FROM kind_pauses ORDER BY kind"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading the paused kinds"))
    }

    async fn next_start(&self) -> StoreResult<Option<i64>> {
        let now = now_ms();
        sqlx::query_scalar!(
            r#"SELECT MIN(run_after) AS "next: i64" FROM jobs WHERE status = 'queued' AND run_after > ?1"#,
            now
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("reading when the next waiting job is due"))
    }

    /// How many of the jobs `ids` exist and are `sees`'s (`None`: anyone's), in one query.
    async fn count_jobs(&self, sees: Option<&UserId>, ids: &[JobId]) -> StoreResult<u64> {
        let sees = sees.map(UserId::as_str);
        let ids = serde_json::to_string(ids).expect("ids serialize");
        let n = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM jobs
               WHERE id IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR owner = ?2)"#,
            ids,
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
            r#"SELECT COUNT(*) AS "n!: i64" FROM jobs WHERE owner = ? AND status = 'queued'"#,
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
        let wanted = serde_json::to_string(ids).expect("ids serialize");
        let lookahead = store_core::QUEUE_LOOKAHEAD;
        let now = now_ms();
        // The running jobs through `jobs_active`, not a read of every job: [`store_core::RUNNING`].
        let rows = sqlx::query!(
            r#"WITH running AS (
                 SELECT owner, COUNT(*) AS n FROM jobs
                 WHERE status IN ('queued', 'running', 'cancelling') AND status IN ('running', 'cancelling')
                 GROUP BY owner
               ), queued AS (
                 SELECT j.id, j.kind, j.seq,
                        ROW_NUMBER() OVER (PARTITION BY j.owner ORDER BY j.seq) - 1 + COALESCE(r.n, 0) AS turn
                 FROM jobs j LEFT JOIN running r ON r.owner = j.owner
                 WHERE j.status = 'queued' AND (j.run_after IS NULL OR j.run_after <= ?3)
                   AND NOT EXISTS (SELECT 1 FROM kind_pauses p WHERE p.kind IN (j.kind, '*'))
               ), ranked AS (
                 SELECT id, kind,
                        ROW_NUMBER() OVER (ORDER BY turn, seq) - 1 AS ahead,
                        ROW_NUMBER() OVER (PARTITION BY kind ORDER BY turn, seq) - 1 AS ahead_of_kind
                 FROM queued
               )
               SELECT id AS "id!: String", kind AS "kind!: String", ahead AS "ahead!: i64",
                      ahead_of_kind AS "ahead_of_kind!: i64"
               FROM ranked WHERE id IN (SELECT value FROM json_each(?1)) OR ahead < ?2 ORDER BY ahead"#,
            wanted,
            lookahead,
            now
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
        // The running jobs through `jobs_active`, not a read of every job: [`store_core::RUNNING`].
        let rows = sqlx::query!(
            r#"SELECT kind, started_at, current AS "current!: i64", total FROM jobs
               WHERE status IN ('queued', 'running', 'cancelling') AND status IN ('running', 'cancelling')"#
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
            r#"SELECT kind, status, started_at - created_at AS "queued_ms: i64",
                      finished_at - started_at AS "ran_ms: i64"
               FROM jobs WHERE finished_at >= ?1 ORDER BY finished_at DESC LIMIT ?2"#,
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

    /// The database's size on disk: its pages (the write-ahead log aside).
    async fn size_bytes(&self) -> StoreResult<u64> {
        let pages: i64 = sqlx::query_scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("reading the database's size"))?;
        Ok(pages.max(0) as u64)
    }

    /// Unfinished jobs of every user (queued, running, cancelling), by kind and status.
    async fn unfinished_by_kind(&self) -> StoreResult<Vec<store_core::KindCount>> {
        let rows = sqlx::query!(
            r#"SELECT kind, status, SUM(n) AS "n!: i64" FROM job_counts
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
                    r#"SELECT (finished_at - ?2) / 60000 AS "minute!: i64",
                          COUNT(*) AS "finished!: i64",
                          SUM(status <> 'succeeded') AS "unsuccessful!: i64",
                          AVG(finished_at - started_at) AS "avg_run: f64",
                          MAX(finished_at - started_at) AS "max_run: i64"
                   FROM jobs WHERE owner = ?1 AND finished_at >= ?2 AND finished_at < ?3
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
                    r#"SELECT (finished_at - ?1) / 60000 AS "minute!: i64",
                          COUNT(*) AS "finished!: i64",
                          SUM(status <> 'succeeded') AS "unsuccessful!: i64",
                          AVG(finished_at - started_at) AS "avg_run: f64",
                          MAX(finished_at - started_at) AS "max_run: i64"
                   FROM jobs WHERE finished_at >= ?1 AND finished_at < ?2
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
            r#"SELECT json_extract(data, '$.status') AS "status: String", at
               FROM events WHERE job_id = ? AND type = 'job' ORDER BY id"#,
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
        let total = sqlx::query_scalar!("SELECT log_seq FROM jobs WHERE id = ?", id)
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
            "SELECT job_id, seq, level, line, at, attempt FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            job_id,
            after,
            limit
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
        let rank = filter.min_rank();
        let pattern = filter.q.as_deref().map(store_core::like_pattern);
        let fail = read_err("searching a log");
        let matching = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM job_logs
               WHERE job_id = ?1
                 AND (?2 = 0 OR (?2 = 1 AND level IN ('warn', 'error')) OR (?2 = 2 AND level = 'error'))
                 AND (?3 IS NULL OR line LIKE ?3 ESCAPE '\')"#,
            job_id,
            rank,
            pattern
        )
        .fetch_one(&self.pool)
        .await
        .map_err(&fail)?;
        let rows = sqlx::query!(
            r#"SELECT job_id, seq, level, line, at, attempt FROM job_logs
               WHERE job_id = ?1
                 AND (?2 = 0 OR (?2 = 1 AND level IN ('warn', 'error')) OR (?2 = 2 AND level = 'error'))
                 AND (?3 IS NULL OR line LIKE ?3 ESCAPE '\')
               ORDER BY seq DESC LIMIT ?4"#,
            job_id,
            rank,
            pattern,
            limit
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
                    r#"SELECT id AS "id!: i64", job_id, type AS kind, data FROM events
                   WHERE owner = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?"#,
                    owner,
                    after,
                    until,
                    limit
                )
                .fetch_all(&self.pool)
                .await
            }
            // Every user's events: those of jobs (notices, without an owner, are not replayed).
            None => {
                sqlx::query_as!(
                    EventRow,
                    r#"SELECT id AS "id!: i64", job_id, type AS kind, data FROM events
                   WHERE id > ? AND id <= ? AND owner IS NOT NULL ORDER BY id LIMIT ?"#,
                    after,
                    until,
                    limit
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
            r#"SELECT id AS "id!: i64", job_id, type AS kind, data FROM events
               WHERE job_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?"#,
            job_id,
            after,
            until,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading a job's events"))?;
        Ok(stored_events(rows))
    }

    async fn import_history(&self, owner: &UserId, jobs: Vec<Job>) -> StoreResult<()> {
        let owner = owner.as_str();
        self.writer.import_history(owner.to_string(), jobs).await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load_session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        sqlx::query_as!(
            SessionRow,
            r#"SELECT id, data, expiry_date AS "expires_at!: i64", user FROM tower_sessions WHERE id = ?"#,
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
            r#"SELECT id, data, expiry_date AS "expires_at!: i64", user FROM tower_sessions
               WHERE length(id) <> 64 LIMIT ?"#,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading sessions"))
    }

    /// How many sessions are stored.
    async fn session_count(&self) -> StoreResult<u64> {
        let n = sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!: i64" FROM tower_sessions"#)
            .fetch_one(&self.pool)
            .await
            .map_err(read_err("counting sessions"))?;
        Ok(n.max(0) as u64)
    }

    async fn create_session(&self, row: SessionRow) -> StoreResult<bool> {
        self.writer.create_session(row).await
    }

    async fn save_session(&self, row: SessionRow) -> StoreResult<()> {
        self.writer.save_session(row).await
    }

    async fn delete_session(&self, id: &str) -> StoreResult<()> {
        self.writer.delete_session(id.to_string()).await
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        self.writer.delete_expired_sessions(now).await
    }
}

#[async_trait]
impl ProcessRegistry for SqliteStore {
    /// Adds this process to the registry, its heartbeat now.
    async fn register(&self, p: &ProcessRow) -> StoreResult<ProcessRow> {
        let now = now_ms();
        let id = p.id.as_str();
        sqlx::query!(
            "INSERT INTO processes (id, role, build, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            id,
            p.role,
            p.build,
            p.host,
            p.pid,
            now,
            now
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("registering this process"))?;
        Ok(ProcessRow {
            started_at: now,
            heartbeat_at: now,
            ..p.clone()
        })
    }

    /// Refreshes this process's heartbeat; false if it is no longer registered.
    async fn heartbeat(&self, id: &ProcessId) -> StoreResult<bool> {
        let id = id.as_str();
        let now = now_ms();
        let done = sqlx::query!(
            "UPDATE processes SET heartbeat_at = ? WHERE id = ?",
            now,
            id
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("refreshing the heartbeat"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn deregister(&self, id: &ProcessId) -> StoreResult<()> {
        let id = id.as_str();
        sqlx::query!("DELETE FROM processes WHERE id = ?", id)
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

    /// Removes every other process from the registry, whatever its heartbeat: the lock file
    /// proves that no other server uses this database, so whichever registered before is gone.
    async fn reap_stale(&self, me: &ProcessId, _lease_ms: i64) -> StoreResult<Vec<ProcessId>> {
        let me = me.as_str();
        sqlx::query_scalar!("DELETE FROM processes WHERE id <> ? RETURNING id", me)
            .fetch_all(&self.pool)
            .await
            .map_err(read_err("removing processes that are gone"))
            .map(|ids| ids.into_iter().map(ProcessId::from).collect())
    }

    /// One server per database: every lease is its own.
    async fn try_lease(&self, _name: &str, _holder: &ProcessId, _ttl_ms: i64) -> StoreResult<bool> {
        Ok(true)
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

#[cfg(test)]
mod tests;

store_core::webhook_store!(SqliteStore, pool);
