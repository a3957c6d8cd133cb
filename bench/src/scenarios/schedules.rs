//! Schedules: many schedules firing at once, on SQLite and on PostgreSQL with three processes.
//! Fire lateness (a job's `created_at` minus the fire time it stands for), p50 and p99, and the
//! fire times that started no job or two; next to a baseline measured in the same run: an
//! external cron, the bench itself, waking at a fire time and posting as many jobs through the
//! API at once (lateness: `created_at` minus that time).

use super::new_session;
use crate::http::Conn;
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, ratio, Section, Table};
use crate::stats::Summary;
use crate::{unix_ms, Res};
use engine::store::postgres::throwaway::Cluster;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// HTTP clients posting at once (creating the schedules, and the baseline's jobs).
const CLIENTS: usize = 32;

/// What one backend measured.
struct Measured {
    baseline: Summary,
    headway: Summary,
    fire_times: usize,
    duplicates: usize,
    missed: usize,
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Schedules");
    let (n, period) = (plan.schedules, plan.schedule_period_s);
    s.method = format!(
        "{n} schedules of one user, each starting a no-op job (`demo`, `steps=1, interval_ms=0`) \
         at every fire time of `{cron}` (every {period} s, all at once), overlap `start` (a fire \
         time never waits for the previous job). They are created through the API, then \
         {fires} fire times are measured: fire lateness = the job's `created_at` − the fire \
         time it stands for (`scheduled_for`). Every schedule must have exactly one job per \
         measured fire time: a fire time with none is missed, one with two a duplicate. \
         Headway runs with `--max-running 16`.\n\n\
         Baseline: an external cron. Half a period after a fire time, the bench itself wakes \
         (a tokio timer) and posts {n} jobs of the same kind at once with `POST /api/v1/jobs` \
         ({CLIENTS} keep-alive clients), as a crontab calling the API would; lateness = \
         `created_at` − the time it woke for. Both run against the same server, a fire time \
         apart, so that neither loads the other.\n\n\
         On PostgreSQL: three Headway processes (`--role all`) on a fresh database of a \
         throwaway cluster; the schedules are created through the first, the baseline's jobs \
         posted to the three in turn.",
        cron = cron(period),
        fires = plan.schedule_fires,
    );
    let mut table = Table::new(&[
        "backend",
        "fire times × schedules",
        "baseline p50 / p99 (ms)",
        "Headway p50 / p99 (ms)",
        "p99 / baseline",
        "duplicates",
        "missed",
    ]);
    let sqlite = sqlite_part(plan).await;
    let postgres = postgres_part(plan).await;
    for (name, result) in [("SQLite", sqlite), ("PostgreSQL, 3 processes", postgres)] {
        match result {
            Ok(m) => {
                table.row(vec![
                    name.to_string(),
                    format!("{} × {n}", m.fire_times),
                    format!("{} / {}", num(m.baseline.p50, 1), num(m.baseline.p99, 1)),
                    format!("{} / {}", num(m.headway.p50, 1), num(m.headway.p99, 1)),
                    ratio(m.headway.p99, m.baseline.p99),
                    m.duplicates.to_string(),
                    m.missed.to_string(),
                ]);
                let met = m.headway.p99 < 1000.0 && m.duplicates == 0 && m.missed == 0;
                s.verdict(
                    &format!("Schedules on {name}: fire lateness p99 < 1 s, 0 duplicate and 0 missed fire times"),
                    format!(
                        "p99 {} ms (external cron: {} ms, {}), {} duplicate, {} missed of {}",
                        num(m.headway.p99, 1),
                        num(m.baseline.p99, 1),
                        ratio(m.headway.p99, m.baseline.p99),
                        m.duplicates,
                        m.missed,
                        m.fire_times * n as usize
                    ),
                    met,
                );
            }
            Err(e) => s.fail(format!("{name}: {e}")),
        }
    }
    s.tables.push(table);
    s
}

/// A cron expression firing every `period` seconds, on the minute for a minute.
fn cron(period: u64) -> String {
    match period {
        60 => "0 * * * * *".to_string(),
        p => format!("*/{p} * * * * *"),
    }
}

async fn sqlite_part(plan: &Plan) -> Res<Measured> {
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &sqlite_url(&plan.path("schedules.db")),
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: 16,
        role: ProcessRole::All,
        log: plan.path("schedules-sqlite.log"),
        commands: None,
        workflows: None,
    })
    .await?;
    let measured = measure(plan, &[server.addr]).await;
    server.stop().await?;
    measured
}

async fn postgres_part(plan: &Plan) -> Res<Measured> {
    log("schedules: starting a throwaway PostgreSQL cluster");
    let cluster = tokio::task::spawn_blocking(|| Cluster::start(&["max_connections=300"]))
        .await
        .map_err(|e| e.to_string())??;
    let url = cluster
        .fresh_database()
        .await
        .map_err(|e| format!("a fresh database: {e}"))?;
    let mut servers = Vec::new();
    for i in 0..3 {
        servers.push(
            Server::headway(HeadwayOptions {
                bin: &plan.bin,
                database_url: &url,
                site_root: &plan.site_root,
                data_root: &plan.path("files"),
                max_running: 16,
                role: ProcessRole::All,
                log: plan.path(&format!("schedules-pg-{i}.log")),
                commands: None,
                workflows: None,
            })
            .await?,
        );
    }
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let measured = measure(plan, &addrs).await;
    for server in servers {
        server.stop().await?;
    }
    let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
    measured
}

/// Creates the schedules through the first of `addrs`, measures the baseline and the fire
/// times, and reads the jobs back.
async fn measure(plan: &Plan, addrs: &[SocketAddr]) -> Res<Measured> {
    let (n, period_ms) = (
        plan.schedules as usize,
        plan.schedule_period_s as i64 * 1000,
    );
    let cookie = new_session(addrs[0]).await?;
    let schedule = json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 0},
                          "cron": cron(plan.schedule_period_s), "overlap": "start"});
    log(format!("schedules: creating {n} schedules"));
    let created = post_many(addrs, &cookie, "/api/v1/schedules", &schedule, n).await?;
    if created.len() != n {
        return Err(format!("{} of {n} schedules were created", created.len()));
    }
    // The first fire time every schedule waits for: the first boundary after the last was made.
    let first = (unix_ms() as i64 / period_ms + 1) * period_ms;
    let fires: Vec<i64> = (0..plan.schedule_fires as i64)
        .map(|k| first + k * period_ms)
        .collect();
    // The baseline half a period after the first fire time: an external cron's jobs.
    let woke_for = first + period_ms / 2;
    sleep_until(woke_for).await;
    let job = json!({"kind": "demo", "params": {"steps": 1, "interval_ms": 0}});
    let posted = post_many(addrs, &cookie, "/api/v1/jobs", &job, n).await?;
    let baseline: Vec<f64> = posted
        .iter()
        .filter_map(|j| j["created_at"].as_i64())
        .map(|at| (at - woke_for) as f64)
        .collect();
    if baseline.len() != n {
        return Err(format!(
            "the baseline started {} of {n} jobs",
            baseline.len()
        ));
    }
    let last = *fires.last().expect("at least one fire time");
    log(format!(
        "schedules: waiting for {} fire times, the last at {}",
        fires.len(),
        crate::report::utc(last)
    ));
    // Read back until every fire time has its jobs, or a generous while after the last.
    let deadline = last + 30_000;
    sleep_until(last + 1_000).await;
    let (per_fire, lateness) = loop {
        let jobs = all_jobs(addrs[0], &cookie).await?;
        let mut per_fire: HashMap<(String, i64), usize> = HashMap::new();
        let mut lateness = Vec::new();
        for j in &jobs {
            let (Some(s), Some(at)) = (j["schedule_id"].as_str(), j["scheduled_for"].as_i64())
            else {
                continue;
            };
            if fires.contains(&at) {
                *per_fire.entry((s.to_string(), at)).or_default() += 1;
                lateness.push((j["created_at"].as_i64().unwrap_or(at) - at) as f64);
            }
        }
        if per_fire.len() == n * fires.len() || unix_ms() as i64 > deadline {
            break (per_fire, lateness);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let duplicates = per_fire.values().filter(|c| **c > 1).map(|c| c - 1).sum();
    let missed = n * fires.len() - per_fire.len();
    Ok(Measured {
        baseline: Summary::of(&baseline),
        headway: Summary::of(&lateness),
        fire_times: fires.len(),
        duplicates,
        missed,
    })
}

async fn sleep_until(at_ms: i64) {
    let wait = at_ms - unix_ms() as i64;
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
}

/// Posts `body` `n` times at once to `path` ([`CLIENTS`] clients, the `addrs` in turn); the
/// answers that were 201.
async fn post_many(
    addrs: &[SocketAddr],
    cookie: &str,
    path: &str,
    body: &Value,
    n: usize,
) -> Res<Vec<Value>> {
    let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS.min(n) {
        let (addr, body, next) = (addrs[c % addrs.len()], body.clone(), next.clone());
        let (cookie, path) = (cookie.to_string(), path.to_string());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
            let mut answers = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let r = conn
                    .request(
                        "POST",
                        &path,
                        &[("Cookie", &cookie)],
                        Some(("application/json", &body)),
                    )
                    .await
                    .map_err(|e| format!("POST {path}: {e}"))?;
                if r.head.status != 201 {
                    return Err(format!(
                        "POST {path} answered {}: {}",
                        r.head.status,
                        r.text()
                    ));
                }
                answers.push(serde_json::from_slice::<Value>(&r.body).map_err(|e| e.to_string())?);
            }
            Ok::<_, String>(answers)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

/// Every job of the session's user, page after page.
async fn all_jobs(addr: SocketAddr, cookie: &str) -> Res<Vec<Value>> {
    let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut jobs = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let path = match &before {
            Some(id) => format!("/api/v1/jobs?limit=500&before={id}"),
            None => "/api/v1/jobs?limit=500".to_string(),
        };
        let r = conn
            .request("GET", &path, &[("Cookie", cookie)], None)
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if r.head.status != 200 {
            return Err(format!("GET {path} answered {}", r.head.status));
        }
        let page: Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
        jobs.extend(page["jobs"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(next) => before = Some(next.to_string()),
            None => return Ok(jobs),
        }
    }
}
