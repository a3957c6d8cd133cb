//! Children a running job starts itself (docs/WORKFLOWS.md, "Children of a running job"): from a
//! Rust kind's context, from a command's descriptor 3 and from an external job's report. The
//! parent frees its runner's slot once its own work ends and waits for them, ends with the last,
//! fails with one that did not succeed, finds them again by name when tried again, passes a
//! cancel on to them, and starts no more than its owner's share of the queue.

use crate::client::*;
use crate::commands::{commands_file, script};
use crate::external::report;
use crate::harness::{app, App};
use engine::kinds::{JobContext, Kind, KindEnv, Retry, RunResult};
use model::JobError;
use serde_json::{json, Value};
use std::time::Duration;

/// Starts `children` demo children of `steps` steps (`part 0`, `part 1`…; with `fail_child`, the
/// first a spawner that fails), then, with `bad`, one whose parameters demo refuses; keeps the
/// children's ids as its result, and fails its first attempt with `fail_first` (every attempt,
/// for good, with `fail`).
struct Spawner;

#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[garde(context(KindEnv))]
struct SpawnerParams {
    #[garde(skip)]
    children: u32,
    #[garde(skip)]
    #[serde(default = "one")]
    steps: u32,
    #[garde(skip)]
    #[serde(default)]
    fail_child: bool,
    #[garde(skip)]
    #[serde(default)]
    bad: bool,
    #[garde(skip)]
    #[serde(default)]
    fail_first: bool,
    #[garde(skip)]
    #[serde(default)]
    fail: bool,
}

fn one() -> u32 {
    1
}

/// A child refused: for good, as trying again would be refused again.
fn refused(e: model::AppError) -> JobError {
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    JobError::new(
        "child_refused",
        format!("{} {}", e.message, fields.join("; ")),
    )
}

impl Kind for Spawner {
    type Params = SpawnerParams;
    const NAME: &'static str = "spawner";
    const RETRY: Retry = Retry {
        max_attempts: 2,
        base: Duration::from_millis(50),
        cap: Duration::from_millis(50),
        permanent: &["child_refused", "fatal"],
    };

    async fn run(p: SpawnerParams, ctx: &mut JobContext) -> RunResult {
        if p.fail {
            return Err(JobError::new("fatal", "this one fails"));
        }
        let mut ids = Vec::new();
        for i in 0..p.children {
            let (kind, params) = match p.fail_child && i == 0 {
                true => ("spawner", json!({"children": 0, "fail": true})),
                false => ("demo", json!({"steps": p.steps, "interval_ms": 20})),
            };
            let child = ctx
                .start_child(format!("part {i}"), kind, params)
                .await
                .map_err(refused)?;
            ids.push(child.id.to_string());
        }
        if p.bad {
            ctx.start_child("bad", "demo", json!({"steps": 0, "interval_ms": 1}))
                .await
                .map_err(refused)?;
        }
        ctx.set_result(json!({"children": ids})).await?;
        if p.fail_first && ctx.attempt() == 1 {
            return Err(JobError::new("first", "the first attempt fails"));
        }
        Ok(())
    }
}

/// Asserts that `ended` failed because a child was refused, its message starting `says`.
pub(crate) fn assert_refused_child(ended: &Value, says: &str) {
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["error"]["code"], "child_refused", "{ended}");
    let message = ended["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(says), "{ended}");
}

/// A server with the spawner, `more` changing its configuration.
async fn with_spawner(more: impl FnOnce(&mut server::Config)) -> App {
    app().kind::<Spawner>().with(more).start().await
}

fn id(job: &Value) -> String {
    job["id"].as_str().expect("a job's id").to_string()
}

/// Starts a spawner with `params` as `s`, and waits for its end: its id and the job then.
async fn spawned(s: &Session, params: Value) -> (String, Value) {
    let (status, parent) = s.create("spawner", params).await;
    assert_eq!(status, 201, "{parent}");
    let parent = id(&parent);
    let ended = s.wait_finished(&parent).await;
    (parent, ended)
}

/// The children of `parent`, oldest first.
pub(crate) async fn children(s: &Session, parent: &str) -> Vec<Value> {
    let (status, page) = s.list(&format!("parent={parent}&limit=100")).await;
    assert_eq!(status, 200, "{page}");
    let mut jobs = page["jobs"].as_array().unwrap().clone();
    jobs.reverse();
    jobs
}

pub(crate) fn names(children: &[Value]) -> Vec<&str> {
    children
        .iter()
        .map(|c| c["step"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_kind_starts_children_frees_its_slot_and_ends_once_they_did() {
    // One slot: a parent that kept it while it waits would never see its children run.
    let app = with_spawner(|c| c.max_running = 1).await;
    let s = app.session();
    let (parent, ended) = spawned(&s, json!({"children": 3, "steps": 3})).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let kids = children(&s, &parent).await;
    assert_eq!(names(&kids), ["part 0", "part 1", "part 2"]);
    for kid in &kids {
        assert_eq!(kid["status"], "succeeded", "{kid}");
        assert_eq!(kid["parent"], parent.as_str(), "{kid}");
        assert!(
            kid["finished_at"].as_i64() <= ended["finished_at"].as_i64(),
            "the parent ended before its child {kid}"
        );
    }
    // Its own result is kept; its bar counts its children.
    let ids: Vec<String> = kids.iter().map(id).collect();
    assert_eq!(ended["result"], json!({"children": ids}), "{ended}");
    assert_eq!(
        (&ended["progress"]["current"], &ended["progress"]["total"]),
        (&json!(3000), &json!(3000)),
        "{ended}"
    );
    // Its page lists them.
    let shown = s.text(&format!("/jobs/{parent}")).await;
    for kid in &ids {
        assert!(
            shown.contains(&format!("href=\"/jobs/{kid}\"")),
            "{kid} not on its page"
        );
    }
    // Its children are its owner's: nobody else sees them.
    let other = app.session();
    let (status, _) = other.get(&format!("/api/v1/jobs/{}", ids[0])).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_parent_fails_with_a_child_that_failed_or_was_refused() {
    let app = with_spawner(|_| {}).await;
    let s = app.session();
    // A child that fails every attempt: the parent fails once it ended, naming it.
    let (parent, ended) = spawned(&s, json!({"children": 2, "fail_child": true})).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["error"]["code"], "step_failed", "{ended}");
    let message = ended["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"part 0\" failed"), "{message}");
    let kids = children(&s, &parent).await;
    assert_eq!(
        kids[1]["status"], "succeeded",
        "the other child still ran: {kids:?}"
    );
    // A child whose parameters its kind refuses: the parent's own work fails, saying why, and
    // the child it started before is cancelled.
    let (parent, ended) = spawned(&s, json!({"children": 1, "steps": 100_000, "bad": true})).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["error"]["code"], "child_refused", "{ended}");
    assert!(
        ended["error"]["message"]
            .as_str()
            .unwrap()
            .contains("steps"),
        "{ended}"
    );
    assert_eq!(ended["attempt"], 1, "a refusal is for good: {ended}");
    let kids = children(&s, &parent).await;
    assert_eq!(names(&kids), ["part 0"]);
    let kid = s.wait_finished(&id(&kids[0])).await;
    assert_eq!(kid["status"], "cancelled", "{kid}");
}

#[tokio::test]
async fn a_parent_tried_again_finds_its_children_by_name() {
    let app = with_spawner(|_| {}).await;
    let s = app.session();
    let (parent, ended) = spawned(&s, json!({"children": 2, "fail_first": true})).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    assert_eq!(ended["attempt"], 2, "{ended}");
    let kids = children(&s, &parent).await;
    assert_eq!(names(&kids), ["part 0", "part 1"], "each once: {kids:?}");
    let ids: Vec<String> = kids.iter().map(id).collect();
    assert_eq!(ended["result"], json!({"children": ids}), "{ended}");
}

#[tokio::test]
async fn cancelling_a_parent_that_waits_cancels_its_children() {
    let app = with_spawner(|_| {}).await;
    let s = app.session();
    let (_, parent) = s
        .create("spawner", json!({"children": 2, "steps": 100_000}))
        .await;
    let parent = id(&parent);
    // Its own work ends at once; it waits, running, while its children run.
    let kid = loop {
        let kids = children(&s, &parent).await;
        if kids.len() == 2 {
            break id(&kids[0]);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    s.wait_status(&kid, "running").await;
    let (status, _) = s.cancel(&parent).await;
    assert_eq!(status, 200);
    let ended = s.wait_finished(&parent).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    for kid in children(&s, &parent).await {
        assert_eq!(kid["status"], "cancelled", "{kid}");
    }
}

#[tokio::test]
async fn a_flood_of_children_stops_at_its_owners_share_and_others_go_on() {
    let app = with_spawner(|c| {
        c.max_running = 2;
        c.max_queued_per_user = 4;
    })
    .await;
    let flood = app.session();
    let (parent, ended) = spawned(&flood, json!({"children": 50, "steps": 100_000})).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["error"]["code"], "child_refused", "{ended}");
    // No more than the share were made, and they are cancelled with it.
    let kids = children(&flood, &parent).await;
    assert!(kids.len() <= 5, "{} children", kids.len());
    for kid in &kids {
        let kid = flood.wait_finished(&id(kid)).await;
        assert_eq!(kid["status"], "cancelled", "{kid}");
    }
    let other = app.session();
    let (status, theirs) = other
        .create("demo", json!({"steps": 1, "interval_ms": 1}))
        .await;
    assert_eq!(status, 201, "{theirs}");
    assert_eq!(
        other.wait_finished(&id(&theirs)).await["status"],
        "succeeded"
    );
}

const SPAWNING: &str = r#"
[[command]]
name = "spawning"
program = "SCRIPTS/spawning.sh"

[command.params.bad]
type = "boolean"
default = false
"#;

/// Asks for two children on fd 3 (one of them twice), and with `--bad` for one demo refuses.
const SPAWNING_SH: &str = r#"#!/bin/sh
echo 'child {"name": "a", "kind": "demo", "params": {"steps": 3, "interval_ms": 20}}' >&3
echo 'child {"name": "b", "kind": "demo", "params": {"steps": 3, "interval_ms": 20}}' >&3
echo 'child {"name": "a", "kind": "demo", "params": {"steps": 3, "interval_ms": 20}}' >&3
if [ "$HEADWAY_PARAM_BAD" = "true" ]; then
  echo 'child {"name": "c", "kind": "demo", "params": {"steps": 0, "interval_ms": 1}}' >&3
fi
echo done
"#;

#[tokio::test]
async fn a_command_starts_children_through_its_descriptor_3() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "spawning.sh", SPAWNING_SH);
    let file = commands_file(dir.path(), SPAWNING);
    let app = app().with(|c| c.commands = Some(file)).start().await;
    let s = app.session();
    let (status, parent) = s.create("spawning", json!({})).await;
    assert_eq!(status, 201, "{parent}");
    let parent = id(&parent);
    let ended = s.wait_finished(&parent).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let kids = children(&s, &parent).await;
    assert_eq!(names(&kids), ["a", "b"], "a once: {kids:?}");
    assert!(kids.iter().all(|k| k["status"] == "succeeded"), "{kids:?}");
    let log: Vec<String> = s
        .log(&parent)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect();
    assert!(
        log.iter()
            .any(|l| l.starts_with("child \"b\" started: job ")),
        "{log:?}"
    );
    // A child refused fails the job at its end, though the program exited 0; the others ran.
    let (_, parent) = s.create("spawning", json!({"bad": true})).await;
    let parent = id(&parent);
    let ended = s.wait_finished(&parent).await;
    assert_refused_child(&ended, "child \"c\" was refused: steps");
}

#[tokio::test]
async fn an_external_job_starts_children_in_its_reports_and_ends_after_them() {
    let app = app().start().await;
    let s = app.session();
    let (status, job) = s.create("external", json!({"title": "nightly"})).await;
    assert_eq!(status, 201, "{job}");
    let (parent, token) = (id(&job), job["report_token"].as_str().unwrap().to_string());
    let demo = |name: &str, steps: u64| json!({"name": name, "kind": "demo", "params": {"steps": steps, "interval_ms": 20}});
    // A child demo refuses refuses the report, naming it; so does a child without a name.
    for (children, field) in [
        (json!([demo("a", 3), demo("b", 0)]), "children[1].steps"),
        (json!([{"name": "", "kind": "demo"}]), "children[0].name"),
    ] {
        let (status, refused) = report(&s, &parent, &token, json!({ "children": children })).await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["fields"][0]["field"], field, "{refused}");
    }
    // Sent again, mended, with its end: the child made before is found again by its name.
    let (status, answer) = report(
        &s,
        &parent,
        &token,
        json!({"children": [demo("a", 3), demo("b", 3)],
               "end": {"status": "succeeded"}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let kids = children(&s, &parent).await;
    assert_eq!(names(&kids), ["a", "b"], "{kids:?}");
    let ids: Vec<String> = kids.iter().map(id).collect();
    assert_eq!(answer["children"], json!(ids), "{answer}");
    // It ended its own work; it ends once its children did, with no lease to lose meanwhile.
    let ended = s.wait_finished(&parent).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    for kid in ids {
        let kid = s.job(&kid).await;
        assert_eq!(kid["status"], "succeeded", "{kid}");
        assert!(kid["finished_at"].as_i64() <= ended["finished_at"].as_i64());
    }
    // Its token starts no children once it ended.
    let (status, _) = report(&s, &parent, &token, json!({"children": [demo("c", 1)]})).await;
    assert_eq!(status, 409);
}
