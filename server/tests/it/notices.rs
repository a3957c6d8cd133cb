//! Operator notices over HTTP and the `headway notice` command: only the token holder may send
//! them; every user's open stream gets them at once; a page from an older build learns the new
//! build when it reconnects.

use crate::client::read_until;
use crate::harness::{app, on_postgres, spawn_app, App};
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
    let http = reqwest::Client::new();

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
