//! What one user's jobs may write, so that no member can fill the disk: the bounds on a log
//! line and on a job's whole log (applied in the store's batch, where every line is written,
//! whatever its source), on what external jobs and workers may report each second, on the
//! outputs of a job, and on a user's schedules. Their defaults are set here; the server's
//! configuration overrides them (see `docs/SECURITY.md`).
//!
//! A report costs what it stores: [`REPORT_COST`] for the report itself (its progress event, the
//! job's row written again) and its log lines' bytes. A flood of reports that only move a bar is
//! therefore bounded as a flood of log lines is.

use model::{AppError, UserId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
pub use store_core::LogBounds;

/// The bounds on what a user's jobs may write.
#[derive(Debug, Clone, Copy)]
pub struct WriteBounds {
    /// The longest log line and the most log one job may write.
    pub log: LogBounds,
    /// Bytes one user's external jobs may report per second, together (and as much each
    /// worker token's workers), over a burst of [`REPORT_BURST_SECS`]: each report costs
    /// [`REPORT_COST`] and its log lines' bytes. Past it a report is refused with 429 and
    /// `Retry-After`.
    pub report_bytes_per_sec: u64,
    /// Outputs one job may attach.
    pub outputs_per_job: usize,
    /// Schedules one user may have.
    pub schedules_per_user: u64,
    /// The shortest interval between a schedule's fire times that a user may ask for.
    pub min_schedule_interval: Duration,
}

/// Seconds of [`WriteBounds::report_bytes_per_sec`] a user may send at once.
pub const REPORT_BURST_SECS: u64 = 10;

/// What a report costs besides its log lines, in bytes of the budget: about what one that only
/// moves a bar stores (its `progress` event and the job's row written again, with their
/// indexes).
pub const REPORT_COST: u64 = 1024;

/// Whose budget a report is taken from: an external job's owner, or the worker token its worker
/// presented. Each has a budget of its own: a worker never spends a member's, nor a member a
/// worker's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reporter<'a> {
    /// The owner of the external job reported on.
    User(&'a UserId),
    /// The id of the worker token of the worker that reports.
    WorkerToken(&'a str),
}

impl Reporter<'_> {
    /// The budget's key: the two kinds of sender never share one.
    fn key(self) -> String {
        match self {
            Reporter::User(user) => format!("user:{user}"),
            Reporter::WorkerToken(id) => format!("worker-token:{id}"),
        }
    }
}

impl Default for WriteBounds {
    fn default() -> Self {
        WriteBounds {
            log: LogBounds::default(),
            report_bytes_per_sec: 1024 * 1024,
            outputs_per_job: 1000,
            schedules_per_user: 100,
            min_schedule_interval: Duration::from_secs(60),
        }
    }
}

/// Each sender's budget of reported bytes ([`Reporter`]): a token bucket, refilled at the
/// configured rate, holding [`REPORT_BURST_SECS`] of it. Each process keeps its own: behind
/// several processes a sender may send that much to each.
pub(crate) struct ReportBudget {
    per_sec: u64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl ReportBudget {
    pub(crate) fn new(per_sec: u64) -> ReportBudget {
        ReportBudget {
            per_sec: per_sec.max(1),
            buckets: Mutex::default(),
        }
    }

    fn burst(&self) -> f64 {
        (self.per_sec * REPORT_BURST_SECS) as f64
    }

    /// Takes a report of `log_bytes` of log lines from `from`'s budget ([`REPORT_COST`] more),
    /// or says (429) when there will be enough.
    pub(crate) fn take(&self, from: Reporter<'_>, log_bytes: u64) -> Result<(), AppError> {
        self.take_at(
            &from.key(),
            REPORT_COST.saturating_add(log_bytes),
            Instant::now(),
        )
    }

    fn take_at(&self, key: &str, bytes: u64, now: Instant) -> Result<(), AppError> {
        let burst = self.burst();
        let mut buckets = self.buckets.lock().unwrap();
        // Senders whose bucket is full again are forgotten: the map holds only recent ones.
        if buckets.len() > 1024 {
            let per_sec = self.per_sec as f64;
            buckets.retain(|_, (left, at)| {
                *left + now.saturating_duration_since(*at).as_secs_f64() * per_sec < burst
            });
        }
        let (left, at) = match buckets.get_mut(key) {
            Some(bucket) => bucket,
            None => buckets.entry(key.to_string()).or_insert((burst, now)),
        };
        *left = (*left + now.saturating_duration_since(*at).as_secs_f64() * self.per_sec as f64)
            .min(burst);
        *at = now;
        let bytes = bytes as f64;
        if bytes <= *left {
            *left -= bytes;
            return Ok(());
        }
        // A report larger than the whole burst waits for a full bucket, then passes.
        let wanted = bytes.min(burst);
        let secs = ((wanted - *left) / self.per_sec as f64).ceil().max(1.0) as u64;
        if wanted <= *left {
            *left = 0.0;
            return Ok(());
        }
        Err(AppError::too_many(
            format!(
                "reports came faster than {} bytes of log a second (each report counts \
                 {REPORT_COST} bytes besides its lines'); send this report again in {secs} s",
                self.per_sec
            ),
            secs,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;

    #[test]
    fn every_report_costs_its_fixed_part_and_senders_do_not_share() {
        // 10 reports' worth a second: a burst of 100 reports that move only a bar.
        let budget = ReportBudget::new(10 * REPORT_COST);
        let (user, worker) = (named::<UserId>("u"), "w-1");
        let refused = (0..200)
            .position(|_| budget.take(Reporter::User(&user), 0).is_err())
            .expect("a flood of empty reports is refused");
        assert_eq!(refused, 100);
        budget.take(Reporter::WorkerToken(worker), 0).unwrap();
        assert!(budget.take(Reporter::User(&user), 0).is_err());
    }

    #[test]
    fn a_user_past_the_rate_waits_and_others_do_not() {
        let budget = ReportBudget::new(1000);
        let (a, b) = ("a", "b");
        let t0 = Instant::now();
        budget.take_at(a, 10_000, t0).unwrap();
        let refused = budget.take_at(a, 2000, t0).unwrap_err();
        assert_eq!(refused.retry_after, Some(2));
        budget.take_at(b, 10_000, t0).unwrap();
        budget
            .take_at(a, 2000, t0 + Duration::from_secs(2))
            .unwrap();
    }

    #[test]
    fn a_report_larger_than_the_burst_passes_on_a_full_bucket() {
        let budget = ReportBudget::new(1000);
        let a = "a";
        let t0 = Instant::now();
        budget.take_at(a, 50_000, t0).unwrap();
        assert!(budget.take_at(a, 50_000, t0).is_err());
    }
}
