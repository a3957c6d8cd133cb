//! Worker tokens: what a worker connects with. One may register workers, take their work and
//! report on it, and nothing else. They belong to the deployment, not to an account: an admin
//! (or the operator token) makes, lists and revokes them; revoking one removes its workers at
//! the next look, and their jobs are taken back.

use crate::accounts::token_hash;
use crate::failures::read_failed;
use crate::store::{Store, WorkerTokenRow};
use crate::{now_ms, Caller, Jobs};
use model::workers::{NewWorkerToken, WorkerTokenInfo, WORKER_TOKEN_PREFIX};
use model::AppError;

/// The longest name of a worker token, in characters.
pub const MAX_NAME: usize = 64;

impl Jobs {
    /// Makes a worker token named `name` (an admin's): its secret is in the answer, once.
    pub async fn make_worker_token(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<NewWorkerToken, AppError> {
        caller.may_administer()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(AppError::invalid_field(
                "name",
                format!("a worker token's name has 1 to {MAX_NAME} characters besides spaces"),
            ));
        }
        let secret = format!(
            "{WORKER_TOKEN_PREFIX}{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let row = WorkerTokenRow {
            id: crate::new_id(),
            name: name.to_string(),
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        self.inner
            .store
            .create_worker_token(&row, &token_hash(&secret))
            .await
            .map_err(read_failed)?;
        tracing::info!(token = %row.id, name = %row.name, "worker token created");
        Ok(NewWorkerToken {
            id: row.id,
            name: row.name,
            token: secret,
        })
    }

    /// Every worker token, newest first (an admin's).
    pub async fn worker_tokens(&self, caller: &Caller) -> Result<Vec<WorkerTokenInfo>, AppError> {
        caller.may_administer()?;
        let rows = self
            .inner
            .store
            .worker_tokens()
            .await
            .map_err(read_failed)?;
        Ok(rows
            .into_iter()
            .map(|t| WorkerTokenInfo {
                id: t.id,
                name: t.name,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
                revoked_at: t.revoked_at,
            })
            .collect())
    }

    /// Revokes a worker token (an admin's): its workers' requests are refused from now on, and
    /// the workers are removed at the next look, their jobs taken back. 404 if there is no
    /// such token in force.
    pub async fn revoke_worker_token(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        caller.may_administer()?;
        let revoked = self
            .inner
            .store
            .revoke_worker_token(id, now_ms())
            .await
            .map_err(read_failed)?;
        if !revoked {
            return Err(AppError::not_found());
        }
        tracing::warn!(token = %id, "worker token revoked");
        self.reap_workers().await;
        self.inner.remotes.steer();
        Ok(())
    }
}

/// The worker token in force `secret` is, if it is one. Its last use is recorded (at most once
/// a minute).
pub async fn token_row(store: &Store, secret: &str) -> Result<Option<WorkerTokenRow>, AppError> {
    if !secret.starts_with(WORKER_TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(token) = store
        .worker_token_by_hash(&token_hash(secret))
        .await
        .map_err(read_failed)?
    else {
        return Ok(None);
    };
    let now = now_ms();
    if token.last_used_at.is_none_or(|at| now - at >= 60_000) {
        if let Err(e) = store.touch_worker_token(&token.id, now).await {
            tracing::warn!(error = %model::error::Chain(&e), "recording a worker token's use failed");
        }
    }
    Ok(Some(token))
}
