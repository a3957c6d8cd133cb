//! Workflows: what running jobs as the steps of workflow runs costs against the same jobs
//! started alone. A run's steps wait for each other through continuations, have their
//! parameters rendered when their wait ends, and settle their run in the transaction that ends
//! them; this measures all of it.

use super::throughput::{drive_expecting, settle, NOOP_DEMO};
use crate::plan::{log, Plan};
use crate::procs::{sqlite_url, HeadwayOptions, ProcessRole, Server};
use crate::report::{num, Section, Table};
use crate::seed;
use crate::stats::median;
use crate::Res;
use engine::store::Access;

/// Steps in a run of the benchmark's workflow.
const STEPS: u64 = 10;

/// A workflow of [`STEPS`] no-op demo steps: five chains of two, the second of each rendering a
/// parameter from the run's.
fn workflows_file() -> String {
    let mut toml = String::from(
        "[[workflow]]\nname = \"bench\"\n\n[workflow.params.n]\ntype = \"integer\"\ndefault = 1\n",
    );
    for chain in 0..STEPS / 2 {
        toml.push_str(&format!(
            "\n[[workflow.step]]\nname = \"a{chain}\"\nkind = \"demo\"\n\
             params = {{ steps = 1, interval_ms = 0 }}\n\
             \n[[workflow.step]]\nname = \"b{chain}\"\nkind = \"demo\"\nneeds = [\"a{chain}\"]\n\
             params = {{ steps = \"{{n}}\", interval_ms = 0 }}\n"
        ));
    }
    toml
}

/// The body of a start of one run.
const RUN: &[u8] = br#"{"kind":"bench","params":{"n":1}}"#;

pub async fn run(plan: &Plan) -> Section {
    let mut s = Section::new("Workflows");
    let c = plan.concurrency;
    let jobs = plan.throughput_jobs;
    let runs = (jobs / STEPS).max(1);
    let rounds = plan.throughput_rounds.max(1);
    s.method = format!(
        "{jobs} no-op demo jobs (one step of 0 ms) posted alone at concurrency {c} (one session, \
         `--max-running {c}`), against {runs} runs of a workflow of {STEPS} such steps (five \
         chains of two: each second step waits for the first and renders a parameter from the \
         run's), posted the same way: the same number of jobs, {runs} more for the runs. Both on \
         fresh SQLite databases of the same binary, {rounds} round(s), the order turning from \
         round to round. Steps/s counts the steps alone, from the first post to the last `done`; \
         the ratio is the median of the rounds' pairs (steps/s / jobs/s alone)."
    );
    let mut alone = Vec::new();
    let mut stepped = Vec::new();
    for round in 0..rounds {
        for k in 0..2 {
            let in_runs = (k + round) % 2 == 1;
            let result = match in_runs {
                true => throughput_of(plan, RUN, runs, STEPS + 1, "runs", round)
                    .await
                    .map(|(per_s, succeeded)| per_s * (succeeded - runs) as f64 / succeeded as f64),
                false => throughput_of(plan, NOOP_DEMO, jobs, 1, "alone", round)
                    .await
                    .map(|(per_s, _)| per_s),
            };
            match result {
                Ok(v) if in_runs => stepped.push(v),
                Ok(v) => alone.push(v),
                Err(e) => s.fail(format!("round {round}: {e}")),
            }
        }
    }
    let pairs: Vec<f64> = alone.iter().zip(&stepped).map(|(a, w)| w / a).collect();
    let pair = median(pairs.clone());
    let mut t = Table {
        headers: vec![
            String::new(),
            format!("concurrency {c} ({} jobs)", num(jobs as f64, 0)),
        ],
        ..Table::default()
    };
    t.row(vec![
        "jobs alone, jobs/s".into(),
        num(median(alone.clone()), 0),
    ]);
    t.row(vec![
        format!("steps of {runs} runs, steps/s"),
        num(median(stepped.clone()), 0),
    ]);
    t.row(vec![
        "each round, alone / in runs".into(),
        alone
            .iter()
            .zip(&stepped)
            .map(|(a, w)| format!("{} / {}", num(*a, 0), num(*w, 0)))
            .collect::<Vec<_>>()
            .join(", "),
    ]);
    t.row(vec![
        "in runs / alone, median of the pairs".into(),
        format!("{pair:.2}"),
    ]);
    s.tables.push(t);
    s.verdict(
        &format!("Jobs as the steps of {STEPS}-step workflows ≥ 0.7× the jobs/s of jobs alone"),
        format!("{pair:.2}× (median of {} pairs)", pairs.len()),
        pair >= 0.7,
    );
    s
}

/// Posts `posts` of `body` to a fresh server, each ending in `dones` jobs; the succeeded jobs
/// per second and how many succeeded.
async fn throughput_of(
    plan: &Plan,
    body: &[u8],
    posts: u64,
    dones: u64,
    tag: &str,
    round: u64,
) -> Res<(f64, u64)> {
    let c = plan.concurrency;
    log(format!(
        "workflows: {tag}, concurrency {c}, {posts} posts, round {round}"
    ));
    let dir = plan.path(&format!("workflows-{tag}-{round}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("workflows.toml");
    std::fs::write(&file, workflows_file()).map_err(|e| e.to_string())?;
    let db = dir.join("headway.db");
    let server = Server::headway(HeadwayOptions {
        bin: &plan.bin,
        database_url: &sqlite_url(&db),
        role: ProcessRole::All,
        site_root: &plan.site_root,
        data_root: &plan.path("files"),
        max_running: c.min(10_000) as u32,
        log: plan.path(&format!("workflows-{tag}-{round}.log")),
        commands: None,
        workflows: Some(&file),
    })
    .await?;
    let result = drive_expecting(&[&server], c, posts, &[body], dones).await;
    let stopped = server.stop().await;
    let driven = result?;
    stopped?;
    let store = seed::open(&db, Access::Shared).await?;
    let outcome = settle(driven, &store).await?;
    let want = posts * dones;
    if outcome.post_errors > 0 || outcome.succeeded < want {
        return Err(format!(
            "{} POSTs failed, {} of {want} jobs succeeded{}",
            outcome.post_errors,
            outcome.succeeded,
            outcome
                .first_error
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ));
    }
    Ok((outcome.jobs_per_s, outcome.succeeded))
}
