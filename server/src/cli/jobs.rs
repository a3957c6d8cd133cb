//! Jobs from a terminal: `headway jobs` (the caller's jobs, with the dashboard's filters),
//! `headway start KIND --param NAME=VALUE… [--follow]`, `headway follow ID` and `headway cancel
//! ID` (a job is named by its id, or its first 8 characters or more: [`job_id`]). `follow`
//! reads the job's event stream: on a terminal it draws a bar (with its rate and the time left)
//! under the log as it comes; piped, it prints plain lines. A cut stream is resumed from the last
//! event seen (`Last-Event-ID`), so nothing is missed or shown twice. It exits with
//! [`exit_code`] of how the job ended.

use super::{params, printable, refused, Remote};
use crate::config::{JobsArgs, StartArgs};
use crate::Config;
use futures::StreamExt;
use model::{Job, JobStatus, LogLine, ProgressEvent};
use reqwest::Method;
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// What `headway follow` (and `start --follow`) exit with: 0 when the job succeeded, 1 failed,
/// 2 cancelled, 3 interrupted, 4 when it could not be followed (no such job, the server
/// unreachable for [`GIVE_UP_AFTER`]).
pub fn exit_code(status: JobStatus) -> i32 {
    match status {
        JobStatus::Succeeded => 0,
        JobStatus::Failed => 1,
        JobStatus::Cancelled => 2,
        JobStatus::Interrupted => 3,
        _ => 4,
    }
}

/// Following a job gives up after the server has been unreachable this long.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(300);
/// A stream silent this long (keep-alives come every 15 s at most) is taken for cut.
const SILENT_FOR: Duration = Duration::from_secs(45);

/// `headway jobs`: a header, then one line per job, newest first.
pub async fn list(config: &Config, args: &JobsArgs) -> Result<String, String> {
    let remote = Remote::new(config)?;
    let jobs = history(
        &remote,
        model::HistoryQuery {
            status: args.status.clone(),
            kind: args.kind.clone(),
            q: args.search.clone(),
            limit: Some(args.limit),
            ..Default::default()
        },
    )
    .await?;
    if jobs.is_empty() {
        return Ok("no jobs".into());
    }
    let header = format!(
        "{:<36}  {:<11}  {:>6}  {:<25}  WHAT",
        "ID", "STATUS", "DONE", "CREATED"
    );
    Ok(std::iter::once(header)
        .chain(jobs.iter().map(row))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// One job in a line: id, status, progress, when it was made (in the terminal's zone), what it
/// is.
fn row(job: &Job) -> String {
    let progress = match job.progress.percent() {
        Some(p) => format!("{p:>5.1}%"),
        None if job.progress.current > 0 => format!("{:>6}", job.progress.current),
        None => "     -".into(),
    };
    format!(
        "{}  {:<11}  {progress}  {}  {}",
        job.id,
        job.status.as_str(),
        super::local_time(job.created_at),
        what(job),
    )
}

/// A job's kind, with an external job's title.
fn what(job: &Job) -> String {
    match job.title() {
        Some(title) => format!("{}: {title}", job.kind),
        None => job.kind.clone(),
    }
}

/// `headway start`: starts a job; with `follow`, follows it and exits as [`exit_code`] says.
pub async fn start(config: &Config, args: &StartArgs) -> Result<i32, String> {
    let remote = Remote::new(config)?;
    let mut body = json!({"kind": args.kind, "params": params(&args.param)?});
    if let Some(path) = &args.definition {
        if args.kind != "workflow" {
            return Err(
                "--definition starts a workflow: headway start workflow --definition FILE".into(),
            );
        }
        let values = params(&args.param)?;
        body["params"] = json!({"workflow": definition(path)?, "params": values});
    }
    // As written: the server says what a priority, a job to run after or a condition may be,
    // and who may ask for them.
    if let Some(priority) = &args.priority {
        body["priority"] = json!(priority);
    }
    if !args.after.is_empty() {
        let mut after = Vec::with_capacity(args.after.len());
        for id in &args.after {
            after.push(job_id(&remote, id).await?);
        }
        body["after"] = json!(after);
    }
    if let Some(when) = &args.when {
        body["when"] = json!(when);
    }
    let job = remote
        .expect(Method::POST, "/jobs", Some(&body), &[200, 201])
        .await?;
    let id = printable(job["id"].as_str().unwrap_or_default()).into_owned();
    if !args.follow {
        println!("{id}");
        return Ok(0);
    }
    eprintln!("headway: job {id}: {}/jobs/{id}", remote.base());
    follow(config, &id).await
}

/// The workflow the file at `path` defines, as the API takes it: JSON as it is, or the one
/// `[[workflow]]` of a TOML file written as the workflows file is (its `step`s become `steps`).
fn definition(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        return serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", path.display()));
    }
    let file: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    let mut workflows = match file.get("workflow") {
        Some(toml::Value::Array(all)) if all.len() == 1 => all.clone(),
        _ => {
            return Err(format!(
                "{}: write one [[workflow]], as in the workflows file",
                path.display()
            ))
        }
    };
    let mut one = serde_json::to_value(workflows.remove(0)).map_err(|e| e.to_string())?;
    if let Some(steps) = one.as_object_mut().and_then(|w| w.remove("step")) {
        one["steps"] = steps;
    }
    Ok(one)
}

/// The caller's jobs that `query` asks for (`GET /jobs`), as the server lists them.
async fn history(remote: &Remote, query: model::HistoryQuery) -> Result<Vec<Job>, String> {
    let page = remote
        .expect(
            Method::GET,
            &format!("/jobs?{}", query.to_query_string()),
            None,
            &[200],
        )
        .await?;
    serde_json::from_value(page["jobs"].clone())
        .map_err(|e| format!("the server answered jobs this client cannot read: {e}"))
}

/// The whole id of the job `given` names: its id, or the start of it (at least its first 8
/// characters, as every page shows it), among the jobs the caller sees, a run's steps included.
/// Why not, in a sentence: nothing or more than one job starts so.
pub async fn job_id(remote: &Remote, given: &str) -> Result<String, String> {
    let given = given.trim();
    if model::JobId::parse(given).is_ok() {
        return Ok(given.to_ascii_lowercase());
    }
    let start = given.to_ascii_lowercase();
    // What the server reads as the start of an id: the same rule.
    if !matches!(
        engine::store::Search::parse(&start),
        engine::store::Search::IdPrefix { .. }
    ) {
        return Err(format!(
            "{:?} is not a job id: give its id, or its first {} characters or more",
            printable(given),
            engine::store::Search::MIN_ID_START
        ));
    }
    let query = model::HistoryQuery {
        q: Some(start.clone()),
        limit: Some(2),
        ..Default::default()
    };
    let jobs = history(remote, query).await?;
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    match ids.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!("no job of yours has an id starting with {start}")),
        more => Err(format!(
            "more than one job has an id starting with {start} ({}): give more of it",
            more.join(", ")
        )),
    }
}

/// `headway cancel ID`: asks the job to stop.
pub async fn cancel(config: &Config, id: &str) -> Result<String, String> {
    let remote = Remote::new(config)?;
    let id = &job_id(&remote, id).await?;
    let job = remote
        .expect(Method::POST, &format!("/jobs/{id}/cancel"), None, &[200])
        .await?;
    Ok(format!(
        "job {id}: {}",
        job["status"].as_str().unwrap_or("cancelling")
    ))
}

/// `headway follow ID`: shows the job live until it ends; the status to exit with.
pub async fn follow(config: &Config, id: &str) -> Result<i32, String> {
    let remote = Remote::new(config)?;
    let id = &match job_id(&remote, id).await {
        Ok(id) => id,
        Err(why) => {
            eprintln!("headway: {why}");
            return Ok(4);
        }
    };
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut view = View::new(std::io::stderr().is_terminal());
    let mut last_id: Option<String> = None;
    let mut failing_since: Option<Instant> = None;
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut request = http
            .get(format!("{}/api/v1/jobs/{id}/events", remote.base()))
            .bearer_auth(remote.token())
            .header("accept", "text/event-stream");
        if let Some(last) = &last_id {
            request = request.header("last-event-id", last);
        }
        let reason = match request.send().await {
            Ok(reply) if reply.status().is_success() => {
                failing_since = None;
                backoff = Duration::from_millis(200);
                match read_stream(reply, &mut view, &mut last_id).await {
                    Some(status) => {
                        view.finish(status);
                        return Ok(exit_code(status));
                    }
                    None => "the stream was cut".to_string(),
                }
            }
            Ok(reply)
                if reply.status().as_u16() == 404
                    || reply.status().as_u16() == 401
                    || reply.status().as_u16() == 403 =>
            {
                let status = reply.status().as_u16();
                let json = reply.json::<Value>().await.unwrap_or(Value::Null);
                eprintln!("headway: {}", refused(status, &json));
                return Ok(4);
            }
            Ok(reply) => format!("the server answered {}", reply.status()),
            Err(e) => format!("cannot reach Headway at {}: {e}", remote.base()),
        };
        let since = *failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() > GIVE_UP_AFTER {
            view.clear();
            eprintln!(
                "headway: {reason}; gave up after {} s",
                GIVE_UP_AFTER.as_secs()
            );
            return Ok(4);
        }
        view.note(&format!("{reason}; resuming"));
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Reads one connection of the job's stream into `view`; the job's end, or `None` when the
/// stream was cut first.
async fn read_stream(
    reply: reqwest::Response,
    view: &mut View,
    last_id: &mut Option<String>,
) -> Option<JobStatus> {
    let mut body = reply.bytes_stream();
    let mut buffer = String::new();
    let (mut event, mut data, mut id) = (String::new(), String::new(), None::<String>);
    loop {
        let chunk = match tokio::time::timeout(SILENT_FOR, body.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            // The stream ended cleanly: after the job's end (which the snapshot may have been).
            Ok(None) => return view.ended,
            _ => return None,
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find('\n') {
            let line = buffer[..end].trim_end_matches('\r').to_string();
            buffer.drain(..=end);
            if line.is_empty() {
                // The end of an event.
                if !event.is_empty() || !data.is_empty() {
                    if let Some(status) = view.event(&event, &data) {
                        return Some(status);
                    }
                }
                if let Some(seen) = id.take() {
                    *last_id = Some(seen);
                }
                event.clear();
                data.clear();
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            } else if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim().to_string());
            }
        }
    }
}

/// What `follow` shows: the log as it comes and the bar, drawn in place on a terminal or as
/// plain lines when piped.
struct View {
    terminal: bool,
    /// The bar is on screen (the last line of stderr).
    drawn: bool,
    progress: Option<ProgressEvent>,
    /// The first sample seen, for the rate.
    first: Option<(Instant, u64)>,
    /// The last percent printed, piped.
    printed: Option<u64>,
    /// The last log line shown (a resumed stream starts after it anyway).
    seq: u64,
    /// The job's end as a snapshot or a `job` event said it: the events replayed after it
    /// are still shown, until its `done` or the end of the stream.
    ended: Option<JobStatus>,
    /// Its attempt, of how many it may have (`attempt 2 of 3` when it has more than one).
    attempt: (u32, u32),
    /// Queued again, waiting to be tried again: no rate is counted meanwhile.
    waiting: bool,
    /// The last attempt seen running.
    running: u32,
}

impl View {
    fn new(terminal: bool) -> View {
        View {
            terminal,
            drawn: false,
            progress: None,
            first: None,
            printed: None,
            seq: 0,
            ended: None,
            attempt: (0, 0),
            waiting: false,
            running: 0,
        }
    }

    /// Takes one event; the job's end when it is its `done`.
    fn event(&mut self, event: &str, data: &str) -> Option<JobStatus> {
        let value: Value = serde_json::from_str(data).ok()?;
        match event {
            "snapshot" => {
                let job: Job = serde_json::from_value(value["jobs"][0].clone()).ok()?;
                self.job(&job)
            }
            "job" => {
                let job: Job = serde_json::from_value(value).ok()?;
                self.job(&job)
            }
            "progress" => {
                let p: ProgressEvent = serde_json::from_value(value).ok()?;
                self.sample(p);
                None
            }
            "log" => {
                let line: LogLine = serde_json::from_value(value).ok()?;
                if line.seq > self.seq || line.attempt > 1 {
                    self.seq = line.seq;
                    self.clear();
                    let mut out = std::io::stdout();
                    let _ = writeln!(out, "{}", printable(&line.line));
                    let _ = out.flush();
                    self.draw();
                }
                None
            }
            "done" => {
                let done: model::DoneEvent = serde_json::from_value(value).ok()?;
                if let (Some(error), None) = (&done.error, self.ended) {
                    self.note(&format!("{}: {}", error.code, error.message));
                }
                Some(done.status)
            }
            _ => None,
        }
    }

    fn job(&mut self, job: &Job) -> Option<JobStatus> {
        // Another attempt: said once, and its rate counted from its own start, not over the
        // wait before it.
        let attempt = (job.attempt, job.max_attempts);
        let waiting = job.status == JobStatus::Queued && job.next_attempt_at.is_some();
        if attempt != self.attempt || waiting != self.waiting {
            self.first = None;
        }
        if waiting && !self.waiting {
            if let Some(last) = job.attempts.last() {
                let why = last
                    .error
                    .as_ref()
                    .map(|e| format!(" ({}: {})", e.code, e.message))
                    .unwrap_or_default();
                let now = engine::now_ms();
                let wait = job.next_attempt_at.unwrap_or(now) - now;
                self.note(&format!(
                    "attempt {} of {} failed{why}; the next starts in about {}",
                    last.n,
                    job.max_attempts,
                    duration(wait as f64 / 1000.0)
                ));
            }
        }
        if job.status == JobStatus::Running && job.attempt > 1 && job.attempt > self.running {
            self.note(&format!("attempt {} of {}", job.attempt, job.max_attempts));
        }
        if job.status == JobStatus::Running {
            self.running = self.running.max(job.attempt);
        }
        (self.attempt, self.waiting) = (attempt, waiting);
        self.sample(ProgressEvent::new(&job.id, &job.progress));
        if job.status.is_terminal() && self.ended.is_none() {
            if let Some(error) = &job.error {
                self.note(&format!("{}: {}", error.code, error.message));
            }
            self.ended = Some(job.status);
        }
        None
    }

    fn sample(&mut self, p: ProgressEvent) {
        if self.first.is_none() || self.first.is_some_and(|(_, c)| p.current < c) {
            self.first = Some((Instant::now(), p.current));
        }
        self.progress = Some(p);
        self.draw();
    }

    /// The bar's text: how far, the rate, the time left, the message.
    fn bar_text(&self) -> Option<String> {
        let p = self.progress.as_ref()?;
        let unit = if p.unit.is_empty() {
            "steps"
        } else {
            p.unit.as_str()
        };
        let mut text = match p.total {
            Some(total) if total > 0 => {
                let pct = p.current.min(total) as f64 * 100.0 / total as f64;
                let filled = (pct / 5.0) as usize;
                format!(
                    "[{}{}] {pct:5.1}% {}/{total} {unit}",
                    "#".repeat(filled),
                    "-".repeat(20 - filled.min(20)),
                    p.current
                )
            }
            _ => format!("{} {unit}", p.current),
        };
        if let Some((at, from)) = self.first.filter(|_| !self.waiting) {
            let secs = at.elapsed().as_secs_f64();
            let done = p.current.saturating_sub(from);
            if secs >= 1.0 && done > 0 {
                let rate = done as f64 / secs;
                text.push_str(&format!(" · {rate:.1} {unit}/s"));
                if let Some(total) = p.total {
                    let left = total.saturating_sub(p.current) as f64 / rate;
                    text.push_str(&format!(" · about {} left", duration(left)));
                }
            }
        }
        if self.waiting {
            text.push_str(" · waiting to be tried again");
        } else if self.attempt.0 > 1 {
            text.push_str(&format!(
                " · attempt {} of {}",
                self.attempt.0, self.attempt.1
            ));
        }
        if !p.message.is_empty() {
            text.push_str(&format!(" · {}", p.message));
        }
        Some(text)
    }

    fn draw(&mut self) {
        let Some(text) = self.bar_text() else { return };
        let text = printable(&text);
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r\x1b[K{text}");
            self.drawn = true;
        } else {
            // Piped: a line for each percent (or each sample, without a total).
            let p = self.progress.as_ref().expect("bar_text had it");
            let step = p
                .total
                .filter(|t| *t > 0)
                .map(|t| p.current.min(t) * 100 / t)
                .unwrap_or(p.current);
            if self.printed == Some(step) {
                return;
            }
            self.printed = Some(step);
            let _ = writeln!(err, "progress {text}");
        }
        let _ = err.flush();
    }

    /// Takes the bar off the screen (before a log line is printed).
    fn clear(&mut self) {
        if self.terminal && self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.drawn = false;
        }
    }

    fn note(&mut self, text: &str) {
        self.clear();
        eprintln!("headway: {}", printable(text));
        self.draw();
    }

    fn finish(&mut self, status: JobStatus) {
        self.draw();
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
        eprintln!("headway: the job {status}");
    }
}

/// Seconds as people say them: 42s, 3m 05s, 2h 10m.
fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_is_a_workflow_of_toml_or_json_as_the_api_takes_it() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("etl.toml");
        std::fs::write(
            &toml,
            "[[workflow]]\nname = \"etl\"\n[[workflow.step]]\nname = \"a\"\nkind = \"demo\"\n\
             params = { steps = 2 }\n",
        )
        .unwrap();
        let want = json!({"name": "etl", "steps": [{"name": "a", "kind": "demo", "params": {"steps": 2}}]});
        assert_eq!(definition(&toml).unwrap(), want);
        let json = dir.path().join("etl.json");
        std::fs::write(&json, want.to_string()).unwrap();
        assert_eq!(definition(&json).unwrap(), want);
        for (name, text, says) in [
            (
                "two.toml",
                "[[workflow]]\nname = \"a\"\n[[workflow]]\nname = \"b\"\n",
                "write one [[workflow]]",
            ),
            ("none.toml", "name = \"a\"\n", "write one [[workflow]]"),
            ("bad.toml", "[[workflow]\n", "bad.toml: "),
            ("bad.json", "{", "not JSON"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let e = definition(&path).unwrap_err();
            assert!(e.contains(says), "{name}: {e}");
        }
        assert!(definition(&dir.path().join("missing.toml"))
            .unwrap_err()
            .starts_with("cannot read"));
    }

    #[test]
    fn each_end_has_its_own_exit_status() {
        let codes: Vec<i32> = [
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
            JobStatus::Interrupted,
        ]
        .into_iter()
        .map(exit_code)
        .collect();
        assert_eq!(codes, [0, 1, 2, 3]);
        assert_eq!(duration(42.4), "42s");
        assert_eq!(duration(185.0), "3m 05s");
        assert_eq!(duration(7_800.0), "2h 10m");
    }
}
