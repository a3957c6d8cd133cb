//! Configuration, read once from flags and environment, with defaults that need no setup: a
//! SQLite file under `./data/` and a loopback address.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(name = "headway", version, about = "Headway: a live jobs dashboard")]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "HEADWAY_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// The database: a SQLite file (`sqlite://path`, created with its directory if missing;
    /// `?mode=ro` or `?mode=rw` to refuse creating it), or PostgreSQL 15 or newer
    /// (`postgres://USER:PASSWORD@HOST:PORT/DB`), which several Headway processes may share.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/headway.db",
        global = true
    )]
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

    /// Jobs running at once; the others wait `queued`, first in, first out.
    #[arg(long, env = "HEADWAY_MAX_RUNNING", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_running: u64,

    /// A per-kind limit on running jobs, `KIND=N`; repeat the flag (or comma-separate in the
    /// environment) for several kinds.
    #[arg(long = "kind-limit", env = "HEADWAY_KIND_LIMITS", value_delimiter = ',',
          value_parser = parse_kind_limit)]
    pub kind_limits: Vec<(String, usize)>,

    /// The directory file-based kinds (checksum, import_csv) may read and write in; created if
    /// missing.
    #[arg(long, env = "HEADWAY_DATA_ROOT", default_value = "data/files")]
    pub data_root: PathBuf,

    /// The folder of uploaded files and of the files jobs write; created if missing. Default:
    /// `store` beside a SQLite database (`data/store` for the default database), `data/store`
    /// on PostgreSQL. Every process sharing a database must be given the same folder, on a
    /// volume they all mount (see docs/DEPLOY.md): a process whose folder is not the
    /// database's refuses to start.
    #[arg(long, env = "HEADWAY_FILE_STORE")]
    pub file_store: Option<PathBuf>,

    /// The largest file one upload may be, in bytes (default 1 GiB).
    #[arg(long, env = "HEADWAY_MAX_UPLOAD_BYTES", default_value_t = 1 << 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_upload_bytes: u64,

    /// The bytes one user's stored files may hold together (default 10 GiB): their uploads and
    /// the outputs their jobs keep (a worker's too). Past it an upload is refused with 413, and
    /// so is an output (a job's fails `over_quota`, a worker's sending is answered 413).
    #[arg(long, env = "HEADWAY_UPLOAD_QUOTA_BYTES", default_value_t = 10 << 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_quota_bytes: u64,

    /// Seconds an upload no job used is kept (default a day).
    #[arg(long, env = "HEADWAY_UNUSED_UPLOAD_SECS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub unused_upload_secs: u64,

    /// Seconds jobs' outputs are kept after the job ended, and uploads after a job last used
    /// them (default 30 days). The jobs themselves, their results and logs stay.
    #[arg(long, env = "HEADWAY_FILE_RETENTION_SECS", default_value_t = 2_592_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub file_retention_secs: u64,

    /// Seconds events are kept for replay (`Last-Event-ID`); older cursors get `resync`.
    /// Job history and logs are kept regardless. Default: 7 days.
    #[arg(long, env = "HEADWAY_RETENTION_SECS", default_value_t = 604_800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub retention_secs: u64,

    /// Send the session cookie only over HTTPS (set this behind a TLS proxy).
    #[arg(long, env = "HEADWAY_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Seconds without a progress report after which a running job is shown as stalled.
    #[arg(long, env = "HEADWAY_STALL_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub stall_secs: u64,

    /// The token that authorizes operator requests (`/api/v1/admin/...`, `headway notice`).
    /// Default: the one in `admin.token` next to the database, created on first start.
    #[arg(
        long,
        env = "HEADWAY_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub admin_token: Option<String>,

    /// The build id pages compare to offer a reload after an upgrade. Default: derived from
    /// the version and the executable file.
    #[arg(long, env = "HEADWAY_BUILD_ID")]
    pub build_id: Option<String>,

    /// Connections open at once; past it, new ones are answered 503 and closed. Default: what
    /// the open-files limit allows, less a margin.
    #[arg(long, env = "HEADWAY_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,

    /// What this process does: `all` (serves pages, the API and streams, and runs jobs),
    /// `web` (serves, runs no jobs) or `worker` (runs jobs, serves only `/healthz`). Web and
    /// worker processes share a PostgreSQL database.
    #[arg(long, env = "HEADWAY_ROLE", value_enum, default_value_t = ProcessRole::All)]
    pub role: ProcessRole,

    /// Seconds a process sharing the database may be silent (no heartbeat) before another one
    /// takes over its jobs: `interrupted`, or queued again from their checkpoint.
    #[arg(long, env = "HEADWAY_LEASE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: u64,

    /// The log's format: `text` (one readable line per record) or `json` (one JSON object per
    /// line, for log collectors).
    #[arg(long, env = "HEADWAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Serve `/metrics` without a token on a server that listens beyond loopback (by default
    /// it then needs the operator's bearer token).
    #[arg(long, env = "HEADWAY_METRICS_PUBLIC", default_value_t = false)]
    pub metrics_public: bool,

    /// A reverse proxy whose `X-Forwarded-For` (or `X-Real-IP`) names the client: requests from
    /// this address are logged with the client's address instead of the proxy's. Repeat the
    /// flag (or comma-separate in the environment) for several. Requests from anywhere else
    /// are logged with their own peer address, whatever they claim.
    #[arg(
        long = "trusted-proxy",
        env = "HEADWAY_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// The address people reach Headway at (`https://jobs.example.com`), when it is served
    /// under a name: its host is one this server answers for (see `--allowed-host`).
    #[arg(long, env = "HEADWAY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,

    /// A host name this server answers for (the `Host` a browser sends), besides
    /// `--public-url`'s. Repeat the flag (or comma-separate in the environment) for several.
    /// On a loopback address `localhost`, `127.0.0.1` and `[::1]` always are; elsewhere, without
    /// any name given, only addresses written as IP addresses are. Requests for any other host
    /// are refused with 421, so that a web page cannot reach Headway through a name it controls
    /// (DNS rebinding).
    #[arg(
        long = "allowed-host",
        env = "HEADWAY_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_parser = parse_host_name
    )]
    pub allowed_hosts: Vec<String>,

    /// Seconds a client has to send a request's whole body once its head has arrived; past
    /// that it is answered 408 and the connection is closed.
    #[arg(long, env = "HEADWAY_BODY_TIMEOUT_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,

    /// Jobs one user may have waiting in the queue; past it, starting another (or a bulk
    /// re-run that would pass it) is refused with 429.
    #[arg(long, env = "HEADWAY_MAX_QUEUED_PER_USER", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_queued_per_user: u64,

    /// Jobs one user may have running at once in the deployment, so that the others always find
    /// a slot. Default: three quarters of the deployment's slots (`--max-running` of every
    /// process that runs jobs), rounded up.
    #[arg(long, env = "HEADWAY_MAX_RUNNING_PER_USER",
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_running_per_user: Option<u64>,

    /// The tags this process offers, comma-separated (`gpu,eu`): it runs the jobs of the kinds
    /// that require none it lacks (a command's `requires`). Default: none, so it runs only
    /// the kinds that require no tag.
    #[arg(long, env = "HEADWAY_TAGS", value_delimiter = ',', value_parser = tag)]
    pub tags: Vec<String>,

    /// Event streams and long polls one user may hold open at once in this process (the tabs
    /// of one browser share one stream); past it, 429.
    #[arg(long, env = "HEADWAY_MAX_STREAMS_PER_USER", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_streams_per_user: u64,

    /// Bytes of one log line at most (default 16 KiB); a longer line is cut there, marked
    /// `[line cut]`. Whatever writes the line: a kind, a command's output, an external job.
    #[arg(long, env = "HEADWAY_MAX_LOG_LINE_BYTES", default_value_t = 16 * 1024,
          value_parser = clap::value_parser!(u64).range(256..=1 << 20))]
    pub max_log_line_bytes: u64,

    /// Bytes of log one job may write (default 32 MiB). The line that would pass it is replaced
    /// by a warning that the log was cut; the job runs on, and the lines after it are dropped.
    #[arg(long, env = "HEADWAY_MAX_JOB_LOG_BYTES", default_value_t = 32 << 20,
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_job_log_bytes: u64,

    /// Bytes one user's external jobs may report per second together (and as much each worker
    /// token's workers), with a burst of ten seconds' worth (default 1 MiB/s): each report costs
    /// 1 KiB plus its log lines' bytes, whatever else it holds. Past it a report is answered 429
    /// with `Retry-After`, and `headway run` (or the worker) sends it again then.
    #[arg(long, env = "HEADWAY_REPORT_BYTES_PER_SEC", default_value_t = 1 << 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub report_bytes_per_sec: u64,

    /// Outputs one job may attach (default 1,000); attaching another fails.
    #[arg(long, env = "HEADWAY_MAX_OUTPUTS_PER_JOB", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_outputs_per_job: u64,

    /// Schedules one user may have (default 100); making another is refused with 429.
    #[arg(long, env = "HEADWAY_MAX_SCHEDULES_PER_USER", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_schedules_per_user: u64,

    /// The shortest interval, in seconds, between the fire times of a schedule a user makes
    /// (default 60); a schedule firing more often is refused with 422.
    #[arg(long, env = "HEADWAY_MIN_SCHEDULE_INTERVAL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub min_schedule_interval_secs: u64,

    /// Uploads one user may hold at once (default 1,000); another is refused with 429.
    #[arg(long, env = "HEADWAY_MAX_UPLOADS_PER_USER", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_uploads_per_user: u64,

    /// Personal API tokens in force one user may have (default 100; revoked ones do not
    /// count); making another is refused with 429 until they revoke one.
    #[arg(long, env = "HEADWAY_MAX_TOKENS_PER_USER", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_tokens_per_user: u64,

    /// Who may use Headway: `open` (anyone who reaches it gets an anonymous session and sees
    /// only their own jobs) or `accounts` (signing in is required; see `headway users`). The
    /// default is `open` on a loopback address and `accounts` on any other.
    #[arg(long, env = "HEADWAY_AUTH", value_enum)]
    pub auth: Option<AuthMode>,

    /// On an open server (`--auth open`) that listens on loopback only, a request from this
    /// machine is its operator's: the pages offer it the operator's controls (pausing kinds,
    /// limits, priorities) without the operator token, as `make run` serves one person. Set
    /// `false` on a machine several people share: each local user is then anonymous, as on any
    /// other open server.
    #[arg(long, env = "HEADWAY_LOCAL_OPERATOR", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub local_operator: bool,

    /// A TOML file of command kinds: the team's own programs and scripts, run as job kinds
    /// (see docs/COMMANDS.md). Read at start-up and again on SIGHUP; a file with a mistake
    /// stops start-up, and on SIGHUP keeps the commands read before.
    #[arg(long, env = "HEADWAY_COMMANDS")]
    pub commands: Option<PathBuf>,

    /// A TOML file of workflows: graphs of steps, each a kind with parameters (see
    /// docs/WORKFLOWS.md), read after the commands file. Read at start-up and again on SIGHUP;
    /// a file with a mistake stops start-up, and on SIGHUP keeps the workflows read before.
    #[arg(long, env = "HEADWAY_WORKFLOWS")]
    pub workflows: Option<PathBuf>,

    /// Let webhooks POST to loopback, private and link-local addresses (refused by default, so
    /// that a user cannot point Headway at the machine it runs on or the network behind it).
    #[arg(long, env = "HEADWAY_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,

    /// Seconds a webhook's delivery is retried (with a backoff doubling up to an hour) before
    /// it is given up; a webhook whose deliveries all fail for this long is disabled.
    #[arg(long, env = "HEADWAY_WEBHOOK_RETRY_SECS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..=2_592_000))]
    pub webhook_retry_secs: u64,

    /// Where the client commands (`headway run`, `jobs`, `start`, `follow`, `cancel`, `notice`,
    /// `kinds`, `schedules`) reach Headway: its URL, such as `https://headway.example.com`.
    /// Default: `http://` and `--addr`.
    #[arg(long, env = "HEADWAY_SERVER", global = true)]
    pub server: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Who may use Headway (see `--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    Open,
    Accounts,
}

impl Config {
    /// `--auth`, or its default for the address.
    pub fn auth_mode(&self) -> AuthMode {
        self.auth.unwrap_or(match self.addr.ip().is_loopback() {
            true => AuthMode::Open,
            false => AuthMode::Accounts,
        })
    }
}

/// How log records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What a process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProcessRole {
    /// Serves pages, the API and streams, and runs jobs.
    All,
    /// Serves pages, the API and streams; runs no jobs.
    Web,
    /// Runs jobs; serves only `/healthz`.
    Worker,
}

impl ProcessRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::All => "all",
            ProcessRole::Web => "web",
            ProcessRole::Worker => "worker",
        }
    }

    pub fn runs_jobs(self) -> bool {
        self != ProcessRole::Web
    }

    pub fn serves(self) -> bool {
        self != ProcessRole::Worker
    }
}

/// Operator commands. `notice`, `kinds` and `schedules` are sent to the running server at `--addr` (with the
/// API token in `HEADWAY_TOKEN`, or the operator token); `users` and `tokens` work on the
/// database (`--database-url`), whether or not a server runs on it.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Accounts, for `--auth accounts`.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Personal API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Shows a message to every user (open pages at once, later visits too) until withdrawn:
    /// `headway notice "Maintenance at 18:00"`; `headway notice --clear` withdraws.
    Notice {
        /// The message, one line.
        #[arg(required_unless_present = "clear")]
        text: Option<String>,
        /// Withdraw every notice in force instead.
        #[arg(long, conflicts_with = "text")]
        clear: bool,
    },
    /// Runs a program here as an external job of the server, shown live on its dashboard:
    /// `headway run --title 'nightly backup' -- ./backup.sh --full`. Its output is the job's
    /// log, file descriptor 3 reports its progress (docs/COMMANDS.md), its exit ends the job,
    /// and a cancel from the dashboard stops it. Needs a write token in `HEADWAY_TOKEN`. Exits
    /// with the program's status (128 + N when killed by signal N).
    Run(RunArgs),
    /// The jobs the token's owner sees, newest first, with the dashboard's filters:
    /// `headway jobs --status running --kind import_csv`.
    Jobs(JobsArgs),
    /// Starts a job: `headway start demo --param steps=20 --follow`. Prints its id; with
    /// `--follow`, follows it as `headway follow` does.
    Start(StartArgs),
    /// Shows a job live until it ends: its bar (with its rate and the time left) and its log as
    /// it comes, resuming after a cut connection. Exits 0 when it succeeded, 1 failed,
    /// 2 cancelled, 3 interrupted, 4 when it cannot be followed (no such job, the server
    /// unreachable for five minutes).
    Follow {
        /// The job's id, or its first 8 characters or more (as the pages show it).
        id: String,
    },
    /// Asks a job to stop.
    Cancel {
        /// The job's id, or its first 8 characters or more (as the pages show it).
        id: String,
    },
    /// The kinds, and pausing them: `headway kinds pause import_csv`, `headway kinds resume '*'`.
    #[command(subcommand)]
    Kinds(KindsCommand),
    /// Limits on a kind's jobs, over the kind, per user or per parameter: `headway limits set
    /// deploy --max 1 --per repository`, `headway limits set mail --max 10 --every 1m --per owner`.
    #[command(subcommand)]
    Limits(LimitsCommand),
    /// Schedules: `headway schedules add demo --cron '0 2 * * 1-5' --timezone Europe/Paris
    /// --param steps=10 --param interval_ms=100`.
    #[command(subcommand)]
    Schedules(SchedulesCommand),
    /// Runs, on this machine, the jobs of the commands of `--commands FILE` that people start on
    /// the server at `--server`: `headway worker --server https://headway.example.com
    /// --commands commands.toml --tags gpu`. It connects out (no port opens here) with the
    /// worker token in `HEADWAY_WORKER_TOKEN`, and runs until stopped (SIGTERM or Ctrl-C: it
    /// takes no more work, lets what runs finish within `--grace-secs`, then stops it).
    Worker(WorkerArgs),
    /// Workers on other machines: `headway workers` lists them; `token NAME` makes a worker
    /// token; `drain`, `disable` and `enable` steer one.
    Workers(WorkersArgs),
}

/// `headway workers [COMMAND]`: without one, the list.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkersArgs {
    #[command(subcommand)]
    pub command: Option<WorkersCommand>,
}

/// `headway worker`'s settings.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// The commands file whose commands this worker runs (docs/COMMANDS.md); its programs are
    /// found on this machine.
    #[arg(long, env = "HEADWAY_COMMANDS")]
    pub commands: PathBuf,
    /// The tags this worker offers, comma-separated (`gpu,eu`): it takes the jobs of the kinds
    /// that require none it lacks.
    #[arg(long, env = "HEADWAY_TAGS", value_delimiter = ',', value_parser = tag)]
    pub tags: Vec<String>,
    /// Jobs it runs at once.
    #[arg(long, default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(model::workers::MAX_SLOTS)))]
    pub max_running: u32,
    /// What it is called on the server's `/system` page (default: this machine's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds a cancelled program has between SIGTERM and SIGKILL.
    #[arg(long, default_value_t = 10)]
    pub grace_secs: u64,
}

/// `headway workers`.
#[derive(Debug, Clone, Subcommand)]
pub enum WorkersCommand {
    /// Lists the workers: name, state, jobs running of its slots, tags, host, last seen.
    List,
    /// Makes a worker token (an admin's) and prints it, once.
    Token { name: String },
    /// Lists the worker tokens.
    Tokens,
    /// Revokes a worker token: its workers are refused from now on, their jobs taken back.
    Revoke { id: String },
    /// A worker finishes what it runs and takes no more.
    Drain { id: String },
    /// A worker takes nothing; what it runs is taken back now and stopped on it.
    Disable { id: String },
    /// A worker takes work again.
    Enable { id: String },
}

/// `headway jobs`' filters.
#[derive(Debug, Clone, clap::Args)]
pub struct JobsArgs {
    /// Only jobs in this status (queued, running, succeeded, failed, cancelled, interrupted).
    #[arg(long)]
    pub status: Option<String>,
    /// Only jobs of this kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only jobs whose message or error contains this text, or whose id starts with it (8
    /// characters or more: a run's steps too).
    #[arg(long)]
    pub search: Option<String>,
    /// How many at most.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub limit: u32,
}

/// `headway start`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct StartArgs {
    /// The kind of job.
    pub kind: String,
    /// A parameter, NAME=VALUE (again for each); a number, true/false or JSON is taken as
    /// such, anything else as text.
    #[arg(long)]
    pub param: Vec<String>,
    /// Its priority: lowest, low, normal, high or urgent (or 0 to 4); its kind's by default.
    /// Above its kind's, only an operator's or an admin's token may start it.
    #[arg(long)]
    pub priority: Option<String>,
    /// A job it runs after (its id, or its first 8 characters or more): it waits, queued,
    /// until that job ends (again for each).
    #[arg(long, value_name = "ID")]
    pub after: Vec<String>,
    /// With --after: start once they all `succeeded` (the default; if one does not, it is
    /// cancelled) or once they all `ended`, however.
    #[arg(long, value_name = "succeeded|ended", requires = "after")]
    pub when: Option<String>,
    /// Follow it until it ends, and exit as `headway follow` does.
    #[arg(long)]
    pub follow: bool,
    /// With the kind `workflow`: the workflow to run, one `[[workflow]]` written as in the
    /// workflows file (TOML), or its definition as JSON (a file ending in .json); --param gives
    /// the values of its parameters.
    #[arg(long, value_name = "FILE")]
    pub definition: Option<std::path::PathBuf>,
}

/// `headway run`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// What the job is called on the dashboard (default: the command line).
    #[arg(long)]
    pub title: Option<String>,
    /// A parameter shown with the job, NAME=VALUE (again for each).
    #[arg(long)]
    pub param: Vec<String>,
    /// Seconds without a report (this machine or its network gone) after which the server
    /// takes the job for lost (`interrupted`).
    #[arg(long, default_value_t = model::external::DEFAULT_LEASE_SECS,
          value_parser = clap::value_parser!(u32).range(5..=3600))]
    pub lease_secs: u32,
    /// Seconds a cancelled program has between SIGTERM and SIGKILL.
    #[arg(long, default_value_t = 10)]
    pub grace_secs: u64,
    /// The program draws a tqdm bar on stderr (Python's tqdm, or a tool that copies its look):
    /// it moves the job's bar instead of filling its log.
    #[arg(long)]
    pub tqdm: bool,
    /// The program and its arguments, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub program: Vec<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SchedulesCommand {
    /// Lists the schedules the token's owner may see.
    List,
    /// Adds a schedule of the token's owner.
    Add {
        /// The kind of job it starts.
        kind: String,
        /// What to call it ("nightly import"), so that it can be told from others of its kind.
        #[arg(long)]
        name: Option<String>,
        /// When: five fields (minute hour day month weekday), six with seconds first, or
        /// @hourly, @daily, @weekly, @monthly.
        #[arg(long)]
        cron: String,
        /// An IANA time zone (default UTC).
        #[arg(long)]
        timezone: Option<String>,
        /// A parameter of its jobs, NAME=VALUE (again for each).
        #[arg(long)]
        param: Vec<String>,
        /// While its previous job is still queued or running: skip (default) or start.
        #[arg(long)]
        overlap: Option<String>,
        /// Fire times missed while no process ran: skip (default) or one.
        #[arg(long)]
        catch_up: Option<String>,
        /// Fewer attempts than its kind allows.
        #[arg(long)]
        max_attempts: Option<u32>,
        /// Added paused.
        #[arg(long)]
        paused: bool,
    },
    /// Pauses a schedule: it fires nothing until resumed.
    Pause { id: String },
    /// Resumes a paused schedule, from its next fire time after now.
    Resume { id: String },
    /// Starts its job now, outside its clock.
    Run { id: String },
    /// Deletes a schedule (its jobs stay).
    Delete { id: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum KindsCommand {
    /// Lists the kinds and whether each is paused.
    List,
    /// Pauses a kind (`*`: every kind) on every process: its queued jobs wait, running ones
    /// finish. Operators and admins.
    Pause { kind: String },
    /// Resumes a paused kind (`*`: the pause of every kind).
    Resume { kind: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum LimitsCommand {
    /// Lists the limits in force with their busiest keys.
    List,
    /// Sets a limit on every process, in place of the one of the same kind, key and window.
    /// Operators and admins.
    Set {
        kind: String,
        /// At most this many running at once, or starts in a window (`--every`).
        #[arg(long)]
        max: u32,
        /// `owner` (each user apart) or a parameter's name; the whole kind when left out.
        #[arg(long)]
        per: Option<String>,
        /// A rate's window (`1s`, `1m`, `1h`): at most `--max` starts in any such window.
        #[arg(long)]
        every: Option<String>,
    },
    /// Removes the limit set at run time with this kind, key and window.
    Remove {
        kind: String,
        #[arg(long)]
        per: Option<String>,
        #[arg(long)]
        every: Option<String>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Adds an account: `headway users add ada --role admin` (asks for the password).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleName,
        /// Read the password from standard input (one line) instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists the accounts.
    List,
    /// Changes an account's role.
    SetRole {
        name: String,
        #[arg(value_enum)]
        role: RoleName,
    },
    /// Sets a new password; the account's sessions end.
    SetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disables an account: its sessions end (open streams too) and its tokens stop working.
    Disable { name: String },
    /// Enables a disabled account again.
    Enable { name: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokensCommand {
    /// Creates a personal API token and prints it (once): `headway tokens create ci --user ada --scope write`.
    Create {
        name: String,
        #[arg(long)]
        user: String,
        #[arg(long, value_enum, default_value_t = ScopeName::Read)]
        scope: ScopeName,
    },
}

/// A role, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleName {
    Viewer,
    Member,
    Operator,
    Admin,
}

impl From<RoleName> for model::Role {
    fn from(r: RoleName) -> model::Role {
        match r {
            RoleName::Viewer => model::Role::Viewer,
            RoleName::Member => model::Role::Member,
            RoleName::Operator => model::Role::Operator,
            RoleName::Admin => model::Role::Admin,
        }
    }
}

/// A token's scope, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScopeName {
    Read,
    Write,
}

impl From<ScopeName> for model::TokenScope {
    fn from(s: ScopeName) -> model::TokenScope {
        match s {
            ScopeName::Read => model::TokenScope::Read,
            ScopeName::Write => model::TokenScope::Write,
        }
    }
}

impl Config {
    /// The file store: `--file-store`, or `store` beside a SQLite database, or `data/store`.
    pub fn file_store(&self) -> PathBuf {
        self.file_store.clone().unwrap_or_else(|| {
            engine::store::local_dir(&self.database_url)
                .map_or_else(|| PathBuf::from("data/store"), |dir| dir.join("store"))
        })
    }

    /// The defaults, as if started with no flags and no environment (for tests).
    pub fn for_tests(database_url: String) -> Config {
        Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url,
            site_root: PathBuf::from("target/site"),
            cancel_grace_ms: 2000,
            keep_alive_secs: 10,
            max_running: 16,
            kind_limits: Vec::new(),
            data_root: PathBuf::from("data/files"),
            file_store: None,
            max_upload_bytes: 1 << 30,
            upload_quota_bytes: 10 << 30,
            unused_upload_secs: 86_400,
            file_retention_secs: 2_592_000,
            retention_secs: 604_800,
            secure_cookies: false,
            stall_secs: 30,
            admin_token: None,
            build_id: None,
            max_connections: None,
            role: ProcessRole::All,
            lease_secs: 30,
            log_format: LogFormat::Text,
            metrics_public: false,
            trusted_proxies: Vec::new(),
            public_url: None,
            allowed_hosts: Vec::new(),
            body_timeout_secs: 20,
            max_queued_per_user: 1000,
            max_running_per_user: None,
            tags: Vec::new(),
            max_streams_per_user: 100,
            max_log_line_bytes: 16 * 1024,
            max_job_log_bytes: 32 << 20,
            report_bytes_per_sec: 1 << 20,
            max_outputs_per_job: 1000,
            max_schedules_per_user: 100,
            // Tests fire schedules every second; the shipped default is a minute.
            min_schedule_interval_secs: 1,
            max_uploads_per_user: 1000,
            max_tokens_per_user: 100,
            auth: None,
            local_operator: true,
            webhook_allow_private: false,
            webhook_retry_secs: 86_400,
            commands: None,
            workflows: None,
            server: None,
            command: None,
        }
    }
}

fn parse_public_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{s:?} is not an http:// or https:// address with a host"
        ));
    }
    Ok(url)
}

/// A host name as `Host` carries it, without a port: lower-cased, `[::1]` for IPv6.
fn parse_host_name(s: &str) -> Result<String, String> {
    let host = s.trim().to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    match valid {
        true => Ok(host),
        false => Err(format!(
            "{s:?} is not a host name (give the name alone, without scheme or port)"
        )),
    }
}

fn parse_kind_limit(s: &str) -> Result<(String, usize), String> {
    let (kind, n) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=N, got {s:?}"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("the limit in {s:?} is not a whole number"))?;
    if n == 0 {
        return Err(format!("the limit in {s:?} must be at least 1"));
    }
    Ok((kind.trim().to_string(), n))
}

/// One tag of `--tags`, as [`model::tags::tag_problem`] allows it.
fn tag(s: &str) -> Result<String, String> {
    let tag = s.trim();
    match model::tags::tag_problem(tag) {
        Some(problem) => Err(problem),
        None => Ok(tag.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_is_required_beyond_loopback_unless_asked_otherwise() {
        let mut config = Config::for_tests(String::new());
        assert_eq!(config.auth_mode(), AuthMode::Open);
        config.addr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(config.auth_mode(), AuthMode::Accounts);
        config.addr = "[::1]:3000".parse().unwrap();
        assert_eq!(config.auth_mode(), AuthMode::Open);
        config.addr = "192.168.1.5:3000".parse().unwrap();
        config.auth = Some(AuthMode::Open);
        assert_eq!(config.auth_mode(), AuthMode::Open);
        let parsed = Config::try_parse_from(["headway", "--auth", "accounts"]).unwrap();
        assert_eq!(parsed.auth_mode(), AuthMode::Accounts);
    }

    #[test]
    fn the_file_store_is_beside_a_sqlite_database_unless_given() {
        let store = |args: &[&str]| {
            let mut all = vec!["headway"];
            all.extend(args);
            Config::try_parse_from(all).unwrap().file_store()
        };
        assert_eq!(store(&[]), PathBuf::from("data/store"));
        assert_eq!(
            store(&["--database-url", "sqlite:///var/lib/headway/h.db?mode=rwc"]),
            PathBuf::from("/var/lib/headway/store")
        );
        assert_eq!(
            store(&["--database-url", "sqlite://other/h.db"]),
            PathBuf::from("other/store")
        );
        assert_eq!(
            store(&["--database-url", "postgres://h@localhost/h"]),
            PathBuf::from("data/store")
        );
        assert_eq!(
            store(&[
                "--database-url",
                "sqlite://other/h.db",
                "--file-store",
                "/srv/files"
            ]),
            PathBuf::from("/srv/files")
        );
    }
}
