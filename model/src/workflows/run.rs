//! A workflow's run as jobs: one job of kind [`WORKFLOW_KIND`] for the run, running from its
//! start to its last step's end and claimed by no process, and one job per step, its child
//! (`parent`), waiting for the steps it needs through continuations ([`crate::after`]).
//!
//! What the run's job holds: its parameters ([`RunParams`]) and, in a column of its own, its
//! [`Plan`]: the steps as they were declared when it started, so that a change of the workflows
//! file never changes a run under way, and any process can render a step's parameters. The rules
//! here are applied in the transaction that ends a step, on every backend:
//!
//! - [`Tally`]: how many steps the run has, and how many ended and succeeded, kept in its row;
//! - [`run_progress`]: the run's bar, the steps' weighted progress;
//! - [`run_end`] and [`group_end`]: once no step is active, how the run (or group) ends.

use crate::ids::JobId;
use crate::job::{JobError, JobStatus, Level, Progress};
use crate::workflows::{Template, Values};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The kind of a workflow run's own job.
pub const WORKFLOW_KIND: &str = "workflow";

/// The code of a step cancelled because another step failed (the workflow's `on_failure` is
/// `cancel`).
pub const STEP_FAILED: &str = "step_failed";
/// The code of a step whose parameters could not be rendered from what its needs left.
pub const STEP_PARAMS: &str = "step_params";

/// What a failed step does to the rest of its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum OnFailure {
    /// The steps that have not started are cancelled, and the run fails.
    #[default]
    Cancel,
    /// The steps that do not need the failed one still run; the run fails once they ended.
    Finish,
}

/// The parameters of a run's job: the workflow's name and the values of its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct RunParams {
    pub workflow: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    /// A fan-out step's own job (a group, a child of the run): the step it runs once per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schemars", schemars(skip))]
    pub each: Option<Each>,
}

/// The most items one fan-out step runs.
pub const MAX_ITEMS: usize = 10_000;

/// A fan-out step's list and bounds: its kind runs once per item of the list, as children of
/// the step's own job (its group), at most `concurrency` at once; the group succeeds when at
/// least `succeed_at` percent of them did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EachSpec {
    /// What names the list: one reference (`{files}`, `{steps.list.result.rows}`).
    pub list: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Percent, 1 to 100.
    pub succeed_at: u8,
}

/// What a group's job keeps to make its items: the step (whose parameters may use `{item}`, the
/// item, and `{index}`, its place from 0) and the attempts each item may take (its kind's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Each {
    pub step: PlanStep,
    pub max_attempts: u32,
    /// The most jobs its owner may have waiting, as when its run was admitted: its items are
    /// made only if they fit beside those waiting then (`None`: a run from before the bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queued: Option<u64>,
}

/// A run's steps as declared when it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub on_failure: OnFailure,
    pub steps: Vec<PlanStep>,
    /// A group's: the percent of its items that must succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeed_at: Option<u8>,
}

/// One step of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub name: String,
    pub kind: String,
    /// The steps it needs, by name.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Its parameters as declared: a [`Template`].
    pub params: Value,
    /// A fan-out's list and bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<EachSpec>,
}

impl Plan {
    pub fn step(&self, name: &str) -> Option<&PlanStep> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// A step's job as the run's rules read it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepState {
    pub id: JobId,
    pub step: String,
    pub status: JobStatus,
    pub error: Option<JobError>,
}

/// How many steps a run has (or items a group has), how many of them ended and how many
/// succeeded: its job's row keeps them, counted by the transaction that ends each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub made: u64,
    pub ended: u64,
    pub succeeded: u64,
}

impl Tally {
    /// Whether no step is active any more.
    pub fn all_ended(&self) -> bool {
        self.ended >= self.made
    }

    /// The steps that ended without succeeding.
    pub fn failed(&self) -> u64 {
        self.ended.saturating_sub(self.succeeded)
    }
}

/// The run's bar: each step weighs the same; a step that succeeded counts whole, an active one
/// with a known total its share done, any other nothing (so a run that failed or was cancelled
/// shows where it stopped). Counted in thousandths of a step, so that the bar moves with a long
/// step's own: `shares` is what the active steps with a total add (each `current * 1000 /
/// total`, at most 1000), as the store sums them where it reads the run's tally. A group's
/// (`items`) bar counts the items that ended, and says how many are done and how many failed.
pub fn run_progress(tally: Tally, shares: u64, items: bool) -> Progress {
    let (n, ended, failed) = (tally.made, tally.ended.min(tally.made), tally.failed());
    let done = match items {
        true => ended,
        false => tally.succeeded.min(n),
    };
    let mut progress = Progress {
        current: (done * 1000 + shares).min(n * 1000),
        total: Some(n * 1000),
        level: if failed > 0 {
            Level::Danger
        } else {
            Level::Success
        },
        ..Progress::default()
    };
    progress.say(match items {
        false => crate::words::jobs::steps_ended(ended, n),
        true => crate::words::jobs::items_done(tally.succeeded, n, failed),
    });
    progress
}

/// Where each of a run's steps stands in its graph, drawn from left to right: its column (0 for
/// a step that needs nothing, else one past the furthest column of the steps it needs) and its
/// row in that column (in the plan's order). `steps`: each step's name and the names it needs,
/// in the plan's order (each after what it needs). A need not among the steps is passed over.
pub fn layout(steps: &[(String, Vec<String>)]) -> Vec<(usize, usize)> {
    let mut column: HashMap<&str, usize> = HashMap::new();
    let mut rows: Vec<usize> = Vec::new();
    let mut placed = Vec::with_capacity(steps.len());
    for (name, needs) in steps {
        let c = needs
            .iter()
            .filter_map(|n| column.get(n.as_str()))
            .map(|c| c + 1)
            .max()
            .unwrap_or(0);
        column.insert(name, c);
        if rows.len() <= c {
            rows.resize(c + 1, 0);
        }
        placed.push((c, rows[c]));
        rows[c] += 1;
    }
    placed
}

/// How a group ends once its items all ended: `succeeded` when at least `percent` % of them
/// did, else `failed`, saying how many did.
pub fn group_end(tally: Tally, percent: u8) -> (JobStatus, Option<JobError>) {
    let (ok, n) = (tally.succeeded, tally.made);
    match ok * 100 >= u64::from(percent) * n {
        true => (JobStatus::Succeeded, None),
        false => (
            JobStatus::Failed,
            Some(JobError::words(
                STEP_FAILED,
                crate::words::jobs::too_few_items(ok, n, percent),
            )),
        ),
    }
}

/// How a run ends once its `steps` all ended: `succeeded` when they all did; else `failed`,
/// naming the first step that failed (or, failing that, that did not succeed).
pub fn run_end(steps: &[StepState]) -> (JobStatus, Option<JobError>) {
    let first = |want: &dyn Fn(JobStatus) -> bool| steps.iter().find(|s| want(s.status));
    let bad = first(&|s| matches!(s, JobStatus::Failed | JobStatus::Interrupted))
        .or_else(|| first(&|s| s != JobStatus::Succeeded));
    match bad {
        None => (JobStatus::Succeeded, None),
        Some(s) => (
            JobStatus::Failed,
            Some(JobError::words(
                STEP_FAILED,
                match &s.error {
                    Some(e) => {
                        crate::words::jobs::run_step_ended_with(&s.step, s.status, &e.message)
                    }
                    None => crate::words::jobs::run_step_ended(&s.step, s.status),
                },
            )),
        ),
    }
}

/// The error of a step cancelled because `failed` failed (or, `by_hand`, was cancelled by
/// someone): the run can no longer succeed, so it starts nothing more.
pub fn cancelled_for(failed: &str, by_hand: bool) -> JobError {
    JobError::words(
        STEP_FAILED,
        crate::words::jobs::run_stopped_by(failed, by_hand),
    )
}

/// What a step's parameters are rendered with: the run's parameters, and the results and
/// outputs of the steps that succeeded.
#[derive(Debug, Default)]
pub struct RunValues {
    pub params: Map<String, Value>,
    /// Each step that succeeded: its job, its result and the names of its outputs.
    pub steps: HashMap<String, (JobId, Option<Value>, Vec<String>)>,
}

impl Values for RunValues {
    fn param(&self, name: &str) -> Option<Value> {
        self.params.get(name).cloned()
    }

    fn result(&self, step: &str) -> Option<Value> {
        self.steps.get(step).and_then(|(_, r, _)| r.clone())
    }

    /// An output is named by where it is downloaded from.
    fn output(&self, step: &str, name: &str) -> Option<Value> {
        let (job, _, outputs) = self.steps.get(step)?;
        outputs.iter().any(|o| o == name).then(|| {
            Value::String(format!(
                "/api/v1/jobs/{job}/outputs/{}",
                crate::text::url_encode(name)
            ))
        })
    }
}

/// `step`'s parameters rendered with `values`, or why they cannot be (among the reasons: they
/// would be more than [`crate::job::MAX_PARAMS_BYTES`], the most a job's parameters may be).
pub fn render_step(step: &PlanStep, values: &RunValues) -> Result<Value, String> {
    Template::parse(&step.params)?
        .render_within(values, crate::job::MAX_PARAMS_BYTES)
        .map_err(|e| format!("the parameters of step {:?}: {e}", step.name))
}

/// Whether `step`'s parameters use what another step left (else they are rendered when the run
/// starts).
pub fn uses_steps(step: &PlanStep) -> bool {
    Template::parse(&step.params)
        .map(|t| t.refs().iter().any(|r| r.step().is_some()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::testing::named;

    fn step(name: &str, status: JobStatus) -> StepState {
        StepState {
            id: named(name),
            step: name.into(),
            status,
            error: None,
        }
    }

    fn tally(made: u64, ended: u64, succeeded: u64) -> Tally {
        Tally {
            made,
            ended,
            succeeded,
        }
    }

    #[test]
    fn the_runs_bar_weighs_each_step_the_same_moving_with_a_known_total() {
        // a succeeded, b running 25 of 100, c running without a total, d queued.
        let p = run_progress(tally(4, 1, 1), 250, false);
        assert_eq!((p.current, p.total), (1250, Some(4000)));
        assert_eq!(p.message, "1 of 4 steps ended");
        assert_eq!(p.level, Level::Success);
        // A step that failed or was cancelled did not do its work: the bar stays where it was.
        let failed = run_progress(tally(1, 1, 0), 0, false);
        assert_eq!((failed.current, failed.level), (0, Level::Danger));
        let stopped = run_progress(tally(3, 3, 0), 0, false);
        assert_eq!(stopped.current, 0);
        // Shares past what is left never move the bar past the whole.
        let over = run_progress(tally(2, 1, 1), 1500, false);
        assert_eq!(over.current, 2000);
    }

    #[test]
    fn a_run_ends_naming_the_step_that_failed() {
        let all = [step("a", JobStatus::Succeeded)];
        assert_eq!(run_end(&all), (JobStatus::Succeeded, None));
        let mut b = step("b", JobStatus::Failed);
        b.error = Some(JobError::new("exit", "exit code 2"));
        let ended = [
            step("a", JobStatus::Cancelled),
            b,
            step("c", JobStatus::Succeeded),
        ];
        let (status, error) = run_end(&ended);
        assert_eq!(status, JobStatus::Failed);
        assert_eq!(error.unwrap().message, "step \"b\" failed: exit code 2");
        let cancelled = [step("a", JobStatus::Cancelled)];
        assert_eq!(
            run_end(&cancelled).1.unwrap().message,
            "step \"a\" cancelled"
        );
    }

    #[test]
    fn a_group_succeeds_when_enough_of_its_items_did_and_says_how_many() {
        let items = tally(1000, 1000, 950);
        assert!(items.all_ended());
        assert_eq!(group_end(items, 95), (JobStatus::Succeeded, None));
        let (status, error) = group_end(items, 96);
        assert_eq!(status, JobStatus::Failed);
        assert_eq!(
            error.unwrap().message,
            "950 of 1,000 items succeeded, fewer than 96 %"
        );
        let going = tally(10_000, 8_415, 8_412);
        assert!(!going.all_ended());
        let p = run_progress(going, 0, true);
        assert_eq!(p.message, "8,412 of 10,000 done, 3 failed");
        assert_eq!((p.current, p.total), (8_415_000, Some(10_000_000)));
    }

    #[test]
    fn a_graph_is_laid_out_in_columns_by_the_longest_chain_of_needs() {
        let steps = |list: &[(&str, &[&str])]| -> Vec<(String, Vec<String>)> {
            list.iter()
                .map(|(n, needs)| (n.to_string(), needs.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        // extract → (clean, count) → load, and report needing extract and load.
        let placed = layout(&steps(&[
            ("extract", &[]),
            ("clean", &["extract"]),
            ("count", &["extract"]),
            ("load", &["clean", "count"]),
            ("report", &["extract", "load"]),
            ("ping", &[]),
            ("gone", &["nowhere"]),
        ]));
        assert_eq!(
            placed,
            [(0, 0), (1, 0), (1, 1), (2, 0), (3, 0), (0, 1), (0, 2)]
        );
        assert!(layout(&[]).is_empty());
    }

    #[test]
    fn a_step_renders_from_the_runs_parameters_and_its_needs_results_and_outputs() {
        let id: JobId = named("extract");
        let values = RunValues {
            params: Map::from_iter([("day".to_string(), Value::from("mon"))]),
            steps: HashMap::from([(
                "extract".to_string(),
                (
                    id.clone(),
                    Some(serde_json::json!({"rows": 4})),
                    vec!["a b.csv".into()],
                ),
            )]),
        };
        let s = PlanStep {
            name: "load".into(),
            kind: "demo".into(),
            needs: vec!["extract".into()],
            each: None,
            params: serde_json::json!({
                "steps": "{steps.extract.result.rows}",
                "file": "{steps.extract.outputs.a b.csv}",
                "day": "{day}"
            }),
        };
        assert!(uses_steps(&s));
        let out = render_step(&s, &values).unwrap();
        assert_eq!(out["steps"], 4);
        assert_eq!(out["file"], format!("/api/v1/jobs/{id}/outputs/a%20b.csv"));
        assert_eq!(out["day"], "mon");
        let missing = PlanStep {
            params: serde_json::json!({"n": "{steps.extract.result.cols}"}),
            ..s
        };
        assert_eq!(
            render_step(&missing, &values).unwrap_err(),
            "the parameters of step \"load\": the result of step \"extract\" has no cols"
        );
    }
}
