//! Starts that must not happen twice: an `Idempotency-Key` on `POST /api/v1/jobs`, and the key
//! the start form sends.

use crate::client::*;
use crate::harness::spawn_app;
use serde_json::{json, Value};

/// `POST /api/v1/jobs` with an `Idempotency-Key` header.
async fn start_keyed(s: &Session, key: &str, body: &Value) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/jobs"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn demo(steps: u64) -> Value {
    json!({"kind": "demo", "params": {"steps": steps, "interval_ms": 1}})
}

async fn job_count(s: &Session) -> usize {
    let (_, list) = s.list("limit=100").await;
    list["jobs"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_key_sent_again_gives_back_the_first_job_and_other_parameters_are_refused() {
    let app = spawn_app().await;
    let s = app.session();
    let (status, first) = start_keyed(&s, "nightly-2026-11-24", &demo(2)).await;
    assert_eq!(status, 201, "{first}");
    let id = first["id"].as_str().unwrap().to_string();
    // Sent again (a client that did not hear the answer): 200, the same job as it is now.
    s.wait_finished(&id).await;
    let (status, again) = start_keyed(&s, "nightly-2026-11-24", &demo(2)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["status"], "succeeded", "as it is now: {again}");
    // The same key with other parameters: 422 naming the key, and nothing started.
    let (status, refused) = start_keyed(&s, "nightly-2026-11-24", &demo(3)).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["fields"][0]["field"], "idempotency_key",
        "{refused}"
    );
    assert!(
        refused["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("other parameters"),
        "{refused}"
    );
    // Another user's key of the same name starts their own job; they never see the first.
    let other = app.session();
    let (status, theirs) = start_keyed(&other, "nightly-2026-11-24", &demo(2)).await;
    assert_eq!(status, 201, "{theirs}");
    assert_ne!(theirs["id"], id.as_str());
    // Without a key, the same start is a new job each time.
    assert_eq!(
        s.create("demo", json!({"steps": 2, "interval_ms": 1}))
            .await
            .0,
        201
    );
    assert_eq!(job_count(&s).await, 2);
    assert_eq!(job_count(&other).await, 1);
}

#[tokio::test]
async fn bad_keys_are_refused_with_a_sentence_and_nothing_kept() {
    let app = spawn_app().await;
    let s = app.session();
    for key in ["", "two words", &"k".repeat(256), "clé"] {
        let r = s
            .http
            .post(s.url("/api/v1/jobs"))
            .header(
                "Idempotency-Key",
                reqwest::header::HeaderValue::from_bytes(key.as_bytes()).unwrap(),
            )
            .json(&demo(1))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 422, "{key:?}: {body}");
        assert_eq!(body["fields"][0]["field"], "idempotency_key", "{body}");
        assert!(
            body["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("idempotency key is"),
            "{body}"
        );
    }
    // The longest key there may be is taken.
    let (status, job) = start_keyed(&s, &"k".repeat(255), &demo(1)).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job_count(&s).await, 1, "only the good start is kept");
}

/// A flood of one start with one key, all at once (a client retrying in a loop): one job, every
/// answer naming it; and it costs the user one place of their queue, not one per request.
#[tokio::test]
async fn a_flood_of_one_key_at_once_starts_one_job() {
    let app = spawn_app().await;
    let s = app.session();
    // The session first (its user), then the flood.
    assert_eq!(job_count(&s).await, 0);
    let body = json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "run_after": engine::now_ms() + 3_600_000});
    let answers =
        futures::future::join_all((0..40).map(|_| start_keyed(&s, "retry-loop", &body))).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .map(|(_, job)| job["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|(status, _)| *status == 200 || *status == 201));
    assert_eq!(job_count(&s).await, 1);
    // Another user, starting meanwhile, is not held back.
    let other = app.session();
    assert_eq!(
        other
            .create("demo", json!({"steps": 1, "interval_ms": 1}))
            .await
            .0,
        201
    );
}

/// The start form carries a key of its own, rendered with the page: the form sent twice (a
/// double click without JavaScript, a post sent again from the browser's history) starts one
/// job, and a fresh page's form starts another.
#[tokio::test]
async fn the_start_form_sent_twice_starts_one_job() {
    let app = spawn_app().await;
    let s = app.session();
    let page = s.text("/new/demo").await;
    let key = form_key(&page, "start-demo");
    let fields = [
        ("kind", "demo"),
        ("params[steps]", "3"),
        ("params[interval_ms]", "1"),
        ("idempotency_key", key.as_str()),
    ];
    for _ in 0..2 {
        let r = s.start_job_form(&fields).await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
    }
    assert_eq!(job_count(&s).await, 1);
    let next = s.text("/new/demo").await;
    let fresh = form_key(&next, "start-demo");
    assert_ne!(fresh, key, "each page has a key of its own");
    let fields = [
        ("kind", "demo"),
        ("params[steps]", "3"),
        ("params[interval_ms]", "1"),
        ("idempotency_key", fresh.as_str()),
    ];
    s.start_job_form(&fields).await;
    assert_eq!(job_count(&s).await, 2);
}

/// The idempotency key of the start form `form_id` in a rendered page.
fn form_key(page: &str, form_id: &str) -> String {
    let form = &page[page.find(&format!("id=\"{form_id}\"")).expect("the form")..];
    let field = &form[form
        .find("name=\"idempotency_key\"")
        .expect("the key field")..];
    let value = &field[field.find("value=\"").expect("its value") + 7..];
    value[..value.find('"').unwrap()].to_string()
}
