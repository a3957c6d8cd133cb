//! Continuations through the API and the command line: a job started after others waits,
//! queued, saying for what, and starts once they succeeded; a need that fails cancels it,
//! naming that need, unless it runs after them however they end; a cancel reaches the jobs
//! waiting for a success; who may name which jobs, and what bad ones get. (The settling itself,
//! in the transaction that ends a need, is in the store's contract tests.)

use crate::client::*;
use crate::harness::app;
use crate::team::{accounts_app, add_user, signed_in};
use model::after::MAX_AFTER;
use serde_json::{json, Value};

/// Starts a short demo job after `needs` (with `when`, if any); the answer.
async fn after(s: &Session, needs: &[&str], when: Option<&str>) -> (u16, Value) {
    let mut body =
        json!({"kind": "demo", "params": {"steps": 2, "interval_ms": 5}, "after": needs});
    if let Some(when) = when {
        body["when"] = json!(when);
    }
    s.create_raw(&body).await
}

/// A demo job that fails halfway through its one attempt.
async fn failing(s: &Session) -> String {
    let (status, job) = s
        .create_raw(&json!({
            "kind": "demo",
            "params": {"steps": 4, "interval_ms": 50, "fail_attempts": 1},
            "max_attempts": 1,
        }))
        .await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_str().unwrap().to_string()
}

fn id(job: &Value) -> String {
    job["id"].as_str().expect("a job's id").to_string()
}

#[tokio::test]
async fn a_job_after_others_waits_saying_for_what_and_starts_once_they_succeeded() {
    let app = app().start().await;
    let s = app.session();
    let long = s.demo(40, 50).await;
    s.wait_status(&long, "running").await;
    let short = s.demo(1, 1).await;
    s.wait_status(&short, "succeeded").await;
    let (status, then) = after(&s, &[&long, &short], None).await;
    assert_eq!(status, 201, "{then}");
    assert_eq!(then["after"]["jobs"], json!([long, short]), "{then}");
    assert_eq!(then["after"]["when"], "succeeded");
    assert_eq!(then["after"]["left"], 1, "the short one had ended: {then}");
    // Queued, out of line, saying where the jobs it waits for stand.
    let waiting = s.job(&id(&then)).await;
    assert_eq!(waiting["status"], "queued", "{waiting}");
    assert_eq!(waiting["waiting_for"], "jobs", "{waiting}");
    assert_eq!(
        waiting["needs"],
        json!({"total": 2, "queued": 0, "running": 1, "succeeded": 1, "ended": 0, "when": "succeeded"}),
        "{waiting}"
    );
    assert!(waiting.get("queue_position").is_none(), "{waiting}");
    // The list says so too.
    let (_, page) = s.list("status=queued").await;
    assert_eq!(page["jobs"][0]["waiting_for"], "jobs", "{page}");
    s.wait_status(&id(&then), "succeeded").await;
    let (long_now, then_now) = (s.job(&long).await, s.job(&id(&then)).await);
    assert!(
        then_now["started_at"].as_i64().unwrap() >= long_now["finished_at"].as_i64().unwrap(),
        "it started after the job it waited for ended: {long_now} {then_now}"
    );
}

#[tokio::test]
async fn a_failed_need_cancels_the_job_after_it_unless_it_runs_after_any_end() {
    let app = app().start().await;
    let s = app.session();
    let bad = failing(&s).await;
    let (status, on_success) = after(&s, &[&bad], None).await;
    assert_eq!(status, 201, "{on_success}");
    let (status, anyway) = after(&s, &[&bad], Some("ended")).await;
    assert_eq!(status, 201, "{anyway}");
    // A job after the one waiting for a success: cancelled in turn.
    let (status, second) = after(&s, &[&id(&on_success)], None).await;
    assert_eq!(status, 201, "{second}");
    s.wait_status(&bad, "failed").await;
    s.wait_status(&id(&on_success), "cancelled").await;
    let cancelled = s.job(&id(&on_success)).await;
    assert_eq!(cancelled["error"]["code"], "need_failed", "{cancelled}");
    let message = cancelled["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&bad),
        "it names the job it needed: {message}"
    );
    assert!(
        cancelled["started_at"].is_null(),
        "it never ran: {cancelled}"
    );
    s.wait_status(&id(&second), "cancelled").await;
    s.wait_status(&id(&anyway), "succeeded").await;
    // After it has failed: a start waiting for its success is refused, one after any end runs.
    let (status, e) = after(&s, &[&bad], None).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("would never start"),
        "{e}"
    );
    let (status, late) = after(&s, &[&bad], Some("ended")).await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(late["after"]["left"], 0, "{late}");
    s.wait_status(&id(&late), "succeeded").await;
}

#[tokio::test]
async fn cancelling_a_job_cancels_the_jobs_waiting_for_its_success() {
    let app = app().start().await;
    let s = app.session();
    let long = s.demo(200, 50).await;
    let (_, then) = after(&s, &[&long], None).await;
    let (_, anyway) = after(&s, &[&long], Some("ended")).await;
    s.wait_status(&long, "running").await;
    let (status, _) = s.cancel(&long).await;
    assert_eq!(status, 200);
    s.wait_status(&id(&then), "cancelled").await;
    s.wait_status(&id(&anyway), "succeeded").await;
    // A job cancelled while it waits is left so when its need ends.
    let (long2, _) = (s.demo(20, 20).await, ());
    let (_, dropped) = after(&s, &[&long2], None).await;
    let (status, _) = s.cancel(&id(&dropped)).await;
    assert_eq!(status, 200);
    s.wait_status(&long2, "succeeded").await;
    assert_eq!(s.job(&id(&dropped)).await["status"], "cancelled");
}

#[tokio::test]
async fn bad_continuations_are_refused_on_their_field_and_nothing_is_started() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "ola", "operator").await;
    let mia = signed_in(&app, "mia").await;
    let ola = signed_in(&app, "ola").await;
    let olas = ola.demo(1, 1).await;
    let mias = mia.demo(1, 1).await;
    let unknown = model::JobId::random().to_string();
    let many: Vec<String> = (0..=MAX_AFTER)
        .map(|_| model::JobId::random().to_string())
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let before = mia.list("").await.1["jobs"].as_array().unwrap().len();
    for (needs, says) in [
        (vec![unknown.as_str()], "there is no job"),
        // Another user's job is as unknown to a member as one that does not exist.
        (vec![olas.as_str()], "there is no job"),
        (many, "at most 100"),
    ] {
        let (status, e) = after(&mia, &needs, None).await;
        assert_eq!(status, 422, "{e}");
        assert_eq!(e["fields"][0]["field"], "after", "{e}");
        assert!(
            e["fields"][0]["message"].as_str().unwrap().contains(says),
            "{says}: {e}"
        );
    }
    // Not ids, or a condition that is none: refused as the body's shape.
    let (status, e) = after(&mia, &["not-an-id"], None).await;
    assert!(status == 400 || status == 422, "{status} {e}");
    let (status, e) = after(&mia, &[&mias], Some("later")).await;
    assert!(status == 400 || status == 422, "{status} {e}");
    assert_eq!(
        mia.list("").await.1["jobs"].as_array().unwrap().len(),
        before,
        "nothing was started"
    );
    // The same job named twice is waited for once; an operator may run after anyone's job.
    let (status, twice) = after(&mia, &[&mias, &mias], None).await;
    assert_eq!(status, 201, "{twice}");
    assert_eq!(twice["after"]["jobs"], json!([mias]));
    let (status, theirs) = after(&ola, &[&mias], None).await;
    assert_eq!(status, 201, "{theirs}");
}

#[tokio::test]
async fn the_command_line_starts_a_job_after_others() {
    let app = app().start().await;
    let s = Session::with_token(&app.base, &app.admin_token());
    let first = s.demo(10, 20).await;
    let (code, out, err) = app
        .client(
            &app.base,
            &[
                "start",
                "demo",
                "--param",
                "steps=1",
                "--param",
                "interval_ms=1",
                "--after",
                &first,
                "--when",
                "ended",
            ],
        )
        .await;
    assert_eq!(code, 0, "{out} {err}");
    let then = s.job(out.trim()).await;
    assert_eq!(then["after"]["jobs"], json!([first]), "{then}");
    assert_eq!(then["after"]["when"], "ended", "{then}");
    s.wait_status(out.trim(), "succeeded").await;
    // A condition without jobs to run after is refused before anything is sent.
    let (code, _, err) = app
        .client(&app.base, &["start", "demo", "--when", "ended"])
        .await;
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = app
        .client(&app.base, &["start", "demo", "--after", "nope"])
        .await;
    assert_eq!(code, 1, "{err}");
}
