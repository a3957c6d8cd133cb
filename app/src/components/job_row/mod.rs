//! A job in a list: its status, bar, message and times. The server renders every row (the
//! history's, the first screen's running and next jobs, the job page's); in the browser,
//! [`JobRows`] and the first screen's summary bind the rows they hold to the tab's live jobs
//! (`bind`), which rewrites what changes as the stream moves them, and put the rows of jobs
//! that appear later, rendered by the server too (`load_rows`), at the top of the history.
//! What a row says is computed once, the same on both sides (`texts`).

#[cfg(feature = "hydrate")]
mod bind;
mod graph;
mod texts;

use super::time::Time;
use crate::format::Style;
use crate::i18n::{t, Text};
use crate::model::{Job, JobStatus, QueueInfo};
use crate::pace;
use crate::server_fns::{Active, CancelJob, RerunJob};
pub use graph::RunGraph;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
pub use texts::{outcome_icon, row_texts, status_icon, BarTexts, RowTexts};

/// The rows under it follow the tab's stream: each one's status, bar, texts and times change
/// as its job moves. With `newest`, jobs that appear after the page was rendered (started from
/// this tab or another, or older jobs that come into the view) are put at the top, newest
/// first: those of `kind` (any when `None`) and `statuses` (any when empty). A job stays once
/// shown, as a rendered row does when its status moves on.
#[island]
pub fn JobRows(
    stall_ms: u64,
    newest: bool,
    kind: Option<String>,
    statuses: Vec<JobStatus>,
    children: Children,
) -> impl IntoView {
    let list = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    bind::list(list, stall_ms, newest.then_some((kind, statuses)));
    #[cfg(not(feature = "hydrate"))]
    let _ = (stall_ms, newest, kind, statuses);
    view! {
        <div class="job-rows" node_ref=list>
            <div class="job-rows-new"></div>
            {children()}
        </div>
    }
}

/// What binds rows to the live jobs: the first screen's summary binds its running and next
/// jobs with it, and again each time it puts freshly rendered ones in their place.
#[cfg(feature = "hydrate")]
pub use bind::Binder;

/// The first screen's jobs running now and the next to start, with how many there are.
#[component]
pub fn ActiveJobs(active: Active, now: i64, stall_ms: u64) -> impl IntoView {
    let Active {
        running,
        running_total,
        next,
        next_queue,
        queued_total,
    } = active;
    view! {
        <ActiveSection jobs=running queues=Vec::new() total=running_total queued=false now stall_ms/>
        <ActiveSection jobs=next queues=next_queue total=queued_total queued=true now stall_ms/>
    }
}

/// "Running now" (or, `queued`, "Next to start"): at most a few jobs, their count, and a link
/// to them all when there are more. `queues` says why each waits (by position in `jobs`).
/// A job of "Next to start" that starts leaves it at once (style: it is no longer queued),
/// before the server renders the lists again.
#[component]
pub fn ActiveSection(
    jobs: Vec<Job>,
    queues: Vec<Option<QueueInfo>>,
    total: u64,
    queued: bool,
    now: i64,
    stall_ms: u64,
) -> impl IntoView {
    let t = t();
    let (class, id, title, none, all, status) = match queued {
        false => (
            "now-running",
            "running-title",
            t.active_running(),
            t.active_none_running(),
            t.active_all_running(total),
            "running,cancelling",
        ),
        true => (
            "now-next",
            "next-title",
            t.active_next(),
            t.active_none_waiting(),
            t.active_all_queued(total),
            "queued",
        ),
    };
    let more = (total > jobs.len() as u64)
        .then(|| view! { <a class="more" href=format!("/?status={status}")>{all}</a> });
    let empty = jobs.is_empty();
    view! {
        <section class=class aria-labelledby=id>
            <h2 id=id>{title} " " <span class="muted">{t.active_count(total)}</span></h2>
            <ul class="active-jobs">
                {jobs.into_iter().enumerate().map(|(i, job)| {
                    let queue = queues.get(i).cloned().flatten();
                    view! { <ActiveRow job queue now stall_ms/> }
                }).collect_view()}
            </ul>
            <p class="empty" hidden=!empty>{none}</p>
            {more}
        </section>
    }
}

/// A job on the first screen: its name, its bar and what it says, on two short lines; a queued
/// one, why it waits (`queue`).
#[component]
fn ActiveRow(job: Job, queue: Option<QueueInfo>, now: i64, stall_ms: u64) -> impl IntoView {
    let x = texts_now(&job, queue.as_ref(), now, stall_ms);
    let id = job.id.to_string();
    let short = id[..8.min(id.len())].to_string();
    view! {
        <li class="active-job" data-job-id=id.clone() data-status=x.status.as_str() data-job=job_data(&job)>
            <span class="active-name">
                <a class="job-kind" href=format!("/jobs/{id}")>{crate::names::job_title(&job)}</a>
                " " <code class="job-id">{short}</code>
            </span>
            <Bar bar=x.bar/>
            <span class="active-text">{x.line}</span>
        </li>
    }
}

/// What a row of `job` says as the server renders it at `now`.
/// The classes of a job's status: its status's colour, a warning's for one that succeeded with
/// warnings.
fn status_class(x: &RowTexts) -> String {
    match x.warned {
        true => format!("status status-{} status-warned", x.status),
        false => format!("status status-{}", x.status),
    }
}

fn texts_now(job: &Job, queue: Option<&QueueInfo>, now: i64, stall_ms: u64) -> RowTexts {
    let zone = crate::zone::view_zone().get_untracked();
    let p = pace::pace(job, None, now, stall_ms);
    let queue = queue.map(|q| queue_said(job, q, now));
    row_texts(t(), &zone, job, &p, queue.as_deref(), now)
}

/// What the row of queued `job` says of `queue`, its place in line or what holds it back, in
/// the page's language and zone: the server renders it, and answers a page that asks for it
/// again (`server_fns::load_queue_text`).
pub fn queue_said(job: &Job, queue: &QueueInfo, now: i64) -> String {
    let zone = crate::zone::view_zone().get_untracked();
    let kind = crate::names::kind_title(&job.kind);
    texts::queue_text(t(), &zone, queue, &kind, now)
}

/// The job a row shows, for the browser to follow it from.
fn job_data(job: &Job) -> String {
    serde_json::to_string(job).unwrap_or_default()
}

/// One job of the history (or the job page's): status, name, bar, what it says, when it
/// started, how long it ran, who started it, and its Cancel or Re-run. With `selectable`, it
/// has a checkbox for the dashboard's bulk actions (the `bulk` form); with `actions`, its
/// Cancel and Re-run forms (not for a viewer), of which its status shows the one that applies;
/// with `follow_rerun`, Re-run goes to the new job's page (the job page's row) rather than
/// adding the new job to the list. `queue` is its place in line (or its kind's pause) as the
/// server knew it. `again` is where "Run again with changes…" goes (the job page's row, for a
/// caller who may start its kind): shown, like Re-run, once the job has ended.
#[component]
pub fn JobRowView(
    job: Job,
    now: i64,
    stall_ms: u64,
    #[prop(optional)] selectable: bool,
    #[prop(optional)] actions: bool,
    #[prop(optional_no_strip)] queue: Option<QueueInfo>,
    #[prop(optional)] follow_rerun: bool,
    #[prop(optional_no_strip)] again: Option<String>,
) -> impl IntoView {
    let t = t();
    let x = texts_now(&job, queue.as_ref(), now, stall_ms);
    let id = job.id.to_string();
    let short = id[..8.min(id.len())].to_string();
    let title = crate::names::job_title(&job);
    let active = x.status.is_active();
    // An external job runs where its program was started: it has no Re-run here.
    // Nor has a fan-out's own job: its items are re-run with its run.
    let group = job.kind == crate::model::workflows::WORKFLOW_KIND && job.parent.is_some();
    let rerunnable = !job.is_external() && !group;
    let job_action = actions.then(|| {
        view! {
            <form method="post" action=CancelJob::url() class="job-action job-cancel" hidden=!active>
                <input type="hidden" name="id" value=id.clone()/>
                <button type="submit" class="secondary" disabled=x.status == JobStatus::Cancelling>
                    {t.job_cancel()}
                </button>
            </form>
            {rerunnable.then(|| view! {
                <form method="post" action=RerunJob::url() class="job-action job-rerun" hidden=active>
                    <input type="hidden" name="id" value=id.clone()/>
                    {follow_rerun.then(|| view! { <input type="hidden" name="then" value="job"/> })}
                    <button type="submit" class="secondary">{x.rerun}</button>
                </form>
            })}
            {again.map(|href| view! {
                <a class="button secondary job-again" href=href hidden=active>{t.job_run_again()}</a>
            })}
        }
    });
    let created_at = job.created_at;
    let who = who(t, &job);
    let (no_error, no_start, no_queue) = (x.error.is_none(), x.starts.is_none(), x.queue.is_none());
    view! {
        <article
            class="job"
            data-job-id=id.clone()
            data-status=x.status.as_str()
            data-stalled=x.stalled.then_some("true")
            data-job=job_data(&job)
        >
            <div class="job-head">
                {selectable.then(|| view! {
                    <input
                        type="checkbox"
                        class="job-select"
                        name="ids"
                        value=id.clone()
                        form="bulk"
                        aria-label=t.job_select(short.as_str())
                    />
                })}
                <span class=status_class(&x)>
                    <span class="status-icon" aria-hidden="true">{x.icon}</span>
                    <span class="status-word">{x.word}</span>
                </span>
                <span class="job-name">
                    <a class="job-kind" href=format!("/jobs/{id}")>{title.clone()}</a>
                    " "
                    <a class="job-id" href=format!("/jobs/{id}") title=t.job_open(id.as_str())>
                        <code>{short.clone()}</code>
                    </a>
                </span>
                <span class="job-priority" hidden=x.priority.is_none()>
                    <span class="visually-hidden">{t.priority()} " "</span>
                    <span class="job-priority-name">{x.priority}</span>
                </span>
            </div>
            <div class="job-work">
                <Bar bar=x.bar/>
                <p class="job-meta">
                    <span class="job-progress">{x.progress}</span>
                    <span class="job-attempt">{x.attempt}</span>
                    <span class="job-pace">{x.pace}</span>
                    <span class="job-message" translate=x.programs_message.then_some("no")>{x.message}</span>
                </p>
                // The notice counts the silence every second; screen readers hear of it once,
                // when the job stalls, not at every tick.
                <p class="job-stall" hidden=!x.stalled>
                    <span aria-hidden="true">"⚠ "</span>
                    {t.job_stalled()} " " <span class="job-stall-for">{x.stalled_for}</span>
                </p>
                <span class="job-stall-said visually-hidden" role="status">
                    {x.stalled.then(|| t.job_stalled_said(title))}
                </span>
                <p class="job-error" hidden=no_error>{x.error}</p>
                <p class="job-starts" hidden=no_start>{x.starts}</p>
                <p class="job-queue" hidden=no_queue>{x.queue}</p>
            </div>
            // When it started (or, queued, since when it waits), relative, its exact time in a title.
            <p class="job-when">
                <span class="job-when-word">{x.when_word}</span> " " <Time at=x.when_at style=Style::Ago now/>
            </p>
            <p class="job-took">
                <span class="visually-hidden">{t.job_ran_for()} " "</span><span class="job-took-for">{x.took}</span>
            </p>
            <p class="job-who">{who}</p>
            <div class="job-actions">{job_action}</div>
            <p class="job-times">
                {t.job_created()} " " <Time at=created_at style=Style::Ago now/>
                <span class="job-finished" hidden=x.finished_at.is_none()>
                    " · " {t.job_finished()} " "
                    <Time at=x.finished_at.unwrap_or(created_at) style=Style::Ago now/>
                </span>
            </p>
            <p class="field-error" role="alert" hidden=true></p>
        </article>
    }
}

/// Who started the job: a schedule, a re-run (and who asked for it), a program elsewhere, or a
/// person: the account by its name, or, for an open server's one user, "by hand" (from the
/// page, the command line or the API).
fn who(t: Text, j: &Job) -> AnyView {
    if let Some(s) = &j.schedule_id {
        return view! { <a href=format!("/schedules/{s}")>{t.job_who_schedule()}</a> }.into_any();
    }
    let by = j.started_by.as_ref().map(|a| a.name.clone());
    if let Some(o) = &j.origin {
        let short = o[..8.min(o.len())].to_string();
        let by = by.map(|name| view! { " · " <span class="job-who-name">{name}</span> });
        return view! { {t.job_who_rerun()} " " <a href=format!("/jobs/{o}")><code>{short}</code></a> {by} }
            .into_any();
    }
    if j.is_external() {
        let host = j
            .params
            .get("host")
            .and_then(|h| h.as_str())
            .map(str::to_string);
        return match host {
            Some(host) => t.job_who_program_on(host).into_any(),
            None => t.job_who_program().into_any(),
        };
    }
    match by {
        Some(name) => view! { <span class="job-who-name">{name}</span> }.into_any(),
        None => t.job_who_hand().into_any(),
    }
}

/// A job's bar as the server renders it; in the browser, the row's binding rewrites its
/// attributes and width as the job moves (`bind`).
#[component]
fn Bar(bar: BarTexts) -> impl IntoView {
    view! {
        <div
            class=bar.class
            role="progressbar"
            aria-label=bar.label
            aria-valuemin="0"
            aria-valuemax=bar.max
            aria-valuenow=bar.now
            aria-valuetext=bar.text
            data-level=bar.level
        >
            <div class="bar-fill" style:width=bar.width></div>
        </div>
    }
}
