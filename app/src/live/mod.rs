//! The browser side of the event stream.
//!
//! A tab opens exactly one `EventSource` on `/api/v1/events`, the first time an island asks for
//! live data, and every island on the page reads from it: each job has one shared signal, and the
//! stream's events update those signals. If the stream drops, it reconnects with backoff, for
//! ever, from the last event id it saw.
//!
//! On the server (SSR) islands still call these functions to render their first state; there the
//! signals are plain, unshared and nothing connects.

mod state;
#[cfg(target_arch = "wasm32")]
mod source;

pub use state::{Connection, LiveState};

use crate::model::Job;
use leptos::prelude::*;
use std::cell::RefCell;

thread_local! {
    static STATE: RefCell<LiveState> = RefCell::new(LiveState::default());
}

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
        let updates = with_state(|s| s.upsert(job));
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

/// The state of the stream, for the connection indicator.
pub fn connection() -> ArcRwSignal<Connection> {
    if IN_BROWSER {
        with_state(|s| s.connection.clone())
    } else {
        ArcRwSignal::new(Connection::Connecting)
    }
}
