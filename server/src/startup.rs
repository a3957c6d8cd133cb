//! Start-up: bind the address, open the store, start the engine, and build the router with its
//! layers. Every failure here is one clear line for the operator.

use crate::client::{self, Clients};
use crate::config::AuthMode;
use crate::hosts::{self, Hosts};
use crate::identity::Identities;
use crate::limits::BodyLimits;
use crate::serve::{self, Connections};
use crate::shares::Shares;
use crate::state::{AppState, Shared, StreamConfig};
use crate::telemetry::{self, Telemetry};
use crate::{access_log, operator_token, routes, security_headers, Config};
use axum::Router;
use engine::commands::Programs;
use engine::kinds::{Kind, Registry};
use engine::store::{Access, OpenError, Store};
use engine::uploads::UploadLimits;
use engine::webhooks::WebhookConfig;
use engine::{Engine, EngineConfig};
use leptos::prelude::*;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceBuilder;

/// How long shutdown waits for open connections to finish their current request.
const CLOSE_WITHIN: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the directory {dir}: {source}")]
    DataDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("cannot start the job engine: {0}")]
    Engine(#[from] engine::StartError),
    #[error("--tags: {0}")]
    Tags(String),
    #[error("cannot read or create the operator token {path}: {source}")]
    AdminToken {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot prepare the stored sessions: {0}")]
    Sessions(String),
    #[error("{0}")]
    Commands(String),
    #[error("{0}")]
    Workflows(String),
    #[error("cannot prepare the runs of command kinds: {0}")]
    Programs(std::io::Error),
    #[error("--role {0} needs a database that several processes share (PostgreSQL); on SQLite one process serves and runs jobs (--role all)")]
    RoleNeedsSharedStore(&'static str),
}

/// A server being set up: its configuration and the kinds it runs.
pub struct Builder {
    config: Config,
    kinds: Registry,
}

impl Builder {
    /// Adds a kind besides the built-in ones.
    pub fn kind<K: Kind>(mut self) -> Builder {
        self.kinds = self.kinds.with::<K>();
        self
    }

    pub async fn start(self) -> Result<Server, StartError> {
        Server::start_with(self.config, self.kinds).await
    }
}

pub struct Server {
    listener: TcpListener,
    router: Router,
    state: AppState,
    addr: SocketAddr,
    connections: Connections,
    commands: Commands,
}

/// Reads the commands file into the server's kinds, and the workflows file into its workflows,
/// again (on SIGHUP).
#[derive(Clone)]
pub struct Commands {
    file: Option<PathBuf>,
    kinds: Registry,
    programs: Arc<Programs>,
    workflows_file: Option<PathBuf>,
    workflows: engine::workflows::Workflows,
}

impl Commands {
    /// Reads the file again: its commands replace those read before; a file with a mistake
    /// changes nothing. `Ok(None)` when the server has no commands file.
    pub fn reload(&self) -> Result<Option<usize>, String> {
        let Some(file) = &self.file else {
            return Ok(None);
        };
        // A command's words may be given in the languages the pages speak.
        let languages = app::i18n::Lang::ALL.map(|l| l.tag());
        engine::commands::install(&self.kinds, file, &self.programs, &languages).map(Some)
    }

    /// Reads the workflows file again, against the kinds as they are now: its workflows
    /// replace those read before; a file with a mistake changes nothing. `Ok(None)` when the
    /// server has no workflows file.
    pub fn reload_workflows(&self) -> Result<Option<usize>, String> {
        let Some(file) = &self.workflows_file else {
            return Ok(None);
        };
        let languages = app::i18n::Lang::ALL.map(|l| l.tag());
        self.workflows
            .install(file, &self.kinds, &languages)
            .map(Some)
    }
}

impl Server {
    /// A server with the built-in kinds.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        Server::builder(config).start().await
    }

    pub fn builder(config: Config) -> Builder {
        Builder {
            config,
            kinds: Registry::builtin(),
        }
    }

    async fn start_with(config: Config, kinds: Registry) -> Result<Server, StartError> {
        // The commands file first: a mistake in it stops start-up before anything is touched.
        // What programs of a Headway killed on this machine left running is killed here.
        let programs = Programs::new(
            Programs::default_runs(),
            Duration::from_millis(config.cancel_grace_ms),
            Some(&config.data_root),
        )
        .map_err(StartError::Programs)?;
        let commands = Commands {
            file: config.commands.clone(),
            kinds: kinds.clone(),
            programs,
            workflows_file: config.workflows.clone(),
            workflows: Default::default(),
        };
        // The built-in kinds' titles in every language of the pages: a search finds their jobs
        // by the title a reader sees.
        for kind in kinds.infos() {
            for lang in app::i18n::Lang::ALL {
                if let Some(title) =
                    app::i18n::Text::of(lang).lookup(&format!("kind-{}", kind.name))
                {
                    kinds.also_titled(&kind.name, title);
                }
            }
        }
        if let Some(n) = commands.reload().map_err(StartError::Commands)? {
            tracing::info!(commands = n, "read the commands file");
        }
        if let Some(n) = commands.reload_workflows().map_err(StartError::Workflows)? {
            tracing::info!(workflows = n, "read the workflows file");
        }
        // Bind first: a second instance on a busy port must not touch the first one's jobs.
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;

        let store = Store::open(&config.database_url, Access::Exclusive).await?;
        if !store.is_shared() && config.role != crate::config::ProcessRole::All {
            return Err(StartError::RoleNeedsSharedStore(config.role.as_str()));
        }
        let admin_token = match (store.local_dir(), &config.admin_token) {
            (Some(dir), _) => {
                let path = operator_token::token_path(dir);
                Some(
                    operator_token::load_or_create_token(config.admin_token.as_deref(), &path)
                        .map_err(|source| StartError::AdminToken { path, source })?,
                )
            }
            (None, Some(token)) if !token.trim().is_empty() => Some(token.trim().to_string()),
            (None, _) => {
                // Processes sharing a database must agree on it: it is given, never made up.
                tracing::warn!(
                    "no --admin-token (HEADWAY_ADMIN_TOKEN): operator requests are refused"
                );
                None
            }
        };
        {
            use std::os::unix::fs::DirBuilderExt;
            // Folders Headway creates are its user's alone, as its database is.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&config.data_root)
        }
        .map_err(|source| StartError::DataDir {
            dir: config.data_root.clone(),
            source,
        })?;
        let auth = config.auth_mode();
        if auth == AuthMode::Open && !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "--auth open on an address beyond loopback: anyone who reaches it may start jobs; use --auth accounts"
            );
        }
        if auth == AuthMode::Open && !config.trusted_proxies.is_empty() {
            tracing::warn!(
                "--auth open behind a proxy (--trusted-proxy): anyone who reaches the proxy may start jobs; use --auth accounts"
            );
        }
        let trusted_proxies = Arc::new(config.trusted_proxies.clone());
        let identities = Identities::new(
            store.clone(),
            config.max_tokens_per_user,
            config.secure_cookies,
            admin_token,
            auth,
            Arc::clone(&trusted_proxies),
            crate::rest::api::open_paths(),
            config.local_operator && addr.ip().is_loopback(),
        );
        let engine_config = EngineConfig {
            grace: Duration::from_millis(config.cancel_grace_ms),
            max_running: config.max_running as usize,
            kind_limits: config.kind_limits.iter().cloned().collect(),
            kinds,
            workflows: commands.workflows.clone(),
            data_root: config.data_root.clone(),
            retention: Duration::from_secs(config.retention_secs),
            stall_after: Duration::from_secs(config.stall_secs),
            build: config.build_id.clone().unwrap_or_else(build_id),
            runs_jobs: config.role.runs_jobs(),
            role: config.role.as_str().to_string(),
            lease: Duration::from_secs(config.lease_secs),
            max_queued_per_user: config.max_queued_per_user,
            max_running_per_user: config.max_running_per_user.map(|n| n as usize),
            tags: model::tags::checked(&config.tags).map_err(StartError::Tags)?,
            file_store: config.file_store(),
            uploads: UploadLimits {
                max_bytes: config.max_upload_bytes,
                quota: config.upload_quota_bytes,
                unused_for: Duration::from_secs(config.unused_upload_secs),
                keep_files: Duration::from_secs(config.file_retention_secs),
                per_user: config.max_uploads_per_user,
                ..UploadLimits::default()
            },
            webhooks: WebhookConfig {
                allow_private: config.webhook_allow_private,
                policy: engine::webhooks::Policy {
                    retry_for: Duration::from_secs(config.webhook_retry_secs),
                    timeout: Duration::from_secs(10),
                },
                site: match &config.public_url {
                    Some(url) => url.as_str().trim_end_matches('/').to_string(),
                    None => format!("http://{addr}"),
                },
            },
            bounds: engine::bounds::WriteBounds {
                log: engine::bounds::LogBounds {
                    line_bytes: config.max_log_line_bytes as usize,
                    job_bytes: config.max_job_log_bytes,
                },
                report_bytes_per_sec: config.report_bytes_per_sec,
                outputs_per_job: config.max_outputs_per_job as usize,
                schedules_per_user: config.max_schedules_per_user,
                min_schedule_interval: Duration::from_secs(config.min_schedule_interval_secs),
            },
            // A worker's commands file may give words in the languages the pages speak.
            languages: app::i18n::Lang::ALL.map(|l| l.tag().to_string()).to_vec(),
            ..EngineConfig::default()
        };
        let engine = Engine::start(store, engine_config).await?;
        identities
            .prepare_sessions()
            .await
            .map_err(|e| StartError::Sessions(e.to_string()))?;
        identities.spawn_expiry(engine.stopping());

        // Beyond this machine, only with --metrics-public (see `metrics`).
        let telemetry = Arc::new(Telemetry::new(&engine, config.metrics_public));
        let state = AppState::new(Shared {
            leptos_options: leptos_options(&config, addr),
            telemetry,
            engine,
            streams: StreamConfig {
                keep_alive: Duration::from_secs(config.keep_alive_secs),
                shares: Shares::new(config.max_streams_per_user as usize),
            },
            identities,
            trusted_proxies: Arc::clone(&trusted_proxies),
            body_limits: BodyLimits {
                timeout: Duration::from_secs(config.body_timeout_secs),
            },
        });
        let hosts = Hosts::new(addr, &config.allowed_hosts, config.public_url.as_ref());
        let clients = Clients {
            trusted_proxies,
            loopback_bind: addr.ip().is_loopback(),
            open_mode: auth == AuthMode::Open,
        };
        let router = match config.role.serves() {
            true => routes::router(state.clone()),
            false => routes::health_only(state.clone()),
        };
        // Every request: its client is found, its host checked, its answer given the headers
        // every answer carries; it is counted and logged once, with its route and a request id.
        // One stack, outermost first, wrapped around each route once: a request's way through
        // it clones no boxed route but the one at its bottom.
        let router = router.layer(
            ServiceBuilder::new()
                .layer(access_log::layers(config.trusted_proxies.clone()))
                .layer(axum::middleware::from_fn_with_state(
                    Arc::clone(&state.telemetry),
                    telemetry::count_requests,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    clients,
                    client::identify_client,
                ))
                .layer(axum::middleware::from_fn(security_headers::add))
                .layer(axum::middleware::from_fn_with_state(
                    hosts,
                    hosts::refuse_other_hosts,
                )),
        );
        let max = config
            .max_connections
            .map(|n| n as usize)
            .unwrap_or_else(serve::default_max_connections);
        Ok(Server {
            listener,
            router,
            state,
            addr,
            connections: Connections::new(max),
            commands,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// What reads the commands file again.
    pub fn commands(&self) -> Commands {
        self.commands.clone()
    }

    /// The connections being served (how many are open, for tests and the operator).
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// Serves until `signal` completes, then shuts down: no new connections, streams end, jobs
    /// stop (`interrupted`), pending writes are committed, and open connections get a few
    /// seconds to finish their current request. Returns within the cancel grace period plus a
    /// few seconds.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.connections
            .spawn_accept_loop(self.listener, self.router);
        signal.await;
        self.connections.stop_accepting();
        self.state.engine.shutdown().await;
        let left = self.connections.close(CLOSE_WITHIN).await;
        if left > 0 {
            tracing::warn!(
                connections = left,
                "connections still open after shutdown; closing them"
            );
        }
        Ok(())
    }
}

/// Leptos' settings: the ones cargo-leptos exports when it runs the server, else defaults that
/// match this workspace's `[[workspace.metadata.leptos]]`. (`LEPTOS_OUTPUT_NAME` alone does not
/// tell: cargo sets it for every build and test, see `.cargo/config.toml`.)
fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    if std::env::var_os("LEPTOS_SITE_ROOT").is_some() {
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
    if let Some(meta) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
    {
        meta.len().hash(&mut h);
        meta.modified().ok().hash(&mut h);
    }
    format!("{}-{:08x}", env!("CARGO_PKG_VERSION"), h.finish() as u32)
}
