//! [`Engine`]: the services server functions, the API and the streams call, started together
//! and stopped together. Each service owns its state and answers for its feature:
//!
//! - [`Engine::jobs`] ([`crate::jobs`]): starting, cancelling, re-running and reading jobs;
//! - [`Engine::schedules`] ([`crate::schedules`]): jobs started on a timetable, and the
//!   scheduler that fires them;
//! - [`Engine::feeds`] ([`crate::feed`]): a caller's live feed of events from a cursor;
//! - [`Engine::uploads`] ([`crate::uploads`]): files sent to jobs, and their sweep;
//! - [`Engine::webhooks`] ([`crate::webhooks`]): other systems told when jobs end.
//!
//! Accounts are a service of their own, which the server opens beside the engine
//! ([`crate::accounts`]).

use crate::feed::Feeds;
use crate::jobs::Jobs;
use crate::schedules::Schedules;
use crate::store::Store;
use crate::uploads::Uploads;
use crate::webhooks::Webhooks;
use model::{AppError, ProcessId};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use crate::jobs::{
    AfterAsked, EngineConfig, StartError, StartOptions, Started, MAX_NOTICE_CHARS, MAX_TIMEOUT_MS,
};

/// Headway's engine: its services, sharing one store, one writer and one bus.
#[derive(Clone)]
pub struct Engine {
    jobs: Jobs,
    schedules: Schedules,
    feeds: Feeds,
    webhooks: Webhooks,
}

impl Engine {
    /// Starts the jobs service (the writer, this process's registration, the takeover of the
    /// jobs of processes that are gone, the runner), then the scheduler and the webhooks'
    /// deliverer.
    pub async fn start(store: Store, config: EngineConfig) -> Result<Engine, StartError> {
        let bounds = config.bounds;
        let webhooks = Webhooks::new(store.clone(), config.webhooks.clone(), config.kinds.clone());
        let jobs = Jobs::start(store, config).await?;
        let schedules = Schedules::new(jobs.clone(), bounds);
        schedules.spawn_scheduler();
        webhooks.spawn_deliverer(Arc::clone(jobs.membership()), jobs.stopping());
        let feeds = Feeds::new(jobs.clone());
        Ok(Engine {
            jobs,
            schedules,
            feeds,
            webhooks,
        })
    }

    /// Jobs: starting, cancelling, re-running and reading them.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Schedules: jobs started on a timetable.
    pub fn schedules(&self) -> &Schedules {
        &self.schedules
    }

    /// Feeds: what a client following the jobs live is told, from its cursor on.
    pub fn feeds(&self) -> &Feeds {
        &self.feeds
    }

    /// Uploads: receiving them, and what their owners may do with them.
    pub fn uploads(&self) -> &Uploads {
        self.jobs.uploads()
    }

    /// Webhooks: registering them, and what they were sent.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// The id this process is registered under (and claims jobs under).
    pub fn process_id(&self) -> ProcessId {
        self.jobs.process_id()
    }

    /// The server's build, as its `version` events say it.
    pub fn build(&self) -> &str {
        self.jobs.build()
    }

    /// The id of the latest committed event.
    pub fn head(&self) -> i64 {
        self.jobs.head()
    }

    pub fn store(&self) -> &Store {
        self.jobs.store()
    }

    /// The engine's metrics (see [`crate::telemetry`]).
    pub fn metrics(&self) -> &Arc<crate::telemetry::Metrics> {
        self.jobs.metrics()
    }

    /// Sets the metrics read from the store (jobs queued and running by kind) before a scrape.
    pub async fn refresh_metrics(&self) -> Result<(), AppError> {
        self.jobs.refresh_metrics().await
    }

    /// Whether this process can do its work (see [`Jobs::ready`]).
    pub async fn ready(&self) -> Result<(), String> {
        self.jobs.ready().await
    }

    /// A token cancelled when the server begins to shut down.
    pub fn stopping(&self) -> CancellationToken {
        self.jobs.stopping()
    }

    /// Stops accepting work, ends open streams, stops running jobs (`interrupted`), writes
    /// everything still pending, and lets another server open the database.
    pub async fn shutdown(&self) {
        self.jobs.shutdown().await
    }
}
