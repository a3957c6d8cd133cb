//! Webhooks: Headway POSTs to a URL when a job ends. Each test runs a real receiver on
//! loopback (allowed with `--webhook-allow-private`) that records what reaches it and answers as
//! the test says: a signature that checks out, a receiver that fails and then answers, one that
//! fails for the whole retry period, a process killed mid-delivery, the refusal of private
//! addresses, who may do what, and a flood of tests.

use crate::client::*;
use crate::harness::{app, App};
use crate::support::{database, Headway};
use crate::team::{add_user, signed_in};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// What the receiver does with the `n`th request (from 0).
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// Never answers (until the test ends).
    Hang,
    /// Answers 200 once the test releases it ([`Receiver::release`]).
    Hold,
}

/// One request that reached the receiver.
#[derive(Clone, Debug)]
pub struct Got {
    headers: HeaderMap,
    body: Bytes,
}

impl Got {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// How the receiver answers each request, by its number.
type Script = Box<dyn Fn(usize) -> Answer + Send>;

/// A receiver on loopback: its URL, what reached it, and how it answers.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Got>>>,
    arrived: Arc<Notify>,
    script: Arc<Mutex<Script>>,
    /// Closed to release the requests held.
    gate: Arc<tokio::sync::Semaphore>,
    /// Requests held now.
    held: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a held request for as long as it is held (its connection may be cut).
struct Holding(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Holding {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Receiver {
    pub async fn start(script: impl Fn(usize) -> Answer + Send + 'static) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            got: Arc::default(),
            arrived: Arc::default(),
            script: Arc::new(Mutex::new(Box::new(script))),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
            held: Arc::default(),
        };
        let r = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let r = r.clone();
                async move {
                    let answer = {
                        let mut got = r.got.lock().unwrap();
                        got.push(Got { headers, body });
                        (r.script.lock().unwrap())(got.len() - 1)
                    };
                    let holding = matches!(answer, Answer::Hold).then(|| {
                        r.held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        Holding(Arc::clone(&r.held))
                    });
                    r.arrived.notify_waiters();
                    match answer {
                        Answer::Status(s) => StatusCode::from_u16(s).unwrap(),
                        Answer::Hang => std::future::pending().await,
                        Answer::Hold => {
                            let _ = r.gate.acquire().await;
                            drop(holding);
                            StatusCode::OK
                        }
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// Answers every request from now on as `answer`.
    fn answer(&self, answer: Answer) {
        *self.script.lock().unwrap() = Box::new(move |_| answer);
    }

    /// How many requests are held now.
    pub fn held(&self) -> usize {
        self.held.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Answers every request held, and every one to come.
    pub fn release(&self) {
        self.gate.close();
    }

    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` requests have arrived.
    pub async fn until(&self, n: usize) -> Vec<Got> {
        tokio::time::timeout(WAIT, async {
            loop {
                let arrived = self.arrived.notified();
                if self.got.lock().unwrap().len() >= n {
                    return self.got();
                }
                arrived.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} requests never arrived: {:?}", self.got().len()))
    }
}

/// A server whose webhooks may reach loopback, retrying for `retry_secs`.
async fn server(retry_secs: u64) -> App {
    app()
        .with(|c| {
            c.webhook_allow_private = true;
            c.webhook_retry_secs = retry_secs;
        })
        .start()
        .await
}

async fn send(
    s: &Session,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = s.http.request(method, s.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Registers a webhook as `s`; its id.
pub async fn register(s: &Session, body: Value) -> String {
    let (status, created) = send(s, reqwest::Method::POST, "/api/v1/webhooks", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["webhook"]["id"].as_str().unwrap().to_string()
}

/// `GET /api/v1/webhooks/{id}`.
async fn detail(s: &Session, id: &str) -> Value {
    let (status, detail) = s.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    detail
}

/// Polls the webhook (bounded) until `done` says it is as wanted.
pub async fn webhook_when(s: &Session, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = detail(s, id).await;
        if done(&d) {
            return d;
        }
        assert!(tokio::time::Instant::now() < deadline, "never came: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `got` is signed with `secret` as the docs say: `t=<secs>,v1=<hex HMAC-SHA256 of
/// "<secs>.<body>">`, computed here from the bytes that arrived.
fn signed_with(got: &Got, secret: &str) -> bool {
    let header = got.header("headway-signature");
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&got.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    expected == v1 && (now - t.parse::<i64>().unwrap()).abs() < 300
}

#[tokio::test]
async fn a_job_end_is_delivered_signed_to_each_webhook_that_hears_of_it_and_to_no_other() {
    let app = server(86_400).await;
    let s = app.session();
    let receiver = Receiver::start(|_| Answer::Status(204)).await;
    let slack = Receiver::start(|_| Answer::Status(200)).await;
    let secret = "a-secret-of-thirty-two-characters";
    let hears = register(
        &s,
        json!({"url": receiver.url, "statuses": ["succeeded"], "kinds": ["demo"], "secret": secret}),
    )
    .await;
    let deaf = register(&s, json!({"url": receiver.url, "statuses": ["failed"]})).await;
    let chat = register(&s, json!({"url": slack.url, "format": "slack"})).await;
    // Another user's job is none of these webhooks' business.
    let other = app.session();
    let theirs = other.demo(2, 1).await;
    other.wait_finished(&theirs).await;
    let job = s.demo(2, 1).await;
    s.wait_finished(&job).await;

    let got = receiver.until(1).await;
    assert!(signed_with(&got[0], secret), "{:?}", got[0].headers);
    assert!(!signed_with(&got[0], "another-secret-of-32-characters!!"));
    let body = got[0].json();
    assert_eq!(body["event"], "job.ended");
    assert_eq!(body["job"]["id"], job.as_str());
    assert_eq!(body["job"]["kind"], "demo");
    assert_eq!(body["job"]["status"], "succeeded");
    assert!(body["job"]["finished_at"].is_i64());
    assert_eq!(body["job"]["url"], format!("{}/jobs/{job}", app.base));
    assert_eq!(
        got[0].header("headway-delivery"),
        body["id"].as_str().unwrap()
    );
    assert_eq!(got[0].header("headway-event"), "job.ended");
    assert_eq!(got[0].header("content-type"), "application/json");
    let delivered = webhook_when(&s, &hears, |d| d["deliveries"][0]["state"] == "delivered").await;
    assert_eq!(
        delivered["deliveries"].as_array().unwrap().len(),
        1,
        "{delivered}"
    );
    assert_eq!(delivered["deliveries"][0]["last_status"], 204);
    assert_eq!(delivered["deliveries"][0]["attempts"], 1);
    // Deliveries are stored with the end they tell of: the one that does not hear of it has
    // none, now that the job has ended.
    assert_eq!(detail(&s, &deaf).await["deliveries"], json!([]));

    let chat_got = slack.until(1).await;
    let text = chat_got[0].json()["text"].as_str().unwrap().to_string();
    assert!(
        text.contains(&format!("<{}/jobs/{job}|demo> succeeded", app.base)),
        "{text}"
    );
    assert_eq!(
        detail(&s, &chat).await["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_receiver_that_fails_then_answers_gets_the_same_delivery_until_it_does() {
    // Retried for a minute: the first retry after 600 ms, doubling.
    let app = server(60).await;
    let s = app.session();
    let receiver = Receiver::start(|n| match n {
        0 => Answer::Status(500),
        1 => Answer::Status(503),
        _ => Answer::Status(200),
    })
    .await;
    let hook = register(&s, json!({"url": receiver.url})).await;
    let job = s.demo(1, 1).await;
    s.wait_finished(&job).await;

    let got = receiver.until(3).await;
    let ids: Vec<String> = got.iter().map(|g| g.header("headway-delivery")).collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert_eq!(got[0].json(), got[2].json(), "the same body every time");
    // A success ends the failing (the webhook and its deliveries are two reads: both, then).
    let d = webhook_when(&s, &hook, |d| {
        d["deliveries"][0]["state"] == "delivered" && d["webhook"]["failing_since"].is_null()
    })
    .await;
    let delivery = &d["deliveries"][0];
    assert_eq!(delivery["attempts"], 3, "{d}");
    assert_eq!(delivery["last_status"], 200);
    assert_eq!(d["webhook"]["enabled"], true);
}

#[tokio::test]
async fn a_webhook_failing_for_the_whole_retry_period_is_disabled_and_says_so_until_enabled() {
    let app = server(3).await;
    let s = app.session();
    let receiver = Receiver::start(|_| Answer::Status(503)).await;
    let hook = register(&s, json!({"url": receiver.url})).await;
    let job = s.demo(1, 1).await;
    s.wait_finished(&job).await;

    let d = webhook_when(&s, &hook, |d| d["webhook"]["enabled"] == false).await;
    let reason = d["webhook"]["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("failed for 3 s"), "{reason}");
    assert!(reason.contains("503"), "{reason}");
    let delivery = &d["deliveries"][0];
    assert_eq!(delivery["state"], "failed", "{d}");
    assert!(delivery["attempts"].as_u64().unwrap() >= 1, "{d}");
    let delivery_id = delivery["id"].as_str().unwrap().to_string();
    // Disabled, it refuses tests and resends until it is enabled again.
    let (status, _) = s.post(&format!("/api/v1/webhooks/{hook}/test")).await;
    assert_eq!(status, 409);

    receiver.answer(Answer::Status(200));
    let (status, enabled) = send(
        &s,
        reqwest::Method::PATCH,
        &format!("/api/v1/webhooks/{hook}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["disabled_reason"], Value::Null);
    let (status, resent) = s
        .post(&format!(
            "/api/v1/webhooks/{hook}/deliveries/{delivery_id}/resend"
        ))
        .await;
    assert_eq!(status, 202, "{resent}");
    let d = webhook_when(&s, &hook, |d| d["deliveries"][0]["state"] == "delivered").await;
    assert_eq!(
        d["deliveries"][0]["id"],
        delivery_id.as_str(),
        "the same delivery id"
    );
    let last = receiver.got().pop().unwrap();
    assert_eq!(last.header("headway-delivery"), delivery_id);
}

#[tokio::test]
async fn a_delivery_cut_off_by_kill_9_is_sent_again_by_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let args = ["--webhook-allow-private"];
    let server = Headway::start(&db, dir.path(), &args, &[]);
    let s = server.session();
    // The first request hangs: the process is killed while it waits for the answer.
    let receiver = Receiver::start(|n| match n {
        0 => Answer::Hang,
        _ => Answer::Status(200),
    })
    .await;
    let hook = register(&s, json!({"url": receiver.url})).await;
    let job = s.demo(1, 1).await;
    s.wait_finished(&job).await;
    let first = receiver.until(1).await;
    server.kill9();

    let server = Headway::start(&db, dir.path(), &args, &[]);
    let s = s.rebase(&server.base);
    let got = receiver.until(2).await;
    assert_eq!(
        got[1].header("headway-delivery"),
        first[0].header("headway-delivery")
    );
    assert_eq!(got[1].json()["job"]["id"], job.as_str());
    let d = webhook_when(&s, &hook, |d| d["deliveries"][0]["state"] == "delivered").await;
    assert_eq!(d["deliveries"].as_array().unwrap().len(), 1, "{d}");
}

#[tokio::test]
async fn private_addresses_and_bad_webhooks_are_refused_with_a_sentence_and_nothing_stored() {
    let app = app().start().await;
    let s = app.session();
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        // IPv6 forms that carry a loopback or private IPv4 address, and 192.0.0.0/24.
        "http://[64:ff9b::7f00:1]:9/hook",
        "http://[64:ff9b:1::a00:1]:9/hook",
        "http://[2002:7f00:1::]:9/hook",
        "http://[::ffff:0:7f00:1]:9/hook",
        "http://[::7f00:1]:9/hook",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:9/hook",
        "http://192.0.0.170/hook",
    ] {
        let (status, e) = send(
            &s,
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url})),
        )
        .await;
        assert_eq!(status, 422, "{url}: {e}");
        let message = e["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains("private"), "{url}: {message}");
    }
    let bad = [
        (json!({"url": "ftp://example.com/x"}), "url", "http"),
        (json!({"url": ""}), "url", "needs"),
        (json!({"url": "https://u:p@example.com/"}), "url", "secret"),
        (
            json!({"url": "https://example.com/", "statuses": ["running"]}),
            "statuses",
            "not an end",
        ),
        (
            json!({"url": "https://example.com/", "kinds": ["nope"]}),
            "kinds",
            "no kind",
        ),
        (
            json!({"url": "https://example.com/", "secret": "short"}),
            "secret",
            "16 to 200",
        ),
    ];
    for (body, field, says) in bad {
        let (status, e) = send(
            &s,
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}: {e}");
        let found = e["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{body}: {e}"));
        assert!(
            found["message"].as_str().unwrap().contains(says),
            "{body}: {e}"
        );
    }
    for body in [
        json!({"url": 7}),
        json!({"url": "https://example.com/", "extra": 1}),
        json!({"url": "https://example.com/", "format": "xml"}),
    ] {
        let (status, e) = send(
            &s,
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(body.clone()),
        )
        .await;
        assert!(status == 422 || status == 400, "{body}: {status} {e}");
        assert!(e["message"].is_string(), "{body}: {e}");
    }
    let (status, list) = s.get("/api/v1/webhooks").await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([]), "nothing was stored");
    let (status, _) = s.get("/api/v1/webhooks/no-such-webhook").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn members_hear_of_their_own_jobs_and_admins_of_everyones() {
    let app = app()
        .with(|c| {
            c.auth = Some(server::config::AuthMode::Accounts);
            c.webhook_allow_private = true;
        })
        .start()
        .await;
    add_user(&app, "ann", "member").await;
    add_user(&app, "bob", "member").await;
    add_user(&app, "vic", "viewer").await;
    add_user(&app, "ada", "admin").await;
    let (ann, bob, vic, ada) = (
        signed_in(&app, "ann").await,
        signed_in(&app, "bob").await,
        signed_in(&app, "vic").await,
        signed_in(&app, "ada").await,
    );
    let receiver = Receiver::start(|_| Answer::Status(200)).await;
    let hook = |scope: &str| json!({"url": receiver.url, "scope": scope});
    let post = |s: &Session, body: Value| {
        let s = s.clone();
        async move {
            send(&s, reqwest::Method::POST, "/api/v1/webhooks", Some(body))
                .await
                .0
        }
    };
    // Nobody signed in, a viewer, and a member asking for everyone's jobs are refused.
    assert_eq!(post(&app.session(), hook("own")).await, 401);
    assert_eq!(post(&vic, hook("own")).await, 403);
    assert_eq!(post(&ann, hook("all")).await, 403);
    let anns = register(&ann, hook("own")).await;
    let adas = register(&ada, hook("all")).await;
    // Bob cannot see, test, change or delete Ann's.
    assert_eq!(bob.get(&format!("/api/v1/webhooks/{anns}")).await.0, 404);
    assert_eq!(
        bob.post(&format!("/api/v1/webhooks/{anns}/test")).await.0,
        404
    );
    let (status, _) = send(
        &bob,
        reqwest::Method::DELETE,
        &format!("/api/v1/webhooks/{anns}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(bob.get("/api/v1/webhooks").await.1, json!([]));
    let (_, all) = ada.get("/api/v1/webhooks").await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let (_, own) = ann.get("/api/v1/webhooks").await;
    assert_eq!(own.as_array().unwrap().len(), 1, "{own}");

    // Bob's job: Ada's webhook hears of it, Ann's does not.
    let job = bob.demo(1, 1).await;
    bob.wait_finished(&job).await;
    let got = receiver.until(1).await;
    assert_eq!(got[0].json()["job"]["id"], job.as_str());
    assert_eq!(
        detail(&ada, &adas).await["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(detail(&ann, &anns).await["deliveries"], json!([]));
    // The admin manages anyone's.
    let (status, _) = send(
        &ada,
        reqwest::Method::DELETE,
        &format!("/api/v1/webhooks/{anns}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(ann.get("/api/v1/webhooks").await.1, json!([]));
}

#[tokio::test]
async fn a_flood_of_tests_or_webhooks_from_one_user_is_refused_and_others_deliveries_go_on() {
    let app = server(86_400).await;
    let (ann, bob) = (app.session(), app.session());
    // Ann's receiver never answers: her tests pile up.
    let slow = Receiver::start(|_| Answer::Hang).await;
    let fast = Receiver::start(|_| Answer::Status(200)).await;
    let anns = register(&ann, json!({"url": slow.url})).await;
    let bobs = register(&bob, json!({"url": fast.url})).await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(ann.post(&format!("/api/v1/webhooks/{anns}/test")).await.0);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        20,
        "{statuses:?}"
    );
    // Bob's job end is delivered all the same.
    let job = bob.demo(1, 1).await;
    bob.wait_finished(&job).await;
    let got = fast.until(1).await;
    assert_eq!(got[0].json()["job"]["id"], job.as_str());
    webhook_when(&bob, &bobs, |d| d["deliveries"][0]["state"] == "delivered").await;
    // Twenty webhooks per user; the twenty-first is refused.
    for _ in 1..20 {
        register(&ann, json!({"url": fast.url})).await;
    }
    let (status, e) = send(
        &ann,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": fast.url})),
    )
    .await;
    assert_eq!(status, 429, "{e}");
    register(&bob, json!({"url": fast.url})).await;
}

/// Whether a Standard Webhooks verifier (the `standardwebhooks` package from PyPI, which
/// `scripts/setup.sh test` installs into `.tools/venv`) accepts `got` with `secret`.
fn verified_by_standard_webhooks(got: &Got, secret: &str) -> bool {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh test",
        python.display()
    );
    let headers: serde_json::Map<String, Value> =
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .into_iter()
            .map(|name| (name.to_string(), Value::String(got.header(name))))
            .collect();
    let script = "import json, sys\n\
                  from standardwebhooks.webhooks import Webhook\n\
                  body = sys.stdin.buffer.read()\n\
                  try:\n    Webhook(sys.argv[1]).verify(body, json.loads(sys.argv[2]))\n\
                  except Exception as e:\n    sys.exit(f'refused: {e}')\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script, secret, &Value::Object(headers).to_string()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run the verifier");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(&got.body).unwrap();
    child.wait().expect("the verifier ends").success()
}

#[tokio::test]
async fn a_delivery_passes_a_standard_webhooks_verifier_and_a_tampered_one_does_not() {
    let app = server(86_400).await;
    let s = app.session();
    let receiver = Receiver::start(|_| Answer::Status(200)).await;
    let (status, created) = send(
        &s,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": receiver.url})),
    )
    .await;
    assert_eq!(status, 201);
    let secret = created["secret"].as_str().unwrap();
    let hook = created["webhook"]["id"].as_str().unwrap();
    let (status, delivery) = s.post(&format!("/api/v1/webhooks/{hook}/test")).await;
    assert_eq!(status, 202, "{delivery}");
    let got = receiver.until(1).await.remove(0);
    assert_eq!(got.header("webhook-id"), delivery["id"].as_str().unwrap());
    assert!(verified_by_standard_webhooks(&got, secret));
    // The verifier is no pushover: another body, or another secret, is refused.
    let mut tampered = got.clone();
    tampered.body = Bytes::from([&got.body[..], b" "].concat());
    assert!(!verified_by_standard_webhooks(&tampered, secret));
    let other = format!("whsec_{}", "0".repeat(64));
    assert!(!verified_by_standard_webhooks(&got, &other));
}

#[tokio::test]
async fn a_test_delivery_reaches_the_receiver_and_is_listed() {
    let app = server(86_400).await;
    let s = app.session();
    let receiver = Receiver::start(|_| Answer::Status(200)).await;
    let (status, created) = send(
        &s,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": receiver.url})),
    )
    .await;
    assert_eq!(status, 201);
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    let hook = created["webhook"]["id"].as_str().unwrap();
    assert!(
        created["webhook"].get("secret").is_none(),
        "the secret is shown once, apart"
    );
    let (status, delivery) = s.post(&format!("/api/v1/webhooks/{hook}/test")).await;
    assert_eq!(status, 202, "{delivery}");
    assert_eq!(delivery["event"], "test");
    let got = receiver.until(1).await;
    assert!(signed_with(&got[0], secret));
    assert_eq!(got[0].json()["event"], "test");
    assert_eq!(
        got[0].header("headway-delivery"),
        delivery["id"].as_str().unwrap()
    );
    let (_, list) = s.get("/api/v1/webhooks").await;
    assert!(list[0].get("secret").is_none(), "{list}");
}

/// Changes the account `name` as the holder of the operator token.
async fn change_user(app: &App, name: &str, change: Value) {
    let r = crate::client::http()
        .patch(format!("{}/api/v1/users/{name}", app.base))
        .bearer_auth(app.admin_token())
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
}

/// The job ids of a webhook's deliveries, newest first, as `s` sees them.
async fn delivered_jobs(s: &Session, hook: &str) -> Vec<Value> {
    detail(s, hook).await["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["job_id"].clone())
        .collect()
}

#[tokio::test]
async fn a_webhook_for_everyones_jobs_hears_only_what_its_owners_account_allows_now() {
    // Retried for an hour: a failed delivery waits 10 s before its next attempt, unless resent.
    let app = app()
        .with(|c| {
            c.auth = Some(server::config::AuthMode::Accounts);
            c.webhook_allow_private = true;
            c.webhook_retry_secs = 3600;
        })
        .start()
        .await;
    add_user(&app, "ada", "admin").await;
    // Another admin, so that Ada may be made a member.
    add_user(&app, "root", "admin").await;
    add_user(&app, "bob", "member").await;
    let (ada, bob) = (signed_in(&app, "ada").await, signed_in(&app, "bob").await);
    let op = Session::with_token(&app.base, &app.admin_token());
    // The first delivery is refused: it stays pending, to be retried.
    let receiver = Receiver::start(|n| match n {
        0 => Answer::Status(500),
        _ => Answer::Status(200),
    })
    .await;
    let hook = register(&ada, json!({"url": receiver.url, "scope": "all"})).await;

    // While Ada is an admin, her webhook hears of Bob's job.
    let first = bob.demo(1, 1).await;
    bob.wait_finished(&first).await;
    receiver.until(1).await;
    let pending = webhook_when(&ada, &hook, |d| d["deliveries"][0]["attempts"] == 1).await;
    assert_eq!(pending["deliveries"][0]["state"], "pending", "{pending}");
    assert_eq!(pending["deliveries"][0]["job_id"], first.as_str());
    let delivery = pending["deliveries"][0]["id"].as_str().unwrap().to_string();

    // Made a member: Bob's next end makes no delivery; her own does.
    change_user(&app, "ada", json!({"role": "member"})).await;
    let second = bob.demo(1, 1).await;
    bob.wait_finished(&second).await;
    let hers = ada.demo(1, 1).await;
    ada.wait_finished(&hers).await;
    let got = receiver.until(2).await;
    assert_eq!(got[1].json()["job"]["id"], hers.as_str());
    assert_eq!(
        delivered_jobs(&op, &hook).await,
        [json!(hers), json!(first)],
        "no delivery for Bob's second job"
    );
    // What was stored for Bob's job while she was an admin is not sent either, even resent.
    let (status, resent) = send(
        &ada,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}/resend"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{resent}");
    let d = webhook_when(&op, &hook, |d| {
        d["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == delivery.as_str() && x["state"] == "failed")
    })
    .await;
    let dropped = d["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == delivery.as_str())
        .unwrap()
        .clone();
    assert!(
        dropped["last_error"]
            .as_str()
            .unwrap()
            .contains("someone else's"),
        "{dropped}"
    );
    assert_eq!(receiver.got().len(), 2, "Bob's job end went out again");
    // Her listing shows her own job's id, never Bob's.
    assert_eq!(
        delivered_jobs(&ada, &hook).await,
        [json!(hers), Value::Null]
    );

    // Disabled: nothing, not even her own job's end.
    let (status, job) = ada.create("external", json!({"title": "hers"})).await;
    assert_eq!(status, 201, "{job}");
    let token = job["report_token"].as_str().unwrap().to_string();
    let job = job["id"].as_str().unwrap().to_string();
    change_user(&app, "ada", json!({"disabled": true})).await;
    let r = op
        .http
        .post(op.url(&format!("/api/v1/jobs/{job}/report")))
        .bearer_auth(&token)
        .json(&json!({"end": {"status": "succeeded"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ended = op.wait_finished(&job).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let theirs = bob.demo(1, 1).await;
    bob.wait_finished(&theirs).await;
    assert_eq!(delivered_jobs(&op, &hook).await.len(), 2, "no new delivery");
}

#[tokio::test]
async fn one_owners_slow_endpoints_and_backlog_do_not_hold_up_anothers_delivery() {
    let app = server(86_400).await;
    let (ann, bob) = (app.session(), app.session());
    // Ann's twenty webhooks answer only when the test says, and 2,000 of her job ends wait.
    let slow = Receiver::start(|_| Answer::Hold).await;
    for _ in 0..20 {
        register(&ann, json!({"url": slow.url})).await;
    }
    for _ in 0..100 {
        let job = ann.demo(1, 1).await;
        ann.wait_finished(&job).await;
    }
    slow.until(1).await;
    let fast = Receiver::start(|_| Answer::Status(200)).await;
    let bobs = register(&bob, json!({"url": fast.url})).await;
    let (status, _) = bob.post(&format!("/api/v1/webhooks/{bobs}/test")).await;
    assert_eq!(status, 202);
    // Bob's test goes out at once, while Ann's requests are still held (a generous bound: the
    // deliverer looks at once, and every second).
    let got = tokio::time::timeout(Duration::from_secs(10), fast.until(1))
        .await
        .unwrap_or_else(|_| panic!("Bob's delivery waited behind Ann's ({} held)", slow.held()));
    assert_eq!(got[0].json()["event"], "test");
    let held = slow.held();
    assert!(held > 0, "Ann's requests were still held");
    assert!(
        held <= 8,
        "no more than the places of one owner are held: {held}"
    );
    slow.release();
    webhook_when(&bob, &bobs, |d| d["deliveries"][0]["state"] == "delivered").await;
}
