//! The operator's view of the deployment ([`SystemOverview`], the `/system` page): load and
//! timings by kind from the store, events per second from the head's progress (sampled every
//! few seconds), the store's size and the processes whose heartbeat is younger than the lease.

use crate::engine::{read_failed, Engine};
use model::system::percentile;
use model::{AppError, JobStatus, KindLoad, ProcessInfo, SystemOverview};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// How far back events per second are measured.
const RATE_WINDOW_MS: i64 = 60_000;
/// How often the head is sampled for it.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Samples of (Unix ms, head event id), oldest first, covering the last [`RATE_WINDOW_MS`].
#[derive(Default)]
pub(crate) struct HeadSamples(Mutex<VecDeque<(i64, i64)>>);

impl HeadSamples {
    fn record(&self, at: i64, head: i64) {
        let mut s = self.0.lock().unwrap();
        s.push_back((at, head));
        while s.len() > 2 && s[1].0 <= at - RATE_WINDOW_MS {
            s.pop_front();
        }
    }

    /// Events per second between the oldest sample and (`at`, `head`).
    fn rate(&self, at: i64, head: i64) -> f64 {
        let s = self.0.lock().unwrap();
        match s.front() {
            Some(&(t0, h0)) if at > t0 => (head - h0).max(0) as f64 * 1000.0 / (at - t0) as f64,
            _ => 0.0,
        }
    }
}

impl Engine {
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

    /// The deployment as the operator's page shows it. Whoever calls this has checked that the
    /// caller may see every job.
    pub async fn system_overview(&self) -> Result<SystemOverview, AppError> {
        let now = crate::now_ms();
        let store = &self.inner.store;
        let unfinished = store.unfinished_by_kind().await.map_err(read_failed)?;
        let finished = store
            .finished_since(now - 3_600_000)
            .await
            .map_err(read_failed)?;
        let mut kinds: Vec<String> = self.kinds().into_iter().map(|k| k.name).collect();
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
                    queued: count(&kind, &[JobStatus::Queued]),
                    running: count(&kind, &[JobStatus::Running, JobStatus::Cancelling]),
                    finished_last_hour: ended.len() as u64,
                    unsuccessful_last_hour: ended.iter().filter(|f| f.status != "succeeded").count()
                        as u64,
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
            .map(|p| ProcessInfo {
                this: p.id == me,
                id: p.id,
                role: p.role,
                build: p.build,
                host: p.host,
                pid: p.pid,
                started_at: p.started_at,
                heartbeat_at: p.heartbeat_at,
            })
            .collect();
        let head = self.head();
        Ok(SystemOverview {
            now,
            kinds,
            finished_last_hour: finished.len() as u64,
            unsuccessful_last_hour: finished.iter().filter(|f| f.status != "succeeded").count()
                as u64,
            open_streams: self.bus().subscriptions() as u64,
            events_per_second: self.inner.head_samples.rate(now, head),
            store_bytes: store.size_bytes().await.map_err(read_failed)?,
            processes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::HeadSamples;

    #[test]
    fn events_per_second_over_the_last_minute() {
        let s = HeadSamples::default();
        assert_eq!(s.rate(1_000, 50), 0.0);
        s.record(0, 100);
        s.record(5_000, 150);
        // From the oldest sample: 100 events in 10 s.
        assert_eq!(s.rate(10_000, 200), 10.0);
        // Samples older than the window go, but the newest before it stays as the base.
        for t in (10_000..=120_000).step_by(5_000) {
            s.record(t, 200 + t / 1000);
        }
        // The oldest kept is the newest one at least a window old: (60 s, 260).
        assert_eq!(s.rate(120_000, 320), 1.0);
    }
}
