//! Start-up: bind the address, open the store, start the engine, and build the router with its
//! layers. Every failure here is one clear line for the operator.

use crate::admin::{self, AdminToken};
use crate::listener::Dispatcher;
use crate::{api, session, sse, Config};
use app::engine::store::{OpenError, Store};
use app::engine::{Engine, EngineConfig};
use app::{shell, App};
use axum::extract::FromRef;
use axum::routing::{any, get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::TcpListener;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
    pub streams: sse::StreamConfig,
    pub admin_token: AdminToken,
    pub sessions: session::Sessions,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot create the directory {dir}: {source}")]
    DataDir { dir: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("cannot start the job engine: {0}")]
    Engine(sqlx::Error),
    #[error("cannot read or create the operator token {path}: {source}")]
    AdminToken { path: PathBuf, source: std::io::Error },
    #[error("cannot prepare the session store: {0}")]
    Sessions(String),
}

pub struct Server {
    listener: TcpListener,
    router: Router,
    state: AppState,
    addr: SocketAddr,
}

impl Server {
    pub async fn start(config: Config) -> Result<Server, StartError> {
        // Bind first: a second instance on a busy port must not touch the first one's jobs.
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind { addr: config.addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.addr, source })?;

        let db_dir = sqlite_parent_dir(&config.database_url);
        if let Some(dir) = &db_dir {
            std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir { dir: dir.clone(), source })?;
        }
        let store = Store::open(&config.database_url).await?;
        // Next to the database, once it is known to be one; an in-memory store gets a token
        // for this process only (pass --admin-token to use the operator endpoints).
        let admin_token = if config.database_url.contains(":memory:") {
            config.admin_token.clone().unwrap_or_else(|| app::engine::new_id())
        } else {
            let path = admin::token_path(db_dir.as_deref());
            admin::load_or_create_token(config.admin_token.as_deref(), &path)
                .map_err(|source| StartError::AdminToken { path, source })?
        };
        let sessions = session::Sessions::open(store.pool().clone(), config.secure_cookies)
            .await
            .map_err(StartError::Sessions)?;
        std::fs::create_dir_all(&config.data_root)
            .map_err(|source| StartError::DataDir { dir: config.data_root.clone(), source })?;
        let engine_config = EngineConfig {
            grace: Duration::from_millis(config.cancel_grace_ms),
            max_running: config.max_running as usize,
            kind_limits: config.kind_limits.iter().cloned().collect(),
            data_root: config.data_root.clone(),
            retention: Duration::from_secs(config.retention_secs),
            stall_after: Duration::from_secs(config.stall_secs),
            build: config.build_id.clone().unwrap_or_else(build_id),
            ..EngineConfig::default()
        };
        let engine = Engine::start(store, engine_config).await.map_err(StartError::Engine)?;

        let state = AppState {
            leptos_options: leptos_options(&config, addr),
            engine: engine.clone(),
            streams: sse::StreamConfig { keep_alive: Duration::from_secs(config.keep_alive_secs) },
            admin_token: AdminToken(Some(admin_token.into())),
            sessions,
        };
        let router = router(state.clone());
        Ok(Server { listener, router, state, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// Serves until `signal` completes, then shuts down: streams end, jobs stop (`interrupted`),
    /// pending writes are committed. Returns within the cancel grace period plus a few seconds.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let engine = self.state.engine.clone();
        let listener = Dispatcher::start(self.listener, self.state.clone());
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        // `into_make_service`: every connection shares the one router instead of a copy of it.
        let serve = axum::serve(listener, self.router.into_make_service()).with_graceful_shutdown(async move {
            signal.await;
            engine.shutdown().await;
            let _ = stopped_tx.send(());
        });
        let give_up = async {
            if stopped_rx.await.is_ok() {
                tokio::time::sleep(Duration::from_secs(3)).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = serve => r?,
            _ = give_up => tracing::warn!("connections still open after shutdown; closing them"),
        }
        // Idempotent: already done when the signal fired; needed if the listener failed.
        self.state.engine.shutdown().await;
        Ok(())
    }
}

fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let engine = state.engine.clone();
    let api = Router::new()
        .route("/events", get(sse::all_events))
        .route("/kinds", get(api::kinds))
        .route("/jobs", post(api::create_job).get(api::list_jobs))
        .route("/jobs/{id}", get(api::get_job))
        .route("/jobs/{id}/cancel", post(api::cancel_job))
        .route("/jobs/{id}/rerun", post(api::rerun_job))
        .route("/events/poll", get(sse::poll))
        .route("/jobs/{id}/log", get(api::job_log))
        .route("/jobs/{id}/events", get(sse::job_events))
        .route("/admin/notices", post(admin::post_notice).delete(admin::withdraw_notices))
        .route("/{*rest}", any(api::no_such_endpoint))
        .layer(api::body_limit());
    Router::new()
        .nest("/api/v1", api)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(engine.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(session::ensure_user))
        .layer(state.sessions.layer())
        .layer(axum::middleware::map_response(api::close_after_refused_body))
        .with_state(state)
}

/// Leptos' settings: the ones cargo-leptos exports when it runs the server, else defaults that
/// match this workspace's `[[workspace.metadata.leptos]]`.
fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        if let Ok(conf) = get_configuration(None) {
            let mut options = conf.leptos_options;
            options.site_addr = addr;
            return options;
        }
    }
    LeptosOptions::builder()
        .output_name("headway")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// This build's id: the version and a hash of the executable's size and modification time, so
/// that every new build of the binary has a new id.
fn build_id() -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if let Some(meta) = std::env::current_exe().ok().and_then(|p| std::fs::metadata(p).ok()) {
        meta.len().hash(&mut h);
        meta.modified().ok().hash(&mut h);
    }
    format!("{}-{:08x}", env!("CARGO_PKG_VERSION"), h.finish() as u32)
}

/// The directory holding the SQLite file of `url`, if it names a file.
pub fn sqlite_parent_dir(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::sqlite_parent_dir;
    use std::path::PathBuf;

    #[test]
    fn database_directory_is_derived_from_the_url() {
        assert_eq!(sqlite_parent_dir("sqlite://data/headway.db"), Some(PathBuf::from("data")));
        assert_eq!(sqlite_parent_dir("sqlite:///tmp/x/h.db?mode=rwc"), Some(PathBuf::from("/tmp/x")));
        assert_eq!(sqlite_parent_dir("sqlite:h.db"), None);
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_parent_dir("postgres://x"), None);
    }
}
