//! Accounts (`--auth accounts`): the role matrix on the API and the streams, sign-in and
//! sign-out, the failed sign-in limit, tokens and their scopes, cross-site refusal, and sessions
//! and streams ended by disabling an account or changing its password.

use crate::client::{data, read_until, Events, Session, WAIT};
use crate::harness::{app, App};
use crate::team::{accounts_app, add_user, sign_in, signed_in, PASSWORD};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;

async fn send(s: &Session, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
    let mut req = s.http.request(method, s.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap().status().as_u16()
}

/// A job of `owner` that keeps running until cancelled.
async fn running_job(owner: &Session) -> String {
    owner.demo(100_000, 50).await
}

/// The ids of the jobs an event (a snapshot, a job's event) is about.
fn jobs_in(e: &eventsource_stream::Event) -> Vec<String> {
    let d = data(e);
    let mut ids: Vec<String> = d["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|j| j["id"].as_str().map(str::to_string))
        .collect();
    ids.extend(
        d["id"]
            .as_str()
            .or(d["job_id"].as_str())
            .map(str::to_string),
    );
    ids
}

/// Every role against every action, on their own jobs and on a member's (mia's). The statuses
/// seen are printed as a table (`--nocapture`) and asserted exactly.
#[tokio::test]
async fn each_role_gets_exactly_what_it_may() {
    let app = accounts_app().await;
    for (name, role) in [
        ("vera", "viewer"),
        ("mia", "member"),
        ("max", "member"),
        ("otto", "operator"),
        ("ada", "admin"),
    ] {
        add_user(&app, name, role).await;
    }
    let mia = signed_in(&app, "mia").await;
    let finished = mia.demo(1, 1).await;
    mia.wait_finished(&finished).await;
    let token: Value = mia
        .http
        .post(mia.url("/api/v1/tokens"))
        .json(&json!({"name": "ci", "scope": "read"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mia_token = token["id"].as_str().unwrap().to_string();

    // (who, expected statuses per action, in COLUMNS order)
    const COLUMNS: [&str; 13] = [
        "list",
        "get",
        "log",
        "stream",
        "replay",
        "start",
        "cancel",
        "re-run",
        "cancel own",
        "notice",
        "users",
        "tokens",
        "others' token",
    ];
    let expected: [(&str, [u16; 13]); 5] = [
        (
            "vera (viewer)",
            [
                200, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 201, 404,
            ],
        ),
        (
            "mia (member, owner)",
            [
                200, 200, 200, 200, 200, 201, 200, 201, 200, 403, 403, 201, 404,
            ],
        ),
        (
            "max (member)",
            [
                200, 404, 404, 404, 200, 201, 404, 404, 200, 403, 403, 201, 404,
            ],
        ),
        (
            "otto (operator)",
            [
                200, 200, 200, 200, 200, 201, 200, 201, 200, 403, 403, 201, 404,
            ],
        ),
        (
            "ada (admin)",
            [
                200, 200, 200, 200, 200, 201, 200, 201, 200, 201, 200, 201, 204,
            ],
        ),
    ];
    let mut table: BTreeMap<usize, (String, Vec<u16>)> = BTreeMap::new();
    for (row, (who, want)) in expected.iter().enumerate() {
        let name = who.split(' ').next().unwrap();
        let s = if name == "mia" {
            mia.clone()
        } else {
            signed_in(&app, name).await
        };
        let visible = want[1] == 200;
        let target = running_job(&mia).await;
        let mut got = Vec::new();

        // list: 200 for everyone; mia's job is in it exactly when it is visible.
        let (status, page) = s.list("limit=100").await;
        got.push(status);
        let listed = page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == target.as_str());
        assert_eq!(listed, visible, "{who}: mia's job listed");
        got.push(s.get(&format!("/api/v1/jobs/{target}")).await.0);
        got.push(s.get(&format!("/api/v1/jobs/{target}/log")).await.0);
        got.push(
            s.stream(&format!("/api/v1/jobs/{target}/events"), None)
                .await
                .status()
                .as_u16(),
        );

        // The stream, replayed from the start and then live: mia's events arrive exactly when
        // visible. A job of mia's is started while it is live, then a marker job the reader sees
        // (their own, or mia's for a viewer): anything of mia's would arrive before the marker.
        let mut events = s.events("/api/v1/events", Some(0)).await;
        let mut seen: Vec<String> = read_until(&mut events, |e| e.event == "snapshot")
            .await
            .iter()
            .flat_map(jobs_in)
            .collect();
        let live = mia.demo(1, 1).await;
        let marker = if want[5] == 201 {
            s.demo(1, 1).await
        } else {
            mia.demo(1, 1).await
        };
        let read = read_until(&mut events, |e| {
            e.event == "job" && data(e)["id"] == marker.as_str()
        })
        .await;
        seen.extend(read.iter().flat_map(jobs_in));
        drop(events);
        got.push(200);
        assert_eq!(
            seen.contains(&target),
            visible,
            "{who}: mia's running job in the replay"
        );
        assert_eq!(
            seen.contains(&finished),
            visible,
            "{who}: mia's finished job in the replay"
        );
        assert_eq!(
            seen.contains(&live),
            visible,
            "{who}: mia's new job on the live stream"
        );

        got.push(
            send(
                &s,
                reqwest::Method::POST,
                "/api/v1/jobs",
                Some(json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}})),
            )
            .await,
        );
        got.push(s.cancel(&target).await.0);
        got.push(s.rerun(&finished).await.0);
        // Cancelling a job of their own: a viewer has none, so one of mia's stands in (403).
        let own = if want[5] == 201 {
            running_job(&s).await
        } else {
            running_job(&mia).await
        };
        got.push(s.cancel(&own).await.0);
        got.push(
            send(
                &s,
                reqwest::Method::POST,
                "/api/v1/admin/notices",
                Some(json!({"text": "from a test"})),
            )
            .await,
        );
        got.push(s.get("/api/v1/users").await.0);
        got.push(
            send(
                &s,
                reqwest::Method::POST,
                "/api/v1/tokens",
                Some(json!({"name": "mine", "scope": "read"})),
            )
            .await,
        );
        let others = if name == "mia" {
            "00000000-0000-4000-8000-000000000000".to_string()
        } else {
            mia_token.clone()
        };
        let revoked = send(
            &s,
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{others}"),
            None,
        )
        .await;
        got.push(if name == "mia" { 404 } else { revoked });
        mia.cancel(&target).await;
        table.insert(row, (who.to_string(), got.clone()));
        assert_eq!(got, want.to_vec(), "{who}: {COLUMNS:?}");
    }
    println!("| role | {} |", COLUMNS.join(" | "));
    println!("|---|{}", "---|".repeat(COLUMNS.len()));
    for (who, got) in table.values() {
        println!(
            "| {who} | {} |",
            got.iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
}

/// Without a session: the API answers 401, pages send the browser to sign in, and the sign-in
/// page itself is served.
#[tokio::test]
async fn without_signing_in_nothing_but_the_sign_in_page() {
    let app = accounts_app().await;
    let s = app.session();
    for path in [
        "/api/v1/jobs",
        "/api/v1/me",
        "/api/v1/events",
        "/api/v1/kinds",
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["code"], "unauthorized");
    }
    assert_eq!(
        send(
            &s,
            reqwest::Method::POST,
            "/api/v1/jobs",
            Some(json!({"kind": "demo"}))
        )
        .await,
        401
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(format!("{}/jobs/x?y=1", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/signin?next=%2Fjobs%2Fx%3Fy%3D1");
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session for a visitor"
    );
    let r = no_redirect
        .get(format!("{}/signin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session for a visitor"
    );
    assert!(r.text().await.unwrap().contains(r#"action="/signin""#));
}

/// The sign-in form works without JavaScript: right credentials go on to `next`, wrong ones
/// come back with a message that does not say which was wrong; the header then names the user.
#[tokio::test]
async fn the_sign_in_form_signs_in_and_out_without_javascript() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |user: &str, password: &str| {
        browser
            .post(format!("{}/signin", app.base))
            .form(&[
                ("username", user),
                ("password", password),
                ("next", "/settings"),
            ])
            .send()
    };
    for (user, password) in [("mia", "wrong password"), ("nobody", PASSWORD)] {
        let r = post(user, password).await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/signin?failed=1&next=%2Fsettings");
    }
    let r = post("mia", PASSWORD).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/settings");
    let page = browser
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<strong>mia</strong>"),
        "the header names the user"
    );
    assert!(page.contains(r#"data-role="member""#));
    let r = browser
        .post(format!("{}/signout", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/signin")
    );
    let r = browser.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 303, "signed out");
}

/// Signing in gives the session a new id and the old one stops working (no fixation); signing
/// out ends the session on the server, not only in the browser, and its open stream with it.
#[tokio::test]
async fn signing_in_changes_the_session_id_and_signing_out_ends_it() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let bare = crate::client::http();
    let session_of = |r: &reqwest::Response| -> String {
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_string()
    };
    let sign_in = |name: &str, cookie: Option<String>| {
        let mut req = bare
            .post(format!("{}/api/v1/session", app.base))
            .json(&json!({"username": name, "password": PASSWORD}));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    let me = |cookie: String| {
        bare.get(format!("{}/api/v1/me", app.base))
            .header("cookie", cookie)
            .send()
    };
    let r = sign_in("mia", None).await.unwrap();
    assert_eq!(r.status(), 200);
    let first = session_of(&r);
    assert_eq!(
        me(first.clone())
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["username"],
        "mia"
    );
    // Someone who knows the session id signs in as another user on it: a new id, the old one gone.
    let r = sign_in("max", Some(first.clone())).await.unwrap();
    let second = session_of(&r);
    assert_ne!(first, second);
    assert_eq!(
        me(first).await.unwrap().status(),
        401,
        "the old session id no longer works"
    );
    assert_eq!(
        me(second.clone())
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["username"],
        "max"
    );
    let stream = bare
        .get(format!("{}/api/v1/events", app.base))
        .header("cookie", second.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let r = bare
        .delete(format!("{}/api/v1/session", app.base))
        .header("cookie", second.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        tokio::time::timeout(WAIT, stream.text()).await.is_ok(),
        "the signed-out session's open stream ended"
    );
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        me(second).await.unwrap().status(),
        401,
        "the session ended on the server"
    );
}

/// Past five failures for one name, sign-in answers 429 with `Retry-After`, even with the right
/// password; a wrong password and an unknown name get the same answer.
#[tokio::test]
async fn failed_sign_ins_are_limited() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let s = app.session();
    let (status, unknown) = sign_in(&s, "nobody", PASSWORD).await;
    assert_eq!(status, 401);
    let (status, wrong) = sign_in(&s, "mia", "not the password").await;
    assert_eq!(
        (status, &wrong),
        (401, &unknown),
        "the answer does not say whether the name exists"
    );
    for _ in 1..5 {
        assert_eq!(sign_in(&s, "mia", "still not it").await.0, 401);
    }
    let r = s
        .http
        .post(s.url("/api/v1/session"))
        .json(&json!({"username": "mia", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "too_many_requests"
    );
    // Another account from the same address is not held back by mia's failures.
    add_user(&app, "max", "member").await;
    assert_eq!(sign_in(&s, "max", PASSWORD).await.0, 200);
}

/// Read tokens read and change nothing; write tokens act as their owner; a revoked token is
/// refused at once, and a token follows the stream (its stream ends once revoked).
#[tokio::test]
async fn tokens_act_within_their_scope_until_revoked() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    let mine = mia.demo(1, 1).await;
    let make = |scope: &'static str| {
        let mia = mia.clone();
        async move {
            let r = mia
                .http
                .post(mia.url("/api/v1/tokens"))
                .json(&json!({"name": scope, "scope": scope}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }
    };
    let (read, write) = (make("read").await, make("write").await);
    assert!(read["token"].as_str().unwrap().starts_with("hw_"));
    let client = crate::client::http();
    let with = |token: &Value, method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(token["token"].as_str().unwrap())
    };
    let r = with(&read, reqwest::Method::GET, &format!("/api/v1/jobs/{mine}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let start = json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}});
    let r = with(&read, reqwest::Method::POST, "/api/v1/jobs")
        .json(&start)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        with(
            &read,
            reqwest::Method::POST,
            &format!("/api/v1/jobs/{mine}/rerun")
        )
        .send()
        .await
        .unwrap()
        .status(),
        403
    );
    assert_eq!(
        with(&read, reqwest::Method::POST, "/api/v1/tokens")
            .json(&json!({"name": "x", "scope": "write"}))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let r = with(&write, reqwest::Method::POST, "/api/v1/jobs")
        .json(&start)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let started = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        mia.job(&started).await["id"],
        started.as_str(),
        "the token's job is its owner's"
    );
    // Tokens are listed with their last use, never with their secret.
    let (_, list) = mia.get("/api/v1/tokens").await;
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|t| t.get("token").is_none() && t["last_used_at"].is_i64()),
        "{list}"
    );

    // The stream, with a token: it carries the owner's events, and ends once the token is revoked.
    let stream = with(&read, reqwest::Method::GET, "/api/v1/events")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut events: Events = Box::pin(
        stream
            .bytes_stream()
            .eventsource()
            .map(|e| e.expect("well-formed SSE")),
    );
    let snapshot = read_until(&mut events, |e| e.event == "snapshot").await;
    assert!(data(snapshot.last().unwrap())["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["id"] == mine.as_str()));
    let r = mia
        .http
        .delete(mia.url(&format!("/api/v1/tokens/{}", read["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ended = tokio::time::timeout(WAIT, async { while events.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the revoked token's stream ended");
    let r = with(&read, reqwest::Method::GET, "/api/v1/jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a revoked token is refused at once");
    assert_eq!(
        with(&write, reqwest::Method::GET, "/api/v1/jobs")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// A form post and a server-function call carrying the victim's cookie but another site's
/// `Origin` (or `Sec-Fetch-Site: cross-site`) are refused and create nothing.
#[tokio::test]
async fn cross_site_changes_are_refused() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    let attempts = [
        ("origin", "http://evil.example", "/api/start_job"),
        ("origin", "null", "/api/start_job"),
        ("sec-fetch-site", "cross-site", "/api/start_job"),
        ("origin", "http://evil.example", "/api/v1/jobs"),
        ("origin", "http://evil.example", "/signout"),
    ];
    for (header, value, path) in attempts {
        let req = mia.http.post(mia.url(path)).header(header, value);
        let r = match path {
            "/api/v1/jobs" => req.json(&json!({"kind": "demo", "params": {"steps": 1}})),
            _ => req.form(&[
                ("kind", "demo"),
                ("params[steps]", "1"),
                ("params[interval_ms]", "1"),
            ]),
        }
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value} on {path}");
    }
    let (_, page) = mia.list("").await;
    assert_eq!(
        page["jobs"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    assert_eq!(mia.get("/api/v1/me").await.0, 200, "still signed in");
    // The same requests from the site itself go through.
    let origin = app.base.clone();
    let r = mia
        .http
        .post(mia.url("/api/start_job"))
        .header("origin", origin)
        .form(&[
            ("kind", "demo"),
            ("params[steps]", "1"),
            ("params[interval_ms]", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let (_, page) = mia.list("").await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 1);
}

/// Disabling an account or changing its password ends its sessions, open streams included, in
/// every process; signing in again works with the new password only.
#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_streams() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    let mia = signed_in(&app, "mia").await;
    let admin = crate::client::http();
    let change = |body: Value| {
        admin
            .patch(format!("{}/api/v1/users/mia", app.base))
            .bearer_auth(app.admin_token())
            .json(&body)
            .send()
    };
    let stream = mia.stream("/api/v1/events", None).await;
    assert_eq!(stream.status(), 200);
    assert_eq!(
        change(json!({"disabled": true})).await.unwrap().status(),
        204
    );
    let body = tokio::time::timeout(WAIT, stream.text()).await;
    assert!(body.is_ok(), "the disabled user's stream ended");
    assert_eq!(mia.get("/api/v1/me").await.0, 401);
    assert_eq!(
        sign_in(&mia, "mia", PASSWORD).await.0,
        401,
        "a disabled account cannot sign in"
    );

    assert_eq!(
        change(json!({"disabled": false})).await.unwrap().status(),
        204
    );
    let mia = signed_in(&app, "mia").await;
    let stream = mia.stream("/api/v1/events", None).await;
    assert_eq!(
        change(json!({"password": "a brand new secret"}))
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(
        tokio::time::timeout(WAIT, stream.text()).await.is_ok(),
        "the stream ended with the password change"
    );
    assert_eq!(mia.get("/api/v1/me").await.0, 401);
    assert_eq!(sign_in(&mia, "mia", PASSWORD).await.0, 401);
    assert_eq!(sign_in(&mia, "mia", "a brand new secret").await.0, 200);
    assert_eq!(change(json!({"role": "root"})).await.unwrap().status(), 422);
    assert_eq!(change(json!({})).await.unwrap().status(), 422);
    let r = admin
        .patch(format!("{}/api/v1/users/nobody", app.base))
        .bearer_auth(app.admin_token())
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Accounts are checked as they are made: names, passwords and roles.
#[tokio::test]
async fn bad_accounts_are_refused_with_reasons() {
    let app = accounts_app().await;
    let post = |body: Value| {
        crate::client::http()
            .post(format!("{}/api/v1/users", app.base))
            .bearer_auth(app.admin_token())
            .json(&body)
            .send()
    };
    for (body, field) in [
        (
            json!({"username": "Ada Lovelace", "password": PASSWORD, "role": "admin"}),
            "username",
        ),
        (
            json!({"username": "ada", "password": "short", "role": "admin"}),
            "password",
        ),
    ] {
        let r = post(body).await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(
            r.json::<Value>().await.unwrap()["fields"][0]["field"],
            field
        );
    }
    assert_eq!(
        post(json!({"username": "ada", "password": PASSWORD, "role": "root"}))
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(
        post(json!({"username": "ada", "password": PASSWORD, "role": "admin"}))
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        post(json!({"username": "ada", "password": PASSWORD, "role": "viewer"}))
            .await
            .unwrap()
            .status(),
        409
    );
}

/// On an open server (the loopback default), `/api/v1/me` names no one and there is nothing to
/// sign in to.
#[tokio::test]
async fn an_open_server_has_anonymous_members() {
    let app = crate::harness::spawn_app().await;
    let s = app.session();
    let (status, me) = s.get("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({"username": null, "role": "member", "accounts": false})
    );
    assert_eq!(sign_in(&s, "mia", PASSWORD).await.0, 409);
}

/// The session cookie is HttpOnly and SameSite=Lax always, and Secure when the request came over
/// HTTPS through a trusted proxy (or with `--secure-cookies`); a client's own claim is ignored.
#[tokio::test]
async fn the_cookie_is_secure_behind_https() {
    let cookie = |app: &App, proto: Option<&'static str>| {
        let mut req = crate::client::http().get(format!("{}/api/v1/me", app.base));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        async move {
            req.send().await.unwrap().headers()["set-cookie"]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    let direct = crate::harness::spawn_app().await;
    let plain = cookie(&direct, Some("https")).await;
    assert!(
        plain.contains("HttpOnly") && plain.contains("SameSite=Lax"),
        "{plain}"
    );
    assert!(
        !plain.contains("Secure"),
        "an untrusted client's header is ignored: {plain}"
    );
    let proxied = app()
        .with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()])
        .start()
        .await;
    assert!(cookie(&proxied, Some("https")).await.contains("Secure"));
    assert!(!cookie(&proxied, Some("http")).await.contains("Secure"));
}

/// The users page's server functions are an admin's alone: anyone else is refused and nothing
/// changes; an admin cannot disable their own account from there.
#[tokio::test]
async fn only_an_admin_manages_accounts_from_the_page() {
    let app = accounts_app().await;
    add_user(&app, "ada", "admin").await;
    add_user(&app, "otto", "operator").await;
    let otto = signed_in(&app, "otto").await;
    let add = |s: &Session, name: &'static str| {
        s.http
            .post(s.url("/api/add_user"))
            .form(&[
                ("username", name),
                ("password", PASSWORD),
                ("role", "admin"),
            ])
            .send()
    };
    assert_eq!(add(&otto, "eve").await.unwrap().status(), 403);
    let r = otto
        .http
        .post(otto.url("/api/change_user"))
        .form(&[("username", "otto"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        otto.get("/api/v1/me").await.1["role"],
        "operator",
        "no one raised their own role"
    );
    let ada = signed_in(&app, "ada").await;
    assert_eq!(add(&ada, "eve").await.unwrap().status(), 200);
    let r = ada
        .http
        .post(ada.url("/api/change_user"))
        .form(&[("username", "ada"), ("disabled", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = ada
        .http
        .post(ada.url("/api/change_user"))
        .form(&[("username", "eve"), ("role", "root")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(sign_in(&app.session(), "eve", PASSWORD).await.0, 200);
}

/// Changes `name` through the page's server function, as `s`.
async fn change_from_page(s: &Session, fields: &[(&str, &str)]) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/change_user"))
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Changes `name` through `PATCH /api/v1/users/{name}`, as `s`.
async fn change_from_api(s: &Session, name: &str, body: Value) -> (u16, Value) {
    let r = s
        .http
        .patch(s.url(&format!("/api/v1/users/{name}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The account `name` as an admin's list shows it.
async fn account(app: &App, name: &str) -> Value {
    let r = crate::client::http()
        .get(format!("{}/api/v1/users", app.base))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    let users: Vec<Value> = r.json().await.unwrap();
    users
        .into_iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

/// The rules about accounts hold whichever way a change comes: the users page or the API.
#[tokio::test]
async fn an_admin_cannot_disable_themselves_or_leave_the_team_without_an_admin_either_way() {
    let app = accounts_app().await;
    add_user(&app, "ada", "admin").await;
    add_user(&app, "mia", "member").await;
    let ada = signed_in(&app, "ada").await;
    // Disabling oneself: refused on both edges, the account stays enabled.
    let (status, e) = change_from_api(&ada, "ada", json!({"disabled": true})).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["message"].as_str().unwrap().contains("their own account"));
    let (status, _) = change_from_page(&ada, &[("username", "ada"), ("disabled", "true")]).await;
    assert_eq!(status, 409);
    assert_eq!(account(&app, "ada").await["disabled"], false);
    // Ada is the only enabled admin: she may not be demoted, by herself or by anyone.
    let (status, e) = change_from_api(&ada, "ada", json!({"role": "member"})).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("last enabled admin"),
        "{e}"
    );
    let (status, _) = change_from_page(&ada, &[("username", "ada"), ("role", "operator")]).await;
    assert_eq!(status, 409);
    let operator = Session::new(&app.base);
    let by_token = operator
        .http
        .patch(operator.url("/api/v1/users/ada"))
        .bearer_auth(app.admin_token())
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 409);
    assert_eq!(account(&app, "ada").await["role"], "admin");
    // With a second admin, she may step down.
    let (status, _) = change_from_api(&ada, "mia", json!({"role": "admin"})).await;
    assert_eq!(status, 204);
    let (status, _) = change_from_page(&ada, &[("username", "ada"), ("role", "member")]).await;
    assert_eq!(status, 200);
    assert_eq!(account(&app, "ada").await["role"], "member");
}

/// A change of several things of an account is made whole or not at all.
#[tokio::test]
async fn a_change_to_an_account_is_all_or_nothing() {
    let app = accounts_app().await;
    add_user(&app, "ada", "admin").await;
    add_user(&app, "mia", "member").await;
    let ada = signed_in(&app, "ada").await;
    // A new role with a password that is refused: neither is changed.
    let (status, e) =
        change_from_api(&ada, "mia", json!({"role": "viewer", "password": "x"})).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(account(&app, "mia").await["role"], "member");
    assert_eq!(sign_in(&app.session(), "mia", PASSWORD).await.0, 200);
    // A role change with a disable of herself: refused, and her role is not changed either.
    let (status, _) = change_from_page(
        &ada,
        &[
            ("username", "ada"),
            ("role", "operator"),
            ("disabled", "true"),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(account(&app, "ada").await["role"], "admin");
    // Both at once, when allowed: both are made.
    let (status, _) =
        change_from_api(&ada, "mia", json!({"role": "viewer", "disabled": true})).await;
    assert_eq!(status, 204);
    let mia = account(&app, "mia").await;
    assert_eq!(
        (mia["role"].as_str(), mia["disabled"].as_bool()),
        (Some("viewer"), Some(true))
    );
}

/// Who started a job (the account, and the token it came through), who cancelled it, who re-ran
/// it and where it ran, as the API and the job's page say it; an open server's one user is
/// nobody by name.
#[tokio::test]
async fn a_job_names_who_started_it_who_cancelled_it_and_where_it_ran() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "ada", "admin").await;
    let (mia, ada) = (signed_in(&app, "mia").await, signed_in(&app, "ada").await);
    let (status, token) = {
        let r = mia
            .http
            .post(mia.url("/api/v1/tokens"))
            .json(&json!({"name": "nightly deploy", "scope": "write"}))
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 201);
    let script = Session::with_token(&app.base, token["token"].as_str().unwrap());
    let by_token = running_job(&script).await;
    let by_hand = running_job(&mia).await;
    mia.wait_status(&by_token, "running").await;
    let job = mia.job(&by_token).await;
    assert_eq!(
        job["started_by"],
        json!({"name": "mia", "token": "nightly deploy"})
    );
    assert_eq!(
        mia.job(&by_hand).await["started_by"],
        json!({"name": "mia"})
    );
    assert!(job.get("cancelled_by").is_none(), "{job}");
    // Where it runs: this server's process, by its host and pid.
    let process = app.engine().jobs().process_id().to_string();
    assert_eq!(job["attempts"][0]["on"], json!(process));
    assert_eq!(job["places"][0]["id"], json!(process));
    assert_eq!(job["places"][0]["pid"], json!(std::process::id()));

    // An admin cancels mia's running job; mia cancels her own.
    assert_eq!(ada.cancel(&by_token).await.0, 200);
    assert_eq!(mia.cancel(&by_hand).await.0, 200);
    let ended = mia.wait_finished(&by_token).await;
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(ended["cancelled_by"], json!({"name": "ada"}));
    assert_eq!(ended["attempts"][0]["on"], json!(process));
    assert_eq!(
        mia.wait_finished(&by_hand).await["cancelled_by"],
        json!({"name": "mia"})
    );

    // The page says the same, in words.
    let page = mia.text(&format!("/jobs/{by_token}")).await;
    assert!(
        page.contains("mia, with the token “nightly deploy”"),
        "{page}"
    );
    assert!(
        page.contains(r#"<dd class="job-cancelled-by">ada</dd>"#),
        "{page}"
    );
    assert!(page.contains(r#"<dd class="job-ran-on">"#), "{page}");
    // A re-run is started by who asked for it.
    let (status, again) = ada.rerun(&by_hand).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["started_by"], json!({"name": "ada"}));
    let again = again["id"].as_str().unwrap().to_string();
    ada.cancel(&again).await;

    // An open server's one user is nobody by name.
    let open = crate::harness::app().start().await;
    let anyone = open.session();
    let id = anyone.demo(1, 1).await;
    let job = anyone.wait_finished(&id).await;
    assert!(job.get("started_by").is_none(), "{job}");
}
