//! A batch replayed from the store, as the feed sends it: without superseded progress samples,
//! and with this server's `version` item in its place.

use super::coalesce::coalesced;
use super::item::Item;
use crate::store::StoredEvent;

/// Events read from the store per replay query.
pub const REPLAY_BATCH: u32 = 500;

/// The items for `events`, stored events after the cursor (oldest first): the progress samples
/// a later one of the same job among them supersedes left out, and, while `version` (the id
/// reserved for this server's `version` item) is pending, that item in its place. With how
/// many samples were left out.
///
/// A backend shared by several processes stores each one's `version` event, and it is
/// replayed like any other; otherwise the item is made here (`version_item`), before the first
/// event after its id. Either way `version` is no longer pending once an event at or past its
/// id has gone by; if none has, it still is (sent once the feed has caught up).
pub(super) fn replayed(
    events: Vec<StoredEvent>,
    version: &mut Option<i64>,
    version_item: impl Fn(i64) -> Item,
) -> (Vec<Item>, usize) {
    let (kept, skipped) = coalesced(events);
    let mut items = Vec::with_capacity(kept.len() + 1);
    for e in kept {
        if let Some(v) = version.filter(|v| e.id >= *v) {
            if e.id > v {
                items.push(version_item(v));
            }
            *version = None;
        }
        items.push(Item::Stored(e));
    }
    (items, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;
    use model::EventType;

    fn ev(id: i64, kind: EventType) -> StoredEvent {
        StoredEvent {
            id,
            job_id: Some(named("a")),
            kind,
            data: "{}".into(),
        }
    }

    fn version(id: i64) -> Item {
        Item::Version {
            id,
            data: r#"{"build":"b"}"#.into(),
        }
    }

    fn shown(items: &[Item]) -> Vec<(i64, EventType)> {
        items
            .iter()
            .map(|i| (i.id().unwrap(), i.kind().unwrap()))
            .collect()
    }

    #[test]
    fn the_version_goes_before_the_first_event_after_its_id() {
        let mut pending = Some(5);
        let events = vec![
            ev(3, EventType::Log),
            ev(7, EventType::Log),
            ev(8, EventType::Log),
        ];
        let (items, _) = replayed(events, &mut pending, version);
        assert_eq!(
            shown(&items),
            [
                (3, EventType::Log),
                (5, EventType::Version),
                (7, EventType::Log),
                (8, EventType::Log)
            ]
        );
        assert_eq!(pending, None);
    }

    #[test]
    fn a_stored_version_event_is_replayed_as_it_is_and_not_made_again() {
        let mut pending = Some(5);
        let events = vec![ev(5, EventType::Version), ev(6, EventType::Log)];
        let (items, _) = replayed(events, &mut pending, version);
        assert_eq!(
            shown(&items),
            [(5, EventType::Version), (6, EventType::Log)]
        );
        assert!(matches!(items[0], Item::Stored(_)));
        assert_eq!(pending, None);
    }

    #[test]
    fn a_batch_before_the_version_leaves_it_pending() {
        let mut pending = Some(9);
        let (items, _) = replayed(vec![ev(3, EventType::Log)], &mut pending, version);
        assert_eq!(shown(&items), [(3, EventType::Log)]);
        assert_eq!(pending, Some(9));
        // Without a version pending, events go as they are.
        let mut none = None;
        let (items, _) = replayed(vec![ev(3, EventType::Log)], &mut none, version);
        assert_eq!(shown(&items), [(3, EventType::Log)]);
    }

    #[test]
    fn superseded_samples_are_left_out_and_counted() {
        let mut pending = None;
        let events = vec![
            ev(1, EventType::Progress),
            ev(2, EventType::Progress),
            ev(3, EventType::Log),
            ev(4, EventType::Progress),
        ];
        let (items, skipped) = replayed(events, &mut pending, version);
        assert_eq!(
            shown(&items),
            [(3, EventType::Log), (4, EventType::Progress)]
        );
        assert_eq!(skipped, 2);
    }
}
