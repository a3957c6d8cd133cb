//! The bus: in-process fan-out of events that the writer has just committed.
//!
//! Each owner has its own small broadcast channel, created when their first stream subscribes
//! and dropped with their last, so an event wakes only the streams that may see it. A stream that
//! falls behind its channel is told it lagged and catches up from the store instead: the bus
//! never buffers more than `capacity` events per owner, whatever a client does.
//!
//! This is the seam for running several processes: a bus backed by PostgreSQL LISTEN/NOTIFY
//! would implement the same `publish`/`subscribe` pair.

use crate::model::EventType;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One persisted event, ready to go on the wire: its SSE frame is rendered once, when the event
/// is created, and shared by every stream that sends it.
#[derive(Debug)]
pub struct Event {
    pub id: i64,
    pub job_id: Option<String>,
    pub kind: EventType,
    frame: Bytes,
}

impl Event {
    /// `data` is the JSON payload (one line).
    pub fn new(id: i64, job_id: Option<String>, kind: EventType, data: &str) -> Event {
        let frame = sse_frame(id, kind.as_str(), data);
        Event { id, job_id, kind, frame }
    }

    /// The SSE frame for this event: `id`, `event` and `data` lines and a blank line.
    pub fn frame(&self) -> Bytes {
        self.frame.clone()
    }

    /// The JSON payload, as it is in the frame.
    pub fn data(&self) -> &str {
        let text = std::str::from_utf8(&self.frame).expect("frames are built from strings");
        let start = text.find("\ndata: ").map_or(0, |i| i + "\ndata: ".len());
        text[start..].trim_end_matches('\n')
    }
}

/// Formats one SSE frame. `data` must be a single line (compact JSON always is).
pub fn sse_frame(id: i64, kind: &str, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + kind.len() + 32);
    s.push_str("id: ");
    s.push_str(&id.to_string());
    s.push_str("\nevent: ");
    s.push_str(kind);
    s.push_str("\ndata: ");
    s.push_str(data);
    s.push_str("\n\n");
    Bytes::from(s)
}

pub type Receiver = broadcast::Receiver<Arc<Event>>;

pub struct Bus {
    capacity: usize,
    owners: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
}

impl Bus {
    pub fn new(capacity: usize) -> Bus {
        Bus { capacity: capacity.max(1), owners: Mutex::new(HashMap::new()) }
    }

    /// Starts receiving the owner's events. Everything published after this call is delivered
    /// (or reported as lagged): subscribe first, then read the store, and nothing falls between.
    pub fn subscribe(self: &Arc<Self>, owner: &str) -> Subscription {
        let mut owners = self.owners.lock().unwrap();
        let rx = match owners.get(owner) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(self.capacity);
                owners.insert(owner.to_string(), tx);
                rx
            }
        };
        Subscription { bus: Arc::clone(self), owner: owner.to_string(), rx: Some(rx) }
    }

    pub fn publish(&self, owner: &str, event: Arc<Event>) {
        let owners = self.owners.lock().unwrap();
        if let Some(tx) = owners.get(owner) {
            // An error only means every receiver has just gone; the subscription guard removes
            // the channel.
            let _ = tx.send(event);
        }
    }

    /// Sends an event to every open subscription (operator notices).
    pub fn publish_all(&self, event: Arc<Event>) {
        let owners = self.owners.lock().unwrap();
        for tx in owners.values() {
            let _ = tx.send(Arc::clone(&event));
        }
    }

    /// Owners with at least one open subscription.
    pub fn owner_count(&self) -> usize {
        self.owners.lock().unwrap().len()
    }

    fn unsubscribe(&self, owner: &str, rx: Receiver) {
        let mut owners = self.owners.lock().unwrap();
        drop(rx);
        if owners.get(owner).is_some_and(|tx| tx.receiver_count() == 0) {
            owners.remove(owner);
        }
    }
}

/// A live subscription; dropping it frees the owner's channel when it was the last one.
pub struct Subscription {
    bus: Arc<Bus>,
    owner: String,
    rx: Option<Receiver>,
}

impl Subscription {
    pub async fn recv(&mut self) -> Result<Arc<Event>, broadcast::error::RecvError> {
        self.rx.as_mut().expect("receiver is present until drop").recv().await
    }

    /// The next event if one is already waiting: lets a stream send a burst in one write.
    pub fn try_recv(&mut self) -> Result<Arc<Event>, broadcast::error::TryRecvError> {
        self.rx.as_mut().expect("receiver is present until drop").try_recv()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(rx) = self.rx.take() {
            self.bus.unsubscribe(&self.owner, rx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64) -> Arc<Event> {
        Arc::new(Event::new(id, None, EventType::Job, "{}"))
    }

    #[tokio::test]
    async fn delivers_only_to_the_owner() {
        let bus = Arc::new(Bus::new(8));
        let mut a = bus.subscribe("a");
        let mut b = bus.subscribe("b");
        bus.publish("a", ev(1));
        bus.publish("b", ev(2));
        assert_eq!(a.recv().await.unwrap().id, 1);
        assert_eq!(b.recv().await.unwrap().id, 2);
    }

    #[tokio::test]
    async fn publish_all_reaches_every_owner() {
        let bus = Arc::new(Bus::new(8));
        let mut a = bus.subscribe("a");
        let mut b = bus.subscribe("b");
        bus.publish_all(ev(3));
        assert_eq!(a.recv().await.unwrap().id, 3);
        assert_eq!(b.recv().await.unwrap().id, 3);
    }

    #[tokio::test]
    async fn last_subscription_frees_the_channel() {
        let bus = Arc::new(Bus::new(8));
        let s1 = bus.subscribe("a");
        let s2 = bus.subscribe("a");
        assert_eq!(bus.owner_count(), 1);
        drop(s1);
        assert_eq!(bus.owner_count(), 1);
        drop(s2);
        assert_eq!(bus.owner_count(), 0);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged() {
        let bus = Arc::new(Bus::new(2));
        let mut s = bus.subscribe("a");
        for id in 1..=5 {
            bus.publish("a", ev(id));
        }
        assert!(matches!(s.recv().await, Err(broadcast::error::RecvError::Lagged(3))));
        assert_eq!(s.recv().await.unwrap().id, 4);
    }

    #[tokio::test]
    async fn try_recv_takes_what_is_waiting_and_no_more() {
        let bus = Arc::new(Bus::new(8));
        let mut s = bus.subscribe("a");
        assert!(matches!(s.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
        bus.publish("a", ev(1));
        bus.publish("a", ev(2));
        assert_eq!(s.try_recv().unwrap().id, 1);
        assert_eq!(s.try_recv().unwrap().id, 2);
        assert!(matches!(s.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
    }

    #[test]
    fn event_frame_is_rendered_once_from_its_fields() {
        let e = Event::new(9, Some("j".into()), EventType::Progress, "{\"p\":1}");
        assert_eq!(&e.frame()[..], b"id: 9\nevent: progress\ndata: {\"p\":1}\n\n");
        assert_eq!(e.data(), "{\"p\":1}");
    }

    #[test]
    fn frame_has_id_event_and_data_lines() {
        assert_eq!(&sse_frame(7, "log", "{\"a\":1}")[..], b"id: 7\nevent: log\ndata: {\"a\":1}\n\n");
    }
}
