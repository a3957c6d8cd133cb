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
    Answer, Answered, Attachment, Change, CommittedEvent, ExternalReport, Fence, Fire, Fired,
    Publish, QueuedJob, Reported, ScheduleRow, StartKey, Store, StoreError,
};
use crate::telemetry::Metrics;
use model::error::Chain;
use model::{
    Job, JobError, JobId, JobStatus, KindPause, LogLevel, Notice, ProcessId, Progress, UserId,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::watch;

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
    /// The bytes one user's stored files (uploads and outputs) may hold together.
    file_quota: u64,
}

pub use crate::store::{Attached, Created};

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

    /// Counts every output attached from now on against its job owner's file quota: the
    /// bytes their uploads and outputs may hold together.
    pub fn with_file_quota(mut self, quota: u64) -> Committer {
        self.file_quota = quota;
        self
    }

    /// The bytes one user's stored files (uploads and outputs) may hold together.
    pub fn file_quota(&self) -> u64 {
        self.file_quota
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
            file_quota: crate::uploads::UploadLimits::default().quota,
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

    /// Applies the change `make` builds around its answer, and waits for that answer.
    async fn ask<T>(&self, make: impl FnOnce(Answer<T>) -> Change) -> Result<T, WriteError> {
        Ok(self.send(make).await?.get().await?)
    }

    /// Puts the change `make` builds in the writer's queue; its answer comes where it says. A
    /// change sent after it is applied after it.
    async fn send<T>(
        &self,
        make: impl FnOnce(Answer<T>) -> Change,
    ) -> Result<Answered<T>, WriteError> {
        let (answer, answered) = Answer::new();
        self.store.write(make(answer)).await?;
        Ok(answered)
    }

    /// Sends a change without waiting for it (progress samples and log lines).
    async fn tell(&self, change: Change) {
        if let Err(e) = self.store.write(change).await {
            tracing::error!(error = %Chain(&e), "a job's report was lost");
        }
    }

    /// Inserts a new job (with its `job` event) and returns it as stored.
    pub async fn create(&self, owner: &UserId, job: Job) -> Result<Job, WriteError> {
        match self.create_within(owner, job, None, None).await? {
            Created::New(job) => Ok(job),
            // Without a limit or a key, a start is refused only by the database.
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
        let created = self
            .ask(|answer| Change::Create {
                owner: owner.into(),
                job,
                max_queued,
                key,
                answer,
            })
            .await;
        // Logged under the lock, so that a claim on another thread cannot log "job started"
        // between this taking the job out of the set and logging its creation.
        let mut unannounced = self.unannounced.lock().unwrap();
        let unlogged = unannounced.remove(&id);
        let created = created?;
        if let Created::New(job) = &created {
            self.metrics.created(job);
            if unlogged {
                tracing::info!(job = %job.id, kind = %job.kind, "job created");
            }
        }
        Ok(created)
    }

    /// Starts `child` for its parent, run by `fence`'s process (see [`Change::StartChild`]):
    /// `None` when the parent does not run its own work any more.
    pub async fn start_child(
        &self,
        owner: &UserId,
        child: Job,
        fence: Fence,
        max_queued: Option<u64>,
    ) -> Result<Option<Created>, WriteError> {
        let created = self
            .ask(|answer| Change::StartChild {
                owner: owner.into(),
                child,
                fence,
                max_queued,
                answer,
            })
            .await?;
        if let Some(Created::New(job)) = &created {
            self.metrics.created(job);
            tracing::info!(job = %job.id, kind = %job.kind, parent = ?job.parent, "child job created");
        }
        Ok(created)
    }

    /// Starts a workflow run: its job `run` with its `plan`, and its `steps` (see
    /// [`Change::StartRun`]).
    pub async fn start_run(
        &self,
        owner: &UserId,
        run: Job,
        plan: String,
        steps: Vec<Job>,
        max_queued: Option<u64>,
        key: Option<StartKey>,
    ) -> Result<Created, WriteError> {
        let created = self
            .ask(|answer| Change::StartRun {
                owner: owner.into(),
                run,
                plan,
                steps,
                max_queued,
                key,
                answer,
            })
            .await?;
        if let Created::New(job) = &created {
            self.metrics.created(job);
            tracing::info!(job = %job.id, workflow = ?job.title(), "workflow run started");
        }
        Ok(created)
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
        let moved = self
            .send(|answer| Change::Transition {
                owner: owner.into(),
                job_id: job_id.into(),
                to,
                error,
                fence,
                answer,
            })
            .await?;
        Ok(Moving {
            committer: self,
            moved,
        })
    }

    /// A person's cancel ([`Change::Cancel`]): moves a job to `to` (`cancelled` while it waits,
    /// `cancelling` while it runs), keeping `by` as who cancelled it; `None` when the move was
    /// refused.
    pub async fn cancel(
        &self,
        owner: &UserId,
        job_id: &JobId,
        to: JobStatus,
        by: Option<model::Actor>,
    ) -> Result<Option<Job>, WriteError> {
        let moved = self
            .send(|answer| Change::Cancel {
                owner: owner.into(),
                job_id: job_id.into(),
                to,
                by,
                answer,
            })
            .await?;
        Moving {
            committer: self,
            moved,
        }
        .committed()
        .await
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
        let interrupted = self
            .ask(|answer| Change::Interrupt {
                owner: owner.into(),
                job_id: job_id.into(),
                error,
                requeue,
                fence,
                answer,
            })
            .await?;
        match interrupted {
            // Queued again, it was counted as interrupted; it counts again when it ends.
            Some(job) if requeue && job.status == JobStatus::Queued => {
                let mut ended = job.clone();
                ended.status = JobStatus::Interrupted;
                self.metrics.moved(&ended);
                tracing::info!(job = %job.id, kind = %job.kind, "job interrupted; queued again to resume");
                Ok(Some(job))
            }
            job => Ok(self.count(job)),
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
        let retried = self
            .ask(|answer| Change::Retry {
                owner: owner.into(),
                job_id: job_id.into(),
                error,
                wait_ms,
                reset_progress,
                fence,
                answer,
            })
            .await?;
        if let Some(job) = &retried {
            self.metrics.retried(job);
            tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempt, "job failed; queued for another attempt");
        }
        Ok(retried)
    }

    /// Takes up to `slots` queued jobs of `kinds` for process `by` (see [`Change::Claim`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn claim(
        &self,
        by: &ProcessId,
        slots: u32,
        kinds: Vec<String>,
        limits: Vec<(String, u32)>,
        declared: Vec<model::limits::Limit>,
        per_owner: u32,
    ) -> Result<Vec<QueuedJob>, WriteError> {
        let jobs = self
            .ask(|answer| Change::Claim {
                by: by.into(),
                slots,
                kinds,
                limits,
                declared,
                per_owner,
                answer,
            })
            .await?;
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

    pub async fn progress(&self, owner: &UserId, job_id: &JobId, progress: Progress, fence: Fence) {
        self.tell(Change::Progress {
            owner: owner.into(),
            job_id: job_id.into(),
            progress,
            fence,
            answer: Answer::none(),
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
            answer: Answer::none(),
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
        self.ask(|answer| Change::Attach {
            owner: owner.into(),
            job_id: job_id.into(),
            what,
            fence,
            answer,
        })
        .await
    }

    /// Sets a queued job's priority; the job as it is then, or `None` when it is not queued.
    pub async fn prioritize(
        &self,
        owner: &UserId,
        job_id: &JobId,
        priority: model::Priority,
    ) -> Result<Option<Job>, WriteError> {
        self.ask(|answer| Change::Prioritize {
            owner: owner.into(),
            job_id: job_id.into(),
            priority,
            answer,
        })
        .await
    }

    /// Saves a resumable job's checkpoint.
    pub async fn checkpoint(&self, job_id: &JobId, value: serde_json::Value, fence: Fence) {
        self.tell(Change::Checkpoint {
            job_id: job_id.into(),
            value,
            fence,
            answer: Answer::none(),
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
            answer: Answer::none(),
        };
        let checkpoint = Change::Checkpoint {
            job_id: job_id.into(),
            value,
            fence,
            answer: Answer::none(),
        };
        self.tell(Change::Together(vec![log, checkpoint])).await
    }

    /// Deletes a batch of events older than `before_ms`; returns the highest id deleted.
    pub async fn prune(&self, before_ms: i64) -> Result<Option<i64>, WriteError> {
        // A bounded batch, so that live writes never wait long behind a prune.
        self.ask(|answer| Change::Prune {
            before_ms,
            limit: 10_000,
            answer,
        })
        .await
    }

    /// Stores a notice and announces it to every open stream.
    pub async fn notice(&self, text: String) -> Result<Notice, WriteError> {
        self.ask(|answer| Change::PostNotice { text, answer }).await
    }

    /// Withdraws every notice in force (each announced with an empty text); returns how many.
    pub async fn withdraw_notices(&self) -> Result<usize, WriteError> {
        self.ask(|answer| Change::WithdrawNotices { answer }).await
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
        let opened = self
            .ask(|answer| {
                Change::Together(vec![
                    Change::Create {
                        owner: owner.into(),
                        job,
                        max_queued: None,
                        key: None,
                        answer: Answer::none(),
                    },
                    Change::Open {
                        owner: owner.into(),
                        job_id: job_id.clone(),
                        report_hash,
                        lease_until,
                        answer,
                    },
                ])
            })
            .await?;
        let Some(job) = opened else {
            return Err(WriteError::Refused(format!(
                "the new external job {job_id} could not be opened"
            )));
        };
        self.metrics.created(&job);
        tracing::info!(job = %job.id, kind = %job.kind, "external job created");
        Ok(job)
    }

    /// Writes what an external job's program reported (see [`Change::Report`]).
    /// A report that ended its job counts the end, as any job's.
    pub async fn report(&self, mut report: ExternalReport) -> Result<Reported, WriteError> {
        report.bounds = self.log_bounds;
        let (ends, job_id) = (report.end.is_some(), report.job_id.clone());
        let reported = self
            .ask(|answer| Change::Report {
                report: Box::new(report),
                answer,
            })
            .await?;
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

    /// Ends an external job whose lease ended before `now` (see [`Change::Expire`]); the job as
    /// it ended, or `None` if its lease holds or it is not running.
    pub async fn expire(
        &self,
        owner: &UserId,
        job_id: &JobId,
        now: i64,
        error: JobError,
    ) -> Result<Option<Job>, WriteError> {
        let ended = self
            .ask(|answer| Change::Expire {
                owner: owner.into(),
                job_id: job_id.into(),
                now,
                error,
                answer,
            })
            .await?;
        Ok(self.count(ended))
    }

    /// Adds a schedule, or changes one ([`Change::PutSchedule`]).
    pub async fn put_schedule(&self, row: ScheduleRow) -> Result<(), WriteError> {
        self.ask(|answer| Change::PutSchedule { row, answer }).await
    }

    /// Deletes a schedule; whether there was one.
    pub async fn delete_schedule(&self, id: &model::ScheduleId) -> Result<bool, WriteError> {
        self.ask(|answer| Change::DeleteSchedule {
            id: id.clone(),
            answer,
        })
        .await
    }

    /// A schedule's fire time (see [`Change::Fire`]): what it did, or `None` when the schedule
    /// no longer waited for it (another process fired it, or it changed).
    pub async fn fire(&self, fire: Fire) -> Result<Option<Fired>, WriteError> {
        let fired = self.ask(|answer| Change::Fire { fire, answer }).await?;
        if let Some(job) = fired.as_ref().and_then(|f| f.job.as_ref()) {
            self.metrics.created(job);
        }
        Ok(fired)
    }

    /// Pauses `kind` (or every kind) for every process; the pause in force.
    /// Sets a limit for every process, by `by` (see [`Change::SetLimit`]).
    pub async fn set_limit(
        &self,
        limit: model::limits::Limit,
        by: &str,
    ) -> Result<store_core::limits::SetLimit, WriteError> {
        self.ask(|answer| Change::SetLimit {
            limit,
            by: by.to_string(),
            answer,
        })
        .await
    }

    /// Removes the limit set at run time with `signature`; whether there was one.
    pub async fn remove_limit(&self, signature: String) -> Result<bool, WriteError> {
        self.ask(|answer| Change::RemoveLimit { signature, answer })
            .await
    }

    pub async fn pause(&self, kind: &str, by: &str) -> Result<KindPause, WriteError> {
        self.ask(|answer| Change::Pause {
            kind: kind.to_string(),
            by: by.to_string(),
            answer,
        })
        .await
    }

    /// Resumes `kind` (or every kind); whether it was paused.
    pub async fn resume(&self, kind: &str) -> Result<bool, WriteError> {
        self.ask(|answer| Change::Resume {
            kind: kind.to_string(),
            answer,
        })
        .await
    }

    /// Returns once everything sent before this call is committed (or has failed).
    pub async fn flush(&self) {
        self.store.flush().await
    }
}

/// A job's move in the writer's queue ([`Committer::send_transition`]).
pub struct Moving<'a> {
    committer: &'a Committer,
    moved: Answered<Option<Job>>,
}

impl Moving<'_> {
    /// The job as moved, or `None` when the move was refused.
    pub async fn committed(self) -> Result<Option<Job>, WriteError> {
        Ok(self.committer.count(self.moved.get().await?))
    }
}
