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
//! - [`kinds`]: the kinds workers run, known to every server process from the registry, and
//!   the worker token that owns each name;
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

/// The worker token a request acts with, once the policy let it act as a worker
/// ([`crate::authority::Act::Work`]): what the worker's requests reach is its token's.
pub(crate) struct WorkToken {
    pub(crate) id: String,
}

impl crate::Jobs {
    /// The worker token `caller` acts with: 403 for any other principal.
    pub(crate) fn work_token(caller: &crate::Caller) -> Result<WorkToken, model::AppError> {
        caller.may(crate::authority::Act::Work)?;
        let id = caller.worker_token().unwrap_or_default().to_string();
        Ok(WorkToken { id })
    }
}

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
    /// Which worker token owns each worker kind, and its declaration.
    pub(crate) owners: kinds::Owners,
    /// When this process last wrote each worker's heartbeat: a worker that polls often (a slot
    /// freed at every job's end) is not a write each time.
    beats: std::sync::Mutex<std::collections::HashMap<model::ProcessId, std::time::Instant>>,
    /// Each worker's claims through this process, one at a time, numbered: a poll that reads
    /// its worker's jobs and then finds the number moved (another poll of the same worker
    /// claimed meanwhile) reads them again before it claims, so that polls sent at once never
    /// give a worker more jobs than its slots.
    claims: std::sync::Mutex<ClaimLocks>,
}

type ClaimLocks =
    std::collections::HashMap<model::ProcessId, std::sync::Arc<tokio::sync::Mutex<u64>>>;

impl Remotes {
    pub(crate) fn new(languages: Vec<String>) -> Remotes {
        Remotes {
            work: watch::Sender::new(0),
            stops: broadcast::Sender::new(1024),
            ends: broadcast::Sender::new(4096),
            steered: watch::Sender::new(0),
            parsed: kinds::Parsed::new(languages),
            owners: Default::default(),
            beats: Default::default(),
            claims: Default::default(),
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

    /// The lock `worker`'s claims through this process take, holding how many there were.
    pub(crate) fn claim_lock(
        &self,
        worker: &model::ProcessId,
    ) -> std::sync::Arc<tokio::sync::Mutex<u64>> {
        let mut claims = self.claims.lock().unwrap();
        if claims.len() > 10_000 {
            // Only the locks in use now are kept: those of workers gone go.
            claims.retain(|_, lock| std::sync::Arc::strong_count(lock) > 1);
        }
        std::sync::Arc::clone(claims.entry(worker.clone()).or_default())
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
