//! The runner: a FIFO queue with a global concurrency limit and per-kind limits, jobs run on
//! tokio with their timeouts, cooperative cancellation with a forced abort after a grace period,
//! and a bounded shutdown.
//!
//! The queue's truth is the store (`status = 'queued'`, in creation order); the runner keeps the
//! same jobs in memory so that starting one never needs a query.

use crate::context::JobContext;
use crate::kinds::Registry;
use crate::writer::Writer;
use futures::FutureExt;
use model::{Job, JobError, JobStatus};
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Limits and timings of the runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Jobs running at once, all kinds together.
    pub max_running: usize,
    /// Per-kind limits that override the kinds' own `MAX_RUNNING`.
    pub kind_limits: HashMap<String, usize>,
    /// How long a job has to stop by itself after a cancel request or at shutdown.
    pub grace: Duration,
    pub data_root: PathBuf,
}

pub struct Runner {
    writer: Writer,
    kinds: Registry,
    config: RunnerConfig,
    data_root: Arc<PathBuf>,
    state: Mutex<State>,
    tracker: TaskTracker,
    /// Cancelled at shutdown; every job's own token is a child of it.
    shutdown: CancellationToken,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    running: HashMap<String, Running>,
    running_by_kind: HashMap<String, usize>,
}

struct Queued {
    owner: String,
    job: Job,
    resume_from: Option<serde_json::Value>,
}

struct Running {
    owner: String,
    kind: String,
    cancel: CancellationToken,
    abort: Option<AbortHandle>,
}

impl Runner {
    pub fn new(writer: Writer, kinds: Registry, config: RunnerConfig) -> Arc<Runner> {
        Arc::new(Runner {
            writer,
            kinds,
            data_root: Arc::new(config.data_root.clone()),
            config,
            state: Mutex::new(State::default()),
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        })
    }

    /// Puts a queued job at the back of the queue and starts whatever the limits allow.
    pub fn enqueue(
        self: &Arc<Self>,
        owner: String,
        job: Job,
        resume_from: Option<serde_json::Value>,
    ) {
        self.state.lock().unwrap().queue.push_back(Queued {
            owner,
            job,
            resume_from,
        });
        self.dispatch();
    }

    /// Removes a job that has not started yet; true if it was waiting.
    pub fn dequeue(&self, id: &str) -> bool {
        let mut state = self.state.lock().unwrap();
        let before = state.queue.len();
        state.queue.retain(|q| q.job.id != id);
        state.queue.len() != before
    }

    fn limit_for(&self, kind: &str) -> Option<usize> {
        self.config
            .kind_limits
            .get(kind)
            .copied()
            .or_else(|| self.kinds.max_running(kind))
    }

    /// Starts queued jobs in order while the limits allow. A kind at its own limit does not
    /// hold back the jobs of other kinds behind it.
    fn dispatch(self: &Arc<Self>) {
        if self.shutdown.is_cancelled() {
            return;
        }
        let mut state = self.state.lock().unwrap();
        while state.running.len() < self.config.max_running {
            let pick = state.queue.iter().position(|q| {
                let running = state.running_by_kind.get(&q.job.kind).copied().unwrap_or(0);
                self.limit_for(&q.job.kind)
                    .is_none_or(|limit| running < limit)
            });
            let Some(i) = pick else { break };
            let q = state.queue.remove(i).expect("position is in range");
            let cancel = self.shutdown.child_token();
            *state.running_by_kind.entry(q.job.kind.clone()).or_default() += 1;
            let id = q.job.id.clone();
            state.running.insert(
                id.clone(),
                Running {
                    owner: q.owner.clone(),
                    kind: q.job.kind.clone(),
                    cancel: cancel.clone(),
                    abort: None,
                },
            );
            let handle = self.tracker.spawn(Arc::clone(self).run(q, cancel));
            if let Some(r) = state.running.get_mut(&id) {
                r.abort = Some(handle.abort_handle());
            }
        }
    }

    async fn run(self: Arc<Self>, q: Queued, cancel: CancellationToken) {
        let Queued {
            owner,
            job,
            resume_from,
        } = q;
        let id = job.id.clone();
        let started = match self
            .writer
            .transition(&owner, &id, JobStatus::Running, None)
            .await
        {
            Ok(started) => started,
            Err(e) => {
                tracing::error!(job = %id, error = %e, "cannot mark a job running; it stays queued until the next start");
                None
            }
        };
        if let Some(job) = started {
            let timeout = job
                .timeout_ms
                .map(Duration::from_millis)
                .or_else(|| self.kinds.default_timeout(&job.kind));
            let mut ctx = JobContext::new(
                id.clone(),
                owner.clone(),
                self.writer.clone(),
                job.progress,
                cancel.clone(),
                resume_from,
                Arc::clone(&self.data_root),
            );
            // A kind that panics fails its job, not the server: the panic ends here.
            let work =
                AssertUnwindSafe(self.kinds.run(&job.kind, job.params, &mut ctx)).catch_unwind();
            let result = match timeout {
                Some(limit) => match tokio::time::timeout(limit, work).await {
                    Ok(r) => r,
                    Err(_) => Ok(Err(JobError {
                        code: "timeout".into(),
                        message: format!(
                            "the job ran longer than its {} ms timeout",
                            limit.as_millis()
                        ),
                    })),
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
            if let Err(e) = self.writer.transition(&owner, &id, status, error).await {
                tracing::error!(job = %id, %status, error = %e, "cannot record how a job ended; it will show as interrupted after a restart");
            }
        }
        self.finished(&id, false);
    }

    /// Frees the job's slot (if it still holds one), aborting its task when asked, and starts
    /// the next queued job.
    fn finished(self: &Arc<Self>, id: &str, abort: bool) -> bool {
        let freed = {
            let mut state = self.state.lock().unwrap();
            match state.running.remove(id) {
                Some(r) => {
                    if let Some(n) = state.running_by_kind.get_mut(&r.kind) {
                        *n = n.saturating_sub(1);
                    }
                    if let (true, Some(a)) = (abort, r.abort) {
                        a.abort();
                    }
                    true
                }
                None => false,
            }
        };
        if freed {
            self.dispatch();
        }
        freed
    }

    /// Asks a running job to stop; it becomes `cancelling`, and `cancelled` once it has stopped
    /// (by itself, or forcibly after the grace period). Returns false if the job is not running.
    pub async fn cancel(self: &Arc<Self>, id: &str) -> bool {
        let found = self
            .state
            .lock()
            .unwrap()
            .running
            .get(id)
            .map(|r| (r.owner.clone(), r.cancel.clone()));
        let Some((owner, cancel)) = found else {
            return false;
        };
        if let Err(e) = self
            .writer
            .transition(&owner, id, JobStatus::Cancelling, None)
            .await
        {
            tracing::error!(job = %id, error = %e, "cannot record a cancel request; the job is stopped anyway");
        }
        cancel.cancel();
        let runner = Arc::clone(self);
        let id = id.to_string();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(runner.config.grace) => {}
                _ = runner.shutdown.cancelled() => return,
            }
            // Still holding its slot after the grace period: abort it.
            if runner.finished(&id, true) {
                let error = JobError {
                    code: "cancel_timeout".into(),
                    message: format!(
                        "the job did not stop within {} ms and was aborted",
                        runner.config.grace.as_millis()
                    ),
                };
                if let Err(e) = runner.writer.transition(&owner, &id, JobStatus::Cancelled, Some(error)).await {
                    tracing::error!(job = %id, error = %e, "cannot record an aborted job as cancelled");
                }
            }
        });
        true
    }

    pub fn running_count(&self) -> usize {
        self.state.lock().unwrap().running.len()
    }

    pub fn queued_count(&self) -> usize {
        self.state.lock().unwrap().queue.len()
    }

    /// Stops every job: they see cancellation and end `interrupted`; any still running after
    /// the grace period is aborted and marked `interrupted` here. Queued jobs stay queued.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(self.config.grace, self.tracker.wait())
            .await
            .is_err()
        {
            let stuck: Vec<(String, Running)> =
                self.state.lock().unwrap().running.drain().collect();
            for (id, r) in stuck {
                if let Some(a) = r.abort {
                    a.abort();
                }
                if let Err(e) = self
                    .writer
                    .transition(&r.owner, &id, JobStatus::Interrupted, Some(interrupted()))
                    .await
                {
                    tracing::error!(job = %id, error = %e, "cannot record a job stopped at shutdown; it will show as interrupted after a restart");
                }
            }
        }
    }
}

/// The error recorded on a job the server stopped without finishing it.
pub fn interrupted() -> JobError {
    JobError {
        code: "interrupted".into(),
        message: "the server stopped while this job was running".into(),
    }
}

/// The error recorded on a job whose kind panicked, with the panic's message.
fn panicked(payload: Box<dyn std::any::Any + Send>) -> JobError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the job panicked".to_string());
    JobError {
        code: "panic".into(),
        message,
    }
}
