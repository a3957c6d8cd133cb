//! A browser-like client: its own cookie jar (hence its own session and user), one method per
//! endpoint, and streams read with a real SSE client.

use eventsource_stream::{Event, Eventsource};
use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use std::pin::Pin;
use std::time::Duration;

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(60);

/// A plain client (no cookies) whose requests fail, rather than hang the test, when the server
/// goes silent for [`WAIT`]: an event stream stays open (its keep-alives come every 10 s).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(WAIT)
        .read_timeout(WAIT)
        .build()
        .unwrap()
}

/// `GET url` with [`http`].
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    http().get(url).send().await
}

#[derive(Clone)]
pub struct Session {
    pub http: reqwest::Client,
    pub base: String,
}

pub type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

impl Session {
    pub fn new(base: &str) -> Session {
        Session {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    /// A script presenting `token` (`Authorization: Bearer`) with every request.
    pub fn with_token(base: &str, token: &str) -> Session {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        Session {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    /// The same browser (cookies and all) talking to another server.
    pub fn rebase(&self, base: &str) -> Session {
        Session {
            http: self.http.clone(),
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `POST /api/v1/jobs`.
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

    /// Starts a demo job with one attempt (a failure or an interruption is its end) and
    /// returns its id.
    pub async fn demo_once(&self, steps: u64, interval_ms: u64) -> String {
        let (status, job) = self
            .create_raw(&json!({"kind": "demo", "params": {"steps": steps, "interval_ms": interval_ms}, "max_attempts": 1}))
            .await;
        assert_eq!(status, 201, "{job}");
        job["id"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The body of `GET path` as text (a page, a log), whatever its status.
    pub async fn text(&self, path: &str) -> String {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        r.text().await.unwrap()
    }

    pub async fn post(&self, path: &str) -> (u16, Value) {
        let r = self.http.post(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the job has the status `status`, on its own stream.
    pub async fn wait_status(&self, id: &str, status: &str) {
        let mut events = self
            .events(&format!("/api/v1/jobs/{id}/events"), None)
            .await;
        read_until(&mut events, |e| {
            ["snapshot", "job"].contains(&e.event.as_str())
                && e.data.contains(&format!(r#""status":"{status}""#))
        })
        .await;
    }

    /// `GET /api/v1/jobs/{id}`, which must exist.
    pub async fn job(&self, id: &str) -> Value {
        let (status, job) = self.get(&format!("/api/v1/jobs/{id}")).await;
        assert_eq!(status, 200, "{job}");
        job
    }

    pub async fn cancel(&self, id: &str) -> (u16, Value) {
        self.post(&format!("/api/v1/jobs/{id}/cancel")).await
    }

    pub async fn rerun(&self, id: &str) -> (u16, Value) {
        self.post(&format!("/api/v1/jobs/{id}/rerun")).await
    }

    /// `GET /api/v1/jobs?{query}`.
    pub async fn list(&self, query: &str) -> (u16, Value) {
        self.get(&format!("/api/v1/jobs?{query}")).await
    }

    /// `POST /api/start_job` with form fields, as the dashboard's start form sends it.
    pub async fn start_job_form(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/api/start_job"))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Every log line of a job, in order: page after page (each bounded in bytes too) until
    /// an empty one.
    pub async fn log(&self, id: &str) -> Vec<Value> {
        let mut lines: Vec<Value> = Vec::new();
        loop {
            let after = lines.last().map_or(0, |l| l["seq"].as_u64().unwrap());
            let (status, log) = self
                .get(&format!("/api/v1/jobs/{id}/log?limit=10000&after={after}"))
                .await;
            assert_eq!(status, 200, "{log}");
            let page = log["lines"].as_array().unwrap();
            if page.is_empty() {
                return lines;
            }
            lines.extend(page.iter().cloned());
        }
    }

    /// Waits for the job's end on its own stream (which ends after the terminal event) and
    /// returns the job as stored.
    pub async fn wait_finished(&self, id: &str) -> Value {
        let resp = self
            .stream(&format!("/api/v1/jobs/{id}/events"), None)
            .await;
        assert_eq!(resp.status(), 200);
        let body = tokio::time::timeout(WAIT, resp.text())
            .await
            .expect("the job ended in time")
            .unwrap();
        assert!(
            body.contains("\nevent: done\n"),
            "the job's stream ended without `done`: {body}"
        );
        self.job(id).await
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

/// Reads events until `stop` returns true for one (included), or fails after [`WAIT`].
pub async fn read_until(events: &mut Events, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = match tokio::time::timeout_at(deadline, events.next()).await {
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

/// Reads events until `count` of them satisfy `matches`.
pub async fn read_until_n(
    events: &mut Events,
    count: usize,
    matches: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let mut seen = 0;
    read_until(events, |e| {
        seen += matches(e) as usize;
        seen == count
    })
    .await
}

/// The `done` event of job `id`.
pub fn is_done_of(id: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| e.event == "done" && data(e)["job_id"] == id
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

/// The statuses of job `id` in `job` events, in order.
pub fn statuses_of(events: &[Event], id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.event == "job" && data(e)["id"] == id)
        .map(|e| data(e)["status"].as_str().unwrap().to_string())
        .collect()
}
