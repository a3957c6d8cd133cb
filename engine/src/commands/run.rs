//! One run of a command: its files and environment prepared, the program started, its three
//! channels read into the job (stdout and stderr to the log, fd 3 to the bar), and its end
//! turned into the job's. The job is reached through a [`Sink`]: the [`JobContext`] on the
//! server, or what a worker reports to.

use super::lines::{self, Line, Source};
use super::protocol::{self, Report};
use super::rundir::RunDir;
use super::sink::Sink;
use super::spawn::Spec;
use super::{Command, Programs, ProgressFrom};
use crate::kinds::{JobContext, RunResult};
use model::{JobError, LogLevel, ParamType};
use serde_json::Value;
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::sync::Arc;

/// Variables a program gets from Headway's own environment, when they are set.
const KEPT: [&str; 4] = ["PATH", "HOME", "LANG", "TZ"];

/// The least silence of a program's pipes, once it has ended, that lets them go unread.
const DRAIN_SILENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `command` as the job of `ctx`, on the server.
pub async fn run(
    command: Arc<Command>,
    programs: Arc<Programs>,
    params: Value,
    ctx: &mut JobContext,
) -> RunResult {
    run_on(command, programs, params, ctx).await
}

/// Runs `command` with `params` as the job `sink` reaches, and returns how the job ends.
pub async fn run_on<S: Sink>(
    command: Arc<Command>,
    programs: Arc<Programs>,
    params: Value,
    sink: &mut S,
) -> RunResult {
    let job = sink.job_id().to_string();
    let secrets = sink.secrets().await;
    let dir = RunDir::create(&programs.runs, &job, sink.attempt())
        .await
        .map_err(|e| {
            JobError::new(
                "start_failed",
                format!("the run's folder could not be made: {e}"),
            )
        })?;
    let paths = inputs(&command, &params, sink, &dir).await?;
    let args = super::args::render_all(&command.args, &params, &paths);
    let env = environment(&command, &params, &paths, &secrets, &job, &dir, &programs);
    let spec = Spec {
        program: command.program.clone(),
        args,
        env,
        cwd: dir.work(),
    };
    let spawned = programs.spawner.spawn(spec).await.map_err(|e| {
        JobError::new(
            "start_failed",
            format!("{} could not be started: {e}", command.program.display()),
        )
    })?;
    let mut group = spawned.control;
    group.grace = programs.grace;
    // Noted before anything else can go wrong: a crash from here on is swept at the next start.
    let _ = dir.note(Some(spawned.group)).await;
    let outputs = dir.outputs();
    // The folder stays until no process of the run is left, however the run ends.
    group.keep(dir);
    let mut child = spawned.child;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Line>(256);
    let tqdm = command.progress == ProgressFrom::Tqdm;
    let readers = [
        tokio::spawn(lines::read(
            spawned.stdout,
            Source::Stdout,
            false,
            tx.clone(),
        )),
        tokio::spawn(lines::read(
            spawned.stderr,
            Source::Stderr,
            tqdm,
            tx.clone(),
        )),
        tokio::spawn(lines::read(spawned.fd3, Source::Fd3, false, tx)),
    ];
    let mut state = State {
        tail: Default::default(),
        secrets: secrets.values().filter(|s| s.len() >= 4).cloned().collect(),
        published: HashMap::new(),
        outputs,
        tqdm,
        refused: None,
    };
    let stop = sink.stop_token();
    let mut exit = None;
    let mut kill_at: Option<tokio::time::Instant> = None;
    // After the program ended, its pipes are read to their end: its supervisor has killed
    // everything the run started, so no writer is left, and everything written is logged
    // however long that takes. Only a pipe handed to a process outside the run (over a socket)
    // could stay open: it is let go once it has been silent for the grace, and at least for
    // [`DRAIN_SILENCE`], so that a reader slowed down on a busy machine is not taken for
    // silence.
    let drain = programs.grace.max(DRAIN_SILENCE);
    let mut drain_until: Option<tokio::time::Instant> = None;
    // Every channel has closed (the program may still run).
    let mut closed = false;
    // When what the program last reported is sent, if it is still held back by the sampling.
    let mut flush_at: Option<tokio::time::Instant> = None;
    loop {
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400);
        tokio::select! {
            line = rx.recv(), if !closed => match line {
                Some(line) => {
                    state.take(line, sink).await;
                    if let Some(until) = drain_until.as_mut() {
                        *until = tokio::time::Instant::now() + drain;
                    }
                    flush_at.get_or_insert_with(|| tokio::time::Instant::now() + crate::context::SAMPLE_EVERY);
                }
                None if exit.is_some() => break,
                None => closed = true,
            },
            status = child.wait(), if exit.is_none() => {
                group.finish();
                exit = Some(status);
                if closed {
                    break;
                }
                drain_until = Some(tokio::time::Instant::now() + drain);
            }
            _ = stop.cancelled(), if kill_at.is_none() && exit.is_none() => {
                kill_at = Some(group.terminate());
            }
            _ = tokio::time::sleep_until(kill_at.unwrap_or(far)), if kill_at.is_some() && exit.is_none() => {
                group.kill();
                kill_at = Some(far);
            }
            _ = tokio::time::sleep_until(flush_at.unwrap_or(far)), if flush_at.is_some() => {
                flush_at = None;
                sink.flush().await;
            }
            _ = tokio::time::sleep_until(drain_until.unwrap_or(far)), if drain_until.is_some() => {
                // A process outside the group holds a pipe and has said nothing for a while:
                // stop listening to it.
                break;
            }
        }
    }
    for r in readers {
        r.abort();
    }
    let status = exit
        .expect("the loop ends once the program has")
        .map_err(|e| {
            JobError::new(
                "start_failed",
                format!("the program could not be waited for: {e}"),
            )
        })?;
    if stop.is_cancelled() {
        // Cancelled, timed out or interrupted: what stopped it says which.
        return Ok(());
    }
    state.publish_all(sink).await;
    if let Some(code) = status.code() {
        if code == 0 {
            // A child it asked for and did not get: its work is not whole.
            return match state.refused {
                Some(why) => Err(JobError::new("child_refused", why)),
                None => Ok(()),
            };
        }
        return Err(state.tail.exit_error(code));
    }
    let signal = status.signal().unwrap_or(0);
    Err(JobError::new(
        format!("signal_{signal}"),
        format!(
            "the program was killed by signal {signal}{}",
            signal_name(signal)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
    ))
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        _ => return None,
    })
}

/// Copies the file (an upload, or an output of a job) each file parameter names into `inputs/`, read-only, and returns the copies'
/// paths by parameter name. The copy is named after the parameter, never after the file.
async fn inputs<S: Sink>(
    command: &Command,
    params: &Value,
    sink: &mut S,
    dir: &RunDir,
) -> Result<HashMap<String, String>, JobError> {
    use std::os::unix::fs::PermissionsExt;
    let mut paths = HashMap::new();
    for p in command
        .params
        .iter()
        .filter(|p| p.kind() == ParamType::File)
    {
        let Some(id) = params.get(p.name()).and_then(Value::as_str) else {
            continue;
        };
        let gone = |e: &dyn std::fmt::Display| {
            JobError::new(
                "upload_gone",
                format!(
                    "the file for {} cannot be read ({e}); it may have expired: upload it again",
                    p.name()
                ),
            )
        };
        let file = model::FileRef::parse(id).ok_or_else(|| gone(&"it names no file"))?;
        let to = dir.inputs().join(p.name());
        let from = sink.input(p.name(), &file, &to).await?;
        // A sink that fetched the file wrote it in place already.
        if from != to {
            tokio::fs::copy(&from, &to).await.map_err(|e| gone(&e))?;
        }
        let _ = tokio::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o400)).await;
        paths.insert(p.name().to_string(), to.to_string_lossy().into_owned());
    }
    Ok(paths)
}

/// The program's whole environment: a short list from Headway's, what the file declares, and
/// the job's own variables. Nothing else of Headway's reaches it.
fn environment(
    command: &Command,
    params: &Value,
    paths: &HashMap<String, String>,
    secrets: &HashMap<String, String>,
    job: &str,
    dir: &RunDir,
    programs: &Programs,
) -> Vec<(String, OsString)> {
    let mut env: Vec<(String, OsString)> = Vec::new();
    for key in KEPT
        .iter()
        .copied()
        .chain(command.pass_env.iter().map(String::as_str))
    {
        if let Some(v) = std::env::var_os(key) {
            env.push((key.to_string(), v));
        }
    }
    for (k, v) in &command.env {
        env.push((k.clone(), v.into()));
    }
    for p in &command.params {
        let value = match p.kind() {
            ParamType::File => paths.get(p.name()).cloned(),
            ParamType::Secret => secrets.get(p.name()).cloned(),
            _ => super::args::as_text(params.get(p.name())),
        };
        if let Some(v) = value {
            env.push((
                format!("HEADWAY_PARAM_{}", p.name().to_ascii_uppercase()),
                v.into(),
            ));
        }
    }
    env.push(("HEADWAY_JOB_ID".into(), job.into()));
    env.push(("HEADWAY_OUTPUT_DIR".into(), dir.outputs().into()));
    if let Some(data) = &programs.data_root {
        env.push(("HEADWAY_DATA_ROOT".into(), data.into()));
    }
    env
}

/// What a run keeps while its program runs.
struct State {
    /// The last stderr lines, for a failed job's message.
    tail: super::tail::StderrTail,
    /// Secret values, masked wherever the program prints them.
    secrets: Vec<String>,
    /// Outputs listed so far, with the size they had.
    published: HashMap<String, u64>,
    outputs: std::path::PathBuf,
    /// Whether stderr's lines are read for tqdm's bars too.
    tqdm: bool,
    /// Why the first child the program asked for was refused: its job fails with it, as the
    /// program could not hear of it.
    refused: Option<String>,
}

impl State {
    fn mask(&self, mut text: String) -> String {
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "••••••");
            }
        }
        text
    }

    async fn take<S: Sink>(&mut self, line: Line, sink: &mut S) {
        let text = self.mask(line.text);
        let text = if line.cut > 0 {
            format!(
                "{text} [cut: the line was longer than {} bytes; {} more dropped]",
                lines::MAX_LINE,
                line.cut
            )
        } else {
            text
        };
        match line.source {
            Source::Stdout => sink.log(LogLevel::Info, text).await,
            Source::Stderr => {
                if let Some(bar) = self.tqdm.then(|| super::tqdm::parse(&text)).flatten() {
                    self.bar(bar, sink).await;
                    return;
                }
                self.tail.push(&text);
                sink.log(LogLevel::Warn, text).await;
            }
            Source::Fd3 => match protocol::parse(&text) {
                Ok(Some(report)) => self.report(report, sink).await,
                Ok(None) => {}
                Err(why) => {
                    sink.log(
                        LogLevel::Warn,
                        format!("fd 3: ignored the line {text:?}: {why}"),
                    )
                    .await
                }
            },
        }
    }

    async fn bar<S: Sink>(&mut self, bar: super::tqdm::Bar, sink: &mut S) {
        let unit = bar.unit.unwrap_or_else(|| sink.progress().unit.clone());
        if sink.progress().total != bar.total || sink.progress().unit != unit {
            sink.set_total(bar.total, &unit).await;
        }
        if let Some(m) = bar.message {
            if sink.progress().message != m {
                sink.set_message(m).await;
            }
        }
        sink.set_current(bar.current).await;
    }

    async fn report<S: Sink>(&mut self, report: Report, sink: &mut S) {
        match report {
            Report::Progress {
                current,
                total,
                unit,
            } => {
                if total.is_some() || unit.is_some() {
                    let total = total.unwrap_or(sink.progress().total);
                    let unit = unit.unwrap_or_else(|| sink.progress().unit.clone());
                    sink.set_total(total, &unit).await;
                }
                sink.set_current(current).await;
            }
            Report::Advance(n) => sink.advance(n).await,
            Report::Total { total, unit } => {
                let unit = unit.unwrap_or_else(|| sink.progress().unit.clone());
                sink.set_total(total, &unit).await;
            }
            Report::Message(m) => {
                let m = self.mask(m);
                sink.set_message(m).await
            }
            Report::Level(level) => sink.set_level(level).await,
            Report::Log(level, text) => {
                let text = self.mask(text);
                sink.log(level, text).await
            }
            Report::Result(value) => {
                if let Err(e) = sink.set_result(value).await {
                    sink.log(
                        LogLevel::Warn,
                        format!("fd 3: result not kept: {}", e.message),
                    )
                    .await;
                }
            }
            Report::Output(name) => self.publish(&name, sink).await,
            Report::Child(child) => self.start_child(child, sink).await,
        }
    }

    /// Starts a child the program asked for, saying so in the log once it started; a refusal
    /// is kept for the job's end.
    async fn start_child<S: Sink>(&mut self, child: model::children::ChildStart, sink: &mut S) {
        let name = child.name.clone();
        match sink.start_child(child).await {
            Ok(Some(job)) => {
                sink.log(LogLevel::Info, format!("child {name:?} started: job {job}"))
                    .await
            }
            Ok(None) => {}
            Err(e) => {
                let why = match e.fields.first() {
                    Some(f) => format!("child {name:?} was refused: {}: {}", f.field, f.message),
                    None => format!("child {name:?} was refused: {}", e.message),
                };
                sink.log(LogLevel::Error, format!("fd 3: {why}")).await;
                self.refused.get_or_insert(why);
            }
        }
    }

    /// Lists the output file `name` of `HEADWAY_OUTPUT_DIR` with the job (again, if it changed
    /// since it was listed).
    async fn publish<S: Sink>(&mut self, name: &str, sink: &mut S) {
        let path = self.outputs.join(name);
        let size = match tokio::fs::symlink_metadata(&path).await {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => {
                sink.log(
                    LogLevel::Warn,
                    format!("output {name:?} is not a plain file in HEADWAY_OUTPUT_DIR; not kept"),
                )
                .await;
                return;
            }
            Err(e) => {
                sink.log(
                    LogLevel::Warn,
                    format!("output {name:?} cannot be read: {e}"),
                )
                .await;
                return;
            }
        };
        if self.published.get(name) == Some(&size) {
            return;
        }
        match sink.keep_output(&path, name, content_type(name)).await {
            Ok(()) => {
                self.published.insert(name.to_string(), size);
            }
            Err(e) => {
                sink.log(
                    LogLevel::Warn,
                    format!("output {name:?} not kept: {}", e.message),
                )
                .await
            }
        }
    }

    /// Lists every file the program left in `HEADWAY_OUTPUT_DIR`.
    async fn publish_all<S: Sink>(&mut self, sink: &mut S) {
        let Ok(mut entries) = tokio::fs::read_dir(&self.outputs).await else {
            return;
        };
        let mut names = Vec::new();
        while let Ok(Some(e)) = entries.next_entry().await {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(problem) = model::files::output_name_problem(&name) {
                sink.log(
                    LogLevel::Warn,
                    format!("output {name:?} not kept: its name {problem}"),
                )
                .await;
                continue;
            }
            names.push(name);
        }
        names.sort();
        for name in names {
            self.publish(&name, sink).await;
        }
    }
}

/// A media type from a file name's extension (`application/octet-stream` when unknown).
fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => "text/csv",
        Some("txt" | "log" | "sha256" | "md5") => "text/plain",
        Some("json") => "application/json",
        Some("jsonl" | "ndjson") => "application/x-ndjson",
        Some("html" | "htm") => "text/html",
        Some("md") => "text/markdown",
        Some("xml") => "application/xml",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        Some("zip") => "application/zip",
        Some("gz" | "tgz") => "application/gzip",
        Some("tar") => "application/x-tar",
        _ => "application/octet-stream",
    }
}
