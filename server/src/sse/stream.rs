//! `GET /api/v1/events` (every event the caller may see) and `GET /api/v1/jobs/{id}/events`
//! (one job's, ending after its terminal event): the caller's feed (`engine::feed`) as
//! `text/event-stream`, framed by [`super::frames`].
//!
//! A stream opens with `retry:` and a `snapshot` whose id is its starting cursor: the store's
//! head for a fresh connection, the client's `Last-Event-ID` for a resumed one (or 0 for a
//! fresh per-job stream, which then replays the job from its start). A stream that rests on a
//! session or a token ends once that is revoked or its account's role changes (what it may
//! see changes with it). A client that has seen the end of a job's stream gets
//! `204 No Content`, which tells an `EventSource` to stop.

use super::cursor::requested_cursor;
use super::frames::SseFrames;
use crate::error::ApiError;
use crate::identity::{Credential, Identity};
use crate::shares::Share;
use crate::state::AppState;
use crate::telemetry::{OpenStream, ServerMetrics};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use engine::feed::{FeedSettings, Opened, Start};
use engine::Caller;
use model::AppError;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StreamQuery {
    /// `Last-Event-ID`, for a client that cannot set the header: an event id.
    #[schemars(with = "Option<i64>", range(min = 0))]
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
        Some(&id),
        &headers,
        &query,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => ApiError(e).into_response(),
    }
}

/// The response headers of every event stream (besides the framing).
const STREAM_HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache, no-transform"),
    ("x-accel-buffering", "no"),
];

async fn open(
    state: &AppState,
    caller: Caller,
    credential: Credential,
    job_id: Option<&str>,
    headers: &HeaderMap,
    query: &StreamQuery,
) -> Result<Response, AppError> {
    let requested = requested_cursor(headers, query.last_event_id.as_deref())?;
    let share = state.streams.shares.take(caller.user())?;
    let job_id = job_id.map(engine::requested::job_id).transpose()?;
    let metrics = Arc::clone(&state.telemetry.server);
    let settings = FeedSettings {
        quiet: state.streams.keep_alive,
        metrics: Arc::clone(&metrics) as _,
        standing: state.identities.standing(&caller, credential),
    };
    let start = Start {
        job_id,
        cursor: requested,
        snapshot_on_resume: true,
    };
    let feed = match state.engine.feeds().open(caller, start, settings).await? {
        Opened::Ended => return Ok(StatusCode::NO_CONTENT.into_response()),
        Opened::Feed(feed) => feed,
    };
    let stream = EventStream {
        frames: SseFrames::new(feed),
        _open: metrics.opened("sse"),
        metrics,
        _share: share,
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

/// An open stream: its feed's frames, and what counts it while it lives.
struct EventStream {
    frames: SseFrames,
    metrics: Arc<ServerMetrics>,
    /// Counts this stream in its user's share while it lives.
    _share: Share,
    /// Counts this stream as open while it lives.
    _open: OpenStream,
}

impl EventStream {
    /// The next bytes to send, counted as sent.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        let chunk = self.frames.next_chunk().await;
        if let Some(c) = &chunk {
            self.metrics.sent(c.len());
        }
        chunk
    }
}
