//! Event streams at the connection level, over raw TCP: a connection that opens with
//! `GET /api/v1/events` is served outside the router, and must behave exactly like one that the
//! router serves (same headers, same session, same events, same errors).

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(30);

/// A raw HTTP/1.1 client connection.
struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// A response head: status and lower-cased headers.
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Raw {
    async fn connect(server: &TestServer) -> Raw {
        let addr = server.base.trim_start_matches("http://").to_string();
        Raw {
            tcp: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, request: &str) {
        self.tcp.write_all(request.as_bytes()).await.unwrap();
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, self.tcp.read(&mut chunk))
            .await
            .expect("read timed out")
            .unwrap();
        assert!(
            n > 0,
            "connection closed; so far: {}",
            String::from_utf8_lossy(&self.buf)
        );
        self.buf.extend_from_slice(&chunk[..n]);
    }

    async fn head(&mut self) -> Head {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8(self.buf.drain(..end + 4).collect()).unwrap();
                let mut lines = text.split("\r\n");
                let status = lines
                    .next()
                    .unwrap()
                    .split(' ')
                    .nth(1)
                    .unwrap()
                    .parse()
                    .unwrap();
                let headers = lines
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (n, v) = l.split_once(':').unwrap();
                        (n.trim().to_ascii_lowercase(), v.trim().to_string())
                    })
                    .collect();
                return Head { status, headers };
            }
            self.fill().await;
        }
    }

    async fn body(&mut self, length: usize) -> Vec<u8> {
        while self.buf.len() < length {
            self.fill().await;
        }
        self.buf.drain(..length).collect()
    }

    /// The next chunk of a chunked body (empty: the body's end).
    async fn chunk(&mut self) -> Vec<u8> {
        loop {
            if let Some(eol) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let size =
                    usize::from_str_radix(std::str::from_utf8(&self.buf[..eol]).unwrap(), 16)
                        .unwrap();
                if self.buf.len() >= eol + 2 + size + 2 {
                    let data = self.buf[eol + 2..eol + 2 + size].to_vec();
                    assert_eq!(&self.buf[eol + 2 + size..eol + 4 + size], b"\r\n");
                    self.buf.drain(..eol + 4 + size);
                    return data;
                }
            }
            self.fill().await;
        }
    }

    /// Reads the stream's chunks until `stop` holds for its text so far.
    async fn read_until(&mut self, stop: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut text = String::new();
        while !stop(&text) {
            assert!(
                Instant::now() < deadline,
                "stream did not get there; so far:\n{text}"
            );
            text.push_str(&String::from_utf8(self.chunk().await).unwrap());
        }
        text
    }

    /// The connection ends (EOF or reset) within the wait.
    async fn closes(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        let mut chunk = [0u8; 4096];
        while Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(1), self.tcp.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                _ => {}
            }
        }
        false
    }
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_string()
}

/// Cookie attributes other than the value, normalised.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    let mut attrs: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    attrs.sort();
    attrs
}

#[tokio::test]
async fn a_first_stream_gets_a_session_the_router_then_knows() {
    let server = TestServer::start("direct-session");
    let mut raw = Raw::connect(&server).await;
    raw.send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await;
    let head = raw.head().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.get("content-type"), Some("text/event-stream"));
    assert_eq!(head.get("cache-control"), Some("no-cache, no-transform"));
    assert_eq!(head.get("x-accel-buffering"), Some("no"));
    assert_eq!(head.get("transfer-encoding"), Some("chunked"));
    let set_cookie = head
        .get("set-cookie")
        .expect("a new session's cookie")
        .to_string();
    assert!(set_cookie.starts_with("headway_session="), "{set_cookie}");
    let opening = raw.read_until(|t| t.contains("event: snapshot")).await;
    assert!(opening.starts_with("retry: "), "{opening}");

    // The router sets the same cookie for a new session.
    let resp = reqwest::get(format!("{}/api/v1/kinds", server.base))
        .await
        .unwrap();
    let routed = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert_eq!(cookie_attributes(&set_cookie), cookie_attributes(&routed));

    // The session is a real one: a job created through the router with it is on this stream.
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/api/v1/jobs", server.base))
        .header("cookie", cookie_pair(&set_cookie))
        .json(&json!({"kind": "demo", "params": {"steps": 3, "interval_ms": 10}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("job id").to_string();
    let text = raw.read_until(|t| t.contains("event: done")).await;
    assert!(text.contains(&id), "{text}");

    // With its cookie, a second stream belongs to the same user and sets no new cookie.
    let mut again = Raw::connect(&server).await;
    again
        .send(&format!(
            "GET /api/v1/events HTTP/1.1\r\nCookie: {}\r\n\r\n",
            cookie_pair(&set_cookie)
        ))
        .await;
    let head = again.head().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.get("set-cookie"), None);
    let snapshot = again.read_until(|t| t.contains("event: snapshot")).await;
    assert!(snapshot.contains(&id), "{snapshot}");
}

#[tokio::test]
async fn a_stream_after_another_request_on_the_connection_is_served_alike() {
    let server = TestServer::start("direct-keepalive");
    let mut raw = Raw::connect(&server).await;
    raw.send("GET /api/v1/kinds HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let head = raw.head().await;
    assert_eq!(head.status, 200);
    let cookie = cookie_pair(head.get("set-cookie").unwrap());
    let length: usize = head.get("content-length").unwrap().parse().unwrap();
    raw.body(length).await;

    raw.send(&format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"
    ))
    .await;
    let head = raw.head().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.get("content-type"), Some("text/event-stream"));
    assert_eq!(head.get("cache-control"), Some("no-cache, no-transform"));
    let opening = raw.read_until(|t| t.contains("event: snapshot")).await;
    assert!(opening.starts_with("retry: "), "{opening}");
}

#[tokio::test]
async fn stream_requests_it_does_not_serve_get_the_routers_answers() {
    let server = TestServer::start("direct-errors");
    // A malformed cursor: the router's 400, with its message.
    let mut raw = Raw::connect(&server).await;
    raw.send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: soon\r\n\r\n")
        .await;
    let head = raw.head().await;
    assert_eq!(head.status, 400);
    let length: usize = head.get("content-length").unwrap().parse().unwrap();
    let body: Value = serde_json::from_slice(&raw.body(length).await).unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("Last-Event-ID"),
        "{body}"
    );

    // Another method on the same path: the router's 405, not a stream.
    let mut raw = Raw::connect(&server).await;
    raw.send("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .await;
    assert_eq!(raw.head().await.status, 405);

    // A request head sent in pieces is still a stream.
    let mut raw = Raw::connect(&server).await;
    raw.send("GET /api/v1/ev").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    raw.send("ents?last_event_id=0 HTTP/1.1\r\nHo").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    raw.send("st: x\r\n\r\n").await;
    assert_eq!(raw.head().await.status, 200);
    raw.read_until(|t| t.contains("event: snapshot")).await;
}

#[tokio::test]
async fn shutdown_ends_every_stream_read_or_not() {
    let server = TestServer::start("direct-shutdown");
    // A stream that is never read while its user's job writes events to it.
    let mut idle = Raw::connect(&server).await;
    idle.send("GET /api/v1/events HTTP/1.1\r\n\r\n").await;
    let head = idle.head().await;
    assert_eq!(head.status, 200);
    let cookie = cookie_pair(head.get("set-cookie").unwrap());
    let status = reqwest::Client::new()
        .post(format!("{}/api/v1/jobs", server.base))
        .header("cookie", &cookie)
        .json(&json!({"kind": "demo", "params": {"steps": 100000, "interval_ms": 0}}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
    // A stream of the same user that is read.
    let mut reader = Raw::connect(&server).await;
    reader
        .send(&format!(
            "GET /api/v1/events HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"
        ))
        .await;
    assert_eq!(reader.head().await.status, 200);
    reader.read_until(|t| t.contains("event: progress")).await;

    let (took, exit) = server.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    assert!(reader.closes().await, "the read stream did not end");
    assert!(idle.closes().await, "the unread stream did not end");
}

/// The server's resident memory, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_idle_stream_costs_a_few_kilobytes() {
    // Through hyper and the router an idle stream holds 20 KiB or more (its read and write
    // buffers alone are 24 KiB); served directly, about 3 KiB. The bound sits between the two.
    const STREAMS: usize = 1000;
    const MAX_KIB_EACH: u64 = 12;
    let server = TestServer::start("direct-memory");
    let mut first = Raw::connect(&server).await;
    first.send("GET /api/v1/events HTTP/1.1\r\n\r\n").await;
    let cookie = cookie_pair(first.head().await.get("set-cookie").unwrap());
    first.read_until(|t| t.contains("event: snapshot")).await;
    let request = format!("GET /api/v1/events HTTP/1.1\r\nCookie: {cookie}\r\n\r\n");
    // Warm up: the first streams grow the allocator's pools and the user's channel.
    let mut streams = Vec::new();
    for _ in 0..100 {
        let mut s = Raw::connect(&server).await;
        s.send(&request).await;
        assert_eq!(s.head().await.status, 200);
        streams.push(s);
    }
    let before = rss_kib(server.pid());
    for _ in 0..STREAMS {
        let mut s = Raw::connect(&server).await;
        s.send(&request).await;
        assert_eq!(s.head().await.status, 200);
        s.read_until(|t| t.contains("event: snapshot")).await;
        streams.push(s);
    }
    let after = rss_kib(server.pid());
    let each = after.saturating_sub(before) / STREAMS as u64;
    println!("{STREAMS} idle streams: RSS {before} KiB -> {after} KiB, {each} KiB each");
    assert!(each <= MAX_KIB_EACH, "{each} KiB per idle stream");
}
