//! What a run is sized to ([`Plan`], which `run` resolves from its arguments and every
//! scenario reads) and how the bench says what it is doing ([`log`]).

use crate::{report, unix_ms};
use std::path::PathBuf;

/// The resolved sizes of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub smoke: bool,
    pub bin: PathBuf,
    pub site_root: PathBuf,
    /// This executable, for the client processes and the baseline server.
    pub exe: PathBuf,
    /// Temporary directory: databases, logs.
    pub work: PathBuf,
    pub subscribers: u64,
    pub fanout_jobs: u32,
    pub rate: u64,
    pub fanout_secs: u64,
    pub capacity: u64,
    pub hold_secs: u64,
    pub throughput_jobs: u64,
    /// Workflows: the items of the one fan-out.
    pub fan_out_items: u64,
    pub serial_jobs: u64,
    pub concurrency: u64,
    /// A second Headway binary to compare with, and its label: the first of `compared`.
    pub compare_bin: Option<PathBuf>,
    pub compare_label: String,
    /// Every Headway binary to compare with, and its label.
    pub compared: Vec<(PathBuf, String)>,
    /// Throughput: rounds at each concurrency.
    pub throughput_rounds: u64,
    /// Fan-out rounds when comparing with `compare_bin`.
    pub fanout_rounds: u64,
    pub history_jobs: u64,
    pub page_requests: u64,
    pub connect_rate: u64,
    pub max_per_process: u64,
    pub schedules: u64,
    pub schedule_period_s: u64,
    pub schedule_fires: u64,
    pub file_bytes: u64,
    pub file_rounds: u64,
    pub command_jobs: u64,
    pub command_lines: u64,
    pub command_lines_postgres: u64,
    pub command_rounds: u64,
    /// Priorities: low jobs queued ahead of a high one.
    pub priority_queue: u64,
    /// Workers: jobs of `true` each way, updates of the progress command, rounds.
    pub worker_jobs: u64,
    pub worker_updates: u64,
    pub worker_rounds: u64,
}

impl Plan {
    /// Client processes for `conns` connections: at most `max_per_process` each, and at least
    /// two for a real run so that no single process is the bottleneck.
    pub fn client_procs(&self, conns: u64) -> u64 {
        let needed = conns.div_ceil(self.max_per_process.max(1));
        if self.smoke {
            needed.max(1)
        } else {
            needed.max(2)
        }
    }

    /// A fresh path in the work directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }
}

/// One line on stderr, with the time of day.
pub fn log(msg: impl AsRef<str>) {
    eprintln!(
        "[headway-bench {}] {}",
        &report::utc(unix_ms() as i64)[11..19],
        msg.as_ref()
    );
}
