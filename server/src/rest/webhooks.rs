//! Webhooks for scripts: `GET`/`POST /webhooks`, `GET`/`PATCH`/`DELETE /webhooks/{id}`,
//! `POST /webhooks/{id}/test` (a test delivery now) and
//! `POST /webhooks/{id}/deliveries/{delivery}/resend`. Who may do what is the engine's to
//! decide.

use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use engine::Caller;
use model::webhooks::{Delivery, Webhook, WebhookChange, WebhookDetail, WebhookInput};

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(state.engine.webhooks().list(&caller).await?))
}

/// 201 with the webhook, its secret (shown this once) and its `Location`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<Response> {
    let created = state.engine.webhooks().create(&caller, input).await?;
    let location = format!("/api/v1/webhooks/{}", created.webhook.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

/// The webhook and its recent deliveries.
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookDetail>> {
    let id = engine::requested::webhook_id(&id)?;
    Ok(Json(state.engine.webhooks().get(&caller, &id).await?))
}

pub async fn change(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<WebhookChange>,
) -> ApiResult<Json<Webhook>> {
    let id = engine::requested::webhook_id(&id)?;
    Ok(Json(
        state.engine.webhooks().change(&caller, &id, change).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = engine::requested::webhook_id(&id)?;
    state.engine.webhooks().delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 202 with the test delivery, waiting to be sent.
pub async fn test(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let id = engine::requested::webhook_id(&id)?;
    let delivery = state.engine.webhooks().test(&caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

/// 202 with the delivery, waiting to be sent again.
pub async fn resend(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let id = engine::requested::webhook_id(&id)?;
    let delivery = engine::requested::delivery_id(&delivery);
    let delivery = state
        .engine
        .webhooks()
        .resend(&caller, &id, delivery.as_ref())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}
