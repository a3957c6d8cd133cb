//! The event stream contract, read with a real SSE client against the real server.

use crate::client::*;
use crate::harness::{app, spawn_app};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test]
async fn stream_opens_with_retry_and_snapshot_and_the_right_headers() {
    let app = spawn_app().await;
    let s = app.session();
    let resp = s.stream("/api/v1/events", None).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache, no-transform");
    assert_eq!(h["x-accel-buffering"], "no");
    assert!(h.get("content-encoding").is_none());
    assert!(h.get("date").is_some(), "every answer is dated");
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&first);
    assert!(text.starts_with("retry: "), "{text}");
    assert!(text.contains("\nevent: snapshot\n"), "{text}");
}

#[tokio::test]
async fn ids_increase_bars_fill_and_done_arrives_for_every_job() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let first = read_until(&mut events, |_| true).await;
    assert_eq!(first[0].event, "snapshot");
    assert_eq!(first[0].retry, Some(Duration::from_millis(2000)));

    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(s.demo(30, 5).await);
    }
    let got = read_until_n(&mut events, 3, |e| e.event == "done").await;
    assert_strictly_increasing(&got);

    let mut last_progress: HashMap<String, (u64, u64)> = HashMap::new();
    for e in got.iter().filter(|e| e.event == "progress") {
        let d = data(e);
        last_progress.insert(
            d["job_id"].as_str().unwrap().into(),
            (d["current"].as_u64().unwrap(), d["total"].as_u64().unwrap()),
        );
    }
    for id in &ids {
        assert_eq!(
            last_progress[id],
            (30, 30),
            "bar of {id} did not reach 100%"
        );
        let done = got
            .iter()
            .find(|e| e.event == "done" && data(e)["job_id"] == id.as_str())
            .unwrap();
        assert_eq!(data(done)["status"], "succeeded");
        let logs = got
            .iter()
            .filter(|e| e.event == "log" && data(e)["job_id"] == id.as_str())
            .count();
        assert_eq!(logs, 3, "one log line every 10 steps");
    }
    // Every id on the wire is also the id stored on the job.
    for id in &ids {
        let job = s.job(id).await;
        let done = got
            .iter()
            .find(|e| e.event == "done" && data(e)["job_id"] == id.as_str())
            .unwrap();
        assert_eq!(job["event_id"].as_i64().unwrap(), crate::client::id(done));
        assert_eq!(job["progress"]["current"], 30);
    }
}

#[tokio::test]
async fn reconnect_with_last_event_id_gets_exactly_the_missed_lines_and_the_end() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let job = s.demo(50, 10).await;
    // Read up to the first log line, then drop the connection.
    let seen = read_until(&mut events, |e| e.event == "log").await;
    let cursor = id(seen.last().unwrap());
    assert_eq!(data(seen.last().unwrap())["seq"], 1);
    drop(events);

    s.wait_finished(&job).await;
    let mut events = s.events("/api/v1/events", Some(cursor)).await;
    let replay = read_until(&mut events, |e| e.event == "done").await;
    assert_eq!(replay[0].event, "snapshot");
    assert_eq!(
        id(&replay[0]),
        cursor,
        "the snapshot carries the resumed cursor"
    );
    assert_strictly_increasing(&replay);
    assert!(replay[1..].iter().all(|e| id(e) > cursor));
    let seqs: Vec<u64> = replay
        .iter()
        .filter(|e| e.event == "log")
        .map(|e| data(e)["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        [2, 3, 4, 5],
        "exactly the missed log lines, once each"
    );
    assert_eq!(replay.iter().filter(|e| e.event == "done").count(), 1);
    assert_eq!(data(replay.last().unwrap())["status"], "succeeded");
    // Progress samples may be coalesced, but the last one reaches 100%.
    let last = replay.iter().rev().find(|e| e.event == "progress").unwrap();
    assert_eq!(data(last)["current"], 50);

    // Nothing is replayed twice: resuming from the done event, the first event after the
    // snapshot is the next job's creation.
    let end = id(replay.last().unwrap());
    let mut events = s.events("/api/v1/events", Some(end)).await;
    let next = s.demo(1, 0).await;
    let after = read_until(&mut events, |e| e.event == "job").await;
    assert_eq!(kinds(&after), ["snapshot", "job"]);
    assert_eq!(data(&after[1])["id"], next.as_str());
}

#[tokio::test]
async fn job_stream_replays_the_whole_job_and_ends_after_done() {
    let app = spawn_app().await;
    let s = app.session();
    let job = s.demo(20, 1).await;
    s.wait_finished(&job).await;
    // A finished job's stream still tells its whole story, then ends.
    let resp = s.stream(&format!("/api/v1/jobs/{job}/events"), None).await;
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    let kinds: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds.first(), Some(&"snapshot"));
    assert_eq!(kinds.last(), Some(&"done"));
    assert_eq!(kinds.iter().filter(|k| **k == "log").count(), 2);
    // Resuming after the end: 204, which stops an EventSource.
    let done_id: i64 = s.job(&job).await["event_id"].as_i64().unwrap();
    let resp = s
        .stream(&format!("/api/v1/jobs/{job}/events"), Some(done_id))
        .await;
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn another_session_sees_nothing_of_my_jobs() {
    let app = spawn_app().await;
    let me = app.session();
    let other = app.session();
    let mut theirs = other.events("/api/v1/events", None).await;
    let job = me.demo(10, 5).await;
    me.wait_finished(&job).await;

    for path in [
        format!("/api/v1/jobs/{job}"),
        format!("/api/v1/jobs/{job}/log"),
    ] {
        let (status, body) = other.get(&path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["code"], "not_found");
    }
    assert_eq!(other.cancel(&job).await.0, 404);
    assert_eq!(other.rerun(&job).await.0, 404);
    assert_eq!(
        other
            .stream(&format!("/api/v1/jobs/{job}/events"), None)
            .await
            .status(),
        404
    );

    // Their stream, live and replayed from the very beginning, never mentions my job: both
    // are read up to the end of a job of their own, started after mine had finished.
    let fence = other.demo(2, 1).await;
    let live = read_until(&mut theirs, is_done_of(&fence)).await;
    let mut replay = other.events("/api/v1/events", Some(0)).await;
    let replayed = read_until(&mut replay, is_done_of(&fence)).await;
    for e in live.iter().chain(&replayed) {
        assert!(!e.data.contains(&job), "leaked: {} {}", e.event, e.data);
    }
    // Replayed from before this server started: told its build, then their own job only.
    assert_eq!(&kinds(&replayed)[..2], ["snapshot", "version"]);
    assert!(replayed[2..]
        .iter()
        .all(|e| data(e)["job_id"] == fence.as_str() || data(e)["id"] == fence.as_str()));
    let (_, list) = other.list("").await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn idle_streams_get_keep_alive_comments() {
    let app = app().with(|c| c.keep_alive_secs = 1).start().await;
    let s = app.session();
    let resp = s.stream("/api/v1/events", None).await;
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !text.contains(": keep-alive\n\n") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("no keep-alive within 5 s");
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
}

#[tokio::test]
async fn a_cursor_from_the_future_gets_resync_and_a_fresh_snapshot() {
    let app = spawn_app().await;
    let s = app.session();
    let resp = s.stream("/api/v1/events", Some(1_000_000)).await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let text = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).to_string();
    let resync = text.find("event: resync").expect("resync");
    let snapshot = text.find("event: snapshot").expect("snapshot");
    assert!(resync < snapshot, "{text}");
    // A fresh store's head is the id this server reserved for its `version` event.
    assert!(
        text.contains("id: 1\nevent: snapshot"),
        "snapshot at the real head: {text}"
    );
}
