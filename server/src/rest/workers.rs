//! Workers on other machines (docs/WORKERS.md): with a worker token, `POST /workers` registers
//! one, `POST /workers/{id}/poll` takes its work and `POST /workers/{id}/jobs/{job}/report`
//! reports on a job it holds; operators list them (`GET /workers`) and drain or disable one
//! (`POST /workers/{id}/state`); admins make, list and revoke worker tokens
//! (`/worker-tokens`). Who may do what is the engine's policy's to decide
//! (`engine::authority`), for a worker token as for anyone.

use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use engine::Caller;
use model::external::{Report, ReportReply};
use model::workers::{
    Hello, NewWorkerToken, Poll, PollReply, SetState, WorkerInfo, WorkerTokenInfo,
};
use model::AppError;
use serde::Deserialize;
use tower::ServiceExt;

/// `POST /api/v1/workers`: 201 with the worker's id and timings.
pub async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(hello): ApiJson<Hello>,
) -> ApiResult<Response> {
    let registered = state.engine.jobs().register_worker(&caller, hello).await?;
    let location = format!("/api/v1/workers/{}", registered.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(registered),
    )
        .into_response())
}

/// `POST /api/v1/workers/{id}/poll`: jobs to run and jobs to stop, as soon as there are any.
pub async fn poll(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(poll): ApiJson<Poll>,
) -> ApiResult<Json<PollReply>> {
    Ok(Json(
        state.engine.jobs().poll_work(&caller, &id, poll).await?,
    ))
}

/// Which attempt of the job a worker's report is on.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AttemptQuery {
    /// The job's attempt the worker was given (`attempt` of its poll's answer).
    pub attempt: u32,
}

/// `POST /api/v1/workers/{id}/jobs/{job}/report?attempt=N`.
pub async fn report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, job)): Path<(String, String)>,
    query: Result<Query<AttemptQuery>, axum::extract::rejection::QueryRejection>,
    ApiJson(report): ApiJson<Report>,
) -> ApiResult<Json<ReportReply>> {
    let Query(AttemptQuery { attempt }) =
        query.map_err(|e| AppError::bad_request(e.body_text()))?;
    Ok(Json(
        state
            .engine
            .jobs()
            .worker_report(&caller, &id, &job, attempt, report)
            .await?,
    ))
}

/// `GET /api/v1/workers` (operators).
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<WorkerInfo>>> {
    Ok(Json(state.engine.jobs().workers(&caller).await?))
}

/// `POST /api/v1/workers/{id}/state` (operators).
pub async fn set_state(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetState>,
) -> ApiResult<Json<WorkerInfo>> {
    Ok(Json(
        state
            .engine
            .jobs()
            .set_worker_state(&caller, &id, body.state)
            .await?,
    ))
}

/// A worker token's name.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What it is for (`gpu box`): something besides spaces (what is around it is trimmed).
    #[schemars(length(max = engine::workers::tokens::MAX_NAME), regex(pattern = r"\S"))]
    pub name: String,
}

/// `GET /api/v1/worker-tokens` (admins).
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<WorkerTokenInfo>>> {
    Ok(Json(state.engine.jobs().worker_tokens(&caller).await?))
}

/// `POST /api/v1/worker-tokens` (admins): 201 with the token, shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewWorkerToken>)> {
    let token = state
        .engine
        .jobs()
        .make_worker_token(&caller, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// `DELETE /api/v1/worker-tokens/{id}` (admins): its workers are removed and their jobs taken
/// back.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .engine
        .jobs()
        .revoke_worker_token(&caller, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/workers/{id}/jobs/{job}/files/{param}`: the file a file parameter of a job the
/// worker holds names, for its run's inputs.
pub async fn input(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, job, param)): Path<(String, String, String)>,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    let path = state
        .engine
        .jobs()
        .worker_input(&caller, &id, &job, &param)
        .await?;
    let served = tower_http::services::ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(|e| AppError::internal_because("an input could not be read", e))?;
    if served.status() == StatusCode::NOT_FOUND {
        return Err(AppError::new(
            model::ErrorCode::NotFound,
            "the file is gone (an upload expired, or an output deleted)",
        )
        .into());
    }
    Ok(served.map(axum::body::Body::new))
}

/// `POST /api/v1/workers/{id}/jobs/{job}/outputs/{name}?attempt=N`: an output file of a job the
/// worker holds, the body its bytes (at most `--max-upload-bytes`); listed with the job once
/// whole, replacing one of the same name, unless it would take the job owner's stored files past
/// their quota (`--upload-quota-bytes`: 413, nothing kept).
pub async fn output(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, job, name)): Path<(String, String, String)>,
    query: Result<Query<AttemptQuery>, axum::extract::rejection::QueryRejection>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let conn = parts
        .extensions
        .get::<crate::serve::phases::ConnHandle>()
        .cloned();
    let mut body = crate::rest::files::paced(body, conn, state.body_limits.timeout);
    let written = async {
        let Query(AttemptQuery { attempt }) =
            query.map_err(|e| AppError::bad_request(e.body_text()))?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let jobs = state.engine.jobs();
        let max = jobs.uploads().limits().max_bytes;
        let mut out = jobs
            .worker_output(&caller, &id, &job, attempt, &name, &content_type)
            .await?;
        while let Some(chunk) = futures::StreamExt::next(&mut body).await {
            let chunk = chunk.map_err(|e| {
                AppError::bad_request(format!("the file did not arrive whole: {e}"))
            })?;
            if out.size() + chunk.len() as u64 > max {
                return Err(jobs.uploads().too_large());
            }
            out.write(&chunk)
                .await
                .map_err(|e| AppError::new(model::ErrorCode::Internal, e.message))?;
        }
        // Past the job owner's file quota, 413; past the outputs a job may have or once the
        // job is no longer the worker's, 409.
        out.keep().await.map_err(|refused| refused.error)
    }
    .await;
    match written {
        Ok(output) => (StatusCode::CREATED, Json(output)).into_response(),
        Err(e) => {
            crate::rest::files::drain(&mut body).await;
            crate::rest::files::refused(e)
        }
    }
}
