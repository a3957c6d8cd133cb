//! The real `headway` binary as a child process, on port 0, for the tests that need processes of
//! their own: kill -9, SIGTERM, start-up errors, and several processes sharing PostgreSQL.

use crate::client::Session;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether this run's tests use PostgreSQL (`HEADWAY_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("HEADWAY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh database of this run's backend: a SQLite file in `dir`, or a new database on the
/// throwaway PostgreSQL cluster this test process starts.
pub async fn database(dir: &Path) -> String {
    if on_postgres() {
        postgres_database().await
    } else {
        format!("sqlite://{}", dir.join("headway.db").display())
    }
}

/// A new database on this test process's throwaway PostgreSQL cluster.
pub async fn postgres_database() -> String {
    let cluster = tokio::task::spawn_blocking(engine::store::postgres::throwaway::shared)
        .await
        .expect("start the throwaway PostgreSQL");
    cluster.fresh_database().await.expect("a fresh database")
}

/// A running `headway` process.
pub struct Headway {
    child: Child,
    pub base: String,
    /// Every line the process has written to stdout (its log) so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Left unreaped when dropped (a zombie until this test process ends).
    unreaped: bool,
}

impl Headway {
    /// Starts `headway` on `database`, with file kinds under `<dir>/files`, and waits until it
    /// listens (on a loopback port of its own unless `args` has `--addr`). `args` and `env` are
    /// added as given.
    pub fn start(database: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Headway {
        Headway::start_with(database, dir, args, env, |_| {})
    }

    /// [`Headway::start`], with `prepare` given the command last.
    pub fn start_with(
        database: &str,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        prepare: impl FnOnce(&mut Command),
    ) -> Headway {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_headway"));
        if !args.contains(&"--addr") {
            cmd.args(["--addr", "127.0.0.1:0"]);
        }
        if !args.contains(&"--file-store") {
            cmd.arg("--file-store").arg(dir.join("store"));
        }
        cmd.args(["--database-url", database])
            .arg("--data-root")
            .arg(dir.join("files"))
            .args(args)
            .env("RUST_LOG", "info")
            // As in the in-process tests: schedules fire every second.
            .env("HEADWAY_MIN_SCHEDULE_INTERVAL_SECS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if database.starts_with("postgres") {
            // Processes sharing a database are given the operator's token; a short lease so
            // that a restarted or surviving process takes over within seconds.
            cmd.env("HEADWAY_ADMIN_TOKEN", ADMIN_TOKEN);
            cmd.env("HEADWAY_LEASE_SECS", "2");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        prepare(&mut cmd);
        let mut child = cmd.spawn().expect("start headway");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let (false, Some(i)) = (sent, line.find("listening on http://")) {
                    // The URL, whether the log is text or JSON.
                    let url: String = line[i + "listening on ".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || ":/.[]".contains(*c))
                        .collect();
                    let _ = tx.send(url);
                    sent = true;
                }
                kept.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server reported its address");
        Headway {
            child,
            base,
            log,
            unreaped: false,
        }
    }

    /// The lines of its log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn session(&self) -> Session {
        Session::new(&self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGKILL, and the process left unreaped: a zombie, as a crashed server is until its
    /// parent waits for it. Returns its pid.
    pub fn kill9_unreaped(mut self) -> u32 {
        self.child.kill().unwrap();
        self.unreaped = true;
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process; returns how long it took to exit and its status.
    pub fn terminate(mut self) -> (Duration, std::process::ExitStatus) {
        let t = Instant::now();
        assert!(Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        (t.elapsed(), status)
    }
}

impl Drop for Headway {
    fn drop(&mut self) {
        if self.unreaped {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The operator's token of processes on PostgreSQL.
pub const ADMIN_TOKEN: &str = "test-operator-token";

/// Runs `headway`, which must exit by itself within 30 s; returns its exit code and stderr.
pub fn headway(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_headway"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("headway {args:?} did not exit: it started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The command failed with one line on stderr that contains `needle`.
pub fn one_line_failure((code, err): (i32, String), needle: &str) {
    assert_ne!(code, 0, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}
