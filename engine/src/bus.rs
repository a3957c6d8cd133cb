//! The bus: in-process fan-out of events that the committer has just published.
//!
//! Each owner has its own broadcast channel, created when their first stream subscribes and
//! dropped with their last, so an event wakes only the streams that may see it. A stream that
//! falls behind its channel is told it lagged and catches up from the store instead: the bus
//! never buffers more than a bounded number of events per owner, whatever a client does.
//!
//! The channel's size follows the owner's number of streams: `capacity` slots for one stream,
//! twice that from two, and so on up to [`MAX_CAPACITY`]. An owner with one tab costs a few
//! hundred bytes; one with thousands of tabs, whose streams take longer to serve one event to
//! all of them, gets the room to do so without falling back on the store. When an owner
//! outgrows its channel, new streams join a larger one; both get every event until the old
//! one's last stream ends. A stream that falls behind moves to a channel twice the size of the
//! one it fell behind in (up to the same bound) as it goes back to the store: an owner whose
//! jobs make events faster than one wake-up of their stream can take stops falling behind
//! after a few doublings, instead of reading the store again at every one.
//!
//! This is the seam for running several processes: a bus backed by PostgreSQL LISTEN/NOTIFY
//! would implement the same `publish`/`subscribe` pair.

use crate::caller::EVERYONE;
use bytes::Bytes;
use model::{EventType, JobId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One persisted event, ready to go on the wire: its SSE frame is rendered once, when the event
/// is created, and shared by every stream that sends it.
#[derive(Debug)]
pub struct Event {
    pub id: i64,
    pub job_id: Option<JobId>,
    pub kind: EventType,
    frame: Bytes,
}

impl Event {
    /// `data` is the JSON payload (one line).
    pub fn new(id: i64, job_id: Option<JobId>, kind: EventType, data: &str) -> Event {
        let frame = sse_frame(id, kind.as_str(), data);
        Event {
            id,
            job_id,
            kind,
            frame,
        }
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

/// The most slots one owner's channel gets, however many streams they have open.
pub const MAX_CAPACITY: usize = 4096;

pub struct Bus {
    capacity: usize,
    owners: Mutex<HashMap<String, Channels>>,
    /// How many times a subscription fell behind its channel and had to catch up from the store.
    lagged: AtomicU64,
    /// The server is stopping: every channel is closed, and a new subscription is born closed.
    closed: AtomicBool,
}

/// One owner's channels: usually one; briefly more while streams that joined a smaller one are
/// still open.
struct Channels {
    /// Oldest first; new subscriptions join the last.
    senders: Vec<(usize, broadcast::Sender<Arc<Event>>)>,
    subscriptions: usize,
}

impl Channels {
    fn send(&self, event: &Arc<Event>) {
        for (_, tx) in &self.senders {
            // An error only means every receiver of that channel has just gone.
            let _ = tx.send(Arc::clone(event));
        }
    }
}

impl Bus {
    /// `capacity`: the slots of an owner's channel while they have one stream.
    pub fn new(capacity: usize) -> Bus {
        Bus {
            capacity: capacity.clamp(1, MAX_CAPACITY),
            owners: Mutex::new(HashMap::new()),
            lagged: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// The channel size for an owner with `subscriptions` streams.
    fn capacity_for(&self, subscriptions: usize) -> usize {
        self.capacity
            .saturating_mul(subscriptions.next_power_of_two())
            .min(MAX_CAPACITY)
    }

    /// Starts receiving the owner's events. Everything published after this call is delivered
    /// (or reported as lagged): subscribe first, then read the store, and nothing falls between.
    pub fn subscribe(self: &Arc<Self>, owner: &str) -> Subscription {
        // `owner` is a user id, or [`EVERYONE`] for every user's events.
        let mut owners = self.owners.lock().unwrap();
        if self.closed.load(Ordering::Relaxed) {
            // A channel without a sender: its first receive says it is closed.
            let (_, rx) = broadcast::channel(1);
            return Subscription {
                bus: Arc::clone(self),
                owner: owner.to_string(),
                rx: Some(rx),
                slots: 1,
            };
        }
        let channels = owners.entry(owner.to_string()).or_insert_with(|| Channels {
            senders: Vec::new(),
            subscriptions: 0,
        });
        channels.subscriptions += 1;
        let wanted = self.capacity_for(channels.subscriptions);
        if channels
            .senders
            .last()
            .is_none_or(|(capacity, _)| *capacity < wanted)
        {
            channels
                .senders
                .push((wanted, broadcast::channel(wanted).0));
        }
        let (slots, tx) = channels.senders.last().expect("pushed above");
        Subscription {
            bus: Arc::clone(self),
            owner: owner.to_string(),
            rx: Some(tx.subscribe()),
            slots: *slots,
        }
    }

    /// Moves a subscription of `owner` that fell behind its channel of `slots` to one at least
    /// twice as large (up to [`MAX_CAPACITY`]), made if the owner has none. It receives what is
    /// published from now on; what it missed, the stream reads from the store. Returns the new
    /// channel's size, or `None` if it stays where it is (at the bound, or the bus is closed).
    fn grow(&self, owner: &str, rx: &mut Receiver, slots: usize) -> Option<usize> {
        let wanted = slots.saturating_mul(2).min(MAX_CAPACITY);
        let mut owners = self.owners.lock().unwrap();
        if wanted <= slots || self.closed.load(Ordering::Relaxed) {
            return None;
        }
        let channels = owners.get_mut(owner)?;
        if channels
            .senders
            .last()
            .is_none_or(|(capacity, _)| *capacity < wanted)
        {
            channels
                .senders
                .push((wanted, broadcast::channel(wanted).0));
        }
        let (capacity, tx) = channels.senders.last().expect("pushed above");
        let capacity = *capacity;
        drop(std::mem::replace(rx, tx.subscribe()));
        channels.drop_outgrown();
        Some(capacity)
    }

    /// Sends an event of `owner`'s to their subscriptions and to those that see everyone's
    /// ([`EVERYONE`]).
    pub fn publish(&self, owner: &str, event: Arc<Event>) {
        let owners = self.owners.lock().unwrap();
        if let Some(channels) = owners.get(owner) {
            channels.send(&event);
        }
        if owner != EVERYONE {
            if let Some(channels) = owners.get(EVERYONE) {
                channels.send(&event);
            }
        }
    }

    /// Sends an event to every open subscription (operator notices).
    pub fn publish_all(&self, event: Arc<Event>) {
        let owners = self.owners.lock().unwrap();
        for channels in owners.values() {
            channels.send(&event);
        }
    }

    /// Closes every channel, for good: each subscription receives what was published to it
    /// before, then learns that the bus is closed; one made afterwards learns it at once. The
    /// server is stopping, and this is how every feed hears of it.
    pub fn close(&self) {
        let mut owners = self.owners.lock().unwrap();
        // Under the lock: a subscription is either made before (and closed now) or born closed.
        self.closed.store(true, Ordering::Relaxed);
        // Dropping the senders closes the channels.
        owners.clear();
    }

    /// How many times a subscription fell behind and had to catch up from the store.
    pub fn lagged(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }

    /// Open subscriptions: this process's event streams and long polls.
    pub fn subscriptions(&self) -> usize {
        self.owners
            .lock()
            .unwrap()
            .values()
            .map(|c| c.subscriptions)
            .sum()
    }

    /// Owners with at least one open subscription.
    pub fn owner_count(&self) -> usize {
        self.owners.lock().unwrap().len()
    }

    /// The slots of each of the owner's channels, oldest first.
    pub fn capacities(&self, owner: &str) -> Vec<usize> {
        let owners = self.owners.lock().unwrap();
        owners
            .get(owner)
            .map(|c| c.senders.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default()
    }

    fn unsubscribe(&self, owner: &str, rx: Receiver) {
        let mut owners = self.owners.lock().unwrap();
        drop(rx);
        let Some(channels) = owners.get_mut(owner) else {
            return;
        };
        channels.subscriptions -= 1;
        if channels.subscriptions == 0 {
            owners.remove(owner);
            return;
        }
        channels.drop_outgrown();
    }
}

impl Channels {
    /// Channels outgrown and now without streams go; the newest stays for the next ones.
    fn drop_outgrown(&mut self) {
        let newest = self.senders.len() - 1;
        let mut i = 0;
        self.senders.retain(|(_, tx)| {
            i += 1;
            i - 1 == newest || tx.receiver_count() > 0
        });
    }
}

/// A live subscription; dropping it frees the owner's channel when it was the last one.
pub struct Subscription {
    bus: Arc<Bus>,
    owner: String,
    rx: Option<Receiver>,
    /// The size of the channel `rx` receives from.
    slots: usize,
}

impl Subscription {
    /// The next event; `Lagged` when events were lost to this subscription (the stream must
    /// catch up from the store).
    pub async fn recv(&mut self) -> Result<Arc<Event>, broadcast::error::RecvError> {
        let r = self
            .rx
            .as_mut()
            .expect("receiver is present until drop")
            .recv()
            .await;
        if let Err(broadcast::error::RecvError::Lagged(_)) = r {
            self.fell_behind();
        }
        r
    }

    /// Counts the lag and moves to a larger channel (see [`Bus::grow`]).
    fn fell_behind(&mut self) {
        self.bus.lagged.fetch_add(1, Ordering::Relaxed);
        let rx = self.rx.as_mut().expect("receiver is present until drop");
        if let Some(slots) = self.bus.grow(&self.owner, rx, self.slots) {
            self.slots = slots;
        }
    }

    /// How many events published to this subscription it has not received yet: how far behind
    /// its stream is. Past the channel's size, the next receive reports a lag.
    pub fn waiting(&self) -> usize {
        self.rx
            .as_ref()
            .expect("receiver is present until drop")
            .len()
    }

    /// Whether the bus is closed (the server is stopping): nothing more will be received once
    /// what is waiting has been.
    pub fn is_closed(&self) -> bool {
        self.bus.closed.load(Ordering::Relaxed)
    }

    /// The next event if one is already waiting: lets a stream send a burst in one write.
    pub fn try_recv(&mut self) -> Result<Arc<Event>, broadcast::error::TryRecvError> {
        let r = self
            .rx
            .as_mut()
            .expect("receiver is present until drop")
            .try_recv();
        if let Err(broadcast::error::TryRecvError::Lagged(_)) = r {
            self.fell_behind();
        }
        r
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
    use model::ids::testing::named;

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
    async fn a_closed_bus_ends_every_subscription_after_what_it_had_and_every_new_one_at_once() {
        let bus = Arc::new(Bus::new(8));
        let mut a = bus.subscribe("a");
        let mut everyone = bus.subscribe(EVERYONE);
        bus.publish("a", ev(1));
        assert!(!a.is_closed());
        bus.close();
        assert!(a.is_closed());
        assert_eq!(a.recv().await.unwrap().id, 1, "what was published before");
        assert!(matches!(
            a.recv().await,
            Err(broadcast::error::RecvError::Closed)
        ));
        assert_eq!(everyone.recv().await.unwrap().id, 1);
        assert!(matches!(
            everyone.recv().await,
            Err(broadcast::error::RecvError::Closed)
        ));
        let mut late = bus.subscribe("a");
        assert!(matches!(
            late.recv().await,
            Err(broadcast::error::RecvError::Closed)
        ));
        bus.publish("a", ev(2));
        assert_eq!(bus.subscriptions(), 0);
        drop((a, everyone, late));
        assert_eq!(bus.owner_count(), 0);
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
    async fn an_owner_with_more_streams_gets_a_larger_channel_and_loses_nothing_meanwhile() {
        let bus = Arc::new(Bus::new(4));
        let mut first = bus.subscribe("a");
        assert_eq!(bus.capacities("a"), [4]);
        let mut second = bus.subscribe("a");
        assert_eq!(bus.capacities("a"), [4, 8]);
        let third = bus.subscribe("a");
        assert_eq!(bus.capacities("a"), [4, 8, 16]);
        bus.publish("a", ev(1));
        assert_eq!(first.recv().await.unwrap().id, 1);
        assert_eq!(second.recv().await.unwrap().id, 1);
        // The first channel's only stream ends: that channel goes, the others stay.
        drop(first);
        assert_eq!(bus.capacities("a"), [8, 16]);
        drop(third);
        assert_eq!(bus.capacities("a"), [8, 16]);
        let mut fourth = bus.subscribe("a");
        bus.publish("a", ev(2));
        assert_eq!(second.recv().await.unwrap().id, 2);
        assert_eq!(fourth.recv().await.unwrap().id, 2);
        drop((second, fourth));
        assert_eq!(bus.owner_count(), 0);
    }

    #[test]
    fn channel_size_grows_with_streams_up_to_a_bound() {
        let bus = Bus::new(64);
        assert_eq!(bus.capacity_for(1), 64);
        assert_eq!(bus.capacity_for(3), 256);
        assert_eq!(bus.capacity_for(10_000), MAX_CAPACITY);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_moves_to_a_channel_twice_as_large() {
        let bus = Arc::new(Bus::new(2));
        let mut s = bus.subscribe("a");
        let mut other = bus.subscribe("b");
        for id in 1..=5 {
            bus.publish("a", ev(id));
        }
        assert!(matches!(
            s.recv().await,
            Err(broadcast::error::RecvError::Lagged(3))
        ));
        assert_eq!(bus.lagged(), 1);
        // Its old channel had no other stream: it is gone.
        assert_eq!(bus.capacities("a"), [4]);
        assert_eq!(bus.capacities("b"), [2], "another owner's stays as it was");
        // Four events in a row now wait for it whole; the missed ones are the store's to give.
        for id in 6..=9 {
            bus.publish("a", ev(id));
        }
        for id in 6..=9 {
            assert_eq!(s.recv().await.unwrap().id, id);
        }
        // The same through `try_recv`, which a feed drains with.
        for id in 10..=15 {
            bus.publish("a", ev(id));
        }
        assert!(matches!(
            s.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(2))
        ));
        assert_eq!(bus.capacities("a"), [8]);
        bus.publish("b", ev(16));
        assert_eq!(other.recv().await.unwrap().id, 16);
    }

    #[tokio::test]
    async fn a_stream_that_keeps_up_keeps_its_channel_while_a_slow_one_moves() {
        let bus = Arc::new(Bus::new(2));
        let mut slow = bus.subscribe("a");
        let mut quick = bus.subscribe("a");
        assert_eq!(bus.capacities("a"), [2, 4]);
        for id in 1..=3 {
            bus.publish("a", ev(id));
            assert_eq!(quick.recv().await.unwrap().id, id);
        }
        assert!(slow.recv().await.is_err());
        // `slow` was on the 2-slot channel: it joins the 4-slot one, which `quick` is on.
        assert_eq!(bus.capacities("a"), [4]);
        bus.publish("a", ev(4));
        assert_eq!(slow.recv().await.unwrap().id, 4);
        assert_eq!(quick.recv().await.unwrap().id, 4);
    }

    #[tokio::test]
    async fn a_channel_at_the_bound_does_not_grow() {
        let bus = Arc::new(Bus::new(MAX_CAPACITY));
        let mut s = bus.subscribe("a");
        for id in 0..=MAX_CAPACITY as i64 {
            bus.publish("a", ev(id));
        }
        assert!(matches!(
            s.recv().await,
            Err(broadcast::error::RecvError::Lagged(1))
        ));
        assert_eq!(bus.capacities("a"), [MAX_CAPACITY]);
        assert_eq!(s.recv().await.unwrap().id, 1, "it stays where it was");
    }

    #[tokio::test]
    async fn try_recv_takes_what_is_waiting_and_no_more() {
        let bus = Arc::new(Bus::new(8));
        let mut s = bus.subscribe("a");
        assert!(matches!(
            s.try_recv(),
            Err(broadcast::error::TryRecvError::Empty)
        ));
        bus.publish("a", ev(1));
        bus.publish("a", ev(2));
        assert_eq!(s.try_recv().unwrap().id, 1);
        assert_eq!(s.try_recv().unwrap().id, 2);
        assert!(matches!(
            s.try_recv(),
            Err(broadcast::error::TryRecvError::Empty)
        ));
    }

    #[tokio::test]
    async fn waiting_counts_what_is_published_and_not_yet_received() {
        let bus = Arc::new(Bus::new(8));
        let mut s = bus.subscribe("a");
        assert_eq!(s.waiting(), 0);
        for id in 1..=3 {
            bus.publish("a", ev(id));
        }
        bus.publish("b", ev(4));
        assert_eq!(s.waiting(), 3);
        s.try_recv().unwrap();
        assert_eq!(s.waiting(), 2);
    }

    #[test]
    fn event_frame_is_rendered_once_from_its_fields() {
        let e = Event::new(9, Some(named("j")), EventType::Progress, "{\"p\":1}");
        assert_eq!(
            &e.frame()[..],
            b"id: 9\nevent: progress\ndata: {\"p\":1}\n\n"
        );
        assert_eq!(e.data(), "{\"p\":1}");
    }

    #[test]
    fn frame_has_id_event_and_data_lines() {
        assert_eq!(
            &sse_frame(7, "log", "{\"a\":1}")[..],
            b"id: 7\nevent: log\ndata: {\"a\":1}\n\n"
        );
    }
}
