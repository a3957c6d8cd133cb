//! The JSON API's jobs, for scripts: start, read, list, cancel, re-run (one or many), logs.
//! Every error is `{code, message}` (plus `fields` for validation) with the status that fits: 400/422 bad input, 404 unknown or someone else's job (never 403), 409 wrong state, 413
//! oversized body ([`crate::refusals`]).

use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use engine::external::Start;
use engine::Caller;
use model::{AppError, FieldError, HistoryQuery, Job, JobPage, LogLine};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    kind: String,
    /// The kind's parameters, by name (`GET /api/v1/kinds` says which).
    #[serde(default = "empty_object")]
    #[schemars(schema_with = "params")]
    params: serde_json::Value,
    /// Not before this time: an RFC 3339 instant or Unix milliseconds.
    #[serde(default)]
    #[schemars(with = "Option<RunAfter>")]
    run_after: Option<serde_json::Value>,
    /// How many attempts it may take, at most what its kind allows (its default).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    max_attempts: Option<serde_json::Value>,
    /// Which queued job a free slot goes to first (its kind's by default); above its kind's,
    /// only for an operator or an admin.
    #[serde(default)]
    #[schemars(with = "Option<model::Priority>")]
    priority: Option<serde_json::Value>,
    /// Jobs (yours) it runs after: it waits, queued, until they end, and starts then as `when`
    /// says.
    #[serde(default)]
    #[schemars(length(max = 100))]
    after: Option<Vec<String>>,
    /// With `after`: `succeeded` (the default) starts it once they all succeeded, and cancels
    /// it if one ends otherwise; `ended` starts it once they all ended, however.
    #[serde(default)]
    when: Option<model::AfterWhen>,
}

/// A priority as the API takes it: a level's name or number, refused on its field.
pub fn priority(value: &serde_json::Value) -> Result<model::Priority, AppError> {
    serde_json::from_value(value.clone()).map_err(|_| {
        AppError::invalid_words(engine::priorities::FIELD, model::words::priority_levels())
    })
}

/// A job's parameters: an object, said as what it is not, so that a generated client takes any
/// map of values rather than a class of its own.
fn params(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "not": { "type": ["array", "string", "number", "boolean", "null"] } })
}

/// When a job may start, as its start takes it (for the API's document).
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RunAfter {
    /// An RFC 3339 instant (`2026-11-25T02:00:00+01:00`).
    Instant(#[schemars(extend("format" = "date-time"))] String),
    /// Unix milliseconds.
    UnixMs(i64),
}

/// `max_attempts` as the API takes it: a whole number (its bounds are the kind's), which may be
/// written `5.0`, as JavaScript and Python's `float` write it.
fn max_attempts(value: &serde_json::Value) -> Result<u32, AppError> {
    let whole_float = || {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)
    };
    value
        .as_u64()
        .or_else(whole_float)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            AppError::invalid_words(engine::retries::FIELD, model::words::attempts_whole())
        })
}

/// The jobs a start runs after, by id: a text that is no job's id names no job of the caller's,
/// and is refused as one that is not theirs.
fn after_ids(ids: Vec<String>, when: model::AfterWhen) -> Result<engine::AfterAsked, AppError> {
    let jobs = ids
        .into_iter()
        .map(|id| {
            model::JobId::try_from(id.clone()).map_err(|_| {
                AppError::invalid_words(engine::jobs::AFTER_FIELD, model::words::after_unknown(&id))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(engine::AfterAsked { jobs, when })
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// `POST /api/v1/jobs`: 201 with the new job (an external one with its `report_token`); with an `Idempotency-Key` header that started a
/// job within the last day, 200 with that job (the same key with other parameters: 422).
pub async fn create_job(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateJob>,
) -> ApiResult<Response> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(value) => Some(value.to_str().map(str::to_string).map_err(|_| {
            AppError::invalid(vec![FieldError::new(
                engine::jobs::KEY_FIELD,
                "an idempotency key is visible ASCII characters",
            )])
        })?),
    };
    let options = engine::StartOptions {
        run_after: body
            .run_after
            .as_ref()
            .map(engine::when::from_json)
            .transpose()?,
        key,
        max_attempts: body.max_attempts.as_ref().map(max_attempts).transpose()?,
        priority: body.priority.as_ref().map(priority).transpose()?,
        after: body
            .after
            .map(|ids| after_ids(ids, body.when.unwrap_or_default()))
            .transpose()?,
    };
    let started = state
        .engine
        .jobs()
        .start_any(&caller, &body.kind, body.params, options)
        .await?;
    let (status, body) = match started {
        Start::Job(started) if started.again => (StatusCode::OK, Opened::job(started.job)),
        Start::Job(started) => (StatusCode::CREATED, Opened::job(started.job)),
        Start::External(opened) => (
            StatusCode::CREATED,
            Opened {
                job: opened.job,
                report_token: opened.report_token,
            },
        ),
    };
    let location = format!("/api/v1/jobs/{}", body.job.id);
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}

/// A new job; an external one with the token its program reports with (shown this once).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Opened {
    #[serde(flatten)]
    job: Job,
    /// An external job's report token (`hwr_…`); absent for any other job.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    report_token: String,
}

impl Opened {
    /// A job of a registered kind: no report token.
    fn job(job: Job) -> Opened {
        Opened {
            job,
            report_token: String::new(),
        }
    }
}

/// The header that makes a start idempotent.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A job as the API shows it: a queued one also says its place in line and expected start.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JobView {
    #[serde(flatten)]
    job: Job,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    queue: Option<model::QueueInfo>,
    /// The processes its attempts ran on (`attempts[].on`) that are still registered: a
    /// worker by its name, a server's process by its host and pid. Said for one job
    /// (`GET /api/v1/jobs/{id}`), not in listings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    places: Vec<model::ProcessInfo>,
}

impl JobView {
    /// The jobs as `caller` sees them in the API, the queued ones' places estimated at one
    /// moment.
    async fn all(
        engine: &engine::Engine,
        caller: &Caller,
        jobs: Vec<Job>,
    ) -> Result<Vec<JobView>, AppError> {
        let queue = engine.jobs().queue_infos(caller, &jobs).await?;
        Ok(jobs
            .into_iter()
            .zip(queue)
            .map(|(job, queue)| JobView {
                job,
                queue,
                places: Vec::new(),
            })
            .collect())
    }
}

pub async fn get_job(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<JobView>> {
    let id = engine::requested::job_id(&id)?;
    let job = state.engine.jobs().job(&caller, &id).await?;
    let ran_on: Vec<&str> = job
        .attempts
        .iter()
        .filter_map(|a| a.on.as_deref())
        .collect();
    let places = state.engine.jobs().processes_of(&ran_on).await?;
    let mut views = JobView::all(&state.engine, &caller, vec![job]).await?;
    let mut view = views.remove(0);
    view.places = places;
    Ok(Json(view))
}

pub async fn cancel_job(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    let id = engine::requested::job_id(&id)?;
    Ok(Json(state.engine.jobs().cancel(&caller, &id).await?))
}

pub async fn rerun_job(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = engine::requested::job_id(&id)?;
    let job = state.engine.jobs().rerun(&caller, &id).await?;
    let location = format!("/api/v1/jobs/{}", job.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}

/// A page of the history, as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JobViewPage {
    jobs: Vec<JobView>,
    next: Option<String>,
    prev: Option<String>,
}

pub async fn list_jobs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<JobViewPage>> {
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let JobPage { jobs, next, prev } = state.engine.jobs().history_page(&caller, &q).await?;
    Ok(Json(JobViewPage {
        jobs: JobView::all(&state.engine, &caller, jobs).await?,
        next,
        prev,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LogQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LogPage {
    lines: Vec<LogLine>,
}

pub async fn job_log(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LogPage>> {
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let id = engine::requested::job_id(&id)?;
    let lines = state
        .engine
        .jobs()
        .job_log(&caller, &id, q.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(LogPage { lines }))
}

/// `POST /api/v1/jobs/cancel` `{"ids":[…]}` or `{"filter":{"status","kind","q"}}`: requests
/// cancellation of each job; the answer says what became of each one.
pub async fn bulk_cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<model::bulk::BulkRequest>,
) -> ApiResult<Json<model::bulk::BulkAnswer>> {
    Ok(Json(
        state.engine.jobs().bulk_cancel(&caller, &request).await?,
    ))
}

/// `POST /api/v1/jobs/rerun`, with the same body: starts a new job like each one.
pub async fn bulk_rerun(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<model::bulk::BulkRequest>,
) -> ApiResult<Json<model::bulk::BulkAnswer>> {
    Ok(Json(
        state.engine.jobs().bulk_rerun(&caller, &request).await?,
    ))
}

/// `POST /api/v1/jobs/priority`, with the same body and a `priority`: sets each queued job's
/// priority.
pub async fn bulk_prioritize(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<model::bulk::BulkPriority>,
) -> ApiResult<Json<model::bulk::BulkAnswer>> {
    let jobs = state.engine.jobs();
    Ok(Json(
        jobs.bulk_prioritize(&caller, &body.request(), body.priority)
            .await?,
    ))
}

/// A change of one job's priority.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPriority {
    #[schemars(with = "model::Priority")]
    priority: serde_json::Value,
}

/// `POST /api/v1/jobs/{id}/priority` `{"priority":"high"}`: the queued job with its new
/// priority.
pub async fn set_priority(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetPriority>,
) -> ApiResult<Json<Job>> {
    let id = engine::requested::job_id(&id)?;
    let to = priority(&body.priority)?;
    Ok(Json(
        state.engine.jobs().set_priority(&caller, &id, to).await?,
    ))
}

/// Lines read from the store per step of a log download.
const LOG_TEXT_PAGE: u32 = 5_000;

/// `GET /api/v1/jobs/{id}/log.txt`: the job's whole log as plain text, one line per log line
/// (`time level text`), read from the store a page at a time (bounded in lines and in bytes)
/// as the client takes it.
pub async fn job_log_text(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    // A job the caller may not see is a 404 before any byte is sent.
    let id = engine::requested::job_id(&id)?;
    let job = state.engine.jobs().job(&caller, &id).await?;
    let engine = state.engine.clone();
    let pages = futures::stream::unfold(Some(0u64), move |after| {
        let (engine, caller, id) = (engine.clone(), caller.clone(), id.clone());
        async move {
            let after = after?;
            match engine
                .jobs()
                .job_log(&caller, &id, after, LOG_TEXT_PAGE)
                .await
            {
                Ok(lines) if lines.is_empty() => None,
                Ok(lines) => {
                    // A step is bounded in bytes too (`engine::history::LOG_READ_BYTES`): it
                    // may end before `LOG_TEXT_PAGE` lines; the next starts after its last.
                    let next = lines.last().map(|l| l.seq);
                    let mut text =
                        String::with_capacity(lines.iter().map(|l| l.line.len() + 40).sum());
                    for l in &lines {
                        // Lines of a retried job say their attempt from the second on.
                        let attempt = match l.attempt {
                            1 => String::new(),
                            n => format!("[attempt {n}] "),
                        };
                        text.push_str(&format!(
                            "{} {:<5} {attempt}{}\n",
                            app::format::iso(l.at),
                            l.level.as_str(),
                            l.line
                        ));
                    }
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(text)), next))
                }
                // The download ends short; the error is logged where it happened.
                Err(_) => Some((
                    Err(std::io::Error::other("the log could not be read")),
                    None,
                )),
            }
        }
    });
    let name = format!("{}-{}.log", job.kind, &job.id[..8.min(job.id.len())]);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        axum::body::Body::from_stream(pages),
    )
        .into_response())
}
