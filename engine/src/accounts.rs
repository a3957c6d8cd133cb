//! Accounts and API tokens: adding and changing users, checking passwords, making and
//! resolving tokens. Used by the server (sign-in, `/api/v1/users`, `/api/v1/tokens`) and by the
//! `headway users` / `headway tokens` commands alike, on whichever store they open.
//!
//! Passwords are hashed with Argon2 (`password-auth`, OWASP's parameters), off the async
//! threads, a few at a time: each hash takes 19 MiB and tens of milliseconds, so a burst of
//! sign-ins waits its turn (at most [`HASHING_WAIT`], then 503 with `Retry-After`) instead of
//! taking the server's memory. A token is 244 random bits shown once; only its SHA-256 is
//! stored.

use crate::store::{Store, TokenRow, UserRow};
use crate::Caller;
use model::accounts::{check_password, check_username, NewToken, TokenInfo, UserInfo};
use model::{AppError, ErrorCode, FieldError, Role, TokenScope};
use sha2::{Digest, Sha256};

/// Every token starts with this, so that a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "hw_";
/// The most characters of a token's name.
const MAX_TOKEN_NAME: usize = 100;
/// Password hashes computed at once by one process.
pub const HASHING_AT_ONCE: usize = 2;
/// How long a password check waits for its turn before the caller is told to come back.
pub const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    /// Turns to compute a password hash: [`HASHING_AT_ONCE`], shared by every clone.
    hashing: std::sync::Arc<tokio::sync::Semaphore>,
    /// Moves on every change to an account or token made through this process.
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
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
        }
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
        .map_err(|e| {
            tracing::error!(error = %e, "a password hash stopped unexpectedly");
            AppError::internal()
        })
    }

    /// Adds an account.
    pub async fn add(&self, name: &str, role: Role, password: &str) -> Result<UserInfo, AppError> {
        check_username(name).map_err(|m| invalid("username", m))?;
        check_password(password).map_err(|m| invalid("password", m))?;
        let row = UserRow {
            id: crate::new_id(),
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
        Ok(user_info(row))
    }

    pub async fn list(&self) -> Result<Vec<UserInfo>, AppError> {
        let users = self.store.users().await.map_err(failed("list accounts"))?;
        Ok(users.into_iter().map(user_info).collect())
    }

    pub async fn set_role(&self, name: &str, role: Role) -> Result<(), AppError> {
        match self
            .store
            .set_user_role(name, role.as_str())
            .await
            .map_err(failed("change a role"))?
        {
            true => {
                self.changed();
                Ok(())
            }
            false => Err(no_such_user(name)),
        }
    }

    /// Sets a new password; every session of the account ends.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), AppError> {
        check_password(password).map_err(|m| invalid("password", m))?;
        let hash = self.hash_password(password).await?;
        match self
            .store
            .update_user_secret(name, Some(&hash), None)
            .await
            .map_err(failed("change a password"))?
        {
            true => {
                self.changed();
                Ok(())
            }
            false => Err(no_such_user(name)),
        }
    }

    /// Disables (or enables again) an account; disabling ends every session it has, and its
    /// tokens stop working.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), AppError> {
        match self
            .store
            .update_user_secret(name, None, Some(disabled))
            .await
            .map_err(failed("disable an account"))?
        {
            true => {
                self.changed();
                Ok(())
            }
            false => Err(no_such_user(name)),
        }
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
        id: &str,
        generation: i64,
    ) -> Result<Option<UserRow>, AppError> {
        let user = self
            .store
            .user_by_id(id)
            .await
            .map_err(failed("read an account"))?;
        Ok(user.filter(|u| !u.disabled && u.generation == generation))
    }

    /// Makes a token for `user`; its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        user: &UserRow,
        name: &str,
        scope: TokenScope,
    ) -> Result<NewToken, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME {
            return Err(invalid(
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
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            name: name.to_string(),
            scope: scope.as_str().to_string(),
            created_at: crate::now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store
            .create_token(&row, &token_hash(&secret))
            .await
            .map_err(failed("store a token"))?;
        Ok(NewToken {
            id: row.id,
            name: row.name,
            scope,
            token: secret,
        })
    }

    /// Makes a token for the account named `user` (the command line's way).
    pub async fn create_token_for(
        &self,
        user: &str,
        name: &str,
        scope: TokenScope,
    ) -> Result<NewToken, AppError> {
        let user = self
            .store
            .user_by_name(user)
            .await
            .map_err(failed("read an account"))?
            .ok_or_else(|| no_such_user(user))?;
        self.create_token(&user, name, scope).await
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
                tracing::warn!(error = %e, "recording a token's use failed");
            }
        }
        let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
        let writes = TokenScope::parse(&token.scope) == Some(TokenScope::Write);
        Ok(Some(Caller::account(user.id, user.name, role, writes)))
    }

    /// Tokens of the account `user_id` (`None`: everyone's), newest first.
    pub async fn tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenInfo>, AppError> {
        let rows = self
            .store
            .tokens(user_id)
            .await
            .map_err(failed("list tokens"))?;
        Ok(rows
            .into_iter()
            .map(|t| TokenInfo {
                id: t.id,
                name: t.name,
                scope: TokenScope::parse(&t.scope).unwrap_or(TokenScope::Read),
                user: t.user_name,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
                revoked_at: t.revoked_at,
            })
            .collect())
    }

    /// Revokes a token of `user_id` (`None`: anyone's); 404 if there is no such token in force.
    pub async fn revoke_token(&self, id: &str, user_id: Option<&str>) -> Result<(), AppError> {
        match self
            .store
            .revoke_token(id, user_id, crate::now_ms())
            .await
            .map_err(failed("revoke a token"))?
        {
            true => {
                self.changed();
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

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn no_such_user(name: &str) -> AppError {
    AppError::new(ErrorCode::NotFound, format!("no user named {name:?}"))
}

fn failed(what: &'static str) -> impl Fn(crate::store::StoreError) -> AppError {
    move |e| {
        tracing::error!(error = %e, "could not {what}");
        AppError::internal()
    }
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
