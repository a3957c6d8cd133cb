//! What one user's jobs may write, so that no member can fill the disk: the bounds on a log
//! line and on a job's whole log (applied in the store's batch, where every line is written,
//! whatever its source), on the bytes of log external jobs may report each second, on the
//! outputs of a job, and on a user's schedules. Their defaults are set here; the server's
//! configuration overrides them (see `docs/SECURITY.md`).

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
    /// Bytes of log lines one user's external jobs may report per second, together, over a
    /// burst of [`REPORT_BURST_SECS`]; past it a report is refused with 429 and `Retry-After`.
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

/// Each user's budget of reported log bytes: a token bucket, refilled at the configured rate,
/// holding [`REPORT_BURST_SECS`] of it. Each process keeps its own: behind several processes
/// a user may send that much to each.
pub(crate) struct ReportBudget {
    per_sec: u64,
    buckets: Mutex<HashMap<UserId, (f64, Instant)>>,
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

    /// Takes `bytes` from `user`'s budget, or says (429) when there will be enough.
    pub(crate) fn take(&self, user: &UserId, bytes: u64) -> Result<(), AppError> {
        self.take_at(user, bytes, Instant::now())
    }

    fn take_at(&self, user: &UserId, bytes: u64, now: Instant) -> Result<(), AppError> {
        let burst = self.burst();
        let mut buckets = self.buckets.lock().unwrap();
        // Users whose bucket is full again are forgotten: the map holds only recent senders.
        if buckets.len() > 1024 {
            let per_sec = self.per_sec as f64;
            buckets.retain(|_, (left, at)| {
                *left + now.saturating_duration_since(*at).as_secs_f64() * per_sec < burst
            });
        }
        let (left, at) = buckets.entry(user.clone()).or_insert((burst, now));
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
                "your external jobs reported more than {} bytes of log a second; \
                 send this report again in {secs} s",
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
    fn a_user_past_the_rate_waits_and_others_do_not() {
        let budget = ReportBudget::new(1000);
        let (a, b) = (named::<UserId>("a"), named::<UserId>("b"));
        let t0 = Instant::now();
        budget.take_at(&a, 10_000, t0).unwrap();
        let refused = budget.take_at(&a, 2000, t0).unwrap_err();
        assert_eq!(refused.retry_after, Some(2));
        budget.take_at(&b, 10_000, t0).unwrap();
        budget
            .take_at(&a, 2000, t0 + Duration::from_secs(2))
            .unwrap();
    }

    #[test]
    fn a_report_larger_than_the_burst_passes_on_a_full_bucket() {
        let budget = ReportBudget::new(1000);
        let a = named::<UserId>("a");
        let t0 = Instant::now();
        budget.take_at(&a, 50_000, t0).unwrap();
        assert!(budget.take_at(&a, 50_000, t0).is_err());
    }
}
