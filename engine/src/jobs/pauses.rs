//! Paused kinds: an operator holds a kind (or every kind) back. Its queued jobs stay queued and
//! say who paused it and when, its running jobs finish, and no job of it starts until it is
//! resumed, on every process and across restarts: the pause is a row of the store, and every
//! claim reads the pauses in its own transaction (`store_core::batch`).
//!
//! A resume made elsewhere (another process, or `headway kinds resume` on the database) reaches
//! this process's runner through a light watch of the pauses every few seconds.

use super::Jobs;
use crate::caller::Caller;
use crate::failures::{read_failed, write_failed};
use model::error::Chain;
use model::{AppError, ErrorCode, KindInfo, KindPause, EVERY_KIND};
use std::time::Duration;

/// How often a process looks at the pauses for a kind resumed elsewhere.
const WATCH_EVERY: Duration = Duration::from_secs(2);

impl Jobs {
    /// Pauses `kind` (or, with `*`, every kind) for every process; the pause in force (the
    /// earlier one if it was paused already). Operators and admins only.
    pub async fn pause_kind(&self, caller: &Caller, kind: &str) -> Result<KindPause, AppError> {
        caller.may_operate()?;
        let kind = self.pausable(kind)?;
        let by = caller.name().unwrap_or("operator");
        let pause = self
            .inner
            .committer
            .pause(kind, by)
            .await
            .map_err(|e| write_failed("pause the kind", e))?;
        tracing::info!(kind, by = %pause.paused_by, "kind paused");
        Ok(pause)
    }

    /// Resumes `kind` (or the pause of every kind); whether it was paused. Its queued jobs are
    /// claimed at once. Operators and admins only.
    pub async fn resume_kind(&self, caller: &Caller, kind: &str) -> Result<bool, AppError> {
        caller.may_operate()?;
        let kind = self.pausable(kind)?;
        let was = self
            .inner
            .committer
            .resume(kind)
            .await
            .map_err(|e| write_failed("resume the kind", e))?;
        self.wake_claims();
        if was {
            tracing::info!(
                kind,
                by = caller.name().unwrap_or("operator"),
                "kind resumed"
            );
        }
        Ok(was)
    }

    /// The kinds paused now, by whom and since when. Anyone may know.
    pub async fn kind_pauses(&self) -> Result<Vec<KindPause>, AppError> {
        self.inner.store.kind_pauses().await.map_err(read_failed)
    }

    /// The kinds this server runs, each with the pause that holds it back, if any.
    pub async fn kinds_now(&self) -> Result<Vec<KindInfo>, AppError> {
        let pauses = self.kind_pauses().await?;
        Ok(self
            .kinds()
            .into_iter()
            .map(|k| KindInfo {
                paused: KindPause::of(&pauses, &k.name).cloned(),
                params: k
                    .params
                    .into_iter()
                    .map(|p| model::ParamInfo {
                        max_bytes: (p.kind == model::ParamType::File)
                            .then_some(self.inner.uploads.limits().max_bytes),
                        ..p
                    })
                    .collect(),
                ..k
            })
            .collect())
    }

    /// `kind` if it may be paused: a kind this server runs, or `*` for every kind.
    fn pausable<'a>(&self, kind: &'a str) -> Result<&'a str, AppError> {
        if kind == EVERY_KIND || self.inner.kinds.names().iter().any(|k| k == kind) {
            Ok(kind)
        } else {
            Err(AppError::new(
                ErrorCode::NotFound,
                format!(
                    "there is no kind named \"{}\" (see GET /api/v1/kinds; \"*\" is every kind)",
                    kind.chars().take(64).collect::<String>()
                ),
            ))
        }
    }

    /// Wakes what claims jobs here when a pause it saw is gone (resumed elsewhere), until
    /// shutdown.
    pub(crate) fn spawn_pause_watcher(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            let stopping = engine.stopping();
            let mut seen: Vec<String> = Vec::new();
            let mut tick = tokio::time::interval(WATCH_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopping.cancelled() => return,
                }
                match engine.inner.store.kind_pauses().await {
                    Ok(pauses) => {
                        let now: Vec<String> = pauses.into_iter().map(|p| p.kind).collect();
                        if seen.iter().any(|k| !now.contains(k)) {
                            engine.wake_claims();
                        }
                        seen = now;
                    }
                    Err(e) => {
                        tracing::warn!(error = %Chain(&e), "cannot read the paused kinds; looking again shortly")
                    }
                }
            }
        });
    }
}
