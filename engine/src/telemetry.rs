//! The engine's metrics, in the Prometheus registry the server exposes at `/metrics`: jobs
//! created and finished, time in queue and run time by kind, the writer's batches, and (read from
//! the store when scraped) the jobs queued and running by kind, deployment-wide.
//!
//! Counters and histograms count what this process did: on a database shared by several
//! processes, each process's `/metrics` says what it wrote, and a sum over processes is the
//! deployment's. The queued and running gauges are the store's, the same on every process.

use crate::store::{BatchStats, Store, StoreResult};
use model::{Job, JobStatus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FinishedLabels {
    pub kind: String,
    pub status: &'static str,
}

/// Durations of jobs: from 1 ms to about 4.6 hours.
fn job_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 12))
}

pub struct Metrics {
    created: Family<KindLabel, Counter>,
    finished: Family<FinishedLabels, Counter>,
    retried: Family<KindLabel, Counter>,
    queue_seconds: Family<KindLabel, Histogram, fn() -> Histogram>,
    run_seconds: Family<KindLabel, Histogram, fn() -> Histogram>,
    queued: Family<KindLabel, Gauge>,
    running: Family<KindLabel, Gauge>,
    events_written: Counter,
    batch_size: Histogram,
    commit_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            created: Family::default(),
            finished: Family::default(),
            retried: Family::default(),
            queue_seconds: Family::new_with_constructor(job_seconds),
            run_seconds: Family::new_with_constructor(job_seconds),
            queued: Family::default(),
            running: Family::default(),
            events_written: Counter::default(),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 14)),
            commit_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
        }
    }
}

impl Metrics {
    /// Adds the engine's metrics to `registry`, under `headway_`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "headway_jobs_created",
            "Jobs created, by kind",
            self.created.clone(),
        );
        registry.register(
            "headway_jobs_finished",
            "Jobs that ended, by kind and final status",
            self.finished.clone(),
        );
        registry.register(
            "headway_job_retries",
            "Failed attempts queued again for another, by kind",
            self.retried.clone(),
        );
        registry.register_with_unit(
            "headway_job_queue",
            "Time from creation to start of the jobs this process started, by kind",
            Unit::Seconds,
            self.queue_seconds.clone(),
        );
        registry.register_with_unit(
            "headway_job_run",
            "Time from start to end of the jobs that ended, by kind",
            Unit::Seconds,
            self.run_seconds.clone(),
        );
        registry.register(
            "headway_jobs_queued",
            "Jobs waiting to run, by kind (the store's count)",
            self.queued.clone(),
        );
        registry.register(
            "headway_jobs_running",
            "Jobs running or cancelling, by kind (the store's count)",
            self.running.clone(),
        );
        registry.register(
            "headway_events_written",
            "Events this process committed",
            self.events_written.clone(),
        );
        registry.register(
            "headway_writer_batch_size",
            "Changes per transaction of the writer",
            self.batch_size.clone(),
        );
        registry.register_with_unit(
            "headway_writer_commit",
            "Time of one writer transaction, from its start to the end of its commit",
            Unit::Seconds,
            self.commit_seconds.clone(),
        );
    }

    /// A job was created.
    pub fn created(&self, job: &Job) {
        self.created
            .get_or_create(&KindLabel {
                kind: job.kind.clone(),
            })
            .inc();
    }

    /// A job started, as it was claimed: its time in the queue.
    pub fn started(&self, job: &Job) {
        if let Some(started) = job.started_at {
            let waited = (started - job.created_at).max(0) as f64 / 1000.0;
            self.queue_seconds
                .get_or_create(&KindLabel {
                    kind: job.kind.clone(),
                })
                .observe(waited);
        }
    }

    /// A job moved: if it ended, it is counted with its final status and run time.
    pub fn moved(&self, job: &Job) {
        if !job.status.is_terminal() {
            return;
        }
        let status: &'static str = job.status.into();
        self.finished
            .get_or_create(&FinishedLabels {
                kind: job.kind.clone(),
                status,
            })
            .inc();
        if let (Some(started), Some(finished)) = (job.started_at, job.finished_at) {
            let ran = (finished - started).max(0) as f64 / 1000.0;
            self.run_seconds
                .get_or_create(&KindLabel {
                    kind: job.kind.clone(),
                })
                .observe(ran);
        }
    }

    /// A failed attempt was queued again for another.
    pub fn retried(&self, job: &Job) {
        self.retried
            .get_or_create(&KindLabel {
                kind: job.kind.clone(),
            })
            .inc();
    }

    /// The writer committed a batch.
    pub fn batch(&self, stats: BatchStats) {
        self.events_written.inc_by(stats.events as u64);
        self.batch_size.observe(stats.changes as f64);
        self.commit_seconds.observe(stats.took.as_secs_f64());
    }

    /// Sets the queued and running gauges from the store, before a scrape. Kinds without jobs
    /// in a state show 0 there (every kind in `kinds` is listed).
    pub async fn refresh(&self, store: &Store, kinds: &[&str]) -> StoreResult<()> {
        let counts = store.unfinished_by_kind().await?;
        for kind in kinds {
            let label = KindLabel {
                kind: kind.to_string(),
            };
            let n = |status: JobStatus| {
                counts
                    .iter()
                    .filter(|c| c.kind == *kind && c.status == status)
                    .map(|c| c.n)
                    .sum::<u64>() as i64
            };
            self.queued.get_or_create(&label).set(n(JobStatus::Queued));
            self.running
                .get_or_create(&label)
                .set(n(JobStatus::Running) + n(JobStatus::Cancelling));
        }
        Ok(())
    }
}
