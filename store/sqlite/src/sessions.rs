//! Sessions, in the table tower-sessions' SQLite store made (`tower_sessions`): read through the
//! pool, written on the writer thread.

use crate::{read_err, SqliteStore};
use async_trait::async_trait;
use store_core::{SessionRow, SessionStore, StoreResult};

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
