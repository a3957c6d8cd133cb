//! The kinds a server runs, and their pauses: `GET /kinds` (each with the pause that holds it
//! back), `POST /kinds/{kind}/pause` and `POST /kinds/{kind}/resume` for operators and admins
//! (`*` is every kind).

use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use engine::Caller;
use model::{KindInfo, KindPause};
use serde::Serialize;

pub async fn kinds(State(state): State<AppState>) -> ApiResult<Json<Vec<KindInfo>>> {
    Ok(Json(state.engine.jobs().kinds_now().await?))
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
