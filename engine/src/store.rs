//! The store: the one way into Headway's database.
//!
//! [`Store`] holds one backend behind the seam's traits ([`Backend`]); each backend is a crate of
//! its own that owns all of its SQL, its migrations, its driver types and its connections;
//! nothing outside them names those. The traits and the types the backends share with the
//! engine (changes, outcomes, events, rows, errors) come from the `store-core` crate and are
//! re-exported here.
//!
//! - [`sqlite`] (the embedded default): reads through a small sqlx pool with compile-checked
//!   queries, every write on one writer thread with a connection of its own; one server per
//!   database file.
//! - [`postgres`]: any number of processes on one database; each writes through a task of its
//!   own, and publishes what every process committed by reading it back in id order.
//!
//! Writes are [`Change`]s applied in batches ([`JobStore::write`], [`JobStore::apply`]): one
//! transaction per batch, a change that fails undone alone while the rest of its batch commits.
//! Event ids are allocated inside that transaction, so ids follow commit order.

pub use store_core::*;
pub use store_postgres as postgres;
pub use store_sqlite as sqlite;

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

/// The folder a database's companion files (the operator token) live in, read from its URL
/// without opening it; `None` when the database is not a local file.
pub fn local_dir(url: &str) -> Option<PathBuf> {
    sqlite::Location::parse(url).ok().map(|l| l.dir())
}

/// The database, whichever backend holds it: every method of [`Backend`] (the traits
/// [`JobStore`], [`AccountStore`], [`SessionStore`] and [`ProcessRegistry`]) through `Deref`.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &dyn Backend {
        &*self.0
    }
}

impl Store {
    /// Opens the database `url` names, creating it and applying migrations when needed.
    pub async fn open(url: &str, access: Access) -> Result<Store, OpenError> {
        if url.starts_with("sqlite:") {
            return Ok(Store(Arc::new(
                sqlite::SqliteStore::open(url, access).await?,
            )));
        }
        if postgres::is_postgres_url(url) {
            return Ok(Store(Arc::new(postgres::PgStore::open(url).await?)));
        }
        Err(OpenError::BadUrl {
            url: postgres::redact(url),
            reason: "Headway stores jobs in SQLite (sqlite://data/headway.db) or PostgreSQL \
                     (postgres://USER:PASSWORD@HOST:PORT/DB)"
                .into(),
        })
    }
}
