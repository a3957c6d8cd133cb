//! A temporary PostgreSQL cluster for tests and benchmarks, gone when they are.
//!
//! It is started through Debian's `pg_virtualenv` (package `postgresql-common`, installed with
//! `postgresql`), which creates a cluster in a temporary directory on a free port, runs as an
//! unprivileged user when started by root (PostgreSQL refuses to run as root), runs one command
//! and drops the cluster when that command ends. The command here writes the connection
//! settings to a file and then waits for its standard input to close: when the [`Cluster`] is
//! dropped, or the process that started it exits however it exits, the pipe closes and the
//! cluster is removed. Nothing needs to be running beforehand.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a cluster may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Settings for a cluster that only tests use: no durability, many connections.
pub const FOR_TESTS: &[&str] = &[
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=500",
];

/// A running throwaway cluster.
pub struct Cluster {
    host: String,
    port: u16,
    user: String,
    password: String,
    dir: PathBuf,
    /// Closing it ends the cluster.
    stdin: Mutex<Option<ChildStdin>>,
    child: Mutex<Child>,
}

impl Cluster {
    /// Starts a cluster with `settings` (`name=value` each), waiting until it accepts
    /// connections.
    pub fn start(settings: &[&str]) -> Result<Cluster, String> {
        let dir =
            std::env::temp_dir().join(format!("headway-pg-{}-{}", std::process::id(), uuid_like()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let env_file = dir.join("connection");
        let log_file = dir.join("pg_virtualenv.log");
        let log = std::fs::File::create(&log_file).map_err(|e| e.to_string())?;
        let mut command = Command::new("pg_virtualenv");
        // In a temporary directory even for root, so that clusters never meet.
        command.arg("-t");
        for s in settings {
            command.arg("-o").arg(s);
        }
        let child = command
            .arg("sh")
            .arg("-c")
            .arg(r#"printf '%s\n%s\n%s\n%s\n' "$PGHOST" "$PGPORT" "$PGUSER" "$PGPASSWORD" > "$1.tmp" && mv "$1.tmp" "$1"; exec cat > /dev/null"#)
            .arg("sh")
            .arg(&env_file)
            .stdin(Stdio::piped())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            // Its own process group: a Ctrl-C meant for the tests does not cut its cleanup short.
            .process_group(0)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "pg_virtualenv is missing: install PostgreSQL \
                     (`apt-get install postgresql`, or `make setup-test`)"
                    .to_string(),
                _ => format!("cannot start pg_virtualenv: {e}"),
            })?;
        let mut cluster = Cluster {
            host: String::new(),
            port: 0,
            user: String::new(),
            password: String::new(),
            dir,
            stdin: Mutex::new(None),
            child: Mutex::new(child),
        };
        let stdin = cluster.child.get_mut().unwrap().stdin.take();
        *cluster.stdin.get_mut().unwrap() = stdin;
        let started = Instant::now();
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&env_file) {
                break text;
            }
            if let Ok(Some(status)) = cluster.child.get_mut().unwrap().try_wait() {
                let log = std::fs::read_to_string(&log_file).unwrap_or_default();
                return Err(format!("pg_virtualenv stopped ({status}):\n{log}"));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "PostgreSQL did not start within {} s",
                    START_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = text.lines().map(str::to_string);
        let mut next = || lines.next().unwrap_or_default();
        cluster.host = next();
        cluster.port = next()
            .parse()
            .map_err(|_| "pg_virtualenv gave no port".to_string())?;
        cluster.user = next();
        cluster.password = next();
        // Nothing more is read from the folder (the log stays open for the cluster's messages).
        let _ = std::fs::remove_dir_all(&cluster.dir);
        Ok(cluster)
    }

    /// The URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, database
        )
    }

    /// Creates a fresh database; returns its URL.
    pub async fn create_database(&self, name: &str) -> Result<String, String> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .map_err(|e| format!("cannot connect to the throwaway cluster: {e}"))?;
        sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        Ok(self.url(name))
    }

    /// A fresh database with a name nobody else uses; returns its URL.
    pub async fn fresh_database(&self) -> Result<String, String> {
        self.create_database(&format!("t_{}", uuid_like())).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // End of input: the command ends, pg_virtualenv drops the cluster.
        if let Some(mut stdin) = self.stdin.get_mut().unwrap().take() {
            let _ = stdin.flush();
        }
        let _ = self.child.get_mut().unwrap().wait();
    }
}

/// The cluster this process's tests share (started on first use, with [`FOR_TESTS`]); each
/// test takes a fresh database of its own on it. It is removed when the process exits.
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    SHARED.get_or_init(|| match Cluster::start(FOR_TESTS) {
        Ok(cluster) => cluster,
        Err(e) => panic!("cannot start a throwaway PostgreSQL: {e}"),
    })
}

/// A short random name part (no extra dependency for it).
fn uuid_like() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}
