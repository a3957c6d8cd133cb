//! Workflows: what running jobs as the steps of workflow runs costs against the same jobs
//! started alone. A run's steps wait for each other through continuations, have their
//! parameters rendered when their wait ends, and settle their run in the transaction that ends
//! them; this measures all of it. Then one fan-out of many items, on SQLite and on PostgreSQL
//! with several processes: how long its run takes to end once its last item ended, and how
//! many progress events a client that follows only the run gets.

use super::throughput::{drive_expecting, settle, NOOP_DEMO};
use crate::http::Conn;
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, Section, Table};
use crate::seed;
use crate::stats::median;
use crate::Res;
use engine::store::postgres::throwaway::Cluster;
use engine::store::{Access, JobFilter, Steps, Store};
use model::{EventType, Job, JobId, JobStatus};
use std::time::{Duration, Instant};

/// Headway processes sharing PostgreSQL in the fan-out's second measurement.
const PG_PROCESSES: usize = 3;

/// Steps in a run of the benchmark's workflow.
const STEPS: u64 = 10;

/// A workflow of [`STEPS`] no-op demo steps: five chains of two, the second of each rendering a
/// parameter from the run's.
fn workflows_file() -> String {
    let mut toml = String::from(
        "[[workflow]]\nname = \"bench\"\n\n[workflow.params.n]\ntype = \"integer\"\ndefault = 1\n",
    );
    for chain in 0..STEPS / 2 {
        toml.push_str(&format!(
            "\n[[workflow.step]]\nname = \"a{chain}\"\nkind = \"demo\"\n\
             params = {{ steps = 1, interval_ms = 0 }}\n\
             \n[[workflow.step]]\nname = \"b{chain}\"\nkind = \"demo\"\nneeds = [\"a{chain}\"]\n\
             params = {{ steps = \"{{n}}\", interval_ms = 0 }}\n"
        ));
    }
    // One step run once per item: `each` over a count.
    toml.push_str(
        "\n[[workflow]]\nname = \"fan\"\n\n[workflow.params.n]\ntype = \"integer\"\ndefault = 1\n\
         \n[[workflow.step]]\nname = \"each\"\nkind = \"demo\"\neach = \"{n}\"\n\
         params = { steps = 1, interval_ms = 0 }\n",
    );
    toml
}

/// The body of a start of one run.
const RUN: &[u8] = br#"{"kind":"bench","params":{"n":1}}"#;

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Workflows");
    let c = plan.concurrency;
    let jobs = plan.throughput_jobs;
    let runs = (jobs / STEPS).max(1);
    let rounds = plan.throughput_rounds.max(1);
    s.method = format!(
        "{jobs} no-op demo jobs (one step of 0 ms) posted alone at concurrency {c} (one session, \
         `--max-running {c}`), against {runs} runs of a workflow of {STEPS} such steps (five \
         chains of two: each second step waits for the first and renders a parameter from the \
         run's), posted the same way: the same number of jobs, {runs} more for the runs. Both on \
         fresh SQLite databases of the same binary, {rounds} round(s), the order turning from \
         round to round. Steps/s counts the steps alone, from the first post to the last `done`; \
         the ratio is the median of the rounds' pairs (steps/s / jobs/s alone)."
    );
    let mut alone = Vec::new();
    let mut stepped = Vec::new();
    for round in 0..rounds {
        for k in 0..2 {
            let in_runs = (k + round) % 2 == 1;
            let result = match in_runs {
                true => throughput_of(plan, RUN, runs, STEPS + 1, "runs", round)
                    .await
                    .map(|(per_s, succeeded)| per_s * (succeeded - runs) as f64 / succeeded as f64),
                false => throughput_of(plan, NOOP_DEMO, jobs, 1, "alone", round)
                    .await
                    .map(|(per_s, _)| per_s),
            };
            match result {
                Ok(v) if in_runs => stepped.push(v),
                Ok(v) => alone.push(v),
                Err(e) => s.fail(format!("round {round}: {e}")),
            }
        }
    }
    let pairs: Vec<f64> = alone.iter().zip(&stepped).map(|(a, w)| w / a).collect();
    let pair = median(pairs.clone());
    let mut t = Table {
        headers: vec![
            String::new(),
            format!("concurrency {c} ({} jobs)", num(jobs as f64, 0)),
        ],
        ..Table::default()
    };
    t.row(vec![
        "jobs alone, jobs/s".into(),
        num(median(alone.clone()), 0),
    ]);
    t.row(vec![
        format!("steps of {runs} runs, steps/s"),
        num(median(stepped.clone()), 0),
    ]);
    t.row(vec![
        "each round, alone / in runs".into(),
        alone
            .iter()
            .zip(&stepped)
            .map(|(a, w)| format!("{} / {}", num(*a, 0), num(*w, 0)))
            .collect::<Vec<_>>()
            .join(", "),
    ]);
    t.row(vec![
        "in runs / alone, median of the pairs".into(),
        format!("{pair:.2}"),
    ]);
    s.tables.push(t);
    s.verdict(
        &format!("Jobs as the steps of {STEPS}-step workflows ≥ 0.7× the jobs/s of jobs alone"),
        format!("{pair:.2}× (median of {} pairs)", pairs.len()),
        pair >= 0.7,
    );
    fan_out_part(&mut s, plan, median(alone)).await;
    s
}

/// One fan-out's run as measured: its items, the seconds from its post to its end, the
/// milliseconds from its last item's end to its own, and the progress events of the run and of
/// all jobs.
struct FanOut {
    items: u64,
    secs: f64,
    end_lag_ms: i64,
    run_progress: u64,
    events: i64,
}

/// The fan-out: one run of `fan` over [`Plan::fan_out_items`] items, on SQLite (one process)
/// then on PostgreSQL ([`PG_PROCESSES`] processes), `alone` the jobs/s of jobs alone measured
/// above.
async fn fan_out_part(s: &mut Section, plan: &Plan, alone: f64) {
    let items = plan.fan_out_items;
    let c = plan.concurrency;
    let mut t = Table {
        headers: vec![
            String::new(),
            "SQLite, 1 process".into(),
            format!("PostgreSQL, {PG_PROCESSES} processes"),
        ],
        ..Table::default()
    };
    let sqlite = fan_out_sqlite(plan).await;
    log("workflows: starting a throwaway PostgreSQL cluster");
    let pg = match tokio::task::spawn_blocking(|| Cluster::start(&["max_connections=500"])).await {
        Ok(Ok(cluster)) => {
            let measured = fan_out_pg(plan, &cluster).await;
            let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
            measured
        }
        Ok(Err(e)) => Err(format!("cannot start a throwaway PostgreSQL cluster: {e}")),
        Err(e) => Err(format!(
            "starting a throwaway PostgreSQL cluster failed: {e}"
        )),
    };
    let cell = |r: &Res<FanOut>, f: &dyn Fn(&FanOut) -> String| match r {
        Ok(m) => f(m),
        Err(_) => "failed".to_string(),
    };
    t.row(vec![
        "items/s, post to the run's end".into(),
        cell(&sqlite, &|m| num(m.items as f64 / m.secs, 0)),
        cell(&pg, &|m| num(m.items as f64 / m.secs, 0)),
    ]);
    t.row(vec![
        "from the last item's end to the run's end, ms".into(),
        cell(&sqlite, &|m| m.end_lag_ms.to_string()),
        cell(&pg, &|m| m.end_lag_ms.to_string()),
    ]);
    t.row(vec![
        "progress events of the run (what a client following it gets)".into(),
        cell(&sqlite, &|m| num(m.run_progress as f64, 0)),
        cell(&pg, &|m| num(m.run_progress as f64, 0)),
    ]);
    t.row(vec![
        "events of every job".into(),
        cell(&sqlite, &|m| num(m.events as f64, 0)),
        cell(&pg, &|m| num(m.events as f64, 0)),
    ]);
    s.method.push_str(&format!(
        "\n\n**One fan-out.** One run of a workflow whose one step runs a no-op demo job once \
         per item (`each = \"{{n}}\"`, n = {items}, all at once), posted to a fresh server at \
         `--max-running {c}`: on SQLite, one process; on PostgreSQL (a throwaway cluster of \
         Debian's `pg_virtualenv`), {PG_PROCESSES} processes sharing the database, the run \
         posted to the first. Once the run ended, the bench reads the store: every item must \
         have succeeded; the lag is the run's end minus the latest end of an item (both \
         written by Headway, in Unix ms); the run's progress events are the stored events a \
         client following only the run replays. Baseline: the jobs/s of jobs alone above \
         ({}).",
        num(alone, 0)
    ));
    if let Ok(m) = &sqlite {
        t.row(vec![
            "items/s on SQLite / jobs alone".into(),
            format!("{:.2}", m.items as f64 / m.secs / alone),
            String::new(),
        ]);
    }
    for (db, r) in [("SQLite", &sqlite), ("PostgreSQL", &pg)] {
        if let Err(e) = r {
            s.fail(format!("fan-out on {db}: {e}"));
        }
    }
    s.tables.push(t);
}

async fn fan_out_sqlite(plan: &Plan) -> Res<FanOut> {
    let dir = plan.path("workflows-fan-sqlite");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("headway.db");
    let servers = start_fan(plan, &sqlite_url(&db), &dir, 1).await?;
    let posted = post_fan(&servers, plan.fan_out_items).await;
    super::stop_all(servers).await?;
    let (run, secs) = posted?;
    let store = seed::open(&db, Access::Shared).await?;
    read_fan(&store, &run, plan.fan_out_items, secs).await
}

async fn fan_out_pg(plan: &Plan, cluster: &Cluster) -> Res<FanOut> {
    let dir = plan.path("workflows-fan-pg");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let url = cluster.fresh_database().await?;
    let servers = start_fan(plan, &url, &dir, PG_PROCESSES).await?;
    let posted = post_fan(&servers, plan.fan_out_items).await;
    super::stop_all(servers).await?;
    let (run, secs) = posted?;
    let store = seed::open_url(&url, Access::Shared).await?;
    read_fan(&store, &run, plan.fan_out_items, secs).await
}

/// `n` Headway processes on `url` with the workflows file, in `dir`.
async fn start_fan(plan: &Plan, url: &str, dir: &std::path::Path, n: usize) -> Res<Vec<Server>> {
    let file = dir.join("workflows.toml");
    std::fs::write(&file, workflows_file()).map_err(|e| e.to_string())?;
    let mut servers = Vec::new();
    for i in 0..n {
        let started = Server::headway(HeadwayOptions {
            bin: &plan.bin,
            database_url: url,
            role: ProcessRole::All,
            site_root: &plan.site_root,
            data_root: &plan.path("files"),
            max_running: plan.concurrency.min(10_000) as u32,
            log: dir.join(format!("headway-{i}.log")),
            commands: None,
            workflows: Some(&file),
        })
        .await;
        match started {
            Ok(server) => servers.push(server),
            Err(e) => {
                let _ = super::stop_all(servers).await;
                return Err(e);
            }
        }
    }
    Ok(servers)
}

/// Posts one run of `fan` over `items` items to the first server and waits, bounded, for it
/// to end: its id and the seconds from the post to its end.
async fn post_fan(servers: &[Server], items: u64) -> Res<(JobId, f64)> {
    let addr = servers.first().ok_or("no server")?.addr;
    let cookie = super::new_session(addr).await?;
    let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let body = format!(r#"{{"kind":"fan","params":{{"n":{items}}}}}"#);
    let t0 = Instant::now();
    let id = super::post_job(&mut conn, &cookie, body.as_bytes()).await?;
    log(format!("workflows: fan-out of {items} items, run {id}"));
    let deadline = Instant::now() + Duration::from_secs(120 + items / 20);
    loop {
        let r = conn
            .request(
                "GET",
                &format!("/api/v1/jobs/{id}"),
                &[("Cookie", &cookie)],
                None,
            )
            .await
            .map_err(|e| format!("GET the run: {e}"))?;
        let job: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
        match job["status"].as_str() {
            Some("succeeded") => break,
            Some(s @ ("failed" | "cancelled" | "interrupted")) => {
                return Err(format!("the run ended {s}: {}", job["error"]))
            }
            _ if Instant::now() > deadline => {
                return Err(format!("the run had not ended after {:?}", t0.elapsed()))
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let id = JobId::parse(&id).map_err(|_| format!("{id} is no job id"))?;
    Ok((id, secs))
}

/// What the store says of a fan-out's run that ended.
async fn read_fan(store: &Store, run: &JobId, items: u64, secs: f64) -> Res<FanOut> {
    let steps = |of: &JobId, limit: u64| JobFilter {
        steps: Steps::Of(of.clone()),
        limit: limit as u32,
        ..Default::default()
    };
    let e = |e: engine::store::StoreError| e.to_string();
    let run_job = store.job(None, run).await.map_err(e)?.ok_or("no run")?;
    let groups = store.list_jobs(None, &steps(run, 10)).await.map_err(e)?;
    let group = groups.first().ok_or("the run has no step")?;
    let children: Vec<Job> = store
        .list_jobs(None, &steps(&group.id, items + 1))
        .await
        .map_err(e)?;
    let ok = children
        .iter()
        .filter(|j| j.status == JobStatus::Succeeded)
        .count() as u64;
    if ok != items || children.len() as u64 != items {
        return Err(format!(
            "{ok} of {} items succeeded, {items} expected",
            children.len()
        ));
    }
    let last_item = children.iter().filter_map(|j| j.finished_at).max();
    let end_lag_ms = match (run_job.finished_at, last_item) {
        (Some(run), Some(item)) => run - item,
        _ => return Err("the run or its items have no end time".into()),
    };
    let head = store.last_event_id().await.map_err(e)?;
    let run_events = store
        .job_events_after(run, 0, head, 1_000_000)
        .await
        .map_err(e)?;
    let run_progress = run_events
        .iter()
        .filter(|e| e.kind == EventType::Progress)
        .count() as u64;
    log(format!(
        "workflows: fan-out of {items} items in {secs:.1} s, the run ended {end_lag_ms} ms after its last item, {run_progress} progress events of the run"
    ));
    Ok(FanOut {
        items,
        secs,
        end_lag_ms,
        run_progress,
        events: head,
    })
}

/// Posts `posts` of `body` to a fresh server, each ending in `dones` jobs; the succeeded jobs
/// per second and how many succeeded.
async fn throughput_of(
    plan: &Plan,
    body: &[u8],
    posts: u64,
    dones: u64,
    tag: &str,
    round: u64,
) -> Res<(f64, u64)> {
    let c = plan.concurrency;
    log(format!(
        "workflows: {tag}, concurrency {c}, {posts} posts, round {round}"
    ));
    let dir = plan.path(&format!("workflows-{tag}-{round}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("workflows.toml");
    std::fs::write(&file, workflows_file()).map_err(|e| e.to_string())?;
    let db = dir.join("headway.db");
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &sqlite_url(&db),
        role: ProcessRole::All,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: c.min(10_000) as u32,
        log: plan.path(&format!("workflows-{tag}-{round}.log")),
        commands: None,
        workflows: Some(&file),
    })
    .await?;
    let result = drive_expecting(&[&server], c, posts, &[body], dones).await;
    let stopped = server.stop().await;
    let driven = result?;
    stopped?;
    let store = seed::open(&db, Access::Shared).await?;
    let mut outcome = settle(driven, &store).await?;
    let want = posts * dones;
    // The store's counts keep a run's steps apart (a run counts once): every job that
    // succeeded, steps included, is counted here.
    let every = JobFilter {
        statuses: vec![JobStatus::Succeeded],
        steps: Steps::All,
        limit: (want + 1).min(u32::MAX as u64) as u32,
        ..Default::default()
    };
    let all = store
        .list_jobs(None, &every)
        .await
        .map_err(|e| e.to_string())?
        .len() as u64;
    if outcome.succeeded > 0 {
        outcome.jobs_per_s *= all as f64 / outcome.succeeded as f64;
    }
    outcome.succeeded = all;
    if outcome.post_errors > 0 || outcome.succeeded < want {
        return Err(format!(
            "{} POSTs failed, {} of {want} jobs succeeded{}",
            outcome.post_errors,
            outcome.succeeded,
            outcome
                .first_error
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ));
    }
    Ok((outcome.jobs_per_s, outcome.succeeded))
}
