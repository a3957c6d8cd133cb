//! Remote workers: what a command costs run through `headway worker` rather than by the server's
//! own runner. Jobs of a command running `true` through one worker (over HTTP, then through nginx
//! terminating TLS) against the same command in the server's own commands file; the time from a
//! program setting its bar to a browser's event stream showing it, both ways; and the worker's
//! RSS, idle and with its slots full. One Headway on SQLite, on loopback.

use super::throughput::{self, Driven};
use crate::http::{self, Conn};
use crate::plan::{log, Plan};
use crate::procs::{self, sqlite_url, HeadwayOptions, ProcessRole, RssSampler, Server};
use crate::report::{num, ratio, Section, Table};
use crate::seed;
use crate::sse::{json_str_field, Chunked, Event, Parser};
use crate::stats::{median, Summary};
use crate::{unix_ms, Res};
use engine::store::Access;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Jobs running at once: the server's `--max-running`, the worker's, and the HTTP clients
/// posting the jobs.
const SLOTS: u64 = 16;

/// Milliseconds between two updates of the bar in the progress benchmark.
const PAUSE_MS: u64 = 20;

/// How long the jobs of the RSS benchmark sleep (they are cancelled once measured).
const SLEEP_SECS: u64 = 30;

/// How long the worker's RSS is sampled, idle and busy.
const RSS_SPAN: Duration = Duration::from_secs(1);

/// The seconds a worker's programs have between SIGTERM and SIGKILL.
const GRACE_SECS: u64 = 5;

/// The proxy settings docs/DEPLOY.md gives, which nginx is started with.
const PROXY_CONF: &str = include_str!("../../../docs/nginx/headway-proxy.conf");

/// What the scenario writes before anything starts: the commands files and the progress script.
struct Setup {
    /// The scenario's folder: Headway's database (and so its `admin.token`), nginx's files, the
    /// workers' temporary folders.
    dir: PathBuf,
    /// The server's commands: `noop`, `progress_local`.
    server_commands: PathBuf,
    /// The worker's: `noop_remote`, `progress_remote`, `sleep_remote`.
    worker_commands: PathBuf,
    /// Where the progress script notes what it wrote, one file per job.
    notes: PathBuf,
}

/// The progress script: sets the bar's message `$1` times, `$2` seconds apart (slept with the
/// program `$4`), to `N MICROS` (the update's number and the wall clock when it was written, in
/// µs), and notes each update in `$3/$HEADWAY_JOB_ID`. Bash's `EPOCHREALTIME` reads the clock
/// without starting a process.
const PROGRESS_SCRIPT: &str = r#"#!/bin/bash
set -e
out="$3/$HEADWAY_JOB_ID"
for ((i = 1; i <= $1; i++)); do
  t=${EPOCHREALTIME//[!0-9]/}
  printf 'message %d %s\n' "$i" "$t" >&3
  printf '%d %s\n' "$i" "$t" >>"$out"
  "$4" "$2"
done
"#;

/// A command of a commands file: its name, program and arguments (with `{updates}`, the one
/// parameter a command takes here).
fn command(name: &str, program: &Path, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| toml_str(a)).collect();
    let mut text = format!(
        "[[command]]\nname = \"{name}\"\nprogram = {}\nargs = [{}]\n\n",
        toml_str(&program.display().to_string()),
        args.join(", ")
    );
    if args.iter().any(|a| a.contains("{updates}")) {
        text.push_str("[command.params.updates]\ntype = \"integer\"\nmin = 1\nmax = 100000\n\n");
    }
    text
}

/// `text` as a TOML basic string.
fn toml_str(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

impl Setup {
    fn write(plan: &Plan) -> Res<Setup> {
        let find = |names: &[&str]| {
            names
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .ok_or_else(|| format!("none of {} exists", names.join(", ")))
        };
        let true_bin = find(&["/usr/bin/true", "/bin/true"])?;
        let sleep_bin = find(&["/usr/bin/sleep", "/bin/sleep"])?;
        find(&["/bin/bash", "/usr/bin/bash"])?;
        let dir = plan.path("workers");
        let notes = dir.join("progress-notes");
        std::fs::create_dir_all(&notes).map_err(|e| format!("{}: {e}", notes.display()))?;
        let script = dir.join("progress.sh");
        let write = |path: &Path, text: &str| {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        write(&script, PROGRESS_SCRIPT)?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("{}: {e}", script.display()))?;
        }
        let pause = format!("{:.3}", PAUSE_MS as f64 / 1000.0);
        let notes_arg = notes.display().to_string();
        let sleep_arg = sleep_bin.display().to_string();
        let progress_args = [
            "{updates}",
            pause.as_str(),
            notes_arg.as_str(),
            sleep_arg.as_str(),
        ];
        let server_commands = dir.join("server-commands.toml");
        write(
            &server_commands,
            &[
                command("noop", &true_bin, &[]),
                command("progress_local", &script, &progress_args),
            ]
            .concat(),
        )?;
        let worker_commands = dir.join("worker-commands.toml");
        write(
            &worker_commands,
            &[
                command("noop_remote", &true_bin, &[]),
                command("progress_remote", &script, &progress_args),
                command("sleep_remote", &sleep_bin, &[&SLEEP_SECS.to_string()]),
            ]
            .concat(),
        )?;
        Ok(Setup {
            dir,
            server_commands,
            worker_commands,
            notes,
        })
    }
}

/// What the rounds measured.
#[derive(Default)]
struct Measured {
    /// Jobs/s of `noop` on the server's runner, of `noop_remote` through the worker over HTTP,
    /// and through nginx over HTTPS; one per round.
    server: Vec<f64>,
    worker: Vec<f64>,
    tls: Vec<f64>,
    /// CPU ms per job of Headway, the worker and nginx, each way, each round.
    cpu: Cpu,
    /// The progress benchmark, every round's samples together.
    progress_server: Latency,
    progress_worker: Latency,
    /// The worker's RSS in KiB, idle after registering and with its slots full; one per round.
    rss_idle: Vec<u64>,
    rss_busy: Vec<u64>,
    /// The throughput runs, for the store to check once the server has stopped.
    driven: Vec<(String, Driven)>,
}

/// CPU milliseconds per job, each round.
#[derive(Default)]
struct Cpu {
    server_alone: Vec<f64>,
    server_with_worker: Vec<f64>,
    worker: Vec<f64>,
    server_with_tls: Vec<f64>,
    worker_tls: Vec<f64>,
    nginx: Vec<f64>,
}

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Remote workers");
    s.method = method(plan);
    let setup = match Setup::write(plan) {
        Ok(setup) => setup,
        Err(e) => {
            s.fail(format!("setting up: {e}"));
            return s;
        }
    };
    let db = setup.dir.join("headway.db");
    let url = sqlite_url(&db);
    log("workers: starting Headway");
    let server = match Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &url,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: SLOTS as u32,
        role: ProcessRole::All,
        log: setup.dir.join("headway.log"),
        commands: Some(&setup.server_commands),
        workflows: None,
    })
    .await
    {
        Ok(server) => server,
        Err(e) => {
            s.fail(format!("starting Headway: {e}"));
            return s;
        }
    };
    let tls = match Tls::start(&setup.dir, server.addr).await {
        Ok(tls) => Some(tls),
        Err(e) => {
            s.fail(format!("HTTPS through nginx: {e}"));
            None
        }
    };
    let mut m = Measured::default();
    match worker_token(&server, &setup.dir).await {
        Ok(token) => {
            let ctx = Context {
                plan,
                setup: &setup,
                server: &server,
                token: &token,
                tls: tls.as_ref(),
            };
            for round in 1..=plan.worker_rounds {
                ctx.round(round, &mut m, &mut s).await;
            }
        }
        Err(e) => s.fail(format!("making a worker token: {e}")),
    }
    if let Some(tls) = tls {
        if let Err(e) = tls.proc.stop().await {
            s.fail(format!("stopping nginx: {e}"));
        }
    }
    if let Err(e) = server.stop().await {
        s.fail(format!("stopping Headway: {e}"));
    }
    if let Err(e) = check_stored(plan, &url, std::mem::take(&mut m.driven)).await {
        s.fail(e);
    }
    report(&mut s, plan, &m);
    s
}

/// Every round's jobs succeeded, as the store says once the server has stopped.
async fn check_stored(plan: &Plan, url: &str, driven: Vec<(String, Driven)>) -> Res<()> {
    if driven.is_empty() {
        return Ok(());
    }
    let store = seed::open_url(url, Access::Shared).await?;
    for (what, d) in driven {
        let o = throughput::settle(d, &store).await?;
        if o.succeeded < plan.worker_jobs || o.post_errors > 0 {
            return Err(format!(
                "{what}: {} of {} POSTs failed, {} jobs succeeded in the store",
                o.post_errors, o.jobs, o.succeeded
            ));
        }
    }
    Ok(())
}

/// What every measurement of a run needs.
struct Context<'a> {
    plan: &'a Plan,
    setup: &'a Setup,
    server: &'a Server,
    /// The worker token (`hwk_…`).
    token: &'a str,
    tls: Option<&'a Tls>,
}

/// How a worker reaches the server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Http,
    Https,
}

impl Context<'_> {
    /// One round: the server's runner alone (no worker running), then a worker over HTTP, then
    /// one over HTTPS; each measurement's failure is recorded and the others go on.
    async fn round(&self, round: u64, m: &mut Measured, s: &mut Section) {
        let jobs = self.plan.worker_jobs;
        log(format!(
            "workers: round {round}: the server's runner, {jobs} jobs of `noop`"
        ));
        match self.throughput("noop", None).await {
            Ok((rate, d, cpu)) => {
                m.server.push(rate);
                m.cpu.server_alone.extend(cpu.server);
                m.driven
                    .push((format!("round {round}, the server's runner"), d));
            }
            Err(e) => s.fail(format!("round {round}, the server's runner: {e}")),
        }
        log(format!(
            "workers: round {round}: the server's runner, a bar set {} times",
            self.plan.worker_updates
        ));
        match progress_job(
            self.server.addr,
            "progress_local",
            self.plan.worker_updates,
            &self.setup.notes,
        )
        .await
        {
            Ok(l) => m.progress_server.add(l),
            Err(e) => s.fail(format!(
                "round {round}, progress on the server's runner: {e}"
            )),
        }

        if let Err(e) = self.with_worker(round, Via::Http, m).await {
            s.fail(format!("round {round}, the worker over HTTP: {e}"));
        }
        if self.tls.is_some() {
            if let Err(e) = self.with_worker(round, Via::Https, m).await {
                s.fail(format!("round {round}, the worker over HTTPS: {e}"));
            }
        }
    }

    /// Starts a worker, measures through it, and stops it whatever happened.
    async fn with_worker(&self, round: u64, via: Via, m: &mut Measured) -> Res<()> {
        let worker = self.start_worker(round, via).await?;
        let measured = self.through_worker(round, via, &worker, m).await;
        let stopped = worker.stop().await;
        measured?;
        stopped
    }

    async fn through_worker(
        &self,
        round: u64,
        via: Via,
        worker: &Proc,
        m: &mut Measured,
    ) -> Res<()> {
        let jobs = self.plan.worker_jobs;
        let name = match via {
            Via::Http => "over HTTP",
            Via::Https => "over HTTPS",
        };
        if via == Via::Http {
            m.rss_idle.extend(rss_over(worker.pid).await);
        }
        log(format!(
            "workers: round {round}: a worker {name}, {jobs} jobs of `noop_remote`"
        ));
        let (rate, d, cpu) = self.throughput("noop_remote", Some(worker.pid)).await?;
        m.driven
            .push((format!("round {round}, the worker {name}"), d));
        match via {
            Via::Http => {
                m.worker.push(rate);
                m.cpu.server_with_worker.extend(cpu.server);
                m.cpu.worker.extend(cpu.worker);
            }
            Via::Https => {
                m.tls.push(rate);
                m.cpu.server_with_tls.extend(cpu.server);
                m.cpu.worker_tls.extend(cpu.worker);
                m.cpu.nginx.extend(cpu.nginx);
            }
        }
        if via == Via::Https {
            return Ok(());
        }
        log(format!(
            "workers: round {round}: a worker {name}, a bar set {} times",
            self.plan.worker_updates
        ));
        let l = progress_job(
            self.server.addr,
            "progress_remote",
            self.plan.worker_updates,
            &self.setup.notes,
        )
        .await?;
        m.progress_worker.add(l);
        log(format!(
            "workers: round {round}: a worker {name}, {SLOTS} jobs of `sleep {SLEEP_SECS}`"
        ));
        m.rss_busy.push(self.busy_rss(worker).await?);
        Ok(())
    }

    /// Posts the jobs of `kind` and waits for their ends: jobs/s, the run, and the CPU per job
    /// of the server, the worker `worker` and nginx.
    async fn throughput(&self, kind: &str, worker: Option<u32>) -> Res<(f64, Driven, CpuPerJob)> {
        let jobs = self.plan.worker_jobs;
        let body = format!(r#"{{"kind":"{kind}","params":{{}}}}"#);
        let nginx = self.tls.map(|t| t.proc.pid);
        let cpu = || {
            (
                procs::cpu_secs(self.server.pid),
                worker.and_then(procs::cpu_secs),
                nginx.and_then(procs::cpu_secs),
            )
        };
        let before = cpu();
        let d = throughput::drive(&[self.server], SLOTS, jobs, body.as_bytes()).await?;
        let after = cpu();
        let o = &d.outcome;
        if o.post_errors > 0 || o.done_events < jobs {
            return Err(format!(
                "{} POSTs failed, {} of {jobs} `done` events seen{}",
                o.post_errors,
                o.done_events,
                o.first_error
                    .as_ref()
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default()
            ));
        }
        let last = d.last_done_ms.ok_or("no `done` seen")?;
        let rate = jobs as f64 / ((last - d.first_post_ms) / 1000.0).max(0.001);
        let per_job = |a: Option<f64>, b: Option<f64>| Some((a? - b?) * 1000.0 / jobs as f64);
        let cpu = CpuPerJob {
            server: per_job(after.0, before.0),
            worker: per_job(after.1, before.1),
            nginx: per_job(after.2, before.2),
        };
        log(format!("workers: {kind}: {rate:.0} jobs/s"));
        Ok((rate, d, cpu))
    }

    /// Starts `headway worker` with the worker's commands, `--max-running` [`SLOTS`], and waits
    /// until the server lists it.
    async fn start_worker(&self, round: u64, via: Via) -> Res<Proc> {
        let (name, server) = match (via, self.tls) {
            (Via::Http, _) => (
                format!("bench-http-{round}"),
                format!("http://{}", self.server.addr),
            ),
            (Via::Https, Some(tls)) => (format!("bench-https-{round}"), tls.url.clone()),
            (Via::Https, None) => return Err("nginx is not running".into()),
        };
        let tmp = self.setup.dir.join(format!("{name}-tmp"));
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        // It starts in the scenario's folder: a relative --bin is made absolute first.
        let bin = std::path::absolute(&self.plan.bin).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.arg("worker")
            .arg("--server")
            .arg(&server)
            .arg("--commands")
            .arg(&self.setup.worker_commands)
            .arg("--max-running")
            .arg(SLOTS.to_string())
            .arg("--name")
            .arg(&name)
            .arg("--grace-secs")
            .arg(GRACE_SECS.to_string())
            .current_dir(&self.setup.dir)
            .env("HEADWAY_WORKER_TOKEN", self.token)
            // The folders of its runs, apart from the server's.
            .env("TMPDIR", &tmp)
            .env_remove("SSL_CERT_DIR")
            .env_remove("SSL_CERT_FILE");
        if let (Via::Https, Some(tls)) = (via, self.tls) {
            cmd.env("SSL_CERT_FILE", &tls.cert);
        }
        let mut worker = Proc::spawn(
            "headway worker",
            cmd,
            &self.setup.dir.join(format!("{name}.log")),
        )?;
        match self.registered(&name, &mut worker).await {
            Ok(()) => Ok(worker),
            Err(e) => {
                let _ = worker.stop().await;
                Err(e)
            }
        }
    }

    /// Waits until `GET /api/v1/workers` lists the worker `name` (60 s at most).
    async fn registered(&self, name: &str, worker: &mut Proc) -> Res<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let admin = admin_token(&self.setup.dir)?;
        loop {
            if let Some(status) = worker.exited() {
                return Err(format!(
                    "the worker exited ({status}) before it registered: {}",
                    worker.log_tail()
                ));
            }
            let (status, json) =
                api(self.server.addr, "GET", "/api/v1/workers", &admin, None).await?;
            let listed = json
                .as_array()
                .is_some_and(|ws| ws.iter().any(|w| w["name"] == name));
            if status == 200 && listed {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the worker did not register within 60 s (GET /api/v1/workers: {status}): {}",
                    worker.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The worker's RSS with [`SLOTS`] jobs of `sleep` running on it: started, waited for until
    /// the API lists them all running, the RSS sampled, then cancelled and waited for.
    async fn busy_rss(&self, worker: &Proc) -> Res<u64> {
        let addr = self.server.addr;
        let cookie = super::new_session(addr).await?;
        let cookie = [("Cookie", cookie.as_str())];
        let mut conn = Conn::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut ids = Vec::new();
        let mut result = Ok(());
        for _ in 0..SLOTS {
            match super::post_job(&mut conn, cookie[0].1, br#"{"kind":"sleep_remote"}"#).await {
                Ok(id) => ids.push(id),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let result = match result {
            Ok(()) => {
                let running = "/api/v1/jobs?status=running&kind=sleep_remote&limit=100";
                match wait_for(addr, &cookie, running, |n| n == SLOTS as usize).await {
                    Ok(()) => rss_over(worker.pid)
                        .await
                        .ok_or_else(|| format!("cannot read /proc/{}/status", worker.pid)),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        // Whatever happened, what was started is cancelled and waited for.
        if !ids.is_empty() {
            let body = serde_json::json!({ "ids": ids }).to_string();
            let (status, json) =
                api(addr, "POST", "/api/v1/jobs/cancel", &cookie, Some(&body)).await?;
            if status != 200 {
                return Err(format!(
                    "cancelling the jobs of `sleep` answered {status}: {json}"
                ));
            }
            let active =
                "/api/v1/jobs?status=queued,running,cancelling&kind=sleep_remote&limit=100";
            wait_for(addr, &cookie, active, |n| n == 0).await?;
        }
        result
    }
}

/// CPU milliseconds per job of one run.
struct CpuPerJob {
    server: Option<f64>,
    worker: Option<f64>,
    nginx: Option<f64>,
}

/// The operator token of the server whose database is in `dir`, as a header.
fn admin_token(dir: &Path) -> Res<[(&'static str, String); 1]> {
    let token = std::fs::read_to_string(dir.join("admin.token"))
        .map_err(|e| format!("reading the operator token: {e}"))?;
    Ok([("Authorization", format!("Bearer {}", token.trim()))])
}

/// A worker token made with the operator token (`POST /api/v1/worker-tokens`).
async fn worker_token(server: &Server, dir: &Path) -> Res<String> {
    let admin = admin_token(dir)?;
    let (status, json) = api(
        server.addr,
        "POST",
        "/api/v1/worker-tokens",
        &admin,
        Some(r#"{"name":"headway-bench"}"#),
    )
    .await?;
    if status != 201 {
        return Err(format!(
            "POST /api/v1/worker-tokens answered {status}: {json}"
        ));
    }
    json["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no token in {json}"))
}

/// One request on a fresh connection: its status and JSON (the text as a JSON string if it is
/// not JSON).
async fn api<V: AsRef<str>>(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, V)],
    body: Option<&str>,
) -> Res<(u16, serde_json::Value)> {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    let r = http::fetch(
        addr,
        method,
        path,
        &headers,
        body.map(|b| ("application/json", b.as_bytes())),
    )
    .await
    .map_err(|e| format!("{method} {path}: {e}"))?;
    let json =
        serde_json::from_slice(&r.body).unwrap_or_else(|_| serde_json::Value::String(r.text()));
    Ok((r.head.status, json))
}

/// Waits (30 s at most) until the list of jobs at `path` holds a number of jobs `done` accepts.
async fn wait_for(
    addr: SocketAddr,
    cookie: &[(&str, &str)],
    path: &str,
    done: impl Fn(usize) -> bool,
) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, json) = api(addr, "GET", path, cookie, None).await?;
        let n = json["jobs"].as_array().map_or(0, Vec::len);
        if status == 200 && done(n) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "GET {path} still lists {n} jobs after 30 s ({status})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The highest RSS of `pid` over [`RSS_SPAN`], in KiB.
async fn rss_over(pid: u32) -> Option<u64> {
    let span = RssSampler::start(pid, Duration::from_millis(50));
    tokio::time::sleep(RSS_SPAN).await;
    span.stop().await.peak
}

/// The progress benchmark's samples.
#[derive(Debug, Default)]
struct Latency {
    /// Ms from an update's writing to the arrival of the event carrying it, for each update an
    /// event carried.
    delivered: Vec<f64>,
    /// Ms from an update's writing to the arrival of the first event carrying it or a later
    /// one, for each update written.
    shown: Vec<f64>,
    /// Updates written, events that carried one, and updates no event showed.
    written: u64,
    events: u64,
    unseen: u64,
}

impl Latency {
    fn add(&mut self, other: Latency) {
        self.delivered.extend(other.delivered);
        self.shown.extend(other.shown);
        self.written += other.written;
        self.events += other.events;
        self.unseen += other.unseen;
    }
}

/// An update as an event carried it.
#[derive(Debug, Clone, Copy)]
struct Received {
    index: u64,
    written_us: u64,
    /// When the event was read (Unix ms).
    at_ms: f64,
}

/// The update a bar's message `N MICROS` gives.
fn parse_update(message: &str) -> Option<(u64, u64)> {
    let (i, t) = message.split_once(' ')?;
    Some((i.parse().ok()?, t.parse().ok()?))
}

/// The latencies of one job: `written` (each update's number and µs, in order) and `received`
/// (in order of arrival).
fn latency(written: &[(u64, u64)], received: &[Received]) -> Latency {
    let delivered = received
        .iter()
        .map(|r| r.at_ms - r.written_us as f64 / 1000.0)
        .collect();
    // The first arrival showing update `i` or a later one: the arrivals' highest number so far
    // only grows, so one pass over each list finds it for every update.
    let mut shown = Vec::with_capacity(written.len());
    let (mut next, mut highest) = (0usize, 0u64);
    let mut unseen = 0;
    for &(index, written_us) in written {
        while highest < index && next < received.len() {
            highest = highest.max(received[next].index);
            next += 1;
        }
        match highest >= index {
            true => shown.push(received[next - 1].at_ms - written_us as f64 / 1000.0),
            false => unseen += 1,
        }
    }
    Latency {
        delivered,
        shown,
        written: written.len() as u64,
        events: received.len() as u64,
        unseen,
    }
}

/// Runs one job of the progress command `kind` with `updates` updates, read from its owner's
/// event stream (`GET /api/v1/events`, opened before the job starts), to its `done`.
async fn progress_job(addr: SocketAddr, kind: &str, updates: u64, notes: &Path) -> Res<Latency> {
    let cookie = super::new_session(addr).await?;
    let mut conn = Conn::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
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
    let (mut decoder, mut parser) = (Chunked::default(), Parser::new());
    let mut buf = vec![0u8; 64 * 1024];
    let deadline =
        Instant::now() + Duration::from_secs(60) + Duration::from_millis(updates * PAUSE_MS * 5);
    let (mut opened, mut id, mut status) = (false, None::<String>, None::<String>);
    // The `done` event, to say why a job did not succeed.
    let mut done = String::new();
    let mut received = Vec::new();
    let mut read_at = unix_ms();
    loop {
        let mut on_event = |e: Event<'_>| {
            if e.kind == "snapshot" {
                opened = true;
            }
            let Some(job) = id.as_deref() else { return };
            if json_str_field(e.data, "job_id") != Some(job) {
                return;
            }
            match e.kind {
                "progress" => {
                    if let Some((index, written_us)) =
                        json_str_field(e.data, "message").and_then(parse_update)
                    {
                        received.push(Received {
                            index,
                            written_us,
                            at_ms: read_at,
                        });
                    }
                }
                "done" => {
                    status = json_str_field(e.data, "status").map(str::to_string);
                    done = e.data.to_string();
                }
                _ => {}
            }
        };
        if chunked {
            decoder.feed(&input, &mut |d: &[u8]| parser.feed(d, &mut on_event))?;
        } else {
            parser.feed(&input, &mut on_event);
        }
        input.clear();
        if status.is_some() {
            break;
        }
        if opened && id.is_none() {
            let mut poster = Conn::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let body = format!(r#"{{"kind":"{kind}","params":{{"updates":{updates}}}}}"#);
            id = Some(super::post_job(&mut poster, &cookie, body.as_bytes()).await?);
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .map_err(|_| format!("the job of {kind} did not end in time"))?
            .map_err(|e| e.to_string())?;
        read_at = unix_ms();
        if n == 0 {
            return Err("the event stream ended".into());
        }
        input.extend_from_slice(&buf[..n]);
    }
    let (id, status) = (id.unwrap_or_default(), status.unwrap_or_default());
    if status != "succeeded" {
        return Err(format!("the job of {kind} ended {status}: {done}"));
    }
    let path = notes.join(&id);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("the notes of the job of {kind}, {}: {e}", path.display()))?;
    let written: Vec<(u64, u64)> = text
        .lines()
        .map(|l| parse_update(l).ok_or_else(|| format!("a note that is not `N MICROS`: {l:?}")))
        .collect::<Res<_>>()?;
    if written.len() as u64 != updates {
        return Err(format!(
            "the job of {kind} noted {} of its {updates} updates",
            written.len()
        ));
    }
    let l = latency(&written, &received);
    log(format!(
        "workers: {kind}: {} events for {} updates, delivered p50 {:.1} ms, shown p50 {:.1} ms",
        l.events,
        l.written,
        Summary::of(&l.delivered).p50,
        Summary::of(&l.shown).p50,
    ));
    Ok(l)
}

/// nginx terminating TLS in front of the server, with a self-signed certificate of its own.
struct Tls {
    proc: Proc,
    /// `https://127.0.0.1:PORT`.
    url: String,
    /// The certificate, for the worker to trust (`SSL_CERT_FILE`).
    cert: PathBuf,
}

impl Tls {
    async fn start(dir: &Path, upstream: SocketAddr) -> Res<Tls> {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("nginx is not installed (no /usr/sbin/nginx; apt-get install nginx)")?;
        let dir = dir.join("nginx");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        // A leaf certificate for 127.0.0.1, its own authority: webpki refuses a certificate
        // marked as an authority as a server's, so it says it is none.
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("cannot run openssl (is it installed?): {e}"))?;
        if !made.status.success() {
            return Err(format!(
                "openssl req failed: {}",
                String::from_utf8_lossy(&made.stderr).trim()
            ));
        }
        std::fs::write(dir.join("headway-proxy.conf"), PROXY_CONF)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let addr = procs::free_addr()?;
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream headway {{
        server {upstream};
        keepalive 32;
    }}
    server {{
        listen {addr} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            include {dir}/headway-proxy.conf;
            # Longer than a worker's long poll (a third of the lease: 10 s by default).
            proxy_read_timeout 60s;
        }}
    }}
}}
"#,
            dir = dir.display(),
            cert = cert.display(),
            key = key.display(),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(|e| format!("{}: {e}", conf_path.display()))?;
        let mut cmd = Command::new(nginx);
        cmd.arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"));
        let mut proc = Proc::spawn("nginx", cmd, &dir.join("nginx.out"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = proc.exited() {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                return Err(format!("nginx exited ({status}): {}", log.trim()));
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = proc.stop().await;
                return Err("nginx did not listen within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        log(format!("workers: nginx terminates TLS on {addr}"));
        Ok(Tls {
            proc,
            url: format!("https://{addr}"),
            cert,
        })
    }
}

/// A process the scenario starts besides Headway (a worker, nginx): killed if dropped, stopped
/// with SIGTERM by [`Proc::stop`].
struct Proc {
    name: &'static str,
    child: Child,
    pid: u32,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, mut cmd: Command, log: &Path) -> Res<Proc> {
        let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let pid = child.id().ok_or_else(|| format!("{name} exited at once"))?;
        Ok(Proc {
            name,
            child,
            pid,
            log: log.to_path_buf(),
        })
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(5).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    /// SIGTERM (through kill(1): the bench has no unsafe code), then SIGKILL if it has not
    /// exited within 20 s.
    async fn stop(mut self) -> Res<()> {
        if self.exited().is_none() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.pid.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!(
                "{} exited with {status}: {}",
                self.name,
                self.log_tail()
            )),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(format!("{} did not stop within 20 s of SIGTERM", self.name))
            }
        }
    }
}

fn method(plan: &Plan) -> String {
    format!(
        "One Headway on SQLite (a fresh file), started with `--max-running {SLOTS}` and a \
         commands file of its own; one `headway worker` at a time, started by the bench on the \
         same machine with `--max-running {SLOTS}`, a worker token made with \
         `POST /api/v1/worker-tokens` and a commands file whose kinds have other names (a \
         worker may not register a name the server runs). Everything on loopback. Each round: \
         the server's runner alone (no worker running), then a worker over HTTP, then a worker \
         through nginx over HTTPS; each worker is stopped (SIGTERM) before the next starts.\n\n\
         **Throughput.** {jobs} jobs of a command running coreutils' `true` (`noop` on the \
         server, `noop_remote` on the worker), posted with `POST /api/v1/jobs` by {SLOTS} \
         concurrent HTTP/1.1 keep-alive clients of one session, straight to the server; jobs/s \
         = jobs / (time the SSE stream of the same user saw the last job's `done` − time of the \
         first POST), as in the commands benchmark, and the store, read once the server has \
         stopped, must say that every one succeeded. Baseline: the same jobs run by the \
         server's own runner. **HTTPS**: the worker is given `--server https://127.0.0.1:PORT`, \
         Debian's nginx (started by the bench: one process, the proxy settings of \
         `docs/nginx/headway-proxy.conf`, a keep-alive upstream, `proxy_read_timeout 60s`) \
         terminating TLS with a self-signed certificate made with `openssl req -x509` for \
         `IP:127.0.0.1`, which the worker trusts through `SSL_CERT_FILE` (its reqwest uses \
         rustls with the native roots, which read that variable).\n\n\
         **Progress latency.** A command (a bash script) sets its bar {updates} times, \
         {PAUSE_MS} ms apart, with `message N MICROS` on descriptor 3: the update's number and \
         the wall clock when it was written (bash's `EPOCHREALTIME`), noting each update in a \
         file too. Its owner's event stream (`GET /api/v1/events`, opened before the job \
         starts, read as a browser would) gives the `progress` events, each stamped on arrival. \
         *Delivered*: for each event, its arrival − the writing of the update it carries. \
         *Shown*: for each update written, the arrival of the first event carrying it or a \
         later one − its writing: what a person watching the bar waits, coalescing included \
         (updates that no event carries are shown by a later one). One job per round on the \
         server's runner (`progress_local`) and one through the worker over HTTP \
         (`progress_remote`); the percentiles are over every round's samples.\n\n\
         **RSS** of the worker process (VmRSS of /proc/PID/status, the highest of samples \
         every 50 ms over 1 s): idle, just after it registered; and busy, with {SLOTS} jobs of \
         `sleep {SLEEP_SECS}` running on it (started, then sampled once \
         `GET /api/v1/jobs?status=running` lists all {SLOTS}; cancelled after). The worker's \
         programs' own memory is not counted.\n\n\
         CPU per job: user + system time of /proc/PID/stat of Headway, of the worker and of \
         nginx while the jobs of `true` were posted and run, / the jobs.\n\n\
         {rounds} round(s); the tables give the medians and every round.",
        jobs = num(plan.worker_jobs as f64, 0),
        updates = plan.worker_updates,
        rounds = plan.worker_rounds,
    )
}

fn report(s: &mut Section, plan: &Plan, m: &Measured) {
    let each = |v: &[f64], d: usize| v.iter().map(|x| num(*x, d)).collect::<Vec<_>>().join(", ");
    let (server, worker, tls) = (
        median(m.server.clone()),
        median(m.worker.clone()),
        median(m.tls.clone()),
    );
    let cpu = |v: &[f64]| num(median(v.to_vec()), 3);
    let mut t = Table::new(&[
        "",
        "jobs/s",
        "× the server's runner",
        "each round (jobs/s)",
        "Headway CPU per job (ms)",
        "worker CPU per job (ms)",
    ])
    .with_intro(format!(
        "**Throughput**: {} jobs of `true` at {SLOTS} at once.",
        num(plan.worker_jobs as f64, 0)
    ));
    t.row(vec![
        "the server's own runner (baseline)".into(),
        num(server, 0),
        "1.00×".into(),
        each(&m.server, 0),
        cpu(&m.cpu.server_alone),
        "–".into(),
    ]);
    t.row(vec![
        "**one `headway worker`, HTTP**".into(),
        format!("**{}**", num(worker, 0)),
        format!("**{}**", ratio(worker, server)),
        each(&m.worker, 0),
        cpu(&m.cpu.server_with_worker),
        cpu(&m.cpu.worker),
    ]);
    t.row(vec![
        "one `headway worker`, HTTPS through nginx".into(),
        num(tls, 0),
        ratio(tls, server),
        each(&m.tls, 0),
        cpu(&m.cpu.server_with_tls),
        cpu(&m.cpu.worker_tls),
    ]);
    s.tables.push(t);
    if !m.cpu.nginx.is_empty() {
        s.notes.push(format!(
            "nginx's CPU per job through HTTPS: {} ms (median of the rounds).",
            cpu(&m.cpu.nginx)
        ));
    }

    let (ps, pw) = (&m.progress_server, &m.progress_worker);
    let (ds, dw) = (Summary::of(&ps.delivered), Summary::of(&pw.delivered));
    let (ss, sw) = (Summary::of(&ps.shown), Summary::of(&pw.shown));
    let mut t = Table::new(&[
        "",
        "the server's runner",
        "one worker (HTTP)",
        "worker / server",
    ])
    .with_intro(format!(
        "**Progress latency** (ms): a bar set {} times, {PAUSE_MS} ms apart, read from its \
             owner's event stream.",
        plan.worker_updates
    ));
    let row = |t: &mut Table, name: &str, a: f64, b: f64| {
        t.row(vec![name.into(), num(a, 1), num(b, 1), ratio(b, a)]);
    };
    row(&mut t, "delivered p50", ds.p50, dw.p50);
    row(&mut t, "delivered p99", ds.p99, dw.p99);
    row(&mut t, "shown p50", ss.p50, sw.p50);
    row(&mut t, "shown p99", ss.p99, sw.p99);
    t.row(vec![
        "`progress` events / updates written (never shown)".into(),
        format!("{} / {} ({})", ps.events, ps.written, ps.unseen),
        format!("{} / {} ({})", pw.events, pw.written, pw.unseen),
        "–".into(),
    ]);
    s.tables.push(t);

    let mib = |v: &[u64]| {
        let m = median(v.iter().map(|k| *k as f64 / 1024.0).collect());
        let each: Vec<String> = v.iter().map(|k| num(*k as f64 / 1024.0, 1)).collect();
        vec![num(m, 1), each.join(", ")]
    };
    let mut t =
        Table::new(&["", "MiB", "each round"]).with_intro("**RSS of `headway worker`** (VmRSS).");
    t.row(
        [
            vec!["idle, after registering".to_string()],
            mib(&m.rss_idle),
        ]
        .concat(),
    );
    t.row(
        [
            vec![format!("{SLOTS} jobs of `sleep` running")],
            mib(&m.rss_busy),
        ]
        .concat(),
    );
    s.tables.push(t);

    s.verdict(
        &format!(
            "Remote workers: jobs of `true` through one `headway worker` (HTTP) ≥ 0.5× the \
             server's own runner, at {SLOTS} at once"
        ),
        format!(
            "{} vs {} jobs/s = {}",
            num(worker, 0),
            num(server, 0),
            ratio(worker, server)
        ),
        worker / server >= 0.5,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(index: u64, written_us: u64, at_ms: f64) -> Received {
        Received {
            index,
            written_us,
            at_ms,
        }
    }

    #[test]
    fn updates_are_read_from_the_bars_message() {
        assert_eq!(
            parse_update("7 1732770000123456"),
            Some((7, 1_732_770_000_123_456))
        );
        assert_eq!(parse_update(""), None);
        assert_eq!(parse_update("step 1 of 1"), None);
    }

    #[test]
    fn an_update_is_shown_by_the_first_event_carrying_it_or_a_later_one() {
        // Updates 1 to 4 written at 0, 20, 40, 60 ms; events carry 1 (at 5 ms) and 3 (at 50 ms).
        let written = [(1, 0), (2, 20_000), (3, 40_000), (4, 60_000)];
        let received = [at(1, 0, 5.0), at(3, 40_000, 50.0)];
        let l = latency(&written, &received);
        assert_eq!(l.delivered, [5.0, 10.0]);
        assert_eq!(l.shown, [5.0, 30.0, 10.0]);
        assert_eq!((l.written, l.events, l.unseen), (4, 2, 1));
        let none = latency(&written, &[]);
        assert_eq!((none.shown.len(), none.unseen), (0, 4));
    }
}
