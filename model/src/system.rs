//! The operator's view of a deployment (`/system`): load by kind, the last hour's throughput and
//! failures, waits and run times, streams, events per second, the store's size and the
//! processes alive.

use crate::ids::ProcessId;
use serde::{Deserialize, Serialize};

/// The whole page's figures, as of `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemOverview {
    /// Unix ms.
    pub now: i64,
    pub kinds: Vec<KindLoad>,
    /// Jobs of every kind that ended in the last hour, those of them that failed, and those
    /// that were cancelled (asked to stop: neither a success nor a failure).
    pub finished_last_hour: u64,
    pub failed_last_hour: u64,
    pub cancelled_last_hour: u64,
    /// Event streams and long polls open on the process that answered.
    pub open_streams: u64,
    /// Events committed per second over the last minute, by every process.
    pub events_per_second: f64,
    pub store_bytes: u64,
    /// Processes with a heartbeat younger than the lease.
    pub processes: Vec<ProcessInfo>,
    /// The kinds an operator paused (`*`: every kind).
    #[serde(default)]
    pub pauses: Vec<crate::kinds::KindPause>,
    /// Whether the caller may pause and resume kinds (and set and remove limits).
    #[serde(default)]
    pub may_pause: bool,
    /// The limits in force and their use by key ([`crate::limits`]); the keys only for a
    /// caller who sees every job.
    #[serde(default)]
    pub limits: Vec<crate::limits::LimitUse>,
    /// The workers on other machines ([`crate::workers`]); for a caller who may steer them.
    #[serde(default)]
    pub workers: Vec<crate::workers::WorkerInfo>,
}

/// One kind's load and timings. Timings are over the jobs that ended in the last hour (the
/// newest 20,000 at most); `None` when none did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindLoad {
    pub kind: String,
    /// What a person calls it (its machine name for a kind no longer known).
    #[serde(default)]
    pub title: String,
    pub queued: u64,
    pub running: u64,
    pub finished_last_hour: u64,
    pub failed_last_hour: u64,
    pub cancelled_last_hour: u64,
    pub queue_p50_ms: Option<i64>,
    pub queue_p95_ms: Option<i64>,
    pub run_p50_ms: Option<i64>,
    pub run_p95_ms: Option<i64>,
}

/// A Headway process sharing the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ProcessInfo {
    pub id: ProcessId,
    /// `all`, `web` or `worker`.
    pub role: String,
    pub build: String,
    pub host: String,
    pub pid: i64,
    pub started_at: i64,
    pub heartbeat_at: i64,
    /// Whether it is the process that answered.
    pub this: bool,
    /// A worker's name (`headway worker --name`); empty for a server's own process.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

impl SystemOverview {
    /// The share of the last hour's jobs that failed, among those that ran to an end of their
    /// own: a cancel was asked for, so it counts neither way. `None` when none did.
    pub fn failure_rate(&self) -> Option<f64> {
        let ran_to_end = self
            .finished_last_hour
            .saturating_sub(self.cancelled_last_hour);
        (ran_to_end > 0).then(|| self.failed_last_hour as f64 / ran_to_end as f64)
    }
}

/// The `p`-th percentile (0–100) of `values`, nearest rank; `None` for none.
pub fn percentile(values: &mut [i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_is_not_a_failure() {
        let overview = |finished, failed, cancelled| SystemOverview {
            now: 0,
            kinds: Vec::new(),
            finished_last_hour: finished,
            failed_last_hour: failed,
            cancelled_last_hour: cancelled,
            open_streams: 0,
            events_per_second: 0.0,
            store_bytes: 0,
            processes: Vec::new(),
            pauses: Vec::new(),
            may_pause: false,
            limits: Vec::new(),
            workers: Vec::new(),
        };
        assert_eq!(overview(13, 2, 1).failure_rate(), Some(2.0 / 12.0));
        assert_eq!(overview(1, 0, 1).failure_rate(), None);
        assert_eq!(overview(0, 0, 0).failure_rate(), None);
        assert_eq!(overview(4, 0, 0).failure_rate(), Some(0.0));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&mut [], 50.0), None);
        assert_eq!(percentile(&mut [7], 95.0), Some(7));
        let mut v: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut v, 50.0), Some(50));
        assert_eq!(percentile(&mut v, 95.0), Some(95));
        assert_eq!(percentile(&mut v, 100.0), Some(100));
        assert_eq!(percentile(&mut [1, 2, 3, 4], 50.0), Some(2));
    }
}
