//! The committer: every change to jobs and notices goes through here, to the store's writer.
//!
//! Changes (a new job, a status change, a progress sample, a log line) are handed to the store's
//! writer ([`JobStore::write`](crate::store::JobStore::write)), which takes whatever is waiting as one batch, in one transaction,
//! and only once the batch has committed gives its events to [`Committer`]'s publisher (the head
//! moves, then the bus carries them) and answers the callers. A client therefore never sees an
//! event that is not in the store, which is what makes `Last-Event-ID` replay gap-free. Event ids
//! come from the store.
//!
//! A change the store refused fails alone: its caller gets the error, the rest of the batch
//! commits. If the whole batch fails, every caller in it gets the error.

use crate::bus::{Bus, Event};
use crate::store::{
    Attachment, Change, CommittedEvent, ExternalReport, Fence, Fire, Fired, Outcome, Publish,
    QueuedJob, Reported, StartKey, Store, StoreError, Write,
};
use crate::telemetry::Metrics;
use model::error::Chain;
use model::{
    Job, JobError, JobId, JobStatus, KindPause, LogLevel, Notice, ProcessId, Progress, UserId,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{oneshot, watch};

/// The store could not take the change (disk full, database locked for too long...).
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The store failed: its error (and the driver's) is the source.
    #[error("the job store refused the change")]
    Store(#[from] StoreError),
    /// The writer could not take it: the reason.
    #[error("{0}")]
    Refused(String),
}

/// A handle to send changes to the store's writer and publish what it commits.
#[derive(Clone)]
pub struct Committer {
    store: Store,
    /// The id of the latest published event.
    heads: Arc<watch::Sender<i64>>,
    observer: Arc<OnceLock<Observer>>,
    metrics: Arc<Metrics>,
    /// Jobs this process is creating whose "job created" line is not logged yet. A claim can
    /// answer before the create's caller wakes up; whichever takes the job out of the set logs
    /// the creation, holding the lock while it logs, so the log always reads created, started,
    /// ended.
    unannounced: Arc<Mutex<HashSet<JobId>>>,
    /// How long a log line and a job's whole log may be, for every line written.
    log_bounds: store_core::LogBounds,
    /// Outputs one job may attach.
    outputs_per_job: usize,
}

/// What became of an attachment.
#[derive(Debug)]
pub enum Attached {
    /// The job as it is now.
    Done(Box<Job>),
    /// The job is no longer running (for the fence): nothing was written.
    NotRunning,
    /// The output is new and the job has this many, as many as it may: nothing was written.
    Full(usize),
}

/// What became of a start.
#[derive(Debug)]
pub enum Created {
    /// The job, as stored.
    New(Job),
    /// The job an earlier start with the same key made, as it is now.
    Again(Job),
    /// The owner's share of the queue is full: nothing was written.
    Full,
    /// The key was used for another start: nothing was written.
    KeyTaken,
}

/// Told the id, the new status and the `run_after` of a job whose `job` event was just
/// published.
pub type Observer = Box<dyn Fn(&JobId, JobStatus, Option<i64>) + Send + Sync>;

impl Committer {
    /// Publishes every event the store commits after `head` (the latest event id already
    /// seen): the head moves, then the bus carries the events, then the observer (see
    /// [`Committer::observe`]) hears of every job's new status.
    /// The store it writes to (for reads that go with a change).
    /// Bounds every log line and output written from now on with `bounds`.
    pub fn with_bounds(mut self, bounds: &crate::bounds::WriteBounds) -> Committer {
        self.log_bounds = bounds.log;
        self.outputs_per_job = bounds.outputs_per_job;
        self
    }

    /// Outputs one job may attach.
    pub fn outputs_per_job(&self) -> usize {
        self.outputs_per_job
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn start(store: Store, bus: Arc<Bus>, head: i64) -> Result<Committer, StoreError> {
        let (heads, _) = watch::channel(head);
        let heads = Arc::new(heads);
        let observer: Arc<OnceLock<Observer>> = Arc::new(OnceLock::new());
        let (published, observed) = (Arc::clone(&heads), Arc::clone(&observer));
        let publish: Publish = Arc::new(move |events: Vec<CommittedEvent>, committed: i64| {
            published.send_if_modified(|h| {
                let newer = committed > *h;
                *h = (*h).max(committed);
                newer
            });
            let observer = observed.get();
            for e in events {
                if let (Some(observe), Some(moved), Some(job_id)) =
                    (observer, e.moved, &e.event.job_id)
                {
                    observe(job_id, moved.status, moved.run_after);
                }
                let event = Arc::new(Event::new(
                    e.event.id,
                    e.event.job_id,
                    e.event.kind,
                    &e.event.data,
                ));
                match e.owner {
                    Some(owner) => bus.publish(&owner, event),
                    None => bus.publish_all(event),
                }
            }
        });
        store.publish_to(publish, head).await?;
        let metrics = Arc::new(Metrics::default());
        let counted = Arc::clone(&metrics);
        store.observe_batches(Arc::new(move |stats| counted.batch(stats)));
        Ok(Committer {
            store,
            heads,
            observer,
            metrics,
            unannounced: Arc::default(),
            log_bounds: Default::default(),
            outputs_per_job: crate::bounds::WriteBounds::default().outputs_per_job,
        })
    }

    /// What this process's writes added up to (see [`Metrics`]).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Counts and logs a job's move, if it made one.
    fn count(&self, job: Option<Job>) -> Option<Job> {
        if let Some(job) = &job {
            self.metrics.moved(job);
            if job.status.is_terminal() {
                tracing::info!(job = %job.id, kind = %job.kind, status = %job.status, "job ended");
            }
        }
        job
    }

    /// Calls `observe` with the id and new status of every job that changes status, in any
    /// process sharing the store, once its event is published. Set once.
    pub fn observe(&self, observe: Observer) {
        if self.observer.set(observe).is_err() {
            tracing::error!("the committer's observer was set twice; the first one stays");
        }
    }

    /// Waits (at most `limit`) until events up to `id` are published; returns the head then.
    pub async fn published(&self, id: i64, limit: std::time::Duration) -> i64 {
        let mut heads = self.heads.subscribe();
        let _ = tokio::time::timeout(limit, heads.wait_for(|h| *h >= id)).await;
        self.head()
    }

    /// The id of the latest committed event. It is updated before that event is published, so a
    /// stream that subscribes to the bus and then reads `head` misses nothing above it.
    pub fn head(&self) -> i64 {
        *self.heads.borrow()
    }

    /// Applies one change and waits for what became of it.
    async fn ask(&self, change: Change) -> Result<Outcome, WriteError> {
        outcome(self.send(change).await?).await
    }

    /// Puts one change in the writer's queue; what became of it comes on the receiver. A change
    /// sent after it is applied after it.
    async fn send(&self, change: Change) -> Result<oneshot::Receiver<Outcome>, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.store
            .write(Write {
                change,
                reply: Some(reply),
            })
            .await?;
        Ok(rx)
    }

    /// Sends a change without waiting for it (progress samples and log lines).
    async fn tell(&self, change: Change) {
        if let Err(e) = self
            .store
            .write(Write {
                change,
                reply: None,
            })
            .await
        {
            tracing::error!(error = %Chain(&e), "a job's report was lost");
        }
    }

    /// Inserts a new job (with its `job` event) and returns it as stored.
    pub async fn create(&self, owner: &UserId, job: Job) -> Result<Job, WriteError> {
        match self.create_within(owner, job, None, None).await? {
            Created::New(job) => Ok(job),
            other => Err(WriteError::Refused(format!(
                "a job without a limit or a key was refused: {other:?}"
            ))),
        }
    }

    /// Like [`Committer::create`], unless `owner` has `max_queued` jobs queued already, or
    /// `key` started a job before (see [`Change::Create`]): then nothing is written.
    pub async fn create_within(
        &self,
        owner: &UserId,
        job: Job,
        max_queued: Option<u64>,
        key: Option<StartKey>,
    ) -> Result<Created, WriteError> {
        let id = job.id.clone();
        self.unannounced.lock().unwrap().insert(id.clone());
        let outcome = self
            .ask(Change::Create {
                owner: owner.into(),
                job,
                max_queued,
                key,
            })
            .await;
        // Logged under the lock, so that a claim on another thread cannot log "job started"
        // between this taking the job out of the set and logging its creation.
        let mut unannounced = self.unannounced.lock().unwrap();
        let unlogged = unannounced.remove(&id);
        match outcome? {
            Outcome::Job(Some(job)) => {
                self.metrics.created(&job);
                if unlogged {
                    tracing::info!(job = %job.id, kind = %job.kind, "job created");
                }
                drop(unannounced);
                Ok(Created::New(job))
            }
            Outcome::Again(job) => Ok(Created::Again(job)),
            Outcome::Full { .. } => Ok(Created::Full),
            Outcome::KeyTaken => Ok(Created::KeyTaken),
            other => Err(unexpected(other)),
        }
    }

    /// Moves a job to `to` if the state machine (and the fence: see [`Fence`]) allows it;
    /// returns the updated job, or `None` when the move was refused (unknown job, not allowed
    /// from its current status, or no longer the fence's process's).
    pub async fn transition(
        &self,
        owner: &UserId,
        job_id: &JobId,
        to: JobStatus,
        error: Option<JobError>,
        fence: Fence,
    ) -> Result<Option<Job>, WriteError> {
        self.send_transition(owner, job_id, to, error, fence)
            .await?
            .committed()
            .await
    }

    /// Queues a job's move to `to` (see [`Committer::transition`]) and returns once it is in the
    /// writer's queue, before it is committed: a claim sent after it sees the job moved, so the
    /// runner frees the job's slot without waiting for the commit. [`Moving::committed`] says
    /// what became of it.
    pub async fn send_transition(
        &self,
        owner: &UserId,
        job_id: &JobId,
        to: JobStatus,
        error: Option<JobError>,
        fence: Fence,
    ) -> Result<Moving<'_>, WriteError> {
        let change = Change::Transition {
            owner: owner.into(),
            job_id: job_id.into(),
            to,
            error,
            fence,
        };
        Ok(Moving {
            committer: self,
            outcome: self.send(change).await?,
        })
    }

    /// Interrupts a job and, with `requeue`, queues it again at once (see
    /// [`Change::Interrupt`]); returns the job as it ends up, or `None` if the move was refused.
    pub async fn interrupt(
        &self,
        owner: &UserId,
        job_id: &JobId,
        error: JobError,
        requeue: bool,
        fence: Fence,
    ) -> Result<Option<Job>, WriteError> {
        let change = Change::Interrupt {
            owner: owner.into(),
            job_id: job_id.into(),
            error,
            requeue,
            fence,
        };
        match self.ask(change).await? {
            // Queued again, it was counted as interrupted; it counts again when it ends.
            Outcome::Job(Some(job)) if requeue && job.status == JobStatus::Queued => {
                let mut ended = job.clone();
                ended.status = JobStatus::Interrupted;
                self.metrics.moved(&ended);
                tracing::info!(job = %job.id, kind = %job.kind, "job interrupted; queued again to resume");
                Ok(Some(job))
            }
            Outcome::Job(job) => Ok(self.count(job)),
            other => Err(unexpected(other)),
        }
    }

    /// Queues a failed running job again for its next attempt `wait_ms` after this commit (see
    /// [`Change::Retry`]); the job as it waits, or `None` if it is no longer running for the
    /// fence or has no attempt left.
    pub async fn retry(
        &self,
        owner: &UserId,
        job_id: &JobId,
        error: JobError,
        wait_ms: i64,
        reset_progress: bool,
        fence: Fence,
    ) -> Result<Option<Job>, WriteError> {
        let change = Change::Retry {
            owner: owner.into(),
            job_id: job_id.into(),
            error,
            wait_ms,
            reset_progress,
            fence,
        };
        match self.ask(change).await? {
            Outcome::Job(job) => {
                if let Some(job) = &job {
                    self.metrics.retried(job);
                    tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempt, "job failed; queued for another attempt");
                }
                Ok(job)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Takes up to `slots` queued jobs of `kinds` for process `by` (see [`Change::Claim`]).
    pub async fn claim(
        &self,
        by: &ProcessId,
        slots: u32,
        kinds: Vec<String>,
        limits: Vec<(String, u32)>,
        per_owner: u32,
    ) -> Result<Vec<QueuedJob>, WriteError> {
        match self
            .ask(Change::Claim {
                by: by.into(),
                slots,
                kinds,
                limits,
                per_owner,
            })
            .await?
        {
            Outcome::Claimed(jobs) => {
                let mut unannounced = self.unannounced.lock().unwrap();
                for q in &jobs {
                    if unannounced.remove(&q.job.id) {
                        tracing::info!(job = %q.job.id, kind = %q.job.kind, "job created");
                    }
                    self.metrics.started(&q.job);
                    tracing::info!(job = %q.job.id, kind = %q.job.kind, "job started");
                }
                drop(unannounced);
                Ok(jobs)
            }
            other => Err(unexpected(other)),
        }
    }

    pub async fn progress(&self, owner: &UserId, job_id: &JobId, progress: Progress, fence: Fence) {
        self.tell(Change::Progress {
            owner: owner.into(),
            job_id: job_id.into(),
            progress,
            fence,
        })
        .await
    }

    pub async fn log(
        &self,
        owner: &UserId,
        job_id: &JobId,
        level: LogLevel,
        line: String,
        fence: Fence,
    ) {
        self.tell(Change::Log {
            owner: owner.into(),
            job_id: job_id.into(),
            level,
            line,
            fence,
            bounds: self.log_bounds,
        })
        .await
    }

    /// Adds an output to a running job, or sets its result; the job as it is then, or `None`
    /// when it is no longer running (for the fence).
    pub async fn attach(
        &self,
        owner: &UserId,
        job_id: &JobId,
        what: Attachment,
        fence: Fence,
    ) -> Result<Attached, WriteError> {
        let change = Change::Attach {
            owner: owner.into(),
            job_id: job_id.into(),
            what,
            fence,
        };
        match self.ask(change).await? {
            Outcome::Job(Some(job)) => Ok(Attached::Done(Box::new(job))),
            Outcome::Job(None) => Ok(Attached::NotRunning),
            Outcome::OutputsFull(has) => Ok(Attached::Full(has)),
            other => Err(unexpected(other)),
        }
    }

    /// Saves a resumable job's checkpoint.
    pub async fn checkpoint(&self, job_id: &JobId, value: serde_json::Value, fence: Fence) {
        self.tell(Change::Checkpoint {
            job_id: job_id.into(),
            value,
            fence,
        })
        .await
    }

    /// Writes a log line and saves a checkpoint in the same commit: a job resumed from the
    /// checkpoint never repeats the line, and a line is never missing behind a checkpoint.
    pub async fn log_and_checkpoint(
        &self,
        owner: &UserId,
        job_id: &JobId,
        (level, line): (LogLevel, String),
        value: serde_json::Value,
        fence: Fence,
    ) {
        let log = Change::Log {
            owner: owner.into(),
            job_id: job_id.into(),
            level,
            line,
            fence: fence.clone(),
            bounds: self.log_bounds,
        };
        let checkpoint = Change::Checkpoint {
            job_id: job_id.into(),
            value,
            fence,
        };
        self.tell(Change::Together(vec![log, checkpoint])).await
    }

    /// Deletes a batch of events older than `before_ms`; returns the highest id deleted.
    pub async fn prune(&self, before_ms: i64) -> Result<Option<i64>, WriteError> {
        // A bounded batch, so that live writes never wait long behind a prune.
        match self
            .ask(Change::Prune {
                before_ms,
                limit: 10_000,
            })
            .await?
        {
            Outcome::Pruned(last) => Ok(last),
            other => Err(unexpected(other)),
        }
    }

    /// Stores a notice and announces it to every open stream.
    pub async fn notice(&self, text: String) -> Result<Notice, WriteError> {
        match self.ask(Change::PostNotice { text }).await? {
            Outcome::Notice(notice) => Ok(notice),
            other => Err(unexpected(other)),
        }
    }

    /// Withdraws every notice in force (each announced with an empty text); returns how many.
    pub async fn withdraw_notices(&self) -> Result<usize, WriteError> {
        match self.ask(Change::WithdrawNotices).await? {
            Outcome::Withdrawn(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// Stores a new external job, running at once, with its report token's hash and its lease
    /// (see [`Change::Open`]); the job as stored.
    pub async fn open_external(
        &self,
        owner: &UserId,
        job: Job,
        report_hash: String,
        lease_until: i64,
    ) -> Result<Job, WriteError> {
        let job_id = job.id.clone();
        let change = Change::Together(vec![
            Change::Create {
                owner: owner.into(),
                job,
                max_queued: None,
                key: None,
            },
            Change::Open {
                owner: owner.into(),
                job_id,
                report_hash,
                lease_until,
            },
        ]);
        match self.ask(change).await? {
            Outcome::Job(Some(job)) => {
                self.metrics.created(&job);
                tracing::info!(job = %job.id, kind = %job.kind, "external job created");
                Ok(job)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Writes what an external job's program reported (see [`Change::Report`]).
    /// A report that ended its job counts the end, as any job's.
    pub async fn report(&self, mut report: ExternalReport) -> Result<Reported, WriteError> {
        report.bounds = self.log_bounds;
        let (ends, job_id) = (report.end.is_some(), report.job_id.clone());
        match self.ask(Change::Report(Box::new(report))).await? {
            Outcome::Reported(reported) => {
                if let Reported::Taken { status, .. } = &reported {
                    if ends && status.is_terminal() {
                        match self.store.job(None, &job_id).await {
                            Ok(job) => {
                                self.count(job);
                            }
                            Err(e) => {
                                tracing::warn!(error = %model::error::Chain(&e), job = %job_id, "an ended external job could not be read back to count it")
                            }
                        }
                    }
                }
                Ok(reported)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Ends an external job whose lease ended before `now` (see [`Change::Expire`]); the job as
    /// it ended, or `None` if its lease holds or it is not running.
    pub async fn expire(
        &self,
        owner: &UserId,
        job_id: &JobId,
        now: i64,
        error: JobError,
    ) -> Result<Option<Job>, WriteError> {
        let change = Change::Expire {
            owner: owner.into(),
            job_id: job_id.into(),
            now,
            error,
        };
        match self.ask(change).await? {
            Outcome::Job(job) => Ok(self.count(job)),
            other => Err(unexpected(other)),
        }
    }

    /// Adds, changes or deletes a schedule (`PutSchedule`, `DeleteSchedule`); whether it was
    /// there to delete.
    pub async fn schedule_change(&self, change: Change) -> Result<bool, WriteError> {
        match self.ask(change).await? {
            Outcome::Schedule(done) => Ok(done),
            other => Err(unexpected(other)),
        }
    }

    /// A schedule's fire time (see [`Change::Fire`]): what it did, or `None` when the schedule
    /// no longer waited for it (another process fired it, or it changed).
    pub async fn fire(&self, fire: Fire) -> Result<Option<Fired>, WriteError> {
        match self.ask(Change::Fire(fire)).await? {
            Outcome::Fired(fired) => {
                if let Some(job) = fired.as_ref().and_then(|f| f.job.as_ref()) {
                    self.metrics.created(job);
                }
                Ok(fired)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Pauses `kind` (or every kind) for every process; the pause in force.
    pub async fn pause(&self, kind: &str, by: &str) -> Result<KindPause, WriteError> {
        let change = Change::Pause {
            kind: kind.to_string(),
            by: by.to_string(),
        };
        match self.ask(change).await? {
            Outcome::Paused(pause) => Ok(pause),
            other => Err(unexpected(other)),
        }
    }

    /// Resumes `kind` (or every kind); whether it was paused.
    pub async fn resume(&self, kind: &str) -> Result<bool, WriteError> {
        let change = Change::Resume {
            kind: kind.to_string(),
        };
        match self.ask(change).await? {
            Outcome::Resumed(was) => Ok(was),
            other => Err(unexpected(other)),
        }
    }

    /// Returns once everything sent before this call is committed (or has failed).
    pub async fn flush(&self) {
        self.store.flush().await
    }
}

/// A job's move in the writer's queue ([`Committer::send_transition`]).
pub struct Moving<'a> {
    committer: &'a Committer,
    outcome: oneshot::Receiver<Outcome>,
}

impl Moving<'_> {
    /// The job as moved, or `None` when the move was refused.
    pub async fn committed(self) -> Result<Option<Job>, WriteError> {
        match outcome(self.outcome).await? {
            Outcome::Job(job) => Ok(self.committer.count(job)),
            other => Err(unexpected(other)),
        }
    }
}

/// What became of a change sent to the writer.
async fn outcome(rx: oneshot::Receiver<Outcome>) -> Result<Outcome, WriteError> {
    match rx.await.map_err(|_| stopped())? {
        Outcome::Failed(e) => Err(e.into()),
        outcome => Ok(outcome),
    }
}

fn stopped() -> WriteError {
    WriteError::Refused("the committer has stopped".into())
}

fn unexpected(outcome: Outcome) -> WriteError {
    WriteError::Refused(format!("the store answered a change with {outcome:?}"))
}
