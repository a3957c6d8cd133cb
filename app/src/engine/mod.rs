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
#[cfg(test)] pub(crate) mod testing;
pub mod writer;

use crate::error::{AppError, ErrorCode, FieldError};
use crate::model::{Job, JobStatus, KindInfo, Progress};
use bus::Bus;
use kinds::{KindEnv, Registry};
use runner::{Runner, RunnerConfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use store::{JobFilter, Store};
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
    /// Jobs running at once, all kinds together; the rest wait `queued`.
    pub max_running: usize,
    /// Per-kind limits on running jobs, overriding the kinds' own.
    pub kind_limits: HashMap<String, usize>,
    /// The directory file-based kinds work in.
    pub data_root: PathBuf,
    /// How long events are kept for replay; a cursor older than that gets `resync`.
    pub retention: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            grace: Duration::from_secs(5),
            bus_capacity: 256,
            max_running: 16,
            kind_limits: HashMap::new(),
            data_root: PathBuf::from("data/files"),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The longest `timeout_ms` a job may ask for (7 days).
pub const MAX_TIMEOUT_MS: u64 = 7 * 24 * 3600 * 1000;

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
    /// Events up to this id may have been pruned: a cursor below it cannot be replayed.
    pruned_through: AtomicI64,
    retention: Duration,
}

impl Engine {
    /// Starts the writer, recovers jobs left over by a previous process, and starts queued ones.
    pub async fn start(store: Store, config: EngineConfig) -> Result<Engine, sqlx::Error> {
        let bus = Arc::new(Bus::new(config.bus_capacity));
        let last = store.last_event_id().await?;
        let pruned_through = match store.oldest_event_id().await? {
            Some(oldest) => oldest - 1,
            None => last,
        };
        let writer = Writer::spawn(store.clone(), Arc::clone(&bus), last);
        let kinds = Registry::builtin(KindEnv { data_root: config.data_root.clone() });
        let runner = Runner::new(
            writer.clone(),
            kinds.clone(),
            RunnerConfig {
                max_running: config.max_running.max(1),
                kind_limits: config.kind_limits.clone(),
                grace: config.grace,
                data_root: config.data_root.clone(),
            },
        );
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                bus,
                writer,
                runner,
                kinds,
                stopping: CancellationToken::new(),
                pruned_through: AtomicI64::new(pruned_through),
                retention: config.retention,
            }),
        };
        engine.recover().await?;
        engine.spawn_pruner();
        Ok(engine)
    }

    /// Jobs that were running when the previous process stopped are `interrupted`, or, for a
    /// resumable kind, queued again to continue from their checkpoint. Queued jobs are queued
    /// again in their order.
    async fn recover(&self) -> Result<(), sqlx::Error> {
        let s = &self.inner;
        for (owner, job) in s.store.jobs_in(&[JobStatus::Running, JobStatus::Cancelling]).await? {
            let resume = job.status == JobStatus::Running && s.kinds.is_resumable(&job.kind);
            s.writer
                .transition(&owner, &job.id, JobStatus::Interrupted, Some(runner::interrupted()))
                .await;
            if resume {
                s.writer.transition(&owner, &job.id, JobStatus::Queued, None).await;
            }
        }
        for (owner, job, checkpoint) in s.store.queued_jobs().await? {
            s.runner.enqueue(owner, job, checkpoint);
        }
        Ok(())
    }

    /// Deletes events older than the retention period, a batch at a time, every minute (or
    /// twice per retention period when that is shorter).
    fn spawn_pruner(&self) {
        let engine = self.clone();
        let every = (self.inner.retention / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = engine.inner.stopping.cancelled() => return,
                }
                engine.prune_now().await;
            }
        });
    }

    /// Deletes events older than the retention period now; returns how far it pruned.
    pub async fn prune_now(&self) -> i64 {
        let cutoff = now_ms() - self.inner.retention.as_millis() as i64;
        while let Some(last) = self.inner.writer.prune(cutoff).await {
            self.inner.pruned_through.fetch_max(last, Ordering::AcqRel);
        }
        self.pruned_through()
    }

    /// Events with ids up to this one may be gone: a stream resuming below it gets `resync`.
    pub fn pruned_through(&self) -> i64 {
        self.inner.pruned_through.load(Ordering::Acquire)
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
        let (params, timeout_ms) = take_timeout(params)?;
        let params = self.inner.kinds.parse(kind, params)?;
        self.insert_and_start(owner, kind, params, timeout_ms, None).await
    }

    /// Like [`Engine::create_job`], from a form where every value is a string.
    pub async fn create_job_from_form(
        &self,
        owner: &str,
        kind: &str,
        form: &HashMap<String, String>,
    ) -> Result<Job, AppError> {
        let params = self.inner.kinds.parse_form(kind, form)?;
        self.insert_and_start(owner, kind, params, None, None).await
    }

    /// Starts a new job with the kind, parameters and timeout of one of the owner's jobs.
    pub async fn rerun(&self, owner: &str, id: &str) -> Result<Job, AppError> {
        let origin = self.job(owner, id).await?;
        // Parameters are validated again: limits or files may have changed since.
        let params = self.inner.kinds.parse(&origin.kind, origin.params)?;
        self.insert_and_start(owner, &origin.kind, params, origin.timeout_ms, Some(origin.id)).await
    }

    async fn insert_and_start(
        &self,
        owner: &str,
        kind: &str,
        params: serde_json::Value,
        timeout_ms: Option<u64>,
        origin: Option<String>,
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
            timeout_ms,
            origin,
        };
        let job = self.inner.writer.create(owner, job).await.map_err(|e| {
            tracing::error!(error = %e, "could not store a new job");
            AppError::internal()
        })?;
        self.inner.runner.enqueue(owner.to_string(), job.clone(), None);
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

    /// One page of the owner's jobs; `filter.before` must be one of the owner's job ids.
    pub async fn list_jobs(&self, owner: &str, filter: &JobFilter) -> Result<Vec<Job>, AppError> {
        if let Some(before) = &filter.before {
            self.job(owner, before).await.map_err(|_| {
                AppError::bad_request("`before` must be the id of one of your jobs (the last of the previous page)")
            })?;
        }
        self.inner.store.list_jobs(owner, filter).await.map_err(internal)
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
        if self.inner.runner.dequeue(id) || !self.inner.runner.cancel(id).await {
            // Waiting in the queue (or not held by this process): it never runs.
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

    pub fn queued_count(&self) -> usize {
        self.inner.runner.queued_count()
    }
}

/// Takes the generic `timeout_ms` out of a job's parameters (every kind accepts it).
fn take_timeout(mut params: serde_json::Value) -> Result<(serde_json::Value, Option<u64>), AppError> {
    let Some(raw) = params.as_object_mut().and_then(|o| o.remove("timeout_ms")) else {
        return Ok((params, None));
    };
    match raw.as_u64() {
        Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok((params, Some(ms))),
        _ => Err(AppError::invalid(vec![FieldError {
            field: "timeout_ms".into(),
            message: format!("must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"),
        }])),
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
