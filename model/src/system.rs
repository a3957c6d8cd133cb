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
    /// Jobs of every kind that ended in the last hour, and those of them that did not succeed.
    pub finished_last_hour: u64,
    pub unsuccessful_last_hour: u64,
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
    /// Whether the caller may pause and resume kinds.
    #[serde(default)]
    pub may_pause: bool,
}

/// One kind's load and timings. Timings are over the jobs that ended in the last hour (the
/// newest 20,000 at most); `None` when none did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindLoad {
    pub kind: String,
    pub queued: u64,
    pub running: u64,
    pub finished_last_hour: u64,
    pub unsuccessful_last_hour: u64,
    pub queue_p50_ms: Option<i64>,
    pub queue_p95_ms: Option<i64>,
    pub run_p50_ms: Option<i64>,
    pub run_p95_ms: Option<i64>,
}

/// A Headway process sharing the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    use super::percentile;

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
