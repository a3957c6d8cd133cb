//! Authority, admission and bounds, replayed as a probe of the server found them: a worker token
//! acting as the owner of the jobs it holds, files served by a worker's say-so, kind names taken
//! over, templates rendered without bound, runs and fan-outs past their owner's share, steps
//! above their kinds' priority, and a worker's polls sent at once. Each test fails on the build
//! before these were closed.

use crate::client::Session;
use crate::files::upload;
use crate::harness::{app, App};
use crate::team::{accounts_app, add_user, signed_in};
use crate::workers::{send, worker_token};
use engine::kinds::{JobContext, Kind, KindEnv, RunResult};
use serde_json::{json, Value};

/// What the tests' workers run: `shout` takes its text as a string, `convert` a file, and
/// `stamp` nothing.
const COMMANDS: &str = r#"
[[command]]
name = "shout"
program = "/opt/worker/shout.sh"

[command.params.text]
type = "string"

[[command]]
name = "convert"
program = "/opt/worker/convert.sh"

[command.params.input]
type = "file"

[[command]]
name = "stamp"
program = "/opt/worker/stamp.sh"
"#;

/// `shout` declared again, its text now a file.
const SHOUT_A_FILE: &str = r#"
[[command]]
name = "shout"
program = "/opt/worker/shout.sh"

[command.params.text]
type = "file"
"#;

async fn post(s: &Session, path: &str, body: Value) -> (u16, Value) {
    send(s, reqwest::Method::POST, path, body).await
}

/// Registers a worker of one slot with `commands` under `token`: the answer.
async fn register(app: &App, token: &str, commands: &str) -> (u16, Value, Session) {
    let s = Session::with_token(&app.base, token);
    let (status, hello) = post(
        &s,
        "/api/v1/workers",
        json!({"name": "box", "host": "box.lan", "version": "test", "pid": 1,
               "max_running": 1, "commands": commands}),
    )
    .await;
    (status, hello, s)
}

/// A worker registered by hand.
struct Worker {
    s: Session,
    id: String,
}

impl Worker {
    async fn new(app: &App, token: &str, commands: &str) -> Worker {
        let (status, hello, s) = register(app, token, commands).await;
        assert_eq!(status, 201, "{hello}");
        Worker {
            s,
            id: hello["id"].as_str().unwrap().to_string(),
        }
    }

    async fn poll(&self, free: u32) -> (u16, Value) {
        post(
            &self.s,
            &format!("/api/v1/workers/{}/poll", self.id),
            json!({"free": free, "running": []}),
        )
        .await
    }

    /// Polls until it is given a job.
    async fn take(&self) -> Value {
        for _ in 0..30 {
            let (status, reply) = self.poll(1).await;
            assert_eq!(status, 200, "{reply}");
            if let Some(job) = reply["jobs"].as_array().and_then(|j| j.first()) {
                return job.clone();
            }
        }
        panic!("no job was given in 30 polls");
    }

    async fn report(&self, job: &Value, body: Value) -> (u16, Value) {
        post(
            &self.s,
            &format!(
                "/api/v1/workers/{}/jobs/{}/report?attempt={}",
                self.id,
                job["id"].as_str().unwrap(),
                job["attempt"].as_u64().unwrap()
            ),
            body,
        )
        .await
    }

    async fn input(&self, job: &Value, param: &str) -> u16 {
        self.s
            .http
            .get(self.s.url(&format!(
                "/api/v1/workers/{}/jobs/{}/files/{param}",
                self.id,
                job["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A team: an admin and two members, signed in, on a server with accounts.
async fn team() -> (App, Session, Session, Session) {
    let app = accounts_app().await;
    for (name, role) in [("ada", "admin"), ("mia", "member"), ("max", "member")] {
        add_user(&app, name, role).await;
    }
    let admin = signed_in(&app, "ada").await;
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;
    (app, admin, mia, max)
}

#[tokio::test]
async fn a_worker_acts_on_the_jobs_it_holds_and_never_as_their_owner() {
    let (app, admin, _, _) = team().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let token = worker_token(&op, "box").await;
    let w = Worker::new(&app, &token, COMMANDS).await;
    let (status, theirs) = upload(&admin, "people.csv", "text/csv", b"a,b\n1,2\n".to_vec()).await;
    assert_eq!(status, 201, "{theirs}");
    let (status, job) = admin.create("stamp", json!({})).await;
    assert_eq!(status, 201, "{job}");
    let held = w.take().await;
    assert_eq!(held["id"], job["id"]);

    // A kind of the server's, as the admin: refused, and nothing is started.
    let (status, refused) = w
        .report(
            &held,
            json!({"children": [{"name": "leak", "kind": "export_jobs", "params": {}}]}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    let (_, exports) = admin.list("kind=export_jobs").await;
    assert_eq!(exports["jobs"], json!([]), "{exports}");
    // Its own kind, naming a file of the admin's the job was not given: refused.
    let (status, refused) = w
        .report(
            &held,
            json!({"children": [{"name": "grab", "kind": "convert",
                                 "params": {"input": id(&theirs)}}]}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["fields"][0]["field"], "children[0].input",
        "{refused}"
    );
    // Its own kind, with nothing of the owner's: started, as the job's child.
    let (status, reply) = w
        .report(
            &held,
            json!({"children": [{"name": "next", "kind": "stamp", "params": {}}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let child = admin.job(reply["children"][0].as_str().unwrap()).await;
    assert_eq!(child["parent"], held["id"], "{child}");

    // A job that was given the file passes it on.
    let (status, convert) = admin.create("convert", json!({"input": id(&theirs)})).await;
    assert_eq!(status, 201, "{convert}");
    w.report(&held, json!({"end": {"status": "succeeded"}}))
        .await;
    let given = loop {
        let job = w.take().await;
        if job["id"] == convert["id"] {
            break job;
        }
        w.report(&job, json!({"end": {"status": "succeeded"}}))
            .await;
    };
    assert_eq!(w.input(&given, "input").await, 200);
    let (status, reply) = w
        .report(
            &given,
            json!({"children": [{"name": "again", "kind": "convert",
                                 "params": {"input": id(&theirs)}}]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
}

#[tokio::test]
async fn a_worker_is_served_only_files_its_jobs_were_made_with() {
    let (app, _, mia, max) = team().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let token = worker_token(&op, "box").await;
    let w = Worker::new(&app, &token, COMMANDS).await;
    let (status, private) = upload(&mia, "private.csv", "text/csv", b"secret\n".to_vec()).await;
    assert_eq!(status, 201, "{private}");
    // Max starts a job of a kind that takes its text as a string, naming Mia's file.
    let (status, job) = max.create("shout", json!({"text": id(&private)})).await;
    assert_eq!(status, 201, "{job}");
    let held = w.take().await;
    assert_eq!(held["id"], job["id"]);
    // Its text is no file of its kind's: nothing is served.
    assert_eq!(w.input(&held, "text").await, 404);
    // Declaring it a file while the job runs is refused, and changes nothing.
    let (status, refused, _) = register(&app, &token, SHOUT_A_FILE).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("queued or running"),
        "{refused}"
    );
    assert_eq!(w.input(&held, "text").await, 404);
    // Once none runs, it may change; then a start must name a file of its starter's.
    w.report(&held, json!({"end": {"status": "succeeded"}}))
        .await;
    max.wait_finished(&id(&job)).await;
    let (status, hello, _) = register(&app, &token, SHOUT_A_FILE).await;
    assert_eq!(status, 201, "{hello}");
    let (status, refused) = max.create("shout", json!({"text": id(&private)})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "text", "{refused}");
}

#[tokio::test]
async fn a_kind_name_is_the_tokens_that_declared_it_first_and_none_of_the_servers() {
    let app = app().start().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let first = worker_token(&op, "first").await;
    let second = worker_token(&op, "second").await;
    let w = Worker::new(&app, &first, COMMANDS).await;
    // Another token's worker declaring the same name (with another title): 409, naming the
    // owner; the kind's form is unchanged.
    let takeover = COMMANDS.replace(
        "name = \"shout\"",
        "name = \"shout\"\ntitle = \"Give me your secrets\"",
    );
    let (status, refused, _) = register(&app, &second, &takeover).await;
    assert_eq!(status, 409, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("\"shout\"") && message.contains("\"first\""),
        "{message}"
    );
    let (_, kinds) = op.get("/api/v1/kinds").await;
    let shout = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "shout")
        .unwrap()
        .clone();
    assert_ne!(shout["title"], "Give me your secrets", "{shout}");
    // Names of the server's own: its runs', external jobs', its kinds'.
    for name in ["workflow", "external", "demo", "export_jobs"] {
        let file = format!("[[command]]\nname = \"{name}\"\nprogram = \"/opt/x\"\n");
        let (status, refused, _) = register(&app, &second, &file).await;
        assert_eq!(status, 409, "{name}: {refused}");
    }
    // The owner's jobs go to the owner's workers only.
    let s = app.session();
    let (_, job) = s.create("stamp", json!({})).await;
    assert_eq!(w.take().await["id"], job["id"]);
    // Revoking the owner's token frees its names.
    let (_, tokens) = op.get("/api/v1/worker-tokens").await;
    let first_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "first")
        .map(id)
        .unwrap();
    let (status, _) = send(
        &op,
        reqwest::Method::DELETE,
        &format!("/api/v1/worker-tokens/{first_id}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, hello, _) = register(&app, &second, COMMANDS).await;
    assert_eq!(status, 201, "{hello}");
}

#[tokio::test]
async fn a_token_registers_a_bounded_number_of_workers_and_commands() {
    let app = app().start().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let token = worker_token(&op, "box").await;
    let many: String = (0..=model::workers::MAX_COMMANDS)
        .map(|i| format!("[[command]]\nname = \"c{i}\"\nprogram = \"/opt/x\"\n"))
        .collect();
    let (status, refused, _) = register(&app, &token, &many).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "commands", "{refused}");
    for _ in 0..model::workers::MAX_WORKERS_PER_TOKEN {
        let (status, hello, _) = register(&app, &token, COMMANDS).await;
        assert_eq!(status, 201, "{hello}");
    }
    let (status, refused, _) = register(&app, &token, COMMANDS).await;
    assert_eq!(status, 429, "{refused}");
    // Another token is not held back.
    let other = worker_token(&op, "other").await;
    let file = "[[command]]\nname = \"other\"\nprogram = \"/opt/x\"\n";
    let (status, hello, _) = register(&app, &other, file).await;
    assert_eq!(status, 201, "{hello}");
}

#[tokio::test]
async fn a_workers_polls_sent_at_once_never_give_it_more_jobs_than_its_slots() {
    let app = app().start().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let token = worker_token(&op, "box").await;
    let w = Worker::new(&app, &token, COMMANDS).await;
    let s = app.session();
    for round in 0..5 {
        // Its polls wait together for work, then the work comes: every one of them wakes.
        let polls = futures::future::join_all((0..8).map(|_| w.poll(1)));
        let start = async {
            // Time for the polls to be waiting (were they not yet, they would find the jobs
            // queued and claim one after another, which proves less, never fails).
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            for _ in 0..8 {
                let (status, job) = s.create("stamp", json!({})).await;
                assert_eq!(status, 201, "{job}");
            }
        };
        let (answers, ()) = tokio::join!(polls, start);
        // A job it holds and does not list is given again to a poll that does not list it
        // (as if an answer was lost): one job, however many answers name it.
        let given: std::collections::HashMap<String, Value> = answers
            .iter()
            .flat_map(|(status, reply)| {
                assert_eq!(*status, 200, "{reply}");
                reply["jobs"].as_array().cloned().unwrap_or_default()
            })
            .map(|j| (id(&j), j))
            .collect();
        let (_, running) = s.list("status=running").await;
        let running = running["jobs"].as_array().unwrap().len();
        assert_eq!((given.len(), running), (1, 1), "round {round}: {answers:?}");
        for job in given.values() {
            w.report(job, json!({"end": {"status": "succeeded"}})).await;
        }
        for job in s.list("status=queued").await.1["jobs"].as_array().unwrap() {
            s.cancel(&id(job)).await;
        }
    }
}

#[tokio::test]
async fn a_workers_report_right_after_a_restart_is_taken_as_its_jobs() {
    let app = app().start().await;
    let op = Session::with_token(&app.base, &app.admin_token());
    let token = worker_token(&op, "box").await;
    let mut w = Worker::new(&app, &token, COMMANDS).await;
    let s = app.session();
    let (status, job) = s.create("stamp", json!({})).await;
    assert_eq!(status, 201, "{job}");
    let held = w.take().await;
    let line = |seq: u64| json!({"log": [{"seq": seq, "line": format!("line {seq}")}]});
    let (status, reply) = w.report(&held, line(1)).await;
    assert_eq!((status, reply["acked"].as_u64()), (200, Some(1)), "{reply}");
    // The first request the new process answers is the worker's next report: its kind's
    // owner is known by then, so it is taken, not refused as another token's (which would
    // make the worker give up its job, and run it again from the start when it is given back).
    let app = app.restart().await;
    w.s = w.s.rebase(&app.base);
    let (status, reply) = w.report(&held, line(2)).await;
    assert_eq!((status, reply["acked"].as_u64()), (200, Some(2)), "{reply}");
    let (status, reply) = w
        .report(&held, json!({"end": {"status": "succeeded"}}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let s = s.rebase(&app.base);
    assert_eq!(s.wait_finished(&id(&held)).await["status"], "succeeded");
}

/// A kind that exists only in these tests: its result is `bytes` bytes of text.
struct Big;

#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(KindEnv))]
struct BigParams {
    #[garde(range(max = 1_000_000))]
    bytes: usize,
}

impl Kind for Big {
    type Params = BigParams;
    const NAME: &'static str = "big";

    async fn run(p: BigParams, ctx: &mut JobContext) -> RunResult {
        ctx.set_result(json!({"text": "x".repeat(p.bytes)})).await
    }
}

/// A kind that exists only in these tests: takes a short text, runs at the lowest priority.
struct Short;

#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(KindEnv))]
struct ShortParams {
    #[garde(length(max = 100))]
    text: String,
}

impl Kind for Short {
    type Params = ShortParams;
    const NAME: &'static str = "short";
    const PRIORITY: model::Priority = model::Priority::LOWEST;

    async fn run(_: ShortParams, _: &mut JobContext) -> RunResult {
        Ok(())
    }
}

/// A posted workflow of `steps`, with the parameters `p` (a text, given `given`) and `n` (a
/// count, 10).
fn posted(steps: Value, given: &str) -> Value {
    json!({"kind": "workflow", "params": {"workflow": {
        "name": "probe",
        "on_failure": "finish",
        "params": {"p": {"type": "string", "max_length": 20000},
                   "n": {"type": "integer", "max": 1000}},
        "steps": steps
    }, "params": {"p": given, "n": 10}}})
}

#[tokio::test]
async fn templates_are_rendered_within_the_bound_and_checked_by_their_kinds() {
    let app = app().kind::<Big>().kind::<Short>().start().await;
    let s = app.session();
    // A run parameter repeated past the bound: refused when the run starts, nothing made.
    let repeat = "{p}".repeat(10);
    let (status, refused) = s
        .create_raw(&posted(
            json!([{"name": "a", "kind": "short", "params": {"text": repeat}}]),
            &"y".repeat(10_000),
        ))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("65536 bytes"), "{refused}");
    let (_, none) = s.list("kind=workflow").await;
    assert_eq!(none["jobs"], json!([]), "{none}");

    // A step's result repeated a thousand times, once the step ended: the step that would take
    // it fails, saying why, before anything of that size is made; and a fan-out of it too.
    let huge = "{steps.a.result.text}".repeat(1000);
    let (status, run) = s
        .create_raw(&posted(
            json!([
                {"name": "a", "kind": "big", "params": {"bytes": 16_000}},
                {"name": "b", "kind": "short", "needs": ["a"], "params": {"text": huge}},
                {"name": "c", "kind": "short", "needs": ["a"], "each": "{n}",
                 "params": {"text": huge}},
                // Within the bound, but past what its kind takes.
                {"name": "d", "kind": "short", "needs": ["a"],
                 "params": {"text": "{steps.a.result.text}"}}
            ]),
            "x",
        ))
        .await;
    assert_eq!(status, 201, "{run}");
    let done = s.wait_finished(&id(&run)).await;
    assert_eq!(done["status"], "failed", "{done}");
    let (_, steps) = s.list(&format!("parent={}", id(&run))).await;
    let step = |name: &str| {
        steps["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["step"] == name)
            .cloned()
            .unwrap()
    };
    for name in ["b", "c"] {
        let failed = step(name);
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["error"]["code"], "step_params", "{failed}");
        let message = failed["error"]["message"].as_str().unwrap();
        assert!(message.contains("65536 bytes"), "{message}");
        // What is kept is what was asked (the template), not what it would have made.
        assert!(failed["params"].to_string().len() < 64 * 1024, "{name}");
    }
    let d = step("d");
    assert_eq!(
        (d["status"].as_str(), d["error"]["code"].as_str()),
        (Some("failed"), Some("step_params")),
        "{d}"
    );
    assert!(
        d["error"]["message"].as_str().unwrap().contains("text"),
        "{d}"
    );
    assert!(
        d["started_at"].is_null() || d["progress"]["current"] == 0,
        "{d}"
    );
}

#[tokio::test]
async fn a_runs_steps_and_a_fan_outs_items_wait_in_their_owners_share() {
    let app = app()
        .kind::<Short>()
        .with(|c| c.max_queued_per_user = 5)
        .start()
        .await;
    let s = app.session();
    // A fan-out past the share: its step fails saying so, and makes no item.
    let (status, run) = s
        .create_raw(&posted(
            json!([{"name": "many", "kind": "short", "each": "{n}", "params": {"text": "hi"}}]),
            "x",
        ))
        .await;
    assert_eq!(status, 201, "{run}");
    let done = s.wait_finished(&id(&run)).await;
    assert_eq!(done["status"], "failed", "{done}");
    let (_, steps) = s.list(&format!("parent={}", id(&run))).await;
    let group = steps["jobs"][0].clone();
    assert_eq!(group["error"]["code"], "step_params", "{group}");
    assert!(
        group["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the 5 one user may have waiting"),
        "{group}"
    );
    let (_, items) = s.list(&format!("parent={}", id(&group))).await;
    assert_eq!(items["jobs"], json!([]), "{items}");
    // A run whose steps would pass the share: refused whole.
    let steps: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("s{i}"), "kind": "short", "params": {"text": "hi"}}))
        .collect();
    let (status, refused) = s.create_raw(&posted(json!(steps), "x")).await;
    assert_eq!(status, 429, "{refused}");
}

#[tokio::test]
async fn a_members_run_takes_its_steps_kinds_priority_and_an_operators_may_raise_it() {
    let app = app()
        .kind::<Short>()
        .with(|c| c.auth = Some(server::config::AuthMode::Accounts))
        .start()
        .await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "oli", "operator").await;
    let mia = signed_in(&app, "mia").await;
    let oli = signed_in(&app, "oli").await;
    let one = json!([{"name": "a", "kind": "short", "params": {"text": "hi"}}]);
    let run = |priority: &str| {
        json!({"kind": "workflow", "priority": priority, "params": {"workflow":
            {"name": "one", "steps": one.clone()}, "params": {}}})
    };
    // A member's start of the kind above its priority is refused; through a one-step run at
    // normal, its step runs at its kind's lowest.
    let (status, direct) = mia
        .create_raw(&json!({"kind": "short", "params": {"text": "hi"}, "priority": "normal"}))
        .await;
    assert_eq!(status, 403, "{direct}");
    let (status, started) = mia.create_raw(&run("normal")).await;
    assert_eq!(status, 201, "{started}");
    let (_, steps) = mia.list(&format!("parent={}", id(&started))).await;
    assert_eq!(steps["jobs"][0]["priority"], "lowest", "{steps}");
    // An operator may raise it.
    let (status, started) = oli.create_raw(&run("urgent")).await;
    assert_eq!(status, 201, "{started}");
    let (_, steps) = oli.list(&format!("parent={}", id(&started))).await;
    assert_eq!(steps["jobs"][0]["priority"], "urgent", "{steps}");
}
