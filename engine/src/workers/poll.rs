//! Registering a worker, and the long poll it takes work through. A poll says how many jobs the
//! worker may take and which it runs; it is answered as soon as there is work for it (claimed
//! under its id: priorities, shares, limits and pauses hold as for any process) or a job of
//! its to stop, or empty after [`Jobs::poll_secs`]. Each poll is the worker's heartbeat.

use super::WorkToken;
use crate::failures::{read_failed, write_failed};
use crate::runner::{kind_limits, share_of};
use crate::store::{HeldJob, QueuedJob, RemoteRow};
use crate::{Caller, Jobs};
use model::error::Chain;
use model::workers::{
    Assigned, Hello, Poll, PollReply, Registered, WorkerInfo, WorkerState, MAX_COMMANDS,
    MAX_COMMANDS_BYTES, MAX_SLOTS, MAX_WORKERS_PER_TOKEN,
};
use model::{AppError, ErrorCode, JobId, JobStatus, ParamType, ProcessId};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The longest name, host and version a worker may give, in characters.
const MAX_WORD: usize = 200;
/// The most job ids a poll may list as running.
const MAX_RUNNING_LISTED: usize = MAX_SLOTS as usize;

impl Jobs {
    /// The longest a poll waits before it is answered empty: a third of the lease, so that a
    /// worker polling without a break is never taken for gone.
    pub fn poll_secs(&self) -> u64 {
        (self.inner.lease.as_secs() / 3).max(1)
    }

    /// Registers a worker that connected with `token`: its kinds become this deployment's.
    /// 422 for a hello that is not well formed or a commands file that cannot be read (naming
    /// the line); 409 for a kind whose name is not the token's to take
    /// ([`crate::workers::kinds`]); 429 past the workers one token may have registered.
    pub async fn register_worker(
        &self,
        caller: &Caller,
        hello: Hello,
    ) -> Result<Registered, AppError> {
        let token = &Self::work_token(caller)?;
        for (field, value) in [
            ("name", &hello.name),
            ("host", &hello.host),
            ("version", &hello.version),
        ] {
            if value.trim().is_empty()
                || value.chars().count() > MAX_WORD
                || value
                    .chars()
                    .any(|c| c.is_control() || model::is_format_mark(c))
            {
                return Err(AppError::invalid_field(
                    field,
                    format!("1 to {MAX_WORD} characters, without control characters"),
                ));
            }
        }
        let tags =
            model::tags::checked(&hello.tags).map_err(|e| AppError::invalid_field("tags", e))?;
        if hello.max_running == 0 || hello.max_running > MAX_SLOTS {
            return Err(AppError::invalid_field(
                "max_running",
                format!("a worker runs 1 to {MAX_SLOTS} jobs at once"),
            ));
        }
        if hello.commands.len() > MAX_COMMANDS_BYTES {
            return Err(AppError::invalid_field(
                "commands",
                format!("a commands file has at most {MAX_COMMANDS_BYTES} bytes"),
            ));
        }
        let commands = self
            .inner
            .remotes
            .parsed
            .read(&hello.commands)
            .map_err(|e| AppError::invalid_field("commands", e))?;
        if commands.is_empty() {
            return Err(AppError::invalid_field(
                "commands",
                "the commands file declares no command: a worker runs the commands of its file",
            ));
        }
        if commands.len() > MAX_COMMANDS {
            return Err(AppError::invalid_field(
                "commands",
                format!(
                    "the commands file declares {} commands, and a worker's declares at most \
                     {MAX_COMMANDS}: split them between workers",
                    commands.len()
                ),
            ));
        }
        if self.stopping().is_cancelled() {
            return Err(AppError::new(
                ErrorCode::Unavailable,
                "the server is shutting down",
            ));
        }
        let registered = self
            .inner
            .store
            .remotes_of_token(&token.id)
            .await
            .map_err(read_failed)?;
        if registered >= MAX_WORKERS_PER_TOKEN {
            return Err(AppError::too_many(
                format!(
                    "{registered} workers are registered with this token, the most one token \
                     may have: stop some (a stopped worker's registration ends with its lease), \
                     or make another worker token"
                ),
                self.inner.lease.as_secs().max(1),
            ));
        }
        self.declare_worker_kinds(token, &commands).await?;
        let row = RemoteRow {
            id: ProcessId::random(),
            name: hello.name.trim().to_string(),
            host: hello.host.trim().to_string(),
            build: hello.version.trim().to_string(),
            pid: hello.pid,
            tags,
            slots: i64::from(hello.max_running),
            state: WorkerState::Active.as_str().to_string(),
            token_id: token.id.clone(),
            commands: hello.commands,
            started_at: 0,
            heartbeat_at: 0,
        };
        let row = self
            .inner
            .store
            .register_remote(&row)
            .await
            .map_err(read_failed)?;
        self.refresh_remote_kinds().await.map_err(read_failed)?;
        tracing::info!(worker = %row.id, name = %row.name, host = %row.host, tags = ?row.tags, "a worker registered");
        // Its kinds' jobs may be waiting.
        self.inner.remotes.wake();
        Ok(Registered {
            id: row.id.to_string(),
            lease_secs: self.inner.lease.as_secs(),
            poll_secs: self.poll_secs(),
            kinds: commands.iter().map(|c| c.info.name.clone()).collect(),
        })
    }

    /// The worker `id`, if it is registered under `token`: 404 otherwise (it was taken for gone,
    /// and registers again).
    pub(crate) async fn worker_of(
        &self,
        token: &WorkToken,
        id: &str,
    ) -> Result<RemoteRow, AppError> {
        let gone = || {
            AppError::new(
                ErrorCode::NotFound,
                "no such worker: it was taken for gone (no poll within its lease) or never \
                 registered; register again",
            )
        };
        let id = ProcessId::parse(id).map_err(|_| gone())?;
        match self.inner.store.remote(&id).await.map_err(read_failed)? {
            Some(w) if w.token_id == token.id => Ok(w),
            _ => Err(gone()),
        }
    }

    /// A worker's poll: the jobs it is given and those of its to stop, as soon as there are
    /// any, or none after [`Jobs::poll_secs`].
    pub async fn poll_work(
        &self,
        caller: &Caller,
        id: &str,
        poll: Poll,
    ) -> Result<PollReply, AppError> {
        let token = &Self::work_token(caller)?;
        let worker = self.worker_of(token, id).await?;
        if poll.running.len() > MAX_RUNNING_LISTED {
            return Err(AppError::invalid_field(
                "running",
                format!("a worker runs at most {MAX_RUNNING_LISTED} jobs"),
            ));
        }
        let running: Vec<JobId> = poll
            .running
            .iter()
            .map(|j| {
                JobId::parse(j).map_err(|_| {
                    AppError::invalid_field("running", format!("{j:?} is not a job id"))
                })
            })
            .collect::<Result<_, _>>()?;
        // Written at most every tenth of the lease: the lease is far longer.
        let beat = self
            .inner
            .remotes
            .beat_due(&worker.id, self.inner.lease / 10);
        if beat
            && !self
                .inner
                .store
                .heartbeat(&worker.id)
                .await
                .map_err(read_failed)?
        {
            return self
                .worker_of(token, id)
                .await
                .map(|_| PollReply::default());
        }
        let state = WorkerState::parse(&worker.state).unwrap_or_default();
        // Listening before the worker's jobs are read: nothing that happens after is missed.
        let mut work = self.inner.remotes.work.subscribe();
        let mut stops = self.inner.remotes.stops.subscribe();
        let mut steered = self.inner.remotes.steered.subscribe();
        let mut ends = self.inner.remotes.ends.subscribe();
        let claims = self.inner.remotes.claim_lock(&worker.id);
        let seen = *claims.lock().await;
        let mut held = self.held_by(&worker.id).await?;
        // What it runs that is no longer its own, or is asked to stop.
        let mut stop: Vec<String> = running
            .iter()
            .filter(|j| {
                state == WorkerState::Disabled
                    || !held
                        .iter()
                        .any(|h| h.id == **j && h.status == JobStatus::Running)
            })
            .map(|j| j.to_string())
            .collect();
        // Jobs it holds and does not list: claimed for it by a poll whose answer it never got
        // (a cut connection, or a poll it gave up on to ask again). They are given again.
        if state != WorkerState::Disabled {
            let mut unknown = Vec::new();
            for id in held.iter().map(|h| &h.id).filter(|h| !running.contains(h)) {
                if let Some(found) = self
                    .inner
                    .store
                    .claimed_job(id)
                    .await
                    .map_err(read_failed)?
                {
                    if found.claimed_by.as_ref() == Some(&worker.id) {
                        unknown.push((found.owner, found.job));
                    }
                }
            }
            if !unknown.is_empty() {
                return Ok(PollReply {
                    jobs: self.assigned(&worker.id, unknown).await?,
                    stop,
                    state,
                });
            }
        }
        let listed: HashSet<&JobId> = running.iter().collect();
        // Its free slots: those it says are free, and those of its listed jobs that stop
        // running while the poll waits, within its slots.
        let mut ended: HashSet<JobId> = HashSet::new();
        let free_now = |held: &[HeldJob], ended: &HashSet<JobId>| {
            let busy = held.len().saturating_sub(ended.len()) as u64;
            (u64::from(poll.free) + ended.len() as u64)
                .min((worker.slots.max(0) as u64).saturating_sub(busy)) as u32
        };
        let mut free = free_now(&held, &ended);
        let until = tokio::time::Instant::now() + Duration::from_secs(self.poll_secs());
        let stopping = self.stopping();
        loop {
            if !stop.is_empty() {
                return Ok(PollReply {
                    jobs: Vec::new(),
                    stop,
                    state,
                });
            }
            work.mark_unchanged();
            if state == WorkerState::Active && free > 0 {
                let mut claimed = claims.lock().await;
                if *claimed != seen {
                    // Another poll of this worker claimed since its jobs were read: what it
                    // holds is read again, and its free slots counted from that.
                    held = self.held_by(&worker.id).await?;
                    ended.retain(|j| held.iter().any(|h| h.id == *j));
                    free = free_now(&held, &ended);
                }
                let jobs = match free {
                    0 => Vec::new(),
                    free => self.claim_for(&worker, free).await?,
                };
                if !jobs.is_empty() {
                    *claimed += 1;
                    drop(claimed);
                    return Ok(PollReply {
                        jobs: self
                            .assigned(
                                &worker.id,
                                jobs.into_iter().map(|q| (q.owner, q.job)).collect(),
                            )
                            .await?,
                        stop,
                        state,
                    });
                }
            }
            // Other processes' moves reach this one as events; a slow look is the safety net.
            let look = match self.inner.store.is_shared() {
                true => Duration::from_secs(2),
                false => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = work.changed() => {}
                stopped = ends.recv() => match stopped {
                    Ok(j) => {
                        if listed.contains(&j) && !ended.contains(&j) {
                            ended.insert(j);
                            // Those ending with it are counted too: one claim for them all.
                            while let Ok(j) = ends.try_recv() {
                                if listed.contains(&j) {
                                    ended.insert(j);
                                }
                            }
                            free = free_now(&held, &ended);
                        }
                    }
                    // Missed some: the worker's next poll counts its slots again.
                    Err(_) => return Ok(PollReply { jobs: Vec::new(), stop, state }),
                },
                stopped = stops.recv() => match stopped {
                    Ok(j) if listed.contains(&j) => stop.push(j.to_string()),
                    Ok(_) => {}
                    // Missed some: the statuses are read again by the next poll; answer now.
                    Err(RecvError::Lagged(_)) => return Ok(PollReply { jobs: Vec::new(), stop, state }),
                    Err(RecvError::Closed) => return Ok(PollReply { jobs: Vec::new(), stop, state }),
                },
                _ = steered.changed() => {
                    // Revoked, drained or disabled meanwhile: said at once.
                    let Some(now) = self.inner.store.remote(&worker.id).await.map_err(read_failed)? else {
                        return Err(self.gone_or_revoked(token).await);
                    };
                    let now = WorkerState::parse(&now.state).unwrap_or_default();
                    if now != state {
                        if now == WorkerState::Disabled {
                            stop = running.iter().map(|j| j.to_string()).collect();
                        }
                        return Ok(PollReply { jobs: Vec::new(), stop, state: now });
                    }
                }
                _ = tokio::time::sleep(look) => {}
                _ = tokio::time::sleep_until(until) => return Ok(PollReply { jobs: Vec::new(), stop, state }),
                _ = stopping.cancelled() => return Ok(PollReply { jobs: Vec::new(), stop, state }),
            }
        }
    }

    /// Why a worker registered with `token` is no longer: 401 if the token was revoked, else
    /// 404 (taken for gone).
    async fn gone_or_revoked(&self, token: &WorkToken) -> AppError {
        let revoked = match self.inner.store.worker_tokens().await {
            Ok(tokens) => tokens
                .iter()
                .any(|t| t.id == token.id && t.revoked_at.is_some()),
            Err(e) => return read_failed(e),
        };
        match revoked {
            true => AppError::unauthorized("the worker token was revoked"),
            false => AppError::new(
                ErrorCode::NotFound,
                "no such worker: it was taken for gone; register again",
            ),
        }
    }

    /// Claims up to `free` jobs for `worker`: of the kinds of its file whose tags it offers.
    async fn claim_for(&self, worker: &RemoteRow, free: u32) -> Result<Vec<QueuedJob>, AppError> {
        let commands = self
            .inner
            .remotes
            .parsed
            .read(&worker.commands)
            .map_err(|e| {
                AppError::internal()
                    .because("reading a worker's commands file", std::io::Error::other(e))
            })?;
        let owners = &self.inner.remotes.owners;
        let kinds: Vec<String> = commands
            .iter()
            .filter(|c| model::tags::missing(&c.requires, &worker.tags).is_empty())
            // Only the kinds its token owns, as they are declared now: a registration from
            // before a change of its kind takes none of its jobs.
            .filter(|c| owners.runs(&worker.token_id, c))
            .map(|c| c.info.name.clone())
            // A kind this server runs itself is its own, not the worker's.
            .filter(|k| !self.inner.kinds.is_local(k))
            .collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let per_owner = match &self.inner.runner {
            Some(runner) => runner.per_owner_with_workers(),
            None => share_of(self.inner.max_running) as u32,
        };
        self.inner
            .committer
            .claim(
                &worker.id,
                free,
                kinds,
                kind_limits(&self.inner.kinds, &self.inner.kind_limits),
                self.inner.kinds.declared_limits(),
                per_owner,
            )
            .await
            .map_err(|e| write_failed("claim jobs for a worker", e))
    }

    /// The jobs `worker` holds, with where their logs stand.
    async fn held_by(&self, worker: &ProcessId) -> Result<Vec<HeldJob>, AppError> {
        self.inner
            .store
            .held_jobs(worker)
            .await
            .map_err(read_failed)
    }

    /// What the worker `worker` needs of the jobs it was given (once claimed, with their
    /// owners): parameters, secrets, timeout, attempt, and where their logs go on, read for
    /// them all at once. A workflow's step or item whose parameters its kind refuses as they
    /// were rendered fails here, saying why, and is not handed out.
    async fn assigned(
        &self,
        worker: &ProcessId,
        jobs: Vec<(model::UserId, model::Job)>,
    ) -> Result<Vec<Assigned>, AppError> {
        let held = self.held_by(worker).await?;
        let mut assigned = Vec::with_capacity(jobs.len());
        for (owner, mut job) in jobs {
            if job.parent.is_some() {
                match self.admit_rendered(&owner, &job).await {
                    Ok(params) => job.params = params,
                    Err(refused) => {
                        let fence = Some(worker.clone());
                        self.inner
                            .committer
                            .transition(&owner, &job.id, JobStatus::Failed, Some(refused), fence)
                            .await
                            .map_err(|e| write_failed("fail a step its kind refused", e))?;
                        continue;
                    }
                }
            }
            let secrets = match self.inner.kinds.takes(&job.kind, ParamType::Secret) {
                true => crate::commands::secrets::read(&self.inner.blobs, &job.id).await,
                false => Default::default(),
            };
            // Not found: its lines are numbered from the first; the report that overlaps is
            // told where the log stands, and the worker sends again from there.
            let log_seq = held
                .iter()
                .find(|h| h.id == job.id)
                .map_or(0, |h| h.log_seq);
            let timeout_ms = job.timeout_ms.or_else(|| {
                self.inner
                    .kinds
                    .default_timeout(&job.kind)
                    .map(|d| d.as_millis() as u64)
            });
            assigned.push(Assigned {
                id: job.id.to_string(),
                kind: job.kind,
                params: job.params,
                attempt: job.attempt,
                timeout_ms,
                log_seq,
                secrets: secrets.into_iter().collect(),
            });
        }
        Ok(assigned)
    }

    /// The registered workers, with the jobs each runs (an operator's view).
    pub async fn workers(&self, caller: &Caller) -> Result<Vec<WorkerInfo>, AppError> {
        caller.may_operate()?;
        let rows = self.inner.store.remotes().await.map_err(read_failed)?;
        let mut infos = Vec::with_capacity(rows.len());
        for w in rows {
            let running = self.held_by(&w.id).await?.len() as u64;
            let kinds = self
                .inner
                .remotes
                .parsed
                .read(&w.commands)
                .map(|c| c.iter().map(|c| c.info.name.clone()).collect())
                .unwrap_or_default();
            infos.push(WorkerInfo {
                id: w.id.to_string(),
                name: w.name,
                host: w.host,
                version: w.build,
                tags: w.tags,
                kinds,
                slots: w.slots.clamp(0, i64::from(MAX_SLOTS)) as u32,
                running,
                state: WorkerState::parse(&w.state).unwrap_or_default(),
                started_at: w.started_at,
                last_seen_at: w.heartbeat_at,
            });
        }
        Ok(infos)
    }

    /// Sets a worker's state (an operator's): `draining` finishes what it runs and takes no
    /// more; `disabled` takes nothing, and what it runs is taken back now (tried again where
    /// its kind allows) and stopped on the worker; `active` takes work again.
    pub async fn set_worker_state(
        &self,
        caller: &Caller,
        id: &str,
        state: WorkerState,
    ) -> Result<WorkerInfo, AppError> {
        caller.may_operate()?;
        let no_such = || AppError::new(ErrorCode::NotFound, "no such worker");
        let pid = ProcessId::parse(id).map_err(|_| no_such())?;
        if !self
            .inner
            .store
            .set_remote_state(&pid, state.as_str())
            .await
            .map_err(read_failed)?
        {
            return Err(no_such());
        }
        tracing::warn!(worker = %pid, state = %state, by = caller.name().unwrap_or_default(), "a worker's state was set");
        self.inner.remotes.steer();
        if state == WorkerState::Disabled {
            for job in self.held_by(&pid).await?.into_iter().map(|h| h.id) {
                if let Some(orphan) = self
                    .inner
                    .store
                    .claimed_job(&job)
                    .await
                    .map_err(read_failed)?
                {
                    if orphan.claimed_by.as_ref() == Some(&pid) {
                        self.inner.membership.take_over(orphan).await;
                    }
                }
            }
        }
        self.refresh_remote_kinds().await.map_err(read_failed)?;
        self.workers(caller)
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(no_such)
    }

    /// Removes the workers that are gone (silent for longer than the lease, or whose token was
    /// revoked), takes over their jobs, and makes the kinds of those left this process's.
    pub(crate) async fn reap_workers(&self) {
        let lease_ms = self.inner.lease.as_millis().min(i64::MAX as u128) as i64;
        match self.inner.store.reap_remotes(lease_ms).await {
            Ok(gone) if !gone.is_empty() => {
                for w in &gone {
                    tracing::warn!(worker = %w, "a worker is gone; its jobs are taken back");
                }
                if let Err(e) = self.inner.membership.take_over_orphans().await {
                    tracing::warn!(error = %Chain(&e), "taking back the jobs of workers that are gone failed");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "looking for workers that are gone failed")
            }
        }
        self.read_worker_kinds().await;
    }

    /// Makes the kinds of the registered workers this process's, saying in the log if it could
    /// not read them (the next look tries again).
    async fn read_worker_kinds(&self) {
        if let Err(e) = self.refresh_remote_kinds().await {
            tracing::warn!(error = %Chain(&e), "reading the workers' kinds failed");
        }
    }

    /// Looks for workers that are gone every sixth of the lease (at least every 5 s), once this
    /// process has been up for a whole lease: a worker cannot poll a server that is not running,
    /// so its silence while none ran (a restart) is not held against it. Until then it only
    /// reads the workers' kinds (those registered before it started are known from its start,
    /// [`Jobs::start`]). Where other processes share the database, they go on looking meanwhile.
    pub(crate) fn spawn_worker_keeper(&self) {
        let engine = self.clone();
        let lease = self.inner.lease;
        let every = (lease / 6).clamp(Duration::from_millis(100), Duration::from_secs(5));
        let stopping = self.stopping();
        let started = tokio::time::Instant::now();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopping.cancelled() => return,
                }
                match started.elapsed() >= lease {
                    true => engine.reap_workers().await,
                    false => engine.read_worker_kinds().await,
                }
            }
        });
    }
}
