//! `batch`: processes N items with bounded concurrency, the shape of most real batch work
//! (resize these images, call this API for each row).
//!
//! Each item is real CPU work: a buffer generated from the seed and the item's index is hashed
//! with SHA-256 a few times, on tokio's blocking pool so that the runtime's workers stay free
//! for requests and streams. Whether an item fails is read from its digest, so a given seed
//! fails the same items every time and tests can predict them.

use super::{JobContext, Kind, KindEnv, Retry, RunResult};
use futures::stream::{FuturesUnordered, StreamExt};
use model::{JobError, Level, LogLevel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub struct Batch;

pub const MAX_ITEMS: u64 = 1_000_000;
pub const MAX_ITEM_KIB: u64 = 1024;
pub const MAX_CONCURRENCY: u64 = 64;

/// How many times each item's buffer is hashed.
const ROUNDS: usize = 4;

/// Failed items are logged one line each up to this many; past it they are only counted, so
/// that a million failing items do not become a million log lines and stream events.
const MAX_LOGGED_FAILURES: u64 = 1_000;

/// Processes generated items in parallel: each item hashes a buffer with SHA-256. Failed items
/// are logged; the job ends with a warning if some failed and fails if all did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Batch")]
#[garde(context(KindEnv))]
pub struct BatchParams {
    /// How many items to process.
    #[schemars(title = "Items", extend("default" = 1000))]
    #[schemars(range(min = 1, max = MAX_ITEMS))]
    #[garde(skip)]
    pub items: u64,
    /// How much data each item hashes.
    #[schemars(title = "Item size (KiB)")]
    #[serde(default = "default_item_kib")]
    #[schemars(range(min = 1, max = MAX_ITEM_KIB))]
    #[garde(skip)]
    pub item_kib: u64,
    /// How many items are processed at the same time.
    #[schemars(title = "Concurrency")]
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = MAX_CONCURRENCY))]
    #[garde(skip)]
    pub concurrency: u64,
    /// Probability from 0 to 1 that an item fails (the same items fail for the same seed).
    #[schemars(title = "Failure rate")]
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[garde(skip)]
    pub failure_rate: f64,
    /// Chooses the generated data, and so which items fail.
    #[schemars(title = "Seed")]
    #[serde(default)]
    #[garde(skip)]
    pub seed: u64,
}

fn default_item_kib() -> u64 {
    64
}

fn default_concurrency() -> u64 {
    4
}

/// The result of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub index: u64,
    pub digest: [u8; 32],
    pub failed: bool,
}

/// Does item `index`'s work: fills `kib` KiB from a generator seeded by `seed` and `index`,
/// hashes it [`ROUNDS`] times (each round over the previous digest and the whole buffer), and
/// fails when the digest, read as a fraction of 1, falls under `failure_rate`.
pub fn process_item(seed: u64, index: u64, kib: usize, failure_rate: f64) -> Item {
    let mut rng = SplitMix64(seed ^ SplitMix64(index).next());
    let mut buffer = vec![0u8; kib * 1024];
    for chunk in buffer.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes());
    }
    let mut digest: [u8; 32] = Sha256::digest(&buffer).into();
    for _ in 1..ROUNDS {
        let mut h = Sha256::new();
        h.update(digest);
        h.update(&buffer);
        digest = h.finalize().into();
    }
    let draw = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    // The top 53 bits make a uniform float in [0, 1): a rate of 1 fails every item, 0 none.
    let fraction = (draw >> 11) as f64 / (1u64 << 53) as f64;
    Item {
        index,
        digest,
        failed: fraction < failure_rate,
    }
}

/// SplitMix64: tiny, fast and good enough to make test data that does not compress away.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Kind for Batch {
    type Params = BatchParams;
    const NAME: &'static str = "batch";
    const OPENS_FILES: bool = false;
    /// Each job keeps up to `concurrency` blocking threads busy; two jobs already fill a
    /// small machine.
    const MAX_RUNNING: Option<usize> = Some(2);
    /// A batch whose every item failed is tried again: its failures may have passed.
    const RETRY: Retry = Retry {
        max_attempts: 3,
        base: Duration::from_secs(10),
        cap: Duration::from_secs(300),
        permanent: &[],
    };

    async fn run(p: BatchParams, ctx: &mut JobContext) -> RunResult {
        let (seed, kib, rate) = (p.seed, p.item_kib as usize, p.failure_rate);
        run_items(ctx, p.items, p.concurrency as usize, move |index| {
            process_item(seed, index, kib, rate)
        })
        .await
    }
}

/// Counts of finished items.
#[derive(Debug, Default)]
struct Tally {
    succeeded: u64,
    failed: u64,
}

impl Tally {
    fn summary(&self) -> model::Words {
        model::words::jobs::items_tally(self.succeeded, self.failed)
    }
}

/// Runs `work` for items `0..items` on the blocking pool with at most `concurrency` in flight,
/// and reports them through `ctx`. On cancellation no new item starts and the job returns at
/// once; items already running finish on their own, unobserved (each is bounded work).
async fn run_items<F>(ctx: &mut JobContext, items: u64, concurrency: usize, work: F) -> RunResult
where
    F: Fn(u64) -> Item + Clone + Send + 'static,
{
    ctx.set_total(Some(items), "items").await;
    let mut tally = Tally::default();
    let mut in_flight = FuturesUnordered::new();
    let mut next = 0;
    loop {
        while in_flight.len() < concurrency.max(1) && next < items && !ctx.is_cancelled() {
            let (work, index) = (work.clone(), next);
            in_flight.push(tokio::task::spawn_blocking(move || work(index)));
            next += 1;
        }
        let finished = tokio::select! {
            biased;
            _ = ctx.cancelled() => {
                let done = tally.succeeded + tally.failed;
                ctx.say(model::words::jobs::items_cancelled_after(done, items, tally.succeeded, tally.failed)).await;
                return Ok(());
            }
            finished = in_flight.next() => finished,
        };
        // Nothing in flight and nothing left to start: every item is done.
        let Some(joined) = finished else { break };
        let item = joined.map_err(|e| {
            JobError::new(
                "item_crashed",
                format!("an item's work stopped unexpectedly: {e}"),
            )
        })?;
        if item.failed {
            tally.failed += 1;
            ctx.set_level(Level::Warning).await;
            if tally.failed <= MAX_LOGGED_FAILURES {
                ctx.log(
                    LogLevel::Warn,
                    format!(
                        "item {} failed (digest {})",
                        item.index,
                        hex(&item.digest[..6])
                    ),
                )
                .await;
            } else if tally.failed == MAX_LOGGED_FAILURES + 1 {
                ctx.log(
                    LogLevel::Warn,
                    format!(
                        "more than {MAX_LOGGED_FAILURES} items failed; further failures are only counted"
                    ),
                )
                .await;
            }
        } else {
            tally.succeeded += 1;
        }
        ctx.advance(1).await;
        ctx.say(tally.summary()).await;
    }
    if tally.failed == items {
        return Err(JobError::words(
            "all_failed",
            model::words::jobs::all_items_failed(items),
        ));
    }
    ctx.log(LogLevel::Info, format!("finished: {}", tally.summary()))
        .await;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Harness;
    use model::JobStatus;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn params(value: serde_json::Value) -> BatchParams {
        serde_json::from_value(value).unwrap()
    }

    fn problems(value: serde_json::Value) -> Vec<String> {
        let env = KindEnv::files(crate::files::Files::whole("."));
        match crate::kinds::Registry::builtin().parse("batch", value, &env) {
            Ok(_) => Vec::new(),
            Err(e) => e.fields.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn only_items_is_required_and_the_rest_has_defaults() {
        let p = params(json!({"items": 3}));
        assert_eq!(
            (p.items, p.item_kib, p.concurrency, p.failure_rate, p.seed),
            (3, 64, 4, 0.0, 0)
        );
        assert!(serde_json::from_value::<BatchParams>(json!({"item_kib": 1})).is_err());
        assert!(serde_json::from_value::<BatchParams>(json!({"items": 1, "speed": 2})).is_err());
    }

    #[test]
    fn every_bound_is_checked_and_inclusive() {
        assert!(problems(
            json!({"items": 1, "item_kib": 1, "concurrency": 1, "failure_rate": 0.0})
        )
        .is_empty());
        assert!(problems(
            json!({"items": MAX_ITEMS, "item_kib": 1024, "concurrency": 64, "failure_rate": 1.0})
        )
        .is_empty());
        assert_eq!(
            problems(json!({"items": 0, "item_kib": 1025, "concurrency": 65, "failure_rate": 1.5})),
            ["items", "item_kib", "concurrency", "failure_rate"]
        );
        assert_eq!(
            problems(json!({"items": 1, "item_kib": 0, "concurrency": 0, "failure_rate": -0.1})),
            ["item_kib", "concurrency", "failure_rate"]
        );
    }

    #[test]
    fn items_are_deterministic_from_seed_and_index() {
        assert_eq!(process_item(7, 3, 4, 0.5), process_item(7, 3, 4, 0.5));
        assert_ne!(
            process_item(7, 3, 4, 0.5).digest,
            process_item(7, 4, 4, 0.5).digest
        );
        assert_ne!(
            process_item(7, 3, 4, 0.5).digest,
            process_item(8, 3, 4, 0.5).digest
        );
        assert!((0..50).all(|i| !process_item(1, i, 1, 0.0).failed));
        assert!((0..50).all(|i| process_item(1, i, 1, 1.0).failed));
    }

    #[test]
    fn the_failure_rate_is_roughly_honoured() {
        let failed = (0..1000)
            .filter(|&i| process_item(42, i, 1, 0.25).failed)
            .count();
        assert!(
            (180..=320).contains(&failed),
            "{failed} of 1000 failed at rate 0.25"
        );
    }

    #[tokio::test]
    async fn a_clean_batch_succeeds_with_every_item_counted() {
        let h = Harness::new().await;
        let mut job = h.start("batch", json!({})).await;
        let result = Batch::run(params(json!({"items": 20, "item_kib": 4})), &mut job.ctx).await;
        assert_eq!(result, Ok(()));
        let stored = h.job(&mut job).await;
        assert_eq!(
            (stored.progress.current, stored.progress.total),
            (20, Some(20))
        );
        assert_eq!(stored.progress.unit, "items");
        assert_eq!(stored.progress.message, "20 succeeded, 0 failed");
        assert_eq!(stored.progress.level, Level::Success);
        assert!(h.lines(&mut job, LogLevel::Warn).await.is_empty());
    }

    #[tokio::test]
    async fn failed_items_are_logged_by_index_and_the_job_ends_with_a_warning() {
        let h = Harness::new().await;
        let mut job = h.start("batch", json!({})).await;
        let p = params(
            json!({"items": 40, "item_kib": 2, "concurrency": 3, "failure_rate": 0.3, "seed": 9}),
        );
        let expected: Vec<u64> = (0..40)
            .filter(|&i| process_item(9, i, 2, 0.3).failed)
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < 40,
            "seed 9 should fail some items"
        );

        assert_eq!(Batch::run(p, &mut job.ctx).await, Ok(()));

        let stored = h.job(&mut job).await;
        assert_eq!(stored.progress.level, Level::Warning);
        assert_eq!(
            stored.progress.message,
            format!(
                "{} succeeded, {} failed",
                40 - expected.len(),
                expected.len()
            )
        );
        let mut logged: Vec<u64> = h
            .lines(&mut job, LogLevel::Warn)
            .await
            .iter()
            .map(|line| {
                line.strip_prefix("item ")
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        logged.sort();
        assert_eq!(logged, expected);
    }

    #[tokio::test]
    async fn a_batch_where_every_item_fails_fails_all_failed() {
        let h = Harness::new().await;
        let mut job = h.start("batch", json!({})).await;
        let err = Batch::run(
            params(json!({"items": 5, "item_kib": 1, "failure_rate": 1.0})),
            &mut job.ctx,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "all_failed");
        assert_eq!(err.message, "all 5 items failed");
        assert_eq!(h.lines(&mut job, LogLevel::Warn).await.len(), 5);
    }

    #[tokio::test]
    async fn cancelling_stops_the_batch_promptly() {
        let h = Harness::new().await;
        let mut job = h.start("batch", json!({})).await;
        let stop = job.stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            stop.cancel();
        });
        let started = Instant::now();
        let p = params(json!({"items": MAX_ITEMS, "item_kib": 64, "concurrency": 2}));
        assert_eq!(Batch::run(p, &mut job.ctx).await, Ok(()));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        let stored = h.job(&mut job).await;
        assert_eq!(
            stored.status,
            JobStatus::Running,
            "the runner, not the kind, records the end"
        );
        assert!(stored.progress.current < MAX_ITEMS);
        assert!(
            stored.progress.message.starts_with("cancelled after "),
            "{}",
            stored.progress.message
        );
    }

    #[tokio::test]
    async fn a_batch_cancelled_before_it_starts_processes_nothing() {
        let h = Harness::new().await;
        let mut job = h.start("batch", json!({})).await;
        job.stop.cancel();
        assert_eq!(
            Batch::run(params(json!({"items": 10})), &mut job.ctx).await,
            Ok(())
        );
        assert_eq!(h.job(&mut job).await.progress.current, 0);
    }

    #[tokio::test]
    async fn no_more_than_concurrency_items_are_in_flight() {
        let h = Harness::new().await;
        let mut job = h.start("batch", json!({})).await;
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (n, p) = (Arc::clone(&now), Arc::clone(&peak));
        let work = move |index| {
            let running = n.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(running, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            n.fetch_sub(1, Ordering::SeqCst);
            Item {
                index,
                digest: [0; 32],
                failed: false,
            }
        };
        assert_eq!(run_items(&mut job.ctx, 30, 3, work).await, Ok(()));
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(h.job(&mut job).await.progress.current, 30);
    }
}
