//! What one user's jobs may write and read, replayed against a real server on either backend:
//! a log line and a job's whole log are bounded wherever the lines come from, external jobs'
//! reports are bounded per second per user (429 with `Retry-After`), schedules in number and in
//! how often they fire; an output's event carries that output alone (the events of a job grow
//! with its outputs, not their square) and a job's outputs are bounded; log reads are bounded
//! in bytes; `import_csv` stops a row that never ends at its bound; uploads are paged and
//! bounded in number; a member's API tokens in force are bounded in number, even made at once,
//! and listed a page at a time (the API and the settings page).

use crate::client::*;
use crate::harness::{app, App};
use crate::team::{accounts_app, add_user, signed_in};
use engine::kinds::{JobContext, Kind, KindEnv, RunResult};
use futures::future::join_all;
use futures::{stream, StreamExt};
use model::LogLevel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use server::config::AuthMode;

/// Starts an external job as `s`; its id and report token.
async fn open(s: &Session) -> (String, String) {
    let (status, job) = s.create("external", json!({"title": "flood"})).await;
    assert_eq!(status, 201, "{job}");
    (
        job["id"].as_str().unwrap().to_string(),
        job["report_token"].as_str().unwrap().to_string(),
    )
}

/// Sends a report; its status, `Retry-After` and answer.
async fn report(s: &Session, id: &str, token: &str, body: Value) -> (u16, Option<u64>, Value) {
    let r = s
        .http
        .post(s.url(&format!("/api/v1/jobs/{id}/report")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

/// Lines `from..=to`, each `bytes` long.
fn wide_lines(from: u64, to: u64, bytes: usize) -> Value {
    Value::Array(
        (from..=to)
            .map(|n| json!({"seq": n, "line": format!("{n:>8}").repeat(bytes / 8)}))
            .collect(),
    )
}

/// Bytes of log text and of event data stored for job `id`.
async fn stored(app: &App, id: &str) -> (u64, u64) {
    let log = app
        .sql_value(
            &format!("SELECT COALESCE(SUM(LENGTH(CAST(line AS BLOB))), 0) FROM job_logs WHERE job_id = '{id}'"),
            &format!("SELECT COALESCE(SUM(octet_length(line)), 0) FROM job_logs WHERE job_id = '{id}'"),
        )
        .await;
    let events = app
        .sql_value(
            &format!("SELECT COALESCE(SUM(LENGTH(CAST(data AS BLOB))), 0) FROM events WHERE job_id = '{id}'"),
            &format!("SELECT COALESCE(SUM(octet_length(data)), 0) FROM events WHERE job_id = '{id}'"),
        )
        .await;
    (log.parse().unwrap(), events.parse().unwrap())
}

#[tokio::test]
async fn one_users_reports_are_bounded_per_line_per_job_and_per_second() {
    let app = app()
        .with(|c| {
            c.max_job_log_bytes = 200_000;
            c.report_bytes_per_sec = 50_000;
        })
        .start()
        .await;
    let (s, other) = (app.session(), app.session());
    let (id, token) = open(&s).await;

    // 30 lines of 10,000 bytes and one of 60,000: taken whole (within the burst of ten seconds'
    // worth), but the long line is cut at 16 KiB, and the log stops at 200,000 bytes.
    let mut log = wide_lines(1, 30, 10_000);
    log[0]["line"] = json!("x".repeat(60_000));
    let (status, _, reply) = report(&s, &id, &token, json!({ "log": log })).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["acked"], 30,
        "a dropped line is acknowledged: {reply}"
    );
    let lines = s.log(&id).await;
    let texts: Vec<&str> = lines.iter().map(|l| l["line"].as_str().unwrap()).collect();
    assert_eq!(texts[0].len(), 16 * 1024);
    assert!(texts[0].ends_with(" [line cut]"));
    let last = texts.last().unwrap();
    assert!(last.starts_with("log cut"), "{last}");
    assert_eq!(lines.last().unwrap()["level"], "warn");
    let (log_bytes, event_bytes) = stored(&app, &id).await;
    eprintln!("stored: {log_bytes} bytes of log, {event_bytes} bytes of events");
    assert!(
        log_bytes <= 200_000 + 200,
        "{log_bytes} bytes of log stored"
    );
    assert!(
        event_bytes <= 2 * 200_000,
        "{event_bytes} bytes of events stored"
    );

    // Past the user's rate: 429, with when to try again and why; nothing is written.
    let (status, retry, reply) = report(
        &s,
        &id,
        &token,
        json!({ "log": wide_lines(31, 60, 10_000) }),
    )
    .await;
    assert_eq!(status, 429, "{reply}");
    assert!(
        retry.is_some_and(|secs| (1..=10).contains(&secs)),
        "{retry:?}"
    );
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("bytes of log a second"),
        "{reply}"
    );
    // Another user's budget is their own.
    let (their_id, their_token) = open(&other).await;
    let (status, _, reply) = report(
        &other,
        &their_id,
        &their_token,
        json!({ "log": wide_lines(1, 30, 10_000) }),
    )
    .await;
    assert_eq!(
        (status, reply["acked"].as_u64()),
        (200, Some(30)),
        "{reply}"
    );
}

#[tokio::test]
async fn schedules_are_bounded_in_number_and_in_how_often_they_fire() {
    let app = app()
        .with(|c| {
            c.max_schedules_per_user = 2;
            c.min_schedule_interval_secs = 60;
        })
        .start()
        .await;
    let s = app.session();
    let create = |cron: &'static str| {
        let s = s.clone();
        async move {
            let r = s
                .http
                .post(s.url("/api/v1/schedules"))
                .json(&json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 1}, "cron": cron}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    for cron in [
        "* * * * * *",
        "*/30 * * * * *",
        "0,30 * * * * *",
        "0,1 0 3 * * *",
    ] {
        let (status, refused) = create(cron).await;
        assert_eq!(status, 422, "{cron}: {refused}");
        assert_eq!(refused["fields"][0]["field"], "cron");
        let message = refused["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains("at most every 60 s"), "{message}");
    }
    assert_eq!(create("* * * * *").await.0, 201);
    assert_eq!(create("@hourly").await.0, 201);
    let (status, refused) = create("@daily").await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("as many as one may have (2)"),
        "{refused}"
    );
}

/// A kind that exists only in these tests: attaches `n` small outputs, one after another.
struct Outputs;

/// Writes many outputs.
#[derive(Debug, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(KindEnv))]
struct OutputsParams {
    #[garde(range(min = 1, max = 100_000))]
    n: u32,
}

impl Kind for Outputs {
    type Params = OutputsParams;
    const NAME: &'static str = "outputs";

    async fn run(p: OutputsParams, ctx: &mut JobContext) -> RunResult {
        for i in 0..p.n {
            let mut out = ctx
                .create_output(&format!("part-{i:05}.txt"), "text/plain")
                .await?;
            out.write(b"x").await?;
            out.finish().await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_jobs_events_grow_with_its_outputs_not_their_square_and_outputs_are_bounded() {
    let app = app()
        .kind::<Outputs>()
        .with(|c| c.max_outputs_per_job = 600)
        .start()
        .await;
    let s = app.session();
    let mut bytes = Vec::new();
    for n in [300, 600] {
        let (status, job) = s.create("outputs", json!({ "n": n })).await;
        assert_eq!(status, 201, "{job}");
        let id = job["id"].as_str().unwrap();
        let done = s.wait_finished(id).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["outputs"].as_array().unwrap().len(), n);
        bytes.push(stored(&app, id).await.1);
    }
    let ratio = bytes[1] as f64 / bytes[0] as f64;
    eprintln!(
        "event bytes: 300 outputs {}, 600 outputs {} (x{ratio:.2})",
        bytes[0], bytes[1]
    );
    assert!(
        ratio < 2.5,
        "events grow faster than the outputs: {bytes:?}"
    );

    // One more than the bound: the job ends saying why, and the refused file is not kept.
    let (_, job) = s.create("outputs", json!({ "n": 601 })).await;
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "too_many_outputs", "{done}");
    assert!(done["error"]["message"]
        .as_str()
        .unwrap()
        .contains("600 outputs at most"));
    assert_eq!(
        done["outputs"].as_array().unwrap().len(),
        600,
        "{}",
        done["error"]
    );
}

/// A kind that exists only in these tests: writes `lines` lines of `bytes` bytes.
struct Wide;

/// Writes long lines.
#[derive(Debug, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(context(KindEnv))]
struct WideParams {
    #[garde(range(min = 1, max = 100_000))]
    lines: u32,
    #[garde(range(min = 1, max = 1_000_000))]
    bytes: u32,
}

impl Kind for Wide {
    type Params = WideParams;
    const NAME: &'static str = "wide";

    async fn run(p: WideParams, ctx: &mut JobContext) -> RunResult {
        for i in 0..p.lines {
            let line = format!("{i:>8}").repeat(p.bytes as usize / 8);
            ctx.log(LogLevel::Info, line).await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn log_reads_are_bounded_in_bytes_with_64_kib_lines() {
    let app = app()
        .kind::<Wide>()
        .with(|c| c.max_log_line_bytes = 64 * 1024)
        .start()
        .await;
    let s = app.session();
    let (status, job) = s
        .create("wide", json!({"lines": 100, "bytes": 64 * 1024}))
        .await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    assert_eq!(s.wait_finished(id).await["status"], "succeeded");

    // One page of the API: about 1 MiB, not the 6.5 MiB the 100 lines hold.
    let r = s
        .http
        .get(s.url(&format!("/api/v1/jobs/{id}/log?limit=10000")))
        .send()
        .await
        .unwrap();
    let body = r.bytes().await.unwrap();
    eprintln!("GET /log: {} bytes", body.len());
    assert!(body.len() < 1_300_000, "{} bytes", body.len());
    // Paged on to the end, every line comes.
    assert_eq!(s.log(id).await.len(), 100);
    // The job page: its log is bounded too.
    let page = s.text(&format!("/jobs/{id}")).await;
    eprintln!("job page: {} bytes", page.len());
    assert!(page.len() < 4_000_000, "{} bytes of HTML", page.len());
    // The download has it all, read a bounded step at a time.
    let r = s
        .http
        .get(s.url(&format!("/api/v1/jobs/{id}/log.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().lines().count(), 100);
}

/// Uploads `bytes` as `name`; the status and the answer.
async fn upload(s: &Session, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/uploads"))
        .header("x-file-name", name)
        .header("content-type", "text/csv")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_row_that_never_ends_fails_the_import_at_its_bound() {
    let app = app().start().await;
    let s = app.session();
    // An unclosed quote: 8 MiB of one field that never ends, against the 1 MiB bound.
    let mut csv = b"name,note\nAda,\"".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 8 << 20));
    let (status, up) = upload(&s, "unclosed.csv", csv).await;
    assert_eq!(status, 201, "{up}");
    let (status, job) = s
        .create("import_csv", json!({"upload": up["id"], "table": "t"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let done = s.wait_finished(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "line_too_long", "{done}");
    let message = done["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("line 2 is more than 1048576 bytes long (an unclosed quote?)"),
        "{message}"
    );
}

#[tokio::test]
async fn uploads_are_listed_by_page_and_bounded_in_number() {
    let app = app().with(|c| c.max_uploads_per_user = 5).start().await;
    let (s, other) = (app.session(), app.session());
    let mut ids = Vec::new();
    for i in 0..5 {
        let (status, up) = upload(&s, &format!("f{i}.csv"), b"a\n1\n".to_vec()).await;
        assert_eq!(status, 201, "{up}");
        ids.push(up["id"].as_str().unwrap().to_string());
    }
    let (status, refused) = upload(&s, "f5.csv", b"a\n1\n".to_vec()).await;
    assert_eq!(status, 429, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("you have 5 uploads"),
        "{refused}"
    );
    // Another user's count is their own.
    assert_eq!(upload(&other, "g.csv", b"a\n1\n".to_vec()).await.0, 201);

    // Pages of two, newest first, each after the last of the one before, to an empty one.
    let mut listed = Vec::new();
    let mut before = String::new();
    loop {
        let (status, page) = s.get(&format!("/api/v1/uploads?limit=2{before}")).await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        let last = page.last().unwrap()["id"].as_str().unwrap().to_string();
        listed.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        before = format!("&before={last}");
    }
    let mut sorted = listed.clone();
    sorted.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(sorted, all, "every upload once");
    assert_eq!(listed.len(), 5);

    // A delete gives its place back.
    let r = s
        .http
        .delete(s.url(&format!("/api/v1/uploads/{}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(upload(&s, "f6.csv", b"a\n1\n".to_vec()).await.0, 201);
}

/// Makes a personal API token as `s`: the answer's status and body.
async fn make_token(s: &Session, name: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": name, "scope": "read"}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_members_tokens_in_force_are_bounded_even_when_made_at_once() {
    let app = accounts_app().await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let (mia, max) = (signed_in(&app, "mia").await, signed_in(&app, "max").await);

    // 200 at once against a bound of 100: exactly 100 are made, the rest refused.
    let made = join_all((0..200).map(|i| {
        let mia = mia.clone();
        async move { make_token(&mia, &format!("flood {i}")).await }
    }))
    .await;
    let count = |code: u16| made.iter().filter(|(status, _)| *status == code).count();
    assert_eq!((count(201), count(429)), (100, 100), "{:?}", made.last());
    let (_, listed) = mia.get("/api/v1/tokens?limit=1000").await;
    assert_eq!(listed.as_array().unwrap().len(), 100);

    // The 101st says how many the member has, and what to do.
    let (status, refused) = make_token(&mia, "one more").await;
    assert_eq!(status, 429, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("you have 100 API tokens in force") && message.contains("revoke"),
        "{message}"
    );
    // Another member's bound is their own.
    assert_eq!(make_token(&max, "theirs").await.0, 201);

    // A revoked token does not count: revoking one makes room for one.
    let id = made.iter().find(|(s, _)| *s == 201).unwrap().1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = mia
        .http
        .delete(mia.url(&format!("/api/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(make_token(&mia, "in its place").await.0, 201);
    assert_eq!(make_token(&mia, "past it again").await.0, 429);
}

/// The ids of the tokens a settings page shows, and the address of its older tokens, if any.
fn settings_tokens(page: &str) -> (Vec<String>, Option<String>) {
    let ids = page
        .split("data-token-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect();
    let older = page.split("href=\"").skip(1).find_map(|rest| {
        let href = &rest[..rest.find('"').unwrap()];
        href.starts_with("/settings?tokens_before=")
            .then(|| href.to_string())
    });
    (ids, older)
}

/// The median time `s` takes to load `path`, over `n` loads one after another.
async fn median_load(s: &Session, path: &str, n: usize) -> std::time::Duration {
    let mut times = Vec::new();
    for _ in 0..n {
        let started = std::time::Instant::now();
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    times[n / 2]
}

#[tokio::test]
async fn a_thousand_tokens_are_listed_a_page_at_a_time_and_settings_stays_small() {
    let app = app()
        .with(|c| {
            c.auth = Some(AuthMode::Accounts);
            c.max_tokens_per_user = 1000;
        })
        .start()
        .await;
    add_user(&app, "mia", "member").await;
    add_user(&app, "max", "member").await;
    let (mia, max) = (signed_in(&app, "mia").await, signed_in(&app, "max").await);
    let made: Vec<(u16, Value)> = stream::iter(0..1000)
        .map(|i| {
            let mia = mia.clone();
            async move { make_token(&mia, &format!("token {i}")).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(made.iter().all(|(status, _)| *status == 201));
    assert_eq!(make_token(&mia, "one too many").await.0, 429);
    let mut all: Vec<String> = made
        .iter()
        .map(|(_, t)| t["id"].as_str().unwrap().to_string())
        .collect();
    all.sort();

    // The API: 100 unless asked, 1,000 at most; pages of 300, newest first, each after the
    // last of the one before, walk every token once, to an empty page.
    let (_, page) = mia.get("/api/v1/tokens").await;
    assert_eq!(page.as_array().unwrap().len(), 100);
    let (_, page) = mia.get("/api/v1/tokens?limit=5000").await;
    assert_eq!(page.as_array().unwrap().len(), 1000);
    let (mut listed, mut before, mut created) = (Vec::new(), String::new(), Vec::new());
    loop {
        let (status, page) = mia.get(&format!("/api/v1/tokens?limit=300{before}")).await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().unwrap().clone();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 300);
        before = format!("&before={}", last["id"].as_str().unwrap());
        listed.extend(page.iter().map(|t| t["id"].as_str().unwrap().to_string()));
        created.extend(page.iter().map(|t| t["created_at"].as_i64().unwrap()));
    }
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
    listed.sort();
    assert_eq!(listed, all, "every token once");

    // The settings page: the newest 50, and a plain link to the older ones, page after page
    // (no JavaScript needed), each token once.
    let page = mia.text("/settings").await;
    eprintln!("/settings with 1,000 tokens: {} bytes", page.len());
    assert!(page.len() < 200_000, "{} bytes", page.len());
    let (mut shown, mut older) = settings_tokens(&page);
    assert_eq!(shown.len(), 50);
    while let Some(href) = older {
        let page = mia.text(&href).await;
        let (ids, next) = settings_tokens(&page);
        assert!(!ids.is_empty() && ids.len() <= 50, "{href}: {}", ids.len());
        shown.extend(ids);
        older = next;
    }
    shown.sort();
    assert_eq!(shown, all, "every token once through the settings pages");

    // Twenty thousand older tokens, made and revoked over the years (revoked ones do not count
    // against the bound, and are listed): the page stays the newest 50.
    let mia_id = app
        .sql_value(
            "SELECT id FROM users WHERE name = 'mia'",
            "SELECT id FROM users WHERE name = 'mia'",
        )
        .await;
    let old = |series: &str| {
        format!(
            "INSERT INTO api_tokens (id, user_id, name, scope, hash, created_at, revoked_at) \
             SELECT 'old-' || i, '{mia_id}', 'old ' || i, 'read', 'old-hash-' || i, i, i + 1 \
             FROM {series}"
        )
    };
    app.sql(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) {}",
            old("n")
        ),
        &old("generate_series(1, 20000) AS n(i)"),
    )
    .await;
    let page = mia.text("/settings").await;
    eprintln!("/settings with 21,000 tokens: {} bytes", page.len());
    assert!(page.len() < 200_000, "{} bytes", page.len());
    assert_eq!(settings_tokens(&page).0.len(), 50);

    // Another member's page while mia floods the server with token creates (past her bound)
    // and loads her settings page again and again: as quick as when idle, give or take what
    // two cores shared with the flood allow.
    let idle = median_load(&max, "/settings", 9).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood: Vec<_> = (0..7)
        .map(|i| {
            let (mia, stop) = (mia.clone(), stop.clone());
            tokio::spawn(async move {
                let mut sent = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match i {
                        0 => {
                            let r = mia.http.get(mia.url("/settings")).send().await.unwrap();
                            r.bytes().await.unwrap();
                        }
                        _ => {
                            make_token(&mia, &format!("flood {i}")).await;
                        }
                    }
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let busy = median_load(&max, "/settings", 9).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent: usize = join_all(flood).await.into_iter().map(Result::unwrap).sum();
    eprintln!(
        "another member's /settings: {idle:?} idle, {busy:?} during {sent} requests of the flood"
    );
    assert!(
        busy < idle * 10 + std::time::Duration::from_millis(250),
        "{busy:?} during the flood, {idle:?} idle"
    );
}

/// Events stored about job `id`.
async fn events_of(app: &App, id: &str) -> u64 {
    let sql = format!("SELECT COUNT(*) FROM events WHERE job_id = '{id}'");
    app.sql_value(&sql, &sql).await.parse().unwrap()
}

#[tokio::test]
async fn reports_that_only_move_a_bar_are_bounded_as_log_lines_are() {
    // Ten empty reports' worth a second (each costs 1 KiB): a burst of a hundred.
    let app = app()
        .with(|c| c.report_bytes_per_sec = 10 * 1024)
        .start()
        .await;
    let (s, other) = (app.session(), app.session());
    let (id, token) = open(&s).await;
    let (their_id, their_token) = open(&other).await;
    let events_before = events_of(&app, &id).await;
    let started = std::time::Instant::now();
    // Meanwhile another user's job reports, well within its own budget.
    let theirs = tokio::spawn(async move {
        let mut statuses = Vec::new();
        for n in 1..=40 {
            let body = json!({"progress": n, "total": 40});
            statuses.push(report(&other, &their_id, &their_token, body).await.0);
        }
        statuses
    });
    // A flood of reports that change only the message, or only the bar.
    let mut answers = Vec::new();
    for n in 0..400 {
        let body = match n % 2 {
            0 => json!({"message": format!("step {n}")}),
            _ => json!({"progress": n, "total": 400}),
        };
        let (status, retry, reply) = report(&s, &id, &token, body).await;
        assert!(status == 200 || status == 429, "{status}: {reply}");
        answers.push((status, retry));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let taken = answers.iter().filter(|(status, _)| *status == 200).count();
    let first_refused = answers
        .iter()
        .position(|(status, _)| *status == 429)
        .expect("a flood of reports that only move a bar is refused");
    // The burst, and what refilled while the flood went on.
    let allowed = 100.0 + 10.0 * elapsed + 1.0;
    eprintln!(
        "{taken} of 400 reports taken in {elapsed:.1} s, the first refused was #{first_refused}"
    );
    assert!((first_refused as f64) <= allowed, "{first_refused}");
    assert!((taken as f64) <= allowed, "{taken} taken in {elapsed:.1} s");
    assert!(answers
        .iter()
        .filter(|(status, _)| *status == 429)
        .all(|(_, retry)| retry.is_some_and(|secs| (1..=10).contains(&secs))));
    let theirs = theirs.await.unwrap();
    assert!(theirs.iter().all(|status| *status == 200), "{theirs:?}");
    // What was stored grew with the reports taken, not with the flood.
    let events = events_of(&app, &id).await - events_before;
    eprintln!("{events} events stored for {taken} reports taken");
    assert!(events as usize <= taken, "{events} events");
}
