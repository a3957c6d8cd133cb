//! `headway-bench`: measures Headway's live fan-out, connection capacity, job throughput and page
//! weight/render time, several processes sharing a PostgreSQL database, schedules, files
//! uploaded and downloaded, and programs run as command kinds, each next to a baseline measured
//! in the same run, and writes a Markdown report. See `headway-bench run --help` and docs/BENCHMARKS.md.
//!
//! Headway's database is reached only through the engine's own store (`engine::store::Store`):
//! the bench holds no SQL and no copy of the schema.

#![forbid(unsafe_code)]

mod baseline;
mod client;
mod files_baseline;
mod http;
mod plan;
mod procs;
mod report;
mod run;
mod scenarios;
mod seed;
mod sse;
mod stats;

use clap::{Parser, Subcommand};

/// Errors are sentences for the report.
pub type Res<T> = Result<T, String>;

/// The id `s` names, for an id the bench holds as text (a server's answer, a session's user):
/// a string that is no such id fails the run, saying so.
pub fn id<T: std::str::FromStr<Err = model::IdError>>(s: &str) -> Res<T> {
    s.parse().map_err(|e: model::IdError| format!("{s:?}: {e}"))
}

/// Unix time in milliseconds, with sub-millisecond precision.
pub fn unix_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[derive(Debug, Parser)]
#[command(
    name = "headway-bench",
    about = "Benchmarks of Headway against baselines measured in the same run"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Runs the benchmarks and writes the Markdown report.
    Run(Box<run::RunArgs>),
    /// A load-generating process holding event-stream connections (started by `run`).
    #[command(hide = true)]
    SseClients(client::ClientArgs),
    /// The bare axum SSE server used as the baseline (started by `run`).
    #[command(hide = true)]
    BaselineServer(baseline::BaselineArgs),
    /// The bare axum file server used as the file benchmark's baseline (started by `run`).
    #[command(hide = true)]
    FilesBaselineServer(files_baseline::FilesBaselineArgs),
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Run(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let code = rt.block_on(run::run(*args));
            std::process::exit(code);
        }
        Cmd::SseClients(args) => client::main(args),
        Cmd::BaselineServer(args) => baseline::main(args),
        Cmd::FilesBaselineServer(args) => files_baseline::main(args),
    }
}
