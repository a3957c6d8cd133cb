//! Headway's job engine: everything that queues, runs, stores and publishes jobs. It knows
//! nothing of HTTP or Leptos; the server and the app call its services through [`Engine`].
//!
//! - [`engine`]: [`Engine`], the services started and stopped together;
//! - [`jobs`]: the jobs service: start, recovery, creating, cancelling, re-running, notices;
//!   with [`bulk`] (many jobs at once), [`external`] (jobs of programs that run elsewhere and
//!   report over HTTP, and their leases), [`history`] (what a caller may read: pages, counts,
//!   the chart, details, logs), [`queue`] (a queued job's place in line and expected start),
//!   `pauses` (kinds an operator paused, for every process), `outputs` (who reads which job's
//!   outputs, from where) and [`system`] (the operator's view of the deployment, `/system`);
//! - [`schedules`]: the schedules service, and the scheduler that fires them;
//! - [`caller`]: who a request acts for, the principal; [`authority`]: the one policy that
//!   says what a principal may do to what;
//! - [`store`]: the database, behind one seam, over its backends (SQLite, PostgreSQL);
//! - [`committer`]: hands changes to the store's writer, which writes them in batches, and
//!   publishes what committed;
//! - [`bus`]: fan-out of committed events to open streams;
//! - [`feed`]: a caller's feed from a cursor: snapshot, replay, `version`, live events,
//!   keep-alives, as typed items that the event stream and the long poll frame alike;
//! - [`membership`]: this process among those sharing the store; takes over the jobs of processes that are gone;
//! - [`retries`]: whether a failed attempt is tried again, and when;
//! - [`runner`]: the queue and its limits; runs jobs, cancels them, stops them at shutdown;
//! - `shares`: each user's share of the queue;
//! - [`context`]: what a running job reports through;
//! - [`accounts`]: accounts and API tokens: passwords, sign-in checks, tokens;
//! - [`kinds`]: the job kinds, each declared once by its parameter type;
//! - [`commands`]: programs and scripts the operator declares as kinds, and how they run;
//! - [`blobs`]: the file store every process shares: uploads', outputs' and secrets' bytes;
//! - `uploads`: receiving, listing, deleting and sweeping uploads;
//! - [`files`]: what a job may open (its owner's part of the data folder), and how;
//! - [`telemetry`]: the engine's metrics, for `/metrics`;
//! - [`when`]: when a delayed job may start, from the ways a time is said;
//! - [`workflows`]: graphs of steps declared in the workflows file, read and checked;
//! - `head_rate`: events per second, for the system page;
//! - `failures`: a store failure logged, a generic error answered.

pub mod accounts;
pub mod authority;
pub mod blobs;
pub mod bounds;
pub mod bus;
pub mod caller;
pub mod children;
pub mod commands;
pub mod committer;
pub mod context;
pub mod engine;
mod failures;
pub mod feed;
pub mod files;
mod head_rate;
pub mod jobs;
pub mod kinds;
pub mod membership;
pub mod priorities;
pub mod requested;
pub mod retries;
pub mod runner;
pub mod schedules;
mod shares;
pub mod store;
pub mod telemetry;
pub mod uploads;
pub mod webhooks;
pub mod when;
pub mod workers;
pub mod workflows;

#[cfg(test)]
pub(crate) mod testing;

pub use caller::Caller;
pub use engine::{
    AfterAsked, Engine, EngineConfig, StartError, StartOptions, Started, MAX_NOTICE_CHARS,
    MAX_TIMEOUT_MS,
};
pub use jobs::{bulk, external, history, queue, system, Jobs};

/// A fresh random name (a UUID v4) for what is named by no id type: a token, a temporary file,
/// a run's folder, the file store. (Ids are drawn by their own types: `JobId::random()`.)
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Milliseconds since the Unix epoch.
pub use store_core::now_ms;
