//! `headway-bench run`: the plan (sizes), the order of the benchmarks and the report.

use crate::plan::{log, Plan};
use crate::report::{self, Machine, Section};
use crate::{scenarios, unix_ms};
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Tiny sizes, to check that every benchmark works (well under a minute on a debug build);
    /// exits non-zero if anything failed.
    #[arg(long)]
    pub smoke: bool,
    /// The Headway binary.
    #[arg(long, default_value = "target/release/headway")]
    pub bin: PathBuf,
    /// The built site (`target/site`, with `pkg/headway.wasm`, `.js`, `.css`).
    #[arg(long, default_value = "target/site")]
    pub site_root: PathBuf,
    /// Where to write the report [default: target/headway-bench.md, or
    /// target/headway-bench-smoke.md with --smoke]. Text after the report's last marker line is
    /// kept.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Put only the benchmarks run now into the existing report at --out: each replaces its
    /// section (noting the command, date and binary it was measured with) and its rows of the
    /// Targets table; the other sections and the header are kept.
    #[arg(long)]
    pub merge: bool,
    /// Benchmarks to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fanout,capacity,throughput,page,postgres,schedules,files,commands,priorities,workflows,workers"
    )]
    pub only: Vec<String>,

    /// Fan-out: subscribers (one user, many tabs) [default: 10000; smoke: 20].
    #[arg(long)]
    pub subscribers: Option<u64>,
    /// Fan-out: jobs advancing at once [default: 10; smoke: 2].
    #[arg(long)]
    pub fanout_jobs: Option<u32>,
    /// Fan-out: progress samples per second per job.
    #[arg(long, default_value_t = 10)]
    pub rate: u64,
    /// Fan-out: how long the jobs run, in seconds [default: 20; smoke: 3].
    #[arg(long)]
    pub fanout_secs: Option<u64>,

    /// Capacity: idle subscribers to open [default: 19500; smoke: 100].
    #[arg(long)]
    pub capacity: Option<u64>,
    /// Capacity: seconds to hold them, past a keep-alive [default: 12; smoke: 2].
    #[arg(long)]
    pub hold_secs: Option<u64>,

    /// Throughput: no-op jobs at the high concurrency [default: 20000; smoke: 50].
    #[arg(long)]
    pub throughput_jobs: Option<u64>,
    /// Throughput: no-op jobs at concurrency 1 [default: 2000; smoke: 50].
    #[arg(long)]
    pub serial_jobs: Option<u64>,
    /// Workflows: the items of the one fan-out [default: 10000; smoke: 100].
    #[arg(long)]
    pub fan_out_items: Option<u64>,
    /// Throughput: concurrent HTTP clients (and Headway's --max-running).
    #[arg(long, default_value_t = 64)]
    pub concurrency: u64,
    /// Throughput: rounds of every binary and the store alone at each concurrency (which binary
    /// goes first turns from round to round); the table gives the medians and every round.
    #[arg(long, default_value_t = 1)]
    pub throughput_rounds: u64,
    /// A second Headway binary (e.g. a build of the previous commit), run the same way as the
    /// first for a before/after comparison against the same baselines: at each concurrency of the
    /// throughput benchmark, and in every round of the fan-out. Given more than once, the
    /// throughput benchmark runs every one of them; the fan-out, the first.
    #[arg(long, value_name = "PATH")]
    pub compare_bin: Vec<PathBuf>,
    /// What to call the --compare-bin binaries in the report, in the same order [default:
    /// before].
    #[arg(long, value_name = "TEXT")]
    pub compare_label: Vec<String>,
    /// Fan-out with --compare-bin: rounds of the baseline and both binaries (which of the two goes
    /// first alternates), so that the comparison rests on medians rather than on one run each.
    #[arg(long, default_value_t = 3)]
    pub fanout_rounds: u64,

    /// Page: jobs of one user in the store [default: 1000000; smoke: 1000].
    #[arg(long)]
    pub history_jobs: Option<u64>,
    /// Page: measured requests per page [default: 200; smoke: 20].
    #[arg(long)]
    pub page_requests: Option<u64>,

    /// Schedules: how many fire at once [default: 1000; smoke: 20].
    #[arg(long)]
    pub schedules: Option<u64>,
    /// Schedules: seconds between their fire times, a divisor of 60 [default: 60; smoke: 5].
    #[arg(long)]
    pub schedule_period_secs: Option<u64>,
    /// Schedules: fire times measured.
    #[arg(long, default_value_t = 2)]
    pub schedule_fires: u64,

    /// Files: bytes of the file uploaded and of the output downloaded, at most 1 GiB (Headway's
    /// default --max-upload-bytes) [default: 1073741824; smoke: 4194304].
    #[arg(long)]
    pub file_bytes: Option<u64>,
    /// Files: rounds of each transfer (Headway and the baseline once each; which goes first
    /// alternates) [default: 5; smoke: 2].
    #[arg(long)]
    pub file_rounds: Option<u64>,

    /// Commands: jobs of a command running `true`, per round [default: 5000; smoke: 50].
    #[arg(long)]
    pub command_jobs: Option<u64>,
    /// Commands: lines printed by the command whose log is measured [default: 1000000;
    /// smoke: 2000].
    #[arg(long)]
    pub command_lines: Option<u64>,
    /// Commands: the same on PostgreSQL, whose store appends lines several times slower
    /// [default: 100000; smoke: 2000].
    #[arg(long)]
    pub command_lines_postgres: Option<u64>,
    /// Priorities: low jobs queued ahead of a high one [default: 10000; smoke: 100].
    #[arg(long)]
    pub priority_queue: Option<u64>,
    /// Commands: rounds of each measurement [default: 3; smoke: 1].
    #[arg(long)]
    pub command_rounds: Option<u64>,

    /// Workers: jobs of a command running `true`, through the server's runner and through a
    /// worker, per round [default: 2000; smoke: 50].
    #[arg(long)]
    pub worker_jobs: Option<u64>,
    /// Workers: times the progress command sets its bar, 20 ms apart [default: 200; smoke: 20].
    #[arg(long)]
    pub worker_updates: Option<u64>,
    /// Workers: rounds of every measurement [default: 3; smoke: 1].
    #[arg(long)]
    pub worker_rounds: Option<u64>,

    /// New connections per second while subscribers connect.
    #[arg(long, default_value_t = 1000)]
    pub connect_rate: u64,
    /// Most connections one client process holds.
    #[arg(long, default_value_t = 9000)]
    pub max_per_process: u64,
    /// Keep the temporary directory (databases and server logs) and print where it is.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(args: RunArgs) -> i32 {
    let started = unix_ms();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let s = args.smoke;
    let pick = |v: Option<u64>, full: u64, smoke: u64| v.unwrap_or(if s { smoke } else { full });
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("headway-bench: cannot find its own executable: {e}");
            return 2;
        }
    };
    if !args.bin.is_file() {
        eprintln!(
            "headway-bench: no Headway binary at {} (build it with `cargo leptos build --release`, or pass --bin)",
            args.bin.display()
        );
        return 2;
    }
    if let Some(b) = args.compare_bin.iter().find(|b| !b.is_file()) {
        eprintln!(
            "headway-bench: no Headway binary at {} (--compare-bin)",
            b.display()
        );
        return 2;
    }
    // Each binary compared with its label; one without a label of its own is "before" (and
    // its place, when there are several).
    let compared: Vec<(PathBuf, String)> = args
        .compare_bin
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let label = match (args.compare_label.get(i), args.compare_bin.len()) {
                (Some(l), _) => l.clone(),
                (None, 1) => "before".to_string(),
                (None, _) => format!("before {}", i + 1),
            };
            (b.clone(), label)
        })
        .collect();
    let work = std::env::temp_dir().join(format!("headway-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&work) {
        eprintln!("headway-bench: cannot create {}: {e}", work.display());
        return 2;
    }
    let plan = Plan {
        smoke: s,
        bin: args.bin.clone(),
        site_root: args.site_root.clone(),
        exe,
        work: work.clone(),
        subscribers: pick(args.subscribers, 10_000, 20),
        fanout_jobs: args.fanout_jobs.unwrap_or(if s { 2 } else { 10 }),
        rate: args.rate.clamp(1, 1000),
        fanout_secs: pick(args.fanout_secs, 20, 3),
        capacity: pick(args.capacity, 19_500, 100),
        hold_secs: pick(args.hold_secs, 12, 2),
        throughput_jobs: pick(args.throughput_jobs, 20_000, 50),
        fan_out_items: pick(args.fan_out_items, 10_000, 100).clamp(1, 10_000),
        serial_jobs: pick(args.serial_jobs, 2_000, 50),
        concurrency: args.concurrency.max(1),
        compare_bin: compared.first().map(|(b, _)| b.clone()),
        compare_label: compared
            .first()
            .map_or_else(|| "before".to_string(), |(_, l)| l.clone()),
        compared: compared.clone(),
        throughput_rounds: args.throughput_rounds.clamp(1, 20),
        fanout_rounds: args.fanout_rounds.clamp(1, 20),
        history_jobs: pick(args.history_jobs, 1_000_000, 1_000),
        page_requests: pick(args.page_requests, 200, 20),
        connect_rate: args.connect_rate.max(1),
        max_per_process: args.max_per_process.clamp(1, 18_000),
        schedules: pick(args.schedules, 1_000, 20).clamp(1, 1_000),
        // A divisor of a minute, so that `*/p` seconds fires every p seconds.
        schedule_period_s: Some(pick(args.schedule_period_secs, 60, 5))
            .filter(|p| (1..=60).contains(p) && 60 % p == 0)
            .unwrap_or(5),
        schedule_fires: args.schedule_fires.clamp(1, 10),
        file_bytes: pick(args.file_bytes, 1 << 30, 4 << 20).clamp(1 << 20, 1 << 30),
        file_rounds: pick(args.file_rounds, 5, 2).clamp(1, 20),
        command_jobs: pick(args.command_jobs, 5_000, 50).max(1),
        command_lines: pick(args.command_lines, 1_000_000, 2_000).clamp(1, 100_000_000),
        command_lines_postgres: pick(args.command_lines_postgres, 100_000, 2_000)
            .clamp(1, 100_000_000),
        command_rounds: pick(args.command_rounds, 3, 1).clamp(1, 20),
        priority_queue: pick(args.priority_queue, 10_000, 100).clamp(1, 1_000_000),
        worker_jobs: pick(args.worker_jobs, 2_000, 50).max(1),
        worker_updates: pick(args.worker_updates, 200, 20).clamp(1, 100_000),
        worker_rounds: pick(args.worker_rounds, 3, 1).clamp(1, 20),
    };
    let machine = Machine::probe();
    log(format!("work directory {}", work.display()));

    let mut sections: Vec<Section> = Vec::new();
    for name in &args.only {
        let section = match name.trim() {
            "fanout" => scenarios::fanout::run(&plan).await,
            "capacity" => scenarios::capacity::run(&plan).await,
            "throughput" => scenarios::throughput::run(&plan).await,
            "page" => scenarios::page::run(&plan).await,
            "postgres" => scenarios::postgres::run(&plan).await,
            "schedules" => scenarios::schedules::run(&plan).await,
            "files" => scenarios::files::run(&plan).await,
            "commands" => scenarios::commands::run(&plan).await,
            "priorities" => scenarios::priorities::run(&plan).await,
            "workflows" => scenarios::workflows::run(&plan).await,
            "workers" => scenarios::workers::run(&plan).await,
            other => {
                let mut s = Section::new(other);
                s.fail(format!(
                    "unknown benchmark {other:?} (use fanout, capacity, throughput, page, postgres, schedules, files, commands, priorities, workflows, workers)"
                ));
                s
            }
        };
        for f in &section.failures {
            log(format!("{}: ERROR {f}", section.title));
        }
        for v in &section.verdicts {
            log(format!(
                "{}: {} -> {}",
                v.target,
                v.measured,
                if v.met { "met" } else { "missed" }
            ));
        }
        sections.push(section);
    }

    let load_after = Machine::probe().load;
    let built = |bin: &std::path::Path| {
        std::fs::metadata(bin)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| report::utc(d.as_millis() as i64))
            .unwrap_or_else(|| "?".into())
    };
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let mut commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "?".into());
    if git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()) {
        commit.push_str(" (with uncommitted changes)");
    }
    let mut binary = format!(
        "{} (built {}); repository at {commit}",
        args.bin.display(),
        built(&args.bin)
    );
    for (b, label) in &plan.compared {
        binary.push_str(&format!(
            "; compared with \"{label}\": {} (built {})",
            b.display(),
            built(b)
        ));
    }
    let header = report::Header {
        command: &command,
        date: &report::utc(started as i64),
        machine: &machine,
        binary: &binary,
        smoke: s,
        load_after: &load_after,
        duration_s: (unix_ms() - started) / 1000.0,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if s {
            "target/headway-bench-smoke.md"
        } else {
            "target/headway-bench.md"
        })
    });
    let existing = args
        .merge
        .then(|| std::fs::read_to_string(&out).ok())
        .flatten();
    let written = match existing {
        Some(old) => std::fs::write(&out, report::merge(&old, &header, &sections)),
        None => report::write(&out, &report::render(&header, &sections)),
    };
    let mut code = 0;
    match written {
        Ok(()) => log(format!("report written to {}", out.display())),
        Err(e) => {
            eprintln!("headway-bench: cannot write {}: {e}", out.display());
            code = 2;
        }
    }
    if args.keep {
        log(format!("kept {}", work.display()));
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    let failures: usize = sections.iter().map(|s| s.failures.len()).sum();
    if failures > 0 {
        log(format!("{failures} error(s); see the report"));
        code = code.max(1);
    }
    code
}
