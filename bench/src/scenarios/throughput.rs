//! Job throughput: no-op jobs (`demo`, steps=1, interval_ms=0) through their whole persisted life,
//! posted by 1 and by 64 concurrent HTTP clients; the baseline does the same rows with sqlx on a
//! bare SQLite file.

use super::new_session;
use crate::http::Conn;
use crate::procs::{HeadwayOptions, Server};
use crate::report::{num, ratio, Section, Table};
use crate::run::{log, Plan};
use crate::seed::{self, Rng};
use crate::sse::{json_str_field, Chunked, Event, Parser};
use crate::stats::Summary;
use crate::{unix_ms, Res};
use serde_json::json;
use sqlx::{Row, Sqlite, Transaction};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

struct HeadwayOutcome {
    jobs: u64,
    posted_ok: u64,
    post_errors: u64,
    first_error: Option<String>,
    succeeded: u64,
    done_events: u64,
    jobs_per_s: f64,
    post_latency_ms: Summary,
    server_cpu_s: Option<f64>,
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Job throughput");
    s.method = format!(
        "No-op jobs (`demo`, `steps=1, interval_ms=0`: queued → running → succeeded, with their \
         `job`, `progress` and `done` events), posted with `POST /api/v1/jobs` by 1 and by {c} \
         concurrent HTTP/1.1 keep-alive clients of one session, Headway started with \
         `--max-running {c}`. Jobs/s = jobs / (time of the last job's `finished_at` in the store − \
         time of the first POST); an SSE stream of the same user checks that a `done` arrives for \
         every job, and the store that every job `succeeded`.\n\n\
         Baseline: the same rows with sqlx on a bare SQLite file with the same schema (the \
         migrations), WAL and synchronous=NORMAL, in the bench process, with the statements \
         Headway's store runs: insert the job and its `job` event; move it to running (UPDATE … \
         RETURNING) with its `job` event; two progress updates with their `progress` events, the \
         move to succeeded with its `job` and `done` events. At concurrency 1 that is 3 \
         transactions per job; at {c} the same 3 transactions carry {c} jobs each (the best \
         batching Headway's writer could reach).",
        c = plan.concurrency
    );
    let mut t = Table::new(&["", "Headway", "SQLite baseline", "ratio"]);
    let mut high: Option<(f64, f64)> = None;
    for (c, jobs) in [(1, plan.serial_jobs), (plan.concurrency, plan.throughput_jobs)] {
        let hw = match headway(plan, c, jobs).await {
            Ok(o) => o,
            Err(e) => {
                s.fail(format!("Headway at concurrency {c}: {e}"));
                continue;
            }
        };
        let base = match sqlite_baseline(plan, c, jobs).await {
            Ok(v) => v,
            Err(e) => {
                s.fail(format!("SQLite baseline at concurrency {c}: {e}"));
                f64::NAN
            }
        };
        t.row(vec![
            format!("jobs/s at concurrency {c} ({} jobs)", num(jobs as f64, 0)),
            num(hw.jobs_per_s, 0),
            num(base, 0),
            ratio(hw.jobs_per_s, base),
        ]);
        t.row(vec![
            format!("POST latency p50 / p99 / max (ms), concurrency {c}"),
            format!("{} / {} / {}", num(hw.post_latency_ms.p50, 2), num(hw.post_latency_ms.p99, 2), num(hw.post_latency_ms.max, 1)),
            String::new(),
            String::new(),
        ]);
        t.row(vec![
            format!("server CPU ms per job, concurrency {c}"),
            hw.server_cpu_s.map(|c| num(c * 1000.0 / jobs as f64, 3)).unwrap_or("–".into()),
            String::new(),
            String::new(),
        ]);
        if hw.post_errors > 0 || hw.succeeded < jobs || hw.done_events < jobs {
            s.fail(format!(
                "Headway at concurrency {c}: {} of {} POSTs failed, {} succeeded, {} `done` events seen{}",
                hw.post_errors,
                hw.jobs,
                hw.succeeded,
                hw.done_events,
                hw.first_error.as_ref().map(|e| format!("; first: {e}")).unwrap_or_default()
            ));
        }
        let _ = hw.posted_ok;
        if c == plan.concurrency {
            high = Some((hw.jobs_per_s, base));
        }
    }
    s.tables.push(t);
    if let Some((hw, base)) = high {
        s.verdict(
            &format!("Jobs ≥ 20,000/s at concurrency {}", plan.concurrency),
            format!("{} jobs/s (SQLite baseline {} jobs/s, {})", num(hw, 0), num(base, 0), ratio(hw, base)),
            hw >= 20_000.0,
        );
    }
    s
}

async fn headway(plan: &Plan, c: u64, jobs: u64) -> Res<HeadwayOutcome> {
    log(format!("throughput: Headway, concurrency {c}, {jobs} jobs"));
    let db = plan.path(&format!("throughput-{c}.db"));
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        db: &db,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: plan.concurrency.min(10_000) as u32,
        log: plan.path(&format!("throughput-{c}.log")),
    })
    .await?;
    let result = drive(&server, c, jobs).await;
    let stopped = server.stop().await;
    let (mut outcome, t0) = result?;
    stopped?;

    // What the store says, once the server has written everything and stopped.
    let pool = seed::open_existing(&db).await?;
    let (total, succeeded, last): (i64, i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(status = 'succeeded'), 0), MAX(finished_at) FROM jobs",
    )
    .fetch_one(&pool)
    .await
    .map_err(|e| e.to_string())?;
    pool.close().await;
    outcome.succeeded = succeeded as u64;
    let elapsed_s = last.map(|l| (l as f64 - t0) / 1000.0).unwrap_or(f64::NAN).max(0.001);
    outcome.jobs_per_s = succeeded as f64 / elapsed_s;
    log(format!(
        "throughput: {total} jobs, {succeeded} succeeded, {:.0} jobs/s",
        outcome.jobs_per_s
    ));
    Ok(outcome)
}

/// Posts the jobs and waits for their `done` events; returns the outcome (without the store's
/// figures) and the Unix time in ms of the first POST.
async fn drive(server: &Server, c: u64, jobs: u64) -> Res<(HeadwayOutcome, f64)> {
    let addr = server.addr;
    let cookie = new_session(addr).await?;
    let stop = CancellationToken::new();
    let dones = Arc::new(AtomicU64::new(0));
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let watcher = tokio::spawn(watch_done(addr, cookie.clone(), Arc::clone(&dones), stop.clone(), opened_tx));
    tokio::time::timeout(Duration::from_secs(30), opened_rx)
        .await
        .map_err(|_| "the event stream did not open within 30 s".to_string())?
        .map_err(|_| "the event stream failed to open".to_string())??;

    let mut conns = Vec::new();
    for _ in 0..c {
        conns.push(Conn::connect(addr).await.map_err(|e| format!("connect: {e}"))?);
    }
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(jobs as usize)));
    let body = br#"{"kind":"demo","params":{"steps":1,"interval_ms":0}}"#;
    let cpu_before = server.cpu_secs();
    let t0 = unix_ms();
    let mut tasks = Vec::new();
    for mut conn in conns {
        let (next, errors, first_error, latencies, cookie) =
            (Arc::clone(&next), Arc::clone(&errors), Arc::clone(&first_error), Arc::clone(&latencies), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < jobs {
                let t = Instant::now();
                let r = conn
                    .request("POST", "/api/v1/jobs", &[("Cookie", &cookie)], Some(("application/json", &body[..])))
                    .await;
                mine.push(t.elapsed().as_secs_f64() * 1000.0);
                let problem = match r {
                    Ok(r) if r.head.status == 201 => None,
                    Ok(r) => Some(format!("status {}: {}", r.head.status, r.text())),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(p) = problem {
                    errors.fetch_add(1, Ordering::Relaxed);
                    first_error.lock().unwrap().get_or_insert(p);
                    if let Ok(c) = Conn::connect(addr).await {
                        conn = c;
                    }
                }
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let post_errors = errors.load(Ordering::Relaxed);
    let expected = jobs - post_errors;
    let deadline = Instant::now() + Duration::from_secs(60 + jobs / 200);
    while dones.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = server.cpu_secs();
    stop.cancel();
    let _ = watcher.await;
    let latencies = latencies.lock().unwrap().clone();
    let first_error = first_error.lock().unwrap().clone();
    Ok((
        HeadwayOutcome {
            jobs,
            posted_ok: jobs - post_errors,
            post_errors,
            first_error,
            succeeded: 0,
            done_events: dones.load(Ordering::Relaxed),
            jobs_per_s: f64::NAN,
            post_latency_ms: Summary::of(&latencies),
            server_cpu_s: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        },
        t0,
    ))
}

/// Counts `done` events with status `succeeded` on the user's stream.
async fn watch_done(
    addr: SocketAddr,
    cookie: String,
    dones: Arc<AtomicU64>,
    stop: CancellationToken,
    opened: tokio::sync::oneshot::Sender<Res<()>>,
) {
    let mut opened = Some(opened);
    let result: Res<()> = async {
        let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
        conn.send("GET", "/api/v1/events", &[("Accept", "text/event-stream"), ("Cookie", &cookie)], None)
            .await
            .map_err(|e| e.to_string())?;
        let head = conn.read_head().await.map_err(|e| e.to_string())?;
        if head.status != 200 {
            return Err(format!("GET /api/v1/events answered {}", head.status));
        }
        let chunked = head.is_chunked();
        let (mut stream, mut input) = conn.into_parts();
        let mut decoder = Chunked::default();
        let mut parser = Parser::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut on_event = |e: Event<'_>| match e.kind {
                "snapshot" => {
                    if let Some(tx) = opened.take() {
                        let _ = tx.send(Ok(()));
                    }
                }
                "done" if json_str_field(e.data, "status") == Some("succeeded") => {
                    dones.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            };
            if chunked {
                decoder.feed(&input, &mut |d: &[u8]| parser.feed(d, &mut on_event))?;
            } else {
                parser.feed(&input, &mut on_event);
            }
            input.clear();
            let n = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                r = stream.read(&mut buf) => r.map_err(|e| e.to_string())?,
            };
            if n == 0 {
                return Err("the event stream ended".into());
            }
            input.extend_from_slice(&buf[..n]);
        }
    }
    .await;
    if let (Err(e), Some(tx)) = (result, opened.take()) {
        let _ = tx.send(Err(e));
    }
}

const JOB_COLUMNS: &str = "id, kind, params, status, current, total, unit, message, level, \
     error_code, error_message, created_at, started_at, finished_at, event_id, timeout_ms, origin, \
     progress_at";

type Tx = Transaction<'static, Sqlite>;

/// The same row work as Headway, on a bare SQLite file; returns jobs/s.
async fn sqlite_baseline(plan: &Plan, c: u64, jobs: u64) -> Res<f64> {
    log(format!("throughput: SQLite baseline, batches of {c}, {jobs} jobs"));
    let db = plan.path(&format!("sqlite-baseline-{c}.db"));
    let pool = seed::open(&db, 1).await?;
    let mut rng = Rng::new(42 + c);
    let owner = rng.uuid();
    let ids: Vec<String> = (0..jobs).map(|_| rng.uuid()).collect();
    let mut next_event = 1i64;
    let started = Instant::now();
    let e = |e: sqlx::Error| e.to_string();
    for batch in ids.chunks(c.max(1) as usize) {
        let now = unix_ms() as i64;
        let mut tx = pool.begin().await.map_err(e)?;
        for id in batch {
            let job = job_json(id, "queued", 0, "", now, None, next_event);
            sqlx::query(
                "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                     created_at, event_id, timeout_ms, origin) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&owner)
            .bind("demo")
            .bind(r#"{"interval_ms":0,"steps":1}"#)
            .bind("queued")
            .bind(0i64)
            .bind(None::<i64>)
            .bind("")
            .bind("")
            .bind("success")
            .bind(now)
            .bind(next_event)
            .bind(None::<i64>)
            .bind(None::<String>)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
            insert_event(&mut tx, &mut next_event, &owner, id, "job", &job.to_string(), now).await?;
        }
        tx.commit().await.map_err(e)?;

        let mut tx = pool.begin().await.map_err(e)?;
        for id in batch {
            transition(&mut tx, &mut next_event, &owner, id, "running", "'queued'", false).await?;
        }
        tx.commit().await.map_err(e)?;

        let mut tx = pool.begin().await.map_err(e)?;
        for id in batch {
            for (current, message) in [(0, ""), (1, "step 1 of 1")] {
                let at = unix_ms() as i64;
                sqlx::query(
                    "UPDATE jobs SET current = ?, total = ?, unit = ?, message = ?, level = ?, event_id = ?, \
                         progress_at = ? \
                     WHERE id = ? AND status IN ('running', 'cancelling')",
                )
                .bind(current)
                .bind(1i64)
                .bind("steps")
                .bind(message)
                .bind("success")
                .bind(next_event)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(e)?;
                let data = json!({"job_id": id, "current": current, "total": 1, "unit": "steps",
                                  "message": message, "level": "success", "at": at});
                insert_event(&mut tx, &mut next_event, &owner, id, "progress", &data.to_string(), at).await?;
            }
            transition(&mut tx, &mut next_event, &owner, id, "succeeded", "'running', 'cancelling'", true).await?;
        }
        tx.commit().await.map_err(e)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'")
        .fetch_one(&pool)
        .await
        .map_err(e)?;
    pool.close().await;
    if done as u64 != jobs {
        return Err(format!("{done} of {jobs} jobs succeeded"));
    }
    log(format!("throughput: SQLite baseline {:.0} jobs/s", jobs as f64 / elapsed));
    Ok(jobs as f64 / elapsed)
}

fn job_json(id: &str, status: &str, current: u64, message: &str, t: i64, finished: Option<i64>, event_id: i64) -> serde_json::Value {
    json!({
        "id": id, "kind": "demo", "params": {"interval_ms": 0, "steps": 1}, "status": status,
        "progress": {"current": current, "total": 1, "unit": "steps", "message": message, "level": "success"},
        "error": null, "created_at": t, "started_at": if status == "queued" { None } else { Some(t) },
        "finished_at": finished, "event_id": event_id, "timeout_ms": null, "origin": null,
    })
}

async fn insert_event(tx: &mut Tx, next: &mut i64, owner: &str, job: &str, kind: &str, data: &str, at: i64) -> Res<()> {
    sqlx::query("INSERT INTO events (id, owner, job_id, type, data, at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(*next)
        .bind(owner)
        .bind(job)
        .bind(kind)
        .bind(data)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(|e| e.to_string())?;
    *next += 1;
    Ok(())
}

/// Headway's status change: one UPDATE … RETURNING, then the `job` event (and `done`).
async fn transition(tx: &mut Tx, next: &mut i64, owner: &str, id: &str, to: &str, from: &str, terminal: bool) -> Res<()> {
    let at = unix_ms() as i64;
    let job_event = *next;
    let last = if terminal { job_event + 1 } else { job_event };
    let sql = format!(
        "UPDATE jobs SET status = ?1, \
             started_at = CASE WHEN ?1 = 'running' THEN COALESCE(started_at, ?2) ELSE started_at END, \
             finished_at = CASE WHEN ?3 THEN ?2 ELSE NULL END, \
             error_code = ?4, error_message = ?5, event_id = ?6 \
         WHERE id = ?7 AND status IN ({from}) \
         RETURNING {JOB_COLUMNS}"
    );
    let updated = sqlx::query(&sql)
        .bind(to)
        .bind(at)
        .bind(terminal)
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(last)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| e.to_string())?;
    let Some(row) = updated else {
        return Err(format!("job {id} could not become {to}"));
    };
    // Headway reads the returned row back into a job; so does the baseline.
    let decoded: Result<(String, String, String, i64, Option<i64>), sqlx::Error> =
        (|| Ok((row.try_get(0)?, row.try_get(2)?, row.try_get(3)?, row.try_get(11)?, row.try_get(12)?)))();
    decoded.map_err(|e| e.to_string())?;
    let (current, message) = if terminal { (1, "step 1 of 1") } else { (0, "") };
    let job = job_json(id, to, current, message, at, terminal.then_some(at), job_event);
    insert_event(tx, next, owner, id, "job", &job.to_string(), at).await?;
    if terminal {
        let done = json!({"job_id": id, "status": to, "error": null});
        insert_event(tx, next, owner, id, "done", &done.to_string(), at).await?;
    }
    Ok(())
}
