//! `headway run -- PROGRAM ARGS…`: runs a program here as an external job of a Headway server
//! (docs/EXTERNAL.md).
//!
//! The program's stdout and stderr pass through to this terminal and become the job's log; its
//! file descriptor 3 speaks the progress protocol of command kinds (docs/COMMANDS.md). A
//! [`Reporter`] sends what came to the server, each log line numbered, again until it is
//! acknowledged; a report every third of the lease says the program still runs. When the
//! dashboard cancels the job, the program gets SIGTERM, then SIGKILL after `--grace-secs`.
//! Ctrl-C reaches the program as it would without Headway (this process waits for it to end
//! and reports how); SIGTERM and SIGHUP sent to this process are passed on to the program.
//! What is read but not yet acknowledged is held up to
//! [`MAX_PENDING_BYTES`](super::report::MAX_PENDING_BYTES); past it, the program's pipes wait,
//! as they would for a slow terminal.

use super::report::Reporter;
use super::Remote;
use crate::config::RunArgs;
use crate::Config;
use engine::commands::lines::{self, Line, Source};
use engine::commands::protocol::{self, Report as Said};
use engine::commands::tail::StderrTail;
use model::external::ReportEnd;
use model::{JobError, JobStatus, LogLevel};
use reqwest::Method;
use serde_json::json;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

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
    let reporter = Reporter::new(
        remote.with_token(token),
        format!("/jobs/{id}/report"),
        Duration::from_secs(u64::from(args.lease_secs).div_ceil(3).max(1)),
        0,
    );
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
                    error: Some(JobError::new("not_started", message)),
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
    let mut status = None;
    let mut tail = StderrTail::default();
    let mut lines_open = true;
    let mut stop_requested = false;
    let grace = tokio::time::sleep(Duration::from_secs(86_400));
    tokio::pin!(grace);
    while status.is_none() || lines_open {
        tokio::select! {
            line = lines.recv(), if lines_open => match line {
                Some(line) => {
                    reporter.room().await;
                    take(line, reporter, args.tqdm, &mut tail);
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
            end: ReportEnd {
                status: JobStatus::Failed,
                error: Some(tail.exit_error(code)),
            },
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
        error: Some(JobError::new(code, message)),
    }
}

fn cancelled_end() -> ReportEnd {
    ReportEnd {
        status: JobStatus::Cancelled,
        error: None,
    }
}

/// Passes one line of the program's output on: to this terminal, and to the job (with
/// `tqdm`, a bar drawn on stderr moves the job's bar instead); a line of stderr is kept in
/// `tail`, for the job's message if the program fails.
fn take(line: Line, reporter: &Reporter, tqdm: bool, tail: &mut StderrTail) {
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
                drew(drawn, reporter);
            }
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
                tail.push(&text);
                reporter.log(LogLevel::Warn, text);
            }
        },
        Source::Fd3 => match protocol::parse(&text) {
            Ok(Some(said)) => say(said, reporter),
            Ok(None) => {}
            Err(why) => reporter.log(
                LogLevel::Warn,
                format!("fd 3: ignored the line {text:?}: {why}"),
            ),
        },
    }
}

/// Passes on one line the program wrote on descriptor 3.
fn say(said: Said, reporter: &Reporter) {
    match said {
        Said::Progress {
            current,
            total,
            unit,
        } => reporter.bar(|bar| {
            bar.current = Some(current);
            if let Some(Some(total)) = total {
                bar.total = Some(total);
            }
            if unit.is_some() {
                bar.unit = unit;
            }
        }),
        Said::Advance(n) => {
            reporter.bar(|bar| bar.current = Some(bar.current.unwrap_or(0).saturating_add(n)))
        }
        Said::Total { total, unit } => reporter.bar(|bar| {
            if let Some(total) = total {
                bar.total = Some(total);
            }
            if unit.is_some() {
                bar.unit = unit;
            }
        }),
        Said::Message(m) => reporter.bar(|bar| bar.message = Some(m)),
        Said::Level(level) => reporter.bar(|bar| bar.level = Some(level)),
        Said::Log(level, text) => reporter.log(level, text),
        Said::Result(value) => reporter.result(value),
        Said::Output(name) => reporter.log(
            LogLevel::Warn,
            format!("fd 3: output {name:?} not kept: an external job has no outputs"),
        ),
        Said::Child(child) => reporter.child(child),
    }
}

/// Passes on a tqdm bar the program drew.
fn drew(drawn: engine::commands::tqdm::Bar, reporter: &Reporter) {
    reporter.bar(|bar| {
        bar.current = Some(drawn.current);
        if drawn.total.is_some() {
            bar.total = drawn.total;
        }
        if drawn.unit.is_some() {
            bar.unit = drawn.unit;
        }
        if drawn.message.is_some() {
            bar.message = drawn.message;
        }
    });
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
