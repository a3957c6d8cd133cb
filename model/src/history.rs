//! What the history pages show: the filters of a view, a page of jobs, a job's details, the
//! counts per status and the per-minute chart.

use crate::job::{Job, JobStatus, LogLevel, LogLine};
use serde::{Deserialize, Serialize};

/// What a history view's `status` may be: statuses joined by commas, or nothing (every status).
pub const STATUS_LIST_PATTERN: &str = "^((queued|running|cancelling|succeeded|failed|cancelled|interrupted)(,(queued|running|cancelling|succeeded|failed|cancelled|interrupted))*)?$";

/// What a history view's `schedule` may be, and its page's `before` and `after` (a bulk
/// action's filter has no page, and ignores them): an id (a UUID as the server writes one, see
/// [`crate::ids`]), or nothing.
pub const ID_OR_NOTHING_PATTERN: &str =
    "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$";

/// The longest search of a history view (`q`), in characters.
pub const MAX_SEARCH: usize = 200;

/// The longest error code a history view filters on (`error`), in characters.
pub const MAX_ERROR_CODE: usize = 64;

/// What a history view shows: the filters and the page, as they appear in its URL (`/?status=
/// failed&kind=batch&q=disk&before=<id>`) and in `GET /api/v1/jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct HistoryQuery {
    /// Comma-separated statuses; all when absent.
    #[cfg_attr(feature = "schemars", schemars(regex(pattern = STATUS_LIST_PATTERN)))]
    pub status: Option<String>,
    pub kind: Option<String>,
    /// The jobs one schedule started (its id).
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(regex(pattern = ID_OR_NOTHING_PATTERN)))]
    pub schedule: Option<String>,
    /// The steps of one workflow run (its job's id). Without it, a page lists no run's steps:
    /// a run is one row.
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(regex(pattern = ID_OR_NOTHING_PATTERN)))]
    pub parent: Option<String>,
    /// The start of a job id (8 characters or more; a run's steps are found too), or text found
    /// anywhere, without regard to case, in a job's id, kind, step, parameters (a title among
    /// them), error code or message, or in the title of its kind or workflow in any language.
    #[cfg_attr(feature = "schemars", schemars(length(max = MAX_SEARCH)))]
    pub q: Option<String>,
    /// The jobs that ended with this error code (`bad_header`).
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(length(max = MAX_ERROR_CODE)))]
    pub error: Option<String>,
    /// Jobs older than this job id (the `next` of the previous page).
    pub before: Option<String>,
    /// Jobs newer than this job id (the `prev` of the next page).
    pub after: Option<String>,
    #[cfg_attr(feature = "schemars", schemars(range(min = 1, max = 500)))]
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The query string (without `?`) of this view, empty values left out.
    pub fn to_query_string(&self) -> String {
        let limit = self.limit.map(|l| l.to_string());
        let pairs = [
            ("status", self.status.as_deref()),
            ("kind", self.kind.as_deref()),
            ("schedule", self.schedule.as_deref()),
            ("parent", self.parent.as_deref()),
            ("q", self.q.as_deref()),
            ("error", self.error.as_deref()),
            ("before", self.before.as_deref()),
            ("after", self.after.as_deref()),
            ("limit", limit.as_deref()),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| {
                v.filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", crate::text::url_encode(v)))
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

/// One page of a history view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
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
    /// What `log` is narrowed to, and how many lines pass it (`None` without a filter).
    #[serde(default)]
    pub log_filter: LogFilter,
    #[serde(default)]
    pub log_matches: Option<u64>,
}

/// How many of a user's jobs are in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: JobStatus,
    pub n: u64,
}

/// The jobs of one kind that failed with one error code since a time: how many, and the newest
/// of them (when, which, and what it said).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureGroup {
    pub kind: String,
    /// `None` for jobs that failed without a code.
    pub error_code: Option<String>,
    pub count: u64,
    /// When the newest ended (Unix ms).
    pub last_at: i64,
    pub last_job: crate::JobId,
    pub last_message: Option<String>,
    /// That message in Headway's words, when Headway wrote it ([`crate::JobError::said`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_said: Option<crate::Said>,
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
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct StatusChange {
    pub status: JobStatus,
    pub at: i64,
}

/// What the job page's log is narrowed to: lines containing `q` (ignoring ASCII case), of at
/// least `level`. As it appears in the page's URL (`?log_q=failed&log_level=warn`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LogFilter {
    pub q: Option<String>,
    pub level: Option<LogLevel>,
}

/// The longest search in a log.
pub const MAX_LOG_SEARCH: usize = 200;

impl LogFilter {
    /// From the page's query values: empty ones, `all` and unknown levels mean no filter; the
    /// search is trimmed and cut to [`MAX_LOG_SEARCH`] characters.
    pub fn from_query(q: Option<&str>, level: Option<&str>) -> LogFilter {
        let q = q
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| q.chars().take(MAX_LOG_SEARCH).collect());
        LogFilter {
            q,
            level: level
                .and_then(LogLevel::parse)
                .filter(|l| *l != LogLevel::Info),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_none() && self.level.is_none()
    }

    /// The lowest level shown, as a rank: 0 every line, 1 warnings and errors, 2 errors.
    pub fn min_rank(&self) -> i64 {
        match self.level {
            None | Some(LogLevel::Info) => 0,
            Some(LogLevel::Warn) => 1,
            Some(LogLevel::Error) => 2,
        }
    }

    /// Whether a line passes (the same test the store applies).
    pub fn matches(&self, line: &LogLine) -> bool {
        let rank = match line.level {
            LogLevel::Info => 0,
            LogLevel::Warn => 1,
            LogLevel::Error => 2,
        };
        rank >= self.min_rank()
            && self
                .q
                .as_deref()
                .is_none_or(|q| !find_all(&line.line, q).is_empty())
    }
}

/// Where `needle` occurs in `text`, ignoring ASCII case, as byte ranges that do not overlap.
pub fn find_all(text: &str, needle: &str) -> Vec<std::ops::Range<usize>> {
    if needle.is_empty() {
        return Vec::new();
    }
    let (hay, pin) = (text.to_ascii_lowercase(), needle.to_ascii_lowercase());
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = hay[from..].find(&pin) {
        let start = from + at;
        found.push(start..start + pin.len());
        from = start + pin.len();
    }
    found
}

#[cfg(test)]
mod log_filter_tests {
    use super::*;

    fn line(level: LogLevel, text: &str) -> LogLine {
        LogLine {
            job_id: crate::JobId::parse("0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93").unwrap(),
            seq: 1,
            level,
            line: text.into(),
            at: 0,
            attempt: 1,
        }
    }

    #[test]
    fn a_filter_keeps_lines_of_its_level_and_above_that_contain_its_text() {
        let f = LogFilter::from_query(Some("  Item 7 "), Some("warn"));
        assert_eq!(f.q.as_deref(), Some("Item 7"));
        assert!(f.matches(&line(LogLevel::Warn, "item 7 failed")));
        assert!(f.matches(&line(LogLevel::Error, "ITEM 7 crashed")));
        assert!(!f.matches(&line(LogLevel::Info, "item 7 done")));
        assert!(!f.matches(&line(LogLevel::Warn, "item 8 failed")));
        assert!(LogFilter::from_query(Some(""), Some("all")).is_empty());
        assert!(LogFilter::from_query(None, Some("info")).is_empty());
        assert_eq!(
            LogFilter::from_query(Some(&"x".repeat(500)), None)
                .q
                .unwrap()
                .len(),
            MAX_LOG_SEARCH
        );
    }

    #[test]
    fn matches_are_found_ignoring_case_without_overlap() {
        assert_eq!(find_all("Item item ITEM", "item"), vec![0..4, 5..9, 10..14]);
        assert_eq!(find_all("aaaa", "aa"), vec![0..2, 2..4]);
        assert_eq!(find_all("ünïcode Ü", "ü"), vec![0..2]);
        assert!(find_all("abc", "").is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_pattern_names_every_status_and_nothing_else() {
        let names = |alternatives: &str| {
            let mut names: Vec<String> = alternatives.split('|').map(str::to_string).collect();
            names.sort();
            names
        };
        let mut every: Vec<String> = JobStatus::ALL.iter().map(|s| s.to_string()).collect();
        every.sort();
        let groups: Vec<&str> = STATUS_LIST_PATTERN
            .split(['(', ')'])
            .filter(|g| g.contains('|'))
            .collect();
        assert_eq!(groups.len(), 2, "{STATUS_LIST_PATTERN}");
        for group in groups {
            assert_eq!(names(group), every);
        }
    }
}
