//! Who is calling. [`Identities::resolve`] is the one function that decides it, from a request's
//! head; the router runs it for every page, server function, API request and stream
//! ([`identify`]), and nothing else looks at cookies to find a user.
//!
//! A request with `Authorization: Bearer <token>` is the operator's if the token is the
//! operator token, and refused otherwise (a bearer request never falls back on a cookie).
//! Every other caller is the anonymous user of a browser session: the session cookie
//! (`headway_session`, HttpOnly, SameSite=Lax, Secure behind HTTPS) names a session kept in
//! Headway's database ([`sessions`]); a request without a valid one gets a new session and a new
//! user. A session in use has its expiry pushed forward at most once a day, so that it lives a
//! year after its last use, not its first. Static assets never reach this: they neither create
//! nor write a session.

pub mod sessions;

use crate::api::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::Caller;
use model::AppError;
use std::str::FromStr;
use std::sync::Arc;
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::session::Id;
use tower_sessions::{Expiry, Session};

pub const COOKIE_NAME: &str = "headway_session";
/// A session lives this long after its last use.
pub const LIFETIME: time::Duration = time::Duration::days(365);
const USER_KEY: &str = "user";
/// The day (since the Unix epoch) the session was last used on: when it changes, the session is
/// saved again with a new expiry.
const SEEN_KEY: &str = "seen";

/// Decides who is calling.
#[derive(Clone)]
pub struct Identities {
    store: Arc<sessions::Store>,
    /// The same sessions without the cache, for deleting expired ones.
    persisted: sessions::Persisted,
    /// Send the cookie over HTTPS only.
    secure: bool,
    /// The secret operator requests present; `None` turns them off.
    operator_token: Option<Arc<str>>,
}

/// The caller of one request, and the session that says so (none for a bearer token).
#[derive(Clone)]
pub struct Identity {
    pub caller: Caller,
    pub session: Option<Session>,
}

impl Identities {
    /// Sessions kept in `db`; `secure` sends the cookie over HTTPS only.
    pub fn new(
        db: engine::store::Store,
        secure: bool,
        operator_token: Option<String>,
    ) -> Identities {
        let persisted = sessions::Persisted::new(db);
        let operator_token = operator_token.map(Arc::from);
        Identities {
            store: Arc::new(sessions::store(persisted.clone())),
            persisted,
            secure,
            operator_token,
        }
    }

    /// Whether `headers` present the operator's bearer token.
    pub fn is_operator(&self, headers: &HeaderMap) -> bool {
        match (bearer(headers), &self.operator_token) {
            (Some(given), Some(token)) => same_secret(token.as_bytes(), given.as_bytes()),
            _ => false,
        }
    }

    /// Who is calling, from the request's head: the user of the session its cookie names, or a
    /// new user in a new session. The session is not written here; [`Identities::finish`] does
    /// that once the request has been handled.
    pub async fn resolve(&self, headers: &HeaderMap) -> Result<Identity, AppError> {
        if let Some(given) = bearer(headers) {
            return match &self.operator_token {
                Some(token) if same_secret(token.as_bytes(), given.as_bytes()) => Ok(Identity {
                    caller: Caller::operator(),
                    session: None,
                }),
                _ => Err(AppError::unauthorized("the bearer token is not valid")),
            };
        }
        let session = Session::new(
            session_id(headers),
            Arc::clone(&self.store),
            Some(Expiry::OnInactivity(LIFETIME)),
        );
        let user = match session
            .get::<String>(USER_KEY)
            .await
            .map_err(session_failed)?
        {
            Some(user) => user,
            None => {
                let user = engine::new_id();
                session
                    .insert(USER_KEY, &user)
                    .await
                    .map_err(session_failed)?;
                user
            }
        };
        let today = engine::now_ms() / 86_400_000;
        if session.get::<i64>(SEEN_KEY).await.map_err(session_failed)? != Some(today) {
            session
                .insert(SEEN_KEY, today)
                .await
                .map_err(session_failed)?;
        }
        Ok(Identity {
            caller: Caller::new(user),
            session: Some(session),
        })
    }

    /// Saves the session if the request changed it (a new session, a new day, a sign-in) and
    /// returns the `Set-Cookie` value that carries it to the client.
    pub async fn finish(&self, identity: &Identity) -> Result<Option<HeaderValue>, AppError> {
        let Some(session) = identity.session.as_ref().filter(|s| s.is_modified()) else {
            return Ok(None);
        };
        session.save().await.map_err(session_failed)?;
        let Some(id) = session.id() else {
            return Ok(None);
        };
        let cookie = Cookie::build((COOKIE_NAME, id.to_string()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .max_age(LIFETIME)
            .build();
        Ok(HeaderValue::from_str(&cookie.to_string()).ok())
    }

    /// Deletes sessions that expired, every hour, until the server stops.
    pub fn spawn_expiry(&self, stopping: tokio_util::sync::CancellationToken) {
        let store = self.persisted.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopping.cancelled() => return,
                }
                match store.delete_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "deleted expired sessions"),
                    Err(e) => tracing::error!(error = %e, "deleting expired sessions failed"),
                }
            }
        });
    }
}

/// The session id the request's cookie names, if it has a well-formed one.
fn session_id(headers: &HeaderMap) -> Option<Id> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .and_then(|c| Id::from_str(c.value()).ok())
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn session_failed(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "the session store failed");
    AppError::internal()
}

/// The router's edge: resolves the caller, hands it (and the session) to the handler in the
/// request's extensions, and saves the session after.
pub async fn identify(
    State(identities): State<Identities>,
    mut req: Request,
    next: Next,
) -> Response {
    let identity = match identities.resolve(req.headers()).await {
        Ok(identity) => identity,
        Err(e) => return ApiError(e).into_response(),
    };
    req.extensions_mut().insert(identity.caller.clone());
    if let Some(session) = &identity.session {
        req.extensions_mut().insert(session.clone());
    }
    let mut response = next.run(req).await;
    match identities.finish(&identity).await {
        Ok(Some(cookie)) => {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(None) => {}
        Err(e) => return ApiError(e).into_response(),
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_matches() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cret", b"s3cre"));
        assert!(!same_secret(b"s3cret", b"s3crex"));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let id = Id::default();
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; headway_theme=dark".parse().unwrap());
        h.append(
            header::COOKIE,
            format!("{COOKIE_NAME}={id}").parse().unwrap(),
        );
        assert_eq!(session_id(&h), Some(id));
        h.insert(
            header::COOKIE,
            format!("{COOKIE_NAME}=not-an-id").parse().unwrap(),
        );
        assert_eq!(session_id(&h), None);
    }
}
