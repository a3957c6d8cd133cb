//! Who is calling: one session cookie names one user everywhere (pages, server functions, API,
//! streams), across restarts; static assets never make or touch a session; a session in use is
//! kept alive, an expired one is deleted and worth nothing.

use crate::client::*;
use crate::harness::{app, spawn_app};
use engine::store::{Access, SessionRow, Store};
use serde_json::json;
use std::time::Duration;

/// The `Set-Cookie` header of a response, if any.
fn set_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("headway_session=")
        .to_string()
}

#[tokio::test]
async fn a_first_request_gets_a_session_cookie_with_safe_attributes() {
    let app = app().with(|c| c.secure_cookies = true).start().await;
    let r = crate::client::get(format!("{}/api/v1/kinds", app.base))
        .await
        .unwrap();
    let cookie = set_cookie(&r).expect("a new session's cookie");
    let mut attributes: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    attributes.sort();
    assert_eq!(
        attributes,
        [
            "httponly",
            "max-age=31536000",
            "path=/",
            "samesite=lax",
            "secure"
        ]
    );
    assert!(r.headers().get("date").is_some());
}

#[tokio::test]
async fn static_assets_never_make_or_write_a_session() {
    let app = spawn_app().await;
    let http = crate::client::http();
    for path in ["/pkg/headway.css", "/pkg/headway.js", "/favicon.ico"] {
        let r = http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let served = if path.starts_with("/pkg/") { 200 } else { 404 };
        assert_eq!(r.status(), served, "{path}");
        assert_eq!(set_cookie(&r), None, "{path} set a cookie");
        // Nor with a cookie naming no session.
        let r = http
            .get(format!("{}{path}", app.base))
            .header("cookie", "headway_session=AAAAAAAAAAAAAAAAAAAAAA")
            .send()
            .await
            .unwrap();
        assert_eq!(
            set_cookie(&r),
            None,
            "{path} with an unknown session set a cookie"
        );
    }
    // A page does.
    let r = http.get(format!("{}/", app.base)).send().await.unwrap();
    assert!(set_cookie(&r).is_some());
}

#[tokio::test]
async fn one_cookie_is_one_user_for_server_functions_the_api_and_streams_across_restarts() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    // Started through a server function, as the page does...
    let r = s
        .start_job_form(&[
            ("kind", "demo"),
            ("params[steps]", "2"),
            ("params[interval_ms]", "1"),
        ])
        .await;
    assert_eq!(r.status(), 200);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // ...it is on the same user's stream and in their API.
    read_until(&mut events, is_done_of(&id)).await;
    assert_eq!(s.job(&id).await["status"], "succeeded");
    assert_eq!(
        app.session().get(&format!("/api/v1/jobs/{id}")).await.0,
        404
    );
    // Sessions are in the database: the same cookie is the same user after a restart.
    let app = app.restart().await;
    let s = s.rebase(&app.base);
    assert_eq!(s.job(&id).await["status"], "succeeded");
    let r = s.http.get(s.url("/api/v1/kinds")).send().await.unwrap();
    assert_eq!(
        set_cookie(&r),
        None,
        "a known session that needs no refresh is not written again"
    );
}

/// A session's stored data (its id is not in it: it is stored under the id's hash).
#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct Stored {
    data: std::collections::HashMap<String, serde_json::Value>,
}

/// An account server where `ada` signs in; her session's cookie.
async fn signed_in_cookie() -> (crate::harness::App, String) {
    let app = app()
        .with(|c| c.auth = Some(server::config::AuthMode::Accounts))
        .start()
        .await;
    let r = crate::client::http()
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(app.admin_token())
        .json(&json!({"username": "ada", "password": "correct horse battery", "role": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = crate::client::http()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": "ada", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = cookie_value(&set_cookie(&r).unwrap());
    (app, cookie)
}

fn key(cookie: &str) -> String {
    server::identity::sessions::stored_id(&cookie.parse().unwrap())
}

#[tokio::test]
async fn a_session_in_use_is_kept_alive_and_an_expired_one_is_deleted() {
    let (app, alive) = signed_in_cookie().await;
    let db = app.database_url().to_string();
    let mut app = app;
    app.shutdown().await;

    // Last seen yesterday, ten days from expiry; and a second session that expired an hour ago.
    let store = Store::open(&db, Access::Shared).await.unwrap();
    let row = store
        .load_session(&key(&alive))
        .await
        .unwrap()
        .expect("the session is stored under its hash");
    let mut stored: Stored = rmp_serde::from_slice(&row.data).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let yesterday = now.unix_timestamp() / 86_400 - 1;
    stored.data.insert("seen".into(), json!(yesterday));
    store
        .save_session(SessionRow {
            data: rmp_serde::to_vec(&stored).unwrap(),
            expires_at: (now + time::Duration::days(10)).unix_timestamp(),
            ..row.clone()
        })
        .await
        .unwrap();
    let expired = tower_sessions::session::Id::default().to_string();
    let expired_row = SessionRow {
        id: key(&expired),
        data: rmp_serde::to_vec(&stored).unwrap(),
        expires_at: (now - time::Duration::hours(1)).unix_timestamp(),
        user: row.user.clone(),
    };
    store.save_session(expired_row).await.unwrap();
    drop(store);

    let app = app.restart().await;
    let http = crate::client::http();
    let r = http
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", format!("headway_session={alive}"))
        .send()
        .await
        .unwrap();
    let refreshed = set_cookie(&r).expect("a session first used today is written again");
    assert_eq!(cookie_value(&refreshed), alive, "the same session");
    assert!(refreshed.contains("Max-Age=31536000"), "{refreshed}");
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["username"],
        "ada"
    );
    let store = Store::open(&db, Access::Shared).await.unwrap();
    let row = store.load_session(&key(&alive)).await.unwrap().unwrap();
    assert!(
        row.expires_at > (now + time::Duration::days(300)).unix_timestamp(),
        "its expiry moved a year ahead"
    );

    // The expired one is deleted at start-up, and its cookie signs no one in.
    let deadline = std::time::Instant::now() + WAIT;
    while store.load_session(&key(&expired)).await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the expired session was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = http
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", format!("headway_session={expired}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn sessions_stored_under_their_own_ids_are_moved_under_hashes_and_keep_their_user() {
    // A browser of an open server from before ids were hashed: its session stored under the
    // cookie's value, with the record (id included) as the data, and a job of its user.
    let mut app = spawn_app().await;
    let db = app.database_url().to_string();
    app.shutdown().await;
    let user = "0b6f1a9e-1111-4222-8333-444455556666";
    let job = model::Job {
        status: model::JobStatus::Succeeded,
        finished_at: Some(1),
        ..model::Job::queued(model::JobId::random(), "demo", json!({"steps": 1}), 0)
    };
    let store = Store::open(&db, Access::Shared).await.unwrap();
    store
        .import_history(&model::UserId::parse(user).unwrap(), vec![job.clone()])
        .await
        .unwrap();
    let job_id = job.id;
    let cookie = tower_sessions::session::Id::default();
    let record = tower_sessions::session::Record {
        id: cookie,
        data: [
            ("user".to_string(), json!(user)),
            ("seen".to_string(), json!(0)),
        ]
        .into(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(30),
    };
    store
        .save_session(SessionRow {
            id: cookie.to_string(),
            data: rmp_serde::to_vec(&record).unwrap(),
            expires_at: record.expiry_date.unix_timestamp(),
            user: Some(user.into()),
        })
        .await
        .unwrap();
    drop(store);

    let app = app.restart().await;
    let store = Store::open(&db, Access::Shared).await.unwrap();
    assert!(store
        .load_session(&cookie.to_string())
        .await
        .unwrap()
        .is_none());
    let row = store
        .load_session(&server::identity::sessions::stored_id(&cookie))
        .await
        .unwrap()
        .expect("moved under its hash");
    assert!(!String::from_utf8_lossy(&row.data).contains(&cookie.to_string()));
    // The browser is still the same user: it sees its job.
    let r = crate::client::http()
        .get(format!("{}/api/v1/jobs/{job_id}", app.base))
        .header("cookie", format!("headway_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
