//! External jobs: programs that run elsewhere (`headway run`, a CI step, a cron job on another
//! machine) and report their progress, log and end over HTTP
//! (`POST /api/v1/jobs/{id}/report`). See docs/EXTERNAL.md.

use crate::job::{Job, JobError, JobStatus, Level, LogLevel};
use serde::{Deserialize, Serialize};

/// The kind of every external job.
pub const EXTERNAL_KIND: &str = "external";

impl Job {
    /// What a job is called on a page when not by its kind: the title an external job was
    /// started with, a workflow run's workflow, a step's name; `None` for any other job.
    pub fn title(&self) -> Option<&str> {
        if let Some(step) = &self.step {
            return Some(step);
        }
        let field = match self.kind.as_str() {
            crate::workflows::WORKFLOW_KIND => "workflow",
            _ if self.is_external() => "title",
            _ => return None,
        };
        self.params.get(field).and_then(|t| t.as_str())
    }

    /// Whether the job is an external one: run elsewhere, reported on over HTTP.
    pub fn is_external(&self) -> bool {
        is_external_kind(&self.kind)
    }
}

/// Whether `kind` names external jobs (the one place that says which name does).
fn is_external_kind(kind: &str) -> bool {
    kind == EXTERNAL_KIND
}

/// What a report token starts with, so that a leaked one is easy to recognise; the job's id
/// follows, then a dot and the secret.
pub const REPORT_TOKEN_PREFIX: &str = "hwr_";

/// The parameters of an external job, as `POST /api/v1/jobs` takes them with
/// `kind: "external"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ExternalParams {
    /// What the job is called on the dashboard.
    pub title: String,
    /// The command line it runs, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The machine it runs on, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Seconds without a report after which the job is taken for lost (`interrupted`).
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u32,
    /// Anything else worth showing with it: names and values.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub params: serde_json::Map<String, serde_json::Value>,
}

pub const DEFAULT_LEASE_SECS: u32 = 30;
/// The shortest and longest leases an external job may ask for.
pub const LEASE_SECS: (u32, u32) = (5, 3_600);

fn default_lease_secs() -> u32 {
    DEFAULT_LEASE_SECS
}

/// One report of an external job: anything it has to say since the last one. Every field may be
/// left out; an empty report only says that the program still runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Report {
    /// How far it is (in `unit`s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u64>,
    /// How far it goes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The bar's colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Log lines, numbered from 1 by the reporter without gaps: a line whose number was taken
    /// already is not written again, so a report sent twice changes nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<ReportLine>,
    /// What it found: a small JSON object, shown on its page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Child jobs to start ([`crate::children`]), before its end if it has one: it then ends
    /// once they did. Each is started once by its name, so a report sent twice starts nothing
    /// twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<crate::children::ChildStart>,
    /// How it ended; the last report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<ReportEnd>,
}

/// One numbered log line of a [`Report`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ReportLine {
    pub seq: u64,
    #[serde(default)]
    pub level: LogLevel,
    pub line: String,
}

/// How an external job ended: `succeeded`, `failed` (with an error) or `cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ReportEnd {
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// The answer to a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ReportReply {
    /// The number of the last log line kept: every line up to it is stored.
    pub acked: u64,
    /// The job's status now: `cancelling` asks the program to stop.
    pub status: JobStatus,
    /// The job's latest event id.
    pub event_id: i64,
    /// The children the report asked for, in its order: each one's job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<crate::JobId>,
}

/// The most log lines one report may carry.
pub const MAX_REPORT_LINES: usize = 1_000;

/// The most children one report may ask for.
pub const MAX_REPORT_CHILDREN: usize = 100;

/// The largest report, in bytes of JSON (other requests may have 64 KiB).
pub const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

/// Whether a request is an external job's report (`POST /api/v1/jobs/{id}/report`), whose body
/// may be as large as [`MAX_REPORT_BYTES`].
pub fn is_report_path(path: &str) -> bool {
    path.strip_prefix("/api/v1/jobs/")
        .and_then(|rest| rest.strip_suffix("/report"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}
