//! The event stream's bytes: each item of the feed as an SSE frame (`id:`, `event:` and `data:`
//! lines and a blank line; a `resync` without `id:`, which must not move the client's cursor;
//! a keep-alive as a comment line), `retry:` at the opening, and each batch of the feed as one
//! chunk, so that a busy stream makes one write per wake-up rather than one per event.

use bytes::{Bytes, BytesMut};
use engine::bus::sse_frame;
use engine::feed::{Feed, Item};

/// Milliseconds a client should wait before reconnecting.
pub const RETRY_MS: u64 = 2000;

/// A feed as an event stream's chunks.
pub struct SseFrames {
    feed: Box<Feed>,
    /// The opening has been sent.
    opened: bool,
}

impl SseFrames {
    pub fn new(feed: Box<Feed>) -> SseFrames {
        SseFrames {
            feed,
            opened: false,
        }
    }

    /// The next bytes to send: the opening (after `retry:`), a batch of events, or a
    /// keep-alive. `None` when the feed is over.
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        let items = self.feed.next().await?;
        let mut chunk = Chunk::default();
        for item in &items {
            chunk.push(frame(item));
        }
        let chunk = chunk.into_bytes()?;
        if std::mem::replace(&mut self.opened, true) {
            return Some(chunk);
        }
        // `retry:` opens the stream and shares the first event's block, so that clients which
        // attach fields to the event they belong to see it.
        let mut opening = BytesMut::from(format!("retry: {RETRY_MS}\n").as_bytes());
        opening.extend_from_slice(&chunk);
        Some(opening.freeze())
    }
}

/// One item's frame. A live event's is the one rendered when it was published, shared by every
/// stream that sends it.
pub fn frame(item: &Item) -> Bytes {
    match item {
        Item::Live(event) => event.frame(),
        Item::KeepAlive => Bytes::from_static(b": keep-alive\n\n"),
        // No id: it does not move the client's cursor; the snapshot after it does.
        Item::Resync { .. } => Bytes::from(format!("event: resync\ndata: {}\n\n", item.data())),
        Item::Stored(e) => sse_frame(e.id, e.kind.as_str(), &e.data),
        Item::Snapshot { id, data } | Item::Version { id, data } => {
            let kind = item.kind().expect("an event has a type");
            sse_frame(*id, kind.as_str(), data)
        }
    }
}

/// Frames to write at once: one as it is (a live event's shared frame is not copied), or
/// several copied into one buffer.
#[derive(Default)]
struct Chunk {
    single: Option<Bytes>,
    many: Option<BytesMut>,
}

impl Chunk {
    fn push(&mut self, frame: Bytes) {
        match (&mut self.single, &mut self.many) {
            (None, None) => self.single = Some(frame),
            (Some(_), None) => {
                let first = self.single.take().expect("checked above");
                let mut buf = BytesMut::with_capacity((first.len() + frame.len()) * 4);
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&frame);
                self.many = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&frame),
        }
    }

    fn into_bytes(self) -> Option<Bytes> {
        self.many.map(BytesMut::freeze).or(self.single)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::bus::Event;
    use engine::store::StoredEvent;
    use model::EventType;
    use std::sync::Arc;

    #[test]
    fn items_are_framed_as_the_event_stream_contract_says() {
        let frames: Vec<Bytes> = [
            Item::Resync { reason: "gone" },
            Item::Snapshot {
                id: 4,
                data: "{}".into(),
            },
            Item::Stored(StoredEvent {
                id: 5,
                job_id: Some(model::ids::testing::named("j")),
                kind: EventType::Log,
                data: r#"{"seq":1}"#.into(),
            }),
            Item::Version {
                id: 6,
                data: r#"{"build":"b"}"#.into(),
            },
            Item::Live(Arc::new(Event::new(7, None, EventType::Notice, "{}"))),
            Item::KeepAlive,
        ]
        .iter()
        .map(frame)
        .collect();
        let text: Vec<&str> = frames
            .iter()
            .map(|f| std::str::from_utf8(f).unwrap())
            .collect();
        assert_eq!(
            text,
            [
                "event: resync\ndata: {\"reason\":\"gone\"}\n\n",
                "id: 4\nevent: snapshot\ndata: {}\n\n",
                "id: 5\nevent: log\ndata: {\"seq\":1}\n\n",
                "id: 6\nevent: version\ndata: {\"build\":\"b\"}\n\n",
                "id: 7\nevent: notice\ndata: {}\n\n",
                ": keep-alive\n\n",
            ]
        );
    }

    #[test]
    fn a_single_frame_goes_as_it_is_and_several_go_in_one_buffer() {
        let shared = Bytes::from_static(b"id: 1\nevent: log\ndata: {}\n\n");
        let mut one = Chunk::default();
        one.push(shared.clone());
        let sent = one.into_bytes().unwrap();
        assert_eq!(sent.as_ptr(), shared.as_ptr(), "not copied");

        let mut several = Chunk::default();
        for _ in 0..3 {
            several.push(shared.clone());
        }
        assert_eq!(several.into_bytes().unwrap(), shared.repeat(3));
        assert!(Chunk::default().into_bytes().is_none());
    }
}
