//! The kinds a server runs, and their pauses: `GET /kinds` (each with the pause that holds it
//! back), `POST /kinds/{kind}/pause` and `POST /kinds/{kind}/resume` for operators and admins
//! (`*` is every kind); their limits ([`model::limits`]): `GET /limits` with each key's use,
//! `POST /limits` to set one and `POST /limits/remove` to remove one set at run time, for
//! operators and admins.

use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use engine::Caller;
use model::{KindInfo, KindPause};
use serde::Serialize;

pub async fn kinds(State(state): State<AppState>) -> ApiResult<Json<Vec<KindInfo>>> {
    Ok(Json(state.engine.jobs().kinds_now().await?))
}

/// The workflows this server starts: each as its form shows it (its parameters are what a run's
/// `params.params` may hold).
pub async fn workflows(State(state): State<AppState>) -> ApiResult<Json<Vec<KindInfo>>> {
    Ok(Json(state.engine.jobs().workflows()))
}

/// 200 with the pause in force (the earlier one if the kind was paused already).
pub async fn pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(kind): Path<String>,
) -> ApiResult<Json<KindPause>> {
    Ok(Json(state.engine.jobs().pause_kind(&caller, &kind).await?))
}

/// What `POST /kinds/{kind}/resume` answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Resumed {
    kind: String,
    /// Whether it was paused.
    was_paused: bool,
}

pub async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(kind): Path<String>,
) -> ApiResult<Json<Resumed>> {
    let was_paused = state.engine.jobs().resume_kind(&caller, &kind).await?;
    Ok(Json(Resumed { kind, was_paused }))
}

/// The limits in force, each with its busiest keys (the keys for callers who see every job).
pub async fn limits(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<model::limits::LimitUse>>> {
    Ok(Json(state.engine.jobs().limits(&caller).await?))
}

/// 200 with the limit as now in force.
pub async fn set_limit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(limit): ApiJson<model::limits::Limit>,
) -> ApiResult<Json<model::limits::LimitUse>> {
    Ok(Json(state.engine.jobs().set_limit(&caller, limit).await?))
}

/// What `POST /limits/remove` answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Removed {
    /// Whether a limit of that kind, key and window was set at run time.
    was_set: bool,
}

pub async fn remove_limit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(limit): ApiJson<model::limits::Limit>,
) -> ApiResult<Json<Removed>> {
    let was_set = state.engine.jobs().remove_limit(&caller, &limit).await?;
    Ok(Json(Removed { was_set }))
}
