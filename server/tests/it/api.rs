//! The JSON API: what scripts get, including for every kind of bad input.

use crate::client::*;
use crate::harness::spawn_app;
use serde_json::json;

#[tokio::test]
async fn create_returns_201_with_the_job_and_a_location() {
    let app = spawn_app().await;
    let s = app.session();
    let r = s
        .http
        .post(s.url("/api/v1/jobs"))
        .json(&json!({"kind": "demo", "params": {"steps": 3, "interval_ms": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(
        r.headers().get("set-cookie").is_some(),
        "first call creates the session"
    );
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let job: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/jobs/{}", job["id"].as_str().unwrap())
    );
    assert_eq!(job["status"], "queued");
    assert_eq!(job["kind"], "demo");
    assert_eq!(
        job["params"],
        json!({"steps": 3, "interval_ms": 1, "log_every": 10, "fail_attempts": 0})
    );
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["progress"]["current"], 3);
    assert!(done["started_at"].as_i64().unwrap() >= done["created_at"].as_i64().unwrap());
    assert!(done["finished_at"].as_i64().unwrap() >= done["started_at"].as_i64().unwrap());
}

#[tokio::test]
async fn cancel_stops_a_running_job_and_refuses_a_finished_one() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let id = s.demo(1000, 20).await;
    read_until(&mut events, |e| e.event == "progress").await;
    let (status, job) = s.post(&format!("/api/v1/jobs/{id}/cancel")).await;
    assert_eq!(status, 200, "{job}");
    assert!(["cancelling", "cancelled"].contains(&job["status"].as_str().unwrap()));
    let seen = read_until(&mut events, |e| e.event == "done").await;
    let statuses: Vec<String> = seen
        .iter()
        .filter(|e| e.event == "job")
        .map(|e| data(e)["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["cancelling", "cancelled"]);
    assert_eq!(data(seen.last().unwrap())["status"], "cancelled");
    let final_job = s.job(&id).await;
    assert_eq!(final_job["status"], "cancelled");
    assert!(final_job["progress"]["current"].as_u64().unwrap() < 1000);

    let (status, body) = s.post(&format!("/api/v1/jobs/{id}/cancel")).await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "conflict");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let app = spawn_app().await;
    let s = app.session();
    let cases: Vec<(&str, serde_json::Value, u16, &str, &str)> = vec![
        (
            "unknown kind",
            json!({"kind": "nope", "params": {}}),
            422,
            "unknown_kind",
            "known kinds: batch, checksum, demo, export_jobs, import_csv",
        ),
        (
            "steps too low",
            json!({"kind": "demo", "params": {"steps": 0, "interval_ms": 1}}),
            422,
            "invalid_params",
            "steps: must be from 1 to 100000",
        ),
        (
            "steps too high",
            json!({"kind": "demo", "params": {"steps": 100001, "interval_ms": 1}}),
            422,
            "invalid_params",
            "steps",
        ),
        (
            "interval too long",
            json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 60001}}),
            422,
            "invalid_params",
            "interval_ms: must be from 0 to 60000",
        ),
        (
            "missing param",
            json!({"kind": "demo", "params": {"steps": 1}}),
            422,
            "invalid_params",
            "interval_ms",
        ),
        (
            "extra param",
            json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1, "x": 1}}),
            422,
            "invalid_params",
            "unknown field `x`",
        ),
        (
            "wrong type",
            json!({"kind": "demo", "params": {"steps": "ten", "interval_ms": 1}}),
            422,
            "invalid_params",
            "invalid type",
        ),
        (
            "negative",
            json!({"kind": "demo", "params": {"steps": -5, "interval_ms": 1}}),
            422,
            "invalid_params",
            "invalid value",
        ),
        (
            "huge number",
            json!({"kind": "demo", "params": {"steps": 1e300, "interval_ms": 1}}),
            422,
            "invalid_params",
            "invalid type",
        ),
        (
            "no kind",
            json!({"params": {}}),
            422,
            "invalid_params",
            "missing field `kind`",
        ),
        (
            "extra top-level field",
            json!({"kind": "demo", "params": {}, "owner": "x"}),
            422,
            "invalid_params",
            "unknown field `owner`",
        ),
    ];
    let root = app.data_root();
    std::fs::create_dir_all(root.join("in")).unwrap();
    std::fs::write(
        root.join("in/latin1.csv"),
        b"name,city\nJos\xe9,M\xfcnchen\n",
    )
    .unwrap();
    std::fs::write(root.join("in/ok.csv"), "name,city\nAda,London\n").unwrap();
    std::os::unix::fs::symlink("/etc", root.join("in/escape")).unwrap();
    let file_cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "parent dir",
            json!({"kind": "checksum", "params": {"dir": "../"}}),
            "dir",
        ),
        (
            "absolute dir",
            json!({"kind": "checksum", "params": {"dir": "/etc"}}),
            "dir",
        ),
        (
            "symlink escape",
            json!({"kind": "checksum", "params": {"dir": "in/escape"}}),
            "dir",
        ),
        (
            "missing dir",
            json!({"kind": "checksum", "params": {"dir": "nowhere"}}),
            "dir",
        ),
        (
            "csv outside",
            json!({"kind": "import_csv", "params": {"file": "../h.db", "table": "t"}}),
            "file",
        ),
        (
            "csv not utf-8",
            json!({"kind": "import_csv", "params": {"file": "in/latin1.csv", "table": "t"}}),
            "file",
        ),
        (
            "bad table name",
            json!({"kind": "import_csv", "params": {"file": "in/ok.csv", "table": "drop table x;"}}),
            "table",
        ),
        (
            "batch out of range",
            json!({"kind": "batch", "params": {"items": 0}}),
            "items",
        ),
    ];
    for (what, body, field) in file_cases {
        let (got, err) = s.create_raw(&body).await;
        assert_eq!(got, 422, "{what}: {err}");
        let fields = err["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {err}"));
        assert!(fields.iter().any(|f| f["field"] == field), "{what}: {err}");
        eprintln!("{what}: {}", err["message"]);
    }
    for (what, body, status, code, needle) in cases {
        let (got, err) = s.create_raw(&body).await;
        assert_eq!(got, status, "{what}: {err}");
        assert_eq!(err["code"], code, "{what}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(needle),
            "{what}: {err}"
        );
    }

    // Bodies that are not JSON at all.
    let r = s
        .http
        .post(s.url("/api/v1/jobs"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "bad_request"
    );
    let r = s
        .http
        .post(s.url("/api/v1/jobs"))
        .body("kind=demo")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Past what a start may send (a posted workflow's 256 KiB and room for its parameters).
    let big = format!(
        r#"{{"kind":"demo","params":{{"pad":"{}"}}}}"#,
        "x".repeat(400_000)
    );
    let r = s
        .http
        .post(s.url("/api/v1/jobs"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // The unread body ends the connection, and the client is told so before it reuses it.
    assert_eq!(
        r.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "payload_too_large"
    );

    // Ids that are malformed or unknown.
    for id in [
        "nope",
        "00000000-0000-0000-0000-000000000000",
        "%27%3B--",
        &"9".repeat(500),
    ] {
        let (status, body) = s.get(&format!("/api/v1/jobs/{id}")).await;
        assert_eq!(status, 404, "{id}");
        assert_eq!(body["code"], "not_found");
    }
    // Malformed Last-Event-ID.
    for bad in ["abc", "-3", "1e9"] {
        let r = s
            .http
            .get(s.url("/api/v1/events"))
            .header("last-event-id", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains("Last-Event-ID"));
    }
    let (status, body) = s.get("/api/v1/nothing-here").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));

    // None of it created a job.
    let (_, list) = s.get("/api/v1/jobs").await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn kinds_describe_their_parameters() {
    let app = spawn_app().await;
    let (status, kinds) = app.session().get("/api/v1/kinds").await;
    assert_eq!(status, 200);
    let demo = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "demo")
        .unwrap();
    let steps = demo["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "steps")
        .unwrap();
    assert_eq!(steps["type"], "integer");
    assert_eq!(
        (steps["min"].as_i64(), steps["max"].as_i64()),
        (Some(1), Some(100_000))
    );
}

/// A start's `run_after` and `max_attempts` are whole numbers, which JavaScript and Python's
/// `float` write `5.0` (and JSON Schema's `integer` allows): taken as those numbers; a number
/// with a fraction is still refused.
#[tokio::test]
async fn a_start_takes_whole_numbers_written_as_floats() {
    let app = spawn_app().await;
    let s = app.session();
    let params = json!({"steps": 1, "interval_ms": 1});
    let (status, job) = s
        .create_raw(
            &json!({"kind": "demo", "params": params, "run_after": 1000.0, "max_attempts": 2.0}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["max_attempts"], 2, "{job}");
    for (field, value) in [("run_after", json!(1000.5)), ("max_attempts", json!(2.5))] {
        let mut body = json!({"kind": "demo", "params": params});
        body[field] = value;
        let (status, refused) = s.create_raw(&body).await;
        assert_eq!(status, 422, "{field}: {refused}");
        assert_eq!(refused["fields"][0]["field"], field, "{refused}");
    }
}
