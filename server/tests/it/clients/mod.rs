//! The API's document is one other programs build on: a client generated from it, as served,
//! by the most used Python generator (`openapi-python-client`, which `scripts/setup.sh test`
//! installs into `.tools/venv`) and by the most used TypeScript one (`openapi-typescript`, with
//! `openapi-fetch`, in `end2end/node_modules`) starts, reads, lists and cancels a job and
//! creates a schedule on a real server, and lists every kind with its parameters' types.

use crate::harness::app;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A program of `.tools/venv/bin`, which `scripts/setup.sh test` installs.
fn tool(name: &str) -> PathBuf {
    installed(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../.tools/venv/bin")
            .join(name),
    )
}

/// `path`, which must exist.
fn installed(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh test",
        path.display()
    );
    path
}

/// Drives the generated client: its package is `headway_client` in the folder `argv[1]`, the
/// server `argv[2]`, the token `argv[3]`. Every call's answer is checked to be the type the
/// document promises, not an error.
const SCRIPT: &str = r#"
import sys
sys.path.insert(0, sys.argv[1])
from headway_client import AuthenticatedClient
from headway_client.api.jobs import cancel_job, create_job, get_job, list_jobs
from headway_client.api.schedules import create_schedule, get_schedule
from headway_client.models import CreateJob, Job, JobView, JobViewPage, Opened, Schedule, ScheduleInput

client = AuthenticatedClient(base_url=sys.argv[2], token=sys.argv[3], raise_on_unexpected_status=True)

def answer(value, *types):
    assert isinstance(value, types), f"expected {types}, got {value!r}"
    return value

started = answer(create_job.sync(client=client, body=CreateJob(kind="demo", params={"steps": 10000, "interval_ms": 50})), Job, Opened)
job = answer(get_job.sync(started.id, client=client), JobView)
assert job.id == started.id and job.kind == "demo", job
page = answer(list_jobs.sync(client=client), JobViewPage)
assert started.id in [j.id for j in page.jobs], page
cancelled = answer(cancel_job.sync(started.id, client=client), Job)
assert cancelled.status in ("cancelling", "cancelled"), cancelled.status
schedule = answer(
    create_schedule.sync(client=client, body=ScheduleInput(kind="demo", params={"steps": 1, "interval_ms": 1}, cron="0 2 * * 1-5", timezone="Europe/Paris")),
    Schedule,
)
read = answer(get_schedule.sync(schedule.id, client=client), Schedule)
assert (read.cron, read.timezone) == ("0 2 * * 1-5", "Europe/Paris"), read
# Every kind's parameters read, of every type (export_jobs has a choice, import_csv a file, a set among the built-in kinds too).
from headway_client.api.kinds import list_kinds
kinds = list_kinds.sync(client=client)
assert isinstance(kinds, list) and kinds, kinds
types = {getattr(p.type_, "value", p.type_) for k in kinds for p in k.params}
assert {"choice", "set", "file", "integer", "string"} <= types, types
print("driven", started.id, schedule.id)
"#;

#[tokio::test]
async fn a_python_client_generated_from_the_served_document_starts_reads_lists_cancels_and_schedules(
) {
    let app = app().start().await;
    let s = app.session();
    let (status, document) = s.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, document.to_string()).unwrap();
    let generated = Command::new(tool("openapi-python-client"))
        .args(["generate", "--meta", "none", "--path"])
        .arg(&path)
        .arg("--output-path")
        .arg(dir.path().join("headway_client"))
        .output()
        .expect("run openapi-python-client");
    assert!(
        dir.path().join("headway_client/client.py").exists(),
        "the generator made no client: {}",
        said(&generated)
    );
    let mut client = Command::new(tool("python"));
    client
        .args(["-c", SCRIPT])
        .arg(dir.path())
        .arg(&s.base)
        .arg(app.admin_token());
    drive(client, "the generated Python client").await;
}

/// Runs a client's program to its end, off the test's runtime (which serves the requests the
/// client sends); it must succeed and say `driven`.
async fn drive(mut client: Command, what: &'static str) {
    let driven = tokio::task::spawn_blocking(move || client.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(driven.status.success(), "{what} failed: {}", said(&driven));
    assert!(
        String::from_utf8_lossy(&driven.stdout).starts_with("driven "),
        "{what} did not finish: {}",
        said(&driven)
    );
}

/// A program of `end2end/node_modules/.bin`, which `scripts/setup.sh test` installs.
fn node_tool(name: &str) -> PathBuf {
    installed(node_modules().join(".bin").join(name))
}

fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/node_modules")
}

/// The output of a finished program, for a failure's message.
fn said(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn a_typescript_client_generated_from_the_served_document_type_checks_and_drives_the_api() {
    let app = app().start().await;
    let s = app.session();
    let (status, document) = s.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    std::fs::write(at.join("openapi.json"), document.to_string()).unwrap();
    std::fs::write(at.join("driver.mts"), include_str!("driver.mts")).unwrap();
    // The driver's imports resolve from its folder.
    std::os::unix::fs::symlink(node_modules(), at.join("node_modules")).unwrap();
    // A field with a default may be left out: the default is the server's.
    let generated = Command::new(node_tool("openapi-typescript"))
        .args([
            "openapi.json",
            "--default-non-nullable",
            "false",
            "-o",
            "schema.d.ts",
        ])
        .current_dir(at)
        .output()
        .expect("run openapi-typescript");
    assert!(
        generated.status.success() && at.join("schema.d.ts").exists(),
        "the generator made no types: {}",
        said(&generated)
    );
    let compiled = Command::new(node_tool("tsc"))
        .args([
            "--strict",
            "--skipLibCheck",
            "--target",
            "es2022",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
            "--outDir",
            "out",
            "driver.mts",
            "schema.d.ts",
        ])
        .current_dir(at)
        .output()
        .expect("run tsc");
    assert!(
        compiled.status.success(),
        "the driver does not compile against the generated types: {}",
        said(&compiled)
    );
    let mut client = Command::new("node");
    client
        .arg(at.join("out/driver.mjs"))
        .arg(&s.base)
        .arg(app.admin_token());
    drive(client, "the TypeScript client").await;
}
