//! Priorities and limits: what mixed priorities and a limit per key cost the job path, and how
//! soon a job of a higher priority starts behind a long queue of lower ones.

use super::throughput::{drive_mixed, settle, NOOP_DEMO};
use crate::http::Conn;
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, ratio, Section, Table};
use crate::seed;
use crate::sse::{json_int_field, json_str_field};
use crate::stats::median;
use crate::Res;
use engine::store::{Access, JobFilter};
use std::time::{Duration, Instant};

/// No-op jobs at the three levels a member may give a `demo` job, in turn.
const MIXED: [&[u8]; 3] = [
    br#"{"kind":"demo","params":{"steps":1,"interval_ms":0},"priority":"lowest"}"#,
    br#"{"kind":"demo","params":{"steps":1,"interval_ms":0},"priority":"low"}"#,
    br#"{"kind":"demo","params":{"steps":1,"interval_ms":0}}"#,
];

/// Distinct keys of the limited run.
const KEYS: u64 = 1_000;

/// One at a time per `log_every`: each of the [`KEYS`] no-op jobs' keys.
const ONE_PER_KEY: &[u8] = br#"{"kind":"demo","per":"param","param":"log_every","max":1}"#;

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Priorities and limits");
    let c = plan.concurrency;
    let jobs = plan.throughput_jobs;
    let rounds = plan.throughput_rounds.max(1);
    let queue = plan.priority_queue;
    let slots = 4;
    s.method = format!(
        "**Mixed priorities.** The throughput benchmark's no-op jobs ({jobs} at concurrency {c}, \
         one session, `--max-running {c}`), once all at the kind's priority and once a third \
         each at `lowest`, `low` and `normal`, in turn; both on fresh databases of the same \
         binary, {rounds} round(s), the order of the two turning from round to round. The \
         ratio is the median of the rounds' pairs (mixed / all normal).\n\n\
         **A job ahead of a long queue.** Headway started with `--max-running {slots}`; one \
         session queues {queue} `low` demo jobs of 20 steps of 5 ms each, then the operator \
         starts one `high` demo job. Measured: the `low` jobs that started between the `high` \
         job's start request and its own start (the goal is none: it takes the next free \
         slot), and the time it waited, against the time one `low` job runs (so the ratio is \
         in slots' turns).\n\n\
         **A limit per key.** The same no-op jobs, each with one of {KEYS} values of \
         `log_every` in turn, once without limits and once under \"one at a time per \
         `log_every`\" (set through `POST /api/v1/limits` before the jobs are posted); \
         {rounds} round(s), pairs as above (limited / unlimited)."
    );
    // Mixed against plain, pair by pair.
    let mut plain = Vec::new();
    let mut mixed = Vec::new();
    for round in 0..rounds {
        for k in 0..2 {
            let is_mixed = (k + round) % 2 == 1;
            let bodies: Vec<&[u8]> = match is_mixed {
                true => MIXED.to_vec(),
                false => vec![NOOP_DEMO],
            };
            let tag = if is_mixed { "mixed" } else { "plain" };
            match throughput_of(plan, &bodies, None, tag, round).await {
                Ok(v) if is_mixed => mixed.push(v),
                Ok(v) => plain.push(v),
                Err(e) => s.fail(format!("{tag} priorities, round {round}: {e}")),
            }
        }
    }
    let pairs: Vec<f64> = plain.iter().zip(&mixed).map(|(p, m)| m / p).collect();
    let pair = median(pairs.clone());
    let mut t = Table {
        headers: vec![
            String::new(),
            format!("concurrency {c} ({} jobs)", num(jobs as f64, 0)),
        ],
        ..Table::default()
    };
    t.row(vec![
        "all normal, jobs/s".into(),
        num(median(plain.clone()), 0),
    ]);
    t.row(vec![
        "lowest, low, normal in turn, jobs/s".into(),
        num(median(mixed.clone()), 0),
    ]);
    t.row(vec![
        "each round, all normal / mixed".into(),
        plain
            .iter()
            .zip(&mixed)
            .map(|(p, m)| format!("{} / {}", num(*p, 0), num(*m, 0)))
            .collect::<Vec<_>>()
            .join(", "),
    ]);
    t.row(vec![
        "mixed / all normal, median of the pairs".into(),
        format!("{pair:.2}"),
    ]);
    s.tables.push(t);
    s.verdict(
        "Mixed priorities ≥ 0.9× the jobs/s of one priority",
        format!("{pair:.2}× (median of {} pairs)", pairs.len()),
        pair >= 0.9,
    );

    let keyed: Vec<Vec<u8>> = (1..=KEYS)
        .map(|k| {
            format!(r#"{{"kind":"demo","params":{{"steps":1,"interval_ms":0,"log_every":{k}}}}}"#)
                .into_bytes()
        })
        .collect();
    let keyed: Vec<&[u8]> = keyed.iter().map(Vec::as_slice).collect();
    let mut free = Vec::new();
    let mut limited = Vec::new();
    for round in 0..rounds {
        for k in 0..2 {
            let is_limited = (k + round) % 2 == 1;
            let (tag, limit) = match is_limited {
                true => ("limited", Some(ONE_PER_KEY)),
                false => ("unlimited", None),
            };
            match throughput_of(plan, &keyed, limit, tag, round).await {
                Ok(v) if is_limited => limited.push(v),
                Ok(v) => free.push(v),
                Err(e) => s.fail(format!("{tag} keys, round {round}: {e}")),
            }
        }
    }
    let pairs: Vec<f64> = free.iter().zip(&limited).map(|(f, l)| l / f).collect();
    let pair = median(pairs.clone());
    let mut t = Table {
        headers: vec![
            String::new(),
            format!(
                "concurrency {c} ({} jobs, {KEYS} keys)",
                num(jobs as f64, 0)
            ),
        ],
        ..Table::default()
    };
    t.row(vec![
        "no limit, jobs/s".into(),
        num(median(free.clone()), 0),
    ]);
    t.row(vec![
        "one at a time per key, jobs/s".into(),
        num(median(limited.clone()), 0),
    ]);
    t.row(vec![
        "each round, no limit / limited".into(),
        free.iter()
            .zip(&limited)
            .map(|(f, l)| format!("{} / {}", num(*f, 0), num(*l, 0)))
            .collect::<Vec<_>>()
            .join(", "),
    ]);
    t.row(vec![
        "limited / no limit, median of the pairs".into(),
        format!("{pair:.2}"),
    ]);
    s.tables.push(t);
    s.verdict(
        &format!("A concurrency limit over {KEYS} keys ≥ 0.8× the jobs/s without"),
        format!("{pair:.2}× (median of {} pairs)", pairs.len()),
        pair >= 0.8,
    );

    match ahead_of_the_queue(plan, queue, slots).await {
        Ok(a) => {
            let mut t = Table {
                headers: vec![
                    String::new(),
                    format!("{} low jobs queued, {slots} slots", num(queue as f64, 0)),
                ],
                ..Table::default()
            };
            t.row(vec![
                "low jobs started after the high one was asked for, before it".into(),
                a.passed.to_string(),
            ]);
            t.row(vec!["the high job's wait (ms)".into(), num(a.waited_ms, 1)]);
            t.row(vec![
                "one low job's run (ms, median)".into(),
                num(a.low_run_ms, 1),
            ]);
            t.row(vec![
                "wait / one low job's run".into(),
                ratio(a.waited_ms, a.low_run_ms),
            ]);
            s.tables.push(t);
            s.verdict(
                &format!("A high job behind {queue} low ones starts in the next free slot"),
                format!(
                    "{} low jobs started before it; it waited {} of a low job's run",
                    a.passed,
                    ratio(a.waited_ms, a.low_run_ms)
                ),
                a.passed == 0,
            );
        }
        Err(e) => s.fail(format!("a high job behind {queue} low ones: {e}")),
    }
    s
}

/// Jobs/s of the throughput benchmark's run with `bodies` in turn, under `limit` if one is
/// given (set by the operator before the jobs are posted).
async fn throughput_of(
    plan: &Plan,
    bodies: &[&[u8]],
    limit: Option<&[u8]>,
    tag: &str,
    round: u64,
) -> Res<f64> {
    let (c, jobs) = (plan.concurrency, plan.throughput_jobs);
    log(format!(
        "priorities: {tag}, concurrency {c}, {jobs} jobs, round {round}"
    ));
    let dir = plan.path(&format!("priorities-{tag}-{round}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("headway.db");
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &sqlite_url(&db),
        role: ProcessRole::All,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: c.min(10_000) as u32,
        log: plan.path(&format!("priorities-{tag}-{round}.log")),
        commands: None,
        workflows: None,
    })
    .await?;
    let result = async {
        if let Some(limit) = limit {
            set_limit(&server, &dir, limit).await?;
        }
        drive_mixed(&[&server], c, jobs, bodies).await
    }
    .await;
    let stopped = server.stop().await;
    let driven = result?;
    stopped?;
    let store = seed::open(&db, Access::Shared).await?;
    let outcome = settle(driven, &store).await?;
    if outcome.post_errors > 0 || outcome.succeeded < jobs {
        return Err(format!(
            "{} POSTs failed, {} of {jobs} succeeded{}",
            outcome.post_errors,
            outcome.succeeded,
            outcome
                .first_error
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ));
    }
    Ok(outcome.jobs_per_s)
}

/// Sets `limit` (a limit's JSON) as the operator of the server whose database is in `dir`.
async fn set_limit(server: &Server, dir: &std::path::Path, limit: &[u8]) -> Res<()> {
    let token = std::fs::read_to_string(dir.join("admin.token"))
        .map_err(|e| format!("reading the operator token: {e}"))?;
    let token = format!("Bearer {}", token.trim());
    let mut conn = Conn::connect(server.addr)
        .await
        .map_err(|e| e.to_string())?;
    let r = conn
        .request(
            "POST",
            "/api/v1/limits",
            &[("Authorization", &token)],
            Some(("application/json", limit)),
        )
        .await
        .map_err(|e| e.to_string())?;
    match r.head.status {
        200 => Ok(()),
        other => Err(format!("setting the limit answered {other}: {}", r.text())),
    }
}

/// What the high job behind the queue met.
struct Ahead {
    passed: u64,
    waited_ms: f64,
    low_run_ms: f64,
}

async fn ahead_of_the_queue(plan: &Plan, queue: u64, slots: u32) -> Res<Ahead> {
    log(format!("priorities: a high job behind {queue} low ones"));
    let dir = plan.path("priorities-queue");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("headway.db");
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &sqlite_url(&db),
        role: ProcessRole::All,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: slots,
        log: plan.path("priorities-queue.log"),
        commands: None,
        workflows: None,
    })
    .await?;
    let result = async {
        let token = std::fs::read_to_string(dir.join("admin.token"))
            .map_err(|e| format!("reading the operator token: {e}"))?;
        let token = format!("Bearer {}", token.trim());
        let cookie = super::new_session(server.addr).await?;
        let mut conn = Conn::connect(server.addr)
            .await
            .map_err(|e| e.to_string())?;
        let low = br#"{"kind":"demo","params":{"steps":20,"interval_ms":5},"priority":"low"}"#;
        for _ in 0..queue {
            let r = conn
                .request(
                    "POST",
                    "/api/v1/jobs",
                    &[("Cookie", &cookie)],
                    Some(("application/json", low)),
                )
                .await
                .map_err(|e| e.to_string())?;
            if r.head.status != 201 {
                return Err(format!(
                    "a low job's start answered {}: {}",
                    r.head.status,
                    r.text()
                ));
            }
        }
        let high = br#"{"kind":"demo","params":{"steps":1,"interval_ms":0},"priority":"high"}"#;
        let asked = crate::unix_ms() as i64;
        let r = conn
            .request(
                "POST",
                "/api/v1/jobs",
                &[("Authorization", &token)],
                Some(("application/json", high)),
            )
            .await
            .map_err(|e| e.to_string())?;
        if r.head.status != 201 {
            return Err(format!(
                "the high job's start answered {}: {}",
                r.head.status,
                r.text()
            ));
        }
        let text = r.text();
        let id = json_str_field(&text, "id")
            .ok_or("the high job's answer has no id")?
            .to_string();
        // Its start, read from the job itself (bounded: the queue runs {slots} at a time).
        let deadline = Instant::now() + Duration::from_secs(120);
        let started_at = loop {
            let r = conn
                .request(
                    "GET",
                    &format!("/api/v1/jobs/{id}"),
                    &[("Authorization", &token)],
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
            if let Some(at) = json_int_field(&r.text(), "started_at") {
                break at;
            }
            if Instant::now() > deadline {
                return Err("the high job did not start within 120 s".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        Ok::<_, String>((asked, started_at))
    }
    .await;
    let stopped = server.stop().await;
    let (asked, started_at) = result?;
    stopped?;
    // The low jobs' starts and runs, from the store once the server has stopped.
    let store = seed::open(&db, Access::Shared).await?;
    let mut jobs = Vec::new();
    let mut before = None;
    loop {
        let filter = JobFilter {
            before: before.clone(),
            limit: 1_000,
            ..JobFilter::default()
        };
        let page = store
            .list_jobs(None, &filter)
            .await
            .map_err(|e| format!("reading the jobs: {e}"))?;
        let Some(last) = page.last() else { break };
        before = Some(last.id.to_string());
        jobs.extend(page);
    }
    let lows: Vec<&model::Job> = jobs
        .iter()
        .filter(|j| j.priority == model::Priority::LOW)
        .collect();
    let passed = lows
        .iter()
        .filter(|j| j.started_at.is_some_and(|s| s > asked && s < started_at))
        .count() as u64;
    let runs: Vec<f64> = lows
        .iter()
        .filter_map(|j| Some((j.finished_at? - j.started_at?) as f64))
        .collect();
    Ok(Ahead {
        passed,
        waited_ms: (started_at - asked) as f64,
        low_run_ms: median(runs),
    })
}
