//! The runner: claims queued jobs from the store and runs them on tokio, with their timeouts,
//! cooperative cancellation with a forced abort after a grace period, and a bounded shutdown.
//!
//! The queue is the store: jobs wait `queued`, in creation order, and a runner takes them with
//! [`Committer::claim`] as its slots free up (at most `max_running` jobs at once in this process),
//! leaving any kind at its limit of jobs running anywhere where it is. Whatever may make a job
//! claimable wakes the runner ([`Runner::poke`]): a job queued, a slot freed, a job ended
//! elsewhere; a runner that shares its store with other processes also looks every two seconds.
//! A job queued to run after a given time is passed over by claims until then: the runner
//! wakes at the soonest such time it knows of ([`Runner::wake_at`]), read from the store when
//! it starts and whenever it wakes for one.
//!
//! Every write a running job makes carries this process's id as its fence: once a job is no
//! longer this process's (another one took it over), what it still reports is refused.

use crate::committer::Committer;
use crate::context::JobContext;
use crate::files::Files;
use crate::kinds::Registry;
use crate::store::QueuedJob;
use futures::FutureExt;
use model::error::Chain;
use model::{JobError, JobId, JobStatus, ProcessId, UserId};
use slots::{Running, Slots};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod slots;

/// Limits and timings of the runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Jobs running at once in this process, all kinds together.
    pub max_running: usize,
    /// Per-kind limits that override the kinds' own `MAX_RUNNING`.
    pub kind_limits: HashMap<String, usize>,
    /// Jobs one user may have running at once anywhere; `None`: a share of the deployment's
    /// slots ([`share_of`]).
    pub per_owner: Option<usize>,
    /// The tags this process offers: it claims the jobs of the kinds that require none it
    /// lacks ([`Registry::names_for`]).
    pub tags: Vec<String>,
    /// How long a job has to stop by itself after a cancel request or at shutdown.
    pub grace: Duration,
    pub data_root: PathBuf,
    /// Where uploads are read and outputs written.
    pub blobs: crate::blobs::Blobs,
    /// How often to look for claimable jobs without being woken: for a store shared with other
    /// processes, whose jobs this one is not told about directly. `None`: only when woken.
    pub poll: Option<Duration>,
    /// What starts the children of the jobs it runs.
    pub starter: crate::children::Starter,
}

pub struct Runner {
    committer: Committer,
    kinds: Registry,
    config: RunnerConfig,
    /// This process as registered, the fence of the writes of the jobs it claims; `None` while
    /// it is not registered (it claims nothing then).
    me: Mutex<Option<ProcessId>>,
    data_root: Arc<PathBuf>,
    running: Mutex<Slots>,
    /// Something may have become claimable.
    wake: Notify,
    /// The soonest time a job waiting for its time is due, as far as this process knows.
    due: Mutex<Option<i64>>,
    /// `due` moved sooner.
    due_sooner: Notify,
    tracker: TaskTracker,
    /// Cancelled at shutdown; every job's own token is a child of it.
    shutdown: CancellationToken,
    /// The runtime jobs run on.
    runtime: tokio::runtime::Handle,
    /// Jobs the deployment's server processes run at once, as last seen (this process's alone
    /// until told).
    server_slots: AtomicUsize,
    /// Jobs its workers on other machines run at once, as last seen (none until told).
    worker_slots: AtomicUsize,
}

/// A user's default share of a deployment with `slots`: three quarters of them, rounded up, so
/// that others always find a slot however long one user's jobs run.
pub fn share_of(slots: usize) -> usize {
    (slots * 3).div_ceil(4).max(1)
}

impl Runner {
    /// Starts claiming and running jobs for process `me`.
    pub fn start(
        committer: Committer,
        kinds: Registry,
        config: RunnerConfig,
        me: ProcessId,
    ) -> Arc<Runner> {
        let server_slots = AtomicUsize::new(config.max_running);
        let runner = Arc::new(Runner {
            committer,
            kinds,
            data_root: Arc::new(config.data_root.clone()),
            config,
            me: Mutex::new(Some(me)),
            running: Mutex::new(Slots::default()),
            wake: Notify::new(),
            due: Mutex::new(None),
            due_sooner: Notify::new(),
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            runtime: tokio::runtime::Handle::current(),
            server_slots,
            worker_slots: AtomicUsize::new(0),
        });
        tokio::spawn(Arc::clone(&runner).claim_loop());
        runner.poke();
        runner
    }

    /// The id this process claims jobs under, if it may claim now.
    fn me(&self) -> Option<ProcessId> {
        self.me.lock().unwrap().clone()
    }

    /// Stops every job at once, without recording anything (they are no longer this
    /// process's to record: they are taken over as a dead process's), and claims nothing until
    /// [`Runner::resume`]. Returns how many jobs were stopped.
    pub fn abandon(&self) -> usize {
        *self.me.lock().unwrap() = None;
        let stopped: Vec<Running> = self
            .running
            .lock()
            .unwrap()
            .drain()
            .map(|(_, r)| r)
            .collect();
        for r in &stopped {
            r.cancel.cancel();
            if let Some(a) = &r.abort {
                a.abort();
            }
        }
        stopped.len()
    }

    /// Claims jobs again, under the id `me` (registered).
    pub fn resume(&self, me: ProcessId) {
        *self.me.lock().unwrap() = Some(me);
        self.poke();
    }

    /// Something may have become claimable: look again.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// A job was queued to run after `at` (Unix ms; `None`: now): look again then.
    pub fn wake_at(&self, at: Option<i64>) {
        match at {
            Some(at) if at > crate::now_ms() => {
                let mut due = self.due.lock().unwrap();
                if due.is_none_or(|d| at < d) {
                    *due = Some(at);
                    self.due_sooner.notify_one();
                }
            }
            _ => self.poke(),
        }
    }

    /// Reads from the store the soonest time a waiting job is due, keeping a sooner one this
    /// process was told of.
    async fn read_due(&self) {
        match self.committer.store().next_start().await {
            Ok(next) => {
                let now = crate::now_ms();
                let mut due = self.due.lock().unwrap();
                let known = due.filter(|d| *d > now);
                *due = match (known, next) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            Err(e) => {
                tracing::error!(error = %Chain(&e), "cannot read when waiting jobs are due; looking again in a minute");
                *self.due.lock().unwrap() = Some(crate::now_ms() + 60_000);
            }
        }
    }

    async fn claim_loop(self: Arc<Self>) {
        self.read_due().await;
        loop {
            let poll = async {
                match self.config.poll {
                    Some(every) => tokio::time::sleep(every).await,
                    None => std::future::pending().await,
                }
            };
            let due = *self.due.lock().unwrap();
            let due_in = due.map(|at| Duration::from_millis((at - crate::now_ms()).max(0) as u64));
            let timer = async {
                match due_in {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = poll => {}
                _ = timer => {
                    // Claimed below if it is still waiting; the next one's time is read after.
                    *self.due.lock().unwrap() = None;
                    self.claim_and_start().await;
                    self.read_due().await;
                    continue;
                }
                _ = self.due_sooner.notified() => continue,
                _ = self.shutdown.cancelled() => return,
            }
            self.claim_and_start().await;
        }
    }

    /// Claims jobs while slots are free and jobs are claimable, and starts them.
    async fn claim_and_start(self: &Arc<Self>) {
        loop {
            // Shutdown waits for a claim under way: the jobs it takes are started (and told to
            // stop at once) rather than left `running` with no one running them.
            let _claiming = self.tracker.token();
            let free = self
                .config
                .max_running
                .saturating_sub(self.running.lock().unwrap().len());
            if free == 0 || self.shutdown.is_cancelled() {
                return;
            }
            let Some(me) = self.me() else { return };
            let kinds = self.kinds.names_for(&self.config.tags);
            self.running.lock().unwrap().begin_claim();
            let claimed = self
                .committer
                .claim(
                    &me,
                    free as u32,
                    kinds,
                    self.limits(),
                    self.kinds.declared_limits(),
                    self.per_owner(),
                )
                .await;
            let claimed = match claimed {
                Ok(claimed) => claimed,
                Err(e) => {
                    self.running.lock().unwrap().end_claim();
                    tracing::error!(error = %Chain(&e), "cannot claim queued jobs; trying again when woken");
                    return;
                }
            };
            let more = claimed.len() == free;
            for job in claimed {
                self.start_job(job, me.clone());
            }
            self.running.lock().unwrap().end_claim();
            if !more {
                return;
            }
        }
    }

    /// Jobs this process runs at once.
    pub fn max_running(&self) -> usize {
        self.config.max_running
    }

    /// Tells the runner how many jobs the deployment runs at once: its server processes
    /// (every live job-running process's slots) and its workers on other machines, for the
    /// users' default shares.
    pub fn deployment_slots(&self, servers: usize, workers: usize) {
        self.server_slots.store(servers.max(1), Ordering::Relaxed);
        self.worker_slots.store(workers, Ordering::Relaxed);
    }

    /// Jobs one user may have running at once anywhere, as a claim of a server's process
    /// counts them: a share of the server processes' slots alone. A worker runs only the kinds
    /// of its own commands file, so its slots are no room for the jobs a server runs: counted
    /// in, one user could fill every server slot while a worker idles.
    pub(crate) fn per_owner(&self) -> u32 {
        self.share(self.server_slots.load(Ordering::Relaxed))
    }

    /// Jobs one user may have running at once anywhere, as a worker's claim counts them: a
    /// share of the slots that could run a worker's jobs, the server processes' and the
    /// workers'.
    pub(crate) fn per_owner_with_workers(&self) -> u32 {
        self.share(
            self.server_slots.load(Ordering::Relaxed) + self.worker_slots.load(Ordering::Relaxed),
        )
    }

    /// The configured share (`--max-running-per-user`), else [`share_of`] `slots`.
    fn share(&self, slots: usize) -> u32 {
        let n = self.config.per_owner.unwrap_or_else(|| share_of(slots));
        n.min(u32::MAX as usize) as u32
    }

    /// The per-kind limits: the configured ones, else the kinds' own.
    fn limits(&self) -> Vec<(String, u32)> {
        kind_limits(&self.kinds, &self.config.kind_limits)
    }

    /// Gives a claimed job its slot and runs it, unless this process gave up the id it was
    /// claimed under meanwhile ([`Runner::abandon`]): the job is then an orphan, taken over
    /// like every other job of that id, and never runs here.
    fn start_job(self: &Arc<Self>, claimed: QueuedJob, fence: ProcessId) {
        let cancel = self.shutdown.child_token();
        let id = claimed.job.id.clone();
        // Under the slots' lock: `abandon` gives up the id before it empties the slots, so a
        // job either sees the id gone here or gets a slot that `abandon` then empties.
        let mut running = self.running.lock().unwrap();
        if self.me().as_ref() != Some(&fence) {
            tracing::warn!(job = %id, "claimed under an id this process gave up; left to be taken over");
            return;
        }
        let asked_to_stop = running.insert(
            id.clone(),
            Running {
                owner: claimed.owner.clone(),
                kind: claimed.job.kind.clone(),
                attempt: claimed.job.attempt,
                max_attempts: claimed.job.max_attempts,
                fence: fence.clone(),
                cancel: cancel.clone(),
                abort: None,
            },
        );
        let handle = self
            .tracker
            .spawn(Arc::clone(self).run(claimed, fence, cancel));
        if let Some(r) = running.get_mut(&id) {
            r.abort = Some(handle.abort_handle());
        }
        drop(running);
        if asked_to_stop {
            self.stop(&id);
        }
    }

    async fn run(self: Arc<Self>, claimed: QueuedJob, fence: ProcessId, cancel: CancellationToken) {
        let QueuedJob {
            owner,
            job,
            checkpoint,
        } = claimed;
        let (id, kind) = (job.id.clone(), job.kind.clone());
        let tries = (job.attempt, job.max_attempts);
        // A workflow's step or item (or a child) has its parameters checked by its kind now:
        // those rendered after its run was admitted were not checked before. Refused, it fails
        // saying why, once (another attempt would be refused the same).
        let params = match job.parent.is_some() {
            false => job.params.clone(),
            true => match self.config.starter.admit(&owner, &job).await {
                Ok(params) => params,
                Err(refused) => {
                    let ended = Ended {
                        owner: &owner,
                        id: &id,
                        kind: &kind,
                        fence: &fence,
                        tries: (job.max_attempts, job.max_attempts),
                    };
                    self.end(ended, JobStatus::Failed, Some(refused), || {
                        self.finished(&id, false);
                    })
                    .await;
                    self.finished(&id, false);
                    return;
                }
            },
        };
        let timeout = job
            .timeout_ms
            .map(Duration::from_millis)
            .or_else(|| self.kinds.default_timeout(&job.kind));
        // The files it may open are its owner's, as their role is now: read from their account
        // for a kind that opens files; a kind that never does gets its owner's folder alone.
        let files = match self.kinds.opens_files(&kind) {
            true => Files::for_owner(&*self.data_root, self.committer.store(), &owner).await,
            false => Ok(Files::own(&*self.data_root, &owner)),
        };
        let files = match files {
            Ok(files) => Arc::new(files),
            Err(e) => {
                tracing::error!(job = %id, error = %Chain(&e), "cannot tell whose files a job may open");
                // Its owner's folder alone until the store answers: never more than theirs.
                Arc::new(Files::own(&*self.data_root, &owner))
            }
        };
        let mut ctx = JobContext::new(
            id.clone(),
            owner.clone(),
            Some(fence.clone()),
            self.committer.clone(),
            job.progress,
            cancel.clone(),
            checkpoint,
            files,
            self.config.blobs.clone(),
        )
        .on_attempt(job.attempt)
        .with_starter(self.config.starter.clone());
        // A kind that panics fails its job, not the server: the panic ends here.
        let work = AssertUnwindSafe(self.kinds.run(&job.kind, params, &mut ctx)).catch_unwind();
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, work).await {
                Ok(r) => r,
                Err(_) => Ok(Err(JobError::words(
                    "timeout",
                    model::words::jobs::timed_out(limit.as_millis()),
                ))),
            },
            None => work.await,
        };
        let result = result.unwrap_or_else(|panic| Err(panicked(panic)));
        ctx.flush().await;
        let (status, error) = if self.shutdown.is_cancelled() {
            (JobStatus::Interrupted, Some(interrupted()))
        } else if cancel.is_cancelled() {
            (JobStatus::Cancelled, None)
        } else {
            match result {
                Ok(()) => (JobStatus::Succeeded, None),
                Err(e) => (JobStatus::Failed, Some(e)),
            }
        };
        let ended = Ended {
            owner: &owner,
            id: &id,
            kind: &kind,
            fence: &fence,
            tries,
        };
        // The slot is free once the job's end is in the writer's queue: the next claim, queued
        // behind it, sees the job ended.
        self.end(ended, status, error, || {
            self.finished(&id, false);
        })
        .await;
        self.finished(&id, false);
    }

    /// Records how a job ended. A failed attempt, or an interrupted one of a kind that cannot
    /// resume, is tried again when the job has attempts left and its kind takes the error as
    /// passing ([`crate::retries`]). An interrupted job of a resumable kind is queued again, to
    /// continue from its checkpoint wherever it is claimed next.
    /// `sent` is called once the end is in the writer's queue (or has failed to get there).
    async fn end(
        &self,
        job: Ended<'_>,
        status: JobStatus,
        error: Option<JobError>,
        sent: impl FnOnce(),
    ) {
        let Ended {
            owner,
            id,
            kind,
            fence,
            tries: (attempt, max_attempts),
        } = job;
        let fence = Some(fence.clone());
        let resumable = self.kinds.is_resumable(kind);
        let failed = match (status, &error) {
            (JobStatus::Failed, Some(e)) => Some(e.clone()),
            (JobStatus::Interrupted, e) if !resumable => {
                Some(e.clone().unwrap_or_else(interrupted))
            }
            _ => None,
        };
        let tries = crate::retries::Tries {
            kind,
            attempt,
            max_attempts,
        };
        let again = failed.and_then(|e| {
            let at = crate::retries::next_attempt(&self.kinds, &tries, &e)?;
            Some((e, at))
        });
        if let Some((e, wait_ms)) = again {
            let retried = self
                .committer
                .retry(owner, id, e, wait_ms, !resumable, fence.clone())
                .await;
            match retried {
                Ok(Some(_)) => return sent(),
                // No longer this process's, or no attempt left after all: ended as below.
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(job = %id, error = %Chain(&e), "cannot queue a failed job for another attempt; it ends as it is")
                }
            }
        }
        let recorded = match (status, error) {
            (JobStatus::Interrupted, error) => {
                let error = error.unwrap_or_else(interrupted);
                let requeue = self.kinds.is_resumable(kind);
                self.committer
                    .interrupt(owner, id, error, requeue, fence)
                    .await
                    .map(drop)
            }
            (status, error) => {
                let moving = self
                    .committer
                    .send_transition(owner, id, status, error, fence)
                    .await;
                match moving {
                    Ok(moving) => {
                        sent();
                        moving.committed().await.map(drop)
                    }
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = recorded {
            tracing::error!(job = %id, %status, error = %Chain(&e), "cannot record how a job ended; it will be taken over as interrupted");
        }
        if !(status == JobStatus::Interrupted && self.kinds.is_resumable(kind))
            && self.kinds.takes(kind, model::ParamType::Secret)
        {
            // It will not run again: its secrets (a command's) go.
            crate::commands::secrets::forget(&self.config.blobs, id).await;
        }
    }

    /// Frees the job's slot (if it still holds one), aborting its task when asked, and looks
    /// for the next job to claim.
    fn finished(self: &Arc<Self>, id: &str, abort: bool) -> bool {
        let freed = match self.running.lock().unwrap().remove(id) {
            Some(r) => {
                if let (true, Some(a)) = (abort, r.abort) {
                    a.abort();
                }
                true
            }
            None => false,
        };
        if freed {
            self.poke();
        }
        freed
    }

    /// Whether this process runs the job now.
    pub fn runs(&self, id: &str) -> bool {
        self.running.lock().unwrap().contains(id)
    }

    /// Asks a job this process runs to stop: it has `grace` to do so before it is aborted
    /// (`cancelled`, code `cancel_timeout`). False if this process does not run it; a job its
    /// claim under way has taken is stopped as it starts. The job's move to `cancelling` is the
    /// caller's to record.
    pub fn stop(self: &Arc<Self>, id: &JobId) -> bool {
        let found = self
            .running
            .lock()
            .unwrap()
            .stop_target(id)
            .map(|r| (r.owner.clone(), r.fence.clone(), r.cancel.clone()));
        let Some((owner, fence, cancel)) = found else {
            return false;
        };
        if cancel.is_cancelled() {
            return true;
        }
        cancel.cancel();
        let runner = Arc::clone(self);
        let id = id.clone();
        // Called from wherever a job's move is published (the store's writer thread, on SQLite):
        // the grace period runs on the runtime the runner started on.
        self.runtime.spawn(self.tracker.track_future(async move {
            tokio::select! {
                _ = tokio::time::sleep(runner.config.grace) => {}
                _ = runner.shutdown.cancelled() => return,
            }
            // Still holding its slot after the grace period: abort it.
            if runner.finished(&id, true) {
                let error = JobError::words(
                    "cancel_timeout",
                    model::words::jobs::aborted(runner.config.grace.as_millis()),
                );
                let fence = Some(fence.clone());
                if let Err(e) = runner.committer.transition(&owner, &id, JobStatus::Cancelled, Some(error), fence).await {
                    tracing::error!(job = %id, error = %Chain(&e), "cannot record an aborted job as cancelled");
                }
            }
        }));
        true
    }

    pub fn running_count(&self) -> usize {
        self.running.lock().unwrap().len()
    }

    /// Stops every job: they see cancellation and end `interrupted` (resumable ones queued
    /// again); any still running after the grace period is aborted and recorded here. Queued
    /// jobs stay queued.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(self.config.grace, self.tracker.wait())
            .await
            .is_err()
        {
            let stuck: Vec<(JobId, Running)> = self.running.lock().unwrap().drain().collect();
            for (id, r) in stuck {
                if let Some(a) = r.abort {
                    a.abort();
                }
                let ended = Ended {
                    owner: &r.owner,
                    id: &id,
                    kind: &r.kind,
                    fence: &r.fence,
                    tries: (r.attempt, r.max_attempts),
                };
                self.end(ended, JobStatus::Interrupted, Some(interrupted()), || {})
                    .await;
            }
        }
    }
}

/// The limits of jobs running at once per kind, as a claim takes them: those `configured`
/// (`--kind-limit`), else the kinds' own.
pub(crate) fn kind_limits(
    kinds: &Registry,
    configured: &HashMap<String, usize>,
) -> Vec<(String, u32)> {
    let mut limits: HashMap<String, usize> = kinds
        .names()
        .into_iter()
        .filter_map(|k| Some((k.clone(), kinds.max_running(&k)?)))
        .collect();
    limits.extend(configured.iter().map(|(k, n)| (k.clone(), *n)));
    limits
        .into_iter()
        .map(|(k, n)| (k, n.min(u32::MAX as usize) as u32))
        .collect()
}

/// A job whose run ended, for [`Runner::end`]: whose it is, its kind, the fence of its writes,
/// and its attempt and the attempts it may take.
struct Ended<'a> {
    owner: &'a UserId,
    id: &'a JobId,
    kind: &'a str,
    fence: &'a ProcessId,
    tries: (u32, u32),
}

/// The error recorded on a job the server stopped without finishing it.
pub fn interrupted() -> JobError {
    JobError::words("interrupted", model::words::jobs::server_stopped())
}

/// The error recorded on a job whose kind panicked, with the panic's message.
fn panicked(payload: Box<dyn std::any::Any + Send>) -> JobError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the job panicked".to_string());
    JobError::new("panic", message)
}

#[cfg(test)]
mod tests {
    use super::{share_of, Runner, RunnerConfig};
    use crate::kinds::{JobContext, Kind, KindEnv, Registry, RunResult};
    use crate::store::{Access, Store};
    use crate::testing::{Harness, FENCE, OWNER};
    use crate::{now_ms, Caller, Engine, EngineConfig};
    use model::ids::testing::named;
    use model::{EventType, Job, JobId, JobStatus};
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_users_share_is_three_quarters_of_the_deployments_slots() {
        assert_eq!(share_of(16), 12);
        assert_eq!(share_of(48), 36, "three processes of 16");
        assert_eq!(share_of(2), 2);
        assert_eq!(share_of(1), 1);
        assert_eq!(share_of(0), 1);
    }

    /// Never looks at its cancellation, as a job stuck in a call that does not return.
    struct Deaf;

    #[derive(
        Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate,
    )]
    #[garde(context(KindEnv))]
    struct DeafParams {}

    impl Kind for Deaf {
        type Params = DeafParams;
        const NAME: &'static str = "deaf";

        async fn run(_: DeafParams, _: &mut JobContext) -> RunResult {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Stops only when asked, as a well-behaved long job.
    struct Patient;

    impl Kind for Patient {
        type Params = DeafParams;
        const NAME: &'static str = "patient";

        async fn run(_: DeafParams, ctx: &mut JobContext) -> RunResult {
            ctx.cancelled().await;
            Ok(())
        }
    }

    /// A claim publishes its jobs' move to `running` before the runner has given them a slot.
    /// A stop request heard then (a cancel that arrives as the job is claimed) must stop the
    /// job as it starts, not leave it running while shown `cancelling`. Here the request is
    /// made as the claim's event is published, so it always falls in that window.
    #[tokio::test]
    async fn a_stop_heard_between_claim_and_start_stops_the_job() {
        let h = Harness::new().await;
        // A grace long enough that only the job's own stop can end it within the wait below.
        let (runner, job) = claim_one::<Patient>(&h, Duration::from_secs(3600), |runner, id| {
            runner.stop(id);
        })
        .await;
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let stored = h.store.job(None, &job.id).await.unwrap().unwrap();
                if stored.status.is_terminal() {
                    return stored;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let stored = h.store.job(None, &job.id).await.unwrap().unwrap();
        assert_eq!(stored.status, JobStatus::Cancelled, "{ended:?}");
        runner.shutdown().await;
    }

    /// A runner on the harness's writer that runs kind `K`, and a job of `K` it is poked to
    /// claim; `on_claim` is called with the job's id as the claim's move to `running` is
    /// published, before the runner has given it a slot.
    async fn claim_one<K: Kind>(
        h: &Harness,
        grace: Duration,
        on_claim: impl Fn(&Arc<Runner>, &JobId) + Send + Sync + 'static,
    ) -> (Arc<Runner>, Job) {
        let config = RunnerConfig {
            max_running: 4,
            kind_limits: HashMap::new(),
            per_owner: Some(4),
            tags: Vec::new(),
            grace,
            data_root: h.data_root.clone(),
            blobs: h.blobs.clone(),
            poll: None,
            starter: Default::default(),
        };
        let kinds = Registry::builtin().with::<K>();
        let runner = Runner::start(h.committer.clone(), kinds, config, named(FENCE));
        let heard = Arc::downgrade(&runner);
        h.committer.observe(Box::new(move |id, status, _| {
            if let (JobStatus::Running, Some(runner)) = (status, heard.upgrade()) {
                on_claim(&runner, id);
            }
        }));
        let job = Job::queued(JobId::random(), K::NAME, serde_json::json!({}), now_ms());
        let job = h.committer.create(&named(OWNER), job).await.unwrap();
        runner.poke();
        (runner, job)
    }

    /// Counts its runs; stops when asked.
    struct Counted;

    static COUNTED_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    impl Kind for Counted {
        type Params = DeafParams;
        const NAME: &'static str = "counted";

        async fn run(_: DeafParams, ctx: &mut JobContext) -> RunResult {
            COUNTED_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ctx.cancelled().await;
            Ok(())
        }
    }

    /// A process taken for dead gives up its id ([`Runner::abandon`]); the jobs claimed under
    /// it are taken over by whoever looks first. A job whose claim was under way then must not
    /// start here as well: it stays as claimed, for the takeover, and its kind never runs.
    #[tokio::test]
    async fn a_job_claimed_as_the_runner_abandons_its_id_is_left_for_the_takeover() {
        let h = Harness::new().await;
        let (runner, job) = claim_one::<Counted>(&h, Duration::from_millis(100), |runner, _| {
            runner.abandon();
        })
        .await;
        // The claim moves the job to `running` (and the observer abandons the id then).
        tokio::time::timeout(Duration::from_secs(10), async {
            while h.store.job(None, &job.id).await.unwrap().unwrap().status != JobStatus::Running {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the job is claimed");
        // Shutdown waits for the claim under way and for every job it started.
        runner.shutdown().await;
        let stored = h.store.job(None, &job.id).await.unwrap().unwrap();
        assert_eq!(
            stored.status,
            JobStatus::Running,
            "left as claimed: {stored:?}"
        );
        assert_eq!(COUNTED_RUNS.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(runner.running_count(), 0);
    }

    /// The claim records a job `running` (and publishes it) before the runner has started it.
    /// Shutting down in between must still stop the job and record it `interrupted` by the
    /// time shutdown returns, not leave it `running` with no process answering for it.
    #[tokio::test]
    async fn a_job_claimed_as_shutdown_begins_is_interrupted_before_shutdown_returns() {
        for round in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/h.db", dir.path().display());
            let store = Store::open(&url, Access::Exclusive).await.unwrap();
            let config = EngineConfig {
                data_root: dir.path().join("files"),
                grace: Duration::from_millis(100),
                kinds: Registry::builtin().with::<Deaf>(),
                ..EngineConfig::default()
            };
            let engine = Engine::start(store, config).await.unwrap();
            let me = Caller::new(named("me"));
            let mut events = engine.jobs().bus().subscribe("me");
            let job = engine
                .jobs()
                .create_job(&me, "deaf", serde_json::json!({}))
                .await
                .unwrap();
            loop {
                let e = events.recv().await.unwrap();
                if e.kind == EventType::Job && e.data().contains(r#""status":"running""#) {
                    break;
                }
            }
            // At once, as the claim's event arrives.
            engine.shutdown().await;
            let stored = engine.store().job(None, &job.id).await.unwrap().unwrap();
            assert_eq!(
                stored.status,
                JobStatus::Interrupted,
                "round {round}: {stored:?}"
            );
        }
    }
}
