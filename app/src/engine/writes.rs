//! The writer's statements: every change to jobs, logs, events and notices, run synchronously on
//! the writer's own thread and connection, each statement prepared once and kept.
//!
//! The connection is one of the store's (opened by sqlx, with its pragmas: WAL, busy timeout,
//! foreign keys), taken out of the pool for good and driven through SQLite's C API. Through sqlx
//! every statement is a message to the connection's worker thread and back, which on two cores
//! cost far more than SQLite's own work; here a batch of a few hundred statements runs without
//! leaving the thread.

use super::store::{job_from_row, NewEvent, JOB_COLUMNS};
use crate::model::{Job, JobError, JobStatus, LogLevel, LogLine, Notice, Progress};
use rusqlite::{params, OptionalExtension, Transaction};

/// Rows per multi-row `INSERT` into `events` at most; statements are made for powers of two up
/// to it, so that a handful of prepared statements serve every batch size.
const EVENT_ROWS_PER_INSERT: usize = 256;

pub fn insert_job(tx: &Transaction<'_>, owner: &str, job: &Job) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
             created_at, event_id, timeout_ms, origin) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
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
    ])?;
    Ok(())
}

/// Moves a job to `to` if the state machine allows it from its current status; returns the
/// updated job, or `None` when it does not (or there is no such job).
pub fn transition(
    tx: &Transaction<'_>,
    job_id: &str,
    to: JobStatus,
    error: Option<&JobError>,
    at: i64,
    event_id: i64,
) -> rusqlite::Result<Option<Job>> {
    let from: Vec<&str> =
        JobStatus::ALL.into_iter().filter(|s| s.can_become(to)).map(|s| s.as_str()).collect();
    if from.is_empty() {
        return Ok(None);
    }
    // The names are fixed identifiers from the enum, never user input.
    let list = from.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    // started_at is set on the first move to running; finished_at on reaching a terminal
    // state (and cleared when an interrupted job is queued again).
    let sql = format!(
        "UPDATE jobs SET status = ?1, \
             started_at = CASE WHEN ?1 = 'running' THEN COALESCE(started_at, ?2) ELSE started_at END, \
             finished_at = CASE WHEN ?3 THEN ?2 ELSE NULL END, \
             error_code = ?4, error_message = ?5, event_id = ?6 \
         WHERE id = ?7 AND status IN ({list}) \
         RETURNING {JOB_COLUMNS}"
    );
    tx.prepare_cached(&sql)?
        .query_row(
            params![
                to.as_str(),
                at,
                to.is_terminal(),
                error.map(|e| e.code.as_str()),
                error.map(|e| e.message.as_str()),
                event_id,
                job_id,
            ],
            job_from_row,
        )
        .optional()
}

/// Records a progress sample of a running (or cancelling) job; false if the job is not.
pub fn progress(tx: &Transaction<'_>, job_id: &str, p: &Progress, event_id: i64) -> rusqlite::Result<bool> {
    let changed = tx
        .prepare_cached(
            "UPDATE jobs SET current = ?, total = ?, unit = ?, message = ?, level = ?, event_id = ?, \
                 progress_at = ? \
             WHERE id = ? AND status IN ('running', 'cancelling')",
        )?
        .execute(params![
            p.current as i64,
            p.total.map(|t| t as i64),
            p.unit,
            p.message,
            p.level.as_str(),
            event_id,
            p.at,
            job_id,
        ])?;
    Ok(changed == 1)
}

/// Appends a line to a job's log; `None` if there is no such job.
pub fn log(
    tx: &Transaction<'_>,
    job_id: &str,
    level: LogLevel,
    line: &str,
    at: i64,
    event_id: i64,
) -> rusqlite::Result<Option<LogLine>> {
    let seq: Option<i64> = tx
        .prepare_cached("UPDATE jobs SET log_seq = log_seq + 1, event_id = ? WHERE id = ? RETURNING log_seq")?
        .query_row(params![event_id, job_id], |r| r.get(0))
        .optional()?;
    let Some(seq) = seq else { return Ok(None) };
    tx.prepare_cached("INSERT INTO job_logs (job_id, seq, level, line, at) VALUES (?, ?, ?, ?, ?)")?
        .execute(params![job_id, seq, level.as_str(), line, at])?;
    Ok(Some(LogLine { job_id: job_id.to_string(), seq: seq as u64, level, line: line.to_string(), at }))
}

/// Deletes up to `limit` of the oldest events written before `before_ms`; returns the highest
/// id deleted.
pub fn prune_events(tx: &Transaction<'_>, before_ms: i64, limit: u32) -> rusqlite::Result<Option<i64>> {
    let last: Option<i64> = tx
        .prepare_cached("SELECT MAX(id) FROM (SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?)")?
        .query_row(params![before_ms, limit], |r| r.get(0))?;
    if let Some(last) = last {
        tx.prepare_cached("DELETE FROM events WHERE id <= ?")?.execute([last])?;
    }
    Ok(last)
}

pub fn insert_notice(tx: &Transaction<'_>, notice: &Notice) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO notices (id, text, created_at) VALUES (?, ?, ?)")?
        .execute(params![notice.id, notice.text, notice.created_at])?;
    Ok(())
}

/// Withdraws every notice in force; returns them.
pub fn withdraw_notices(tx: &Transaction<'_>, at: i64) -> rusqlite::Result<Vec<Notice>> {
    let mut stmt = tx.prepare_cached(
        "UPDATE notices SET withdrawn_at = ? WHERE withdrawn_at IS NULL RETURNING id, text, created_at",
    )?;
    let rows = stmt.query_map([at], |r| Ok(Notice { id: r.get(0)?, text: r.get(1)?, created_at: r.get(2)? }))?;
    rows.collect()
}

pub fn checkpoint(tx: &Transaction<'_>, job_id: &str, value: &serde_json::Value) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE jobs SET checkpoint = ? WHERE id = ?")?.execute(params![value.to_string(), job_id])?;
    Ok(())
}

/// Inserts a batch's events with multi-row `INSERT`s.
pub fn insert_events(tx: &Transaction<'_>, rows: &[NewEvent]) -> rusqlite::Result<()> {
    let mut rest = rows;
    while !rest.is_empty() {
        let n = EVENT_ROWS_PER_INSERT.min(1 << rest.len().ilog2());
        let (now, later) = rest.split_at(n);
        let values = vec!["(?, ?, ?, ?, ?, ?)"; n].join(", ");
        let sql = format!("INSERT INTO events (id, owner, job_id, type, data, at) VALUES {values}");
        let mut stmt = tx.prepare_cached(&sql)?;
        for (i, e) in now.iter().enumerate() {
            let k = i * 6;
            stmt.raw_bind_parameter(k + 1, e.id)?;
            stmt.raw_bind_parameter(k + 2, &e.owner)?;
            stmt.raw_bind_parameter(k + 3, &e.job_id)?;
            stmt.raw_bind_parameter(k + 4, e.kind.as_str())?;
            stmt.raw_bind_parameter(k + 5, &e.data)?;
            stmt.raw_bind_parameter(k + 6, e.at)?;
        }
        stmt.raw_execute()?;
        rest = later;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::Store;
    use crate::model::EventType;

    #[tokio::test]
    async fn a_batch_of_events_of_any_size_is_inserted_whole_and_in_order() {
        let dir = std::env::temp_dir().join(format!("headway-writes-{}", crate::engine::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("h.db");
        let store = Store::open(&format!("sqlite://{}", path.display())).await.unwrap();
        let mut db = rusqlite::Connection::open(&path).unwrap();
        let mut next = 1;
        // 300 = 256 + 32 + 8 + 4: every statement size the writer uses.
        for n in [1_i64, 3, 300] {
            let rows: Vec<NewEvent> = (next..next + n)
                .map(|id| NewEvent {
                    id,
                    owner: "me".into(),
                    job_id: format!("job-{id}"),
                    kind: EventType::Log,
                    data: format!("{{\"n\":{id}}}"),
                    at: id * 10,
                })
                .collect();
            let tx = db.transaction().unwrap();
            insert_events(&tx, &rows).unwrap();
            tx.commit().unwrap();
            next += n;
        }
        let stored = store.owner_events_after("me", 0, 1000).await.unwrap();
        let ids: Vec<i64> = stored.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..next).collect::<Vec<_>>());
        let e = &stored[200];
        assert_eq!((e.job_id.as_deref(), e.kind.as_str(), e.data.as_str()), (Some("job-201"), "log", "{\"n\":201}"));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
