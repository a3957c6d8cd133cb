//! The processes a run starts: the Headway server, the baseline server and the client processes,
//! with what /proc says about them.

use crate::client::ClientReport;
use crate::http;
use crate::Res;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::Instant;

/// A free loopback port (there is a small window in which another process could take it).
pub fn free_addr() -> Res<SocketAddr> {
    let l =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    l.local_addr().map_err(|e| e.to_string())
}

/// A server process: Headway or the baseline.
pub struct Server {
    pub name: &'static str,
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    log: PathBuf,
}

pub struct HeadwayOptions<'a> {
    pub bin: &'a Path,
    /// `--database-url`: a SQLite file ([`sqlite_url`]) or a PostgreSQL database.
    pub database_url: &'a str,
    pub site_root: &'a Path,
    pub data_root: &'a Path,
    pub max_running: u32,
    /// `--role`: `all`, `web` or `worker` ([`ProcessRole::All`] is Headway's default).
    pub role: ProcessRole,
    pub log: PathBuf,
    /// `--commands`: a commands file, whose commands are kinds.
    pub commands: Option<&'a Path>,
    /// `--workflows`: a workflows file.
    pub workflows: Option<&'a Path>,
}

/// What a Headway process does (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRole {
    All,
    Web,
    Worker,
}

impl ProcessRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::All => "all",
            ProcessRole::Web => "web",
            ProcessRole::Worker => "worker",
        }
    }
}

/// The long options a Headway binary takes, from its `--help`; every option assumed known if
/// the help cannot be read.
async fn options_of(bin: &Path) -> Vec<String> {
    let everything = || {
        [
            "--file-store",
            "--max-running-per-user",
            "--max-streams-per-user",
            "--max-queued-per-user",
        ]
        .map(String::from)
        .to_vec()
    };
    let Ok(out) = Command::new(bin).arg("--help").output().await else {
        return everything();
    };
    if !out.status.success() {
        return everything();
    }
    String::from_utf8_lossy(&out.stdout)
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--"))
        .map(String::from)
        .collect()
}

pub fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

/// The operator token given to Headway processes on PostgreSQL, where none is made up (the
/// benchmarks send no operator requests).
const ADMIN_TOKEN: &str = "headway-bench";

impl Server {
    pub async fn headway(o: HeadwayOptions<'_>) -> Res<Server> {
        let addr = free_addr()?;
        let mut cmd = Command::new(o.bin);
        cmd.arg("--addr")
            .arg(addr.to_string())
            .arg("--database-url")
            .arg(o.database_url)
            .arg("--site-root")
            .arg(o.site_root)
            .arg("--data-root")
            .arg(o.data_root)
            .arg("--max-running")
            .arg(o.max_running.to_string());
        // A build from before an option was added (a --compare-bin) runs without it: it had
        // no such bound to lift.
        let store = o.data_root.with_file_name("store");
        let share = o.max_running.to_string();
        let optional: [(&str, &std::ffi::OsStr); 4] = [
            ("--file-store", store.as_os_str()),
            // The benchmarks' jobs are one user's: they may fill every slot, as before shares.
            ("--max-running-per-user", share.as_ref()),
            // Their clients open more streams and queue more jobs than a person does.
            ("--max-streams-per-user", "1000000".as_ref()),
            ("--max-queued-per-user", "1000000".as_ref()),
        ];
        let options = options_of(o.bin).await;
        for (flag, value) in optional {
            if options.iter().any(|known| known == flag) {
                cmd.arg(flag).arg(value);
            }
        }
        // What one user's jobs may write is bounded too; the benchmarks write more (a
        // command's million lines, a thousand schedules). Given in the environment, which a
        // build without these bounds ignores.
        cmd.env("HEADWAY_MAX_JOB_LOG_BYTES", "1000000000000")
            .env("HEADWAY_REPORT_BYTES_PER_SEC", "1000000000000")
            .env("HEADWAY_MAX_OUTPUTS_PER_JOB", "1000000")
            .env("HEADWAY_MAX_SCHEDULES_PER_USER", "1000000")
            .env("HEADWAY_MIN_SCHEDULE_INTERVAL_SECS", "1")
            .env("HEADWAY_MAX_UPLOADS_PER_USER", "10000000");
        if o.role != ProcessRole::All {
            cmd.arg("--role").arg(o.role.as_str());
        }
        if let Some(workflows) = o.workflows {
            cmd.arg("--workflows").arg(workflows);
        }
        if let Some(commands) = o.commands {
            cmd.arg("--commands").arg(commands);
        }
        if !o.database_url.starts_with("sqlite:") {
            cmd.env("HEADWAY_ADMIN_TOKEN", ADMIN_TOKEN);
        }
        // A worker serves only `/healthz`.
        let ready = match o.role {
            ProcessRole::Worker => "/healthz",
            ProcessRole::All | ProcessRole::Web => "/api/v1/kinds",
        };
        Server::spawn("headway", cmd, addr, o.log, ready).await
    }

    pub async fn baseline(exe: &Path, extra: &[String], log: PathBuf) -> Res<Server> {
        let addr = free_addr()?;
        let mut cmd = Command::new(exe);
        cmd.arg("baseline-server")
            .arg("--addr")
            .arg(addr.to_string())
            .args(extra);
        Server::spawn("baseline", cmd, addr, log, "/health").await
    }

    /// The file benchmark's baseline (`files-baseline-server`): uploads written to `dir`,
    /// `GET /files/…` served from `serve`.
    pub async fn files_baseline(exe: &Path, dir: &Path, serve: &Path, log: PathBuf) -> Res<Server> {
        let addr = free_addr()?;
        let mut cmd = Command::new(exe);
        cmd.arg("files-baseline-server")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--dir")
            .arg(dir)
            .arg("--serve")
            .arg(serve);
        Server::spawn("files baseline", cmd, addr, log, "/health").await
    }

    async fn spawn(
        name: &'static str,
        mut cmd: Command,
        addr: SocketAddr,
        log: PathBuf,
        ready_path: &str,
    ) -> Res<Server> {
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file);
        cmd.kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let pid = child.id().ok_or("the server exited at once")?;
        let mut server = Server {
            name,
            child,
            pid,
            addr,
            log,
        };
        server
            .wait_ready(ready_path, Duration::from_secs(60))
            .await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, path: &str, limit: Duration) -> Res<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before it was ready: {}",
                    self.name,
                    self.log_tail()
                ));
            }
            if let Ok(r) = http::fetch(self.addr, "GET", path, &[], None).await {
                if r.head.status == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} was not ready within {limit:?}: {}",
                    self.name,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(5).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    pub fn cpu_secs(&self) -> Option<f64> {
        cpu_secs(self.pid)
    }

    pub fn write_calls(&self) -> Option<u64> {
        write_calls(self.pid)
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`.
    pub async fn stop(mut self) -> Res<()> {
        // SIGTERM through kill(1): the bench has no unsafe code (our child is not reaped yet, so
        // the pid is still its own).
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        // kill(1) fails if the child is gone already: its exit status is then read below.
        let exited = matches!(self.child.try_wait(), Ok(Some(_)));
        if !exited && !sent.as_ref().is_ok_and(|s| s.success()) {
            let _ = self.child.kill().await;
            return Err(format!(
                "cannot send SIGTERM to {} ({}); killed it",
                self.name,
                match sent {
                    Ok(status) => format!("kill exited with {status}"),
                    Err(e) => format!("cannot run kill: {e}"),
                }
            ));
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

/// Resident set size in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Option<u64> {
    vm_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// The `VmRSS` line of a `/proc/<pid>/status` text, in KiB.
pub fn vm_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A process's RSS over a stretch of time: the first sample, the highest, and how many there
/// were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RssSpan {
    pub before: Option<u64>,
    pub peak: Option<u64>,
    pub samples: u32,
}

impl RssSpan {
    /// Adds a sample in KiB (none when /proc could not be read).
    pub fn add(&mut self, kib: Option<u64>) {
        let Some(kib) = kib else { return };
        if self.before.is_none() {
            self.before = Some(kib);
        }
        self.peak = Some(self.peak.map_or(kib, |p| p.max(kib)));
        self.samples += 1;
    }

    /// How far the highest sample is above the first, in KiB.
    pub fn increase(&self) -> Option<u64> {
        Some(self.peak?.saturating_sub(self.before?))
    }
}

/// Samples a process's RSS every `every` on the runtime, from [`RssSampler::start`] (the
/// first sample, taken at once) to [`RssSampler::stop`] (a last one).
pub struct RssSampler {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<RssSpan>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> RssSampler {
        let stop = tokio_util::sync::CancellationToken::new();
        let mut span = RssSpan::default();
        span.add(rss_kib(pid));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => span.add(rss_kib(pid)),
                    _ = stopped.cancelled() => {
                        span.add(rss_kib(pid));
                        return span;
                    }
                }
            }
        });
        RssSampler { stop, task }
    }

    pub async fn stop(self) -> RssSpan {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// User plus system CPU time in seconds.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// Write-type system calls the process has made so far (`syscw` in `/proc/<pid>/io`): for a
/// server of event streams, one per socket write, plus its few database and log writes.
pub fn write_calls(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("syscw:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The unit of the CPU times in `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    static HZ: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *HZ.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|hz: &f64| *hz > 0.0)
            .unwrap_or(100.0)
    })
}

/// Client processes holding event-stream connections (`sse-clients`).
pub struct Clients {
    procs: Vec<ClientProc>,
}

struct ClientProc {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

pub struct ClientPlan<'a> {
    pub exe: &'a Path,
    pub addr: SocketAddr,
    pub cookie: Option<&'a str>,
    pub conns: u64,
    pub procs: u64,
    /// New connections per second, all processes together.
    pub rate: u64,
    pub expect_done: u64,
    pub max_secs: u64,
}

impl Clients {
    pub fn spawn(p: &ClientPlan<'_>) -> Res<Clients> {
        let n = p.procs.clamp(1, p.conns.max(1));
        let mut procs = Vec::new();
        for i in 0..n {
            let conns = p.conns / n + u64::from(i < p.conns % n);
            let mut cmd = Command::new(p.exe);
            cmd.arg("sse-clients")
                .arg("--addr")
                .arg(p.addr.to_string())
                .arg("--conns")
                .arg(conns.to_string())
                .arg("--rate")
                .arg((p.rate / n).max(1).to_string())
                .arg("--expect-done")
                .arg(p.expect_done.to_string())
                .arg("--max-secs")
                .arg(p.max_secs.to_string());
            if let Some(c) = p.cookie {
                cmd.arg("--cookie").arg(c);
            }
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true);
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot start a client process: {e}"))?;
            let stdin = child.stdin.take().ok_or("no stdin")?;
            let stdout = child.stdout.take().ok_or("no stdout")?;
            procs.push(ClientProc {
                child,
                stdin,
                lines: BufReader::new(stdout).lines(),
            });
        }
        Ok(Clients { procs })
    }

    /// Adds another set of client processes (on another server, say) to these.
    pub fn extend(&mut self, other: Clients) {
        self.procs.extend(other.procs);
    }

    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().filter_map(|p| p.child.id()).collect()
    }

    /// Waits for every process's `ready` line; returns (opened, failed).
    pub async fn wait_ready(&mut self, limit: Duration) -> Res<(u64, u64)> {
        let deadline = Instant::now() + limit;
        let (mut opened, mut failed) = (0, 0);
        for p in &mut self.procs {
            let line = read_until(&mut p.lines, deadline, |l| l.starts_with("ready ")).await?;
            let mut parts = line
                .split_whitespace()
                .skip(1)
                .map(|v| v.parse::<u64>().unwrap_or(0));
            opened += parts.next().unwrap_or(0);
            failed += parts.next().unwrap_or(0);
        }
        Ok((opened, failed))
    }

    /// Waits until every process says `complete`; false if `limit` passed first.
    pub async fn wait_complete(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        for p in &mut self.procs {
            if read_until(&mut p.lines, deadline, |l| l == "complete")
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    }

    /// Tells every process to stop and collects their reports.
    pub async fn stop(mut self) -> Res<Vec<ClientReport>> {
        for p in &mut self.procs {
            let _ = p.stdin.write_all(b"stop\n").await;
            let _ = p.stdin.flush().await;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut reports = Vec::new();
        for p in &mut self.procs {
            let line = read_until(&mut p.lines, deadline, |l| l.starts_with("result ")).await?;
            let report: ClientReport = serde_json::from_str(&line["result ".len()..])
                .map_err(|e| format!("unreadable client report: {e}"))?;
            reports.push(report);
            let _ = tokio::time::timeout_at(deadline, p.child.wait()).await;
        }
        Ok(reports)
    }
}

async fn read_until(
    lines: &mut Lines<BufReader<ChildStdout>>,
    deadline: Instant,
    want: impl Fn(&str) -> bool,
) -> Res<String> {
    loop {
        match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Err(_) => return Err("a client process did not answer in time".into()),
            Ok(Err(e)) => return Err(format!("reading a client process: {e}")),
            Ok(Ok(None)) => return Err("a client process exited early".into()),
            Ok(Ok(Some(line))) if want(&line) => return Ok(line),
            Ok(Ok(Some(_))) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_from_the_status_text_and_spans_keep_first_and_highest() {
        let status =
            "Name:\theadway\nVmPeak:\t  999999 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 100 kB\n";
        assert_eq!(vm_rss_kib(status), Some(12_345));
        assert_eq!(vm_rss_kib("Name:\tx\nVmRSS:\n"), None);
        assert_eq!(vm_rss_kib("Name:\tkernel thread\n"), None);

        let mut span = RssSpan::default();
        assert_eq!(span.increase(), None);
        span.add(None);
        span.add(Some(100));
        span.add(Some(180));
        span.add(None);
        span.add(Some(90));
        assert_eq!(
            span,
            RssSpan {
                before: Some(100),
                peak: Some(180),
                samples: 3
            }
        );
        assert_eq!(span.increase(), Some(80));
        let mut shrinking = RssSpan::default();
        shrinking.add(Some(100));
        shrinking.add(Some(50));
        assert_eq!(shrinking.increase(), Some(0));
    }
}
