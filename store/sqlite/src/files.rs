//! Uploads, the file store's id and the expiry of outputs. Written through the read pool's
//! connections, like accounts: they are not job changes, and SQLite's own locking orders them
//! with the writer's transactions.

use crate::{read_err, SqliteStore};
use async_trait::async_trait;
use model::{JobId, Upload, UploadId, UserId};
use store_core::{FileStore, StoreResult};

/// An upload row as [`Upload`].
macro_rules! upload {
    ($r:expr) => {
        Upload {
            id: UploadId::new($r.id),
            name: $r.name,
            size: $r.size.max(0) as u64,
            sha256: $r.sha256,
            content_type: $r.content_type,
            looks_like: $r.looks_like,
            created_at: $r.created_at,
            used_at: $r.used_at,
        }
    };
}

#[async_trait]
impl FileStore for SqliteStore {
    async fn file_store_id(&self, candidate: &str, at: i64) -> StoreResult<String> {
        sqlx::query!(
            "INSERT INTO file_store (one, id, created_at) VALUES (1, ?, ?) ON CONFLICT (one) DO NOTHING",
            candidate,
            at
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("recording the file store"))?;
        sqlx::query_scalar!("SELECT id FROM file_store WHERE one = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(read_err("reading the file store's id"))
    }

    async fn add_upload(&self, owner: &UserId, u: &Upload, quota: u64) -> StoreResult<bool> {
        let (owner, id, size, quota) = (
            owner.as_str(),
            u.id.as_str(),
            u.size as i64,
            quota.min(i64::MAX as u64) as i64,
        );
        // One statement: the sum and the insert see the same uploads.
        let done = sqlx::query!(
            "INSERT INTO uploads (id, owner, name, size, sha256, content_type, looks_like, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
             WHERE (SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner = ?2) + ?4 <= ?9",
            id,
            owner,
            u.name,
            size,
            u.sha256,
            u.content_type,
            u.looks_like,
            u.created_at,
            quota
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("recording an upload"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn upload(&self, id: &UploadId) -> StoreResult<Option<(UserId, Upload)>> {
        let id = id.as_str();
        let row = sqlx::query!(
            r#"SELECT id AS "id!", owner, name, size, sha256, content_type, looks_like, created_at, used_at
               FROM uploads WHERE id = ?"#,
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading an upload"))?;
        Ok(row.map(|r| (UserId::new(r.owner.clone()), upload!(r))))
    }

    async fn uploads_of(&self, owner: &UserId) -> StoreResult<Vec<Upload>> {
        let owner = owner.as_str();
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", name, size, sha256, content_type, looks_like, created_at, used_at
               FROM uploads WHERE owner = ? ORDER BY created_at DESC, id"#,
            owner
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading uploads"))?;
        Ok(rows.into_iter().map(|r| upload!(r)).collect())
    }

    async fn delete_unused_upload(&self, id: &UploadId) -> StoreResult<bool> {
        let id = id.as_str();
        let done = sqlx::query!("DELETE FROM uploads WHERE id = ? AND used_at IS NULL", id)
            .execute(&self.pool)
            .await
            .map_err(read_err("deleting an upload"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_uploads(&self, ids: &[UploadId], at: i64) -> StoreResult<()> {
        for id in ids {
            let id = id.as_str();
            sqlx::query!(
                "UPDATE uploads SET used_at = MAX(COALESCE(used_at, 0), ?) WHERE id = ?",
                at,
                id
            )
            .execute(&self.pool)
            .await
            .map_err(read_err("recording an upload's use"))?;
        }
        Ok(())
    }

    async fn delete_stale_uploads(
        &self,
        unused_before: i64,
        used_before: i64,
        limit: u32,
    ) -> StoreResult<Vec<UploadId>> {
        let ids = sqlx::query_scalar!(
            r#"DELETE FROM uploads WHERE id IN (
                 SELECT id FROM uploads
                 WHERE (used_at IS NULL AND created_at < ?1) OR used_at < ?2
                 LIMIT ?3)
               RETURNING id AS "id!""#,
            unused_before,
            used_before,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("deleting stale uploads"))?;
        Ok(ids.into_iter().map(UploadId::new).collect())
    }

    async fn expire_outputs(&self, before: i64, limit: u32) -> StoreResult<Vec<JobId>> {
        let ids = sqlx::query_scalar!(
            r#"UPDATE jobs SET outputs = NULL WHERE id IN (
                 SELECT id FROM jobs
                 WHERE outputs IS NOT NULL AND finished_at < ?1
                 LIMIT ?2)
               RETURNING id AS "id!""#,
            before,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("forgetting old outputs"))?;
        Ok(ids.into_iter().map(JobId::new).collect())
    }
}
