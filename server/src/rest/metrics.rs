//! `GET /metrics`, in the Prometheus text format (OpenMetrics), from the server's registry
//! ([`crate::telemetry`]).
//!
//! Open to clients on this machine when the server listens on a loopback address only (a
//! client a trusted proxy relays from elsewhere is not one), and to everyone with
//! `--metrics-public`; otherwise it takes the operator token, or an operator's or admin's API
//! token.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use model::AppError;

/// `GET /metrics`.
pub async fn metrics(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<crate::client::Client>,
    headers: axum::http::HeaderMap,
) -> Response {
    let telemetry = &state.telemetry;
    if !telemetry.public && !client.local {
        // From beyond this machine: the operator token, or an operator's or admin's API token.
        let refused = match state.identities.bearer_caller(&headers).await {
            Ok(Some(caller)) if caller.role().acts_on_all() => None,
            Ok(Some(_)) => Some(AppError::forbidden("/metrics is for operators and admins")),
            Ok(None) | Err(_) => Some(AppError::unauthorized(
                "/metrics needs the operator token or an operator's API token (`Authorization: Bearer`) from beyond this machine (or --metrics-public)",
            )),
        };
        if let Some(e) = refused {
            return ApiError(e).into_response();
        }
    }
    if let Err(e) = state.engine.refresh_metrics().await {
        return ApiError(e).into_response();
    }
    let mut body = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &telemetry.registry) {
        tracing::error!(error = %e, "cannot encode the metrics");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
