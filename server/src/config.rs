//! Configuration, read once from flags and environment, with defaults that need no setup: a
//! SQLite file under `./data/` and a loopback address.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(name = "headway", version, about = "Headway: a live jobs dashboard")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HEADWAY_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// SQLite database; the file and its directory are created if missing.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/headway.db")]
    pub database_url: String,

    /// Where the built site (wasm, JS, CSS) is served from.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Milliseconds a job has to stop after a cancel request (or at shutdown) before it is
    /// aborted.
    #[arg(long, env = "HEADWAY_CANCEL_GRACE_MS", default_value_t = 5000)]
    pub cancel_grace_ms: u64,

    /// Seconds between keep-alive comments on idle event streams (at most 15).
    #[arg(long, env = "HEADWAY_KEEP_ALIVE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=15))]
    pub keep_alive_secs: u64,

    /// Send the session cookie only over HTTPS (set this behind a TLS proxy).
    #[arg(long, env = "HEADWAY_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
}

impl Config {
    /// The defaults, as if started with no flags and no environment (for tests).
    pub fn for_tests(database_url: String) -> Config {
        Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url,
            site_root: PathBuf::from("target/site"),
            cancel_grace_ms: 2000,
            keep_alive_secs: 10,
            secure_cookies: false,
        }
    }
}
