//! What only the PostgreSQL backend does with jobs: writes go to this process's writer task,
//! every process publishes what any of them committed by reading it back (the tailer), every
//! event is stored (this process's `version` event too), and event ids come from the one row
//! every writing transaction locks.

use crate::{read_err, PgStore};
use async_trait::async_trait;
use model::{Job, UserId};
use store_core::{sql, Applied, Change, JobStore, OnBatch, Publish, StoreResult};

#[async_trait]
impl JobStore for PgStore {
    /// Other processes may share a PostgreSQL database.
    fn is_shared(&self) -> bool {
        true
    }

    async fn check_ready(&self, within: std::time::Duration) -> StoreResult<()> {
        sql::check_ready(
            &self.sql,
            &sqlx::migrate!("../../migrations/postgres"),
            self.writer.alive(),
            within,
        )
        .await
    }

    fn observe_batches(&self, on_batch: OnBatch) {
        self.writer.batches.set(on_batch);
    }

    async fn write(&self, change: Change) -> StoreResult<()> {
        self.writer.write(change).await
    }

    async fn flush(&self) {
        self.writer.flush().await
    }

    async fn index_search(&self) -> StoreResult<u64> {
        self.writer.index_search().await
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

    /// The database's size on disk.
    async fn size_bytes(&self) -> StoreResult<u64> {
        let bytes: i64 =
            sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "n!""#)
                .fetch_one(&self.pool)
                .await
                .map_err(read_err("reading the database's size"))?;
        Ok(bytes.max(0) as u64)
    }

    async fn import_history(&self, owner: &UserId, jobs: Vec<Job>) -> StoreResult<()> {
        self.writer.import(owner.as_str().to_string(), jobs).await
    }
}
