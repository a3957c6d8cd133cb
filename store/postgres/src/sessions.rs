//! Sessions, in the `sessions` table, read and written through the pool by any process.

use crate::{read_err, PgStore};
use async_trait::async_trait;
use store_core::{SessionRow, SessionStore, StoreResult};

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
