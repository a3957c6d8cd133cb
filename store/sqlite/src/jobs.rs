//! What only the SQLite backend does with jobs: every write goes to the writer thread, which
//! publishes its own batches (no other process writes the file); the event counter is the
//! newest stored event or the floor kept for those not stored (notices); the size is the file's.

use crate::SqliteStore;
use async_trait::async_trait;
use model::{Job, UserId};
use std::path::Path;
use store_core::{sql, Applied, Change, JobStore, OnBatch, Publish, StoreResult};

#[async_trait]
impl JobStore for SqliteStore {
    fn local_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn release(&self) {
        self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    async fn check_ready(&self, within: std::time::Duration) -> StoreResult<()> {
        sql::check_ready(
            &self.sql,
            &sqlx::migrate!("../../migrations/sqlite"),
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
        .map_err(crate::read_err("reading the last event id"))
    }

    /// The database's size on disk: its pages (the write-ahead log aside).
    async fn size_bytes(&self) -> StoreResult<u64> {
        let pages: i64 = sqlx::query_scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(crate::read_err("reading the database's size"))?;
        Ok(pages.max(0) as u64)
    }

    async fn import_history(&self, owner: &UserId, jobs: Vec<Job>) -> StoreResult<()> {
        self.writer
            .import_history(owner.as_str().to_string(), jobs)
            .await
    }
}
