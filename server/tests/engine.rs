//! The engine under real conditions: queue and limits, timeouts, re-runs, recovery after
//! kill -9, pruning, long polling, listing.

mod common;

use common::*;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn server_with(name: &str, env: &[(&str, &str)]) -> TestServer {
    let dir = fresh_dir(name);
    TestServer::start_on(&dir, &dir.join("h.db"), env)
}

#[tokio::test]
async fn the_queue_respects_the_limit_and_starts_jobs_in_order() {
    let server = server_with("queue", &[("HEADWAY_MAX_RUNNING", "2")]);
    let s = server.session();
    let mut events = s.events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(s.demo(5, 20).await);
    }
    let mut done = 0;
    let seen = read_until(&mut events, WAIT, |e| {
        done += (e.event == "done") as usize;
        done == 6
    })
    .await;
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
    let server = server_with(
        "kindlimit",
        &[
            ("HEADWAY_MAX_RUNNING", "10"),
            ("HEADWAY_KIND_LIMITS", "demo=1"),
        ],
    );
    let s = server.session();
    let a = s.demo(100, 20).await;
    let b = s.demo(1, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.job(&a).await["status"], "running");
    assert_eq!(s.job(&b).await["status"], "queued");
    // Cancelling a queued job takes it out of the queue: it never runs.
    let (status, job) = s.post(&format!("/api/v1/jobs/{b}/cancel")).await;
    assert_eq!((status, job["status"].as_str()), (200, Some("cancelled")));
    assert!(job["started_at"].is_null());
    s.post(&format!("/api/v1/jobs/{a}/cancel")).await;
    s.wait_finished(&a, WAIT).await;
}

#[tokio::test]
async fn a_job_past_its_timeout_fails_with_code_timeout() {
    let server = TestServer::start("timeout");
    let s = server.session();
    let (status, job) = s
        .create(
            "demo",
            json!({"steps": 1000, "interval_ms": 20, "timeout_ms": 300}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["timeout_ms"], 300);
    let done = s.wait_finished(job["id"].as_str().unwrap(), WAIT).await;
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
    let server = TestServer::start("rerun");
    let s = server.session();
    let (_, first) = s
        .create(
            "demo",
            json!({"steps": 3, "interval_ms": 1, "timeout_ms": 9000}),
        )
        .await;
    let first_id = first["id"].as_str().unwrap();
    s.wait_finished(first_id, WAIT).await;
    let (status, again) = s.post(&format!("/api/v1/jobs/{first_id}/rerun")).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], first["id"]);
    assert_eq!(again["origin"], first["id"]);
    assert_eq!(again["params"], first["params"]);
    assert_eq!(again["timeout_ms"], 9000);
    assert_eq!(
        s.wait_finished(again["id"].as_str().unwrap(), WAIT).await["status"],
        "succeeded"
    );
    let other = server.session();
    assert_eq!(
        other
            .post(&format!("/api/v1/jobs/{first_id}/rerun"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn kill_9_with_50_running_and_50_queued_loses_no_job() {
    let dir = fresh_dir("kill50");
    let db = dir.join("h.db");
    let env = [("HEADWAY_MAX_RUNNING", "50")];
    let server = TestServer::start_on(&dir, &db, &env);
    let s = server.session();
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(s.demo(200, 100).await);
    }
    let (_, list) = s.get("/api/v1/jobs?status=running&limit=500").await;
    let mut running = list["jobs"].as_array().unwrap().len();
    for _ in 0..100 {
        if running == 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        running = s.get("/api/v1/jobs?status=running&limit=500").await.1["jobs"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(running, 50);
    server.kill9();

    let server = TestServer::start_on(&dir, &db, &env);
    let s = Session {
        base: server.base.clone(),
        http: s.http.clone(),
    };
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for id in &ids {
        let job = s.job(id).await;
        *by_status
            .entry(job["status"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(by_status.get("interrupted"), Some(&50), "{by_status:?}");
    // The 50 that were waiting are running again (or still waiting their turn).
    let requeued = by_status.get("running").unwrap_or(&0) + by_status.get("queued").unwrap_or(&0);
    assert_eq!(requeued, 50, "{by_status:?}");
    eprintln!("kill -9 with 50 running + 50 queued: {by_status:?} (0 lost)");
}

#[tokio::test]
async fn listing_filters_and_pages_with_a_cursor() {
    let server = TestServer::start("list");
    let s = server.session();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(s.demo(1 + i, 1).await);
    }
    for id in &ids {
        s.wait_finished(id, WAIT).await;
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
    let server = TestServer::start("poll");
    let s = server.session();
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
    tokio::time::sleep(Duration::from_millis(200)).await;
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
    let server = server_with("retention", &[("HEADWAY_RETENTION_SECS", "1")]);
    let s = server.session();
    let id = s.demo(3, 1).await;
    s.wait_finished(&id, WAIT).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let resp = s.stream("/api/v1/events", Some(1)).await;
    let mut body = resp.bytes_stream();
    use futures::StreamExt;
    let text = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).to_string();
    assert!(text.contains("event: resync"), "{text}");
    assert!(text.contains("no longer kept"), "{text}");
    assert!(text.contains("event: snapshot"), "{text}");
    // History itself is not pruned.
    assert_eq!(s.job(&id).await["status"], "succeeded");
    let (_, log) = s.get(&format!("/api/v1/jobs/{id}/log")).await;
    assert!(log["lines"].as_array().is_some());
}

#[tokio::test]
async fn a_checksum_interrupted_by_kill_9_resumes_from_its_checkpoint() {
    let dir = fresh_dir("resume");
    let db = dir.join("h.db");
    let server = TestServer::start_on(&dir, &db, &[]);
    let tree = server.data_root().join("tree");
    for i in 0..120 {
        let sub = tree.join(format!("d{}", i % 4));
        std::fs::create_dir_all(&sub).unwrap();
        let bytes: Vec<u8> = (0..512 * 1024u32)
            .map(|b| (b.wrapping_mul(31) ^ i) as u8)
            .collect();
        std::fs::write(sub.join(format!("f{i:03}.bin")), bytes).unwrap();
    }
    let s = server.session();
    let (status, job) = s.create("checksum", json!({"dir": "tree"})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    // Wait for a few files to be done (each one checkpointed), then kill the process.
    for _ in 0..400 {
        let (_, log) = s.get(&format!("/api/v1/jobs/{id}/log")).await;
        if log["lines"].as_array().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = s.get(&format!("/api/v1/jobs/{id}/log")).await.1["lines"]
        .as_array()
        .unwrap()
        .len();
    server.kill9();
    assert!(
        before < 120,
        "the job finished before it could be interrupted"
    );

    let server = TestServer::start_on(&dir, &db, &[]);
    let s = Session {
        base: server.base.clone(),
        http: s.http.clone(),
    };
    let done = s.wait_finished(&id, WAIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"]["current"], done["progress"]["total"]);
    let (_, log) = s.get(&format!("/api/v1/jobs/{id}/log?limit=10000")).await;
    let manifest: Vec<String> = log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .filter(|l| l.contains("  d"))
        .collect();
    let files: HashSet<&str> = manifest
        .iter()
        .map(|l| l.split("  ").nth(1).unwrap())
        .collect();
    assert_eq!(files.len(), 120, "every file once");
    assert_eq!(
        manifest.len(),
        120,
        "no file hashed twice into the manifest"
    );
    // The stream tells the story: interrupted, queued again, running, succeeded.
    let body = s
        .stream(&format!("/api/v1/jobs/{id}/events"), None)
        .await
        .text()
        .await
        .unwrap();
    let statuses: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("data: {\"id\""))
        .filter_map(|l| l.split("\"status\":\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        statuses,
        [
            "queued",
            "running",
            "interrupted",
            "queued",
            "running",
            "succeeded"
        ]
    );
    eprintln!("checksum resumed after kill -9 with {before} of 120 files done; finished with each file once");
}
