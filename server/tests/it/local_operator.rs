//! The operator at the machine: on an open server that listens on loopback only (what
//! `make run` starts), a request from this machine is its operator's, so the person at it pauses
//! a kind from `/system` (its server function) or the API without the operator token. Nowhere
//! else: not through a proxy's forwarded request, not with `--local-operator false`, not on an
//! open server bound beyond loopback, and never on a server with accounts.

use crate::client::*;
use crate::harness::app;
use crate::team::{accounts_app, add_user, signed_in};
use server::config::AuthMode;

/// Calls the server function `endpoint` with the form `body`, as the `/system` page's forms do
/// without JavaScript; its status and body.
async fn server_fn(s: &Session, endpoint: &str, body: &str) -> (u16, String) {
    let r = s
        .http
        .post(s.url(&format!("/api/{endpoint}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_person_at_a_loopback_open_server_pauses_a_kind_from_the_page_and_the_api() {
    let app = app().start().await;
    let me = app.session();
    // /system offers the controls: the pause buttons and the limit form.
    let page = me.text("/system").await;
    assert!(
        page.contains("action=\"/api/pause_kind\"") && page.contains("id=\"limit-form\""),
        "no controls on /system: {page:.2000}"
    );

    let (status, paused) = server_fn(&me, "pause_kind", "kind=demo").await;
    assert_eq!(status, 200, "{paused}");
    assert!(paused.contains("\"paused_by\":\"operator\""), "{paused}");
    let waiting = me.demo(1, 1).await;
    let job = me.job(&waiting).await;
    assert_eq!(job["waiting_for"], "paused", "{job}");
    let (status, resumed) = server_fn(&me, "resume_kind", "kind=demo").await;
    assert_eq!((status, resumed.as_str()), (200, "true"));
    assert_eq!(me.wait_finished(&waiting).await["status"], "succeeded");

    // The API follows the same principal: a script on this machine, without a token.
    let script = app.session();
    let (status, body) = script.post("/api/v1/kinds/batch/pause").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = script.post("/api/v1/kinds/batch/resume").await;
    assert_eq!((status, &body["was_paused"]), (200, &true.into()), "{body}");

    // Operating is all it adds: another browser's job is still not there for them.
    assert_eq!(script.get(&format!("/api/v1/jobs/{waiting}")).await.0, 404);

    // A request a proxy on this machine relayed is not the person at it.
    let relayed = script
        .http
        .post(script.url("/api/v1/kinds/demo/pause"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(relayed.status(), 401);
}

#[tokio::test]
async fn no_one_is_the_operator_without_the_token_beyond_loopback_with_accounts_or_when_turned_off()
{
    // Open, but bound to every address: the client on loopback is anyone.
    let wide = app()
        .with(|c| {
            c.addr = "0.0.0.0:0".parse().unwrap();
            c.auth = Some(AuthMode::Open);
        })
        .start()
        .await;
    let anyone = Session::new(&format!("http://127.0.0.1:{}", wide.addr.port()));
    let (status, said) = server_fn(&anyone, "pause_kind", "kind=demo").await;
    assert_eq!(status, 401, "{said}");
    assert_eq!(anyone.post("/api/v1/kinds/demo/pause").await.0, 401);

    // On loopback, with --local-operator false (a machine several people share).
    let shared = app().with(|c| c.local_operator = false).start().await;
    let (status, said) = server_fn(&shared.session(), "pause_kind", "kind=demo").await;
    assert_eq!(status, 401, "{said}");
    let page = shared.session().text("/system").await;
    assert!(!page.contains("action=\"/api/pause_kind\""), "{page:.2000}");

    // A server with accounts, on loopback: nobody signed in, and a member, are refused.
    let team = accounts_app().await;
    let (status, said) = server_fn(&team.session(), "pause_kind", "kind=demo").await;
    assert_eq!(status, 401, "{said}");
    add_user(&team, "mia", "member").await;
    let mia = signed_in(&team, "mia").await;
    let (status, said) = server_fn(&mia, "pause_kind", "kind=demo").await;
    assert_eq!(status, 403, "{said}");
    assert_eq!(mia.post("/api/v1/kinds/demo/pause").await.0, 403);
}
