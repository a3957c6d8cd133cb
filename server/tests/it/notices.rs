//! Operator notices over HTTP and the `headway notice` command: only the token holder may send
//! them; every user's open stream gets them at once; a page from an older build learns the new
//! build when it reconnects, or when it catches up over the long poll.

use crate::client::{data, is_done_of, kinds, read_until, Session};
use crate::harness::{app, on_postgres, spawn_app, App};
use eventsource_stream::Event;
use serde_json::{json, Value};
use tokio::process::Command;

fn token(app: &App) -> String {
    app.admin_token()
}

#[tokio::test]
async fn a_notice_needs_the_token_and_reaches_every_users_stream() {
    let app = spawn_app().await;
    let (alice, bob) = (app.session(), app.session());
    let mut a = alice.events("/api/v1/events", None).await;
    let mut b = bob.events("/api/v1/events", None).await;
    let url = format!("{}/api/v1/admin/notices", app.base);
    let http = crate::client::http();

    for auth in [None, Some("Bearer wrong")] {
        let mut req = http.post(&url).json(&json!({"text": "hi"}));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
    }
    let bearer = format!("Bearer {}", token(&app));
    let r = http
        .post(&url)
        .header("authorization", &bearer)
        .json(&json!({"text": "two\nlines"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // The command reads the token next to a SQLite database (or is given it, as processes
    // sharing PostgreSQL are) and posts to --addr.
    let mut command = Command::new(env!("CARGO_BIN_EXE_headway"));
    if on_postgres() {
        command.env("HEADWAY_ADMIN_TOKEN", token(&app));
    }
    let out = command
        .args([
            "--addr",
            app.base.trim_start_matches("http://"),
            "--database-url",
            app.database_url(),
        ])
        .args(["notice", "Maintenance at 18:00"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("shown to every user"));

    for stream in [&mut a, &mut b] {
        let got = read_until(stream, |e| e.event == "notice").await;
        let notice: Value = serde_json::from_str(&got.last().unwrap().data).unwrap();
        assert_eq!(notice["text"], "Maintenance at 18:00");
        assert_eq!(got.last().unwrap().id, notice["id"].to_string());
    }
    // A new stream lists it in its snapshot, with the build.
    let mut c = alice.events("/api/v1/events", None).await;
    let snap = read_until(&mut c, |e| e.event == "snapshot").await;
    let snap: Value = serde_json::from_str(&snap.last().unwrap().data).unwrap();
    assert_eq!(snap["notices"][0]["text"], "Maintenance at 18:00");
    assert!(!snap["build"].as_str().unwrap().is_empty());

    let r = http
        .delete(&url)
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["withdrawn"], 1);
    let got = read_until(&mut a, |e| e.event == "notice").await;
    assert!(got.last().unwrap().data.contains(r#""text":"""#));
}

#[tokio::test]
async fn a_client_resuming_from_before_an_upgrade_is_told_the_new_build() {
    let first = app()
        .with(|c| c.build_id = Some("build-1".into()))
        .start()
        .await;
    let session = first.session();
    session.demo(1, 0).await;
    let mut s = session.events("/api/v1/events", None).await;
    let snap = read_until(&mut s, |e| e.event == "snapshot").await;
    let cursor: i64 = snap.last().unwrap().id.parse().unwrap();
    drop(s);

    let second = first
        .restart_with(|c| c.build_id = Some("build-2".into()))
        .await;
    let mut s = session
        .rebase(&second.base)
        .events("/api/v1/events", Some(cursor))
        .await;
    let got = read_until(&mut s, |e| e.event == "version").await;
    let version = got.last().unwrap();
    assert_eq!(version.data, r#"{"build":"build-2"}"#);
    assert!(version.id.parse::<i64>().unwrap() > cursor);
}

/// An event as a client is told it: id, type and data.
type Told = (Option<i64>, String, Value);

/// Every event the long poll gives from `after` until it has nothing more, asked not to wait
/// (as a tab catching up does).
async fn poll_all(session: &Session, mut after: i64) -> Vec<Told> {
    let mut all = Vec::new();
    loop {
        let (status, page) = session
            .get(&format!("/api/v1/events/poll?after={after}&timeout_ms=0"))
            .await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            return all;
        }
        all.extend(events.iter().map(|e| {
            let kind = e["type"].as_str().unwrap().to_string();
            (e["id"].as_i64(), kind, e["data"].clone())
        }));
        after = page["next"].as_i64().unwrap();
    }
}

fn streamed(events: &[Event]) -> Vec<Told> {
    events
        .iter()
        .map(|e| (e.id.parse().ok(), e.event.clone(), data(e)))
        .collect()
}

#[tokio::test]
async fn a_long_poll_from_before_an_upgrade_is_told_the_new_build_where_a_stream_is() {
    let first = app()
        .with(|c| c.build_id = Some("build-1".into()))
        .start()
        .await;
    let session = first.session();
    let (_, fresh) = session.get("/api/v1/events/poll").await;
    let before = fresh["next"].as_i64().unwrap();
    // What the client misses: a job that runs to its end before the upgrade.
    let job = session.demo(3, 1).await;
    session.wait_finished(&job).await;
    let second = first
        .restart_with(|c| c.build_id = Some("build-2".into()))
        .await;
    let session = session.rebase(&second.base);
    let version = second.engine().jobs().version_event_id();
    assert!(version > before);

    // Caught up over the long poll: the job's events, and the new build under its id, once.
    let polled = poll_all(&session, before).await;
    let versions: Vec<&Told> = polled.iter().filter(|e| e.1 == "version").collect();
    assert_eq!(
        versions,
        [&(Some(version), "version".into(), json!({"build": "build-2"}))],
        "{polled:?}"
    );
    assert!(polled
        .iter()
        .any(|e| e.1 == "done" && e.2["job_id"] == job.as_str()));
    // Exactly what a stream resuming from the same cursor tells after its snapshot.
    let last = polled.last().unwrap().0.expect("an event with an id");
    let mut s = session.events("/api/v1/events", Some(before)).await;
    let got = read_until(&mut s, |e| e.id == last.to_string()).await;
    assert_eq!(got[0].event, "snapshot");
    assert_eq!(streamed(&got[1..]), polled);

    // A client that has this build's version, or started on this build, is not told: neither
    // by the long poll nor by the stream, up to the end of a job started now.
    let (_, fresh) = session.get("/api/v1/events/poll").await;
    assert_eq!(fresh["events"][0]["type"], "snapshot");
    assert_eq!(fresh["events"][0]["data"]["build"], "build-2");
    let mut s = session.events("/api/v1/events", Some(version)).await;
    let fence = session.demo(2, 1).await;
    let got = read_until(&mut s, is_done_of(&fence)).await;
    assert!(!kinds(&got).contains(&"version".to_string()), "{got:?}");
    for after in [version, fresh["next"].as_i64().unwrap()] {
        let polled = poll_all(&session, after).await;
        assert!(polled
            .iter()
            .any(|e| e.1 == "done" && e.2["job_id"] == fence.as_str()));
        assert!(polled.iter().all(|e| e.1 != "version"), "{polled:?}");
    }
}
