//! The stream under pressure: many disconnects, a client that never reads, shutdown with
//! hundreds of open streams. Loops are bounded and everything stays on loopback.

mod common;

use common::*;
use futures::StreamExt;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

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
    let server = TestServer::start("disconnects");
    let s = server.session();
    let mut rng = Lcg(7);
    let mut seen = Seen::default();

    let mut first = s.events("/api/v1/events", None).await;
    let snapshot = read_until(&mut first, WAIT, |_| true).await;
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
    for job in &jobs {
        s.wait_finished(job, WAIT).await;
    }
    let mut events = s.events("/api/v1/events", Some(cursor)).await;
    for e in read_for(&mut events, Duration::from_millis(800)).await {
        if e.event != "snapshot" {
            seen.take(&e);
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

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_back_the_others_or_grow_memory() {
    let server = TestServer::start("neverreads");
    let pid = server.pid();
    // One user with eleven tabs: ten that read, one that never does.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let s = Session {
        base: server.base.clone(),
        http,
    };
    s.get("/api/v1/kinds").await;
    let url: reqwest::Url = s.base.parse().unwrap();
    use reqwest::cookie::CookieStore;
    let cookie = jar
        .cookies(&url)
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_string();

    let mut readers = Vec::new();
    for _ in 0..10 {
        readers.push(s.events("/api/v1/events", None).await);
    }
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut silent = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        silent,
        "GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n"
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid);

    let mut jobs = Vec::new();
    for _ in 0..20 {
        jobs.push(s.demo(3000, 1).await);
    }
    let started = Instant::now();
    let mut totals = Vec::new();
    for mut r in readers {
        let mut done = 0;
        let got = read_until(&mut r, Duration::from_secs(120), |e| {
            done += (e.event == "done") as usize;
            done == 20
        })
        .await;
        totals.push(got.iter().filter(|e| e.event == "log").count());
    }
    let elapsed = started.elapsed();
    let after = rss_kib(pid);
    for n in &totals {
        assert_eq!(*n, 20 * 300, "every reader got every log line");
    }
    let growth = after.saturating_sub(before);
    eprintln!(
        "never-reading client: 10 readers got all {} log lines each in {elapsed:?}; server RSS {before} KiB -> {after} KiB (+{growth} KiB)",
        20 * 300
    );
    assert!(growth < 64 * 1024, "server memory grew by {growth} KiB");
    drop(silent);
}

#[tokio::test]
async fn sigterm_with_hundreds_of_open_streams_exits_within_ten_seconds() {
    let dir = fresh_dir("sigterm-load");
    let db = dir.join("h.db");
    let server = TestServer::start_on(&dir, &db, &[("HEADWAY_MAX_RUNNING", "50")]);
    let s = server.session();
    let mut jobs = Vec::new();
    for _ in 0..30 {
        jobs.push(s.demo(100_000, 10).await);
    }
    let mut streams = Vec::new();
    for i in 0..300 {
        let who = if i % 2 == 0 {
            s.clone()
        } else {
            server.session()
        };
        streams.push(who.events("/api/v1/events", None).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (took, status) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    // Every stream has ended.
    for mut st in streams {
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while st.next().await.is_some() {}
        })
        .await;
        assert!(end.is_ok(), "a stream stayed open after shutdown");
    }
    let server = TestServer::start_on(&dir, &db, &[("HEADWAY_MAX_RUNNING", "50")]);
    let s = Session {
        base: server.base.clone(),
        http: s.http.clone(),
    };
    for job in &jobs {
        assert_eq!(s.job(job).await["status"], "interrupted");
    }
    eprintln!(
        "SIGTERM with 300 open streams and 30 running jobs: exited in {took:?}, all 30 interrupted"
    );
}
