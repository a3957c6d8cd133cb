//! The engine under real conditions: queue and limits, timeouts, re-runs, pruning, long
//! polling, listing. (Recovery after kill -9 is in `process.rs`.)

use crate::client::*;
use crate::harness::{app, spawn_app};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

#[tokio::test]
async fn the_queue_respects_the_limit_and_starts_jobs_in_order() {
    let app = app().with(|c| c.max_running = 2).start().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(s.demo(5, 20).await);
    }
    let seen = read_until_n(&mut events, 6, |e| e.event == "done").await;
    let mut running = HashSet::new();
    let mut max_running = 0;
    let mut started = Vec::new();
    for e in seen.iter().filter(|e| e.event == "job") {
        let job = data(e);
        let id = job["id"].as_str().unwrap().to_string();
        match job["status"].as_str().unwrap() {
            "running" => {
                running.insert(id.clone());
                started.push(id);
            }
            "succeeded" => {
                running.remove(&id);
            }
            _ => {}
        }
        max_running = max_running.max(running.len());
    }
    assert_eq!(
        max_running, 2,
        "never more than the limit, and the limit is used"
    );
    assert_eq!(started, ids, "first in, first out");
}

#[tokio::test]
async fn a_per_kind_limit_holds_that_kind_only() {
    let app = app()
        .with(|c| {
            c.max_running = 10;
            c.kind_limits = vec![("demo".into(), 1)];
        })
        .start()
        .await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let a = s.demo(100_000, 20).await;
    let b = s.demo(1, 1).await;
    let c = s
        .create("batch", json!({"items": 2, "item_kib": 1}))
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Another kind is not held back by demo's limit: the batch job runs to its end...
    read_until(&mut events, is_done_of(&c)).await;
    // ...while the second demo job waits: cancelling it takes it out of the queue, unstarted.
    let (status, job) = s.cancel(&b).await;
    assert_eq!((status, job["status"].as_str()), (200, Some("cancelled")));
    assert!(job["started_at"].is_null(), "{job}");
    // A demo job queued now starts only once the first one has ended.
    let d = s.demo(1, 1).await;
    s.cancel(&a).await;
    let seen = read_until(&mut events, is_done_of(&d)).await;
    let a_done = seen
        .iter()
        .position(is_done_of(&a))
        .expect("the first demo job ended");
    let d_running = seen.iter().position(|e| {
        e.event == "job" && data(e)["id"] == d.as_str() && data(e)["status"] == "running"
    });
    assert!(
        d_running.expect("the next demo job ran") > a_done,
        "{:?}",
        kinds(&seen)
    );
    assert!(
        !statuses_of(&seen, &b).contains(&"running".to_string()),
        "the cancelled job never ran"
    );
}

#[tokio::test]
async fn a_job_past_its_timeout_fails_with_code_timeout() {
    let app = spawn_app().await;
    let s = app.session();
    // One attempt: its timeout is its end (a timeout tried again is in `retries.rs`).
    let (status, job) = s
        .create_raw(&json!({"kind": "demo", "params": {"steps": 1000, "interval_ms": 20, "timeout_ms": 300}, "max_attempts": 1}))
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["timeout_ms"], 300);
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"]["code"], "timeout");
    let ran = done["finished_at"].as_i64().unwrap() - done["started_at"].as_i64().unwrap();
    assert!((300..5000).contains(&ran), "ran {ran} ms");

    let (status, err) = s
        .create(
            "demo",
            json!({"steps": 1, "interval_ms": 1, "timeout_ms": 0}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("invalid_params"))
    );
    assert!(err["message"].as_str().unwrap().contains("timeout_ms"));
}

#[tokio::test]
async fn rerun_starts_a_new_job_with_the_same_kind_and_params() {
    let app = spawn_app().await;
    let s = app.session();
    let (_, first) = s
        .create(
            "demo",
            json!({"steps": 3, "interval_ms": 1, "timeout_ms": 9000}),
        )
        .await;
    let first_id = first["id"].as_str().unwrap();
    s.wait_finished(first_id).await;
    let (status, again) = s.post(&format!("/api/v1/jobs/{first_id}/rerun")).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], first["id"]);
    assert_eq!(again["origin"], first["id"]);
    assert_eq!(again["params"], first["params"]);
    assert_eq!(again["timeout_ms"], 9000);
    assert_eq!(
        s.wait_finished(again["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
    let other = app.session();
    assert_eq!(
        other
            .post(&format!("/api/v1/jobs/{first_id}/rerun"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn listing_filters_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    let s = app.session();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(s.demo(1 + i, 1).await);
    }
    for id in &ids {
        s.wait_finished(id).await;
    }
    let long = s.demo(1000, 50).await;
    let (_, running) = s.get("/api/v1/jobs?status=running,queued").await;
    assert_eq!(running["jobs"][0]["id"], long.as_str());
    assert_eq!(running["jobs"].as_array().unwrap().len(), 1);

    // Pages of 3, newest first, following `next`.
    let mut seen = Vec::new();
    let mut path = "/api/v1/jobs?status=succeeded&kind=demo&limit=3".to_string();
    loop {
        let (status, page) = s.get(&path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) => {
                path = format!("/api/v1/jobs?status=succeeded&kind=demo&limit=3&before={next}")
            }
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);

    // Search by id prefix.
    let (_, found) = s.get(&format!("/api/v1/jobs?q={}", &ids[2][..8])).await;
    assert_eq!(found["jobs"][0]["id"], ids[2].as_str());
    for bad in [
        "status=done",
        "limit=0",
        "limit=501",
        "before=nope",
        "colour=red",
    ] {
        let (status, err) = s.get(&format!("/api/v1/jobs?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {err}");
    }
    s.post(&format!("/api/v1/jobs/{long}/cancel")).await;
}

#[tokio::test]
async fn long_poll_answers_when_something_happens() {
    let app = spawn_app().await;
    let s = app.session();
    let (status, first) = s.get("/api/v1/events/poll").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["events"][0]["type"], "snapshot");
    let mut after = first["next"].as_i64().unwrap();

    let poller = {
        let s = s.clone();
        tokio::spawn(async move {
            s.get(&format!(
                "/api/v1/events/poll?after={after}&timeout_ms=20000"
            ))
            .await
        })
    };
    let id = s.demo(20, 5).await;
    let (status, page) = poller.await.unwrap();
    assert_eq!(status, 200);
    assert!(!page["events"].as_array().unwrap().is_empty());
    assert_eq!(page["events"][0]["data"]["id"], id.as_str(), "{page}");

    // Follow it to the end: every log line, once, and the terminal event.
    let mut seqs = Vec::new();
    let mut finished = false;
    for _ in 0..200 {
        let (_, page) = s
            .get(&format!(
                "/api/v1/events/poll?after={after}&timeout_ms=2000"
            ))
            .await;
        for e in page["events"].as_array().unwrap() {
            let id = e["id"].as_i64().unwrap();
            assert!(id > after);
            match e["type"].as_str().unwrap() {
                "log" => seqs.push(e["data"]["seq"].as_u64().unwrap()),
                "done" => finished = true,
                _ => {}
            }
        }
        after = page["next"].as_i64().unwrap();
        if finished {
            break;
        }
    }
    assert!(finished);
    assert_eq!(seqs, [1, 2]);

    // Nothing new: an empty answer after the timeout.
    let t = std::time::Instant::now();
    let (_, empty) = s
        .get(&format!("/api/v1/events/poll?after={after}&timeout_ms=300"))
        .await;
    assert!(empty["events"].as_array().unwrap().is_empty());
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(s.get("/api/v1/events/poll?after=x").await.0, 400);
}

#[tokio::test]
async fn a_cursor_older_than_what_is_kept_gets_resync() {
    let app = app().with(|c| c.retention_secs = 1).start().await;
    let s = app.session();
    let id = s.demo(3, 1).await;
    let done_id = s.wait_finished(&id).await["event_id"].as_i64().unwrap();
    // The pruner runs twice a second; wait until it has removed the job's events.
    let deadline = std::time::Instant::now() + WAIT;
    while app.engine().jobs().pruned_through() < done_id {
        assert!(
            std::time::Instant::now() < deadline,
            "events were not pruned"
        );
        app.engine().jobs().prune_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resp = s.stream("/api/v1/events", Some(1)).await;
    let mut body = resp.bytes_stream();
    use futures::StreamExt;
    let text = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).to_string();
    assert!(text.contains("event: resync"), "{text}");
    assert!(text.contains("no longer kept"), "{text}");
    assert!(text.contains("event: snapshot"), "{text}");
    // History itself is not pruned.
    assert_eq!(s.job(&id).await["status"], "succeeded");
    assert_eq!(s.log(&id).await.len(), 0, "3 steps write no log line");
}

#[tokio::test]
async fn queued_jobs_say_their_place_in_line_and_when_they_should_start() {
    let app = crate::harness::app()
        .with(|c| c.max_running = 1)
        .start()
        .await;
    let s = app.session();
    // A finished demo job gives the kind a typical run time.
    let quick = s.demo(2, 50).await;
    s.wait_finished(&quick).await;
    let mut events = s.events("/api/v1/events", None).await;
    let running = s.demo(200, 100).await;
    read_until(&mut events, |e| {
        e.event == "progress"
            && data(e)["job_id"] == running.as_str()
            && data(e)["current"].as_u64() > Some(1)
    })
    .await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(s.demo(2, 50).await);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (i, id) in waiting.iter().enumerate() {
        let job = s.job(id).await;
        assert_eq!(job["status"], "queued", "{job}");
        assert_eq!(job["queue_position"], i as u64 + 1, "{job}");
        assert_eq!(job["waiting_for"], "all");
        let at = job["expected_start_at"]
            .as_i64()
            .unwrap_or_else(|| panic!("an estimate: {job}"));
        assert!(at > now, "{job}");
    }
    // The running job says nothing of a queue; neither does the list for it.
    let job = s.job(&running).await;
    assert!(job.get("queue_position").is_none(), "{job}");
    // One answer estimates every job at the same moment (two answers may differ by as much as
    // the running job's pace changed between them): after the running job (about 20 s in
    // all), one quick job after another.
    let (_, list) = s.list("status=queued").await;
    let jobs = list["jobs"].as_array().unwrap();
    let positions: Vec<u64> = jobs
        .iter()
        .map(|j| j["queue_position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [3, 2, 1], "newest first");
    let starts: Vec<i64> = jobs
        .iter()
        .rev()
        .map(|j| j["expected_start_at"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{list}");
    assert!(starts[0] > now, "{list}");
    for id in waiting.iter().chain([&running]) {
        s.cancel(id).await;
    }
}

#[tokio::test]
async fn a_job_held_back_by_its_kinds_limit_counts_its_place_among_its_kind() {
    let app = crate::harness::app()
        .with(|c| c.kind_limits = vec![("demo".into(), 1)])
        .start()
        .await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let running = s.demo(100_000, 50).await;
    read_until(&mut events, |e| {
        e.event == "job" && data(e)["id"] == running.as_str() && data(e)["status"] == "running"
    })
    .await;
    let waiting = s.demo(2, 50).await;
    let job = s.job(&waiting).await;
    assert_eq!(job["queue_position"], 1, "{job}");
    assert_eq!(job["waiting_for"], "kind", "{job}");
    s.cancel(&waiting).await;
    s.cancel(&running).await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn a_delayed_start_waits_queued_out_of_line_then_runs_on_its_own() {
    let app = app().with(|c| c.max_running = 1).start().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let due = now_ms() + 2_000;
    let (status, delayed) = s
        .create_raw(
            &json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "run_after": due}),
        )
        .await;
    assert_eq!(status, 201, "{delayed}");
    assert_eq!(delayed["run_after"], due, "{delayed}");
    let delayed = delayed["id"].as_str().unwrap().to_string();
    // Put off by an hour, in RFC 3339 with an offset.
    let (status, later) = s
        .create_raw(&json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "run_after": rfc_3339(now_ms() + 3_600_000)}))
        .await;
    assert_eq!(status, 201, "{later}");
    let later = later["id"].as_str().unwrap().to_string();
    // Queued after them, a plain job is first in line and runs first.
    let plain = s.demo(1, 1).await;
    let job = s.job(&delayed).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert!(job.get("queue_position").is_none(), "out of line: {job}");
    let seen = read_until(&mut events, is_done_of(&delayed)).await;
    let started = |id: &str| {
        seen.iter()
            .position(|e| e.event == "job" && data(e)["id"] == id && data(e)["status"] == "running")
            .unwrap_or_else(|| panic!("{id} ran"))
    };
    assert!(
        started(&plain) < started(&delayed),
        "the plain job went first"
    );
    let ran = s.job(&delayed).await;
    assert_eq!(ran["status"], "succeeded", "{ran}");
    assert!(
        ran["started_at"].as_i64().unwrap() >= due,
        "not before its time: {ran}"
    );
    // The one an hour off still waits, and is cancelled without ever starting.
    let (status, job) = s.cancel(&later).await;
    assert_eq!(
        (status, job["status"].as_str()),
        (200, Some("cancelled")),
        "{job}"
    );
    assert!(job["started_at"].is_null(), "{job}");
}

#[tokio::test]
async fn a_delayed_start_outlives_a_restart_and_bad_times_are_refused_with_nothing_kept() {
    let app = app().start().await;
    let s = app.session();
    let due = (now_ms() + 8_000) / 1000 * 1000;
    let (status, job) = s
        .create_raw(&json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "run_after": rfc_3339(due)}))
        .await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    for (run_after, says) in [
        (json!("tomorrow"), "\"tomorrow\" is not an RFC 3339 time"),
        (json!("2026-11-24T14:00:00"), "with its offset"),
        (
            json!(now_ms() + 400 * 86_400_000),
            "more than a year and a day ahead",
        ),
        (json!(true), "must be an RFC 3339 time"),
        (json!(1.5), "whole number"),
    ] {
        let (status, body) = s
            .create_raw(&json!({"kind": "demo", "params": {}, "run_after": run_after}))
            .await;
        assert_eq!(status, 422, "{run_after}: {body}");
        assert_eq!(body["fields"][0]["field"], "run_after", "{body}");
        let message = body["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{run_after}: {message}");
    }
    let (_, list) = s.list("").await;
    assert_eq!(
        list["jobs"].as_array().unwrap().len(),
        1,
        "nothing else kept: {list}"
    );
    // Across a restart, the job still waits for its time, then runs, started by the new server.
    let restarting = now_ms();
    let app = app.restart().await;
    let s = s.rebase(&app.base);
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    read_until(&mut events, is_done_of(&id)).await;
    let ran = s.job(&id).await;
    assert_eq!(ran["status"], "succeeded", "{ran}");
    let started = ran["started_at"].as_i64().unwrap();
    assert!(started >= due && started > restarting, "{ran}");
}

/// `ms` as RFC 3339 in UTC, to the second below.
fn rfc_3339(ms: i64) -> String {
    app::format::datetime(ms)
        .replace(" UTC", "Z")
        .replacen(' ', "T", 1)
}
