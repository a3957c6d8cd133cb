//! The jobs a runner runs now, one slot each, and the stop requests that arrive for a job
//! between its claim and its start.
//!
//! A claim records its jobs `running` (and publishes that) before the runner has started
//! them. A cancel request in that window moves the job to `cancelling`, and the runner hears
//! of it before the job holds a slot here. Without a record of it the job would run to its
//! end while shown `cancelling`. So while a claim is under way, a stop request for a job
//! without a slot is kept, and the job is stopped as soon as it gets its slot. Requests for
//! jobs the claim did not take (they run elsewhere) are dropped when it ends.

use model::{JobId, ProcessId, UserId};
use std::collections::{HashMap, HashSet};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

pub(super) struct Running {
    pub owner: UserId,
    pub kind: String,
    /// Its attempt, and how many it may take.
    pub attempt: u32,
    pub max_attempts: u32,
    /// The process id the job was claimed under: the fence of its writes.
    pub fence: ProcessId,
    pub cancel: CancellationToken,
    pub abort: Option<AbortHandle>,
}

#[derive(Default)]
pub(super) struct Slots {
    jobs: HashMap<JobId, Running>,
    /// `Some` while a claim is under way: the jobs without a slot asked to stop meanwhile.
    claim: Option<HashSet<JobId>>,
}

impl Slots {
    /// A claim begins: stop requests for jobs without a slot are kept until it ends.
    pub fn begin_claim(&mut self) {
        self.claim = Some(HashSet::new());
    }

    /// Every job of the claim has its slot: requests kept for others are dropped.
    pub fn end_claim(&mut self) {
        self.claim = None;
    }

    /// Gives a claimed job its slot. True if it was asked to stop since its claim: the caller
    /// stops it at once.
    pub fn insert(&mut self, id: JobId, job: Running) -> bool {
        let asked = self.claim.as_mut().is_some_and(|asked| asked.remove(&id));
        self.jobs.insert(id, job);
        asked
    }

    /// The running job to stop, if it has a slot; else the request is kept when a claim is
    /// under way (see the module's documentation).
    pub fn stop_target(&mut self, id: &JobId) -> Option<&Running> {
        if !self.jobs.contains_key(id) {
            if let Some(asked) = self.claim.as_mut() {
                asked.insert(id.clone());
            }
        }
        self.jobs.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Running> {
        self.jobs.get_mut(id)
    }

    pub fn remove(&mut self, id: &str) -> Option<Running> {
        self.jobs.remove(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.jobs.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Empties every slot.
    pub fn drain(&mut self) -> impl Iterator<Item = (JobId, Running)> + '_ {
        self.jobs.drain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;

    fn running() -> Running {
        Running {
            owner: named("me"),
            kind: "demo".into(),
            attempt: 1,
            max_attempts: 1,
            fence: named("p1"),
            cancel: CancellationToken::new(),
            abort: None,
        }
    }

    #[test]
    fn a_stop_heard_between_claim_and_start_stops_the_job_as_it_starts() {
        let mut slots = Slots::default();
        slots.begin_claim();
        assert!(slots.stop_target(&named("a")).is_none(), "no slot yet");
        assert!(
            slots.insert(named("a"), running()),
            "asked to stop before its start"
        );
        assert!(!slots.insert(named("b"), running()), "never asked");
        slots.end_claim();
        assert!(slots.stop_target(&named("a")).is_some());
        assert_eq!(slots.len(), 2);
    }

    #[test]
    fn a_stop_for_a_job_run_elsewhere_is_not_kept() {
        let mut slots = Slots::default();
        // Heard with no claim under way: nothing is kept.
        assert!(slots.stop_target(&named("x")).is_none());
        slots.begin_claim();
        assert!(!slots.insert(named("x"), running()));
        // Heard during a claim that did not take it: dropped when the claim ends.
        assert!(slots.stop_target(&named("y")).is_none());
        slots.end_claim();
        slots.begin_claim();
        assert!(!slots.insert(named("y"), running()));
        slots.end_claim();
    }

    #[test]
    fn a_stop_is_used_once() {
        let mut slots = Slots::default();
        slots.begin_claim();
        slots.stop_target(&named("a"));
        assert!(slots.insert(named("a"), running()));
        slots.remove("a");
        assert!(!slots.insert(named("a"), running()));
    }
}
