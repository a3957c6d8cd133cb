//! Stored events read back, for replays and timelines, and the notices in force.

use super::{on_pool, read_err, SqlBackend};
use crate::{stored_event, EventReads, StoreResult, StoredEvent};
use async_trait::async_trait;
use model::{JobId, JobStatus, Notice, StatusChange, UserId};

/// An `events` row as read back for a replay: id, job, type, data.
type EventRow = (i64, Option<String>, String, String);

fn stored_events(rows: Vec<EventRow>) -> Vec<StoredEvent> {
    rows.into_iter()
        .filter_map(|(id, job_id, kind, data)| stored_event(id, job_id, &kind, data))
        .collect()
}

#[async_trait]
impl<T: SqlBackend> EventReads for T {
    async fn pruned_through(&self) -> StoreResult<i64> {
        on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT pruned_through FROM event_ids WHERE one = 1")
                .fetch_one(p)
                .await
        })
        .map_err(read_err("reading how far events were pruned"))
    }

    async fn status_changes(&self, job_id: &JobId) -> StoreResult<Vec<StatusChange>> {
        let sql = format!(
            "SELECT {}, at FROM events WHERE job_id = $1 AND type = 'job' ORDER BY id",
            self.pool().dialect().data_status()
        );
        let rows: Vec<(Option<String>, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql).bind(job_id.as_str()).fetch_all(p).await
        })
        .map_err(read_err("reading a timeline"))?;
        Ok(rows
            .into_iter()
            .filter_map(|(status, at)| {
                Some(StatusChange {
                    status: JobStatus::parse(status.as_deref()?)?,
                    at,
                })
            })
            .collect())
    }

    async fn owner_events_after(
        &self,
        owner: Option<&UserId>,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        const OWNERS: &str = "SELECT id, job_id, type, data FROM events \
             WHERE owner = $4 AND id > $1 AND id <= $2 ORDER BY id LIMIT $3";
        // Every user's events: those of jobs (notices, without an owner, are not replayed).
        const ANYONES: &str = "SELECT id, job_id, type, data FROM events \
             WHERE id > $1 AND id <= $2 AND owner IS NOT NULL ORDER BY id LIMIT $3";
        let rows: Vec<EventRow> = on_pool!(self.pool(), p => match owner {
            Some(owner) => sqlx::query_as(OWNERS)
                .bind(after)
                .bind(until)
                .bind(i64::from(limit))
                .bind(owner.as_str()),
            None => sqlx::query_as(ANYONES)
                .bind(after)
                .bind(until)
                .bind(i64::from(limit)),
        }
        .fetch_all(p)
        .await)
        .map_err(read_err("reading a user's events"))?;
        Ok(stored_events(rows))
    }

    async fn job_events_after(
        &self,
        job_id: &JobId,
        after: i64,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows: Vec<EventRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT id, job_id, type, data FROM events \
                 WHERE job_id = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4",
            )
            .bind(job_id.as_str())
            .bind(after)
            .bind(until)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading a job's events"))?;
        Ok(stored_events(rows))
    }

    async fn active_notices(&self) -> StoreResult<Vec<Notice>> {
        let rows: Vec<(i64, String, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT id, text, created_at FROM notices WHERE withdrawn_at IS NULL ORDER BY id",
            )
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading notices"))?;
        Ok(rows
            .into_iter()
            .map(|(id, text, created_at)| Notice {
                id,
                text,
                created_at,
            })
            .collect())
    }
}
