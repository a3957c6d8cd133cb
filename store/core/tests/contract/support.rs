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

/// An id for a case, named for reading. A name that is an id of the kind wanted is that id
/// (`named::<UserId>("me")`); another is spelled into a UUID, its bytes in hex followed by zeros
/// (`named::<WebhookId>("w1")` is `77310000-0000-0000-0000-000000000000`), so that ids sort as
/// their names do and [`name_of`] reads the name back.
pub fn named<T: std::str::FromStr<Err = model::IdError>>(name: &str) -> T {
    name.parse()
        .or_else(|_| spelled(name).parse())
        .unwrap_or_else(|e| panic!("{name:?} names no id: {e}"))
}

/// `name` (16 bytes at most) spelled into a UUID: its bytes in hex, then zeros.
fn spelled(name: &str) -> String {
    assert!(
        name.len() <= 16,
        "{name:?} is too long to spell into a UUID"
    );
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    let hex = format!("{hex:0<32}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The name an id of [`named`] was made from: the name spelled into it, or the id itself.
pub fn name_of(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .take_while(|b| *b != Some(0))
        .collect();
    match bytes.and_then(|b| String::from_utf8(b).ok()) {
        Some(name) if id.len() == 36 && spelled(&name) == id => name,
        _ => id.to_string(),
    }
}
