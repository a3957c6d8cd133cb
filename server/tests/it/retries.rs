//! Automatic retries: a failed attempt is queued again after its kind's backoff, up to the
//! attempts the job may take; permanent errors, bad parameters and cancels are not tried again;
//! a timeout and an interruption are. One job keeps every attempt, and its log every attempt's
//! lines. (A crash's lost attempt, tried again, is in `process.rs`.)

use crate::client::*;
use crate::harness::app;
use engine::kinds::{JobContext, Kind, KindEnv, Retry, RunResult};
use model::{JobError, LogLevel};
use serde_json::{json, Value};
use std::time::Duration;

/// Fails its first `fail` attempts with `code`; sleeps (until cancelled) in its first `sleep`
/// attempts; logs a line per attempt. Tried again quickly: from 50 to 200 ms.
struct Flaky;

#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[garde(context(KindEnv))]
struct FlakyParams {
    #[garde(skip)]
    #[serde(default)]
    fail: u32,
    #[garde(skip)]
    #[serde(default)]
    code: String,
    #[garde(skip)]
    #[serde(default)]
    sleep: u32,
}

impl Kind for Flaky {
    type Params = FlakyParams;
    const NAME: &'static str = "flaky";
    const RETRY: Retry = Retry {
        max_attempts: 4,
        base: Duration::from_millis(100),
        cap: Duration::from_millis(200),
        permanent: &["fatal"],
    };

    async fn run(p: FlakyParams, ctx: &mut JobContext) -> RunResult {
        let attempt = ctx.attempt();
        ctx.set_total(Some(2), "steps").await;
        ctx.advance(1).await;
        ctx.log(LogLevel::Info, format!("attempt {attempt} begins"))
            .await;
        if attempt <= p.sleep {
            ctx.cancelled().await;
            return Ok(());
        }
        if attempt <= p.fail {
            return Err(JobError::new(p.code, format!("attempt {attempt} failed")));
        }
        ctx.advance(1).await;
        Ok(())
    }
}

async fn flaky(s: &Session, params: Value, max_attempts: Option<u32>) -> (u16, Value) {
    let mut body = json!({"kind": "flaky", "params": params});
    if let Some(n) = max_attempts {
        body["max_attempts"] = json!(n);
    }
    s.create_raw(&body).await
}

/// The statuses of a job's `job` events, with their attempt.
fn moves(events: &[eventsource_stream::Event]) -> Vec<(String, u64)> {
    events
        .iter()
        .filter(|e| e.event == "job")
        .map(|e| {
            let j = data(e);
            (
                j["status"].as_str().unwrap().to_string(),
                j["attempt"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_failed_attempt_is_tried_again_after_its_backoff_and_the_job_keeps_every_attempt() {
    let app = app().kind::<Flaky>().start().await;
    let s = app.session();
    let (status, job) = flaky(&s, json!({"fail": 2, "code": "flaky"}), None).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(
        (job["attempt"].as_u64(), job["max_attempts"].as_u64()),
        (Some(1), Some(4))
    );
    let id = job["id"].as_str().unwrap().to_string();
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    let seen = read_until(&mut events, is_done_of(&id)).await;
    let running = |n: u64| ("running".to_string(), n);
    let queued = |n: u64| ("queued".to_string(), n);
    let moved: Vec<(String, u64)> = moves(&seen)
        .into_iter()
        .skip_while(|m| m.0 == "queued")
        .collect();
    assert_eq!(
        moved,
        [
            running(1),
            queued(2),
            running(2),
            queued(3),
            running(3),
            ("succeeded".into(), 3)
        ],
        "{moved:?}"
    );
    // While it waited, it said when its next attempt starts, at least half the backoff after
    // the failure: 100 ms doubled for the second failure, at most 200 ms.
    let waits: Vec<Value> = seen
        .iter()
        .filter(|e| e.event == "job" && data(e)["status"] == "queued" && data(e)["attempt"] != 1)
        .map(data)
        .collect();
    for (i, w) in waits.iter().enumerate() {
        let failed_at = w["attempts"][i]["finished_at"].as_i64().unwrap();
        let next = w["next_attempt_at"].as_i64().unwrap();
        assert!((failed_at + 50..=failed_at + 200).contains(&next), "{w}");
        assert_eq!(w["error"]["code"], "flaky", "its last error: {w}");
    }
    let done = s.job(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        (done["attempt"].as_u64(), done["next_attempt_at"].as_i64()),
        (Some(3), None)
    );
    assert!(done["error"].is_null(), "{done}");
    let attempts = done["attempts"].as_array().unwrap();
    let errors: Vec<Option<&str>> = attempts
        .iter()
        .map(|a| a["error"]["code"].as_str())
        .collect();
    assert_eq!(errors, [Some("flaky"), Some("flaky"), None]);
    for pair in attempts.windows(2) {
        assert!(
            pair[1]["started_at"].as_i64() >= pair[0]["finished_at"].as_i64(),
            "{attempts:?}"
        );
    }
    // Every attempt's lines, each marked with its attempt.
    let lines: Vec<(u64, String)> = s
        .log(&id)
        .await
        .iter()
        .map(|l| {
            (
                l["attempt"].as_u64().unwrap(),
                l["line"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = (1..=3)
        .map(|n| (n, format!("attempt {n} begins")))
        .collect();
    assert_eq!(lines, expected);
    let text = s.text(&format!("/api/v1/jobs/{id}/log.txt")).await;
    assert!(text.contains("[attempt 3] attempt 3 begins"), "{text}");
}

#[tokio::test]
async fn a_permanent_error_or_the_last_attempt_ends_the_job_and_a_start_asks_for_fewer_never_more()
{
    let app = app().kind::<Flaky>().start().await;
    let s = app.session();
    let (_, fatal) = flaky(&s, json!({"fail": 9, "code": "fatal"}), None).await;
    let fatal = s.wait_finished(fatal["id"].as_str().unwrap()).await;
    assert_eq!(
        (fatal["status"].as_str(), fatal["error"]["code"].as_str()),
        (Some("failed"), Some("fatal"))
    );
    assert_eq!(fatal["attempts"].as_array().unwrap().len(), 1, "{fatal}");
    // Asked for two: the second failure is its end.
    let (status, two) = flaky(&s, json!({"fail": 9, "code": "flaky"}), Some(2)).await;
    assert_eq!(
        (status, two["max_attempts"].as_u64()),
        (201, Some(2)),
        "{two}"
    );
    let two = s.wait_finished(two["id"].as_str().unwrap()).await;
    assert_eq!(two["status"], "failed");
    assert_eq!(
        (
            two["attempt"].as_u64(),
            two["attempts"].as_array().unwrap().len()
        ),
        (Some(2), 2)
    );
    // More than the kind allows, none, or not a number: refused, nothing started.
    for (asked, says) in [
        (
            json!(5),
            "must be from 1 to 4: flaky allows at most 4 attempts",
        ),
        (json!(0), "must be from 1 to 4"),
        (json!("twice"), "whole number of attempts"),
        (json!(-1), "whole number of attempts"),
    ] {
        let (status, body) = s
            .create_raw(&json!({"kind": "flaky", "params": {}, "max_attempts": asked}))
            .await;
        assert_eq!(status, 422, "{asked}: {body}");
        assert_eq!(body["fields"][0]["field"], "max_attempts", "{body}");
        assert!(
            body["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(says),
            "{body}"
        );
    }
    let (status, bad) = flaky(&s, json!({"fail": "many"}), None).await;
    assert_eq!(
        status, 422,
        "bad parameters start nothing to try again: {bad}"
    );
    let (_, list) = s.list("").await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2);
    // Its policy is in the kind's description.
    let (_, kinds) = s.get("/api/v1/kinds").await;
    let retry = &kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "flaky")
        .unwrap()["retry"];
    assert_eq!(
        retry,
        &json!({"max_attempts": 4, "base_ms": 100, "cap_ms": 200, "permanent": ["fatal", "bad_params"]})
    );
}

#[tokio::test]
async fn a_timeout_is_tried_again_and_a_cancel_during_the_wait_ends_the_retries() {
    let app = app().start().await;
    let s = app.session();
    // demo: 3 attempts, the second from 2.5 to 5 s after the first fails.
    let (status, job) = s
        .create(
            "demo",
            json!({"steps": 1000, "interval_ms": 20, "timeout_ms": 300}),
        )
        .await;
    assert_eq!(
        (status, job["max_attempts"].as_u64()),
        (201, Some(3)),
        "{job}"
    );
    let id = job["id"].as_str().unwrap().to_string();
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    let seen = read_until(&mut events, |e| {
        e.event == "job" && data(e)["status"] == "queued" && data(e)["attempt"] == 2
    })
    .await;
    let waiting = data(seen.last().unwrap());
    assert_eq!(waiting["error"]["code"], "timeout", "{waiting}");
    assert!(
        waiting["next_attempt_at"].as_i64().unwrap()
            > waiting["attempts"][0]["finished_at"].as_i64().unwrap() + 2_000
    );
    let (status, cancelled) = s.cancel(&id).await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    let after = read_until(&mut events, is_done_of(&id)).await;
    assert!(
        !after
            .iter()
            .any(|e| e.event == "job" && data(e)["status"] == "running"),
        "{after:?}"
    );
    let done = s.job(&id).await;
    assert_eq!(
        (
            done["status"].as_str(),
            done["attempts"].as_array().unwrap().len()
        ),
        (Some("cancelled"), 1)
    );
    assert!(done["next_attempt_at"].is_null(), "{done}");
}

#[tokio::test]
async fn an_attempt_cut_by_a_shutdown_is_tried_again_after_the_restart() {
    let app = app().kind::<Flaky>().start().await;
    let s = app.session();
    let (_, job) = flaky(&s, json!({"sleep": 1}), None).await;
    let id = job["id"].as_str().unwrap().to_string();
    let mut events = s.events(&format!("/api/v1/jobs/{id}/events"), None).await;
    read_until(&mut events, |e| e.event == "log").await;
    drop(events);
    let app = app.restart().await;
    let s = s.rebase(&app.base);
    let done = s.wait_finished(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let first = &done["attempts"][0];
    assert_eq!(first["error"]["code"], "interrupted", "{done}");
    assert_eq!(done["attempt"], 2);
}

/// `headway follow` says each attempt that failed, why, and when the next starts, then each
/// attempt as it starts; its exit is the job's end.
#[tokio::test]
async fn headway_follow_says_each_attempt_and_why_the_last_failed() {
    let app = app().kind::<Flaky>().start().await;
    let s = app.session();
    let (status, job) = flaky(&s, json!({"fail": 2, "code": "flaky"}), None).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait_finished(&id).await["status"], "succeeded");
    // Followed once it ended, the job's whole stream is replayed: every attempt, in order.
    let (code, out, err) = app.client(&app.base, &["follow", &id]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["attempt 1 begins", "attempt 2 begins", "attempt 3 begins"],
        "{err}"
    );
    let said: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("headway: "))
        .collect();
    let failed = |n: u32| {
        format!("attempt {n} of 4 failed (flaky: attempt {n} failed); the next starts in about")
    };
    let at = |what: &str| {
        said.iter()
            .position(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("{what:?} is not said: {err}"))
    };
    let order = [
        at(&failed(1)),
        at("attempt 2 of 4"),
        at(&failed(2)),
        at("attempt 3 of 4"),
        at("the job succeeded"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}: {err}");
}
