//! `headway run -- PROGRAM ARGS…`: runs a program here as an external job of a Headway server
//! (docs/EXTERNAL.md).
//!
//! The program's stdout and stderr pass through to this terminal and become the job's log; its
//! file descriptor 3 speaks the progress protocol of command kinds (docs/COMMANDS.md). A
//! reporter task sends what came in batches, each log line numbered: a batch the server did not
//! acknowledge (a cut connection, a restart) is sent again, and the server keeps each line once.
//! A report every third of the lease says the program still runs. When the dashboard cancels
//! the job, the program gets SIGTERM, then SIGKILL after `--grace-secs`. Ctrl-C reaches the
//! program as it would without Headway (this process waits for it to end and reports how);
//! SIGTERM and SIGHUP sent to this process are passed on to the program.
//! What is read but not yet acknowledged is held up to [`MAX_PENDING_BYTES`]; past it, the
//! program's pipes wait, as they would for a slow terminal.

use super::{refused, Remote};
use crate::config::RunArgs;
use crate::Config;
use engine::commands::lines::{self, Line, Source};
use engine::commands::protocol::{self, Report as Said};
use model::children::ChildStart;
use model::external::{Report, ReportEnd, ReportLine, ReportReply, MAX_REPORT_CHILDREN};
use model::{JobError, JobStatus, LogLevel};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};

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

/// Runs the program as a job; the status to exit with (the program's), or why it could not.
pub async fn run(config: &Config, args: &RunArgs) -> Result<i32, String> {
    let remote = Remote::new(config)?;
    let command_line = args.program.join(" ");
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| command_line.chars().take(200).collect());
    let params = super::params(&args.param)?;
    let body = json!({
        "kind": model::EXTERNAL_KIND,
        "params": {
            "title": title,
            "command": command_line.chars().take(4096).collect::<String>(),
            "host": hostname(),
            "lease_secs": args.lease_secs,
            "params": params,
        }
    });
    let created = remote
        .expect(Method::POST, "/jobs", Some(&body), &[201])
        .await?;
    let (Some(id), Some(token)) = (created["id"].as_str(), created["report_token"].as_str()) else {
        return Err("the server did not answer a job and its report token".into());
    };
    eprintln!(
        "headway: job {id}: {}/jobs/{id}",
        remote.base(),
        id = super::printable(id)
    );
    let reporter = Reporter {
        remote: remote.with_token(token),
        id: id.to_string(),
        heartbeat: Duration::from_secs(u64::from(args.lease_secs).div_ceil(3).max(1)),
        pending: Arc::new(Mutex::new(Pending::default())),
        news: Arc::new(Notify::new()),
        freed: Arc::new(Notify::new()),
    };
    let (cancelled_tx, cancelled) = watch::channel(false);
    let sender = tokio::spawn(reporter.clone().send_until_ended(cancelled_tx));
    let ended = match start(&args.program) {
        Ok((child, stdout, stderr, fd3)) => {
            supervise(child, stdout, stderr, fd3, &reporter, cancelled, args).await
        }
        Err(e) => {
            let message = format!("cannot start {:?}: {e}", args.program[0]);
            eprintln!("headway: {message}");
            Ended {
                code: 127,
                end: ReportEnd {
                    status: JobStatus::Failed,
                    error: Some(JobError {
                        code: "not_started".into(),
                        message,
                    }),
                },
            }
        }
    };
    reporter.finish(ended.end);
    match sender.await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => eprintln!("headway: {}", super::printable(&why)),
        Err(e) => eprintln!("headway: reporting stopped: {e}"),
    }
    Ok(ended.code)
}

/// How the program ended: the status to exit with and what to report.
struct Ended {
    code: i32,
    end: ReportEnd,
}

type Started = (
    tokio::process::Child,
    tokio::process::ChildStdout,
    tokio::process::ChildStderr,
    tokio::net::unix::pipe::Receiver,
);

/// Starts the program with stdout and stderr piped and descriptor 3 open for writing.
fn start(program: &[String]) -> std::io::Result<Started> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just made, and are owned here only.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let write_fd = write.as_raw_fd();
    let mut command = tokio::process::Command::new(&program[0]);
    command
        .args(&program[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    // SAFETY: between fork and exec the closure calls only async-signal-safe functions.
    unsafe {
        command.pre_exec(move || {
            if write_fd == 3 {
                // dup2 onto itself keeps close-on-exec: clear it.
                if libc::fcntl(3, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(write_fd, 3) != 3 {
                return Err(std::io::Error::last_os_error());
            }
            // This process outlives the program through SIGINT, SIGTERM and SIGHUP; the program
            // starts with them as the terminal would give them.
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command.spawn()?;
    drop(write);
    let fd3 = tokio::net::unix::pipe::Receiver::from_owned_fd(read)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    Ok((child, stdout, stderr, fd3))
}

/// Reads the program's output into the reporter until it ends, stopping it when the job is
/// cancelled; how it ended.
async fn supervise(
    mut child: tokio::process::Child,
    stdout: tokio::process::ChildStdout,
    stderr: tokio::process::ChildStderr,
    fd3: tokio::net::unix::pipe::Receiver,
    reporter: &Reporter,
    mut cancelled: watch::Receiver<bool>,
    args: &RunArgs,
) -> Ended {
    let (to, mut lines) = mpsc::channel::<Line>(256);
    tokio::spawn(lines::read(stdout, Source::Stdout, false, to.clone()));
    // A tqdm bar is redrawn with `\r`: each drawing is a line of its own.
    tokio::spawn(lines::read(stderr, Source::Stderr, args.tqdm, to.clone()));
    tokio::spawn(lines::read(fd3, Source::Fd3, false, to));
    let pid = child.id().map(|p| p as i32);
    let signal = |sig: i32| {
        if let Some(pid) = pid {
            // SAFETY: kill only sends a signal to the program, which this process has not reaped.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    };
    // Ctrl-C reaches the program from the terminal; this process waits for it to end.
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    // A hang-up (the terminal closed, or `kill -HUP`) goes on to the program, as SIGTERM does;
    // this process stays to report how it ends.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut state = Bar::default();
    let mut status = None;
    let mut lines_open = true;
    let mut stop_requested = false;
    let grace = tokio::time::sleep(Duration::from_secs(86_400));
    tokio::pin!(grace);
    while status.is_none() || lines_open {
        tokio::select! {
            line = lines.recv(), if lines_open => match line {
                Some(line) => {
                    reporter.room().await;
                    take(line, reporter, &mut state, args.tqdm);
                }
                None => lines_open = false,
            },
            exited = child.wait(), if status.is_none() => {
                status = Some(exited);
            }
            Ok(()) = cancelled.changed(), if !stop_requested => {
                if !*cancelled.borrow() {
                    continue;
                }
                stop_requested = true;
                eprintln!("headway: the job was cancelled; stopping the program (SIGTERM, then SIGKILL after {} s)", args.grace_secs);
                signal(libc::SIGTERM);
                grace.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(args.grace_secs));
            }
            () = &mut grace, if stop_requested && status.is_none() => {
                signal(libc::SIGKILL);
                grace.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(86_400));
            }
            Some(()) = async { interrupt.as_mut()?.recv().await }, if status.is_none() => {}
            Some(()) = async { terminate.as_mut()?.recv().await }, if status.is_none() => {
                signal(libc::SIGTERM);
            }
            Some(()) = async { hangup.as_mut()?.recv().await }, if status.is_none() => {
                signal(libc::SIGHUP);
            }
        }
    }
    let status = match status.expect("the loop ends once the program has") {
        Ok(status) => status,
        Err(e) => {
            return Ended {
                code: 1,
                end: failed("lost", format!("cannot wait for the program: {e}")),
            }
        }
    };
    let stopped = stop_requested || *cancelled.borrow();
    match (status.code(), status.signal()) {
        (Some(0), _) => Ended {
            code: 0,
            end: ReportEnd {
                status: if stopped {
                    JobStatus::Cancelled
                } else {
                    JobStatus::Succeeded
                },
                error: None,
            },
        },
        (Some(code), _) if stopped => Ended {
            code,
            end: cancelled_end(),
        },
        (Some(code), _) => Ended {
            code,
            end: failed(
                &format!("exit_{code}"),
                format!("the program exited with status {code}"),
            ),
        },
        (None, Some(sig)) if stopped => Ended {
            code: 128 + sig,
            end: cancelled_end(),
        },
        (None, sig) => {
            let sig = sig.unwrap_or(0);
            Ended {
                code: 128 + sig,
                end: failed(
                    &format!("signal_{sig}"),
                    format!("the program was killed by signal {sig}"),
                ),
            }
        }
    }
}

fn failed(code: &str, message: String) -> ReportEnd {
    ReportEnd {
        status: JobStatus::Failed,
        error: Some(JobError {
            code: code.into(),
            message,
        }),
    }
}

fn cancelled_end() -> ReportEnd {
    ReportEnd {
        status: JobStatus::Cancelled,
        error: None,
    }
}

/// The bar as the program set it through descriptor 3, to add `advance`s to.
#[derive(Default)]
struct Bar {
    current: u64,
}

/// Passes one line of the program's output on: to this terminal, and to the job (with
/// `tqdm`, a bar drawn on stderr moves the job's bar instead).
fn take(line: Line, reporter: &Reporter, bar: &mut Bar, tqdm: bool) {
    let text = if line.cut > 0 {
        format!(
            "{} [cut: the line was longer than {} bytes; {} more dropped]",
            line.text,
            lines::MAX_LINE,
            line.cut
        )
    } else {
        line.text
    };
    match line.source {
        Source::Stdout => {
            let _ = writeln!(std::io::stdout(), "{text}");
            reporter.log(LogLevel::Info, text);
        }
        Source::Stderr => match tqdm.then(|| engine::commands::tqdm::parse(&text)).flatten() {
            Some(drawn) => {
                // Redrawn in place on the terminal, as the program meant it.
                let _ = write!(std::io::stderr(), "\r{text}");
                reporter.bar(drawn, bar);
            }
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
                reporter.log(LogLevel::Warn, text);
            }
        },
        Source::Fd3 => match protocol::parse(&text) {
            Ok(Some(said)) => reporter.said(said, bar),
            Ok(None) => {}
            Err(why) => reporter.log(
                LogLevel::Warn,
                format!("fd 3: ignored the line {text:?}: {why}"),
            ),
        },
    }
}

/// What waits to be sent.
#[derive(Default)]
struct Pending {
    /// Lines not acknowledged yet, oldest first.
    lines: VecDeque<ReportLine>,
    bytes: usize,
    /// The number the next line gets.
    next_seq: u64,
    /// The bar, and whether it changed since it was last acknowledged (a version counter).
    bar: Report,
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
                error: Some(JobError {
                    code: "child_refused".into(),
                    message: why.clone(),
                }),
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

/// Sends what the program said to the server; shared by the reading loop and the sender task.
#[derive(Clone)]
struct Reporter {
    remote: Remote,
    id: String,
    /// How often a report goes even with nothing new.
    heartbeat: Duration,
    pending: Arc<Mutex<Pending>>,
    /// Something new to send (the sender task waits on it).
    news: Arc<Notify>,
    /// Lines acknowledged: room for more (the reading loop waits on it).
    freed: Arc<Notify>,
}

impl Reporter {
    fn log(&self, level: LogLevel, line: String) {
        let mut p = self.pending.lock().unwrap();
        p.next_seq += 1;
        p.bytes += line.len();
        let seq = p.next_seq;
        p.lines.push_back(ReportLine { seq, level, line });
        drop(p);
        self.news.notify_one();
    }

    fn said(&self, said: Said, bar: &mut Bar) {
        let mut p = self.pending.lock().unwrap();
        match said {
            Said::Progress {
                current,
                total,
                unit,
            } => {
                bar.current = current;
                p.bar.progress = Some(current);
                if let Some(Some(total)) = total {
                    p.bar.total = Some(total);
                }
                if unit.is_some() {
                    p.bar.unit = unit;
                }
            }
            Said::Advance(n) => {
                bar.current = bar.current.saturating_add(n);
                p.bar.progress = Some(bar.current);
            }
            Said::Total { total, unit } => {
                if let Some(total) = total {
                    p.bar.total = Some(total);
                }
                if unit.is_some() {
                    p.bar.unit = unit;
                }
            }
            Said::Message(m) => p.bar.message = Some(m),
            Said::Level(level) => p.bar.level = Some(level),
            Said::Log(level, text) => {
                drop(p);
                self.log(level, text);
                return;
            }
            Said::Result(value) => {
                p.result = Some(value);
                p.result_version += 1;
                drop(p);
                self.news.notify_one();
                return;
            }
            Said::Output(name) => {
                drop(p);
                self.log(
                    LogLevel::Warn,
                    format!("fd 3: output {name:?} not kept: an external job has no outputs"),
                );
                return;
            }
            Said::Child(child) => {
                p.children.push_back(child);
                drop(p);
                self.news.notify_one();
                return;
            }
        }
        p.bar_version += 1;
        drop(p);
        self.news.notify_one();
    }

    /// A tqdm bar the program drew.
    fn bar(&self, drawn: engine::commands::tqdm::Bar, bar: &mut Bar) {
        let mut p = self.pending.lock().unwrap();
        bar.current = drawn.current;
        p.bar.progress = Some(drawn.current);
        if drawn.total.is_some() {
            p.bar.total = drawn.total;
        }
        if drawn.unit.is_some() {
            p.bar.unit = drawn.unit;
        }
        if drawn.message.is_some() {
            p.bar.message = drawn.message;
        }
        p.bar_version += 1;
        drop(p);
        self.news.notify_one();
    }

    /// Waits while too much is unacknowledged.
    async fn room(&self) {
        loop {
            let notified = self.freed.notified();
            if self.pending.lock().unwrap().bytes < MAX_PENDING_BYTES {
                return;
            }
            notified.await;
        }
    }

    /// The program ended: the last report says how, once every line before it is in.
    fn finish(&self, end: ReportEnd) {
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
    async fn send_until_ended(self, cancelled: watch::Sender<bool>) -> Result<(), String> {
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
            if self.pending.lock().unwrap().end.is_none() {
                tokio::time::sleep(GATHER).await;
            }
            let (report, versions) = self.batch();
            let ending = report.end.is_some();
            if ending && ended_at.is_none() {
                ended_at = Some(tokio::time::Instant::now());
            }
            last_sent = tokio::time::Instant::now();
            let sent = self
                .remote
                .request(Method::POST, &format!("/jobs/{}/report", self.id))
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
            report.progress = p.bar.progress;
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

/// This machine's name, shown with the job.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
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
}
