//! The worker's loop: it registers with the server, then polls for work without a break (each
//! poll is its heartbeat), runs each job it is given on a task of its own, stops the jobs the
//! server says to stop, and registers again when the server took it for gone. A job's end frees
//! its slot on the server as soon as it is reported, and the waiting poll claims for it: the
//! worker keeps that poll. Should it stay unanswered a while after a job ended, it is given up
//! on and made again with the slots counted anew (a job the given-up poll claimed is handed out
//! again by the next).

use super::job::{self, Running, Shared};
use crate::cli::{refused, Remote};
use crate::config::WorkerArgs;
use crate::Config;
use engine::commands::Programs;
use model::workers::{Hello, Poll, PollReply, Registered, WorkerState, WORKER_TOKEN_PREFIX};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long a poll may stay unanswered after one of the worker's jobs ended before it is made
/// again, its slots counted anew.
const ASK_AGAIN_AFTER_END: Duration = Duration::from_secs(1);

/// The longest wait between two tries of a server that does not answer.
const MOST_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the worker until SIGTERM or Ctrl-C (0), or until the server refuses it for good (why).
pub async fn run(config: &Config, args: &WorkerArgs) -> Result<i32, String> {
    let token = std::env::var("HEADWAY_WORKER_TOKEN")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    if !token.starts_with(WORKER_TOKEN_PREFIX) {
        return Err(format!(
            "set HEADWAY_WORKER_TOKEN to a worker token ({WORKER_TOKEN_PREFIX}…), which an admin \
             makes with `headway workers token NAME`"
        ));
    }
    let remote = Remote::with(config, token)?;
    // A command's words may be given in the languages the server's pages speak.
    let languages = app::i18n::Lang::ALL.map(|l| l.tag());
    let text = std::fs::read_to_string(&args.commands)
        .map_err(|e| format!("cannot read {}: {e}", args.commands.display()))?;
    let commands = engine::commands::file::parse(&args.commands, &text, &languages)
        .map_err(|e| e.to_string())?;
    let programs = Programs::new(
        Programs::default_runs(),
        Duration::from_secs(args.grace_secs),
        None,
    )
    .map_err(|e| format!("cannot prepare the folder of runs: {e}"))?;
    let hello = Hello {
        name: args.name.clone().unwrap_or_else(hostname),
        host: hostname(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        pid: std::process::id() as i64,
        tags: args.tags.clone(),
        max_running: args.max_running,
        commands: text,
    };
    let stopping = CancellationToken::new();
    tokio::spawn(stop_on_signal(stopping.clone()));
    let mut registered = match register(&remote, &hello, &stopping).await? {
        Some(r) => r,
        None => return Ok(0),
    };
    let shared = Arc::new(Shared {
        remote,
        commands: commands
            .into_iter()
            .map(|c| (c.info.name.clone(), Arc::new(c)))
            .collect(),
        programs,
        ended: Notify::new(),
        heartbeat: Duration::from_secs((registered.lease_secs / 3).max(1)),
    });
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        running.retain(|_, r| !r.is_finished());
        if stopping.is_cancelled() {
            finish(running, Duration::from_secs(args.grace_secs)).await;
            eprintln!("headway: worker stopped");
            return Ok(0);
        }
        let poll = Poll {
            free: args.max_running.saturating_sub(running.len() as u32),
            running: running.keys().cloned().collect(),
        };
        let path = format!("/workers/{}/poll", registered.id);
        let wait = Duration::from_secs(registered.poll_secs + 15);
        let ended = shared.ended.notified();
        let answer = tokio::select! {
            answer = call(&shared.remote, &path, &poll, wait) => answer,
            // A slot is free and the server did not claim for it: ask again.
            _ = async { ended.await; tokio::time::sleep(ASK_AGAIN_AFTER_END).await } => continue,
            _ = stopping.cancelled() => continue,
        };
        match answer {
            Ok((200, reply)) => {
                backoff = Duration::from_millis(100);
                let Ok(reply) = serde_json::from_value::<PollReply>(reply) else {
                    tokio::time::sleep(backoff).await;
                    continue;
                };
                for id in &reply.stop {
                    if let Some(r) = running.get(id) {
                        r.stop();
                    }
                }
                if reply.state == WorkerState::Disabled && !running.is_empty() {
                    eprintln!("headway: this worker was disabled: its jobs were taken back");
                }
                for assigned in reply.jobs {
                    let id = assigned.id.clone();
                    if running.contains_key(&id) {
                        continue;
                    }
                    let started = job::start(Arc::clone(&shared), &registered.id, assigned);
                    running.insert(id, started);
                }
            }
            Ok((404, _)) => {
                // Taken for gone: its jobs were taken back, and are not its to finish.
                eprintln!(
                    "headway: the server took this worker for gone; stopping its {} jobs and registering again",
                    running.len()
                );
                for r in running.values() {
                    r.abandon();
                }
                registered = match register(&shared.remote, &hello, &stopping).await? {
                    Some(r) => r,
                    None => return Ok(0),
                };
            }
            Ok((401, json)) => {
                for r in running.values() {
                    r.abandon();
                }
                return Err(format!(
                    "the worker token was refused (revoked?): {}",
                    refused(401, &json)
                ));
            }
            Ok((status, json)) => {
                eprintln!("headway: polling for work: {}", refused(status, &json));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MOST_BACKOFF);
            }
            Err(e) => {
                tracing::info!(error = %e, "a poll got no answer; trying again");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MOST_BACKOFF);
            }
        }
    }
}

/// Registers the worker, trying again while the server does not answer: `None` when asked to
/// stop first, `Err` when the server refuses it (a bad token, a commands file it cannot take).
async fn register(
    remote: &Remote,
    hello: &Hello,
    stopping: &CancellationToken,
) -> Result<Option<Registered>, String> {
    let mut backoff = Duration::from_millis(100);
    loop {
        let answer = tokio::select! {
            answer = call(remote, "/workers", hello, Duration::from_secs(30)) => answer,
            _ = stopping.cancelled() => return Ok(None),
        };
        match answer {
            Ok((201, json)) => {
                let registered: Registered = serde_json::from_value(json)
                    .map_err(|e| format!("the server's answer is not understood: {e}"))?;
                eprintln!(
                    "headway: worker {} of {} registered, running {}",
                    registered.id,
                    remote.base(),
                    registered.kinds.join(", ")
                );
                return Ok(Some(registered));
            }
            Ok((status @ (400..=428 | 430..=499), json)) => return Err(refused(status, &json)),
            Ok((status, json)) => {
                eprintln!("headway: registering: {}", refused(status, &json))
            }
            Err(e) => eprintln!("headway: registering: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stopping.cancelled() => return Ok(None),
        }
        backoff = (backoff * 2).min(MOST_BACKOFF);
    }
}

/// Posts `body` to `path` under `/api/v1`, within `wait`: the status and the JSON answered.
async fn call(
    remote: &Remote,
    path: &str,
    body: &impl serde::Serialize,
    wait: Duration,
) -> Result<(u16, Value), String> {
    let reply = remote
        .request(Method::POST, path)
        .timeout(wait)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach Headway at {}: {e}", remote.base()))?;
    let status = reply.status().as_u16();
    let text = reply.text().await.map_err(|e| e.to_string())?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// Lets the running jobs finish within `grace`, then stops them (the server takes them back
/// after its lease).
async fn finish(running: HashMap<String, Running>, grace: Duration) {
    if running.is_empty() {
        return;
    }
    eprintln!(
        "headway: stopping: {} jobs have {} s to finish",
        running.len(),
        grace.as_secs()
    );
    let deadline = tokio::time::Instant::now() + grace;
    for (_, mut r) in running {
        if tokio::time::timeout_at(deadline, r.wait()).await.is_err() {
            r.abandon();
        }
    }
}

/// Cancels `stopping` at SIGTERM, SIGINT or SIGHUP.
async fn stop_on_signal(stopping: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    stopping.cancel();
}

/// This machine's name.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}
