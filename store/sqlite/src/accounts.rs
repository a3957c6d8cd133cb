//! Accounts and API tokens. Written through the read pool's connections rather than the job
//! writer: they change rarely, and a command-line tool must be able to change them while a
//! server runs on the same file (SQLite's own locking, with the busy timeout, orders the two).

use crate::{read_err, SqliteStore};
use async_trait::async_trait;
use model::UserId;
use store_core::{AccountStore, StoreResult, TokenRow, UserEdit, UserEdited, UserRow};

#[async_trait]
impl AccountStore for SqliteStore {
    /// Adds an account; `false` if the name is taken.
    async fn create_user(&self, user: &UserRow) -> StoreResult<bool> {
        let id = user.id.as_str();
        let done = sqlx::query!(
            "INSERT INTO users (id, name, role, password_hash, disabled, generation, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            id,
            user.name,
            user.role,
            user.password_hash,
            user.disabled,
            user.generation,
            user.created_at
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("adding an account"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRow>> {
        let row = sqlx::query!(
            r#"SELECT id AS "id!", name, role, password_hash, disabled AS "disabled: bool", generation, created_at
               FROM users WHERE name = ?"#,
            name
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading an account"))?;
        Ok(row.map(|r| store_core::user_row!(r)))
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRow>> {
        let id = id.as_str();
        let row = sqlx::query!(
            r#"SELECT id AS "id!", name, role, password_hash, disabled AS "disabled: bool", generation, created_at
               FROM users WHERE id = ?"#,
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading an account"))?;
        Ok(row.map(|r| store_core::user_row!(r)))
    }

    /// Every account, by name.
    async fn users(&self) -> StoreResult<Vec<UserRow>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", name, role, password_hash, disabled AS "disabled: bool", generation, created_at
               FROM users ORDER BY name"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("listing accounts"))?;
        Ok(rows.into_iter().map(|r| store_core::user_row!(r)).collect())
    }

    /// Changes an account, all of `edit` or nothing, unless it is the last enabled admin and
    /// would no longer be (the check and the change are one statement: SQLite runs one writer at
    /// a time). A new password hash or a change of `disabled` moves its generation and deletes
    /// its sessions, in the same transaction.
    async fn change_user(&self, name: &str, edit: &UserEdit<'_>) -> StoreResult<UserEdited> {
        let fail = read_err("changing an account");
        let ends_sessions = (edit.password_hash.is_some() || edit.disabled.is_some()) as i64;
        let mut tx = self.pool.begin().await.map_err(&fail)?;
        let changed = sqlx::query_scalar!(
            r#"UPDATE users SET role = COALESCE(?1, role),
                                password_hash = COALESCE(?2, password_hash),
                                disabled = COALESCE(?3, disabled),
                                generation = generation + ?4
               WHERE name = ?5
                 AND NOT (role = 'admin' AND disabled = 0
                          AND (COALESCE(?1, role) <> 'admin' OR COALESCE(?3, disabled) <> 0)
                          AND NOT EXISTS (SELECT 1 FROM users o
                                          WHERE o.role = 'admin' AND o.disabled = 0 AND o.name <> ?5))
               RETURNING id AS "id!""#,
            edit.role,
            edit.password_hash,
            edit.disabled,
            ends_sessions,
            name
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(&fail)?;
        let Some(id) = changed else {
            let exists = sqlx::query_scalar!(
                r#"SELECT COUNT(*) AS "n!: i64" FROM users WHERE name = ?"#,
                name
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(&fail)?;
            return Ok(match exists {
                0 => UserEdited::NoSuchUser,
                _ => UserEdited::LastAdmin,
            });
        };
        if ends_sessions == 1 {
            sqlx::query!("DELETE FROM tower_sessions WHERE user = ?", id)
                .execute(&mut *tx)
                .await
                .map_err(&fail)?;
        }
        tx.commit().await.map_err(&fail)?;
        Ok(UserEdited::Done)
    }

    /// Stores a new token under the SHA-256 `hash` of its secret.
    async fn create_token(&self, token: &TokenRow, hash: &str) -> StoreResult<()> {
        let user_id = token.user_id.as_str();
        sqlx::query!(
            "INSERT INTO api_tokens (id, user_id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            token.id,
            user_id,
            token.name,
            token.scope,
            hash,
            token.created_at
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("storing a token"))?;
        Ok(())
    }

    /// The token (not revoked) whose secret hashes to `hash`, and its owner.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRow, UserRow)>> {
        let row = sqlx::query!(
            r#"SELECT t.id AS "token_id!", t.name AS token_name, t.scope, t.created_at AS token_created_at,
                      t.last_used_at, t.revoked_at,
                      u.id AS "id!", u.name, u.role, u.password_hash, u.disabled AS "disabled: bool",
                      u.generation, u.created_at
               FROM api_tokens t JOIN users u ON u.id = t.user_id
               WHERE t.hash = ? AND t.revoked_at IS NULL"#,
            hash
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading a token"))?;
        Ok(row.map(|r| {
            let token = TokenRow {
                id: r.token_id,
                user_id: r.id.clone().into(),
                user_name: r.name.clone(),
                name: r.token_name,
                scope: r.scope,
                created_at: r.token_created_at,
                last_used_at: r.last_used_at,
                revoked_at: r.revoked_at,
            };
            let user = UserRow {
                id: r.id.into(),
                name: r.name,
                role: r.role,
                password_hash: r.password_hash,
                disabled: r.disabled,
                generation: r.generation,
                created_at: r.created_at,
            };
            (token, user)
        }))
    }

    /// Tokens of one account (or of all), newest first, revoked ones included.
    async fn tokens(&self, user_id: Option<&UserId>) -> StoreResult<Vec<TokenRow>> {
        let user_id = user_id.map(UserId::as_str);
        let rows = sqlx::query!(
            r#"SELECT t.id AS "id!", t.user_id, u.name AS user_name, t.name, t.scope, t.created_at,
                      t.last_used_at, t.revoked_at
               FROM api_tokens t JOIN users u ON u.id = t.user_id
               WHERE (?1 IS NULL OR t.user_id = ?1) ORDER BY t.created_at DESC, t.id"#,
            user_id
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("listing tokens"))?;
        Ok(rows
            .into_iter()
            .map(|r| store_core::token_row!(r))
            .collect())
    }

    /// Revokes a token (of `user_id` only, unless `None`); `false` if there is no such token
    /// in force.
    async fn revoke_token(
        &self,
        id: &str,
        user_id: Option<&UserId>,
        now: i64,
    ) -> StoreResult<bool> {
        let user_id = user_id.map(UserId::as_str);
        let done = sqlx::query!(
            "UPDATE api_tokens SET revoked_at = ?1
             WHERE id = ?2 AND revoked_at IS NULL AND (?3 IS NULL OR user_id = ?3)",
            now,
            id,
            user_id
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("revoking a token"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a token was just used.
    async fn touch_token(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query!(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
            now,
            id
        )
        .execute(&self.pool)
        .await
        .map_err(read_err("recording a token's use"))?;
        Ok(())
    }

    async fn create_anonymous_token(&self, token: &TokenRow, hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO anonymous_tokens (id, user_id, name, scope, hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.id)
        .bind(token.user_id.as_str())
        .bind(&token.name)
        .bind(&token.scope)
        .bind(hash)
        .bind(token.created_at)
        .execute(&self.pool)
        .await
        .map_err(read_err("storing a token"))?;
        Ok(())
    }

    async fn anonymous_token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        let row: Option<AnonymousToken> = sqlx::query_as(
            "SELECT id, user_id, name, scope, created_at, last_used_at, revoked_at \
             FROM anonymous_tokens WHERE hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(read_err("reading a token"))?;
        Ok(row.map(anonymous_token))
    }

    async fn anonymous_tokens(&self, user_id: &UserId) -> StoreResult<Vec<TokenRow>> {
        let rows: Vec<AnonymousToken> = sqlx::query_as(
            "SELECT id, user_id, name, scope, created_at, last_used_at, revoked_at \
             FROM anonymous_tokens WHERE user_id = ? ORDER BY created_at DESC, id",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("listing tokens"))?;
        Ok(rows.into_iter().map(anonymous_token).collect())
    }

    async fn revoke_anonymous_token(
        &self,
        id: &str,
        user_id: &UserId,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE anonymous_tokens SET revoked_at = ? \
             WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(read_err("revoking a token"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_anonymous_token(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE anonymous_tokens SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(read_err("recording a token's use"))?;
        Ok(())
    }
}

/// A row of `anonymous_tokens`.
type AnonymousToken = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// An anonymous user's token as a token row (its owner has no name: "anonymous").
fn anonymous_token(
    (id, user_id, name, scope, created_at, last_used_at, revoked_at): AnonymousToken,
) -> TokenRow {
    TokenRow {
        id,
        user_id: user_id.into(),
        user_name: "anonymous".into(),
        name,
        scope,
        created_at,
        last_used_at,
        revoked_at,
    }
}
