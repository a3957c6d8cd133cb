//! The writer: every change to jobs and notices goes through here.
//!
//! Changes (a new job, a status change, a progress sample, a log line) are handed to the store's
//! writer ([`Store::write`]), which takes whatever is waiting as one batch, in one transaction,
//! and only once the batch has committed gives its events to [`Writer`]'s publisher (the head
//! moves, then the bus carries them) and answers the callers. A client therefore never sees an
//! event that is not in the store, which is what makes `Last-Event-ID` replay gap-free. Event ids
//! come from the store.
//!
//! A change the store refused fails alone: its caller gets the error, the rest of the batch
//! commits. If the whole batch fails, every caller in it gets the error.

use crate::bus::{Bus, Event};
use crate::store::{Change, CommittedEvent, Fence, Outcome, Publish, QueuedJob, Store, StoreError, Write};
use model::{Job, JobError, JobStatus, LogLevel, Notice, Progress};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;

/// The store could not take the change (disk full, database locked for too long...).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the job store refused the change: {0}")]
pub struct WriteError(String);

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError(e.to_string())
    }
}

#[allow(clippy::large_enum_variant)]
/// A handle to send changes to the store's writer.
#[derive(Clone)]
pub struct Writer {
    store: Store,
    head: Arc<AtomicI64>,
}

impl Writer {
    /// Publishes every batch the store commits from now on: the head moves, then the bus
    /// carries the batch's events. `head` is the latest event id already committed.
    pub async fn start(store: Store, bus: Arc<Bus>, head: i64) -> Result<Writer, StoreError> {
        let head = Arc::new(AtomicI64::new(head));
        let published = Arc::clone(&head);
        let publish: Publish = Arc::new(move |events: Vec<CommittedEvent>, committed: i64| {
            published.fetch_max(committed, Ordering::AcqRel);
            for e in events {
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
        store.publish_to(publish).await?;
        Ok(Writer { store, head })
    }

    /// The id of the latest committed event. It is updated before that event is published, so a
    /// stream that subscribes to the bus and then reads `head` misses nothing above it.
    pub fn head(&self) -> i64 {
        self.head.load(Ordering::Acquire)
    }

    /// Applies one change and waits for what became of it.
    async fn ask(&self, change: Change) -> Result<Outcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.store
            .write(Write {
                change,
                reply: Some(reply),
            })
            .await?;
        match rx.await.map_err(|_| stopped())? {
            Outcome::Failed(e) => Err(e.into()),
            outcome => Ok(outcome),
        }
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
            tracing::error!(error = %e, "a job's report was lost");
        }
    }

    /// Inserts a new job (with its `job` event) and returns it as stored.
    pub async fn create(&self, owner: &str, job: Job) -> Result<Job, WriteError> {
        match self
            .ask(Change::Create {
                owner: owner.into(),
                job,
            })
            .await?
        {
            Outcome::Job(Some(job)) => Ok(job),
            other => Err(unexpected(other)),
        }
    }

    /// Moves a job to `to` if the state machine (and the fence: see [`Fence`]) allows it;
    /// returns the updated job, or `None` when the move was refused (unknown job, not allowed
    /// from its current status, or no longer the fence's process's).
    pub async fn transition(
        &self,
        owner: &str,
        job_id: &str,
        to: JobStatus,
        error: Option<JobError>,
        fence: Fence,
    ) -> Result<Option<Job>, WriteError> {
        let change = Change::Transition { owner: owner.into(), job_id: job_id.into(), to, error, fence };
        match self.ask(change).await? {
            Outcome::Job(job) => Ok(job),
            other => Err(unexpected(other)),
        }
    }

    /// Takes up to `slots` queued jobs of `kinds` for process `by` (see [`Change::Claim`]).
    pub async fn claim(
        &self,
        by: &str,
        slots: u32,
        kinds: Vec<String>,
        limits: Vec<(String, u32)>,
    ) -> Result<Vec<QueuedJob>, WriteError> {
        match self.ask(Change::Claim { by: by.into(), slots, kinds, limits }).await? {
            Outcome::Claimed(jobs) => Ok(jobs),
            other => Err(unexpected(other)),
        }
    }

    pub async fn progress(&self, owner: &str, job_id: &str, progress: Progress, fence: Fence) {
        self.tell(Change::Progress { owner: owner.into(), job_id: job_id.into(), progress, fence }).await
    }

    pub async fn log(&self, owner: &str, job_id: &str, level: LogLevel, line: String, fence: Fence) {
        self.tell(Change::Log { owner: owner.into(), job_id: job_id.into(), level, line, fence }).await
    }

    /// Saves a resumable job's checkpoint.
    pub async fn checkpoint(&self, job_id: &str, value: serde_json::Value, fence: Fence) {
        self.tell(Change::Checkpoint { job_id: job_id.into(), value, fence }).await
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

    /// Returns once everything sent before this call is committed (or has failed).
    pub async fn flush(&self) {
        self.store.flush().await
    }
}

fn stopped() -> WriteError {
    WriteError("the writer has stopped".into())
}

fn unexpected(outcome: Outcome) -> WriteError {
    WriteError(format!("the store answered a change with {outcome:?}"))
}
