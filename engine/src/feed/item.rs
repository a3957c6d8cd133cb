//! What a feed yields: [`Item`]s, each either an event with an id, type and data (as the event
//! stream's `id:`, `event:` and `data:` lines, or a long poll's JSON), or a sign of life.

use crate::bus::Event;
use crate::store::StoredEvent;
use model::EventType;
use std::borrow::Cow;
use std::sync::Arc;

/// One thing to tell the client, in order.
#[derive(Debug, Clone)]
pub enum Item {
    /// The client's cursor cannot be resumed from (`reason` says why): what it shows must be
    /// reloaded from the snapshot that follows. It carries no id, so it does not move the
    /// client's cursor; the snapshot does.
    Resync { reason: &'static str },
    /// The current state of the jobs in view (a [`model::Snapshot`]), as of event `id`.
    Snapshot { id: i64, data: String },
    /// An event read back from the store.
    Stored(StoredEvent),
    /// An event as the committer published it, its frame rendered once for every feed.
    Live(Arc<Event>),
    /// This server's build (a [`model::VersionEvent`]), for a client whose cursor predates the
    /// server's start, under the id reserved for it then: an outdated page offers a reload.
    Version { id: i64, data: String },
    /// Nothing to tell for a while; the caller still holds what the feed rests on.
    KeepAlive,
}

impl Item {
    /// The event id the client's cursor moves to; `None` for a resync or a keep-alive.
    pub fn id(&self) -> Option<i64> {
        match self {
            Item::Resync { .. } | Item::KeepAlive => None,
            Item::Snapshot { id, .. } | Item::Version { id, .. } => Some(*id),
            Item::Stored(e) => Some(e.id),
            Item::Live(e) => Some(e.id),
        }
    }

    /// The event's type; `None` for a keep-alive.
    pub fn kind(&self) -> Option<EventType> {
        Some(match self {
            Item::Resync { .. } => EventType::Resync,
            Item::Snapshot { .. } => EventType::Snapshot,
            Item::Stored(e) => e.kind,
            Item::Live(e) => e.kind,
            Item::Version { .. } => EventType::Version,
            Item::KeepAlive => return None,
        })
    }

    /// The event's payload: one line of JSON (empty for a keep-alive).
    pub fn data(&self) -> Cow<'_, str> {
        match self {
            Item::Resync { reason } => {
                Cow::Owned(serde_json::json!({ "reason": reason }).to_string())
            }
            Item::Snapshot { data, .. } | Item::Version { data, .. } => Cow::Borrowed(data),
            Item::Stored(e) => Cow::Borrowed(&e.data),
            Item::Live(e) => Cow::Borrowed(e.data()),
            Item::KeepAlive => Cow::Borrowed(""),
        }
    }

    /// Whether this is a job's terminal event.
    pub(super) fn is_done(&self) -> bool {
        self.kind() == Some(EventType::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;

    #[test]
    fn every_item_but_a_keep_alive_has_a_type_and_data_and_only_events_have_ids() {
        let live = Item::Live(Arc::new(Event::new(
            7,
            Some(named("j")),
            EventType::Progress,
            r#"{"current":1}"#,
        )));
        assert_eq!(
            (live.id(), live.kind(), &*live.data()),
            (Some(7), Some(EventType::Progress), r#"{"current":1}"#)
        );
        let resync = Item::Resync { reason: "gone" };
        assert_eq!(
            (resync.id(), resync.kind(), &*resync.data()),
            (None, Some(EventType::Resync), r#"{"reason":"gone"}"#)
        );
        let version = Item::Version {
            id: 3,
            data: r#"{"build":"b"}"#.into(),
        };
        assert_eq!(
            (version.id(), version.kind()),
            (Some(3), Some(EventType::Version))
        );
        assert_eq!((Item::KeepAlive.id(), Item::KeepAlive.kind()), (None, None));
    }
}
