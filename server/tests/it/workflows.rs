//! Workflow runs through the API: a run is a job of kind `workflow` whose steps are its
//! children, each started once the steps it needs succeeded, with parameters rendered from the
//! run's and from what those steps left; a failed step cancels what has not started, or lets the
//! other branches finish; a cancel reaches every step; the run's bar moves with its steps; bad
//! starts are refused naming the field. On SQLite, and on PostgreSQL with
//! `HEADWAY_TEST_BACKEND=postgres`.

use crate::client::*;
use crate::commands::{commands_file, script};
use crate::harness::{app, App};
use crate::schedules;
use serde_json::{json, Value};
use std::path::Path;

/// `count N` says `result {"n": N}` on descriptor 3; `fail` fails.
const COMMANDS: &str = r#"
[[command]]
name = "count"
program = "SCRIPTS/count.sh"
args = ["{n}"]

[command.params.n]
type = "integer"
min = 1
max = 1000
required = true

[[command]]
name = "fail"
program = "SCRIPTS/fail.sh"

[[command]]
name = "listing"
program = "SCRIPTS/listing.sh"

[[command]]
name = "even"
program = "SCRIPTS/even.sh"
args = ["{n}"]

[command.params.n]
type = "integer"
required = true

[[command]]
name = "read"
program = "SCRIPTS/read.sh"
args = ["{file}"]

[command.params.file]
type = "file"
accept = [".txt"]

[[command]]
name = "flaky"
program = "SCRIPTS/flaky.sh"
args = ["{n}"]

[command.params.n]
type = "integer"
min = 1
max = 1000
required = true
"#;

const WORKFLOWS: &str = r#"
[[workflow]]
name = "pipeline"
title = "Count, then count again"

[workflow.params.n]
type = "integer"
min = 1
max = 100
default = 3

[[workflow.step]]
name = "first"
kind = "count"
params = { n = "{n}" }

[[workflow.step]]
name = "second"
title = "Count again"
kind = "count"
needs = ["first"]
params = { n = "{steps.first.result.n}" }

[[workflow.step]]
name = "side"
kind = "demo"
params = { steps = 2, interval_ms = 5 }

[[workflow]]
name = "stops"
on_failure = "cancel"

[[workflow.step]]
name = "bad"
kind = "fail"

[[workflow.step]]
name = "slow"
kind = "demo"
params = { steps = 20, interval_ms = 50 }

[[workflow.step]]
name = "after_slow"
kind = "demo"
needs = ["slow"]
params = { steps = 1, interval_ms = 1 }

[[workflow]]
name = "finishes"
on_failure = "finish"

[[workflow.step]]
name = "bad"
kind = "fail"

[[workflow.step]]
name = "slow"
kind = "demo"
params = { steps = 20, interval_ms = 50 }

[[workflow.step]]
name = "after_slow"
kind = "demo"
needs = ["slow"]
params = { steps = 1, interval_ms = 1 }

[[workflow.step]]
name = "after_bad"
kind = "demo"
needs = ["bad"]
params = { steps = 1, interval_ms = 1 }

[[workflow]]
name = "long"

[[workflow.step]]
name = "one"
kind = "demo"
params = { steps = 600, interval_ms = 100 }

[[workflow.step]]
name = "two"
kind = "demo"
needs = ["one"]
params = { steps = 1, interval_ms = 1 }

[[workflow]]
name = "mends"

[[workflow.step]]
name = "first"
kind = "count"
params = { n = 4 }

[[workflow.step]]
name = "second"
kind = "flaky"
needs = ["first"]
params = { n = "{steps.first.result.n}" }

[[workflow]]
name = "fans"

[[workflow.step]]
name = "list"
kind = "listing"

[[workflow.step]]
name = "fan"
kind = "even"
needs = ["list"]
each = "{steps.list.result.items}"
concurrency = 2
succeed_at = 80
params = { n = "{item}" }

[[workflow.step]]
name = "after"
kind = "count"
needs = ["fan"]
params = { n = 1 }

[[workflow]]
name = "strict_fans"

[[workflow.step]]
name = "list"
kind = "listing"

[[workflow.step]]
name = "fan"
kind = "even"
needs = ["list"]
each = "{steps.list.result.items}"
params = { n = "{item}" }

[[workflow]]
name = "many"

[workflow.params.n]
type = "integer"
required = true

[[workflow.step]]
name = "each"
kind = "demo"
each = "{n}"
params = { steps = 1, interval_ms = 0 }

[[workflow]]
name = "hands_on"

[workflow.params.n]
type = "integer"
required = true

[[workflow.step]]
name = "first"
kind = "count"
params = { n = "{n}" }

[[workflow.step]]
name = "read"
kind = "read"
needs = ["first"]
params = { file = "{steps.first.outputs.n.txt}" }

[[workflow]]
name = "reads_one"

[workflow.params.src]
type = "file"
accept = [".txt"]

[[workflow.step]]
name = "read"
kind = "read"
params = { file = "{src}" }

[[workflow]]
name = "unreadable"

[[workflow.step]]
name = "first"
kind = "count"
params = { n = 2 }

[[workflow.step]]
name = "second"
kind = "count"
needs = ["first"]
params = { n = "{steps.first.result.missing}" }
"#;

fn write_scripts(dir: &Path) {
    script(
        dir,
        "count.sh",
        "#!/bin/sh\necho \"$1\" > \"$HEADWAY_OUTPUT_DIR/n.txt\"\nprintf 'result {\"n\": %s}\\n' \"$1\" >&3\n",
    );
    script(
        dir,
        "read.sh",
        "#!/bin/sh\nprintf 'result {\"read\": %s}\\n' \"$(cat \"$1\")\" >&3\n",
    );
    script(
        dir,
        "fail.sh",
        "#!/bin/sh\necho failing on purpose >&2\nexit 3\n",
    );
    // Fails until the file `mended` is in its folder.
    let mended = dir.join("mended");
    let flaky = format!(
        "#!/bin/sh\n[ -f '{}' ] || {{ echo not mended yet >&2; exit 3; }}\n\
         printf 'result {{\"n\": %s}}\\n' \"$1\" >&3\n",
        mended.display()
    );
    script(dir, "flaky.sh", &flaky);
    script(
        dir,
        "listing.sh",
        "#!/bin/sh\necho 'result {\"items\": [2, 4, 6, 7, 8]}' >&3\n",
    );
    script(
        dir,
        "even.sh",
        "#!/bin/sh\n[ $(( $1 % 2 )) -eq 0 ] || { echo \"$1 is odd\" >&2; exit 3; }\n",
    );
}

/// A server with the commands and workflows above.
async fn with_workflows() -> (App, tempfile::TempDir) {
    with_workflows_and(|_| {}).await
}

/// [`with_workflows`], its configuration changed by `more`.
async fn with_workflows_and(more: impl FnOnce(&mut server::Config)) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_scripts(dir.path());
    let commands = commands_file(dir.path(), COMMANDS);
    let workflows = dir.path().join("workflows.toml");
    std::fs::write(&workflows, WORKFLOWS).unwrap();
    let app = app()
        .with(|c| {
            c.commands = Some(commands);
            c.workflows = Some(workflows);
            c.cancel_grace_ms = 500;
            more(c);
        })
        .start()
        .await;
    (app, dir)
}

/// Starts a run of `workflow` with `params`: the answer.
async fn run(s: &Session, workflow: &str, params: Value) -> (u16, Value) {
    s.create_raw(&json!({"kind": "workflow", "params": {"workflow": workflow, "params": params}}))
        .await
}

fn id(job: &Value) -> String {
    job["id"].as_str().expect("a job's id").to_string()
}

/// The run's steps, by name.
async fn steps(s: &Session, run: &str) -> Vec<Value> {
    let (status, page) = s.get(&format!("/api/v1/jobs?parent={run}&limit=100")).await;
    assert_eq!(status, 200, "{page}");
    page["jobs"].as_array().unwrap().clone()
}

fn step<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {steps:?}"))
}

#[tokio::test]
async fn a_run_starts_each_step_once_its_needs_succeeded_with_what_they_left() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (_, listed) = s.get("/api/v1/workflows").await;
    assert_eq!(listed[0]["name"], "pipeline", "{listed}");
    assert_eq!(listed[0]["params"][0]["name"], "n", "{listed}");
    let (status, started) = run(&s, "pipeline", json!({"n": 7})).await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["kind"], "workflow");
    assert_eq!(
        started["status"], "running",
        "a run runs from its start: {started}"
    );
    let run_id = id(&started);
    s.wait_status(&run_id, "succeeded").await;
    let all = steps(&s, &run_id).await;
    assert_eq!(all.len(), 3, "{all:?}");
    let (first, second) = (step(&all, "first"), step(&all, "second"));
    for st in &all {
        assert_eq!(st["parent"], run_id.as_str(), "{st}");
        assert_eq!(st["status"], "succeeded", "{st}");
    }
    assert_eq!(first["result"], json!({"n": 7}), "{first}");
    // A search for a step's id finds it, though the history lists a run as one row.
    let first_id = first["id"].as_str().unwrap();
    let (_, found) = s.get(&format!("/api/v1/jobs?q={}", &first_id[..8])).await;
    assert_eq!(found["jobs"][0]["id"], first_id, "{found}");
    let (_, runs) = s.get("/api/v1/jobs?limit=100").await;
    assert!(
        runs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["parent"].is_null()),
        "{runs}"
    );
    // Rendered from the first step's result once it succeeded, a number kept a number.
    assert_eq!(second["params"], json!({"n": 7}), "{second}");
    assert!(
        second["started_at"].as_i64().unwrap() >= first["finished_at"].as_i64().unwrap(),
        "{first} {second}"
    );
    let done = s.job(&run_id).await;
    // Its page calls a step by its own title (its box in the graph, its row), one without by
    // its name.
    let run_page = page(&s, &format!("/jobs/{run_id}")).await;
    for (step, called) in [("second", "Count again"), ("first", "first")] {
        assert!(
            run_page.contains(&format!("data-step=\"{step}\"")),
            "{step}: {run_page}"
        );
        assert!(
            run_page.contains(&format!("<span class=\"run-node-name\">{called}</span>")),
            "{step} called {called}: {run_page}"
        );
    }
    assert!(
        run_page.contains(">Count again</a>"),
        "its row's title: {run_page}"
    );
    // The workflow's name is a kind to start: the same run, its parameters as a kind's.
    let (status, by_name) = s
        .create_raw(&json!({"kind": "pipeline", "params": {"n": 2}}))
        .await;
    assert_eq!(status, 201, "{by_name}");
    assert_eq!(by_name["kind"], "workflow", "{by_name}");
    assert_eq!(
        by_name["params"],
        json!({"workflow": "pipeline", "params": {"n": 2}})
    );
    assert_eq!(done["progress"]["current"], 3000, "{done}");
    assert_eq!(done["progress"]["total"], 3000, "{done}");
    assert_eq!(done["progress"]["message"], "3 of 3 steps ended", "{done}");
    assert!(done["error"].is_null(), "{done}");
}

#[tokio::test]
async fn a_failed_step_cancels_what_has_not_started_and_fails_the_run_naming_it() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (status, started) = run(&s, "stops", json!({})).await;
    assert_eq!(status, 201, "{started}");
    let run_id = id(&started);
    s.wait_status(&run_id, "failed").await;
    let all = steps(&s, &run_id).await;
    assert_eq!(step(&all, "bad")["status"], "failed", "{all:?}");
    // Running when the other failed: it ran to its end.
    assert_eq!(step(&all, "slow")["status"], "succeeded", "{all:?}");
    let cancelled = step(&all, "after_slow");
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["error"]["code"], "step_failed", "{cancelled}");
    assert!(cancelled["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"bad\" failed"));
    assert!(
        cancelled["started_at"].is_null(),
        "it never started: {cancelled}"
    );
    let done = s.job(&run_id).await;
    assert_eq!(done["error"]["code"], "step_failed", "{done}");
    assert!(
        done["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("step \"bad\" failed"),
        "{done}"
    );
}

#[tokio::test]
async fn with_on_failure_finish_the_other_branches_run_and_the_run_fails_at_the_end() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (status, started) = run(&s, "finishes", json!({})).await;
    assert_eq!(status, 201, "{started}");
    let run_id = id(&started);
    s.wait_status(&run_id, "failed").await;
    let all = steps(&s, &run_id).await;
    assert_eq!(step(&all, "after_slow")["status"], "succeeded", "{all:?}");
    // What needed the failed step is cancelled, naming it.
    let after_bad = step(&all, "after_bad");
    assert_eq!(after_bad["status"], "cancelled", "{after_bad}");
    assert_eq!(after_bad["error"]["code"], "need_failed", "{after_bad}");
    let done = s.job(&run_id).await;
    assert!(
        done["finished_at"].as_i64().unwrap()
            >= step(&all, "after_slow")["finished_at"].as_i64().unwrap(),
        "the run ended with its last step: {done}"
    );
}

#[tokio::test]
async fn cancelling_a_run_cancels_its_steps_running_and_waiting() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (_, started) = run(&s, "long", json!({})).await;
    let run_id = id(&started);
    let all = steps(&s, &run_id).await;
    let one = id(step(&all, "one"));
    s.wait_status(&one, "running").await;
    // Not ended: there is nothing to re-run yet.
    let (status, e) = s.post(&format!("/api/v1/jobs/{run_id}/rerun")).await;
    assert_eq!(status, 409, "{e}");
    let (status, cancelling) = s.cancel(&run_id).await;
    assert_eq!(status, 200, "{cancelling}");
    s.wait_status(&run_id, "cancelled").await;
    let all = steps(&s, &run_id).await;
    assert_eq!(step(&all, "one")["status"], "cancelled", "{all:?}");
    let two = step(&all, "two");
    assert_eq!(two["status"], "cancelled", "{two}");
    assert!(two["started_at"].is_null(), "{two}");
    // An ended run is not cancelled again.
    assert_eq!(s.cancel(&run_id).await.0, 409);
}

#[tokio::test]
async fn a_step_whose_parameters_cannot_be_rendered_fails_saying_why() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (_, started) = run(&s, "unreadable", json!({})).await;
    let run_id = id(&started);
    s.wait_status(&run_id, "failed").await;
    let all = steps(&s, &run_id).await;
    let second = step(&all, "second");
    assert_eq!(second["status"], "failed", "{second}");
    assert_eq!(second["error"]["code"], "step_params", "{second}");
    assert_eq!(
        second["error"]["message"],
        "the parameters of step \"second\": the result of step \"first\" has no missing"
    );
}

#[tokio::test]
async fn a_bad_start_is_refused_naming_the_field_and_leaves_nothing() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (status, e) = run(&s, "nope", json!({})).await;
    assert_eq!(status, 404, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no workflow \"nope\""),
        "{e}"
    );
    let (status, e) = run(&s, "pipeline", json!({"n": 0})).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["fields"][0]["field"], "n", "{e}");
    let (status, e) = run(&s, "pipeline", json!({"n": 3, "other": 1})).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["fields"][0]["field"], "other", "{e}");
    let (status, e) = s
        .create_raw(&json!({"kind": "workflow", "params": {"name": "pipeline"}}))
        .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["fields"][0]["field"], "params", "{e}");
    let (status, e) = s
        .create_raw(&json!({"kind": "workflow", "params": {"workflow": "pipeline"}, "after": [id(&json!({"id": "x"}))]}))
        .await;
    assert_eq!(status, 422, "{e}");
    let (_, page) = s.get("/api/v1/jobs").await;
    assert_eq!(page["jobs"], json!([]), "nothing was made: {page}");
}

#[tokio::test]
async fn re_running_a_failed_run_keeps_what_succeeded_and_runs_the_rest() {
    let (app, dir) = with_workflows().await;
    let s = app.session();
    let (_, started) = run(&s, "mends", json!({})).await;
    let first_run = id(&started);
    s.wait_status(&first_run, "failed").await;
    let before = steps(&s, &first_run).await;
    let old_first = step(&before, "first").clone();
    assert_eq!(step(&before, "second")["status"], "failed", "{before:?}");
    std::fs::write(dir.path().join("mended"), "").unwrap();

    let (status, again) = s.post(&format!("/api/v1/jobs/{first_run}/rerun")).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["origin"], first_run.as_str(), "{again}");
    let second_run = id(&again);
    s.wait_status(&second_run, "succeeded").await;
    let after = steps(&s, &second_run).await;
    assert_eq!(after.len(), 2, "{after:?}");
    // The step that succeeded is kept as it ended: not run again, its result and file kept.
    let kept = step(&after, "first");
    assert_eq!(kept["origin"], old_first["id"], "{kept}");
    assert_eq!(kept["started_at"], old_first["started_at"], "{kept}");
    assert_eq!(kept["result"], json!({"n": 4}), "{kept}");
    let file = s
        .http
        .get(s.url(&format!("/api/v1/jobs/{}/outputs/n.txt", id(kept))))
        .send()
        .await
        .unwrap();
    let (kept_status, body) = (file.status().as_u16(), file.text().await.unwrap());
    assert_eq!((kept_status, body.trim()), (200, "4"));
    // The other ran again, from what the kept one left.
    let rerun = step(&after, "second");
    assert_eq!(rerun["params"], json!({"n": 4}), "{rerun}");
    assert!(rerun["origin"].is_null(), "{rerun}");
    let done = s.job(&second_run).await;
    assert_eq!(done["progress"]["current"], 2000, "{done}");

    // A run that succeeded runs again whole.
    let (status, whole) = s.post(&format!("/api/v1/jobs/{second_run}/rerun")).await;
    assert_eq!(status, 201, "{whole}");
    s.wait_status(&id(&whole), "succeeded").await;
    let all = steps(&s, &id(&whole)).await;
    assert!(all.iter().all(|st| st["origin"].is_null()), "{all:?}");
}

#[tokio::test]
async fn a_schedule_starts_runs_of_a_workflow_at_its_times_and_when_run_now() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    // Its parameters are checked as a run's, steps included.
    let (status, e) = schedules::create(
        &s,
        json!({"kind": "pipeline", "params": {"n": 500}, "cron": "* * * * * *"}),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["fields"][0]["field"], "n", "{e}");
    let mut events = s.events("/api/v1/events", None).await;
    let (status, schedule) = schedules::create(
        &s,
        json!({"kind": "pipeline", "params": {"n": 5}, "cron": "* * * * * *"}),
    )
    .await;
    assert_eq!(status, 201, "{schedule}");
    let id = schedule["id"].as_str().unwrap().to_string();
    // Two fire times, each a run of its own.
    let mut runs: Vec<String> = Vec::new();
    read_until(&mut events, |e| {
        let job = data(e);
        if e.event == "job"
            && job["schedule_id"] == id.as_str()
            && job["kind"] == "workflow"
            && !runs.iter().any(|r| job["id"] == r.as_str())
        {
            runs.push(id_of(&job));
        }
        runs.len() >= 2
    })
    .await;
    assert_eq!(schedules::delete(&s, &id).await, 204);
    for run_id in &runs {
        s.wait_status(run_id, "succeeded").await;
        let run = s.job(run_id).await;
        assert_eq!(run["params"]["params"], json!({"n": 5}), "{run}");
        assert!(run["scheduled_for"].is_i64(), "{run}");
        let all = steps(&s, run_id).await;
        assert_eq!(step(&all, "second")["params"], json!({"n": 5}), "{all:?}");
    }
    // Run now: a run too, for no fire time.
    let (status, again) = schedules::create(
        &s,
        json!({"kind": "pipeline", "params": {"n": 6}, "cron": "0 0 1 1 *"}),
    )
    .await;
    assert_eq!(status, 201, "{again}");
    let (status, now) = s
        .post(&format!(
            "/api/v1/schedules/{}/run",
            again["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 201, "{now}");
    assert_eq!(now["kind"], "workflow", "{now}");
    s.wait_status(&id_of(&now), "succeeded").await;
}

fn id_of(job: &Value) -> String {
    id(job)
}

#[tokio::test]
async fn the_command_line_starts_a_run_by_its_workflows_name_and_follows_it_to_its_end() {
    let (app, _dir) = with_workflows().await;
    let base = app.base.clone();
    let (code, _, err) = app
        .client(&base, &["start", "pipeline", "--param", "n=3", "--follow"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("succeeded"), "{err}");
    // A bad value is refused naming the field, and nothing starts.
    let (code, _, err) = app
        .client(&base, &["start", "pipeline", "--param", "n=0"])
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("must be"), "{err}");

    // A workflow of one's own, written as in the workflows file, runs from its file.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("own.toml");
    std::fs::write(
        &own,
        "[[workflow]]\nname = \"own\"\n[workflow.params.n]\ntype = \"integer\"\n\
         [[workflow.step]]\nname = \"a\"\nkind = \"count\"\nparams = { n = \"{n}\" }\n\
         [[workflow.step]]\nname = \"b\"\nkind = \"read\"\nneeds = [\"a\"]\n\
         params = { file = \"{steps.a.outputs.n.txt}\" }\n",
    )
    .unwrap();
    let own = own.to_str().unwrap();
    let (code, out, err) = app
        .client(
            &base,
            &[
                "start",
                "workflow",
                "--definition",
                own,
                "--param",
                "n=5",
                "--follow",
            ],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    let s = Session::with_token(&base, &app.admin_token());
    let (_, runs) = s.list("kind=workflow").await;
    let mine = runs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["params"]["workflow"] == "own")
        .unwrap_or_else(|| panic!("{out} {runs}"))
        .clone();
    assert_eq!(mine["status"], "succeeded", "{mine}");
    let all = steps(&s, &id(&mine)).await;
    assert_eq!(step(&all, "b")["result"], json!({"read": 5}), "{all:?}");
    // A mistake in it says where, and nothing starts.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[workflow]]\nname = \"bad\"\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.toml");
    let (code, _, err) = app
        .client(
            &base,
            &["start", "workflow", "--definition", bad.to_str().unwrap()],
        )
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("a workflow needs at least one step"), "{err}");
}

#[tokio::test]
async fn a_fan_out_runs_its_kind_once_per_item_a_few_at_a_time_and_succeeds_past_its_threshold() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (_, started) = run(&s, "fans", json!({})).await;
    let run_id = id(&started);
    s.wait_status(&run_id, "succeeded").await;
    let all = steps(&s, &run_id).await;
    assert_eq!(all.len(), 3, "the fan-out is one step of the run: {all:?}");
    let fan = step(&all, "fan");
    assert_eq!(fan["status"], "succeeded", "{fan}");
    assert_eq!(fan["progress"]["message"], "4 of 5 done, 1 failed", "{fan}");
    assert_eq!(step(&all, "after")["status"], "succeeded", "{all:?}");
    // Its items are its own steps, one per item, in the list's order.
    let items = steps(&s, &id(fan)).await;
    assert_eq!(items.len(), 5, "{items:?}");
    let by_place = |i: usize| step(&items, &format!("fan[{i}]")).clone();
    let values: Vec<Value> = (0..5).map(|i| by_place(i)["params"]["n"].clone()).collect();
    assert_eq!(values, [json!(2), json!(4), json!(6), json!(7), json!(8)]);
    assert_eq!(by_place(3)["status"], "failed", "{items:?}");
    // Its items are re-run with the run, not alone.
    let (status, e) = s.post(&format!("/api/v1/jobs/{}/rerun", id(fan))).await;
    assert_eq!(status, 409, "{e}");
    // Two at a time: each item past the second started once the one two before it ended.
    for i in 2..5 {
        let (now, before) = (by_place(i), by_place(i - 2));
        assert!(
            now["started_at"].as_i64().unwrap() >= before["finished_at"].as_i64().unwrap(),
            "{before} {now}"
        );
    }
}

/// The HTML of the page at `path`.
async fn page(s: &Session, path: &str) -> String {
    let r = s.http.get(s.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_fan_out_over_a_count_runs_that_many_items_and_its_page_links_to_them_all() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (status, started) = run(&s, "many", json!({"n": 150})).await;
    assert_eq!(status, 201, "{started}");
    let run_id = id(&started);
    s.wait_status(&run_id, "succeeded").await;
    let group = steps(&s, &run_id).await.remove(0);
    let group_id = id(&group);
    assert_eq!(
        group["progress"]["message"], "150 of 150 done, 0 failed",
        "{group}"
    );
    // Its items 0 to 149, each with its place as its item.
    let (_, items) = s
        .get(&format!("/api/v1/jobs?parent={group_id}&limit=200"))
        .await;
    let items = items["jobs"].as_array().unwrap().clone();
    assert_eq!(items.len(), 150);
    let mut names: Vec<String> = items
        .iter()
        .map(|j| j["step"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 150, "each item once");
    assert!(names.contains(&"each[149]".to_string()), "{names:?}");
    // The group's page shows the last 100 and links to all of them; the run's, with its one
    // step, needs no link. The run's page draws its graph: one box.
    let shown = page(&s, &format!("/jobs/{group_id}")).await;
    assert!(
        shown.contains(&format!("href=\"/?parent={group_id}\"")),
        "no link to all the items"
    );
    let run_page = page(&s, &format!("/jobs/{run_id}")).await;
    assert!(!run_page.contains(&format!("href=\"/?parent={run_id}\"")));
    assert_eq!(run_page.matches("class=\"run-node\"").count(), 1, "one box");
    // A count past the bound fails the step, saying so; a list that is neither is refused too.
    let (_, too_many) = run(&s, "many", json!({"n": 10_001})).await;
    let too_many = id(&too_many);
    s.wait_status(&too_many, "failed").await;
    let failed = steps(&s, &too_many).await.remove(0);
    assert_eq!(failed["error"]["code"], "step_params", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has 10001 items, more than 10000"),
        "{failed}"
    );
}

#[tokio::test]
async fn a_fan_out_under_its_threshold_fails_its_run_saying_how_many_succeeded() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (_, started) = run(&s, "strict_fans", json!({})).await;
    let run_id = id(&started);
    s.wait_status(&run_id, "failed").await;
    let all = steps(&s, &run_id).await;
    let fan = step(&all, "fan");
    assert_eq!(fan["status"], "failed", "{fan}");
    assert_eq!(
        fan["error"]["message"], "4 of 5 items succeeded, fewer than 100 %",
        "{fan}"
    );
    let done = s.job(&run_id).await;
    assert!(
        done["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("step \"fan\" failed"),
        "{done}"
    );
}

#[tokio::test]
async fn a_steps_output_is_the_file_of_the_step_that_needs_it_and_only_its_owner_may_take_it() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (status, started) = run(&s, "hands_on", json!({"n": 42})).await;
    assert_eq!(status, 201, "{started}");
    let run_id = id(&started);
    s.wait_status(&run_id, "succeeded").await;
    let all = steps(&s, &run_id).await;
    let (first, read) = (step(&all, "first"), step(&all, "read"));
    let href = format!("/api/v1/jobs/{}/outputs/n.txt", id(first));
    // The parameter names where the file is downloaded from; the program reads its bytes.
    assert_eq!(read["params"], json!({"file": href}), "{read}");
    assert_eq!(read["result"], json!({"read": 42}), "{read}");

    // Any job of its owner's takes it as a file, checked like an upload.
    let (status, again) = s.create("read", json!({"file": href})).await;
    assert_eq!(status, 201, "{again}");
    let again = s.wait_finished(&id(&again)).await;
    assert_eq!(again["result"], json!({"read": 42}), "{again}");
    // Another user may not, nor may anyone take an output its job does not have.
    let other = app.session();
    let (status, refused) = other.create("read", json!({"file": href})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "file", "{refused}");
    let missing = href.replace("n.txt", "m.txt");
    for bad in [missing.as_str(), "/api/v1/jobs/x/outputs/n.txt", "n.txt"] {
        let (status, refused) = s.create("read", json!({"file": bad})).await;
        assert_eq!(status, 422, "{bad}: {refused}");
        let says = refused["fields"][0]["message"].as_str().unwrap();
        assert!(says.contains("no upload or output"), "{bad}: {says}");
    }
    let (status, log) = other
        .get(&format!("/api/v1/jobs/{}/outputs", id(first)))
        .await;
    assert_eq!(status, 404, "{log}");
}

#[tokio::test]
async fn a_workflows_file_parameter_takes_an_upload_of_the_one_who_starts_it() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let (status, up) = crate::files::upload(&s, "n.txt", "text/plain", b"17".to_vec()).await;
    assert_eq!(status, 201, "{up}");
    let upload = id(&up);
    let (status, started) = run(&s, "reads_one", json!({"src": upload})).await;
    assert_eq!(status, 201, "{started}");
    let run_id = id(&started);
    s.wait_status(&run_id, "succeeded").await;
    let all = steps(&s, &run_id).await;
    assert_eq!(step(&all, "read")["result"], json!({"read": 17}), "{all:?}");
    // From the form too, its field the upload's id.
    let r = s
        .start_job_form(&[("kind", "reads_one"), ("params[src]", upload.as_str())])
        .await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let (_, runs) = s.list("kind=workflow").await;
    let runs = runs["jobs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        let done = s.wait_finished(&id(run)).await;
        assert_eq!(done["status"], "succeeded", "{done}");
    }

    // Someone else's upload, or none, is refused naming the field; nothing is started.
    let other = app.session();
    for (who, src) in [(&other, upload.as_str()), (&s, "nope")] {
        let (status, refused) = run(who, "reads_one", json!({"src": src})).await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["fields"][0]["field"], "src", "{refused}");
    }
    let (_, theirs) = other.list("kind=workflow").await;
    assert_eq!(theirs["jobs"], json!([]), "{theirs}");
}

/// A workflow posted with its run: a step that counts, one that reads its file, one that fails
/// until mended.
fn posted(n: u64) -> Value {
    json!({"kind": "workflow", "params": {"workflow": {
        "name": "posted_chain",
        "title": "Posted chain",
        "params": {"n": {"type": "integer", "max": 1000}},
        "steps": [
            {"name": "first", "kind": "count", "params": {"n": "{n}"}},
            {"name": "read", "kind": "read", "needs": ["first"],
             "params": {"file": "{steps.first.outputs.n.txt}"}},
            {"name": "last", "kind": "flaky", "needs": ["read"],
             "params": {"n": "{steps.read.result.read}"}}
        ]
    }, "params": {"n": n}}})
}

#[tokio::test]
async fn a_workflow_posted_with_its_run_runs_as_the_files_and_re_runs_from_its_plan() {
    let (app, dir) = with_workflows().await;
    let s = app.session();
    let (status, started) = s.create_raw(&posted(9)).await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["kind"], "workflow", "{started}");
    assert_eq!(started["params"]["workflow"], "posted_chain", "{started}");
    let first_run = id(&started);
    s.wait_status(&first_run, "failed").await;
    let before = steps(&s, &first_run).await;
    assert_eq!(
        step(&before, "read")["result"],
        json!({"read": 9}),
        "{before:?}"
    );
    assert_eq!(step(&before, "last")["status"], "failed", "{before:?}");
    // Its page draws its graph from the plan its run keeps.
    let page = s.text(&format!("/jobs/{first_run}")).await;
    for name in ["first", "read", "last"] {
        assert!(page.contains(&format!("data-step=\"{name}\"")), "{name}");
    }
    // Its failed step re-runs, what succeeded kept.
    std::fs::write(dir.path().join("mended"), "").unwrap();
    let (status, again) = s.rerun(&first_run).await;
    assert_eq!(status, 201, "{again}");
    s.wait_status(&id(&again), "succeeded").await;
    let after = steps(&s, &id(&again)).await;
    assert_eq!(
        step(&after, "first")["origin"],
        step(&before, "first")["id"]
    );
    assert_eq!(step(&after, "last")["params"], json!({"n": 9}), "{after:?}");
    // It is its poster's: someone else sees none of it.
    let other = app.session();
    assert_eq!(other.get(&format!("/api/v1/jobs/{first_run}")).await.0, 404);
}

#[tokio::test]
async fn a_bad_posted_workflow_is_refused_naming_the_field_and_starts_nothing() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut body = posted(3);
        f(&mut body);
        body
    };
    for (body, field, says) in [
        (
            with(&|b| b["params"]["workflow"]["steps"][1]["kind"] = json!("nope")),
            "params.workflow",
            "step \"read\": kind \"nope\" is not a kind that runs here",
        ),
        (
            with(&|b| b["params"]["workflow"]["name"] = json!("pipeline")),
            "params.workflow",
            "this server has a workflow called \"pipeline\"",
        ),
        (
            with(&|b| b["params"]["workflow"]["steps"][1]["params"]["file"] = json!("{n}")),
            "params.workflow",
            "its file parameter \"file\" takes a file parameter of the workflow",
        ),
        (
            with(&|b| b["params"]["params"]["n"] = json!(5000)),
            "n",
            "at most 1000",
        ),
        (
            with(&|b| b["params"]["colour"] = json!("red")),
            "params",
            "not \"colour\"",
        ),
    ] {
        let (status, refused) = s.create_raw(&body).await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["fields"][0]["field"], field, "{refused}");
        let message = refused["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    let (_, none) = s.list("kind=workflow").await;
    assert_eq!(none["jobs"], json!([]), "{none}");
}

/// A start's body may carry a definition of up to 256 KiB with its parameters: one of 200 KiB
/// is read (and judged by the workflow's rules), one of 300 KiB is past the definition's bound
/// and the start's body both (413); any other JSON body still has 64 KiB.
#[tokio::test]
async fn a_posted_definition_of_200_kib_is_read_and_a_start_of_300_kib_is_too_large() {
    let (app, _dir) = with_workflows().await;
    let s = app.session();
    let padded = |bytes: usize| {
        let mut body = posted(3);
        body["params"]["workflow"]["description"] = json!("x".repeat(bytes));
        body
    };
    let (status, answer) = s.create_raw(&padded(200 * 1024)).await;
    assert_ne!(status, 413, "{answer}");
    assert!(
        status == 201 || answer["fields"][0]["field"] == "params.workflow",
        "read, and judged on its merits: {status} {answer}"
    );
    let (status, answer) = s.create_raw(&padded(300 * 1024)).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("294912 bytes"),
        "{answer}"
    );
    let (status, answer) = s
        .create_raw(&json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}}))
        .await;
    assert_eq!(
        status, 201,
        "the connection closed, the next request is answered: {answer}"
    );
    let r = s
        .http
        .post(s.url("/api/v1/limits"))
        .json(&json!({"kind": "demo", "per": "kind", "max": 1, "pad": "x".repeat(100 * 1024)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413, "another JSON body keeps 64 KiB");
}

#[tokio::test]
async fn a_flood_of_posted_workflows_stops_at_its_posters_share_and_others_go_on() {
    let (app, _dir) = with_workflows_and(|c| {
        c.max_running = 1;
        c.max_queued_per_user = 6;
    })
    .await;
    let flood = app.session();
    let busy = flood.demo(100_000, 20).await;
    flood.wait_status(&busy, "running").await;
    // Each run queues its three steps: the third run would pass the share of six.
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(flood.create_raw(&posted(2)).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [201, 201, 429, 429], "{answers:?}");
    let (_, runs) = flood.list("kind=workflow").await;
    assert_eq!(runs["jobs"].as_array().unwrap().len(), 2, "{runs}");
    // Someone else still starts, and is queued beside them.
    let other = app.session();
    let (status, theirs) = other
        .create("demo", json!({"steps": 1, "interval_ms": 1}))
        .await;
    assert_eq!(status, 201, "{theirs}");
    flood.cancel(&busy).await;
    other.wait_status(&id(&theirs), "succeeded").await;
}

#[tokio::test]
async fn a_runs_fan_outs_make_at_most_ten_thousand_items_in_all() {
    // A share of the queue that holds them all: the run's bound is what refuses.
    let (app, _dir) = with_workflows_and(|c| c.max_queued_per_user = 20_000).await;
    let s = app.session();
    // Two fan-outs that need nothing, each within the bound, together past it: one request would
    // otherwise queue 100 fan-outs of 10,000 items.
    let fan = |name: &str, list: &str| {
        json!({"name": name, "kind": "demo", "each": list, "concurrency": 1,
               "params": {"steps": 1, "interval_ms": 0}})
    };
    let count = json!({"type": "integer", "max": 10_000});
    let body = json!({"kind": "workflow", "params": {"workflow": {
        "name": "two_fans",
        "on_failure": "finish",
        "params": {"a": count, "b": count},
        "steps": [fan("wide", "{a}"), fan("more", "{b}")]
    }, "params": {"a": 6_000, "b": 5_000}}});
    let (status, started) = s.create_raw(&body).await;
    assert_eq!(status, 201, "{started}");
    let run_id = id(&started);
    // The steps are made, and their fan-outs made, in the order they are declared.
    let more = id(step(&steps(&s, &run_id).await, "more"));
    s.wait_status(&more, "failed").await;
    let failed = s.job(&more).await;
    assert_eq!(failed["error"]["code"], "step_params", "{failed}");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("make 5000 items after the 6000")
            && message.contains("11000 in all, more than the 10000 a run may make"),
        "{message}"
    );
    // It made none; the other made all of its own.
    let (_, none) = s.list(&format!("parent={more}&limit=1")).await;
    assert_eq!(none["jobs"].as_array().unwrap().len(), 0, "{none}");
    let wide = step(&steps(&s, &run_id).await, "wide").clone();
    assert_eq!(wide["status"], "running", "{wide}");
    let (_, items) = s.list(&format!("parent={}&limit=1", id(&wide))).await;
    assert_eq!(items["jobs"].as_array().unwrap().len(), 1, "{items}");
    s.cancel(&run_id).await;
    s.wait_status(&run_id, "cancelled").await;
}
