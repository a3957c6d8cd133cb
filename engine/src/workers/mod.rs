//! Workers on other machines (`headway worker`, docs/WORKERS.md): a process that connects out to
//! a server with a worker token, registers the kinds of its own commands file, takes their jobs
//! and reports on each one.
//!
//! A worker is a process of the registry with the role [`store::REMOTE_ROLE`]: its jobs are
//! claimed under its id by the same claim as a server's runner (priorities, users' shares,
//! limits and pauses hold across every process and worker), and every write of its reports is
//! fenced by that id. Its heartbeat is refreshed by its polls; a worker silent for longer than
//! the lease is removed and its jobs are taken over as a dead process's (tried again where
//! their kind allows), so a worker that comes back after that never writes over the new
//! attempt.
//!
//! - [`tokens`]: the tokens workers connect with (an admin makes and revokes them);
//! - [`kinds`]: the kinds workers run, known to every server process from the registry;
//! - [`poll`]: registering, and the long poll that hands out jobs and stops;
//! - [`report`]: a worker's reports on the jobs it holds;
//! - [`files`]: their inputs and outputs.

mod files;
pub mod kinds;
mod poll;
mod report;
pub mod tokens;

use model::{JobId, JobStatus};
use tokio::sync::{broadcast, watch};

pub use store::REMOTE_ROLE;

use crate::store;

/// What a worker's poll waits for, in this process: work that may have become claimable, and
/// jobs asked to stop.
pub(crate) struct Remotes {
    /// Bumped when a job is queued or ends anywhere (the committer's observer hears every
    /// process's moves).
    work: watch::Sender<u64>,
    /// Jobs asked to stop (moved to `cancelling`).
    stops: broadcast::Sender<JobId>,
    /// Jobs that stopped running (ended, or queued again): a slot of the worker that ran one
    /// is free, and its waiting poll may claim for it at once.
    ends: broadcast::Sender<JobId>,
    /// Bumped when an operator steers a worker or revokes a token through this process: its
    /// polls look at their worker again at once.
    steered: watch::Sender<u64>,
    /// The parsed kinds of each commands file a worker registered, by its text.
    pub(crate) parsed: kinds::Parsed,
    /// When this process last wrote each worker's heartbeat: a worker that polls often (a slot
    /// freed at every job's end) is not a write each time.
    beats: std::sync::Mutex<std::collections::HashMap<model::ProcessId, std::time::Instant>>,
}

impl Remotes {
    pub(crate) fn new(languages: Vec<String>) -> Remotes {
        Remotes {
            work: watch::Sender::new(0),
            stops: broadcast::Sender::new(1024),
            ends: broadcast::Sender::new(4096),
            steered: watch::Sender::new(0),
            parsed: kinds::Parsed::new(languages),
            beats: Default::default(),
        }
    }

    /// Whether `worker`'s heartbeat is to be written now: not within `every` of the last one
    /// this process wrote.
    pub(crate) fn beat_due(&self, worker: &model::ProcessId, every: std::time::Duration) -> bool {
        let now = std::time::Instant::now();
        let mut beats = self.beats.lock().unwrap();
        if beats.len() > 10_000 {
            beats.retain(|_, at| now.duration_since(*at) < every);
        }
        match beats.get(worker) {
            Some(at) if now.duration_since(*at) < every => false,
            _ => {
                beats.insert(worker.clone(), now);
                true
            }
        }
    }

    /// A worker was drained, disabled or enabled, or a worker token revoked.
    pub(crate) fn steer(&self) {
        self.steered.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A job moved to `status`: a poll waiting for work looks again, one whose worker runs a
    /// job asked to stop answers, and one whose worker ran a job that stopped running claims
    /// for its slot.
    pub(crate) fn heard(&self, id: &JobId, status: JobStatus) {
        match status {
            JobStatus::Cancelling => {
                let _ = self.stops.send(id.clone());
            }
            s if s == JobStatus::Queued || s.is_terminal() => {
                let _ = self.ends.send(id.clone());
                self.wake();
            }
            _ => {}
        }
    }

    /// Work may have become claimable: waiting polls look again.
    pub(crate) fn wake(&self) {
        self.work.send_modify(|n| *n = n.wrapping_add(1));
    }
}
