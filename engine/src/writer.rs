//! The writer: every change to jobs and notices goes through here, in batches.
//!
//! Changes (a new job, a status change, a progress sample, a log line) are sent over a bounded
//! channel to one task. It takes whatever is waiting, hands it to the store as one batch
//! ([`Store::apply`]), and only once the batch has committed publishes its events on the bus and
//! answers the callers. A client therefore never sees an event that is not in the store, which
//! is what makes `Last-Event-ID` replay gap-free. Event ids come from the store.
//!
//! A change the store refused fails alone: its caller gets the error, the rest of the batch
//! commits. If the whole batch fails, every caller in it gets the error.

use crate::bus::{Bus, Event};
use crate::store::{Applied, Change, Outcome, Store, StoreError};
use model::{Job, JobError, JobStatus, LogLevel, Notice, Progress};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// How many changes one transaction takes at most.
const MAX_BATCH: usize = 512;

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
enum Command {
    Change(Change, Option<oneshot::Sender<Outcome>>),
    Flush(oneshot::Sender<()>),
}

/// A handle to send changes to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Command>,
    head: Arc<AtomicI64>,
}

impl Writer {
    /// Starts the writer task. `head` is the latest event id already committed.
    pub fn spawn(store: Store, bus: Arc<Bus>, head: i64) -> Writer {
        let (tx, rx) = mpsc::channel(8192);
        let head = Arc::new(AtomicI64::new(head));
        tokio::spawn(run(store, bus, rx, Arc::clone(&head)));
        Writer { tx, head }
    }

    /// The id of the latest committed event. It is updated before that event is published, so a
    /// stream that subscribes to the bus and then reads `head` misses nothing above it.
    pub fn head(&self) -> i64 {
        self.head.load(Ordering::Acquire)
    }

    /// Applies one change and waits for what became of it.
    async fn ask(&self, change: Change) -> Result<Outcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Change(change, Some(reply)))
            .await
            .map_err(|_| stopped())?;
        match rx.await.map_err(|_| stopped())? {
            Outcome::Failed(e) => Err(e.into()),
            outcome => Ok(outcome),
        }
    }

    /// Sends a change without waiting for it (progress samples and log lines).
    async fn tell(&self, change: Change) {
        let _ = self.tx.send(Command::Change(change, None)).await;
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

    /// Moves a job to `to` if the state machine allows it; returns the updated job, or `None`
    /// when the move was refused (unknown job, or not allowed from its current status).
    pub async fn transition(
        &self,
        owner: &str,
        job_id: &str,
        to: JobStatus,
        error: Option<JobError>,
    ) -> Result<Option<Job>, WriteError> {
        let change = Change::Transition {
            owner: owner.into(),
            job_id: job_id.into(),
            to,
            error,
        };
        match self.ask(change).await? {
            Outcome::Job(job) => Ok(job),
            other => Err(unexpected(other)),
        }
    }

    pub async fn progress(&self, owner: &str, job_id: &str, progress: Progress) {
        self.tell(Change::Progress {
            owner: owner.into(),
            job_id: job_id.into(),
            progress,
        })
        .await
    }

    pub async fn log(&self, owner: &str, job_id: &str, level: LogLevel, line: String) {
        self.tell(Change::Log {
            owner: owner.into(),
            job_id: job_id.into(),
            level,
            line,
        })
        .await
    }

    /// Saves a resumable job's checkpoint.
    pub async fn checkpoint(&self, job_id: &str, value: serde_json::Value) {
        self.tell(Change::Checkpoint {
            job_id: job_id.into(),
            value,
        })
        .await
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
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Flush(reply)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

fn stopped() -> WriteError {
    WriteError("the writer has stopped".into())
}

fn unexpected(outcome: Outcome) -> WriteError {
    WriteError(format!("the store answered a change with {outcome:?}"))
}

async fn run(store: Store, bus: Arc<Bus>, mut rx: mpsc::Receiver<Command>, head: Arc<AtomicI64>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut changes = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut flushed = Vec::new();
        for command in batch.drain(..) {
            match command {
                Command::Change(change, reply) => {
                    changes.push(change);
                    replies.push(reply);
                }
                Command::Flush(reply) => flushed.push(reply),
            }
        }
        if !changes.is_empty() {
            match store.apply(changes).await {
                Ok(Applied {
                    outcomes,
                    events,
                    head: committed,
                }) => {
                    head.fetch_max(committed, Ordering::AcqRel);
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
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        if let Some(reply) = reply {
                            let _ = reply.send(outcome);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "writing a batch of job changes failed; it was rolled back");
                    for reply in replies.into_iter().flatten() {
                        let _ = reply.send(Outcome::Failed(e.clone()));
                    }
                }
            }
        }
        for reply in flushed {
            let _ = reply.send(());
        }
    }
}
