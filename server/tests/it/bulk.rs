//! Bulk actions through the API: by ids or by a history filter, each job handled as its single
//! action would be, only the caller's jobs touched, and an answer for every job.

use crate::client::*;
use crate::harness::spawn_app;
use serde_json::{json, Value};

async fn bulk(s: &Session, action: &str, body: Value) -> (u16, Value) {
    let r = s
        .http
        .post(s.url(&format!("/api/v1/jobs/{action}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn cancel_by_ids_touches_only_the_callers_jobs_and_answers_for_each() {
    let app = spawn_app().await;
    let (me, other) = (app.session(), app.session());
    let mut events = me.events("/api/v1/events", None).await;
    let running = me.demo(100_000, 50).await;
    read_until(&mut events, |e| {
        e.event == "job" && data(e)["id"] == running && data(e)["status"] == "running"
    })
    .await;
    let finished = me.demo(1, 1).await;
    me.wait_finished(&finished).await;
    let theirs = other.demo(100_000, 50).await;

    let (status, answer) = bulk(
        &me,
        "cancel",
        json!({"ids": [running, finished, theirs, running]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["done"], 1);
    assert_eq!(answer["not_done"], 2);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "each id once: {answer}");
    assert_eq!(results[0]["id"], running.as_str());
    assert_eq!(results[0]["done"], true);
    assert!(["cancelling", "cancelled"].contains(&results[0]["job"]["status"].as_str().unwrap()));
    assert_eq!(results[1]["error"]["code"], "conflict");
    // Another user's job is not theirs to touch, nor to know of.
    assert_eq!(results[2]["error"]["code"], "not_found");
    assert_eq!(me.wait_finished(&running).await["status"], "cancelled");
    assert_eq!(other.job(&theirs).await["status"], "running");
    other.cancel(&theirs).await;
}

#[tokio::test]
async fn rerun_by_filter_takes_every_matching_job_newest_first() {
    let app = spawn_app().await;
    let s = app.session();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = s.demo(1, 1).await;
        s.wait_finished(&id).await;
        ids.push(id);
    }
    let (status, answer) = bulk(
        &s,
        "rerun",
        json!({"filter": {"status": "succeeded", "kind": "demo"}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["done"], 3);
    let origins: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["job"]["origin"].as_str().unwrap_or_else(|| panic!("{r}")))
        .collect();
    // Newest first, as the history lists them.
    assert_eq!(origins, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]);
    let (_, list) = s.list("kind=demo&limit=100").await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn bad_bulk_requests_get_clear_errors_and_change_nothing() {
    let app = spawn_app().await;
    let s = app.session();
    let id = s.demo(100_000, 50).await;
    for (body, status, code) in [
        (json!({}), 400, "bad_request"),
        (json!({"ids": [id], "filter": {}}), 400, "bad_request"),
        (json!({"ids": []}), 422, "invalid_params"),
        (json!({"filter": {"status": "nope"}}), 400, "bad_request"),
        (json!({"ids": [id], "extra": 1}), 422, "invalid_params"),
    ] {
        let (got, answer) = bulk(&s, "cancel", body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(answer["code"], code, "{body} → {answer}");
    }
    let too_many: Vec<String> = (0..1_001).map(|i| format!("{i}")).collect();
    let (got, answer) = bulk(&s, "cancel", json!({ "ids": too_many })).await;
    assert_eq!(got, 422, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("at most 1000"),
        "{answer}"
    );
    assert_ne!(s.job(&id).await["status"], "cancelled");
    assert_ne!(s.job(&id).await["status"], "cancelling");
    s.cancel(&id).await;
}

/// What the bulk page's confirmation counts: the caller's jobs among the ids, however many ids
/// there are (it reads them in one query), and nothing of anyone else's.
#[tokio::test]
async fn a_bulk_preview_counts_only_the_callers_jobs_among_a_thousand_ids() {
    let app = spawn_app().await;
    let (me, other) = (app.session(), app.session());
    let mine = [me.demo(1, 1).await, me.demo(1, 1).await];
    let theirs = other.demo(1, 1).await;
    let mut ids: Vec<String> = (0..996).map(|_| engine::new_id()).collect();
    ids.extend(mine.iter().cloned());
    ids.push(theirs);
    ids.push("not-an-id".into());
    let preview = |s: &Session, ids: String| {
        let s = s.clone();
        async move {
            let r = s
                .http
                .post(s.url("/api/bulk_preview"))
                .form(&[
                    ("selection[ids]", ids.as_str()),
                    ("selection[all]", "false"),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(preview(&me, ids.join(",")).await, (200, json!(2)));
    assert_eq!(preview(&other, ids.join(",")).await, (200, json!(1)));
    // A filter counts the caller's jobs it matches.
    let r = me
        .http
        .post(me.url("/api/bulk_preview"))
        .form(&[("selection[ids]", ""), ("selection[all]", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!(2));
}
