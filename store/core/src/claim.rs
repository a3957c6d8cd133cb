//! Which queued jobs a claim takes, the same on every backend: the backends read the
//! candidates (the first queued jobs by rank, and each user's first), this picks among them.
//!
//! A free slot goes to a job of the highest priority waiting (with aging: [`model::priority`]);
//! among those, to the user with the fewest jobs running (or cancelling) anywhere, and among
//! their jobs to the first by rank (the oldest, at one priority); between users with as many
//! running, to the first job by rank. So, at one priority, a user with a thousand jobs queued
//! delays another user's job by at most one slot's turn, while a user alone still fills every
//! slot. A user already at their share of running jobs (`per_owner`) is passed over, as is a
//! kind at its limit and a job whose key is at its limit ([`crate::limits`]).

use crate::limits::Keyed;
use model::{JobId, Priority, UserId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

/// The most queued jobs a claim looks at, first by rank, besides each user's first.
pub const CLAIM_SCAN: u32 = 1000;

/// Queued jobs a claim of `slots` looks at, first by rank, besides each user's first `slots`:
/// a few per slot. Every one read is of a kind that may start (kinds at their limit are left
/// out of the read), so more would only cost the claim, which runs on the store's one writer
/// (and, on PostgreSQL, locks what it reads).
pub fn scan_for(slots: u32) -> u32 {
    slots.saturating_mul(4).clamp(16, CLAIM_SCAN)
}
/// Users with queued jobs a claim looks at (each for their first few jobs).
pub const OWNER_SCAN: u32 = 1000;

/// What a claim's reads ask of a queued job, in both databases' SQL: that it waits for no other
/// job. A job that does waits at [`model::Job::WAITING_RANK`], behind every ready one, so the
/// bound on `rank` ends the read along the queue's index where the ready jobs end; without it a
/// read that found fewer ready jobs than it asked for would go on through every waiting one (a
/// run's later steps, a fan-out's items behind its window) on every claim.
pub static READY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("needs_left = 0 AND rank < {}", model::Job::WAITING_RANK));

/// A queued job a claim may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its place in creation order.
    pub seq: i64,
    /// Its place in the queue: when it became ready, less its priority's head start
    /// ([`Priority::rank`]).
    pub rank: i64,
    pub priority: Priority,
    pub id: JobId,
    pub owner: UserId,
    pub kind: String,
    pub checkpoint: Option<String>,
    /// Its parameters' JSON text, read for the kinds with keyed limits alone
    /// ([`crate::limits::Keyed`]).
    pub params: Option<String>,
}

impl Candidate {
    /// A queued job's columns as a candidate; `None` (logged) for a row whose ids do not parse:
    /// a corrupted row is passed over, and the claim takes the jobs behind it.
    #[allow(clippy::too_many_arguments)]
    pub fn stored(
        seq: i64,
        rank: Option<i64>,
        priority: i64,
        id: String,
        owner: String,
        kind: String,
        checkpoint: Option<String>,
        params: Option<String>,
    ) -> Option<Candidate> {
        match (JobId::try_from(id), UserId::try_from(owner)) {
            (Ok(id), Ok(owner)) => Some(Candidate {
                seq,
                // Every queued job has one (written with it, and by the migration that added
                // ranks); a row without one goes first, as it would have by its age.
                rank: rank.unwrap_or(i64::MIN),
                priority: Priority::of_level(priority).unwrap_or_default(),
                id,
                owner,
                kind,
                checkpoint,
                params,
            }),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(seq, error = %e, "a queued job's ids are malformed; it is not claimed");
                None
            }
        }
    }
}

/// The choice among candidates, as jobs start.
///
/// Each user's candidates wait in a line of their own, by rank, and the users in a heap by
/// (their first candidate's level, jobs running, its rank): a pick costs a few steps of the
/// heap, not a look at every candidate, so that a claim of many slots over a long queue stays
/// cheap. A candidate's level (its priority with aging, [`Priority::standing`]) is fixed for the
/// claim and never rises along a line, which is by rank. What
/// rules a candidate out (its user at their share, its kind at its limit) only grows as jobs
/// start, so a candidate passed over once is dropped for good; a user's place in the heap may
/// lag behind their count of running jobs, never run ahead of it, and is put right when it comes
/// up.
#[derive(Debug)]
pub struct FairPick {
    owners: Vec<Owner>,
    index: HashMap<UserId, usize>,
    /// `Reverse((turn, owner))`: the least first.
    turns: BinaryHeap<Reverse<(Turn, usize)>>,
    /// The claim's time and the highest priority among the candidates, for their levels.
    now: i64,
    top: Priority,
    by_kind: HashMap<String, u32>,
    limits: Vec<(String, u32)>,
    per_owner: u32,
    keyed: Keyed,
    /// Users taken off the heap so far: what a claim's picks cost.
    #[cfg(test)]
    steps: usize,
}

/// A user's place in the heap: the level of their first candidate (highest first), their jobs
/// running, its rank and its place in creation order.
type Turn = (Reverse<u8>, u32, i64, i64);

/// A user with candidates: their jobs running anywhere and their candidates, by rank.
#[derive(Debug)]
struct Owner {
    running: u32,
    line: VecDeque<Candidate>,
}

impl FairPick {
    /// `running_by_kind` and `running_by_owner`: jobs running (or cancelling) anywhere;
    /// `limits`: per-kind limits; `per_owner`: the most jobs one user may have running; `now`:
    /// the claim's time, for aging. Candidates read twice (by two of the backend's queries)
    /// count once.
    pub fn new(
        mut candidates: Vec<Candidate>,
        running_by_kind: HashMap<String, u32>,
        running_by_owner: HashMap<UserId, u32>,
        limits: &[(String, u32)],
        per_owner: u32,
        now: i64,
    ) -> FairPick {
        candidates.sort_by_key(|c| (c.rank, c.seq));
        candidates.dedup_by_key(|c| c.seq);
        let top = candidates
            .iter()
            .map(|c| c.priority)
            .max()
            .unwrap_or_default();
        let mut owners: Vec<Owner> = Vec::new();
        let mut index: HashMap<UserId, usize> = HashMap::new();
        for c in candidates {
            let at = match index.get(&c.owner) {
                Some(&at) => at,
                None => {
                    owners.push(Owner {
                        running: running_by_owner.get(&c.owner).copied().unwrap_or(0),
                        line: VecDeque::new(),
                    });
                    index.insert(c.owner.clone(), owners.len() - 1);
                    owners.len() - 1
                }
            };
            owners[at].line.push_back(c);
        }
        let turns = owners
            .iter()
            .enumerate()
            .filter_map(|(at, o)| Some(Reverse((turn(o, now, top)?, at))))
            .collect();
        FairPick {
            owners,
            index,
            turns,
            now,
            top,
            by_kind: running_by_kind,
            limits: limits.to_vec(),
            per_owner: per_owner.max(1),
            keyed: Keyed::default(),
            #[cfg(test)]
            steps: 0,
        }
    }

    /// With the claim's keyed limits: a candidate whose key is full is passed over.
    pub fn with_keys(mut self, mut keyed: Keyed) -> FairPick {
        for owner in &self.owners {
            for c in &owner.line {
                keyed.learn(c);
            }
        }
        self.keyed = keyed;
        self
    }

    /// The keyed limits back, with the jobs started counted.
    pub fn into_keys(self) -> Keyed {
        self.keyed
    }

    /// The next job to start, taken out of the candidates; `None` when none may start.
    pub fn pick(&mut self) -> Option<Candidate> {
        let FairPick {
            owners,
            turns,
            by_kind,
            limits,
            per_owner,
            now,
            top,
            keyed,
            ..
        } = self;
        loop {
            let Reverse((was, at)) = turns.pop()?;
            #[cfg(test)]
            {
                self.steps += 1;
            }
            let owner = &mut owners[at];
            if owner.running >= *per_owner {
                // At their share for the rest of this claim.
                owner.line.clear();
                continue;
            }
            while owner
                .line
                .front()
                .is_some_and(|c| kind_full(by_kind, limits, &c.kind) || !keyed.allows(c))
            {
                owner.line.pop_front();
            }
            let Some(now_turn) = turn(owner, *now, *top) else {
                continue;
            };
            if now_turn != was {
                turns.push(Reverse((now_turn, at)));
                continue;
            }
            let taken = owner.line.pop_front()?;
            if let Some(next) = turn(owner, *now, *top) {
                turns.push(Reverse((next, at)));
            }
            return Some(taken);
        }
    }

    /// Counts `job` as running (it was claimed); the starts its rate limits record, as
    /// `(signature, key)`.
    pub fn started(&mut self, job: &Candidate) -> Vec<(String, String)> {
        *self.by_kind.entry(job.kind.clone()).or_default() += 1;
        if let Some(&at) = self.index.get(&job.owner) {
            self.owners[at].running += 1;
        }
        self.keyed.take(job)
    }
}

/// A user's place in the heap, from their first candidate; `None` when they have none left.
fn turn(owner: &Owner, now: i64, top: Priority) -> Option<Turn> {
    let first = owner.line.front()?;
    let level = Priority::standing(first.rank, now, top);
    Some((Reverse(level), owner.running, first.rank, first.seq))
}

/// Whether `kind` has as many jobs running as its limit allows.
pub(crate) fn kind_full(
    by_kind: &HashMap<String, u32>,
    limits: &[(String, u32)],
    kind: &str,
) -> bool {
    let running = by_kind.get(kind).copied().unwrap_or(0);
    limits
        .iter()
        .any(|(limited, limit)| limited == kind && running >= *limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A claim's time: a minute after the jobs of the tests were ready.
    const NOW: i64 = 60_000;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    /// A normal job, ready at `seq` ms.
    fn job(seq: i64, owner: &str, kind: &str) -> Candidate {
        job_of(seq, owner, kind, Priority::NORMAL, seq)
    }

    /// A job of `priority`, ready at `ready_at`.
    fn job_of(seq: i64, owner: &str, kind: &str, priority: Priority, ready_at: i64) -> Candidate {
        Candidate {
            seq,
            rank: priority.rank(ready_at),
            priority,
            id: JobId::parse(&format!("00000000-0000-0000-0000-{seq:012}")).unwrap(),
            owner: user(owner),
            kind: kind.into(),
            checkpoint: None,
            params: None,
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
        let running = HashMap::from([(user("ann"), 2)]);
        let mut pick = FairPick::new(candidates, HashMap::new(), running, &[], 100, NOW);
        assert_eq!(take(&mut pick, 1), [1001], "Bob's job is next");
        assert_eq!(take(&mut pick, 3), [1, 2, 3], "then Ann's, oldest first");
    }

    #[test]
    fn a_higher_priority_goes_first_whoever_runs_more() {
        // Ann queued a thousand normal jobs; Bob, who runs fewer, one low; Ann then one urgent.
        let mut candidates: Vec<Candidate> = (1..=1000).map(|s| job(s, "ann", "demo")).collect();
        candidates.push(job_of(1001, "bob", "demo", Priority::LOW, 1001));
        candidates.push(job_of(1002, "ann", "demo", Priority::URGENT, 1002));
        let running = HashMap::from([(user("ann"), 5)]);
        let mut pick = FairPick::new(candidates, HashMap::new(), running, &[], 100, NOW);
        assert_eq!(
            take(&mut pick, 1),
            [1002],
            "the urgent job first, though Ann runs more"
        );
        assert_eq!(take(&mut pick, 2), [1, 2], "then the normal ones");
    }

    #[test]
    fn a_waiting_job_rises_a_level_per_aging_step_up_to_the_highest_waiting() {
        let step = Priority::AGING_MS;
        let now = 100 * step;
        // A low job ready 25 minutes ago has risen two levels: it competes as a normal one,
        // the fair share first (Bob runs none), and it is the first by rank.
        let candidates = vec![
            job_of(1, "ann", "demo", Priority::NORMAL, now),
            job_of(2, "bob", "demo", Priority::LOW, now - 25 * 60_000),
        ];
        let running = HashMap::from([(user("ann"), 1)]);
        let mut pick = FairPick::new(candidates, HashMap::new(), running, &[], 100, now);
        assert_eq!(take(&mut pick, 2), [2, 1]);
        // Ready 5 minutes ago, it has not risen: the normal job goes first though Bob runs none.
        let candidates = vec![
            job_of(1, "ann", "demo", Priority::NORMAL, now),
            job_of(2, "bob", "demo", Priority::LOW, now - 5 * 60_000),
        ];
        let running = HashMap::from([(user("ann"), 1)]);
        let mut pick = FairPick::new(candidates, HashMap::new(), running, &[], 100, now);
        assert_eq!(take(&mut pick, 2), [1, 2]);
        // Jobs of one priority never rise above it: Ann's hour-old jobs do not pass Bob's new
        // one, which the fair share gives the next slot.
        let mut candidates: Vec<Candidate> = (1..=10)
            .map(|s| job_of(s, "ann", "demo", Priority::NORMAL, now - 6 * step + s))
            .collect();
        candidates.push(job_of(11, "bob", "demo", Priority::NORMAL, now));
        let running = HashMap::from([(user("ann"), 2)]);
        let mut pick = FairPick::new(candidates, HashMap::new(), running, &[], 100, now);
        assert_eq!(take(&mut pick, 2), [11, 1]);
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
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100, NOW);
        assert_eq!(take(&mut pick, 6), [1, 4, 6, 2, 5, 3]);
    }

    #[test]
    fn alone_a_user_fills_every_slot_in_order() {
        let candidates = (1..=5).map(|s| job(s, "ann", "demo")).collect();
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100, NOW);
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
        let running = HashMap::from([(user("ann"), 2)]);
        let by_kind = HashMap::from([("demo".to_string(), 1)]);
        let limits = [("demo".to_string(), 1)];
        let mut pick = FairPick::new(candidates, by_kind, running, &limits, 2, NOW);
        // Ann is at her share; demo is at its limit: only Bob's batch job may start.
        assert_eq!(take(&mut pick, 4), [4]);
    }

    #[test]
    fn a_candidate_read_twice_counts_once() {
        let candidates = vec![job(1, "ann", "demo"), job(1, "ann", "demo")];
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100, NOW);
        assert_eq!(take(&mut pick, 5), [1]);
    }

    /// The rule as documented, found the slow way: of the candidates that may start, the one
    /// of the highest level (priority with aging, up to the highest priority among the
    /// candidates), then whose user has the fewest jobs running, then the first by rank.
    struct Rule {
        candidates: Vec<Candidate>,
        now: i64,
        by_kind: HashMap<String, u32>,
        by_owner: HashMap<UserId, u32>,
        limits: Vec<(String, u32)>,
        per_owner: u32,
        /// The highest priority among the candidates as the claim began.
        top: Option<Priority>,
    }

    impl Rule {
        fn pick(&mut self) -> Option<Candidate> {
            let running = |o: &UserId| self.by_owner.get(o).copied().unwrap_or(0);
            let top = self.candidates.iter().map(|c| c.priority).max()?;
            let top = self.top.get_or_insert(top);
            let level = |c: &Candidate| Priority::standing(c.rank, self.now, *top);
            let at = (0..self.candidates.len())
                .filter(|&i| {
                    let c = &self.candidates[i];
                    running(&c.owner) < self.per_owner
                        && !kind_full(&self.by_kind, &self.limits, &c.kind)
                })
                .min_by_key(|&i| {
                    let c = &self.candidates[i];
                    (Reverse(level(c)), running(&c.owner), c.rank, c.seq)
                })?;
            Some(self.candidates.remove(at))
        }

        fn started(&mut self, c: &Candidate) {
            *self.by_kind.entry(c.kind.clone()).or_default() += 1;
            *self.by_owner.entry(c.owner.clone()).or_default() += 1;
        }
    }

    /// A small deterministic generator (xorshift), so that a failing case can be replayed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn the_pick_follows_the_rule_on_any_queue() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let owners = ["ann", "bob", "cy", "dee", "eve"];
        let kinds = ["demo", "batch", "checksum"];
        for case in 0..2000 {
            let n = rng.below(60);
            let mut candidates: Vec<Candidate> = (0..n)
                .map(|_| {
                    let seq = rng.below(80) as i64;
                    let owner = owners[rng.below(owners.len() as u64) as usize];
                    // A seq read twice is the same job.
                    let owner = if seq % 7 == 0 { "ann" } else { owner };
                    let kind = kinds[(seq % kinds.len() as i64) as usize];
                    // Mostly normal, some of every level, ready a twentieth of an aging step
                    // apart over four steps: by the claim's time, some have risen a level or
                    // more, some none.
                    let priority = match case % 3 {
                        0 => Priority::NORMAL,
                        _ => Priority::ALL[(seq * 7 % 5) as usize],
                    };
                    job_of(seq, owner, kind, priority, seq * Priority::AGING_MS / 20)
                })
                .collect();
            candidates.sort_by_key(|c| c.seq);
            candidates.dedup_by_key(|c| c.seq);
            // Read in any order, some twice.
            let mut read = candidates.clone();
            read.extend(candidates.iter().filter(|c| c.seq % 3 == 0).cloned());
            read.reverse();
            // Some users and kinds with jobs running already, some kinds with a limit.
            let mut by_owner: HashMap<UserId, u32> = HashMap::new();
            for o in owners {
                if rng.below(2) == 0 {
                    by_owner.insert(user(o), rng.below(4) as u32);
                }
            }
            let mut by_kind: HashMap<String, u32> = HashMap::new();
            let mut limits: Vec<(String, u32)> = Vec::new();
            for k in kinds {
                if rng.below(2) == 0 {
                    by_kind.insert(k.to_string(), rng.below(4) as u32);
                }
                if rng.below(3) == 0 {
                    limits.push((k.to_string(), rng.below(6) as u32));
                }
            }
            let per_owner = 1 + rng.below(6) as u32;
            let now = 4 * Priority::AGING_MS;
            let mut fast = FairPick::new(
                read,
                by_kind.clone(),
                by_owner.clone(),
                &limits,
                per_owner,
                now,
            );
            let mut rule = Rule {
                candidates,
                now,
                top: None,
                by_kind,
                by_owner,
                limits,
                per_owner,
            };
            let mut order = Vec::new();
            loop {
                let (got, want) = (fast.pick(), rule.pick());
                assert_eq!(got, want, "case {case}, after {order:?}");
                let Some(c) = got else { break };
                // A job gone from the queue meanwhile is not started, and counts for nothing.
                if rng.below(5) != 0 {
                    fast.started(&c);
                    rule.started(&c);
                }
                order.push(c.seq);
            }
        }
    }

    #[test]
    fn a_long_queue_is_picked_in_few_steps() {
        // A thousand users' jobs, fifty each, interleaved; a claim takes every one of them.
        let candidates: Vec<Candidate> = (0..50_000)
            .map(|s| job(s, &format!("user-{}", s % 1000), "demo"))
            .collect();
        let mut pick = FairPick::new(candidates, HashMap::new(), HashMap::new(), &[], 100, NOW);
        let taken = take(&mut pick, 50_000);
        assert_eq!(taken.len(), 50_000);
        // Every user has one more running before anyone has two more: seqs in order.
        assert!(taken.windows(2).all(|w| w[0] < w[1]));
        // Each pick pops a user once, and once more when their place changed as they started
        // a job: a pick that looked at every candidate would take 50,000 steps.
        assert!(pick.steps <= 2 * 50_000, "{} steps", pick.steps);
    }

    /// What one claim's pick costs, this pick against the rule looked for the slow way (the
    /// pick before this one), on the queue of the throughput benchmark: one user's 1,000
    /// oldest jobs and their oldest `slots` read again. `cargo test --release -p store-core
    /// --lib what_a_claim_costs -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn what_a_claim_costs() {
        for (users, slots) in [(1, 1), (1, 8), (1, 64), (1000, 64)] {
            let mut read: Vec<Candidate> = (0..CLAIM_SCAN as i64)
                .map(|s| job(s, &format!("user-{:032}", s % users), "demo"))
                .collect();
            read.extend(read[..slots].to_vec());
            let rounds = 200;
            let time = |f: &dyn Fn() -> usize| {
                let t = std::time::Instant::now();
                let taken: usize = (0..rounds).map(|_| f()).sum();
                assert_eq!(taken, rounds * slots);
                t.elapsed().as_secs_f64() * 1e6 / rounds as f64
            };
            let fast = time(&|| {
                let mut pick =
                    FairPick::new(read.clone(), HashMap::new(), HashMap::new(), &[], 64, NOW);
                take(&mut pick, slots).len()
            });
            let slow = time(&|| {
                let mut candidates = read.clone();
                candidates.sort_by_key(|c| c.seq);
                candidates.dedup_by_key(|c| c.seq);
                let mut rule = Rule {
                    candidates,
                    now: NOW,
                    by_kind: HashMap::new(),
                    by_owner: HashMap::new(),
                    limits: Vec::new(),
                    per_owner: 64,
                    top: None,
                };
                let mut n = 0;
                while n < slots {
                    let Some(c) = rule.pick() else { break };
                    rule.started(&c);
                    n += 1;
                }
                n
            });
            println!(
                "{users} user(s), {slots} slots: {fast:.1} µs a claim, the rule the slow way {slow:.1} µs ({:.1}×)",
                slow / fast
            );
        }
    }
}
