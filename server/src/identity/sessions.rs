//! Where sessions live: in Headway's database, through the engine's store, with a bounded
//! in-memory cache in front ([`tower_sessions_moka_store::MokaStore`]) so that a request with a
//! known cookie is answered from memory. Records are written through to the database, so a
//! restart or an eviction only reads them again.
//!
//! Records are encoded with MessagePack, as tower-sessions' own SQLite store did, so sessions
//! from before this store keep working.

use async_trait::async_trait;
use engine::store::SessionRow;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{CachingSessionStore, SessionStore};
use tower_sessions_moka_store::MokaStore;

/// Sessions cached in memory at most; beyond that, the least used are read from the database
/// again.
const CACHED_SESSIONS: u64 = 10_000;

/// The session store the server uses: the cache in front of the database, or the database
/// alone where another process may delete a session this one has cached (signed-in sessions on
/// a database several processes share: a sign-out on one must hold on all).
#[derive(Debug, Clone)]
pub enum Store {
    Cached(CachingSessionStore<MokaStore, Persisted>),
    Direct(Persisted),
}

pub fn store(persisted: Persisted, cached: bool) -> Store {
    match cached {
        true => Store::Cached(CachingSessionStore::new(
            MokaStore::new(Some(CACHED_SESSIONS)),
            persisted,
        )),
        false => Store::Direct(persisted),
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            Store::Cached(s) => s.create(record).await,
            Store::Direct(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            Store::Cached(s) => s.save(record).await,
            Store::Direct(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match self {
            Store::Cached(s) => s.load(id).await,
            Store::Direct(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            Store::Cached(s) => s.delete(id).await,
            Store::Direct(s) => s.delete(id).await,
        }
    }
}

/// Sessions as rows of the engine's store.
#[derive(Clone)]
pub struct Persisted {
    db: engine::store::Store,
}

impl std::fmt::Debug for Persisted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Persisted")
    }
}

impl Persisted {
    pub fn new(db: engine::store::Store) -> Persisted {
        Persisted { db }
    }

    fn row(record: &Record) -> Result<SessionRow> {
        Ok(SessionRow {
            id: record.id.to_string(),
            data: rmp_serde::to_vec(record).map_err(|e| Error::Encode(e.to_string()))?,
            expires_at: record.expiry_date.unix_timestamp(),
            user: record
                .data
                .get("user")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
    }
}

fn backend(e: engine::store::StoreError) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for Persisted {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are random 128-bit numbers; a collision only costs another draw.
        while !self
            .db
            .create_session(Self::row(record)?)
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.db
            .save_session(Self::row(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(row) = self
            .db
            .load_session(&id.to_string())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        if row.expires_at <= time::OffsetDateTime::now_utc().unix_timestamp() {
            return Ok(None);
        }
        rmp_serde::from_slice(&row.data)
            .map(Some)
            .map_err(|e| Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.db
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

impl Persisted {
    /// Deletes every expired session; returns how many.
    pub async fn delete_expired(&self) -> std::result::Result<u64, engine::store::StoreError> {
        self.db
            .delete_expired_sessions(time::OffsetDateTime::now_utc().unix_timestamp())
            .await
    }
}
