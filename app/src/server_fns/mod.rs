//! Server functions: the calls islands and forms make. Each one is a public HTTP endpoint, so
//! each finds out who is calling first and lets the engine check what they may touch.

// A form's fields are the functions' arguments, as the browser posts them (the start form's
// are eight).
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::{
    FailureGroup, HistoryQuery, Job, JobDetail, JobPage, KindInfo, MinuteStats, Notice, StatusCount,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What every page needs to go live: where its stream starts, the build that rendered it, the
/// notices it shows, the clock it was rendered by and when a running job counts as stalled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveInfo {
    /// The latest event id when the page was rendered (read before anything else).
    pub cursor: i64,
    pub build: String,
    pub notices: Vec<Notice>,
    /// Notices this browser dismissed: the stream's snapshots list every notice in force.
    pub dismissed: Vec<i64>,
    pub now: i64,
    pub stall_ms: u64,
    /// Names what the page's stream carries (whose events): the tabs of one browser showing
    /// the same events share one stream under this name.
    pub stream: String,
    /// The job whose log the page shows, and the last line it rendered: the stream's newer
    /// lines are kept from the start, before the log's own view is live.
    #[serde(default)]
    pub log_job: Option<String>,
    #[serde(default)]
    pub log_after: u64,
    /// Each kind's title by machine name: what the page calls the jobs it learns of later.
    #[serde(default)]
    pub titles: Vec<(String, String)>,
}

/// What the dashboard shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardData {
    pub kinds: Vec<KindInfo>,
    /// The kinds whose jobs run elsewhere and report here, which the filters offer too.
    pub elsewhere: Vec<KindInfo>,
    pub query: HistoryQuery,
    pub page: JobPage,
    /// The jobs running now, and the next to start.
    pub active: Active,
    /// Failures of the last day, by kind and error code.
    pub failures: Vec<FailureGroup>,
    /// Per status, for the kind filtered on (or all kinds).
    pub counts: Vec<StatusCount>,
    /// Jobs finished per minute over the last hour.
    pub chart: Vec<MinuteStats>,
    pub live: LiveInfo,
    pub may: Powers,
    /// The page's queued jobs that wait on a limit, and why, by id.
    #[serde(default)]
    pub limit_waits: Vec<(String, crate::model::QueueInfo)>,
}

/// What the caller may do on the page, so that it offers only that (the server checks every
/// action again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Powers {
    /// Start jobs (not a viewer).
    pub start: bool,
    /// Cancel and re-run the jobs they see (not a viewer).
    pub act: bool,
    /// Sees every user's jobs (viewers, operators, admins).
    pub sees_all: bool,
}

#[cfg(feature = "ssr")]
impl Powers {
    pub fn of(caller: &engine::Caller) -> Powers {
        Powers {
            start: caller.may_start().is_ok(),
            act: caller.may_act().is_ok(),
            sees_all: caller.sees().is_none(),
        }
    }
}

#[server(endpoint = "dashboard", output = model::codec::Json)]
pub async fn load_dashboard(query: HistoryQuery) -> Result<DashboardData, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let live = live_info(&engine, &caller).await?;
            let page = engine
                .jobs()
                .history_page(&caller, &query)
                .await
                .inspect_err(|_| page_status(400))?;
            let kind = query.kind.as_deref().filter(|k| !k.is_empty());
            let since = live.now - FAILURES_FOR_MS;
            let limit_waits = limit_waits(&engine, &caller, &page.jobs).await?;
            Ok(DashboardData {
                limit_waits,
                active: active(&engine, &caller).await?,
                failures: engine
                    .jobs()
                    .failure_groups(&caller, since, FAILURE_GROUPS)
                    .await?,
                kinds: {
                    let t = crate::i18n::t();
                    let kinds = engine.jobs().kinds_now().await?;
                    kinds
                        .into_iter()
                        .map(|k| crate::components::localized_kind(t, k))
                        .collect()
                },
                elsewhere: engine.jobs().kinds_elsewhere(),
                counts: engine.jobs().status_counts(&caller, kind).await?,
                chart: engine.jobs().last_hour(&caller, live.now).await?,
                query,
                page,
                live,
                may: Powers::of(&caller),
            })
        }
        .await,
    )
}

/// Those of `jobs` that are queued and wait on a limit or on the jobs they run after, with
/// why, by id: what a page without
/// JavaScript says of them (a page with it asks for each queued job's place in line).
#[cfg(feature = "ssr")]
async fn limit_waits(
    engine: &engine::Engine,
    caller: &engine::Caller,
    jobs: &[Job],
) -> Result<Vec<(String, crate::model::QueueInfo)>, AppError> {
    let queued: Vec<Job> = jobs
        .iter()
        .filter(|j| j.status == model::JobStatus::Queued)
        .cloned()
        .collect();
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let infos = engine.jobs().queue_infos(caller, &queued).await?;
    Ok(queued
        .into_iter()
        .zip(infos)
        .filter_map(|(job, info)| {
            let waits = info.filter(|i| i.limit.is_some() || i.needs.is_some())?;
            Some((job.id.to_string(), waits))
        })
        .collect())
}

/// How far back the dashboard groups failures.
pub const FAILURES_FOR_MS: i64 = 86_400_000;
/// The most groups of failures it shows.
pub const FAILURE_GROUPS: u32 = 6;
/// The most running jobs, and queued ones, the dashboard's first screen shows.
pub const ACTIVE_SHOWN: usize = 4;

/// The caller's jobs running now (newest first) and the next to start (oldest first), at most
/// [`ACTIVE_SHOWN`] of each, with how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Active {
    pub running: Vec<Job>,
    pub running_total: u64,
    pub next: Vec<Job>,
    /// Why each of `next` waits, or its place in line (as the job page says it).
    #[serde(default)]
    pub next_queue: Vec<Option<crate::model::QueueInfo>>,
    pub queued_total: u64,
}

/// Jobs read to find the next to start: the oldest of the newest this many queued.
#[cfg(feature = "ssr")]
const QUEUED_SCAN: u32 = 500;

#[cfg(feature = "ssr")]
async fn active(engine: &engine::Engine, caller: &engine::Caller) -> Result<Active, AppError> {
    use crate::model::JobStatus;
    let page = |status: &str, limit: u32| HistoryQuery {
        status: Some(status.to_string()),
        limit: Some(limit),
        ..HistoryQuery::default()
    };
    let running = engine
        .jobs()
        .history_page(caller, &page("running,cancelling", ACTIVE_SHOWN as u32))
        .await?
        .jobs;
    let mut queued = engine
        .jobs()
        .history_page(caller, &page("queued", QUEUED_SCAN))
        .await?
        .jobs;
    let now = engine::now_ms();
    queued.sort_by_key(|j| next_order(j, now));
    let counts = engine.jobs().status_counts(caller, None).await?;
    let total = |statuses: &[JobStatus]| -> u64 {
        counts
            .iter()
            .filter(|c| statuses.contains(&c.status))
            .map(|c| c.n)
            .sum()
    };
    let next: Vec<Job> = queued.into_iter().take(ACTIVE_SHOWN).collect();
    let next_queue = engine.jobs().queue_infos(caller, &next).await?;
    Ok(Active {
        running,
        running_total: total(&[JobStatus::Running, JobStatus::Cancelling]),
        next,
        next_queue,
        queued_total: total(&[JobStatus::Queued]),
    })
}

/// Where a queued job goes in "Next to start": those that may start now in the order a free
/// slot takes them (priority, then age: their rank), then those that wait for a time of their
/// own (a start time, a retry), then those that wait for other jobs to end.
#[cfg(any(feature = "ssr", test))]
fn next_order(job: &Job, now: i64) -> (u8, i64) {
    let waits = if job.after.as_ref().is_some_and(crate::model::After::waits) {
        2
    } else if job.run_after.is_some_and(|at| at > now) {
        1
    } else {
        0
    };
    (waits, job.rank())
}

/// The most rows [`load_rows`] renders in one call.
pub const ROWS_PER_CALL: usize = 50;

/// The rows of jobs that appeared after a list was rendered, rendered as the list renders its
/// own (`ids`: comma-separated, at most [`ROWS_PER_CALL`]), in the order asked, in the caller's
/// language and zone: what an open list puts at its top. A job the caller may not see, or that
/// is gone, has no row.
#[server(endpoint = "rows", output = model::codec::Json)]
pub async fn load_rows(ids: String) -> Result<String, AppError> {
    answered(
        async move {
            use crate::components::JobRowView;
            use crate::error::ErrorCode;
            use leptos::tachys::view::RenderHtml;
            let (engine, caller) = caller().await?;
            let t = crate::i18n::t();
            let ids: Vec<&str> = ids
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if ids.is_empty() || ids.len() > ROWS_PER_CALL {
                return Err(AppError::bad_request(t.rows_ids_bounds(ROWS_PER_CALL)));
            }
            let mut jobs = Vec::with_capacity(ids.len());
            for id in ids {
                let job = match engine::requested::job_id(id) {
                    Ok(id) => engine.jobs().job(&caller, &id).await,
                    Err(e) => Err(e),
                };
                match job {
                    Ok(job) => jobs.push(job),
                    Err(e) if e.code == ErrorCode::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            let act = Powers::of(&caller).act;
            let (now, stall_ms) = (engine::now_ms(), engine.jobs().stall_ms());
            let titles = crate::names::titles_of(&engine);
            Ok(Owner::new().with(|| {
                provide_context(titles);
                jobs.into_iter()
                    .map(|job| {
                        view! { <JobRowView job now stall_ms selectable=act actions=act/> }
                            .to_html()
                    })
                    .collect()
            }))
        }
        .await,
    )
}

/// The dashboard's counts per status (for `kind`, or all kinds; `status` is the one the page
/// shows), its failures of the last day and its chart of the last hour, rendered: what an open
/// dashboard puts in place of its own when the caller's jobs change. Rendered here, they cost
/// the page's wasm nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The `<nav class="counts">`.
    pub counts: String,
    /// The `<div class="failures-list">`.
    pub failures: String,
    /// The `<figure class="chart">`.
    pub chart: String,
    /// The first screen's `<section class="now-running">`.
    pub running: String,
    /// And its `<section class="now-next">`.
    pub next: String,
}

/// The summary again, for a dashboard that follows the stream.
#[server(endpoint = "summary", output = model::codec::Json)]
pub async fn load_summary(
    kind: Option<String>,
    status: Option<String>,
) -> Result<Summary, AppError> {
    answered(
        async move {
            use crate::components::{ActiveSection, FailureGroups, FinishedChart, StatusCounts};
            use leptos::tachys::view::RenderHtml;
            let (engine, caller) = caller().await?;
            let now = engine::now_ms();
            let failures = engine
                .jobs()
                .failure_groups(&caller, now - FAILURES_FOR_MS, FAILURE_GROUPS)
                .await?;
            let titles = crate::names::titles_of(&engine);
            let query = HistoryQuery {
                kind: kind.filter(|k| !k.is_empty()),
                status: status.filter(|s| !s.is_empty()),
                ..HistoryQuery::default()
            };
            let counts = engine.jobs().status_counts(&caller, query.kind.as_deref()).await?;
            let chart = engine.jobs().last_hour(&caller, now).await?;
            let active = active(&engine, &caller).await?;
            let stall_ms = engine.jobs().stall_ms();
            Ok(Owner::new().with(|| {
                provide_context(titles);
                Summary {
                    running: view! {
                        <ActiveSection jobs=active.running queues=Vec::new() total=active.running_total queued=false now stall_ms/>
                    }
                    .to_html(),
                    next: view! {
                        <ActiveSection jobs=active.next queues=active.next_queue total=active.queued_total queued=true now stall_ms/>
                    }
                    .to_html(),
                    counts: view! { <StatusCounts counts query/> }.to_html(),
                    failures: view! { <FailureGroups groups=failures now/> }.to_html(),
                    chart: view! { <FinishedChart minutes=chart now/> }.to_html(),
                }
            }))
        }
        .await,
    )
}

/// What the New job page shows: the kinds the caller may start, and the one chosen, with the
/// values to fill its form with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewJobData {
    pub kinds: Vec<KindInfo>,
    pub chosen: Option<KindInfo>,
    /// A finished job's parameters, for "Run again with changes…": files and secrets left out.
    pub values: Option<serde_json::Value>,
    /// The job they are from.
    pub from: Option<String>,
    /// The picker's search.
    pub q: Option<String>,
    pub live: LiveInfo,
    /// The reader may start jobs above their kind's priority (an operator or an admin).
    pub may_raise: bool,
    /// The job the new one is to run after ("Then run…"), one of the reader's.
    pub after: Option<String>,
    /// Whether `chosen` is a workflow (its form starts a run).
    #[serde(default)]
    pub workflow: bool,
}

#[server(endpoint = "new_job", output = model::codec::Json)]
pub async fn load_new_job(
    kind: Option<String>,
    from: Option<String>,
    q: Option<String>,
    #[server(default)] after: Option<String>,
) -> Result<NewJobData, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            caller.may_start().inspect_err(|_| page_status(403))?;
            let live = live_info(&engine, &caller).await?;
            let t = crate::i18n::t();
            // The workflows' forms beside the kinds': a workflow's name is never a kind's.
            let workflows = engine.jobs().workflows();
            let kinds: Vec<KindInfo> = engine
                .jobs()
                .kinds_now()
                .await?
                .into_iter()
                .chain(workflows.iter().cloned())
                .map(|k| crate::components::localized_kind(t, k))
                .collect();
            let chosen = match kind.as_deref().filter(|k| !k.is_empty()) {
                None => None,
                Some(name) => Some(kinds.iter().find(|k| k.name == name).cloned().ok_or_else(
                    || {
                        page_status(404);
                        AppError::new(
                            crate::error::ErrorCode::NotFound,
                            crate::i18n::t().new_job_no_kind(name),
                        )
                    },
                )?),
            };
            let (mut values, mut from_job) = (None, None);
            if let (Some(kind), Some(id)) = (&chosen, from.filter(|f| !f.is_empty())) {
                let job = match engine::requested::job_id(&id) {
                    Ok(id) => engine.jobs().job(&caller, &id).await,
                    Err(e) => Err(e),
                }
                .inspect_err(|_| page_status(404))?;
                // A run is run again from its workflow's form, with the run's parameters.
                let run_of = (job.kind == model::workflows::WORKFLOW_KIND)
                    .then(|| job.title().map(str::to_string))
                    .flatten();
                if job.kind != kind.name && run_of.as_deref() != Some(kind.name.as_str()) {
                    page_status(400);
                    return Err(AppError::bad_request(
                        crate::i18n::t().new_job_not_of_kind(id.as_str(), kind.title.as_str()),
                    ));
                }
                let params = match run_of {
                    Some(_) => job.params["params"].clone(),
                    None => job.params,
                };
                values = Some(again_values(kind, params));
                from_job = Some(job.id.to_string());
            }
            // "Then run…": a job of the reader's, named in the form.
            let after = match after.filter(|a| !a.is_empty()) {
                None => None,
                Some(id) => {
                    let job = match engine::requested::job_id(&id) {
                        Ok(id) => engine.jobs().job(&caller, &id).await,
                        Err(e) => Err(e),
                    }
                    .inspect_err(|_| page_status(404))?;
                    Some(job.id.to_string())
                }
            };
            let workflow = chosen
                .as_ref()
                .is_some_and(|c| workflows.iter().any(|w| w.name == c.name));
            Ok(NewJobData {
                workflow,
                kinds,
                chosen,
                values,
                from: from_job,
                q: q.filter(|q| !q.trim().is_empty()),
                live,
                may_raise: caller.may_operate().is_ok(),
                after,
            })
        }
        .await,
    )
}

/// A job's parameters to fill its kind's form with again: a file (an upload the job took) and
/// a secret (never stored) are asked for anew.
pub fn again_values(kind: &KindInfo, params: serde_json::Value) -> serde_json::Value {
    let mut params = params;
    if let Some(object) = params.as_object_mut() {
        for p in &kind.params {
            if matches!(p.kind, model::ParamType::File | model::ParamType::Secret) {
                object.remove(&p.name);
            }
        }
    }
    params
}

/// What the job page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobPageData {
    pub detail: JobDetail,
    pub live: LiveInfo,
    pub may: Powers,
    /// The job's parameters as a person reads them: by their labels, an upload by its file name.
    pub params: Vec<ShownParam>,
    /// Whether "Run again with changes…" is offered (once the job has ended): a job of a kind
    /// the caller may start from the page.
    pub run_again: bool,
    /// The priorities the caller may give the job, highest first: none unless it is queued
    /// and theirs to change.
    pub priorities: Vec<model::Priority>,
    /// Where the job stands while it is queued (its place in line, or the pause or the limit
    /// that holds it back), as the page was rendered.
    #[serde(default)]
    pub queue: Option<crate::model::QueueInfo>,
    /// Its children, in the order they were made: a workflow run's steps, a fan-out's items,
    /// the children a job started itself.
    #[serde(default)]
    pub steps: Vec<Job>,
    /// A workflow run's graph: each step's name and the steps it needs, in its plan's order.
    #[serde(default)]
    pub graph: Vec<(String, Vec<String>)>,
    /// A run's steps' own titles, by step name (a step without one is called by its kind's).
    #[serde(default)]
    pub step_titles: Vec<(String, String)>,
    /// Where "Run again with changes…" goes: the form of the job's kind, or of a run's
    /// workflow.
    #[serde(default)]
    pub again_form: String,
    /// The processes its attempts ran on ([`crate::model::Attempt::on`]) that are still
    /// registered.
    #[serde(default)]
    pub places: Vec<crate::model::ProcessInfo>,
}

/// One of a job's parameters, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownParam {
    pub name: String,
    pub label: String,
    pub value: String,
}

/// `params` as a person reads them: in the order of the kind's form, each by its label, text as
/// it is, yes or no in the reader's words, an upload by its file name (its id when it is gone),
/// anything else as JSON.
#[cfg(feature = "ssr")]
pub(crate) async fn shown_params(
    engine: &engine::Engine,
    caller: &engine::Caller,
    kind: Option<&KindInfo>,
    params: &serde_json::Value,
) -> Vec<ShownParam> {
    let Some(given) = params.as_object() else {
        return Vec::new();
    };
    // The labels in the reader's language.
    let kind = kind.map(|k| crate::components::localized_kind(crate::i18n::t(), k.clone()));
    let described = kind
        .as_ref()
        .map(|k| k.params.as_slice())
        .unwrap_or_default();
    let position = |name: &str| {
        described
            .iter()
            .position(|p| p.name == name)
            .unwrap_or(usize::MAX)
    };
    let mut names: Vec<&String> = given.keys().collect();
    names.sort_by_key(|n| position(n));
    let mut shown = Vec::new();
    for name in names {
        let value = &given[name];
        let param = described.iter().find(|p| p.name == *name);
        let text = match (param.map(|p| p.kind), value) {
            (Some(model::ParamType::File), serde_json::Value::String(id)) => {
                match engine::requested::upload_id(id) {
                    Ok(upload) => engine.uploads().get(caller, &upload).await,
                    Err(e) => Err(e),
                }
                .map(|u| u.name)
                .unwrap_or_else(|_| id.clone())
            }
            (_, serde_json::Value::String(text)) => text.clone(),
            (_, serde_json::Value::Bool(yes)) => match yes {
                true => crate::i18n::t().param_yes().to_string(),
                false => crate::i18n::t().param_no().to_string(),
            },
            (_, serde_json::Value::Array(items)) if items.iter().all(|i| i.is_string()) => items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            (_, other) => other.to_string(),
        };
        shown.push(ShownParam {
            name: name.clone(),
            label: param.map_or_else(|| name.clone(), |p| p.label.clone()),
            value: text,
        });
    }
    shown
}

/// Log lines the job page renders; earlier ones are in `GET /api/v1/jobs/{id}/log`.
pub const PAGE_LOG_LINES: u32 = 1_000;

#[server(endpoint = "job", output = model::codec::Json)]
pub async fn load_job(
    id: String,
    log_filter: crate::model::LogFilter,
) -> Result<JobPageData, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let mut live = live_info(&engine, &caller).await?;
            let detail = match engine::requested::job_id(&id) {
                Ok(id) => {
                    engine
                        .jobs()
                        .job_detail(&caller, &id, PAGE_LOG_LINES, &log_filter)
                        .await
                }
                Err(e) => Err(e),
            }
            .inspect_err(|e| {
                page_status(if e.code == crate::error::ErrorCode::NotFound {
                    404
                } else {
                    400
                })
            })?;
            live.log_job = Some(detail.job.id.to_string());
            live.log_after = detail.log.last().map_or(0, |l| l.seq);
            let kinds = engine.jobs().kinds();
            let kind = kinds.iter().find(|k| k.name == detail.job.kind);
            // A run's parameters are its workflow's, kept under `params`.
            let workflows = engine.jobs().workflows();
            let workflow = (detail.job.kind == model::workflows::WORKFLOW_KIND
                && detail.job.step.is_none())
            .then(|| detail.job.title())
            .flatten()
            .and_then(|name| workflows.iter().find(|w| w.name == name));
            let params = match workflow {
                Some(w) => {
                    let given = detail.job.params.get("params").cloned().unwrap_or_default();
                    shown_params(&engine, &caller, Some(w), &given).await
                }
                None => shown_params(&engine, &caller, kind, &detail.job.params).await,
            };
            let may = Powers::of(&caller);
            let priorities = match (may.act, detail.job.status, kind) {
                (true, model::JobStatus::Queued, Some(kind)) => {
                    let highest = match caller.may_operate() {
                        Ok(()) => model::Priority::URGENT,
                        Err(_) => kind.priority.max(detail.job.priority),
                    };
                    model::Priority::ALL
                        .into_iter()
                        .rev()
                        .filter(|p| *p <= highest)
                        .collect()
                }
                _ => Vec::new(),
            };
            let queue = match detail.job.status {
                model::JobStatus::Queued => engine
                    .jobs()
                    .queue_infos(&caller, std::slice::from_ref(&detail.job))
                    .await?
                    .pop()
                    .flatten(),
                _ => None,
            };
            let run_of = (detail.job.kind == model::workflows::WORKFLOW_KIND)
                .then(|| detail.job.title().map(str::to_string))
                .flatten();
            // A run's steps, a fan-out's items or the children a job started itself: its
            // children, whatever its kind.
            let query = model::HistoryQuery {
                parent: Some(detail.job.id.to_string()),
                limit: Some(model::workflows::MAX_STEPS as u32),
                ..Default::default()
            };
            let mut steps = engine.jobs().history_page(&caller, &query).await?.jobs;
            steps.reverse();
            let graph = match steps.is_empty() {
                true => Vec::new(),
                false => engine
                    .jobs()
                    .run_plan(&detail.job.id)
                    .await?
                    .map(|plan| plan.steps.into_iter().map(|s| (s.name, s.needs)).collect())
                    .unwrap_or_default(),
            };
            let step_titles = match (&graph.is_empty(), detail.job.title()) {
                (false, Some(workflow)) => engine.jobs().step_titles(workflow),
                _ => Vec::new(),
            };
            let startable = kind.is_some()
                || run_of
                    .as_ref()
                    .is_some_and(|w| engine.jobs().workflows().iter().any(|i| i.name == *w));
            let again_form = run_of.unwrap_or_else(|| detail.job.kind.clone());
            let ran_on: Vec<&str> = detail
                .job
                .attempts
                .iter()
                .filter_map(|a| a.on.as_deref())
                .collect();
            let places = engine.jobs().processes_of(&ran_on).await?;
            Ok(JobPageData {
                places,
                queue,
                steps,
                graph,
                step_titles,
                again_form,
                run_again: may.start && startable,
                priorities,
                detail,
                live,
                may,
                params,
            })
        }
        .await,
    )
}

/// Hides an operator notice from this browser for good.
#[server(endpoint = "dismiss_notice", output = model::codec::Json)]
pub async fn dismiss_notice(id: i64) -> Result<i64, AppError> {
    answered(
        async move {
            let ids = cookies::dismissed(&request_headers().await?);
            cookies::set(cookies::DISMISSED, &cookies::with_dismissed(ids, id));
            Ok(id)
        }
        .await,
    )
}

/// Chooses the colour theme: `light`, `dark` or `system` (follow the system setting).
#[server(endpoint = "set_theme", output = model::codec::Json)]
pub async fn set_theme(theme: String) -> Result<String, AppError> {
    answered(
        async move {
            let theme = crate::theme::Theme::parse(&theme)
                .ok_or_else(|| AppError::bad_request(crate::i18n::t().theme_unknown()))?;
            cookies::set(cookies::THEME, theme.as_str());
            Ok(theme.as_str().to_string())
        }
        .await,
    )
}

/// Shows the pages in the language `lang` (a tag of `Lang::ALL`) from now on: a cookie.
#[server(endpoint = "set_language", output = model::codec::Json)]
pub async fn set_language(lang: String) -> Result<String, AppError> {
    answered(
        async move {
            use crate::i18n::{negotiate, t, Lang};
            let chosen = Lang::from_tag(&lang).ok_or_else(|| {
                let known: Vec<&str> = Lang::ALL.iter().map(|l| l.tag()).collect();
                AppError::bad_request(t().lang_unknown(lang.as_str(), known.join(", ")))
            })?;
            cookies::set(negotiate::COOKIE, chosen.tag());
            Ok(chosen.tag().to_string())
        }
        .await,
    )
}

/// Shows times in `zone` (an IANA name, or `UTC`) from now on, whatever the browser's zone; an
/// empty `zone` goes back to the browser's own (UTC without JavaScript). Cookies.
#[server(endpoint = "set_time_zone", output = model::codec::Json)]
pub async fn set_time_zone(zone: String) -> Result<String, AppError> {
    answered(
        async move {
            use crate::zone::{Zone, CHOSEN_COOKIE, COOKIE};
            // Automatic: the browser's own zone, which its script writes again on the next
            // page; UTC without one.
            if zone.trim().is_empty() {
                cookies::clear(CHOSEN_COOKIE);
                cookies::clear(COOKIE);
                return Ok(String::new());
            }
            let chosen = Zone::named(&zone, true).ok_or_else(|| {
                AppError::invalid(vec![crate::model::FieldError::new(
                    "zone",
                    crate::i18n::t().zone_unknown(zone.as_str()),
                )])
            })?;
            cookies::set(COOKIE, &chosen.name);
            cookies::set(CHOSEN_COOKIE, "1");
            Ok(chosen.name)
        }
        .await,
    )
}

/// Starts a job of `kind`; `params` are the form's fields, typed by the kind's description.
/// With `then=job`, a form posted without JavaScript goes to the new job's page rather than
/// back.
/// With `start_at` (a wall-clock time, as a `datetime-local` field sends it, in the time zone
/// `tz`, UTC when empty), not before that time.
#[server(endpoint = "start_job", output = model::codec::Json)]
pub async fn start_job(
    kind: String,
    #[server(default)] params: HashMap<String, String>,
    #[server(default)] start_at: String,
    #[server(default)] tz: String,
    #[server(default)] idempotency_key: String,
    #[server(default)] max_attempts: String,
    #[server(default)] priority: String,
    #[server(default)] after: String,
    #[server(default)] when: String,
    #[server(default)] then: String,
) -> Result<Job, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let form = StartFields {
                kind,
                params,
                start_at,
                tz,
                idempotency_key,
                max_attempts,
                priority,
                after,
                when,
            };
            let job = start(&engine, &caller, form).await?;
            // A form that follows its job (an export) goes to the job's page.
            if then == "job" {
                leptos_axum::redirect(&format!("/jobs/{}", job.id));
            }
            Ok(job)
        }
        .await,
    )
}

/// The start form's fields, as posted.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Default)]
pub struct StartFields {
    pub kind: String,
    pub params: HashMap<String, String>,
    pub start_at: String,
    pub tz: String,
    pub idempotency_key: String,
    pub max_attempts: String,
    /// A level's name or number; empty for the kind's.
    pub priority: String,
    /// The ids of the jobs it runs after ("Then run…"), and on what condition.
    pub after: String,
    pub when: String,
}

/// Starts the job the start form describes: [`start_job`]'s work, and that of the multipart
/// form a page without JavaScript posts when the kind takes a file.
#[cfg(feature = "ssr")]
pub async fn start(
    engine: &engine::Engine,
    caller: &engine::Caller,
    form: StartFields,
) -> Result<Job, AppError> {
    let zone = match form.tz.trim() {
        "" => "UTC",
        zone => zone,
    };
    let run_after = match form.start_at.trim() {
        "" => None,
        at => Some(engine::when::wall_clock(at, zone)?),
    };
    // The form's key: a double click or a page sent again starts one job.
    let key = Some(form.idempotency_key).filter(|k| !k.is_empty());
    let max_attempts = match form.max_attempts.trim() {
        "" => None,
        n => Some(n.parse::<u32>().map_err(|_| {
            AppError::invalid(vec![crate::model::FieldError::new(
                "max_attempts",
                crate::i18n::t().engine_attempts_whole(),
            )])
        })?),
    };
    let options = engine::StartOptions {
        run_after,
        key,
        max_attempts,
        priority: engine::priorities::parse_field(&form.priority)?,
        after: after::asked(&form.after, &form.when)?,
    };
    engine
        .jobs()
        .create_job_from_form(caller, &form.kind, &form.params, options)
        .await
        .map(|started| started.job)
}

/// Sets a queued job's priority from its page; without JavaScript the browser goes back to
/// the page.
#[server(endpoint = "set_job_priority", output = model::codec::Json)]
pub async fn set_job_priority(id: String, priority: String) -> Result<Job, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::job_id(&id)?;
            let Some(to) = engine::priorities::parse_field(&priority)? else {
                return Err(AppError::invalid_field(
                    engine::priorities::FIELD,
                    model::Priority::expected(),
                ));
            };
            let job = engine.jobs().set_priority(&caller, &id, to).await?;
            leptos_axum::redirect(&format!("/jobs/{id}"));
            Ok(job)
        }
        .await,
    )
}

#[server(endpoint = "cancel_job", output = model::codec::Json)]
pub async fn cancel_job(id: String) -> Result<Job, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            engine
                .jobs()
                .cancel(&caller, &engine::requested::job_id(&id)?)
                .await
        }
        .await,
    )
}

/// Starts a new job like one of the caller's jobs.
#[server(endpoint = "rerun_job", output = model::codec::Json)]
pub async fn rerun_job(id: String, #[server(default)] then: String) -> Result<Job, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let job = engine
                .jobs()
                .rerun(&caller, &engine::requested::job_id(&id)?)
                .await?;
            // From a job's page, without JavaScript: on to the new job's page.
            if then == "job" {
                leptos_axum::redirect(&format!("/jobs/{}", job.id));
            }
            Ok(job)
        }
        .await,
    )
}

/// Whether `/system` is shown to the caller whatever their role: on an open server that listens
/// on loopback, to a client on the same machine (not one a proxy relays). The server puts it in
/// each request's extensions.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy)]
pub struct SystemOpen(pub bool);

/// [`SystemOpen`] for the request being answered.
#[cfg(feature = "ssr")]
pub fn system_open() -> bool {
    use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<SystemOpen>().copied())
        .is_some_and(|o| o.0)
}

/// Which jobs a bulk action is for, as the dashboard's selection sends them: the `ids` picked
/// (comma-separated), or with `all`, every job matching `status`, `kind` and `q`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkSelection {
    pub ids: String,
    pub all: bool,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub q: Option<String>,
}

impl BulkSelection {
    #[cfg(feature = "ssr")]
    fn request(&self) -> crate::model::bulk::BulkRequest {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        if self.all {
            crate::model::bulk::BulkRequest {
                ids: None,
                filter: Some(HistoryQuery {
                    status: some(&self.status),
                    kind: some(&self.kind),
                    q: some(&self.q),
                    ..HistoryQuery::default()
                }),
            }
        } else {
            let ids = self
                .ids
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            crate::model::bulk::BulkRequest {
                ids: Some(ids),
                filter: None,
            }
        }
    }
}

/// How many of the caller's jobs a bulk selection names, before anything is done.
#[server(endpoint = "bulk_preview", output = model::codec::Json)]
pub async fn bulk_preview(selection: BulkSelection) -> Result<usize, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            engine
                .jobs()
                .bulk_preview(&caller, &selection.request())
                .await
                .inspect_err(|_| page_status(400))
        }
        .await,
    )
}

/// Cancels (`action` = `cancel`), re-runs (`rerun`) or sets the `priority` of (`priority`) the
/// selected jobs, then goes back to the dashboard, which says what was done.
#[server(endpoint = "bulk_act", output = model::codec::Json)]
pub async fn bulk_act(
    action: String,
    selection: BulkSelection,
    #[server(default)] priority: String,
) -> Result<crate::model::bulk::BulkAnswer, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let request = selection.request();
            let answer = match action.as_str() {
                "cancel" => engine.jobs().bulk_cancel(&caller, &request).await?,
                "rerun" => engine.jobs().bulk_rerun(&caller, &request).await?,
                "priority" => {
                    let Some(to) = engine::priorities::parse_field(&priority)? else {
                        return Err(AppError::invalid_field(
                            engine::priorities::FIELD,
                            model::Priority::expected(),
                        ));
                    };
                    engine.jobs().bulk_prioritize(&caller, &request, to).await?
                }
                other => {
                    return Err(AppError::bad_request(
                        crate::i18n::t().bulk_unknown_action(format!("{other:?}")),
                    ));
                }
            };
            leptos_axum::redirect(&format!(
                "/?bulk={action}&done={}&not_done={}",
                answer.done, answer.not_done
            ));
            Ok(answer)
        }
        .await,
    )
}

/// Most log lines one [`load_log_page`] call returns.
pub const LOG_PAGE_LINES: u32 = 500;

/// The job's log lines after `after` (a `seq`), at most [`LOG_PAGE_LINES`]: what a job page
/// scrolled to an earlier part of a long log shows.
#[server(endpoint = "log_page", output = model::codec::Json)]
pub async fn load_log_page(
    id: String,
    after: u64,
    limit: u32,
) -> Result<Vec<crate::model::LogLine>, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            engine
                .jobs()
                .job_log(
                    &caller,
                    &engine::requested::job_id(&id)?,
                    after,
                    limit.clamp(1, LOG_PAGE_LINES),
                )
                .await
        }
        .await,
    )
}

/// What a queued job's row says of its place in line and expected start, or of the pause, the
/// limit or the jobs that hold it back, in the caller's language and zone; `None` once it is not
/// queued. The server says it so that the browser need not know those words.
#[server(endpoint = "queue_text", output = model::codec::Json)]
pub async fn load_queue_text(id: String) -> Result<Option<String>, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let job = engine
                .jobs()
                .job(&caller, &engine::requested::job_id(&id)?)
                .await?;
            let info = engine
                .jobs()
                .queue_infos(&caller, std::slice::from_ref(&job))
                .await?
                .pop()
                .flatten();
            let titles = crate::names::titles_of(&engine);
            let now = engine::now_ms();
            Ok(Owner::new().with(|| {
                provide_context(titles);
                info.map(|q| crate::components::queue_said(&job, &q, now))
            }))
        }
        .await,
    )
}

/// The operator's view of the deployment (`/system`).
#[server(endpoint = "system", output = model::codec::Json)]
pub async fn load_system() -> Result<crate::model::SystemOverview, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            system_overview(&engine, &caller).await
        }
        .await,
    )
}

/// What `/system` is rendered from: the figures, and the kinds a limit may be set on (those
/// that run here), each with its title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemPageData {
    pub overview: crate::model::SystemOverview,
    pub limit_kinds: Vec<(String, String)>,
}

/// `/system` as it is first rendered: [`load_system`]'s figures, and what the limits' form
/// offers.
#[server(endpoint = "system_page", output = model::codec::Json)]
pub async fn load_system_page() -> Result<SystemPageData, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let overview = system_overview(&engine, &caller).await?;
            let t = crate::i18n::t();
            let limit_kinds = match overview.may_pause {
                true => engine
                    .jobs()
                    .kinds()
                    .into_iter()
                    .map(|k| crate::components::localized_kind(t, k))
                    .map(|k| (k.name, k.title))
                    .collect(),
                false => Vec::new(),
            };
            Ok(SystemPageData {
                overview,
                limit_kinds,
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
async fn system_overview(
    engine: &engine::Engine,
    caller: &engine::Caller,
) -> Result<crate::model::SystemOverview, AppError> {
    if !system_open() && !caller.role().acts_on_all() {
        page_status(403);
        return Err(AppError::forbidden(crate::i18n::t().system_forbidden()));
    }
    let mut overview = engine.jobs().system_overview().await?;
    overview.may_pause = caller.may_operate().is_ok();
    overview.limits = engine.jobs().limits(caller).await?;
    if overview.may_pause {
        overview.workers = engine.jobs().workers(caller).await?;
    }
    // Each kind by its title in the reader's language.
    let titles = crate::names::titles_of(engine);
    for k in &mut overview.kinds {
        k.title = crate::names::kind_title_with(&k.kind, |name| titles.of(name).map(String::from));
    }
    Ok(overview)
}

/// Pauses a kind (`*`: every kind) for every process: operators and admins.
#[server(endpoint = "pause_kind", output = model::codec::Json)]
pub async fn pause_kind(kind: String) -> Result<crate::model::KindPause, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            engine.jobs().pause_kind(&caller, &kind).await
        }
        .await,
    )
}

/// Resumes a paused kind (`*`: the pause of every kind): operators and admins.
#[server(endpoint = "resume_kind", output = model::codec::Json)]
pub async fn resume_kind(kind: String) -> Result<bool, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            engine.jobs().resume_kind(&caller, &kind).await
        }
        .await,
    )
}

/// Drains, disables or enables a worker on another machine (`state`: `draining`, `disabled`,
/// `active`): operators and admins.
#[server(endpoint = "set_worker_state", output = model::codec::Json)]
pub async fn set_worker_state(
    id: String,
    state: String,
) -> Result<crate::model::workers::WorkerInfo, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let state = crate::model::workers::WorkerState::parse(&state).ok_or_else(|| {
                AppError::invalid_field("state", "a worker is active, draining or disabled")
            })?;
            engine.jobs().set_worker_state(&caller, &id, state).await
        }
        .await,
    )
}

/// A server function's answer, whether it goes out over HTTP or into a page rendered on the
/// server: an internal error is logged here, once, with its causes, and an error called over
/// HTTP answers with its status ([`status::refused`]).
#[cfg(feature = "ssr")]
fn answered<T>(answer: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &answer {
        if let Some(line) = e.log_line() {
            tracing::error!(error = %line, "a server function failed");
        }
        status::refused(e);
    }
    // Pages show what went wrong in the reader's language.
    answer.map_err(|e| crate::i18n::errors::localize(crate::i18n::t(), e))
}

/// The engine and who is calling, as the server decided it from the request's head.
#[cfg(feature = "ssr")]
async fn caller() -> Result<(engine::Engine, engine::Caller), AppError> {
    let engine = use_context::<engine::Engine>().ok_or_else(|| {
        AppError::new(
            crate::error::ErrorCode::Internal,
            "the engine is not in the server function context",
        )
    })?;
    let axum::Extension(caller) = leptos_axum::extract::<axum::Extension<engine::Caller>>()
        .await
        .map_err(|e| {
            AppError::internal_because("a request reached a server function without a caller", e)
        })?;
    Ok((engine, caller))
}

/// The live info of a page being rendered now for the caller.
#[cfg(feature = "ssr")]
async fn live_info(engine: &engine::Engine, caller: &engine::Caller) -> Result<LiveInfo, AppError> {
    // First: everything the page shows is at least this recent, so the stream misses nothing.
    let cursor = engine.head();
    let dismissed = cookies::dismissed(&request_headers().await?);
    let mut notices = engine.jobs().notices().await?;
    notices.retain(|n| !dismissed.contains(&n.id));
    Ok(LiveInfo {
        cursor,
        build: engine.build().to_string(),
        notices,
        dismissed,
        now: engine::now_ms(),
        stall_ms: engine.jobs().stall_ms(),
        stream: stream_name(caller),
        log_job: None,
        log_after: 0,
        titles: crate::names::titles_of(engine).0.into_iter().collect(),
    })
}

/// A name for the events `caller` sees that does not show who they are: a hash of whose events
/// they are, so that tabs of two users in one browser (one signed out meanwhile) never share.
#[cfg(feature = "ssr")]
fn stream_name(caller: &engine::Caller) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (caller.user(), caller.channel()).hash(&mut h);
    format!("{:016x}", h.finish())
}

#[cfg(feature = "ssr")]
async fn request_headers() -> Result<axum::http::HeaderMap, AppError> {
    leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(|e| AppError::internal_because("cannot read the request headers", e))
}

#[cfg(feature = "ssr")]
pub mod after;
pub mod cookies;
pub mod limits;
pub mod post;
pub mod schedules;
#[cfg(feature = "ssr")]
pub mod status;
pub mod webhooks;

#[cfg(feature = "ssr")]
use status::page_status;

pub use limits::{LimitFields, RemoveLimit, SetLimit, LIMIT_QUERY};

/// Tokens the settings page shows at once.
pub const TOKENS_SHOWN: u32 = 50;

/// A page of the caller's tokens, as the settings page shows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokensPage {
    /// At most [`TOKENS_SHOWN`], newest first (revoked ones too).
    pub tokens: Vec<crate::model::accounts::TokenInfo>,
    /// The cursor of the page of older tokens, if there are any: this page's last id.
    pub older: Option<String>,
}

/// A page of the caller's personal API tokens, newest first (revoked ones too): those
/// `before` the token of that id when given.
#[server(endpoint = "tokens", output = model::codec::Json)]
pub async fn load_tokens(before: Option<String>) -> Result<TokensPage, AppError> {
    answered(
        async move {
            let (_, caller) = caller().await?;
            let mut tokens = accounts()?
                .tokens(&caller, false, before.as_deref(), TOKENS_SHOWN + 1)
                .await?;
            // One more than shown says whether there is an older page.
            let more = tokens.len() > TOKENS_SHOWN as usize;
            tokens.truncate(TOKENS_SHOWN as usize);
            let older = more.then(|| tokens.last().map(|t| t.id.clone())).flatten();
            Ok(TokensPage { tokens, older })
        }
        .await,
    )
}

/// Makes a personal API token; the answer holds its secret, shown this once.
#[server(endpoint = "create_token", output = model::codec::Json)]
pub async fn create_token(
    name: String,
    scope: String,
) -> Result<crate::model::accounts::NewToken, AppError> {
    answered(
        async move {
            let (_, caller) = caller().await?;
            let scope = crate::model::TokenScope::parse(&scope).ok_or_else(|| {
                AppError::invalid(vec![crate::model::FieldError::new(
                    "scope",
                    crate::i18n::t().token_scope_unknown(),
                )])
            })?;
            accounts()?.create_token(&caller, &name, scope).await
        }
        .await,
    )
}

/// Revokes one of the caller's tokens; returns its id.
#[server(endpoint = "revoke_token", output = model::codec::Json)]
pub async fn revoke_token(id: String) -> Result<String, AppError> {
    answered(
        async move {
            let (_, caller) = caller().await?;
            accounts()?.revoke_token(&caller, &id).await?;
            Ok(id)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn accounts() -> Result<engine::accounts::Accounts, AppError> {
    use_context::<engine::accounts::Accounts>().ok_or_else(|| {
        AppError::new(
            crate::error::ErrorCode::Internal,
            "the accounts are not in the server function context",
        )
    })
}

/// Every account (admins only).
#[server(endpoint = "users", output = model::codec::Json)]
pub async fn load_users() -> Result<Vec<crate::model::accounts::UserInfo>, AppError> {
    answered(
        async move {
            let (_, caller) = caller().await?;
            accounts()?.list(&caller).await
        }
        .await,
    )
}

/// Adds an account (admins only).
#[server(endpoint = "add_user", output = model::codec::Json)]
pub async fn add_user(
    username: String,
    password: String,
    role: String,
) -> Result<crate::model::accounts::UserInfo, AppError> {
    answered(
        async move {
            let (_, caller) = caller().await?;
            let role = parse_role(&role)?;
            accounts()?.add(&caller, &username, role, &password).await
        }
        .await,
    )
}

/// Changes an account's role, or disables or enables it (admins only); returns it as it is now.
#[server(endpoint = "change_user", output = model::codec::Json)]
pub async fn change_user(
    username: String,
    role: Option<String>,
    disabled: Option<bool>,
) -> Result<crate::model::accounts::UserInfo, AppError> {
    answered(
        async move {
            let (_, caller) = caller().await?;
            let change = engine::accounts::AccountChange {
                role: role.as_deref().map(parse_role).transpose()?,
                password: None,
                disabled,
            };
            accounts()?.change(&caller, &username, change).await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<crate::model::Role, AppError> {
    crate::model::Role::parse(role).ok_or_else(|| {
        AppError::invalid(vec![crate::model::FieldError::new(
            "role",
            crate::i18n::t().role_unknown(),
        )])
    })
}

#[cfg(test)]
mod tests {
    use super::next_order;
    use crate::model::ids::testing::named;
    use crate::model::{After, AfterWhen, Job, Priority};

    #[test]
    fn next_to_start_is_in_the_order_they_start_those_waiting_last() {
        let id = |n: u32| format!("{n:016x}");
        let job = |n: u32, at: i64| Job::queued(named(&id(n)), "demo", serde_json::Value::Null, at);
        let now = 100_000;
        let old = job(1, 1_000);
        let waiting_for = |left| After {
            jobs: vec![old.id.clone()],
            when: AfterWhen::Succeeded,
            left,
        };
        let new = job(2, 2_000);
        let mut urgent = job(3, 3_000);
        urgent.priority = Priority::HIGH;
        let mut later = job(4, 500);
        later.run_after = Some(now + 60_000);
        let mut after = job(5, 100);
        after.after = Some(waiting_for(1));
        // Its wait over: in line like any other.
        let mut ready = job(6, 200);
        ready.after = Some(waiting_for(0));
        let mut queued = [after, later, new, old.clone(), urgent, ready];
        queued.sort_by_key(|j| next_order(j, now));
        let order: Vec<String> = queued.iter().map(|j| j.id.to_string()).collect();
        let ids: Vec<String> = [3, 6, 1, 2, 4, 5]
            .into_iter()
            .map(|n| named::<crate::model::JobId>(&id(n)).to_string())
            .collect();
        assert_eq!(order, ids);
    }
}
