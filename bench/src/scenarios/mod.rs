//! The benchmarks. Each returns a report section, with its failures recorded rather than
//! raised, so that one broken benchmark does not hide the others.

pub mod capacity;
pub mod commands;
pub mod fanout;
pub mod files;
pub mod page;
pub mod postgres;
pub mod priorities;
pub mod schedules;
pub mod throughput;
pub mod workers;
pub mod workflows;

use crate::client::ClientReport;
use crate::http;
use crate::stats::Histogram;
use crate::Res;
use std::net::SocketAddr;

/// Starts a job on `conn` as the session `cookie`: `POST /api/v1/jobs` with `body`, which
/// must answer 201; the job's id.
pub async fn post_job(conn: &mut http::Conn, cookie: &str, body: &[u8]) -> Res<String> {
    let r = conn
        .request(
            "POST",
            "/api/v1/jobs",
            &[("Cookie", cookie)],
            Some(("application/json", body)),
        )
        .await
        .map_err(|e| format!("POST /api/v1/jobs: {e}"))?;
    if r.head.status != 201 {
        return Err(format!(
            "POST /api/v1/jobs answered {}: {}",
            r.head.status,
            r.text()
        ));
    }
    let job: serde_json::Value =
        serde_json::from_slice(&r.body).map_err(|e| format!("the started job: {e}"))?;
    job["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no job id in the answer".to_string())
}

/// Stops every server; the first error, if any.
pub async fn stop_all(servers: Vec<crate::procs::Server>) -> Res<()> {
    let mut first = Ok(());
    for server in servers {
        if let (Err(e), Ok(())) = (server.stop().await, &first) {
            first = Err(e);
        }
    }
    first
}

/// The session cookie Headway sets on a first request: a new user.
pub async fn new_session(addr: SocketAddr) -> Res<String> {
    let r = http::fetch(addr, "GET", "/api/v1/kinds", &[], None)
        .await
        .map_err(|e| format!("GET /api/v1/kinds: {e}"))?;
    if r.head.status != 200 {
        return Err(format!("GET /api/v1/kinds answered {}", r.head.status));
    }
    r.head
        .cookie("headway_session")
        .ok_or_else(|| "no headway_session cookie on the first response".to_string())
}

/// The reports of several client processes, added up.
#[derive(Debug, Default)]
pub struct Totals {
    pub sum: ClientReport,
    pub latency: Histogram,
}

impl Totals {
    pub fn of(reports: &[ClientReport]) -> Totals {
        let mut t = Totals::default();
        let s = &mut t.sum;
        for r in reports {
            s.conns += r.conns;
            s.opened += r.opened;
            s.connect_errors += r.connect_errors;
            s.http_errors += r.http_errors;
            s.open_timeouts += r.open_timeouts;
            s.stream_errors += r.stream_errors;
            s.early_eof += r.early_eof;
            s.held_at_stop += r.held_at_stop;
            s.complete += r.complete;
            s.events += r.events;
            s.progress += r.progress;
            s.progress_without_at += r.progress_without_at;
            s.dones += r.dones;
            s.comments += r.comments;
            s.bytes += r.bytes;
            s.first_event_ms = min_opt(s.first_event_ms, r.first_event_ms, f64::min);
            s.last_event_ms = min_opt(s.last_event_ms, r.last_event_ms, f64::max);
            if s.first_error.is_none() {
                s.first_error = r.first_error.clone();
            }
            t.latency.merge(&Histogram::from_sparse(&r.latency_us));
        }
        t
    }

    /// Connections that failed to open or broke while open.
    pub fn connection_errors(&self) -> u64 {
        let s = &self.sum;
        s.connect_errors + s.http_errors + s.open_timeouts + s.stream_errors + s.early_eof
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Microseconds as milliseconds with one decimal.
pub fn ms(us: Option<u64>) -> String {
    us.map(|v| crate::report::num(v as f64 / 1000.0, 1))
        .unwrap_or_else(|| "–".into())
}

pub fn mib(kib: Option<u64>) -> String {
    kib.map(|k| crate::report::num(k as f64 / 1024.0, 1))
        .unwrap_or_else(|| "–".into())
}
