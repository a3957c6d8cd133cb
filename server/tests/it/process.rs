//! What needs a separate process on purpose: kill -9 and restart, SIGTERM, and the start-up
//! errors an operator sees (one line on stderr, a failure exit): a busy port, a bad URL, a
//! database that cannot be written, and a second server on the same database.

//!
//! They run on SQLite, or on PostgreSQL with `HEADWAY_TEST_BACKEND=postgres`; the ones about a
//! database file only on SQLite.

use crate::client::*;
use crate::support::{database, headway, on_postgres, one_line_failure, Headway};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long to wait for a restarted process to have taken over what the killed one ran (at
/// once on SQLite; after the lease, 2 s in these tests, on PostgreSQL).
const TAKEOVER: Duration = Duration::from_secs(30);

/// Polls the job until `done` says it is as wanted (or [`TAKEOVER`] passes).
async fn job_when(
    s: &Session,
    id: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + TAKEOVER;
    loop {
        let job = s.job(id).await;
        if done(&job) || Instant::now() > deadline {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn kill_9_then_restart_keeps_history_and_interrupts_what_was_running() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = server.session();
    let finished = s.demo(5, 1).await;
    s.wait_finished(&finished).await;
    // One attempt: its interruption is its end (a crash tried again is below).
    let running = s.demo_once(100_000, 50).await;
    let mut events = s
        .events(&format!("/api/v1/jobs/{running}/events"), None)
        .await;
    read_until(&mut events, |e| e.event == "progress").await;
    drop(events);
    server.kill9();

    let server = Headway::start(&db, dir.path(), &[], &[]);
    // Same cookie jar, hence the same user, on the new process.
    let s = s.rebase(&server.base);
    let job = job_when(&s, &running, |j| j["status"] != "running").await;
    assert_eq!(job["status"], "interrupted");
    assert_eq!(job["error"]["code"], "interrupted");
    assert!(job["finished_at"].is_i64());
    let old = s.job(&finished).await;
    assert_eq!(old["status"], "succeeded");
    assert_eq!(old["progress"]["current"], 5);

    // The interruption is an event like any other: a stream that resumes sees it.
    let body = s
        .stream(&format!("/api/v1/jobs/{running}/events"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("\"status\":\"interrupted\""), "{body}");
    assert!(
        body.trim_end()
            .lines()
            .rev()
            .find(|l| l.starts_with("event: "))
            == Some("event: done")
    );
}

/// A job that cannot resume lost its attempt with the killed process: it counts as a failed
/// attempt, and the job (demo: three attempts) is tried again by the process that takes it
/// over.
#[tokio::test]
async fn an_attempt_lost_with_a_killed_process_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = server.session();
    let id = s.demo(40, 50).await;
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    read_until(&mut events, |e| e.event == "progress").await;
    drop(events);
    server.kill9();

    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = s.rebase(&server.base);
    let job = job_when(&s, &id, |j| j["status"] == "succeeded").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempt"], 2, "{job}");
    assert_eq!(job["attempts"][0]["error"]["code"], "interrupted", "{job}");
    assert!(job["attempts"][1]["error"].is_null(), "{job}");
}

#[tokio::test]
async fn kill_9_with_50_running_and_50_queued_loses_no_job() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    // One user's 50 jobs all run: their share is the whole of it.
    let env = [
        ("HEADWAY_MAX_RUNNING", "50"),
        ("HEADWAY_MAX_RUNNING_PER_USER", "50"),
    ];
    let server = Headway::start(&db, dir.path(), &[], &env);
    let s = server.session();
    let mut events = s.events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(s.demo_once(200, 100).await);
    }
    read_until_n(&mut events, 50, |e| {
        e.event == "job" && data(e)["status"] == "running"
    })
    .await;
    server.kill9();

    let server = Headway::start(&db, dir.path(), &[], &env);
    let s = s.rebase(&server.base);
    // The first 50 waited longest: once the last of them is taken over, all were.
    job_when(&s, &ids[49], |j| j["status"] == "interrupted").await;
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for id in &ids {
        *by_status
            .entry(s.job(id).await["status"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(by_status.get("interrupted"), Some(&50), "{by_status:?}");
    // The 50 that were waiting are running again (or still waiting their turn).
    let requeued = by_status.get("running").unwrap_or(&0) + by_status.get("queued").unwrap_or(&0);
    assert_eq!(requeued, 50, "{by_status:?}");
    eprintln!("kill -9 with 50 running + 50 queued: {by_status:?} (0 lost)");
}

#[tokio::test]
async fn a_checksum_interrupted_by_kill_9_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let server = Headway::start(&db, dir.path(), &[], &[]);
    let tree = dir.path().join("files/tree");
    for i in 0..120 {
        let sub = tree.join(format!("d{}", i % 4));
        std::fs::create_dir_all(&sub).unwrap();
        let bytes: Vec<u8> = (0..512 * 1024u32)
            .map(|b| (b.wrapping_mul(31) ^ i) as u8)
            .collect();
        std::fs::write(sub.join(format!("f{i:03}.bin")), bytes).unwrap();
    }
    let s = server.session();
    let mut events = s.events("/api/v1/events", None).await;
    let (status, job) = s.create("checksum", json!({"dir": "tree"})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    // A few files are done (each one checkpointed, with its manifest line): kill the process.
    read_until_n(&mut events, 3, |e| e.event == "log").await;
    let before = s.log(&id).await.len();
    server.kill9();
    assert!(
        before < 120,
        "the job finished before it could be interrupted"
    );

    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = s.rebase(&server.base);
    let done = s.wait_finished(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"]["current"], done["progress"]["total"]);
    let manifest: Vec<String> = s
        .log(&id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .filter(|l| l.contains("  d"))
        .collect();
    let files: HashSet<&str> = manifest
        .iter()
        .map(|l| l.split("  ").nth(1).unwrap())
        .collect();
    assert_eq!(files.len(), 120, "every file once");
    assert_eq!(
        manifest.len(),
        120,
        "no file hashed twice into the manifest"
    );
    // The stream tells the story: interrupted, queued again, running, succeeded.
    let body = s
        .stream(&format!("/api/v1/jobs/{id}/events"), None)
        .await
        .text()
        .await
        .unwrap();
    let mut statuses: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("data: {\"id\""))
        .filter_map(|l| l.split("\"status\":\"").nth(1)?.split('"').next())
        .collect();
    // Its manifest and result attached while it ran are job events of a running job.
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            "queued",
            "running",
            "interrupted",
            "queued",
            "running",
            "succeeded"
        ]
    );
    eprintln!("checksum resumed after kill -9 with {before} of 120 files done; finished with each file once");
}

#[tokio::test]
async fn sigterm_ends_open_streams_cleanly_interrupts_running_jobs_and_exits_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = server.session();
    let job = s.demo_once(100_000, 20).await;
    let resp = s.stream("/api/v1/events", None).await;
    let mut body = resp.bytes_stream();
    use futures::StreamExt;
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: snapshot"));
    let reader = tokio::spawn(async move {
        // The server ends the body (the last chunk), which an exiting process would not.
        while let Some(chunk) = body.next().await {
            chunk.map_err(|e| format!("the stream broke instead of ending: {e}"))?;
        }
        Ok::<_, String>(())
    });
    let (took, status) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    reader.await.unwrap().unwrap();

    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = s.rebase(&server.base);
    // A clean shutdown records its jobs' end itself: nothing waits for a lease.
    assert_eq!(s.job(&job).await["status"], "interrupted");
}

#[test]
fn start_up_errors_are_one_clear_line_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let db = format!("sqlite://{}/h.db", dir.path().display());
    one_line_failure(
        headway(&["--addr", &port, "--database-url", &db]),
        &format!("cannot listen on {port}"),
    );
    one_line_failure(
        headway(&["--addr", "127.0.0.1:0", "--database-url", "mysql://x"]),
        "Headway stores jobs in SQLite",
    );
    // PostgreSQL that does not answer: the password is not repeated.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, err) = headway(&[
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        &format!("postgres://headway:s3cret@127.0.0.1:{closed_port}/headway"),
    ]);
    assert!(!err.contains("s3cret"), "{err}");
    one_line_failure((code, err), "cannot open database");
    one_line_failure(
        headway(&["--addr", "127.0.0.1:0", "--database-url", "sqlite::memory:"]),
        "in-memory",
    );
    // Serving without running jobs (or the reverse) needs other processes on the same database.
    for role in ["web", "worker"] {
        one_line_failure(
            headway(&[
                "--addr",
                "127.0.0.1:0",
                "--database-url",
                &db,
                "--role",
                role,
            ]),
            &format!("--role {role} needs a database that several processes share"),
        );
    }

    // A directory that cannot be created: its parent is a file.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let bad = format!("sqlite://{}/sub/h.db", file.display());
    one_line_failure(
        headway(&["--addr", "127.0.0.1:0", "--database-url", &bad]),
        "cannot create the directory",
    );

    // A file that is not a database.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    let url = format!("sqlite://{}", garbage.display());
    one_line_failure(
        headway(&["--addr", "127.0.0.1:0", "--database-url", &url]),
        "not a database",
    );
}

#[tokio::test]
async fn a_database_the_server_cannot_write_stops_it_at_start() {
    if on_postgres() {
        return; // a database file opened read-only: SQLite's alone
    }
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    // A real database, opened read-only: every write would fail, so the server does not start.
    drop(Headway::start(&db, dir.path(), &[], &[]));
    let url = format!(
        "sqlite://{}?mode=ro",
        dir.path().join("headway.db").display()
    );
    one_line_failure(
        headway(&["--addr", "127.0.0.1:0", "--database-url", &url]),
        "cannot write to database",
    );
}

#[tokio::test]
async fn a_second_server_on_the_same_database_refuses_to_start_and_touches_nothing() {
    if on_postgres() {
        return; // several processes share PostgreSQL (it/cluster.rs)
    }
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let first = Headway::start(&db, dir.path(), &[], &[]);
    let s = first.session();
    let running = s.demo(100_000, 20).await;
    let mut events = s
        .events(&format!("/api/v1/jobs/{running}/events"), None)
        .await;
    read_until(&mut events, |e| e.event == "progress").await;

    let pid = first.pid().to_string();
    let refused = headway(&["--addr", "127.0.0.1:0", "--database-url", &db]);
    one_line_failure(refused.clone(), "is in use by another Headway process");
    assert!(
        refused.1.contains(&pid),
        "the message names the holder: {}",
        refused.1
    );
    // The first server's job is still running, untouched.
    let after: Vec<_> = read_until(&mut events, |e| e.event == "progress").await;
    assert!(
        after.iter().all(|e| e.event == "progress"),
        "{:?}",
        kinds(&after)
    );
    assert_eq!(s.job(&running).await["status"], "running");
}

/// Runs `headway` with `input` on its standard input; returns its exit code, stdout and stderr.
fn headway_with_input(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_headway"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).trim().to_string();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

/// `headway users` and `headway tokens` work on the database before a server has run and
/// while one runs on it: an account added from the command line signs in, a token made there
/// works, and disabling the account there ends its session on the running server.
#[tokio::test]
async fn accounts_are_managed_from_the_command_line_with_or_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let cli = |args: &[&str], input: &str| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", db.as_str()]);
        headway_with_input(&all, input)
    };
    let (code, out, err) = cli(
        &["users", "add", "ada", "--role", "admin", "--password-stdin"],
        "first secret\n",
    );
    assert_eq!((code, out.as_str()), (0, "added ada (admin)"), "{err}");
    let (code, _, err) = cli(
        &[
            "users",
            "add",
            "ada",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "first secret\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("taken"), "{err}");
    let (code, _, err) = cli(
        &[
            "users",
            "add",
            "bob",
            "--role",
            "member",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("password: a password has at least 8 characters"),
        "{err}"
    );

    let server = Headway::start(&db, dir.path(), &["--auth", "accounts"], &[]);
    let s = server.session();
    let sign_in = |password: &'static str| {
        let s = s.clone();
        async move {
            s.http
                .post(s.url("/api/v1/session"))
                .json(&json!({"username": "ada", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(sign_in("first secret").await, 200);
    assert_eq!(
        s.get("/api/v1/me").await.1,
        json!({"username": "ada", "role": "admin", "accounts": true})
    );

    // While the server runs.
    let (code, token, err) = cli(
        &[
            "tokens", "create", "deploy", "--user", "ada", "--scope", "write",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let r = crate::client::http()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (code, _, err) = cli(&["users", "set-role", "ada", "operator"], "");
    assert_eq!(code, 1, "the only enabled admin stays one");
    assert!(err.contains("last enabled admin"), "{err}");
    let (code, _, err) = cli(&["users", "disable", "ada"], "");
    assert_eq!(code, 1);
    assert!(err.contains("last enabled admin"), "{err}");
    let (code, _, err) = cli(
        &[
            "users",
            "add",
            "grace",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "grace's secret\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = cli(&["users", "set-role", "ada", "operator"], "");
    assert_eq!((code, out.as_str()), (0, "ada is now operator"));
    assert_eq!(
        s.get("/api/v1/me").await.1["role"],
        "operator",
        "a new role applies at once"
    );
    let (code, out, _) = cli(&["users", "list"], "");
    assert_eq!(code, 0);
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with("ada")
            && l.contains("operator")
            && l.ends_with("enabled")),
        "{out}"
    );
    let (code, _, err) = cli(&["users", "disable", "ada"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        s.get("/api/v1/me").await.0,
        401,
        "the running server ended the session"
    );
    let r = crate::client::http()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a disabled account's tokens stop working");
    let (code, _, _) = cli(&["users", "enable", "ada"], "");
    assert_eq!(code, 0);
    let (code, _, _) = cli(
        &["users", "set-password", "ada", "--password-stdin"],
        "second secret\n",
    );
    assert_eq!(code, 0);
    assert_eq!(sign_in("first secret").await, 401);
    assert_eq!(sign_in("second secret").await, 200);
    let (code, _, err) = cli(&["users", "disable", "nobody"], "");
    assert_eq!(code, 1);
    assert!(err.contains("no user named \"nobody\""), "{err}");
}

/// Beyond loopback, signing in is required unless `--auth open` is given, and then every start
/// warns about it.
#[tokio::test]
async fn beyond_loopback_accounts_are_the_default_and_an_open_server_warns() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let on_loopback = |h: &Headway| h.base.replace("0.0.0.0", "127.0.0.1");
    let warning = "--auth open on an address beyond loopback";

    let closed = Headway::start(&db, dir.path(), &["--addr", "0.0.0.0:0"], &[]);
    let r = crate::client::get(format!("{}/api/v1/jobs", on_loopback(&closed)))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!closed.log().iter().any(|l| l.contains(warning)));
    drop(closed);

    let open = Headway::start(
        &db,
        dir.path(),
        &["--addr", "0.0.0.0:0", "--auth", "open"],
        &[],
    );
    let r = crate::client::get(format!("{}/api/v1/jobs", on_loopback(&open)))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        open.log().iter().any(|l| l.contains(warning)),
        "{:?}",
        open.log()
    );
}

#[tokio::test]
async fn a_log_written_to_a_pipe_or_a_file_has_no_colour_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let server = Headway::start(&db, dir.path(), &[], &[]);
    let s = server.session();
    // A refused request and a finished job: lines at warning and info level.
    let (status, _) = s.create_raw(&json!({"kind": "nope", "params": {}})).await;
    assert_eq!(status, 422);
    let job = s.demo(2, 1).await;
    s.wait_finished(&job).await;
    let log = server.log();
    assert!(log.iter().any(|l| l.contains("listening")), "{log:?}");
    let coloured: Vec<&String> = log.iter().filter(|l| l.contains('\u{1b}')).collect();
    assert!(coloured.is_empty(), "escapes in a piped log: {coloured:?}");
}
