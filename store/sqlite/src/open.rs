//! How the database is opened: the file and its folder created readable by
//! this user only, the lock that keeps a second server off it, WAL mode, the migrations, the
//! writer thread, and the proof that a server can write.

use crate::{lock, private, writer, Location, SqliteStore, BUSY_TIMEOUT};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::sync::Arc;
use store_core::sql::Pool;
use store_core::{Access, OpenError};

impl SqliteStore {
    /// Opens the database, creating the file and its folder if missing, applies migrations, and
    /// starts the writer. With [`Access::Exclusive`] it first takes the database's lock, and then
    /// proves it can write: a server that could only fail requests does not start.
    pub async fn open(url: &str, access: Access) -> Result<SqliteStore, OpenError> {
        let location = Location::parse(url).map_err(|reason| OpenError::BadUrl {
            url: url.into(),
            reason,
        })?;
        let dir = location.dir();
        let open_err = |reason: String| OpenError::Open {
            url: url.into(),
            reason,
        };
        if !location.read_only && !location.must_exist {
            private::create_dir(&dir).map_err(|e| {
                open_err(format!(
                    "cannot create the directory {}: {e}",
                    dir.display()
                ))
            })?;
            // Created readable by this user only; SQLite gives its journal the same mode.
            private::create_file(&location.path).map_err(|e| {
                open_err(format!(
                    "cannot create the database file {}: {e}",
                    location.path.display()
                ))
            })?;
        }
        let lock = match access {
            Access::Exclusive => Some(lock::ProcessLock::take(&location.path)?),
            Access::Shared => None,
        };
        let options = SqliteConnectOptions::new()
            .filename(&location.path)
            .create_if_missing(!location.read_only && !location.must_exist)
            .read_only(location.read_only)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        if !location.read_only {
            sqlx::migrate!("../../migrations/sqlite")
                .run(&pool)
                .await
                .map_err(|e| OpenError::Migrate {
                    url: url.into(),
                    reason: e.to_string(),
                })?;
        }
        let writer =
            writer::Handle::start(&location, access == Access::Exclusive).map_err(|reason| {
                match location.read_only {
                    true => OpenError::NotWritable {
                        url: url.into(),
                        reason,
                    },
                    false => open_err(reason),
                }
            })?;
        let store = SqliteStore {
            sql: Pool::Sqlite(pool.clone()),
            pool,
            writer,
            dir,
            lock: Arc::new(std::sync::Mutex::new(lock)),
        };
        if access == Access::Exclusive {
            store
                .writer
                .probe()
                .await
                .map_err(|e| OpenError::NotWritable {
                    url: url.into(),
                    reason: model::error::Chain(&e).to_string(),
                })?;
        }
        Ok(store)
    }
}
