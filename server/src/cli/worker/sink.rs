//! Where a job a worker runs goes: the [`Sink`] its command runs on
//! ([`engine::commands::run_on`]). Its bar, log, result and children go to the server through
//! the job's [`Reporter`]; its input files are fetched from the server into the run's folder and
//! its outputs sent there, with the worker's token. The bar is kept here too, so that the run
//! reads back what it last set.

use crate::cli::report::Reporter;
use crate::cli::{refused, Remote};
use engine::commands::Sink;
use model::children::ChildStart;
use model::external::Report;
use model::workers::Assigned;
use model::{AppError, FileRef, JobError, JobId, Level, LogLevel, Progress};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

/// The longest one input's download or one output's upload may take.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(3600);

/// A job the worker runs, reported to the server.
pub struct ReportSink {
    reporter: Reporter,
    /// The server, with the worker's token.
    remote: Remote,
    /// `/workers/{worker}/jobs/{job}`: where the job's files are, under `/api/v1`.
    base: String,
    job: String,
    attempt: u32,
    /// The bar as last set.
    progress: Progress,
    stop: CancellationToken,
    secrets: HashMap<String, String>,
}

impl ReportSink {
    /// The sink of `job`, given to the worker `worker`: reported on by `reporter`, stopped by
    /// `stop`, its files fetched and sent through `remote`.
    pub fn new(
        reporter: Reporter,
        job: &Assigned,
        stop: CancellationToken,
        remote: Remote,
        worker: &str,
    ) -> ReportSink {
        ReportSink {
            reporter,
            remote,
            base: format!("/workers/{}/jobs/{}", segment(worker), segment(&job.id)),
            job: job.id.clone(),
            attempt: job.attempt,
            progress: Progress::default(),
            stop,
            secrets: job.secrets.clone().into_iter().collect(),
        }
    }

    /// Whether the server takes the bar `change` (a unit or a message too long, say, would
    /// have it refuse the whole report, and every one after it); a change it does not take is
    /// logged instead.
    async fn takes(&mut self, change: Report) -> bool {
        match refusal(&change) {
            None => true,
            Some(why) => {
                self.log(LogLevel::Warn, format!("the bar was not changed: {why}"))
                    .await;
                false
            }
        }
    }
}

impl Sink for ReportSink {
    fn job_id(&self) -> &str {
        &self.job
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    /// An unknown total is not reported: the server keeps the last one known.
    async fn set_total(&mut self, total: Option<u64>, unit: &str) {
        let total = total.map(|t| t.min(Progress::MAX_AMOUNT));
        let change = Report {
            total,
            unit: Some(unit.to_string()),
            ..Report::default()
        };
        if !self.takes(change).await {
            return;
        }
        self.progress.total = total;
        self.progress.unit = unit.to_string();
        self.reporter.bar(|bar| {
            bar.total = total.or(bar.total);
            bar.unit = Some(unit.to_string());
        });
    }

    async fn advance(&mut self, n: u64) {
        let current = self
            .progress
            .current
            .saturating_add(n)
            .min(Progress::MAX_AMOUNT);
        self.set_current(current).await
    }

    async fn set_current(&mut self, current: u64) {
        let current = current.min(Progress::MAX_AMOUNT);
        self.progress.current = current;
        self.reporter.bar(|bar| bar.current = Some(current));
    }

    async fn set_message(&mut self, message: String) {
        let change = Report {
            message: Some(message.clone()),
            ..Report::default()
        };
        if !self.takes(change).await {
            return;
        }
        self.progress.message = message.clone();
        self.reporter.bar(|bar| bar.message = Some(message));
    }

    async fn set_level(&mut self, level: Level) {
        if self.progress.level != level {
            self.progress.level = level;
            self.reporter.bar(|bar| bar.level = Some(level));
        }
    }

    /// Waits while too much of the log is unacknowledged, as the program's pipes then do.
    async fn log(&mut self, level: LogLevel, line: String) {
        self.reporter.room().await;
        self.reporter.log(level, line);
    }

    async fn set_result(&mut self, result: Value) -> Result<(), JobError> {
        let change = Report {
            result: Some(result),
            ..Report::default()
        };
        if let Some(why) = refusal(&change) {
            return Err(JobError::new("bad_result", why));
        }
        self.reporter
            .result(change.result.expect("the report holds it"));
        Ok(())
    }

    /// Asked for in the next report: the server starts it, or refuses it (then the refusal is
    /// logged, and the job fails at its end).
    async fn start_child(&mut self, child: ChildStart) -> Result<Option<JobId>, AppError> {
        self.reporter.child(child);
        Ok(None)
    }

    /// Nothing to do: the reporter sends each change within a moment.
    async fn flush(&mut self) {}

    fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Downloads the file to `to`.
    async fn input(
        &mut self,
        param: &str,
        _file: &FileRef,
        to: &Path,
    ) -> Result<PathBuf, JobError> {
        let failed = |why: String| {
            JobError::new(
                "input_failed",
                format!("the file for {param} could not be fetched: {why}"),
            )
        };
        let path = format!("{}/files/{}", self.base, segment(param));
        // A download cut short is made again, whole, while the server does not answer.
        let mut tries = Tries::new();
        loop {
            let reply = self
                .remote
                .request(Method::GET, &path)
                .timeout(TRANSFER_TIMEOUT)
                .send()
                .await;
            let mut reply = match reply {
                Ok(reply) if tries.again_after(reply.status().as_u16()) => {
                    tries
                        .wait()
                        .await
                        .map_err(|()| failed("the server did not answer".into()))?;
                    continue;
                }
                Ok(reply) => reply,
                Err(e) => {
                    tries
                        .wait()
                        .await
                        .map_err(|()| failed(format!("cannot reach Headway: {e}")))?;
                    continue;
                }
            };
            if !reply.status().is_success() {
                return Err(failed(refusal_of(reply).await));
            }
            let mut file = tokio::fs::File::create(to)
                .await
                .map_err(|e| failed(format!("cannot be written: {e}")))?;
            let mut broke = None;
            loop {
                match reply.chunk().await {
                    Ok(Some(bytes)) => file
                        .write_all(&bytes)
                        .await
                        .map_err(|e| failed(format!("cannot be written: {e}")))?,
                    Ok(None) => break,
                    Err(e) => {
                        broke = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = broke {
                tries
                    .wait()
                    .await
                    .map_err(|()| failed(format!("the download broke off: {e}")))?;
                continue;
            }
            file.flush()
                .await
                .map_err(|e| failed(format!("cannot be written: {e}")))?;
            break;
        }
        Ok(to.to_path_buf())
    }

    /// Uploads the file, for the server to list with the job.
    async fn keep_output(
        &mut self,
        path: &Path,
        name: &str,
        content_type: &str,
    ) -> Result<(), JobError> {
        let failed = |message: String| JobError::new("output_failed", message);
        let url = format!(
            "{}/outputs/{}?attempt={}",
            self.base,
            segment(name),
            self.attempt
        );
        // Sent again, whole, while the server does not answer: it keeps the last one whole.
        let mut tries = Tries::new();
        loop {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| failed(format!("cannot be read: {e}")))?;
            let reply = self
                .remote
                .request(Method::POST, &url)
                .timeout(TRANSFER_TIMEOUT)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(reqwest::Body::from(file))
                .send()
                .await;
            match reply {
                Ok(reply) if tries.again_after(reply.status().as_u16()) => tries
                    .wait()
                    .await
                    .map_err(|()| failed("the server did not answer".into()))?,
                Ok(reply) if reply.status().is_success() => return Ok(()),
                Ok(reply) => return Err(failed(refusal_of(reply).await)),
                Err(e) => tries
                    .wait()
                    .await
                    .map_err(|()| failed(format!("cannot be sent to Headway: {e}")))?,
            }
        }
    }

    async fn secrets(&mut self) -> HashMap<String, String> {
        self.secrets.clone()
    }
}

/// The tries of a transfer through a server that does not answer (a cut connection, a restart):
/// again after a growing wait, for [`TRIES_FOR`] at most.
struct Tries {
    since: tokio::time::Instant,
    backoff: std::time::Duration,
}

/// How long a file is tried again before its run gives up on it.
const TRIES_FOR: std::time::Duration = std::time::Duration::from_secs(120);

impl Tries {
    fn new() -> Tries {
        Tries {
            since: tokio::time::Instant::now(),
            backoff: std::time::Duration::from_millis(100),
        }
    }

    /// Whether an answer of `status` is one to try again after (the server busy or restarting).
    fn again_after(&self, status: u16) -> bool {
        matches!(status, 408 | 429 | 502 | 503 | 504)
    }

    /// Waits before the next try; `Err` once the tries are over.
    async fn wait(&mut self) -> Result<(), ()> {
        if self.since.elapsed() > TRIES_FOR {
            return Err(());
        }
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(std::time::Duration::from_secs(5));
        Ok(())
    }
}

/// Why the server would refuse `report` (as it checks every report), if it would.
fn refusal(report: &Report) -> Option<String> {
    let e = engine::external::check_report(report).err()?;
    Some(match e.fields.first() {
        Some(f) => format!("{}: {}", f.field, f.message),
        None => e.message,
    })
}

/// Why the server refused a request, from its answer.
async fn refusal_of(reply: reqwest::Response) -> String {
    let status = reply.status().as_u16();
    let text = reply.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    refused(status, &json)
}

/// `text` as one segment of a URL's path: every byte but ASCII letters, digits and `-._~`
/// percent-encoded.
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::report::{unreachable, unsent};

    fn sink(first_seq: u64) -> (ReportSink, Reporter) {
        let reporter = unsent(first_seq);
        let job = Assigned {
            id: "job-1".into(),
            kind: "k".into(),
            params: serde_json::json!({}),
            attempt: 2,
            timeout_ms: None,
            log_seq: first_seq,
            secrets: [("key".to_string(), "s3cret".to_string())].into(),
        };
        let sink = ReportSink::new(
            reporter.clone(),
            &job,
            CancellationToken::new(),
            unreachable(),
            "w 1",
        );
        (sink, reporter)
    }

    #[tokio::test]
    async fn the_bar_is_kept_here_and_reported() {
        let (mut sink, reporter) = sink(0);
        sink.set_total(Some(10), "files").await;
        sink.advance(3).await;
        sink.advance(4).await;
        sink.set_message("half".into()).await;
        sink.set_level(Level::Warning).await;
        let p = sink.progress();
        assert_eq!(
            (p.current, p.total, p.unit.as_str()),
            (7, Some(10), "files")
        );
        assert_eq!((p.message.as_str(), p.level), ("half", Level::Warning));
        let report = reporter.next_report();
        assert_eq!((report.progress, report.total), (Some(7), Some(10)));
        assert_eq!(report.unit.as_deref(), Some("files"));
        assert_eq!(report.message.as_deref(), Some("half"));
        assert_eq!(report.level, Some(Level::Warning));
    }

    #[tokio::test]
    async fn an_unknown_total_keeps_the_last_one_reported() {
        let (mut sink, reporter) = sink(0);
        sink.set_total(Some(10), "").await;
        sink.set_total(None, "").await;
        assert_eq!(sink.progress().total, None);
        assert_eq!(reporter.next_report().total, Some(10));
    }

    #[tokio::test]
    async fn a_bar_the_server_would_refuse_is_logged_instead() {
        let (mut sink, reporter) = sink(0);
        sink.set_message("x".repeat(5000)).await;
        assert_eq!(sink.progress().message, "");
        let report = reporter.next_report();
        assert_eq!(report.message, None);
        assert!(report.log[0]
            .line
            .starts_with("the bar was not changed: message"));
    }

    #[tokio::test]
    async fn lines_are_numbered_after_those_of_earlier_attempts() {
        let (mut sink, reporter) = sink(41);
        sink.log(LogLevel::Info, "one".into()).await;
        sink.log(LogLevel::Warn, "two".into()).await;
        let seqs: Vec<u64> = reporter.next_report().log.iter().map(|l| l.seq).collect();
        assert_eq!(seqs, [42, 43]);
    }

    #[tokio::test]
    async fn a_result_and_a_child_go_in_the_next_report() {
        let (mut sink, reporter) = sink(0);
        let refused = sink.set_result(serde_json::json!([1])).await.unwrap_err();
        assert_eq!(refused.code, "bad_result");
        sink.set_result(serde_json::json!({"rows": 3}))
            .await
            .unwrap();
        let child = ChildStart {
            name: "a".into(),
            kind: "k".into(),
            params: serde_json::json!({}),
        };
        assert!(matches!(sink.start_child(child).await, Ok(None)));
        let report = reporter.next_report();
        assert_eq!(report.result, Some(serde_json::json!({"rows": 3})));
        assert_eq!(report.children[0].name, "a");
    }

    #[tokio::test]
    async fn the_job_and_its_secrets_are_those_it_was_given() {
        let (mut sink, _) = sink(0);
        assert_eq!((sink.job_id(), sink.attempt()), ("job-1", 2));
        assert_eq!(sink.base, "/workers/w%201/jobs/job-1");
        assert_eq!(sink.secrets().await["key"], "s3cret");
    }

    #[test]
    fn a_segment_of_a_path_is_percent_encoded() {
        assert_eq!(segment("a.csv"), "a.csv");
        assert_eq!(segment("a b/ü?"), "a%20b%2F%C3%BC%3F");
    }
}
