//! One job in a list: status, bar, message and times, live; and the list of jobs that appeared
//! after the page was rendered.

use super::progress_bar::{progress_said, ProgressBar};
use super::time::Time;
use super::words::status_name;
use crate::format::{self, Style};
use crate::i18n::{t, Text};
use crate::live;
use crate::model::{Job, JobStatus, KindPause, QueueInfo, EXTERNAL_KIND};
use crate::pace::{self, Pace, RateMeter};
use crate::server_fns::{Active, CancelJob, RerunJob};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A job rendered by the server that keeps itself current from the tab's stream. `now` is the
/// server's clock at render time and `stall_ms` the silence after which it counts as stalled.
/// With `selectable`, it has a checkbox for the dashboard's bulk actions (the `bulk` form);
/// with `actions`, its Cancel or Re-run button (not for a viewer).
///
/// `paused` is the pause that held the job's kind back when the page was rendered (shown without
/// JavaScript; with it, the row asks for its place in line, pause included, as it waits).
#[island]
pub fn JobRow(
    job: Job,
    now: i64,
    stall_ms: u64,
    selectable: bool,
    actions: bool,
    /// Re-run goes to the new job's page (on the job's own page).
    follow_rerun: bool,
    #[prop(optional_no_strip)] paused: Option<KindPause>,
) -> impl IntoView {
    let queue = paused.map(|pause| QueueInfo {
        queue_position: None,
        expected_start_at: None,
        waiting_for: "paused".into(),
        paused: Some(pause),
    });
    view! { <JobRowView job=live::track(job) now stall_ms selectable actions queue follow_rerun/> }
}

/// Jobs that appeared after the page was rendered (started from this tab or another, or older
/// jobs that have come into the view), newest first: those of the view's `kind` (any when
/// `None`) and `statuses` (any when empty). A job stays once shown, as a rendered row does when
/// its status moves on.
#[island]
pub fn NewJobs(
    now: i64,
    stall_ms: u64,
    selectable: bool,
    actions: bool,
    kind: Option<String>,
    statuses: Vec<JobStatus>,
) -> impl IntoView {
    let jobs = live::new_jobs();
    let shown = StoredValue::new(std::collections::HashSet::<String>::new());
    let each = move || {
        if kind.is_none() && statuses.is_empty() {
            return jobs.get();
        }
        let fits = |j: &Job| {
            kind.as_ref().is_none_or(|k| *k == j.kind)
                && (statuses.is_empty() || statuses.contains(&j.status))
        };
        let mut list = jobs.get();
        list.retain(|job| {
            let id = job.with_untracked(|j| j.id.to_string());
            if shown.with_value(|s| s.contains(&id)) {
                return true;
            }
            // Followed until it fits: its status may come into the view.
            let fit = job.with(fits);
            if fit {
                shown.update_value(|s| {
                    s.insert(id);
                });
            }
            fit
        });
        list
    };
    view! {
        <For
            each
            key=|job| job.with_untracked(|j| j.id.clone())
            children=move |job| view! { <JobRowView job now stall_ms selectable actions/> }
        />
    }
}

/// The first screen's jobs running now and the next to start, live: each bar follows the
/// stream, and when the caller's jobs change status the lists are asked for again (at most
/// about twice a second).
#[island]
pub fn ActiveJobs(initial: Active, now: i64, stall_ms: u64) -> impl IntoView {
    let tracked = |jobs: Vec<Job>| jobs.into_iter().map(live::track).collect::<Vec<_>>();
    let running = RwSignal::new(tracked(initial.running));
    let next = RwSignal::new(tracked(initial.next));
    let totals = RwSignal::new((initial.running_total, initial.queued_total));
    #[cfg(feature = "hydrate")]
    {
        let changes = live::status_changes();
        let pending = StoredValue::new(false);
        Effect::new(move |seen: Option<u64>| {
            let n = changes.get();
            if seen.is_some() && !pending.get_value() {
                pending.set_value(true);
                set_timeout(
                    move || {
                        pending.set_value(false);
                        leptos::task::spawn_local(async move {
                            if let Ok(fresh) = crate::server_fns::load_active().await {
                                running.set(tracked(fresh.running));
                                next.set(tracked(fresh.next));
                                totals.set((fresh.running_total, fresh.queued_total));
                            }
                        });
                    },
                    std::time::Duration::from_millis(400),
                );
            }
            n
        });
    }
    let clock = live::view_clock(now);
    let t = t();
    let more = move |shown: usize, total: u64, status: &'static str| {
        (total > shown as u64).then(|| {
            let text = match status {
                "queued" => t.active_all_queued(total),
                _ => t.active_all_running(total),
            };
            view! { <a class="more" href=format!("/?status={status}")>{text}</a> }
        })
    };
    view! {
        <section class="now-running" aria-labelledby="running-title">
            <h2 id="running-title">{t.active_running()} " " <span class="muted">{move || t.active_count(totals.get().0)}</span></h2>
            <ul class="active-jobs">
                <For
                    each=move || running.get()
                    key=|job| job.with_untracked(|j| j.id.clone())
                    children=move |job| view! { <ActiveRow job clock stall_ms/> }
                />
            </ul>
            <p class="empty" hidden=move || !running.with(Vec::is_empty)>{t.active_none_running()}</p>
            {move || more(running.with(Vec::len), totals.get().0, "running,cancelling")}
        </section>
        <section class="now-next" aria-labelledby="next-title">
            <h2 id="next-title">{t.active_next()} " " <span class="muted">{move || t.active_count(totals.get().1)}</span></h2>
            <ul class="active-jobs">
                <For
                    each=move || next.get()
                    key=|job| job.with_untracked(|j| j.id.clone())
                    children=move |job| view! { <ActiveRow job clock stall_ms/> }
                />
            </ul>
            <p class="empty" hidden=move || !next.with(Vec::is_empty)>{t.active_none_waiting()}</p>
            {move || more(next.with(Vec::len), totals.get().1, "queued")}
        </section>
    }
}

/// A job on the first screen: its name, its bar and what it says, on two short lines.
#[component]
fn ActiveRow(job: ArcRwSignal<Job>, clock: Signal<i64>, stall_ms: u64) -> impl IntoView {
    let job = RwSignal::from(job);
    let id = job.with_untracked(|j| j.id.to_string());
    let short = id[..8.min(id.len())].to_string();
    let t = t();
    let zone = crate::zone::view_zone();
    let text = move || {
        job.with(|j| {
            let now = clock.get();
            if j.status == JobStatus::Queued {
                return start_text(t, &zone.get(), j, now)
                    .unwrap_or_else(|| queued_text(t, j, now));
            }
            let p = pace::pace(j, None, now, stall_ms);
            [
                progress_said(t, j),
                pace_text(t, j, &p),
                j.progress.message.clone(),
            ]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
        })
    };
    view! {
        <li class="active-job" data-job-id=id.clone() data-status=move || job.with(|j| j.status.as_str())>
            <span class="active-name">
                <a class="job-kind" href=format!("/jobs/{id}")>{move || job.with(crate::names::job_title)}</a>
                " " <code class="job-id">{short}</code>
            </span>
            <ProgressBar job/>
            <span class="active-text">{text}</span>
        </li>
    }
}

#[component]
pub fn JobRowView(
    job: ArcRwSignal<Job>,
    now: i64,
    stall_ms: u64,
    #[prop(optional)] selectable: bool,
    #[prop(optional)] actions: bool,
    /// Its place in line (or its kind's pause) as the server knew it.
    #[prop(optional_no_strip)]
    queue: Option<QueueInfo>,
    /// Re-run goes to the new job's page (the job page's row), rather than adding the new job
    /// to the list.
    #[prop(optional)]
    follow_rerun: bool,
) -> impl IntoView {
    let job = RwSignal::from(job);
    let clock = live::view_clock(now);
    let t = t();
    // The rate is measured from the samples this page sees; until then, the average.
    let meter = StoredValue::new(RateMeter::default());
    let measured = RwSignal::new(None::<f64>);
    Effect::new(move || {
        job.with(|j| {
            if let Some(at) = j.progress.at {
                meter.update_value(|m| m.observe(at, j.progress.current));
                measured.set(meter.with_value(RateMeter::rate));
            }
        })
    });
    let pace =
        Memo::new(move |_| job.with(|j| pace::pace(j, measured.get(), clock.get(), stall_ms)));
    let id = job.with_untracked(|j| j.id.to_string());
    let kind = job.with_untracked(|j| j.kind.clone());
    let status = move || job.with(|j| j.status);
    let stalled = move || pace.with(|p| p.stalled_ms);
    let is_stalled = Memo::new(move |_| stalled().is_some());
    let finished_at = move || job.with(|j| j.finished_at.filter(|_| j.status.is_terminal()));
    // A queued job's place in line, asked for in the browser while it waits: every few seconds
    // (the clock) and whenever it is queued again.
    let queue = RwSignal::new(queue);
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        Effect::new(move |_| {
            let queued = job.with(|j| j.status == JobStatus::Queued);
            let _tick = clock.get() / QUEUE_REFRESH_MS;
            if !queued {
                queue.set(None);
                return;
            }
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let url = crate::server_fns::LoadQueueInfo::url();
                if let Ok(info) = crate::server_fns::post::fields(url, &[("id", &id)]).await {
                    queue.set(info);
                }
            });
        });
    }
    // Cancel while the job is active, re-run once it has finished: plain form posts without
    // JavaScript; with it, the page sends the same forms itself and shows the job it gets back.
    let sending = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    // A refusal concerns the status the job had: it goes once the status changes.
    Effect::new(move |seen: Option<JobStatus>| {
        let now = status();
        if seen.is_some_and(|s| s != now) {
            failure.set(None);
        }
        now
    });
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok());
            let Some(form) = form.filter(|_| !sending.get_untracked()) else {
                return;
            };
            sending.set(true);
            leptos::task::spawn_local(async move {
                let answer = crate::server_fns::post::form::<Job>(&form).await;
                sending.set(false);
                failure.set(answer.as_ref().err().map(|e| e.message.clone()));
                if let Ok(job) = answer {
                    let started = job.id.to_string();
                    live::add(job);
                    if follow_rerun {
                        let _ = window().location().set_href(&format!("/jobs/{started}"));
                    }
                }
            });
        }
    };
    let action_error = view! {
        <p class="field-error" role="alert" hidden=move || failure.with(Option::is_none)>{move || failure.get()}</p>
    };
    // Both forms are in the page; the job's status shows the one that applies. An external job
    // runs where its program was started: it has no Re-run here.
    let rerunnable = kind != EXTERNAL_KIND;
    let job_action = actions.then(|| {
        view! {
            <form method="post" action=CancelJob::url() class="job-action" hidden=move || !status().is_active() on:submit=send>
                <input type="hidden" name="id" value=id.clone()/>
                <button type="submit" class="secondary" disabled=move || sending.get() || status() == JobStatus::Cancelling>
                    {t.job_cancel()}
                </button>
            </form>
            {rerunnable.then(|| view! {
                <form method="post" action=RerunJob::url() class="job-action" hidden=move || status().is_active() on:submit=send>
                    <input type="hidden" name="id" value=id.clone()/>
                    {follow_rerun.then(|| view! { <input type="hidden" name="then" value="job"/> })}
                    <button type="submit" class="secondary" disabled=move || sending.get()>
                        {t.job_rerun()}
                    </button>
                </form>
            })}
        }
    });
    let zone = crate::zone::view_zone();
    let waits = Memo::new(move |_| job.with(|j| start_text(t, &zone.get(), j, clock.get())));
    let title_of_kind = crate::names::kind_title(&kind);
    let queue_line = Memo::new(move |_| {
        let q = queue.get().filter(|_| status() == JobStatus::Queued)?;
        Some(queue_text(t, &zone.get(), &q, &title_of_kind, clock.get()))
    });
    let short = id[..8.min(id.len())].to_string();
    // When it started (or, queued, since when it waits), relative, its exact time in a title.
    let started_at = Memo::new(move |_| job.with(|j| j.started_at));
    let created_at = job.with_untracked(|j| j.created_at);
    let when = move || match started_at.get() {
        Some(at) => view! { {t.job_started()} " " <Time at style=Style::Ago clock/> }.into_any(),
        None => {
            view! { {t.job_queued()} " " <Time at=created_at style=Style::Ago clock/> }.into_any()
        }
    };
    let took = Memo::new(move |_| pace.with(|p| p.elapsed_ms.map(|ms| format::span(t, ms))));
    let who = job.with_untracked(|j| who(t, j));
    view! {
        <article
            class="job"
            data-job-id=id.clone()
            data-status=move || status().as_str()
            data-stalled=move || is_stalled.get().then_some("true")
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
                <span class=move || format!("status status-{}", status())>
                    <span class="status-icon" aria-hidden="true">{move || status_icon(status())}</span>
                    <span class="status-word">{move || status_name(t, status())}</span>
                </span>
                <span class="job-name">
                    <a class="job-kind" href=format!("/jobs/{id}")>{move || job.with(crate::names::job_title)}</a>
                    " "
                    <a class="job-id" href=format!("/jobs/{id}") title=t.job_open(id.as_str())>
                        <code>{short.clone()}</code>
                    </a>
                </span>
            </div>
            <div class="job-work">
                <ProgressBar job/>
                <p class="job-meta">
                    <span class="job-progress">{move || job.with(|j| progress_said(t, j))}</span>
                    <span class="job-attempt">{move || job.with(|j| attempt_text(t, j))}</span>
                    <span class="job-pace">{move || job.with(|j| pace.with(|p| pace_text(t, j, p)))}</span>
                    <span class="job-message">{move || job.with(|j| j.progress.message.clone())}</span>
                </p>
                // The notice counts the silence every second; screen readers hear of it once,
                // when the job stalls, not at every tick.
                <p class="job-stall" hidden=move || !is_stalled.get()>
                    <span aria-hidden="true">"⚠ "</span>
                    {t.job_stalled()} " " {move || stalled().map(|s| format::span(t, s))}
                </p>
                <span class="job-stall-said visually-hidden" role="status">
                    {move || is_stalled.get().then(|| t.job_stalled_said(job.with_untracked(crate::names::job_title)))}
                </span>
                <p class="job-error" hidden=move || job.with(|j| j.error.is_none())>
                    {move || job.with(|j| error_text(t, j))}
                </p>
                <p class="job-starts" hidden=move || waits.with(Option::is_none)>{waits}</p>
                <p class="job-queue" hidden=move || queue_line.with(Option::is_none)>{queue_line}</p>
            </div>
            <p class="job-when">{when}</p>
            <p class="job-took">
                <span class="visually-hidden">{t.job_ran_for()} " "</span>{move || took.get().unwrap_or_else(|| "–".into())}
            </p>
            <p class="job-who">{who}</p>
            <div class="job-actions">{job_action}</div>
            <p class="job-times">
                {t.job_created()} " " <Time at=job.with_untracked(|j| j.created_at) style=Style::Ago clock/>
                <span hidden=move || finished_at().is_none()>
                    " · " {t.job_finished()} " "
                    {move || finished_at().map(|end| view! { <Time at=end style=Style::Ago clock/> })}
                </span>
            </p>
            {action_error}
        </article>
    }
}

/// "queued 12 s ago", for a job on the first screen that has not started.
fn queued_text(t: Text, j: &Job, now: i64) -> String {
    format!("{} {}", t.job_queued(), format::ago(t, j.created_at, now))
}

/// Who started the job: a schedule, a re-run, a program elsewhere, or a person (from the page,
/// the command line or the API).
fn who(t: Text, j: &Job) -> AnyView {
    if let Some(s) = &j.schedule_id {
        return view! { <a href=format!("/schedules/{s}")>{t.job_who_schedule()}</a> }.into_any();
    }
    if let Some(o) = &j.origin {
        let short = o[..8.min(o.len())].to_string();
        return view! { {t.job_who_rerun()} " " <a href=format!("/jobs/{o}")><code>{short}</code></a> }
            .into_any();
    }
    if j.kind == EXTERNAL_KIND {
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
    t.job_who_hand().into_any()
}

/// How often a queued row asks again for its place in line.
#[cfg(feature = "hydrate")]
const QUEUE_REFRESH_MS: i64 = 3_000;

/// "3rd in line · starts in about 40s", "next in line for import_csv · starting any moment",
/// "⏸ demo is paused (by ada since Nov 24, 14:02): it starts once resumed".
pub fn queue_text(
    t: Text,
    zone: &crate::zone::Zone,
    q: &QueueInfo,
    kind: &str,
    now: i64,
) -> String {
    if let Some(pause) = &q.paused {
        let since = format::when(t, zone, Style::Short, pause.paused_at, now);
        return match pause.kind.as_str() {
            crate::model::EVERY_KIND => t.queue_every_kind_paused(pause.paused_by.as_str(), since),
            _ => t.queue_kind_paused(kind, pause.paused_by.as_str(), since),
        };
    }
    let place = match (q.queue_position, q.waiting_for.as_str()) {
        (Some(n), "kind") => t.queue_place_for(n, kind),
        (Some(n), _) => t.queue_place(n),
        (None, "kind") => t.queue_waiting_for(kind),
        (None, _) => t.queue_waiting().to_string(),
    };
    match q.expected_start_at {
        Some(at) if at > now + 1_000 => t.queue_starts_in(place, format::span(t, at - now)),
        Some(_) => t.queue_starting_any_moment(place),
        None => place,
    }
}

/// "starts at Nov 24, 2026, 14:00:00 · in 1h 59m" for a queued job that waits for its time;
/// "attempt 2 of 5 in 40s" for one that waits to be tried again.
pub fn start_text(t: Text, zone: &crate::zone::Zone, j: &Job, now: i64) -> Option<String> {
    let at = j.run_after.filter(|_| j.status == JobStatus::Queued)?;
    let left = at - now;
    if j.waits_to_retry() {
        return Some(match left > 0 {
            true => t.job_retry_in(j.attempt, j.max_attempts, format::span(t, left.max(1000))),
            false => t.job_retry_any_moment(j.attempt, j.max_attempts),
        });
    }
    (left > 0).then(|| {
        t.job_starts_at(
            format::when(t, zone, Style::Full, at, now),
            format::span(t, left.max(1000)),
        )
    })
}

/// "attempt 2 of 5" for a job past its first attempt, or that may take several: its running
/// attempt, or the one that ended it.
pub fn attempt_text(t: Text, j: &Job) -> Option<String> {
    (j.attempt > 1 && !j.waits_to_retry()).then(|| t.job_attempt(j.attempt, j.max_attempts))
}

/// A job's error: "attempt 1 failed: timeout: …" while it waits to be tried again.
pub fn error_text(t: Text, j: &Job) -> Option<String> {
    let e = j.error.as_ref()?;
    Some(match j.waits_to_retry() {
        true => t.job_attempt_failed(j.attempt - 1, e.code.as_str(), e.message.as_str()),
        false => t.job_error(e.code.as_str(), e.message.as_str()),
    })
}

/// A shape per status, so that status never rests on colour alone.
pub fn status_icon(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "◷",
        JobStatus::Running => "▶",
        JobStatus::Cancelling => "◼",
        JobStatus::Succeeded => "✔",
        JobStatus::Failed => "✖",
        JobStatus::Cancelled => "⊘",
        JobStatus::Interrupted => "⚡",
    }
}

/// `elapsed 12s · 5.0 steps/s · about 10s left`; `ran 42s` once finished.
pub fn pace_text(t: Text, j: &Job, p: &Pace) -> String {
    let Some(elapsed) = p.elapsed_ms else {
        return String::new();
    };
    if j.status.is_terminal() {
        return t.job_ran(format::span(t, elapsed));
    }
    let mut parts = vec![t.job_elapsed(format::span(t, elapsed))];
    if let Some(rate) = p.per_second {
        parts.push(pace::rate_text(t, rate, &j.progress.unit));
    }
    if let Some(eta) = p.eta_ms {
        parts.push(t.job_left(format::span(t, eta.max(1000))));
    }
    parts.join(" · ")
}
