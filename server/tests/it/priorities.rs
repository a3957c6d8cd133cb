//! Priorities through the API: who may start a job at which priority, a free slot for the
//! highest first, a queued job's priority changed one at a time and in bulk, schedules' jobs,
//! a command kind's own priority. (The order itself, with aging, is in the store's contract
//! tests and `store_core::claim`.)

use crate::client::*;
use crate::harness::{app, App};
use crate::team::{accounts_app, add_user, signed_in};
use serde_json::{json, Value};

/// POSTs `body` as JSON to `path`.
async fn post_json(s: &Session, path: &str, body: Value) -> (u16, Value) {
    let r = s.http.post(s.url(path)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A demo job that waits an hour before it may start: it stays queued.
fn later(priority: Value) -> Value {
    let at = an_hour_from_now();
    json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "run_after": at, "priority": priority})
}

/// Unix ms an hour from now.
fn an_hour_from_now() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now + 3_600_000
}

async fn team() -> (App, Session, Session) {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "ola", "operator").await;
    let mia = signed_in(&app, "mia").await;
    let ola = signed_in(&app, "ola").await;
    (app, mia, ola)
}

#[tokio::test]
async fn members_start_at_their_kinds_priority_or_below_and_operators_at_any() {
    let (_app, mia, ola) = team().await;
    // Above the kind's priority (normal): refused, and nothing is started.
    let (status, e) = post_json(&mia, "/api/v1/jobs", later(json!("high"))).await;
    assert_eq!(status, 403, "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("at priority normal or below, not high"),
        "{message}"
    );
    assert_eq!(mia.list("").await.1["jobs"], json!([]));
    // Bad values are refused on their field, whatever their type.
    for bad in [json!("asap"), json!(5), json!(-1), json!(2.5), json!(true)] {
        let (status, e) = post_json(&mia, "/api/v1/jobs", later(bad.clone())).await;
        assert_eq!(status, 422, "{bad}: {e}");
        assert_eq!(e["fields"][0]["field"], "priority", "{bad}: {e}");
        assert!(
            e["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("a priority is one of"),
            "{e}"
        );
    }
    // At or below it, by name or level; without one, the kind's.
    for (asked, got) in [
        (json!("low"), "low"),
        (json!(0), "lowest"),
        (json!("normal"), "normal"),
        (Value::Null, "normal"),
    ] {
        let (status, job) = post_json(&mia, "/api/v1/jobs", later(asked.clone())).await;
        assert_eq!(status, 201, "{asked}: {job}");
        assert_eq!(job["priority"], got, "{asked}");
    }
    // An operator raises what they like.
    let (status, job) = post_json(&ola, "/api/v1/jobs", later(json!("urgent"))).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["priority"], "urgent");
    assert_eq!(
        ola.job(job["id"].as_str().unwrap()).await["priority"],
        "urgent"
    );
}

#[tokio::test]
async fn a_queued_jobs_priority_changes_within_the_same_rule_one_or_many() {
    let (_app, mia, ola) = team().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, job) = post_json(&mia, "/api/v1/jobs", later(json!("low"))).await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    let path = |id: &str| format!("/api/v1/jobs/{id}/priority");
    // Its owner, up to the kind's priority.
    let (status, job) = post_json(&mia, &path(&ids[0]), json!({"priority": "normal"})).await;
    assert_eq!((status, job["priority"].clone()), (200, json!("normal")));
    let (status, e) = post_json(&mia, &path(&ids[0]), json!({"priority": "urgent"})).await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(mia.job(&ids[0]).await["priority"], "normal", "unchanged");
    // An operator, any; a bad value or job is refused.
    let (status, job) = post_json(&ola, &path(&ids[0]), json!({"priority": 4})).await;
    assert_eq!((status, job["priority"].clone()), (200, json!("urgent")));
    let (status, e) = post_json(&ola, &path(&ids[0]), json!({"priority": "now"})).await;
    assert_eq!(
        (status, e["fields"][0]["field"].clone()),
        (422, json!("priority"))
    );
    let (status, _) = post_json(&ola, &path("nope"), json!({"priority": "low"})).await;
    assert!(status == 400 || status == 404, "{status}");
    let missing = "00000000-0000-4000-8000-000000000000";
    let (status, _) = post_json(&ola, &path(missing), json!({"priority": "low"})).await;
    assert_eq!(status, 404);
    // Once it is no longer queued: 409.
    let (status, _) = mia.cancel(&ids[2]).await;
    assert_eq!(status, 200);
    let (status, e) = post_json(&mia, &path(&ids[2]), json!({"priority": "lowest"})).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("this one is cancelled"),
        "{e}"
    );
    // In bulk: each job says what became of it.
    let body = json!({"ids": [ids[0], ids[1], ids[2], "not-an-id"], "priority": "high"});
    let (status, answer) = post_json(&ola, "/api/v1/jobs/priority", body).await;
    assert_eq!(status, 200, "{answer}");
    let done: Vec<bool> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["done"].as_bool().unwrap())
        .collect();
    assert_eq!(done, [true, true, false, false], "{answer}");
    assert_eq!(mia.job(&ids[1]).await["priority"], "high");
    // A member's bulk change is held to the same rule, job by job.
    let body = json!({"ids": [ids[1]], "priority": "urgent"});
    let (_, answer) = post_json(&mia, "/api/v1/jobs/priority", body).await;
    assert_eq!(answer["results"][0]["done"], false, "{answer}");
    assert_eq!(
        answer["results"][0]["error"]["code"], "forbidden",
        "{answer}"
    );
}

#[tokio::test]
async fn a_free_slot_goes_to_the_highest_priority_waiting() {
    let app = app().with(|c| c.max_running = 1).start().await;
    let operator = Session::with_token(&app.base, &app.admin_token());
    let mut events = operator.events("/api/v1/events", None).await;
    // One job holds the one slot while the others queue behind it.
    let blocker = operator.demo(100_000, 20).await;
    read_until(&mut events, |e| {
        e.event == "job" && data(e)["id"] == blocker.as_str() && data(e)["status"] == "running"
    })
    .await;
    let start = |priority: &'static str| {
        let operator = &operator;
        async move {
            let body = json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "priority": priority});
            let (status, job) = post_json(operator, "/api/v1/jobs", body).await;
            assert_eq!(status, 201, "{job}");
            job["id"].as_str().unwrap().to_string()
        }
    };
    let mut queued = Vec::new();
    for p in ["low", "low", "normal", "lowest", "urgent", "high"] {
        queued.push((p, start(p).await));
    }
    // Places in line follow the same order.
    let (_, page) = operator.list("status=queued").await;
    let place = |id: &str| {
        page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .unwrap()["queue_position"]
            .as_u64()
            .unwrap()
    };
    let places: Vec<u64> = queued.iter().map(|(_, id)| place(id)).collect();
    assert_eq!(places, [4, 5, 3, 6, 1, 2], "{page}");
    operator.cancel(&blocker).await;
    let seen = read_until_n(&mut events, 6, |e| {
        e.event == "done" && data(e)["job_id"] != blocker.as_str()
    })
    .await;
    let started: Vec<String> = seen
        .iter()
        .filter(|e| e.event == "job" && data(e)["status"] == "running")
        .map(|e| data(e)["id"].as_str().unwrap().to_string())
        .filter(|id| *id != blocker)
        .collect();
    let by_priority = |p: &str| {
        queued
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, id)| id.clone())
            .collect::<Vec<_>>()
    };
    let expected: Vec<String> = ["urgent", "high", "normal", "low", "lowest"]
        .iter()
        .flat_map(|p| by_priority(p))
        .collect();
    assert_eq!(started, expected);
}

#[tokio::test]
async fn a_schedules_jobs_take_its_priority_set_under_the_same_rule() {
    let (_app, mia, ola) = team().await;
    let schedule = |priority: Value| {
        json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": "0 3 * * *",
               "timezone": "UTC", "priority": priority})
    };
    let (status, e) = post_json(&mia, "/api/v1/schedules", schedule(json!("high"))).await;
    assert_eq!(status, 403, "{e}");
    let (status, created) = post_json(&ola, "/api/v1/schedules", schedule(json!("high"))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["priority"], "high");
    let id = created["id"].as_str().unwrap();
    let (status, job) = ola.post(&format!("/api/v1/schedules/{id}/run")).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["priority"], "high");
    // `null` goes back to the kind's.
    let r = ola
        .http
        .patch(ola.url(&format!("/api/v1/schedules/{id}")))
        .json(&json!({"priority": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["priority"], Value::Null);
    let (_, job) = ola.post(&format!("/api/v1/schedules/{id}/run")).await;
    assert_eq!(job["priority"], "normal");
}
