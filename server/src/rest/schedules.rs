//! Schedules for scripts: `GET`/`POST /schedules`, `GET`/`PATCH`/`DELETE /schedules/{id}`,
//! `POST /schedules/{id}/run` (a job now, outside its clock), and `GET /schedules/preview`
//! (an expression's words and next fire times). Who may do what is the engine's to decide.

use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use engine::Caller;
use model::{CronPreview, Schedule, ScheduleInput};
use serde::Deserialize;

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Schedule>>> {
    Ok(Json(state.engine.schedules().list(&caller).await?))
}

/// 201 with the schedule and its `Location`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> ApiResult<Response> {
    let schedule = state.engine.schedules().create(&caller, input).await?;
    let location = format!("/api/v1/schedules/{}", schedule.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(schedule),
    )
        .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Schedule>> {
    let id = engine::requested::schedule_id(&id)?;
    Ok(Json(state.engine.schedules().get(&caller, &id).await?))
}

pub async fn change(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> ApiResult<Json<Schedule>> {
    let id = engine::requested::schedule_id(&id)?;
    Ok(Json(
        state.engine.schedules().change(&caller, &id, input).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = engine::requested::schedule_id(&id)?;
    state.engine.schedules().delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 201 with the job it started and its `Location`.
pub async fn run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = engine::requested::schedule_id(&id)?;
    let job = state.engine.schedules().run_now(&caller, &id).await?;
    let location = format!("/api/v1/jobs/{}", job.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PreviewQuery {
    /// Five fields (minute hour day month weekday), or six with seconds first, or a macro
    /// (`@daily`).
    #[schemars(regex(pattern = model::schedules::CRON_PATTERN))]
    cron: String,
    /// An IANA time zone (`Europe/Paris`; default: UTC).
    #[serde(default)]
    timezone: String,
    /// The fire times after this RFC 3339 instant (default: now).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    after: Option<String>,
}

pub async fn preview(
    State(state): State<AppState>,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<CronPreview>> {
    let after = q
        .after
        .as_deref()
        .map(|t| {
            engine::when::instant(t).map_err(|e| {
                let fields = e
                    .fields
                    .into_iter()
                    .map(|f| model::FieldError::new("after", f.message));
                model::AppError::invalid(fields.collect())
            })
        })
        .transpose()?;
    Ok(Json(state.engine.schedules().preview(
        &q.cron,
        &q.timezone,
        after,
    )?))
}
