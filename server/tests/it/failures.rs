//! Failures are never silent: a kind that panics fails its job alone; a write the database
//! refuses fails its own request alone; refused input gets a readable 4xx, however the client
//! sends it; past the connection bound, a clear 503.

use crate::client::*;
use crate::harness::{app, spawn_app};
use engine::kinds::{JobContext, Kind, KindEnv, RunResult};
use futures::future::join_all;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A kind that exists only in these tests: reports a step, then panics with its message.
struct Panics;

/// Panics part-way.
#[derive(Debug, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(KindEnv))]
struct PanicsParams {
    /// What the panic says.
    #[garde(length(min = 1))]
    message: String,
}

impl Kind for Panics {
    type Params = PanicsParams;
    const NAME: &'static str = "panics";

    async fn run(p: PanicsParams, ctx: &mut JobContext) -> RunResult {
        ctx.set_total(Some(2), "steps").await;
        ctx.advance(1).await;
        panic!("{}", p.message);
    }
}

#[tokio::test]
async fn a_kind_that_panics_fails_its_job_and_the_next_one_runs() {
    let app = app()
        .with(|c| c.max_running = 1)
        .kind::<Panics>()
        .start()
        .await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let (status, boom) = s
        .create(
            "panics",
            json!({"message": "index out of bounds: the len is 3"}),
        )
        .await;
    assert_eq!(status, 201, "{boom}");
    let boom = boom["id"].as_str().unwrap().to_string();
    // Queued behind it: it starts only if the panicking job gave its slot back.
    let next = s.demo(3, 1).await;
    let seen = read_until(&mut events, is_done_of(&next)).await;

    let failed = s.job(&boom).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "panic");
    assert_eq!(
        failed["error"]["message"],
        "index out of bounds: the len is 3"
    );
    assert_eq!(
        failed["progress"]["current"], 1,
        "what it reported before the panic is kept"
    );
    let done = seen
        .iter()
        .find(|e| is_done_of(&boom)(e))
        .expect("the panicked job's `done`");
    assert_eq!(data(done)["error"]["code"], "panic");
    assert_eq!(s.job(&next).await["status"], "succeeded");
    assert_eq!(s.get("/api/v1/kinds").await.0, 200, "the server goes on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_database_refuses_fails_its_own_request_and_no_other() {
    let app = spawn_app().await;
    // The database refuses one kind of row from now on (as a full disk or a constraint would).
    app.sql(
        "CREATE TRIGGER refuse_thirteen BEFORE INSERT ON jobs WHEN json_extract(NEW.params, '$.steps') = 13 \
         BEGIN SELECT RAISE(ABORT, 'no job of 13 steps'); END;",
        "CREATE FUNCTION refuse_thirteen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.params::json ->> 'steps' = '13' THEN RAISE EXCEPTION 'no job of 13 steps'; END IF; \
             RETURN NEW; END $$; \
         CREATE TRIGGER refuse_thirteen BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_thirteen();",
    )
    .await;
    let s = app.session();
    // One session for all of them: its cookie first.
    assert_eq!(s.get("/api/v1/kinds").await.0, 200);
    // Sent together, so that the writer takes them in shared batches.
    let answers = join_all((1..=40).map(|steps| {
        let s = s.clone();
        async move {
            (
                steps,
                s.create("demo", json!({"steps": steps, "interval_ms": 0}))
                    .await,
            )
        }
    }))
    .await;
    let mut created = Vec::new();
    for (steps, (status, body)) in answers {
        if steps == 13 {
            assert_eq!(status, 500, "{body}");
            assert_eq!(body["code"], "internal");
            assert_eq!(
                body["message"],
                "the server could not store a new job: the database refused the change"
            );
        } else {
            assert_eq!(status, 201, "{steps}: {body}");
            created.push(body["id"].as_str().unwrap().to_string());
        }
    }
    for id in &created {
        assert_eq!(s.wait_finished(id).await["status"], "succeeded");
    }
    let (_, list) = s.list("limit=100").await;
    assert_eq!(
        list["jobs"].as_array().unwrap().len(),
        39,
        "every other job is stored"
    );
}

#[tokio::test]
async fn a_client_that_sends_a_whole_oversized_body_reads_the_413() {
    let app = spawn_app().await;
    // As Python's http.client does: the whole body is written before the answer is read.
    let body = vec![b'x'; 12 * 1024 * 1024];
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.addr,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body)
        .await
        .expect("the server reads the body it refuses instead of resetting the connection");
    let mut answer = String::new();
    tokio::time::timeout(WAIT, tcp.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");
    assert_eq!(
        app.session().list("").await.1["jobs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn a_server_function_that_refuses_its_input_answers_4xx() {
    let app = spawn_app().await;
    let s = app.session();
    let form = [
        ("kind", "demo"),
        ("params[steps]", ""),
        ("params[interval_ms]", "5"),
    ];
    // As the page's script calls it.
    let r = s
        .http
        .post(s.url("/api/start_job"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error["code"], "invalid_params");
    // In English, and in the catalogs' words for a reader of another language.
    assert_eq!(
        error["fields"][0],
        json!({"field": "steps", "message": "is required", "said": {"id": "engine-required"}})
    );
    let r = s
        .http
        .post(s.url("/api/start_job"))
        .form(&[("kind", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = s
        .http
        .post(s.url("/api/cancel_job"))
        .form(&[("id", engine::new_id())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // As a plain form without JavaScript posts it: back to the page, as before.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .post(s.url("/api/start_job"))
        .header("accept", "text/html")
        .header("referer", s.url("/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(&s.url("/")));
    // And one that is accepted starts the job.
    let r = s
        .start_job_form(&[
            ("kind", "demo"),
            ("params[steps]", "2"),
            ("params[interval_ms]", "1"),
        ])
        .await;
    assert_eq!(r.status(), 200);
    let job: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        s.wait_finished(job["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
}

#[tokio::test]
async fn past_the_connection_bound_a_new_connection_gets_503_and_then_is_served_again() {
    let app = app().with(|c| c.max_connections = Some(2)).start().await;
    let (a, b) = (app.session(), app.session());
    let first = a.events("/api/v1/events", None).await;
    let second = b.events("/api/v1/events", None).await;
    assert_eq!(app.open_connections(), 2);

    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(b"GET /api/v1/kinds HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, tcp.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":"unavailable""#), "{answer}");

    drop(first);
    let deadline = std::time::Instant::now() + WAIT;
    while app.open_connections() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the closed stream's connection was not released"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        crate::client::get(format!("{}/api/v1/kinds", app.base))
            .await
            .unwrap()
            .status(),
        200
    );
    drop(second);
}
