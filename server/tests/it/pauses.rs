//! Paused kinds: `POST /api/v1/kinds/{kind}/pause` and `/resume`, and `headway kinds`. A paused
//! kind's queued jobs stay queued and say who paused it and when, its running jobs finish, other
//! kinds go on, and nothing of it starts until it is resumed, across restarts.

use crate::client::*;
use crate::harness::{app, App};
use crate::team::{accounts_app, add_user, signed_in};
use serde_json::{json, Value};

/// Sends `POST /api/v1/kinds/{kind}/{action}` as the holder of the operator token.
async fn as_operator(app: &App, kind: &str, action: &str) -> (u16, Value) {
    let r = crate::client::http()
        .post(format!("{}/api/v1/kinds/{kind}/{action}", app.base))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Sends `POST /api/v1/kinds/{kind}/{action}` as the session `s`.
async fn as_session(s: &Session, kind: &str, action: &str) -> (u16, Value) {
    s.post(&format!("/api/v1/kinds/{kind}/{action}")).await
}

#[tokio::test]
async fn a_paused_kind_waits_queued_saying_who_paused_it_while_others_run() {
    let app = app().with(|c| c.max_running = 4).start().await;
    let s = app.session();
    let running = s.demo(40, 25).await;
    s.wait_status(&running, "running").await;
    // Twenty pauses at once (a script in a loop): one pause, the first one's time.
    let pauses =
        futures::future::join_all((0..20).map(|_| as_operator(&app, "demo", "pause"))).await;
    let (status, pause) = pauses[0].clone();
    assert_eq!(status, 200, "{pause}");
    assert_eq!(
        (pause["kind"].as_str(), pause["paused_by"].as_str()),
        (Some("demo"), Some("operator"))
    );
    assert!(
        pauses
            .iter()
            .all(|(st, p)| *st == 200 && p["paused_at"] == pause["paused_at"]),
        "{pauses:?}"
    );
    // Queued now: it waits, and says why; a job of another kind runs.
    let waiting = s.demo(1, 1).await;
    let (status, batch) = s.create("batch", json!({"items": 2, "item_kib": 1})).await;
    assert_eq!(status, 201, "{batch}");
    let batch = s.wait_finished(batch["id"].as_str().unwrap()).await;
    assert_eq!(batch["status"], "succeeded", "{batch}");
    // The running one finishes.
    assert_eq!(s.wait_finished(&running).await["status"], "succeeded");
    let job = s.job(&waiting).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert_eq!(job["waiting_for"], "paused", "{job}");
    assert_eq!(job["paused"], pause, "{job}");
    assert!(job.get("queue_position").is_none(), "out of line: {job}");
    let (_, kinds) = s.get("/api/v1/kinds").await;
    let paused_of = |name: &str| {
        kinds
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()["paused"]
            .clone()
    };
    assert_eq!(paused_of("demo"), pause);
    assert_eq!(paused_of("batch"), Value::Null);
    // Resumed: it runs at once. A second resume says it was not paused.
    let (status, resumed) = as_operator(&app, "demo", "resume").await;
    assert_eq!(
        (status, &resumed["was_paused"]),
        (200, &json!(true)),
        "{resumed}"
    );
    assert_eq!(s.wait_finished(&waiting).await["status"], "succeeded");
    let (_, again) = as_operator(&app, "demo", "resume").await;
    assert_eq!(again["was_paused"], false, "{again}");
}

#[tokio::test]
async fn pausing_every_kind_holds_them_all_across_a_restart() {
    let app = app().start().await;
    let s = app.session();
    let (status, pause) = as_operator(&app, "*", "pause").await;
    assert_eq!(
        (status, pause["kind"].as_str()),
        (200, Some("*")),
        "{pause}"
    );
    let demo = s.demo(1, 1).await;
    let (_, batch) = s.create("batch", json!({"items": 1, "item_kib": 1})).await;
    let batch = batch["id"].as_str().unwrap().to_string();
    let app = app.restart().await;
    let s = s.rebase(&app.base);
    for id in [&demo, &batch] {
        let job = s.job(id).await;
        assert_eq!(
            (job["status"].as_str(), job["waiting_for"].as_str()),
            (Some("queued"), Some("paused")),
            "{job}"
        );
        assert_eq!(job["paused"]["kind"], "*", "{job}");
    }
    let (_, kinds) = s.get("/api/v1/kinds").await;
    assert!(
        kinds
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["paused"]["kind"] == "*"),
        "{kinds}"
    );
    // A kind paused on its own stays paused when every kind is resumed.
    assert_eq!(as_operator(&app, "batch", "pause").await.0, 200);
    assert_eq!(as_operator(&app, "*", "resume").await.0, 200);
    assert_eq!(s.wait_finished(&demo).await["status"], "succeeded");
    let job = s.job(&batch).await;
    assert_eq!(
        (job["status"].as_str(), job["paused"]["kind"].as_str()),
        (Some("queued"), Some("batch")),
        "{job}"
    );
    assert_eq!(as_operator(&app, "batch", "resume").await.0, 200);
    assert_eq!(s.wait_finished(&batch).await["status"], "succeeded");
}

#[tokio::test]
async fn only_operators_and_admins_pause_and_an_unknown_kind_is_named() {
    // An open server whose local clients are not its operator (see `local_operator`): an
    // anonymous user is asked for the operator token.
    let open = app().with(|c| c.local_operator = false).start().await;
    let (status, refused) = as_session(&open.session(), "demo", "pause").await;
    assert_eq!(status, 401, "{refused}");
    let (status, unknown) = as_operator(&open, "nope", "pause").await;
    assert_eq!(status, 404, "{unknown}");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("no kind named \"nope\""),
        "{unknown}"
    );
    // A team: members and viewers may not, operators and admins may.
    let team = accounts_app().await;
    for (name, role) in [
        ("mia", "member"),
        ("vera", "viewer"),
        ("otto", "operator"),
        ("ada", "admin"),
    ] {
        add_user(&team, name, role).await;
    }
    for name in ["mia", "vera"] {
        let s = signed_in(&team, name).await;
        let (status, body) = as_session(&s, "demo", "pause").await;
        assert_eq!(status, 403, "{name}: {body}");
    }
    let (_, kinds) = as_operator(&team, "demo", "resume").await;
    assert_eq!(kinds["was_paused"], false);
    let otto = signed_in(&team, "otto").await;
    let (status, pause) = as_session(&otto, "demo", "pause").await;
    assert_eq!(
        (status, pause["paused_by"].as_str()),
        (200, Some("otto")),
        "{pause}"
    );
    let ada = signed_in(&team, "ada").await;
    let (status, resumed) = as_session(&ada, "demo", "resume").await;
    assert_eq!(
        (status, &resumed["was_paused"]),
        (200, &json!(true)),
        "{resumed}"
    );
}

#[tokio::test]
async fn the_command_line_lists_pauses_and_resumes_kinds() {
    let app = app().start().await;
    let headway = |args: &[&str], token: Option<&str>| {
        let mut command = app.command(args);
        if let Some(token) = token {
            command.env("HEADWAY_TOKEN", token);
        }
        command.output()
    };
    let out = headway(&["kinds", "pause", "import_csv"], None)
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with("import_csv: paused by operator since "),
        "{said}"
    );
    let out = headway(&["kinds", "list"], None).await.unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    let line = |kind: &str| {
        list.lines()
            .find(|l| l.starts_with(kind))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("import_csv").contains("paused by operator"), "{list}");
    assert!(line("demo").ends_with("running"), "{list}");
    // A token that is not an operator's is refused by the server, and says so.
    let out = headway(&["kinds", "resume", "import_csv"], Some("not-a-token"))
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the server refused (401)"),
        "{out:?}"
    );
    let out = headway(&["kinds", "resume", "import_csv"], None)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "import_csv: resumed"
    );
    let out = headway(&["kinds", "pause", "nope"], None).await.unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no kind named"),
        "{out:?}"
    );
}
