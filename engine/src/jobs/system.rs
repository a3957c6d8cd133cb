//! The operator's view of the deployment ([`SystemOverview`], the `/system` page): load and
//! timings by kind from the store, events per second from the head's progress (sampled every
//! few seconds), the store's size and the processes whose heartbeat is younger than the lease.

use super::Jobs;
use crate::failures::read_failed;
use model::system::percentile;
use model::{AppError, JobStatus, KindLoad, ProcessInfo, SystemOverview};
use std::time::Duration;
use store_core::FinishedJob;

/// How often the head is sampled for events per second.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// How many of `ended` ended `status`.
fn ended_as<'a>(ended: impl IntoIterator<Item = &'a FinishedJob>, status: JobStatus) -> u64 {
    ended
        .into_iter()
        .filter(|f| f.status == status.as_str())
        .count() as u64
}

/// A registered process as the pages and the API show it (`me`: the process that answers).
fn shown(p: store_core::ProcessRow, me: &model::ProcessId) -> ProcessInfo {
    ProcessInfo {
        this: p.id == *me,
        id: p.id,
        role: p.role,
        build: p.build,
        host: p.host,
        pid: p.pid,
        started_at: p.started_at,
        heartbeat_at: p.heartbeat_at,
        name: p.name,
    }
}

impl Jobs {
    /// Samples the head every few seconds until shutdown, for events per second.
    pub(crate) fn spawn_rate_sampler(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            let stopping = engine.stopping();
            loop {
                tokio::select! {
                    _ = tick.tick() => engine.inner.head_samples.record(crate::now_ms(), engine.head()),
                    _ = stopping.cancelled() => return,
                }
            }
        });
    }

    /// The processes of `ids` still registered (alive, or gone but not yet forgotten), as the
    /// system page shows them: where a job's attempts ran ([`model::Attempt::on`]), for one who
    /// may see that job.
    pub async fn processes_of(&self, ids: &[&str]) -> Result<Vec<ProcessInfo>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let me = self.process_id();
        let rows = self.inner.store.processes().await.map_err(read_failed)?;
        Ok(rows
            .into_iter()
            .filter(|p| ids.contains(&p.id.as_str()))
            .map(|p| shown(p, &me))
            .collect())
    }

    /// The deployment as the operator's page shows it. Whoever calls this has checked that the
    /// caller may see every job (and says whether they may pause kinds: `may_pause`).
    pub async fn system_overview(&self) -> Result<SystemOverview, AppError> {
        let now = crate::now_ms();
        let store = &self.inner.store;
        let unfinished = store.unfinished_by_kind().await.map_err(read_failed)?;
        let finished = store
            .finished_since(now - 3_600_000)
            .await
            .map_err(read_failed)?;
        let infos = self.kinds();
        let title = |kind: &str| match self.inner.kinds.info(kind) {
            Some(info) => info.title,
            None => kind.to_string(),
        };
        let mut kinds: Vec<String> = infos.iter().map(|k| k.name.clone()).collect();
        for k in unfinished
            .iter()
            .map(|c| &c.kind)
            .chain(finished.iter().map(|f| &f.kind))
        {
            if !kinds.contains(k) {
                kinds.push(k.clone());
            }
        }
        let count = |kind: &str, statuses: &[JobStatus]| {
            unfinished
                .iter()
                .filter(|c| c.kind == kind && statuses.contains(&c.status))
                .map(|c| c.n)
                .sum::<u64>()
        };
        let kinds = kinds
            .into_iter()
            .map(|kind| {
                let ended: Vec<_> = finished.iter().filter(|f| f.kind == kind).collect();
                let mut queued_ms: Vec<i64> = ended.iter().filter_map(|f| f.queued_ms).collect();
                let mut ran_ms: Vec<i64> = ended.iter().filter_map(|f| f.ran_ms).collect();
                KindLoad {
                    title: title(&kind),
                    queued: count(&kind, &[JobStatus::Queued]),
                    running: count(&kind, &[JobStatus::Running, JobStatus::Cancelling]),
                    finished_last_hour: ended.len() as u64,
                    failed_last_hour: ended_as(ended.iter().copied(), JobStatus::Failed),
                    cancelled_last_hour: ended_as(ended.iter().copied(), JobStatus::Cancelled),
                    queue_p50_ms: percentile(&mut queued_ms, 50.0),
                    queue_p95_ms: percentile(&mut queued_ms, 95.0),
                    run_p50_ms: percentile(&mut ran_ms, 50.0),
                    run_p95_ms: percentile(&mut ran_ms, 95.0),
                    kind,
                }
            })
            .collect();
        let me = self.process_id();
        let lease_ms = self.inner.lease.as_millis() as i64;
        let rows = store.processes().await.map_err(read_failed)?;
        // Heartbeats are by their own clock (the database's, where processes share it): alive
        // is within a lease of the newest one.
        let newest = rows.iter().map(|p| p.heartbeat_at).max().unwrap_or(now);
        let processes = rows
            .into_iter()
            .filter(|p| p.id == me || p.heartbeat_at >= newest - lease_ms)
            .map(|p| shown(p, &me))
            .collect();
        let head = self.head();
        Ok(SystemOverview {
            now,
            kinds,
            finished_last_hour: finished.len() as u64,
            failed_last_hour: ended_as(&finished, JobStatus::Failed),
            cancelled_last_hour: ended_as(&finished, JobStatus::Cancelled),
            open_streams: self.bus().subscriptions() as u64,
            events_per_second: self.inner.head_samples.rate(now, head),
            store_bytes: store.size_bytes().await.map_err(read_failed)?,
            processes,
            pauses: self.kind_pauses().await?,
            may_pause: false,
            // Read for the caller, who may not see every key ([`Jobs::limits`]).
            limits: Vec::new(),
            workers: Vec::new(),
        })
    }
}
