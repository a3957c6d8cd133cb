//! Job throughput: no-op jobs (`demo`, steps=1, interval_ms=0) through their whole persisted life,
//! posted by 1 and by 64 concurrent HTTP clients; the baseline writes the same changes through
//! Headway's own store, called directly in the bench process.

use super::new_session;
use crate::http::Conn;
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, ratio, Section, Table};
use crate::seed::{self, Rng};
use crate::sse::{json_str_field, Chunked, Event, Parser};
use crate::stats::{median, Summary};
use crate::{unix_ms, Res};
use engine::store::{Access, Answer, Change, Store};
use model::{Job, JobId, JobStatus, Level, Progress, UserId};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

pub(crate) struct HeadwayOutcome {
    pub jobs: u64,
    pub post_errors: u64,
    pub first_error: Option<String>,
    pub succeeded: u64,
    pub done_events: u64,
    pub jobs_per_s: f64,
    pub post_latency_ms: Summary,
    /// CPU time of the Headway processes, all together, while the jobs were posted and run.
    pub server_cpu_s: Option<f64>,
}

/// A Headway binary the benchmark runs: the one under test, or one it is compared with.
struct Binary<'a> {
    path: &'a Path,
    /// How the report names it: `Headway` or `Headway (<label>)`.
    name: String,
    /// Distinguishes its files in the work directory.
    tag: String,
}

/// What one concurrency measured: each binary's rounds (in `run`'s order of binaries) and the
/// store alone's.
struct AtLevel {
    c: u64,
    jobs: u64,
    rounds: Vec<Vec<Option<HeadwayOutcome>>>,
    base: Vec<f64>,
}

impl AtLevel {
    /// Binary `i`'s jobs/s, median of the rounds.
    fn per_s(&self, i: usize) -> f64 {
        median(self.rounds[i].iter().map(jobs_per_s).collect())
    }

    /// The store alone's jobs/s, median of the rounds.
    fn base(&self) -> f64 {
        median(self.base.clone())
    }

    /// The median of binary `i`'s figure `f` over the rounds.
    fn of(&self, i: usize, f: impl Fn(&HeadwayOutcome) -> Option<f64>) -> f64 {
        median(self.rounds[i].iter().flatten().filter_map(f).collect())
    }
}

fn jobs_per_s(o: &Option<HeadwayOutcome>) -> f64 {
    o.as_ref().map_or(f64::NAN, |o| o.jobs_per_s)
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Job throughput");
    let c = plan.concurrency;
    let rounds = plan.throughput_rounds.max(1);
    let mut bins = vec![Binary {
        path: &plan.bin,
        name: "Headway".to_string(),
        tag: "main".to_string(),
    }];
    bins.extend(
        plan.compared
            .iter()
            .enumerate()
            .map(|(i, (path, label))| Binary {
                path,
                name: format!("Headway ({label})"),
                tag: format!("compare{i}"),
            }),
    );
    let compare = match &bins[1..] {
        [] => String::new(),
        others => format!(
            " {} run the same way at each concurrency, each on a database of its own, and \
             compared with the same baseline measurement.",
            others
                .iter()
                .map(|b| format!("{} (`{}`)", b.name, b.path.display()))
                .collect::<Vec<_>>()
                .join(", ")
                + if others.len() == 1 { " is" } else { " are" }
        ),
    };
    let rounds_text = match rounds {
        1 => String::new(),
        n => format!(
            "\n\n{n} rounds at each concurrency, each of every binary and then the store alone; \
             the binary that goes first turns from round to round. The table gives the medians, \
             each round's figures, and the median of the rounds' pairs (two builds in the same \
             round, one after the other)."
        ),
    };
    s.method = format!(
        "No-op jobs (`demo`, `steps=1, interval_ms=0`: queued → running → succeeded, with their \
         `job`, `progress` and `done` events), posted with `POST /api/v1/jobs` by 1 and by {c} \
         concurrent HTTP/1.1 keep-alive clients of one session, Headway started with \
         `--max-running {c}` and the same per-user running share (`--max-running-per-user {c}`, \
         for a build that has one), so that the one user may fill every slot as the jobs of \
         many users would: the figure is the job path's, not the share's. Jobs/s = jobs that \
         succeeded / (time the SSE stream of the same user saw the last job's `done` − time of \
         the first POST); that stream checks that a `done` arrives for every job, and the store, \
         read once the server has stopped (`Store::status_counts` for the session's user), that \
         every job `succeeded`.{compare}\n\n\
         Baseline: Headway's store alone. The bench opens a fresh database with the engine's own \
         `Store` (`engine::store`, the store code Headway runs: the same SQLite backend, \
         migrations, settings and writer thread) and applies, with `Store::apply`, exactly the \
         changes a no-op job makes in Headway: `Create` (the queued job), `Transition` to \
         running, two `Progress` samples (0 of 1, then 1 of 1 \"step 1 of 1\"), `Transition` to \
         succeeded. No HTTP, no runner, no writer task (`engine::committer`), no event bus: the \
         store called directly. At concurrency 1 that is 3 batches (transactions) per job; at \
         {c} the same 3 batches carry {c} jobs each (creates; moves to running; progress samples \
         and moves to succeeded), the best batching Headway's writer could reach. Every outcome \
         is checked, and at the end that every job succeeded.{rounds_text}",
    );
    let mut levels = Vec::new();
    for (c, jobs) in [(1, plan.serial_jobs), (c, plan.throughput_jobs)] {
        let mut level = AtLevel {
            c,
            jobs,
            rounds: bins.iter().map(|_| Vec::new()).collect(),
            base: Vec::new(),
        };
        for round in 0..rounds {
            for k in 0..bins.len() {
                let i = (k + round as usize) % bins.len();
                let hw = measure_headway(&mut s, plan, &bins[i], c, jobs, round).await;
                level.rounds[i].push(hw);
            }
            match store_baseline(plan, c, jobs, round).await {
                Ok(v) => level.base.push(v),
                Err(e) => s.fail(format!(
                    "Headway's store alone (baseline) at concurrency {c}: {e}"
                )),
            }
        }
        levels.push(level);
    }
    let mut header = vec![String::new()];
    header.extend(
        levels
            .iter()
            .map(|l| format!("concurrency {} ({} jobs)", l.c, num(l.jobs as f64, 0))),
    );
    let mut t = Table {
        headers: header,
        ..Table::default()
    };
    let mut row = |name: &str, f: &dyn Fn(&AtLevel) -> String| {
        let mut r = vec![name.to_string()];
        r.extend(levels.iter().map(f));
        t.row(r);
    };
    row("**Headway**, jobs/s", &|l| {
        format!("**{}**", num(l.per_s(0), 0))
    });
    for (i, b) in bins.iter().enumerate().skip(1) {
        row(&format!("{}, jobs/s", b.name), &|l| num(l.per_s(i), 0));
    }
    row("Headway's store alone (baseline), jobs/s", &|l| {
        num(l.base(), 0)
    });
    row("ratio Headway / baseline", &|l| ratio(l.per_s(0), l.base()));
    for (i, b) in bins.iter().enumerate().skip(1) {
        row(&format!("ratio {} / baseline", b.name), &|l| {
            ratio(l.per_s(i), l.base())
        });
    }
    if rounds > 1 {
        let names: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
        row(
            &format!("each round, {} / store alone (jobs/s)", names.join(" / ")),
            &|l| {
                (0..rounds as usize)
                    .map(|r| {
                        let mut figures: Vec<String> = (0..bins.len())
                            .map(|i| num(jobs_per_s(&l.rounds[i][r]), 0))
                            .collect();
                        figures.push(l.base.get(r).map_or("–".into(), |v| num(*v, 0)));
                        figures.join(" / ")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        for (i, b) in bins.iter().enumerate().skip(1) {
            row(
                &format!("Headway / {}, median of the rounds' pairs", b.name),
                &|l| {
                    let pairs = (0..rounds as usize)
                        .map(|r| jobs_per_s(&l.rounds[0][r]) / jobs_per_s(&l.rounds[i][r]))
                        .collect();
                    format!("{:.2}", median(pairs))
                },
            );
        }
    }
    row(
        "Headway POST latency p50 / p99 / max (ms)",
        &|l| match l.rounds[0].iter().flatten().count() {
            0 => "–".into(),
            _ => format!(
                "{} / {} / {}",
                num(l.of(0, |o| Some(o.post_latency_ms.p50)), 2),
                num(l.of(0, |o| Some(o.post_latency_ms.p99)), 2),
                num(l.of(0, |o| Some(o.post_latency_ms.max)), 1)
            ),
        },
    );
    row("Headway server CPU per job (ms)", &|l| {
        let cpu = l.of(0, |o| o.server_cpu_s);
        match cpu.is_finite() {
            true => num(cpu * 1000.0 / l.jobs as f64, 3),
            false => "–".into(),
        }
    });
    s.tables.push(t);
    if cfg!(debug_assertions) {
        s.notes.push(
            "This `headway-bench` is a debug build: the baseline runs the engine's store code \
             unoptimised, in this process. Build the bench with `--release` for figures to \
             compare with a release Headway."
                .to_string(),
        );
    }
    if let Some(l) = levels.iter().find(|l| l.c == plan.concurrency) {
        let hw = l.per_s(0);
        let mut measured = format!(
            "{} jobs/s (Headway's store alone {} jobs/s, {}",
            num(hw, 0),
            num(l.base(), 0),
            ratio(hw, l.base())
        );
        for (i, b) in bins.iter().enumerate().skip(1) {
            let v = l.per_s(i);
            measured.push_str(&format!(
                "; {} {} jobs/s, {}",
                b.name,
                num(v, 0),
                ratio(v, l.base())
            ));
        }
        measured.push(')');
        s.verdict(
            &format!("Jobs ≥ 20,000/s at concurrency {}", plan.concurrency),
            measured,
            hw >= 20_000.0,
        );
    }
    s
}

/// Runs one binary at one concurrency and records its failures in the section.
async fn measure_headway(
    s: &mut Section,
    plan: &Plan,
    bin: &Binary<'_>,
    c: u64,
    jobs: u64,
    round: u64,
) -> Option<HeadwayOutcome> {
    let hw = match headway(plan, bin, c, jobs, round).await {
        Ok(o) => o,
        Err(e) => {
            s.fail(format!("{} at concurrency {c}: {e}", bin.name));
            return None;
        }
    };
    check(s, &format!("{} at concurrency {c}", bin.name), jobs, &hw);
    Some(hw)
}

/// Records in the section a run in which a POST failed or a job did not succeed (or its `done`
/// was not seen).
pub(crate) fn check(s: &mut Section, what: &str, jobs: u64, hw: &HeadwayOutcome) {
    if hw.post_errors > 0 || hw.succeeded < jobs || hw.done_events < jobs {
        s.fail(format!(
            "{what}: {} of {} POSTs failed, {} succeeded, {} `done` events seen{}",
            hw.post_errors,
            hw.jobs,
            hw.succeeded,
            hw.done_events,
            hw.first_error
                .as_ref()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ));
    }
}

async fn headway(
    plan: &Plan,
    bin: &Binary<'_>,
    c: u64,
    jobs: u64,
    round: u64,
) -> Res<HeadwayOutcome> {
    log(format!(
        "throughput: {}, concurrency {c}, {jobs} jobs",
        bin.name
    ));
    let db = plan.path(&format!("throughput-{}-{c}-{round}.db", bin.tag));
    let server = Server::headway(HeadwayOptions {
        bin: bin.path,
        database_url: &sqlite_url(&db),
        role: ProcessRole::All,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: plan.concurrency.min(10_000) as u32,
        log: plan.path(&format!("throughput-{}-{c}-{round}.log", bin.tag)),
        commands: None,
        workflows: None,
    })
    .await?;
    let result = drive(&[&server], c, jobs, NOOP_DEMO).await;
    let stopped = server.stop().await;
    let driven = result?;
    stopped?;
    // What the store says, once the server has written everything and stopped: through
    // Headway's own store, `Shared` (the server's lock is for servers), dropped at once.
    let store = seed::open(&db, Access::Shared).await?;
    settle(driven, &store).await
}

/// Completes what driving the servers gave with what the store says, read once they have
/// stopped: how many of the session's jobs succeeded (`Store::status_counts`), and so jobs/s.
pub(crate) async fn settle(driven: Driven, store: &Store) -> Res<HeadwayOutcome> {
    let Driven {
        mut outcome,
        first_post_ms,
        last_done_ms,
        cookie,
    } = driven;
    let owner = seed::owner_of(store, &cookie)
        .await
        .map_err(|e| format!("finding the session's user: {e}"))?;
    let counts = store
        .status_counts(Some(&owner), None)
        .await
        .map_err(|e| format!("counting the jobs: {e}"))?;
    let total: u64 = counts.iter().map(|c| c.n).sum();
    let succeeded = counts
        .iter()
        .find(|c| c.status == JobStatus::Succeeded)
        .map_or(0, |c| c.n);
    outcome.succeeded = succeeded;
    outcome.jobs_per_s = match last_done_ms {
        Some(last) => succeeded as f64 / ((last - first_post_ms) / 1000.0).max(0.001),
        None => f64::NAN,
    };
    log(format!(
        "throughput: {total} jobs, {succeeded} succeeded, {:.0} jobs/s",
        outcome.jobs_per_s
    ));
    Ok(outcome)
}

/// What driving the servers gave, before the store is read.
pub(crate) struct Driven {
    pub outcome: HeadwayOutcome,
    /// Unix ms of the first POST.
    pub first_post_ms: f64,
    /// Unix ms at which the event stream saw the last `done` (the count reached its final
    /// value); `None` if it saw none.
    pub last_done_ms: Option<f64>,
    /// The session's cookie (`headway_session=…`).
    pub cookie: String,
}

/// The body of `POST /api/v1/jobs` for a no-op `demo` job.
pub(crate) const NOOP_DEMO: &[u8] = br#"{"kind":"demo","params":{"steps":1,"interval_ms":0}}"#;

/// Posts the jobs (`body` each) and waits for their `done` events; returns the outcome (without the store's
/// figures), the times of the first POST and of the last `done`, and the session's cookie.
/// With several servers (processes sharing one database), the session is made on the first,
/// the `c` clients are spread over them round-robin, and the event stream is on the first.
pub(crate) async fn drive(servers: &[&Server], c: u64, jobs: u64, body: &[u8]) -> Res<Driven> {
    drive_mixed(servers, c, jobs, &[body]).await
}

/// [`drive`], the `n`-th job posted with `bodies[n % bodies.len()]`.
pub(crate) async fn drive_mixed(
    servers: &[&Server],
    c: u64,
    jobs: u64,
    bodies: &[&[u8]],
) -> Res<Driven> {
    drive_expecting(servers, c, jobs, bodies, 1).await
}

/// [`drive_mixed`], each post ending in `dones` jobs (a workflow's run: its steps and itself).
pub(crate) async fn drive_expecting(
    servers: &[&Server],
    c: u64,
    jobs: u64,
    bodies: &[&[u8]],
    dones: u64,
) -> Res<Driven> {
    let dones_per_post = dones.max(1);
    if bodies.is_empty() {
        return Err("no body to post".into());
    }
    let addr = servers.first().ok_or("no server to drive")?.addr;
    let cookie = new_session(addr).await?;
    let stop = CancellationToken::new();
    let dones = Arc::new(AtomicU64::new(0));
    let last_done = Arc::new(AtomicU64::new(0));
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let watcher = tokio::spawn(watch_done(
        addr,
        cookie.clone(),
        Arc::clone(&dones),
        Arc::clone(&last_done),
        stop.clone(),
        opened_tx,
    ));
    tokio::time::timeout(Duration::from_secs(30), opened_rx)
        .await
        .map_err(|_| "the event stream did not open within 30 s".to_string())?
        .map_err(|_| "the event stream failed to open".to_string())??;

    let mut conns = Vec::new();
    for i in 0..c {
        let addr = servers[i as usize % servers.len()].addr;
        conns.push((
            addr,
            Conn::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?,
        ));
    }
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(jobs as usize)));
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(bodies.iter().map(|b| b.to_vec()).collect());
    let cpu = || -> Option<f64> { servers.iter().map(|s| s.cpu_secs()).sum() };
    let cpu_before = cpu();
    let t0 = unix_ms();
    let mut tasks = Vec::new();
    for (addr, mut conn) in conns {
        let (next, errors, first_error, latencies, cookie, body) = (
            Arc::clone(&next),
            Arc::clone(&errors),
            Arc::clone(&first_error),
            Arc::clone(&latencies),
            cookie.clone(),
            Arc::clone(&bodies),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= jobs {
                    break;
                }
                let body = &body[(n % body.len() as u64) as usize];
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
    let expected = (jobs - post_errors) * dones_per_post;
    let deadline = Instant::now() + Duration::from_secs(60 + expected / 200);
    while dones.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = cpu();
    stop.cancel();
    let _ = watcher.await;
    let latencies = latencies.lock().unwrap().clone();
    let first_error = first_error.lock().unwrap().clone();
    let last_done_ms = f64::from_bits(last_done.load(Ordering::Acquire));
    Ok(Driven {
        outcome: HeadwayOutcome {
            jobs,
            post_errors,
            first_error,
            succeeded: 0,
            done_events: dones.load(Ordering::Relaxed),
            jobs_per_s: f64::NAN,
            post_latency_ms: Summary::of(&latencies),
            server_cpu_s: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        },
        first_post_ms: t0,
        last_done_ms: (last_done_ms > 0.0).then_some(last_done_ms),
        cookie,
    })
}

/// Counts `done` events with status `succeeded` on the user's stream, and keeps in `last_done`
/// (the bits of an `f64`) the Unix ms at which the count reached its current value: once every
/// job is done, the time the count reached the number of jobs.
pub(crate) async fn watch_done(
    addr: SocketAddr,
    cookie: String,
    dones: Arc<AtomicU64>,
    last_done: Arc<AtomicU64>,
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
                    last_done.store(unix_ms().to_bits(), Ordering::Release);
                    dones.fetch_add(1, Ordering::Release);
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

/// Headway's store alone: the changes of `jobs` no-op `demo` jobs applied with the engine's own
/// [`Store`] on a fresh database, `c` jobs per batch, in this process (no HTTP, no runner, no
/// writer task). Returns jobs/s.
async fn store_baseline(plan: &Plan, c: u64, jobs: u64, round: u64) -> Res<f64> {
    log(format!(
        "throughput: Headway's store alone, batches of {c}, {jobs} jobs"
    ));
    let db = plan.path(&format!("store-baseline-{c}-{round}.db"));
    let store = seed::open(&db, Access::Exclusive).await?;
    let mut rng = Rng::new(42 + c);
    let owner: UserId = rng.id();
    let ids: Vec<JobId> = (0..jobs).map(|_| rng.id()).collect();
    let started = Instant::now();
    for batch in ids.chunks(c.max(1) as usize) {
        let now = engine::now_ms();
        let creates = batch
            .iter()
            .map(|id| Change::Create {
                owner: owner.clone(),
                job: queued_demo(id, now),
                max_queued: None,
                key: None,
                answer: Answer::none(),
            })
            .collect();
        apply(&store, creates, "creating the jobs").await?;

        let running = batch
            .iter()
            .map(|id| transition(&owner, id, JobStatus::Running))
            .collect();
        apply(&store, running, "starting the jobs").await?;

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
                    fence: None,
                    answer: Answer::none(),
                });
            }
            finish.push(transition(&owner, id, JobStatus::Succeeded));
        }
        apply(&store, finish, "finishing the jobs").await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let succeeded = store
        .status_counts(Some(&owner), None)
        .await
        .map_err(|e| format!("counting the jobs: {e}"))?
        .iter()
        .find(|c| c.status == JobStatus::Succeeded)
        .map_or(0, |c| c.n);
    drop(store);
    if succeeded != jobs {
        return Err(format!("{succeeded} of {jobs} jobs succeeded"));
    }
    log(format!(
        "throughput: Headway's store alone {:.0} jobs/s",
        jobs as f64 / elapsed
    ));
    Ok(jobs as f64 / elapsed)
}

/// A new `demo` job as Headway creates it for `{"steps":1,"interval_ms":0}`: queued, no progress
/// yet (the store assigns its event id).
pub(crate) fn queued_demo(id: &JobId, now: i64) -> Job {
    Job::queued(
        id.clone(),
        "demo",
        json!({"steps": 1, "interval_ms": 0}),
        now,
    )
}

pub(crate) fn transition(owner: &UserId, id: &JobId, to: JobStatus) -> Change {
    Change::Transition {
        owner: owner.clone(),
        job_id: id.clone(),
        to,
        error: None,
        fence: None,
        answer: Answer::none(),
    }
}

/// Applies one batch and checks that none of its changes failed. (A move the state machine
/// refused is not a failure: the run's count of succeeded jobs at its end finds it.)
pub(crate) async fn apply(store: &Store, changes: Vec<Change>, what: &str) -> Res<()> {
    let applied = store
        .apply(changes)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    match applied.failed {
        0 => Ok(()),
        n => Err(format!("{what}: the database refused {n} changes")),
    }
}
