//! The writer: the single thread that changes jobs and appends events.
//!
//! Every change (a new job, a status change, a progress sample, a log line) is sent to it over a
//! bounded channel. It takes whatever is waiting, applies it in one transaction, hands out event
//! ids from one counter (so ids are strictly increasing across the whole store), commits, and
//! only then publishes the events on the bus. A client therefore never sees an event that is not
//! in the store, which is what makes `Last-Event-ID` replay gap-free.
//!
//! It runs on an OS thread of its own with a connection of its own, running its statements
//! ([`super::writes`]) synchronously: a batch never waits on the async runtime, and the runtime
//! never waits on SQLite.

use super::bus::{Bus, Event};
use super::now_ms;
use super::store::{self, Store};
use super::writes;
use crate::model::{
    DoneEvent, EventType, Job, JobError, JobStatus, LogLevel, Notice, Progress, ProgressEvent,
};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// How many commands one transaction takes at most.
const MAX_BATCH: usize = 512;

enum Command {
    Create { owner: String, job: Job, reply: oneshot::Sender<Result<Job, WriteError>> },
    Transition {
        owner: String,
        job_id: String,
        to: JobStatus,
        error: Option<JobError>,
        reply: oneshot::Sender<Option<Job>>,
    },
    Progress { owner: String, job_id: String, progress: Progress },
    Log { owner: String, job_id: String, level: LogLevel, line: String },
    Checkpoint { job_id: String, value: serde_json::Value },
    Prune { before_ms: i64, reply: oneshot::Sender<Option<i64>> },
    Notice { text: String, reply: oneshot::Sender<Result<Notice, WriteError>> },
    Withdraw { reply: oneshot::Sender<Result<usize, WriteError>> },
    Flush { reply: oneshot::Sender<()> },
}

/// The store could not take the change (disk full, database locked for too long...).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the job store refused the change: {0}")]
pub struct WriteError(String);

/// A handle to send changes to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Command>,
    head: Arc<AtomicI64>,
}

impl Writer {
    /// Starts the writer thread (from within the runtime). `last_event_id` is the highest id
    /// already in the store.
    pub fn spawn(store: Store, bus: Arc<Bus>, last_event_id: i64) -> Writer {
        let (tx, rx) = mpsc::channel(8192);
        let head = Arc::new(AtomicI64::new(last_event_id));
        let task = WriterTask {
            store,
            bus,
            next_id: last_event_id + 1,
            rx,
            head: Arc::clone(&head),
            rows: Vec::new(),
        };
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("headway-writer".into())
            .spawn(move || task.run(runtime))
            .expect("the writer thread starts");
        Writer { tx, head }
    }

    /// The id of the latest committed event. It is updated before that event is published, so a
    /// stream that subscribes to the bus and then reads `head` misses nothing above it.
    pub fn head(&self) -> i64 {
        self.head.load(Ordering::Acquire)
    }

    /// Inserts a new job (with its `job` event) and returns it as stored.
    pub async fn create(&self, owner: &str, job: Job) -> Result<Job, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Create { owner: owner.into(), job, reply }).await?;
        rx.await.map_err(|_| WriteError("the writer stopped".into()))?
    }

    /// Moves a job to `to` if the state machine allows it; returns the updated job, or `None`
    /// when the move was refused (unknown job, or not allowed from its current status).
    pub async fn transition(
        &self,
        owner: &str,
        job_id: &str,
        to: JobStatus,
        error: Option<JobError>,
    ) -> Option<Job> {
        let (reply, rx) = oneshot::channel();
        let cmd =
            Command::Transition { owner: owner.into(), job_id: job_id.into(), to, error, reply };
        self.send(cmd).await.ok()?;
        rx.await.ok().flatten()
    }

    pub async fn progress(&self, owner: &str, job_id: &str, progress: Progress) {
        let cmd = Command::Progress { owner: owner.into(), job_id: job_id.into(), progress };
        let _ = self.send(cmd).await;
    }

    pub async fn log(&self, owner: &str, job_id: &str, level: LogLevel, line: String) {
        let cmd = Command::Log { owner: owner.into(), job_id: job_id.into(), level, line };
        let _ = self.send(cmd).await;
    }

    /// Saves a resumable job's checkpoint (no event: it is the job's private state).
    pub async fn checkpoint(&self, job_id: &str, value: serde_json::Value) {
        let _ = self.send(Command::Checkpoint { job_id: job_id.into(), value }).await;
    }

    /// Deletes a batch of events older than `before_ms`; returns the highest id deleted.
    pub async fn prune(&self, before_ms: i64) -> Option<i64> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Prune { before_ms, reply }).await.ok()?;
        rx.await.ok().flatten()
    }

    /// Stores a notice and announces it to every open stream.
    pub async fn notice(&self, text: String) -> Result<Notice, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Notice { text, reply }).await?;
        rx.await.map_err(|_| WriteError("the writer stopped".into()))?
    }

    /// Withdraws every notice in force (each announced with an empty text); returns how many.
    pub async fn withdraw_notices(&self) -> Result<usize, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Withdraw { reply }).await?;
        rx.await.map_err(|_| WriteError("the writer stopped".into()))?
    }

    /// Returns once everything sent before this call is committed.
    pub async fn flush(&self) {
        let (reply, rx) = oneshot::channel();
        if self.send(Command::Flush { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }

    async fn send(&self, cmd: Command) -> Result<(), WriteError> {
        self.tx.send(cmd).await.map_err(|_| WriteError("the writer stopped".into()))
    }
}

struct WriterTask {
    store: Store,
    bus: Arc<Bus>,
    next_id: i64,
    rx: mpsc::Receiver<Command>,
    head: Arc<AtomicI64>,
    /// The current batch's event rows.
    rows: Vec<store::NewEvent>,
}

/// What to do once a batch has committed (or failed).
enum Reply {
    Created(oneshot::Sender<Result<Job, WriteError>>, Job),
    Transitioned(oneshot::Sender<Option<Job>>, Option<Job>),
    Flushed(oneshot::Sender<()>),
    Pruned(oneshot::Sender<Option<i64>>, Option<i64>),
    Noticed(oneshot::Sender<Result<Notice, WriteError>>, Notice),
    Withdrawn(oneshot::Sender<Result<usize, WriteError>>, usize),
}

impl WriterTask {
    fn run(mut self, runtime: tokio::runtime::Handle) {
        // A connection of the store's, taken out of its pool for good, and held locked so that
        // only this thread uses it.
        let conn = runtime.block_on(async { self.store.pool().acquire().await.map(|c| c.detach()) });
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(e) => return tracing::error!(error = %e, "the writer cannot open its connection"),
        };
        let mut locked = match runtime.block_on(conn.lock_handle()) {
            Ok(locked) => locked,
            Err(e) => return tracing::error!(error = %e, "the writer cannot open its connection"),
        };
        // SAFETY: the handle is open and used by nothing else while `locked` lives, which is
        // longer than `db`; `from_handle` does not close it when `db` is dropped.
        let db = unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) };
        let mut db = match db {
            Ok(db) => db,
            Err(e) => return tracing::error!(error = %e, "the writer cannot open its connection"),
        };
        db.set_prepared_statement_cache_capacity(64);

        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = self.rx.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            self.apply(&mut db, &mut batch);
        }
        drop(db);
    }

    fn apply(&mut self, db: &mut rusqlite::Connection, batch: &mut Vec<Command>) {
        let first_id = self.next_id;
        // `None` as the owner: an event for everyone (notices).
        let mut events: Vec<(Option<String>, Event)> = Vec::new();
        let mut replies: Vec<Reply> = Vec::new();
        let mut result = || -> rusqlite::Result<()> {
            let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for cmd in batch.drain(..) {
                self.apply_one(&tx, cmd, &mut events, &mut replies)?;
            }
            writes::insert_events(&tx, &self.rows)?;
            tx.commit()
        };
        let result = result();
        self.rows.clear();
        match result {
            Ok(()) => {
                self.head.store(self.next_id - 1, Ordering::Release);
                for (owner, event) in events {
                    match owner {
                        Some(owner) => self.bus.publish(&owner, Arc::new(event)),
                        None => self.bus.publish_all(Arc::new(event)),
                    }
                }
                for reply in replies {
                    match reply {
                        Reply::Created(tx, job) => drop(tx.send(Ok(job))),
                        Reply::Transitioned(tx, job) => drop(tx.send(job)),
                        Reply::Flushed(tx) => drop(tx.send(())),
                        Reply::Pruned(tx, last) => drop(tx.send(last)),
                        Reply::Noticed(tx, notice) => drop(tx.send(Ok(notice))),
                        Reply::Withdrawn(tx, n) => drop(tx.send(Ok(n))),
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "writing a batch of job changes failed; it was rolled back");
                self.next_id = first_id;
                // Commands still in `batch` (after the failing one) are dropped with it: their
                // callers see the writer's reply channel close.
                batch.clear();
                let err = WriteError(e.to_string());
                for reply in replies {
                    match reply {
                        Reply::Created(tx, _) => drop(tx.send(Err(err.clone()))),
                        Reply::Transitioned(tx, _) => drop(tx.send(None)),
                        Reply::Flushed(tx) => drop(tx.send(())),
                        Reply::Pruned(tx, _) => drop(tx.send(None)),
                        Reply::Noticed(tx, _) => drop(tx.send(Err(err.clone()))),
                        Reply::Withdrawn(tx, _) => drop(tx.send(Err(err.clone()))),
                    }
                }
            }
        }
    }

    fn take_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn apply_one(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        cmd: Command,
        events: &mut Vec<(Option<String>, Event)>,
        replies: &mut Vec<Reply>,
    ) -> rusqlite::Result<()> {
        let at = now_ms();
        match cmd {
            Command::Create { owner, mut job, reply } => {
                job.event_id = self.take_id();
                writes::insert_job(tx, &owner, &job)?;
                let data = json(&job);
                self.push(events, &owner, job.event_id, &job.id, EventType::Job, data, at);
                replies.push(Reply::Created(reply, job));
            }
            Command::Transition { owner, job_id, to, error, reply } => {
                let job_event = self.take_id();
                let done_event = to.is_terminal().then(|| self.take_id());
                let last = done_event.unwrap_or(job_event);
                let job = writes::transition(tx, &job_id, to, error.as_ref(), at, last)?;
                match &job {
                    Some(job) => {
                        let mut shown = job.clone();
                        shown.event_id = job_event;
                        let data = json(&shown);
                        self.push(events, &owner, job_event, &job_id, EventType::Job, data, at);
                        if let Some(id) = done_event {
                            let done =
                                DoneEvent { job_id: job_id.clone(), status: to, error: job.error.clone() };
                            self.push(events, &owner, id, &job_id, EventType::Done, json(&done), at);
                        }
                    }
                    None => self.next_id = job_event, // refused: hand the ids out again
                }
                replies.push(Reply::Transitioned(reply, job));
            }
            Command::Progress { owner, job_id, progress } => {
                let id = self.take_id();
                if writes::progress(tx, &job_id, &progress, id)? {
                    let data = json(&ProgressEvent::new(&job_id, &progress));
                    self.push(events, &owner, id, &job_id, EventType::Progress, data, at);
                } else {
                    self.next_id = id;
                }
            }
            Command::Log { owner, job_id, level, line } => {
                let id = self.take_id();
                match writes::log(tx, &job_id, level, &line, at, id)? {
                    Some(log) => {
                        self.push(events, &owner, id, &job_id, EventType::Log, json(&log), at)
                    }
                    None => self.next_id = id,
                }
            }
            Command::Checkpoint { job_id, value } => {
                writes::checkpoint(tx, &job_id, &value)?;
            }
            Command::Prune { before_ms, reply } => {
                // A bounded batch, so that live writes never wait long behind a prune.
                let last = writes::prune_events(tx, before_ms, 10_000)?;
                replies.push(Reply::Pruned(reply, last));
            }
            Command::Flush { reply } => replies.push(Reply::Flushed(reply)),
            Command::Notice { text, reply } => {
                let notice = Notice { id: self.take_id(), text, created_at: at };
                writes::insert_notice(tx, &notice)?;
                events.push((None, notice_event(notice.id, &notice)));
                replies.push(Reply::Noticed(reply, notice));
            }
            Command::Withdraw { reply } => {
                let withdrawn = writes::withdraw_notices(tx, at)?;
                for notice in &withdrawn {
                    let gone = Notice { text: String::new(), ..notice.clone() };
                    let id = self.take_id();
                    events.push((None, notice_event(id, &gone)));
                }
                replies.push(Reply::Withdrawn(reply, withdrawn.len()));
            }
        }
        Ok(())
    }

    /// Queues a job's event: its row is inserted with the batch's others before the commit,
    /// and it is published after.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        events: &mut Vec<(Option<String>, Event)>,
        owner: &str,
        id: i64,
        job_id: &str,
        kind: EventType,
        data: String,
        at: i64,
    ) {
        events.push((Some(owner.to_string()), Event::new(id, Some(job_id.to_string()), kind, &data)));
        let (owner, job_id) = (owner.to_string(), job_id.to_string());
        self.rows.push(store::NewEvent { id, owner, job_id, kind, data, at });
    }
}

/// A `notice` event: sent to every stream, kept in the notices table rather than as an event.
fn notice_event(id: i64, notice: &Notice) -> Event {
    Event::new(id, None, EventType::Notice, &json(notice))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("job types always serialize")
}
