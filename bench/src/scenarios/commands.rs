//! Commands: what running a program as a kind costs. Jobs of a command that runs `true`, posted
//! at concurrency 16, against a bare `tokio::process` loop spawning the same program; and a
//! command that prints a million lines, every one stored and streamed, against Headway's store
//! appending the same lines alone, with Headway's RSS sampled while the lines go through. On
//! SQLite, then on PostgreSQL.

use super::{mib, throughput};
use crate::http::Conn;
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, RssSampler, RssSpan, Server};
use crate::report::{num, ratio, Section, Table};
use crate::seed::{self, Rng};
use crate::sse::{json_str_field, Chunked, Event, Parser};
use crate::stats::median;
use crate::Res;
use engine::store::batch::MAX_BATCH;
use engine::store::postgres::throwaway::Cluster;
use engine::store::{Access, Answer, Change, Store};
use model::{JobId, JobStatus, LogLevel, UserId};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Jobs running at once, in Headway (`--max-running`) and in the spawn loop.
const CONCURRENCY: u64 = 16;

/// How far Headway's RSS may rise while the lines go through, in KiB.
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// How often RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The throwaway cluster's settings: PostgreSQL's defaults (durable commits).
const SETTINGS: &[&str] = &["max_connections=200"];

/// Lines read back from the store per query when checking them.
const CHECK_PAGE: u32 = 10_000;

/// The commands file Headway is started with: `bench_true` runs `true`, `bench_lines` runs
/// `seq 1 N`.
fn commands_file(true_bin: &Path, seq_bin: &Path) -> String {
    format!(
        "[[command]]\n\
         name = \"bench_true\"\n\
         program = \"{true_bin}\"\n\
         \n\
         [[command]]\n\
         name = \"bench_lines\"\n\
         program = \"{seq_bin}\"\n\
         args = [\"1\", \"{{lines}}\"]\n\
         \n\
         [command.params.lines]\n\
         type = \"integer\"\n\
         min = 1\n\
         max = 100000000\n",
        true_bin = true_bin.display(),
        seq_bin = seq_bin.display(),
    )
}

/// The first of `names` that exists: where this machine keeps a coreutils program.
fn program(names: &[&str]) -> Res<PathBuf> {
    names
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| format!("none of {} exists", names.join(", ")))
}

/// What one backend measured, round after round.
#[derive(Debug, Default)]
struct Measured {
    /// Jobs/s of Headway running `true`, and of the bare spawn loop.
    spawn_headway: Vec<f64>,
    spawn_baseline: Vec<f64>,
    /// Headway's CPU seconds per job of `true`.
    spawn_cpu_ms: Vec<f64>,
    /// Lines/s of Headway (stored and streamed), and of the store alone.
    lines_headway: Vec<f64>,
    lines_baseline: Vec<f64>,
    /// Headway's RSS while the lines went through, each round.
    rss: Vec<RssSpan>,
}

impl Measured {
    fn spawn_ratio(&self) -> f64 {
        median(self.spawn_headway.clone()) / median(self.spawn_baseline.clone())
    }

    fn lines_ratio(&self) -> f64 {
        median(self.lines_headway.clone()) / median(self.lines_baseline.clone())
    }

    fn rss_before(&self) -> Option<u64> {
        self.rss.first()?.before
    }

    fn rss_peak(&self) -> Option<u64> {
        self.rss.iter().filter_map(|r| r.peak).max()
    }

    fn rss_increase(&self) -> Option<u64> {
        self.rss.iter().filter_map(RssSpan::increase).max()
    }
}

/// Where a backend's databases are: Headway's, and a fresh one for each store-alone round.
enum Db<'a> {
    Sqlite,
    Postgres(&'a Cluster),
}

impl Db<'_> {
    /// The lines the log benchmark prints on this backend.
    fn lines(&self, plan: &Plan) -> u64 {
        match self {
            Db::Sqlite => plan.command_lines,
            Db::Postgres(_) => plan.command_lines_postgres,
        }
    }

    async fn url(&self, plan: &Plan, name: &str) -> Res<String> {
        match self {
            Db::Sqlite => Ok(sqlite_url(&plan.path(&format!("{name}.db")))),
            Db::Postgres(cluster) => cluster
                .fresh_database()
                .await
                .map_err(|e| format!("a fresh database: {e}")),
        }
    }
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Commands");
    s.method = method(plan);
    let programs = program(&["/usr/bin/true", "/bin/true"])
        .and_then(|t| Ok((t, program(&["/usr/bin/seq", "/bin/seq"])?)));
    let (true_bin, seq_bin) = match programs {
        Ok(p) => p,
        Err(e) => {
            s.fail(format!("coreutils: {e}"));
            return s;
        }
    };
    let file = plan.path("commands.toml");
    if let Err(e) = std::fs::write(&file, commands_file(&true_bin, &seq_bin)) {
        s.fail(format!("cannot write {}: {e}", file.display()));
        return s;
    }
    let setup = Setup {
        file: &file,
        true_bin: &true_bin,
    };
    let mut t = Table::new(&[
        "",
        "Headway",
        "baseline",
        "Headway / baseline",
        "each round, Headway / baseline",
        "Headway RSS before → peak (MiB)",
        "Headway RSS increase (MiB)",
    ]);
    let sqlite = backend(plan, &setup, "sqlite", &Db::Sqlite).await;
    report(&mut s, &mut t, plan.command_lines, "SQLite", sqlite);

    log("commands: starting a throwaway PostgreSQL cluster");
    let postgres = match tokio::task::spawn_blocking(|| Cluster::start(SETTINGS)).await {
        Ok(Ok(cluster)) => {
            let measured = backend(plan, &setup, "postgres", &Db::Postgres(&cluster)).await;
            // Dropping the cluster waits for `pg_virtualenv` to remove it.
            let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
            measured
        }
        Ok(Err(e)) => Err(format!("cannot start a throwaway PostgreSQL cluster: {e}")),
        Err(e) => Err(format!(
            "starting a throwaway PostgreSQL cluster failed: {e}"
        )),
    };
    report(
        &mut s,
        &mut t,
        plan.command_lines_postgres,
        "PostgreSQL",
        postgres,
    );
    if !t.rows.is_empty() {
        s.tables.push(t);
    }
    if cfg!(debug_assertions) {
        s.notes.push(
            "This `headway-bench` is a debug build: the baselines run unoptimised, in this \
             process. Build the bench with `--release` for figures to compare with a release \
             Headway."
                .to_string(),
        );
    }
    s
}

fn method(plan: &Plan) -> String {
    format!(
        "Headway is started with `--commands FILE`, `--max-running {CONCURRENCY}` and a file \
         of two commands: `bench_true` runs coreutils' `true`, `bench_lines` runs \
         `seq 1 {{lines}}`. Each runs as every command does: its own process group, a fresh \
         working folder, a cleared environment, stdout and stderr read line by line into the \
         job's log, file descriptor 3 read for progress.\n\n\
         **Spawn.** {jobs} jobs of `bench_true` are posted with `POST /api/v1/jobs` by \
         {CONCURRENCY} concurrent HTTP/1.1 keep-alive clients of one session; jobs/s = jobs that \
         succeeded / (time the SSE stream of the same user saw the last job's `done` − time of \
         the first POST), and the store, read once the server has stopped, must say that every \
         one succeeded (as in the job throughput benchmark). Baseline: a bare loop in this \
         process, {CONCURRENCY} tasks spawning the same `true` {jobs} times in all with \
         `tokio::process::Command` (stdin, stdout and stderr to /dev/null) and waiting for each \
         to exit 0. Headway's figure includes what the loop does not: the HTTP request, the job \
         written through its life (created, running, succeeded, with its log lines), the pipes \
         read and the events sent.\n\n\
         **Lines.** One job of `bench_lines` with `lines = {lines}` ({pg_lines} on PostgreSQL, \
         whose store appends a job's log lines several times slower: see the store-alone \
         figures): its log is read live from \
         its own event stream (`GET /api/v1/jobs/{{id}}/events`, opened right after the POST), \
         which must carry the {lines} lines of `seq`, in order and each once, before the job's \
         `done`; lines/s = {lines} / (time of that `done` − time of the POST). Once the server \
         has stopped, the store must hold the same lines in order (`log_lines`, paged), with \
         seq numbers without gaps. Baseline: Headway's store alone, opened in this process on a \
         fresh database (the engine's own `Store`: the same backend, migrations and settings): a \
         job created and set running, then the same {lines} lines appended with `Store::apply` \
         as `Change::Log`, {MAX_BATCH} per batch (the most Headway's writer puts in one \
         transaction), then the job set succeeded. RSS is VmRSS of /proc/PID/status of Headway, \
         sampled every 50 ms from the POST to the `done`: before = the first sample of the first \
         round, peak = the highest of any round, increase = the largest rise within a round, \
         against a bound of 64 MiB.\n\n\
         {rounds} rounds of each, the baseline first, on one Headway per backend; the table \
         gives the medians, their ratio and every round. SQLite (a fresh file), then PostgreSQL \
         (a fresh database of a throwaway cluster of the bench's own, started with \
         `pg_virtualenv`: PostgreSQL's default, durable settings; each store-alone round on a \
         fresh database of its own).",
        jobs = num(plan.command_jobs as f64, 0),
        lines = num(plan.command_lines as f64, 0),
        pg_lines = num(plan.command_lines_postgres as f64, 0),
        rounds = plan.command_rounds,
    )
}

/// The rows and targets of one backend.
fn report(s: &mut Section, t: &mut Table, lines: u64, db: &str, measured: Res<Measured>) {
    let m = match measured {
        Ok(m) => m,
        Err(e) => {
            s.fail(format!("{db}: {e}"));
            return;
        }
    };
    let rounds = |h: &[f64], b: &[f64]| {
        h.iter()
            .zip(b)
            .map(|(h, b)| format!("{} / {}", num(*h, 0), num(*b, 0)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (spawn_h, spawn_b) = (
        median(m.spawn_headway.clone()),
        median(m.spawn_baseline.clone()),
    );
    let (lines_h, lines_b) = (
        median(m.lines_headway.clone()),
        median(m.lines_baseline.clone()),
    );
    t.row(vec![
        format!(
            "**{db}: `true`**, jobs/s at concurrency {CONCURRENCY} (baseline: a bare spawn loop)"
        ),
        format!("**{}**", num(spawn_h, 0)),
        num(spawn_b, 0),
        ratio(spawn_h, spawn_b),
        rounds(&m.spawn_headway, &m.spawn_baseline),
        "–".into(),
        "–".into(),
    ]);
    t.row(vec![
        format!(
            "**{db}: {} lines**, lines/s stored and streamed (baseline: the store alone)",
            num(lines as f64, 0)
        ),
        format!("**{}**", num(lines_h, 0)),
        num(lines_b, 0),
        ratio(lines_h, lines_b),
        rounds(&m.lines_headway, &m.lines_baseline),
        format!("{} → {}", mib(m.rss_before()), mib(m.rss_peak())),
        mib(m.rss_increase()),
    ]);
    s.notes.push(format!(
        "{db}: Headway's CPU per job of `true` (its own process, not the program's): {} ms \
         (median of the rounds).",
        num(median(m.spawn_cpu_ms.clone()), 3)
    ));
    s.verdict(
        &format!("Commands on {db}: jobs of `true` at concurrency {CONCURRENCY} ≥ 0.8× a bare spawn loop"),
        format!(
            "{} vs {} jobs/s = {}",
            num(spawn_h, 0),
            num(spawn_b, 0),
            ratio(spawn_h, spawn_b)
        ),
        m.spawn_ratio() >= 0.8,
    );
    s.verdict(
        &format!(
            "Commands on {db}: {} log lines stored and streamed ≥ 0.5× the store alone",
            num(lines as f64, 0)
        ),
        format!(
            "{} vs {} lines/s = {}",
            num(lines_h, 0),
            num(lines_b, 0),
            ratio(lines_h, lines_b)
        ),
        m.lines_ratio() >= 0.5,
    );
    let increase = m.rss_increase();
    s.verdict(
        &format!("Commands on {db}: RSS rises < 64 MiB while the lines go through"),
        format!(
            "+{} MiB ({} → {} MiB)",
            mib(increase),
            mib(m.rss_before()),
            mib(m.rss_peak())
        ),
        increase.is_some_and(|kib| kib < RSS_BOUND_KIB),
    );
}

/// The commands file and the `true` the baseline spawns.
struct Setup<'a> {
    file: &'a Path,
    true_bin: &'a Path,
}

/// One backend: Headway with the commands, measured round after round next to the baselines,
/// then stopped and its store checked.
async fn backend(plan: &Plan, setup: &Setup<'_>, tag: &str, db: &Db<'_>) -> Res<Measured> {
    let url = db.url(plan, &format!("commands-{tag}")).await?;
    log(format!("commands: {tag}, starting Headway"));
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &url,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: CONCURRENCY as u32,
        role: ProcessRole::All,
        log: plan.path(&format!("commands-{tag}.log")),
        commands: Some(setup.file),
        workflows: None,
    })
    .await?;
    let result = rounds(plan, setup, tag, db, &server).await;
    let stopped = server.stop().await;
    let (measured, jobs) = result?;
    stopped?;
    // What the store says, once the server has written everything and stopped.
    let store = seed::open_url(&url, Access::Shared).await?;
    for driven in jobs.spawns {
        let outcome = throughput::settle(driven, &store).await?;
        if outcome.succeeded < plan.command_jobs || outcome.post_errors > 0 {
            return Err(format!(
                "jobs of `true`: {} of {} POSTs failed, {} succeeded{}",
                outcome.post_errors,
                outcome.jobs,
                outcome.succeeded,
                outcome
                    .first_error
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    for id in &jobs.lines {
        check_stored(&store, id, db.lines(plan)).await?;
    }
    Ok(measured)
}

/// The jobs a backend's rounds ran, to check in the store once the server has stopped.
#[derive(Default)]
struct Ran {
    spawns: Vec<throughput::Driven>,
    lines: Vec<String>,
}

async fn rounds(
    plan: &Plan,
    setup: &Setup<'_>,
    tag: &str,
    db: &Db<'_>,
    server: &Server,
) -> Res<(Measured, Ran)> {
    let mut m = Measured::default();
    let mut ran = Ran::default();
    let n = db.lines(plan);
    let body = br#"{"kind":"bench_true","params":{}}"#;
    for round in 1..=plan.command_rounds {
        log(format!(
            "commands: {tag}, round {round}: a bare spawn loop, {} × `true`",
            plan.command_jobs
        ));
        m.spawn_baseline
            .push(spawn_loop(setup.true_bin, plan.command_jobs).await?);
        log(format!(
            "commands: {tag}, round {round}: Headway, {} jobs of `true`",
            plan.command_jobs
        ));
        let cpu_before = server.cpu_secs();
        let driven = throughput::drive(&[server], CONCURRENCY, plan.command_jobs, body).await?;
        let cpu = server.cpu_secs().zip(cpu_before).map(|(a, b)| a - b);
        let o = &driven.outcome;
        if o.post_errors > 0 || o.done_events < plan.command_jobs {
            return Err(format!(
                "jobs of `true`: {} POSTs failed, {} of {} `done` events seen{}",
                o.post_errors,
                o.done_events,
                plan.command_jobs,
                o.first_error
                    .as_ref()
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default()
            ));
        }
        let last = driven
            .last_done_ms
            .ok_or("no `done` seen for the jobs of `true`")?;
        m.spawn_headway
            .push(plan.command_jobs as f64 / ((last - driven.first_post_ms) / 1000.0).max(0.001));
        if let Some(cpu) = cpu {
            m.spawn_cpu_ms.push(cpu * 1000.0 / plan.command_jobs as f64);
        }
        ran.spawns.push(driven);

        log(format!(
            "commands: {tag}, round {round}: the store alone, {} lines",
            n
        ));
        let url = db
            .url(plan, &format!("commands-{tag}-store-{round}"))
            .await?;
        m.lines_baseline.push(store_alone(&url, n, round).await?);
        log(format!(
            "commands: {tag}, round {round}: Headway, a job of {} lines",
            n
        ));
        let (per_s, rss, id) = lines(server, n).await?;
        m.lines_headway.push(per_s);
        m.rss.push(rss);
        ran.lines.push(id);
        log(format!(
            "commands: {tag}, round {round}: {:.0} vs {:.0} jobs/s, {:.0} vs {:.0} lines/s",
            m.spawn_headway[m.spawn_headway.len() - 1],
            m.spawn_baseline[m.spawn_baseline.len() - 1],
            per_s,
            m.lines_baseline[m.lines_baseline.len() - 1],
        ));
    }
    Ok((m, ran))
}

/// The baseline of the spawn benchmark: `jobs` runs of `true`, [`CONCURRENCY`] at a time, each
/// spawned with `tokio::process` and waited for. Returns runs per second.
async fn spawn_loop(true_bin: &Path, jobs: u64) -> Res<f64> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (next, program) = (Arc::clone(&next), true_bin.to_path_buf());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < jobs {
                let status = tokio::process::Command::new(&program)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .await
                    .map_err(|e| format!("spawning {}: {e}", program.display()))?;
                if !status.success() {
                    return Err(format!("{} exited with {status}", program.display()));
                }
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(jobs as f64 / started.elapsed().as_secs_f64().max(1e-9))
}

/// The baseline of the lines benchmark: a job created and set running in a fresh database at
/// `url`, `n` lines appended [`MAX_BATCH`] per batch, the job set succeeded. Returns lines per
/// second.
async fn store_alone(url: &str, n: u64, round: u64) -> Res<f64> {
    let store = seed::open_url(url, Access::Exclusive).await?;
    let mut rng = Rng::new(7 + round);
    let (owner, id): (UserId, JobId) = (rng.id(), rng.id());
    let started = Instant::now();
    throughput::apply(
        &store,
        vec![Change::Create {
            owner: owner.clone(),
            job: throughput::queued_demo(&id, engine::now_ms()),
            max_queued: None,
            key: None,
            answer: Answer::none(),
        }],
        "creating the job",
    )
    .await?;
    throughput::apply(
        &store,
        vec![throughput::transition(&owner, &id, JobStatus::Running)],
        "starting the job",
    )
    .await?;
    let mut next = 1u64;
    while next <= n {
        let end = (next + MAX_BATCH as u64).min(n + 1);
        let batch = (next..end)
            .map(|i| Change::Log {
                owner: owner.clone(),
                job_id: id.clone(),
                level: LogLevel::Info,
                line: i.to_string(),
                fence: None,
                // As the server the benchmark starts (its bound on a job's log raised).
                bounds: engine::store::LogBounds {
                    job_bytes: u64::MAX,
                    ..Default::default()
                },
                answer: Answer::none(),
            })
            .collect();
        throughput::apply(&store, batch, "appending lines").await?;
        next = end;
    }
    throughput::apply(
        &store,
        vec![throughput::transition(&owner, &id, JobStatus::Succeeded)],
        "finishing the job",
    )
    .await?;
    let per_s = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
    check_stored(&store, &id, n).await?;
    drop(store);
    Ok(per_s)
}

/// Runs one job of `bench_lines` and reads its event stream to its `done`, checking that it
/// carried lines `1..=n` in order and each once. Returns lines/s, Headway's RSS meanwhile and
/// the job's id.
async fn lines(server: &Server, n: u64) -> Res<(f64, RssSpan, String)> {
    let cookie = super::new_session(server.addr).await?;
    let body = format!(r#"{{"kind":"bench_lines","params":{{"lines":{n}}}}}"#);
    let sampler = RssSampler::start(server.pid, SAMPLE_EVERY);
    let started = Instant::now();
    let outcome = async {
        let mut conn = Conn::connect(server.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let id = super::post_job(&mut conn, &cookie, body.as_bytes()).await?;
        let status = read_job_stream(server, &cookie, &id, n).await?;
        Ok::<_, String>((id, status))
    }
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let rss = sampler.stop().await;
    let (id, status) = outcome?;
    if status != "succeeded" {
        return Err(format!(
            "the job of {n} lines ended {status}: {}",
            server.log_tail()
        ));
    }
    Ok((n as f64 / elapsed.max(1e-9), rss, id))
}

/// Reads the job's event stream from its start to its end (the stream ends after the job's
/// final `done`), checking that its log carried `seq`'s lines `1..=n` in order and each once;
/// returns the status the `done` gave.
async fn read_job_stream(server: &Server, cookie: &str, id: &str, n: u64) -> Res<String> {
    let mut conn = Conn::connect(server.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let path = format!("/api/v1/jobs/{id}/events");
    conn.send(
        "GET",
        &path,
        &[("Accept", "text/event-stream"), ("Cookie", cookie)],
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    let head = conn.read_head().await.map_err(|e| e.to_string())?;
    if head.status != 200 || !head.is_chunked() {
        return Err(format!("GET {path} answered {}", head.status));
    }
    let (mut stream, mut input) = conn.into_parts();
    let (mut decoder, mut parser) = (Chunked::default(), Parser::new());
    let mut buf = vec![0u8; 256 * 1024];
    // The next line of `seq` expected; Headway's own lines (not numbers) are skipped.
    let mut expected = 1u64;
    let mut problem: Option<String> = None;
    let mut status: Option<String> = None;
    loop {
        let mut on_event = |e: Event<'_>| match e.kind {
            "log" => {
                let Some(line) = json_str_field(e.data, "line") else {
                    return;
                };
                match line.parse::<u64>() {
                    Ok(v) if v == expected => expected += 1,
                    Ok(v) => {
                        problem.get_or_insert(format!(
                            "the stream carried line {v} where {expected} was due"
                        ));
                    }
                    Err(_) => {}
                }
            }
            "done" => {
                status = json_str_field(e.data, "status").map(str::to_string);
            }
            _ => {}
        };
        let ended = decoder.feed(&input, &mut |d: &[u8]| parser.feed(d, &mut on_event))?;
        input.clear();
        if ended {
            break;
        }
        let read = tokio::time::timeout(Duration::from_secs(120), stream.read(&mut buf))
            .await
            .map_err(|_| {
                format!(
                    "nothing on the job's stream for 120 s, at line {expected} of {n}: {}",
                    server.log_tail()
                )
            })?
            .map_err(|e| e.to_string())?;
        if read == 0 {
            return Err(format!(
                "the job's stream closed before its end, at line {expected} of {n}"
            ));
        }
        input.extend_from_slice(&buf[..read]);
    }
    if let Some(p) = problem {
        return Err(p);
    }
    if expected != n + 1 {
        return Err(format!(
            "the job's stream carried {} of {n} lines before its end",
            expected - 1
        ));
    }
    status.ok_or_else(|| "the job's stream ended without a `done`".to_string())
}

/// Checks that the store holds the job's log with `seq`'s lines `1..=n` in order, each once, and
/// seq numbers without gaps.
async fn check_stored(store: &Store, id: &str, n: u64) -> Res<()> {
    let job_id: JobId = crate::id(id)?;
    let (mut after, mut expected) = (0u64, 1u64);
    loop {
        let page = store
            .log_lines(&job_id, after, CHECK_PAGE)
            .await
            .map_err(|e| format!("reading the log of {id}: {e}"))?;
        let Some(last) = page.last() else { break };
        for line in &page {
            if line.seq != after + 1 {
                return Err(format!(
                    "the stored log of {id} jumps from seq {after} to {}",
                    line.seq
                ));
            }
            after = line.seq;
            match line.line.parse::<u64>() {
                Ok(v) if v == expected => expected += 1,
                Ok(v) => {
                    return Err(format!(
                        "the stored log of {id} has line {v} where {expected} was due"
                    ))
                }
                Err(_) => {}
            }
        }
        after = last.seq;
    }
    if expected != n + 1 {
        return Err(format!(
            "the store holds {} of the {n} lines of {id}",
            expected - 1
        ));
    }
    Ok(())
}
