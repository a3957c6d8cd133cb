//! What a load balancer and a lost client ask: `/healthz`, `/readyz`, and the answer for an API
//! path that names no endpoint.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{AppError, ErrorCode};

pub async fn no_such_endpoint() -> ApiError {
    ApiError(AppError::new(ErrorCode::NotFound, "no such API endpoint"))
}

/// `GET /healthz`: the process is up and serving (whatever its role).
pub async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "process": state.engine.process_id(),
        "build": state.engine.build(),
    }))
}

/// `GET /readyz`: 200 when this process can do its work (the store answers with this build's
/// schema, the writer commits, it is not shutting down); otherwise 503 with the reason.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.engine.ready().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "reason": reason })),
        )
            .into_response(),
    }
}
