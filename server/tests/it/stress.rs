//! The stream under pressure: many disconnects, a slow reader, shutdown with
//! hundreds of open streams. Loops are bounded and everything stays on loopback.

use crate::client::*;
use crate::harness::{app, spawn_app};
use futures::StreamExt;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A small deterministic generator, so a failing run can be replayed.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What a client learnt from the stream, per job.
#[derive(Default, Debug)]
struct Seen {
    logs: BTreeMap<String, Vec<u64>>,
    statuses: BTreeMap<String, Vec<String>>,
    ids: HashSet<i64>,
}

impl Seen {
    fn take(&mut self, e: &eventsource_stream::Event) {
        if e.event == "snapshot" {
            return;
        }
        assert!(self.ids.insert(id(e)), "event {} delivered twice", e.id);
        let d = data(e);
        match e.event.as_str() {
            "log" => self
                .logs
                .entry(d["job_id"].as_str().unwrap().into())
                .or_default()
                .push(d["seq"].as_u64().unwrap()),
            "job" => self
                .statuses
                .entry(d["id"].as_str().unwrap().into())
                .or_default()
                .push(d["status"].as_str().unwrap().into()),
            _ => {}
        }
    }
}

#[tokio::test]
async fn two_hundred_random_disconnects_lose_no_log_line_or_status_change() {
    let app = spawn_app().await;
    let s = app.session();
    let mut rng = Lcg(7);
    let mut seen = Seen::default();

    let mut first = s.events("/api/v1/events", None).await;
    let snapshot = read_until(&mut first, |_| true).await;
    let mut cursor = id(&snapshot[0]);
    drop(first);
    let mut jobs = Vec::new();
    for _ in 0..4 {
        jobs.push(s.demo(1500, 2).await);
    }

    let mut disconnects = 0;
    let mut received = 0;
    while disconnects < 200 {
        let mut events = s.events("/api/v1/events", Some(cursor)).await;
        let want = 1 + rng.below(12) as usize;
        let mut got = 0;
        // Take a few events (or whatever comes within a short while), then drop the connection.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(150);
        while got < want {
            match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(Some(e)) => {
                    if e.event != "snapshot" {
                        seen.take(&e);
                        cursor = id(&e);
                        got += 1;
                    }
                }
                _ => break,
            }
        }
        received += got;
        disconnects += 1;
    }
    // Catch up to the end of every job.
    let mut events = s.events("/api/v1/events", Some(cursor)).await;
    let mut ended: HashSet<String> = jobs
        .iter()
        .filter(|j| seen.statuses.get(*j).is_some_and(|s| s.len() == 3))
        .cloned()
        .collect();
    while ended.len() < jobs.len() {
        for e in read_until(&mut events, |e| e.event == "done").await {
            if e.event != "snapshot" {
                seen.take(&e);
            }
            if e.event == "done" {
                ended.insert(data(&e)["job_id"].as_str().unwrap().to_string());
            }
        }
    }

    for job in &jobs {
        let (_, log) = s.get(&format!("/api/v1/jobs/{job}/log?limit=10000")).await;
        let stored: Vec<u64> = log["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(stored.len(), 150);
        assert_eq!(seen.logs.get(job), Some(&stored), "log lines of {job}");
        assert_eq!(
            seen.statuses[job],
            ["queued", "running", "succeeded"],
            "status changes of {job}"
        );
    }
    eprintln!(
        "{disconnects} disconnects, {received} events read between them, {} events in all, 0 log lines or status changes lost",
        seen.ids.len()
    );
}

/// An event stream read straight off the socket, counting what arrives; optionally through a
/// small receive buffer (so the kernel holds only a few KiB for it) and keeping all it read.
struct RawStream {
    tcp: tokio::net::TcpStream,
    /// Everything read, when kept.
    text: Option<String>,
    /// The end of the previous read, so that a marker cut in two is still counted.
    carry: Vec<u8>,
    logs: usize,
    dones: usize,
}

impl RawStream {
    async fn open(
        addr: std::net::SocketAddr,
        cookie: &str,
        small_buffer: bool,
        keep: bool,
    ) -> RawStream {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if small_buffer {
            socket.set_recv_buffer_size(4096).unwrap();
        }
        let mut tcp = socket.connect(addr).await.unwrap();
        let request =
            format!("GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        RawStream {
            tcp,
            text: keep.then(String::new),
            carry: Vec::new(),
            logs: 0,
            dones: 0,
        }
    }

    /// Gives the socket a receive buffer of 1 MiB, for a stream that reads fast from now on:
    /// through a window of a few KiB the kernel sends a couple of KiB every 200 ms.
    fn widen(&self) {
        socket2::SockRef::from(&self.tcp)
            .set_recv_buffer_size(1 << 20)
            .unwrap();
    }

    /// Reads up to `max` bytes.
    async fn read_some(&mut self, max: usize) {
        let mut buf = vec![0u8; max];
        let n = tokio::time::timeout(WAIT, self.tcp.read(&mut buf))
            .await
            .expect("the stream stalled")
            .unwrap();
        assert!(n > 0, "the stream ended");
        let mut window = std::mem::take(&mut self.carry);
        let carried = window.len();
        window.extend_from_slice(&buf[..n]);
        // Markers that end in the new bytes: one wholly inside the carried tail was counted
        // with the read before.
        let count = |marker: &[u8]| {
            window
                .windows(marker.len())
                .enumerate()
                .filter(|(i, w)| *w == marker && i + marker.len() > carried)
                .count()
        };
        self.logs += count(b"\nevent: log\n");
        self.dones += count(b"\nevent: done\n");
        self.carry = window[window.len().saturating_sub(12)..].to_vec();
        if let Some(text) = &mut self.text {
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
}

/// A kind that exists only in these tests: writes many long log lines as fast as it can,
/// with a progress sample per line.
struct Chatty;

/// Writes `lines` log lines of `width` characters.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[garde(context(engine::kinds::KindEnv))]
struct ChattyParams {
    #[garde(skip)]
    lines: u64,
    #[garde(skip)]
    width: usize,
}

impl engine::kinds::Kind for Chatty {
    type Params = ChattyParams;
    const NAME: &'static str = "chatty";

    async fn run(p: ChattyParams, ctx: &mut engine::kinds::JobContext) -> engine::kinds::RunResult {
        ctx.set_total(Some(p.lines), "lines").await;
        let line = "x".repeat(p.width);
        for _ in 0..p.lines {
            ctx.log(model::LogLevel::Info, line.clone()).await;
            ctx.advance(1).await;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_holds_back_no_one_and_still_gets_every_event() {
    // About 12 MB of events for each stream: more than hyper and the kernel hold for a stream
    // that does not read, so the server itself must hold it back.
    const JOBS: usize = 4;
    const LINES: u64 = 3000;
    let app = app().kind::<Chatty>().start().await;
    let s = app.session();
    let first = s.http.get(s.url("/api/v1/kinds")).send().await.unwrap();
    let set_cookie = first.headers()["set-cookie"].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    // One user with four tabs: three that read at once, one that reads 1 KiB every 20 ms through
    // a 4 KiB receive buffer until the others are done.
    let mut slow = RawStream::open(app.addr, &cookie, true, true).await;
    let mut readers = Vec::new();
    for _ in 0..3 {
        readers.push(RawStream::open(app.addr, &cookie, false, false).await);
    }
    let mut jobs = Vec::new();
    for _ in 0..JOBS {
        let (status, job) = s
            .create("chatty", serde_json::json!({"lines": LINES, "width": 1000}))
            .await;
        assert_eq!(status, 201, "{job}");
        jobs.push(job["id"].as_str().unwrap().to_string());
    }
    let others_done = tokio_util::sync::CancellationToken::new();
    let slow_task = {
        let others_done = others_done.clone();
        tokio::spawn(async move {
            let mut widened = false;
            while slow.dones < JOBS {
                if others_done.is_cancelled() {
                    if !std::mem::replace(&mut widened, true) {
                        slow.widen();
                    }
                    slow.read_some(1 << 20).await;
                } else {
                    slow.read_some(1024).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            slow
        })
    };
    for mut r in readers {
        let all = tokio::time::timeout(WAIT, async {
            while r.dones < JOBS {
                r.read_some(1 << 20).await;
            }
        });
        all.await.expect("a reader got every job's end in time");
        assert_eq!(r.logs, JOBS * LINES as usize, "every reader got every line");
    }
    // The others are done while the slow one is far behind: it held back no one. The server held
    // its backlog back: its subscription fell behind and must catch up from the store.
    assert!(
        !slow_task.is_finished(),
        "the slow reader kept up; the test proves nothing"
    );
    assert!(
        app.engine().jobs().bus().lagged() > 0,
        "the slow stream never fell behind its channel"
    );
    others_done.cancel();
    let slow = tokio::time::timeout(WAIT, slow_task)
        .await
        .expect("the slow reader caught up in time")
        .unwrap();
    // It got every line, in order, with no gap.
    let text = slow.text.unwrap();
    for job in &jobs {
        let seqs: Vec<u64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter(|d| d["job_id"] == job.as_str() && d["seq"].is_u64())
            .map(|d| d["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (1..=LINES).collect::<Vec<u64>>(),
            "log lines of {job} on the slow stream"
        );
    }
    eprintln!(
        "slow reader: three readers got {} lines each while it lagged ({} catch-ups from the store); it then got every line",
        JOBS * LINES as usize,
        app.engine().jobs().bus().lagged()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_hundreds_of_open_streams_ends_each_cleanly_and_interrupts_every_job() {
    let mut app = app()
        .with(|c| {
            c.max_running = 50;
            c.max_streams_per_user = 1000;
        })
        .start()
        .await;
    let s = app.session();
    let mut jobs = Vec::new();
    for _ in 0..30 {
        jobs.push(s.demo_once(100_000, 10).await);
    }
    // Each stream is read from the moment it opens, as its own client would: a connection
    // whose client stops reading is the server's to drop, at shutdown as before it.
    let mut readers = Vec::new();
    for i in 0..300 {
        let who = if i % 2 == 0 { s.clone() } else { app.session() };
        let resp = who.stream("/api/v1/events", None).await;
        assert_eq!(resp.status(), 200);
        let mut stream = resp.bytes_stream();
        readers.push(tokio::spawn(async move {
            while let Some(chunk) = stream.next().await {
                chunk?;
            }
            Ok::<(), reqwest::Error>(())
        }));
    }
    let mut last = s.events("/api/v1/events", None).await;
    read_until(&mut last, |e| e.event == "progress").await;
    let shutdown = tokio::spawn(app.begin_shutdown());
    // Every stream ends with the chunked body's end (an abrupt close would be an error here),
    // while this process and its sockets are still alive.
    let ends = futures::future::join_all(
        readers
            .into_iter()
            .map(|reader| tokio::time::timeout(WAIT, reader)),
    )
    .await;
    for end in ends {
        end.expect("a stream stayed open during shutdown")
            .unwrap()
            .expect("the stream ends cleanly");
    }
    let took = shutdown.await.unwrap();
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let app = app.restart().await;
    let s = s.rebase(&app.base);
    for job in &jobs {
        assert_eq!(s.job(job).await["status"], "interrupted");
    }
    eprintln!("shutdown with 300 open streams and 30 running jobs: {took:?}, every stream ended cleanly, all 30 interrupted");
}

/// A kind that exists only in these tests: reports every step as a progress sample of its own
/// (flushed, not left to the once-per-100-ms sampling), a log line every 10 steps.
struct Sampler;

/// `samples` steps, `every_ms` apart.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[garde(context(engine::kinds::KindEnv))]
struct SamplerParams {
    #[garde(skip)]
    samples: u64,
    #[garde(skip)]
    every_ms: u64,
}

impl engine::kinds::Kind for Sampler {
    type Params = SamplerParams;
    const NAME: &'static str = "sampler";

    async fn run(
        p: SamplerParams,
        ctx: &mut engine::kinds::JobContext,
    ) -> engine::kinds::RunResult {
        ctx.set_total(Some(p.samples), "samples").await;
        for step in 1..=p.samples {
            tokio::time::sleep(Duration::from_millis(p.every_ms)).await;
            ctx.advance(1).await;
            ctx.flush().await;
            if step % 10 == 0 {
                ctx.log(model::LogLevel::Info, format!("sample {step}"))
                    .await;
            }
        }
        Ok(())
    }
}

/// One event read off a raw stream: id, type and the parsed data.
type RawEvent = (i64, String, serde_json::Value);

/// The events in the text of a raw stream (HTTP head and chunk sizes are skipped).
fn raw_events(text: &str) -> Vec<RawEvent> {
    let mut out = Vec::new();
    let (mut id, mut kind) = (None, None);
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.parse().ok();
        } else if let Some(v) = line.strip_prefix("event: ") {
            kind = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("data: ") {
            if let (Some(i), Some(k)) = (id.take(), kind.take()) {
                out.push((i, k, serde_json::from_str(v).unwrap()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_falls_behind_gets_the_latest_progress_and_every_other_event() {
    const SAMPLES: u64 = 60;
    // The filler's lines of a megabyte fill the slow tab's socket: kept whole.
    let app = app()
        .kind::<Chatty>()
        .kind::<Sampler>()
        .with(|c| c.max_log_line_bytes = 1 << 20)
        .start()
        .await;
    let s = app.session();
    let first = s.http.get(s.url("/api/v1/kinds")).send().await.unwrap();
    let cookie = first.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    // One user, two tabs: one that reads at once, one behind a 4 KiB receive buffer that reads
    // nothing until the end.
    let mut prompt = s.events("/api/v1/events", None).await;
    read_until(&mut prompt, |e| e.event == "snapshot").await;
    let mut behind = RawStream::open(app.addr, &cookie, true, true).await;
    while !behind
        .text
        .as_deref()
        .unwrap()
        .contains("\nevent: snapshot\n")
    {
        behind.read_some(4096).await;
    }
    // 12 MB of log lines fill everything between the server and the tab that does not read
    // (hyper's buffer, the kernel's), so that what comes next waits for it on the bus.
    let (status, filler) = s
        .create(
            "chatty",
            serde_json::json!({"lines": 12, "width": 1_000_000}),
        )
        .await;
    assert_eq!(status, 201, "{filler}");
    let filler = filler["id"].as_str().unwrap().to_string();
    read_until(&mut prompt, is_done_of(&filler)).await;
    let (status, job) = s
        .create(
            "sampler",
            serde_json::json!({"samples": SAMPLES, "every_ms": 25}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let job = job["id"].as_str().unwrap().to_string();

    // The tab that keeps up gets every sample, 0 to the last.
    let got = read_until(&mut prompt, is_done_of(&job)).await;
    let of_job = |e: &&eventsource_stream::Event| data(e)["job_id"] == job.as_str();
    let prompt_samples: Vec<u64> = got
        .iter()
        .filter(|e| e.event == "progress")
        .filter(of_job)
        .map(|e| data(e)["current"].as_u64().unwrap())
        .collect();
    assert_eq!(
        prompt_samples,
        (0..=SAMPLES).collect::<Vec<u64>>(),
        "the prompt tab got every sample"
    );

    // The tab behind reads now, to the end of the job's `done` frame.
    let ended = |text: &str| {
        text.rsplit_once("\nevent: done\n")
            .is_some_and(|(_, rest)| rest.contains("\n\n"))
    };
    while behind.dones < 2 || !ended(behind.text.as_deref().unwrap()) {
        behind.read_some(1 << 20).await;
    }
    let events = raw_events(behind.text.as_deref().unwrap());
    let ids: Vec<i64> = events.iter().map(|(id, _, _)| *id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids go up: {ids:?}");
    let mine: Vec<&RawEvent> = events
        .iter()
        .filter(|(_, _, d)| d["job_id"] == job.as_str() || d["id"] == job.as_str())
        .collect();
    let kinds: Vec<&str> = mine.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds.last(), Some(&"done"), "{kinds:?}");
    let statuses: Vec<&str> = mine
        .iter()
        .filter(|(_, k, _)| k == "job")
        .map(|(_, _, d)| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["queued", "running", "succeeded"]);
    let lines: Vec<&str> = mine
        .iter()
        .filter(|(_, k, _)| k == "log")
        .map(|(_, _, d)| d["line"].as_str().unwrap())
        .collect();
    let written: Vec<String> = (1..=SAMPLES / 10)
        .map(|n| format!("sample {}", n * 10))
        .collect();
    assert_eq!(lines, written, "every log line, in order");
    let samples: Vec<u64> = mine
        .iter()
        .filter(|(_, k, _)| k == "progress")
        .map(|(_, _, d)| d["current"].as_u64().unwrap())
        .collect();
    assert_eq!(
        samples.last(),
        Some(&SAMPLES),
        "the bar ends full: {samples:?}"
    );
    assert!(
        samples.windows(2).all(|w| w[0] < w[1]),
        "samples go forward: {samples:?}"
    );
    assert!(
        samples.len() < prompt_samples.len(),
        "the tab behind got every sample ({}); it was never behind",
        samples.len()
    );
    // It was behind, not overflowed: the samples were skipped on the way, not replayed from the
    // store; and the skipped ones are counted.
    assert_eq!(
        app.engine().jobs().bus().lagged(),
        0,
        "a stream overflowed its channel"
    );
    let metrics = s.text("/metrics").await;
    let skipped: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("headway_stream_progress_skipped_total "))
        .expect("the skipped samples' counter")
        .parse()
        .unwrap();
    assert!(
        skipped >= (prompt_samples.len() - samples.len()) as f64,
        "{skipped} samples counted as skipped"
    );

    // A tab resuming from the last sample the tab behind got (a cursor inside what was skipped
    // over) gets exactly what came after it.
    let (cursor, _, _) = mine.iter().rev().find(|(_, k, _)| k == "progress").unwrap();
    let mut resumed = s.events("/api/v1/events", Some(*cursor)).await;
    let replay = read_until(&mut resumed, is_done_of(&job)).await;
    assert_eq!(id(&replay[0]), *cursor, "the snapshot carries the cursor");
    let after: Vec<i64> = mine
        .iter()
        .map(|(id, _, _)| *id)
        .filter(|id| id > cursor)
        .collect();
    assert_eq!(replay[1..].iter().map(id).collect::<Vec<_>>(), after);
    eprintln!(
        "a tab behind got {} of {} samples ({} skipped), every log line and status change",
        samples.len(),
        prompt_samples.len(),
        skipped
    );
}
