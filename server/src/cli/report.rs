//! Reports on a job run here to the server that holds it: the sender of `headway run`
//! ([`super::run`], to `POST /api/v1/jobs/{id}/report`) and of `headway worker`'s jobs (to the
//! worker's own path). Both send [`Report`]s (docs/EXTERNAL.md).
//!
//! What the program said is gathered by a [`Reporter`] and sent in batches by its
//! [`Reporter::send_until_ended`] task, each log line numbered: a batch the server did not
//! acknowledge (a cut connection, a restart) is sent again, and the server keeps each line once.
//! A report goes at least every heartbeat, to say the program still runs. What is not yet
//! acknowledged is held up to [`MAX_PENDING_BYTES`]; past it, [`Reporter::room`] waits, as a
//! slow terminal would.

use super::{refused, Remote};
use model::children::ChildStart;
use model::external::{Report, ReportEnd, ReportLine, ReportReply, MAX_REPORT_CHILDREN};
use model::{JobError, JobStatus, Level, LogLevel};
use reqwest::Method;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// What may wait to be acknowledged, in bytes of log lines.
pub const MAX_PENDING_BYTES: usize = 32 * 1024 * 1024;
/// The most lines one report carries.
const BATCH_LINES: usize = model::external::MAX_REPORT_LINES;
/// The most bytes of lines one report carries: room is left for the rest of it.
const BATCH_BYTES: usize = model::external::MAX_REPORT_BYTES / 2;
/// How long lines gather before they are sent.
const GATHER: Duration = Duration::from_millis(200);
/// How long the end is tried after the program ended, through a server that does not answer.
const END_TRIES_FOR: Duration = Duration::from_secs(600);

/// The job's bar as the program set it. A field once set goes with every report of a change;
/// one never set is left as the server has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bar {
    pub current: Option<u64>,
    pub total: Option<u64>,
    pub unit: Option<String>,
    pub message: Option<String>,
    pub level: Option<Level>,
}

/// What waits to be sent.
#[derive(Default)]
struct Pending {
    /// Lines not acknowledged yet, oldest first.
    lines: VecDeque<ReportLine>,
    bytes: usize,
    /// The number of the last line numbered (the next one gets the one after).
    last_seq: u64,
    /// The bar, and whether it changed since it was last acknowledged (a version counter).
    bar: Bar,
    bar_version: u64,
    bar_sent: u64,
    result: Option<Value>,
    result_version: u64,
    result_sent: u64,
    /// Children the program asked for, not acknowledged yet, oldest first.
    children: VecDeque<ChildStart>,
    /// Why a child the program asked for was refused: the job fails with it at its end.
    refused: Option<String>,
    end: Option<ReportEnd>,
}

impl Pending {
    /// The end to report: the program's, unless a child it asked for was refused (whenever
    /// the refusal came): then its work is not whole, and the job fails.
    fn end_to_send(&self) -> Option<ReportEnd> {
        let end = self.end.clone()?;
        Some(match (end.status, &self.refused) {
            (JobStatus::Succeeded, Some(why)) => ReportEnd {
                status: JobStatus::Failed,
                error: Some(JobError::new("child_refused", why.clone())),
            },
            _ => end,
        })
    }

    /// Whether something waits to be sent.
    fn has_news(&self) -> bool {
        !self.lines.is_empty()
            || self.bar_version != self.bar_sent
            || self.result_version != self.result_sent
            || !self.children.is_empty()
            || self.end.is_some()
    }
}

/// Sends what a program said to the server; shared (cloned) by what reads the program and the
/// sender task.
#[derive(Clone)]
pub struct Reporter {
    remote: Remote,
    /// Where reports go, under `/api/v1`.
    path: String,
    /// How often a report goes even with nothing new.
    heartbeat: Duration,
    pending: Arc<Mutex<Pending>>,
    /// Something new to send (the sender task waits on it).
    news: Arc<Notify>,
    /// Lines acknowledged: room for more (the reading loop waits on it).
    freed: Arc<Notify>,
}

impl Reporter {
    /// A reporter sending to `path` (under `/api/v1`, e.g. `/jobs/{id}/report`) with `remote`'s
    /// token, at least every `heartbeat`. The job has `first_seq` log lines already (from
    /// earlier attempts): the first line sent is numbered `first_seq + 1`.
    pub fn new(remote: Remote, path: String, heartbeat: Duration, first_seq: u64) -> Reporter {
        Reporter {
            remote,
            path,
            heartbeat,
            pending: Arc::new(Mutex::new(Pending {
                last_seq: first_seq,
                ..Pending::default()
            })),
            news: Arc::new(Notify::new()),
            freed: Arc::new(Notify::new()),
        }
    }

    /// Adds a log line, numbered after the last.
    pub fn log(&self, level: LogLevel, line: String) {
        let mut p = self.pending.lock().unwrap();
        p.last_seq += 1;
        p.bytes += line.len();
        let seq = p.last_seq;
        p.lines.push_back(ReportLine { seq, level, line });
        drop(p);
        self.news.notify_one();
    }

    /// Changes the bar with `change`; the bar is sent with the next report.
    pub fn bar(&self, change: impl FnOnce(&mut Bar)) {
        let mut p = self.pending.lock().unwrap();
        change(&mut p.bar);
        p.bar_version += 1;
        drop(p);
        self.news.notify_one();
    }

    /// Sets the job's result (replacing one set before).
    pub fn result(&self, value: Value) {
        let mut p = self.pending.lock().unwrap();
        p.result = Some(value);
        p.result_version += 1;
        drop(p);
        self.news.notify_one();
    }

    /// Asks the server for a child of the job. A refusal is logged, and the job fails at its
    /// end.
    pub fn child(&self, child: ChildStart) {
        self.pending.lock().unwrap().children.push_back(child);
        self.news.notify_one();
    }

    /// Waits while too much is unacknowledged.
    pub async fn room(&self) {
        loop {
            let notified = self.freed.notified();
            if self.pending.lock().unwrap().bytes < MAX_PENDING_BYTES {
                return;
            }
            notified.await;
        }
    }

    /// The program ended: the last report says how, once every line before it is in.
    pub fn finish(&self, end: ReportEnd) {
        self.pending.lock().unwrap().end = Some(end);
        self.news.notify_one();
    }

    /// The server refused a child of the last report (which carried `sent`) with `json`,
    /// naming it (`children[1].steps`): the ones before it were started, and it is dropped; the
    /// ones after it go in the next report. The refusal is logged, and the job fails at its end.
    fn children_refused(&self, sent: usize, json: &Value) {
        let field = json["fields"][0]["field"].as_str().unwrap_or("children");
        let message = json["fields"][0]["message"]
            .as_str()
            .or_else(|| json["message"].as_str())
            .unwrap_or("refused");
        let why = format!("{field} was refused: {message}");
        let done = refused_index(field).map_or(sent, |i| i + 1).min(sent);
        let mut p = self.pending.lock().unwrap();
        let done = done.min(p.children.len());
        p.children.drain(..done);
        p.refused.get_or_insert(why.clone());
        drop(p);
        self.log(LogLevel::Error, format!("fd 3: {why}"));
    }

    /// Sends reports until the end is acknowledged (or the job ended on the server); tells
    /// `cancelled` when the server asks the program to stop.
    pub async fn send_until_ended(self, cancelled: watch::Sender<bool>) -> Result<(), String> {
        let mut last_sent = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(100);
        let mut ended_at: Option<tokio::time::Instant> = None;
        loop {
            // Wait for something to send, gathering lines a moment, or for the heartbeat.
            let due = last_sent + self.heartbeat;
            let has_news = self.pending.lock().unwrap().has_news();
            if !has_news {
                wait_for_news(&self, due).await;
            }
            gather(&self).await;
            let (report, versions) = self.batch();
            let ending = report.end.is_some();
            if ending && ended_at.is_none() {
                ended_at = Some(tokio::time::Instant::now());
            }
            last_sent = tokio::time::Instant::now();
            let sent = self
                .remote
                .request(Method::POST, &self.path)
                .timeout(Duration::from_secs(10))
                .json(&report)
                .send()
                .await;
            let reply = match sent {
                Ok(reply) => reply,
                Err(e) => {
                    if ended_at.is_some_and(|at| at.elapsed() > END_TRIES_FOR) {
                        return Err(format!("cannot report the job's end: {e}"));
                    }
                    tracing::info!(error = %e, "a report was not delivered; sending it again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            let status = reply.status().as_u16();
            // A server bounding how much log its users report says when to send again.
            let retry_after = reply
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(|secs| Duration::from_secs(secs.min(60)));
            let text = reply.text().await.unwrap_or_default();
            match status {
                200 => {
                    backoff = Duration::from_millis(100);
                    let Ok(reply) = serde_json::from_str::<ReportReply>(&text) else {
                        tokio::time::sleep(backoff).await;
                        continue;
                    };
                    self.acknowledged(&reply, versions, report.children.len());
                    if reply.status == JobStatus::Cancelling {
                        let _ = cancelled.send(true);
                    }
                    if ending || reply.status.is_terminal() {
                        return Ok(());
                    }
                }
                409 => {
                    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    // Ended on the server (lost, or cancelled and given up on): stop the program.
                    let _ = cancelled.send(true);
                    if ending {
                        return Err(refused(status, &json));
                    }
                    self.discard();
                    eprintln!("headway: {}", refused(status, &json));
                    wait_for_end(&self).await;
                    return Ok(());
                }
                422 if !report.children.is_empty() => {
                    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    let about_children = json["fields"][0]["field"]
                        .as_str()
                        .is_some_and(|f| f.starts_with("children"));
                    if !about_children {
                        return Err(refused(status, &json));
                    }
                    self.children_refused(report.children.len(), &json);
                }
                408 | 429 | 500..=599 => {
                    tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                _ => {
                    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    return Err(refused(status, &json));
                }
            }
        }
    }

    /// The report the sender would send now, for tests.
    #[cfg(test)]
    pub(crate) fn next_report(&self) -> Report {
        self.batch().0
    }

    /// The next report: up to [`BATCH_LINES`] unacknowledged lines, the bar and the result if
    /// they changed, and the end once every line is in it; with the versions it carries.
    fn batch(&self) -> (Report, (u64, u64)) {
        let p = self.pending.lock().unwrap();
        // As many lines as fit in a report, escaping and all.
        let mut take = p.lines.len().min(BATCH_LINES);
        let mut report = loop {
            let report = Report {
                log: p.lines.iter().take(take).cloned().collect(),
                ..Report::default()
            };
            let size = serde_json::to_vec(&report).map_or(0, |b| b.len());
            if take <= 1 || size <= BATCH_BYTES {
                break report;
            }
            take /= 2;
        };
        if p.bar_version != p.bar_sent {
            report.progress = p.bar.current;
            report.total = p.bar.total;
            report.unit = p.bar.unit.clone();
            report.message = p.bar.message.clone();
            report.level = p.bar.level;
        }
        if p.result_version != p.result_sent {
            report.result = p.result.clone();
        }
        report.children = p
            .children
            .iter()
            .take(MAX_REPORT_CHILDREN)
            .cloned()
            .collect();
        if report.log.len() == p.lines.len() && report.children.len() == p.children.len() {
            report.end = p.end_to_send();
        }
        (report, (p.bar_version, p.result_version))
    }

    /// Forgets what the server acknowledged.
    fn acknowledged(&self, reply: &ReportReply, (bar, result): (u64, u64), children: usize) {
        let mut p = self.pending.lock().unwrap();
        let children = children.min(p.children.len());
        p.children.drain(..children);
        while p.lines.front().is_some_and(|l| l.seq <= reply.acked) {
            let line = p.lines.pop_front().expect("checked");
            p.bytes -= line.line.len();
        }
        p.bar_sent = p.bar_sent.max(bar);
        p.result_sent = p.result_sent.max(result);
        drop(p);
        self.freed.notify_waiters();
    }

    /// Drops everything unsent (the job ended on the server).
    fn discard(&self) {
        let mut p = self.pending.lock().unwrap();
        p.lines.clear();
        p.bytes = 0;
        drop(p);
        self.freed.notify_waiters();
    }
}

/// The place of the child a refusal names (`children[1].steps` → 1).
fn refused_index(field: &str) -> Option<usize> {
    field
        .strip_prefix("children[")?
        .split_once(']')?
        .0
        .parse()
        .ok()
}

/// Returns at the heartbeat's time, or as soon as there is something to send.
async fn wait_for_news(reporter: &Reporter, due: tokio::time::Instant) {
    loop {
        {
            if reporter.pending.lock().unwrap().has_news() {
                return;
            }
        }
        if tokio::time::Instant::now() >= due {
            return;
        }
        let _ = tokio::time::timeout_at(due, reporter.news.notified()).await;
    }
}

/// Lets lines gather for [`GATHER`] before a report goes, unless the program ends meanwhile:
/// its end goes at once, with what it said last.
async fn gather(reporter: &Reporter) {
    let until = tokio::time::Instant::now() + GATHER;
    loop {
        let news = reporter.news.notified();
        if reporter.pending.lock().unwrap().end.is_some() {
            return;
        }
        if tokio::time::timeout_at(until, news).await.is_err() {
            return;
        }
    }
}

/// Waits for the program to end once reports are no longer taken, dropping what it says.
async fn wait_for_end(reporter: &Reporter) {
    loop {
        let notified = reporter.news.notified();
        {
            let mut p = reporter.pending.lock().unwrap();
            p.lines.clear();
            p.bytes = 0;
            if p.end.is_some() {
                return;
            }
        }
        reporter.freed.notify_waiters();
        notified.await;
    }
}

/// A server that is never reached, for tests of what would be sent to it.
#[cfg(test)]
pub(crate) fn unreachable() -> Remote {
    Remote {
        http: reqwest::Client::new(),
        base: "http://127.0.0.1:9".into(),
        token: "unused".into(),
    }
}

/// A reporter to a server that is never reached, for tests of what it would send.
#[cfg(test)]
pub(crate) fn unsent(first_seq: u64) -> Reporter {
    Reporter::new(
        unreachable(),
        "/jobs/j/report".into(),
        Duration::from_secs(10),
        first_seq,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_place_of_the_child_it_refused() {
        assert_eq!(refused_index("children[1].steps"), Some(1));
        assert_eq!(refused_index("children[12].name"), Some(12));
        assert_eq!(refused_index("children"), None);
        assert_eq!(refused_index("children[x].name"), None);
        assert_eq!(refused_index("log"), None);
    }

    #[test]
    fn lines_are_numbered_after_those_the_job_has() {
        let reporter = unsent(7);
        reporter.log(LogLevel::Info, "a".into());
        reporter.log(LogLevel::Warn, "b".into());
        let seqs: Vec<u64> = reporter.next_report().log.iter().map(|l| l.seq).collect();
        assert_eq!(seqs, [8, 9]);
    }

    #[test]
    fn the_bar_goes_once_changed_with_every_field_set() {
        let reporter = unsent(0);
        assert_eq!(reporter.next_report().progress, None);
        reporter.bar(|bar| bar.total = Some(10));
        reporter.bar(|bar| bar.current = Some(3));
        let report = reporter.next_report();
        assert_eq!((report.progress, report.total), (Some(3), Some(10)));
        assert_eq!(report.unit, None);
    }

    #[test]
    fn a_refused_child_fails_a_job_that_succeeded() {
        let reporter = unsent(0);
        reporter.child(ChildStart {
            name: "a".into(),
            kind: "k".into(),
            params: serde_json::json!({}),
        });
        reporter.children_refused(1, &serde_json::json!({"message": "no such kind"}));
        reporter.finish(ReportEnd {
            status: JobStatus::Succeeded,
            error: None,
        });
        let report = reporter.next_report();
        assert!(report.children.is_empty());
        let end = report.end.expect("every line is in it");
        assert_eq!(end.status, JobStatus::Failed);
        assert_eq!(end.error.unwrap().code, "child_refused");
        assert_eq!(
            report.log[0].line,
            "fd 3: children was refused: no such kind"
        );
    }
}
