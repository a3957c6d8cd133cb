//! The browser side of the event stream.
//!
//! The tabs of one browser share one `EventSource` on `/api/v1/events` (see `tabs`): one tab
//! holds it and hands its events to the others; a browser without the APIs for that gives each
//! tab its own. The stream starts the first time an island asks for live data, and every island
//! on the page reads from it: each job has one shared signal, and the stream's events update
//! those signals. If the stream drops, it reconnects with backoff, for ever, from the last event
//! id it saw.
//!
//! On the server (SSR) islands still call these functions to render their first state; there the
//! signals are plain, unshared and nothing connects.

#[cfg(target_arch = "wasm32")]
mod source;
mod state;
#[cfg(target_arch = "wasm32")]
mod tabs;

pub use state::{announcement, merge_lines, title, Connection, LiveState, Toast};

use crate::model::{Job, JobId, LogLine, Notice};
use leptos::prelude::*;
use state::STATE;

/// Runs `f` on the tab's shared state, connecting the stream on first use.
fn with_state<R>(f: impl FnOnce(&mut LiveState) -> R) -> R {
    #[cfg(target_arch = "wasm32")]
    source::ensure_connected();
    STATE.with(|s| f(&mut s.borrow_mut()))
}

const IN_BROWSER: bool = cfg!(target_arch = "wasm32");

/// The live signal of a job the server rendered; the stream keeps it current.
pub fn track(job: Job) -> ArcRwSignal<Job> {
    if IN_BROWSER {
        with_state(|s| s.track(job))
    } else {
        ArcRwSignal::new(job)
    }
}

/// Records a job this tab learnt about outside the stream (e.g. the answer of a start or cancel
/// call); a job the page did not show yet is added to the new jobs.
pub fn add(job: Job) {
    if IN_BROWSER {
        let updates = with_state(|s| s.upsert(job, true));
        updates.run();
    }
}

/// Jobs that appeared after the page was rendered, newest first.
pub fn new_jobs() -> ArcRwSignal<Vec<ArcRwSignal<Job>>> {
    if IN_BROWSER {
        with_state(|s| s.new_jobs.clone())
    } else {
        ArcRwSignal::new(Vec::new())
    }
}

/// A count that goes up whenever one of the caller's jobs appears or changes status.
pub fn status_changes() -> ArcRwSignal<u64> {
    if IN_BROWSER {
        with_state(|s| s.status_changes.clone())
    } else {
        ArcRwSignal::new(0)
    }
}

/// The state of the stream, for the connection indicator.
pub fn connection() -> ArcRwSignal<Connection> {
    if IN_BROWSER {
        with_state(|s| s.connection.clone())
    } else {
        ArcRwSignal::new(Connection::Connecting)
    }
}

/// Where the stream starts: the event id the server rendered the page at, its build, the
/// notices it showed and the kinds' titles it rendered with. The first island to hydrate sets
/// it, before the stream connects.
pub fn start_from(
    cursor: i64,
    build: &str,
    notices: Vec<Notice>,
    dismissed: &[i64],
    stream: &str,
    titles: &[(String, String)],
) {
    if IN_BROWSER {
        with_state(|s| s.start_from(cursor, build, notices, dismissed, stream, titles));
    }
}

/// Keeps the stream's lines of a job's log after line `after` until its view hydrates (none
/// for a string that is no job id: no job's lines come for it).
pub fn keep_log(job_id: &str, after: u64) {
    if let (true, Ok(job_id)) = (IN_BROWSER, JobId::parse(job_id)) {
        with_state(|s| s.keep_log(&job_id, after));
    }
}

/// The live log of a job (lines after the ones the server rendered arrive on the stream), and
/// the lines the stream brought before this call, to add once the view is live.
pub fn watch_log(job_id: &str, lines: Vec<LogLine>) -> (ArcRwSignal<Vec<LogLine>>, Vec<LogLine>) {
    match (IN_BROWSER, JobId::parse(job_id)) {
        (true, Ok(job_id)) => with_state(|s| s.watch_log(&job_id, lines)),
        // Not in a browser, or no job id: lines as rendered, none come on the stream.
        _ => (ArcRwSignal::new(lines), Vec::new()),
    }
}

/// Whether a job has ended: `rendered` (as the server rendered the page) until the view is
/// live, then as the stream tells it, for the job's parts that say "yet" only while it runs.
pub fn ended(job_id: &str, rendered: bool) -> Signal<bool> {
    let ended = RwSignal::new(rendered);
    if IN_BROWSER {
        let id = job_id.to_string();
        // Effects run once the view is hydrated: it hydrates with what the server rendered.
        Effect::new(move || {
            if let Some(job) = with_state(|s| s.followed(&id)) {
                ended.set(job.with(|j| j.status.is_terminal()));
            }
        });
    }
    ended.into()
}

/// Operator notices in force and not dismissed.
pub fn notices(rendered: Vec<Notice>) -> ArcRwSignal<Vec<Notice>> {
    if IN_BROWSER {
        with_state(|s| s.notices.clone())
    } else {
        ArcRwSignal::new(rendered)
    }
}

pub fn dismiss_notice(id: i64) {
    if IN_BROWSER {
        with_state(|s| s.dismiss(id)).run();
    }
}

/// Whether the server now runs another build than the one that rendered the page.
pub fn outdated() -> ArcRwSignal<bool> {
    if IN_BROWSER {
        with_state(|s| s.outdated.clone())
    } else {
        ArcRwSignal::new(false)
    }
}

/// Jobs that finished while the page was open.
pub fn toasts() -> ArcRwSignal<Vec<Toast>> {
    if IN_BROWSER {
        with_state(|s| s.toasts.clone())
    } else {
        ArcRwSignal::new(Vec::new())
    }
}

pub fn close_toast(id: u64) {
    if IN_BROWSER {
        with_state(|s| s.close_toast(id)).run();
    }
}

/// The latest announcement for screen readers (finished jobs, at most one per few seconds).
pub fn announcements() -> ArcRwSignal<String> {
    ANNOUNCEMENT.with(|a| a.clone())
}

/// The clock of a view rendered at `rendered_at` (the server's time when it rendered the
/// page): that time until the view is live in the browser, then the page's [`clock`]. A view
/// hydrates with what the server rendered however late the page's code arrives (a slow
/// network, a busy machine, a lazy island): a row computed at a later time could show a stall
/// the server did not render, which breaks hydration.
pub fn view_clock(rendered_at: i64) -> Signal<i64> {
    let live = RwSignal::new(false);
    // Effects run in the browser only, once the view is hydrated (or mounted).
    Effect::new(move || live.set(true));
    let clock = clock(rendered_at);
    Signal::derive(move || if live.get() { clock.get() } else { rendered_at })
}

/// The time (Unix ms), ticking every second in the browser; `rendered_at` on the server. Views
/// read it through [`view_clock`], which hydrates with the time the server rendered at.
fn clock(rendered_at: i64) -> ArcRwSignal<i64> {
    #[cfg(target_arch = "wasm32")]
    {
        source::clock(rendered_at)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        ArcRwSignal::new(rendered_at)
    }
}

thread_local! {
    static ANNOUNCEMENT: ArcRwSignal<String> = ArcRwSignal::new(String::new());
}
