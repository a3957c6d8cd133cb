//! Headway's database, always through the engine's own store ([`engine::store::Store`]): opening
//! it, finding the user a session cookie names, and seeding a long job history for one user.
//! The bench holds no SQL and no copy of the schema.

use crate::Res;
use engine::store::{Access, Store};
use model::{Job, JobError, JobId, JobStatus, Level, Progress, UserId};
use serde_json::json;
use std::path::Path;

/// Jobs per [`JobStore::import_history`](engine::store::JobStore::import_history) call (one transaction each), so that memory stays bounded
/// whatever the size of the history.
pub const IMPORT_CHUNK: u64 = 20_000;

/// Opens (creating if missing, migrations applied by the store) the database file `path`.
pub async fn open(path: &Path, access: Access) -> Res<Store> {
    open_url(&crate::procs::sqlite_url(path), access).await
}

/// Opens the database `url` names (SQLite or PostgreSQL), migrations applied by the store.
pub async fn open_url(url: &str, access: Access) -> Res<Store> {
    Store::open(url, access).await.map_err(|e| e.to_string())
}

/// The user a `headway_session=<value>` cookie (or its bare value) of an open server names:
/// derived from the cookie, or for a Headway from before anonymous users were (a
/// `--compare-bin`), read from the session it stored under the cookie's value.
pub async fn owner_of(store: &Store, cookie: &str) -> Res<UserId> {
    let value = cookie
        .trim()
        .strip_prefix("headway_session=")
        .unwrap_or(cookie.trim());
    let Some(row) = store
        .load_session(value)
        .await
        .map_err(|e| format!("reading the session: {e}"))?
    else {
        return Ok(engine::caller::anonymous_user(value));
    };
    if let Some(user) = row.user {
        return crate::id(&user);
    }
    // A session written by a Headway from before the user was kept beside the record (a
    // `--compare-bin`): the user is in the record itself.
    let record: tower_sessions::session::Record =
        rmp_serde::from_slice(&row.data).map_err(|e| format!("reading the session record: {e}"))?;
    record
        .data
        .get("user")
        .and_then(|u| u.as_str())
        .ok_or_else(|| "the session of the cookie has no user".to_string())
        .and_then(crate::id)
}

/// A small deterministic generator (xorshift64*), so that seeded histories are repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A random id of a kind named by UUIDs (or a user's or a process's, which may be one).
    pub fn id<T: std::str::FromStr<Err = model::IdError>>(&mut self) -> T {
        self.uuid()
            .parse()
            .expect("a UUID v4 in its usual text form is an id")
    }

    /// A random UUID v4 in its usual text form.
    pub fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// One finished job as Headway would have stored it, of a kind in the mix a busy dashboard shows.
fn row(rng: &mut Rng, created_at: i64, event_id: i64, previous: Option<&JobId>) -> Job {
    let id = rng.id();
    let (kind, params, total, unit) = match rng.below(10) {
        0..=3 => {
            let steps = 10 + rng.below(490);
            let interval_ms = 10 * (1 + rng.below(50));
            (
                "demo",
                json!({"interval_ms": interval_ms, "steps": steps}),
                steps,
                "steps",
            )
        }
        4..=6 => {
            let items = 100 + rng.below(100_000);
            let concurrency = 1 + rng.below(8);
            let failure_rate = rng.below(5) as f64 / 100.0;
            let seed = rng.below(1_000_000);
            let p = json!({"concurrency": concurrency, "failure_rate": failure_rate,
                           "item_kib": 64, "items": items, "seed": seed});
            ("batch", p, items, "items")
        }
        7..=8 => {
            let bytes = 1_000_000 + rng.below(5_000_000_000);
            (
                "checksum",
                json!({"dir": format!("photos/2025-{:02}", 1 + rng.below(12))}),
                bytes,
                "bytes",
            )
        }
        _ if rng.below(2) == 0 => {
            // A program run elsewhere under a title in Chinese (`headway run --title`).
            let parts = 1 + rng.below(500);
            let p = json!({"title": format!("夜间备份 {}", rng.below(100)),
                           "command": "backup.sh --full", "params": {"db": "main"}});
            ("external", p, parts, "parts")
        }
        _ => {
            let rows = 10 + rng.below(200_000);
            let p = json!({"database": "imports.db",
                           "file": format!("imports/customers-{}.csv", rng.below(1000)),
                           "table": "customers"});
            ("import_csv", p, rows, "rows")
        }
    };
    let roll = rng.below(100);
    let (status, level, error, done_fraction) = match roll {
        0..=85 => (
            JobStatus::Succeeded,
            if kind == "batch" && roll.is_multiple_of(10) {
                Level::Warning
            } else {
                Level::Success
            },
            None,
            1.0,
        ),
        86..=92 => {
            let (code, message) = if roll.is_multiple_of(2) {
                (
                    "timeout",
                    "the job ran longer than its 60000 ms timeout".to_string(),
                )
            } else {
                (
                    "io",
                    format!(
                        "cannot read {}: permission denied",
                        "photos/2025-03/IMG_0042.jpg"
                    ),
                )
            };
            (
                JobStatus::Failed,
                Level::Danger,
                Some(JobError::new(code.to_string(), message)),
                rng.below(100) as f64 / 100.0,
            )
        }
        93..=97 => (
            JobStatus::Cancelled,
            Level::Success,
            None,
            rng.below(100) as f64 / 100.0,
        ),
        _ => (
            JobStatus::Interrupted,
            Level::Success,
            Some(JobError::new(
                "interrupted",
                "the server stopped while this job was running",
            )),
            rng.below(100) as f64 / 100.0,
        ),
    };
    let current = (total as f64 * done_fraction) as u64;
    let message = match kind {
        "demo" => format!("step {current} of {total}"),
        "batch" => format!("{current} of {total} items hashed"),
        "checksum" => format!("{} files", 1 + current / 3_000_000),
        "external" => format!("{current} of {total} parts copied"),
        _ => format!("{current} rows imported"),
    };
    let started_at = created_at + rng.below(2_000) as i64;
    let finished_at = started_at + 100 + rng.below(600_000) as i64;
    Job {
        id,
        kind: kind.to_string(),
        params,
        status,
        progress: Progress {
            current,
            total: Some(total),
            unit: unit.to_string(),
            message,
            level,
            at: Some(finished_at),
            said: None,
        },
        error,
        created_at,
        started_at: Some(started_at),
        finished_at: Some(finished_at),
        event_id,
        timeout_ms: None,
        origin: previous.filter(|_| rng.below(50) == 0).cloned(),
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

/// Inserts `n` finished jobs of `owner`, created over the last 30 days (oldest first, so that
/// they are stored in the order of `created_at` as in a real store), through the store's
/// [`JobStore::import_history`](engine::store::JobStore::import_history) in transactions of [`IMPORT_CHUNK`] jobs. Returns the id of the
/// newest one.
pub async fn seed_history(store: &Store, owner: &UserId, n: u64, now_ms: i64) -> Res<String> {
    seed_in_chunks(store, owner, n, now_ms, IMPORT_CHUNK).await
}

async fn seed_in_chunks(
    store: &Store,
    owner: &UserId,
    n: u64,
    now_ms: i64,
    chunk: u64,
) -> Res<String> {
    let first_event = store
        .last_event_id()
        .await
        .map_err(|e| format!("reading the last event id: {e}"))?
        + 1;
    let span = 30 * 24 * 3600 * 1000i64;
    let start = now_ms - span;
    let mut rng = Rng::new(0x4865_6164_7761_7921);
    let mut last_id: Option<JobId> = None;
    let mut done = 0u64;
    while done < n {
        let count = (n - done).min(chunk.max(1));
        let mut jobs = Vec::with_capacity(count as usize);
        for k in 0..count {
            let i = (done + k) as i64;
            let created = start + (i as i128 * span as i128 / n.max(1) as i128) as i64;
            let job = row(&mut rng, created, first_event + 6 * i + 5, last_id.as_ref());
            last_id = Some(job.id.clone());
            jobs.push(job);
        }
        store
            .import_history(owner, jobs)
            .await
            .map_err(|e| format!("seeding jobs: {e}"))?;
        done += count;
    }
    Ok(last_id.map(String::from).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_v4() {
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            let u = rng.uuid();
            let parts: Vec<&str> = u.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{u}"
            );
            assert!(parts[2].starts_with('4'));
            assert!(
                matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
                "{u}"
            );
        }
    }

    #[test]
    fn jobs_mix_kinds_and_statuses() {
        let mut rng = Rng::new(1);
        let jobs: Vec<Job> = (0..2000).map(|i| row(&mut rng, i, i, None)).collect();
        for kind in ["demo", "batch", "checksum", "import_csv"] {
            assert!(jobs.iter().any(|j| j.kind == kind), "{kind}");
        }
        for status in [
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
            JobStatus::Interrupted,
        ] {
            assert!(jobs.iter().any(|j| j.status == status), "{status:?}");
        }
        assert!(jobs.iter().all(|j| j.status.is_terminal()));
        assert!(jobs.iter().all(|j| j.finished_at > j.started_at
            && j.started_at >= Some(j.created_at)
            && j.progress.at == j.finished_at
            && j.progress.total.is_some_and(|t| j.progress.current <= t)));
        assert!(jobs.iter().all(|j| j.params.is_object()));
        // Failed and interrupted jobs carry their error; the others none.
        assert!(jobs
            .iter()
            .all(|j| j.error.is_some()
                == matches!(j.status, JobStatus::Failed | JobStatus::Interrupted)));
    }

    /// Seeding goes through the engine's store, chunk after chunk, and the store then serves
    /// the history: every job, the newest first, the event counter past the seeded ids.
    #[tokio::test]
    async fn seeded_jobs_are_read_back_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("seed.db"), Access::Exclusive)
            .await
            .unwrap();
        let (n, now) = (50, 1_763_730_000_000);
        let alice = UserId::parse("alice").unwrap();
        let newest = seed_in_chunks(&store, &alice, n, now, 7).await.unwrap();
        let counts = store.status_counts(Some(&alice), None).await.unwrap();
        assert_eq!(counts.iter().map(|c| c.n).sum::<u64>(), n);
        assert!(store
            .status_counts(Some(&UserId::parse("bob").unwrap()), None)
            .await
            .unwrap()
            .iter()
            .all(|c| c.n == 0));
        let filter = engine::store::JobFilter {
            limit: 1,
            ..Default::default()
        };
        let page = store.list_jobs(Some(&alice), &filter).await.unwrap();
        assert_eq!(page.first().map(|j| j.id.as_str()), Some(newest.as_str()));
        assert!(page[0].finished_at.is_some() && page[0].created_at < now);
        assert!(store.last_event_id().await.unwrap() >= 6 * (n as i64 - 1) + 6);
        drop(store);
    }

    #[test]
    fn jobs_are_repeatable() {
        let x = JobId::parse("0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93").unwrap();
        let a: Vec<Job> = {
            let mut rng = Rng::new(3);
            (0..50).map(|i| row(&mut rng, i, i, Some(&x))).collect()
        };
        let b: Vec<Job> = {
            let mut rng = Rng::new(3);
            (0..50).map(|i| row(&mut rng, i, i, Some(&x))).collect()
        };
        assert_eq!(a, b);
    }
}
