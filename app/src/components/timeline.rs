//! A job's states in order with their times, going on live as the job moves.

use super::time::Time;
use super::words::status_name;
use crate::format::{self, Style};
use crate::i18n::{t, Text};
use crate::live;
use crate::model::{Job, JobStatus, StatusChange};
use crate::zone::Zone;
use leptos::prelude::*;

#[island(lazy)]
pub fn Timeline(job: Job, changes: Vec<StatusChange>) -> impl IntoView {
    // Rendered first as the server rendered it (a lazy island may hydrate after the job moved
    // on, and its attempts must match the server's markup), then as the stream keeps it.
    let tracked = live::track(job.clone());
    let job = RwSignal::new(job);
    Effect::new(move || job.set(tracked.get()));
    let changes = RwSignal::new(changes);
    // A status the list does not end with yet is a new step.
    Effect::new(move || {
        let steps =
            job.with(|j| changes.with_untracked(|c| steps_since(c, j, js_sys::Date::now() as i64)));
        if !steps.is_empty() {
            changes.update(|c| c.extend(steps));
        }
    });
    let t = t();
    let zone = crate::zone::view_zone();
    let attempts = move || job.with(|j| attempt_lines(t, &zone.get(), j));
    view! {
        <ol class="timeline">
            <For
                each=move || changes.get().into_iter().enumerate()
                key=|(i, c)| (*i, c.status)
                children=move |(_, c)| view! {
                    <li data-status=c.status.as_str()>
                        <span class="timeline-status">
                            <span aria-hidden="true">{super::job_row::status_icon(c.status)} " "</span>
                            {status_name(t, c.status)}
                        </span>
                        " "
                        <Time at=c.at/>
                    </li>
                }
            />
        </ol>
        <Show when=move || job.with(|j| j.max_attempts > 1 || j.attempts.len() > 1)>
            <h3 class="attempts-title">{t.attempts()}</h3>
            <ol class="attempts">
                {move || attempts().into_iter().map(|(n, text, error)| view! {
                    <li data-attempt=n>
                        {text}
                        {error.map(|e| view! { <span class="attempt-error">{e}</span> })}
                    </li>
                }).collect_view()}
            </ol>
        </Show>
    }
}

/// Each attempt of a job, in words, with its error; then the next one while it waits:
/// "Attempt 1 · Nov 24, 2026, 14:02:00 → 14:02:12 (12s)", "Attempt 2 of 3 starts at …".
pub fn attempt_lines(t: Text, zone: &Zone, j: &Job) -> Vec<(u32, String, Option<String>)> {
    let full = |at: i64| format::when(t, zone, Style::Full, at, at);
    let mut lines: Vec<(u32, String, Option<String>)> = j
        .attempts
        .iter()
        .map(|a| {
            let span = match a.finished_at {
                Some(end) => t.attempt_span(
                    full(a.started_at),
                    format::when(t, zone, Style::Clock, end, end),
                    format::span(t, (end - a.started_at).max(0)),
                ),
                None => t.attempt_running(full(a.started_at)),
            };
            let error = a
                .error
                .as_ref()
                .map(|e| t.job_error(e.code.as_str(), t.said_or(e.said.as_ref(), &e.message)));
            (a.n, t.attempt_line(a.n, span), error)
        })
        .collect();
    if let Some(at) = j.next_attempt_at.filter(|_| j.waits_to_retry()) {
        lines.push((
            j.attempt,
            t.attempt_next(j.attempt, j.max_attempts, full(at)),
            None,
        ));
    }
    lines
}

/// The steps to add to a timeline that ends with `changes` for the job as it is now: its
/// status, preceded by its start if the list missed it (the job ran and moved on while this
/// view was loading). Each is at the job's own time where it has one, else `now`.
pub fn steps_since(changes: &[StatusChange], job: &Job, now: i64) -> Vec<StatusChange> {
    let last = changes.last();
    if last.is_some_and(|c| c.status == job.status) {
        return Vec::new();
    }
    let after_last = |t: &i64| last.is_none_or(|c| *t >= c.at);
    let mut steps = Vec::new();
    let moved_on = !matches!(job.status, JobStatus::Queued | JobStatus::Running);
    if let Some(started) = job.started_at.filter(after_last) {
        if moved_on && last.is_none_or(|c| c.status == JobStatus::Queued) {
            steps.push(StatusChange {
                status: JobStatus::Running,
                at: started,
            });
        }
    }
    let at = match job.status {
        JobStatus::Running => job.started_at,
        s if s.is_terminal() => job.finished_at,
        _ => None,
    }
    .filter(after_last)
    .unwrap_or(now);
    steps.push(StatusChange {
        status: job.status,
        at,
    });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::testing::named;

    fn job(status: JobStatus, started_at: Option<i64>, finished_at: Option<i64>) -> Job {
        Job {
            status,
            started_at,
            finished_at,
            ..Job::queued(named("a"), "demo", serde_json::json!({}), 100)
        }
    }

    fn step(status: JobStatus, at: i64) -> StatusChange {
        StatusChange { status, at }
    }

    #[test]
    fn a_new_status_is_a_step_at_the_jobs_own_time() {
        let queued = [step(JobStatus::Queued, 100)];
        let running = job(JobStatus::Running, Some(150), None);
        assert_eq!(
            steps_since(&queued, &running, 999),
            [step(JobStatus::Running, 150)]
        );
        let listed = [step(JobStatus::Queued, 100), step(JobStatus::Running, 150)];
        let done = job(JobStatus::Succeeded, Some(150), Some(300));
        assert_eq!(
            steps_since(&listed, &done, 999),
            [step(JobStatus::Succeeded, 300)]
        );
        // Nothing new, nothing added.
        assert_eq!(steps_since(&listed, &running, 999), []);
        // A status without a time of its own is seen now.
        let cancelling = job(JobStatus::Cancelling, Some(150), None);
        assert_eq!(
            steps_since(&listed, &cancelling, 999),
            [step(JobStatus::Cancelling, 999)]
        );
    }

    #[test]
    fn a_start_the_list_missed_comes_before_the_end() {
        let queued = [step(JobStatus::Queued, 100)];
        let done = job(JobStatus::Succeeded, Some(150), Some(300));
        assert_eq!(
            steps_since(&queued, &done, 999),
            [
                step(JobStatus::Running, 150),
                step(JobStatus::Succeeded, 300)
            ]
        );
        // Cancelled while queued: it never ran.
        let cancelled = job(JobStatus::Cancelled, None, Some(200));
        assert_eq!(
            steps_since(&queued, &cancelled, 999),
            [step(JobStatus::Cancelled, 200)]
        );
    }

    #[test]
    fn times_older_than_the_list_are_not_trusted() {
        // Queued again after an interruption: the earlier start is not this run's.
        let listed = [step(JobStatus::Running, 150), step(JobStatus::Queued, 400)];
        let done = job(JobStatus::Failed, Some(150), Some(500));
        assert_eq!(
            steps_since(&listed, &done, 999),
            [step(JobStatus::Failed, 500)]
        );
        // A step seen by this browser's clock, ahead of the server's: the list stays in order.
        let listed = [step(JobStatus::Queued, 100), step(JobStatus::Running, 200)];
        let done = job(JobStatus::Succeeded, Some(150), Some(180));
        assert_eq!(
            steps_since(&listed, &done, 999),
            [step(JobStatus::Succeeded, 999)]
        );
    }
}
