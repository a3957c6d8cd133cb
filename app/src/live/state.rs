//! What the tab knows about jobs, and how stream events change it. Pure logic, no browser APIs,
//! so it is unit-tested natively.

use crate::model::{DoneEvent, EventType, Job, ProgressEvent, Snapshot};
use leptos::prelude::*;
use std::collections::HashMap;

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
}

pub struct LiveState {
    jobs: HashMap<String, ArcRwSignal<Job>>,
    pub new_jobs: ArcRwSignal<Vec<ArcRwSignal<Job>>>,
    pub connection: ArcRwSignal<Connection>,
    /// The id of the last event received: where a reconnect resumes.
    pub last_event_id: Option<i64>,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState {
            jobs: HashMap::new(),
            new_jobs: ArcRwSignal::new(Vec::new()),
            connection: ArcRwSignal::new(Connection::Connecting),
            last_event_id: None,
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
}

impl LiveState {
    /// Registers a job rendered by the server, or returns the signal already shared for it.
    pub fn track(&mut self, job: Job) -> ArcRwSignal<Job> {
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

    /// Takes a whole job; newer than what is known replaces it, unknown is a new job.
    pub fn upsert(&mut self, job: Job) -> Updates {
        let mut updates = Updates::default();
        match self.jobs.get(&job.id) {
            Some(sig) => {
                if sig.with_untracked(|j| j.event_id) < job.event_id {
                    let sig = sig.clone();
                    updates.push(move || sig.set(job));
                }
            }
            None => {
                let sig = ArcRwSignal::new(job.clone());
                self.jobs.insert(job.id, sig.clone());
                let list = self.new_jobs.clone();
                updates.push(move || list.update(|l| l.insert(0, sig)));
            }
        }
        updates
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
                let mut all = Updates::default();
                // Oldest first, so that new jobs end up newest first.
                for job in snap.jobs.into_iter().rev() {
                    all.0.extend(self.upsert(job).0);
                }
                all
            }
            EventType::Job => self.upsert(serde_json::from_str(data).map_err(parse_err)?),
            EventType::Progress => {
                let p: ProgressEvent = serde_json::from_str(data).map_err(parse_err)?;
                self.update_job(&p.job_id.clone(), id, move |j| j.progress = p.progress())
            }
            EventType::Done => {
                let d: DoneEvent = serde_json::from_str(data).map_err(parse_err)?;
                self.update_job(&d.job_id.clone(), id, move |j| {
                    j.status = d.status;
                    j.error = d.error;
                })
            }
            _ => Updates::default(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JobStatus, Progress};

    fn job(id: &str, event_id: i64) -> Job {
        Job {
            id: id.into(),
            kind: "demo".into(),
            params: serde_json::json!({}),
            status: JobStatus::Running,
            progress: Progress { current: 1, total: Some(10), ..Default::default() },
            error: None,
            created_at: 0,
            started_at: None,
            finished_at: None,
            event_id,
            timeout_ms: None,
            origin: None,
        }
    }

    fn progress(id: &str, current: u64) -> String {
        format!(r#"{{"job_id":"{id}","current":{current},"total":10,"unit":"steps","message":"","level":"success"}}"#)
    }

    #[test]
    fn progress_moves_a_tracked_bar_forward_only() {
        let mut s = LiveState::default();
        let sig = s.track(job("a", 5));
        s.apply(Some(6), "progress", &progress("a", 4)).unwrap().run();
        assert_eq!(sig.get_untracked().progress.current, 4);
        // A replayed, older sample is ignored.
        s.apply(Some(3), "progress", &progress("a", 2)).unwrap().run();
        assert_eq!(sig.get_untracked().progress.current, 4);
        assert_eq!(sig.get_untracked().event_id, 6);
        assert_eq!(s.last_event_id, Some(6));
    }

    #[test]
    fn unknown_jobs_become_new_jobs_newest_first() {
        let mut s = LiveState::default();
        s.track(job("old", 1));
        let snap = Snapshot { jobs: vec![job("b", 9), job("a", 8), job("old", 1)], ..Snapshot::default() };
        let snap = serde_json::to_string(&snap).unwrap();
        s.apply(Some(9), "snapshot", &snap).unwrap().run();
        let ids: Vec<String> = s.new_jobs.get_untracked().iter().map(|j| j.get_untracked().id).collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn done_sets_the_terminal_status() {
        let mut s = LiveState::default();
        let sig = s.track(job("a", 1));
        s.apply(Some(2), "done", r#"{"job_id":"a","status":"succeeded","error":null}"#).unwrap().run();
        assert_eq!(sig.get_untracked().status, JobStatus::Succeeded);
    }

    #[test]
    fn malformed_data_is_an_error_not_a_panic() {
        let mut s = LiveState::default();
        assert!(s.apply(Some(1), "progress", "{nope").is_err());
        assert!(s.apply(Some(2), "something-new", "{}").is_ok());
    }
}
