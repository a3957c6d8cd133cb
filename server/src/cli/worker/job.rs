//! One job on the worker: its command run as a server runs it ([`engine::commands::run_on`]),
//! everything it says reported to the server ([`ReportSink`], [`Reporter`]), and its end:
//! `succeeded`, `failed` with the run's error (or `timeout`), or `cancelled` when the server
//! asked it to stop. A job the server took back is stopped and reported on no more.

use super::sink::ReportSink;
use crate::cli::report::Reporter;
use crate::cli::Remote;
use engine::commands::{Command, Programs};
use model::external::ReportEnd;
use model::workers::Assigned;
use model::{JobError, JobStatus};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What every job of this worker shares.
pub struct Shared {
    pub remote: Remote,
    /// Its commands, by name, with their programs found on this machine.
    pub commands: HashMap<String, Arc<Command>>,
    pub programs: Arc<Programs>,
    /// A job ended: its slot is free.
    pub ended: Notify,
    /// How often a running job's reporter reports with nothing new.
    pub heartbeat: Duration,
}

/// A job the worker runs.
pub struct Running {
    /// Stops its program (the server asked).
    stop: CancellationToken,
    /// It is no longer this worker's: nothing more is reported.
    abandoned: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops the program; the job's end is reported as the server's answers say.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Stops the program and reports nothing more: the job was taken back.
    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
        self.stop.cancel();
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for its end to be reported.
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Starts running `job` for the worker `worker`.
pub fn start(shared: Arc<Shared>, worker: &str, job: Assigned) -> Running {
    let stop = CancellationToken::new();
    let abandoned = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(run(
        shared,
        worker.to_string(),
        job,
        stop.clone(),
        Arc::clone(&abandoned),
    ));
    Running {
        stop,
        abandoned,
        task,
    }
}

async fn run(
    shared: Arc<Shared>,
    worker: String,
    job: Assigned,
    stop: CancellationToken,
    abandoned: Arc<AtomicBool>,
) {
    let path = format!(
        "/workers/{worker}/jobs/{}/report?attempt={}",
        job.id, job.attempt
    );
    let reporter = Reporter::new(shared.remote.clone(), path, shared.heartbeat, job.log_seq);
    let (asked_tx, mut asked) = watch::channel(false);
    let sender = tokio::spawn(reporter.clone().send_until_ended(asked_tx));
    // What stops the run: the server's poll or a report's answer asking it to, or its timeout.
    let run_stop = CancellationToken::new();
    let timed_out = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn({
        let (run_stop, timed_out, stop) = (run_stop.clone(), Arc::clone(&timed_out), stop.clone());
        let timeout = job.timeout_ms.map(Duration::from_millis);
        async move {
            let limit = async {
                match timeout {
                    Some(t) => tokio::time::sleep(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = asked.wait_for(|asked| *asked) => {}
                _ = limit => timed_out.store(true, Ordering::SeqCst),
            }
            run_stop.cancel();
        }
    });
    let end = match shared.commands.get(&job.kind) {
        None => failed(JobError::new(
            "unknown_kind",
            format!(
                "this worker's commands file has no command {:?} (it changed since the worker started?)",
                job.kind
            ),
        )),
        Some(command) => {
            let mut sink = ReportSink::new(
                reporter.clone(),
                &job,
                run_stop.clone(),
                shared.remote.clone(),
                &worker,
            );
            let ran = engine::commands::run_on(
                Arc::clone(command),
                Arc::clone(&shared.programs),
                job.params.clone(),
                &mut sink,
            )
            .await;
            match ran {
                _ if timed_out.load(Ordering::SeqCst) => failed(JobError::words(
                    "timeout",
                    model::words::jobs::timed_out(job.timeout_ms.unwrap_or_default().into()),
                )),
                Ok(()) if run_stop.is_cancelled() => ReportEnd {
                    status: JobStatus::Cancelled,
                    error: None,
                },
                Ok(()) => ReportEnd {
                    status: JobStatus::Succeeded,
                    error: None,
                },
                Err(error) => failed(error),
            }
        }
    };
    watcher.abort();
    if abandoned.load(Ordering::SeqCst) {
        sender.abort();
    } else {
        reporter.finish(end);
        match sender.await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => eprintln!("headway: job {}: {}", job.id, crate::cli::printable(&why)),
            Err(e) => eprintln!("headway: job {}: reporting stopped: {e}", job.id),
        }
    }
    shared.ended.notify_one();
}

/// A failed end, its code and message cut to what a report may carry (a run's message quotes
/// up to a thousand characters of stderr, and says it was cut); Headway's words, when the
/// error has them, go with it.
fn failed(mut error: JobError) -> ReportEnd {
    if error.message.chars().count() > MAX_MESSAGE {
        let kept: String = error.message.chars().take(MAX_MESSAGE - 1).collect();
        error.message = format!("{kept}…");
    }
    error.code = error.code.chars().take(64).collect();
    ReportEnd {
        status: JobStatus::Failed,
        error: Some(error),
    }
}

/// The longest message of a report's error, in characters.
const MAX_MESSAGE: usize = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failures_message_is_cut_to_what_a_report_carries() {
        let long = failed(JobError::new("exit_1", format!("…{}", "e".repeat(1_000))));
        let message = long.error.unwrap().message;
        assert_eq!(message.chars().count(), MAX_MESSAGE);
        assert!(message.ends_with('…'));
        let short = failed(JobError::new("exit_1", "boom"));
        assert_eq!(short.error.unwrap().message, "boom");
        let report = model::external::Report {
            end: Some(failed(JobError::new("exit_1", "x".repeat(5_000)))),
            ..Default::default()
        };
        assert!(engine::external::check_report(&report).is_ok());
        // A program's status in Headway's words reaches the server in them.
        let status = failed(JobError::words("exit_7", model::words::jobs::exited(7)));
        assert_eq!(
            status.error.as_ref().unwrap().said.as_ref().unwrap().id,
            "engine-exited"
        );
        let report = model::external::Report {
            end: Some(status),
            ..Default::default()
        };
        assert!(engine::external::check_report(&report).is_ok());
    }
}
