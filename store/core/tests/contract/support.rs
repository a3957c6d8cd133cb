//! A fresh database of either backend, opened as a server opens it.

use std::sync::Arc;
use store_core::{Access, Backend};
use store_postgres::{throwaway, PgStore};
use store_sqlite::SqliteStore;

/// Which backend a case runs on.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh, empty database and the store opened on it.
pub struct Db {
    pub db: Place,
    pub store: Arc<dyn Backend>,
}

impl Db {
    pub async fn new(kind: Kind) -> Db {
        let db = Place::new(kind).await;
        let store = db.open().await;
        Db { db, store }
    }
}

/// Where a fresh database lives; it may be opened (again) as a server's.
pub struct Place {
    kind: Kind,
    url: String,
    /// The SQLite file's folder, removed on drop.
    _dir: Option<tempfile::TempDir>,
}

impl Place {
    async fn new(kind: Kind) -> Place {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}/h.db", dir.path().display());
                Place {
                    kind,
                    url,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres => {
                let cluster = tokio::task::spawn_blocking(throwaway::shared)
                    .await
                    .expect("start the throwaway PostgreSQL");
                let url = cluster.fresh_database().await.expect("a fresh database");
                Place {
                    kind,
                    url,
                    _dir: None,
                }
            }
        }
    }

    /// Runs `sql` on a connection of its own, as an operator would (to age rows, say).
    pub async fn execute(&self, sql: &str) {
        use sqlx::Connection;
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
        }
    }

    /// The one number `sql` selects, read on a connection of its own.
    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Connection;
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
        }
    }

    /// Opens the database as a server does.
    pub async fn open(&self) -> Arc<dyn Backend> {
        match self.kind {
            Kind::Sqlite => Arc::new(
                SqliteStore::open(&self.url, Access::Exclusive)
                    .await
                    .expect("open the SQLite store"),
            ),
            Kind::Postgres => Arc::new(
                PgStore::open(&self.url)
                    .await
                    .expect("open the PostgreSQL store"),
            ),
        }
    }
}
