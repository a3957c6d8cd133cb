//! Test harness: the real `headway` binary on port 0 with a fresh SQLite file, and sessions that
//! talk to it over HTTP and read its streams with a real SSE client.

#![allow(dead_code)]

use eventsource_stream::{Event, Eventsource};
use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestServer {
    child: Child,
    pub base: String,
    pub db: PathBuf,
    dir: PathBuf,
}

/// A fresh, empty directory for one test's database.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("headway-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl TestServer {
    pub fn start(name: &str) -> TestServer {
        let dir = fresh_dir(name);
        let db = dir.join("headway.db");
        TestServer::start_on(&dir, &db, &[])
    }

    /// Starts (or restarts) a server on an existing database file.
    pub fn start_on(dir: &Path, db: &Path, env: &[(&str, &str)]) -> TestServer {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_headway"));
        cmd.arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--database-url")
            .arg(format!("sqlite://{}", db.display()))
            .arg("--data-root")
            .arg(dir.join("files"))
            .env("RUST_LOG", "info")
            .env_remove("LEPTOS_OUTPUT_NAME")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start headway");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(i) = line.find("listening on http://") {
                        let _ = tx.send(line[i + "listening on ".len()..].trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server did not report its address");
        TestServer {
            child,
            base,
            db: db.to_path_buf(),
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory file-based kinds work in.
    pub fn data_root(&self) -> PathBuf {
        self.dir.join("files")
    }

    pub fn session(&self) -> Session {
        Session {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: self.base.clone(),
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process; returns how long it took to exit and its status.
    pub fn terminate(mut self) -> (Duration, std::process::ExitStatus) {
        let t = Instant::now();
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        (t.elapsed(), status)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser-like client: its own cookie jar, hence its own session and user.
#[derive(Clone)]
pub struct Session {
    pub http: reqwest::Client,
    pub base: String,
}

pub type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

impl Session {
    /// The same browser (cookies and all) talking to another server.
    pub fn rebase(&self, server: &TestServer) -> Session {
        Session {
            http: self.http.clone(),
            base: server.base.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn create(&self, kind: &str, params: Value) -> (u16, Value) {
        self.create_raw(&json!({"kind": kind, "params": params}))
            .await
    }

    /// Posts any JSON body to `/api/v1/jobs`.
    pub async fn create_raw(&self, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/api/v1/jobs"))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// Starts a demo job and returns its id.
    pub async fn demo(&self, steps: u64, interval_ms: u64) -> String {
        let (status, job) = self
            .create("demo", json!({"steps": steps, "interval_ms": interval_ms}))
            .await;
        assert_eq!(status, 201, "{job}");
        job["id"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str) -> (u16, Value) {
        let r = self.http.post(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn job(&self, id: &str) -> Value {
        let (status, job) = self.get(&format!("/api/v1/jobs/{id}")).await;
        assert_eq!(status, 200, "{job}");
        job
    }

    /// Polls until the job reaches a terminal status.
    pub async fn wait_finished(&self, id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let job = self.job(id).await;
            let status = job["status"].as_str().unwrap();
            if ["succeeded", "failed", "cancelled", "interrupted"].contains(&status) {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} still {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens an event stream (`path` is `/api/v1/events` or a per-job stream).
    pub async fn stream(&self, path: &str, last_event_id: Option<i64>) -> reqwest::Response {
        let mut req = self
            .http
            .get(self.url(path))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        req.send().await.unwrap()
    }

    pub async fn events(&self, path: &str, last_event_id: Option<i64>) -> Events {
        let resp = self.stream(path, last_event_id).await;
        assert_eq!(resp.status(), 200);
        Box::pin(
            resp.bytes_stream()
                .eventsource()
                .map(|e| e.expect("well-formed SSE")),
        )
    }
}

/// Reads events until `stop` returns true for one (included), or fails after `within`.
pub async fn read_until(
    events: &mut Events,
    within: Duration,
    mut stop: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, events.next()).await;
        let ev = match next {
            Ok(Some(ev)) => ev,
            Ok(None) => panic!(
                "stream ended early after {} events: {:?}",
                out.len(),
                kinds(&out)
            ),
            Err(_) => panic!("timed out after {} events: {:?}", out.len(), kinds(&out)),
        };
        let done = stop(&ev);
        out.push(ev);
        if done {
            return out;
        }
    }
}

/// Reads every event that arrives within `window`.
pub async fn read_for(events: &mut Events, window: Duration) -> Vec<Event> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, events.next()).await {
        out.push(ev);
    }
    out
}

pub fn kinds(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.event.clone()).collect()
}

pub fn id(e: &Event) -> i64 {
    e.id.parse()
        .unwrap_or_else(|_| panic!("event {} has no numeric id: {:?} {}", e.event, e.id, e.data))
}

pub fn data(e: &Event) -> Value {
    serde_json::from_str(&e.data).unwrap()
}

/// Event ids, in order of arrival, must go strictly up.
pub fn assert_strictly_increasing(events: &[Event]) {
    let ids: Vec<i64> = events.iter().filter(|e| !e.id.is_empty()).map(id).collect();
    for w in ids.windows(2) {
        assert!(w[0] < w[1], "ids not strictly increasing: {ids:?}");
    }
}
