//! The tailer: publishes every committed event, whichever process wrote it, in id order.
//!
//! Event ids follow commit order (see [`crate::writer`]), so reading `events WHERE id > cursor
//! ORDER BY id` never skips an event that commits later: the tailer keeps one cursor and
//! reads from it whenever it has a reason to think something new is there:
//! - this process's writer committed (woken directly);
//! - another process sent a `NOTIFY headway_events` hint (its newest id; only a wake-up);
//! - [`POLL`] passed without either: a lost hint delays an event by at most that much;
//! - its listening connection came back after a loss (hints sent meanwhile are gone).
//!
//! Hints are sent by a task of their own, at most one per [`HINT_EVERY`] per process, in their
//! own statement after the commit, so that commits do not queue on `NOTIFY`'s lock.
//!
//! A change written here is answered only once the tailer has published its events, so that a
//! caller reading its own write back on a stream finds it there.

use model::JobStatus;
use sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPool, PgPoolOptions};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store_core::{Change, CommittedEvent, Moved, Publish};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

/// The channel hints go out on.
pub const CHANNEL: &str = "headway_events";

/// How often the tailer reads without being woken.
pub const POLL: Duration = Duration::from_millis(500);

/// The shortest time between two hints from one process.
pub const HINT_EVERY: Duration = Duration::from_millis(50);

/// Events read per query.
const TAIL_BATCH: i64 = 1000;

/// The changes of a committed batch, whose answers are to be sent.
type Answers = Vec<Change>;

/// What the writer and the tailer share.
pub struct Shared {
    options: PgConnectOptions,
    wake: Notify,
    stop: CancellationToken,
    /// Whether events are being published (until then, changes are answered at once).
    started: AtomicBool,
    /// The id of the newest event published.
    published: AtomicI64,
    /// Answers waiting for their batch's newest event to be published.
    pending: Mutex<Vec<(i64, Answers)>>,
}

/// Stops the tailer when dropped (the store holds it; the tailer's task does not).
pub struct Stop(CancellationToken);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Shared {
    pub fn new(options: PgConnectOptions) -> Shared {
        Shared {
            options,
            wake: Notify::new(),
            stop: CancellationToken::new(),
            started: AtomicBool::new(false),
            published: AtomicI64::new(0),
            pending: Mutex::new(Vec::new()),
        }
    }

    pub fn stop_handle(&self) -> Stop {
        Stop(self.stop.clone())
    }

    /// Something was committed here: read now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the task that sends hints: it sends the newest id it was given, then waits
    /// [`HINT_EVERY`] before the next. It ends with the writer (the returned sender's owner).
    pub fn start_hints(&self, pool: PgPool) -> watch::Sender<i64> {
        let (tx, mut rx) = watch::channel(0i64);
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let newest = *rx.borrow_and_update();
                if let Err(e) =
                    sqlx::query!("SELECT pg_notify('headway_events', $1)", newest.to_string())
                        .execute(&pool)
                        .await
                {
                    // Only a hint: the other processes' polls find the events anyway.
                    tracing::warn!(error = %e, "could not hint other processes of new events");
                }
                tokio::time::sleep(HINT_EVERY).await;
            }
        });
        tx
    }

    /// Sends the answers once the event `newest` is published (at once if it is, if there is
    /// none, or if nothing is published in this process).
    pub fn answer_once_published(&self, newest: Option<i64>, answers: Answers) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match newest {
            Some(id)
                if self.started.load(Ordering::Acquire)
                    && id > self.published.load(Ordering::Acquire) =>
            {
                pending.push((id, answers));
            }
            _ => {
                drop(pending);
                send(answers);
            }
        }
    }

    /// Sends every answer whose events are published; all of them with `all`.
    fn answer_published(&self, all: bool) {
        let published = self.published.load(Ordering::Acquire);
        let ready: Vec<(i64, Answers)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let (ready, waiting) = std::mem::take(&mut *pending)
                .into_iter()
                .partition(|(id, _)| all || *id <= published);
            *pending = waiting;
            ready
        };
        for (_, answers) in ready {
            send(answers);
        }
    }

    /// Starts publishing every event after `after` to `publish`.
    pub fn start(self: &Arc<Self>, pool: PgPool, publish: Publish, after: i64) {
        self.published.store(after, Ordering::Release);
        self.started.store(true, Ordering::Release);
        tokio::spawn(Arc::clone(self).run(pool, publish, after));
    }

    async fn run(self: Arc<Self>, pool: PgPool, publish: Publish, mut cursor: i64) {
        // Its own connection, never one a reader waits for.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(self.options.clone());
        let mut listener: Option<PgListener> = None;
        loop {
            if listener.is_none() {
                listener = listen(&listen_pool).await;
            }
            match self.catch_up(&pool, &publish, &mut cursor).await {
                Ok(()) => self.answer_published(false),
                Err(e) => {
                    tracing::warn!(error = %e, "reading new events failed; trying again shortly");
                    // The changes are committed: their callers need not wait for the stream.
                    self.answer_published(true);
                }
            }
            tokio::select! {
                _ = self.stop.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                hint = next_hint(&mut listener) => match hint {
                    Ok(Some(_)) => {}
                    // The connection was lost: the listener reconnects on the next call, and
                    // whatever was hinted meanwhile is read now.
                    Ok(None) => tracing::warn!("the listening connection was lost; reading events again"),
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for new events failed; reconnecting");
                        listener = None;
                    }
                },
            }
        }
        self.answer_published(true);
    }

    /// Publishes every event committed after `cursor`, in id order.
    async fn catch_up(
        &self,
        pool: &PgPool,
        publish: &Publish,
        cursor: &mut i64,
    ) -> Result<(), sqlx::Error> {
        loop {
            // A `job` event's move is read beside its text, typed, by the database.
            let rows = sqlx::query!(
                "SELECT id, owner, job_id, type AS kind, data,
                        CASE WHEN type = 'job' THEN data::json ->> 'status' END AS status,
                        CASE WHEN type = 'job' THEN (data::json ->> 'run_after')::bigint END AS run_after
                 FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                *cursor,
                TAIL_BATCH
            )
            .fetch_all(pool)
            .await?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok(());
            };
            let full = rows.len() as i64 == TAIL_BATCH;
            let events = rows
                .into_iter()
                .filter_map(|r| {
                    let event = store_core::stored_event(r.id, r.job_id, &r.kind, r.data)?;
                    // An owner whose id does not parse cannot be told whose the event is: it
                    // goes to no one rather than to everyone.
                    let owner = match r.owner.map(model::UserId::try_from).transpose() {
                        Ok(owner) => owner,
                        Err(e) => {
                            tracing::error!(id = r.id, error = %e, "a stored event's owner is malformed; it is not published");
                            return None;
                        }
                    };
                    let moved = r
                        .status
                        .as_deref()
                        .and_then(JobStatus::parse)
                        .map(|status| Moved {
                            status,
                            run_after: r.run_after,
                        });
                    Some(CommittedEvent {
                        owner,
                        event,
                        moved,
                    })
                })
                .collect();
            *cursor = last;
            publish(events, last);
            self.published.store(last, Ordering::Release);
            self.answer_published(false);
            if !full {
                return Ok(());
            }
        }
    }
}

fn send(answers: Answers) {
    for mut change in answers {
        change.settle(Ok(()));
    }
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let result = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    }
    .await;
    match result {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for new events; polling until it can");
            None
        }
    }
}

async fn next_hint(
    listener: &mut Option<PgListener>,
) -> Result<Option<PgNotification>, sqlx::Error> {
    match listener {
        Some(l) => l.try_recv().await,
        None => std::future::pending().await,
    }
}
