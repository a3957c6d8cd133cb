//! What a feed woken by a live event takes: that event and every one already waiting behind it,
//! at once. A feed with more than [`BEHIND`] events waiting is behind: it takes them up to
//! [`CATCH_UP_MAX`] and sends only the newest progress sample of each job among them (see
//! [`super::coalesce`]).

use super::coalesce::coalesced;
use super::replay::REPLAY_BATCH;
use crate::bus::{Event, Subscription};
use std::sync::Arc;
use tokio::sync::broadcast::error::TryRecvError;

/// A feed with more events than this waiting for it on the bus is behind: it drains them at
/// once and sends only the newest progress sample of each job among them.
///
/// Below it, the backlog goes out whole in one write, and the newest sample in it arrives as
/// soon as it would alone: skipping the stale ones would save a few hundred bytes for the
/// bookkeeping of a set of job ids. Past it, the backlog is worth thinning: every sample it
/// carries is bytes to write and for the client to parse, and a stale one is one a later sample
/// of the same job makes pointless. Whatever the bound, a feed that keeps up loses nothing: a
/// job's samples are `crate::context::SAMPLE_EVERY` (100 ms) apart but for the few it forces,
/// so only a feed about that far behind holds two of one job. In the fan-out benchmark
/// (10 jobs, 10 samples/s each) 4 and 8 gave the same latencies; with 16, streams a whole round
/// of samples behind (11 to 16 events) sent all of it, and the p99 was 10 to 15 % higher.
pub const BEHIND: usize = 8;

/// The most events a feed that is behind drains at once: as many as a replay from the store
/// reads, so that what it sends at once is never more than a replay's.
pub const CATCH_UP_MAX: usize = REPLAY_BATCH as usize;

/// What a feed woken by a live event takes at once of the events waiting for it.
#[derive(Debug)]
pub(super) struct Taken {
    /// What it sends, in order.
    pub events: Vec<Arc<Event>>,
    /// Progress samples left out because a later one of the same job is among `events` (only
    /// by a feed that was behind).
    pub skipped: usize,
    /// The subscription fell behind its channel meanwhile: what it missed comes from the store.
    pub lagged: bool,
}

/// Takes `first` (just received) and the events waiting on `sub` behind it, until none is
/// left or [`CATCH_UP_MAX`] are taken, and keeps those `wanted` accepts. If more than
/// [`BEHIND`] were waiting, leaves out the progress samples that a later sample of the same
/// job among them supersedes; otherwise keeps them whole.
///
/// Whether the feed is behind is learned from what it takes, not by asking the channel how
/// much is waiting first: that question locks the channel's tail, the lock its sender and
/// every one of its subscribers take, once more for every wake-up of every feed.
pub(super) fn take(
    sub: &mut Subscription,
    first: Arc<Event>,
    wanted: impl Fn(&Event) -> bool,
) -> Taken {
    let mut events = Vec::new();
    let mut received = 0;
    let mut lagged = false;
    let mut next = Some(first);
    while let Some(event) = next.take() {
        received += 1;
        if wanted(&event) {
            events.push(event);
        }
        if events.len() == CATCH_UP_MAX {
            break;
        }
        match sub.try_recv() {
            Ok(e) => next = Some(e),
            Err(TryRecvError::Lagged(_)) => lagged = true,
            // Empty, or closed (the next `recv` says so).
            Err(_) => {}
        }
    }
    // `received - 1` were waiting behind the first.
    if received - 1 <= BEHIND {
        return Taken {
            events,
            skipped: 0,
            lagged,
        };
    }
    let (events, skipped) = coalesced(events);
    Taken {
        events,
        skipped,
        lagged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Bus;
    use model::ids::testing::named;
    use model::EventType;

    fn live(id: i64, job: Option<&str>, kind: EventType) -> Arc<Event> {
        let data = format!("{{\"n\":{id}}}");
        Arc::new(Event::new(id, job.map(named), kind, &data))
    }

    /// A subscription with `events` published to it and the first of them received, as a
    /// feed has when it wakes.
    async fn woken_with(bus: &Arc<Bus>, events: Vec<Arc<Event>>) -> (Subscription, Arc<Event>) {
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
    async fn a_feed_within_the_bound_is_not_behind_and_takes_every_sample_whole() {
        let bus = Arc::new(Bus::new(64));
        // The first and BEHIND more, all samples of one job.
        let events = (1..=BEHIND as i64 + 1)
            .map(|id| live(id, Some("a"), EventType::Progress))
            .collect();
        let (mut sub, first) = woken_with(&bus, events).await;
        let taken = take(&mut sub, first, |_| true);
        assert_eq!(
            ids(&taken.events),
            (1..=BEHIND as i64 + 1).collect::<Vec<_>>()
        );
        assert_eq!(taken.skipped, 0, "every sample is sent");
        assert!(!taken.lagged);
        assert_eq!(sub.waiting(), 0, "everything waiting was taken");
    }

    #[tokio::test]
    async fn one_more_than_the_bound_is_behind() {
        let bus = Arc::new(Bus::new(64));
        let events = (1..=BEHIND as i64 + 2)
            .map(|id| live(id, Some("a"), EventType::Progress))
            .collect();
        let (mut sub, first) = woken_with(&bus, events).await;
        let taken = take(&mut sub, first, |_| true);
        assert_eq!(ids(&taken.events), [BEHIND as i64 + 2]);
        assert_eq!(taken.skipped, BEHIND + 1);
    }

    #[tokio::test]
    async fn a_feed_past_the_bound_gets_each_jobs_newest_sample_and_every_other_event_in_order() {
        let bus = Arc::new(Bus::new(64));
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
        let caught = take(&mut sub, first, |_| true);
        assert_eq!(ids(&caught.events), [1, 111, 200, 201, 202, 203, 204, 205]);
        assert_eq!(caught.skipped, published - 8);
        assert!(!caught.lagged);
        assert_eq!(sub.waiting(), 0, "everything waiting was taken");
    }

    #[tokio::test]
    async fn a_feed_that_is_behind_coalesces_only_what_it_sends() {
        let bus = Arc::new(Bus::new(64));
        // A per-job feed of `a` at cursor 3: b's events and what it sent already are not its.
        let mut events = Vec::new();
        for id in 1..=30 {
            let job = if id % 2 == 0 { "a" } else { "b" };
            events.push(live(id, Some(job), EventType::Progress));
        }
        let (mut sub, first) = woken_with(&bus, events).await;
        let caught = take(&mut sub, first, |e| {
            e.id > 3 && e.job_id == Some(named("a"))
        });
        assert_eq!(ids(&caught.events), [30]);
        assert_eq!(caught.skipped, 13, "a's samples 4 to 28");
    }

    #[tokio::test]
    async fn a_feed_far_behind_takes_at_most_a_replay_batch_at_once() {
        let bus = Arc::new(Bus::new(1024));
        let events = (1..=CATCH_UP_MAX as i64 + 100)
            .map(|id| live(id, Some("a"), EventType::Log))
            .collect();
        let (mut sub, first) = woken_with(&bus, events).await;
        let caught = take(&mut sub, first, |_| true);
        assert_eq!(caught.events.len(), CATCH_UP_MAX);
        assert_eq!(caught.skipped, 0);
        assert_eq!(sub.waiting(), 100);
    }
}
