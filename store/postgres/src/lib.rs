//! The PostgreSQL backend: one database shared by any number of Headway processes.
//!
//! - reads, accounts, files, sessions and the processes' registry go through a small sqlx pool,
//!   which runs the statements both databases share ([`store_core::sql`]); what only
//!   PostgreSQL does is here, checked at compile time against the schema (`sqlx::query!`,
//!   offline data in `.sqlx/`);
//! - every change to jobs and notices goes through this process's [`writer`]: one task with a
//!   connection of its own that writes whatever is waiting as one transaction. Each such
//!   transaction first locks the one row of `event_ids`, so event ids are handed out in commit
//!   order across all processes: a reader that has seen id N never later finds a smaller one;
//! - the [`tailer`] publishes every committed event, whichever process wrote it, by reading
//!   `events` in id order: woken by this process's own commits, by `NOTIFY` hints from the
//!   others (a hint only: nothing is ever read from a notification), by a short poll, and after
//!   its listening connection comes back. A lost notification delays an event, never loses it;
//! - [`open`] connects and migrates; [`jobs`] is what the writer and the tailer do for the
//!   engine; [`sessions`] keeps sign-in sessions;
//! - `throwaway` (with the feature of that name) starts a temporary PostgreSQL for tests and
//!   benchmarks; the server is built without it.
//!
//! Migrations live in `migrations/postgres/`. Times are Unix milliseconds; heartbeats and
//! leases use the database's clock, so that processes on machines whose clocks differ agree.

mod jobs;
mod open;
mod sessions;
mod tailer;
#[cfg(feature = "throwaway")]
pub mod throwaway;
mod writer;

use sqlx::postgres::PgPool;
use std::sync::Arc;
use std::time::Duration;
use store_core::{sql, SqlBackend, StoreError};

/// Connections of the read pool, per process (the writer and the listener have one each).
pub const READ_CONNECTIONS: u32 = 8;

/// How long a request waits for a connection, and a new connection for the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The same pool, as the statements both databases share take it.
    sql: sql::Pool,
    writer: writer::Handle,
    tailer: Arc<tailer::Shared>,
    /// Stops the tailer when the last handle on the store is dropped.
    _running: Arc<tailer::Stop>,
}

impl SqlBackend for PgStore {
    fn pool(&self) -> &sql::Pool {
        &self.sql
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn read_err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::new(what, e)
}
