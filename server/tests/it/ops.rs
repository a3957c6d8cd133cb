//! What operators read: `/metrics` (parsed by the Prometheus client's own parser, with exact
//! counts after a known set of jobs), who may read it, and `/readyz`, which turns 503 when the
//! server begins to shut down.

use crate::client::*;
use crate::harness::{app, spawn_app};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Parses OpenMetrics text with the Python Prometheus client (Debian's python3-prometheus-client)
/// into `name{label="v",...}` → value, labels sorted by name.
fn parse(text: &str) -> HashMap<String, f64> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        out[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(out))
"#;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (make setup-test installs it, with python3-prometheus-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn scrape(base: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = crate::client::http().get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or_else(|| {
        let mut names: Vec<&String> = m
            .keys()
            .filter(|k| k.starts_with(key.split('{').next().unwrap()))
            .collect();
        names.sort();
        panic!("no sample {key}; samples of that name: {names:?}")
    })
}

#[tokio::test]
async fn metrics_count_exactly_the_jobs_requests_and_streams_of_a_known_run() {
    let app = spawn_app().await;
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(s.demo(2, 1).await);
    }
    let long = s.demo(100_000, 50).await;
    read_until(&mut events, |e| {
        e.event == "job" && data(e)["id"] == long && data(e)["status"] == "running"
    })
    .await;
    let (status, _) = s.cancel(&long).await;
    assert!(status < 300);
    for id in ids.iter().chain([&long]) {
        s.wait_finished(id).await;
    }
    let (status, _) = s.create("no_such_kind", serde_json::json!({})).await;
    assert_eq!(status, 422);

    let r = scrape(&app.base, None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let m = parse(&r.text().await.unwrap());
    assert_eq!(get(&m, r#"headway_jobs_created_total{kind="demo"}"#), 4.0);
    assert_eq!(
        get(
            &m,
            r#"headway_jobs_finished_total{kind="demo",status="succeeded"}"#
        ),
        3.0
    );
    assert_eq!(
        get(
            &m,
            r#"headway_jobs_finished_total{kind="demo",status="cancelled"}"#
        ),
        1.0
    );
    assert_eq!(
        get(&m, r#"headway_job_queue_seconds_count{kind="demo"}"#),
        4.0
    );
    assert_eq!(
        get(&m, r#"headway_job_run_seconds_count{kind="demo"}"#),
        4.0
    );
    assert_eq!(get(&m, r#"headway_jobs_queued{kind="demo"}"#), 0.0);
    assert_eq!(get(&m, r#"headway_jobs_running{kind="demo"}"#), 0.0);
    assert_eq!(get(&m, r#"headway_jobs_queued{kind="checksum"}"#), 0.0);
    assert_eq!(
        get(
            &m,
            r#"headway_http_requests_total{method="POST",route="/api/v1/jobs",status="201"}"#
        ),
        4.0
    );
    assert_eq!(
        get(
            &m,
            r#"headway_http_requests_total{method="POST",route="/api/v1/jobs",status="422"}"#
        ),
        1.0
    );
    assert_eq!(get(&m, r#"headway_http_requests_total{method="POST",route="/api/v1/jobs/{id}/cancel",status="200"}"#) + m.get(r#"headway_http_requests_total{method="POST",route="/api/v1/jobs/{id}/cancel",status="202"}"#).copied().unwrap_or(0.0), 1.0);
    assert_eq!(
        get(
            &m,
            r#"headway_http_request_duration_seconds_count{method="POST",route="/api/v1/jobs"}"#
        ),
        5.0
    );
    // The all-jobs stream is still open; the per-job ones have ended.
    assert_eq!(get(&m, r#"headway_streams_open{transport="sse"}"#), 1.0);
    assert!(get(&m, "headway_stream_sent_bytes_total{}") > 0.0);
    assert_eq!(get(&m, "headway_stream_caught_up_total{}"), 0.0);
    // Every job event was committed by this process's writer, in batches it timed.
    let written = get(&m, "headway_events_written_total{}");
    assert!(written >= 4.0 * 4.0, "{written} events");
    assert!(get(&m, "headway_writer_batch_size_count{}") >= 1.0);
    assert_eq!(
        get(&m, "headway_writer_batch_size_count{}"),
        get(&m, "headway_writer_commit_seconds_count{}")
    );
    drop(events);
}

#[tokio::test]
async fn metrics_beyond_loopback_need_the_operator_token_unless_public() {
    // Listening on every address: not loopback-only.
    let app = app()
        .with(|c| c.addr = "0.0.0.0:0".parse().unwrap())
        .start()
        .await;
    let base = format!("http://127.0.0.1:{}", app.addr.port());
    let r = scrape(&base, None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
    assert_eq!(scrape(&base, Some("wrong")).await.status(), 401);
    let token = app.admin_token();
    assert_eq!(scrape(&base, Some(&token)).await.status(), 200);
    // Beyond loopback, signing in is required; an operator's API token scrapes, a member's does not.
    let http = crate::client::http();
    for (name, role) in [("otto", "operator"), ("mia", "member")] {
        let r = http
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"username": name, "password": "correct horse", "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let personal = |name: &'static str| {
        let s = Session::new(&base);
        async move {
            let r = s
                .http
                .post(s.url("/api/v1/session"))
                .json(&serde_json::json!({"username": name, "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let t: Value = s
                .http
                .post(s.url("/api/v1/tokens"))
                .json(&serde_json::json!({"name": "scrape", "scope": "read"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            t["token"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(
        scrape(&base, Some(&personal("otto").await)).await.status(),
        200
    );
    assert_eq!(
        scrape(&base, Some(&personal("mia").await)).await.status(),
        403
    );

    let public = app.restart_with(|c| c.metrics_public = true).await;
    let base = format!("http://127.0.0.1:{}", public.addr.port());
    assert_eq!(scrape(&base, None).await.status(), 200);
}

/// A kind that exists only in these tests: runs until it is aborted, heeding no cancel, so that
/// a shutdown takes its whole grace period.
struct Deaf;

/// Runs until aborted.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(engine::kinds::KindEnv))]
struct DeafParams {}

impl engine::kinds::Kind for Deaf {
    type Params = DeafParams;
    const NAME: &'static str = "deaf";

    async fn run(_: DeafParams, ctx: &mut engine::kinds::JobContext) -> engine::kinds::RunResult {
        ctx.set_total(None, "ticks").await;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn readyz_is_ready_then_503_once_shutdown_begins() {
    let mut app = app()
        .with(|c| c.cancel_grace_ms = 5000)
        .kind::<Deaf>()
        .start()
        .await;
    // One client, one kept-alive connection: it can still ask once the server stops accepting.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let url = format!("{}/readyz", app.base);
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ready");
    let health: Value = http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    // A job that takes its grace period to stop keeps the shutdown going while we ask.
    let s = app.session();
    let mut events = s.events("/api/v1/events", None).await;
    let (status, job) = s.create("deaf", json!({})).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    read_until(&mut events, |e| {
        e.event == "job" && data(e)["id"] == id && data(e)["status"] == "running"
    })
    .await;
    let stopping = app.engine().stopping();
    let shutdown = app.begin_shutdown();
    stopping.cancelled().await;
    let r = http
        .get(&url)
        .send()
        .await
        .expect("the kept-alive connection is answered during shutdown");
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.expect("a JSON reason");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["reason"], "shutting down");
    shutdown.await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_the_clients_own() {
    let app = spawn_app().await;
    let http = crate::client::http();
    let r = http
        .get(format!("{}/api/v1/kinds", app.base))
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let r2 = http
        .get(format!("{}/api/v1/kinds", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(r2.headers()["x-request-id"], id.as_str());
    let mine = http
        .get(format!("{}/nope", app.base))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn the_system_page_shows_load_timings_and_processes_and_only_on_loopback() {
    let app = spawn_app().await;
    let s = app.session();
    let done = s.demo(2, 1).await;
    s.wait_finished(&done).await;
    let running = s.demo(100_000, 50).await;
    let mut events = s
        .events(&format!("/api/v1/jobs/{running}/events"), None)
        .await;
    read_until(&mut events, |e| {
        e.event == "job" && data(e)["status"] == "running"
    })
    .await;

    let r = s.http.get(s.url("/system")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let row = html
        .split("data-kind=\"demo\"")
        .nth(1)
        .expect("a row for demo")
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains(r#"data-col="running">1<"#), "{row}");
    assert!(row.contains(r#"data-col="finished">1<"#), "{row}");
    assert!(row.contains(r#"data-col="failed">0<"#), "{row}");
    assert!(row.contains(r#"data-col="cancelled">0<"#), "{row}");
    assert!(html.contains("Processes alive: 1"), "{html}");
    assert!(html.contains("(this one)"));
    // One stream is open here: the per-job one above.
    assert!(html.contains(r#"data-fact="streams">1<"#), "{html}");
    s.cancel(&running).await;
    s.wait_finished(&running).await;

    // A cancel was asked for: it is no failure, and the failure rate leaves it aside.
    let html = s.text("/system").await;
    let row = html
        .split("data-kind=\"demo\"")
        .nth(1)
        .expect("a row for demo")
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains(r#"data-col="cancelled">1<"#), "{row}");
    assert!(row.contains(r#"data-col="failed">0<"#), "{row}");
    assert!(html.contains(r#"data-fact="failure-rate">0.0%<"#), "{html}");

    // Beyond loopback, an open server shows it to no anonymous user.
    let open = crate::harness::app()
        .with(|c| {
            c.addr = "0.0.0.0:0".parse().unwrap();
            c.auth = Some(server::config::AuthMode::Open);
        })
        .start()
        .await;
    let base = format!("http://127.0.0.1:{}", open.addr.port());
    let r = crate::client::get(format!("{base}/system")).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("operators and admins"));
}

#[tokio::test]
async fn answers_go_compressed_to_clients_that_accept_it_and_event_streams_never() {
    let app = spawn_app().await;
    let s = app.session();
    let decode = |encoding: &str, bytes: &[u8]| {
        let mut text = String::new();
        match encoding {
            "gzip" => flate2::read::GzDecoder::new(bytes)
                .read_to_string(&mut text)
                .expect("a gzip body"),
            "br" => brotli::Decompressor::new(bytes, 4096)
                .read_to_string(&mut text)
                .expect("a brotli body"),
            other => panic!("unexpected encoding {other}"),
        };
        text
    };
    // Brotli where the client takes it (as browsers do), else gzip.
    for (accept, encoding) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
    ] {
        for path in ["/", "/api/v1/kinds"] {
            let r = s
                .http
                .get(s.url(path))
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(
                r.headers()["content-encoding"],
                encoding,
                "{path} ({accept})"
            );
            assert_eq!(r.headers()["vary"], "accept-encoding", "{path} ({accept})");
            let body = r.bytes().await.unwrap();
            let text = decode(encoding, &body);
            assert!(
                text.len() > body.len(),
                "{path}: {} bytes of {encoding} from {}",
                body.len(),
                text.len()
            );
            assert!(
                text.contains(if path == "/" {
                    "<!DOCTYPE html>"
                } else {
                    "\"demo\""
                }),
                "{path}: {text}"
            );
        }
    }
    for path in ["/", "/api/v1/kinds"] {
        // Without the header, the same answer as it is.
        let plain = s.http.get(s.url(path)).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
    }

    // An event stream stays as it is written, whatever the client accepts.
    let mut stream = s
        .http
        .get(s.url("/api/v1/events"))
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers().get("content-encoding").is_none());
    let id = s.demo(1, 1).await;
    let mut text = String::new();
    while !text.contains(&format!("\"id\":\"{id}\"")) {
        let chunk = stream
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open");
        text.push_str(std::str::from_utf8(&chunk).expect("plain text, event by event"));
    }
}

#[tokio::test]
async fn a_release_sites_compressed_copies_go_as_they_are_to_the_clients_that_accept_them() {
    let app = spawn_app().await;
    let s = app.session();
    let pkg = app.dir().join("site/pkg");
    // A release site: the file, its `gzip -9` copy and its brotli copy (here bytes that no
    // compressor would write, so that the answer's origin is plain).
    let wasm: Vec<u8> = (0..40_000u32)
        .flat_map(|i| (i % 97).to_le_bytes())
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm).unwrap();
    let gz = gz.finish().unwrap();
    let br = b"the brotli copy of headway.wasm".repeat(20);
    std::fs::write(pkg.join("headway.wasm"), &wasm).unwrap();
    std::fs::write(pkg.join("headway.wasm.gz"), &gz).unwrap();
    std::fs::write(pkg.join("headway.wasm.br"), &br).unwrap();
    // A debug site's file: no copies.
    let js = "export function hydrate() { return 'a debug build'; }\n".repeat(50);
    std::fs::write(pkg.join("debug.js"), &js).unwrap();

    let get = |path: &'static str, accept: &'static str| {
        let r = s.http.get(s.url(path));
        let r = match accept {
            "" => r,
            _ => r.header("accept-encoding", accept),
        };
        async move {
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 200, "{path} ({accept})");
            let header = |name: &str| {
                r.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let heads = (
                header("content-type"),
                header("content-encoding"),
                header("vary"),
            );
            (heads, r.bytes().await.unwrap().to_vec())
        }
    };
    let wasm_type = Some("application/wasm".to_owned());
    let vary = Some("accept-encoding".to_owned());

    // What Chromium asks for: the brotli copy.
    let (heads, body) = get("/pkg/headway.wasm", "gzip, deflate, br, zstd").await;
    assert_eq!(heads, (wasm_type.clone(), Some("br".into()), vary.clone()));
    assert_eq!(body, br);
    // Gzip only: the gzip copy, not compressed again.
    let (heads, body) = get("/pkg/headway.wasm", "gzip").await;
    assert_eq!(
        heads,
        (wasm_type.clone(), Some("gzip".into()), vary.clone())
    );
    assert_eq!(body, gz);
    // Nothing accepted: the file itself.
    let (heads, body) = get("/pkg/headway.wasm", "").await;
    assert_eq!((heads.0, heads.1), (wasm_type, None));
    assert_eq!(body, wasm);

    // A file without copies is compressed on the way out.
    for (accept, encoding) in [("gzip", "gzip"), ("gzip, deflate, br, zstd", "br")] {
        let (heads, body) = get("/pkg/debug.js", accept).await;
        assert_eq!((heads.1, heads.2), (Some(encoding.into()), vary.clone()));
        let mut text = String::new();
        match encoding {
            "gzip" => flate2::read::GzDecoder::new(&body[..])
                .read_to_string(&mut text)
                .expect("a gzip body"),
            _ => brotli::Decompressor::new(&body[..], 4096)
                .read_to_string(&mut text)
                .expect("a brotli body"),
        };
        assert_eq!(text, js);
    }
}

#[tokio::test]
async fn the_sites_files_are_checked_with_the_server_at_every_use() {
    let app = spawn_app().await;
    let s = app.session();
    let file = app.dir().join("site/pkg/headway.js");
    let write = |text: &str, modified: std::time::SystemTime| {
        std::fs::write(&file, text).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    };
    let built = std::time::SystemTime::now() - Duration::from_secs(86_400);
    write("export default function init() { return 1; }\n", built);
    let get = |since: Option<String>| {
        let r = s.http.get(s.url("/pkg/headway.js"));
        let r = match since {
            Some(since) => r.header("if-modified-since", since),
            None => r,
        };
        async move { r.send().await.unwrap() }
    };

    let first = get(None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(first.text().await.unwrap().contains("return 1"));

    // Unchanged: the browser's copy is still good.
    let again = get(Some(modified.clone())).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["cache-control"], "no-cache");

    // A new build: the browser that asks gets the new file.
    write(
        "export default function init() { return 2; }\n",
        built + Duration::from_secs(3_600),
    );
    let upgraded = get(Some(modified)).await;
    assert_eq!(upgraded.status(), 200);
    assert!(upgraded.text().await.unwrap().contains("return 2"));

    // Pages are not the site's files: they are rendered anew at every request anyway.
    let page = s.http.get(s.url("/")).send().await.unwrap();
    assert!(page.headers().get("cache-control").is_none());
}
