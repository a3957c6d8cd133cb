//! Direct SQLite access: opening a Headway database (schema from the migrations), seeding a long
//! job history for one user, and reading back what a run left.

use crate::Res;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::QueryBuilder;
use std::path::Path;
use std::time::Duration;

/// Opens (creating if missing) a database with Headway's settings: WAL, synchronous=NORMAL, and
/// the schema of `migrations/`.
pub async fn open(path: &Path, connections: u32) -> Res<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    Ok(pool)
}

/// Opens an existing Headway database as it is (its schema is the server's business).
pub async fn open_existing(path: &Path) -> Res<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
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

/// One row of `jobs` as Headway writes it.
struct Row {
    id: String,
    kind: &'static str,
    params: String,
    status: &'static str,
    current: i64,
    total: i64,
    unit: &'static str,
    message: String,
    level: &'static str,
    error_code: Option<&'static str>,
    error_message: Option<String>,
    created_at: i64,
    started_at: i64,
    finished_at: i64,
    event_id: i64,
    log_seq: i64,
    origin: Option<String>,
}

fn row(rng: &mut Rng, created_at: i64, event_id: i64, previous: Option<&str>) -> Row {
    let id = rng.uuid();
    // Kinds in the mix a busy dashboard would show.
    let (kind, params, total, unit) = match rng.below(10) {
        0..=3 => {
            let steps = 10 + rng.below(490) as i64;
            (
                "demo",
                format!(
                    r#"{{"interval_ms":{},"steps":{steps}}}"#,
                    10 * (1 + rng.below(50))
                ),
                steps,
                "steps",
            )
        }
        4..=6 => {
            let items = 100 + rng.below(100_000) as i64;
            let p = format!(
                r#"{{"concurrency":{},"failure_rate":0.0{},"item_kib":64,"items":{items},"seed":{}}}"#,
                1 + rng.below(8),
                rng.below(5),
                rng.below(1_000_000)
            );
            ("batch", p, items, "items")
        }
        7..=8 => {
            let bytes = 1_000_000 + rng.below(5_000_000_000) as i64;
            (
                "checksum",
                format!(r#"{{"dir":"photos/2025-{:02}"}}"#, 1 + rng.below(12)),
                bytes,
                "bytes",
            )
        }
        _ => {
            let rows = 10 + rng.below(200_000) as i64;
            let p = format!(
                r#"{{"database":"imports.db","file":"imports/customers-{}.csv","table":"customers"}}"#,
                rng.below(1000)
            );
            ("import_csv", p, rows, "rows")
        }
    };
    let roll = rng.below(100);
    let (status, level, error_code, error_message, done_fraction) = match roll {
        0..=85 => (
            "succeeded",
            if kind == "batch" && roll % 10 == 0 {
                "warning"
            } else {
                "success"
            },
            None,
            None,
            1.0,
        ),
        86..=92 => {
            let (code, msg) = if roll % 2 == 0 {
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
                "failed",
                "danger",
                Some(code),
                Some(msg),
                rng.below(100) as f64 / 100.0,
            )
        }
        93..=97 => (
            "cancelled",
            "success",
            None,
            None,
            rng.below(100) as f64 / 100.0,
        ),
        _ => (
            "interrupted",
            "success",
            Some("interrupted"),
            Some("the server stopped while this job was running".to_string()),
            rng.below(100) as f64 / 100.0,
        ),
    };
    let current = (total as f64 * done_fraction) as i64;
    let message = match kind {
        "demo" => format!("step {current} of {total}"),
        "batch" => format!("{current} of {total} items hashed"),
        "checksum" => format!("{} files", 1 + current / 3_000_000),
        _ => format!("{current} rows imported"),
    };
    let started_at = created_at + rng.below(2_000) as i64;
    let finished_at = started_at + 100 + rng.below(600_000) as i64;
    Row {
        id,
        kind,
        params,
        status,
        current,
        total,
        unit,
        message,
        level,
        error_code,
        error_message,
        created_at,
        started_at,
        finished_at,
        event_id,
        log_seq: (current / 10).min(100_000),
        origin: previous.filter(|_| rng.below(50) == 0).map(str::to_string),
    }
}

/// Inserts `n` finished jobs of `owner`, created over the last 30 days (oldest first, so that
/// `seq` follows `created_at` as it does in a real store), in one transaction. Returns the id of
/// the newest one.
pub async fn seed_history(pool: &SqlitePool, owner: &str, n: u64, now_ms: i64) -> Res<String> {
    const PER_STATEMENT: usize = 400;
    let first_event: i64 = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(x) FROM (SELECT MAX(id) AS x FROM events UNION ALL SELECT MAX(event_id) FROM jobs)",
    )
    .fetch_one(pool)
    .await
    .map_err(|e| e.to_string())?
    .unwrap_or(0)
        + 1;
    let span = 30 * 24 * 3600 * 1000i64;
    let start = now_ms - span;
    let mut rng = Rng::new(0x4865_6164_7761_7921);
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let mut last_id = String::new();
    let mut done = 0u64;
    while done < n {
        let count = (n - done).min(PER_STATEMENT as u64);
        let mut rows = Vec::with_capacity(count as usize);
        for k in 0..count {
            let i = (done + k) as i64;
            let created = start + (i as i128 * span as i128 / n.max(1) as i128) as i64;
            let r = row(
                &mut rng,
                created,
                first_event + 6 * i + 5,
                (!last_id.is_empty()).then_some(last_id.as_str()),
            );
            last_id = r.id.clone();
            rows.push(r);
        }
        let mut qb = QueryBuilder::new(
            "INSERT INTO jobs (id, owner, kind, params, status, current, total, unit, message, level, \
             error_code, error_message, created_at, started_at, finished_at, event_id, log_seq, origin, \
             progress_at) ",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(r.id)
                .push_bind(owner)
                .push_bind(r.kind)
                .push_bind(r.params)
                .push_bind(r.status)
                .push_bind(r.current)
                .push_bind(r.total)
                .push_bind(r.unit)
                .push_bind(r.message)
                .push_bind(r.level)
                .push_bind(r.error_code)
                .push_bind(r.error_message)
                .push_bind(r.created_at)
                .push_bind(r.started_at)
                .push_bind(r.finished_at)
                .push_bind(r.event_id)
                .push_bind(r.log_seq)
                .push_bind(r.origin)
                .push_bind(r.finished_at);
        });
        qb.build()
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("seeding jobs: {e}"))?;
        done += count;
    }
    tx.commit()
        .await
        .map_err(|e| format!("seeding jobs: {e}"))?;
    Ok(last_id)
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
    fn rows_mix_kinds_and_statuses() {
        let mut rng = Rng::new(1);
        let rows: Vec<Row> = (0..2000).map(|i| row(&mut rng, i, i, None)).collect();
        for kind in ["demo", "batch", "checksum", "import_csv"] {
            assert!(rows.iter().any(|r| r.kind == kind), "{kind}");
        }
        for status in ["succeeded", "failed", "cancelled", "interrupted"] {
            assert!(rows.iter().any(|r| r.status == status), "{status}");
        }
        assert!(rows
            .iter()
            .all(|r| r.finished_at > r.started_at && r.current <= r.total));
        assert!(rows
            .iter()
            .all(|r| serde_json::from_str::<serde_json::Value>(&r.params).is_ok()));
    }
}
