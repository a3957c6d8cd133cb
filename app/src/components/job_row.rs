//! One job in a list: status, bar, message and times, live; and the list of jobs that appeared
//! after the page was rendered.

use super::progress_bar::{progress_text, ProgressBar};
use crate::api::{CancelJob, RerunJob};
use crate::format;
use crate::live;
use crate::model::{Job, JobStatus};
use leptos::prelude::*;

/// A job rendered by the server that keeps itself current from the tab's stream.
#[island]
pub fn JobRow(job: Job) -> impl IntoView {
    view! { <JobRowView job=live::track(job)/> }
}

/// Jobs started after the page was rendered (from this tab or another), newest first.
#[island]
pub fn NewJobs() -> impl IntoView {
    let jobs = live::new_jobs();
    view! {
        <For
            each=move || jobs.get()
            key=|job| job.with_untracked(|j| j.id.clone())
            children=|job| view! { <JobRowView job/> }
        />
    }
}

#[component]
pub fn JobRowView(job: ArcRwSignal<Job>) -> impl IntoView {
    let job = RwSignal::from(job);
    let id = job.with_untracked(|j| j.id.clone());
    let status = move || job.with(|j| j.status);
    let cancel = ServerAction::<CancelJob>::new();
    Effect::new(move || {
        if let Some(Ok(updated)) = cancel.value().get() {
            live::add(updated);
        }
    });
    let rerun = ServerAction::<RerunJob>::new();
    Effect::new(move || {
        if let Some(Ok(job)) = rerun.value().get() {
            live::add(job);
        }
    });
    let action_error = move || {
        let message = match (cancel.value().get(), rerun.value().get()) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e.message),
            _ => None,
        };
        message.map(|m| view! { <p class="field-error" role="alert">{m}</p> })
    };
    // Cancel while the job is active, re-run once it has finished.
    let job_action = {
        let id = id.clone();
        move || {
            let id = id.clone();
            if status().is_active() {
                view! {
                    <ActionForm action=cancel attr:class="job-action">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="secondary" disabled=move || status() == JobStatus::Cancelling>
                            "Cancel"
                        </button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! {
                    <ActionForm action=rerun attr:class="job-action">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="secondary" disabled=move || rerun.pending().get()>
                            "Re-run"
                        </button>
                    </ActionForm>
                }
                .into_any()
            }
        }
    };
    view! {
        <article class="job" data-job-id=id.clone() data-status=move || status().as_str()>
            <header class="job-head">
                <span class="job-kind">{move || job.with(|j| j.kind.clone())}</span>
                <span class=move || format!("status status-{}", status())>{move || status().as_str()}</span>
                <code class="job-id" title=id.clone()>{id[..8.min(id.len())].to_string()}</code>
                {job_action}
            </header>
            <ProgressBar job/>
            <p class="job-meta">
                <span class="job-progress">{move || job.with(progress_text)}</span>
                <span class="job-message">{move || job.with(|j| j.progress.message.clone())}</span>
            </p>
            {move || job.with(|j| j.error.clone()).map(|e| view! {
                <p class="job-error">{e.code} ": " {e.message}</p>
            })}
            <p class="job-times">
                {move || job.with(times)}
            </p>
            {action_error}
        </article>
    }
}

/// `created 2026-11-21 12:00:00 UTC · ran 42s`.
fn times(j: &Job) -> String {
    let mut s = format!("created {}", format::datetime(j.created_at));
    match (j.started_at, j.finished_at) {
        (Some(start), Some(end)) => s.push_str(&format!(" · ran {}", format::duration(end - start))),
        (Some(start), None) => s.push_str(&format!(" · started {}", format::datetime(start))),
        (None, Some(end)) => s.push_str(&format!(" · ended {}", format::datetime(end))),
        (None, None) => {}
    }
    s
}
