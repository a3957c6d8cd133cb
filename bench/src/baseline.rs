//! `headway-bench baseline-server` (hidden): the bare axum SSE server the fan-out and capacity
//! figures are compared with. Same stack as Headway (axum 0.8 on hyper and tokio's multi-threaded
//! runtime), no store, no sessions: one `tokio::sync::broadcast` channel of pre-rendered frames.
//!
//! Its stream opens like Headway's (`retry:` and an empty `snapshot`) and sends `: keep-alive`
//! comments on the same schedule. `POST /start` plays the same life as Headway's `demo` jobs would
//! produce, at the same rate and with payloads of the same shape and size: for each job a `job`
//! event when it is queued and when it runs, a `progress` event per step (`at` = send time), a
//! `log` event every 10 steps, and `job` + `done` at the end.

use crate::unix_ms;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::{Instant, MissedTickBehavior};

#[derive(Debug, Clone, clap::Args)]
pub struct BaselineArgs {
    #[arg(long)]
    pub addr: SocketAddr,
    /// Jobs whose events `POST /start` plays.
    #[arg(long, default_value_t = 10)]
    pub jobs: u32,
    #[arg(long, default_value_t = 200)]
    pub steps: u64,
    #[arg(long, default_value_t = 100)]
    pub interval_ms: u64,
    #[arg(long, default_value_t = 10)]
    pub keep_alive_secs: u64,
    /// Frames buffered for a slow stream (Headway's bus keeps 256 per user).
    #[arg(long, default_value_t = 256)]
    pub capacity: usize,
}

struct Shared {
    args: BaselineArgs,
    tx: broadcast::Sender<Bytes>,
    started: AtomicBool,
    next_id: AtomicI64,
}

impl Shared {
    fn frame(&self, kind: &str, data: &str) -> Bytes {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Bytes::from(format!("id: {id}\nevent: {kind}\ndata: {data}\n\n"))
    }

    fn send(&self, kind: &str, data: serde_json::Value) {
        let _ = self.tx.send(self.frame(kind, &data.to_string()));
    }
}

pub fn main(args: BaselineArgs) -> ! {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("baseline-server: cannot listen on {}: {e}", args.addr);
                std::process::exit(1);
            }
        };
        let (tx, _) = broadcast::channel(args.capacity.max(1));
        let shared =
            Arc::new(Shared { args, tx, started: AtomicBool::new(false), next_id: AtomicI64::new(1) });
        let app = Router::new()
            .route("/api/v1/events", get(events))
            .route("/start", post(start))
            .route("/health", get(|| async { "ok" }))
            .with_state(shared);
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("signal handler");
            term.recv().await;
        };
        // Open streams never end by themselves: stop serving without waiting for them.
        tokio::select! {
            r = axum::serve(listener, app) => if let Err(e) = r { eprintln!("baseline-server: {e}") },
            _ = shutdown => {}
        }
    });
    std::process::exit(0)
}

async fn events(State(shared): State<Arc<Shared>>) -> Response {
    let rx = shared.tx.subscribe();
    let mut opening = b"retry: 2000\n".to_vec();
    opening.extend_from_slice(&shared.frame("snapshot", r#"{"jobs":[]}"#));
    let opening = Bytes::from(opening);
    let every = Duration::from_secs(shared.args.keep_alive_secs.max(1));
    let mut keep_alive = tokio::time::interval_at(Instant::now() + every, every);
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = (Some(opening), rx, keep_alive);
    let body = Body::from_stream(futures::stream::unfold(state, |(mut opening, mut rx, mut ka)| async move {
        if let Some(o) = opening.take() {
            return Some((Ok::<_, std::convert::Infallible>(o), (None, rx, ka)));
        }
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(frame) => return Some((Ok(frame), (None, rx, ka))),
                    // A naive server: a stream that fell behind skips what it missed.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = ka.tick() => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (None, rx, ka))),
            }
        }
    }));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

async fn start(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    if shared.started.swap(true, Ordering::SeqCst) {
        return StatusCode::CONFLICT;
    }
    tokio::spawn(play(shared));
    StatusCode::ACCEPTED
}

/// A job as Headway serializes it, with the same fields and similar values.
fn job_json(id: &str, steps: u64, interval_ms: u64, status: &str, current: u64, message: &str, t: i64, event_id: i64) -> serde_json::Value {
    let finished = matches!(status, "succeeded");
    json!({
        "id": id,
        "kind": "demo",
        "params": {"steps": steps, "interval_ms": interval_ms},
        "status": status,
        "progress": {"current": current, "total": steps, "unit": "steps", "message": message, "level": "success"},
        "error": null,
        "created_at": t,
        "started_at": if status == "queued" { serde_json::Value::Null } else { json!(t) },
        "finished_at": if finished { json!(t) } else { serde_json::Value::Null },
        "event_id": event_id,
        "timeout_ms": null,
        "origin": null,
    })
}

async fn play(shared: Arc<Shared>) {
    let a = shared.args.clone();
    let ids: Vec<String> = (0..a.jobs).map(|i| format!("00000000-0000-4000-8000-{:012x}", i + 1)).collect();
    let t0 = unix_ms() as i64;
    for id in &ids {
        let eid = shared.next_id.load(Ordering::Relaxed);
        shared.send("job", job_json(id, a.steps, a.interval_ms, "queued", 0, "", t0, eid));
    }
    for id in &ids {
        let eid = shared.next_id.load(Ordering::Relaxed);
        shared.send("job", job_json(id, a.steps, a.interval_ms, "running", 0, "", t0, eid));
    }
    let mut tick = tokio::time::interval(Duration::from_millis(a.interval_ms.max(1)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick.tick().await;
    let mut message = String::new();
    for step in 1..=a.steps {
        tick.tick().await;
        for id in &ids {
            let at = unix_ms() as i64;
            shared.send(
                "progress",
                json!({"job_id": id, "current": step, "total": a.steps, "unit": "steps",
                       "message": message, "level": "success", "at": at}),
            );
            if step % 10 == 0 {
                shared.send(
                    "log",
                    json!({"job_id": id, "seq": step / 10, "level": "info",
                           "line": format!("reached step {step} of {}", a.steps), "at": at}),
                );
            }
        }
        if step % 10 == 0 {
            message = format!("step {step} of {}", a.steps);
        }
    }
    let t = unix_ms() as i64;
    for id in &ids {
        let eid = shared.next_id.load(Ordering::Relaxed);
        let msg = format!("step {} of {}", a.steps, a.steps);
        shared.send("job", job_json(id, a.steps, a.interval_ms, "succeeded", a.steps, &msg, t, eid));
        shared.send("done", json!({"job_id": id, "status": "succeeded", "error": null}));
    }
}
