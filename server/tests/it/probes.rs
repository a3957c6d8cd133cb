//! Kept closed: every probe that got through the running server once, replayed against the real
//! thing. Each test is the attack as it was made (from loopback, without credentials unless the
//! probe had them), and says what the server must answer now. Where the probe measured how much
//! it got, the test prints the figure it measures (`cargo test probes -- --nocapture`).
//!
//! - sign-in: attempts counted before the password is checked; password checks a few at a time,
//!   so that a burst of them moves the server's memory little;
//! - hosts: a request for another host (DNS rebinding) is refused before any handler runs;
//! - metrics: labels from fixed sets; a client relayed by a trusted proxy is not local;
//! - sign-in redirects: never to another site, never a 500;
//! - bodies: a body that trickles in is closed with 408, and slow bodies cannot keep ordinary
//!   clients out;
//! - roles: a demotion ends the demoted user's open streams;
//! - shares: each user's share of the queue and of the streams, a bulk re-run bounded by it, a
//!   free slot for the user with the fewest jobs running;
//! - files: a member's jobs open only their own folder (and the shared one); a pipe hangs
//!   nothing;
//! - at rest: files created for this user only, the operator token refused when others could
//!   read or choose it, session ids stored as hashes, nothing stored for visitors without a
//!   cookie;
//! - headers: the policy every page runs under, and that no other site may frame it.

use crate::client::*;
use crate::harness::{app, App};
use futures::future::join_all;
use serde_json::{json, Value};
use server::config::AuthMode;
use std::collections::HashSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "correct horse battery";

/// A server that requires signing in, its streams checking their caller every second.
async fn accounts_app(change: impl FnOnce(&mut server::Config)) -> App {
    app()
        .with(|c| {
            c.auth = Some(AuthMode::Accounts);
            c.keep_alive_secs = 1;
            change(c);
        })
        .start()
        .await
}

/// Adds an account as the holder of the operator token.
async fn add_user(app: &App, name: &str, role: &str) {
    let r = crate::client::http()
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(app.admin_token())
        .json(&json!({"username": name, "password": PASSWORD, "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// A browser signed in as `name`.
async fn signed_in(app: &App, name: &str) -> Session {
    let s = app.session();
    let r = s
        .http
        .post(s.url("/api/v1/session"))
        .json(&json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    s
}

/// Sends a raw HTTP/1.1 request and returns the whole answer (the connection is closed after).
async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

fn header_of<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

// ---------------------------------------------------------------------------------------------
// Sign-in

#[tokio::test]
async fn sign_ins_sent_at_once_are_counted_before_any_password_is_checked() {
    let app = accounts_app(|_| {}).await;
    add_user(&app, "ada", "member").await;
    // 59 wrong passwords and the right one, all at once, for one name.
    let attempts = (0..60).map(|i| {
        let s = app.session();
        let password = if i == 59 { PASSWORD } else { "wrong password" };
        async move {
            s.http
                .post(s.url("/api/v1/session"))
                .json(&json!({"username": "ada", "password": password}))
                .send()
                .await
                .unwrap()
        }
    });
    let answers = join_all(attempts).await;
    let checked = answers.iter().filter(|r| r.status() != 429).count();
    let refused = answers
        .iter()
        .filter(|r| r.status() == 429)
        .collect::<Vec<_>>();
    eprintln!(
        "probe: 60 sign-ins at once for one name: {checked} passwords checked, {} refused unchecked",
        refused.len()
    );
    assert!(
        checked <= server::identity::limiter::PER_ACCOUNT,
        "{checked} passwords were checked"
    );
    for r in refused {
        assert!(r.headers().contains_key("retry-after"));
    }
}

/// The server's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sign_ins_at_once_move_the_servers_memory_little() {
    // A process of its own, whose memory is its own. Each request names another user and, as
    // relayed by a trusted proxy, comes from another address: no limit holds any back, and
    // every one waits for a password check.
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::database(dir.path()).await;
    let server = crate::support::Headway::start(
        &db,
        dir.path(),
        &["--auth", "accounts", "--trusted-proxy", "127.0.0.1"],
        &[],
    );
    let http = crate::client::http();
    // A first check warms up what every check uses.
    let warm = http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({"username": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 401);
    let before = rss_kib(server.pid());
    let pid = server.pid();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = {
        let peak = std::sync::Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let attempts = (0..200).map(|i| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            http.post(format!("{base}/api/v1/session"))
                .header(
                    "x-forwarded-for",
                    format!("10.1.{}.{}", i / 250, i % 250 + 1),
                )
                .json(&json!({"username": format!("nobody{i}"), "password": "wrong"}))
                .send()
                .await
                .unwrap()
        }
    });
    let answers = join_all(attempts).await;
    sampling.abort();
    let grew = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(before);
    let checked = answers.iter().filter(|r| r.status() == 401).count();
    let busy: Vec<_> = answers.iter().filter(|r| r.status() == 503).collect();
    eprintln!(
        "probe: 200 sign-ins at once: RSS {} MiB before, +{} MiB at most; {checked} checked, {} told to come back",
        before / 1024,
        grew / 1024,
        busy.len()
    );
    assert_eq!(
        checked + busy.len(),
        200,
        "every attempt is answered 401 or 503"
    );
    for r in busy {
        assert!(r.headers().contains_key("retry-after"));
    }
    assert!(grew < 128 * 1024, "RSS grew by {} MiB", grew / 1024);
}

#[tokio::test]
async fn someone_failing_from_elsewhere_cannot_lock_a_user_out_of_their_own_address() {
    let app = accounts_app(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    add_user(&app, "ada", "member").await;
    let attempt = |from: &'static str, password: &'static str| {
        let s = app.session();
        async move {
            s.http
                .post(s.url("/api/v1/session"))
                .header("x-forwarded-for", from)
                .json(&json!({"username": "ada", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Ada signs in from home once; then someone elsewhere fails until the name is locked.
    assert_eq!(attempt("192.0.2.10", PASSWORD).await, 200);
    for _ in 0..server::identity::limiter::PER_ACCOUNT {
        assert_eq!(attempt("203.0.113.66", "guess").await, 401);
    }
    assert_eq!(attempt("203.0.113.66", PASSWORD).await, 429);
    assert_eq!(
        attempt("198.51.100.7", PASSWORD).await,
        429,
        "locked elsewhere"
    );
    // From home, ada still signs in.
    assert_eq!(attempt("192.0.2.10", PASSWORD).await, 200);
}

// ---------------------------------------------------------------------------------------------
// Hosts

#[tokio::test]
async fn a_request_for_another_host_is_refused_before_any_handler_runs() {
    let app = app().start().await;
    let port = app.addr.port();
    let evil = format!("rebind.evil.example:{port}");
    let body = r#"{"kind":"demo","params":{"steps":1,"interval_ms":1}}"#;
    let post = |host: &str| {
        format!(
            "POST /api/v1/jobs HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let refused = raw(app.addr, &post(&evil)).await;
    eprintln!(
        "probe: POST /api/v1/jobs for host {evil}: {}",
        status_of(&refused)
    );
    assert_eq!(status_of(&refused), 421, "{refused}");
    assert!(refused.contains("rebind.evil.example"), "{refused}");
    for path in [
        "/api/v1/events",
        "/metrics",
        "/system",
        "/",
        "/api/v1/events/poll",
    ] {
        let get = format!("GET {path} HTTP/1.1\r\nHost: {evil}\r\nConnection: close\r\n\r\n");
        assert_eq!(status_of(&raw(app.addr, &get).await), 421, "{path}");
    }
    // The names of this machine are answered, on any port.
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".to_string(),
    ] {
        assert_eq!(status_of(&raw(app.addr, &post(&host)).await), 201, "{host}");
    }
    // A name the operator gives is answered too.
    let named = crate::harness::app()
        .with(|c| c.allowed_hosts = vec!["jobs.example.com".into()])
        .start()
        .await;
    assert_eq!(
        status_of(&raw(named.addr, &post("jobs.example.com")).await),
        201
    );
    assert_eq!(status_of(&raw(named.addr, &post(&evil)).await), 421);
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// The series of `/metrics` (its sample lines).
async fn series(base: &str) -> HashSet<String> {
    let text = crate::client::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(name, _)| name.to_string()))
        .collect()
}

#[tokio::test]
async fn made_up_methods_add_no_series_to_the_metrics() {
    let app = app().start().await;
    let http = crate::client::http();
    // Every series a made-up method could land in exists once it has been seen.
    let warm = reqwest::Method::from_bytes(b"WARMUP").unwrap();
    for path in ["/api/v1/jobs", "/nowhere", "/metrics"] {
        http.request(warm.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
    }
    // ...as has a scrape itself.
    series(&app.base).await;
    let before = series(&app.base).await;
    for i in 0..300 {
        let method = reqwest::Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
        let path = ["/api/v1/jobs", "/nowhere", "/metrics"][i % 3];
        http.request(method, format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
    }
    let after = series(&app.base).await;
    let added: Vec<&String> = after.difference(&before).collect();
    eprintln!(
        "probe: 300 requests with made-up methods: {} series before, {} after",
        before.len(),
        after.len()
    );
    assert!(
        added.iter().all(|s| !s.contains("PROBE")),
        "a method became a label: {added:?}"
    );
    assert!(added.is_empty(), "{} series added: {added:#?}", added.len());
}

#[tokio::test]
async fn behind_a_trusted_proxy_a_remote_client_is_not_local() {
    let app = app()
        .with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()])
        .start()
        .await;
    let http = crate::client::http();
    let metrics = |forwarded: Option<&'static str>| {
        let mut req = http.get(format!("{}/metrics", app.base));
        if let Some(client) = forwarded {
            req = req.header("x-forwarded-for", client);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(metrics(Some("203.0.113.9")).await, 401);
    assert_eq!(metrics(Some("127.0.0.1")).await, 200);
    assert_eq!(
        metrics(None).await,
        200,
        "the proxy itself is on this machine"
    );
    // The operator's view follows the same rule.
    let system = http
        .post(format!("{}/api/system", app.base))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(system.status(), 403);
}

// ---------------------------------------------------------------------------------------------
// Redirects after signing in

#[tokio::test]
async fn signing_in_never_sends_the_browser_to_another_site() {
    let app = accounts_app(|_| {}).await;
    add_user(&app, "ada", "member").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (next, to) in [
        ("/%09/evil.example", "/"),
        ("/%0A/x", "/"),
        ("/%0D%0A/evil.example", "/"),
        ("/%5C/evil.example", "/"),
        ("//evil.example", "/"),
        ("/jobs?status=failed", "/jobs?status=failed"),
    ] {
        let body = format!("username=ada&password=correct+horse+battery&next={next}");
        let r = http
            .post(format!("{}/signin", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "next={next}");
        assert_eq!(
            r.headers().get("location").unwrap().to_str().unwrap(),
            to,
            "next={next}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// Opens a connection that sends a request head promising a body, and its first byte.
async fn slow_body(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{",
        addr.port()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_closed() {
    let app = app().with(|c| c.body_timeout_secs = 2).start().await;
    let mut tcp = slow_body(app.addr).await;
    // It sends a byte now and then, but will not finish within the deadline.
    let mut answer = Vec::new();
    let read = async {
        tcp.read_to_end(&mut answer).await.unwrap();
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the server closed the connection");
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert_eq!(header_of(&answer, "connection"), Some("close"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_on_every_connection_leave_room_for_ordinary_clients() {
    const SLOTS: usize = 200;
    let app = app()
        .with(|c| c.max_connections = Some(SLOTS as u64))
        .start()
        .await;
    // Every connection the server allows, each sending its body a byte at a time.
    let mut slow = Vec::new();
    for _ in 0..SLOTS {
        slow.push(slow_body(app.addr).await);
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.open_connections() < SLOTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow clients are not all in"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // They have been trickling for a while, as a slow-body attack does.
    for _ in 0..3 {
        for tcp in &mut slow {
            let _ = tcp.write_all(b" ").await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut answered = 0;
    for _ in 0..20 {
        let r = http
            .get(format!("{}/api/v1/kinds", app.base))
            .send()
            .await
            .unwrap();
        answered += (r.status() == 200) as usize;
    }
    eprintln!(
        "probe: {SLOTS} slow bodies on {SLOTS} connection slots: {answered} of 20 ordinary requests answered"
    );
    assert_eq!(answered, 20);
    // The slow clients that made room were told why.
    let mut told = 0;
    for mut tcp in slow {
        let mut answer = vec![0u8; 256];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1), tcp.read(&mut answer)).await
        {
            told += String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408") as usize;
        }
    }
    assert!(told >= 1, "no slow client was answered 408");
}

// ---------------------------------------------------------------------------------------------
// Roles

#[tokio::test]
async fn a_demotion_ends_the_demoted_users_open_streams() {
    let app = accounts_app(|c| c.keep_alive_secs = 15).await;
    add_user(&app, "otto", "operator").await;
    add_user(&app, "mia", "member").await;
    let otto = signed_in(&app, "otto").await;
    let token = otto
        .http
        .post(otto.url("/api/v1/tokens"))
        .json(&json!({"name": "cli", "scope": "read"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let by_cookie = otto.stream("/api/v1/events", None).await;
    let by_token = crate::client::http()
        .get(format!("{}/api/v1/events", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (by_cookie.status().as_u16(), by_token.status().as_u16()),
        (200, 200)
    );
    let mia = signed_in(&app, "mia").await;
    mia.demo(100_000, 20).await;
    // Otto is made a member: what his streams may carry changes, so they end (at once, not at
    // the next keep-alive, 15 s away).
    let demoted = crate::client::http()
        .patch(format!("{}/api/v1/users/otto", app.base))
        .bearer_auth(app.admin_token())
        .json(&json!({"role": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), 204);
    for (how, stream) in [("cookie", by_cookie), ("token", by_token)] {
        let ended = tokio::time::timeout(Duration::from_secs(10), stream.bytes()).await;
        assert!(
            ended.is_ok(),
            "otto's {how} stream went on after his demotion"
        );
    }
    // A new stream is a member's: mia's jobs are not on it.
    let (status, page) = otto.get("/api/v1/jobs").await;
    assert_eq!((status, page["jobs"].as_array().unwrap().len()), (200, 0));
}

// ---------------------------------------------------------------------------------------------
// Shares

/// Starts a demo job; its answer's status and body.
async fn try_demo(s: &Session, steps: u64) -> (u16, Value) {
    s.create("demo", json!({"steps": steps, "interval_ms": 20}))
        .await
}

#[tokio::test]
async fn a_user_queues_at_most_their_share_and_others_are_not_held_back() {
    const SHARE: u64 = 30;
    let app = app()
        .with(|c| {
            c.max_running = 1;
            c.max_queued_per_user = SHARE;
        })
        .start()
        .await;
    let flood = app.session();
    let running = flood.demo(100_000, 20).await;
    // Three times the share, all at once.
    let answers = join_all((0..SHARE * 3).map(|_| try_demo(&flood, 1))).await;
    let accepted = answers.iter().filter(|(s, _)| *s == 201).count() as u64;
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    eprintln!(
        "probe: {} jobs started at once by one user with a share of {SHARE}: {accepted} queued, {} refused",
        SHARE * 3,
        refused.len()
    );
    assert_eq!(accepted, SHARE);
    assert_eq!(accepted + refused.len() as u64, SHARE * 3);
    assert!(refused[0]["message"].as_str().unwrap().contains("waiting"));
    // Someone else still starts a job.
    assert_eq!(try_demo(&app.session(), 1).await.0, 201);
    // A bulk re-run that would pass the share is refused whole: nothing more is queued.
    let before = flood.list("status=queued&limit=200").await.1["jobs"]
        .as_array()
        .unwrap()
        .len();
    let r = flood
        .http
        .post(flood.url("/api/v1/jobs/rerun"))
        .json(&json!({"filter": {"status": "queued"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let after = flood.list("status=queued&limit=200").await.1["jobs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    flood.cancel(&running).await;
}

#[tokio::test]
async fn a_user_holds_at_most_their_share_of_streams() {
    let app = app().with(|c| c.max_streams_per_user = 5).start().await;
    let s = app.session();
    let mut open = Vec::new();
    for _ in 0..5 {
        let r = s.stream("/api/v1/events", None).await;
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let refused = s.stream("/api/v1/events", None).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let (status, _) = s.get("/api/v1/events/poll?after=0&timeout_ms=1").await;
    assert_eq!(status, 429, "long polls count too");
    // Another user is not held back; and a stream that ends gives its place back.
    assert_eq!(
        app.session().stream("/api/v1/events", None).await.status(),
        200
    );
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = s.stream("/api/v1/events", None).await;
        if r.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// When `id` started, from the API.
async fn started_at(s: &Session, id: &str) -> i64 {
    s.job(id).await["started_at"].as_i64().expect("it started")
}

#[tokio::test]
async fn a_flood_of_one_users_jobs_delays_anothers_by_at_most_one_slot() {
    const FLOOD: usize = 30;
    let app = app()
        .with(|c| {
            c.max_running = 2;
            c.max_running_per_user = Some(2);
        })
        .start()
        .await;
    let ann = app.session();
    let bob = app.session();
    // Ann fills both slots with long jobs, then queues many short ones; then Bob queues one.
    let long = [ann.demo(100_000, 20).await, ann.demo(100_000, 20).await];
    let mut queued = Vec::new();
    for _ in 0..FLOOD {
        queued.push(ann.demo(1, 1).await);
    }
    let bobs = bob.demo(1, 1).await;
    assert_eq!(
        bob.job(&bobs).await["queue_position"],
        1,
        "Bob's job is next in line"
    );
    // A slot frees: it goes to Bob, who has nothing running, before any of Ann's queued jobs.
    ann.cancel(&long[0]).await;
    let finished = bob.wait_finished(&bobs).await;
    assert_eq!(finished["status"], "succeeded");
    let bob_started = started_at(&bob, &bobs).await;
    let mut before_bob = 0;
    for id in &queued {
        let job = ann.job(id).await;
        if job["started_at"].as_i64().is_some_and(|t| t < bob_started) {
            before_bob += 1;
        }
    }
    eprintln!(
        "probe: another user's job behind {FLOOD} queued jobs of one user: {before_bob} of them started first"
    );
    assert!(before_bob <= 1, "{before_bob} of Ann's jobs went first");
    ann.cancel(&long[1]).await;
}

#[tokio::test]
async fn one_user_cannot_take_every_slot_with_long_jobs() {
    // The defaults: 16 slots, three quarters of them at most for one user.
    let app = app().start().await;
    let ann = app.session();
    let mut long = Vec::new();
    for _ in 0..16 {
        long.push(ann.demo(100_000, 20).await);
    }
    let bob = app.session();
    let mut events = bob.events("/api/v1/events", None).await;
    let bobs = bob.demo(1, 1).await;
    // Bob's job starts at once, without any of Ann's ending.
    read_until(&mut events, is_done_of(&bobs)).await;
    let running = ann.list("status=running&limit=50").await.1["jobs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(running, 12, "Ann runs her share");
    for id in long {
        ann.cancel(&id).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Files

#[tokio::test]
async fn a_members_jobs_open_only_their_own_folder_and_the_shared_one() {
    let app = accounts_app(|_| {}).await;
    add_user(&app, "ada", "member").await;
    add_user(&app, "bob", "member").await;
    add_user(&app, "otto", "operator").await;
    let root = app.data_root();
    std::fs::create_dir_all(root.join("users/ada")).unwrap();
    std::fs::create_dir_all(root.join("shared")).unwrap();
    std::fs::write(root.join("users/ada/orders.csv"), "id,name\n1,a\n").unwrap();
    std::fs::write(root.join("shared/rates.csv"), "id,rate\n1,2\n").unwrap();
    std::fs::write(root.join("top-secret.txt"), "secret").unwrap();
    let (ada, bob, otto) = (
        signed_in(&app, "ada").await,
        signed_in(&app, "bob").await,
        signed_in(&app, "otto").await,
    );
    // Ada imports her file into her own database; she reads the shared one.
    let (status, job) = ada
        .create(
            "import_csv",
            json!({"file": "orders.csv", "table": "orders"}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(
        ada.wait_finished(job["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
    assert!(root.join("users/ada/imports.db").exists());
    let (status, _) = ada
        .create(
            "import_csv",
            json!({"file": "shared/rates.csv", "table": "rates"}),
        )
        .await;
    assert_eq!(status, 201);
    // Bob reaches neither Ada's files nor the data folder's, nor writes into the shared one.
    for (params, field, says) in [
        (
            json!({"file": "../ada/orders.csv", "table": "t"}),
            "file",
            "`..`",
        ),
        (
            json!({"file": "orders.csv", "table": "t"}),
            "file",
            "does not exist",
        ),
        (
            json!({"file": "top-secret.txt", "table": "t"}),
            "file",
            "does not exist",
        ),
        (
            json!({"file": "shared/rates.csv", "table": "t", "database": "shared/x.db"}),
            "database",
            "may only read",
        ),
    ] {
        let (status, e) = bob.create("import_csv", params.clone()).await;
        assert_eq!(status, 422, "{params}: {e}");
        let message = e["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{params}: {e}"))["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(says), "{params}: {message}");
    }
    // Bob's checksum of "everything" is of his own folder only.
    let (status, job) = bob.create("checksum", json!({"dir": "."})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    assert_eq!(bob.wait_finished(id).await["status"], "succeeded");
    let lines: Vec<String> = bob
        .log(id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("orders") && !l.contains("secret")),
        "{lines:?}"
    );
    // An operator sees the whole data folder.
    let (status, job) = otto.create("checksum", json!({"dir": "."})).await;
    assert_eq!(status, 201);
    let id = job["id"].as_str().unwrap();
    otto.wait_finished(id).await;
    let lines: Vec<String> = otto
        .log(id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect();
    assert!(
        lines.iter().any(|l| l.ends_with("  top-secret.txt")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_pipe_among_the_files_hangs_nothing() {
    let app = app().start().await;
    let root = app.data_root();
    std::fs::create_dir_all(root.join("tree")).unwrap();
    std::fs::write(root.join("tree/a.txt"), "hello").unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("tree/pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let s = app.session();
    let (status, job) = s.create("checksum", json!({"dir": "tree"})).await;
    assert_eq!(status, 201, "{job}");
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded");
    // And as a CSV file, it is refused at once.
    let (status, e) = s
        .create("import_csv", json!({"file": "tree/pipe", "table": "t"}))
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("not a regular file"));
    let (status, _) = s.get("/healthz").await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// At rest

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn what_the_server_creates_is_its_users_alone() {
    if crate::harness::on_postgres() {
        return; // about files next to a SQLite database
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let app = app()
        .with(|c| {
            c.database_url = format!("sqlite://{}/headway.db", data.display());
            c.data_root = data.join("files");
        })
        .start()
        .await;
    app.session().demo(1, 1).await;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("files")), 0o700);
    for file in [
        "headway.db",
        "headway.db-wal",
        "headway.db-shm",
        "headway.db.lock",
        "admin.token",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
}

#[tokio::test]
async fn an_operator_token_others_could_read_or_choose_stops_the_server() {
    if crate::harness::on_postgres() {
        return; // the token file is a SQLite database's companion
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/headway.db", tmp.path().display());
    let token = tmp.path().join("admin.token");
    std::fs::write(&token, "chosen-by-someone-else").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut config = server::Config::for_tests(url);
    config.data_root = tmp.path().join("files");
    let refused = match server::Server::start(config).await {
        Ok(_) => panic!("the server started with a token anyone may write"),
        Err(e) => e.to_string(),
    };
    assert_eq!(refused.lines().count(), 1, "{refused}");
    assert!(refused.contains("admin.token"), "{refused}");
    assert!(refused.contains("read or written by others"), "{refused}");
}

#[tokio::test]
async fn session_ids_are_stored_as_hashes_and_visitors_store_nothing() {
    let app = accounts_app(|_| {}).await;
    add_user(&app, "ada", "member").await;
    let s = app.session();
    let r = s
        .http
        .post(s.url("/api/v1/session"))
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("headway_session=")
        .to_string();
    let store = app.engine().store();
    assert!(
        store.load_session(&cookie).await.unwrap().is_none(),
        "the cookie's value is a key of the database"
    );
    let id: tower_sessions::session::Id = cookie.parse().unwrap();
    let stored = server::identity::sessions::stored_id(&id);
    let row = store
        .load_session(&stored)
        .await
        .unwrap()
        .expect("stored under its hash");
    assert!(
        !String::from_utf8_lossy(&row.data).contains(&cookie),
        "the id is in the stored data"
    );

    // An open server stores nothing for requests without a cookie.
    let open = crate::harness::app().start().await;
    let before = open.engine().store().session_count().await.unwrap();
    for _ in 0..200 {
        crate::client::get(format!("{}/api/v1/kinds", open.base))
            .await
            .unwrap();
    }
    let after = open.engine().store().session_count().await.unwrap();
    eprintln!(
        "probe: 200 requests without a cookie on an open server: {} sessions stored",
        after - before
    );
    assert_eq!(after, before);
}

// ---------------------------------------------------------------------------------------------
// Headers

#[tokio::test]
async fn every_answer_says_how_a_browser_may_use_it() {
    let app = app().start().await;
    let page = crate::client::get(format!("{}/", app.base)).await.unwrap();
    let h = page.headers().clone();
    let policy = h["content-security-policy"].to_str().unwrap().to_string();
    let html = page.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce in the page's policy");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the loader carries it"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        !policy.contains("script-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(h[name], value, "{name}");
    }
    // A second page gets another nonce; an answer that is no page runs nothing.
    let again = crate::client::get(format!("{}/", app.base)).await.unwrap();
    assert_ne!(
        again.headers()["content-security-policy"],
        h["content-security-policy"]
    );
    let api = crate::client::get(format!("{}/api/v1/kinds", app.base))
        .await
        .unwrap();
    assert!(api.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
}
