//! Who is calling: every request belongs to a session (SQLite-backed, HttpOnly, SameSite=Lax),
//! and every session has a user id, created on its first request. The id is put into the
//! request's extensions as [`Owner`] for handlers and server functions. Records are cached in
//! memory ([`cache`]) in front of SQLite.

mod cache;

use crate::api::ApiError;
use app::engine::Owner;
use app::error::AppError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::str::FromStr;
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::session::{Id, Record};
use tower_sessions::{session_store, CachingSessionStore, Expiry, Session, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

const USER_KEY: &str = "user";
pub const COOKIE_NAME: &str = "headway_session";
/// A session lives this long after it was last saved.
const LIFETIME: time::Duration = time::Duration::days(365);

/// Sessions cached in memory at most; beyond that, the oldest are read from SQLite again.
const CACHED_SESSIONS: usize = 10_000;

type Store = CachingSessionStore<cache::RecordCache, SqliteStore>;
pub type Layer = SessionManagerLayer<Store>;

/// The session store and cookie settings, shared by the router's layer and by connections
/// served without the router ([`crate::sse::direct`]).
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    secure: bool,
}

impl Sessions {
    /// The store, with its table created if missing.
    pub async fn open(pool: SqlitePool, secure: bool) -> Result<Sessions, String> {
        let sqlite = SqliteStore::new(pool);
        sqlite.migrate().await.map_err(|e| e.to_string())?;
        let store = CachingSessionStore::new(cache::RecordCache::new(CACHED_SESSIONS), sqlite);
        Ok(Sessions { store, secure })
    }

    /// The router's session layer.
    pub fn layer(&self) -> Layer {
        SessionManagerLayer::new(self.store.clone())
            .with_name(COOKIE_NAME)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(self.secure)
            .with_expiry(Expiry::OnInactivity(LIFETIME))
    }

    /// The user of the session a request's `Cookie` header names, as [`ensure_user`] finds it; or,
    /// without a valid session, a new user in a new session and the `Set-Cookie` value that
    /// gives it to the client (the same cookie the layer would set).
    pub async fn user_for(&self, cookie_header: Option<&str>) -> session_store::Result<(String, Option<String>)> {
        if let Some(id) = cookie_header.and_then(session_id) {
            if let Some(record) = self.store.load(&id).await? {
                if let Some(user) = record.data.get(USER_KEY).and_then(|v| v.as_str()) {
                    return Ok((user.to_string(), None));
                }
            }
        }
        let user = app::engine::new_id();
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([(USER_KEY.to_string(), serde_json::Value::String(user.clone()))]),
            expiry_date: time::OffsetDateTime::now_utc() + LIFETIME,
        };
        self.store.create(&mut record).await?;
        let cookie = Cookie::build((COOKIE_NAME, record.id.to_string()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .max_age(LIFETIME)
            .build();
        Ok((user, Some(cookie.encoded().to_string())))
    }
}

/// The session id in a `Cookie` header, if it has a well-formed one.
fn session_id(header: &str) -> Option<Id> {
    Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .and_then(|c| Id::from_str(c.value()).ok())
}

pub async fn ensure_user(session: Session, mut req: Request, next: Next) -> Response {
    let user = match session.get::<String>(USER_KEY).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let user = app::engine::new_id();
            if let Err(e) = session.insert(USER_KEY, &user).await {
                tracing::error!(error = %e, "cannot create a session user");
                return ApiError(AppError::internal()).into_response();
            }
            user
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot load the session");
            return ApiError(AppError::internal()).into_response();
        }
    };
    req.extensions_mut().insert(Owner(user));
    next.run(req).await
}
