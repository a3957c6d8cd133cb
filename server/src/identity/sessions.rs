//! Where sessions live: in Headway's database, through the engine's store, with a bounded
//! in-memory cache in front ([`tower_sessions_moka_store::MokaStore`]) so that a request with a
//! known cookie is answered from memory. Records are written through to the database, so a
//! restart or an eviction only reads them again.
//!
//! A session is stored under the SHA-256 of its id, never under the id itself: the cookie's
//! value is a secret that whoever reads the database (a backup, a replica) must not be able to
//! present. Its data is encoded with MessagePack, without the id. Sessions stored under their
//! own ids by earlier versions are moved under their hashes when the server starts
//! ([`Persisted::hash_stored_ids`]).

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
        let stored = Stored {
            data: record.data.clone(),
        };
        Ok(SessionRow {
            id: stored_id(&record.id),
            data: rmp_serde::to_vec(&stored).map_err(|e| Error::Encode(e.to_string()))?,
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
    Error::Backend(model::error::Chain(&e).to_string())
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
            .load_session(&stored_id(id))
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        if row.expires_at <= time::OffsetDateTime::now_utc().unix_timestamp() {
            return Ok(None);
        }
        let stored: Stored =
            rmp_serde::from_slice(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data: stored.data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.db
            .delete_session(&stored_id(id))
            .await
            .map_err(backend)
    }
}

/// What a session's row holds besides its expiry: its data, not its id.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    data: std::collections::HashMap<String, serde_json::Value>,
}

/// The key a session is stored under: the SHA-256 of its id, in hex (64 characters).
pub fn stored_id(id: &Id) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sessions moved under their hashes per step of [`Persisted::hash_stored_ids`].
const HASHED_PER_STEP: i64 = 500;

impl Persisted {
    /// Moves every session still stored under its own id (as earlier versions stored them)
    /// under the hash of it; returns how many sessions are stored in all. A row that cannot be
    /// read is deleted: its session is over.
    pub async fn hash_stored_ids(&self) -> std::result::Result<u64, engine::store::StoreError> {
        loop {
            let rows = self.db.unhashed_sessions(HASHED_PER_STEP).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let record: Option<Record> = rmp_serde::from_slice(&row.data).ok();
                if let Some(new) = record.as_ref().and_then(|r| Persisted::row(r).ok()) {
                    self.db.save_session(new).await?;
                }
                self.db.delete_session(&row.id).await?;
            }
        }
        self.db.session_count().await
    }

    /// Deletes every expired session; returns how many.
    pub async fn delete_expired(&self) -> std::result::Result<u64, engine::store::StoreError> {
        self.db
            .delete_expired_sessions(time::OffsetDateTime::now_utc().unix_timestamp())
            .await
    }
}
