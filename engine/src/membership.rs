//! Membership: this process among those sharing the store, and the jobs of those that are gone.
//!
//! A process registers itself (role, build, host, pid) before it claims anything, and keeps a
//! heartbeat. Jobs whose claimant is no longer registered are orphans, and any process takes
//! them over: each becomes `interrupted`, or `queued` again to continue from its checkpoint if
//! its kind is resumable. The takeover is fenced by the claimant's id, so a job someone else
//! holds by then is not touched.
//!
//! - On a database only one server may use (SQLite), every other registered process is gone by
//!   definition: at start, their jobs are taken over at once.
//! - On a shared database (PostgreSQL), a process silent for longer than the lease is removed
//!   from the registry by whichever process notices first, and its jobs are taken over.
//!
//! A job a worker on another machine held says why it was taken back: the worker stopped
//! polling within its lease, was disabled by an operator, or its token was revoked. A gone
//! worker's row is removed before its jobs are taken over, so the workers are remembered as
//! last read (at every heartbeat).
//!
//! A process that finds itself removed (its heartbeat finds no row), or that could not refresh
//! its heartbeat for two thirds of the lease (another process may be about to take it for
//! dead), stops every job it runs at once without recording anything, registers again under a
//! new id, and only then claims again: it never keeps running a job that was, or may be, taken
//! over, and the writes of what it stopped are refused by their fence.

use crate::committer::Committer;
use crate::kinds::Registry;
use crate::runner::{self, Runner};
use crate::store::{ProcessRow, RemoteRow, Store, StoreError};
use model::error::Chain;
use model::workers::WorkerState;
use model::{JobError, JobStatus, ProcessId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub struct Membership {
    store: Store,
    committer: Committer,
    kinds: Registry,
    /// How this process registers (its id changes if it has to register again).
    me: Mutex<ProcessRow>,
    lease: Duration,
    /// The workers on other machines as last read, by id, kept a while after they leave the
    /// registry: what their jobs are told when taken over.
    workers: Mutex<HashMap<ProcessId, Known>>,
}

/// A worker as this process last read it.
struct Known {
    name: String,
    token_id: String,
    /// When it was last read registered.
    seen: Instant,
}

/// How many leases a worker gone from the registry is remembered: its jobs are taken over
/// within moments of its removal.
const REMEMBERED_LEASES: u32 = 10;

impl Membership {
    /// Registers this process, then takes over every orphaned job (on a database only one
    /// server uses, those of every process before this one).
    pub async fn join(
        store: Store,
        committer: Committer,
        kinds: Registry,
        role: &str,
        build: &str,
        tags: &[String],
        lease: Duration,
    ) -> Result<Arc<Membership>, StoreError> {
        let me = ProcessRow {
            id: ProcessId::random(),
            role: role.to_string(),
            build: build.to_string(),
            host: hostname(),
            pid: std::process::id() as i64,
            started_at: 0,
            heartbeat_at: 0,
            tags: tags.to_vec(),
            name: String::new(),
        };
        let me = store.register(&me).await?;
        let membership = Arc::new(Membership {
            store,
            committer,
            kinds,
            me: Mutex::new(me),
            lease,
            workers: Mutex::new(HashMap::new()),
        });
        membership.note_workers().await?;
        membership.take_over_orphans().await?;
        Ok(membership)
    }

    /// The id this process is registered under.
    pub fn id(&self) -> ProcessId {
        self.me.lock().unwrap().id.clone()
    }

    /// Keeps the heartbeat, tells `runner` the deployment's slots as they change and, on a
    /// shared database, watches for processes that are gone, until `stopping`.
    pub fn spawn(self: &Arc<Self>, runner: Option<Arc<Runner>>, stopping: CancellationToken) {
        let membership = Arc::clone(self);
        let beat_every = (self.lease / 3).max(Duration::from_millis(100));
        let stop = stopping.clone();
        let heartbeat_runner = runner.clone();
        tokio::spawn(async move {
            let mut last_beat = Instant::now();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(beat_every) => {}
                    _ = stop.cancelled() => return,
                }
                if let Err(e) = membership.note_workers().await {
                    tracing::warn!(error = %Chain(&e), "reading the workers failed");
                }
                let id = membership.id();
                match membership.store.heartbeat(&id).await {
                    Ok(true) => last_beat = Instant::now(),
                    Ok(false) => {
                        tracing::error!(process = %id, "this process was taken for dead and its jobs were taken over; registering again");
                        membership.rejoin(heartbeat_runner.as_deref(), &stop).await;
                        last_beat = Instant::now();
                    }
                    Err(e) if last_beat.elapsed() >= membership.lease * 2 / 3 => {
                        tracing::error!(process = %id, error = %Chain(&e), "the heartbeat failed for two thirds of the lease; stopping this process's jobs so that another process can take them over");
                        membership.rejoin(heartbeat_runner.as_deref(), &stop).await;
                        last_beat = Instant::now();
                    }
                    Err(e) => {
                        tracing::warn!(process = %id, error = %Chain(&e), "refreshing the heartbeat failed")
                    }
                }
            }
        });
        let shared = self.store.is_shared();
        if !shared && runner.is_none() {
            return;
        }
        let membership = Arc::clone(self);
        let watch_every =
            (self.lease / 6).clamp(Duration::from_millis(100), Duration::from_secs(5));
        tokio::spawn(async move {
            loop {
                if let Some(runner) = &runner {
                    // Users' shares follow the deployment's slots as processes and workers come
                    // and go (on a database of one server, as workers do).
                    match membership.slots_apart(runner.max_running()).await {
                        Ok((servers, workers)) => {
                            runner.deployment_slots(servers.max(runner.max_running()), workers)
                        }
                        Err(e) => {
                            tracing::warn!(error = %Chain(&e), "counting the processes failed")
                        }
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(watch_every) => {}
                    _ = stopping.cancelled() => return,
                }
                if !shared {
                    continue;
                }
                if let Err(e) = membership.take_over_orphans().await {
                    tracing::warn!(error = %Chain(&e), "looking for processes that are gone failed");
                }
                if let Some(runner) = &runner {
                    // A job that was taken over may be claimable here.
                    runner.poke();
                }
            }
        });
    }

    /// Stops this process's jobs without recording anything, and registers again under a new
    /// id before claiming anything: what it stopped is taken over as a dead process's.
    async fn rejoin(&self, runner: Option<&Runner>, stopping: &CancellationToken) {
        let stopped = runner.map_or(0, |r| r.abandon());
        let old = self.id();
        let mut again = self.me.lock().unwrap().clone();
        again.id = ProcessId::random();
        loop {
            match self.store.register(&again).await {
                Ok(row) => {
                    *self.me.lock().unwrap() = row;
                    break;
                }
                Err(e) => tracing::warn!(error = %Chain(&e), "registering again failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.lease / 6) => {}
                _ = stopping.cancelled() => return,
            }
        }
        // The old id is gone: its jobs are orphans now, for whoever looks first.
        if let Err(e) = self.store.deregister(&old).await {
            tracing::warn!(error = %Chain(&e), "leaving the registry under the old id failed; it will be taken for dead");
        }
        tracing::warn!(old = %old, new = %self.id(), stopped, "registered again");
        if let Some(runner) = runner {
            runner.resume(self.id());
        }
    }

    /// How many live processes of servers run jobs (processes of one deployment share their
    /// settings, so their slots are that many times this process's).
    pub async fn job_runners(&self) -> Result<usize, StoreError> {
        Ok(self
            .live_runners()
            .await?
            .iter()
            .filter(|p| p.role != crate::workers::REMOTE_ROLE)
            .count())
    }

    /// The deployment's slots: every live server process's (`max_running` each, as this one's)
    /// and every registered worker's own.
    pub async fn slots(&self, max_running: usize) -> Result<usize, StoreError> {
        let (servers, workers) = self.slots_apart(max_running).await?;
        Ok(servers + workers)
    }

    /// The deployment's slots apart: the live server processes' (`max_running` each, as this
    /// one's), and the registered workers'.
    pub async fn slots_apart(&self, max_running: usize) -> Result<(usize, usize), StoreError> {
        let servers = self.job_runners().await? * max_running;
        let remotes = self.store.remotes().await?;
        self.remember(&remotes);
        let workers: i64 = remotes.iter().map(|w| w.slots.max(0)).sum();
        Ok((servers, workers as usize))
    }

    /// Reads the registered workers, to remember them.
    pub(crate) async fn note_workers(&self) -> Result<(), StoreError> {
        let remotes = self.store.remotes().await?;
        self.remember(&remotes);
        Ok(())
    }

    /// Remembers the workers `remotes` (all that are registered now), and forgets those gone
    /// for [`REMEMBERED_LEASES`] leases.
    fn remember(&self, remotes: &[RemoteRow]) {
        let now = Instant::now();
        let mut known = self.workers.lock().unwrap();
        for w in remotes {
            known.insert(
                w.id.clone(),
                Known {
                    name: w.name.clone(),
                    token_id: w.token_id.clone(),
                    seen: now,
                },
            );
        }
        let keep = self.lease * REMEMBERED_LEASES;
        known.retain(|_, w| now.duration_since(w.seen) <= keep);
    }

    /// Why a worker on another machine no longer holds its jobs, if `claimant` is one: it was
    /// disabled by an operator, its token was revoked, or it stopped polling within its lease.
    /// `None` for a server's process.
    async fn worker_gone(&self, claimant: &ProcessId) -> Option<JobError> {
        let registered = match self.store.remote(claimant).await {
            Ok(row) => row,
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "cannot read a worker; its jobs are taken over as a process's");
                None
            }
        };
        if let Some(row) = &registered {
            self.remember(std::slice::from_ref(row));
        }
        let (name, token_id) = {
            let known = self.workers.lock().unwrap();
            let w = known.get(claimant)?;
            (w.name.clone(), w.token_id.clone())
        };
        let why = if registered
            .as_ref()
            .is_some_and(|w| WorkerState::parse(&w.state) == Some(WorkerState::Disabled))
        {
            model::words::jobs::worker_disabled(&name)
        } else if self.revoked(&token_id).await {
            model::words::jobs::worker_revoked(&name)
        } else {
            model::words::jobs::worker_gone(&name, &lease_text(self.lease))
        };
        Some(JobError::words("interrupted", why))
    }

    /// Whether the worker token `id` was revoked.
    async fn revoked(&self, id: &str) -> bool {
        match self.store.worker_tokens().await {
            Ok(tokens) => tokens.iter().any(|t| t.id == id && t.revoked_at.is_some()),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "cannot read the worker tokens");
                false
            }
        }
    }

    /// The tags each live process that runs jobs offers, a list per process.
    pub async fn offered_tags(&self) -> Result<Vec<Vec<String>>, StoreError> {
        Ok(self
            .live_runners()
            .await?
            .into_iter()
            .map(|p| p.tags)
            .collect())
    }

    /// The processes that run jobs and whose heartbeat is within a lease of the newest.
    async fn live_runners(&self) -> Result<Vec<ProcessRow>, StoreError> {
        let rows = self.store.processes().await?;
        let newest = rows.iter().map(|p| p.heartbeat_at).max().unwrap_or(0);
        let lease_ms = self.lease.as_millis() as i64;
        Ok(rows
            .into_iter()
            .filter(|p| p.role != "web" && p.heartbeat_at >= newest - lease_ms)
            .collect())
    }

    /// Removes processes that are gone from the registry, then takes over every job whose
    /// claimant is not registered.
    pub async fn take_over_orphans(&self) -> Result<(), StoreError> {
        let lease_ms = self.lease.as_millis().min(i64::MAX as u128) as i64;
        for gone in self.store.reap_stale(&self.id(), lease_ms).await? {
            tracing::warn!(process = %gone, "a process is gone; its jobs are taken over");
        }
        for orphan in self.store.orphaned_jobs().await? {
            self.take_over(orphan).await;
        }
        Ok(())
    }

    /// Takes a job from the process that held it (fenced by that process): queued again to
    /// continue from its checkpoint if its kind is resumable, else its attempt is lost, tried
    /// again if it has attempts left, or `interrupted`. A worker's job says why the worker
    /// lost it.
    pub(crate) async fn take_over(&self, orphan: crate::store::Orphan) {
        let (owner, job, fence) = (orphan.owner, orphan.job, orphan.claimed_by);
        let worker = match &fence {
            Some(claimant) => self.worker_gone(claimant).await,
            None => None,
        };
        let resume = job.status == JobStatus::Running && self.kinds.is_resumable(&job.kind);
        // A job that cannot resume lost its attempt: tried again if it has attempts left.
        if job.status == JobStatus::Running && !resume {
            let lost = worker.clone().unwrap_or_else(lost_attempt);
            let tries = crate::retries::Tries::from(&job);
            if let Some(wait_ms) = crate::retries::next_attempt(&self.kinds, &tries, &lost) {
                let retried = self
                    .committer
                    .retry(&owner, &job.id, lost, wait_ms, true, fence.clone())
                    .await;
                match retried {
                    Ok(Some(_)) => return,
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(job = %job.id, error = %Chain(&e), "cannot queue a job taken over for another attempt")
                    }
                }
            }
        }
        if let Err(e) = self
            .committer
            .interrupt(
                &owner,
                &job.id,
                worker.unwrap_or_else(runner::interrupted),
                resume,
                fence,
            )
            .await
        {
            tracing::error!(job = %job.id, error = %Chain(&e), "cannot take over a job");
        }
    }

    /// Leaves the registry (a clean shutdown, once this process's jobs are handed over).
    pub async fn leave(&self) {
        if let Err(e) = self.store.deregister(&self.id()).await {
            tracing::warn!(error = %Chain(&e), "leaving the registry failed; this process will be taken for dead");
        }
    }
}

/// The error of an attempt lost with the process that ran it.
fn lost_attempt() -> JobError {
    JobError::words("interrupted", model::words::jobs::attempt_lost())
}

/// A lease as its message says it: "30 s", or "500 ms" for one of a fraction of a second.
fn lease_text(lease: Duration) -> String {
    match lease.subsec_millis() {
        0 => format!("{} s", lease.as_secs()),
        _ => format!("{} ms", lease.as_millis()),
    }
}

/// This machine's name, for the registry (`HOSTNAME`, else the kernel's).
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
