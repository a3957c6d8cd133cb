//! A feed that is behind the bus: more than [`BEHIND`] events waiting for it. It takes them at
//! once, up to [`CATCH_UP_MAX`], and sends only the newest progress sample of each job among
//! them (see [`super::coalesce`]).

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

/// What a feed that is behind takes at once of the events waiting for it.
pub(super) struct CaughtUp {
    /// What it sends, in order.
    pub events: Vec<Arc<Event>>,
    /// Progress samples left out because a later one of the same job is among `events`.
    pub skipped: usize,
    /// The subscription fell behind its channel meanwhile: what it missed comes from the store.
    pub lagged: bool,
}

/// If more than [`BEHIND`] events are waiting on `sub` behind `first` (just received), takes
/// them at once, up to [`CATCH_UP_MAX`], and keeps those `wanted` accepts without the progress
/// samples that a later sample of the same job among them supersedes. Otherwise takes nothing
/// and gives `first` back, to be sent with the rest as usual.
pub(super) fn catch_up(
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
    let (events, skipped) = coalesced(drained);
    Ok(CaughtUp {
        events,
        skipped,
        lagged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Bus;
    use model::EventType;

    fn live(id: i64, job: Option<&str>, kind: EventType) -> Arc<Event> {
        let data = format!("{{\"n\":{id}}}");
        Arc::new(Event::new(id, job.map(model::JobId::from), kind, &data))
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
    async fn a_feed_within_the_bound_is_not_behind_and_takes_nothing_at_once() {
        let bus = Arc::new(Bus::new(64));
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
        let caught = catch_up(&mut sub, first, |_| true).expect("behind");
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
        let caught = catch_up(&mut sub, first, |e| {
            e.id > 3 && e.job_id.as_deref() == Some("a")
        })
        .expect("behind");
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
        let caught = catch_up(&mut sub, first, |_| true).expect("behind");
        assert_eq!(caught.events.len(), CATCH_UP_MAX);
        assert_eq!(caught.skipped, 0);
        assert_eq!(sub.waiting(), 100);
    }
}
