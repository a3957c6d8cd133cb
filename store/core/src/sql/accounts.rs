//! Accounts, their API tokens and the anonymous users' tokens. Written through the pool rather
//! than the job writer: they change rarely, and a command-line tool must be able to change them
//! while a server runs (SQLite's own locking, with its busy timeout, orders the two on a file).
//! A user's tokens in force are bounded in number, counted as each is added; their listings are
//! pages, newest first.

use super::{count, on_pool, read_err, Pool, SqlBackend};
use crate::{
    stored_id, AccountStore, StoreResult, TokenAdded, TokenRow, UserEdit, UserEdited, UserRow,
};
use async_trait::async_trait;
use model::UserId;

/// The columns of a [`UserRow`], in [`user`]'s order.
macro_rules! user_columns {
    () => {
        "id, name, role, password_hash, disabled, generation, created_at"
    };
}

type UserColumns = (String, String, String, String, bool, i64, i64);

fn user(
    (id, name, role, password_hash, disabled, generation, created_at): UserColumns,
) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: stored_id(id)?,
        name,
        role,
        password_hash,
        disabled,
        generation,
        created_at,
    })
}

/// A token's columns: id, owner's id, owner's name, name, scope, created, last used, revoked.
type TokenColumns = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn token(
    (id, user_id, user_name, name, scope, created_at, last_used_at, revoked_at): TokenColumns,
) -> StoreResult<TokenRow> {
    Ok(TokenRow {
        id,
        user_id: stored_id(user_id)?,
        user_name,
        name,
        scope,
        created_at,
        last_used_at,
        revoked_at,
    })
}

/// An anonymous user's token's columns, its owner named "anonymous" (the owner has no account).
const ANONYMOUS_TOKEN: &str = "SELECT id, user_id, 'anonymous', name, scope, created_at, \
     last_used_at, revoked_at FROM anonymous_tokens";

/// Stores a token in `table` (accounts' or anonymous users'), unless its owner has `most` in
/// force. The count is taken in the insert itself, after the owner's tokens are locked where
/// another process could add one meanwhile ([`super::Dialect::lock_tokens_of`]): tokens made
/// at once cannot pass the bound together.
async fn add_token(
    pool: &Pool,
    table: &str,
    token: &TokenRow,
    hash: &str,
    most: u64,
) -> StoreResult<TokenAdded> {
    let fail = read_err("storing a token");
    let in_force =
        format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1 AND revoked_at IS NULL");
    let insert = format!(
        "INSERT INTO {table} (id, user_id, name, scope, hash, created_at) \
         SELECT $1, $2, $3, $4, $5, CAST($6 AS BIGINT) \
         WHERE (SELECT COUNT(*) FROM {table} WHERE user_id = $2 AND revoked_at IS NULL) \
           < CAST($7 AS BIGINT)"
    );
    let lock = pool.dialect().lock_tokens_of();
    let most = most.min(i64::MAX as u64) as i64;
    on_pool!(pool, p => {
        let mut tx = p.begin().await.map_err(&fail)?;
        if let Some(lock) = lock {
            sqlx::query(lock)
                .bind(token.user_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(&fail)?;
        }
        let added = sqlx::query(&insert)
            .bind(&token.id)
            .bind(token.user_id.as_str())
            .bind(&token.name)
            .bind(&token.scope)
            .bind(hash)
            .bind(token.created_at)
            .bind(most)
            .execute(&mut *tx)
            .await
            .map_err(&fail)?
            .rows_affected();
        let answer = match added {
            1 => TokenAdded::Added,
            _ => {
                let n: i64 = sqlx::query_scalar(&in_force)
                    .bind(token.user_id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(&fail)?;
                TokenAdded::TooMany(count(n))
            }
        };
        tx.commit().await.map_err(&fail)?;
        Ok(answer)
    })
}

#[async_trait]
impl<T: SqlBackend> AccountStore for T {
    async fn create_user(&self, user: &UserRow) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO users (id, name, role, password_hash, disabled, generation, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
            )
            .bind(user.id.as_str())
            .bind(&user.name)
            .bind(&user.role)
            .bind(&user.password_hash)
            .bind(user.disabled)
            .bind(user.generation)
            .bind(user.created_at)
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("adding an account"))?;
        Ok(done == 1)
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRow>> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE name = $1");
        let row: Option<UserColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL).bind(name).fetch_optional(p).await
        })
        .map_err(read_err("reading an account"))?;
        row.map(user).transpose()
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRow>> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
        let row: Option<UserColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL).bind(id.as_str()).fetch_optional(p).await
        })
        .map_err(read_err("reading an account"))?;
        row.map(user).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<UserRow>> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users ORDER BY name");
        let rows: Vec<UserColumns> =
            on_pool!(self.pool(), p => sqlx::query_as(SQL).fetch_all(p).await)
                .map_err(read_err("listing accounts"))?;
        rows.into_iter().map(user).collect()
    }

    /// The check and the change are one statement; where other processes may change accounts
    /// meanwhile, the enabled admins are locked first, so that two cannot each demote one of
    /// the last two ([`super::Dialect::lock_admins`]).
    async fn change_user(&self, name: &str, edit: &UserEdit<'_>) -> StoreResult<UserEdited> {
        let fail = read_err("changing an account");
        let ends_sessions = (edit.password_hash.is_some() || edit.disabled.is_some()) as i64;
        let dialect = self.pool().dialect();
        on_pool!(self.pool(), p => {
            let mut tx = p.begin().await.map_err(&fail)?;
            if let Some(lock) = dialect.lock_admins() {
                sqlx::query(lock).execute(&mut *tx).await.map_err(&fail)?;
            }
            let changed: Option<String> = sqlx::query_scalar(
                "UPDATE users SET role = COALESCE($1, role), \
                     password_hash = COALESCE($2, password_hash), \
                     disabled = COALESCE($3, disabled), \
                     generation = generation + $4 \
                 WHERE name = $5 \
                   AND NOT (role = 'admin' AND NOT disabled \
                     AND (COALESCE($1, role) <> 'admin' OR COALESCE($3, disabled)) \
                     AND NOT EXISTS (SELECT 1 FROM users o \
                       WHERE o.role = 'admin' AND NOT o.disabled AND o.name <> $5)) \
                 RETURNING id",
            )
            .bind(edit.role)
            .bind(edit.password_hash)
            .bind(edit.disabled)
            .bind(ends_sessions)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&fail)?;
            let Some(id) = changed else {
                let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(&fail)?;
                return Ok(match exists {
                    0 => UserEdited::NoSuchUser,
                    _ => UserEdited::LastAdmin,
                });
            };
            if ends_sessions == 1 {
                sqlx::query(dialect.delete_user_sessions())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(&fail)?;
            }
            tx.commit().await.map_err(&fail)?;
            Ok(UserEdited::Done)
        })
    }

    async fn create_token(
        &self,
        token: &TokenRow,
        hash: &str,
        most: u64,
    ) -> StoreResult<TokenAdded> {
        add_token(self.pool(), "api_tokens", token, hash, most).await
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<(TokenRow, UserRow)>> {
        const SQL: &str = "SELECT t.id, t.name, t.scope, t.created_at, t.last_used_at, \
               t.revoked_at, u.id, u.name, u.role, u.password_hash, u.disabled, u.generation, \
               u.created_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.hash = $1 AND t.revoked_at IS NULL";
        // The token's columns, then its owner's ([`UserColumns`]).
        type Row = (
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
            String,
            String,
            String,
            String,
            bool,
            i64,
            i64,
        );
        let row: Option<Row> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL).bind(hash).fetch_optional(p).await
        })
        .map_err(read_err("reading a token"))?;
        row.map(|r| {
            let owner = user((r.6, r.7, r.8, r.9, r.10, r.11, r.12))?;
            let token = TokenRow {
                id: r.0,
                user_id: owner.id.clone(),
                user_name: owner.name.clone(),
                name: r.1,
                scope: r.2,
                created_at: r.3,
                last_used_at: r.4,
                revoked_at: r.5,
            };
            Ok((token, owner))
        })
        .transpose()
    }

    async fn tokens(
        &self,
        user_id: Option<&UserId>,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TokenRow>> {
        // Newest first, by keyset: the page after `before` reads only its own rows.
        let rows: Vec<TokenColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT t.id, t.user_id, u.name, t.name, t.scope, t.created_at, t.last_used_at, \
                   t.revoked_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE (CAST($1 AS TEXT) IS NULL OR t.user_id = $1) \
                   AND (CAST($2 AS TEXT) IS NULL OR (t.created_at, t.id) < ( \
                     SELECT b.created_at, b.id FROM api_tokens b \
                     WHERE b.id = $2 AND (CAST($1 AS TEXT) IS NULL OR b.user_id = $1))) \
                 ORDER BY t.created_at DESC, t.id DESC LIMIT $3",
            )
            .bind(user_id.map(UserId::as_str))
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("listing tokens"))?;
        rows.into_iter().map(token).collect()
    }

    async fn revoke_token(
        &self,
        id: &str,
        user_id: Option<&UserId>,
        now: i64,
    ) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
                   AND (CAST($3 AS TEXT) IS NULL OR user_id = $3)",
            )
            .bind(now)
            .bind(id)
            .bind(user_id.map(UserId::as_str))
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("revoking a token"))?;
        Ok(done == 1)
    }

    async fn touch_token(&self, id: &str, now: i64) -> StoreResult<()> {
        on_pool!(self.pool(), p => {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("recording a token's use"))
    }

    async fn create_anonymous_token(
        &self,
        token: &TokenRow,
        hash: &str,
        most: u64,
    ) -> StoreResult<TokenAdded> {
        add_token(self.pool(), "anonymous_tokens", token, hash, most).await
    }

    async fn anonymous_token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        let sql = format!("{ANONYMOUS_TOKEN} WHERE hash = $1 AND revoked_at IS NULL");
        let row: Option<TokenColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql).bind(hash).fetch_optional(p).await
        })
        .map_err(read_err("reading a token"))?;
        row.map(token).transpose()
    }

    async fn anonymous_tokens(
        &self,
        user_id: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TokenRow>> {
        let sql = format!(
            "{ANONYMOUS_TOKEN} WHERE user_id = $1 \
               AND (CAST($2 AS TEXT) IS NULL OR (created_at, id) < ( \
                 SELECT b.created_at, b.id FROM anonymous_tokens b \
                 WHERE b.id = $2 AND b.user_id = $1)) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        let rows: Vec<TokenColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(user_id.as_str())
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("listing tokens"))?;
        rows.into_iter().map(token).collect()
    }

    async fn revoke_anonymous_token(
        &self,
        id: &str,
        user_id: &UserId,
        now: i64,
    ) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE anonymous_tokens SET revoked_at = $1 \
                 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(user_id.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("revoking a token"))?;
        Ok(done == 1)
    }

    async fn touch_anonymous_token(&self, id: &str, now: i64) -> StoreResult<()> {
        on_pool!(self.pool(), p => {
            sqlx::query("UPDATE anonymous_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("recording a token's use"))
    }
}
