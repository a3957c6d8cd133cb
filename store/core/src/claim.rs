//! Which queued jobs a claim takes, the same on every backend: the backends read the
//! candidates (the oldest queued jobs, and each user's oldest), this picks among them.
//!
//! A free slot goes to the user with the fewest jobs running (or cancelling) anywhere, and
//! among their jobs to the oldest; between users with as many running, to the oldest job. So a
//! user with a thousand jobs queued delays another user's job by at most one slot's turn,
//! while a user alone still fills every slot. A user already at their share of running jobs
//! (`per_owner`) is passed over, as is a kind at its limit.

use model::{JobId, UserId};
use std::collections::HashMap;

/// Queued jobs a claim looks at, oldest first, besides each user's oldest.
pub const CLAIM_SCAN: u32 = 1000;
/// Users with queued jobs a claim looks at (each for their oldest few jobs).
pub const OWNER_SCAN: u32 = 1000;

/// A queued job a claim may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its place in creation order.
    pub seq: i64,
    pub id: JobId,
    pub owner: UserId,
    pub kind: String,
    pub checkpoint: Option<String>,
}

/// The choice among candidates, as jobs start.
#[derive(Debug)]
pub struct FairPick {
    candidates: Vec<Candidate>,
    by_kind: HashMap<String, u32>,
    by_owner: HashMap<UserId, u32>,
    limits: Vec<(String, u32)>,
    per_owner: u32,
}

impl FairPick {
    /// `running_by_kind` and `running_by_owner`: jobs running (or cancelling) anywhere;
    /// `limits`: per-kind limits; `per_owner`: the most jobs one user may have running.
    /// Candidates read twice (by two of the backend's queries) count once.
    pub fn new(
        mut candidates: Vec<Candidate>,
        running_by_kind: HashMap<String, u32>,
        running_by_owner: HashMap<UserId, u32>,
        limits: &[(String, u32)],
        per_owner: u32,
    ) -> FairPick {
        candidates.sort_by_key(|c| c.seq);
        candidates.dedup_by_key(|c| c.seq);
        FairPick {
            candidates,
            by_kind: running_by_kind,
            by_owner: running_by_owner,
            limits: limits.to_vec(),
            per_owner: per_owner.max(1),
        }
    }

    /// The next job to start, taken out of the candidates; `None` when none may start.
    pub fn pick(&mut self) -> Option<Candidate> {
        let at = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| self.may_start(c))
            .min_by_key(|(_, c)| (self.running_of(&c.owner), c.seq))
            .map(|(i, _)| i)?;
        Some(self.candidates.remove(at))
    }

    /// Counts `job` as running (it was claimed).
    pub fn started(&mut self, job: &Candidate) {
        *self.by_kind.entry(job.kind.clone()).or_default() += 1;
        *self.by_owner.entry(job.owner.clone()).or_default() += 1;
    }

    fn running_of(&self, owner: &UserId) -> u32 {
        self.by_owner.get(owner).copied().unwrap_or(0)
    }

    fn may_start(&self, c: &Candidate) -> bool {
        let of_kind = self.by_kind.get(&c.kind).copied().unwrap_or(0);
        self.running_of(&c.owner) < self.per_owner
            && !self
                .limits
                .iter()
                .any(|(kind, limit)| *kind == c.kind && of_kind >= *limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(seq: i64, owner: &str, kind: &str) -> Candidate {
        Candidate {
            seq,
            id: format!("job-{seq}").into(),
            owner: owner.into(),
            kind: kind.into(),
            checkpoint: None,
        }
    }

    /// Starts up to `slots` jobs; their seqs in the order taken.
    fn take(pick: &mut FairPick, slots: usize) -> Vec<i64> {
        let mut taken = Vec::new();
        while taken.len() < slots {
            let Some(c) = pick.pick() else { break };
            pick.started(&c);
            taken.push(c.seq);
        }
        taken
    }

    #[test]
    fn a_free_slot_goes_to_the_user_with_the_fewest_running() {
        // Ann queued a thousand jobs before Bob queued one; Ann has 2 running, Bob none.
        let mut candidates: Vec<Candidate> = (1..=1000).map(|s| job(s, "ann", "demo")).collect();
        candidates.push(job(1001, "bob", "demo"));
        let running = HashMap::from([(UserId::from("ann"), 2)]);
        let mut pick = FairPick::new(candidates, HashMap::new(), running, &[], 100);
        assert_eq!(take(&mut pick, 1), [1001], "Bob's job is next");
        assert_eq!(take(&mut pick, 3), [1, 2, 3], "then Ann's, oldest first");
    }

    #[test]
    fn users_with_as_many_running_take_turns_oldest_job_first() {
        let candidates = vec![
            job(1, "ann", "demo"),
            job(2, "ann", "demo"),
            job(3, "ann", "demo"),
            job(4, "bob", "demo"),
            job(5, "bob", "demo"),
            job(6, "cy", "demo"),
        ];
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100);
        assert_eq!(take(&mut pick, 6), [1, 4, 6, 2, 5, 3]);
    }

    #[test]
    fn alone_a_user_fills_every_slot_in_order() {
        let candidates = (1..=5).map(|s| job(s, "ann", "demo")).collect();
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100);
        assert_eq!(take(&mut pick, 4), [1, 2, 3, 4]);
    }

    #[test]
    fn a_user_at_their_share_and_a_kind_at_its_limit_are_passed_over() {
        let candidates = vec![
            job(1, "ann", "demo"),
            job(2, "ann", "batch"),
            job(3, "bob", "demo"),
            job(4, "bob", "batch"),
        ];
        let running = HashMap::from([(UserId::from("ann"), 2)]);
        let by_kind = HashMap::from([("demo".to_string(), 1)]);
        let limits = [("demo".to_string(), 1)];
        let mut pick = FairPick::new(candidates, by_kind, running, &limits, 2);
        // Ann is at her share; demo is at its limit: only Bob's batch job may start.
        assert_eq!(take(&mut pick, 4), [4]);
    }

    #[test]
    fn a_candidate_read_twice_counts_once() {
        let candidates = vec![job(1, "ann", "demo"), job(1, "ann", "demo")];
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100);
        assert_eq!(take(&mut pick, 5), [1]);
    }
}
