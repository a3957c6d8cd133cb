//! `headway`: serves the dashboard, the JSON API and the event streams.

use clap::Parser;
use std::io::IsTerminal;

/// Every request, job report and event allocates on one thread and is freed on another (a
/// worker, the writer, a stream): mimalloc does that with less contention than the system's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use server::config::{Command, LogFormat};
use server::{Config, Server};

#[tokio::main]
async fn main() {
    let config = Config::parse();
    // A command prints its answer on stdout and its failure on stderr, one line: what it logs
    // goes to stderr, and only warnings unless asked.
    let command = config.command.is_some();
    let default = match command {
        true => "warn",
        false => "info,sqlx=warn,tower_sessions=warn",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    // Colours only for a person's terminal: a log written to a file or read by a supervisor
    // gets plain text (and `NO_COLOR` turns them off anywhere).
    let ansi =
        |terminal: bool| terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    match (config.log_format, command) {
        (LogFormat::Text, false) => tracing_subscriber::fmt()
            .with_ansi(ansi(std::io::stdout().is_terminal()))
            .with_env_filter(filter)
            .init(),
        (LogFormat::Json, false) => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
        (LogFormat::Text, true) => tracing_subscriber::fmt()
            .with_ansi(ansi(std::io::stderr().is_terminal()))
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        (LogFormat::Json, true) => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    // The commands whose exit status says how a job ended.
    let ends = match &config.command {
        Some(Command::Run(args)) => Some(server::cli::run::run(&config, args).await),
        Some(Command::Follow { id }) => Some(server::cli::jobs::follow(&config, id).await),
        Some(Command::Start(args)) => Some(server::cli::jobs::start(&config, args).await),
        Some(Command::Worker(args)) => Some(server::cli::worker::run(&config, args).await),
        _ => None,
    };
    if let Some(ended) = ends {
        match ended {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("headway: {}", server::cli::printable_lines(&e));
                std::process::exit(1);
            }
        }
    }
    if let Some(command) = &config.command {
        let done = match command {
            Command::Run(_) | Command::Follow { .. } | Command::Start(_) | Command::Worker(_) => {
                unreachable!("answered above")
            }
            Command::Jobs(args) => server::cli::jobs::list(&config, args).await,
            Command::Cancel { id } => server::cli::jobs::cancel(&config, id).await,
            Command::Notice { text, clear } => {
                server::cli::notice::run(&config, text.as_deref(), *clear).await
            }
            Command::Kinds(kinds) => server::cli::kinds::run(&config, kinds).await,
            Command::Limits(limits) => server::cli::limits::run(&config, limits).await,
            Command::Schedules(schedules) => server::cli::schedules::run(&config, schedules).await,
            Command::Workers(workers) => {
                let command = workers
                    .command
                    .clone()
                    .unwrap_or(server::config::WorkersCommand::List);
                server::cli::workers::run(&config, &command).await
            }
            Command::Users(users) => server::accounts_cli::users(&config, users).await,
            Command::Tokens(tokens) => server::accounts_cli::tokens(&config, tokens).await,
        };
        // What the server answered, shown but never obeyed by the terminal.
        match done {
            Ok(done) => println!("{}", server::cli::printable_lines(&done)),
            Err(e) => {
                eprintln!("headway: {}", server::cli::printable_lines(&e));
                std::process::exit(1);
            }
        }
        return;
    }
    if config.commands.is_some() {
        // Programs run as Headway's user: they may not read its memory, its environment or its
        // command line (the database URL, the operator token) through /proc.
        // SAFETY: prctl with PR_SET_DUMPABLE only changes this process's flag.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
    }
    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("headway: {e}");
            std::process::exit(1);
        }
    };
    tracing::info!("Headway listening on http://{}", server.addr());
    server::shutdown::reload_commands_on_hangup(server.commands());
    if let Err(e) = server.run_until(server::shutdown::signal()).await {
        eprintln!("headway: {e}");
        std::process::exit(1);
    }
}
