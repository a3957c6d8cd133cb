//! The runner: starts jobs on tokio, cancels them (cooperatively, then by force after a grace
//! period), and stops them all at shutdown.

use super::context::JobContext;
use super::kinds::Registry;
use super::writer::Writer;
use crate::model::{Job, JobError, JobStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Runner {
    writer: Writer,
    kinds: Registry,
    running: Mutex<HashMap<String, Running>>,
    tracker: TaskTracker,
    /// Cancelled at shutdown; every job's own token is a child of it.
    shutdown: CancellationToken,
    /// How long a job has to stop by itself after a cancel request or at shutdown.
    grace: Duration,
}

struct Running {
    owner: String,
    cancel: CancellationToken,
    abort: Option<AbortHandle>,
}

impl Runner {
    pub fn new(writer: Writer, kinds: Registry, grace: Duration) -> Arc<Runner> {
        Arc::new(Runner {
            writer,
            kinds,
            running: Mutex::new(HashMap::new()),
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            grace,
        })
    }

    /// Runs a queued job on its own task.
    pub fn start(self: &Arc<Self>, owner: String, job: Job) {
        if self.shutdown.is_cancelled() {
            return;
        }
        let cancel = self.shutdown.child_token();
        let id = job.id.clone();
        self.running
            .lock()
            .unwrap()
            .insert(id.clone(), Running { owner: owner.clone(), cancel: cancel.clone(), abort: None });
        let handle = self.tracker.spawn(Arc::clone(self).run(owner, job, cancel));
        if let Some(r) = self.running.lock().unwrap().get_mut(&id) {
            r.abort = Some(handle.abort_handle());
        }
    }

    async fn run(self: Arc<Self>, owner: String, job: Job, cancel: CancellationToken) {
        let id = job.id.clone();
        if let Some(job) = self.writer.transition(&owner, &id, JobStatus::Running, None).await {
            let mut ctx =
                JobContext::new(id.clone(), owner.clone(), self.writer.clone(), job.progress, cancel.clone());
            let result = self.kinds.run(&job.kind, job.params, &mut ctx).await;
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
            self.writer.transition(&owner, &id, status, error).await;
        }
        self.running.lock().unwrap().remove(&id);
    }

    /// Asks a running job to stop; it becomes `cancelling`, and `cancelled` once it has stopped
    /// (by itself, or forcibly after the grace period). Returns false if the job is not running
    /// on this runner.
    pub async fn cancel(self: &Arc<Self>, id: &str) -> bool {
        let Some((owner, cancel)) =
            self.running.lock().unwrap().get(id).map(|r| (r.owner.clone(), r.cancel.clone()))
        else {
            return false;
        };
        self.writer.transition(&owner, id, JobStatus::Cancelling, None).await;
        cancel.cancel();
        let runner = Arc::clone(self);
        let id = id.to_string();
        self.tracker.spawn(async move {
            tokio::time::sleep(runner.grace).await;
            if runner.abort(&id) {
                let error = JobError {
                    code: "cancel_timeout".into(),
                    message: format!("the job did not stop within {:?} and was aborted", runner.grace),
                };
                runner.writer.transition(&owner, &id, JobStatus::Cancelled, Some(error)).await;
            }
        });
        true
    }

    /// Aborts the job's task if it is still running; true if it was.
    fn abort(&self, id: &str) -> bool {
        match self.running.lock().unwrap().remove(id) {
            Some(r) => {
                if let Some(a) = r.abort {
                    a.abort();
                }
                true
            }
            None => false,
        }
    }

    pub fn running_count(&self) -> usize {
        self.running.lock().unwrap().len()
    }

    /// Stops every job: they see cancellation and end `interrupted`; any still running after
    /// the grace period is aborted and marked `interrupted` here.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(self.grace, self.tracker.wait()).await.is_err() {
            let stuck: Vec<(String, Running)> = self.running.lock().unwrap().drain().collect();
            for (id, r) in stuck {
                if let Some(a) = r.abort {
                    a.abort();
                }
                self.writer.transition(&r.owner, &id, JobStatus::Interrupted, Some(interrupted())).await;
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
