//! What the history pages show: the filters of a view, a page of jobs, a job's details, the
//! counts per status and the per-minute chart.

use crate::job::{Job, JobStatus, LogLine};
use serde::{Deserialize, Serialize};

/// What a history view shows: the filters and the page, as they appear in its URL (`/?status=
/// failed&kind=batch&q=disk&before=<id>`) and in `GET /api/v1/jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Comma-separated statuses; all when absent.
    pub status: Option<String>,
    pub kind: Option<String>,
    /// The start of a job id, or a part of its message.
    pub q: Option<String>,
    /// Jobs older than this job id (the `next` of the previous page).
    pub before: Option<String>,
    /// Jobs newer than this job id (the `prev` of the next page).
    pub after: Option<String>,
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The query string (without `?`) of this view, empty values left out.
    pub fn to_query_string(&self) -> String {
        let limit = self.limit.map(|l| l.to_string());
        let pairs = [
            ("status", self.status.as_deref()),
            ("kind", self.kind.as_deref()),
            ("q", self.q.as_deref()),
            ("before", self.before.as_deref()),
            ("after", self.after.as_deref()),
            ("limit", limit.as_deref()),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| {
                v.filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", url_encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The same filters on another page.
    pub fn page(&self, before: Option<String>, after: Option<String>) -> HistoryQuery {
        HistoryQuery {
            before,
            after,
            ..self.clone()
        }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a history view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `before` for the next, older page; absent on the last page.
    pub next: Option<String>,
    /// Pass as `after` for the previous, newer page; absent on the first page.
    pub prev: Option<String>,
}

/// What the job page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: Job,
    /// Its states in order, with their times.
    pub timeline: Vec<StatusChange>,
    /// The latest log lines, oldest first.
    pub log: Vec<LogLine>,
    /// How many lines the log has in all.
    pub log_total: u64,
}

/// How many of a user's jobs are in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: JobStatus,
    pub n: u64,
}

/// Jobs that finished in one minute, and how long they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteStats {
    /// Start of the minute (Unix ms).
    pub start: i64,
    pub finished: u64,
    /// Of those, the ones that did not succeed (failed, cancelled, interrupted).
    pub unsuccessful: u64,
    /// Mean and longest run time of the ones that started.
    pub avg_run_ms: Option<u64>,
    pub max_run_ms: Option<u64>,
}

/// A job entered `status` at `at` (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: JobStatus,
    pub at: i64,
}
