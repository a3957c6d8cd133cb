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
#[cfg(test)] mod history_tests;
#[cfg(test)] pub(crate) mod testing;
pub mod writer;
mod writes;

use crate::error::{AppError, ErrorCode, FieldError};
use crate::model::{
    HistoryQuery, Job, JobDetail, JobPage, JobStatus, KindInfo, MinuteStats, Notice, Progress,
    StatusChange, StatusCount,
};
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
    /// Events buffered per owner with one live stream before a slow stream must catch up from
    /// the store; an owner with more streams gets more (see [`bus`]).
    pub bus_capacity: usize,
    /// Jobs running at once, all kinds together; the rest wait `queued`.
    pub max_running: usize,
    /// Per-kind limits on running jobs, overriding the kinds' own.
    pub kind_limits: HashMap<String, usize>,
    /// The directory file-based kinds work in.
    pub data_root: PathBuf,
    /// How long events are kept for replay; a cursor older than that gets `resync`.
    pub retention: Duration,
    /// A running job that reports nothing for this long is shown as stalled.
    pub stall_after: Duration,
    /// Identifies the server's build: a page rendered by another build offers a reload.
    pub build: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            grace: Duration::from_secs(5),
            bus_capacity: 64,
            max_running: 16,
            kind_limits: HashMap::new(),
            data_root: PathBuf::from("data/files"),
            retention: Duration::from_secs(7 * 24 * 3600),
            stall_after: Duration::from_secs(30),
            build: "dev".into(),
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
    stall_after: Duration,
    build: String,
    /// The id reserved at start for this server's `version` event: a client resuming from
    /// before it is told the build.
    version_event_id: i64,
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
        // The next id announces this server's build; everything this run writes comes after it.
        let version_event_id = last + 1;
        let writer = Writer::spawn(store.clone(), Arc::clone(&bus), version_event_id);
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
                stall_after: config.stall_after,
                build: config.build,
                version_event_id,
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

    pub fn build(&self) -> &str {
        &self.inner.build
    }

    pub fn version_event_id(&self) -> i64 {
        self.inner.version_event_id
    }

    /// Milliseconds without a progress sample after which a running job is shown as stalled.
    pub fn stall_ms(&self) -> u64 {
        self.inner.stall_after.as_millis() as u64
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

    /// One page of the owner's history, filtered as `query` says; a bad filter is a
    /// `bad_request` naming it.
    pub async fn history_page(&self, owner: &str, query: &HistoryQuery) -> Result<JobPage, AppError> {
        let mut filter = job_filter(query)?;
        for (key, name) in [(&filter.before, "before"), (&filter.after, "after")] {
            if let Some(id) = key {
                self.job(owner, id).await.map_err(|_| {
                    AppError::bad_request(format!("`{name}` must be the id of one of your jobs"))
                })?;
            }
        }
        let size = filter.limit;
        // One more than the page: whether there is a page beyond it.
        filter.limit = size + 1;
        let mut jobs = self.inner.store.list_jobs(owner, &filter).await.map_err(internal)?;
        let more = jobs.len() > size as usize;
        let newer = filter.before.is_none() && filter.after.is_some();
        if more {
            if newer {
                jobs.remove(0);
            } else {
                jobs.truncate(size as usize);
            }
        }
        let (has_older, has_newer) = if newer {
            (true, more)
        } else {
            (more, filter.before.is_some())
        };
        let next = has_older.then(|| jobs.last().map(|j| j.id.clone())).flatten();
        let prev = has_newer.then(|| jobs.first().map(|j| j.id.clone())).flatten();
        Ok(JobPage { jobs, next, prev })
    }

    /// The owner's job counts per status (of one kind, or of all).
    pub async fn status_counts(&self, owner: &str, kind: Option<&str>) -> Result<Vec<StatusCount>, AppError> {
        self.inner.store.status_counts(owner, kind).await.map_err(internal)
    }

    /// Jobs finished per minute over the hour before `now`.
    pub async fn last_hour(&self, owner: &str, now: i64) -> Result<Vec<MinuteStats>, AppError> {
        let until = now - now.rem_euclid(60_000) + 60_000;
        self.inner.store.finished_per_minute(owner, until - 3_600_000, until).await.map_err(internal)
    }

    /// Everything the job page shows about one of the owner's jobs.
    pub async fn job_detail(&self, owner: &str, id: &str, log_lines: u32) -> Result<JobDetail, AppError> {
        let job = self.job(owner, id).await?;
        let store = &self.inner.store;
        let changes = store.status_changes(id).await.map_err(internal)?;
        let (log, log_total) = store.log_tail(id, log_lines).await.map_err(internal)?;
        Ok(JobDetail { timeline: timeline(&job, changes), job, log, log_total })
    }

    /// Notices in force.
    pub async fn notices(&self) -> Result<Vec<Notice>, AppError> {
        self.inner.store.active_notices().await.map_err(internal)
    }

    /// Shows `text` to every user, now and on their next visits, until withdrawn.
    pub async fn post_notice(&self, text: &str) -> Result<Notice, AppError> {
        let text = text.trim();
        let len = text.chars().count();
        if len == 0 || len > MAX_NOTICE_CHARS || text.contains(['\n', '\r']) {
            return Err(AppError::invalid(vec![FieldError {
                field: "text".into(),
                message: format!("a notice is one line of 1 to {MAX_NOTICE_CHARS} characters"),
            }]));
        }
        self.inner.writer.notice(text.to_string()).await.map_err(|e| {
            tracing::error!(error = %e, "could not store a notice");
            AppError::internal()
        })
    }

    /// Withdraws every notice in force; returns how many there were.
    pub async fn withdraw_notices(&self) -> Result<usize, AppError> {
        self.inner.writer.withdraw_notices().await.map_err(|e| {
            tracing::error!(error = %e, "could not withdraw notices");
            AppError::internal()
        })
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

/// The longest notice, in characters.
pub const MAX_NOTICE_CHARS: usize = 500;

/// Turns a history view's parameters into a filter, or says which one is wrong.
pub fn job_filter(q: &HistoryQuery) -> Result<JobFilter, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::bad_request("limit must be from 1 to 500"));
    }
    let mut statuses = Vec::new();
    for name in q.status.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let status = JobStatus::parse(name).ok_or_else(|| {
            let known: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            AppError::bad_request(format!("unknown status {name:?}; use one of {}", known.join(", ")))
        })?;
        statuses.push(status);
    }
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::bad_request("q must be at most 200 characters"));
    }
    let key = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(JobFilter {
        statuses,
        kind: key(&q.kind),
        search,
        before: key(&q.before),
        after: key(&q.after),
        limit,
    })
}

/// A job's states in order with their times: from its events where they are kept, else from
/// its own created, started and finished times.
pub fn timeline(job: &Job, changes: Vec<StatusChange>) -> Vec<StatusChange> {
    if changes.first().is_some_and(|c| c.status == JobStatus::Queued) {
        return changes;
    }
    let mut t = vec![StatusChange { status: JobStatus::Queued, at: job.created_at }];
    if let Some(at) = job.started_at {
        t.push(StatusChange { status: JobStatus::Running, at });
    }
    // Whatever is still stored is newer than the times above.
    let from = t.last().map_or(i64::MIN, |c| c.at);
    t.extend(changes.into_iter().filter(|c| c.at >= from && c.status != JobStatus::Running));
    if let (Some(at), true) = (job.finished_at, job.status.is_terminal()) {
        if t.last().is_none_or(|c| c.status != job.status) {
            t.push(StatusChange { status: job.status, at });
        }
    }
    t
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
