//! The statements both databases share, written once and run by both backends.
//!
//! SQLite and PostgreSQL agree on most of Headway's SQL: one text with `$N` parameters (which
//! SQLite reads as PostgreSQL does) runs on either. Each backend hands its read pool over as a
//! [`Pool`] ([`SqlBackend::pool`]) and gets, for that, every trait written here: the reads of
//! jobs ([`jobs`]), of the queue and the figures ([`figures`]), of events and notices
//! ([`events`]), of logs ([`logs`]); accounts and tokens ([`accounts`]), files ([`files`]), schedules
//! ([`schedules`]), webhooks ([`webhooks`]), the processes' registry ([`processes`]) and the workers on other
//! machines ([`remotes`]).
//!
//! Where the dialects differ ([`Dialect`]: matching text without regard to case, a field of a
//! JSON text, a list bound as one parameter, the database's clock, locking rows or an owner's
//! tokens, the sessions' table) the statement takes the one fragment that differs from [`Pool::dialect`]. What only
//! one database does (opening it, its migrations, its writer and transaction, its tailer, its
//! size on disk, sessions on SQLite's writer thread) stays in its backend.
//!
//! These statements are checked at run time, not at compile time: the contract tests
//! (`store/core/tests/contract/`) run every one of them on both databases.

mod accounts;
mod events;
mod figures;
mod files;
mod jobs;
mod logs;
mod processes;
mod remotes;
mod schedules;
mod webhooks;

use crate::StoreError;

/// A backend's read pool, as the shared statements run on it. The statements are written once
/// and compiled for each driver ([`on_pool!`]).
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// A backend whose pool runs the statements of this module: implementing it gives the
/// backend [`crate::JobReads`], [`crate::FigureReads`], [`crate::EventReads`],
/// [`crate::LogReads`], [`crate::AccountStore`], [`crate::FileStore`], [`crate::ScheduleStore`],
/// [`crate::WebhookStore`] and [`crate::ProcessRegistry`].
pub trait SqlBackend: Send + Sync + 'static {
    fn pool(&self) -> &Pool;
}

/// Where the two databases' SQL differs: the one fragment each statement takes from its
/// dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The operator that matches a `LIKE` pattern without regard to case.
    pub fn like(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }

    /// The text of the field `status` of the JSON text in column `data`.
    fn data_status(self) -> &'static str {
        match self {
            Dialect::Sqlite => "json_extract(data, '$.status')",
            Dialect::Postgres => "(CAST(data AS JSON) ->> 'status')",
        }
    }

    /// The rows (`value`) of the JSON array of strings bound as parameter `$N`: a list bound
    /// as one parameter.
    fn list(self, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each(${n})"),
            Dialect::Postgres => {
                format!("SELECT value FROM json_array_elements_text(CAST(${n} AS JSON))")
            }
        }
    }

    /// Whether one server keeps the database to itself (SQLite's lock file keeps the others
    /// off): then every other process registered is gone, and every lease is its own.
    fn one_server(self) -> bool {
        self == Dialect::Sqlite
    }

    /// The database's clock, in Unix milliseconds: processes on machines whose clocks differ
    /// agree on it.
    fn now_ms(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
            Dialect::Postgres => "headway_now_ms()",
        }
    }

    /// That the schedule `s` is enabled, as the index of enabled schedules' fire times is
    /// written (so that a query for due schedules reads that index).
    fn schedule_enabled(self) -> &'static str {
        match self {
            Dialect::Sqlite => "s.enabled = 1",
            Dialect::Postgres => "s.enabled",
        }
    }

    /// Locks the enabled admins until the transaction ends, where other processes could change
    /// them meanwhile (SQLite writes one transaction at a time: nothing to lock).
    fn lock_admins(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => {
                Some("SELECT id FROM users WHERE role = 'admin' AND NOT disabled FOR UPDATE")
            }
        }
    }

    /// Orders the new tokens of the owner `$1` until the transaction ends, where other
    /// processes could add theirs meanwhile (SQLite writes one transaction at a time, and a
    /// statement that writes holds the lock from its first read: nothing to lock). The lock is
    /// on the owner's id, not a row: an anonymous user has none.
    fn lock_tokens_of(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => {
                Some("SELECT pg_advisory_xact_lock(1214, hashtext(CAST($1 AS TEXT)))")
            }
        }
    }

    /// Deletes the sessions of the user `$1` (the sessions' table is named as each backend's
    /// session store names it).
    fn delete_user_sessions(self) -> &'static str {
        match self {
            Dialect::Sqlite => "DELETE FROM tower_sessions WHERE user = $1",
            Dialect::Postgres => "DELETE FROM sessions WHERE user_id = $1",
        }
    }
}

/// Runs `$body` with `$p` bound to the pool's own sqlx pool: the body is written once and
/// compiled for each driver.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::sql::Pool::Sqlite($p) => $body,
            $crate::sql::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Turns a driver's error into the store's, saying what was being done.
pub(crate) fn read_err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::new(what, e)
}

/// A count read from the database, as the store answers it.
pub(crate) fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// A list of ids bound as one parameter ([`Dialect::list`]).
pub(crate) fn json_list<T: AsRef<str>>(ids: &[T]) -> String {
    serde_json::to_string(&ids.iter().map(AsRef::as_ref).collect::<Vec<&str>>())
        .expect("strings serialize")
}

/// Whether a backend can serve a process: the database answers with the schema `migrations`
/// migrate to, and its writer (`alive`) takes writes within `within`. `Err` says what is wrong.
pub async fn check_ready(
    pool: &Pool,
    migrations: &sqlx::migrate::Migrator,
    alive: impl std::future::Future<Output = bool>,
    within: std::time::Duration,
) -> crate::StoreResult<()> {
    let newest = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: i64 = on_pool!(pool, p => {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(p)
            .await
    })
    .map_err(read_err("reading the schema version"))?;
    if applied != newest {
        return Err(StoreError::msg(format!(
            "the database's schema is at migration {applied}, this build's at {newest}"
        )));
    }
    match tokio::time::timeout(within, alive).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(StoreError::msg("the writer has stopped")),
        Err(_) => Err(StoreError::msg(format!(
            "the writer did not answer within {} ms",
            within.as_millis()
        ))),
    }
}
