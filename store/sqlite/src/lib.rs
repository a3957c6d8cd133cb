//! The SQLite backend: a file under `./data/` by default, in WAL mode.
//!
//! - reads go through a small sqlx pool, which runs the statements both databases share
//!   ([`store_core::sql`]); what only SQLite does is here, checked at compile time against the
//!   schema (`sqlx::query!`, offline data in `.sqlx/`);
//! - every write of jobs happens on one thread with a rusqlite connection of its own
//!   ([`writer`]), statements prepared once, a batch per transaction; sessions too
//!   ([`sessions`]);
//! - [`open`] creates the file, takes the lock that keeps a second server off it ([`lock`]),
//!   migrates it and starts the writer; [`jobs`] is what the writer does for the engine;
//! - [`import`] writes `import_csv`'s tables into their own SQLite files.
//!
//! Migrations live in `migrations/sqlite/`.

mod checkpoint;
pub mod import;
mod jobs;
mod location;
mod lock;
mod open;
mod private;
mod sessions;
mod writer;

pub use location::Location;
use sqlx::sqlite::SqlitePool;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store_core::{sql, SqlBackend, StoreError};

/// How long a statement waits for a lock held by another connection before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The same pool, as the statements both databases share take it.
    sql: sql::Pool,
    writer: writer::Handle,
    /// The folder of the database file.
    dir: PathBuf,
    /// Held by a server until it has shut down: another server on this database is refused.
    lock: Arc<std::sync::Mutex<Option<lock::ProcessLock>>>,
}

impl SqlBackend for SqliteStore {
    fn pool(&self) -> &sql::Pool {
        &self.sql
    }
}

fn read_err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::new(what, e)
}

#[cfg(test)]
mod tests;
