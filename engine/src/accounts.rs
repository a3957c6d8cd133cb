//! Accounts and API tokens: adding and changing users, checking passwords, making and
//! resolving tokens. Used by the server (sign-in, `/api/v1/users`, `/api/v1/tokens`) and by the
//! `headway users` / `headway tokens` commands alike, on whichever store they open.
//!
//! A user may have [`TOKENS_PER_USER`] tokens in force (the server's `--max-tokens-per-user`),
//! counted as each is stored; their listing is paged.
//!
//! Passwords are hashed with Argon2 (`password-auth`, OWASP's parameters), off the async
//! threads, a few at a time: each hash takes 19 MiB and tens of milliseconds, so a burst of
//! sign-ins waits its turn (at most [`HASHING_WAIT`], then 503 with `Retry-After`) instead of
//! taking the server's memory. A token is 244 random bits shown once; only its SHA-256 is
//! stored.

use crate::authority::Act;
use crate::store::{Store, TokenAdded, TokenRow, UserEdit, UserEdited, UserRow};
use crate::Caller;
use model::accounts::{check_password, check_username, NewToken, TokenInfo, UserInfo};
use model::error::Chain;
use model::{AppError, ErrorCode, Role, TokenScope, UserId};
use sha2::{Digest, Sha256};

/// Every token starts with this, so that a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "hw_";
/// The most characters of a token's name.
pub const MAX_TOKEN_NAME: usize = 100;
/// Password hashes computed at once by one process.
pub const HASHING_AT_ONCE: usize = 2;
/// How long a password check waits for its turn before the caller is told to come back.
pub const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// Tokens in force one user may have unless the server says otherwise
/// (`--max-tokens-per-user`); revoked ones do not count.
pub const TOKENS_PER_USER: u64 = 100;
/// Tokens a page of a listing gives unless asked for another number.
pub const TOKENS_PAGE: u32 = 100;
/// Tokens one page of a listing gives at most.
pub const MAX_TOKENS_PAGE: u32 = 1000;

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    /// Turns to compute a password hash: [`HASHING_AT_ONCE`], shared by every clone.
    hashing: std::sync::Arc<tokio::sync::Semaphore>,
    /// Moves on every change to an account or token made through this process.
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Tokens in force one user may have.
    most_tokens: u64,
}

/// A change to an account: any of a new role, a new password, disabled (or enabled again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
}

/// What a sign-in attempt came to.
pub enum SignIn {
    Ok(UserRow),
    /// Wrong name or password, or a disabled account: the caller is not told which.
    Refused,
}

impl Accounts {
    pub fn new(store: Store) -> Accounts {
        Accounts {
            store,
            hashing: std::sync::Arc::new(tokio::sync::Semaphore::new(HASHING_AT_ONCE)),
            changes: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            most_tokens: TOKENS_PER_USER,
        }
    }

    /// Lets each user have `most` tokens in force (at least one).
    pub fn with_most_tokens(mut self, most: u64) -> Accounts {
        self.most_tokens = most.max(1);
        self
    }

    /// What a user with as many tokens in force as they may have is told.
    fn too_many_tokens(&self, in_force: u64) -> AppError {
        AppError::too_many(
            format!(
                "you have {in_force} API tokens in force, as many as one may have on this server \
                 ({}); revoke the ones you no longer use (in Settings, or \
                 DELETE /api/v1/tokens/{{id}}), then make this one again",
                self.most_tokens
            ),
            60,
        )
    }

    /// Told of every change to an account or token made through this process (a new role, a
    /// password, disabling, a revoked token): open streams check at once whether their caller
    /// still holds. Changes made elsewhere (another process, `headway users`) are found by the
    /// streams' periodic checks.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Runs `work` (an Argon2 hash or check) on the blocking pool once a turn is free; 503 with
    /// `Retry-After` if none frees within [`HASHING_WAIT`].
    async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let turn = tokio::time::timeout(HASHING_WAIT, self.hashing.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::Unavailable,
                    "the server is busy checking other passwords; try again in a moment",
                )
                .retry_after(2)
            })?;
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop(turn);
            done
        })
        .await
        .map_err(|e| AppError::internal_because("a password hash stopped unexpectedly", e))
    }

    /// Adds an account (admins only).
    pub async fn add(
        &self,
        caller: &Caller,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<UserInfo, AppError> {
        caller.may_administer()?;
        let name = name.trim();
        check_username(name).map_err(|m| AppError::invalid_field("username", m))?;
        check_password(password).map_err(|m| AppError::invalid_field("password", m))?;
        let row = UserRow {
            id: UserId::random(),
            name: name.to_string(),
            role: role.as_str().to_string(),
            password_hash: self.hash_password(password).await?,
            disabled: false,
            generation: 0,
            created_at: crate::now_ms(),
        };
        if !self
            .store
            .create_user(&row)
            .await
            .map_err(failed("add an account"))?
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("the user name {name:?} is taken"),
            ));
        }
        tracing::info!(user = %row.name, role = %row.role, by = caller.name().unwrap_or_default(), "account added");
        Ok(user_info(row))
    }

    /// Every account, by name (admins only).
    pub async fn list(&self, caller: &Caller) -> Result<Vec<UserInfo>, AppError> {
        caller.may_administer()?;
        let users = self.store.users().await.map_err(failed("list accounts"))?;
        Ok(users.into_iter().map(user_info).collect())
    }

    /// Changes an account (admins only): all of `change`, or nothing. A new password or
    /// disabling ends every session the account has (and its streams; its tokens stop working);
    /// a new role ends its streams. Refused: an admin disabling their own account, and any
    /// change that would leave no enabled admin (409, saying why).
    pub async fn change(
        &self,
        caller: &Caller,
        name: &str,
        change: AccountChange,
    ) -> Result<UserInfo, AppError> {
        caller.may_administer()?;
        if change.role.is_none() && change.password.is_none() && change.disabled.is_none() {
            return Err(AppError::new(
                ErrorCode::InvalidParams,
                "nothing to change: send role, password or disabled",
            ));
        }
        if change.disabled == Some(true) && caller.name() == Some(name) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "an admin cannot disable their own account",
            ));
        }
        if let Some(password) = &change.password {
            check_password(password).map_err(|m| AppError::invalid_field("password", m))?;
        }
        let hash = match &change.password {
            Some(password) => Some(self.hash_password(password).await?),
            None => None,
        };
        let edit = UserEdit {
            role: change.role.map(Role::as_str),
            password_hash: hash.as_deref(),
            disabled: change.disabled,
        };
        match self
            .store
            .change_user(name, &edit)
            .await
            .map_err(failed("change an account"))?
        {
            UserEdited::Done => {}
            UserEdited::NoSuchUser => return Err(no_such_user(name)),
            UserEdited::LastAdmin => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "{name} is the last enabled admin: make another account an admin first, \
                         or no one could manage accounts any more"
                    ),
                ))
            }
        }
        self.changed();
        tracing::info!(user = %name, by = caller.name().unwrap_or_default(), "account changed");
        let user = self
            .store
            .user_by_name(name)
            .await
            .map_err(failed("read an account"))?
            .ok_or_else(|| no_such_user(name))?;
        Ok(user_info(user))
    }

    /// Checks a name and password. The time taken does not say whether the name exists.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<SignIn, AppError> {
        let user = self
            .store
            .user_by_name(name)
            .await
            .map_err(failed("read an account"))?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = password.to_string();
        let matches = self
            .hashing(move || {
                let hash = hash.as_deref().unwrap_or(&DUMMY_HASH);
                password_auth::verify_password(password, hash).is_ok()
            })
            .await?;
        Ok(match user {
            Some(user) if matches && !user.disabled => SignIn::Ok(user),
            _ => SignIn::Refused,
        })
    }

    /// The account a session names, if it is still valid: it exists, is not disabled, and
    /// signed in under its current generation.
    pub async fn session_user(
        &self,
        id: &UserId,
        generation: i64,
    ) -> Result<Option<UserRow>, AppError> {
        let user = self
            .store
            .user_by_id(id)
            .await
            .map_err(failed("read an account"))?;
        Ok(user.filter(|u| !u.disabled && u.generation == generation))
    }

    /// Makes a token for the caller's own account; its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        scope: TokenScope,
    ) -> Result<NewToken, AppError> {
        caller.may(Act::Token(caller.user()))?;
        if caller.name().is_none() {
            return self.make_anonymous_token(caller, name, scope).await;
        }
        let user = self.user(caller).await?;
        self.make_token(&user, name, scope, caller).await
    }

    /// A token of an open server's anonymous user: it acts as the browser that made it (what
    /// `headway run` reports with it shows there).
    async fn make_anonymous_token(
        &self,
        caller: &Caller,
        name: &str,
        scope: TokenScope,
    ) -> Result<NewToken, AppError> {
        let (row, secret) = new_token(caller.user(), "anonymous", name, scope)?;
        let added = self
            .store
            .create_anonymous_token(&row, &token_hash(&secret), self.most_tokens)
            .await
            .map_err(failed("store a token"))?;
        if let TokenAdded::TooMany(in_force) = added {
            return Err(self.too_many_tokens(in_force));
        }
        tracing::info!(user = %caller.user(), token = %row.id, scope = %scope, "API token of an anonymous user created");
        Ok(NewToken {
            id: row.id,
            name: row.name,
            scope,
            token: secret,
        })
    }

    /// The caller an anonymous user's token stands for, if it is one in force. Only an open
    /// server asks.
    pub async fn anonymous_token_caller(&self, secret: &str) -> Result<Option<Caller>, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(token) = self
            .store
            .anonymous_token_by_hash(&token_hash(secret))
            .await
            .map_err(failed("read a token"))?
        else {
            return Ok(None);
        };
        let now = crate::now_ms();
        if token.last_used_at.is_none_or(|at| now - at >= 60_000) {
            if let Err(e) = self.store.touch_anonymous_token(&token.id, now).await {
                tracing::warn!(error = %Chain(&e), "recording a token's use failed");
            }
        }
        let writes = TokenScope::parse(&token.scope) == Some(TokenScope::Write);
        Ok(Some(Caller::anonymous_token(token.user_id, writes)))
    }

    /// Makes a token for the account named `user` (an admin's, or the command line's way).
    pub async fn create_token_for(
        &self,
        caller: &Caller,
        user: &str,
        name: &str,
        scope: TokenScope,
    ) -> Result<NewToken, AppError> {
        caller.may_administer()?;
        let user = self
            .store
            .user_by_name(user)
            .await
            .map_err(failed("read an account"))?
            .ok_or_else(|| no_such_user(user))?;
        self.make_token(&user, name, scope, caller).await
    }

    async fn make_token(
        &self,
        user: &UserRow,
        name: &str,
        scope: TokenScope,
        by: &Caller,
    ) -> Result<NewToken, AppError> {
        let (row, secret) = new_token(&user.id, &user.name, name, scope)?;
        let added = self
            .store
            .create_token(&row, &token_hash(&secret), self.most_tokens)
            .await
            .map_err(failed("store a token"))?;
        if let TokenAdded::TooMany(in_force) = added {
            return Err(self.too_many_tokens(in_force));
        }
        tracing::info!(user = %user.name, token = %row.id, scope = %scope, by = by.name().unwrap_or_default(), "API token created");
        Ok(NewToken {
            id: row.id,
            name: row.name,
            scope,
            token: secret,
        })
    }

    /// The caller a bearer token stands for, if it is a token in force of an enabled account.
    /// Its last use is recorded (at most once a minute).
    pub async fn token_caller(&self, secret: &str) -> Result<Option<Caller>, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some((token, user)) = self
            .store
            .token_by_hash(&token_hash(secret))
            .await
            .map_err(failed("read a token"))?
        else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let now = crate::now_ms();
        if token.last_used_at.is_none_or(|at| now - at >= 60_000) {
            if let Err(e) = self.store.touch_token(&token.id, now).await {
                tracing::warn!(error = %Chain(&e), "recording a token's use failed");
            }
        }
        let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
        let writes = TokenScope::parse(&token.scope) == Some(TokenScope::Write);
        Ok(Some(
            Caller::account(user.id, user.name, role, writes).through_token(token.name),
        ))
    }

    /// A page of the caller's own tokens, or with `all` (admins only) everyone's; newest
    /// first, revoked ones too: `limit` (at most [`MAX_TOKENS_PAGE`]) after the token `before`
    /// when given (the last of the previous page).
    pub async fn tokens(
        &self,
        caller: &Caller,
        all: bool,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TokenInfo>, AppError> {
        let limit = limit.clamp(1, MAX_TOKENS_PAGE);
        let owner = match all {
            true => {
                caller.may_administer()?;
                None
            }
            false if caller.name().is_none() => {
                return Ok(self
                    .store
                    .anonymous_tokens(caller.user(), before, limit)
                    .await
                    .map_err(failed("list tokens"))?
                    .into_iter()
                    .map(token_info)
                    .collect())
            }
            false => Some(self.user(caller).await?.id),
        };
        let rows = self
            .store
            .tokens(owner.as_ref(), before, limit)
            .await
            .map_err(failed("list tokens"))?;
        Ok(rows.into_iter().map(token_info).collect())
    }

    /// Revokes a token of the caller's, or anyone's for an admin; 404 if there is no such token
    /// in force that they may revoke.
    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        // Its own, or (for an admin) anyone's: the token's owner is read in the statement.
        caller.may(Act::Token(caller.user()))?;
        let revoked = match caller.name() {
            None => self
                .store
                .revoke_anonymous_token(id, caller.user(), crate::now_ms())
                .await
                .map_err(failed("revoke a token"))?,
            Some(_) => {
                let anyones = caller.may(Act::Administer).is_ok();
                let owner = match anyones {
                    true => None,
                    false => Some(self.user(caller).await?.id),
                };
                self.store
                    .revoke_token(id, owner.as_ref(), crate::now_ms())
                    .await
                    .map_err(failed("revoke a token"))?
            }
        };
        match revoked {
            true => {
                self.changed();
                tracing::info!(token = %id, by = caller.name().unwrap_or_default(), "API token revoked");
                Ok(())
            }
            false => Err(AppError::new(ErrorCode::NotFound, "no such token")),
        }
    }

    /// The account of a signed-in caller.
    pub async fn user(&self, caller: &Caller) -> Result<UserRow, AppError> {
        let user = self
            .store
            .user_by_id(caller.user())
            .await
            .map_err(failed("read an account"))?;
        user.ok_or_else(|| AppError::forbidden("only a signed-in user has tokens"))
    }
}

/// A new token's row and secret, for `user_id` (named `user_name`), once its name is checked.
fn new_token(
    user_id: &UserId,
    user_name: &str,
    name: &str,
    scope: TokenScope,
) -> Result<(TokenRow, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME {
        return Err(AppError::invalid_field(
            "name",
            format!("a token's name has 1 to {MAX_TOKEN_NAME} characters"),
        ));
    }
    let secret = format!(
        "{TOKEN_PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let row = TokenRow {
        id: crate::new_id(),
        user_id: user_id.clone(),
        user_name: user_name.to_string(),
        name: name.to_string(),
        scope: scope.as_str().to_string(),
        created_at: crate::now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    Ok((row, secret))
}

fn token_info(t: TokenRow) -> TokenInfo {
    TokenInfo {
        id: t.id,
        name: t.name,
        scope: TokenScope::parse(&t.scope).unwrap_or(TokenScope::Read),
        user: t.user_name,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
    }
}

/// A hash to check passwords against when the name does not exist, so that the answer takes as
/// long as for a name that does.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password_auth::generate_hash("not a password of anyone's"));

impl Accounts {
    async fn hash_password(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_string();
        self.hashing(move || password_auth::generate_hash(password))
            .await
    }
}

/// Compares two secrets in a time that does not depend on where they first differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The stored form of a token: its SHA-256, in hex.
pub fn token_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn user_info(row: UserRow) -> UserInfo {
    UserInfo {
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        username: row.name,
        disabled: row.disabled,
        created_at: row.created_at,
    }
}

fn no_such_user(name: &str) -> AppError {
    AppError::new(ErrorCode::NotFound, format!("no user named {name:?}"))
}

fn failed(what: &'static str) -> impl Fn(crate::store::StoreError) -> AppError {
    move |e| crate::failures::store_failed(format!("could not {what}"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_hash_is_its_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
