//! The in-process harness: the real server, started on port 0 in a temporary directory with a
//! fresh database, served on the test's own runtime. [`spawn_app`] starts one with the
//! defaults; [`app`] starts one with settings changed or kinds added.
//!
//! The database is a SQLite file in that directory, or with `HEADWAY_TEST_BACKEND=postgres` a
//! fresh database on a throwaway PostgreSQL cluster this test process starts (and removes).

use crate::client::Session;
use engine::kinds::Kind;
use server::startup::Builder;
use server::{Config, Server};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process.
pub struct App {
    pub base: String,
    pub addr: std::net::SocketAddr,
    engine: engine::Engine,
    connections: server::serve::Connections,
    dir: Option<tempfile::TempDir>,
    config: Config,
    add_kinds: Vec<AddKind>,
    stop: Option<oneshot::Sender<()>>,
    running: Option<JoinHandle<std::io::Result<()>>>,
}

type AddKind = fn(Builder) -> Builder;

/// A server about to start: its settings and extra kinds.
pub struct Spawn {
    dir: tempfile::TempDir,
    config: Config,
    add_kinds: Vec<AddKind>,
}

/// A server with the defaults Headway ships with (a short cancel grace).
pub async fn spawn_app() -> App {
    app().start().await
}

pub use crate::support::on_postgres;

/// A server to configure before it starts.
pub fn app() -> Spawn {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config::for_tests(String::new());
    config.data_root = dir.path().join("files");
    config.file_store = Some(dir.path().join("store"));
    // A site of its own, so that static files are served as in a deployment, whatever has been
    // built.
    let pkg = dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("a site directory");
    std::fs::write(pkg.join("headway.css"), "body {}\n").unwrap();
    std::fs::write(
        pkg.join("headway.js"),
        "export default function init() {}\n",
    )
    .unwrap();
    config.site_root = dir.path().join("site");
    if on_postgres() {
        // No file next to the database to keep it in: given, as processes sharing one are.
        config.admin_token = Some(engine::new_id());
    }
    Spawn {
        dir,
        config,
        add_kinds: Vec::new(),
    }
}

impl Spawn {
    /// Changes any setting.
    pub fn with(mut self, change: impl FnOnce(&mut Config)) -> Spawn {
        change(&mut self.config);
        self
    }

    /// Runs kind `K` besides the built-in ones.
    pub fn kind<K: Kind>(mut self) -> Spawn {
        self.add_kinds.push(|b| b.kind::<K>());
        self
    }

    pub async fn start(mut self) -> App {
        if self.config.database_url.is_empty() {
            self.config.database_url = crate::support::database(self.dir.path()).await;
        }
        App::start(self.dir, self.config, self.add_kinds).await
    }
}

impl App {
    async fn start(dir: tempfile::TempDir, config: Config, add_kinds: Vec<AddKind>) -> App {
        let mut builder = Server::builder(config.clone());
        for add in &add_kinds {
            builder = add(builder);
        }
        let server = builder.start().await.expect("the server starts");
        let addr = server.addr();
        let engine = server.engine().clone();
        let connections = server.connections().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(server.run_until(async move {
            let _ = stopped.await;
        }));
        App {
            base: format!("http://{addr}"),
            addr,
            engine,
            connections,
            dir: Some(dir),
            config,
            add_kinds,
            stop: Some(stop),
            running: Some(running),
        }
    }

    /// A browser: its own cookie jar, hence its own session and user.
    pub fn session(&self) -> Session {
        Session::new(&self.base)
    }

    pub fn engine(&self) -> &engine::Engine {
        &self.engine
    }

    /// The server's file store (`--file-store`).
    pub fn file_store(&self) -> &std::path::Path {
        self.config
            .file_store
            .as_deref()
            .expect("a test's server is given its file store")
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.connections.open()
    }

    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("the app's directory").path()
    }

    /// The directory file-based kinds work in.
    pub fn data_root(&self) -> PathBuf {
        self.config.data_root.clone()
    }

    pub fn database_url(&self) -> &str {
        &self.config.database_url
    }

    /// The operator's token: given, or the one the server made next to its database.
    pub fn admin_token(&self) -> String {
        match &self.config.admin_token {
            Some(token) => token.clone(),
            None => std::fs::read_to_string(self.dir().join("admin.token"))
                .expect("the operator token next to the database")
                .trim()
                .to_string(),
        }
    }

    /// `headway ARGS` as a client of `server` (a URL: this app's, or a proxy's in front of it),
    /// signed in as the operator; its exit status, stdout and stderr. It must end within 120 s.
    pub async fn client(&self, server: &str, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"))
            .env_remove("HEADWAY_TOKEN")
            .env("HEADWAY_ADMIN_TOKEN", self.admin_token())
            .args(["--server", server])
            .args(args)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(120), out)
            .await
            .expect("the command ends")
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `headway ARGS` as an operator's command on this app's database and address (the way
    /// `headway kinds pause` or `headway limits set` run on the server's machine), not yet
    /// started: on PostgreSQL with the operator's token, as processes sharing it have one.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_headway"));
        if on_postgres() {
            command.env("HEADWAY_ADMIN_TOKEN", self.admin_token());
        }
        command
            .args([
                "--addr",
                self.base.trim_start_matches("http://"),
                "--database-url",
                self.database_url(),
            ])
            .args(args)
            .kill_on_drop(true);
        command
    }

    /// Runs SQL against the database with another client, as an operator would: `sqlite` on
    /// SQLite (through Python's sqlite3), `postgres` on PostgreSQL (through psql).
    pub async fn sql(&self, sqlite: &str, postgres: &str) {
        let status = if on_postgres() {
            tokio::process::Command::new("psql")
                .args([
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    self.database_url(),
                    "-c",
                    postgres,
                ])
                .status()
                .await
                .expect("psql runs")
        } else {
            tokio::process::Command::new("python3")
                .args(["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()"])
                .arg(self.dir().join("headway.db"))
                .arg(sqlite)
                .status()
                .await
                .expect("python3 runs")
        };
        assert!(status.success());
    }

    /// The first column of the first row `sqlite` (on SQLite) or `postgres` (on PostgreSQL)
    /// gives, as text, read with another client as [`App::sql`] does.
    pub async fn sql_value(&self, sqlite: &str, postgres: &str) -> String {
        let out = if on_postgres() {
            tokio::process::Command::new("psql")
                .args([
                    "-qAt",
                    "-v",
                    "ON_ERROR_STOP=1",
                    self.database_url(),
                    "-c",
                    postgres,
                ])
                .output()
                .await
                .expect("psql runs")
        } else {
            tokio::process::Command::new("python3")
                .args(["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])"])
                .arg(self.dir().join("headway.db"))
                .arg(sqlite)
                .output()
                .await
                .expect("python3 runs")
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Starts shutting down as SIGTERM does; the returned future completes when the server has.
    pub fn begin_shutdown(&mut self) -> Pin<Box<dyn Future<Output = Duration> + Send>> {
        let started = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let running = self.running.take();
        Box::pin(async move {
            if let Some(running) = running {
                running
                    .await
                    .expect("the server task")
                    .expect("the server stops cleanly");
            }
            started.elapsed()
        })
    }

    /// Shuts down and returns how long it took.
    pub async fn shutdown(&mut self) -> Duration {
        self.begin_shutdown().await
    }

    /// Shuts down and starts again on the same database and settings (a new address).
    pub async fn restart(self) -> App {
        self.restart_with(|_| {}).await
    }

    /// Like [`App::restart`], with settings changed.
    pub async fn restart_with(mut self, change: impl FnOnce(&mut Config)) -> App {
        self.shutdown().await;
        let dir = self.dir.take().expect("the app's directory");
        let mut config = self.config.clone();
        change(&mut config);
        App::start(dir, config, self.add_kinds.clone()).await
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
