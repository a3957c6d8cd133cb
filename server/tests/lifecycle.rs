//! What survives the process: history after kill -9 and restart, and the start-up errors an
//! operator sees.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn kill_9_then_restart_keeps_history_and_interrupts_what_was_running() {
    let dir = fresh_dir("restart");
    let db = dir.join("headway.db");
    let server = TestServer::start_on(&dir, &db, &[]);
    let s = server.session();
    let finished = s.demo(5, 1).await;
    s.wait_finished(&finished, WAIT).await;
    let running = s.demo(100_000, 50).await;
    let mut events = s
        .events(&format!("/api/v1/jobs/{running}/events"), None)
        .await;
    read_until(&mut events, WAIT, |e| e.event == "progress").await;
    drop(events);
    server.kill9();

    let server = TestServer::start_on(&dir, &db, &[]);
    // Same cookie jar, hence the same user, on the new process.
    let s2 = Session {
        base: server.base.clone(),
        http: s.http.clone(),
    };
    let job = s2.job(&running).await;
    assert_eq!(job["status"], "interrupted");
    assert_eq!(job["error"]["code"], "interrupted");
    assert!(job["finished_at"].is_i64());
    let old = s2.job(&finished).await;
    assert_eq!(old["status"], "succeeded");
    assert_eq!(old["progress"]["current"], 5);

    // The interruption is an event like any other: a stream that resumes sees it.
    let resp = s2
        .stream(&format!("/api/v1/jobs/{running}/events"), None)
        .await;
    let body = resp.text().await.unwrap();
    assert!(body.contains("\"status\":\"interrupted\""), "{body}");
    assert!(
        body.trim_end()
            .lines()
            .rev()
            .find(|l| l.starts_with("event: "))
            == Some("event: done")
    );
}

#[tokio::test]
async fn sigterm_interrupts_running_jobs_and_exits_quickly() {
    let dir = fresh_dir("sigterm");
    let db = dir.join("headway.db");
    let server = TestServer::start_on(&dir, &db, &[]);
    let s = server.session();
    let job = s.demo(100_000, 20).await;
    let mut stream = s.events("/api/v1/events", None).await;
    read_until(&mut stream, WAIT, |e| e.event == "progress").await;
    let (took, status) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    // The open stream ended instead of holding the server.
    let rest = read_for(&mut stream, Duration::from_secs(1)).await;
    assert!(rest.iter().all(|e| e.event != "snapshot"));

    let server = TestServer::start_on(&dir, &db, &[]);
    let s = Session {
        base: server.base.clone(),
        http: s.http.clone(),
    };
    assert_eq!(s.job(&job).await["status"], "interrupted");
}

fn headway(args: &[&str]) -> (i32, String, Duration) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_headway"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
        t.elapsed(),
    )
}

#[test]
fn start_up_errors_are_one_clear_line_and_a_failure_exit() {
    let dir = fresh_dir("startup");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let db = format!("sqlite://{}/h.db", dir.display());

    let (code, err, _) = headway(&["--addr", &port, "--database-url", &db]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot listen on") && err.contains(&port),
        "{err}"
    );

    let (code, err, _) = headway(&["--addr", "127.0.0.1:0", "--database-url", "postgres://nope"]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("sqlite"), "{err}");

    // A directory that cannot be created: its parent is a file.
    let file = dir.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let bad = format!("sqlite://{}/sub/h.db", file.display());
    let (code, err, _) = headway(&["--addr", "127.0.0.1:0", "--database-url", &bad]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot create the directory"), "{err}");
}
