//! A caller's feed: what a client following the jobs live is told, from its cursor on, as typed
//! [`Item`]s. The server frames them for its transports (the event stream's `id:`/`event:`/
//! `data:` frames, the long poll's JSON pages); both read the same feed, so they agree by
//! construction.
//!
//! [`Feeds::open`] opens one, for every event the caller may see or for one job's. The
//! order of operations makes it gap-free: subscribe to the bus, then read the head and the
//! store; live events at or below the cursor are skipped. Then, in order:
//!
//! - the opening: a `snapshot` (the jobs in view) at the cursor, after a `resync` if the cursor
//!   cannot be resumed from (newer than the head, or older than what is kept; see [`start`]);
//! - the stored events after the cursor, a [`REPLAY_BATCH`] at a time, each batch without the
//!   progress samples a later one in it supersedes ([`coalesce`]), with this server's `version`
//!   in its place for a client whose cursor predates the server's start (`replay`); events
//!   pruned meanwhile: a `resync` and a fresh snapshot;
//! - live events from the bus: the one that woke the feed and every one waiting behind it, at
//!   once ([`waiting`]); thinned if the feed is behind (more than [`waiting::BEHIND`] were
//!   waiting); a feed that fell behind the bus (it lagged) goes back to the store;
//! - a keep-alive whenever nothing happened for a while. A feed resting on a [`Standing`] ends
//!   once the caller no longer holds it; one job's feed ends after that job's final terminal
//!   event; every feed ends when the server stops (the bus closes).
//!
//! Modules: [`item`] (what a feed yields), [`start`] (where it starts), `replay` (a stored
//! batch as items), [`waiting`] and [`coalesce`] (what a woken feed takes, and thinning it),
//! [`standing`] (what a feed's caller rests on).

pub mod coalesce;
pub mod item;
mod replay;
pub mod standing;
pub mod start;
#[cfg(test)]
mod tests;
pub mod waiting;

pub use item::Item;
pub use replay::REPLAY_BATCH;
pub use standing::Standing;

use crate::bus::{Event, Subscription};
use crate::history::Replay;
use crate::{Caller, Jobs};
use model::{AppError, Job, JobId, Snapshot, VersionEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// How many of the latest finished jobs a snapshot carries besides the unfinished ones.
pub const SNAPSHOT_RECENT: u32 = 50;

/// Where a feed starts.
#[derive(Debug, Clone, Default)]
pub struct Start {
    /// One job's feed (`Some`), which ends after that job's terminal event; else every event
    /// the caller may see.
    pub job_id: Option<JobId>,
    /// The id of the last event the client has (`Last-Event-ID`); `None` for a client that
    /// starts afresh.
    pub cursor: Option<i64>,
    /// Whether a client resuming from its cursor is sent a snapshot first. An event stream
    /// always opens with one; a long poll sends one only to a client that starts afresh or
    /// must resync.
    pub snapshot_on_resume: bool,
}

/// Where a feed counts what it does besides its items (the server's `/metrics`).
pub trait FeedMetrics: Send + Sync {
    /// The feed fell behind the bus and catches up from the store.
    fn fell_behind(&self);
    /// `samples` progress samples were left out for later ones of the same jobs.
    fn skipped_progress(&self, samples: usize);
}

/// How a feed is kept.
pub struct FeedSettings {
    /// How long nothing may happen before the feed says so with [`Item::KeepAlive`] (and checks
    /// its [`Standing`]); then again as long as nothing happens.
    pub quiet: Duration,
    pub metrics: Arc<dyn FeedMetrics>,
    /// What the caller rests on, when that can be taken away.
    pub standing: Option<Standing>,
}

/// What opening a feed gives.
pub enum Opened {
    /// The client has seen the end of this job's feed already.
    Ended,
    Feed(Box<Feed>),
}

/// The feeds service: opens a caller's feeds over the jobs service's events.
#[derive(Clone)]
pub struct Feeds {
    jobs: Jobs,
}

impl Feeds {
    pub(crate) fn new(jobs: Jobs) -> Feeds {
        Feeds { jobs }
    }

    /// Opens the caller's feed (or one job's, which the caller may see) from where `start`
    /// says: its opening is ready, and everything committed from now on will follow.
    pub async fn open(
        &self,
        caller: Caller,
        start: Start,
        settings: FeedSettings,
    ) -> Result<Opened, AppError> {
        // Subscribe before reading anything, so nothing committed from now on can be missed.
        let jobs = &self.jobs;
        let sub = jobs.bus().subscribe(caller.channel());
        // A cursor from another process may be ahead of what this one has published yet.
        let head = jobs.head_at_least(start.cursor.unwrap_or(0)).await;
        let job = match &start.job_id {
            Some(id) => Some(jobs.job(&caller, id).await?),
            None => None,
        };
        if let (Some(job), Some(cursor)) = (&job, start.cursor) {
            if job.status.is_terminal() && job.event_id <= cursor {
                return Ok(Opened::Ended);
            }
        }
        let origin = start::origin(start.cursor, job.is_some(), head, jobs.pruned_through());
        let mut opening = Vec::with_capacity(2);
        if let Some(reason) = origin.resync {
            opening.push(Item::Resync { reason });
        }
        if start.snapshot_on_resume || start.cursor.is_none() || origin.resync.is_some() {
            let data = snapshot_data(jobs, &caller, job.as_ref()).await?;
            opening.push(Item::Snapshot {
                id: origin.cursor,
                data,
            });
        }
        let cursor = origin.cursor;
        let version = jobs.version_event_id();
        let mut keep_alive = tokio::time::interval_at(
            Instant::now() + settings.quiet,
            settings.quiet.max(Duration::from_millis(1)),
        );
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Ok(Opened::Feed(Box::new(Feed {
            jobs: jobs.clone(),
            caller,
            job_id: start.job_id,
            sub,
            cursor,
            opening: (!opening.is_empty()).then_some(opening),
            replaying: true,
            finished: false,
            version_pending: (cursor < version).then_some(version),
            keep_alive,
            metrics: settings.metrics,
            standing: settings.standing,
        })))
    }
}

/// The `snapshot` payload: one job for a job's feed, else the caller's jobs in view.
async fn snapshot_data(
    engine: &Jobs,
    caller: &Caller,
    job: Option<&Job>,
) -> Result<String, AppError> {
    let jobs = match job {
        Some(job) => vec![job.clone()],
        None => engine.snapshot_jobs(caller, SNAPSHOT_RECENT).await?,
    };
    let snapshot = Snapshot {
        jobs,
        build: engine.build().to_string(),
        notices: engine.notices().await?,
    };
    serde_json::to_string(&snapshot)
        .map_err(|e| AppError::internal_because("writing a snapshot of the jobs", e))
}

/// An open feed. [`Feed::next`] gives what there is to tell, in batches meant to go out
/// together.
pub struct Feed {
    jobs: Jobs,
    caller: Caller,
    /// `Some` for one job's feed.
    job_id: Option<JobId>,
    sub: Subscription,
    /// The id of the last event given (or the snapshot's).
    cursor: i64,
    /// The resync and snapshot the feed opens with, until given.
    opening: Option<Vec<Item>>,
    /// Reading from the store rather than the bus.
    replaying: bool,
    /// One job's feed has given its final terminal event.
    finished: bool,
    /// The id of this server's `version` item, while the client has not been given it: set
    /// when the client resumes from a cursor older than the server's start.
    version_pending: Option<i64>,
    keep_alive: Interval,
    metrics: Arc<dyn FeedMetrics>,
    standing: Option<Standing>,
}

impl Feed {
    /// The id of the last event given (or of the snapshot): where the client resumes from.
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// What there is to tell next, waiting until there is something: the opening, a batch
    /// replayed from the store, a `version`, the live events waiting (see [`waiting::take`]),
    /// or a keep-alive. Never empty. `None` when the feed is over: its job ended, its caller's
    /// standing is gone, the server is stopping, or the store failed (logged where it
    /// happened; the client reconnects).
    ///
    /// Waiting costs a wake-up nothing shared but the bus's channel: the server's stop reaches
    /// the feed as the channel's close, not as a token every feed would poll.
    pub async fn next(&mut self) -> Option<Vec<Item>> {
        if let Some(opening) = self.opening.take() {
            return Some(opening);
        }
        loop {
            if self.finished {
                return None;
            }
            if self.replaying {
                if self.sub.is_closed() {
                    return None;
                }
                // Boxed: a replay's store queries would otherwise size every idle feed's
                // future.
                match Box::pin(self.replay_batch()).await {
                    Ok(Some(items)) => return Some(items),
                    Ok(None) => self.replaying = false,
                    Err(_) => return None,
                }
                continue;
            }
            let first = tokio::select! {
                r = self.sub.recv() => r,
                _ = self.keep_alive.tick() => {
                    if !standing::holds(&self.standing).await {
                        return None;
                    }
                    return Some(vec![Item::KeepAlive]);
                }
                _ = standing::changed(&mut self.standing) => {
                    if !standing::holds(&self.standing).await {
                        return None;
                    }
                    continue;
                }
            };
            match first {
                Ok(event) => {
                    if let Some(mut items) = self.live(event) {
                        self.end_at_final_done(&mut items).await;
                        return Some(items);
                    }
                }
                Err(RecvError::Lagged(_)) => self.fell_behind(),
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Goes back to the store for what the bus no longer holds for this feed.
    fn fell_behind(&mut self) {
        self.metrics.fell_behind();
        self.replaying = true;
    }

    /// What a feed woken by `first` gives: it and every event waiting behind it that the
    /// feed carries (ones it has not given yet, of its job for one job's feed), thinned if it
    /// is behind. `None` if none was for it. Taken without waiting: whether a job's `done`
    /// ends its feed is settled after (see [`Feed::end_at_final_done`]).
    fn live(&mut self, first: Arc<Event>) -> Option<Vec<Item>> {
        let (cursor, job) = (self.cursor, self.job_id.as_deref());
        let taken = waiting::take(&mut self.sub, first, |e| {
            e.id > cursor && wants(job, e.job_id.as_deref())
        });
        if taken.skipped > 0 {
            self.metrics.skipped_progress(taken.skipped);
        }
        if taken.lagged {
            // Whatever was missed comes from the store, after what this batch carries.
            self.fell_behind();
        }
        self.cursor = taken.events.last()?.id;
        Some(taken.events.into_iter().map(Item::Live).collect())
    }

    /// For one job's feed: ends `items` at the job's final terminal event if it is among them,
    /// and the feed with it (the cursor stays on that event). Every other feed, and every batch
    /// without a `done`, passes through untouched without touching the store.
    async fn end_at_final_done(&mut self, items: &mut Vec<Item>) {
        if self.job_id.is_none() || !items.iter().any(Item::is_done) {
            return;
        }
        // Boxed: the store query would otherwise size every idle feed's future.
        if let Some(end) = Box::pin(self.final_done_among(items)).await {
            items.truncate(end + 1);
            self.finished = true;
            self.cursor = items[end].id().expect("a done event has an id");
        }
    }

    /// The `version` item, under the id reserved for it when this server started.
    fn version_item(&self, id: i64) -> Item {
        let data = serde_json::to_string(&VersionEvent {
            build: self.jobs.build().to_string(),
        })
        .expect("a version event always serializes");
        Item::Version { id, data }
    }

    /// Whether a `done` event ends this job's feed: it does unless the job was queued again
    /// afterwards (an interrupted job of a resumable kind), in which case its story goes on.
    async fn is_final_done(&self, done_id: i64) -> bool {
        let Some(job_id) = &self.job_id else {
            return false;
        };
        match self.jobs.job(&self.caller, job_id).await {
            // The job's last event is its final `done`; an earlier `done` was followed by more.
            Ok(job) => job.status.is_terminal() && job.event_id <= done_id,
            _ => true,
        }
    }

    /// The next stored events after the cursor, or `None` when caught up. If the events after
    /// the cursor have been pruned meanwhile, a `resync` and a fresh snapshot. Once caught up,
    /// a client whose cursor predates this server's start is given its `version`.
    async fn replay_batch(&mut self) -> Result<Option<Vec<Item>>, AppError> {
        let replay = self
            .jobs
            .events_after(
                &self.caller,
                self.job_id.as_ref(),
                self.cursor,
                REPLAY_BATCH,
            )
            .await?;
        let events = match replay {
            Replay::Events(events) => events,
            Replay::Pruned => {
                let head = self.jobs.head();
                let data = snapshot_data(&self.jobs, &self.caller, None).await?;
                self.cursor = head;
                return Ok(Some(vec![
                    Item::Resync {
                        reason: start::NOT_KEPT,
                    },
                    Item::Snapshot { id: head, data },
                ]));
            }
        };
        let Some(last) = events.last() else {
            // Caught up: a client whose cursor predates this server's start learns its build.
            let Some(v) = self.version_pending.take() else {
                return Ok(None);
            };
            self.cursor = self.cursor.max(v);
            return Ok(Some(vec![self.version_item(v)]));
        };
        self.cursor = last.id;
        let mut version = self.version_pending;
        let (mut items, skipped) = replay::replayed(events, &mut version, |v| self.version_item(v));
        self.version_pending = version;
        self.metrics.skipped_progress(skipped);
        self.end_at_final_done(&mut items).await;
        Ok(Some(items))
    }

    /// The position of the job's final terminal event among `items`, if it is there.
    async fn final_done_among(&self, items: &[Item]) -> Option<usize> {
        for (i, item) in items.iter().enumerate() {
            if let (true, Some(id)) = (item.is_done(), item.id()) {
                if self.is_final_done(id).await {
                    return Some(i);
                }
            }
        }
        None
    }
}

/// Whether a feed of `feed_job` (`Some` for one job's feed) carries an event of `event_job`:
/// one job's feed carries that job's events and the events for everyone (notices).
fn wants(feed_job: Option<&str>, event_job: Option<&str>) -> bool {
    match (feed_job, event_job) {
        (None, _) | (_, None) => true,
        (Some(id), Some(job)) => job == id,
    }
}
