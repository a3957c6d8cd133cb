//! Server functions: the calls islands and forms make. Each one is a public HTTP endpoint, so
//! each finds out who is calling first and lets the engine check what they may touch.

use crate::error::AppError;
use crate::model::{Job, KindInfo};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What the dashboard shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardData {
    pub kinds: Vec<KindInfo>,
    pub jobs: Vec<Job>,
}

#[server(endpoint = "dashboard")]
pub async fn load_dashboard(limit: u32) -> Result<DashboardData, AppError> {
    let (engine, owner) = caller().await?;
    let jobs = engine.recent_jobs(&owner, limit.clamp(1, 200)).await?;
    Ok(DashboardData { kinds: engine.kinds(), jobs })
}

/// Starts a job of `kind`; `params` are the form's fields, typed by the kind's description.
#[server(endpoint = "start_job")]
pub async fn start_job(
    kind: String,
    #[server(default)] params: HashMap<String, String>,
) -> Result<Job, AppError> {
    let (engine, owner) = caller().await?;
    engine.create_job_from_form(&owner, &kind, &params).await
}

#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: String) -> Result<Job, AppError> {
    let (engine, owner) = caller().await?;
    engine.cancel(&owner, &id).await
}

/// Starts a new job like one of the caller's jobs.
#[server(endpoint = "rerun_job")]
pub async fn rerun_job(id: String) -> Result<Job, AppError> {
    let (engine, owner) = caller().await?;
    engine.rerun(&owner, &id).await
}

/// The engine and the id of the user whose session made this request.
#[cfg(feature = "ssr")]
async fn caller() -> Result<(crate::engine::Engine, String), AppError> {
    use crate::engine::{Engine, Owner};
    let engine = use_context::<Engine>().ok_or_else(|| {
        tracing::error!("the engine is not in the server function context");
        AppError::internal()
    })?;
    let axum::Extension(Owner(owner)) = leptos_axum::extract().await.map_err(|e| {
        tracing::error!(error = %e, "request without a session user");
        AppError::internal()
    })?;
    Ok((engine, owner))
}
