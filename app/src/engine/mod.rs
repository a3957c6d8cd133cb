//! The engine (server only): everything that runs and remembers jobs.
//!
//! - [`store`]: all SQL, on SQLite;
//! - [`writer`]: the single task that writes job changes and events, in batches;
//! - [`bus`]: fan-out of committed events to open streams;
//! - [`runner`]: runs jobs on tokio, cancels them, stops them at shutdown;
//! - [`context`]: what a running job reports through;
//! - [`kinds`]: the job kinds and their parameters.
//!
//! [`Engine`] is the façade that server functions and HTTP routes call: it checks ownership and
//! input, so callers stay thin.

pub mod bus;
pub mod context;
pub mod kinds;
pub mod runner;
pub mod store;
pub mod writer;

use crate::error::{AppError, ErrorCode};
use crate::model::{Job, JobStatus, KindInfo, Progress};
use bus::Bus;
use kinds::Registry;
use runner::Runner;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio_util::sync::CancellationToken;
use writer::Writer;

/// The user a request acts for: created on a session's first request and kept in the session.
/// The server's session layer puts it in every request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(pub String);

/// Settings of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long a job has to stop after a cancel request (or at shutdown) before it is aborted.
    pub grace: Duration,
    /// Events buffered per owner for live streams before a slow stream must catch up from the
    /// store.
    pub bus_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { grace: Duration::from_secs(5), bus_capacity: 256 }
    }
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    bus: Arc<Bus>,
    writer: Writer,
    runner: Arc<Runner>,
    kinds: Registry,
    /// Cancelled when the server starts shutting down: open streams end on it.
    stopping: CancellationToken,
}

impl Engine {
    /// Starts the writer, recovers jobs left over by a previous process, and starts queued ones.
    pub async fn start(store: Store, config: EngineConfig) -> Result<Engine, sqlx::Error> {
        let bus = Arc::new(Bus::new(config.bus_capacity));
        let last = store.last_event_id().await?;
        let writer = Writer::spawn(store.clone(), Arc::clone(&bus), last);
        let kinds = Registry::builtin();
        let runner = Runner::new(writer.clone(), kinds.clone(), config.grace);
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                bus,
                writer,
                runner,
                kinds,
                stopping: CancellationToken::new(),
            }),
        };
        engine.recover().await?;
        Ok(engine)
    }

    /// Jobs that were running when the previous process died are `interrupted`; jobs that were
    /// waiting are started.
    async fn recover(&self) -> Result<(), sqlx::Error> {
        let s = &self.inner;
        for (owner, job) in s.store.jobs_in(&[JobStatus::Running, JobStatus::Cancelling]).await? {
            s.writer
                .transition(&owner, &job.id, JobStatus::Interrupted, Some(runner::interrupted()))
                .await;
        }
        for (owner, job) in s.store.jobs_in(&[JobStatus::Queued]).await? {
            s.runner.start(owner, job);
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn bus(&self) -> &Arc<Bus> {
        &self.inner.bus
    }

    /// The id of the latest committed event (0 for an empty store).
    pub fn head(&self) -> i64 {
        self.inner.writer.head()
    }

    pub fn kinds(&self) -> Vec<KindInfo> {
        self.inner.kinds.infos()
    }

    /// A token cancelled when the server begins to shut down.
    pub fn stopping(&self) -> CancellationToken {
        self.inner.stopping.clone()
    }

    /// Validates and starts a job for `owner`.
    pub async fn create_job(
        &self,
        owner: &str,
        kind: &str,
        params: serde_json::Value,
    ) -> Result<Job, AppError> {
        let params = self.inner.kinds.parse(kind, params)?;
        self.insert_and_start(owner, kind, params).await
    }

    /// Like [`Engine::create_job`], from a form where every value is a string.
    pub async fn create_job_from_form(
        &self,
        owner: &str,
        kind: &str,
        form: &HashMap<String, String>,
    ) -> Result<Job, AppError> {
        let params = self.inner.kinds.parse_form(kind, form)?;
        self.insert_and_start(owner, kind, params).await
    }

    async fn insert_and_start(
        &self,
        owner: &str,
        kind: &str,
        params: serde_json::Value,
    ) -> Result<Job, AppError> {
        if self.inner.stopping.is_cancelled() {
            return Err(AppError::new(ErrorCode::Unavailable, "the server is shutting down"));
        }
        let job = Job {
            id: new_id(),
            kind: kind.to_string(),
            params,
            status: JobStatus::Queued,
            progress: Progress::default(),
            error: None,
            created_at: now_ms(),
            started_at: None,
            finished_at: None,
            event_id: 0,
        };
        let job = self.inner.writer.create(owner, job).await.map_err(|e| {
            tracing::error!(error = %e, "could not store a new job");
            AppError::internal()
        })?;
        self.inner.runner.start(owner.to_string(), job.clone());
        Ok(job)
    }

    /// The job, if it exists and belongs to `owner` (otherwise `not_found`, never "forbidden").
    pub async fn job(&self, owner: &str, id: &str) -> Result<Job, AppError> {
        if !is_job_id(id) {
            return Err(AppError::not_found());
        }
        self.inner.store.job(owner, id).await.map_err(internal)?.ok_or_else(AppError::not_found)
    }

    pub async fn recent_jobs(&self, owner: &str, limit: u32) -> Result<Vec<Job>, AppError> {
        self.inner.store.recent_jobs(owner, limit).await.map_err(internal)
    }

    /// Requests cancellation of the owner's job and returns it as it is now.
    pub async fn cancel(&self, owner: &str, id: &str) -> Result<Job, AppError> {
        let job = self.job(owner, id).await?;
        if job.status.is_terminal() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("the job has already finished ({})", job.status),
            ));
        }
        if !self.inner.runner.cancel(id).await {
            // Not running in this process: a queued job that never started, say.
            self.inner.writer.transition(owner, id, JobStatus::Cancelled, None).await;
        }
        self.job(owner, id).await
    }

    /// Stops accepting work, ends open streams, stops running jobs (`interrupted`), and writes
    /// everything still pending.
    pub async fn shutdown(&self) {
        self.inner.stopping.cancel();
        self.inner.runner.shutdown().await;
        self.inner.writer.flush().await;
    }

    pub fn running_count(&self) -> usize {
        self.inner.runner.running_count()
    }
}

/// A fresh random id (UUID v4): job ids and user ids cannot be guessed.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Job ids are UUIDs; anything else cannot name a job.
pub fn is_job_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

fn internal(e: sqlx::Error) -> AppError {
    tracing::error!(error = %e, "store query failed");
    AppError::internal()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
