//! Who is calling. [`Identities::resolve`] is the one function that decides it, from a request's
//! head; the router runs it for every page, server function, API request and stream
//! ([`identify`]), and nothing else looks at cookies or tokens to find a user.
//!
//! - `Authorization: Bearer <token>`: the operator token (`admin.token`, an admin), or a
//!   personal API token ([`engine::accounts`]) with its owner's role, limited by its scope. Any other
//!   bearer is refused (a bearer request never falls back on a cookie).
//! - With `--auth open`, every other caller is the anonymous user of a browser: a request
//!   without the cookie gets a new random one, and the user is derived from it (a one-way hash),
//!   so that nothing is stored for a visitor: a thousand requests without a cookie leave no
//!   trace in the database. (Browsers that signed in anonymously before keep the user their
//!   stored session names.)
//! - On an open server that listens on loopback only (and `--local-operator`, the default), an
//!   anonymous caller whose request comes from this machine, not relayed by a proxy, is the
//!   operator at the machine ([`Caller::at_the_machine`]): the one server running for the one
//!   person at it (`make run`). A request that carries a proxy's forwarding headers is never.
//! - With `--auth accounts`, the session names a signed-in account and the generation it
//!   signed in under; a session of a disabled account, or from before a password change, names
//!   no one. A request with no one behind it gets 401 (the API) or is sent to `/signin` (pages).
//!
//! The session cookie (`headway_session`, HttpOnly, SameSite=Lax, Secure behind HTTPS) names a
//! session kept in Headway's database under the hash of its id ([`sessions`]), or in the open
//! mode, an anonymous user. A session in use has its expiry pushed forward at most once a day,
//! so that it lives a year after its last use, not its first; an anonymous cookie is sent again
//! with every page.
//! Static assets never reach this: they neither create nor write a session.

pub mod cross_site;
pub mod limiter;
pub mod sessions;

use crate::client::Client;
use crate::config::AuthMode;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::accounts::{same_secret, Accounts, SignIn};
use engine::feed::Standing;
use engine::store::UserRow;
use engine::Caller;
use limiter::Limiter;
use model::error::Chain;
use model::{AppError, Role};
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::session::Id;
use tower_sessions::{Expiry, Session};

pub const COOKIE_NAME: &str = "headway_session";
/// A session lives this long after its last use.
pub const LIFETIME: time::Duration = time::Duration::days(365);
/// The user id (an anonymous user's, or a signed-in account's).
const USER_KEY: &str = "user";
/// The generation of the account the session signed in under.
const GENERATION_KEY: &str = "generation";
/// The day (since the Unix epoch) the session was last used on: when it changes, the session is
/// saved again with a new expiry.
const SEEN_KEY: &str = "seen";

/// Decides who is calling. Every request's middleware takes a clone: it is one shared value.
#[derive(Clone)]
pub struct Identities(Arc<Shared>);

impl std::ops::Deref for Identities {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every clone of [`Identities`] shares.
pub struct Shared {
    store: Arc<sessions::Store>,
    /// The same sessions without the cache, for deleting expired ones.
    persisted: sessions::Persisted,
    /// Send the cookie over HTTPS only.
    secure: bool,
    /// The secret operator requests present; `None` turns them off.
    operator_token: Option<Arc<str>>,
    mode: AuthMode,
    accounts: Accounts,
    /// Where external jobs' report tokens are checked.
    jobs: engine::store::Store,
    /// What someone not signed in may request.
    open: OpenPaths,
    limiter: Arc<Limiter>,
    /// Proxies whose `X-Forwarded-Proto: https` makes the cookie Secure.
    trusted_proxies: Arc<Vec<IpAddr>>,
    /// The server is open, listens on loopback only, and its local clients are its operator
    /// (`--local-operator`).
    local_operator: bool,
    /// Anonymous sessions stored by earlier versions may exist (the open mode stores none):
    /// their cookies are looked up.
    stored_anonymous: Arc<std::sync::atomic::AtomicBool>,
    /// Anonymous cookies looked up and not found, so that they are not looked up again.
    not_stored: Arc<std::sync::Mutex<std::collections::HashSet<Id>>>,
}

/// The caller of one request (`None`: no one is signed in), the session that says so (none for
/// a bearer token), and what to check again later to know that it still holds.
#[derive(Clone)]
pub struct Identity {
    pub caller: Option<Caller>,
    pub session: Option<Session>,
    pub credential: Credential,
    /// The open mode's anonymous cookie: the id it carries, and whether it is new.
    pub anonymous: Option<Anonymous>,
}

/// The anonymous cookie of a caller on an open server.
#[derive(Clone, Debug)]
pub struct Anonymous {
    pub id: Id,
    /// Made for this request: the client has not got it yet.
    pub fresh: bool,
}

/// What an identity rests on.
#[derive(Clone, Debug)]
pub enum Credential {
    /// An anonymous session, the operator token, or nothing: nothing to revoke.
    Lasting,
    /// Signed-in session `id` of account `user`, signed in under `generation`.
    Session {
        id: Id,
        user: model::UserId,
        generation: i64,
    },
    /// A personal API token (its secret).
    Token(Arc<str>),
    /// An external job's report token: it may only report for that job
    /// (`POST /api/v1/jobs/{id}/report`), as the job's owner.
    Report(model::JobId),
    /// A worker token: it may only register workers, poll for their work and report on it
    /// (`/api/v1/workers…`, [`workers_only`]).
    Worker(Arc<engine::store::WorkerTokenRow>),
}

/// Why a sign-in was refused.
pub enum SignInError {
    /// Wrong name or password (or a disabled account).
    Refused,
    /// Too many failures lately: try again after this long.
    TooMany(Duration),
    Failed(AppError),
}

impl Identities {
    /// Sessions and accounts kept in `db` (each user with `most_tokens` API tokens in force at
    /// most); `secure` sends the cookie over HTTPS only. `local_operator`: the server listens on
    /// loopback only and its open mode's local clients are its operator (ignored with accounts).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: engine::store::Store,
        most_tokens: u64,
        secure: bool,
        operator_token: Option<String>,
        mode: AuthMode,
        trusted_proxies: Arc<Vec<IpAddr>>,
        open: OpenPaths,
        local_operator: bool,
    ) -> Identities {
        let persisted = sessions::Persisted::new(db.clone());
        let operator_token = operator_token.map(Arc::from);
        let cached = !(mode == AuthMode::Accounts && db.is_shared());
        Identities(Arc::new(Shared {
            store: Arc::new(sessions::store(persisted.clone(), cached)),
            persisted,
            secure,
            operator_token,
            mode,
            accounts: Accounts::new(db.clone()).with_most_tokens(most_tokens),
            jobs: db,
            open,
            limiter: Arc::default(),
            trusted_proxies,
            local_operator: local_operator && mode == AuthMode::Open,
            stored_anonymous: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            not_stored: Arc::default(),
        }))
    }

    /// Moves sessions stored under their own ids by earlier versions under their hashes, and
    /// learns whether any anonymous one may be stored. Called once, before serving.
    pub async fn prepare_sessions(&self) -> Result<(), engine::store::StoreError> {
        let stored = self.persisted.hash_stored_ids().await?;
        self.stored_anonymous.store(
            self.mode == AuthMode::Open && stored > 0,
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }

    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The caller a bearer token stands for (the operator token, or a personal API token):
    /// `Ok(None)` without an `Authorization: Bearer` header, `Err` (401) for a token that is not
    /// valid. Nothing is read from cookies and no session is made.
    pub async fn bearer_caller(&self, headers: &HeaderMap) -> Result<Option<Caller>, AppError> {
        if bearer(headers).is_none() {
            return Ok(None);
        }
        Ok(self.resolve(headers, None).await?.caller)
    }

    /// Who is calling, from the request's head and its client (see the module's notes). The
    /// session is not written here; [`Identities::finish`] does that once the request has been
    /// handled.
    pub async fn resolve(
        &self,
        headers: &HeaderMap,
        client: Option<&Client>,
    ) -> Result<Identity, AppError> {
        let mut identity = self.resolve_credential(headers).await?;
        // An anonymous caller's cookie or token only: a report token's or a worker token's
        // caller is left as it is (and an account's, or the operator token's, by
        // `Caller::at_the_machine`).
        let anonymous = matches!(
            identity.credential,
            Credential::Lasting | Credential::Token(_)
        );
        if anonymous && self.at_the_machine(headers, client) {
            identity.caller = identity.caller.map(Caller::at_the_machine);
        }
        Ok(identity)
    }

    /// Whether the request is the operator's at the machine: the server is open and listens on
    /// loopback only, the client is on this machine (a trusted proxy's forwarded client is
    /// not), and the request names no proxy it came through (a proxy on this machine in front
    /// of the server would make every visitor an operator).
    fn at_the_machine(&self, headers: &HeaderMap, client: Option<&Client>) -> bool {
        self.local_operator
            && client.is_some_and(|c| c.local)
            && [
                "forwarded",
                "x-forwarded-for",
                "x-real-ip",
                "x-forwarded-host",
            ]
            .iter()
            .all(|h| !headers.contains_key(*h))
    }

    /// Who the request's credential (or its absence) stands for.
    async fn resolve_credential(&self, headers: &HeaderMap) -> Result<Identity, AppError> {
        if let Some(given) = bearer(headers) {
            if let Some(token) = &self.operator_token {
                if same_secret(token.as_bytes(), given.as_bytes()) {
                    return Ok(Identity {
                        caller: Some(Caller::operator()),
                        session: None,
                        credential: Credential::Lasting,
                        anonymous: None,
                    });
                }
            }
            if given.starts_with(model::external::REPORT_TOKEN_PREFIX) {
                return match engine::external::token_job(&self.jobs, given).await? {
                    Some((job, owner)) => Ok(Identity {
                        caller: Some(Caller::new(owner)),
                        session: None,
                        credential: Credential::Report(job),
                        anonymous: None,
                    }),
                    None => Err(AppError::unauthorized("the report token is not valid")),
                };
            }
            if given.starts_with(model::workers::WORKER_TOKEN_PREFIX) {
                return match engine::workers::tokens::token_row(&self.jobs, given).await? {
                    // Acts for its workers alone, on the jobs they hold.
                    Some(token) => Ok(Identity {
                        caller: Some(Caller::worker(token.id.clone())),
                        session: None,
                        credential: Credential::Worker(Arc::new(token)),
                        anonymous: None,
                    }),
                    None => Err(AppError::unauthorized(
                        "the worker token is not valid (revoked, or never made)",
                    )),
                };
            }
            let mut caller = self.accounts.token_caller(given).await?;
            if caller.is_none() && self.mode == AuthMode::Open {
                caller = self.accounts.anonymous_token_caller(given).await?;
            }
            return match caller {
                Some(caller) => Ok(Identity {
                    caller: Some(caller),
                    session: None,
                    credential: Credential::Token(Arc::from(given)),
                    anonymous: None,
                }),
                None => Err(AppError::unauthorized("the bearer token is not valid")),
            };
        }
        if self.mode == AuthMode::Open {
            return self.anonymous(session_id(headers)).await;
        }
        let session = Session::new(
            session_id(headers),
            Arc::clone(&self.store),
            Some(Expiry::OnInactivity(LIFETIME)),
        );
        let identity = match self.mode {
            AuthMode::Open => unreachable!("answered above"),
            AuthMode::Accounts => {
                // A stored user that is no user id names no account: not signed in.
                let user = session
                    .get::<String>(USER_KEY)
                    .await
                    .map_err(session_failed)?
                    .and_then(|user| model::UserId::parse(&user).ok());
                let generation = session
                    .get::<i64>(GENERATION_KEY)
                    .await
                    .map_err(session_failed)?;
                let account = match (user, generation) {
                    (Some(user), Some(generation)) => {
                        self.accounts.session_user(&user, generation).await?
                    }
                    _ => None,
                };
                match (account, session.id()) {
                    (Some(account), Some(id)) => Identity {
                        credential: Credential::Session {
                            id,
                            user: account.id.clone(),
                            generation: account.generation,
                        },
                        caller: Some(account_caller(account)),
                        session: Some(session),
                        anonymous: None,
                    },
                    // Nothing is written for a visitor who has not signed in.
                    _ => {
                        return Ok(Identity {
                            caller: None,
                            session: Some(session),
                            credential: Credential::Lasting,
                            anonymous: None,
                        })
                    }
                }
            }
        };
        if let Some(session) = &identity.session {
            let today = engine::now_ms() / 86_400_000;
            if session.get::<i64>(SEEN_KEY).await.map_err(session_failed)? != Some(today) {
                session
                    .insert(SEEN_KEY, today)
                    .await
                    .map_err(session_failed)?;
            }
        }
        Ok(identity)
    }

    /// The anonymous caller of the cookie `id` (a new cookie without one): the user a session
    /// stored by an earlier version names, else the one derived from the cookie.
    async fn anonymous(&self, id: Option<Id>) -> Result<Identity, AppError> {
        use std::sync::atomic::Ordering;
        let (id, fresh) = match id {
            Some(id) => (id, false),
            None => (Id::default(), true),
        };
        let mut user = None;
        if !fresh
            && self.stored_anonymous.load(Ordering::Relaxed)
            && !self.not_stored.lock().unwrap().contains(&id)
        {
            use tower_sessions::SessionStore;
            let record = self.store.load(&id).await.map_err(session_failed)?;
            user = record.and_then(|r| model::UserId::parse(r.data.get(USER_KEY)?.as_str()?).ok());
            if user.is_none() {
                let mut not_stored = self.not_stored.lock().unwrap();
                if not_stored.len() >= 100_000 {
                    not_stored.clear();
                }
                not_stored.insert(id);
            }
        }
        let user = user.unwrap_or_else(|| engine::caller::anonymous_user(&id.to_string()));
        Ok(Identity {
            caller: Some(Caller::new(user)),
            session: None,
            credential: Credential::Lasting,
            anonymous: Some(Anonymous { id, fresh }),
        })
    }

    /// Forgets an anonymous caller (signing out on an open server): a session an earlier
    /// version stored for the cookie is deleted; the cookie goes (see [`Identities::finish`]).
    pub async fn forget(&self, anonymous: &Anonymous) -> Result<(), AppError> {
        use tower_sessions::SessionStore;
        self.store
            .delete(&anonymous.id)
            .await
            .map_err(session_failed)
    }

    /// What a stream of `caller`, decided from `credential`, rests on: checked again at every
    /// keep-alive and whenever an account or token changes in this process, so that the stream
    /// ends once [`Identities::still_valid`] no longer holds. `None` for a credential that
    /// nothing revokes.
    pub fn standing(&self, caller: &Caller, credential: Credential) -> Option<Standing> {
        if matches!(credential, Credential::Lasting) {
            return None;
        }
        let checked = Arc::new((self.clone(), credential, caller.clone()));
        Some(Standing::new(self.accounts.changes(), move || {
            let checked = Arc::clone(&checked);
            Box::pin(async move {
                let (identities, credential, caller) = &*checked;
                identities.still_valid(credential, caller).await
            })
        }))
    }

    /// Whether what `credential` rests on still holds for `caller`, who was decided from it:
    /// the session exists (it was not signed out, in any process), its account is enabled, its
    /// password unchanged and its role the one `caller` has; or the token is in force and its
    /// owner still has that role. Open streams ask this from time to time, and at once when
    /// an account changes in this process ([`Accounts::changes`]).
    pub async fn still_valid(&self, credential: &Credential, caller: &Caller) -> bool {
        match credential {
            Credential::Lasting => true,
            Credential::Session {
                id,
                user,
                generation,
            } => {
                use tower_sessions::SessionStore;
                matches!(self.persisted.load(id).await, Ok(Some(_)))
                    && matches!(
                        self.accounts.session_user(user, *generation).await,
                        Ok(Some(account)) if role_of(&account) == caller.role()
                    )
            }
            Credential::Token(secret) if caller.name().is_none() => matches!(
                self.accounts.anonymous_token_caller(secret).await,
                Ok(Some(_))
            ),
            Credential::Token(secret) => matches!(
                self.accounts.token_caller(secret).await,
                Ok(Some(now)) if now.role() == caller.role()
            ),
            // A report token or a worker token opens no stream.
            Credential::Report(_) | Credential::Worker(_) => false,
        }
    }

    /// Signs `session` in as `name` if the password is right and neither the name nor the
    /// client address has failed too often lately. The session gets a new id (no fixation).
    pub async fn sign_in(
        &self,
        session: &Session,
        name: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<UserRow, SignInError> {
        if self.mode != AuthMode::Accounts {
            return Err(SignInError::Failed(AppError::new(
                model::ErrorCode::Conflict,
                "this server runs with --auth open: there is nothing to sign in to",
            )));
        }
        // Counted before the password is checked: attempts sent at once cannot pass the limit.
        let attempt = self
            .limiter
            .begin(name, client, Instant::now())
            .map_err(SignInError::TooMany)?;
        let checked = match self.accounts.sign_in(name, password).await {
            Ok(checked) => checked,
            Err(e) => {
                // No password was checked (the server was busy, or failed): nothing to count.
                self.limiter.forget(attempt);
                return Err(SignInError::Failed(e));
            }
        };
        match checked {
            SignIn::Refused => {
                tracing::info!(%client, "sign-in refused");
                Err(SignInError::Refused)
            }
            SignIn::Ok(user) => {
                self.limiter.succeeded(attempt, Instant::now());
                let write = async {
                    session.cycle_id().await?;
                    session.clear().await;
                    session.insert(USER_KEY, &user.id).await?;
                    session.insert(GENERATION_KEY, user.generation).await?;
                    session
                        .insert(SEEN_KEY, engine::now_ms() / 86_400_000)
                        .await
                };
                write
                    .await
                    .map_err(|e| SignInError::Failed(session_failed(e)))?;
                tracing::info!(user = %user.name, role = %user.role, "signed in");
                Ok(user)
            }
        }
    }

    /// Ends `session` on the server.
    pub async fn sign_out(&self, session: &Session) -> Result<(), AppError> {
        session.flush().await.map_err(session_failed)
    }

    /// Saves the session if the request changed it (a new session, a new day, a sign-in) and
    /// returns the `Set-Cookie` value that carries it to the client; a session signed out is
    /// removed from the client too. An anonymous cookie is sent when it is new and with every
    /// `page`, so that it lives a year after the last visit; `forgotten`, it is removed. The
    /// cookie is Secure with `--secure-cookies`, or when the request came over HTTPS (`https`).
    pub async fn finish(
        &self,
        identity: &Identity,
        https: bool,
        page: bool,
        forgotten: bool,
    ) -> Result<Option<HeaderValue>, AppError> {
        let secure = self.secure || https;
        if let Some(anonymous) = &identity.anonymous {
            return Ok(match (forgotten, anonymous.fresh || page) {
                (true, _) => removal(secure),
                (false, true) => cookie(&anonymous.id.to_string(), secure),
                (false, false) => None,
            });
        }
        let Some(session) = identity.session.as_ref().filter(|s| s.is_modified()) else {
            return Ok(None);
        };
        if session.is_empty().await {
            // Signed out (flushed): nothing to save; the cookie goes.
            return Ok(removal(secure));
        }
        session.save().await.map_err(session_failed)?;
        let Some(id) = session.id() else {
            return Ok(None);
        };
        Ok(cookie(&id.to_string(), secure))
    }

    /// Whether the request reached a trusted proxy over HTTPS (`X-Forwarded-Proto: https`).
    fn over_https(&self, req: &Request) -> bool {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        peer.is_some_and(|p| self.trusted_proxies.contains(&p))
            && req
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
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
                    Err(e) => {
                        tracing::error!(error = %Chain(&e), "deleting expired sessions failed")
                    }
                }
            }
        });
    }
}

/// The `Set-Cookie` value of the session cookie carrying `value`.
fn cookie(value: &str, secure: bool) -> Option<HeaderValue> {
    let cookie = Cookie::build((COOKIE_NAME, value.to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(LIFETIME)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The `Set-Cookie` value that removes the session cookie.
fn removal(secure: bool) -> Option<HeaderValue> {
    let cookie = Cookie::build((COOKIE_NAME, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The caller a signed-in account stands for.
fn account_caller(user: UserRow) -> Caller {
    let role = role_of(&user);
    Caller::account(user.id, user.name, role, true)
}

/// An account's role (a role this build does not know is a viewer's).
fn role_of(user: &UserRow) -> Role {
    Role::parse(&user.role).unwrap_or(Role::Viewer)
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

fn session_failed(e: impl std::error::Error + Send + Sync + 'static) -> AppError {
    AppError::internal_because("the session store failed", e)
}

/// The router's edge: resolves the caller, hands it (and the session) to the handler in the
/// request's extensions, and saves the session after. With `--auth accounts`, a request with no
/// one signed in reaches only the sign-in page and the sign-in endpoint: the API answers 401,
/// pages send the browser to `/signin`.
pub async fn identify(
    State(identities): State<Identities>,
    mut req: Request,
    next: Next,
) -> Response {
    let client = req.extensions().get::<Client>().copied();
    let identity = match identities.resolve(req.headers(), client.as_ref()).await {
        Ok(identity) => identity,
        Err(e) => return ApiError(e).into_response(),
    };
    if let Credential::Report(job) = &identity.credential {
        if let Err(e) = reports_only(job, req.method(), req.uri().path()) {
            return ApiError(e).into_response();
        }
    }
    if let Credential::Worker(_) = &identity.credential {
        if let Err(e) = workers_only(req.method(), req.uri().path()) {
            return ApiError(e).into_response();
        }
    }
    match &identity.caller {
        Some(caller) => {
            req.extensions_mut().insert(caller.clone());
        }
        None if identities.open.allows(req.method(), req.uri().path()) => {}
        None if req.uri().path().starts_with("/api/") => {
            return ApiError(AppError::unauthorized(
                "sign in first (POST /api/v1/session), or send `Authorization: Bearer <token>`",
            ))
            .into_response();
        }
        None => {
            let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let to = format!("/signin?next={}", model::url_encode(next));
            return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
        }
    }
    if let Some(session) = &identity.session {
        req.extensions_mut().insert(session.clone());
    }
    req.extensions_mut().insert(identity.clone());
    let https = identities.over_https(&req);
    let mut response = next.run(req).await;
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let forgotten = response.extensions().get::<Forgotten>().is_some();
    match identities.finish(&identity, https, page, forgotten).await {
        Ok(Some(cookie)) => {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(None) => {}
        Err(e) => return ApiError(e).into_response(),
    }
    response
}

/// What a report token may do: report for its own job (`POST /api/v1/jobs/{id}/report`) and
/// nothing else. Another job's report is 404 (as any job one may not see); anything else 403.
fn reports_only(job: &model::JobId, method: &Method, path: &str) -> Result<(), AppError> {
    let reported = model::external::is_report_path(path).then(|| {
        path.trim_start_matches("/api/v1/jobs/")
            .trim_end_matches("/report")
    });
    match reported {
        Some(id) if method == Method::POST && id == job.as_str() => Ok(()),
        Some(_) if method == Method::POST => Err(AppError::not_found()),
        _ => Err(AppError::forbidden(
            "a report token may only report for its job (POST /api/v1/jobs/{id}/report)",
        )),
    }
}

/// What a worker token may ask: to register (`POST /api/v1/workers`), and a registered worker's
/// own requests (`/api/v1/workers/{id}/poll`, its jobs' reports, inputs and outputs). Anything
/// else is 403.
fn workers_only(method: &Method, path: &str) -> Result<(), AppError> {
    if model::workers::is_worker_path(method.as_str(), path) {
        return Ok(());
    }
    Err(AppError::forbidden(
        "a worker token may only register a worker, take its work and report on it \
         (/api/v1/workers…)",
    ))
}

/// Marks a response to a caller who signed out of an open server: their cookie goes.
#[derive(Clone, Copy, Debug)]
pub struct Forgotten;

/// The requests someone not signed in may make besides the sign-in page: the API's endpoints
/// open to anyone (signing in, the API's document), as the router that serves them says at
/// start-up.
#[derive(Debug, Clone, Default)]
pub struct OpenPaths(Arc<Vec<(Method, String)>>);

impl OpenPaths {
    /// `paths`: methods and whole paths.
    pub fn new(paths: impl IntoIterator<Item = (Method, String)>) -> OpenPaths {
        OpenPaths(Arc::new(paths.into_iter().collect()))
    }

    /// Whether someone not signed in may make this request (`path` is the whole path).
    pub fn allows(&self, method: &Method, path: &str) -> bool {
        matches!(
            (method, path),
            (&Method::GET, "/signin") | (&Method::POST, "/signin")
        ) || self.0.iter().any(|(m, p)| m == method && p == path)
    }
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
