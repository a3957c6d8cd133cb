//! The event streams: `GET /api/v1/events` (every event the caller may see) and
//! `GET /api/v1/jobs/{id}/events` (one job, ending after its terminal event).
//!
//! A stream opens with `retry:` and a `snapshot` whose id is the stream's starting cursor: the
//! store's head for a fresh connection, the client's `Last-Event-ID` for a resumed one (or 0 for
//! a fresh per-job stream, which then replays the job from its start). It then replays stored
//! events after the cursor and goes live. The order of operations makes it gap-free: subscribe
//! to the bus, then read the cursor and the store; live events at or below the cursor are skipped.
//! A stream that falls behind the bus catches up from the store. A stream that is merely behind
//! (more than [`BEHIND`] events waiting for it) sends the latest rather than the backlog: it takes
//! everything waiting at once and leaves out the progress samples that a later one of the same job
//! among them supersedes.

use crate::error::ApiError;
use crate::identity::{Credential, Identities, Identity};
use crate::state::AppState;
use crate::telemetry::{OpenStream, ServerMetrics};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::{Bytes, BytesMut};
use engine::bus::{sse_frame, Event, Subscription};
use engine::history::Replay;
use engine::store::StoredEvent;
use engine::{Caller, Engine};
use model::{AppError, EventType, Job, Snapshot, VersionEvent};
use serde::Deserialize;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Milliseconds a client should wait before reconnecting.
const RETRY_MS: u64 = 2000;
/// Events read from the store per replay query.
const REPLAY_BATCH: u32 = 500;
/// How many of the latest finished jobs a snapshot carries besides the unfinished ones.
const SNAPSHOT_RECENT: u32 = 50;
/// A burst of waiting events is sent in chunks of about this many bytes at most.
const BURST_BYTES: usize = 64 * 1024;
/// A stream with more events than this waiting for it on the bus is behind: it drains them at
/// once and sends only the newest progress sample of each job among them.
///
/// Below it, the backlog goes out whole in one write, and the newest sample in it arrives as
/// soon as it would alone: skipping the stale ones would save a few hundred bytes for the
/// bookkeeping of a set of job ids. Past it, the backlog is worth thinning: every sample it
/// carries is bytes to write and for the client to parse, and a stale one is one a later sample
/// of the same job makes pointless. Whatever the bound, a stream that keeps up loses nothing: a
/// job's samples are `engine::context::SAMPLE_EVERY` (100 ms) apart but for the few it forces,
/// so only a stream about that far behind holds two of one job. In the fan-out benchmark
/// (10 jobs, 10 samples/s each) 4 and 8 gave the same latencies; with 16, streams a whole round
/// of samples behind (11 to 16 events) sent all of it, and the p99 was 10 to 15 % higher.
const BEHIND: usize = 8;
/// The most events a stream that is behind drains at once: as many as a replay from the store
/// reads, so that its chunk is never larger than a replay's.
const CATCH_UP_MAX: usize = REPLAY_BATCH as usize;

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    last_event_id: Option<String>,
}

pub async fn all_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Response {
    match open(&state, caller, identity.credential, None, &headers, &query).await {
        Ok(r) => r,
        Err(e) => ApiError(e).into_response(),
    }
}

pub async fn job_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Response {
    match open(
        &state,
        caller,
        identity.credential,
        Some(id),
        &headers,
        &query,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => ApiError(e).into_response(),
    }
}

/// `Last-Event-ID` (header first, then `?last_event_id=`): absent, or a non-negative integer.
pub fn requested_cursor(
    headers: &HeaderMap,
    query_value: Option<&str>,
) -> Result<Option<i64>, AppError> {
    let raw = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().map_err(|_| bad_cursor("(not text)"))?),
        None => query_value,
    };
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| bad_cursor(s)),
    }
}

fn bad_cursor(got: &str) -> AppError {
    let shown: String = got.chars().take(40).collect();
    AppError::bad_request(format!(
        "Last-Event-ID must be a non-negative whole number (an event id), got {shown:?}"
    ))
}

async fn open(
    state: &AppState,
    caller: Caller,
    credential: Credential,
    job_id: Option<String>,
    headers: &HeaderMap,
    query: &StreamQuery,
) -> Result<Response, AppError> {
    let requested = requested_cursor(headers, query.last_event_id.as_deref())?;
    let share = state.streams.shares.take(caller.user())?;
    let stream = match open_stream(state, caller, job_id, requested).await? {
        Opened::Ended => return Ok(StatusCode::NO_CONTENT.into_response()),
        Opened::Stream(mut stream) => {
            // A stream that rests on a session or a token ends once that is revoked, or its
            // account's role changes (what it may see changes with it).
            if !matches!(credential, Credential::Lasting) {
                stream.changes = Some(state.identities.accounts().changes());
                stream.credential = Some(Box::new((state.identities.clone(), credential)));
            }
            stream._share = Some(share);
            stream
        }
    };
    let body = Body::from_stream(futures::stream::unfold(stream, |mut s| async move {
        s.next_chunk()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), s))
    }));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    for (name, value) in STREAM_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    Ok(response)
}

/// The response headers of every event stream (besides the framing).
const STREAM_HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache, no-transform"),
    ("x-accel-buffering", "no"),
];

/// What a stream request opens.
enum Opened {
    /// The client has seen the end of this job's stream already (`204 No Content`).
    Ended,
    Stream(Box<EventStream>),
}

/// Opens the caller's stream (or one job's, with `job_id`) from `requested`, the client's
/// `Last-Event-ID`: its opening chunk (`retry:`, maybe `resync`, the `snapshot`) is ready and
/// everything committed from now on will be sent.
async fn open_stream(
    state: &AppState,
    caller: Caller,
    job_id: Option<String>,
    requested: Option<i64>,
) -> Result<Opened, AppError> {
    let engine = &state.engine;
    // Subscribe before reading anything, so nothing committed from now on can be missed.
    let sub = engine.bus().subscribe(caller.channel());
    // A cursor from another process may be ahead of what this one has published yet.
    let head = engine.head_at_least(requested.unwrap_or(0)).await;

    let job = match &job_id {
        Some(id) => Some(engine.job(&caller, id).await?),
        None => None,
    };
    if let (Some(job), Some(cursor)) = (&job, requested) {
        // The client saw the end of this job already: 204 tells an EventSource to stop.
        if job.status.is_terminal() && job.event_id <= cursor {
            return Ok(Opened::Ended);
        }
    }

    // `retry:` opens the stream and shares the first event's block, so that clients which
    // attach fields to the event they belong to see it.
    let mut opening = BytesMut::from(format!("retry: {RETRY_MS}\n").as_bytes());
    let cursor = match requested {
        Some(c) => match stale_cursor(engine, c, head) {
            Some(reason) => {
                opening.extend_from_slice(&resync_frame(reason));
                head
            }
            None => c,
        },
        None if job.is_some() => 0,
        None => head,
    };
    let data = snapshot_data(engine, &caller, job.as_ref()).await?;
    opening.extend_from_slice(&sse_frame(cursor, EventType::Snapshot.as_str(), &data));

    Ok(Opened::Stream(Box::new(EventStream {
        engine: engine.clone(),
        caller,
        job_id,
        sub,
        cursor,
        opening: Some(opening.freeze()),
        replaying: true,
        finished: false,
        version_pending: (cursor < engine.version_event_id()).then(|| engine.version_event_id()),
        keep_alive: keep_alive(state.streams.keep_alive),
        stopped: Box::pin(engine.stopping().cancelled_owned()),
        stopping: engine.stopping(),
        metrics: Arc::clone(&state.telemetry.server),
        credential: None,
        changes: None,
        _share: None,
        _open: state.telemetry.server.opened("sse"),
    })))
}

/// Why events after `cursor` cannot be replayed, if they cannot.
fn stale_cursor(engine: &Engine, cursor: i64, head: i64) -> Option<&'static str> {
    if cursor > head {
        Some("the event id is newer than this server's events")
    } else if cursor < engine.pruned_through() {
        Some("events after this id are no longer kept")
    } else {
        None
    }
}

/// The `snapshot` payload: one job for a per-job stream, else the owner's jobs in view.
async fn snapshot_data(
    engine: &Engine,
    caller: &Caller,
    job: Option<&Job>,
) -> Result<String, AppError> {
    let snapshot = match job {
        Some(job) => vec![job.clone()],
        None => engine.snapshot_jobs(caller, SNAPSHOT_RECENT).await?,
    };
    let snapshot = Snapshot {
        jobs: snapshot,
        build: engine.build().to_string(),
        notices: engine.notices().await?,
    };
    serde_json::to_string(&snapshot).map_err(|_| AppError::internal())
}

fn keep_alive(every: Duration) -> Interval {
    let mut i = tokio::time::interval_at(Instant::now() + every, every);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

/// A `resync` event carries no id: it does not move the client's cursor; the snapshot after it
/// does.
fn resync_frame(reason: &str) -> Bytes {
    let data = serde_json::json!({ "reason": reason }).to_string();
    Bytes::from(format!("event: resync\ndata: {data}\n\n"))
}

struct EventStream {
    engine: Engine,
    caller: Caller,
    /// `Some` for a per-job stream.
    job_id: Option<String>,
    sub: Subscription,
    /// The id of the last event sent (or the snapshot's).
    cursor: i64,
    opening: Option<Bytes>,
    /// Reading from the store rather than the bus.
    replaying: bool,
    /// A per-job stream has sent its terminal event.
    finished: bool,
    /// The id of this server's `version` event, while the client has not been sent it: set
    /// when the client resumes from a cursor older than the server's start.
    version_pending: Option<i64>,
    keep_alive: Interval,
    /// Completes when the server stops; made once, so that waiting for the next event costs no
    /// registration with the token.
    stopped: Pin<Box<WaitForCancellationFutureOwned>>,
    stopping: CancellationToken,
    metrics: Arc<ServerMetrics>,
    /// What the stream's caller rests on, checked again at every keep-alive and whenever an
    /// account changes: the stream ends once the account is disabled, its password or role
    /// changed, or the token revoked.
    credential: Option<Box<(Identities, Credential)>>,
    /// Moves when an account or token changes in this process.
    changes: Option<tokio::sync::watch::Receiver<u64>>,
    /// Counts this stream in its user's share while it lives.
    _share: Option<crate::shares::Share>,
    /// Counts this stream as open while it lives.
    _open: OpenStream,
}

/// Completes when an account or token changes in this process; never without `changes`.
async fn account_changed(changes: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    match changes {
        Some(rx) => {
            if rx.changed().await.is_err() {
                // The accounts are gone (the server is stopping): nothing more will change.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

impl EventStream {
    /// Whether the caller still holds what the stream was opened with (always, for a stream
    /// that rests on nothing revocable).
    async fn still_valid(&self) -> bool {
        match self.credential.as_deref() {
            Some((identities, credential)) => {
                identities.still_valid(credential, &self.caller).await
            }
            None => true,
        }
    }

    /// The next bytes to send (see [`EventStream::next_bytes`]), counted as sent.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        let chunk = self.next_bytes().await;
        if let Some(c) = &chunk {
            self.metrics.sent(c.len());
        }
        chunk
    }

    /// The next bytes to send: the opening, a burst of events, or a keep-alive comment. `None`
    /// when the stream is over (its job ended, the server is stopping, or the store failed).
    async fn next_bytes(&mut self) -> Option<Bytes> {
        if let Some(opening) = self.opening.take() {
            return Some(opening);
        }
        loop {
            if self.finished {
                return None;
            }
            if self.replaying {
                if self.stopping.is_cancelled() {
                    return None;
                }
                // Boxed: a replay's store queries would otherwise size every idle stream's
                // future.
                match Box::pin(self.replay_batch()).await {
                    Ok(Some(chunk)) => return Some(chunk),
                    Ok(None) => self.replaying = false,
                    Err(_) => return None, // logged where it happened; the client reconnects
                }
                continue;
            }
            let first = tokio::select! {
                _ = &mut self.stopped => return None,
                r = self.sub.recv() => r,
                _ = self.keep_alive.tick() => {
                    if !self.still_valid().await {
                        return None;
                    }
                    return Some(Bytes::from_static(b": keep-alive\n\n"));
                }
                _ = account_changed(&mut self.changes) => {
                    if !self.still_valid().await {
                        return None;
                    }
                    continue;
                }
            };
            match first {
                Ok(event) => {
                    if let Some(chunk) = Box::pin(self.burst(event)).await {
                        return Some(chunk);
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    self.metrics.fell_behind();
                    self.replaying = true;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// `first` and every event already waiting behind it, as one chunk, so that a busy stream
    /// makes one write per wake-up rather than one per event. `None` if none is for this stream.
    async fn burst(&mut self, first: Arc<Event>) -> Option<Bytes> {
        let (cursor, job) = (self.cursor, self.job_id.as_deref());
        let first = match catch_up(&mut self.sub, first, |e| {
            e.id > cursor && wants(job, e.job_id.as_deref())
        }) {
            Ok(caught) => return self.send_caught_up(caught).await,
            Err(first) => first,
        };
        let mut single: Option<Bytes> = None;
        let mut many: Option<BytesMut> = None;
        let mut next = Some(first);
        while let Some(event) = next.take() {
            if event.id > self.cursor && wants(self.job_id.as_deref(), event.job_id.as_deref()) {
                self.cursor = event.id;
                let frame = event.frame();
                match (&mut single, &mut many) {
                    (None, None) => single = Some(frame),
                    (Some(_), None) => {
                        let first = single.take().expect("checked above");
                        let mut buf = BytesMut::with_capacity((first.len() + frame.len()) * 4);
                        buf.extend_from_slice(&first);
                        buf.extend_from_slice(&frame);
                        many = Some(buf);
                    }
                    (_, Some(buf)) => buf.extend_from_slice(&frame),
                }
                if event.kind == EventType::Done && self.is_final_done(event.id).await {
                    self.finished = true;
                    break;
                }
                if many.as_ref().is_some_and(|b| b.len() >= BURST_BYTES) {
                    break;
                }
            }
            match self.sub.try_recv() {
                Ok(e) => next = Some(e),
                // Whatever was missed comes from the store, after what this chunk carries.
                Err(TryRecvError::Lagged(_)) => {
                    self.metrics.fell_behind();
                    self.replaying = true;
                }
                // Empty, or closed (the next `recv` says so).
                Err(_) => {}
            }
        }
        many.map(BytesMut::freeze).or(single)
    }

    /// Sends what a stream that is behind took at once (see [`catch_up`]). `None` if none of
    /// it is for this stream.
    async fn send_caught_up(&mut self, caught: CaughtUp) -> Option<Bytes> {
        self.metrics.skipped_progress(caught.skipped);
        if caught.lagged {
            // Whatever was missed comes from the store, after what this chunk carries.
            self.metrics.fell_behind();
            self.replaying = true;
        }
        let mut chunk =
            BytesMut::with_capacity(caught.events.iter().map(|e| e.frame().len()).sum());
        for event in caught.events {
            self.cursor = event.id;
            chunk.extend_from_slice(&event.frame());
            if event.kind == EventType::Done && self.is_final_done(event.id).await {
                self.finished = true;
                break;
            }
        }
        (!chunk.is_empty()).then(|| chunk.freeze())
    }

    /// The `version` event, in the place of the id reserved for it when this server started.
    fn version_frame(&self, id: i64) -> Bytes {
        let data = serde_json::to_string(&VersionEvent {
            build: self.engine.build().to_string(),
        })
        .expect("a version event always serializes");
        sse_frame(id, EventType::Version.as_str(), &data)
    }

    /// Whether a `done` event ends this per-job stream: it does unless the job was queued again
    /// afterwards (an interrupted job of a resumable kind), in which case its story goes on.
    async fn is_final_done(&self, done_id: i64) -> bool {
        let Some(job_id) = &self.job_id else {
            return false;
        };
        match self.engine.job(&self.caller, job_id).await {
            // The job's last event is its final `done`; an earlier `done` was followed by more.
            Ok(job) => job.status.is_terminal() && job.event_id <= done_id,
            _ => true,
        }
    }

    /// The next stored events after the cursor as one chunk, or `None` when caught up. If the
    /// events after the cursor have been pruned meanwhile, a `resync` and a fresh snapshot.
    async fn replay_batch(&mut self) -> Result<Option<Bytes>, AppError> {
        let replay = self
            .engine
            .events_after(
                &self.caller,
                self.job_id.as_deref(),
                self.cursor,
                REPLAY_BATCH,
            )
            .await?;
        let events = match replay {
            Replay::Events(events) => events,
            Replay::Pruned => {
                let head = self.engine.head();
                let mut chunk =
                    BytesMut::from(&resync_frame("events after this id are no longer kept")[..]);
                let data = snapshot_data(&self.engine, &self.caller, None).await?;
                chunk.extend_from_slice(&sse_frame(head, EventType::Snapshot.as_str(), &data));
                self.cursor = head;
                return Ok(Some(chunk.freeze()));
            }
        };
        let Some(last) = events.last() else {
            // Caught up. A client whose cursor predates this server's start learns its build.
            return Ok(self.version_pending.take().map(|v| {
                self.cursor = self.cursor.max(v);
                self.version_frame(v)
            }));
        };
        self.cursor = last.id;
        let kept: Vec<&StoredEvent> = coalesce(&events).collect();
        self.metrics.skipped_progress(events.len() - kept.len());
        let mut chunk = BytesMut::new();
        for e in kept {
            if let Some(v) = self.version_pending.filter(|v| e.id >= *v) {
                // A backend shared by several processes stores each one's `version` event, and
                // replays it like any other; otherwise it is sent here, in its place.
                if e.id > v {
                    chunk.extend_from_slice(&self.version_frame(v));
                }
                self.version_pending = None;
            }
            chunk.extend_from_slice(&sse_frame(e.id, e.kind.as_str(), &e.data));
            if e.kind == EventType::Done && self.is_final_done(e.id).await {
                self.finished = true;
                self.cursor = e.id;
                break;
            }
        }
        Ok(Some(chunk.freeze()))
    }
}

/// Whether a stream of `stream_job` (`Some` for a per-job stream) carries an event of
/// `event_job`: per-job streams carry that job's events and the events for everyone (notices).
fn wants(stream_job: Option<&str>, event_job: Option<&str>) -> bool {
    match (stream_job, event_job) {
        (None, _) | (_, None) => true,
        (Some(id), Some(job)) => job == id,
    }
}

/// What a stream that is behind takes at once of the events waiting for it.
struct CaughtUp {
    /// What it sends, in order.
    events: Vec<Arc<Event>>,
    /// Progress samples left out because a later one of the same job is among `events`.
    skipped: usize,
    /// The subscription fell behind its channel meanwhile: what it missed comes from the store.
    lagged: bool,
}

/// If more than [`BEHIND`] events are waiting on `sub` behind `first` (just received), takes
/// them at once, up to [`CATCH_UP_MAX`], and keeps those `wanted` accepts without the progress
/// samples that a later sample of the same job among them supersedes. Otherwise takes nothing
/// and gives `first` back, to be sent with the rest as usual.
fn catch_up(
    sub: &mut Subscription,
    first: Arc<Event>,
    wanted: impl Fn(&Event) -> bool,
) -> Result<CaughtUp, Arc<Event>> {
    let waiting = sub.waiting();
    if waiting <= BEHIND {
        return Err(first);
    }
    let mut drained = Vec::with_capacity((waiting + 1).min(CATCH_UP_MAX));
    let mut lagged = false;
    let mut next = Some(first);
    while let Some(event) = next.take() {
        if wanted(&event) {
            drained.push(event);
        }
        if drained.len() == CATCH_UP_MAX {
            break;
        }
        match sub.try_recv() {
            Ok(e) => next = Some(e),
            Err(TryRecvError::Lagged(_)) => lagged = true,
            // Empty, or closed (the next `recv` says so).
            Err(_) => {}
        }
    }
    let taken = drained.len();
    let mut keep = sent_of(&drained).into_iter();
    drained.retain(|_| keep.next().unwrap_or(true));
    Ok(CaughtUp {
        skipped: taken - drained.len(),
        events: drained,
        lagged,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollQuery {
    after: Option<String>,
    timeout_ms: Option<u64>,
}

/// One event of a long-poll answer: the same id, type and data as on the stream.
#[derive(Debug, serde::Serialize)]
pub struct PolledEvent {
    /// Absent for `resync`, which does not move the cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    #[serde(rename = "type")]
    kind: String,
    data: Box<serde_json::value::RawValue>,
}

#[derive(Debug, serde::Serialize)]
pub struct PollPage {
    events: Vec<PolledEvent>,
    /// Pass as `after` in the next call.
    next: i64,
}

/// Longest a poll waits for something to happen.
const POLL_MAX_WAIT: Duration = Duration::from_secs(60);

/// `GET /api/v1/events/poll?after={id}`: the stream's events as JSON, for clients that cannot
/// hold a stream. Answers as soon as there is anything after `after`, or empty after
/// `timeout_ms` (default 25 s). Without `after`, it answers at once with a snapshot.
pub async fn poll(
    State(state): State<AppState>,
    caller: Extension<Caller>,
    query: Result<Query<PollQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let _share = state.streams.shares.take(caller.user())?;
    let _open = state.telemetry.server.opened("poll");
    let metrics = Arc::clone(&state.telemetry.server);
    let axum::Json(page) = poll_page(State(state), caller, query).await?;
    let body = serde_json::to_vec(&page).map_err(|_| AppError::internal())?;
    metrics.sent(body.len());
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn poll_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<PollQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<PollPage>, ApiError> {
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let after = requested_cursor(&HeaderMap::new(), q.after.as_deref())?;
    let wait = Duration::from_millis(q.timeout_ms.unwrap_or(25_000)).min(POLL_MAX_WAIT);
    let engine = &state.engine;
    let mut sub = engine.bus().subscribe(caller.channel());
    let head = engine.head_at_least(after.unwrap_or(0)).await;
    let mut events = Vec::new();
    let after = match after {
        Some(c) => match stale_cursor(engine, c, head) {
            Some(reason) => {
                let data = serde_json::json!({ "reason": reason }).to_string();
                events.push(polled(None, "resync", data));
                None
            }
            None => Some(c),
        },
        None => None,
    };
    let Some(after) = after else {
        let data = snapshot_data(engine, &caller, None).await?;
        events.push(polled(Some(head), EventType::Snapshot.as_str(), data));
        return Ok(axum::Json(PollPage { events, next: head }));
    };
    let deadline = Instant::now() + wait;
    let stopping = engine.stopping();
    loop {
        let stored = match engine
            .events_after(&caller, None, after, REPLAY_BATCH)
            .await?
        {
            Replay::Events(stored) => stored,
            Replay::Pruned => {
                let head = engine.head();
                let reason =
                    serde_json::json!({ "reason": "events after this id are no longer kept" });
                let data = snapshot_data(engine, &caller, None).await?;
                let events = vec![
                    polled(None, "resync", reason.to_string()),
                    polled(Some(head), EventType::Snapshot.as_str(), data),
                ];
                return Ok(axum::Json(PollPage { events, next: head }));
            }
        };
        if let Some(last) = stored.last() {
            let next = last.id;
            let events: Vec<PolledEvent> = coalesce(&stored)
                .map(|e| polled(Some(e.id), e.kind.as_str(), e.data.clone()))
                .collect();
            state
                .telemetry
                .server
                .skipped_progress(stored.len() - events.len());
            return Ok(axum::Json(PollPage { events, next }));
        }
        tokio::select! {
            r = sub.recv() => if let Err(RecvError::Closed) = r { break },
            _ = tokio::time::sleep_until(deadline) => break,
            _ = stopping.cancelled() => break,
        }
    }
    Ok(axum::Json(PollPage {
        events: Vec::new(),
        next: after,
    }))
}

fn polled(id: Option<i64>, kind: &str, data: String) -> PolledEvent {
    let data = serde_json::value::RawValue::from_string(data)
        .unwrap_or_else(|_| serde_json::value::RawValue::from_string("null".into()).unwrap());
    PolledEvent {
        id,
        kind: kind.to_string(),
        data,
    }
}

/// An event as coalescing sees it: whether it is a progress sample, and of which job.
pub trait Sample {
    /// The job whose progress sample this is; `None` for any other event.
    fn progress_of(&self) -> Option<&str>;
}

impl Sample for StoredEvent {
    fn progress_of(&self) -> Option<&str> {
        self.job_id
            .as_deref()
            .filter(|_| self.kind == EventType::Progress)
    }
}

impl Sample for Arc<Event> {
    fn progress_of(&self) -> Option<&str> {
        self.job_id
            .as_deref()
            .filter(|_| self.kind == EventType::Progress)
    }
}

/// Drops progress samples that a later sample of the same job in `events` supersedes; every
/// other event (status changes, log lines, terminal events, notices...) is kept, in order. A
/// sample carries the bar's whole state, so the latest says all that the ones it replaces did.
pub fn coalesce<E: Sample>(events: &[E]) -> impl Iterator<Item = &E> {
    events
        .iter()
        .zip(sent_of(events))
        .filter_map(|(e, sent)| sent.then_some(e))
}

/// For each of `events`, whether [`coalesce`] keeps it.
fn sent_of<E: Sample>(events: &[E]) -> Vec<bool> {
    let mut later = Jobs::Few(Vec::new());
    let mut sent: Vec<bool> = events
        .iter()
        .rev()
        .map(|e| e.progress_of().is_none_or(|job| later.insert(job)))
        .collect();
    sent.reverse();
    sent
}

/// A set of job ids, walking back through a batch: searched in place while there are few (a
/// batch usually carries a handful of jobs, and comparing a few ids costs less than hashing
/// one), hashed past [`Jobs::FEW`].
enum Jobs<'a> {
    Few(Vec<&'a str>),
    Many(HashSet<&'a str>),
}

impl<'a> Jobs<'a> {
    const FEW: usize = 16;

    /// Adds `job`; whether it was not there yet.
    fn insert(&mut self, job: &'a str) -> bool {
        match self {
            Jobs::Few(jobs) if jobs.contains(&job) => false,
            Jobs::Few(jobs) if jobs.len() < Self::FEW => {
                jobs.push(job);
                true
            }
            Jobs::Few(jobs) => {
                let mut set: HashSet<&str> = jobs.drain(..).collect();
                set.insert(job);
                *self = Jobs::Many(set);
                true
            }
            Jobs::Many(set) => set.insert(job),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64, job: &str, kind: &str) -> StoredEvent {
        StoredEvent {
            id,
            job_id: Some(job.into()),
            kind: EventType::parse(kind).unwrap(),
            data: "{}".into(),
        }
    }

    #[test]
    fn coalescing_keeps_the_latest_sample_and_every_other_event() {
        let events = vec![
            ev(1, "a", "progress"),
            ev(2, "a", "log"),
            ev(3, "b", "progress"),
            ev(4, "a", "progress"),
            ev(5, "a", "done"),
        ];
        let ids: Vec<i64> = coalesce(&events).map(|e| e.id).collect();
        assert_eq!(ids, [2, 3, 4, 5]);
    }

    #[test]
    fn coalescing_never_drops_an_event_that_is_not_progress() {
        let mut events: Vec<StoredEvent> = ["job", "log", "done", "snapshot", "version", "resync"]
            .iter()
            .enumerate()
            .flat_map(|(i, kind)| {
                let id = i as i64 * 2;
                [ev(id + 1, "a", kind), ev(id + 2, "a", kind)]
            })
            .collect();
        events.push(StoredEvent {
            id: 100,
            job_id: None,
            kind: EventType::Notice,
            data: "{}".into(),
        });
        let ids: Vec<i64> = coalesce(&events).map(|e| e.id).collect();
        assert_eq!(ids, events.iter().map(|e| e.id).collect::<Vec<_>>());
    }

    #[test]
    fn coalescing_keeps_each_jobs_newest_sample_in_its_own_place() {
        let events = vec![
            ev(1, "a", "progress"),
            ev(2, "b", "progress"),
            ev(3, "a", "progress"),
            ev(4, "b", "job"),
            ev(5, "c", "progress"),
            ev(6, "b", "progress"),
            ev(7, "a", "log"),
            ev(8, "b", "progress"),
            ev(9, "a", "progress"),
            ev(10, "c", "log"),
        ];
        let ids: Vec<i64> = coalesce(&events).map(|e| e.id).collect();
        // c's only sample stays before b's newest; a's newest after its log line.
        assert_eq!(ids, [4, 5, 7, 8, 9, 10]);
        // Samples of different jobs supersede nothing.
        let distinct = [
            ev(1, "a", "progress"),
            ev(2, "b", "progress"),
            ev(3, "c", "progress"),
        ];
        assert_eq!(coalesce(&distinct).count(), 3);
    }

    #[test]
    fn coalescing_holds_for_many_jobs_at_once() {
        // More jobs than are searched in place: two rounds of 40 jobs' samples, then a log line.
        let jobs: Vec<String> = (0..40).map(|j| format!("job-{j}")).collect();
        let mut events = Vec::new();
        for round in 0..2 {
            for (j, job) in jobs.iter().enumerate() {
                events.push(ev(round * 100 + j as i64, job, "progress"));
            }
        }
        events.push(ev(1000, "job-0", "log"));
        let ids: Vec<i64> = coalesce(&events).map(|e| e.id).collect();
        let newest: Vec<i64> = (100..140).chain([1000]).collect();
        assert_eq!(ids, newest);
    }

    fn live(id: i64, job: Option<&str>, kind: EventType) -> Arc<Event> {
        let data = format!("{{\"n\":{id}}}");
        Arc::new(Event::new(id, job.map(str::to_string), kind, &data))
    }

    /// A subscription with `events` published to it and the first of them received, as a
    /// stream has when it wakes.
    async fn woken_with(
        bus: &Arc<engine::bus::Bus>,
        events: Vec<Arc<Event>>,
    ) -> (Subscription, Arc<Event>) {
        let mut sub = bus.subscribe("u");
        for e in events {
            bus.publish("u", e);
        }
        let first = sub.recv().await.unwrap();
        (sub, first)
    }

    fn ids(events: &[Arc<Event>]) -> Vec<i64> {
        events.iter().map(|e| e.id).collect()
    }

    #[tokio::test]
    async fn a_stream_within_the_bound_is_not_behind_and_takes_nothing_at_once() {
        let bus = Arc::new(engine::bus::Bus::new(64));
        // The first and BEHIND more, all samples of one job.
        let events = (1..=BEHIND as i64 + 1)
            .map(|id| live(id, Some("a"), EventType::Progress))
            .collect();
        let (mut sub, first) = woken_with(&bus, events).await;
        let first = catch_up(&mut sub, first, |_| true)
            .err()
            .expect("not behind");
        assert_eq!(first.id, 1);
        assert_eq!(
            sub.waiting(),
            BEHIND,
            "every sample is still there to be sent"
        );
    }

    #[tokio::test]
    async fn a_stream_past_the_bound_gets_each_jobs_newest_sample_and_every_other_event_in_order() {
        let bus = Arc::new(engine::bus::Bus::new(64));
        let mut events = vec![live(1, Some("a"), EventType::Job)];
        for id in 2..=11 {
            events.push(live(id, Some("a"), EventType::Progress));
            events.push(live(id + 100, Some("b"), EventType::Progress));
        }
        events.push(live(200, Some("a"), EventType::Log));
        events.push(live(201, Some("a"), EventType::Progress));
        events.push(live(202, Some("a"), EventType::Job));
        events.push(live(203, Some("a"), EventType::Done));
        events.push(live(204, None, EventType::Notice));
        events.push(live(205, Some("c"), EventType::Progress));
        let published = events.len();
        let (mut sub, first) = woken_with(&bus, events).await;
        let caught = catch_up(&mut sub, first, |_| true).expect("behind");
        assert_eq!(ids(&caught.events), [1, 111, 200, 201, 202, 203, 204, 205]);
        assert_eq!(caught.skipped, published - 8);
        assert!(!caught.lagged);
        assert_eq!(sub.waiting(), 0, "everything waiting was taken");
    }

    #[tokio::test]
    async fn a_stream_that_is_behind_coalesces_only_what_it_sends() {
        let bus = Arc::new(engine::bus::Bus::new(64));
        // A per-job stream of `a` at cursor 3: b's events and what it sent already are not its.
        let mut events = Vec::new();
        for id in 1..=30 {
            let job = if id % 2 == 0 { "a" } else { "b" };
            events.push(live(id, Some(job), EventType::Progress));
        }
        let (mut sub, first) = woken_with(&bus, events).await;
        let caught = catch_up(&mut sub, first, |e| {
            e.id > 3 && wants(Some("a"), e.job_id.as_deref())
        })
        .expect("behind");
        assert_eq!(ids(&caught.events), [30]);
        assert_eq!(caught.skipped, 13, "a's samples 4 to 28");
    }

    #[tokio::test]
    async fn a_stream_far_behind_takes_at_most_a_replay_batch_at_once() {
        let bus = Arc::new(engine::bus::Bus::new(1024));
        let events = (1..=CATCH_UP_MAX as i64 + 100)
            .map(|id| live(id, Some("a"), EventType::Log))
            .collect();
        let (mut sub, first) = woken_with(&bus, events).await;
        let caught = catch_up(&mut sub, first, |_| true).expect("behind");
        assert_eq!(caught.events.len(), CATCH_UP_MAX);
        assert_eq!(caught.skipped, 0);
        assert_eq!(sub.waiting(), 100);
    }

    #[test]
    fn cursor_comes_from_header_then_query() {
        let mut h = HeaderMap::new();
        assert_eq!(requested_cursor(&h, None).unwrap(), None);
        assert_eq!(requested_cursor(&h, Some("12")).unwrap(), Some(12));
        h.insert("last-event-id", HeaderValue::from_static(" 7 "));
        assert_eq!(requested_cursor(&h, Some("12")).unwrap(), Some(7));
    }

    #[test]
    fn malformed_cursors_are_refused_with_a_message() {
        let h = HeaderMap::new();
        for bad in ["abc", "-1", "1.5", "99999999999999999999"] {
            let err = requested_cursor(&h, Some(bad)).unwrap_err();
            assert!(
                err.message.contains("Last-Event-ID"),
                "{bad}: {}",
                err.message
            );
        }
    }
}
