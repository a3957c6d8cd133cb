//! Command kinds: programs the operator declares in a TOML file (`--commands`), run as jobs.
//! Arguments arrive literally, the environment holds only what is listed, fd 3 (and tqdm's
//! bars, when asked) move the bar while stdout cannot, exits become the job's end, no process
//! of a job survives its cancel, its timeout or a kill -9 of Headway, secrets stay out of the
//! job, and a bad file stops start-up or, on SIGHUP, keeps the commands read before.

use crate::client::*;
use crate::harness::{app, App};
use crate::support::{headway, one_line_failure, Headway};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes an executable script `name` into `dir`.
pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A commands file in `dir` with `toml`, whose `SCRIPTS` stands for `dir`.
pub(crate) fn commands_file(dir: &Path, toml: &str) -> PathBuf {
    let path = dir.join("commands.toml");
    std::fs::write(&path, toml.replace("SCRIPTS", &dir.display().to_string())).unwrap();
    path
}

/// A server running the commands `toml` (scripts written by `scripts` into its folder first).
async fn with_commands(scripts: impl FnOnce(&Path), toml: &str) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    scripts(dir.path());
    let file = commands_file(dir.path(), toml);
    let app = app()
        .with(|c| {
            c.commands = Some(file);
            c.cancel_grace_ms = 500;
        })
        .start()
        .await;
    (app, dir)
}

/// Waits (bounded) until `check` holds, looking again every 20 ms.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether process `pid` runs (a zombie waiting to be reaped does not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// The bytes of a job's output `name`.
async fn output(s: &Session, job: &str, name: &str) -> Vec<u8> {
    let r = s
        .http
        .get(s.url(&format!("/api/v1/jobs/{job}/outputs/{name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "output {name}");
    r.bytes().await.unwrap().to_vec()
}

async fn start(s: &Session, kind: &str, params: Value) -> String {
    let (status, job) = s.create(kind, params).await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_str().unwrap().to_string()
}

const ECHO: &str = r#"
[[command]]
name = "echo"
title = "Echo"
program = "SCRIPTS/echo.sh"
args = ["--", "{text}", "--n={n}", "{maybe}"]
env = { GREETING = "hello" }

[command.params.text]
type = "string"
max_length = 200

[command.params.n]
type = "integer"
min = 1
max = 9
default = 3

[command.params.maybe]
type = "string"
required = false

[command.params.mode]
type = "choice"
choices = ["fast", "slow"]
default = "fast"
"#;

/// Writes its arguments and its environment, NUL-separated, as outputs.
const ECHO_SH: &str = "#!/bin/sh\n\
    for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$HEADWAY_OUTPUT_DIR/args.bin\"\n\
    env -0 > \"$HEADWAY_OUTPUT_DIR/env.bin\"\n\
    pwd > \"$HEADWAY_OUTPUT_DIR/cwd.txt\"\n";

#[tokio::test]
async fn arguments_arrive_literally_and_the_environment_holds_only_what_is_listed() {
    let (app, _dir) = with_commands(|d| drop(script(d, "echo.sh", ECHO_SH)), ECHO).await;
    let s = app.session();
    // The kind is described like a built-in one.
    let (_, kinds) = s.get("/api/v1/kinds").await;
    let echo = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "echo")
        .expect("the command is a kind");
    assert_eq!(echo["params"][0]["max_length"], 200);
    assert_eq!(echo["params"][3]["type"], "choice");
    assert_eq!(echo["params"][3]["choices"], json!(["fast", "slow"]));

    let nasty = "a b; rm -rf / $(id) `id` \"q\" 'q' \\ * ? ~ | & > < \n-x --help";
    let id = start(&s, "echo", json!({"text": nasty})).await;
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let args = output(&s, &id, "args.bin").await;
    let args: Vec<&[u8]> = args.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
    // `{maybe}` has no value: its entry is left out.
    assert_eq!(args, [b"--".as_slice(), nasty.as_bytes(), b"--n=3"]);

    let env = output(&s, &id, "env.bin").await;
    let mut names: Vec<String> = env
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| {
            String::from_utf8_lossy(v)
                .split('=')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    let allowed = [
        "GREETING",
        "HEADWAY_DATA_ROOT",
        "HEADWAY_JOB_ID",
        "HEADWAY_OUTPUT_DIR",
        "HEADWAY_PARAM_MODE",
        "HEADWAY_PARAM_N",
        "HEADWAY_PARAM_TEXT",
        "HOME",
        "LANG",
        "PATH",
        "PWD",
        "TZ",
    ];
    for name in &names {
        assert!(
            allowed.contains(&name.as_str()),
            "{name} reached the program: {names:?}"
        );
    }
    let env = String::from_utf8_lossy(&env).to_string();
    assert!(env.contains(&format!("HEADWAY_JOB_ID={id}\0")));
    assert!(env.contains("GREETING=hello\0"));
    // The server's data folder, whatever folder the server was started in.
    let data_root = std::path::absolute(app.data_root()).unwrap();
    assert!(
        env.contains(&format!("HEADWAY_DATA_ROOT={}\0", data_root.display())),
        "{env}"
    );
    assert!(env.contains(&format!("HEADWAY_PARAM_TEXT={nasty}\0")));
    // A fresh folder of its own, gone once the run ended.
    let cwd = String::from_utf8(output(&s, &id, "cwd.txt").await).unwrap();
    assert!(cwd.contains(&id), "{cwd}");
    assert!(
        !Path::new(cwd.trim()).exists(),
        "the run's folder is removed"
    );

    // Bad input: the same 422 messages as a built-in kind's.
    let (status, err) = s
        .create("echo", json!({"n": 12, "mode": "medium", "x": 1}))
        .await;
    assert_eq!(status, 422, "{err}");
    let fields = err["fields"].to_string();
    assert!(fields.contains("is required"), "{fields}");
    assert!(fields.contains("must be from 1 to 9"), "{fields}");
    assert!(fields.contains("must be one of: fast, slow"), "{fields}");
    assert!(
        fields.contains("is not a parameter of this command"),
        "{fields}"
    );
}

const REPORTER: &str = r#"
[[command]]
name = "reporter"
program = "SCRIPTS/reporter.sh"

[[command]]
name = "bars"
program = "SCRIPTS/bars.py"
progress = "tqdm"

[[command]]
name = "plain_bars"
program = "SCRIPTS/bars.py"
"#;

/// Reports on fd 3, and prints lines that look like reports on stdout and stderr.
const REPORTER_SH: &str = "#!/bin/sh\n\
    echo 'progress 99 100 fake'\n\
    echo 'result {\"fake\": true}'\n\
    echo 'progress 98 100 fake' >&2\n\
    echo 'progress 30 100 files' >&3\n\
    echo 'message Copying photos' >&3\n\
    echo 'level warning' >&3\n\
    echo 'log error Disk almost full' >&3\n\
    echo 'jump 3' >&3\n\
    echo 'result {\"files\": 30}' >&3\n\
    printf 'bad \\377 byte\\n'\n";

/// A real tqdm bar, as an unchanged Python script draws it.
const BARS_PY: &str = "#!/usr/bin/python3\n\
    import time\n\
    from tqdm import tqdm\n\
    print('progress 1 2 fake', flush=True)\n\
    for i in tqdm(range(40), desc='Resizing', unit='photos', mininterval=0):\n\
    \x20   time.sleep(0.002)\n";

#[tokio::test]
async fn fd3_and_tqdm_move_the_bar_and_what_stdout_prints_never_does() {
    let (app, _dir) = with_commands(
        |d| {
            script(d, "reporter.sh", REPORTER_SH);
            script(d, "bars.py", BARS_PY);
        },
        REPORTER,
    )
    .await;
    let s = app.session();
    let id = start(&s, "reporter", json!({})).await;
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let p = &job["progress"];
    assert_eq!(
        (p["current"].as_u64(), p["total"].as_u64()),
        (Some(30), Some(100)),
        "{job}"
    );
    assert_eq!(p["unit"], "files");
    assert_eq!(p["message"], "Copying photos");
    assert_eq!(p["level"], "warning");
    assert_eq!(job["result"], json!({"files": 30}));
    let log: Vec<(String, String)> = s
        .log(&id)
        .await
        .iter()
        .map(|l| {
            (
                l["level"].as_str().unwrap().to_string(),
                l["line"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |level: &str, text: &str| log.iter().any(|(l, t)| l == level && t.contains(text));
    assert!(has("info", "progress 99 100 fake"), "{log:?}");
    assert!(has("warn", "progress 98 100 fake"), "{log:?}");
    assert!(has("error", "Disk almost full"), "{log:?}");
    assert!(has("warn", "fd 3: ignored the line \"jump 3\""), "{log:?}");
    assert!(has("info", "bad \u{fffd} byte"), "{log:?}");

    // tqdm's bar on stderr, read back; the drawings are not logged.
    let id = start(&s, "bars", json!({})).await;
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let p = &job["progress"];
    assert_eq!(
        (p["current"].as_u64(), p["total"].as_u64()),
        (Some(40), Some(40)),
        "{job}"
    );
    assert_eq!(p["unit"], "photos");
    assert_eq!(p["message"], "Resizing");
    let log = s.log(&id).await;
    assert!(
        log.iter()
            .all(|l| !l["line"].as_str().unwrap().contains('%')),
        "{log:?}"
    );
    // The same script without `progress = "tqdm"`: its bar is only log lines.
    let id = start(&s, "plain_bars", json!({})).await;
    let job = s.wait_finished(&id).await;
    assert_eq!(job["progress"]["total"], Value::Null, "{job}");
    assert!(s
        .log(&id)
        .await
        .iter()
        .any(|l| l["line"].as_str().unwrap().contains("40/40")));
}

const ENDINGS: &str = r#"
[[command]]
name = "fails"
program = "SCRIPTS/fails.sh"

[[command]]
name = "killed"
program = "SCRIPTS/killed.sh"

[[command]]
name = "stubborn"
program = "SCRIPTS/stubborn.sh"
args = ["{pids}"]

[command.params.pids]
type = "string"

[[command]]
name = "slow"
program = "SCRIPTS/stubborn.sh"
args = ["{pids}"]
timeout = "1s"

[command.params.pids]
type = "string"
"#;

/// Starts a child that ignores SIGTERM and a grandchild, writes their pids and its own to the
/// file named by its argument, and waits.
const STUBBORN_SH: &str = "#!/bin/sh\n\
    trap '' TERM\n\
    (trap '' TERM; sleep 600 & echo $! >> \"$1\"; wait) &\n\
    echo $! >> \"$1\"\n\
    sleep 600 &\n\
    echo $! >> \"$1\"\n\
    echo $$ >> \"$1\"\n\
    echo 'progress 1 2' >&3\n\
    wait\n";

fn pids_in(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn exits_become_the_jobs_end_and_no_process_outlives_a_cancel_or_a_timeout() {
    let (app, dir) = with_commands(
        |d| {
            script(
                d,
                "fails.sh",
                "#!/bin/sh\necho one >&2\necho 'disk full' >&2\nexit 3\n",
            );
            script(d, "killed.sh", "#!/bin/sh\nkill -KILL $$\n");
            script(d, "stubborn.sh", STUBBORN_SH);
        },
        ENDINGS,
    )
    .await;
    let s = app.session();
    let job = s.wait_finished(&start(&s, "fails", json!({})).await).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "exit_3");
    assert_eq!(job["error"]["message"], "one\ndisk full");
    let job = s.wait_finished(&start(&s, "killed", json!({})).await).await;
    assert_eq!(job["error"]["code"], "signal_9", "{job}");
    assert!(job["error"]["message"]
        .as_str()
        .unwrap()
        .contains("SIGKILL"));

    // Cancel: SIGTERM to the group, SIGKILL after the grace; children and grandchildren too.
    let file = dir.path().join("cancel.pids");
    let id = start(&s, "stubborn", json!({"pids": file.display().to_string()})).await;
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    read_until(&mut events, |e| {
        e.event == "progress" && data(e)["current"] == 1
    })
    .await;
    let pids = pids_in(&file);
    assert_eq!(pids.len(), 4, "{pids:?}");
    assert!(pids.iter().all(|p| alive(*p)));
    assert_eq!(s.cancel(&id).await.0, 200);
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    until("every process of the cancelled job has ended", || {
        pids.iter().all(|p| !alive(*p))
    })
    .await;

    // Timeout: the same.
    let file = dir.path().join("timeout.pids");
    let id = start(&s, "slow", json!({"pids": file.display().to_string()})).await;
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "timeout");
    let pids = pids_in(&file);
    assert_eq!(pids.len(), 4, "{pids:?}");
    until("every process of the timed-out job has ended", || {
        pids.iter().all(|p| !alive(*p))
    })
    .await;
}

const SECRET: &str = r#"
[[command]]
name = "deploy"
program = "SCRIPTS/deploy.sh"
args = ["{target}"]
max_running = 1

[command.params.target]
type = "string"
pattern = "[a-z]+"

[command.params.token]
type = "secret"
"#;

#[tokio::test]
async fn a_secret_reaches_only_the_programs_environment_and_is_never_kept() {
    let (app, _dir) = with_commands(
        |d| {
            script(
                d,
                "deploy.sh",
                "#!/bin/sh\necho \"deploying $1 with $HEADWAY_PARAM_TOKEN\"\n\
                 printf '%s' \"$HEADWAY_PARAM_TOKEN\" > \"$HEADWAY_OUTPUT_DIR/token.txt\"\n",
            );
        },
        SECRET,
    )
    .await;
    let s = app.session();
    let (status, err) = s
        .create("deploy", json!({"target": "Prod!", "token": "x"}))
        .await;
    assert_eq!(status, 422);
    assert!(
        err["fields"]
            .to_string()
            .contains("must match the pattern [a-z]+"),
        "{err}"
    );
    let id = start(
        &s,
        "deploy",
        json!({"target": "prod", "token": "s3cr3t-value"}),
    )
    .await;
    let job = s.wait_finished(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(output(&s, &id, "token.txt").await, b"s3cr3t-value");
    assert_eq!(
        job["params"],
        json!({"target": "prod"}),
        "not stored with the job"
    );
    let log = s.log(&id).await;
    assert_eq!(log[0]["line"], "deploying prod with ••••••");
    let stream = s.stream(&format!("/api/v1/jobs/{id}/events"), None).await;
    let replayed = tokio::time::timeout(WAIT, stream.text())
        .await
        .unwrap()
        .unwrap();
    assert!(replayed.contains("deploying prod"), "{replayed}");
    assert!(!replayed.contains("s3cr3t"), "{replayed}");
    assert!(!s.job(&id).await.to_string().contains("s3cr3t"));
    until("the job's secrets are removed", || {
        std::fs::read_dir(app.dir().join("store/secrets"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    })
    .await;
    // Not kept, so a re-run must be given it again; a schedule cannot hold one.
    let (status, err) = s.rerun(&id).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["fields"].to_string().contains("is required"));
    let r = s
        .http
        .post(s.url("/api/v1/schedules"))
        .json(&json!({"kind": "deploy", "cron": "0 3 * * *", "params": {"target": "prod", "token": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["fields"].to_string().contains("a schedule cannot keep"),
        "{err}"
    );
}

const BLOCKING: &str = r#"
[[command]]
name = "blocking"
program = "SCRIPTS/blocking.sh"
max_running = 1
"#;

#[tokio::test]
async fn a_flood_of_one_commands_jobs_runs_one_at_a_time_and_others_still_run() {
    let (app, _dir) = with_commands(
        |d| {
            drop(script(
                d,
                "blocking.sh",
                "#!/bin/sh\necho 'progress 1 2' >&3\nsleep 600\n",
            ))
        },
        BLOCKING,
    )
    .await;
    let s = app.session();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(start(&s, "blocking", json!({})).await);
    }
    let mut events = s
        .events(&format!("/api/v1/jobs/{}/events", ids[0]), None)
        .await;
    read_until(&mut events, |e| {
        e.event == "progress" && data(e)["current"] == 1
    })
    .await;
    // Another kind runs beside it, and the command's others wait their turn.
    let demo = s.demo(3, 1).await;
    assert_eq!(s.wait_finished(&demo).await["status"], "succeeded");
    for id in &ids[1..] {
        assert_eq!(s.job(id).await["status"], "queued");
    }
    for id in &ids {
        s.cancel(id).await;
    }
    for id in &ids {
        assert_eq!(s.wait_finished(id).await["status"], "cancelled");
    }
}

#[tokio::test]
async fn a_start_that_stores_no_job_keeps_no_secret() {
    let (app, _dir) = with_commands(
        |d| {
            script(d, "deploy.sh", "#!/bin/sh\necho deploying\n");
        },
        SECRET,
    )
    .await;
    let s = app.session();
    let secrets = || {
        std::fs::read_dir(app.file_store().join("secrets"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    // Waiting an hour to start, the job keeps its secret until it runs.
    let body = json!({
        "kind": "deploy",
        "params": {"target": "prod", "token": "s3cr3t-value"},
        "run_after": engine::now_ms() + 3_600_000,
    });
    let send = || {
        s.http
            .post(s.url("/api/v1/jobs"))
            .header("Idempotency-Key", "deploy-1")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(secrets(), 1, "the waiting job's secret");
    // The same start again answers the first job: the second start's secret is not kept.
    let again = send().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(secrets(), 1, "only the waiting job's secret");
}

#[tokio::test]
async fn the_sweeper_leaves_the_secrets_of_a_job_being_stored_and_takes_an_orphans() {
    let app = app().start().await;
    let dir = app.file_store().join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    // Kept a moment ago for a job whose insert has not committed yet.
    let fresh = dir.join("job-being-started");
    std::fs::write(&fresh, br#"{"token":"x"}"#).unwrap();
    app.engine().uploads().sweep().await;
    assert!(
        fresh.exists(),
        "the secrets of a job being started were swept"
    );
    // Left by a start that failed long ago.
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&fresh)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    app.engine().uploads().sweep().await;
    assert!(!fresh.exists(), "an orphan's secrets were kept");
}

const LINES: &str = r#"
[[command]]
name = "lines"
program = "SCRIPTS/lines.sh"
"#;

/// How many lines `lines.sh` prints: far more than the pipes hold when it exits.
const PRINTED: u64 = 20_000;

#[tokio::test]
async fn every_line_a_program_wrote_before_it_ended_is_logged_however_long_that_takes() {
    // The grace here is 100 ms; what was still in the pipes when the program ended (about
    // 64 KiB, some ten thousand lines of `seq`) takes the log longer than that to take, the
    // more so on a busy machine: the pipes are read to their end.
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "lines.sh",
        &format!("#!/bin/sh\nexec seq 1 {PRINTED}\n"),
    );
    let file = commands_file(dir.path(), LINES);
    let app = app()
        .with(|c| {
            c.commands = Some(file);
            c.cancel_grace_ms = 100;
        })
        .start()
        .await;
    let s = app.session();
    let id = start(&s, "lines", json!({})).await;
    assert_eq!(s.wait_finished(&id).await["status"], "succeeded");
    let mut printed = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = s
            .get(&format!("/api/v1/jobs/{id}/log?after={after}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        let lines = page["lines"].as_array().unwrap();
        let Some(last) = lines.last() else { break };
        after = last["seq"].as_u64().unwrap();
        printed.extend(
            lines
                .iter()
                .filter_map(|l| l["line"].as_str()?.parse::<u64>().ok()),
        );
    }
    assert_eq!(printed.len() as u64, PRINTED, "lines logged");
    assert!(
        printed.iter().copied().eq(1..=PRINTED),
        "the lines, in order and each once"
    );
}

const GOOD: &str = r#"
[[command]]
name = "first"
program = "/bin/true"
"#;

#[tokio::test]
async fn a_bad_commands_file_stops_start_up_and_on_sighup_keeps_the_commands_read_before() {
    let dir = tempfile::tempdir().unwrap();
    let file = commands_file(
        dir.path(),
        &format!("{GOOD}\n[[command]]\nname = \"oops\"\nprogram = \"/no/such\"\n"),
    );
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    one_line_failure(
        headway(&["--database-url", &db, "--commands", file.to_str().unwrap()]),
        &format!(
            "{}:8: command \"oops\": program \"/no/such\" does not exist",
            file.display()
        ),
    );
    let file = commands_file(dir.path(), GOOD);
    let database = crate::support::database(dir.path()).await;
    let server = Headway::start(
        &database,
        dir.path(),
        &["--commands", file.to_str().unwrap()],
        &[],
    );
    let s = server.session();
    let names = || async {
        let (_, kinds) = s.get("/api/v1/kinds").await;
        kinds
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(names().await.contains(&"first".to_string()));
    let hup = || {
        assert!(std::process::Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap()
            .success())
    };
    // A new file, read on SIGHUP.
    commands_file(dir.path(), &GOOD.replace("first", "second"));
    hup();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !server
        .log()
        .iter()
        .any(|l| l.contains("read the commands file again"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reload was not logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let now = names().await;
    assert!(
        now.contains(&"second".to_string()) && !now.contains(&"first".to_string()),
        "{now:?}"
    );
    // A bad one: logged, and the commands read before stay.
    commands_file(dir.path(), "[[command]]\nname = 3\n");
    hup();
    while !server
        .log()
        .iter()
        .any(|l| l.contains("the commands file was not read again"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the refusal was not logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.log().iter().any(|l| l.contains("commands.toml:2")));
    assert!(names().await.contains(&"second".to_string()));
}

/// A command's title, description and field labels in the reader's language, as its file
/// gives them; the kind's own words for the other languages. The API lists them all.
#[tokio::test]
async fn a_command_is_shown_in_the_readers_language_as_its_file_gives_it() {
    const TRANSLATED: &str = r#"
[[command]]
name = "greet"
title = "Greet someone"
description = "Says hello."
program = "/bin/echo"
args = ["hello", "{who}"]

[command.params.who]
type = "string"
title = "Whom to greet"

[command.i18n.zh-CN]
title = "问候某人"
description = "说你好。"

[command.params.who.i18n.zh-CN]
title = "问候谁"
"#;
    let (app, _dir) = with_commands(|_| {}, TRANSLATED).await;
    let s = app.session();
    let page = |lang: &'static str| {
        let r = s
            .http
            .get(s.url("/"))
            .header("accept-language", lang)
            .send();
        async move { r.await.unwrap().text().await.unwrap() }
    };
    let zh = page("zh-CN").await;
    assert!(zh.contains("问候某人"), "{zh}");
    assert!(!zh.contains("Greet someone"), "{zh}");
    let en = page("en-GB,en;q=0.8").await;
    assert!(
        en.contains("Greet someone") && !en.contains("问候某人"),
        "{en}"
    );
    let (_, kinds) = s.get("/api/v1/kinds").await;
    let greet = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "greet")
        .unwrap();
    assert_eq!(greet["title"], "Greet someone");
    assert_eq!(
        greet["translations"]["zh-CN"],
        json!({"title": "问候某人", "description": "说你好。",
            "params": {"who": {"label": "问候谁"}}})
    );
    // A language the pages do not speak stops start-up, naming the line.
    let dir = tempfile::tempdir().unwrap();
    let file = commands_file(
        dir.path(),
        &TRANSLATED.replace("i18n.zh-CN]\ntitle", "i18n.fr]\ntitle"),
    );
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    one_line_failure(
        headway(&["--database-url", &db, "--commands", file.to_str().unwrap()]),
        &format!(
            "{}:13: command \"greet\": i18n.fr: the pages speak en, zh-CN",
            file.display()
        ),
    );
}

#[tokio::test]
async fn a_kill_9_of_headway_takes_its_programs_with_it_and_a_restart_finds_none() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "stubborn.sh", STUBBORN_SH);
    script(dir.path(), "fails.sh", "#!/bin/sh\nexit 3\n");
    script(dir.path(), "killed.sh", "#!/bin/sh\nexit 3\n");
    let file = commands_file(
        dir.path(),
        &ENDINGS.replace("SCRIPTS", &dir.path().display().to_string()),
    );
    let database = crate::support::database(dir.path()).await;
    let args = ["--commands", file.to_str().unwrap()];
    let server = Headway::start(&database, dir.path(), &args, &[]);
    let s = server.session();
    let pidfile = dir.path().join("crash.pids");
    let id = start(
        &s,
        "stubborn",
        json!({"pids": pidfile.display().to_string()}),
    )
    .await;
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    read_until(&mut events, |e| {
        e.event == "progress" && data(e)["current"] == 1
    })
    .await;
    let pids = pids_in(&pidfile);
    assert_eq!(pids.len(), 4, "{pids:?}");
    let leader = *pids.last().unwrap();
    server.kill9();
    until("the program died with Headway", || !alive(leader)).await;
    let server = Headway::start(&database, dir.path(), &args, &[]);
    until("no process of the job is left after the restart", || {
        pids.iter().all(|p| !alive(*p))
    })
    .await;
    let s = s.rebase(&server.base);
    // At once on SQLite; on PostgreSQL once the dead process's lease has run out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while s.job(&id).await["status"] != "interrupted" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job was not interrupted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const ESCAPES: &str = r#"
[[command]]
name = "escapes"
program = "SCRIPTS/escapes.sh"
args = ["{pids}"]

[command.params.pids]
type = "string"

[[command]]
name = "descriptors"
program = "/bin/ls"
args = ["/proc/self/fd"]
"#;

/// Starts a child, and a grandchild in a session of its own whose parent then exits; writes
/// their pids to the file named by its argument, and waits.
const ESCAPES_SH: &str = "#!/bin/sh\n\
    sleep 300 &\n\
    echo $! >> \"$1\"\n\
    (setsid sleep 300 & echo $! >> \"$1\") &\n\
    wait $!\n\
    echo 'progress 1 2' >&3\n\
    wait\n";

/// Whether process `pid` exists at all (a zombie does).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Field `n` (from 1, as in proc(5)) of `/proc/<pid>/stat`.
fn stat_field(pid: u32, n: usize) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, a)| a).unwrap_or_default();
    after.split(' ').nth(n - 3).unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_kill_9_of_headway_kills_all_its_programs_started_at_once_and_a_restart_sees_through_its_zombie(
) {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "escapes.sh", ESCAPES_SH);
    let file = commands_file(dir.path(), ESCAPES);
    let database = crate::support::database(dir.path()).await;
    let args = ["--commands", file.to_str().unwrap()];
    // The runs' folders under this test's own.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let env = [("TMPDIR", tmp.to_str().unwrap())];
    let server = Headway::start(&database, dir.path(), &args, &env);
    let s = server.session();
    let pidfile = dir.path().join("escapes.pids");
    let id = start(
        &s,
        "escapes",
        json!({"pids": pidfile.display().to_string()}),
    )
    .await;
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    read_until(&mut events, |e| {
        e.event == "progress" && data(e)["current"] == 1
    })
    .await;
    let pids = pids_in(&pidfile);
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert!(pids.iter().all(|p| alive(*p)));
    assert_ne!(
        stat_field(pids[0], 6),
        stat_field(pids[1], 6),
        "the grandchild has a session of its own"
    );
    let runs = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("headway-runs-"))
        .expect("the runs' folder")
        .path();
    let run_folders = || {
        std::fs::read_dir(&runs)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(id.as_str()))
            .count()
    };
    assert_eq!(run_folders(), 1);

    let old = server.kill9_unreaped();
    until(
        "the child and the setsid grandchild are gone, with no restart",
        || pids.iter().all(|p| !exists(*p)),
    )
    .await;
    until("the killed Headway is a zombie", || {
        stat_field(old, 3) == "Z"
    })
    .await;
    // Started while the old process is a zombie: its runs are a dead Headway's.
    let server = Headway::start(&database, dir.path(), &args, &env);
    assert_eq!(run_folders(), 0, "the dead Headway's run was swept");
    let s = s.rebase(&server.base);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while s.job(&id).await["status"] != "interrupted" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job was not interrupted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_program_gets_descriptors_0_to_3_and_none_that_headway_inherited() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "escapes.sh", ESCAPES_SH);
    let file = commands_file(dir.path(), ESCAPES);
    let database = crate::support::database(dir.path()).await;
    let args = ["--commands", file.to_str().unwrap()];
    // A pipe Headway inherits open across exec, as from the shell that started it, at 100.
    let (_reader, writer) = std::io::pipe().unwrap();
    let inherited = writer.as_raw_fd();
    let server = Headway::start_with(&database, dir.path(), &args, &[], |cmd| {
        // SAFETY: dup2 is async-signal-safe; it runs in the child before exec.
        unsafe {
            cmd.pre_exec(move || match libc::dup2(inherited, 100) {
                100 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            });
        }
    });
    let s = server.session();
    let pid = server.pid();
    assert!(
        Path::new(&format!("/proc/{pid}/fd/100")).exists(),
        "Headway holds the inherited pipe"
    );
    let job = s
        .wait_finished(&start(&s, "descriptors", json!({})).await)
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let fds: Vec<u32> = s
        .log(job["id"].as_str().unwrap())
        .await
        .iter()
        .filter_map(|l| l["line"].as_str()?.trim().parse().ok())
        .collect();
    // 0 to 2, 3 for reports, and the one `ls` opened to read the folder.
    assert!(fds.starts_with(&[0, 1, 2, 3]), "{fds:?}");
    assert!(
        !fds.contains(&100),
        "the inherited pipe reached the program: {fds:?}"
    );
    assert!(fds.len() <= 5, "{fds:?}");
}
