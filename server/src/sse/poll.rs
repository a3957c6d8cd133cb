//! `GET /api/v1/events/poll?after={id}`: the caller's feed (`engine::feed`) as JSON pages, for
//! clients that cannot hold a stream. A page is what the stream would send next from the same
//! cursor, each event with the same id, type and data: a snapshot for a client without `after`
//! (or with one it cannot resume from, after a `resync`), else the stored events after it, this
//! server's `version` where it belongs, or the live events as they come: one batch of the feed,
//! so at most a replay's worth of events ([`engine::feed::REPLAY_BATCH`]). It answers as soon as
//! there is anything, or empty after `timeout_ms` (25 s unless asked, at most
//! `POLL_MAX_WAIT`).

use super::cursor::requested_cursor;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use engine::feed::{Feed, FeedSettings, Item, Opened, Start};
use engine::Caller;
use model::AppError;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// Longest a poll waits for something to happen.
const POLL_MAX_WAIT: Duration = Duration::from_secs(60);
/// How long a poll waits unless asked otherwise.
const POLL_WAIT: Duration = Duration::from_secs(25);

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollQuery {
    /// The `next` of the previous page: an event id.
    #[schemars(with = "Option<i64>", range(min = 0))]
    after: Option<String>,
    timeout_ms: Option<u64>,
}

/// One event of a long-poll answer: the same id, type and data as on the stream.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PolledEvent {
    /// Absent for `resync`, which does not move the cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    /// The event's type, as the stream's `event:` names it.
    #[serde(rename = "type")]
    #[schemars(with = "model::EventType")]
    kind: &'static str,
    /// What the stream's `data:` line carries for this type.
    #[schemars(with = "serde_json::Value")]
    data: Box<RawValue>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PollPage {
    events: Vec<PolledEvent>,
    /// Pass as `after` in the next call.
    next: i64,
}

pub async fn poll(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<PollQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let _share = state.streams.shares.take(caller.user())?;
    let metrics = Arc::clone(&state.telemetry.server);
    let _open = metrics.opened("poll");
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let after = requested_cursor(&HeaderMap::new(), q.after.as_deref())?;
    let wait = q
        .timeout_ms
        .map_or(POLL_WAIT, Duration::from_millis)
        .min(POLL_MAX_WAIT);
    // A page is all a long poll sends: the feed's first keep-alive is its empty answer.
    let settings = FeedSettings {
        quiet: wait,
        metrics: Arc::clone(&metrics) as _,
        standing: None,
    };
    let start = Start {
        job_id: None,
        cursor: after,
        snapshot_on_resume: false,
    };
    let page = match state.engine.feeds().open(caller, start, settings).await? {
        Opened::Feed(mut feed) => page(&mut feed).await,
        // Only one job's feed can have ended before it opens.
        Opened::Ended => PollPage {
            events: Vec::new(),
            next: after.unwrap_or(0),
        },
    };
    let body = serde_json::to_vec(&page)
        .map_err(|e| AppError::internal_because("writing a page of the long poll", e))?;
    metrics.sent(body.len());
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// What the feed gives first: empty if the feed ends or keeps quiet for the poll's wait.
async fn page(feed: &mut Feed) -> PollPage {
    let events: Vec<PolledEvent> = feed
        .next()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(polled)
        .collect();
    PollPage {
        events,
        next: feed.cursor(),
    }
}

/// An item as a page carries it; `None` for a keep-alive, which has nothing to tell.
fn polled(item: &Item) -> Option<PolledEvent> {
    let kind = item.kind()?;
    let data = RawValue::from_string(item.data().into_owned())
        .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"));
    Some(PolledEvent {
        id: item.id(),
        kind: kind.as_str(),
        data,
    })
}
