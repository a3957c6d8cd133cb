//! The store: every SQL statement Headway runs lives in this module.
//!
//! Reads go through the pool from any task. Writes are made only by the writer
//! (`engine::writer`), inside its batched transactions, through the `tx_*` functions here.

use crate::model::{
    EventType, Job, JobError, JobStatus, Level, LogLevel, LogLine, MinuteStats, Notice, Progress, StatusChange,
    StatusCount,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::FromRow;
use std::str::FromStr;
use std::time::Duration;


/// The columns of `jobs` that make up a [`Job`], in the order of [`JobRow`].
pub(super) const JOB_COLUMNS: &str = "id, kind, params, status, current, total, unit, message, level, \
     error_code, error_message, created_at, started_at, finished_at, event_id, timeout_ms, origin, \
     progress_at";

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// Why the database could not be opened, in words fit for a one-line startup error.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("invalid database URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot open database {url:?}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot apply migrations to {url:?}: {source}")]
    Migrate { url: String, source: sqlx::migrate::MigrateError },
}

impl Store {
    /// Opens (creating if missing) the SQLite database at `url`, in WAL mode, and applies the
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, OpenError> {
        if !url.starts_with("sqlite:") {
            return Err(OpenError::BadUrl {
                url: url.into(),
                reason: "only sqlite: URLs are supported, e.g. sqlite://data/headway.db".into(),
            });
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| OpenError::BadUrl { url: url.into(), reason: e.to_string() })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Open { url: url.into(), source })?;
        sqlx::migrate!("../migrations")
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate { url: url.into(), source })?;
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The highest event id ever handed out (jobs remember theirs even after events are pruned).
    pub async fn last_event_id(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(x) FROM (SELECT MAX(id) AS x FROM events \
             UNION ALL SELECT MAX(event_id) FROM jobs)",
        )
        .fetch_one(&self.pool)
        .await
        .map(|v| v.unwrap_or(0))
    }

    pub async fn job(&self, owner: &str, id: &str) -> sqlx::Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND owner = ?");
        let row: Option<JobRow> =
            sqlx::query_as(&sql).bind(id).bind(owner).fetch_optional(&self.pool).await?;
        Ok(row.map(Job::from))
    }

    /// The owner's jobs, newest first.
    pub async fn recent_jobs(&self, owner: &str, limit: u32) -> sqlx::Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE owner = ? ORDER BY seq DESC LIMIT ?"
        );
        let rows: Vec<JobRow> =
            sqlx::query_as(&sql).bind(owner).bind(limit).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Job::from).collect())
    }

    /// What a stream's `snapshot` shows: the owner's unfinished jobs and the latest ones,
    /// newest first.
    pub async fn snapshot_jobs(&self, owner: &str, recent: u32) -> sqlx::Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE seq IN ( \
                 SELECT seq FROM jobs WHERE owner = ?1 \
                     AND status IN ('queued', 'running', 'cancelling') \
                 UNION \
                 SELECT seq FROM (SELECT seq FROM jobs WHERE owner = ?1 ORDER BY seq DESC LIMIT ?2) \
             ) ORDER BY seq DESC"
        );
        let rows: Vec<JobRow> =
            sqlx::query_as(&sql).bind(owner).bind(recent).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Job::from).collect())
    }

    /// Jobs of every owner in the given states, oldest first (used for recovery at start-up).
    pub async fn jobs_in(&self, statuses: &[JobStatus]) -> sqlx::Result<Vec<(String, Job)>> {
        let list = status_list(statuses);
        let sql = format!(
            "SELECT owner, {JOB_COLUMNS} FROM jobs WHERE status IN ({list}) ORDER BY seq"
        );
        let rows: Vec<OwnedJobRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| (r.owner, Job::from(r.job))).collect())
    }

    /// Queued jobs of every owner in queue order, with the checkpoint of an earlier run.
    pub async fn queued_jobs(&self) -> sqlx::Result<Vec<(String, Job, Option<serde_json::Value>)>> {
        let sql = format!(
            "SELECT owner, checkpoint, {JOB_COLUMNS} FROM jobs WHERE status = 'queued' ORDER BY seq"
        );
        let rows: Vec<QueuedRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let checkpoint = r.checkpoint.and_then(|c| serde_json::from_str(&c).ok());
                (r.owner, Job::from(r.job), checkpoint)
            })
            .collect())
    }

    /// The checkpoint a resumable job saved last.
    pub async fn checkpoint(&self, job_id: &str) -> sqlx::Result<Option<serde_json::Value>> {
        let saved: Option<Option<String>> = sqlx::query_scalar("SELECT checkpoint FROM jobs WHERE id = ?")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(saved.flatten().and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// One page of the owner's jobs, newest first: the `limit` jobs just older than `before`, or
    /// just newer than `after` (keyset pagination on the insertion order), or the newest ones.
    pub async fn list_jobs(&self, owner: &str, filter: &JobFilter) -> sqlx::Result<Vec<Job>> {
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE owner = ?");
        if !filter.statuses.is_empty() {
            sql.push_str(&format!(" AND status IN ({})", status_list(&filter.statuses)));
        }
        if filter.kind.is_some() {
            sql.push_str(" AND kind = ?");
        }
        let search = filter.search.as_deref().map(Search::parse);
        match &search {
            // A job id or the start of one: a range on the unique index of ids.
            Some(Search::IdPrefix { .. }) => sql.push_str(" AND id >= ? AND id < ?"),
            Some(Search::Text(_)) => sql.push_str(
                " AND (message LIKE ? ESCAPE '\\' OR error_message LIKE ? ESCAPE '\\')",
            ),
            None => {}
        }
        let newer = filter.before.is_none() && filter.after.is_some();
        if filter.before.is_some() {
            sql.push_str(" AND seq < (SELECT seq FROM jobs WHERE id = ? AND owner = ?)");
        } else if newer {
            sql.push_str(" AND seq > (SELECT seq FROM jobs WHERE id = ? AND owner = ?)");
        }
        sql.push_str(if newer { " ORDER BY seq ASC LIMIT ?" } else { " ORDER BY seq DESC LIMIT ?" });
        let mut q = sqlx::query_as::<_, JobRow>(&sql).bind(owner);
        if let Some(kind) = &filter.kind {
            q = q.bind(kind);
        }
        match search {
            Some(Search::IdPrefix { low, high }) => q = q.bind(low).bind(high),
            Some(Search::Text(pattern)) => q = q.bind(pattern.clone()).bind(pattern),
            None => {}
        }
        if let Some(key) = filter.before.as_ref().or(filter.after.as_ref()) {
            q = q.bind(key).bind(owner);
        }
        let rows = q.bind(filter.limit).fetch_all(&self.pool).await?;
        let mut jobs: Vec<Job> = rows.into_iter().map(Job::from).collect();
        if newer {
            jobs.reverse();
        }
        Ok(jobs)
    }

    /// How many jobs the owner has in each status (of one kind, or of all), from the counts the
    /// triggers keep: a few rows, whatever the number of jobs.
    pub async fn status_counts(&self, owner: &str, kind: Option<&str>) -> sqlx::Result<Vec<StatusCount>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, SUM(n) FROM job_counts WHERE owner = ?1 AND (?2 IS NULL OR kind = ?2) \
             GROUP BY status",
        )
        .bind(owner)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        let mut counts: Vec<StatusCount> = JobStatus::ALL
            .into_iter()
            .map(|status| StatusCount { status, n: 0 })
            .collect();
        for (status, n) in rows {
            if let Some(c) = counts.iter_mut().find(|c| c.status.as_str() == status) {
                c.n = n.max(0) as u64;
            }
        }
        Ok(counts)
    }

    /// Jobs the owner's jobs finished per minute in `[since, until)`, with their run times,
    /// oldest minute first; minutes without a finished job are absent.
    pub async fn finished_per_minute(
        &self,
        owner: &str,
        since: i64,
        until: i64,
    ) -> sqlx::Result<Vec<MinuteStats>> {
        let rows: Vec<(i64, i64, i64, Option<f64>, Option<i64>)> = sqlx::query_as(
            "SELECT (finished_at - ?2) / 60000 AS minute, COUNT(*), \
                 SUM(status <> 'succeeded'), \
                 AVG(finished_at - started_at), MAX(finished_at - started_at) \
             FROM jobs WHERE owner = ?1 AND finished_at >= ?2 AND finished_at < ?3 \
             GROUP BY minute ORDER BY minute",
        )
        .bind(owner)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(minute, finished, unsuccessful, avg, max)| MinuteStats {
                start: since + minute * 60_000,
                finished: finished.max(0) as u64,
                unsuccessful: unsuccessful.max(0) as u64,
                avg_run_ms: avg.map(|a| a.max(0.0) as u64),
                max_run_ms: max.map(|m| m.max(0) as u64),
            })
            .collect())
    }

    /// The statuses a job went through and when, from its stored `job` events (oldest first).
    /// Events older than the retention period are gone; the job's own times cover those.
    pub async fn status_changes(&self, job_id: &str) -> sqlx::Result<Vec<StatusChange>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT json_extract(data, '$.status'), at FROM events \
             WHERE job_id = ? AND type = 'job' ORDER BY id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(status, at)| Some(StatusChange { status: JobStatus::parse(&status)?, at }))
            .collect())
    }

    /// The last `limit` log lines of a job, in order, and how many lines it has in all.
    pub async fn log_tail(&self, job_id: &str, limit: u32) -> sqlx::Result<(Vec<LogLine>, u64)> {
        let total: Option<i64> = sqlx::query_scalar("SELECT log_seq FROM jobs WHERE id = ?")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        let total = total.unwrap_or(0).max(0) as u64;
        let after = total.saturating_sub(limit as u64);
        Ok((self.log_lines(job_id, after, limit).await?, total))
    }

    /// Notices in force, oldest first.
    pub async fn active_notices(&self) -> sqlx::Result<Vec<Notice>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, text, created_at FROM notices WHERE withdrawn_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, text, created_at)| Notice { id, text, created_at }).collect())
    }

    /// The smallest event id still stored, if any.
    pub async fn oldest_event_id(&self) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar("SELECT MIN(id) FROM events").fetch_one(&self.pool).await
    }

    /// Stored events of one owner after `after`, oldest first.
    pub async fn owner_events_after(
        &self,
        owner: &str,
        after: i64,
        limit: u32,
    ) -> sqlx::Result<Vec<StoredEvent>> {
        sqlx::query_as(
            "SELECT id, job_id, type, data FROM events WHERE owner = ? AND id > ? \
             ORDER BY id LIMIT ?",
        )
        .bind(owner)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Stored events of one job after `after`, oldest first.
    pub async fn job_events_after(
        &self,
        job_id: &str,
        after: i64,
        limit: u32,
    ) -> sqlx::Result<Vec<StoredEvent>> {
        sqlx::query_as(
            "SELECT id, job_id, type, data FROM events WHERE job_id = ? AND id > ? \
             ORDER BY id LIMIT ?",
        )
        .bind(job_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Log lines of one job with `seq > after`, in order.
    pub async fn log_lines(&self, job_id: &str, after: u64, limit: u32) -> sqlx::Result<Vec<LogLine>> {
        let rows: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT job_id, seq, level, line, at FROM job_logs WHERE job_id = ? AND seq > ? \
             ORDER BY seq LIMIT ?",
        )
        .bind(job_id)
        .bind(after as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(job_id, seq, level, line, at)| LogLine {
                job_id,
                seq: seq as u64,
                level: LogLevel::parse(&level).unwrap_or_default(),
                line,
                at,
            })
            .collect())
    }
}

// ----- writes: only the writer calls these, inside its transaction -----

/// A job's event to insert.
pub struct NewEvent {
    pub id: i64,
    pub owner: String,
    pub job_id: String,
    pub kind: EventType,
    pub data: String,
    pub at: i64,
}

/// An event as read back from the store for a replay.
#[derive(Debug, Clone, FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub job_id: Option<String>,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub data: String,
}

fn status_list(statuses: &[JobStatus]) -> String {
    // The names are fixed identifiers from the enum, never user input.
    statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

#[derive(FromRow)]
struct JobRow {
    id: String,
    kind: String,
    params: String,
    status: String,
    current: i64,
    total: Option<i64>,
    unit: String,
    message: String,
    level: String,
    error_code: Option<String>,
    error_message: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    event_id: i64,
    timeout_ms: Option<i64>,
    origin: Option<String>,
    progress_at: Option<i64>,
}

/// Which jobs a list shows.
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

/// What a search string asks for: a job by (the start of) its id, or a part of its message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    /// Ids from `low` (inclusive) to `high` (exclusive): every id starting with the prefix.
    IdPrefix { low: String, high: String },
    /// A `LIKE` pattern matching the text anywhere.
    Text(String),
}

impl Search {
    /// At least 8 characters of a UUID (hex digits and dashes) search ids; anything else
    /// searches messages.
    fn parse(search: &str) -> Search {
        let s = search.trim().to_ascii_lowercase();
        let id_like = s.len() >= 8
            && s.len() <= 36
            && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if id_like {
            // Dashes and hex digits are ASCII: bumping the last byte gives the end of the range.
            let mut high = s.clone().into_bytes();
            *high.last_mut().expect("at least 8 bytes") += 1;
            let high = String::from_utf8(high).expect("ASCII stays UTF-8");
            return Search::IdPrefix { low: s, high };
        }
        let escaped = search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        Search::Text(format!("%{escaped}%"))
    }
}

#[derive(FromRow)]
struct QueuedRow {
    owner: String,
    checkpoint: Option<String>,
    #[sqlx(flatten)]
    job: JobRow,
}

#[derive(FromRow)]
struct OwnedJobRow {
    owner: String,
    #[sqlx(flatten)]
    job: JobRow,
}

/// A row of `SELECT {JOB_COLUMNS}` read on the writer's connection ([`super::writes`]).
pub(super) fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job::from(JobRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        params: r.get(2)?,
        status: r.get(3)?,
        current: r.get(4)?,
        total: r.get(5)?,
        unit: r.get(6)?,
        message: r.get(7)?,
        level: r.get(8)?,
        error_code: r.get(9)?,
        error_message: r.get(10)?,
        created_at: r.get(11)?,
        started_at: r.get(12)?,
        finished_at: r.get(13)?,
        event_id: r.get(14)?,
        timeout_ms: r.get(15)?,
        origin: r.get(16)?,
        progress_at: r.get(17)?,
    }))
}

impl From<JobRow> for Job {
    fn from(r: JobRow) -> Job {
        Job {
            id: r.id,
            kind: r.kind,
            params: serde_json::from_str(&r.params).unwrap_or(serde_json::Value::Null),
            status: JobStatus::parse(&r.status).unwrap_or(JobStatus::Interrupted),
            progress: Progress {
                current: r.current.max(0) as u64,
                total: r.total.map(|t| t.max(0) as u64),
                unit: r.unit,
                message: r.message,
                level: Level::parse(&r.level).unwrap_or_default(),
                at: r.progress_at,
            },
            error: r.error_code.map(|code| JobError {
                code,
                message: r.error_message.unwrap_or_default(),
            }),
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            event_id: r.event_id,
            timeout_ms: r.timeout_ms.map(|t| t.max(0) as u64),
            origin: r.origin,
        }
    }
}
