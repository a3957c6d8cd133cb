//! Connecting: the read pool, the migrations (several processes starting at once take turns),
//! the writer's own connection, the tailer, and the proof that the database takes writes.

use crate::{redact, tailer, writer, PgStore, CONNECT_TIMEOUT, READ_CONNECTIONS};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use store_core::sql::Pool;
use store_core::OpenError;

impl PgStore {
    /// Connects, applies migrations (several processes starting at once take turns: sqlx holds
    /// an advisory lock while it migrates) and starts the writer.
    pub async fn open(url: &str) -> Result<PgStore, OpenError> {
        let shown = redact(url);
        let options = PgConnectOptions::from_str(url).map_err(|e| OpenError::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let options = options.application_name("headway");
        let open_err = |e: sqlx::Error| OpenError::Open {
            url: shown.clone(),
            reason: e.to_string(),
        };
        let pool = PgPoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate {
                url: shown.clone(),
                reason: e.to_string(),
            })?;
        // The writer's own connection: its transactions never wait for a reader's.
        let write_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        let tailer = Arc::new(tailer::Shared::new(options));
        let writer = writer::Handle::start(write_pool, pool.clone(), Arc::clone(&tailer));
        let store = PgStore {
            sql: Pool::Postgres(pool.clone()),
            pool,
            writer,
            _running: Arc::new(tailer.stop_handle()),
            tailer,
        };
        // Proves that the database takes writes (a read-only replica does not).
        sqlx::query!("UPDATE event_ids SET last = last WHERE one = 1")
            .execute(&store.pool)
            .await
            .map_err(|e| OpenError::NotWritable {
                url: shown,
                reason: e.to_string(),
            })?;
        Ok(store)
    }
}
