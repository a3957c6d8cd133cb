//! External jobs: programs that run elsewhere and report over HTTP (`kind: "external"`,
//! `POST /api/v1/jobs/{id}/report`), and `headway run`, which wraps any program as one. A report
//! sent again writes nothing twice, a report token reports for its job only, a program that
//! stops reporting leaves its job lost, a cancel reaches the program, and a connection cut
//! many times loses and doubles no line.

use crate::children::{assert_refused_child, children, names};
use crate::client::*;
use crate::harness::{spawn_app, App};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts an external job as `s`; the job and its report token.
async fn open(s: &Session, params: Value) -> (Value, String) {
    let (status, job) = s.create("external", params).await;
    assert_eq!(status, 201, "{job}");
    let token = job["report_token"]
        .as_str()
        .expect("a report token")
        .to_string();
    (job, token)
}

/// Sends a report for job `id` with `token`; the status and the answer.
pub(crate) async fn report(s: &Session, id: &str, token: &str, body: Value) -> (u16, Value) {
    let r = s
        .http
        .post(s.url(&format!("/api/v1/jobs/{id}/report")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn lines(from: u64, to: u64) -> Value {
    Value::Array(
        (from..=to)
            .map(|n| json!({"seq": n, "line": format!("line {n}")}))
            .collect(),
    )
}

/// The text of every log line of job `id`, in order.
async fn log_text(s: &Session, id: &str) -> Vec<String> {
    s.log(id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (bounded) until job `id` has status `status`.
async fn until_status(s: &Session, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let job = s.job(id).await;
        if job["status"] == status {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} never became {status}: {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_external_job_shows_what_its_program_reports_and_a_report_sent_again_changes_nothing() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let (job, token) = open(
        &s,
        json!({"title": "nightly backup", "command": "backup.sh --full", "params": {"db": "main"}}),
    )
    .await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["status"], "running");
    assert_eq!(job["kind"], "external");
    assert_eq!(job["params"]["title"], "nightly backup");
    // The token is shown once: the job as read back does not carry it.
    assert!(s.job(id).await.get("report_token").is_none());

    let first = json!({"progress": 2, "total": 10, "unit": "tables", "message": "copying", "log": lines(1, 3)});
    let (status, reply) = report(&s, id, &token, first.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["acked"].as_u64(), reply["status"].as_str()),
        (Some(3), Some("running"))
    );
    // The same report again (its answer was lost): nothing is written twice.
    let (status, reply) = report(&s, id, &token, first).await;
    assert_eq!((status, reply["acked"].as_u64()), (200, Some(3)));
    // Overlapping: lines 2 to 5, of which 4 and 5 are new.
    let (status, reply) = report(&s, id, &token, json!({"log": lines(2, 5)})).await;
    assert_eq!((status, reply["acked"].as_u64()), (200, Some(5)));
    assert_eq!(
        log_text(&s, id).await,
        (1..=5).map(|n| format!("line {n}")).collect::<Vec<_>>()
    );
    // A gap: 422, and nothing written.
    let (status, reply) = report(&s, id, &token, json!({"log": lines(7, 8)})).await;
    assert_eq!(status, 422, "{reply}");
    assert!(
        reply["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("up to 5"),
        "{reply}"
    );
    assert_eq!(log_text(&s, id).await.len(), 5);

    let job = s.job(id).await;
    assert_eq!(job["progress"]["current"], 2);
    assert_eq!(job["progress"]["total"], 10);
    assert_eq!(job["progress"]["unit"], "tables");

    let (status, reply) = report(
        &s,
        id,
        &token,
        json!({"progress": 10, "log": lines(6, 6), "result": {"tables": 10}, "end": {"status": "succeeded"}}),
    )
    .await;
    assert_eq!(
        (status, reply["status"].as_str()),
        (200, Some("succeeded")),
        "{reply}"
    );
    let job = s.job(id).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["result"]["tables"], 10);
    assert_eq!(job["progress"]["current"], 10);
    // Once ended, it takes no more reports.
    let (status, reply) = report(&s, id, &token, json!({"log": lines(7, 7)})).await;
    assert_eq!(status, 409, "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("ended"));

    // Whoever sees the job saw it live, as any other.
    let seen = read_until(&mut events, is_done_of(id)).await;
    let logged: Vec<Value> = seen
        .iter()
        .filter(|e| e.event == "log" && data(e)["job_id"] == id)
        .map(data)
        .collect();
    assert_eq!(logged.len(), 6, "each line once on the stream");
    assert!(seen
        .iter()
        .any(|e| e.event == "progress" && data(e)["job_id"] == id));
    // Its end counts in the metrics as any job's, once.
    let metrics = crate::client::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"headway_jobs_finished_total{kind="external",status="succeeded"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_report_token_reports_for_its_own_job_and_does_nothing_else() {
    let app = spawn_app().await;
    let (ada, bob) = (app.session(), app.session());
    let (a, a_token) = open(&ada, json!({"title": "a"})).await;
    let (b, _) = open(&bob, json!({"title": "b"})).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    // Another job's report: 404, as any job one may not see.
    let (status, _) = report(&ada, b, &a_token, json!({"log": lines(1, 1)})).await;
    assert_eq!(status, 404);
    assert!(log_text(&bob, b).await.is_empty());
    // Anything else: 403.
    for (method, path) in [
        (reqwest::Method::GET, format!("/api/v1/jobs/{a}")),
        (reqwest::Method::GET, "/api/v1/jobs".to_string()),
        (reqwest::Method::POST, format!("/api/v1/jobs/{a}/cancel")),
        (reqwest::Method::GET, "/api/v1/events".to_string()),
        (reqwest::Method::GET, "/".to_string()),
    ] {
        let r = ada
            .http
            .request(method.clone(), ada.url(&path))
            .bearer_auth(&a_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{method} {path}");
    }
    let r = ada
        .http
        .post(ada.url("/api/v1/jobs"))
        .bearer_auth(&a_token)
        .json(&json!({"kind": "demo", "params": {"steps": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A forged or altered token: 401.
    for forged in [
        format!("{}x", a_token),
        format!("hwr_{a}.0000"),
        "hwr_nonsense".to_string(),
    ] {
        let (status, _) = report(&ada, a, &forged, json!({})).await;
        assert_eq!(status, 401, "{forged}");
    }
    // The owner's own session does not report: reports come with the report token.
    let r = ada
        .http
        .post(ada.url(&format!("/api/v1/jobs/{a}/report")))
        .json(&json!({"log": lines(1, 1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Another user neither sees nor cancels it.
    assert_eq!(bob.get(&format!("/api/v1/jobs/{a}")).await.0, 404);
    assert_eq!(bob.cancel(a).await.0, 404);
    // And its own token still works.
    let (status, _) = report(&ada, a, &a_token, json!({"log": lines(1, 1)})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_external_starts_and_reports_get_a_sentence_and_write_nothing() {
    let app = spawn_app().await;
    let s = app.session();
    for (params, field) in [
        (json!({}), "params"),
        (json!({"title": ""}), "title"),
        (json!({"title": "t", "lease_secs": 1}), "lease_secs"),
    ] {
        let (status, body) = s.create("external", params.clone()).await;
        assert_eq!(status, 422, "{params}: {body}");
        assert_eq!(body["fields"][0]["field"], field, "{body}");
    }
    let (status, body) = s
        .create_raw(&json!({"kind": "external", "params": {"title": "t"}, "max_attempts": 3}))
        .await;
    assert_eq!(status, 422, "{body}");
    // An external job is never re-run from the dashboard: its program runs elsewhere.
    let (job, token) = open(&s, json!({"title": "once"})).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(s.rerun(id).await.0, 409);

    let too_many = lines(1, 1001);
    for bad in [
        json!({"log": too_many}),
        json!({"log": [{"seq": 1, "line": "a"}, {"seq": 3, "line": "b"}]}),
        json!({"log": [{"seq": 1, "line": "x".repeat(70_000)}]}),
        json!({"result": [1, 2]}),
        json!({"end": {"status": "running"}}),
        json!({"progres": 3}),
        json!({"level": "purple"}),
    ] {
        let (status, body) = report(&s, id, &token, bad.clone()).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    assert!(log_text(&s, id).await.is_empty());
    assert_eq!(s.job(id).await["status"], "running");
    // A failure without an error gets one that says so.
    let (status, _) = report(&s, id, &token, json!({"end": {"status": "failed"}})).await;
    assert_eq!(status, 200);
    let job = s.job(id).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "failed");
}

/// External jobs' kind is registered like any kind and says that its jobs run elsewhere: the
/// history knows it by its title, but no runner, form, list of kinds or schedule offers it, and
/// a schedule of it is refused with a sentence.
#[tokio::test]
async fn external_jobs_run_elsewhere_and_are_never_queued_here() {
    let app = spawn_app().await;
    let s = app.session();
    let (kinds_status, kinds) = s.get("/api/v1/kinds").await;
    assert_eq!(kinds_status, 200, "{kinds}");
    let names: Vec<&str> = kinds
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["name"].as_str())
        .collect();
    assert!(
        names.contains(&"demo") && !names.contains(&"external"),
        "{names:?}"
    );
    let r = s
        .http
        .post(s.url("/api/v1/schedules"))
        .json(&json!({"kind": "external", "params": {"title": "nightly"}, "cron": "0 0 3 * * *"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("run elsewhere")),
        "{body}"
    );
    assert_eq!(s.get("/api/v1/schedules").await.1, json!([]));
    // Its jobs are started by their programs, and found by their kind.
    let (job, _) = open(&s, json!({"title": "mine"})).await;
    let (status, page) = s.get("/api/v1/jobs?kind=external").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.to_string().contains(job["id"].as_str().unwrap()),
        "{page}"
    );
}

#[tokio::test]
async fn a_program_that_stops_reporting_leaves_its_job_lost_and_a_cancelled_one_cancelled() {
    let app = spawn_app().await;
    let s = app.session();
    let (lost, token) = open(&s, json!({"title": "lost", "lease_secs": 5})).await;
    let lost = lost["id"].as_str().unwrap();
    let (status, _) = report(&s, lost, &token, json!({"log": lines(1, 1)})).await;
    assert_eq!(status, 200);
    let (asked, _) = open(&s, json!({"title": "asked to stop", "lease_secs": 5})).await;
    let asked = asked["id"].as_str().unwrap();
    let (status, job) = s.cancel(asked).await;
    assert_eq!((status, job["status"].as_str()), (200, Some("cancelling")));

    let job = until_status(&s, lost, "interrupted").await;
    assert_eq!(job["error"]["code"], "lost", "{job}");
    until_status(&s, asked, "cancelled").await;
    // Its program, back after all, is told the job ended.
    let (status, _) = report(&s, lost, &token, json!({"log": lines(2, 2)})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_flood_of_external_starts_from_one_user_stops_at_their_limit_and_others_start() {
    let app = spawn_app().await;
    let (greedy, other) = (app.session(), app.session());
    let limit = engine::external::MAX_RUNNING_PER_USER as usize;
    for n in 0..limit {
        let (status, body) = greedy
            .create("external", json!({"title": format!("job {n}")}))
            .await;
        assert_eq!(status, 201, "{n}: {body}");
    }
    let (status, body) = greedy
        .create("external", json!({"title": "one more"}))
        .await;
    assert_eq!(status, 429, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("external jobs running"));
    let (status, _) = other.create("external", json!({"title": "mine"})).await;
    assert_eq!(status, 201);
    assert_eq!(
        other
            .create("demo", json!({"steps": 1, "interval_ms": 1}))
            .await
            .0,
        201
    );
}

// ---- headway run ----

/// Writes an executable script.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `headway run` against `server` (a URL) for `app`, as its operator.
fn wrapper(app: &App, server: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"));
    command
        .env_remove("HEADWAY_TOKEN")
        .env("HEADWAY_ADMIN_TOKEN", app.admin_token())
        .args(["--server", server, "run"])
        .args(args)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// The operator's view of the server (the wrapper's jobs are theirs).
fn operator(app: &App) -> Session {
    Session::with_token(&app.base, &app.admin_token())
}

/// The id of the job `headway run` announced on stderr.
async fn announced(stderr: &mut tokio::process::ChildStderr) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = stderr.read(&mut byte).await.unwrap();
        assert!(
            n > 0,
            "headway run ended without announcing its job: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(byte[0]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("headway: job ") && text.ends_with('\n'))
        {
            return line["headway: job ".len()..]
                .split(':')
                .next()
                .unwrap()
                .to_string();
        }
    }
}

#[tokio::test]
async fn headway_run_reports_a_programs_output_progress_result_and_exit_status() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let prog = script(
        dir.path(),
        "copy.sh",
        "#!/bin/sh\necho 'total 4 files' >&3\nfor i in 1 2 3 4; do echo \"out $i\"; echo \"progress $i\" >&3; done\n\
         echo 'oops' >&2\necho 'result {\"copied\": 4}' >&3\necho 'message all copied' >&3\nexit 3\n",
    );
    let out = wrapper(
        &app,
        &app.base,
        &["--title", "copy", "--param", "where=here", "--"],
    )
    .arg(&prog)
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // The program's output still reaches the terminal.
    assert!(String::from_utf8_lossy(&out.stdout).contains("out 4"));
    let id = stderr
        .lines()
        .find_map(|l| l.strip_prefix("headway: job "))
        .and_then(|l| l.split(':').next())
        .expect("the job is announced")
        .to_string();
    let op = operator(&app);
    let job = op.job(&id).await;
    assert_eq!(job["kind"], "external");
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "exit_3");
    // Why it failed, in the program's own words: its last line on stderr.
    assert_eq!(job["error"]["message"], "oops", "{job}");
    assert_eq!(job["params"]["title"], "copy");
    assert_eq!(job["params"]["params"]["where"], "here");
    assert_eq!(job["progress"]["current"], 4);
    assert_eq!(job["progress"]["total"], 4);
    assert_eq!(job["progress"]["unit"], "files");
    assert_eq!(job["progress"]["message"], "all copied");
    assert_eq!(job["result"]["copied"], 4);
    let log = op.log(&id).await;
    // stdout in order (stderr's lines come through a pipe of their own, interleaved as read).
    let out: Vec<&str> = log
        .iter()
        .filter(|l| l["level"] == "info")
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    assert_eq!(out, ["out 1", "out 2", "out 3", "out 4"]);
    assert!(log
        .iter()
        .any(|l| l["line"] == "oops" && l["level"] == "warn"));

    // Success, a signal, and a program that cannot start.
    let ok = wrapper(&app, &app.base, &["--", "true"])
        .output()
        .await
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let killed = script(dir.path(), "killed.sh", "#!/bin/sh\nkill -9 $$\n");
    let out = wrapper(&app, &app.base, &["--"])
        .arg(&killed)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(128 + 9));
    let missing = wrapper(&app, &app.base, &["--", "/no/such/program"])
        .output()
        .await
        .unwrap();
    assert_eq!(missing.status.code(), Some(127));
    let (_, page) = op.list("kind=external&limit=10").await;
    let mut codes: Vec<String> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            format!(
                "{}:{}",
                j["status"].as_str().unwrap(),
                j["error"]["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "failed:exit_3",
            "failed:not_started",
            "failed:signal_9",
            "succeeded:"
        ]
    );
}

#[tokio::test]
async fn headway_run_passes_a_programs_children_on_and_a_refused_one_fails_its_job() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let child = |name: &str, steps: u32| {
        format!(
            "echo 'child {{\"name\": \"{name}\", \"kind\": \"demo\", \"params\": {{\"steps\": {steps}, \"interval_ms\": 20}}}}' >&3\n"
        )
    };
    let op = operator(&app);
    let run = |prog: PathBuf| {
        let mut command = wrapper(&app, &app.base, &["--"]);
        command.arg(prog);
        command
    };
    let id_of = |stderr: &[u8]| {
        String::from_utf8_lossy(stderr)
            .lines()
            .find_map(|l| l.strip_prefix("headway: job "))
            .and_then(|l| l.split(':').next())
            .expect("the job is announced")
            .to_string()
    };
    // Two children: the job ends once they did, after the program.
    let body = format!("#!/bin/sh\n{}{}", child("a", 3), child("b", 3));
    let out = run(script(dir.path(), "two.sh", &body))
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let parent = id_of(&out.stderr);
    let ended = op.wait_finished(&parent).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    assert_eq!(names(&children(&op, &parent).await), ["a", "b"]);
    // One refused between two: the others start, and the job fails, saying which and why.
    let body = format!(
        "#!/bin/sh\n{}{}{}",
        child("a", 1),
        child("bad", 0),
        child("c", 1)
    );
    let out = run(script(dir.path(), "bad.sh", &body))
        .output()
        .await
        .unwrap();
    let parent = id_of(&out.stderr);
    let ended = op.wait_finished(&parent).await;
    assert_refused_child(&ended, "children[1].steps was refused");
    assert_eq!(
        names(&children(&op, &parent).await),
        ["a", "c"],
        "the child after the refused one still starts"
    );
}

#[tokio::test]
async fn a_cancel_from_the_dashboard_stops_the_program_headway_run_started() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let prog = script(
        dir.path(),
        "wait.sh",
        "#!/bin/sh\ntrap 'echo stopping on TERM; exit 0' TERM\necho started\nwhile :; do sleep 0.1; done\n",
    );
    let mut child = wrapper(
        &app,
        &app.base,
        &["--lease-secs", "6", "--grace-secs", "20", "--"],
    )
    .arg(&prog)
    .spawn()
    .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let id = announced(&mut stderr).await;
    let op = operator(&app);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !log_text(&op, &id).await.contains(&"started".to_string()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the program never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(op.cancel(&id).await.0, 200);
    // The answer to its next report (a heartbeat, within a third of the lease) asks it to stop.
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("headway run ends once its program has")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let job = until_status(&op, &id, "cancelled").await;
    assert!(job["error"].is_null(), "{job}");
    assert!(log_text(&op, &id)
        .await
        .contains(&"stopping on TERM".to_string()));
}

#[tokio::test]
async fn a_hang_up_sent_to_headway_run_reaches_its_program_and_the_job_ends_as_it_does() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let prog = script(
        dir.path(),
        "hup.sh",
        "#!/bin/sh\ntrap 'echo hung up; exit 3' HUP\necho started\nwhile :; do sleep 0.1; done\n",
    );
    let mut child = wrapper(&app, &app.base, &["--"])
        .arg(&prog)
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let id = announced(&mut stderr).await;
    let op = operator(&app);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !log_text(&op, &id).await.contains(&"started".to_string()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the program never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SAFETY: kill sends a signal to the wrapper, which this test has not reaped.
    unsafe {
        libc::kill(child.id().unwrap() as i32, libc::SIGHUP);
    }
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("headway run ends once its program has")
        .unwrap();
    assert_eq!(status.code(), Some(3), "it exits as its program did");
    let job = until_status(&op, &id, "failed").await;
    assert_eq!(job["error"]["code"], "exit_3", "{job}");
    assert!(log_text(&op, &id).await.contains(&"hung up".to_string()));
}

/// A TCP relay to `upstream` that cuts connections, counting requests across all of them: from
/// the second request on, one in three is cut while it is sent (the server never takes it), one
/// in three just as its answer comes back (the server took it; the client never learns), and
/// the answers of the others are cut once they pass 1.5 to 3 KB (a stream, mid-event).
/// `cuts` counts each: requests cut, answers lost.
pub(crate) async fn cutting_relay(
    upstream: std::net::SocketAddr,
    cuts: Arc<[AtomicUsize; 2]>,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (cuts, requests) = (Arc::clone(&cuts), Arc::clone(&requests));
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let drop_answer = std::sync::atomic::AtomicBool::new(false);
                // Long answers (event streams) of the other requests are cut after this much.
                let budget = AtomicUsize::new(usize::MAX);
                let up = async {
                    let mut buf = [0u8; 4096];
                    let mut cut_at: Option<usize> = None;
                    let mut sent = 0usize;
                    loop {
                        let k = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => k,
                        };
                        if buf[..k].starts_with(b"POST ") || buf[..k].starts_with(b"GET ") {
                            let r = requests.fetch_add(1, Ordering::Relaxed) + 1;
                            sent = 0;
                            cut_at = (r > 1 && r % 3 == 1).then_some(100 + (r * 97) % 400);
                            drop_answer.store(r > 1 && r % 3 == 2, Ordering::Relaxed);
                            budget.store(1_500 + (r * 131) % 1_500, Ordering::Relaxed);
                        }
                        if let Some(limit) = cut_at {
                            if sent + k >= limit {
                                let _ = sw.write_all(&buf[..limit - sent]).await;
                                cuts[0].fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                        }
                        sent += k;
                        if sw.write_all(&buf[..k]).await.is_err() {
                            return;
                        }
                    }
                };
                let down = async {
                    let mut buf = [0u8; 4096];
                    loop {
                        let k = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => k,
                        };
                        if drop_answer.load(Ordering::Relaxed) {
                            cuts[1].fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        if budget
                            .fetch_sub(k.min(budget.load(Ordering::Relaxed)), Ordering::Relaxed)
                            <= k
                        {
                            let _ = cw.write_all(&buf[..k / 2]).await;
                            cuts[1].fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        if cw.write_all(&buf[..k]).await.is_err() {
                            return;
                        }
                    }
                };
                tokio::select! { () = up => {}, () = down => {} }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn headway_run_through_a_connection_cut_many_times_loses_and_doubles_no_line() {
    let app = spawn_app().await;
    let cuts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let relay = cutting_relay(app.addr, Arc::clone(&cuts)).await;
    let dir = tempfile::tempdir().unwrap();
    let n = 4_000;
    let prog = script(
        dir.path(),
        "count.sh",
        &format!("#!/bin/sh\necho 'total {n} lines' >&3\ni=1\nwhile [ $i -le {n} ]; do echo \"line $i\"; [ $((i % 500)) -eq 0 ] && echo \"progress $i\" >&3; [ $((i % 50)) -eq 0 ] && sleep 0.05; i=$((i+1)); done\n"),
    );
    // The start goes through (the relay's first request); its reports are cut again and again.
    let mut child = wrapper(&app, &relay, &["--"]).arg(&prog).spawn().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(240), child.wait())
        .await
        .expect("headway run ends")
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    let id = err
        .lines()
        .find_map(|l| l.strip_prefix("headway: job "))
        .and_then(|l| l.split(':').next())
        .unwrap()
        .to_string();
    let op = operator(&app);
    let job = op.job(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"]["current"], n);
    let mut text = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = op
            .get(&format!("/api/v1/jobs/{id}/log?after={after}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        let lines = page["lines"].as_array().unwrap();
        if lines.is_empty() {
            break;
        }
        after = lines.last().unwrap()["seq"].as_u64().unwrap();
        text.extend(
            lines
                .iter()
                .map(|l| l["line"].as_str().unwrap().to_string()),
        );
    }
    let expected: Vec<String> = (1..=n).map(|i| format!("line {i}")).collect();
    assert_eq!(text.len(), expected.len(), "every line once");
    assert_eq!(text, expected);
    let (cut, lost) = (
        cuts[0].load(Ordering::Relaxed),
        cuts[1].load(Ordering::Relaxed),
    );
    assert!(
        cut >= 3 && lost >= 3,
        "only {cut} requests cut and {lost} answers lost"
    );
}

// ---- headway jobs, start, follow, cancel ----

#[tokio::test]
async fn headway_follow_exits_as_the_job_ended_and_headway_jobs_lists_them() {
    let app = spawn_app().await;
    let op = operator(&app);
    let base = app.base.clone();

    // Started and followed: a bar line per percent (piped), the log, exit 0.
    let (code, _, err) = app
        .client(
            &base,
            &[
                "start",
                "demo",
                "--param",
                "steps=5",
                "--param",
                "interval_ms=20",
                "--follow",
            ],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("progress [") && err.contains("100.0% 5/5"),
        "{err}"
    );
    assert!(err.contains("the job succeeded"), "{err}");

    // At a priority, named as the server names them; a wrong one is the server's refusal.
    let (code, id, err) = app
        .client(
            &base,
            &[
                "start",
                "demo",
                "--param",
                "steps=1",
                "--param",
                "interval_ms=1",
                "--priority",
                "high",
            ],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(op.job(id.trim()).await["priority"], "high");
    let (code, _, err) = app
        .client(
            &base,
            &[
                "start",
                "demo",
                "--param",
                "steps=1",
                "--param",
                "interval_ms=1",
                "--priority",
                "soon",
            ],
        )
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("a priority is one of"), "{err}");

    // Failed: 1, with its error.
    let (failed, token) = open(&op, json!({"title": "failing"})).await;
    let failed = failed["id"].as_str().unwrap();
    let end =
        json!({"end": {"status": "failed", "error": {"code": "exit_2", "message": "disk full"}}});
    assert_eq!(report(&op, failed, &token, end).await.0, 200);
    // Named by the 8 characters every page shows.
    let (code, _, err) = app.client(&base, &["follow", &failed[..8]]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("disk full"), "{err}");
    for (short, why) in [
        (&failed[..7], "its first 8 characters or more"),
        ("not-an-id", "is not a job id"),
        (
            "ffffffff",
            "no job of yours has an id starting with ffffffff",
        ),
    ] {
        let (code, _, err) = app.client(&base, &["follow", short]).await;
        assert_eq!(code, 4, "{short}: {err}");
        assert!(err.contains(why), "{short}: {err}");
    }

    // Cancelled: 2, through `headway cancel`.
    let (code, id, _) = app
        .client(
            &base,
            &[
                "start",
                "demo",
                "--param",
                "steps=100000",
                "--param",
                "interval_ms=50",
            ],
        )
        .await;
    assert_eq!(code, 0);
    let id = id.trim().to_string();
    let follower = tokio::spawn({
        let (app_base, token) = (base.clone(), app.admin_token());
        let id = id.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
                .env_remove("HEADWAY_TOKEN")
                .env("HEADWAY_ADMIN_TOKEN", token)
                .args(["--server", &app_base, "follow", &id])
                .kill_on_drop(true)
                .output()
                .await
                .unwrap()
        }
    });
    until_status(&op, &id, "running").await;
    let (code, out, _) = app.client(&base, &["cancel", &id[..8]]).await;
    assert_eq!(code, 0);
    assert!(out.contains(&id), "{out}");
    let followed = tokio::time::timeout(Duration::from_secs(60), follower)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(followed.status.code(), Some(2));

    // Interrupted (an external job whose program vanished): 3.
    let (lost, _) = open(&op, json!({"title": "vanishing", "lease_secs": 5})).await;
    let (code, _, err) = app
        .client(&base, &["follow", lost["id"].as_str().unwrap()])
        .await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("lost"), "{err}");

    // No such job: 4, with the server's sentence.
    let (code, _, err) = app
        .client(&base, &["follow", "00000000-0000-4000-8000-000000000000"])
        .await;
    assert_eq!(code, 4, "{err}");

    // A header, then the one cancelled job, made at the time the terminal's zone says.
    let listed = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
        .env_remove("HEADWAY_TOKEN")
        .env("HEADWAY_ADMIN_TOKEN", app.admin_token())
        .env("TZ", "Asia/Shanghai")
        .args(["--server", &base, "jobs", "--status", "cancelled"])
        .output()
        .await
        .unwrap();
    assert!(listed.status.success());
    let out = String::from_utf8_lossy(&listed.stdout).into_owned();
    let lines: Vec<&str> = out.trim().lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["ID", "STATUS", "DONE", "CREATED", "WHAT"], "{out}");
    assert!(
        lines[1].contains(&id) && lines[1].contains("cancelled"),
        "{out}"
    );
    let made = op.job(&id).await["created_at"].as_i64().unwrap();
    let shanghai = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let when = engine::schedules::rfc_3339(made, &shanghai);
    assert!(
        when.ends_with("+08:00") && lines[1].contains(&when),
        "{when}: {out}"
    );
    let (_, out, _) = app.client(&base, &["jobs", "--kind", "external"]).await;
    assert!(out.contains("external: vanishing"), "{out}");
}

#[tokio::test]
async fn headway_follow_through_a_cut_stream_resumes_and_shows_each_line_once() {
    let app = spawn_app().await;
    let cuts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let relay = cutting_relay(app.addr, Arc::clone(&cuts)).await;
    let op = operator(&app);
    let (job, token) = open(&op, json!({"title": "followed"})).await;
    let id = job["id"].as_str().unwrap().to_string();
    let follower = tokio::spawn({
        let (token, id) = (app.admin_token(), id.clone());
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
                .env_remove("HEADWAY_TOKEN")
                .env("HEADWAY_ADMIN_TOKEN", token)
                .args(["--server", &relay, "follow", &id])
                .kill_on_drop(true)
                .output()
                .await
                .unwrap()
        }
    });
    let n = 300u64;
    for seq in 1..=n {
        let (status, _) = report(
            &op,
            &id,
            &token,
            json!({"progress": seq, "total": n, "log": [{"seq": seq, "line": format!("line {seq} of the followed job")}]}),
        )
        .await;
        assert_eq!(status, 200);
        if seq % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let (status, _) = report(&op, &id, &token, json!({"end": {"status": "succeeded"}})).await;
    assert_eq!(status, 200);
    let out = tokio::time::timeout(Duration::from_secs(120), follower)
        .await
        .expect("follow ends with the job")
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let shown: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let expected: Vec<String> = (1..=n)
        .map(|i| format!("line {i} of the followed job"))
        .collect();
    assert_eq!(shown, expected, "each line once, in order");
    assert!(err.contains("resuming"), "the stream was never cut: {err}");
    assert!(cuts[1].load(Ordering::Relaxed) >= 3);
}

// ---- an open server's browser tokens ----

/// Makes a token as `s` (an open server's browser) through the settings page's endpoint.
async fn browser_token(s: &Session, name: &str, scope: &str) -> (String, String) {
    let r = s
        .http
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": name, "scope": scope}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_string(),
        body["token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn an_open_servers_browser_gets_a_token_whose_external_jobs_it_sees_live() {
    let app = spawn_app().await;
    let (browser, stranger) = (app.session(), app.session());
    let mut events = browser.events("/api/v1/events", None).await;
    let (id, token) = browser_token(&browser, "laptop", "write").await;
    let (_, list) = browser.get("/api/v1/tokens").await;
    assert_eq!(list[0]["name"], "laptop", "{list}");

    // What headway run starts with it is the browser's job, seen live there and nowhere else.
    let dir = tempfile::tempdir().unwrap();
    let prog = script(dir.path(), "hello.sh", "#!/bin/sh\necho hello from afar\n");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
        .env("HEADWAY_TOKEN", &token)
        .args(["--server", &app.base, "run", "--title", "from afar", "--"])
        .arg(&prog)
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = read_until(&mut events, |e| {
        e.event == "done" && data(e)["status"] == "succeeded"
    })
    .await;
    let job = seen
        .iter()
        .find(|e| e.event == "job" && data(e)["kind"] == "external")
        .map(data)
        .expect("the browser saw the external job");
    let job_id = job["id"].as_str().unwrap();
    assert_eq!(job["params"]["title"], "from afar");
    assert_eq!(log_text(&browser, job_id).await, ["hello from afar"]);
    assert_eq!(stranger.get(&format!("/api/v1/jobs/{job_id}")).await.0, 404);

    // A read token starts nothing; a revoked one is refused.
    let (_, read) = browser_token(&browser, "dashboard", "read").await;
    let as_reader = Session::with_token(&app.base, &read);
    assert_eq!(as_reader.create("demo", json!({"steps": 1})).await.0, 403);
    assert_eq!(
        as_reader.get(&format!("/api/v1/jobs/{job_id}")).await.0,
        200
    );
    let r = stranger
        .http
        .delete(stranger.url(&format!("/api/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another browser cannot revoke it");
    let r = browser
        .http
        .delete(browser.url(&format!("/api/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let as_writer = Session::with_token(&app.base, &token);
    assert_eq!(as_writer.get("/api/v1/jobs").await.0, 401);

    // A browser's token means nothing once the server needs accounts.
    let app = app
        .restart_with(|c| c.auth = Some(server::config::AuthMode::Accounts))
        .await;
    let as_reader = Session::with_token(&app.base, &read);
    assert_eq!(as_reader.get("/api/v1/jobs").await.0, 401);
}

#[tokio::test]
async fn headway_run_tqdm_moves_the_bar_instead_of_filling_the_log() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let prog = script(
        dir.path(),
        "bars.sh",
        "#!/bin/sh\nfor n in 10 50 100; do printf 'Copying:  %s%%|###       | %s/100 [00:01<00:02, 29.5files/s]\\r' $n $n >&2; sleep 0.1; done\n\
         echo >&2\necho 'all copied' >&2\n",
    );
    let out = wrapper(&app, &app.base, &["--tqdm", "--"])
        .arg(&prog)
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let id = err
        .lines()
        .find_map(|l| l.strip_prefix("headway: job "))
        .and_then(|l| l.split(':').next())
        .unwrap()
        .to_string();
    let op = operator(&app);
    let job = op.job(&id).await;
    assert_eq!(
        (
            &job["progress"]["current"],
            &job["progress"]["total"],
            &job["progress"]["unit"],
            &job["progress"]["message"]
        ),
        (&json!(100), &json!(100), &json!("files"), &json!("Copying")),
        "{job}"
    );
    assert_eq!(log_text(&op, &id).await, ["all copied"]);
}

// ---- what a program reports is data, never markup or terminal control ----

/// The text of the page's `<title>` element, and how many there are.
fn page_title(page: &str) -> (String, usize) {
    let count = page.matches("<title>").count();
    let start = page.find("<title>").expect("a <title>") + "<title>".len();
    let end = start + page[start..].find("</title>").expect("a </title>");
    (page[start..end].to_string(), count)
}

#[tokio::test]
async fn a_job_title_that_closes_the_title_element_is_shown_as_text() {
    let app = spawn_app().await;
    let s = app.session();
    let attack = r#"x</title><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">"#;
    let (job, _) = open(&s, json!({ "title": attack })).await;
    let id = job["id"].as_str().unwrap();
    let r = s
        .http
        .get(s.url(&format!("/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let (title, count) = page_title(&page);
    assert_eq!(count, 1, "one <title>: {title}");
    assert_eq!(
        title,
        format!(
            "x&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot; \
             content=&quot;0;url=http://127.0.0.1:9/&quot;&gt; job {} · Headway",
            &id[..8]
        )
    );
    assert!(
        !page
            .to_ascii_lowercase()
            .contains("<meta http-equiv=\"refresh\""),
        "the title added a refresh to the page"
    );
}

#[tokio::test]
async fn a_reported_unit_with_control_characters_or_a_progress_past_the_store_is_refused() {
    let app = spawn_app().await;
    let s = app.session();
    let (job, token) = open(&s, json!({"title": "units"})).await;
    let id = job["id"].as_str().unwrap();
    for (bad, field) in [
        (json!({"unit": "rows\u{0}"}), "unit"),
        (json!({"unit": "\u{1b}]52;c;aGk=\u{7}"}), "unit"),
        (json!({"unit": "a\u{9b}2J"}), "unit"),
        (json!({"progress": u64::MAX}), "progress"),
        (json!({"progress": 1, "total": u64::MAX}), "total"),
    ] {
        let (status, body) = report(&s, id, &token, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["fields"][0]["field"], field, "{body}");
        assert!(
            body["fields"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    // The largest amount the store keeps is taken as it is.
    let most = i64::MAX as u64;
    let (status, body) = report(
        &s,
        id,
        &token,
        json!({"progress": most, "total": most, "unit": "rows"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let job = s.job(id).await;
    assert_eq!(job["progress"]["current"].as_u64(), Some(most), "{job}");
    assert_eq!(job["progress"]["total"].as_u64(), Some(most), "{job}");
    assert_eq!(job["progress"]["unit"], "rows");
    // Whole numbers written as floats (JavaScript, Python's `float`) are whole numbers; a
    // fraction is refused.
    let (status, body) = report(
        &s,
        id,
        &token,
        json!({"progress": 3.0, "total": 10.0, "log": [{"seq": 1.0, "line": "one"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let job = s.job(id).await;
    assert_eq!(job["progress"]["current"].as_u64(), Some(3), "{job}");
    assert_eq!(log_text(&s, id).await, vec!["one".to_string()]);
    let (status, body) = report(&s, id, &token, json!({"progress": 3.5})).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn headway_follow_shows_terminal_escapes_from_the_server_as_text() {
    let app = spawn_app().await;
    let op = operator(&app);
    let base = app.base.clone();
    let (job, token) = open(&op, json!({"title": "escapes"})).await;
    let id = job["id"].as_str().unwrap();
    // A clipboard write (OSC 52), a title change, a screen clear (CSI, and its C1 form), a bell.
    let nasty = "\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}2J\u{7}";
    let r = report(
        &op,
        id,
        &token,
        json!({
            "progress": 1, "total": 2, "message": format!("msg {nasty}"),
            "log": [{"seq": 1, "line": format!("log {nasty}")}],
            "end": {"status": "failed", "error": {"code": "exit_1", "message": format!("err {nasty}")}},
        }),
    )
    .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let (code, out, err) = app.client(&base, &["follow", id]).await;
    assert_eq!(code, 1, "{err}");
    for (name, text) in [("stdout", &out), ("stderr", &err)] {
        let control: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(control.is_empty(), "{name} holds {control:?}: {text:?}");
    }
    // Shown, so that the reader sees something was there.
    assert!(out.contains("log \\e]52;c;cm0gLXJmIH4=\\a"), "{out:?}");
    assert!(err.contains("err \\e]52;"), "{err:?}");
    let (code, listed, _) = app.client(&base, &["jobs"]).await;
    assert_eq!(code, 0);
    assert!(listed.contains("external: escapes"), "{listed}");
}

/// An object `levels` deep: `{"a": {"a": … {"end": true}}}`.
fn nested(levels: usize) -> Value {
    let mut v = json!({"end": true});
    for _ in 1..levels {
        v = json!({ "a": v });
    }
    v
}

/// A result nested past 32 levels is refused with 422 in the field `result`, and nothing of
/// its report is written; one of 32 is kept, and whoever reads it in a page of jobs (`headway
/// jobs`) or in the dashboard's snapshot reads it whole, inside their own levels.
#[tokio::test]
async fn a_result_nested_past_32_levels_is_refused_and_one_of_32_is_read_everywhere() {
    let app = spawn_app().await;
    let op = operator(&app);
    let (job, token) = open(&op, json!({"title": "deep result"})).await;
    let id = job["id"].as_str().unwrap();
    let (status, body) = report(
        &op,
        id,
        &token,
        json!({"log": lines(1, 1), "result": nested(33)}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "result", "{body}");
    let says = body["fields"][0]["message"].as_str().unwrap();
    assert!(says.contains("33 levels") && says.contains("32"), "{says}");
    assert!(
        log_text(&op, id).await.is_empty(),
        "nothing of it is written"
    );

    let (status, body) = report(
        &op,
        id,
        &token,
        json!({"result": nested(32), "end": {"status": "succeeded"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(op.job(id).await["result"], nested(32));
    let (code, listed, err) = app.client(&app.base, &["jobs"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(listed.contains("deep result"), "{listed}");
    let mut events = op.events("/api/v1/events", None).await;
    let opening = read_until(&mut events, |e| e.event == "snapshot").await;
    let snapshot: model::Snapshot =
        serde_json::from_str(&opening.last().unwrap().data).expect("the snapshot reads");
    let kept = snapshot.jobs.iter().find(|j| j.id.as_str() == id).unwrap();
    assert_eq!(kept.result, Some(nested(32)));
}

/// A result line on fd 3 nested past 32 levels is ignored, with a warning that says how deep
/// it was, whether a command of the server's runs the program or `headway run` does; one of 32
/// is kept.
#[tokio::test]
async fn a_result_line_nested_past_32_levels_is_ignored_and_the_log_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let body = |levels: usize| {
        format!(
            "#!/bin/sh\necho 'result {}' >&3\n",
            serde_json::to_string(&nested(levels)).unwrap()
        )
    };
    script(dir.path(), "deep.sh", &body(33));
    script(dir.path(), "deepest.sh", &body(32));
    let file = crate::commands::commands_file(
        dir.path(),
        "[[command]]\nname = \"deep\"\nprogram = \"SCRIPTS/deep.sh\"\n\n\
         [[command]]\nname = \"deepest\"\nprogram = \"SCRIPTS/deepest.sh\"\n",
    );
    let app = crate::harness::app()
        .with(|c| c.commands = Some(file))
        .start()
        .await;
    let op = operator(&app);
    let warned = |log: &[Value]| {
        log.iter().any(|l| {
            l["level"] == "warn"
                && l["line"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("fd 3: ignored") && t.contains("33 levels"))
        })
    };
    // A command of the server's.
    for (kind, kept) in [("deep", Value::Null), ("deepest", nested(32))] {
        let (status, job) = op.create(kind, json!({})).await;
        assert_eq!(status, 201, "{job}");
        let id = job["id"].as_str().unwrap();
        let job = op.wait_finished(id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["result"], kept, "{kind}");
        assert_eq!(warned(&op.log(id).await), kept.is_null(), "{kind}");
    }
    // `headway run`.
    for (name, kept) in [("deep.sh", Value::Null), ("deepest.sh", nested(32))] {
        let out = wrapper(&app, &app.base, &["--title", name, "--"])
            .arg(dir.path().join(name))
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let id = stderr
            .lines()
            .find_map(|l| l.strip_prefix("headway: job "))
            .and_then(|l| l.split(':').next())
            .expect("the job is announced")
            .to_string();
        let job = op.job(&id).await;
        assert_eq!(job["result"], kept, "{name}");
        assert_eq!(warned(&op.log(&id).await), kept.is_null(), "{name}");
    }
}
