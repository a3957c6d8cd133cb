//! Uploads, the file store's id and the expiry of outputs. Written through the pool: they are
//! not job changes, they come from any process, and the database's own locking orders them with
//! the writer's transactions.

use super::{count, json_list, on_pool, read_err, SqlBackend};
use crate::{stored_id, FileStore, StoreResult, UploadAdded};
use async_trait::async_trait;
use model::{JobId, Upload, UploadId, UserId};

/// The columns of an [`Upload`], in [`upload`]'s order.
macro_rules! upload_columns {
    () => {
        "id, name, size, sha256, content_type, looks_like, created_at, used_at"
    };
}

type UploadColumns = (
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

fn upload(
    (id, name, size, sha256, content_type, looks_like, created_at, used_at): UploadColumns,
) -> StoreResult<Upload> {
    Ok(Upload {
        id: stored_id(id)?,
        name,
        size: count(size),
        sha256,
        content_type,
        looks_like,
        created_at,
        used_at,
    })
}

#[async_trait]
impl<T: SqlBackend> FileStore for T {
    async fn file_store_id(&self, candidate: &str, at: i64) -> StoreResult<String> {
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO file_store (one, id, created_at) VALUES (1, $1, $2) \
                 ON CONFLICT (one) DO NOTHING",
            )
            .bind(candidate)
            .bind(at)
            .execute(p)
            .await
            .map(drop)
        })
        .map_err(read_err("recording the file store"))?;
        on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT id FROM file_store WHERE one = 1")
                .fetch_one(p)
                .await
        })
        .map_err(read_err("reading the file store's id"))
    }

    async fn add_upload(
        &self,
        owner: &UserId,
        u: &Upload,
        quota: u64,
        most: u64,
    ) -> StoreResult<UploadAdded> {
        let (size, quota, most) = (
            u.size as i64,
            quota.min(i64::MAX as u64) as i64,
            most.min(i64::MAX as u64) as i64,
        );
        let err = read_err("recording an upload");
        let taken = on_pool!(self.pool(), p => {
            let mut tx = p.begin().await.map_err(&err)?;
            // The owner's place is taken in their totals' row first (a write: its lock orders
            // racing uploads); a refused one writes nothing.
            let taken: Option<i64> = sqlx::query_scalar(
                "INSERT INTO upload_totals (owner, count, bytes) \
                 SELECT $1, 1, CAST($2 AS BIGINT) \
                 WHERE CAST($2 AS BIGINT) <= CAST($3 AS BIGINT) AND CAST($4 AS BIGINT) >= 1 \
                 ON CONFLICT (owner) DO UPDATE SET count = upload_totals.count + 1, \
                   bytes = upload_totals.bytes + excluded.bytes \
                 WHERE upload_totals.count < CAST($4 AS BIGINT) \
                   AND upload_totals.bytes + excluded.bytes <= CAST($3 AS BIGINT) \
                 RETURNING count",
            )
            .bind(owner.as_str())
            .bind(size)
            .bind(quota)
            .bind(most)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&err)?;
            if taken.is_some() {
                sqlx::query(
                    "INSERT INTO uploads (id, owner, name, size, sha256, content_type, \
                       looks_like, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(u.id.as_str())
                .bind(owner.as_str())
                .bind(&u.name)
                .bind(size)
                .bind(&u.sha256)
                .bind(&u.content_type)
                .bind(&u.looks_like)
                .bind(u.created_at)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
                tx.commit().await.map_err(&err)?;
            } else {
                tx.rollback().await.map_err(&err)?;
            }
            taken.is_some()
        });
        if !taken {
            let (count, _) = self.upload_totals(owner).await?;
            return Ok(UploadAdded::refused(count as i64, most));
        }
        Ok(UploadAdded::Added)
    }

    async fn upload_totals(&self, owner: &UserId) -> StoreResult<(u64, u64)> {
        let row: Option<(i64, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT count, bytes FROM upload_totals WHERE owner = $1")
                .bind(owner.as_str())
                .fetch_optional(p)
                .await
        })
        .map_err(read_err("reading upload totals"))?;
        Ok(row.map_or((0, 0), |(n, bytes)| (count(n), count(bytes))))
    }

    async fn upload(&self, id: &UploadId) -> StoreResult<Option<(UserId, Upload)>> {
        const SQL: &str = concat!(
            "SELECT owner, ",
            upload_columns!(),
            " FROM uploads WHERE id = $1"
        );
        type Row = (
            String,
            String,
            String,
            i64,
            String,
            String,
            String,
            i64,
            Option<i64>,
        );
        let row: Option<Row> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL).bind(id.as_str()).fetch_optional(p).await
        })
        .map_err(read_err("reading an upload"))?;
        row.map(|r| {
            let owner = stored_id(r.0)?;
            Ok((owner, upload((r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8))?))
        })
        .transpose()
    }

    async fn uploads_of(
        &self,
        owner: &UserId,
        before: Option<&UploadId>,
        limit: u32,
    ) -> StoreResult<Vec<Upload>> {
        // Newest first, by keyset: the page after `before` reads only its own rows.
        const SQL: &str = concat!(
            "SELECT ",
            upload_columns!(),
            " FROM uploads WHERE owner = $1 \
               AND (CAST($2 AS TEXT) IS NULL OR (created_at, id) < ( \
                 SELECT b.created_at, b.id FROM uploads b WHERE b.id = $2 AND b.owner = $1)) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        let rows: Vec<UploadColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL)
                .bind(owner.as_str())
                .bind(before.map(UploadId::as_str))
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading uploads"))?;
        rows.into_iter().map(upload).collect()
    }

    async fn delete_unused_upload(&self, id: &UploadId) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query("DELETE FROM uploads WHERE id = $1 AND used_at IS NULL")
                .bind(id.as_str())
                .execute(p)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(read_err("deleting an upload"))?;
        Ok(done == 1)
    }

    async fn use_uploads(&self, ids: &[UploadId], at: i64) -> StoreResult<()> {
        let sql = format!(
            "UPDATE uploads SET used_at = CASE WHEN used_at > $1 THEN used_at ELSE $1 END \
             WHERE id IN ({})",
            self.pool().dialect().list(2)
        );
        on_pool!(self.pool(), p => {
            sqlx::query(&sql)
                .bind(at)
                .bind(json_list(ids))
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("recording an upload's use"))?;
        Ok(())
    }

    async fn delete_stale_uploads(
        &self,
        unused_before: i64,
        used_before: i64,
        limit: u32,
    ) -> StoreResult<Vec<UploadId>> {
        let ids: Vec<String> = on_pool!(self.pool(), p => {
            sqlx::query_scalar(
                "DELETE FROM uploads WHERE id IN ( \
                   SELECT id FROM uploads \
                   WHERE (used_at IS NULL AND created_at < $1) OR used_at < $2 \
                   LIMIT $3) \
                 RETURNING id",
            )
            .bind(unused_before)
            .bind(used_before)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("deleting stale uploads"))?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn expire_outputs(&self, before: i64, limit: u32) -> StoreResult<Vec<JobId>> {
        let ids: Vec<String> = on_pool!(self.pool(), p => {
            sqlx::query_scalar(
                "UPDATE jobs SET outputs = NULL WHERE id IN ( \
                   SELECT id FROM jobs \
                   WHERE outputs IS NOT NULL AND finished_at < $1 \
                   LIMIT $2) \
                 RETURNING id",
            )
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("forgetting old outputs"))?;
        ids.into_iter().map(stored_id).collect()
    }
}
