//! `/jobs/{id}`: one job in full: its bar, parameters, timeline, error and live log.

use crate::components::PageTitle;
use crate::components::{JobFiles, JobLog, JobRow, LiveRoot, Timeline};
use crate::format;
use crate::model::{LogFilter, LogLevel};
use crate::server_fns::{load_job, JobPageData, PAGE_LOG_LINES};
use leptos::prelude::*;
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
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <JobView data=d/> }.into_any(),
                    Err(e) => view! {
                        <PageTitle text="No such job · Headway"/>
                        <section class="problem" role="alert">
                            <h1>"No such job"</h1>
                            <p>{e.message}</p>
                            <p><a href="/">"Back to your jobs"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn JobView(data: JobPageData) -> impl IntoView {
    let JobPageData { detail, live, may } = data;
    let job = detail.job;
    let (now, stall_ms) = (live.now, live.stall_ms);
    let params = serde_json::to_string_pretty(&job.params).unwrap_or_default();
    let origin = job.origin.as_ref().map(|o| {
        let o = o.to_string();
        view! {
            <dt>"Re-run of"</dt>
            <dd><a href=format!("/jobs/{o}")><code>{o.clone()}</code></a></dd>
        }
    });
    let schedule = job.schedule_id.as_ref().map(|s| {
        let s = s.to_string();
        let when = match job.scheduled_for {
            Some(at) => format!(" for its time {}", format::datetime(at)),
            None => " (run now)".to_string(),
        };
        view! {
            <dt>"Started by"</dt>
            <dd><a href=format!("/schedules/{s}")>"a schedule"</a> {when} " · " <a href=format!("/?schedule={s}")>"its jobs"</a></dd>
        }
    });
    let timeout = job
        .timeout_ms
        .map(|ms| view! { <dt>"Time limit"</dt><dd>{format::duration(ms as i64)}</dd> });
    let error = job.error.clone().map(|e| {
        view! {
            <section class="job-failure" aria-labelledby="error-title">
                <h2 id="error-title">"Error"</h2>
                <p><code>{e.code}</code> ": " {e.message}</p>
            </section>
        }
    });
    let title = format!(
        "{} job {} · Headway",
        job.label(),
        &job.id[..8.min(job.id.len())]
    );
    view! {
        <PageTitle text=title/>
        <LiveRoot info=live/>
        <p class="breadcrumb"><a href="/">"← All jobs"</a></p>
        <h1>{job.label()} " job " <code class="job-full-id">{job.id.to_string()}</code></h1>
        <noscript>
            <p class="hint">
                "The bar and the log update live with JavaScript; without it, "
                <a href="">"refresh the page"</a>
                " to see the latest state."
            </p>
        </noscript>
        <div class="job-list">
            <JobRow job=job.clone() now stall_ms selectable=false actions=may.act/>
        </div>
        {error}
        <div class="job-detail">
            <section aria-labelledby="about-title">
                <h2 id="about-title">"Details"</h2>
                <dl class="facts">
                    <dt>"Kind"</dt><dd>{job.kind.clone()}</dd>
                    <dt>"Created"</dt><dd><time datetime=format::iso(job.created_at)>{format::datetime(job.created_at)}</time></dd>
                    {timeout}
                    {origin}
                    {schedule}
                    <dt>"Parameters"</dt><dd><pre class="params">{params}</pre></dd>
                </dl>
            </section>
            <section aria-labelledby="timeline-title">
                <h2 id="timeline-title">"Timeline"</h2>
                <Timeline job=job.clone() changes=detail.timeline/>
                <JobFiles job=job.clone()/>
            </section>
        </div>
        <section class="job-log" aria-labelledby="log-title">
            <JobLog job_id=job.id.to_string() lines=detail.log total=detail.log_total filter=detail.log_filter.clone() ended=job.status.is_terminal()>
                <LogFilterForm job_id=job.id.to_string() filter=detail.log_filter matches=detail.log_matches/>
            </JobLog>
        </section>
    }
}

// The page shows at most this many lines; the API serves the rest.
const _: () = assert!(PAGE_LOG_LINES >= 100);

/// Search and a level filter for the log: a plain GET form, so the page itself narrows the log
/// (with or without JavaScript); matches are highlighted.
#[component]
fn LogFilterForm(job_id: String, filter: LogFilter, matches: Option<u64>) -> impl IntoView {
    let level = filter.level;
    let option = move |value: &'static str, label: &'static str, l: Option<LogLevel>| {
        view! { <option value=value selected=level == l>{label}</option> }
    };
    let summary = matches.map(|n| {
        let shown = n.min(u64::from(PAGE_LOG_LINES));
        let text = match (n, shown < n) {
            (0, _) => "No line matches.".to_string(),
            (1, _) => "1 line matches.".to_string(),
            (n, false) => format!("{} lines match.", format::count(n)),
            (n, true) => format!(
                "{} lines match; the newest {} are shown.",
                format::count(n),
                format::count(shown)
            ),
        };
        view! { <p class="log-matches" role="status">{text}</p> }
    });
    view! {
        <form method="get" action=format!("/jobs/{job_id}") class="log-filter" role="search" aria-label="Log filter">
            <div class="field">
                <label for="log-q">"Search the log"</label>
                <input id="log-q" type="search" name="log_q" value=filter.q.clone().unwrap_or_default() maxlength="200"/>
            </div>
            <div class="field">
                <label for="log-level">"Level"</label>
                <select id="log-level" name="log_level">
                    {option("all", "All levels", None)}
                    {option("warn", "Warnings and errors", Some(LogLevel::Warn))}
                    {option("error", "Errors", Some(LogLevel::Error))}
                </select>
            </div>
            <button type="submit" class="secondary">"Filter"</button>
            {(!filter.is_empty()).then(|| view! { <a href=format!("/jobs/{job_id}")>"Show every line"</a> })}
        </form>
        {summary}
    }
}
