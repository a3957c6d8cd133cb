//! Workers on other machines, at the protocol's level (a worker's requests made by hand): a
//! worker token's reach, registering, claims by long poll, reports fenced by the worker and
//! its attempt, routing by tags, draining and disabling, and a worker that stops polling.
//! `headway worker` itself, the program that speaks this protocol, is tested further down.

use crate::client::Session;
use crate::harness::{app, App};
use serde_json::{json, Value};
use std::time::Duration;

/// A worker's commands file: `render` needs a GPU, `resize` does not and is tried twice.
/// Their programs are on the worker's machine, not here.
pub(crate) const COMMANDS: &str = r#"
[[command]]
name = "render"
program = "/opt/worker/render.sh"
requires = ["gpu"]

[[command]]
name = "resize"
program = "/opt/worker/resize.sh"

[command.params.width]
type = "integer"
min = 1
max = 10000

[command.retry]
max_attempts = 2
base = "100ms"

[[command]]
name = "convert"
program = "/opt/worker/convert.sh"

[command.params.input]
type = "file"
"#;

/// A server whose workers are gone after 9 s without a poll (a poll waits 3 s at most), and its
/// operator.
async fn server() -> (App, Session) {
    server_with_lease(9).await
}

/// A server whose workers are gone after `secs` without a poll, and its operator: a short
/// lease for the tests of a worker gone, a long one where a busy machine must not end it.
async fn server_with_lease(secs: u64) -> (App, Session) {
    let app = app().with(|c| c.lease_secs = secs).start().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    (app, op)
}

/// Sends `body` to `path` with `s`'s credentials.
pub(crate) async fn send(
    s: &Session,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = s
        .http
        .request(method, s.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(s: &Session, path: &str, body: Value) -> (u16, Value) {
    send(s, reqwest::Method::POST, path, body).await
}

/// A worker token made by the operator.
pub(crate) async fn worker_token(op: &Session, name: &str) -> String {
    let (status, made) = post(op, "/api/v1/worker-tokens", json!({"name": name})).await;
    assert_eq!(status, 201, "{made}");
    made["token"].as_str().unwrap().to_string()
}

/// A server, its operator, and a worker of `slots` (token "box", no tags) registered by hand.
async fn with_worker(slots: u32) -> (App, Session, Worker) {
    let (app, op) = server().await;
    let token = worker_token(&op, "box").await;
    let w = Worker::register(&app, &token, &[], slots).await;
    (app, op, w)
}

/// Starts a `resize` job of `width` as the operator; its id.
async fn resize(op: &Session, width: u64) -> String {
    let (status, job) = op.create("resize", json!({"width": width})).await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_str().unwrap().to_string()
}

/// A worker speaking the protocol by hand.
struct Worker {
    s: Session,
    id: String,
}

impl Worker {
    async fn register(app: &App, token: &str, tags: &[&str], slots: u32) -> Worker {
        let s = Session::with_token(&app.base, token);
        let (status, hello) = post(
            &s,
            "/api/v1/workers",
            json!({"name": "gpu-1", "host": "gpu-1.lan", "version": "test", "pid": 1,
                   "tags": tags, "max_running": slots, "commands": COMMANDS}),
        )
        .await;
        assert_eq!(status, 201, "{hello}");
        assert_eq!(
            hello["kinds"],
            json!(["render", "resize", "convert"]),
            "{hello}"
        );
        let id = hello["id"].as_str().unwrap().to_string();
        Worker { s, id }
    }

    async fn poll(&self, free: u32, running: &[&str]) -> (u16, Value) {
        post(
            &self.s,
            &format!("/api/v1/workers/{}/poll", self.id),
            json!({"free": free, "running": running}),
        )
        .await
    }

    /// Polls until it is given a job; returns it.
    async fn take(&self) -> Value {
        for _ in 0..30 {
            let (status, reply) = self.poll(1, &[]).await;
            assert_eq!(status, 200, "{reply}");
            if let Some(job) = reply["jobs"].as_array().and_then(|j| j.first()) {
                return job.clone();
            }
        }
        panic!("no job was given in 30 polls");
    }

    async fn report(&self, job: &Value, body: Value) -> (u16, Value) {
        self.report_on(
            job["id"].as_str().unwrap(),
            job["attempt"].as_u64().unwrap(),
            body,
        )
        .await
    }

    /// Reports `job`'s end `end`: the answer's status code and the job's status it gives.
    async fn end(&self, job: &Value, end: Value) -> (u16, Option<String>) {
        let (status, reply) = self.report(job, json!({ "end": end })).await;
        (status, reply["status"].as_str().map(String::from))
    }

    /// Reports that `job` succeeded: the answer's status code.
    async fn succeed(&self, job: &Value) -> u16 {
        self.end(job, json!({"status": "succeeded"})).await.0
    }

    async fn report_on(&self, job: &str, attempt: u64, body: Value) -> (u16, Value) {
        post(
            &self.s,
            &format!(
                "/api/v1/workers/{}/jobs/{job}/report?attempt={attempt}",
                self.id
            ),
            body,
        )
        .await
    }
}

#[tokio::test]
async fn a_worker_takes_a_job_of_its_kinds_and_reports_it_to_its_end() {
    let (app, op) = server().await;
    let token = worker_token(&op, "gpu box").await;
    let w = Worker::register(&app, &token, &["gpu"], 2).await;
    // Its kinds are the server's now: started, checked and shown like any other.
    let (status, kinds) = op.get("/api/v1/kinds").await;
    assert_eq!(status, 200);
    let kind = |name: &str| {
        kinds
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .cloned()
    };
    let (resize, render) = (kind("resize").unwrap(), kind("render").unwrap());
    assert_eq!(
        (resize["on_workers"].as_bool(), resize.get("requires")),
        (Some(true), None),
        "{resize}"
    );
    assert_eq!(
        (render["on_workers"].as_bool(), render["requires"].clone()),
        (Some(true), json!(["gpu"])),
        "{render}"
    );
    assert_eq!(
        kind("demo").unwrap().get("on_workers"),
        None,
        "a kind of the server's own"
    );
    let (status, bad) = op.create("resize", json!({"width": 0})).await;
    assert_eq!(
        (status, bad["fields"][0]["field"].as_str()),
        (422, Some("width")),
        "{bad}"
    );
    let (status, job) = op.create("resize", json!({"width": 640})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let given = w.take().await;
    assert_eq!(
        (given["id"].as_str(), given["kind"].as_str()),
        (Some(id.as_str()), Some("resize")),
        "{given}"
    );
    assert_eq!(
        (
            given["params"]["width"].as_u64(),
            given["attempt"].as_u64(),
            given["log_seq"].as_u64()
        ),
        (Some(640), Some(1), Some(0))
    );
    let (status, reply) = w
        .report(
            &given,
            json!({"progress": 1, "total": 2, "log": [{"seq": 1, "line": "half"}]}),
        )
        .await;
    assert_eq!(
        (status, reply["acked"].as_u64(), reply["status"].as_str()),
        (200, Some(1), Some("running")),
        "{reply}"
    );
    // Sent again (its answer lost): nothing twice.
    let (status, _) = w
        .report(&given, json!({"log": [{"seq": 1, "line": "half"}, {"seq": 2, "line": "done"}], "progress": 2, "result": {"frames": 2}, "end": {"status": "succeeded"}}))
        .await;
    assert_eq!(status, 200);
    let job = op.wait_finished(&id).await;
    assert_eq!(
        (job["status"].as_str(), job["result"]["frames"].as_u64()),
        (Some("succeeded"), Some(2)),
        "{job}"
    );
    let lines: Vec<String> = op
        .log(&id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lines, ["half", "done"]);
    // Ended: a report more is refused.
    let (status, _) = w.report(&given, json!({})).await;
    assert_eq!(status, 409);
    // Listed for operators, with what it runs.
    let (status, workers) = op.get("/api/v1/workers").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            workers[0]["name"].as_str(),
            workers[0]["tags"][0].as_str(),
            workers[0]["slots"].as_u64()
        ),
        (Some("gpu-1"), Some("gpu"), Some(2)),
        "{workers}"
    );
}

#[tokio::test]
async fn a_worker_token_reaches_nothing_but_its_own_work() {
    let (app, op, w) = with_worker(1).await;
    // Anything but a worker's own endpoints: 403.
    for path in [
        "/api/v1/jobs",
        "/api/v1/kinds",
        "/api/v1/workers",
        "/api/v1/me",
        "/api/v1/events",
    ] {
        let (status, _) = w.s.get(path).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = post(&w.s, "/api/v1/jobs", json!({"kind": "demo", "params": {}})).await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &w.s,
        &format!("/api/v1/workers/{}/state", w.id),
        json!({"state": "active"}),
    )
    .await;
    assert_eq!(status, 403);
    // Another job (of a kind it does not run): 404, and nothing is written to it.
    let demo = op.demo(3, 200).await;
    let (status, _) = w
        .report_on(&demo, 1, json!({"log": [{"seq": 1, "line": "forged"}]}))
        .await;
    assert_eq!(status, 404);
    assert!(op.log(&demo).await.iter().all(|l| l["line"] != "forged"));
    // Another token's worker: 404 for its poll.
    let other = worker_token(&op, "other").await;
    let stranger = Session::with_token(&app.base, &other);
    let (status, _) = post(
        &stranger,
        &format!("/api/v1/workers/{}/poll", w.id),
        json!({"free": 1}),
    )
    .await;
    assert_eq!(status, 404);
    // A user of the dashboard may not make worker tokens (an open server's anonymous user is
    // told to sign in as an admin), even as the operator at the machine, who lists and steers
    // workers; a wrong token is 401. (Members may not list them: `authz`.)
    let member = app.session();
    let (status, _) = post(&member, "/api/v1/worker-tokens", json!({"name": "x"})).await;
    assert!(matches!(status, 401 | 403), "{status}");
    let (status, _) = member.get("/api/v1/workers").await;
    assert_eq!(status, 200);
    let forged = Session::with_token(&app.base, "hwk_00000000000000000000000000000000");
    let (status, _) = forged.poll_as(&w.id).await;
    assert_eq!(status, 401);
    // Bad hellos are refused, naming what is wrong.
    for (hello, field) in [
        (
            json!({"name": "", "host": "h", "version": "v", "pid": 1, "max_running": 1, "commands": COMMANDS}),
            "name",
        ),
        (
            json!({"name": "n", "host": "h", "version": "v", "pid": 1, "max_running": 0, "commands": COMMANDS}),
            "max_running",
        ),
        (
            json!({"name": "n", "host": "h", "version": "v", "pid": 1, "tags": ["GPU!"], "max_running": 1, "commands": COMMANDS}),
            "tags",
        ),
        (
            json!({"name": "n", "host": "h", "version": "v", "pid": 1, "max_running": 1, "commands": "[[command]]\nname = \"x\"\n"}),
            "commands",
        ),
    ] {
        let (status, e) = post(&w.s, "/api/v1/workers", hello).await;
        assert_eq!(
            (status, e["fields"][0]["field"].as_str()),
            (422, Some(field)),
            "{e}"
        );
    }
    // A kind of the server's own is not a worker's to declare.
    let (status, e) = post(
        &w.s,
        "/api/v1/workers",
        json!({"name": "n", "host": "h", "version": "v", "pid": 1, "max_running": 1, "commands": "[[command]]\nname = \"demo\"\nprogram = \"/bin/true\"\n"}),
    )
    .await;
    assert_eq!(status, 409, "{e}");
    // A revoked token is refused at once.
    let (_, tokens) = op.get("/api/v1/worker-tokens").await;
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "box")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = send(
        &op,
        reqwest::Method::DELETE,
        &format!("/api/v1/worker-tokens/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = w.poll(1, &[]).await;
    assert_eq!(status, 401);
}

trait PollAs {
    async fn poll_as(&self, worker: &str) -> (u16, Value);
}

impl PollAs for Session {
    async fn poll_as(&self, worker: &str) -> (u16, Value) {
        post(
            self,
            &format!("/api/v1/workers/{worker}/poll"),
            json!({"free": 1}),
        )
        .await
    }
}

#[tokio::test]
async fn a_kind_that_requires_a_tag_waits_for_a_worker_that_offers_it() {
    let (app, op) = server().await;
    let token = worker_token(&op, "box").await;
    let plain = Worker::register(&app, &token, &["eu"], 4).await;
    let (status, job) = op.create("render", json!({})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    // The worker without a GPU is not given it: its poll ends empty.
    let (status, reply) = plain.poll(4, &[]).await;
    assert_eq!(
        (status, reply["jobs"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{reply}"
    );
    let (_, waiting) = op.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(
        (&waiting["waiting_for"], &waiting["requires"]),
        (&json!("tags"), &json!(["gpu"])),
        "{waiting}"
    );
    // One with a GPU is.
    let gpu = Worker::register(&app, &token, &["gpu"], 1).await;
    let given = gpu.take().await;
    assert_eq!(given["id"], id.as_str());
}

#[tokio::test]
async fn a_worker_that_stops_polling_loses_its_job_to_another_attempt_and_its_reports_after() {
    let (app, op) = server_with_lease(3).await;
    let token = worker_token(&op, "box").await;
    let first = Worker::register(&app, &token, &[], 1).await;
    let id = resize(&op, 10).await;
    let given = first.take().await;
    let (status, _) = first
        .report(&given, json!({"log": [{"seq": 1, "line": "attempt 1"}]}))
        .await;
    assert_eq!(status, 200);
    // It goes silent (kill -9, power, network): after the lease, its job is taken back and,
    // its kind allowing two attempts, queued again; another worker takes attempt 2.
    let second = Worker::register(&app, &token, &[], 1).await;
    let again = tokio::time::timeout(Duration::from_secs(30), second.take())
        .await
        .expect("taken back within the lease");
    assert_eq!(
        (
            again["id"].as_str(),
            again["attempt"].as_u64(),
            again["log_seq"].as_u64()
        ),
        (Some(id.as_str()), Some(2), Some(1)),
        "{again}"
    );
    // The first comes back: its report on attempt 1 is refused, and writes nothing.
    let (status, e) = first
        .report(
            &given,
            json!({"log": [{"seq": 2, "line": "stale"}], "end": {"status": "succeeded"}}),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    let (status, e) = first.poll(1, &[&id]).await;
    assert_eq!(
        status, 404,
        "the worker was taken for gone: it registers again: {e}"
    );
    let (status, _) = second
        .report(
            &again,
            json!({"log": [{"seq": 2, "line": "attempt 2"}], "end": {"status": "succeeded"}}),
        )
        .await;
    assert_eq!(status, 200);
    let job = op.wait_finished(&id).await;
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_u64()),
        (Some("succeeded"), Some(2)),
        "{job}"
    );
    // Its first attempt says why it was lost: not a server that stopped, but its worker.
    assert_eq!(
        job["attempts"][0]["error"]["message"],
        "its worker \"gpu-1\" stopped polling (no poll within its 3 s lease)",
        "{job}"
    );
    let lines: Vec<String> = op
        .log(&id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect();
    assert!(
        lines.contains(&"attempt 1".to_string()) && lines.contains(&"attempt 2".to_string()),
        "{lines:?}"
    );
    assert!(!lines.contains(&"stale".to_string()), "{lines:?}");
}

#[tokio::test]
async fn a_failed_attempt_on_a_worker_is_tried_again_and_a_stale_report_is_refused() {
    let (_app, op, w) = with_worker(1).await;
    let (status, _) = op.create("resize", json!({"width": 10})).await;
    assert_eq!(status, 201);
    let first = w.take().await;
    assert_eq!(
        w.end(
            &first,
            json!({"status": "failed", "error": {"code": "exit_1", "message": "boom"}})
        )
        .await,
        (200, Some("queued".into()))
    );
    let second = w.take().await;
    assert_eq!(second["attempt"], 2);
    // A report on the first attempt: 409, the second goes on.
    let status = w.succeed(&first).await;
    assert_eq!(status, 409);
    assert_eq!(
        w.end(
            &second,
            json!({"status": "failed", "error": {"code": "exit_1", "message": "boom again"}})
        )
        .await,
        (200, Some("failed".into()))
    );
}

#[tokio::test]
async fn a_cancel_reaches_the_workers_poll_at_once() {
    let (app, op, w) = with_worker(1).await;
    let id = resize(&op, 10).await;
    let given = w.take().await;
    let asked = tokio::spawn({
        let op = Session::with_token(&app.base, &app.admin_token());
        let id = id.clone();
        async move {
            // While the poll below waits.
            tokio::time::sleep(Duration::from_millis(200)).await;
            op.cancel(&id).await
        }
    });
    let started = std::time::Instant::now();
    let (status, reply) = w.poll(0, &[&id]).await;
    assert_eq!(
        (status, reply["stop"].as_array().map(|s| s.len())),
        (200, Some(1)),
        "{reply}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "answered as the cancel came, not at the poll's end: {:?}",
        started.elapsed()
    );
    assert_eq!(asked.await.unwrap().0, 200);
    assert_eq!(
        w.end(&given, json!({"status": "cancelled"})).await,
        (200, Some("cancelled".into()))
    );
}

/// A user's share of running jobs, as the server's claims count it, is of the server's slots
/// alone (a worker runs only its own kinds: its slots are no room for the server's jobs); as a
/// worker's claims count it, of the server's and the workers' slots together. With a large
/// worker idle, one user's long jobs leave another's a slot on the server, and the worker
/// still takes the first user's jobs past the server's share.
#[tokio::test]
async fn a_users_share_on_the_server_leaves_out_the_workers_slots_and_a_workers_counts_them() {
    let app = app()
        .with(|c| {
            c.lease_secs = 9;
            c.max_running = 4;
        })
        .start()
        .await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let token = worker_token(&op, "box").await;
    let w = Worker::register(&app, &token, &[], 32).await;
    let (ann, bob) = (app.session(), app.session());
    // Ann's long jobs run on the server: three of its four slots, her share of them.
    let mut long = Vec::new();
    for _ in 0..3 {
        let id = ann.demo(100_000, 20).await;
        ann.wait_status(&id, "running").await;
        long.push(id);
    }
    // The worker takes her job all the same: its share counts its 32 slots in (once the
    // server has read them).
    let (status, resize) = ann.create("resize", json!({"width": 1})).await;
    assert_eq!(status, 201, "{resize}");
    let given = tokio::time::timeout(Duration::from_secs(30), w.take())
        .await
        .expect("the worker takes a job past the server's share");
    assert_eq!(given["id"], resize["id"]);
    // Her next long job waits though a server slot is free; Bob's starts in it.
    let fourth = ann.demo(100_000, 20).await;
    let bobs = bob.demo(1, 1).await;
    let done = tokio::time::timeout(Duration::from_secs(30), bob.wait_finished(&bobs))
        .await
        .expect("Bob's job starts beside Ann's");
    assert_eq!(done["status"], "succeeded");
    assert_eq!(ann.job(&fourth).await["status"], "queued");
    for id in long.iter().chain([&fourth]) {
        ann.cancel(id).await;
    }
    assert_eq!(w.succeed(&given).await, 200);
}

/// A job of one attempt whose worker goes silent ends `interrupted`, naming its worker and
/// its lease rather than a server that stopped.
#[tokio::test]
async fn a_silent_workers_job_ends_saying_its_worker_stopped_polling() {
    let (app, op) = server_with_lease(3).await;
    let token = worker_token(&op, "box").await;
    let gpu = Worker::register(&app, &token, &["gpu"], 1).await;
    let (status, job) = op.create("render", json!({})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let given = gpu.take().await;
    assert_eq!(given["id"], id.as_str());
    // It goes silent; after the lease its job ends.
    let job = tokio::time::timeout(Duration::from_secs(60), op.wait_finished(&id))
        .await
        .expect("taken back within the lease");
    assert_eq!(
        (job["status"].as_str(), job["error"]["code"].as_str()),
        (Some("interrupted"), Some("interrupted")),
        "{job}"
    );
    assert_eq!(
        job["error"]["message"],
        "its worker \"gpu-1\" stopped polling (no poll within its 3 s lease)",
        "{job}"
    );
}

#[tokio::test]
async fn a_drained_worker_takes_nothing_and_a_disabled_one_gives_its_jobs_back() {
    let (_app, op, w) = with_worker(2).await;
    let (_, one) = op.create("resize", json!({"width": 1})).await;
    let one = one["id"].as_str().unwrap().to_string();
    let given = w.take().await;
    let (status, drained) = post(
        &op,
        &format!("/api/v1/workers/{}/state", w.id),
        json!({"state": "draining"}),
    )
    .await;
    assert_eq!(
        (status, drained["state"].as_str()),
        (200, Some("draining")),
        "{drained}"
    );
    let (_, two) = op.create("resize", json!({"width": 2})).await;
    let two = two["id"].as_str().unwrap().to_string();
    let (status, reply) = w.poll(1, &[&one]).await;
    assert_eq!(
        (
            status,
            reply["state"].as_str(),
            reply["jobs"].as_array().map(Vec::len)
        ),
        (200, Some("draining"), Some(0)),
        "{reply}"
    );
    // What it runs goes on.
    let status = w.succeed(&given).await;
    assert_eq!(status, 200);
    // Enabled again, it takes the second; disabled, it gives it back and is told to stop it.
    let (status, _) = post(
        &op,
        &format!("/api/v1/workers/{}/state", w.id),
        json!({"state": "active"}),
    )
    .await;
    assert_eq!(status, 200);
    let taken = w.take().await;
    assert_eq!(taken["id"], two.as_str());
    let (status, _) = post(
        &op,
        &format!("/api/v1/workers/{}/state", w.id),
        json!({"state": "disabled"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, reply) = w.poll(1, &[&two]).await;
    assert_eq!(
        (status, reply["stop"].clone(), reply["state"].as_str()),
        (200, json!([two.clone()]), Some("disabled")),
        "{reply}"
    );
    let (_, job) = op.get(&format!("/api/v1/jobs/{two}")).await;
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_u64()),
        (Some("queued"), Some(2)),
        "tried again elsewhere: {job}"
    );
    assert_eq!(
        job["attempts"][0]["error"]["message"], "its worker \"gpu-1\" was disabled by an operator",
        "{job}"
    );
    let status = w.succeed(&taken).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_worker_fetches_its_jobs_inputs_and_sends_back_their_outputs() {
    let (_app, op, w) = with_worker(1).await;
    let (status, upload) =
        crate::files::upload(&op, "people.csv", "text/csv", b"name\nada\n".to_vec()).await;
    assert_eq!(status, 201, "{upload}");
    let (status, job) = op.create("convert", json!({"input": upload["id"]})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let given = w.take().await;
    let base = format!("/api/v1/workers/{}/jobs/{id}", w.id);
    let input =
        w.s.http
            .get(w.s.url(&format!("{base}/files/input")))
            .send()
            .await
            .unwrap();
    assert_eq!(input.status(), 200);
    assert_eq!(input.bytes().await.unwrap().as_ref(), b"name\nada\n");
    // A parameter that names no file, and another job's: nothing.
    let (status, _) = w.s.get(&format!("{base}/files/width")).await;
    assert_eq!(status, 404);
    let demo = op.demo(1, 0).await;
    let (status, _) =
        w.s.get(&format!("/api/v1/workers/{}/jobs/{demo}/files/input", w.id))
            .await;
    assert_eq!(status, 404);
    let out = |name: &str, attempt: u64, body: &'static [u8]| {
        w.s.http
            .post(w.s.url(&format!("{base}/outputs/{name}?attempt={attempt}")))
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let sent = out("people.json", 1, b"[{\"name\":\"ada\"}]")
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    assert_eq!(
        out("a%5Cb", 1, b"x").await.unwrap().status(),
        422,
        "a name with a backslash"
    );
    assert_eq!(
        out("other.json", 2, b"x").await.unwrap().status(),
        409,
        "another attempt's"
    );
    let status = w.succeed(&given).await;
    assert_eq!(status, 200);
    let job = op.wait_finished(&id).await;
    assert_eq!(job["outputs"][0]["name"], "people.json", "{job}");
    let file = op
        .text(&format!("/api/v1/jobs/{id}/outputs/people.json"))
        .await;
    assert_eq!(file, "[{\"name\":\"ada\"}]");
    // Ended: no more outputs.
    assert_eq!(out("late.json", 1, b"x").await.unwrap().status(), 409);
}

#[tokio::test]
async fn a_workers_outputs_count_against_the_job_owners_file_quota() {
    let app = app()
        .with(|c| {
            c.lease_secs = 9;
            c.upload_quota_bytes = 1000;
        })
        .start()
        .await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let w = Worker::register(&app, &worker_token(&op, "box").await, &[], 1).await;
    let owner = app.session();
    let (status, job) = owner.create("resize", json!({"width": 10})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let given = w.take().await;
    let send = |name: &str, bytes: usize| {
        w.s.http
            .post(w.s.url(&format!(
                "/api/v1/workers/{}/jobs/{id}/outputs/{name}?attempt=1",
                w.id
            )))
            .body(vec![b'x'; bytes])
            .send()
    };
    let listed = || async {
        let job = owner.job(&id).await;
        let outputs = job["outputs"].as_array().unwrap().clone();
        outputs
            .iter()
            .map(|o| {
                (
                    o["name"].as_str().unwrap().to_string(),
                    o["size"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let files = || walk(app.file_store()).len();
    assert_eq!(send("a.bin", 600).await.unwrap().status(), 201);
    let before = files();

    // 600 more would take the owner's files to 1,200 bytes: refused, naming the quota, and
    // nothing of it is kept.
    let r = send("b.bin", 600).await.unwrap();
    assert_eq!(r.status(), 413);
    let refused: Value = r.json().await.unwrap();
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("file quota") && message.contains("1000 bytes"),
        "{message}"
    );
    assert_eq!(listed().await, [("a.bin".to_string(), 600)]);
    assert_eq!(files(), before, "the refused output's bytes were kept");

    // The quota counts what is listed: a smaller a.bin in its place makes room for b.bin.
    assert_eq!(send("a.bin", 300).await.unwrap().status(), 201);
    assert_eq!(send("b.bin", 600).await.unwrap().status(), 201);
    assert_eq!(
        listed().await,
        [("a.bin".to_string(), 300), ("b.bin".to_string(), 600)]
    );
    // One quota for the owner's files: their uploads count with their jobs' outputs.
    let (status, refused) =
        crate::files::upload(&owner, "more.csv", "text/csv", vec![b'x'; 200]).await;
    assert_eq!(status, 413, "{refused}");
    assert_eq!(w.succeed(&given).await, 200);
}

#[tokio::test]
async fn a_job_whose_poll_answer_was_lost_is_given_again_and_to_no_one_else() {
    let (app, op) = server().await;
    // Two workers of one token (the kinds' names are that token's).
    let token = worker_token(&op, "box").await;
    let w = Worker::register(&app, &token, &[], 1).await;
    let other = Worker::register(&app, &token, &[], 1).await;
    let id = resize(&op, 1).await;
    let first = w.take().await;
    // The answer never reached the worker: its next poll lists nothing running.
    let (status, again) = w.poll(1, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(again["jobs"][0]["id"], id.as_str(), "{again}");
    assert_eq!(again["jobs"][0]["attempt"], first["attempt"]);
    // Another worker is never given it.
    let (status, none) = other.poll(1, &[]).await;
    assert_eq!(
        (status, none["jobs"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{none}"
    );
    // Listed as running, it is not given a third time.
    let (status, listed) = w.poll(0, &[&id]).await;
    assert_eq!(
        (status, listed["jobs"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{listed}"
    );
}

// `headway worker` itself: the real binary, on this machine, against the server in this
// process.

/// A worker's commands, with their programs in `dir`: `count` prints `n` lines, reports its
/// bar on descriptor 3, leaves an output and a result; `wait` runs until stopped; `slow` prints
/// a line every 10 ms; `flaky` fails its first attempt (after a while) and succeeds its second.
const WORKER_COMMANDS: &str = r#"
[[command]]
name = "count"
program = "SCRIPTS/count.sh"
args = ["{n}"]
requires = ["gpu"]

[command.params.n]
type = "integer"
min = 1
max = 100000

[[command]]
name = "wait"
program = "SCRIPTS/wait.sh"

[[command]]
name = "login"
program = "SCRIPTS/login.sh"

[command.params.password]
type = "secret"

[[command]]
name = "slow"
program = "SCRIPTS/slow.sh"
args = ["{n}"]

[command.params.n]
type = "integer"
min = 1
max = 100000

[[command]]
name = "flaky"
program = "SCRIPTS/flaky.sh"
args = ["{marker}"]

[command.params.marker]
type = "string"

[command.retry]
max_attempts = 2
base = "100ms"
"#;

const COUNT_SH: &str = "#!/bin/sh\necho \"total $1 lines\" >&3\ni=1\nwhile [ $i -le $1 ]; do echo \"line $i\"; [ $((i % 500)) -eq 0 ] && echo \"progress $i\" >&3; [ $((i % 100)) -eq 0 ] && sleep 0.02; i=$((i+1)); done\necho \"counted $1\" > \"$HEADWAY_OUTPUT_DIR/count.txt\"\necho \"output count.txt\" >&3\necho \"result {\\\"lines\\\": $1}\" >&3\n";

const WAIT_SH: &str = "#!/bin/sh\necho started\nwhile true; do sleep 0.1; done\n";

const FLAKY_SH: &str = "#!/bin/sh\nif [ -e \"$1\" ]; then echo second; exit 0; fi\ntouch \"$1\"\necho first >&2\nsleep 30\nexit 1\n";

/// The scripts and commands file of [`WORKER_COMMANDS`] in `dir`.
fn worker_files(dir: &std::path::Path) -> std::path::PathBuf {
    crate::commands::script(dir, "count.sh", COUNT_SH);
    crate::commands::script(dir, "wait.sh", WAIT_SH);
    crate::commands::script(
        dir,
        "login.sh",
        "#!/bin/sh\necho \"using $HEADWAY_PARAM_PASSWORD\"\nprintf 'result {\"length\": %d}\\n' \"${#HEADWAY_PARAM_PASSWORD}\" >&3\n",
    );
    crate::commands::script(
        dir,
        "slow.sh",
        "#!/bin/sh\ni=1\nwhile [ $i -le $1 ]; do echo \"line $i\"; sleep 0.01; i=$((i+1)); done\n",
    );
    crate::commands::script(dir, "flaky.sh", FLAKY_SH);
    crate::commands::commands_file(dir, WORKER_COMMANDS)
}

/// `headway worker` against `server`, with `token`, offering `gpu`.
fn worker(
    server: &str,
    token: &str,
    commands: &std::path::Path,
    name: &str,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
        .env_remove("HEADWAY_TOKEN")
        .env("HEADWAY_WORKER_TOKEN", token)
        .args([
            "--server",
            server,
            "worker",
            "--tags",
            "gpu",
            "--max-running",
            "2",
            "--grace-secs",
            "1",
            "--name",
            name,
        ])
        .arg("--commands")
        .arg(commands)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("headway worker starts")
}

/// Waits until `name` is a registered worker.
async fn registered(op: &Session, name: &str) {
    for _ in 0..300 {
        let (_, workers) = op.get("/api/v1/workers").await;
        if workers
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["name"] == name))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the worker {name} did not register");
}

/// Waits (bounded) until the server knows `kind`, which a worker declares after it registers:
/// through a connection that is cut, the declaration may come a retry later.
async fn offered(op: &Session, kind: &str) {
    for _ in 0..600 {
        let (_, kinds) = op.get("/api/v1/kinds").await;
        if kinds
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k["name"] == kind))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no worker offered the kind {kind}");
}

/// The whole log of job `id`, in order.
async fn whole_log(op: &Session, id: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = op
            .get(&format!("/api/v1/jobs/{id}/log?after={after}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        let got = page["lines"].as_array().unwrap();
        if got.is_empty() {
            return lines;
        }
        after = got.last().unwrap()["seq"].as_u64().unwrap();
        lines.extend(got.iter().map(|l| l["line"].as_str().unwrap().to_string()));
    }
}

#[tokio::test]
async fn headway_worker_runs_a_command_as_the_server_would_and_stops_it_on_cancel() {
    let (app, op) = server_with_lease(30).await;
    let dir = tempfile::tempdir().unwrap();
    let file = worker_files(dir.path());
    let token = worker_token(&op, "box").await;
    let _w = worker(&app.base, &token, &file, "box-1");
    registered(&op, "box-1").await;
    let (status, job) = op.create("count", json!({"n": 1200})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let job = op.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        (
            job["progress"]["current"].as_u64(),
            job["progress"]["total"].as_u64()
        ),
        (Some(1000), Some(1200)),
        "{job}"
    );
    assert_eq!(job["result"]["lines"], 1200, "{job}");
    let lines = whole_log(&op, &id).await;
    let expected: Vec<String> = (1..=1200).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(
        op.text(&format!("/api/v1/jobs/{id}/outputs/count.txt"))
            .await,
        "counted 1200\n"
    );
    // A cancel reaches the program within a second or so: it is stopped, the job cancelled.
    let (_, job) = op.create("wait", json!({})).await;
    let id = job["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        if whole_log(&op, &id).await.contains(&"started".to_string()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = std::time::Instant::now();
    let (status, _) = op.cancel(&id).await;
    assert_eq!(status, 200);
    let job = op.wait_finished(&id).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
}

#[tokio::test]
async fn headway_worker_through_a_connection_cut_many_times_loses_and_doubles_no_line() {
    let (app, op) = server_with_lease(30).await;
    let cuts = std::sync::Arc::new([
        std::sync::atomic::AtomicUsize::new(0),
        std::sync::atomic::AtomicUsize::new(0),
    ]);
    let relay = crate::external::cutting_relay(app.addr, std::sync::Arc::clone(&cuts)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = worker_files(dir.path());
    let token = worker_token(&op, "box").await;
    let _w = worker(&relay, &token, &file, "cut-1");
    registered(&op, "cut-1").await;
    offered(&op, "count").await;
    let n = 3000;
    let ids: Vec<String> =
        futures::future::join_all((0..3).map(|_| op.create("count", json!({"n": n}))))
            .await
            .into_iter()
            .map(|(status, job)| {
                assert_eq!(status, 201, "{job}");
                job["id"].as_str().unwrap().to_string()
            })
            .collect();
    let expected: Vec<String> = (1..=n).map(|i| format!("line {i}")).collect();
    for id in &ids {
        let job = tokio::time::timeout(Duration::from_secs(240), op.wait_finished(id))
            .await
            .expect("the job ends");
        assert_eq!(
            (job["status"].as_str(), job["attempt"].as_u64()),
            (Some("succeeded"), Some(1)),
            "{job}"
        );
        let lines = whole_log(&op, id).await;
        let differs = lines.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            lines.len() == expected.len() && differs.is_none(),
            "every line once, in order: {} lines, the first difference at {differs:?}: {:?}, past the end: {:?}",
            lines.len(),
            differs.map(|i| &lines[i.saturating_sub(2)..(i + 3).min(lines.len())]),
            &lines[expected.len().min(lines.len())..]
        );
    }
    let [cut, lost] = &*cuts;
    let (cut, lost) = (
        cut.load(std::sync::atomic::Ordering::Relaxed),
        lost.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert!(
        cut > 3 && lost > 3,
        "the relay cut {cut} requests and lost {lost} answers"
    );
}

#[tokio::test]
async fn a_worker_killed_has_its_job_taken_back_and_tried_again_on_another() {
    let (app, op) = server_with_lease(5).await;
    let dir = tempfile::tempdir().unwrap();
    let file = worker_files(dir.path());
    let token = worker_token(&op, "box").await;
    let mut first = worker(&app.base, &token, &file, "doomed");
    registered(&op, "doomed").await;
    let marker = dir.path().join("flaky.marker");
    let (_, job) = op
        .create("flaky", json!({"marker": marker.display().to_string()}))
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    // Its first attempt runs on the first worker (it leaves its marker), which is killed.
    for _ in 0..200 {
        if marker.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(marker.exists(), "the first attempt started");
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let _second = worker(&app.base, &token, &file, "survivor");
    // After the lease (5 s), the job is taken back, and the second worker runs attempt 2.
    let job = tokio::time::timeout(Duration::from_secs(60), op.wait_finished(&id))
        .await
        .expect("the job ends");
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_u64()),
        (Some("succeeded"), Some(2)),
        "{job}"
    );
    let lines = whole_log(&op, &id).await;
    assert!(lines.contains(&"second".to_string()), "{lines:?}");
    let (_, workers) = op.get("/api/v1/workers").await;
    let names: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["survivor"], "the killed worker was removed");
}

#[tokio::test]
async fn headway_workers_makes_tokens_lists_and_steers_workers_from_a_terminal() {
    let (app, _op) = server().await;
    let (code, out, err) = app
        .client(&app.base, &["workers", "token", "gpu box"])
        .await;
    assert_eq!(code, 0, "{err}");
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("export HEADWAY_WORKER_TOKEN="))
        .expect("the token, to copy")
        .to_string();
    let w = Worker::register(&app, &token, &["gpu"], 3).await;
    let (code, out, err) = app.client(&app.base, &["workers"]).await;
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with(&w.id))
        .expect("the worker is listed");
    assert!(
        line.contains("gpu-1")
            && line.contains("active")
            && line.contains("0/3")
            && line.contains("gpu"),
        "{out}"
    );
    let (code, out, err) = app.client(&app.base, &["workers", "drain", &w.id]).await;
    assert_eq!(
        (code, out.trim()),
        (0, format!("gpu-1 ({}): draining", w.id).as_str()),
        "{err}"
    );
    let (code, _, err) = app
        .client(&app.base, &["workers", "drain", "no-such-worker"])
        .await;
    assert_eq!(code, 1);
    assert!(err.contains("404"), "{err}");
    let (code, out, _) = app.client(&app.base, &["workers", "tokens"]).await;
    assert_eq!(code, 0);
    let id = out
        .lines()
        .find(|l| l.contains("gpu box"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (code, _, err) = app.client(&app.base, &["workers", "revoke", &id]).await;
    assert_eq!(code, 0, "{err}");
    let (status, _) = w.poll(1, &[]).await;
    assert_eq!(status, 401, "a revoked token is refused at once");
    // Its worker is removed at the next look; its token is listed as revoked.
    let (_, out, _) = app.client(&app.base, &["workers", "tokens"]).await;
    assert!(
        out.lines()
            .any(|l| l.contains("gpu box") && l.contains("revoked")),
        "{out}"
    );
}

#[tokio::test]
async fn a_waiting_poll_hears_at_once_that_its_worker_was_disabled_or_its_token_revoked() {
    let (app, op, w) = with_worker(1).await;
    let id = resize(&op, 1).await;
    let given = w.take().await;
    let disable = {
        let (op, worker) = (
            Session::with_token(&app.base, &app.admin_token()),
            w.id.clone(),
        );
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            post(
                &op,
                &format!("/api/v1/workers/{worker}/state"),
                json!({"state": "disabled"}),
            )
            .await
        }
    };
    let started = std::time::Instant::now();
    let listed = [id.as_str()];
    let ((status, reply), (set, _)) = tokio::join!(w.poll(0, &listed), disable);
    assert_eq!(set, 200);
    assert_eq!(
        (status, reply["state"].as_str(), reply["stop"].clone()),
        (200, Some("disabled"), json!([id])),
        "{reply}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let status = w.succeed(&given).await;
    assert_eq!(status, 409, "taken back");
    // Its token revoked while a poll waits: refused at once.
    let (_, tokens) = op.get("/api/v1/worker-tokens").await;
    let token = tokens[0]["id"].as_str().unwrap().to_string();
    let revoke = {
        let op = Session::with_token(&app.base, &app.admin_token());
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            send(
                &op,
                reqwest::Method::DELETE,
                &format!("/api/v1/worker-tokens/{token}"),
                json!({}),
            )
            .await
        }
    };
    let started = std::time::Instant::now();
    let ((status, _), (revoked, _)) = tokio::join!(w.poll(0, &[]), revoke);
    assert_eq!((status, revoked), (401, 204));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn headway_worker_goes_on_through_a_server_restart_longer_than_its_lease_losing_or_doubling_no_line(
) {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::database(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let admin = "worker-restart-operator-token";
    let lease = Duration::from_secs(8);
    let lease_secs = lease.as_secs().to_string();
    let start = || {
        crate::support::Headway::start(
            &database,
            dir.path(),
            &["--addr", &addr, "--lease-secs", &lease_secs],
            &[("HEADWAY_ADMIN_TOKEN", admin)],
        )
    };
    let server = start();
    let op = Session::with_token(&server.base, admin);
    let token = worker_token(&op, "box").await;
    let scripts = tempfile::tempdir().unwrap();
    let file = worker_files(scripts.path());
    let _w = worker(&server.base, &token, &file, "steady");
    registered(&op, "steady").await;
    // Long enough to restart the server while it runs: a line every 10 ms, for 5 s or more.
    let n = 500;
    let (status, job) = op.create("slow", json!({"n": n})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        if !whole_log(&op, &id).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        op.job(&id).await["status"],
        "running",
        "restarted while the job runs"
    );
    let (_, stopped) = server.terminate();
    assert!(stopped.success());
    // Down for longer than the lease: the worker could not poll a server that was not running,
    // and is not taken for gone for it.
    tokio::time::sleep(lease + Duration::from_secs(1)).await;
    let server = start();
    let op = Session::with_token(&server.base, admin);
    let job = tokio::time::timeout(Duration::from_secs(120), op.wait_finished(&id))
        .await
        .expect("the job ends");
    assert_eq!(
        (job["status"].as_str(), job["attempt"].as_u64()),
        (Some("succeeded"), Some(1)),
        "the same attempt: {job}"
    );
    let expected: Vec<String> = (1..=n).map(|i| format!("line {i}")).collect();
    let lines = whole_log(&op, &id).await;
    assert!(
        lines == expected,
        "{} lines, the first difference at {:?}",
        lines.len(),
        lines.iter().zip(&expected).position(|(a, b)| a != b)
    );
}

#[tokio::test]
async fn a_secret_reaches_the_workers_program_for_its_job_only_and_is_kept_nowhere_else() {
    let (app, op) = server_with_lease(30).await;
    let scripts = tempfile::tempdir().unwrap();
    let file = worker_files(scripts.path());
    let token = worker_token(&op, "box").await;
    let _w = worker(&app.base, &token, &file, "vault");
    registered(&op, "vault").await;
    let secret = "hunter2-correct-horse";
    let (status, job) = op.create("login", json!({"password": secret})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let job = op.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    // The program had it, whole; the job's record, its log and the run's files do not.
    assert_eq!(job["result"]["length"], secret.len(), "{job}");
    assert!(!job.to_string().contains(secret), "{job}");
    let log = whole_log(&op, &id).await;
    assert_eq!(log, ["using ••••••"]);
    let runs = engine::commands::Programs::default_runs();
    let mut found = Vec::new();
    for entry in walk(&runs) {
        if std::fs::read(&entry)
            .is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
        {
            found.push(entry);
        }
    }
    assert!(found.is_empty(), "the secret was written to {found:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for e in entries.flatten() {
        let path = e.path();
        match path.is_dir() {
            true => files.extend(walk(&path)),
            false => files.push(path),
        }
    }
    files
}

#[tokio::test]
async fn a_kind_resumed_wakes_the_polls_waiting_for_its_jobs() {
    let (app, op, w) = with_worker(1).await;
    let (status, _) = op.post("/api/v1/kinds/resize/pause").await;
    assert_eq!(status, 200);
    let id = resize(&op, 1).await;
    let resume = {
        let op = Session::with_token(&app.base, &app.admin_token());
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            op.post("/api/v1/kinds/resize/resume").await
        }
    };
    // One poll, waiting when the kind is resumed: it is given the job then, not at its end.
    let started = std::time::Instant::now();
    let ((status, reply), (resumed, _)) = tokio::join!(w.poll(1, &[]), resume);
    assert_eq!((status, resumed), (200, 200));
    assert_eq!(reply["jobs"][0]["id"], id.as_str(), "{reply}");
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_waiting_poll_claims_for_the_slot_of_a_job_that_ends_within_the_workers_slots() {
    let (app, op) = server().await;
    let token = worker_token(&op, "box").await;
    let w = Worker::register(&app, &token, &[], 1).await;
    let first = resize(&op, 1).await;
    let queued = [resize(&op, 2).await, resize(&op, 3).await];
    let job = w.take().await;
    assert_eq!(job["id"], first.as_str());
    let end = {
        let w = Worker {
            s: Session::with_token(&app.base, &token),
            id: w.id.clone(),
        };
        let job = job.clone();
        async move {
            // Once the poll below waits with no slot free.
            tokio::time::sleep(Duration::from_millis(300)).await;
            w.succeed(&job).await
        }
    };
    // No slot free when it asks: the slot its job frees is claimed for by this very poll, and
    // one job only, as the worker has one slot.
    let running = [first.as_str()];
    let ((status, reply), ended) = tokio::join!(w.poll(0, &running), end);
    assert_eq!((status, ended), (200, 200), "{reply}");
    let given: Vec<&str> = reply["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(given, [queued[0].as_str()], "{reply}");
    assert_eq!(reply["stop"], json!([]), "{reply}");
}
