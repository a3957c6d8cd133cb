//! Routing by tags: a command kind that `requires` tags runs only on a process that offers
//! them all (`--tags`); elsewhere its jobs wait queued, saying so (`waiting_for: "tags"`), and
//! the other kinds' jobs go past them.
//! Across processes on PostgreSQL: `cluster::a_job_runs_only_on_the_process_that_offers_its_kinds_tags`.

use crate::commands::{commands_file, script};
use crate::harness::{app, App};
use crate::support::{headway, one_line_failure};
use serde_json::json;
use std::path::Path;

/// A command that needs a GPU: it says where it ran (the process's `WHERE`) as its result.
pub(crate) const RENDER: &str = r#"
[[command]]
name = "render"
program = "SCRIPTS/render.sh"
requires = ["gpu"]
pass_env = ["WHERE"]
"#;

pub(crate) const RENDER_SH: &str =
    "#!/bin/sh\nprintf 'result {\"where\": \"%s\"}\\n' \"${WHERE:-}\" >&3\n";

/// A server of one slot running [`RENDER`], offering `tags`.
async fn server(dir: &Path, tags: &[&str]) -> App {
    script(dir, "render.sh", RENDER_SH);
    let file = commands_file(dir, RENDER);
    let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    app()
        .with(|c| {
            c.commands = Some(file);
            c.max_running = 1;
            c.tags = tags;
        })
        .start()
        .await
}

#[tokio::test]
async fn a_kind_that_requires_a_tag_waits_where_it_is_not_offered_and_others_go_past() {
    let dir = tempfile::tempdir().unwrap();
    let app = server(dir.path(), &["eu"]).await;
    let s = app.session();
    let (status, render) = s.create("render", json!({})).await;
    assert_eq!(status, 201, "{render}");
    let render = render["id"].as_str().unwrap().to_string();
    // Behind it in the queue, for the one slot: had the render job been claimable, it would
    // have been claimed first.
    let (status, demo) = s
        .create("demo", json!({"steps": 1, "interval_ms": 0}))
        .await;
    assert_eq!(status, 201, "{demo}");
    let demo = s.wait_finished(demo["id"].as_str().unwrap()).await;
    assert_eq!(demo["status"], "succeeded", "{demo}");
    // It says what it waits for: no process here offers `gpu`.
    let (_, job) = s.get(&format!("/api/v1/jobs/{render}")).await;
    assert_eq!(
        (job["status"].as_str(), job["waiting_for"].as_str()),
        (Some("queued"), Some("tags")),
        "{job}"
    );
    // It waits, and may be cancelled like any queued job.
    let (status, _) = s.cancel(&render).await;
    assert_eq!(status, 200);
    let job = s.wait_finished(&render).await;
    assert_eq!(job["status"], "cancelled", "{job}");
}

#[tokio::test]
async fn a_process_that_offers_every_tag_a_kind_requires_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = server(dir.path(), &["eu", "gpu"]).await;
    let s = app.session();
    let (status, render) = s.create("render", json!({})).await;
    assert_eq!(status, 201, "{render}");
    let job = s.wait_finished(render["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
}

#[test]
fn bad_tags_stop_start_up_saying_which() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    // Refused by the argument parser, which names the argument and adds where to read more.
    let (code, err) = headway(&["--database-url", &db, "--tags", "gpu,GPU"]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.lines().next().unwrap_or_default().contains(
            "invalid value 'GPU' for '--tags <TAGS>': the tag \"GPU\" must be lowercase letters"
        ),
        "{err}"
    );
    let many: Vec<String> = (0..17).map(|i| format!("t{i}")).collect();
    one_line_failure(
        headway(&["--database-url", &db, "--tags", &many.join(",")]),
        "--tags: 17 tags are more than the 16 allowed",
    );
    script(dir.path(), "render.sh", RENDER_SH);
    let file = commands_file(
        dir.path(),
        &RENDER.replace("[\"gpu\"]", "[\"gpu\", \"Big GPU\"]"),
    );
    one_line_failure(
        headway(&["--database-url", &db, "--commands", file.to_str().unwrap()]),
        "command \"render\": requires: the tag \"Big GPU\" must be lowercase",
    );
}
