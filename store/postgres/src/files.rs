//! Uploads, the file store's id and the expiry of outputs, written through the pool: they are
//! not job changes, and come from any process.

use crate::{read_err, PgStore};
use async_trait::async_trait;
use model::{JobId, Upload, UploadId, UserId};
use store_core::{FileStore, StoreResult, UploadAdded};

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
impl FileStore for PgStore {
    async fn file_store_id(&self, candidate: &str, at: i64) -> StoreResult<String> {
        sqlx::query!(
            "INSERT INTO file_store (one, id, created_at) VALUES (1, $1, $2) ON CONFLICT (one) DO NOTHING",
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

    async fn add_upload(
        &self,
        owner: &UserId,
        u: &Upload,
        quota: u64,
        most: u64,
    ) -> StoreResult<UploadAdded> {
        let (owner, id, size, quota, most) = (
            owner.as_str(),
            u.id.as_str(),
            u.size as i64,
            quota.min(i64::MAX as u64) as i64,
            most.min(i64::MAX as u64) as i64,
        );
        let err = read_err("recording an upload");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        // The owner's place is taken in their totals' row first: its lock orders racing
        // uploads, and a refused one writes nothing.
        let taken = sqlx::query_scalar!(
            r#"INSERT INTO upload_totals (owner, count, bytes)
               SELECT $1, 1, $2::bigint WHERE $2::bigint <= $3::bigint AND $4::bigint >= 1
               ON CONFLICT (owner) DO UPDATE SET count = upload_totals.count + 1,
                   bytes = upload_totals.bytes + excluded.bytes
               WHERE upload_totals.count < $4::bigint AND upload_totals.bytes + excluded.bytes <= $3::bigint
               RETURNING count"#,
            owner,
            size,
            quota,
            most
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(&err)?;
        if taken.is_none() {
            tx.rollback().await.map_err(&err)?;
            let (count, _) = self.upload_totals(&UserId::new(owner)).await?;
            return Ok(UploadAdded::refused(count as i64, most));
        }
        sqlx::query!(
            "INSERT INTO uploads (id, owner, name, size, sha256, content_type, looks_like, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            id,
            owner,
            u.name,
            size,
            u.sha256,
            u.content_type,
            u.looks_like,
            u.created_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(UploadAdded::Added)
    }

    async fn upload_totals(&self, owner: &UserId) -> StoreResult<(u64, u64)> {
        let owner = owner.as_str();
        let row = sqlx::query!(
            "SELECT count, bytes FROM upload_totals WHERE owner = $1",
            owner
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading upload totals"))?;
        Ok(row.map_or((0, 0), |r| (r.count.max(0) as u64, r.bytes.max(0) as u64)))
    }

    async fn upload(&self, id: &UploadId) -> StoreResult<Option<(UserId, Upload)>> {
        let id = id.as_str();
        let row = sqlx::query!(
            "SELECT id, owner, name, size, sha256, content_type, looks_like, created_at, used_at
             FROM uploads WHERE id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading an upload"))?;
        Ok(row.map(|r| (UserId::new(r.owner.clone()), upload!(r))))
    }

    async fn uploads_of(
        &self,
        owner: &UserId,
        before: Option<&UploadId>,
        limit: u32,
    ) -> StoreResult<Vec<Upload>> {
        let (owner, before) = (owner.as_str(), before.map(|b| b.as_str()));
        let limit = i64::from(limit);
        // Newest first, by keyset: the page after `before` reads only its own rows.
        let rows = sqlx::query!(
            "SELECT id, name, size, sha256, content_type, looks_like, created_at, used_at
             FROM uploads WHERE owner = $1
               AND ($2::text IS NULL OR (created_at, id) < (
                   SELECT b.created_at, b.id FROM uploads b WHERE b.id = $2 AND b.owner = $1))
             ORDER BY created_at DESC, id DESC LIMIT $3",
            owner,
            before,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading uploads"))?;
        Ok(rows.into_iter().map(|r| upload!(r)).collect())
    }

    async fn delete_unused_upload(&self, id: &UploadId) -> StoreResult<bool> {
        let id = id.as_str();
        let done = sqlx::query!("DELETE FROM uploads WHERE id = $1 AND used_at IS NULL", id)
            .execute(&self.pool)
            .await
            .map_err(read_err("deleting an upload"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_uploads(&self, ids: &[UploadId], at: i64) -> StoreResult<()> {
        let ids: Vec<String> = ids.iter().map(|i| i.as_str().to_string()).collect();
        sqlx::query!(
            "UPDATE uploads SET used_at = GREATEST(COALESCE(used_at, 0), $1) WHERE id = ANY($2)",
            at,
            &ids
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("recording an upload's use"))?;
        Ok(())
    }

    async fn delete_stale_uploads(
        &self,
        unused_before: i64,
        used_before: i64,
        limit: u32,
    ) -> StoreResult<Vec<UploadId>> {
        let ids = sqlx::query_scalar!(
            "DELETE FROM uploads WHERE id IN (
               SELECT id FROM uploads
               WHERE (used_at IS NULL AND created_at < $1) OR used_at < $2
               LIMIT $3)
             RETURNING id",
            unused_before,
            used_before,
            limit as i64
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("deleting stale uploads"))?;
        Ok(ids.into_iter().map(UploadId::new).collect())
    }

    async fn expire_outputs(&self, before: i64, limit: u32) -> StoreResult<Vec<JobId>> {
        let ids = sqlx::query_scalar!(
            "UPDATE jobs SET outputs = NULL WHERE id IN (
               SELECT id FROM jobs
               WHERE outputs IS NOT NULL AND finished_at < $1
               LIMIT $2)
             RETURNING id",
            before,
            limit as i64
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("forgetting old outputs"))?;
        Ok(ids.into_iter().map(JobId::new).collect())
    }
}
