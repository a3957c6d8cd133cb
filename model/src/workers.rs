//! Workers on other machines (`headway worker`): what one says when it connects, how it takes
//! work, and how operators see and steer them. A worker connects out to the server with a
//! worker token ([`WORKER_TOKEN_PREFIX`]), registers the kinds of its commands file
//! ([`Hello`]), takes jobs by long polls ([`Poll`], [`PollReply`]) and reports on each one as
//! an external job's program does ([`crate::external::Report`]). See docs/WORKERS.md.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// What a worker token starts with.
pub const WORKER_TOKEN_PREFIX: &str = "hwk_";

/// The most jobs one worker runs at once.
pub const MAX_SLOTS: u32 = 1024;

/// The longest commands file a worker registers, in bytes.
pub const MAX_COMMANDS_BYTES: usize = 256 * 1024;

/// The most commands a worker's commands file declares.
pub const MAX_COMMANDS: usize = 100;

/// The most workers registered with one worker token at once (a worker that restarts before
/// its lease ended counts twice until then).
pub const MAX_WORKERS_PER_TOKEN: u64 = 64;

/// The most kind names one worker token may own.
pub const MAX_KINDS_PER_TOKEN: usize = 200;

/// `POST /api/v1/workers`: who the worker is and what it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// What it is called on `/system` (`--name`, else its host's name).
    pub name: String,
    pub host: String,
    /// Its Headway's version.
    pub version: String,
    pub pid: i64,
    /// The tags it offers ([`crate::tags`]).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Jobs it runs at once.
    pub max_running: u32,
    /// The text of its commands file: its kinds.
    pub commands: String,
}

/// The answer to [`Hello`]: the id it polls and reports under, and its timings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Registered {
    pub id: String,
    /// A worker silent for this long is taken for gone, and its jobs are taken back.
    pub lease_secs: u64,
    /// The longest a poll waits for work before it is answered empty.
    pub poll_secs: u64,
    /// The kinds it registered.
    pub kinds: Vec<String>,
}

/// `POST /api/v1/workers/{id}/poll`: how many jobs it may take, and the jobs it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Poll {
    pub free: u32,
    #[serde(default)]
    pub running: Vec<String>,
}

/// The answer to a [`Poll`]: jobs to run, and jobs of those it runs to stop (cancelled, or no
/// longer its own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct PollReply {
    pub jobs: Vec<Assigned>,
    pub stop: Vec<String>,
    pub state: WorkerState,
}

/// A job handed to a worker: everything it needs to run it, and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Assigned {
    pub id: String,
    pub kind: String,
    pub params: serde_json::Value,
    /// Its attempt: the worker's reports name it, and one for an attempt that is no longer the
    /// job's is refused (409).
    pub attempt: u32,
    pub timeout_ms: Option<u64>,
    /// The log lines the job has already (from earlier attempts): this attempt's are numbered
    /// from the next.
    pub log_seq: u64,
    /// Its secret parameters, for this run only.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// What a worker does.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WorkerState {
    /// Takes work.
    #[default]
    Active,
    /// Finishes what it runs and takes no more.
    Draining,
    /// Takes nothing; what it runs is stopped and taken back.
    Disabled,
}

names!(WorkerState);

/// A worker as `/system` and `GET /api/v1/workers` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct WorkerInfo {
    pub id: String,
    pub name: String,
    pub host: String,
    pub version: String,
    pub tags: Vec<String>,
    pub kinds: Vec<String>,
    pub slots: u32,
    pub running: u64,
    pub state: WorkerState,
    pub started_at: i64,
    /// Its last poll, by the database's clock.
    pub last_seen_at: i64,
}

/// A worker token as listed (its secret is never shown again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct WorkerTokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A worker token just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct NewWorkerToken {
    pub id: String,
    pub name: String,
    pub token: String,
}

/// `POST /api/v1/workers/{id}/state`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetState {
    pub state: WorkerState,
}

/// Whether a request is one a worker token may make ([`WORKER_TOKEN_PREFIX`]): registering
/// (`POST /api/v1/workers`), or a worker's own poll, reports, inputs and outputs
/// (`/api/v1/workers/{id}/…`).
pub fn is_worker_path(method: &str, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/workers") else {
        return false;
    };
    if rest.is_empty() {
        return method == "POST";
    }
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    matches!(
        (method, parts.as_slice()),
        ("POST", [_, "poll"])
            | ("POST", [_, "jobs", _, "report"])
            | ("GET", [_, "jobs", _, "files", _])
            | ("POST", [_, "jobs", _, "outputs", _])
    )
}

/// Whether a request is a worker's report, whose body may be as large as an external job's
/// ([`crate::external::MAX_REPORT_BYTES`]), or its registration, which carries its commands
/// file.
pub fn takes_large_body(method: &str, path: &str) -> bool {
    if method != "POST" {
        return false;
    }
    path == "/api/v1/workers" || (is_worker_path(method, path) && path.ends_with("/report"))
}

/// Whether a request is a worker's output file, whose body its handler reads as it arrives.
pub fn is_output_path(method: &str, path: &str) -> bool {
    is_worker_path(method, path)
        && path
            .trim_start_matches("/api/v1/workers/")
            .split('/')
            .nth(3)
            == Some("outputs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_token_reaches_its_own_endpoints_only() {
        assert!(is_worker_path("POST", "/api/v1/workers"));
        assert!(is_worker_path("POST", "/api/v1/workers/w1/poll"));
        assert!(is_worker_path("POST", "/api/v1/workers/w1/jobs/j1/report"));
        assert!(is_worker_path(
            "GET",
            "/api/v1/workers/w1/jobs/j1/files/input"
        ));
        assert!(is_worker_path(
            "POST",
            "/api/v1/workers/w1/jobs/j1/outputs/a.csv"
        ));
        for (method, path) in [
            ("GET", "/api/v1/workers"),
            ("POST", "/api/v1/workers/w1/state"),
            ("GET", "/api/v1/jobs"),
            ("POST", "/api/v1/jobs/j1/report"),
            ("POST", "/api/v1/workers/w1/jobs/j1/report/more"),
            ("GET", "/api/v1/workers/w1/poll"),
            ("POST", "/api/v1/workersx"),
            ("POST", "/api/v1/worker-tokens"),
        ] {
            assert!(!is_worker_path(method, path), "{method} {path}");
        }
        assert!(takes_large_body("POST", "/api/v1/workers"));
        assert!(takes_large_body(
            "POST",
            "/api/v1/workers/w1/jobs/j1/report"
        ));
        assert!(!takes_large_body("POST", "/api/v1/workers/w1/poll"));
        assert!(is_output_path(
            "POST",
            "/api/v1/workers/w1/jobs/j1/outputs/a.csv"
        ));
        assert!(!is_output_path("POST", "/api/v1/workers/w1/jobs/j1/report"));
    }
}
