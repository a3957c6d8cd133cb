//! Coalescing: leaving out the progress samples that a later sample of the same job, in the
//! same batch, supersedes. A sample carries the bar's whole state, so the latest says all that
//! the ones it replaces did; every other event (status changes, log lines, terminal events,
//! notices...) is kept, in order.

use crate::bus::Event;
use crate::store::StoredEvent;
use model::EventType;
use std::collections::HashSet;
use std::sync::Arc;

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
/// other event is kept, in order.
pub fn coalesce<E: Sample>(events: &[E]) -> impl Iterator<Item = &E> {
    events
        .iter()
        .zip(sent_of(events))
        .filter_map(|(e, sent)| sent.then_some(e))
}

/// Like [`coalesce`], keeping the events themselves; with how many samples it left out.
pub fn coalesced<E: Sample>(mut events: Vec<E>) -> (Vec<E>, usize) {
    let taken = events.len();
    let mut keep = sent_of(&events).into_iter();
    events.retain(|_| keep.next().unwrap_or(true));
    let skipped = taken - events.len();
    (events, skipped)
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
    use model::ids::testing::named;

    fn ev(id: i64, job: &str, kind: &str) -> StoredEvent {
        StoredEvent {
            id,
            job_id: Some(named(job)),
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
        let (kept, skipped) = coalesced(events);
        assert_eq!(kept.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 3, 4, 5]);
        assert_eq!(skipped, 1);
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
}
