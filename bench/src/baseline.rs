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
    /// Serve without hyper: a bare tokio accept loop that reads the request head itself and
    /// writes chunked frames straight to the socket (what an event stream costs without an HTTP
    /// framework's per-connection buffers).
    #[arg(long)]
    pub raw: bool,
    /// Send every frame already waiting for a stream in one write (up to 64 KiB), instead of
    /// one write per frame.
    #[arg(long)]
    pub batch: bool,
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("baseline-server: cannot listen on {}: {e}", args.addr);
                std::process::exit(1);
            }
        };
        let (tx, _) = broadcast::channel(args.capacity.max(1));
        let raw = args.raw;
        let shared =
            Arc::new(Shared { args, tx, started: AtomicBool::new(false), next_id: AtomicI64::new(1) });
        if raw {
            raw::serve(listener, shared).await;
            std::process::exit(0);
        }
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
    let batch = shared.args.batch;
    let state = (Some(opening), rx, keep_alive);
    let body = Body::from_stream(futures::stream::unfold(
        state,
        move |(mut opening, mut rx, mut ka)| async move {
            if let Some(o) = opening.take() {
                return Some((Ok::<_, std::convert::Infallible>(o), (None, rx, ka)));
            }
            loop {
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(frame) if batch => {
                            let mut buf = bytes::BytesMut::from(&frame[..]);
                            while buf.len() < 64 * 1024 {
                                match rx.try_recv() {
                                    Ok(more) => buf.extend_from_slice(&more),
                                    Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                                    Err(_) => break,
                                }
                            }
                            return Some((Ok(buf.freeze()), (None, rx, ka)));
                        }
                        Ok(frame) => return Some((Ok(frame), (None, rx, ka))),
                        // A naive server: a stream that fell behind skips what it missed.
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = ka.tick() => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (None, rx, ka))),
                }
            }
        },
    ));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
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
#[allow(clippy::too_many_arguments)]
fn job_json(
    id: &str,
    steps: u64,
    interval_ms: u64,
    status: &str,
    current: u64,
    message: &str,
    t: i64,
    event_id: i64,
) -> serde_json::Value {
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
    let ids: Vec<String> = (0..a.jobs)
        .map(|i| format!("00000000-0000-4000-8000-{:012x}", i + 1))
        .collect();
    let t0 = unix_ms() as i64;
    for id in &ids {
        let eid = shared.next_id.load(Ordering::Relaxed);
        shared.send(
            "job",
            job_json(id, a.steps, a.interval_ms, "queued", 0, "", t0, eid),
        );
    }
    for id in &ids {
        let eid = shared.next_id.load(Ordering::Relaxed);
        shared.send(
            "job",
            job_json(id, a.steps, a.interval_ms, "running", 0, "", t0, eid),
        );
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
        shared.send(
            "job",
            job_json(
                id,
                a.steps,
                a.interval_ms,
                "succeeded",
                a.steps,
                &msg,
                t,
                eid,
            ),
        );
        shared.send(
            "done",
            json!({"job_id": id, "status": "succeeded", "error": null}),
        );
    }
}

/// The hyper-less server of `--raw`.
mod raw {
    use super::{play, Shared};
    use bytes::Bytes;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::broadcast::error::RecvError;
    use tokio::time::{Instant, MissedTickBehavior};

    pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        loop {
            tokio::select! {
                r = listener.accept() => if let Ok((sock, _)) = r {
                    tokio::spawn(connection(sock, Arc::clone(&shared)));
                },
                _ = term.recv() => return,
            }
        }
    }

    /// The request line of a request head, read into a buffer that is freed before streaming.
    async fn request_line(sock: &mut TcpStream) -> Option<String> {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 512];
        loop {
            let n = sock.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
            if head.len() > 16 * 1024 {
                return None;
            }
        }
        let line = head.split(|b| *b == b'\r').next()?;
        Some(String::from_utf8_lossy(line).into_owned())
    }

    fn chunk(data: &[u8]) -> Vec<u8> {
        let mut v = format!("{:x}\r\n", data.len()).into_bytes();
        v.extend_from_slice(data);
        v.extend_from_slice(b"\r\n");
        v
    }

    async fn connection(mut sock: TcpStream, shared: Arc<Shared>) {
        let Some(line) = request_line(&mut sock).await else {
            return;
        };
        let mut parts = line.split(' ');
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        match (method, path) {
            ("GET", "/api/v1/events") => stream(sock, shared).await,
            ("GET", "/health") => {
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
            ("POST", "/start") => {
                let status = if shared.started.swap(true, Ordering::SeqCst) {
                    "409 Conflict"
                } else {
                    tokio::spawn(play(Arc::clone(&shared)));
                    "202 Accepted"
                };
                let head =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = sock.write_all(head.as_bytes()).await;
            }
            _ => {
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            }
        }
    }

    async fn stream(mut sock: TcpStream, shared: Arc<Shared>) {
        let mut rx = shared.tx.subscribe();
        let mut opening = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache, no-transform\r\n\
x-accel-buffering: no\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
        let mut first = b"retry: 2000\n".to_vec();
        first.extend_from_slice(&shared.frame("snapshot", r#"{"jobs":[]}"#));
        opening.extend_from_slice(&chunk(&first));
        if sock.write_all(&opening).await.is_err() {
            return;
        }
        drop((opening, first));
        let every = Duration::from_secs(shared.args.keep_alive_secs.max(1));
        let mut keep_alive = tokio::time::interval_at(Instant::now() + every, every);
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let frame: Bytes = tokio::select! {
                r = rx.recv() => match r {
                    Ok(frame) => frame,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                },
                _ = keep_alive.tick() => Bytes::from_static(b": keep-alive\n\n"),
                // The client went away (or sent something, which a stream does not expect).
                _ = sock.readable() => {
                    let mut probe = [0u8; 1];
                    match sock.try_read(&mut probe) {
                        Ok(0) => return,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        _ => return,
                    }
                }
            };
            if sock.write_all(&chunk(&frame)).await.is_err() {
                return;
            }
        }
    }
}
