//! PostgreSQL: several Headway processes sharing one database, on a throwaway cluster of the
//! bench's own. Job throughput with 1 and 3 processes against the same rows written through the
//! store alone; fan-out with the subscribers on one `all` process against the same subscribers
//! split over two `web` processes (jobs run by a `worker`); and the history page's render time
//! over a long history.

use super::fanout::{self, Layout, Target};
use super::stop_all;
use super::{mib, ms, page, throughput};
use crate::plan::{log, Plan};
use crate::procs::{HeadwayOptions, ProcessRole, Server};
use crate::report::{num, ratio, Section, Table};
use crate::seed::{self, Rng};
use crate::{unix_ms, Res};
use engine::store::postgres::throwaway::Cluster;
use engine::store::{Access, Answer, Change, ProcessRow, Store};
use model::{JobStatus, Level, Progress};
use std::time::Instant;

/// The cluster's settings: PostgreSQL's defaults (durable commits), with room for every
/// process's connections.
const SETTINGS: &[&str] = &["max_connections=500"];

/// Processes sharing the database in the throughput benchmark's second measurement.
const PROCESSES: usize = 3;

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("PostgreSQL: several processes");
    let c = plan.concurrency;
    s.method = format!(
        "Headway on PostgreSQL, one database shared by several Headway processes (`--database-url \
         postgres://…`; `--role all` unless said otherwise). The bench starts a throwaway \
         cluster of its own with Debian's `pg_virtualenv` (PostgreSQL's default settings, so \
         durable commits: `fsync`, `synchronous_commit` and `full_page_writes` on; only \
         `{settings}`), on this machine's disk, and removes it at the end. Every measurement \
         below gets a fresh database on that cluster, and every Headway process is started \
         like the other benchmarks' (`--max-running` as said, `--site-root {site}`). PostgreSQL \
         shares the two cores with Headway, the bench and its client processes.",
        settings = SETTINGS.join(" "),
        site = plan.site_root.display(),
    );
    log("postgres: starting a throwaway PostgreSQL cluster");
    let cluster = match tokio::task::spawn_blocking(|| Cluster::start(SETTINGS)).await {
        Ok(Ok(cluster)) => cluster,
        Ok(Err(e)) => {
            s.fail(format!("cannot start a throwaway PostgreSQL cluster: {e}"));
            return s;
        }
        Err(e) => {
            s.fail(format!(
                "starting a throwaway PostgreSQL cluster failed: {e}"
            ));
            return s;
        }
    };

    throughput_part(&mut s, plan, &cluster, c).await;
    fanout_part(&mut s, plan, &cluster).await;
    history_part(&mut s, plan, &cluster).await;

    // Dropping the cluster waits for `pg_virtualenv` to remove it.
    let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
    if cfg!(debug_assertions) {
        s.notes.push(
            "This `headway-bench` is a debug build: the throughput baseline runs the engine's \
             store code unoptimised, in this process. Build the bench with `--release` for \
             figures to compare with a release Headway."
                .to_string(),
        );
    }
    s
}

/// Starts `n` Headway processes of `role` on the database `url`.
async fn start(
    plan: &Plan,
    url: &str,
    role: ProcessRole,
    n: usize,
    max_running: u32,
    tag: &str,
) -> Res<Vec<Server>> {
    let mut servers = Vec::new();
    for i in 0..n {
        let started = Server::headway(HeadwayOptions {
            bin: &plan.bin,
            database_url: url,
            site_root: &plan.site_root,
            data_root: &plan.path("files"),
            max_running,
            role,
            log: plan.path(&format!("pg-{tag}-{}-{i}.log", role.as_str())),
            commands: None,
            workflows: None,
        })
        .await;
        match started {
            Ok(server) => servers.push(server),
            Err(e) => {
                let _ = stop_all(servers).await;
                return Err(e);
            }
        }
    }
    Ok(servers)
}

// ---------------------------------------------------------------------------------------------
// Job throughput

async fn throughput_part(s: &mut Section, plan: &Plan, cluster: &Cluster, c: u64) {
    let jobs = plan.throughput_jobs;
    let intro = format!(
        "**Job throughput.** {jobs} no-op jobs (`demo`, `steps=1, interval_ms=0`), posted with \
         `POST /api/v1/jobs` by {c} concurrent HTTP/1.1 keep-alive clients of one session, as in \
         the job throughput benchmark, first to 1 Headway process, then to {PROCESSES} processes \
         on one database (the {c} clients spread over them round-robin), each started with \
         `--max-running {c}`; any process may run any job. One event stream of the same user, \
         on the first process, counts the `done` events: jobs/s = jobs that succeeded / (time \
         it saw the last `done` − time of the first POST). Once the processes have stopped, \
         the store (`Store::status_counts` for the session's user) must say that every job \
         `succeeded`.\n\n\
         Baseline: Headway's store alone on PostgreSQL. The bench opens the engine's own `Store` \
         on a fresh database (the same PostgreSQL backend, migrations, writer task and \
         statements Headway runs), registers itself as a process (`Store::register`), and \
         applies with `Store::apply`, in batches of {c} jobs, exactly the rows a no-op job \
         writes: `Create` (the queued jobs); `Claim` of the batch for that process (the claim \
         Headway's runner makes, with every built-in kind and its limits), which moves the jobs \
         to running; then two `Progress` samples per job (0 of 1, then 1 of 1 \"step 1 of 1\") \
         and `Transition` to succeeded, fenced by the process's id. No HTTP, no runner, no \
         event bus. Every outcome is checked, and at the end that every job succeeded.",
        jobs = num(jobs as f64, 0),
    );
    let mut measured: Vec<(usize, Option<throughput::HeadwayOutcome>)> = Vec::new();
    for n in [1, PROCESSES] {
        let hw = match headway_throughput(plan, cluster, n, c, jobs).await {
            Ok(hw) => {
                throughput::check(s, &format!("{n} process(es), concurrency {c}"), jobs, &hw);
                Some(hw)
            }
            Err(e) => {
                s.fail(format!("job throughput, {n} process(es): {e}"));
                None
            }
        };
        measured.push((n, hw));
    }
    let base = match store_baseline(cluster, c, jobs).await {
        Ok(v) => v,
        Err(e) => {
            s.fail(format!("job throughput, store alone (baseline): {e}"));
            f64::NAN
        }
    };
    let per_s =
        |o: &Option<throughput::HeadwayOutcome>| o.as_ref().map_or(f64::NAN, |o| o.jobs_per_s);
    let mut t = Table::new(&[
        "",
        "jobs/s",
        "ratio to the baseline",
        "POST latency p50 / p99 / max (ms)",
        "Headway CPU per job (ms)",
    ])
    .with_intro(intro);
    for (n, hw) in &measured {
        let name = if *n == 1 {
            "**Headway, 1 process**".to_string()
        } else {
            format!("**Headway, {n} processes**")
        };
        t.row(vec![
            name,
            format!("**{}**", num(per_s(hw), 0)),
            ratio(per_s(hw), base),
            hw.as_ref()
                .map(|h| {
                    let m = &h.post_latency_ms;
                    format!("{} / {} / {}", num(m.p50, 2), num(m.p99, 2), num(m.max, 1))
                })
                .unwrap_or_else(|| "–".into()),
            hw.as_ref()
                .and_then(|h| h.server_cpu_s)
                .map(|cpu| num(cpu * 1000.0 / jobs.max(1) as f64, 3))
                .unwrap_or_else(|| "–".into()),
        ]);
    }
    t.row(vec![
        "Headway's store alone on PostgreSQL (baseline)".into(),
        num(base, 0),
        String::new(),
        String::new(),
        String::new(),
    ]);
    s.tables.push(t);
    let one = measured.first().map_or(f64::NAN, |(_, h)| per_s(h));
    let three = measured.get(1).map_or(f64::NAN, |(_, h)| per_s(h));
    s.verdict(
        &format!("Jobs ≥ 20,000/s at concurrency {c} on PostgreSQL, {PROCESSES} processes"),
        format!(
            "{} jobs/s, {} (1 process {} jobs/s, {}; store alone {} jobs/s)",
            num(three, 0),
            ratio(three, base),
            num(one, 0),
            ratio(one, base),
            num(base, 0)
        ),
        three >= 20_000.0,
    );
}

/// Runs `n` processes on a fresh database, drives them, and reads the store once they stopped.
async fn headway_throughput(
    plan: &Plan,
    cluster: &Cluster,
    n: usize,
    c: u64,
    jobs: u64,
) -> Res<throughput::HeadwayOutcome> {
    log(format!(
        "postgres: throughput, {n} process(es), concurrency {c}, {jobs} jobs"
    ));
    let url = cluster.fresh_database().await?;
    let servers = start(
        plan,
        &url,
        ProcessRole::All,
        n,
        c.min(10_000) as u32,
        &format!("throughput-{n}"),
    )
    .await?;
    let refs: Vec<&Server> = servers.iter().collect();
    let result = throughput::drive(&refs, c, jobs, throughput::NOOP_DEMO).await;
    let stopped = stop_all(servers).await;
    let driven = result?;
    stopped?;
    let store = seed::open_url(&url, Access::Shared).await?;
    throughput::settle(driven, &store).await
}

/// Headway's store alone on a fresh PostgreSQL database: the rows of `jobs` no-op `demo` jobs,
/// claimed and finished by a registered process, `c` jobs per batch. Returns jobs/s.
async fn store_baseline(cluster: &Cluster, c: u64, jobs: u64) -> Res<f64> {
    log(format!(
        "postgres: throughput, Headway's store alone, batches of {c}, {jobs} jobs"
    ));
    let url = cluster.fresh_database().await?;
    let store = seed::open_url(&url, Access::Exclusive).await?;
    let mut rng = Rng::new(4242 + c);
    let me = store
        .register(&ProcessRow {
            id: rng.id(),
            role: "all".into(),
            build: "headway-bench".into(),
            host: "localhost".into(),
            pid: i64::from(std::process::id()),
            started_at: 0,
            heartbeat_at: 0,
            tags: Vec::new(),
            name: String::new(),
        })
        .await
        .map_err(|e| format!("registering a process: {e}"))?;
    let fence = Some(me.id.clone());
    // What Headway's runner claims with: every built-in kind, with the kinds' own limits.
    let registry = engine::kinds::Registry::builtin();
    let kinds: Vec<String> = registry.names();
    let limits: Vec<(String, u32)> = kinds
        .iter()
        .filter_map(|k| Some((k.clone(), registry.max_running(k)? as u32)))
        .collect();
    let owner: model::UserId = rng.id();
    let ids: Vec<model::JobId> = (0..jobs).map(|_| rng.id()).collect();
    let started = Instant::now();
    for batch in ids.chunks(c.max(1) as usize) {
        let now = engine::now_ms();
        let creates = batch
            .iter()
            .map(|id| Change::Create {
                owner: owner.clone(),
                job: throughput::queued_demo(id, now),
                max_queued: None,
                key: None,
                answer: Answer::none(),
            })
            .collect();
        throughput::apply(&store, creates, "creating the jobs").await?;

        let (answer, claimed) = Answer::new();
        let claim = Change::Claim {
            by: me.id.clone(),
            slots: batch.len() as u32,
            kinds: kinds.clone(),
            limits: limits.clone(),
            declared: Vec::new(),
            per_owner: u32::MAX,
            answer,
        };
        throughput::apply(&store, vec![claim], "claiming the jobs").await?;
        let claimed = claimed
            .now()
            .map_err(|e| format!("claiming the jobs: {e}"))?;
        if claimed.len() != batch.len() {
            return Err(format!(
                "claiming the jobs: {} of {} claimed",
                claimed.len(),
                batch.len()
            ));
        }

        let mut finish = Vec::with_capacity(batch.len() * 3);
        for id in batch {
            for (current, message) in [(0, ""), (1, "step 1 of 1")] {
                finish.push(Change::Progress {
                    owner: owner.clone(),
                    job_id: id.clone(),
                    progress: Progress {
                        current,
                        total: Some(1),
                        unit: "steps".to_string(),
                        message: message.to_string(),
                        level: Level::Success,
                        at: Some(engine::now_ms()),
                        said: None,
                    },
                    fence: fence.clone(),
                    answer: Answer::none(),
                });
            }
            finish.push(Change::Transition {
                owner: owner.clone(),
                job_id: id.clone(),
                to: JobStatus::Succeeded,
                error: None,
                fence: fence.clone(),
                answer: Answer::none(),
            });
        }
        throughput::apply(&store, finish, "finishing the jobs").await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let succeeded = store
        .status_counts(Some(&owner), None)
        .await
        .map_err(|e| format!("counting the jobs: {e}"))?
        .iter()
        .find(|c| c.status == JobStatus::Succeeded)
        .map_or(0, |c| c.n);
    let _ = store.deregister(&me.id).await;
    drop(store);
    if succeeded != jobs {
        return Err(format!("{succeeded} of {jobs} jobs succeeded"));
    }
    log(format!(
        "postgres: throughput, Headway's store alone {:.0} jobs/s",
        jobs as f64 / elapsed
    ));
    Ok(jobs as f64 / elapsed)
}

// ---------------------------------------------------------------------------------------------
// Fan-out

async fn fanout_part(s: &mut Section, plan: &Plan, cluster: &Cluster) {
    let interval_ms = 1000 / plan.rate;
    let steps = (plan.rate * plan.fanout_secs).max(1);
    let v = num(plan.subscribers as f64, 0);
    let intro = format!(
        "**Fan-out across processes.** The fan-out benchmark's load on PostgreSQL: {v} \
         subscribers of one user on `GET /api/v1/events`, opened at {rate}/s from {p} client \
         processes, then {j} `demo` jobs with `steps={steps}, interval_ms={interval_ms}` ({r} \
         progress samples/s each, about {secs} s); latency = time a client parsed a `progress` \
         event minus its `at` (when the job reported the sample), over every progress event at \
         every subscriber. Two layouts, each on a fresh database: **1 process** (`--role all`) \
         holding every subscriber and running the jobs; and **2 web + 1 worker**: the \
         subscribers split evenly over two `--role web` processes (the client processes \
         shared between them, at least one each), \
         the jobs posted to the first and run by a `--role worker` process, so that every event \
         reaches the subscribers through the database (written by the worker, read back by \
         each web process). Both with `--max-running {mr}`. CPU and RSS are those of all the \
         layout's Headway processes added up. Baseline: the first layout, measured in the same \
         run on the same cluster; the ratio is 2 web + 1 worker / 1 process. At this size the \
         two cores are nearly full (the client processes alone take about one), so the \
         latencies depend much on what else the machine runs (see the load average above).",
        rate = num(plan.connect_rate as f64, 0),
        p = plan.client_procs(plan.subscribers),
        j = plan.fanout_jobs,
        r = plan.rate,
        secs = plan.fanout_secs,
        mr = plan.fanout_jobs.max(16),
    );
    let Some((one, two)) = fanout_both(s, plan, cluster, "", steps, interval_ms).await else {
        return;
    };
    s.tables.push(fanout_table(&one, &two, intro));
    let p99 = |o: &fanout::Outcome| {
        o.totals
            .latency
            .percentile(99.0)
            .map(|us| us as f64 / 1000.0)
            .unwrap_or(f64::INFINITY)
    };
    s.verdict(
        &format!("Fan-out at {v} subscribers on PostgreSQL, 2 web processes: p99 latency < 50 ms"),
        format!(
            "p99 {} ms (1 process: {} ms; {})",
            num(p99(&two), 1),
            num(p99(&one), 1),
            ratio(p99(&two), p99(&one))
        ),
        p99(&two) < 50.0 && two.errors() == 0,
    );

    // A tenth of the subscribers, where the two cores are not saturated.
    let tenth = plan.subscribers / 10;
    if plan.smoke || tenth < 2 {
        return;
    }
    let mut small = plan.clone();
    small.subscribers = tenth;
    let intro = format!(
        "The same at {} subscribers (a tenth, from {} client processes), where Headway, the \
         client processes and PostgreSQL do not fill the two cores: what the way through the \
         database costs by itself.",
        num(tenth as f64, 0),
        small.client_procs(tenth),
    );
    let label = format!(" at {} subscribers", num(tenth as f64, 0));
    if let Some((one, two)) = fanout_both(s, &small, cluster, &label, steps, interval_ms).await {
        s.tables.push(fanout_table(&one, &two, intro));
    }
}

/// Both layouts at `plan.subscribers`; their failures recorded in the section.
async fn fanout_both(
    s: &mut Section,
    plan: &Plan,
    cluster: &Cluster,
    label: &str,
    steps: u64,
    interval_ms: u64,
) -> Option<(fanout::Outcome, fanout::Outcome)> {
    let single = fanout_layout(plan, cluster, false, steps, interval_ms).await;
    let split = fanout_layout(plan, cluster, true, steps, interval_ms).await;
    let (one, two) = match (single, split) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            if let Err(e) = a {
                s.fail(format!("fan-out{label}, 1 process: {e}"));
            }
            if let Err(e) = b {
                s.fail(format!("fan-out{label}, 2 web + 1 worker: {e}"));
            }
            return None;
        }
    };
    for (name, o) in [("1 process", &one), ("2 web + 1 worker", &two)] {
        if o.errors() > 0 {
            s.fail(format!(
                "fan-out{label}, {name}: {} errors ({} connections failed or broke, {} subscribers missed `done` events){}",
                o.errors(),
                o.totals.connection_errors(),
                o.totals.sum.opened.saturating_sub(o.totals.sum.complete),
                o.totals.sum.first_error.as_ref().map(|e| format!("; first: {e}")).unwrap_or_default()
            ));
        }
        if !o.complete {
            s.notes.push(format!(
                "Fan-out{label}, {name}: not every subscriber had all its `done` events when the deadline passed."
            ));
        }
        if o.totals.sum.progress > 0 && o.totals.latency.count() == 0 {
            s.fail(format!("fan-out{label}, {name}: no latency samples"));
        }
    }
    Some((one, two))
}

/// The two layouts side by side, and their ratio.
fn fanout_table(one: &fanout::Outcome, two: &fanout::Outcome, intro: String) -> Table {
    let mut t = Table::new(&["", "1 process", "2 web + 1 worker", "ratio"]).with_intro(intro);
    let mut row = |name: &str, f: &dyn Fn(&fanout::Outcome) -> String, r: String| {
        t.row(vec![name.to_string(), f(one), f(two), r]);
    };
    let (a, b) = (&one.totals, &two.totals);
    row(
        "subscribers connected",
        &|o| {
            format!(
                "{} / {}",
                num(o.totals.sum.opened as f64, 0),
                num(o.totals.sum.conns as f64, 0)
            )
        },
        String::new(),
    );
    row(
        "events delivered",
        &|o| num(o.totals.sum.events as f64, 0),
        ratio(b.sum.events as f64, a.sum.events as f64),
    );
    row(
        "delivered events/s",
        &|o| num(o.events_per_s(), 0),
        ratio(two.events_per_s(), one.events_per_s()),
    );
    row(
        "window (s): jobs start → last event",
        &|o| num(o.window_s, 1),
        ratio(two.window_s, one.window_s),
    );
    for (name, p) in [("latency p50 (ms)", 50.0), ("**latency p99 (ms)**", 99.0)] {
        row(
            name,
            &|o| ms(o.totals.latency.percentile(p)),
            ratio(
                b.latency.percentile(p).unwrap_or(0) as f64,
                a.latency.percentile(p).unwrap_or(0) as f64,
            ),
        );
    }
    row(
        "latency max (ms)",
        &|o| ms((o.totals.latency.count() > 0).then(|| o.totals.latency.max())),
        ratio(b.latency.max() as f64, a.latency.max() as f64),
    );
    row("errors", &|o| num(o.errors() as f64, 0), String::new());
    row(
        "Headway CPU (s) during the jobs",
        &|o| o.server_cpu_s.map(|c| num(c, 1)).unwrap_or("–".into()),
        ratio(
            two.server_cpu_s.unwrap_or(f64::NAN),
            one.server_cpu_s.unwrap_or(f64::NAN),
        ),
    );
    row(
        "Headway RSS (MiB) with subscribers connected",
        &|o| mib(o.rss_connected),
        ratio(
            two.rss_connected.unwrap_or(0) as f64,
            one.rss_connected.unwrap_or(0) as f64,
        ),
    );
    t
}

/// One fan-out measurement on a fresh database: one `all` process, or (`split`) two `web`
/// processes holding the subscribers and a `worker` running the jobs.
async fn fanout_layout(
    plan: &Plan,
    cluster: &Cluster,
    split: bool,
    steps: u64,
    interval_ms: u64,
) -> Res<fanout::Outcome> {
    let name = if split {
        "2 web + 1 worker"
    } else {
        "1 process"
    };
    log(format!(
        "postgres: fan-out, {name}, {} subscribers",
        plan.subscribers
    ));
    let url = cluster.fresh_database().await?;
    let max_running = plan.fanout_jobs.max(16);
    let tag = format!("fanout-{}", plan.subscribers);
    if !split {
        let servers = start(plan, &url, ProcessRole::All, 1, max_running, &tag).await?;
        let result = fanout::drive(
            plan,
            Target::Headway,
            &Layout::single(&servers[0]),
            steps,
            interval_ms,
        )
        .await;
        let stopped = stop_all(servers).await;
        let outcome = result?;
        stopped?;
        return Ok(outcome);
    }
    let mut servers = start(plan, &url, ProcessRole::Web, 2, max_running, &tag).await?;
    match start(plan, &url, ProcessRole::Worker, 1, max_running, &tag).await {
        Ok(worker) => servers.extend(worker),
        Err(e) => {
            let _ = stop_all(servers).await;
            return Err(e);
        }
    }
    let layout = Layout {
        streams: vec![&servers[0], &servers[1]],
        start: &servers[0],
        measured: servers.iter().collect(),
    };
    let result = fanout::drive(plan, Target::Headway, &layout, steps, interval_ms).await;
    drop(layout);
    let stopped = stop_all(servers).await;
    let outcome = result?;
    stopped?;
    Ok(outcome)
}

// ---------------------------------------------------------------------------------------------
// History page

async fn history_part(s: &mut Section, plan: &Plan, cluster: &Cluster) {
    let n = plan.history_jobs;
    let jobs = num(n as f64, 0);
    let intro = format!(
        "**History page.** The page benchmark's render time on PostgreSQL: `GET /` \
         (server-side rendered, the user's latest jobs) for a user with {jobs} jobs, on one \
         `--role all` process on a fresh database. The jobs are seeded while Headway is stopped \
         with the same code as the page benchmark, through Headway's own store \
         (`Store::import_history` of the PostgreSQL backend, one transaction per {chunk} jobs; \
         the same mix of kinds and statuses over 30 days), then Headway is started again on the \
         database. Baseline: the same page for a user with no jobs, on the same server and \
         database, measured in the same loop (requests alternate), and a static asset; and the \
         summary (counts and chart) a dashboard reads again as its user's jobs change status. \
         {r} measured requests each after 20 of warm-up, sequential, on one keep-alive \
         connection per user and one for the asset; time = request written → whole body read.",
        chunk = num(seed::IMPORT_CHUNK as f64, 0),
        r = plan.page_requests,
    );
    let h = match history(plan, cluster).await {
        Ok(h) => h,
        Err(e) => {
            s.fail(format!("history page: {e}"));
            return;
        }
    };
    let m = &h.measured;
    let t = page::timings(m, &jobs).with_intro(intro);
    s.tables.push(t);
    s.notes.push(format!(
        "History page: seeding {jobs} jobs into PostgreSQL took {} s; Headway then started on \
         that database in {} s.",
        num(h.seed_s, 1),
        num(h.restart_s, 2)
    ));
    s.verdict(
        &format!("History SSR p99 < 20 ms at {jobs} jobs on PostgreSQL"),
        format!(
            "p99 {} ms (0 jobs: {} ms, {})",
            num(m.page_a.p99, 2),
            num(m.page_b.p99, 2),
            ratio(m.page_a.p99, m.page_b.p99)
        ),
        m.page_a.p99 < 20.0,
    );
    page::search_verdict(s, m, &jobs, "PostgreSQL");
}

struct History {
    measured: page::Measured,
    seed_s: f64,
    restart_s: f64,
}

async fn history(plan: &Plan, cluster: &Cluster) -> Res<History> {
    let url = cluster.fresh_database().await?;
    log("postgres: history, creating two users");
    let servers = start(plan, &url, ProcessRole::All, 1, 16, "history-1").await?;
    let users = page::two_users(servers[0].addr).await;
    let stopped = stop_all(servers).await;
    let (cookie_a, cookie_b, first_job) = users?;
    stopped?;

    log(format!(
        "postgres: history, seeding {} jobs",
        plan.history_jobs
    ));
    let (newest, seed_s) = {
        let store = seed::open_url(&url, Access::Shared).await?;
        let owner = seed::owner_of(&store, &cookie_a)
            .await
            .map_err(|e| format!("finding the user of the first session: {e}"))?;
        let started = Instant::now();
        let newest =
            seed::seed_history(&store, &owner, plan.history_jobs, unix_ms() as i64).await?;
        let seed_s = started.elapsed().as_secs_f64();
        if store
            .job(Some(&owner), &crate::id(&first_job)?)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err("the first job does not belong to the first session's user".into());
        }
        check_seeded(&store, &owner, plan.history_jobs + 1).await?;
        (newest, seed_s)
    };
    log(format!(
        "postgres: history, seeded in {seed_s:.1} s; restarting Headway"
    ));

    let started = Instant::now();
    let servers = start(plan, &url, ProcessRole::All, 1, 16, "history-2").await?;
    let restart_s = started.elapsed().as_secs_f64();
    let result = page::measure(plan, servers[0].addr, &cookie_a, &cookie_b, &newest).await;
    let stopped = stop_all(servers).await;
    let measured = result?;
    stopped?;
    Ok(History {
        measured,
        seed_s,
        restart_s,
    })
}

/// The store counts `expected` jobs of the user: the seeded history went in whole.
async fn check_seeded(store: &Store, owner: &model::UserId, expected: u64) -> Res<()> {
    let total: u64 = store
        .status_counts(Some(owner), None)
        .await
        .map_err(|e| format!("counting the seeded jobs: {e}"))?
        .iter()
        .map(|c| c.n)
        .sum();
    if total != expected {
        return Err(format!(
            "the store counts {total} jobs of the user after seeding, not {expected}"
        ));
    }
    Ok(())
}
