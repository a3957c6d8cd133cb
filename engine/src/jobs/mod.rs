//! The jobs service, [`Jobs`]: starting jobs (every new job through one admission, `admit`),
//! cancelling and re-running them, and reading them back (`history`), their place in the queue
//! (`queue`), many at once (`bulk`), their outputs (`outputs`), kinds an operator paused
//! (`pauses`), the deployment's overview (`system`) and jobs that run elsewhere (`external`). It owns the store's writer, the runner
//! and the kinds, checks who may see and touch what and validates input, so its callers stay
//! thin. The engine ([`crate::Engine`]) starts it beside the other services.

mod admit;
mod after;
pub mod bulk;
mod children;
pub mod external;
pub mod history;
#[cfg(test)]
mod history_tests;
mod limits;
mod outputs;
mod pauses;
mod priority;
pub mod queue;
pub mod system;

use crate::blobs::Blobs;
use crate::bus::Bus;
use crate::caller::Caller;
use crate::children::Starter;
use crate::commands::secrets::KeptSecrets;
use crate::committer::{Committer, Created, WriteError};
use crate::failures::{read_failed, write_failed};
use crate::kinds::around_start::AroundStarts;
use crate::kinds::Registry;
use crate::membership::Membership;
use crate::now_ms;
use crate::runner::{Runner, RunnerConfig};
use crate::shares::QueueShares;
use crate::store::{StartKey, Store, StoreError};
use crate::uploads::Uploads;
pub(crate) use admit::{step_priority, take_timeout, Opens, Params};
pub use after::{AfterAsked, AFTER_FIELD};
use model::error::Chain;
use model::{
    AppError, ErrorCode, FieldError, Job, JobId, JobStatus, KindInfo, Notice, ProcessId, UserId,
    VersionEvent,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Settings of the engine.
#[derive(Clone)]
pub struct EngineConfig {
    /// How long a job has to stop after a cancel request (or at shutdown) before it is aborted.
    pub grace: Duration,
    /// Events buffered per owner with one live stream before a slow stream must catch up from
    /// the store; an owner with more streams gets more (see [`crate::bus`]).
    pub bus_capacity: usize,
    /// Jobs running at once, all kinds together; the rest wait `queued`.
    pub max_running: usize,
    /// Per-kind limits on running jobs, overriding the kinds' own.
    pub kind_limits: HashMap<String, usize>,
    /// The kinds this server runs.
    pub kinds: Registry,
    /// The workflows this server starts.
    pub workflows: crate::workflows::Workflows,
    /// The directory file-based kinds work in.
    pub data_root: PathBuf,
    /// How long events are kept for replay; a cursor older than that gets `resync`.
    pub retention: Duration,
    /// A running job that reports nothing for this long is shown as stalled.
    pub stall_after: Duration,
    /// Identifies the server's build: a page rendered by another build offers a reload.
    pub build: String,
    /// Whether this process claims and runs jobs (a process that only serves does not).
    pub runs_jobs: bool,
    /// What this process does, as shown in the registry of processes: `all`, `web`, `worker`.
    pub role: String,
    /// How long a process sharing the database may be silent before its jobs are taken over.
    pub lease: Duration,
    /// Jobs one user may have waiting in the queue.
    pub max_queued_per_user: u64,
    /// Jobs one user may have running at once in the deployment; `None`: three quarters of
    /// the deployment's slots (every live process's `max_running`), rounded up.
    pub max_running_per_user: Option<usize>,
    /// The tags this process offers ([`model::tags`]): it runs the jobs of the kinds that
    /// require none it lacks.
    pub tags: Vec<String>,
    /// The folder of uploads' and outputs' bytes, shared by every process (see
    /// [`crate::blobs`]).
    pub file_store: PathBuf,
    /// Limits on uploads, and how long files are kept.
    pub uploads: crate::uploads::UploadLimits,
    /// Where and how webhooks' deliveries are sent.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// What one user's jobs may write.
    pub bounds: crate::bounds::WriteBounds,
    /// The tags of the languages the pages speak, in which a commands file may give a
    /// command's words (a worker's file is read here too).
    pub languages: Vec<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            grace: Duration::from_secs(5),
            bus_capacity: 64,
            max_running: 16,
            kind_limits: HashMap::new(),
            kinds: Registry::builtin(),
            workflows: Default::default(),
            data_root: PathBuf::from("data/files"),
            retention: Duration::from_secs(7 * 24 * 3600),
            stall_after: Duration::from_secs(30),
            build: "dev".into(),
            runs_jobs: true,
            role: "all".into(),
            lease: Duration::from_secs(30),
            max_queued_per_user: 1000,
            max_running_per_user: None,
            tags: Vec::new(),
            file_store: PathBuf::from("data/store"),
            uploads: Default::default(),
            webhooks: Default::default(),
            bounds: Default::default(),
            languages: vec!["en".into()],
        }
    }
}

/// How long the store's writer has to answer a readiness check.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// The longest `timeout_ms` a job may ask for (7 days).
pub const MAX_TIMEOUT_MS: u64 = 7 * 24 * 3600 * 1000;

/// The longest notice, in characters.
pub const MAX_NOTICE_CHARS: usize = 500;

#[derive(Clone)]
pub struct Jobs {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) bus: Arc<Bus>,
    pub(crate) committer: Committer,
    /// `None` in a process that runs no jobs.
    pub(crate) runner: Option<Arc<Runner>>,
    pub(crate) membership: Arc<Membership>,
    pub(crate) kinds: Registry,
    pub(crate) workflows: crate::workflows::Workflows,
    /// The directory file-based kinds work in; each caller sees their part of it.
    pub(crate) data_root: PathBuf,
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
    /// How long a process may be silent before it counts as gone.
    pub(crate) lease: Duration,
    /// Jobs a process runs at once, and per-kind limits besides the kinds' own.
    pub(crate) max_running: usize,
    pub(crate) kind_limits: HashMap<String, usize>,
    pub(crate) head_samples: crate::head_rate::HeadSamples,
    /// Each user's share of the queue.
    pub(crate) queue_shares: QueueShares,
    /// Uploads' and outputs' bytes.
    pub(crate) blobs: Blobs,
    /// Uploads, their limits and the sweep of expired files.
    pub(crate) uploads: Uploads,
    /// What features keep beside a job from its start (secrets, uploads).
    pub(crate) around_start: AroundStarts,
    /// Each user's budget of reported log bytes.
    pub(crate) report_budget: crate::bounds::ReportBudget,
    /// What workers' polls wait for ([`crate::workers`]).
    pub(crate) remotes: Arc<crate::workers::Remotes>,
}

/// Why the engine could not start, with the store's error as its source.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the job store failed")]
    Store(#[from] StoreError),
    #[error("the job store refused a change")]
    Write(#[from] WriteError),
    #[error(transparent)]
    Files(#[from] crate::blobs::BlobsError),
}

impl Jobs {
    /// Starts the committer, registers this process, takes over the jobs of processes that are
    /// gone (on a database only one server uses, every job left running), and starts claiming.
    pub async fn start(store: Store, config: EngineConfig) -> Result<Jobs, StartError> {
        let bus = Arc::new(Bus::new(config.bus_capacity));
        // The next id announces this server's build; everything this run writes comes after it.
        let version = serde_json::to_string(&VersionEvent {
            build: config.build.clone(),
        })
        .expect("a version event always serializes");
        let version_event_id = store.version_event(version).await?;
        let pruned_through = store.pruned_through().await?;
        let blobs = Blobs::open(&config.file_store, &store).await?;
        let committer = Committer::start(store.clone(), Arc::clone(&bus), version_event_id)
            .await?
            .with_bounds(&config.bounds)
            .with_file_quota(config.uploads.quota);
        // Jobs left running by processes that are gone come back before anything is claimed.
        let membership = Membership::join(
            store.clone(),
            committer.clone(),
            config.kinds.clone(),
            &config.role,
            &config.build,
            &config.tags,
            config.lease,
        )
        .await?;
        // Filled with the engine once it is built: the runner's jobs start children through it.
        let starter = Starter::default();
        let runner_config = RunnerConfig {
            max_running: config.max_running.max(1),
            kind_limits: config.kind_limits.clone(),
            per_owner: config.max_running_per_user.map(|n| n.max(1)),
            tags: config.tags.clone(),
            grace: config.grace,
            data_root: config.data_root.clone(),
            blobs: blobs.clone(),
            // Other processes' jobs reach this one as events; a slow look now and then is the
            // safety net.
            poll: store.is_shared().then_some(Duration::from_secs(2)),
            starter: starter.clone(),
        };
        let runner = config.runs_jobs.then(|| {
            Runner::start(
                committer.clone(),
                config.kinds.clone(),
                runner_config,
                membership.id(),
            )
        });
        let remotes = Arc::new(crate::workers::Remotes::new(config.languages.clone()));
        committer.observe(observer(
            runner.as_ref().map(Arc::downgrade),
            Arc::downgrade(&remotes),
        ));
        let stopping = CancellationToken::new();
        membership.spawn(runner.clone(), stopping.clone());
        let uploads = Uploads::new(
            store.clone(),
            blobs.clone(),
            config.uploads,
            config.kinds.clone(),
        );
        let around_start = AroundStarts::default()
            .with(Arc::new(KeptSecrets::new(
                blobs.clone(),
                config.kinds.clone(),
            )))
            .with(Arc::new(uploads.clone()));
        let engine = Jobs {
            inner: Arc::new(Inner {
                store,
                bus,
                committer,
                runner,
                membership,
                kinds: config.kinds,
                workflows: config.workflows,
                data_root: config.data_root.clone(),
                stopping,
                pruned_through: AtomicI64::new(pruned_through),
                retention: config.retention,
                stall_after: config.stall_after,
                build: config.build,
                version_event_id,
                lease: config.lease,
                head_samples: Default::default(),
                max_running: config.max_running.max(1),
                kind_limits: config.kind_limits.clone(),
                queue_shares: QueueShares::new(config.max_queued_per_user),
                blobs,
                uploads,
                around_start,

                report_budget: crate::bounds::ReportBudget::new(config.bounds.report_bytes_per_sec),
                remotes,
            }),
        };
        starter.fill(Box::new(children::Starts(Arc::downgrade(&engine.inner))));
        engine.spawn_pruner();
        engine
            .inner
            .uploads
            .spawn_sweeper(Arc::clone(&engine.inner.membership), engine.stopping());
        engine.spawn_rate_sampler();
        engine.spawn_pause_watcher();
        engine.spawn_limit_watcher();
        engine.spawn_lease_keeper();
        // The workers registered before this process started, and who owns their kinds, are
        // known before it answers anyone: a worker's report arriving first would otherwise be
        // refused as not its job, and the worker would give its job up.
        engine.refresh_remote_kinds().await?;
        engine.spawn_worker_keeper();
        Ok(engine)
    }

    /// Deletes events older than the retention period, a batch at a time, every minute (or
    /// twice per retention period when that is shorter). Where processes share the database,
    /// only the one holding the `prune` lease does; the others learn how far it went.
    fn spawn_pruner(&self) {
        let engine = self.clone();
        let every =
            (self.inner.retention / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
        let hold_ms = (every * 3).as_millis() as i64;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = engine.inner.stopping.cancelled() => return,
                }
                let me = engine.process_id();
                match engine.inner.store.try_lease("prune", &me, hold_ms).await {
                    Ok(true) => {
                        engine.prune_now().await;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %Chain(&e), "cannot take the pruning lease; retrying at the next tick")
                    }
                }
                let _ = engine.refresh_pruned_through().await;
            }
        });
    }

    /// Reads how far events were pruned, by whichever process.
    pub(crate) async fn refresh_pruned_through(&self) -> Result<i64, StoreError> {
        let floor = self.inner.store.pruned_through().await?;
        Ok(self
            .inner
            .pruned_through
            .fetch_max(floor, Ordering::AcqRel)
            .max(floor))
    }

    /// Deletes events older than the retention period now; returns how far it pruned.
    pub async fn prune_now(&self) -> i64 {
        let cutoff = now_ms() - self.inner.retention.as_millis() as i64;
        loop {
            match self.inner.committer.prune(cutoff).await {
                Ok(Some(last)) => {
                    self.inner.pruned_through.fetch_max(last, Ordering::AcqRel);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %Chain(&e), "pruning old events failed; retrying at the next tick");
                    break;
                }
            }
        }
        self.pruned_through()
    }

    /// The id this process is registered under (and claims jobs under).
    pub fn process_id(&self) -> ProcessId {
        self.inner.membership.id()
    }

    /// The id of the latest published event, once it is at least `cursor` if the store has
    /// committed that far: on a shared database, an id a client got from another process may
    /// not have reached this one yet. Waits at most two seconds.
    pub async fn head_at_least(&self, cursor: i64) -> i64 {
        let head = self.head();
        if cursor <= head {
            return head;
        }
        match self.inner.store.last_event_id().await {
            Ok(last) if cursor <= last => {
                self.inner
                    .committer
                    .published(cursor, Duration::from_secs(2))
                    .await
            }
            _ => head,
        }
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

    /// The engine's metrics (see [`crate::telemetry`]).
    pub fn metrics(&self) -> &Arc<crate::telemetry::Metrics> {
        self.inner.committer.metrics()
    }

    /// Sets the metrics read from the store (jobs queued and running by kind) before a scrape.
    pub async fn refresh_metrics(&self) -> Result<(), AppError> {
        let kinds = self.inner.kinds.infos();
        let names: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
        self.metrics()
            .refresh(&self.inner.store, &names)
            .await
            .map_err(read_failed)
    }

    /// Whether this process can do its work: the store answers, the writer commits, the
    /// database's schema is the one this build knows, and it is not shutting down. `Err` says
    /// what is wrong.
    pub async fn ready(&self) -> Result<(), String> {
        if self.inner.stopping.is_cancelled() {
            return Err("shutting down".into());
        }
        self.inner
            .store
            .check_ready(READY_WITHIN)
            .await
            .map_err(|e| Chain(&e).to_string())
    }

    /// The id of the latest committed event.
    pub fn head(&self) -> i64 {
        self.inner.committer.head()
    }

    pub fn kinds(&self) -> Vec<KindInfo> {
        self.inner.kinds.infos()
    }

    /// The kinds whose jobs run elsewhere and report here (external jobs').
    pub fn kinds_elsewhere(&self) -> Vec<KindInfo> {
        self.inner.kinds.elsewhere()
    }

    /// Uploads: receiving them, and what their owners may do with them.
    pub fn uploads(&self) -> &Uploads {
        &self.inner.uploads
    }

    /// This process among those sharing the store.
    pub(crate) fn membership(&self) -> &Arc<Membership> {
        &self.inner.membership
    }

    /// A token cancelled when the server begins to shut down.
    pub fn stopping(&self) -> CancellationToken {
        self.inner.stopping.clone()
    }

    /// Stores the new queued `job`, started by the caller, and wakes the runner (at once, or at
    /// its `run_after`); with a `key` (the caller's idempotency key), unless that key started a
    /// job before.
    async fn insert_and_start(
        &self,
        caller: &Caller,
        job: Job,
        key: Option<String>,
    ) -> Result<Started, AppError> {
        let job = Job {
            started_by: caller.actor(),
            ..job
        };
        self.insert_and_start_for(caller.user(), job, key).await
    }

    /// Like [`Jobs::insert_and_start`], as `owner`'s job.
    pub(crate) async fn insert_and_start_for(
        &self,
        owner: &UserId,
        job: Job,
        key: Option<String>,
    ) -> Result<Started, AppError> {
        self.refuse_when_stopping()?;
        // What is kept beside the job rather than with it (secrets, uploads) is kept first.
        let mut job = job;
        self.inner.around_start.before(&mut job).await?;
        let (id, kind) = (job.id.clone(), job.kind.clone());
        let started = self.insert(owner, job, key).await;
        let stored = matches!(&started, Ok(s) if !s.again);
        self.inner.around_start.after(&id, &kind, stored).await;
        started
    }

    /// Refuses a start once the server is shutting down.
    pub(crate) fn refuse_when_stopping(&self) -> Result<(), AppError> {
        match self.inner.stopping.is_cancelled() {
            true => Err(AppError::new(
                ErrorCode::Unavailable,
                "the server is shutting down",
            )),
            false => Ok(()),
        }
    }

    /// Stores the new queued `job` (see [`Jobs::insert_and_start_for`]).
    async fn insert(
        &self,
        owner: &UserId,
        job: Job,
        key: Option<String>,
    ) -> Result<Started, AppError> {
        let shares = &self.inner.queue_shares;
        let key = key.map(|key| StartKey {
            fingerprint: fingerprint(&job),
            key,
        });
        let created = self
            .inner
            .committer
            .create_within(owner, job, Some(shares.max()), key)
            .await
            .map_err(|e| write_failed("store a new job", e))?;
        self.started(created)
    }

    /// What a start of a job (or of a run) answers, from what became of it.
    pub(crate) fn started(&self, created: Created) -> Result<Started, AppError> {
        let shares = &self.inner.queue_shares;
        let job = match created {
            Created::New(job) => job,
            Created::Again(job) => return Ok(Started { job, again: true }),
            Created::Full { .. } => return Err(shares.refusal(shares.max(), 1)),
            Created::UnknownNeed(id) => {
                return Err(AppError::invalid_words(
                    AFTER_FIELD,
                    model::words::after_unknown(id),
                ))
            }
            Created::KeyTaken => {
                return Err(AppError::invalid(vec![FieldError::new(
                    KEY_FIELD,
                    "this idempotency key started another job, with other parameters, \
                              within the last 24 hours; send a new key for a new start",
                )]))
            }
        };
        // The runner was woken by the job's `job` event, published before this answer.
        Ok(Started { job, again: false })
    }

    /// The job, if the caller may see it (otherwise `not_found`, never "forbidden").
    pub async fn job(&self, caller: &Caller, id: &JobId) -> Result<Job, AppError> {
        self.inner
            .store
            .job(caller.sees(), id)
            .await
            .map_err(read_failed)?
            .ok_or_else(AppError::not_found)
    }

    /// Notices in force.
    pub async fn notices(&self) -> Result<Vec<Notice>, AppError> {
        self.inner.store.active_notices().await.map_err(read_failed)
    }

    /// Shows `text` to every user, now and on their next visits, until withdrawn. Only the
    /// operator may.
    pub async fn post_notice(&self, caller: &Caller, text: &str) -> Result<Notice, AppError> {
        caller.may_administer()?;
        let text = text.trim();
        let len = text.chars().count();
        if len == 0 || len > MAX_NOTICE_CHARS || text.contains(['\n', '\r']) {
            return Err(AppError::invalid(vec![FieldError::new(
                "text",
                format!("a notice is one line of 1 to {MAX_NOTICE_CHARS} characters"),
            )]));
        }
        self.inner
            .committer
            .notice(text.to_string())
            .await
            .map_err(|e| write_failed("store a notice", e))
    }

    /// Withdraws every notice in force; returns how many there were. Only the operator may.
    pub async fn withdraw_notices(&self, caller: &Caller) -> Result<usize, AppError> {
        caller.may_administer()?;
        self.inner
            .committer
            .withdraw_notices()
            .await
            .map_err(|e| write_failed("withdraw notices", e))
    }

    /// Requests cancellation of the caller's job and returns it as it is now.
    pub async fn cancel(&self, caller: &Caller, id: &JobId) -> Result<Job, AppError> {
        let job = self.job(caller, id).await?;
        let owner = self.may_touch(caller, id).await?;
        if job.status.is_terminal() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("the job has already finished ({})", job.status),
            ));
        }
        let committer = &self.inner.committer;
        let owner = &owner;
        let failed = |e| write_failed("cancel a job", e);
        // Still waiting: it never runs. (If it was claimed meanwhile, it is stopped instead.)
        let by = caller.actor();
        let queued = job.status == JobStatus::Queued
            && committer
                .cancel(owner, id, JobStatus::Cancelled, by.clone())
                .await
                .map_err(failed)?
                .is_some();
        if !queued {
            // Running: it is asked to stop, by whichever process runs it (its runner hears of
            // the move to `cancelling`, see [`observer`]), and that runner records when it has.
            committer
                .cancel(owner, id, JobStatus::Cancelling, by)
                .await
                .map_err(failed)?;
        }
        self.job(caller, id).await
    }

    /// Whose job `id` is, once the caller may change it (they may see it: checked before);
    /// 403 if they may not.
    async fn may_touch(&self, caller: &Caller, id: &JobId) -> Result<UserId, AppError> {
        let owner = match caller.sees() {
            Some(own) => own.clone(),
            None => self
                .inner
                .store
                .job_owner(id)
                .await
                .map_err(read_failed)?
                .ok_or_else(AppError::not_found)?,
        };
        caller.may_touch(&owner)?;
        Ok(owner)
    }

    /// Stops accepting work, ends open streams, stops running jobs (`interrupted`), writes
    /// everything still pending, and lets another server open the database.
    pub async fn shutdown(&self) {
        self.inner.stopping.cancel();
        // Every feed ends with its channel.
        self.inner.bus.close();
        if let Some(runner) = &self.inner.runner {
            runner.shutdown().await;
        }
        self.inner.committer.flush().await;
        self.inner.membership.leave().await;
        self.inner.store.release();
    }

    /// Something may have become claimable that no job's move says (a kind resumed, a limit
    /// changed): this process's runner and the workers' polls waiting here look again.
    pub(crate) fn wake_claims(&self) {
        if let Some(runner) = &self.inner.runner {
            runner.poke();
        }
        self.inner.remotes.wake();
    }

    /// Jobs this process runs now.
    pub fn running_count(&self) -> usize {
        self.inner.runner.as_ref().map_or(0, |r| r.running_count())
    }
}

/// What the runner and workers' polls do when a job changes status anywhere: a job asked to
/// stop that runs here, or on a worker polling here, is stopped; a job queued (now, or for a
/// later time) or finished may make another claimable.
fn observer(
    runner: Option<std::sync::Weak<Runner>>,
    remotes: std::sync::Weak<crate::workers::Remotes>,
) -> crate::committer::Observer {
    Box::new(move |id, status, run_after| {
        if let Some(remotes) = remotes.upgrade() {
            remotes.heard(id, status);
        }
        let Some(runner) = runner.as_ref().and_then(|r| r.upgrade()) else {
            return;
        };
        match status {
            JobStatus::Cancelling => {
                runner.stop(id);
            }
            JobStatus::Queued => runner.wake_at(run_after),
            s if s.is_terminal() => runner.poke(),
            _ => {}
        }
    })
}

/// How a job is started, beyond its kind and parameters.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Unix ms before which it does not start; a time past means now.
    pub run_after: Option<i64>,
    /// The caller's idempotency key: the same key within a day gives back the job it started.
    pub key: Option<String>,
    /// How many attempts the job may take (`None`: as many as its kind allows; more is
    /// refused).
    pub max_attempts: Option<u32>,
    /// Its priority (`None`: its kind's); above its kind's, only for an operator
    /// ([`crate::priorities`]).
    pub priority: Option<model::Priority>,
    /// The jobs it runs after ([`model::after`]): it waits, queued, until they end.
    pub after: Option<AfterAsked>,
}

/// A job a start made, or the one an earlier start with the same idempotency key made.
#[derive(Debug, Clone)]
pub struct Started {
    pub job: Job,
    /// Made by an earlier start with the same key: nothing new was started.
    pub again: bool,
}

/// The field a refused idempotency key is reported under.
pub const KEY_FIELD: &str = "idempotency_key";

/// The longest idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// What a start asked for, as a digest: its kind, parameters (in normal form), times and
/// attempts.
pub(crate) fn fingerprint(job: &Job) -> String {
    use sha2::{Digest, Sha256};
    let mut asked = serde_json::json!([
        job.kind,
        job.params,
        job.timeout_ms,
        job.run_after,
        job.max_attempts
    ]);
    // A priority other than normal is part of what was asked; a normal one leaves the digest
    // as it was before jobs had priorities, so that keys sent then still match.
    if job.priority != model::Priority::NORMAL {
        asked
            .as_array_mut()
            .expect("an array")
            .push(job.priority.level().into());
    }
    // So do the jobs it runs after, for a start that names some.
    if let Some(after) = &job.after {
        asked
            .as_array_mut()
            .expect("an array")
            .push(serde_json::json!([after.jobs, after.when]));
    }
    let digest = Sha256::digest(asked.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl StartOptions {
    /// The idempotency key, if one was given: 1 to [`MAX_KEY_CHARS`] visible ASCII characters.
    pub(crate) fn key(&self) -> Result<Option<String>, AppError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let visible = key.bytes().all(|b| b.is_ascii_graphic());
        if key.is_empty() || key.len() > MAX_KEY_CHARS || !visible {
            return Err(AppError::invalid(vec![FieldError::new(
                KEY_FIELD,
                format!(
                    "an idempotency key is 1 to {MAX_KEY_CHARS} visible ASCII characters \
                     (letters, digits, punctuation; no spaces)"
                ),
            )]));
        }
        Ok(Some(key.clone()))
    }

    /// The job's `run_after`, held to its bounds ([`crate::when::checked`]).
    fn run_after(&self) -> Result<Option<i64>, AppError> {
        match self.run_after {
            Some(at) => crate::when::checked(at, now_ms()),
            None => Ok(None),
        }
    }
}
