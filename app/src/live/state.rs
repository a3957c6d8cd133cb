//! What the tab knows about jobs, and how stream events change it. Pure logic, no browser APIs,
//! so it is unit-tested natively.

use crate::model::{
    DoneEvent, EventType, Job, JobId, JobStatus, LogLine, Notice, OutputEvent, ProgressEvent,
    Snapshot, VersionEvent,
};
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};

thread_local! {
    /// The tab's live state, shared by every island of the page.
    pub(super) static STATE: std::cell::RefCell<LiveState> =
        std::cell::RefCell::new(LiveState::default());
}

/// The stream as a person sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// The stream dropped; the next attempt is scheduled.
    Reconnecting,
    /// The browser reports no network; attempts continue when it is back.
    Offline,
}

impl Connection {
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Live => "live",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }

    /// The state [`Connection::label`] names.
    pub fn parse(label: &str) -> Option<Connection> {
        [
            Connection::Connecting,
            Connection::Live,
            Connection::Reconnecting,
            Connection::Offline,
        ]
        .into_iter()
        .find(|c| c.label() == label)
    }
}

/// A job that finished while the page was open, as a toast shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// Unique within the tab.
    pub id: u64,
    pub job_id: String,
    /// What a person calls the job: its kind's title, or an external job's own.
    pub title: String,
    pub status: JobStatus,
    /// Succeeded with warnings ([`crate::model::Job::succeeded_with_warnings`]).
    pub warned: bool,
    pub error: Option<String>,
}

impl Toast {
    /// `Demo job succeeded`, `Batch job failed: disk full`.
    pub fn text(&self, t: crate::i18n::Text) -> String {
        let status = crate::components::outcome_name(t, self.status, self.warned);
        match &self.error {
            Some(e) => t.toast_job_error(self.title.as_str(), status, e.as_str()),
            None => t.toast_job(self.title.as_str(), status),
        }
    }
}

/// The log lines a page shows of one job.
struct LogWatch {
    lines: ArcRwSignal<Vec<LogLine>>,
    last_seq: u64,
}

/// Most log lines a page keeps per job; older ones leave the page (the API has them all).
pub const MAX_LOG_LINES: usize = 5_000;

pub struct LiveState {
    jobs: HashMap<JobId, ArcRwSignal<Job>>,
    /// Jobs that came after the render (created, or changed status), newest first.
    pub new_jobs: ArcRwSignal<Vec<ArcRwSignal<Job>>>,
    /// The jobs the page lists: rendered, or in `new_jobs`. A snapshot's other jobs are only
    /// followed, until a status change brings them into the page.
    listed: HashSet<JobId>,
    /// The page's render reflects every event up to this one.
    rendered_through: Option<i64>,
    /// The server could not replay the events since the last one seen (`resync`): the next
    /// snapshot's jobs that changed since the render may have been missed, and are listed.
    resynced: bool,
    pub connection: ArcRwSignal<Connection>,
    /// The id of the last event received: where a (re)connection resumes.
    pub last_event_id: Option<i64>,
    /// The name of the events this page shows; tabs showing the same share one stream.
    pub stream: Option<String>,
    logs: HashMap<JobId, LogWatch>,
    /// Operator notices in force that this person has not dismissed.
    pub notices: ArcRwSignal<Vec<Notice>>,
    dismissed: HashSet<i64>,
    /// The build that rendered the page, and whether the server now runs another one.
    page_build: Option<String>,
    pub outdated: ArcRwSignal<bool>,
    pub toasts: ArcRwSignal<Vec<Toast>>,
    next_toast: u64,
    /// Finished jobs not yet announced to screen readers (announcements are throttled).
    pub unannounced: Vec<Toast>,
    /// Bumped whenever a job appears or changes status: what summaries of the jobs follow.
    pub status_changes: ArcRwSignal<u64>,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState {
            jobs: HashMap::new(),
            new_jobs: ArcRwSignal::new(Vec::new()),
            listed: HashSet::new(),
            rendered_through: None,
            resynced: false,
            status_changes: ArcRwSignal::new(0),
            connection: ArcRwSignal::new(Connection::Connecting),
            last_event_id: None,
            stream: None,
            logs: HashMap::new(),
            notices: ArcRwSignal::new(Vec::new()),
            dismissed: HashSet::new(),
            page_build: None,
            outdated: ArcRwSignal::new(false),
            toasts: ArcRwSignal::new(Vec::new()),
            next_toast: 0,
            unannounced: Vec::new(),
        }
    }
}

/// Signal writes decided while the state was borrowed, applied after it is released (a write
/// may run views that read the state again).
#[must_use]
#[derive(Default)]
pub struct Updates(Vec<Box<dyn FnOnce()>>);

impl Updates {
    pub fn run(self) {
        for f in self.0 {
            f();
        }
    }

    fn push(&mut self, f: impl FnOnce() + 'static) {
        self.0.push(Box::new(f));
    }

    fn extend(&mut self, other: Updates) {
        self.0.extend(other.0);
    }
}

impl LiveState {
    /// What the server rendered the page from: the stream resumes after `cursor`, so nothing
    /// that happened between the render and the connection is missed.
    pub fn start_from(
        &mut self,
        cursor: i64,
        build: &str,
        notices: Vec<Notice>,
        dismissed: &[i64],
        stream: &str,
        titles: &[(String, String)],
    ) {
        self.dismissed.extend(dismissed);
        crate::names::learn(titles);
        if self.stream.is_none() {
            self.stream = Some(stream.to_string());
        }
        if self.last_event_id.is_none() {
            self.last_event_id = Some(cursor);
        }
        if self.rendered_through.is_none() {
            self.rendered_through = Some(cursor);
        }
        if self.page_build.is_none() {
            self.page_build = Some(build.to_string());
        }
        if self.notices.with_untracked(Vec::is_empty) && !notices.is_empty() {
            self.notices.set(notices);
        }
    }

    /// Registers a job rendered by the server, or returns the signal already shared for it.
    pub fn track(&mut self, job: Job) -> ArcRwSignal<Job> {
        self.listed.insert(job.id.clone());
        if let Some(sig) = self.jobs.get(&job.id) {
            if sig.with_untracked(|j| j.event_id) < job.event_id {
                sig.set(job);
            }
            return sig.clone();
        }
        let sig = ArcRwSignal::new(job.clone());
        self.jobs.insert(job.id, sig.clone());
        sig
    }

    /// The live signal of a job this page follows, if it does.
    pub fn followed(&self, job_id: &str) -> Option<ArcRwSignal<Job>> {
        self.jobs.get(job_id).cloned()
    }

    /// Keeps the stream's lines of `job_id` after line `after` from now on, for a log whose
    /// view comes later (the job page's log hydrates once its code has loaded, and the lines
    /// written meanwhile must not be lost).
    pub fn keep_log(&mut self, job_id: &JobId, after: u64) {
        self.logs.entry(job_id.clone()).or_insert_with(|| LogWatch {
            lines: ArcRwSignal::new(Vec::new()),
            last_seq: after,
        });
    }

    /// The live log of a job, starting with the lines the server rendered (what the view
    /// hydrates with), and the newer lines the stream brought since the log was kept, for the
    /// view to add once it is live ([`merge_lines`]).
    pub fn watch_log(
        &mut self,
        job_id: &JobId,
        lines: Vec<LogLine>,
    ) -> (ArcRwSignal<Vec<LogLine>>, Vec<LogLine>) {
        if let Some(w) = self.logs.get_mut(job_id) {
            let rendered_last = lines.last().map_or(0, |l| l.seq);
            w.last_seq = w.last_seq.max(rendered_last);
            let mut kept = w.lines.get_untracked();
            kept.retain(|l| l.seq > rendered_last);
            // Nothing shows these lines yet: the view hydrates with what was rendered.
            *w.lines.write_untracked() = lines;
            return (w.lines.clone(), kept);
        }
        let last_seq = lines.last().map_or(0, |l| l.seq);
        let lines = ArcRwSignal::new(lines);
        self.logs.insert(
            job_id.clone(),
            LogWatch {
                lines: lines.clone(),
                last_seq,
            },
        );
        (lines, Vec::new())
    }

    /// Hides a notice for good on this page (the server remembers it for the next ones).
    pub fn dismiss(&mut self, id: i64) -> Updates {
        self.dismissed.insert(id);
        let notices = self.notices.clone();
        let mut u = Updates::default();
        u.push(move || notices.update(|n| n.retain(|n| n.id != id)));
        u
    }

    /// Removes a toast (closed, or timed out).
    pub fn close_toast(&mut self, id: u64) -> Updates {
        let toasts = self.toasts.clone();
        let mut u = Updates::default();
        u.push(move || toasts.update(|t| t.retain(|t| t.id != id)));
        u
    }

    /// Takes a whole job; newer than what is known replaces it. With `list`, a job the page does
    /// not list yet becomes a new job (listed as it is now, should this copy be older).
    pub fn upsert(&mut self, job: Job, list: bool) -> Updates {
        let mut updates = Updates::default();
        let sig = match self.jobs.get(&job.id).cloned() {
            Some(sig) => {
                let (known_event, was_active, was) =
                    sig.with_untracked(|j| (j.event_id, j.status.is_active(), j.status));
                let id = job.id.clone();
                if known_event < job.event_id {
                    // A step of a run (or a child of a job) ends without a toast of its own:
                    // its run's end says it, once.
                    if was_active && job.status.is_terminal() && job.parent.is_none() {
                        let error = job.error.as_ref().map(said_error);
                        let title = self.title_of(&job);
                        let warned = job.succeeded_with_warnings();
                        let ended = (job.status, warned);
                        updates.extend(self.finished(&job.id, &title, ended, error));
                    }
                    if was != job.status {
                        updates.extend(self.status_changed());
                    }
                    let sig = sig.clone();
                    updates.push(move || sig.set(job));
                }
                (id, sig)
            }
            None => {
                updates.extend(self.status_changed());
                let sig = ArcRwSignal::new(job.clone());
                self.jobs.insert(job.id.clone(), sig.clone());
                (job.id, sig)
            }
        };
        let (id, sig) = sig;
        if list && self.listed.insert(id) {
            let list = self.new_jobs.clone();
            updates.push(move || list.update(|l| l.insert(0, sig)));
        }
        updates
    }

    /// Tells the summaries that a job appeared or changed status.
    fn status_changed(&self) -> Updates {
        let mut u = Updates::default();
        let changes = self.status_changes.clone();
        u.push(move || changes.update(|n| *n += 1));
        u
    }

    /// What a person calls `job`, with the titles the page has.
    pub fn title_of(&self, job: &Job) -> String {
        crate::names::job_title_with(job, crate::names::learned)
    }

    /// A toast and an announcement for a job that has just finished.
    fn finished(
        &mut self,
        job_id: &str,
        title: &str,
        (status, warned): (JobStatus, bool),
        error: Option<String>,
    ) -> Updates {
        self.next_toast += 1;
        let toast = Toast {
            id: self.next_toast,
            job_id: job_id.into(),
            title: title.into(),
            status,
            warned,
            error,
        };
        self.unannounced.push(toast.clone());
        let toasts = self.toasts.clone();
        let mut u = Updates::default();
        u.push(move || {
            toasts.update(|t| {
                t.push(toast);
                // A burst of finishing jobs shows the latest few, not a wall of toasts.
                let excess = t.len().saturating_sub(MAX_TOASTS);
                t.drain(..excess);
            })
        });
        u
    }

    /// Applies one stream event. Events older than what a job already reflects are ignored,
    /// so a replay after a snapshot never moves a bar backwards.
    pub fn apply(&mut self, id: Option<i64>, kind: &str, data: &str) -> Result<Updates, String> {
        if let Some(id) = id {
            self.last_event_id = Some(self.last_event_id.map_or(id, |l| l.max(id)));
        }
        let Some(kind) = EventType::parse(kind) else {
            return Ok(Updates::default());
        };
        let parse_err = |e: serde_json::Error| format!("bad {} event: {e}", kind.as_str());
        let id = id.unwrap_or(i64::MAX);
        Ok(match kind {
            EventType::Snapshot => {
                let snap: Snapshot = serde_json::from_str(data).map_err(parse_err)?;
                let mut all = self.check_build(&snap.build);
                let dismissed = &self.dismissed;
                let shown: Vec<Notice> = snap
                    .notices
                    .into_iter()
                    .filter(|n| !dismissed.contains(&n.id))
                    .collect();
                let notices = self.notices.clone();
                all.push(move || notices.set(shown));
                // The jobs that were in the render's view are on the page already; those that
                // have come into it since come again as `job` events, which list them. After a
                // gap that cannot be replayed, those changed since the render are listed here.
                let gap = std::mem::take(&mut self.resynced);
                let rendered = self.rendered_through.unwrap_or(i64::MAX);
                // Oldest first, so that new jobs end up newest first.
                for job in snap.jobs.into_iter().rev() {
                    let list = gap && job.event_id > rendered;
                    all.extend(self.upsert(job, list));
                }
                all
            }
            EventType::Job => self.upsert(serde_json::from_str(data).map_err(parse_err)?, true),
            EventType::Progress => {
                let p: ProgressEvent = serde_json::from_str(data).map_err(parse_err)?;
                self.update_job(&p.job_id.clone(), id, move |j| j.progress = p.progress())
            }
            EventType::Output => {
                let o: OutputEvent = serde_json::from_str(data).map_err(parse_err)?;
                self.update_job(&o.job_id.clone(), id, move |j| o.apply_to(&mut j.outputs))
            }
            EventType::Done => {
                let d: DoneEvent = serde_json::from_str(data).map_err(parse_err)?;
                let mut u = Updates::default();
                if let Some(sig) = self.jobs.get(&d.job_id).cloned() {
                    let (event_id, active, title, level, alone) = sig.with_untracked(|j| {
                        (
                            j.event_id,
                            j.status.is_active(),
                            self.title_of(j),
                            j.progress.level,
                            j.parent.is_none(),
                        )
                    });
                    if event_id < id && active && alone && d.status.is_terminal() {
                        let error = d.error.as_ref().map(said_error);
                        // Its last word, a warning, came before its end.
                        let warned = d.status == JobStatus::Succeeded
                            && level == crate::model::Level::Warning;
                        u.extend(self.finished(&d.job_id, &title, (d.status, warned), error));
                        u.extend(self.status_changed());
                    }
                }
                u.extend(self.update_job(&d.job_id.clone(), id, move |j| {
                    j.status = d.status;
                    j.error = d.error;
                }));
                u
            }
            EventType::Log => {
                let line: LogLine = serde_json::from_str(data).map_err(parse_err)?;
                let mut u = Updates::default();
                if let Some(w) = self.logs.get_mut(&line.job_id) {
                    if line.seq > w.last_seq {
                        w.last_seq = line.seq;
                        let lines = w.lines.clone();
                        u.push(move || {
                            lines.update(|l| {
                                l.push(line);
                                let excess = l.len().saturating_sub(MAX_LOG_LINES);
                                l.drain(..excess);
                            })
                        });
                    }
                }
                u
            }
            EventType::Notice => {
                let notice: Notice = serde_json::from_str(data).map_err(parse_err)?;
                let mut u = Updates::default();
                if !self.dismissed.contains(&notice.id) {
                    let notices = self.notices.clone();
                    u.push(move || {
                        notices.update(|n| {
                            n.retain(|n| n.id != notice.id);
                            if !notice.text.is_empty() {
                                n.push(notice);
                            }
                        })
                    });
                }
                u
            }
            EventType::Version => {
                let v: VersionEvent = serde_json::from_str(data).map_err(parse_err)?;
                self.check_build(&v.build)
            }
            EventType::Resync => {
                self.resynced = true;
                Updates::default()
            }
        })
    }

    /// A server build other than the page's: offer a reload.
    fn check_build(&self, build: &str) -> Updates {
        let mut u = Updates::default();
        let differs = self
            .page_build
            .as_deref()
            .is_some_and(|b| !build.is_empty() && b != build);
        if differs && !self.outdated.get_untracked() {
            let outdated = self.outdated.clone();
            u.push(move || outdated.set(true));
        }
        u
    }

    /// The overall progress of the page's running jobs, for the tab title: percent done of
    /// those with a known total, and how many run. A queued job is not running yet; a job
    /// being cancelled still is until it stops.
    pub fn overall(&self) -> Option<(u32, usize)> {
        let (mut done, mut total, mut active) = (0u128, 0u128, 0usize);
        for sig in self.jobs.values() {
            sig.with_untracked(|j| {
                if matches!(j.status, JobStatus::Running | JobStatus::Cancelling) {
                    active += 1;
                    if let Some(t) = j.progress.total {
                        done += j.progress.current.min(t) as u128;
                        total += t as u128;
                    }
                }
            });
        }
        if active == 0 {
            return None;
        }
        let pct = (done * 100).checked_div(total).unwrap_or(0) as u32;
        Some((pct, active))
    }

    fn update_job(&mut self, job_id: &str, id: i64, f: impl FnOnce(&mut Job) + 'static) -> Updates {
        let mut updates = Updates::default();
        if let Some(sig) = self.jobs.get(job_id) {
            if sig.with_untracked(|j| j.event_id) < id {
                let sig = sig.clone();
                updates.push(move || {
                    sig.update(|j| {
                        f(j);
                        j.event_id = id;
                    })
                });
            }
        }
        updates
    }
}

/// Toasts shown at once.
pub const MAX_TOASTS: usize = 4;

/// The tab title: `(42%) 3 running · Headway`.
/// A finished job's error as its toast says it: Headway's words in the page's language.
fn said_error(e: &crate::model::JobError) -> String {
    crate::i18n::t().said_or(e.said.as_ref(), &e.message)
}

pub fn title(t: crate::i18n::Text, base: &str, overall: Option<(u32, usize)>) -> String {
    match overall {
        Some((pct, n)) => t.tab_title_running(pct, n, base),
        None => base.to_string(),
    }
}

/// One sentence for screen readers about jobs that finished since the last one.
pub fn announcement(t: crate::i18n::Text, finished: &[Toast]) -> Option<String> {
    match finished {
        [] => None,
        [one] => Some(one.text(t)),
        many => {
            let mut by_status: Vec<(JobStatus, usize)> = Vec::new();
            for t in many {
                match by_status.iter_mut().find(|(s, _)| *s == t.status) {
                    Some((_, n)) => *n += 1,
                    None => by_status.push((t.status, 1)),
                }
            }
            if let [(status, n)] = by_status[..] {
                return Some(t.jobs_of_status(n, crate::components::status_name(t, status)));
            }
            let parts: Vec<String> = by_status
                .iter()
                .map(|(s, n)| t.count_of_status(*n, crate::components::status_name(t, *s)))
                .collect();
            Some(t.jobs_finished_burst(many.len(), parts.join(t.list_separator())))
        }
    }
}

/// Adds `more` to a log's lines, in order of `seq`, each line once.
pub fn merge_lines(lines: &mut Vec<LogLine>, more: Vec<LogLine>) {
    lines.extend(more);
    lines.sort_by_key(|l| l.seq);
    lines.dedup_by_key(|l| l.seq);
    let excess = lines.len().saturating_sub(MAX_LOG_LINES);
    lines.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::testing::{name_of, named};
    use crate::model::{JobStatus, Progress};

    /// The id the stream carries for the job a test calls `name`.
    fn uuid(name: &str) -> String {
        named::<JobId>(name).to_string()
    }

    /// Event data as the stream sends it: each `"job_id":"name"` with the job's id.
    fn with_ids(data: &str) -> String {
        let key = r#""job_id":""#;
        let mut out = String::new();
        let mut rest = data;
        while let Some(at) = rest.find(key) {
            let (before, after) = rest.split_at(at + key.len());
            let end = after.find('"').unwrap();
            out.push_str(before);
            out.push_str(&uuid(&after[..end]));
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }

    fn job(id: &str, event_id: i64) -> Job {
        Job {
            id: named(id),
            kind: "demo".into(),
            params: serde_json::json!({}),
            status: JobStatus::Running,
            progress: Progress {
                current: 1,
                total: Some(10),
                ..Default::default()
            },
            error: None,
            created_at: 0,
            started_at: None,
            finished_at: None,
            event_id,
            timeout_ms: None,
            origin: None,
            run_after: None,
            attempt: 1,
            max_attempts: 1,
            next_attempt_at: None,
            attempts: Vec::new(),
            schedule_id: None,
            scheduled_for: None,
            outputs: Vec::new(),
            result: None,
            priority: Default::default(),
            after: None,
            parent: None,
            step: None,
            started_by: None,
            cancelled_by: None,
        }
    }

    fn progress(id: &str, current: u64) -> String {
        with_ids(&format!(
            r#"{{"job_id":"{id}","current":{current},"total":10,"unit":"steps","message":"","level":"success"}}"#
        ))
    }

    #[test]
    fn progress_moves_a_tracked_bar_forward_only() {
        let mut s = LiveState::default();
        let sig = s.track(job("a", 5));
        s.apply(Some(6), "progress", &progress("a", 4))
            .unwrap()
            .run();
        assert_eq!(sig.get_untracked().progress.current, 4);
        // A replayed, older sample is ignored.
        s.apply(Some(3), "progress", &progress("a", 2))
            .unwrap()
            .run();
        assert_eq!(sig.get_untracked().progress.current, 4);
        assert_eq!(sig.get_untracked().event_id, 6);
        assert_eq!(s.last_event_id, Some(6));
    }

    #[test]
    fn an_output_event_adds_that_output_to_the_list() {
        let mut s = LiveState::default();
        let sig = s.track(job("a", 5));
        let output = |name: &str, size: u64| {
            with_ids(&format!(
                r#"{{"job_id":"a","output":{{"name":"{name}","size":{size},"content_type":"text/csv","created_at":1}}}}"#
            ))
        };
        s.apply(Some(6), "output", &output("x.csv", 1))
            .unwrap()
            .run();
        s.apply(Some(7), "output", &output("y.csv", 2))
            .unwrap()
            .run();
        s.apply(Some(8), "output", &output("x.csv", 3))
            .unwrap()
            .run();
        // A replayed one is ignored.
        s.apply(Some(6), "output", &output("z.csv", 4))
            .unwrap()
            .run();
        let listed: Vec<(String, u64)> = sig
            .get_untracked()
            .outputs
            .iter()
            .map(|o| (o.name.clone(), o.size))
            .collect();
        assert_eq!(listed, [("x.csv".into(), 3), ("y.csv".into(), 2)]);
        assert_eq!(sig.get_untracked().event_id, 8);
    }

    /// The names of the jobs listed as new, newest first.
    fn new_job_ids(s: &LiveState) -> Vec<String> {
        s.new_jobs
            .get_untracked()
            .iter()
            .map(|j| name_of(&j.get_untracked().id))
            .collect()
    }

    fn with_status(mut job: Job, status: JobStatus) -> String {
        job.status = status;
        serde_json::to_string(&job).unwrap()
    }

    #[test]
    fn a_snapshots_other_jobs_are_followed_and_listed_once_their_status_changes() {
        let mut s = LiveState::default();
        s.start_from(5, "b1", Vec::new(), &[], "mine", &[]);
        s.track(job("old", 1));
        // Jobs of the caller the render left out (another page of the view, another status).
        let snap = Snapshot {
            jobs: vec![job("b", 9), job("a", 8), job("c", 3), job("old", 1)],
            ..Snapshot::default()
        };
        let snap = serde_json::to_string(&snap).unwrap();
        s.apply(Some(9), "snapshot", &snap).unwrap().run();
        assert!(new_job_ids(&s).is_empty());
        s.apply(
            Some(10),
            "job",
            &with_status(job("a", 10), JobStatus::Succeeded),
        )
        .unwrap()
        .run();
        assert_eq!(new_job_ids(&s), ["a"]);
        // A replayed change older than the snapshot's copy lists the job as the snapshot has it.
        s.apply(Some(7), "job", &with_status(job("b", 7), JobStatus::Queued))
            .unwrap()
            .run();
        assert_eq!(new_job_ids(&s), ["b", "a"]);
        let b = s.new_jobs.get_untracked()[0].get_untracked();
        assert_eq!((b.event_id, b.status), (9, JobStatus::Running));
        // A rendered job is listed already.
        s.apply(
            Some(11),
            "job",
            &with_status(job("old", 11), JobStatus::Failed),
        )
        .unwrap()
        .run();
        assert_eq!(new_job_ids(&s), ["b", "a"]);
        // A job created now, and a start answered before its event.
        s.apply(
            Some(12),
            "job",
            &with_status(job("d", 12), JobStatus::Queued),
        )
        .unwrap()
        .run();
        s.upsert(job("e", 13), true).run();
        assert_eq!(new_job_ids(&s), ["e", "d", "b", "a"]);
    }

    #[test]
    fn after_a_resync_the_snapshot_lists_the_jobs_changed_since_the_render() {
        let mut s = LiveState::default();
        s.start_from(5, "b1", Vec::new(), &[], "mine", &[]);
        s.apply(None, "resync", "{}").unwrap().run();
        let snap = Snapshot {
            jobs: vec![job("b", 9), job("a", 4)],
            ..Snapshot::default()
        };
        let snap = serde_json::to_string(&snap).unwrap();
        s.apply(Some(20), "snapshot", &snap).unwrap().run();
        assert_eq!(new_job_ids(&s), ["b"]);
        // A later snapshot (a reconnection that could be replayed) lists nothing more.
        let snap = Snapshot {
            jobs: vec![job("c", 21)],
            ..Snapshot::default()
        };
        let snap = serde_json::to_string(&snap).unwrap();
        s.apply(Some(21), "snapshot", &snap).unwrap().run();
        assert_eq!(new_job_ids(&s), ["b"]);
    }

    #[test]
    fn done_sets_the_terminal_status() {
        let mut s = LiveState::default();
        let sig = s.track(job("a", 1));
        s.apply(
            Some(2),
            "done",
            &with_ids(r#"{"job_id":"a","status":"succeeded","error":null}"#),
        )
        .unwrap()
        .run();
        assert_eq!(sig.get_untracked().status, JobStatus::Succeeded);
    }

    #[test]
    fn a_job_that_finishes_while_watched_makes_one_toast() {
        let mut s = LiveState::default();
        s.track(job("a", 1));
        s.apply(
            Some(2),
            "done",
            &with_ids(
                r#"{"job_id":"a","status":"failed","error":{"code":"x","message":"disk full"}}"#,
            ),
        )
        .unwrap()
        .run();
        // The same end seen again (a replay, then the snapshot) makes no second toast.
        s.apply(
            Some(2),
            "done",
            &with_ids(r#"{"job_id":"a","status":"failed","error":null}"#),
        )
        .unwrap()
        .run();
        let toasts = s.toasts.get_untracked();
        assert_eq!(toasts.len(), 1);
        let en = crate::i18n::Text::of(crate::i18n::Lang::En);
        assert_eq!(toasts[0].text(en), "demo job failed: disk full");
        assert_eq!(
            announcement(en, &s.unannounced).unwrap(),
            "demo job failed: disk full"
        );
        let zh = crate::i18n::Text::of(crate::i18n::Lang::ZhCn);
        assert_eq!(toasts[0].text(zh), "demo 任务失败：disk full");
    }

    #[test]
    fn a_run_that_ends_makes_one_toast_not_one_per_step() {
        let mut s = LiveState::default();
        let run = job("run", 1);
        let mut step = job("step", 1);
        step.parent = Some(run.id.clone());
        step.step = Some("check".into());
        s.track(run);
        s.track(step);
        for (n, id) in [(2, "step"), (3, "run")] {
            let done = format!(r#"{{"job_id":"{id}","status":"failed","error":null}}"#);
            s.apply(Some(n), "done", &with_ids(&done)).unwrap().run();
        }
        let toasts = s.toasts.get_untracked();
        assert_eq!(toasts.len(), 1, "{toasts:?}");
        assert_eq!(toasts[0].job_id, uuid("run"));
    }

    #[test]
    fn announcements_sum_up_bursts() {
        let t = |status| Toast {
            id: 0,
            job_id: "j".into(),
            title: "demo".into(),
            status,
            warned: false,
            error: None,
        };
        let burst = [
            t(JobStatus::Succeeded),
            t(JobStatus::Failed),
            t(JobStatus::Succeeded),
        ];
        use crate::i18n::{Lang, Text};
        assert_eq!(
            announcement(Text::of(Lang::En), &burst).unwrap(),
            "3 jobs finished: 2 succeeded, 1 failed"
        );
        assert_eq!(
            announcement(Text::of(Lang::ZhCn), &burst).unwrap(),
            "3 个任务已结束：2 个成功、1 个失败"
        );
        assert_eq!(announcement(Text::of(Lang::En), &[]), None);
        let cancelled = [t(JobStatus::Cancelled), t(JobStatus::Cancelled)];
        assert_eq!(
            announcement(Text::of(Lang::En), &cancelled).unwrap(),
            "2 jobs cancelled"
        );
        assert_eq!(
            announcement(Text::of(Lang::ZhCn), &cancelled).unwrap(),
            "2 个任务已取消"
        );
    }

    #[test]
    fn events_seen_again_after_a_handover_change_nothing() {
        // A tab applies events 1 to 6 handed on by the tab holding the stream; the tab that
        // takes over resumes from its own last event (3), so 4 to 6 come again, then 7.
        let mut s = LiveState::default();
        let sig = s.track(job("a", 0));
        let (lines, _) = s.watch_log(&named("a"), Vec::new());
        let event = |id: i64| match id % 2 {
            0 => (
                "log",
                with_ids(&format!(
                    r#"{{"job_id":"a","seq":{id},"level":"info","line":"l","at":0}}"#
                )),
            ),
            _ => (
                "progress",
                with_ids(&format!(
                    r#"{{"job_id":"a","current":{id},"total":10,"unit":"","message":"","level":"success","at":0}}"#
                )),
            ),
        };
        for id in (1..=6).chain(4..=7) {
            let (kind, data) = event(id);
            s.apply(Some(id), kind, &data).unwrap().run();
        }
        let seqs: Vec<u64> = lines.get_untracked().iter().map(|l| l.seq).collect();
        assert_eq!(seqs, [2, 4, 6]);
        assert_eq!(sig.get_untracked().progress.current, 7);
        assert_eq!(s.last_event_id, Some(7));
    }

    #[test]
    fn a_connection_state_is_named_and_read_back() {
        for c in [
            Connection::Connecting,
            Connection::Live,
            Connection::Reconnecting,
            Connection::Offline,
        ] {
            assert_eq!(Connection::parse(c.label()), Some(c));
        }
        assert_eq!(Connection::parse("gone"), None);
    }

    #[test]
    fn log_lines_are_added_once_in_order() {
        let mut s = LiveState::default();
        let line = |seq: u64| {
            with_ids(&format!(
                r#"{{"job_id":"a","seq":{seq},"level":"info","line":"l{seq}","at":0}}"#
            ))
        };
        let (lines, _) = s.watch_log(&named("a"), Vec::new());
        for (id, seq) in [(1, 1), (2, 2), (3, 2), (4, 3)] {
            s.apply(Some(id), "log", &line(seq)).unwrap().run();
        }
        s.apply(Some(5), "log", &line(9).replace(&uuid("a"), &uuid("b")))
            .unwrap()
            .run();
        let seqs: Vec<u64> = lines.get_untracked().iter().map(|l| l.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[test]
    fn a_kept_log_holds_the_lines_that_come_before_its_view() {
        let mut s = LiveState::default();
        let line = |seq: u64| LogLine {
            job_id: named("a"),
            seq,
            level: Default::default(),
            line: format!("l{seq}"),
            at: 0,
            attempt: 1,
        };
        let event = |seq: u64| serde_json::to_string(&line(seq)).unwrap();
        // The page rendered lines 1 to 3; the stream, resuming from before they were read,
        // brings 3 again, then 4 and 5, all before the log's view hydrates.
        s.keep_log(&named("a"), 3);
        for seq in [3, 4, 5] {
            s.apply(Some(seq as i64), "log", &event(seq)).unwrap().run();
        }
        let (lines, kept) = s.watch_log(&named("a"), vec![line(1), line(2), line(3)]);
        let seqs = |lines: &ArcRwSignal<Vec<LogLine>>| -> Vec<u64> {
            lines.get_untracked().iter().map(|l| l.seq).collect()
        };
        // The view hydrates with what the server rendered, then adds the kept lines.
        assert_eq!(seqs(&lines), [1, 2, 3]);
        assert_eq!(kept.iter().map(|l| l.seq).collect::<Vec<_>>(), [4, 5]);
        lines.update(|l| merge_lines(l, kept));
        s.apply(Some(6), "log", &event(6)).unwrap().run();
        assert_eq!(seqs(&lines), [1, 2, 3, 4, 5, 6]);
        // Merging lines the log already has changes nothing.
        lines.update(|l| merge_lines(l, vec![line(5), line(2)]));
        assert_eq!(seqs(&lines), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn notices_come_and_go_and_a_new_build_is_noticed() {
        let mut s = LiveState::default();
        s.start_from(10, "build-1", Vec::new(), &[12], "s", &[]);
        assert_eq!(s.last_event_id, Some(10));
        s.apply(
            Some(11),
            "notice",
            r#"{"id":11,"text":"Maintenance","created_at":0}"#,
        )
        .unwrap()
        .run();
        s.apply(
            Some(12),
            "notice",
            r#"{"id":12,"text":"Second","created_at":0}"#,
        )
        .unwrap()
        .run();
        s.apply(
            Some(12),
            "notice",
            r#"{"id":15,"text":"Third","created_at":0}"#,
        )
        .unwrap()
        .run();
        s.dismiss(15).run();
        s.apply(Some(13), "notice", r#"{"id":11,"text":"","created_at":0}"#)
            .unwrap()
            .run();
        assert!(s.notices.get_untracked().is_empty());
        // A snapshot brings back what is in force, minus what was dismissed.
        let snap =
            r#"{"jobs":[],"build":"build-1","notices":[{"id":12,"text":"Second","created_at":0}]}"#;
        s.apply(Some(13), "snapshot", snap).unwrap().run();
        assert!(s.notices.get_untracked().is_empty());
        assert!(!s.outdated.get_untracked());
        s.apply(Some(14), "version", r#"{"build":"build-2"}"#)
            .unwrap()
            .run();
        assert!(s.outdated.get_untracked());
    }

    #[test]
    fn the_title_shows_overall_progress_of_running_jobs_only() {
        use crate::i18n::{Lang, Text};
        let en = Text::of(Lang::En);
        let mut s = LiveState::default();
        assert_eq!(title(en, "Headway", s.overall()), "Headway");
        s.track(job("a", 1)); // 1 of 10
        let mut b = job("b", 1);
        b.id = named("b");
        b.progress.current = 9;
        s.track(b); // 9 of 10
                    // Queued jobs are not running: they count neither in the number nor in the percent.
        let mut queued = job("c", 1);
        queued.id = named("c");
        queued.status = JobStatus::Queued;
        queued.progress.current = 0;
        s.track(queued);
        assert_eq!(
            title(en, "Headway", s.overall()),
            "(50%) 2 running · Headway"
        );
        assert_eq!(
            title(Text::of(Lang::ZhCn), "Headway", s.overall()),
            "（50%）2 个运行中 · Headway"
        );
    }

    #[test]
    fn malformed_data_is_an_error_not_a_panic() {
        let mut s = LiveState::default();
        assert!(s.apply(Some(1), "progress", "{nope").is_err());
        assert!(s.apply(Some(2), "something-new", "{}").is_ok());
    }
}
