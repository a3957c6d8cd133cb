//! `/jobs/{id}`: one job in full: its bar, parameters, timeline, error and live log.

use crate::components::PageTitle;
use crate::components::{
    JobFiles, JobLog, JobRowView, JobRows, LiveRoot, RunGraph, Time, Timeline, ZoneNote,
};
use crate::format;
use crate::i18n::t;
use crate::model::{LogFilter, LogLevel};
use crate::server_fns::{load_job, JobPageData, SetJobPriority, PAGE_LOG_LINES};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new_blocking(
        move || {
            let filter = query.with(|q| {
                LogFilter::from_query(q.get("log_q").as_deref(), q.get("log_level").as_deref())
            });
            (params.get().get("id").unwrap_or_default(), filter)
        },
        |(id, filter)| load_job(id, filter),
    );
    let t = t();
    view! {
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <JobView data=d/> }.into_any(),
                    Err(e) => view! {
                        <PageTitle text=t.page_title_of(t.job_no_such())/>
                        <section class="problem" role="alert">
                            <h1>{t.job_no_such()}</h1>
                            <p>{e.message}</p>
                            <p><a href="/">{t.back_to_jobs()}</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn JobView(data: JobPageData) -> impl IntoView {
    let JobPageData {
        detail,
        live,
        may,
        params,
        run_again,
        priorities,
        queue,
        steps,
        graph,
        step_titles,
        again_form,
        places,
    } = data;
    // A run's steps are called by their titles in its rows, its graph and its files.
    if !graph.is_empty() {
        provide_context(crate::names::StepTitles(step_titles.into_iter().collect()));
    }
    let job = detail.job;
    let (now, stall_ms) = (live.now, live.stall_ms);
    let t = t();
    let params = match params.is_empty() {
        true => view! { <span class="muted">{t.job_params_none()}</span> }.into_any(),
        false => view! {
            <dl class="params">
                {params.into_iter().map(|p| view! {
                    <dt>{p.label}</dt>
                    // What was given, as it was given.
                    <dd data-param=p.name translate="no">{p.value}</dd>
                }).collect_view()}
            </dl>
        }
        .into_any(),
    };
    // The start form of its kind, filled with its parameters (in the job's row: offered once it
    // has ended, live); a new job of any kind to run after this one.
    let again = run_again.then(|| format!("/new/{}?from={}", again_form, job.id));
    let then_run = may.start.then(|| {
        view! {
            <a class="button secondary then-run" href=format!("/new?after={}", job.id)>
                {t.job_then_run()}
            </a>
        }
    });
    let next = then_run.map(|then_run| view! { <p class="run-again">{then_run}</p> });
    let after = job.after.as_ref().map(after_fact);
    let origin = job.origin.as_ref().map(|o| {
        let o = o.to_string();
        view! {
            <dt>{t.job_rerun_of()}</dt>
            <dd><a href=format!("/jobs/{o}")><code>{o.clone()}</code></a></dd>
        }
    });
    let schedule = job.schedule_id.as_ref().map(|s| {
        let s = s.to_string();
        let when = match job.scheduled_for {
            Some(at) => view! { " " {t.job_for_its_time()} " " <Time at/> }.into_any(),
            None => view! { " " {t.job_run_now()} }.into_any(),
        };
        view! {
            <dt>{t.job_started_by()}</dt>
            <dd><a href=format!("/schedules/{s}")>{t.job_a_schedule()}</a> {when} " · " <a href=format!("/?schedule={s}")>{t.job_its_jobs()}</a></dd>
        }
    });
    let started_by = job.started_by.as_ref().map(|a| {
        view! { <dt>{t.job_started_by()}</dt><dd class="job-started-by">{actor_words(t, a)}</dd> }
    });
    let cancelled_by = job.cancelled_by.as_ref().map(|a| {
        view! { <dt>{t.job_cancelled_by()}</dt><dd class="job-cancelled-by">{actor_words(t, a)}</dd> }
    });
    let ran_on = ran_on_fact(&job, &places);
    let priority = priority_fact(&job, priorities);
    let step_of = job.parent.as_ref().map(|run| {
        let run = run.to_string();
        let short = run[..8.min(run.len())].to_string();
        view! {
            <dt>{t.job_step_of()}</dt>
            <dd class="job-step-of"><a href=format!("/jobs/{run}")><code>{short}</code></a></dd>
        }
    });
    // A fan-out's items past what the page shows are in the history.
    let all_steps = (steps.len() >= crate::model::workflows::MAX_STEPS).then(|| {
        view! {
            <p class="job-steps-all">
                <a href=format!("/?parent={}", job.id)>{t.job_steps_all()}</a>
            </p>
        }
    });
    // A run's files are its steps': each step's outputs, under its name.
    let step_outputs: Vec<StepFiles> = steps
        .iter()
        .filter(|s| !s.outputs.is_empty())
        .map(|s| {
            let id = s.id.to_string();
            let files = s.outputs.iter().map(|o| (o.href(&id), o.clone())).collect();
            (crate::names::job_title(s), id, files)
        })
        .collect();
    let steps = (!steps.is_empty()).then(|| {
        view! {
            <section class="job-steps" aria-labelledby="steps-title">
                <h2 id="steps-title">{t.job_steps()}</h2>
                {all_steps}
                <div class="job-list">
                    <JobRows stall_ms newest=false kind=None statuses=Vec::new()>
                        <RunGraph steps=steps.clone() needs=graph now stall_ms/>
                        {steps.into_iter().map(|step| view! {
                            <JobRowView job=step now stall_ms actions=may.act follow_rerun=true queue=None/>
                        }).collect_view()}
                    </JobRows>
                </div>
            </section>
        }
    });
    let timeout = job
        .timeout_ms
        .map(|ms| view! { <dt>{t.job_time_limit()}</dt><dd>{format::span(t, ms as i64)}</dd> });
    let error = job.error.clone().map(|e| {
        // A program's own words are shown as written; Headway's, in the reader's language.
        let translate = e.said.is_none().then_some("no");
        let message = t.said_or(e.said.as_ref(), &e.message);
        view! {
            <section class="job-failure" aria-labelledby="error-title">
                <h2 id="error-title">{t.job_error_title()}</h2>
                <p><code>{e.code}</code> ": " <span class="failure-message" translate=translate>{message}</span></p>
            </section>
        }
    });
    let short = job.id[..8.min(job.id.len())].to_string();
    let called = crate::names::job_title(&job);
    // A run is of its workflow, called by its title and its name.
    let is_run = job.kind == crate::model::workflows::WORKFLOW_KIND && job.step.is_none();
    let workflow = is_run.then(|| job.title().map(str::to_string)).flatten();
    let kind_fact = match workflow {
        Some(name) => view! {
            <dt>{t.job_workflow()}</dt>
            <dd>{called.clone()} " " <code class="muted">{name}</code></dd>
        }
        .into_any(),
        None => view! {
            <dt>{t.system_kind()}</dt>
            <dd>{crate::names::kind_title(&job.kind)} " " <code class="muted">{job.kind.clone()}</code></dd>
        }
        .into_any(),
    };
    let title = t.page_title_of(t.job_title(called.as_str(), short));
    let row_job = job.clone();
    let files = match is_run {
        true => view! { <RunOutputs steps=step_outputs/> }.into_any(),
        false => view! { <JobFiles job=job.clone()/> }.into_any(),
    };
    // A run's own work is its steps: it has a log only if something wrote to it.
    let no_log = is_run && detail.log_total == 0 && detail.log_filter.is_empty();
    let (log_of, ended) = (job.id.to_string(), job.status.is_terminal());
    let log = (!no_log).then(|| {
        view! {
            <section class="job-log" aria-labelledby="log-title">
                <JobLog job_id=log_of.clone() lines=detail.log total=detail.log_total filter=detail.log_filter.clone() ended>
                    <LogFilterForm job_id=log_of filter=detail.log_filter matches=detail.log_matches/>
                </JobLog>
            </section>
        }
    });
    view! {
        <PageTitle text=title/>
        <LiveRoot info=live/>
        <p class="breadcrumb"><a href="/">{t.job_all_jobs()}</a></p>
        <h1>{t.job_heading(called.as_str())} " " <code class="job-full-id">{job.id.to_string()}</code></h1>
        <noscript>
            <p class="hint">
                {t.job_without_js()} " " <a href="">{t.refresh_the_page()}</a> " " {t.refresh_to_see()}
            </p>
        </noscript>
        <div class="job-list">
            <JobRows stall_ms newest=false kind=None statuses=Vec::new()>
                <JobRowView job=row_job now stall_ms actions=may.act follow_rerun=true queue again/>
            </JobRows>
        </div>
        {next}
        {error}
        {steps}
        <div class="job-detail">
            <section aria-labelledby="about-title">
                <h2 id="about-title">{t.job_details()}</h2>
                <ZoneNote at=job.created_at/>
                <dl class="facts">
                    {kind_fact}
                    <dt>{t.token_created()}</dt><dd><Time at=job.created_at/></dd>
                    {step_of}
                    {priority}
                    {after}
                    {timeout}
                    {origin}
                    {schedule}
                    {started_by}
                    {cancelled_by}
                    {ran_on}
                    <dt>{t.api_parameters()}</dt><dd>{params}</dd>
                </dl>
            </section>
            <section aria-labelledby="timeline-title">
                <h2 id="timeline-title">{t.job_timeline()}</h2>
                <Timeline job=job.clone() changes=detail.timeline/>
                {files}
            </section>
        </div>
        {log}
    }
}

/// "Runs after 1f0c…, 9a2b… once they all succeed": the jobs it runs after, each a link.
fn after_fact(after: &crate::model::After) -> impl IntoView {
    let t = t();
    let when = match after.when {
        crate::model::AfterWhen::Succeeded => t.job_after_succeeded(),
        crate::model::AfterWhen::Ended => t.job_after_ended(),
    };
    let links = after
        .jobs
        .iter()
        .map(|id| {
            let short = id[..8.min(id.len())].to_string();
            view! { <a href=format!("/jobs/{id}")><code>{short}</code></a> " " }
        })
        .collect_view();
    view! {
        <dt>{t.job_after()}</dt>
        <dd class="job-after">{links} <span class="muted">{when}</span></dd>
    }
}

/// The job's priority; with a form that changes it while it is queued, where the reader may
/// (`offered`: the levels they may give it, highest first). A plain post: the page comes back
/// with the job's new priority, with or without JavaScript.
fn priority_fact(job: &crate::model::Job, offered: Vec<crate::model::Priority>) -> impl IntoView {
    let t = t();
    let name = crate::components::priority_name(t, job.priority);
    let change = (!offered.is_empty()).then(|| {
        let options = offered
            .into_iter()
            .map(|p| {
                view! {
                    <option value=p.name() selected=p == job.priority>
                        {crate::components::priority_name(t, p)}
                    </option>
                }
            })
            .collect_view();
        view! {
            <form method="post" action=SetJobPriority::url() class="priority-form">
                <input type="hidden" name="id" value=job.id.to_string()/>
                <label for="job-priority" class="visually-hidden">{t.priority()}</label>
                <select id="job-priority" name="priority">{options}</select>
                <button type="submit" class="secondary">{t.job_priority_change()}</button>
            </form>
        }
    });
    view! {
        <dt>{t.priority()}</dt>
        <dd class="job-priority"><span data-priority=job.priority.name()>{name}</span> {change}</dd>
    }
}

// The page shows at most this many lines; the API serves the rest.
const _: () = assert!(PAGE_LOG_LINES >= 100);

/// Search and a level filter for the log: a plain GET form, so the page itself narrows the log
/// (with or without JavaScript); matches are highlighted.
#[component]
fn LogFilterForm(job_id: String, filter: LogFilter, matches: Option<u64>) -> impl IntoView {
    let level = filter.level;
    let t = t();
    let option = move |value: &'static str, label: &'static str, l: Option<LogLevel>| {
        view! { <option value=value selected=level == l>{label}</option> }
    };
    let summary = matches.map(|n| {
        let shown = n.min(u64::from(PAGE_LOG_LINES));
        let text = match shown < n {
            false => t.log_lines_match(n),
            true => t.log_lines_match_newest(n, shown),
        };
        view! { <p class="log-matches" role="status">{text}</p> }
    });
    view! {
        <form method="get" action=format!("/jobs/{job_id}") class="log-filter" role="search" aria-label=t.log_filter()>
            <div class="field">
                <label for="log-q">{t.log_search()}</label>
                <input id="log-q" type="search" name="log_q" value=filter.q.clone().unwrap_or_default() maxlength="200"/>
            </div>
            <div class="field">
                <label for="log-level">{t.log_level()}</label>
                <select id="log-level" name="log_level">
                    {option("all", t.log_all_levels(), None)}
                    {option("warn", t.log_warnings_and_errors(), Some(LogLevel::Warn))}
                    {option("error", t.log_errors(), Some(LogLevel::Error))}
                </select>
            </div>
            <button type="submit" class="secondary">{t.filter()}</button>
            {(!filter.is_empty()).then(|| view! { <a href=format!("/jobs/{job_id}")>{t.log_show_every_line()}</a> })}
        </form>
        {summary}
    }
}

/// An account, and the token it came through: "mia", "mia, with the token “deploy”".
pub fn actor_words(t: crate::i18n::Text, a: &crate::model::Actor) -> String {
    match &a.token {
        Some(token) => t.job_by_token(a.name.as_str(), token.as_str()),
        None => a.name.clone(),
    }
}

/// Where a process is, in words: a worker by its name and host, a server's process by its host
/// and pid, one no longer registered by its short id.
fn place_words(t: crate::i18n::Text, id: &str, places: &[crate::model::ProcessInfo]) -> String {
    match places.iter().find(|p| p.id.as_str() == id) {
        Some(p) if !p.name.is_empty() => t.place_worker(p.name.as_str(), p.host.as_str()),
        Some(p) => t.place_process(p.host.as_str(), p.pid),
        None => t.place_gone(&id[..8.min(id.len())]),
    }
}

/// "Ran on": where its attempt ran, or each of its attempts.
fn ran_on_fact(
    job: &crate::model::Job,
    places: &[crate::model::ProcessInfo],
) -> Option<impl IntoView> {
    let t = t();
    let ran: Vec<(u32, &str)> = job
        .attempts
        .iter()
        .filter_map(|a| Some((a.n, a.on.as_deref()?)))
        .collect();
    let words = match ran.as_slice() {
        [] => return None,
        [(_, on)] if job.attempts.len() == 1 => place_words(t, on, places),
        _ => ran
            .iter()
            .map(|(n, on)| t.job_ran_on_attempt(*n, place_words(t, on, places)))
            .collect::<Vec<_>>()
            .join(t.list_separator()),
    };
    Some(view! { <dt>{t.job_ran_on()}</dt><dd class="job-ran-on">{words}</dd> })
}

/// A step's files: its title, its id, and each output with where it is downloaded from.
type StepFiles = (String, String, Vec<(String, crate::model::Output)>);

/// A run's files: each step's outputs under the step's name, as the page was rendered.
#[component]
fn RunOutputs(steps: Vec<StepFiles>) -> impl IntoView {
    let t = t();
    let none = steps
        .is_empty()
        .then(|| view! { <p class="hint outputs-none">{t.outputs_none()}</p> });
    view! {
        <h3 id="outputs-title">{t.outputs()}</h3>
        {none}
        {steps.into_iter().map(|(name, id, files)| view! {
            <h4 class="run-outputs-step"><a href=format!("/jobs/{id}")>{name}</a></h4>
            <ul class="outputs">
                {files.into_iter().map(|(href, o)| view! {
                    <li data-output=o.name.clone()>
                        <a href=href download=o.name.clone()>{o.name.clone()}</a>
                        " "
                        <span class="output-facts">{crate::format::bytes(o.size)} " · " {o.content_type.clone()}</span>
                    </li>
                }).collect_view()}
            </ul>
        }).collect_view()}
    }
}
