//! Where a queued job stands ([`QueueInfo`]): its place in line for the limit that holds it
//! back (its kind's, when the kind's running and waiting jobs fill that limit, else the
//! deployment's slots), in the order claims take jobs (a user with fewer jobs running goes
//! first, see `store_core::FairPick`), and when it is expected to start: the running jobs free their slots when
//! their progress says they will (or their kind's recent typical run time), and each job ahead
//! then runs for its kind's typical time.

use super::Jobs;
use crate::caller::Caller;
use crate::failures::read_failed;
use crate::store::{QueueStanding, RunningJob};
use model::system::percentile;
use model::{AppError, Job, JobId, JobStatus, KindPause, QueueInfo};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// What the estimates of one answer are computed from, read once: the time, the running jobs,
/// each kind's typical run time over the last hour, and the deployment's slots. Estimates from
/// one reading agree with each other (the second in line never starts before the first);
/// estimates read apart differ by as much as the running jobs' pace changed in between.
struct Reading {
    now: i64,
    running: Vec<RunningJob>,
    typical: HashMap<String, i64>,
    slots: usize,
}

impl Jobs {
    /// The place in the queue of each of `jobs` (as `caller` read them), `None` for one that
    /// is not queued; all estimated from one reading. A queued job of a paused kind is out of
    /// line: its information is the pause. A limit's use counts others' jobs only for a caller
    /// who may see every job ([`model::limits::LimitWait::used`]).
    pub async fn queue_infos(
        &self,
        caller: &Caller,
        jobs: &[Job],
    ) -> Result<Vec<Option<QueueInfo>>, AppError> {
        if !jobs.iter().any(|j| j.status == JobStatus::Queued) {
            return Ok(vec![None; jobs.len()]);
        }
        let pauses = self.kind_pauses().await?;
        let reading = self.queue_reading().await?;
        let waits = self.limit_waits(caller, jobs).await?;
        let afters = self.after_waits(jobs).await?;
        let unrouted = self.unrouted(jobs).await?;
        let queued: Vec<JobId> = jobs
            .iter()
            .filter(|j| j.status == JobStatus::Queued)
            .map(|j| j.id.clone())
            .collect();
        let mut standings = self
            .inner
            .store
            .queue_standings(&queued)
            .await
            .map_err(read_failed)?
            .into_iter();
        Ok(jobs
            .iter()
            .map(|job| match job.status {
                JobStatus::Queued => {
                    let standing = standings.next().flatten();
                    if let Some(after) = afters.get(&job.id) {
                        // Out of line until the jobs it runs after end.
                        return Some(QueueInfo {
                            queue_position: None,
                            expected_start_at: None,
                            waiting_for: "jobs".into(),
                            needs: Some(after.clone()),
                            paused: None,
                            limit: None,
                            requires: Vec::new(),
                        });
                    }
                    if let Some(tags) = unrouted.get(job.kind.as_str()) {
                        // Out of line until a process that offers its kind's tags is alive.
                        return Some(QueueInfo {
                            queue_position: None,
                            expected_start_at: None,
                            waiting_for: "tags".into(),
                            needs: None,
                            paused: None,
                            limit: None,
                            requires: tags.clone(),
                        });
                    }
                    match KindPause::of(&pauses, &job.kind) {
                        Some(pause) => Some(QueueInfo {
                            queue_position: None,
                            expected_start_at: None,
                            waiting_for: "paused".into(),
                            paused: Some(pause.clone()),
                            limit: None,
                            needs: None,
                            requires: Vec::new(),
                        }),
                        None => standing.map(|standing| {
                            let mut info = self.place(&reading, job, standing);
                            if let Some(wait) = waits.get(&job.id) {
                                info.waiting_for = "limit".into();
                                info.limit = Some(wait.clone());
                            }
                            info
                        }),
                    }
                }
                _ => None,
            })
            .collect())
    }

    /// The kinds of the queued `jobs` that require tags no live process running jobs offers
    /// ([`model::tags`]), with those tags: their jobs cannot start anywhere yet.
    async fn unrouted(&self, jobs: &[Job]) -> Result<HashMap<String, Vec<String>>, AppError> {
        let required: HashMap<&str, Vec<String>> = jobs
            .iter()
            .filter(|j| j.status == JobStatus::Queued)
            .map(|j| (j.kind.as_str(), self.inner.kinds.requires(&j.kind)))
            .filter(|(_, tags)| !tags.is_empty())
            .collect();
        if required.is_empty() {
            return Ok(HashMap::new());
        }
        let offered = self
            .inner
            .membership
            .offered_tags()
            .await
            .map_err(read_failed)?;
        Ok(required
            .into_iter()
            .filter(|(_, tags)| {
                !offered
                    .iter()
                    .any(|o| model::tags::missing(tags, o).is_empty())
            })
            .map(|(kind, tags)| (kind.to_string(), tags))
            .collect())
    }

    async fn queue_reading(&self) -> Result<Reading, AppError> {
        let store = &self.inner.store;
        let running = store.running_jobs().await.map_err(read_failed)?;
        let slots = self.slots().await?;
        let now = crate::now_ms();
        let mut runs: HashMap<String, Vec<i64>> = HashMap::new();
        for f in store
            .finished_since(now - 3_600_000)
            .await
            .map_err(read_failed)?
        {
            if let (Some(ran), "succeeded") = (f.ran_ms, f.status.as_str()) {
                runs.entry(f.kind).or_default().push(ran);
            }
        }
        let typical = runs
            .into_iter()
            .filter_map(|(k, mut v)| Some((k, percentile(&mut v, 50.0)?)))
            .collect();
        Ok(Reading {
            now,
            running,
            typical,
            slots,
        })
    }

    /// Where the queued `job` stands, from its `standing` in the queue.
    fn place(&self, reading: &Reading, job: &Job, standing: QueueStanding) -> QueueInfo {
        let Reading {
            now,
            running,
            typical,
            slots,
        } = reading;
        let of_kind: Vec<RunningJob> = running
            .iter()
            .filter(|r| r.kind == job.kind)
            .cloned()
            .collect();
        let kind_limit = self.kind_limit(&job.kind);
        let kind_bound =
            kind_limit.is_some_and(|l| of_kind.len() as u64 + standing.ahead_of_kind >= l as u64);
        if let (true, Some(limit)) = (kind_bound, kind_limit) {
            let ahead = vec![
                job.kind.clone();
                standing
                    .ahead_of_kind
                    .min(crate::store::QUEUE_LOOKAHEAD as u64) as usize
            ];
            QueueInfo {
                queue_position: Some(standing.ahead_of_kind + 1),
                expected_start_at: expected_start(*now, limit, &of_kind, &ahead, typical),
                waiting_for: "kind".into(),
                paused: None,
                limit: None,
                needs: None,
                requires: Vec::new(),
            }
        } else {
            let complete = standing.kinds_ahead.len() as u64 == standing.ahead;
            QueueInfo {
                queue_position: Some(standing.ahead + 1),
                expected_start_at: complete
                    .then(|| expected_start(*now, *slots, running, &standing.kinds_ahead, typical))
                    .flatten(),
                waiting_for: "all".into(),
                paused: None,
                limit: None,
                needs: None,
                requires: Vec::new(),
            }
        }
    }
}

impl Jobs {
    /// Why each of the queued `jobs` waits on a limit, for those that do, as `caller` may
    /// know it.
    async fn limit_waits(
        &self,
        caller: &Caller,
        jobs: &[Job],
    ) -> Result<HashMap<JobId, model::limits::LimitWait>, AppError> {
        let limits = self.limits_now().await?;
        let mut waits = HashMap::new();
        for job in jobs.iter().filter(|j| j.status == JobStatus::Queued) {
            if !limits.limits_kind(&job.kind) {
                continue;
            }
            let owner = self
                .inner
                .store
                .job_owner(&job.id)
                .await
                .map_err(read_failed)?;
            let owner = owner.as_ref().map_or("", |o| o.as_str());
            if let Some(mut wait) = limits.wait_of(job, owner, caller.sees()) {
                if wait.limit.per == model::limits::Per::Owner {
                    wait.name = self.user_name(owner).await;
                }
                waits.insert(job.id.clone(), wait);
            }
        }
        Ok(waits)
    }

    /// The limit of jobs of `kind` running at once across the deployment, if it has one.
    fn kind_limit(&self, kind: &str) -> Option<usize> {
        self.inner
            .kind_limits
            .get(kind)
            .copied()
            .or_else(|| self.inner.kinds.max_running(kind))
    }

    /// Jobs the deployment runs at once: this process's `--max-running` for each live process
    /// that runs jobs (processes of one deployment share their settings), and each worker's.
    async fn slots(&self) -> Result<usize, AppError> {
        self.inner
            .membership
            .slots(self.inner.max_running)
            .await
            .map_err(read_failed)
    }
}

/// When the next job of a line starts: `capacity` slots, held by `running` until they end, then
/// taken in turn by the jobs `ahead` (by kind) for their kind's typical time. `None` when a
/// time is unknown.
pub fn expected_start(
    now: i64,
    capacity: usize,
    running: &[RunningJob],
    ahead: &[String],
    typical: &HashMap<String, i64>,
) -> Option<i64> {
    if capacity == 0 {
        return None;
    }
    let mut free: BinaryHeap<Reverse<i64>> = BinaryHeap::new();
    for r in running {
        free.push(Reverse(now + remaining(now, r, typical)?));
    }
    for _ in running.len()..capacity {
        free.push(Reverse(now));
    }
    // Slots beyond the capacity (a limit lowered while jobs ran) free up first for no one.
    while free.len() > capacity {
        let Reverse(t) = free.pop()?;
        let Reverse(next) = free.pop()?;
        free.push(Reverse(t.max(next)));
    }
    for kind in ahead {
        let Reverse(t) = free.pop()?;
        free.push(Reverse(t + *typical.get(kind)?));
    }
    free.pop().map(|Reverse(t)| t)
}

/// How long a running job still needs: from its progress (the time so far, scaled by what is
/// left), or else its kind's typical time less the time so far.
fn remaining(now: i64, r: &RunningJob, typical: &HashMap<String, i64>) -> Option<i64> {
    let elapsed = (now - r.started_at?).max(0);
    match r.total {
        Some(total) if r.current > 0 && total >= r.current => {
            Some((elapsed as f64 * (total - r.current) as f64 / r.current as f64) as i64)
        }
        _ => typical.get(&r.kind).map(|t| (t - elapsed).max(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(kind: &str, started: i64, current: i64, total: Option<i64>) -> RunningJob {
        RunningJob {
            kind: kind.into(),
            started_at: Some(started),
            current,
            total,
        }
    }

    #[test]
    fn a_free_slot_means_now() {
        assert_eq!(
            expected_start(
                1_000,
                2,
                &[running("a", 0, 1, Some(2))],
                &[],
                &HashMap::new()
            ),
            Some(1_000)
        );
    }

    #[test]
    fn running_jobs_end_when_their_progress_says_and_jobs_ahead_take_their_kinds_time() {
        let now = 10_000;
        let typical = HashMap::from([("a".to_string(), 4_000), ("b".to_string(), 1_000)]);
        // Two slots: one job a quarter done after 10 s (30 s left), one half done after 2 s
        // (2 s left).
        let busy = [
            running("a", 0, 1, Some(4)),
            running("b", 8_000, 5, Some(10)),
        ];
        // Nothing ahead: the second slot frees at 12 s.
        assert_eq!(expected_start(now, 2, &busy, &[], &typical), Some(12_000));
        // One `a` ahead takes that slot at 12 s until 16 s; the first frees at 40 s: 16 s.
        assert_eq!(
            expected_start(now, 2, &busy, &["a".into()], &typical),
            Some(16_000)
        );
        // Two ahead: `a` 12→16, `b` 16→17.
        assert_eq!(
            expected_start(now, 2, &busy, &["a".into(), "b".into()], &typical),
            Some(17_000)
        );
    }

    #[test]
    fn without_progress_the_kinds_typical_time_counts_and_unknowns_give_no_estimate() {
        let typical = HashMap::from([("a".to_string(), 5_000)]);
        let no_progress = [running("a", 0, 0, None)];
        assert_eq!(
            expected_start(2_000, 1, &no_progress, &[], &typical),
            Some(5_000)
        );
        // Past its typical time: it could end any moment.
        assert_eq!(
            expected_start(9_000, 1, &no_progress, &[], &typical),
            Some(9_000)
        );
        assert_eq!(
            expected_start(2_000, 1, &[running("x", 0, 0, None)], &[], &typical),
            None
        );
        assert_eq!(expected_start(2_000, 1, &[], &["x".into()], &typical), None);
        assert_eq!(expected_start(2_000, 0, &[], &[], &typical), None);
    }
}
