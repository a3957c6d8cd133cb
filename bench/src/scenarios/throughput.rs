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
         batching Headway's writer could reach). A second reference runs the same statements \
         through the SQLite C API on the calling thread (each prepared once), without sqlx's hop \
         to its worker thread for every statement: what the store itself can do with Headway's \
         statements. A third writes what a writer that merges a job's changes within one batch \
         would: the job row once, in its final state, and its events minus the superseded \
         progress sample (1 row write and 5 event rows per job instead of 5 and 6).",
        c = plan.concurrency
    );
    struct Level {
        c: u64,
        jobs: u64,
        hw: HeadwayOutcome,
        base: f64,
        direct: f64,
        coalesced: f64,
    }
    let mut levels = Vec::new();
    for (c, jobs) in [
        (1, plan.serial_jobs),
        (plan.concurrency, plan.throughput_jobs),
    ] {
        let hw = match headway(plan, c, jobs).await {
            Ok(o) => o,
            Err(e) => {
                s.fail(format!("Headway at concurrency {c}: {e}"));
                continue;
            }
        };
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
        let mut measure = |name: &str, r: Res<f64>| match r {
            Ok(v) => v,
            Err(e) => {
                s.fail(format!("{name} at concurrency {c}: {e}"));
                f64::NAN
            }
        };
        let base = measure("SQLite via sqlx", sqlite_baseline(plan, c, jobs).await);
        let direct = measure("SQLite direct", sqlite_direct(plan, c, jobs, false).await);
        let coalesced = measure(
            "SQLite direct, coalesced",
            sqlite_direct(plan, c, jobs, true).await,
        );
        levels.push(Level {
            c,
            jobs,
            hw,
            base,
            direct,
            coalesced,
        });
    }
    let mut header = vec![String::new()];
    header.extend(
        levels
            .iter()
            .map(|l| format!("concurrency {} ({} jobs)", l.c, num(l.jobs as f64, 0))),
    );
    let mut t = Table {
        headers: header,
        rows: Vec::new(),
    };
    let mut row = |name: &str, f: &dyn Fn(&Level) -> String| {
        let mut r = vec![name.to_string()];
        r.extend(levels.iter().map(f));
        t.row(r);
    };
    row("**Headway**, jobs/s", &|l| {
        format!("**{}**", num(l.hw.jobs_per_s, 0))
    });
    row(
        "SQLite via sqlx, same statements (baseline), jobs/s",
        &|l| num(l.base, 0),
    );
    row("ratio Headway / baseline", &|l| {
        ratio(l.hw.jobs_per_s, l.base)
    });
    row("SQLite direct, same statements, jobs/s", &|l| {
        num(l.direct, 0)
    });
    row("SQLite direct, one row write per job, jobs/s", &|l| {
        num(l.coalesced, 0)
    });
    row("Headway POST latency p50 / p99 / max (ms)", &|l| {
        let m = &l.hw.post_latency_ms;
        format!("{} / {} / {}", num(m.p50, 2), num(m.p99, 2), num(m.max, 1))
    });
    row("Headway server CPU per job (ms)", &|l| {
        l.hw.server_cpu_s
            .map(|c| num(c * 1000.0 / l.jobs as f64, 3))
            .unwrap_or("–".into())
    });
    s.tables.push(t);
    if let Some(l) = levels.iter().find(|l| l.c == plan.concurrency) {
        s.verdict(
            &format!("Jobs ≥ 20,000/s at concurrency {}", plan.concurrency),
            format!(
                "{} jobs/s (SQLite via sqlx {} jobs/s, {}; SQLite direct {}; one write per job {})",
                num(l.hw.jobs_per_s, 0),
                num(l.base, 0),
                ratio(l.hw.jobs_per_s, l.base),
                num(l.direct, 0),
                num(l.coalesced, 0)
            ),
            l.hw.jobs_per_s >= 20_000.0,
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
    let elapsed_s = last
        .map(|l| (l as f64 - t0) / 1000.0)
        .unwrap_or(f64::NAN)
        .max(0.001);
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
    let watcher = tokio::spawn(watch_done(
        addr,
        cookie.clone(),
        Arc::clone(&dones),
        stop.clone(),
        opened_tx,
    ));
    tokio::time::timeout(Duration::from_secs(30), opened_rx)
        .await
        .map_err(|_| "the event stream did not open within 30 s".to_string())?
        .map_err(|_| "the event stream failed to open".to_string())??;

    let mut conns = Vec::new();
    for _ in 0..c {
        conns.push(
            Conn::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?,
        );
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
        let (next, errors, first_error, latencies, cookie) = (
            Arc::clone(&next),
            Arc::clone(&errors),
            Arc::clone(&first_error),
            Arc::clone(&latencies),
            cookie.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < jobs {
                let t = Instant::now();
                let r = conn
                    .request(
                        "POST",
                        "/api/v1/jobs",
                        &[("Cookie", &cookie)],
                        Some(("application/json", &body[..])),
                    )
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
        conn.send(
            "GET",
            "/api/v1/events",
            &[("Accept", "text/event-stream"), ("Cookie", &cookie)],
            None,
        )
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
    log(format!(
        "throughput: SQLite baseline, batches of {c}, {jobs} jobs"
    ));
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
            insert_event(
                &mut tx,
                &mut next_event,
                &owner,
                id,
                "job",
                &job.to_string(),
                now,
            )
            .await?;
        }
        tx.commit().await.map_err(e)?;

        let mut tx = pool.begin().await.map_err(e)?;
        for id in batch {
            transition(
                &mut tx,
                &mut next_event,
                &owner,
                id,
                "running",
                "'queued'",
                false,
            )
            .await?;
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
                insert_event(
                    &mut tx,
                    &mut next_event,
                    &owner,
                    id,
                    "progress",
                    &data.to_string(),
                    at,
                )
                .await?;
            }
            transition(
                &mut tx,
                &mut next_event,
                &owner,
                id,
                "succeeded",
                "'running', 'cancelling'",
                true,
            )
            .await?;
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
    log(format!(
        "throughput: SQLite baseline {:.0} jobs/s",
        jobs as f64 / elapsed
    ));
    Ok(jobs as f64 / elapsed)
}

fn job_json(
    id: &str,
    status: &str,
    current: u64,
    message: &str,
    t: i64,
    finished: Option<i64>,
    event_id: i64,
) -> serde_json::Value {
    json!({
        "id": id, "kind": "demo", "params": {"interval_ms": 0, "steps": 1}, "status": status,
        "progress": {"current": current, "total": 1, "unit": "steps", "message": message, "level": "success"},
        "error": null, "created_at": t, "started_at": if status == "queued" { None } else { Some(t) },
        "finished_at": finished, "event_id": event_id, "timeout_ms": null, "origin": null,
    })
}

async fn insert_event(
    tx: &mut Tx,
    next: &mut i64,
    owner: &str,
    job: &str,
    kind: &str,
    data: &str,
    at: i64,
) -> Res<()> {
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
async fn transition(
    tx: &mut Tx,
    next: &mut i64,
    owner: &str,
    id: &str,
    to: &str,
    from: &str,
    terminal: bool,
) -> Res<()> {
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
    let decoded: Result<(String, String, String, i64, Option<i64>), sqlx::Error> = (|| {
        Ok((
            row.try_get(0)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(11)?,
            row.try_get(12)?,
        ))
    })();
    decoded.map_err(|e| e.to_string())?;
    let (current, message) = if terminal {
        (1, "step 1 of 1")
    } else {
        (0, "")
    };
    let job = job_json(
        id,
        to,
        current,
        message,
        at,
        terminal.then_some(at),
        job_event,
    );
    insert_event(tx, next, owner, id, "job", &job.to_string(), at).await?;
    if terminal {
        let done = json!({"job_id": id, "status": to, "error": null});
        insert_event(tx, next, owner, id, "done", &done.to_string(), at).await?;
    }
    Ok(())
}

/// The same row work as [`sqlite_baseline`], through the SQLite C API on this thread: every
/// statement prepared once, no hop to sqlx's worker thread per statement. Returns jobs/s.
async fn sqlite_direct(plan: &Plan, c: u64, jobs: u64, coalesce: bool) -> Res<f64> {
    use crate::direct::Db;
    let tag = if coalesce {
        "direct-coalesced"
    } else {
        "direct"
    };
    log(format!(
        "throughput: SQLite {tag}, batches of {c}, {jobs} jobs"
    ));
    let path = plan.path(&format!("sqlite-{tag}-{c}.db"));
    let pool = seed::open(&path, 1).await?;
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    let mut handle = conn.lock_handle().await.map_err(|e| e.to_string())?;
    let raw = handle.as_raw_handle().as_ptr();
    let mut rng = Rng::new(42 + c);
    let owner = rng.uuid();
    let ids: Vec<String> = (0..jobs).map(|_| rng.uuid()).collect();
    let elapsed = tokio::task::block_in_place(|| -> Res<f64> {
        // SAFETY: the connection is locked for this thread until `handle` is dropped.
        let db = unsafe { Db::new(raw) };
        let mut insert_job = db.prepare(
            "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                 created_at, event_id, timeout_ms, origin) \
             VALUES (?1, ?2, 'demo', ?3, 'queued', 0, NULL, '', '', 'success', ?4, ?5, NULL, NULL)",
        )?;
        let mut insert_event =
            db.prepare("INSERT INTO events (id, owner, job_id, type, data, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let transition_sql = |from: &str| {
            format!(
                "UPDATE jobs SET status = ?1, \
                     started_at = CASE WHEN ?1 = 'running' THEN COALESCE(started_at, ?2) ELSE started_at END, \
                     finished_at = CASE WHEN ?3 THEN ?2 ELSE NULL END, \
                     error_code = ?4, error_message = ?5, event_id = ?6 \
                 WHERE id = ?7 AND status IN ({from}) \
                 RETURNING {JOB_COLUMNS}"
            )
        };
        let mut to_running = db.prepare(&transition_sql("'queued'"))?;
        let mut to_succeeded = db.prepare(&transition_sql("'running', 'cancelling'"))?;
        let mut progress = db.prepare(
            "UPDATE jobs SET current = ?1, total = 1, unit = 'steps', message = ?2, level = 'success', \
                 event_id = ?3, progress_at = ?4 \
             WHERE id = ?5 AND status IN ('running', 'cancelling')",
        )?;
        let mut next = 1i64;
        let mut event = |id: &str, kind: &str, data: &str, at: i64, next: &mut i64| -> Res<()> {
            insert_event
                .int(1, *next)?
                .text(2, &owner)?
                .text(3, id)?
                .text(4, kind)?
                .text(5, data)?
                .int(6, at)?
                .run()?;
            *next += 1;
            Ok(())
        };
        let started = Instant::now();
        if coalesce {
            // What a writer that merges a job's changes within one batch would write: the job
            // row once, in its final state, and its events without the superseded progress sample.
            let mut insert_done = db.prepare(
                "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
                     created_at, started_at, finished_at, event_id, timeout_ms, origin, progress_at) \
                 VALUES (?1, ?2, 'demo', ?3, 'succeeded', 1, 1, 'steps', 'step 1 of 1', 'success', \
                     ?4, ?4, ?4, ?5, NULL, NULL, ?4)",
            )?;
            for batch in ids.chunks(c.max(1) as usize) {
                db.exec("BEGIN")?;
                for id in batch {
                    let at = unix_ms() as i64;
                    insert_done
                        .text(1, id)?
                        .text(2, &owner)?
                        .text(3, r#"{"interval_ms":0,"steps":1}"#)?
                        .int(4, at)?
                        .int(5, next + 4)?
                        .run()?;
                    event(
                        id,
                        "job",
                        &job_json(id, "queued", 0, "", at, None, next).to_string(),
                        at,
                        &mut next,
                    )?;
                    event(
                        id,
                        "job",
                        &job_json(id, "running", 0, "", at, None, next).to_string(),
                        at,
                        &mut next,
                    )?;
                    let data = json!({"job_id": id, "current": 1, "total": 1, "unit": "steps",
                                      "message": "step 1 of 1", "level": "success", "at": at});
                    event(id, "progress", &data.to_string(), at, &mut next)?;
                    event(
                        id,
                        "job",
                        &job_json(id, "succeeded", 1, "step 1 of 1", at, Some(at), next)
                            .to_string(),
                        at,
                        &mut next,
                    )?;
                    event(
                        id,
                        "done",
                        &json!({"job_id": id, "status": "succeeded", "error": null}).to_string(),
                        at,
                        &mut next,
                    )?;
                }
                db.exec("COMMIT")?;
            }
            return Ok(started.elapsed().as_secs_f64());
        }
        for batch in ids.chunks(c.max(1) as usize) {
            let now = unix_ms() as i64;
            db.exec("BEGIN")?;
            for id in batch {
                insert_job
                    .text(1, id)?
                    .text(2, &owner)?
                    .text(3, r#"{"interval_ms":0,"steps":1}"#)?
                    .int(4, now)?
                    .int(5, next)?
                    .run()?;
                event(
                    id,
                    "job",
                    &job_json(id, "queued", 0, "", now, None, next).to_string(),
                    now,
                    &mut next,
                )?;
            }
            db.exec("COMMIT")?;
            db.exec("BEGIN")?;
            for id in batch {
                let at = unix_ms() as i64;
                let n = to_running
                    .text(1, "running")?
                    .int(2, at)?
                    .int(3, 0)?
                    .null(4)?
                    .null(5)?
                    .int(6, next)?
                    .text(7, id)?
                    .run()?;
                if n != 1 {
                    return Err(format!("job {id} could not start"));
                }
                event(
                    id,
                    "job",
                    &job_json(id, "running", 0, "", at, None, next).to_string(),
                    at,
                    &mut next,
                )?;
            }
            db.exec("COMMIT")?;
            db.exec("BEGIN")?;
            for id in batch {
                for (current, message) in [(0, ""), (1, "step 1 of 1")] {
                    let at = unix_ms() as i64;
                    progress
                        .int(1, current)?
                        .text(2, message)?
                        .int(3, next)?
                        .int(4, at)?
                        .text(5, id)?
                        .run()?;
                    let data = json!({"job_id": id, "current": current, "total": 1, "unit": "steps",
                                      "message": message, "level": "success", "at": at});
                    event(id, "progress", &data.to_string(), at, &mut next)?;
                }
                let at = unix_ms() as i64;
                let n = to_succeeded
                    .text(1, "succeeded")?
                    .int(2, at)?
                    .int(3, 1)?
                    .null(4)?
                    .null(5)?
                    .int(6, next + 1)?
                    .text(7, id)?
                    .run()?;
                if n != 1 {
                    return Err(format!("job {id} could not succeed"));
                }
                event(
                    id,
                    "job",
                    &job_json(id, "succeeded", 1, "step 1 of 1", at, Some(at), next).to_string(),
                    at,
                    &mut next,
                )?;
                event(
                    id,
                    "done",
                    &json!({"job_id": id, "status": "succeeded", "error": null}).to_string(),
                    at,
                    &mut next,
                )?;
            }
            db.exec("COMMIT")?;
        }
        Ok(started.elapsed().as_secs_f64())
    })?;
    drop(handle);
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    drop(conn);
    pool.close().await;
    if done as u64 != jobs {
        return Err(format!("{done} of {jobs} jobs succeeded"));
    }
    log(format!(
        "throughput: SQLite {tag} {:.0} jobs/s",
        jobs as f64 / elapsed
    ));
    Ok(jobs as f64 / elapsed)
}
