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

/// A stream read slowly through a small receive buffer: the kernel holds a few KiB for it, so the
/// server has to hold the rest back itself.
struct SlowReader {
    tcp: tokio::net::TcpStream,
    text: String,
}

impl SlowReader {
    async fn open(addr: std::net::SocketAddr, cookie: &str) -> SlowReader {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut tcp = socket.connect(addr).await.unwrap();
        let request =
            format!("GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        SlowReader {
            tcp,
            text: String::new(),
        }
    }

    /// Reads one small piece.
    async fn read_some(&mut self) {
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(WAIT, self.tcp.read(&mut buf))
            .await
            .expect("the slow stream stalled")
            .unwrap();
        assert!(n > 0, "the slow stream ended");
        self.text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }

    fn count(&self, needle: &str) -> usize {
        self.text.matches(needle).count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_holds_back_no_one_and_still_gets_every_event() {
    const JOBS: usize = 20;
    let app = spawn_app().await;
    // One user with eleven tabs: ten that read at once, one that reads 1 KiB every 20 ms.
    let s = app.session();
    let first = s.http.get(s.url("/api/v1/kinds")).send().await.unwrap();
    let set_cookie = first.headers()["set-cookie"].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let mut slow = SlowReader::open(app.addr, &cookie).await;
    let mut readers = Vec::new();
    for _ in 0..10 {
        readers.push(s.events("/api/v1/events", None).await);
    }
    let mut jobs = Vec::new();
    for _ in 0..JOBS {
        jobs.push(s.demo(3000, 1).await);
    }
    let slow_task = tokio::spawn(async move {
        while slow.count("event: done") < JOBS {
            slow.read_some().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        slow
    });
    let mut fast_bytes = 0;
    for mut r in readers {
        let got = read_until_n(&mut r, JOBS, |e| e.event == "done").await;
        assert_eq!(
            got.iter().filter(|e| e.event == "log").count(),
            JOBS * 300,
            "every reader got every log line"
        );
        fast_bytes = got.iter().map(|e| e.data.len()).sum::<usize>();
    }
    // The readers are done while the slow one is still far behind: it held back no one.
    assert!(
        !slow_task.is_finished(),
        "the slow reader kept up; the test proves nothing"
    );
    let slow = slow_task.await.unwrap();
    // ...and it got everything, in order, with no gap, once it read on.
    for job in &jobs {
        let seqs: Vec<u64> = slow
            .text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter(|d| d["job_id"] == job.as_str() && d["seq"].is_u64())
            .map(|d| d["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (1..=300).collect::<Vec<u64>>(),
            "log lines of {job} on the slow stream"
        );
    }
    eprintln!("slow reader: ten readers got {fast_bytes} bytes of events each while it lagged; it then caught up with every line");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_hundreds_of_open_streams_ends_each_cleanly_and_interrupts_every_job() {
    let mut app = app().with(|c| c.max_running = 50).start().await;
    let s = app.session();
    let mut jobs = Vec::new();
    for _ in 0..30 {
        jobs.push(s.demo(100_000, 10).await);
    }
    let mut streams = Vec::new();
    for i in 0..300 {
        let who = if i % 2 == 0 { s.clone() } else { app.session() };
        let resp = who.stream("/api/v1/events", None).await;
        assert_eq!(resp.status(), 200);
        streams.push(resp.bytes_stream());
    }
    let mut last = s.events("/api/v1/events", None).await;
    read_until(&mut last, |e| e.event == "progress").await;
    let shutdown = tokio::spawn(app.begin_shutdown());
    // Every stream ends with the chunked body's end (an abrupt close would be an error here),
    // while this process and its sockets are still alive.
    for mut st in streams {
        let end = tokio::time::timeout(WAIT, async {
            while let Some(chunk) = st.next().await {
                chunk.expect("the stream ends cleanly");
            }
        })
        .await;
        assert!(end.is_ok(), "a stream stayed open during shutdown");
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
