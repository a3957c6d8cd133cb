//! Limits keyed by anything through the API and the command line: who may set them and what
//! bad ones get; one at a time per parameter, with the jobs of other keys starting past a full
//! one and a held job saying why; a rate per user, saying when the next may start and starting
//! it once its window has passed; a command's declared limit, replaced at run time. (The
//! claim's counts are in the store's contract tests; exactness across processes in
//! `cluster::limits_hold_across_processes_and_a_kill`.)

use crate::client::*;
use crate::harness::{app, App};
use crate::team::{accounts_app, add_user, signed_in};
use serde_json::{json, Value};

/// POSTs `body` as JSON to `path`.
async fn post_json(s: &Session, path: &str, body: Value) -> (u16, Value) {
    let r = s.http.post(s.url(path)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The limit of `kind` in `GET /api/v1/limits` as `s` reads it.
async fn listed(s: &Session, kind: &str) -> Value {
    let (status, limits) = s.get("/api/v1/limits").await;
    assert_eq!(status, 200, "{limits}");
    limits
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

/// A demo job keyed `log_every = key`: long (`steps` × 20 ms) or short.
async fn demo_keyed(s: &Session, key: u64, steps: u64) -> String {
    let (status, job) = s
        .create(
            "demo",
            json!({"steps": steps, "interval_ms": 20, "log_every": key}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn operators_set_limits_and_bad_ones_are_refused_on_their_field() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "ola", "operator").await;
    let mia = signed_in(&app, "mia").await;
    let ola = signed_in(&app, "ola").await;
    let one_per_step = json!({"kind": "demo", "per": "param", "param": "steps", "max": 1});
    // A member may not; an anonymous caller is asked for the operator token.
    let (status, e) = post_json(&mia, "/api/v1/limits", one_per_step.clone()).await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = post_json(
        &Session::new(&app.base),
        "/api/v1/limits",
        one_per_step.clone(),
    )
    .await;
    assert!(status == 401 || status == 403, "{status} {e}");
    assert_eq!(listed(&ola, "demo").await, Value::Null, "nothing was set");
    // Bad limits, each on its field; nothing is set.
    for (body, field, says) in [
        (
            json!({"kind": "demo", "per": "kind", "max": 0}),
            "max",
            "from 1 to",
        ),
        (
            json!({"kind": "demo", "per": "kind", "max": 2_000_000}),
            "max",
            "from 1 to",
        ),
        (
            json!({"kind": "demo", "per": "kind", "max": 1, "window_ms": 10}),
            "window_ms",
            "from 1 second to a day",
        ),
        (
            json!({"kind": "demo", "per": "param", "param": "a.b", "max": 1}),
            "param",
            "a parameter's name",
        ),
        (
            json!({"kind": "demo", "per": "param", "param": "nope", "max": 1}),
            "param",
            "its parameters are: steps",
        ),
        (
            json!({"kind": "nope", "per": "kind", "max": 1}),
            "kind",
            "there is no kind",
        ),
        (
            json!({"kind": "external", "per": "kind", "max": 1}),
            "kind",
            "run elsewhere",
        ),
    ] {
        let (status, e) = post_json(&ola, "/api/v1/limits", body.clone()).await;
        assert_eq!(status, 422, "{body}: {e}");
        assert_eq!(e["fields"][0]["field"], field, "{body}: {e}");
        let message = e["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    for body in [
        json!({"kind": "demo", "max": 1}),
        json!({"kind": "demo", "per": "param", "max": 1}),
        json!("x"),
    ] {
        let (status, e) = post_json(&ola, "/api/v1/limits", body.clone()).await;
        assert!(status == 400 || status == 422, "{body}: {status} {e}");
    }
    assert_eq!(listed(&ola, "demo").await, Value::Null, "nothing was set");
    // An operator sets one; setting it again with another max replaces it.
    let (status, set) = post_json(&ola, "/api/v1/limits", one_per_step.clone()).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(
        (set["source"].as_str(), set["set_by"].as_str()),
        (Some("set"), Some("ola"))
    );
    let mut three = one_per_step.clone();
    three["max"] = json!(3);
    let (status, _) = post_json(&ola, "/api/v1/limits", three).await;
    assert_eq!(status, 200);
    let limit = listed(&mia, "demo").await;
    assert_eq!(limit["max"], 3, "{limit}");
    assert_eq!(limit["param"], "steps", "{limit}");
    // Removed: gone; removed again: it was not set.
    let (status, removed) = post_json(&ola, "/api/v1/limits/remove", one_per_step.clone()).await;
    assert_eq!(
        (status, removed["was_set"].clone()),
        (200, json!(true)),
        "{removed}"
    );
    let (_, removed) = post_json(&ola, "/api/v1/limits/remove", one_per_step.clone()).await;
    assert_eq!(removed["was_set"], false);
    let (status, _) = post_json(&mia, "/api/v1/limits/remove", one_per_step).await;
    assert_eq!(status, 403);
    assert_eq!(listed(&ola, "demo").await, Value::Null);
}

#[tokio::test]
async fn one_at_a_time_per_key_holds_a_keys_jobs_and_lets_other_keys_start_past_them() {
    let app = app().with(|c| c.max_running = 4).start().await;
    let s = app.session();
    let operator = Session::with_token(&app.base, &app.admin_token());
    let limit = json!({"kind": "demo", "per": "param", "param": "log_every", "max": 1});
    let (status, set) = post_json(&operator, "/api/v1/limits", limit.clone()).await;
    assert_eq!(status, 200, "{set}");
    // Key 1: a long job runs, and twenty more wait behind it though slots are free.
    let first = demo_keyed(&s, 1, 100_000).await;
    s.wait_status(&first, "running").await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(demo_keyed(&s, 1, 1).await);
    }
    // Key 2, queued after all of them: it starts and ends past them.
    let other = demo_keyed(&s, 2, 3).await;
    assert_eq!(s.wait_finished(&other).await["status"], "succeeded");
    let job = s.job(&held[0]).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert_eq!(job["waiting_for"], "limit", "{job}");
    assert_eq!(job["limit"]["key"], "1", "{job}");
    assert_eq!(job["limit"]["used"], 1, "{job}");
    assert_eq!(job["limit"]["param"], "log_every", "{job}");
    // The list shows the key's use.
    let listed = listed(&operator, "demo").await;
    assert_eq!(listed["keys"], json!([{"key": "1", "used": 1}]), "{listed}");
    assert_eq!(listed["keys_in_use"], 1);
    // The long one is cancelled: the held ones run one at a time, each after the last.
    operator.cancel(&first).await;
    let mut ended = Vec::new();
    for id in &held {
        ended.push(s.wait_finished(id).await);
    }
    for pair in ended.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b["started_at"].as_i64() >= a["finished_at"].as_i64(),
            "one at a time: {a} then {b}"
        );
    }
}

#[tokio::test]
async fn a_rate_per_user_says_when_the_next_start_may_be_and_starts_it_then() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;
    let operator = Session::with_token(&app.base, &app.admin_token());
    // One start every 3 seconds per user.
    let limit = json!({"kind": "demo", "per": "owner", "max": 1, "window_ms": 3000});
    let (status, set) = post_json(&operator, "/api/v1/limits", limit).await;
    assert_eq!(status, 200, "{set}");
    let first = demo_keyed(&mia, 1, 1).await;
    let first = mia.wait_finished(&first).await;
    let second = demo_keyed(&mia, 1, 1).await;
    // Another user is not held by Mia's starts.
    let theirs = demo_keyed(&max, 1, 1).await;
    assert_eq!(max.wait_finished(&theirs).await["status"], "succeeded");
    let job = mia.job(&second).await;
    let first_start = first["started_at"].as_i64().unwrap();
    if job["status"] == "queued" {
        assert_eq!(job["waiting_for"], "limit", "{job}");
        assert_eq!(job["limit"]["per"], "owner", "{job}");
        assert_eq!(job["limit"]["name"], "mia", "{job}");
        let next = job["limit"]["next_at"].as_i64().unwrap();
        assert_eq!(next, first_start + 3001, "{job}");
    }
    // It starts once the window has passed, with nothing else to wake the runner.
    let second = mia.wait_finished(&second).await;
    assert_eq!(second["status"], "succeeded");
    assert!(
        second["started_at"].as_i64().unwrap() > first_start + 3000,
        "{first} {second}"
    );
    // The operator sees the keys in use, by the users' names; a member how many, not whose.
    let seen = listed(&operator, "demo").await;
    let keys: Vec<&str> = seen["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"mia"), "Mia started a second ago: {seen}");
    let theirs = listed(&mia, "demo").await;
    assert_eq!(theirs["keys"], json!([]), "{theirs}");
    assert!(theirs["keys_in_use"].as_u64().unwrap() >= 1, "{theirs}");
}

/// A member whose job waits on a key learns what their own jobs use of it, never a count of
/// others' jobs (whether someone else runs a job with that value): the operator, who sees every
/// job, sees every job's use. Of a rate, whose starts are counted by key alone, a member learns
/// no count.
#[tokio::test]
async fn a_member_waiting_on_a_key_learns_only_what_their_own_jobs_use_of_it() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let mia = signed_in(&app, "mia").await;
    let max = signed_in(&app, "max").await;
    let operator = Session::with_token(&app.base, &app.admin_token());
    let one_per_key = json!({"kind": "demo", "per": "param", "param": "log_every", "max": 1});
    let (status, set) = post_json(&operator, "/api/v1/limits", one_per_key.clone()).await;
    assert_eq!(status, 200, "{set}");
    // Max runs a job of key 7: Mia's of the same key waits, and is told nothing of his.
    let his = demo_keyed(&max, 7, 100_000).await;
    max.wait_status(&his, "running").await;
    let hers = demo_keyed(&mia, 7, 1).await;
    let job = mia.job(&hers).await;
    assert_eq!(
        (&job["status"], &job["waiting_for"], &job["limit"]["key"]),
        (&json!("queued"), &json!("limit"), &json!("7")),
        "{job}"
    );
    assert_eq!(
        job["limit"]["used"], 0,
        "her own jobs use none of it: {job}"
    );
    let (_, page) = mia.list("status=queued").await;
    assert_eq!(page["jobs"][0]["limit"]["used"], 0, "{page}");
    assert_eq!(operator.job(&hers).await["limit"]["used"], 1);
    // Her own job of key 8 counts for her.
    let mine = demo_keyed(&mia, 8, 100_000).await;
    mia.wait_status(&mine, "running").await;
    let behind = demo_keyed(&mia, 8, 1).await;
    let job = mia.job(&behind).await;
    assert_eq!(
        (&job["waiting_for"], &job["limit"]["used"]),
        (&json!("limit"), &json!(1)),
        "{job}"
    );
    for id in [&his, &mine] {
        operator.cancel(id).await;
    }
    for (s, id) in [(&mia, &hers), (&mia, &behind)] {
        s.wait_finished(id).await;
    }
    // A rate: Max's start of key 9 fills it for a minute; Mia's waits, and learns no count.
    let (status, _) = post_json(&operator, "/api/v1/limits/remove", one_per_key).await;
    assert_eq!(status, 200);
    let rate = json!({"kind": "demo", "per": "param", "param": "log_every", "max": 1,
                      "window_ms": 60_000});
    let (status, set) = post_json(&operator, "/api/v1/limits", rate).await;
    assert_eq!(status, 200, "{set}");
    let his = demo_keyed(&max, 9, 1).await;
    max.wait_finished(&his).await;
    let hers = demo_keyed(&mia, 9, 1).await;
    let job = mia.job(&hers).await;
    assert_eq!(job["waiting_for"], "limit", "{job}");
    assert!(job["limit"].get("used").is_none(), "{job}");
    assert!(job["limit"]["next_at"].is_i64(), "{job}");
    assert_eq!(operator.job(&hers).await["limit"]["used"], 1);
    operator.cancel(&hers).await;
}

#[tokio::test]
async fn the_command_line_sets_lists_and_removes_limits() {
    let app = app().start().await;
    let headway = |args: &[&str]| app.command(args).output();
    let said = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let out = headway(&[
        "limits", "set", "demo", "--max", "10", "--every", "1m", "--per", "owner",
    ])
    .await
    .unwrap();
    assert_eq!(said(&out), "demo: 10 a minute per user");
    let out = headway(&["limits", "list"]).await.unwrap();
    let list = said(&out);
    assert!(
        list.lines().any(|l| l.starts_with("demo")
            && l.contains("10 a minute per user")
            && l.contains("set")),
        "{list}"
    );
    let out = headway(&["limits", "set", "demo", "--max", "1", "--every", "soon"])
        .await
        .unwrap();
    assert!(!out.status.success());
    let out = headway(&["limits", "set", "demo", "--max", "0"])
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("from 1 to"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = headway(&[
        "limits", "remove", "demo", "--every", "1m", "--per", "owner",
    ])
    .await
    .unwrap();
    assert_eq!(said(&out), "demo: limit removed");
    let out = headway(&["limits", "list"]).await.unwrap();
    assert_eq!(said(&out), "no limits");
}

/// A command kind whose jobs run at most one at a time per `target`.
const DEPLOY: &str = r#"
[[command]]
name = "deploy"
program = "/bin/sh"
args = ["-c", "sleep 0.2", "--", "{target}"]

[command.params.target]
type = "string"

[[command.limit]]
max = 1
per = "target"
"#;

#[tokio::test]
async fn a_commands_declared_limit_is_listed_and_replaced_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("commands.toml");
    std::fs::write(&file, DEPLOY).unwrap();
    let app: App = app().with(|c| c.commands = Some(file)).start().await;
    let operator = Session::with_token(&app.base, &app.admin_token());
    let declared = listed(&operator, "deploy").await;
    assert_eq!(
        (
            declared["source"].as_str(),
            declared["max"].as_u64(),
            declared["param"].as_str()
        ),
        (Some("declared"), Some(1), Some("target")),
        "{declared}"
    );
    let (status, set) = post_json(
        &operator,
        "/api/v1/limits",
        json!({"kind": "deploy", "per": "param", "param": "target", "max": 2}),
    )
    .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["declared_max"], 1, "{set}");
    let now = listed(&operator, "deploy").await;
    assert_eq!(
        (now["source"].as_str(), now["max"].as_u64()),
        (Some("set"), Some(2)),
        "{now}"
    );
    let (_, limits) = operator.get("/api/v1/limits").await;
    assert_eq!(
        limits.as_array().unwrap().len(),
        1,
        "one limit, replaced: {limits}"
    );
    // Its jobs run, one target at a time.
    let (status, job) = operator.create("deploy", json!({"target": "web"})).await;
    assert_eq!(status, 201, "{job}");
    let done = operator.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
}
