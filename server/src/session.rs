//! Who is calling: every request belongs to a session (SQLite-backed, HttpOnly, SameSite=Lax),
//! and every session has a user id, created on its first request. The id is put into the
//! request's extensions as [`Owner`] for handlers and server functions.

use crate::api::ApiError;
use app::engine::Owner;
use app::error::AppError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::SqlitePool;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

const USER_KEY: &str = "user";
pub const COOKIE_NAME: &str = "headway_session";

pub type Layer = SessionManagerLayer<SqliteStore>;

/// The session layer, with its table created if missing.
pub async fn layer(pool: SqlitePool, secure: bool) -> Result<Layer, String> {
    let store = SqliteStore::new(pool);
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(365))))
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
