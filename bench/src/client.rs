//! `headway-bench sse-clients` (hidden): one load-generating process holding many event-stream
//! connections on a single-threaded runtime.
//!
//! It talks to the orchestrator over its standard streams: it prints `ready OPENED FAILED` once
//! every connection has either received its opening `snapshot` or failed, `complete` once every
//! open connection has seen `--expect-done` `done` events, and `result {json}` after it read
//! `stop` (or its stdin closed, or `--max-secs` passed).

use crate::http::Conn;
use crate::sse::{json_int_field, Chunked, Event, Parser};
use crate::stats::{Histogram, SparseHistogram};
use crate::unix_ms;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::task::LocalSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    #[arg(long)]
    pub addr: SocketAddr,
    #[arg(long, default_value = "/api/v1/events")]
    pub path: String,
    /// `name=value` sent as `Cookie` on every connection; without it every connection is a new
    /// session (its own user).
    #[arg(long)]
    pub cookie: Option<String>,
    #[arg(long)]
    pub conns: u64,
    /// New connections per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// A connection is complete after this many `done` events (0: never).
    #[arg(long, default_value_t = 0)]
    pub expect_done: u64,
    /// Seconds after which the process stops by itself.
    #[arg(long, default_value_t = 600)]
    pub max_secs: u64,
}

/// What one client process saw.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientReport {
    pub conns: u64,
    /// Connections that received their opening `snapshot`.
    pub opened: u64,
    pub connect_errors: u64,
    /// Bad or non-200 responses.
    pub http_errors: u64,
    /// No opening event within 30 s.
    pub open_timeouts: u64,
    /// Read or decoding errors on an open stream.
    pub stream_errors: u64,
    /// Streams the server ended before `stop`.
    pub early_eof: u64,
    /// Open connections when `stop` came.
    pub held_at_stop: u64,
    /// Connections that saw `expect_done` `done` events.
    pub complete: u64,
    /// Events after the opening snapshot, all types.
    pub events: u64,
    pub progress: u64,
    /// `progress` events whose data carries no `at`.
    pub progress_without_at: u64,
    pub dones: u64,
    pub comments: u64,
    pub bytes: u64,
    pub first_event_ms: Option<f64>,
    pub last_event_ms: Option<f64>,
    /// Latency of `progress` events: receive time minus `at`, in microseconds.
    pub latency_us: SparseHistogram,
    pub first_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    stop: CancellationToken,
    resolved: Cell<u64>,
    open_now: Cell<u64>,
    /// `open_now` at the moment the stop came (connections close right after).
    held_at_stop: Cell<Option<u64>>,
    report: RefCell<ClientReport>,
    latency: RefCell<Histogram>,
}

impl Shared {
    fn stop(&self) {
        if !self.stop.is_cancelled() {
            self.held_at_stop.set(Some(self.open_now.get()));
            self.stop.cancel();
        }
    }

    fn count(&self, f: impl FnOnce(&mut ClientReport)) {
        f(&mut self.report.borrow_mut());
    }

    fn fail(&self, f: impl FnOnce(&mut ClientReport), error: String) {
        let mut r = self.report.borrow_mut();
        f(&mut r);
        if r.first_error.is_none() {
            r.first_error = Some(error);
        }
    }
}

pub fn main(args: ClientArgs) -> ! {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = LocalSet::new();
    let report = local.block_on(&rt, run(args));
    println!(
        "result {}",
        serde_json::to_string(&report).expect("report serializes")
    );
    std::process::exit(0)
}

async fn run(args: ClientArgs) -> ClientReport {
    let args = Rc::new(args);
    let sh = Rc::new(Shared::default());
    sh.report.borrow_mut().conns = args.conns;

    // `stop` on stdin (or stdin closing) ends the run; so does the deadline.
    let stopper = Rc::clone(&sh);
    tokio::task::spawn_local(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.trim() == "stop" {
                break;
            }
        }
        stopper.stop();
    });
    let stopper = Rc::clone(&sh);
    let max = Duration::from_secs(args.max_secs);
    tokio::task::spawn_local(async move {
        tokio::time::sleep(max).await;
        stopper.stop();
    });

    // Open connections at the given rate.
    {
        let (sh, args) = (Rc::clone(&sh), Rc::clone(&args));
        tokio::task::spawn_local(async move {
            let start = Instant::now();
            let rate = args.rate.max(1) as f64;
            let mut started = 0u64;
            while started < args.conns && !sh.stop.is_cancelled() {
                let due = ((start.elapsed().as_secs_f64() * rate) as u64 + 1).min(args.conns);
                while started < due {
                    tokio::task::spawn_local(connection(Rc::clone(&sh), Rc::clone(&args)));
                    started += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }

    let mut said_ready = false;
    let mut said_complete = false;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            _ = sh.stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        if !said_ready && sh.resolved.get() >= args.conns {
            said_ready = true;
            let r = sh.report.borrow();
            println!("ready {} {}", r.opened, args.conns - r.opened);
        }
        if said_ready && !said_complete && args.expect_done > 0 {
            let r = sh.report.borrow();
            if r.complete >= r.opened {
                said_complete = true;
                println!("complete");
            }
        }
    }
    let held = sh.held_at_stop.get().unwrap_or(sh.open_now.get());
    // Let every connection see the stop and close its socket.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut report = sh.report.borrow().clone();
    report.held_at_stop = held;
    report.latency_us = sh.latency.borrow().to_sparse();
    report
}

struct ConnState {
    opened: bool,
    dones: u64,
}

async fn connection(sh: Rc<Shared>, args: Rc<ClientArgs>) {
    let mut state = ConnState {
        opened: false,
        dones: 0,
    };
    run_connection(&sh, &args, &mut state).await;
    if state.opened {
        sh.open_now.set(sh.open_now.get() - 1);
    } else {
        sh.resolved.set(sh.resolved.get() + 1);
    }
}

async fn run_connection(sh: &Shared, args: &ClientArgs, state: &mut ConnState) {
    let conn = tokio::select! {
        c = Conn::connect(args.addr) => c,
        _ = sh.stop.cancelled() => return,
    };
    let mut conn = match conn {
        Ok(c) => c,
        Err(e) => return sh.fail(|r| r.connect_errors += 1, format!("connect: {e}")),
    };
    let mut headers = vec![("Accept", "text/event-stream")];
    if let Some(c) = &args.cookie {
        headers.push(("Cookie", c.as_str()));
    }
    let head = async {
        conn.send("GET", &args.path, &headers, None).await?;
        conn.read_head().await
    };
    let head = tokio::select! {
        h = tokio::time::timeout(Duration::from_secs(30), head) => h,
        _ = sh.stop.cancelled() => return,
    };
    let head = match head {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return sh.fail(|r| r.http_errors += 1, format!("response head: {e}")),
        Err(_) => {
            return sh.fail(
                |r| r.open_timeouts += 1,
                "no response head within 30 s".into(),
            )
        }
    };
    if head.status != 200 {
        return sh.fail(|r| r.http_errors += 1, format!("status {}", head.status));
    }
    let chunked = head.is_chunked();
    let (mut stream, leftover) = conn.into_parts();
    let mut decoder = Chunked::default();
    let mut parser = Parser::new();
    let opened_by = Instant::now() + Duration::from_secs(30);

    let mut input = leftover;
    let mut buf = vec![0u8; 4096];
    loop {
        if !input.is_empty() {
            if let Err(e) = feed(sh, args, state, &input, chunked, &mut decoder, &mut parser) {
                return sh.fail(|r| r.stream_errors += 1, format!("stream: {e}"));
            }
            input.clear();
        }
        let read = tokio::select! {
            biased;
            _ = sh.stop.cancelled() => return,
            _ = tokio::time::sleep_until(opened_by), if !state.opened => {
                return sh.fail(|r| r.open_timeouts += 1, "no opening event within 30 s".into());
            }
            r = stream.read(&mut buf) => r,
        };
        match read {
            Ok(0) => {
                return if state.opened {
                    sh.fail(|r| r.early_eof += 1, "the server ended the stream".into())
                } else {
                    sh.fail(
                        |r| r.http_errors += 1,
                        "closed before the opening event".into(),
                    )
                };
            }
            Ok(n) => input.extend_from_slice(&buf[..n]),
            Err(e) => return sh.fail(|r| r.stream_errors += 1, format!("read: {e}")),
        }
    }
}

fn feed(
    sh: &Shared,
    args: &ClientArgs,
    state: &mut ConnState,
    input: &[u8],
    chunked: bool,
    decoder: &mut Chunked,
    parser: &mut Parser,
) -> Result<(), &'static str> {
    // Every event of one read arrived at the same moment.
    let now = unix_ms();
    let comments_before = parser.comments;
    let mut on_event = |e: Event<'_>| on_event(sh, args, state, now, e);
    if chunked {
        decoder.feed(input, &mut |d: &[u8]| parser.feed(d, &mut on_event))?;
    } else {
        parser.feed(input, &mut on_event);
    }
    let comments = parser.comments - comments_before;
    sh.count(|r| {
        r.bytes += input.len() as u64;
        r.comments += comments;
    });
    Ok(())
}

fn on_event(sh: &Shared, args: &ClientArgs, state: &mut ConnState, now: f64, e: Event<'_>) {
    if !state.opened && e.kind == "snapshot" {
        state.opened = true;
        sh.open_now.set(sh.open_now.get() + 1);
        sh.resolved.set(sh.resolved.get() + 1);
        sh.count(|r| r.opened += 1);
        return;
    }
    let mut r = sh.report.borrow_mut();
    r.events += 1;
    r.first_event_ms = Some(r.first_event_ms.map_or(now, |f| f.min(now)));
    r.last_event_ms = Some(r.last_event_ms.map_or(now, |l| l.max(now)));
    match e.kind {
        "progress" => {
            r.progress += 1;
            match json_int_field(e.data, "at") {
                Some(at) => {
                    let us = ((now - at as f64) * 1000.0).max(0.0) as u64;
                    sh.latency.borrow_mut().record(us);
                }
                None => r.progress_without_at += 1,
            }
        }
        "done" => {
            r.dones += 1;
            state.dones += 1;
            if args.expect_done > 0 && state.dones == args.expect_done {
                r.complete += 1;
            }
        }
        _ => {}
    }
}
