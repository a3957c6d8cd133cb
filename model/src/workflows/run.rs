//! A workflow's run as jobs: one job of kind [`WORKFLOW_KIND`] for the run, running from its
//! start to its last step's end and claimed by no process, and one job per step, its child
//! (`parent`), waiting for the steps it needs through continuations ([`crate::after`]).
//!
//! What the run's job holds: its parameters ([`RunParams`]) and, in a column of its own, its
//! [`Plan`]: the steps as they were declared when it started, so that a change of the workflows
//! file never changes a run under way, and any process can render a step's parameters. The rules
//! here are applied in the transaction that ends a step, on every backend:
//!
//! - [`run_progress`]: the run's bar, the steps' weighted progress;
//! - [`run_end`]: once no step is active, how the run ends.

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
pub const MAX_ITEMS: usize = 1_000;

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
    pub current: u64,
    pub total: Option<u64>,
    pub error: Option<JobError>,
}

/// The run's bar: each step weighs the same; an ended step counts whole, a running one with
/// a known total its share done, any other nothing yet. Counted in thousandths of a step, so
/// that the bar moves with a long step's own. A group's (`items`) says how many of its items
/// are done and how many failed.
pub fn run_progress(steps: &[StepState], items: bool) -> Progress {
    let mut done = 0u64;
    let (mut ended, mut failed) = (0u64, 0u64);
    for s in steps {
        if s.status.is_terminal() {
            ended += 1;
            done += 1000;
            failed += u64::from(s.status != JobStatus::Succeeded);
        } else if let Some(total) = s.total.filter(|&t| t > 0) {
            done += s.current.min(total).saturating_mul(1000) / total;
        }
    }
    let n = steps.len() as u64;
    let message = match items {
        false => format!("{ended} of {n} steps ended"),
        true => format!(
            "{} of {} done, {} failed",
            thousands(ended - failed),
            thousands(n),
            thousands(failed)
        ),
    };
    Progress {
        current: done,
        total: Some(n * 1000),
        unit: String::new(),
        message,
        level: if failed > 0 {
            Level::Danger
        } else {
            Level::Success
        },
        at: None,
    }
}

/// `n` with a comma between thousands (8,412).
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How the run ends once no step is active: `None` while one is. A run being cancelled ends
/// `cancelled`; one whose steps all succeeded, `succeeded`; else `failed`, naming the first
/// step that failed (or, failing that, that did not succeed).
pub fn run_end(
    run: JobStatus,
    steps: &[StepState],
    succeed_at: Option<u8>,
) -> Option<(JobStatus, Option<JobError>)> {
    if steps.iter().any(|s| s.status.is_active()) {
        return None;
    }
    if run == JobStatus::Cancelling {
        return Some((JobStatus::Cancelled, None));
    }
    // A group: enough of its items succeeded, or not.
    if let Some(percent) = succeed_at {
        let n = steps.len() as u64;
        let ok = steps
            .iter()
            .filter(|s| s.status == JobStatus::Succeeded)
            .count() as u64;
        return Some(match ok * 100 >= u64::from(percent) * n {
            true => (JobStatus::Succeeded, None),
            false => (
                JobStatus::Failed,
                Some(JobError {
                    code: STEP_FAILED.to_string(),
                    message: format!(
                        "{} of {} items succeeded, fewer than {percent} %",
                        thousands(ok),
                        thousands(n)
                    ),
                }),
            ),
        });
    }
    let first = |want: &dyn Fn(JobStatus) -> bool| steps.iter().find(|s| want(s.status));
    let bad = first(&|s| matches!(s, JobStatus::Failed | JobStatus::Interrupted))
        .or_else(|| first(&|s| s != JobStatus::Succeeded));
    Some(match bad {
        None => (JobStatus::Succeeded, None),
        Some(s) => (
            JobStatus::Failed,
            Some(JobError {
                code: STEP_FAILED.to_string(),
                message: match &s.error {
                    Some(e) => format!("step {:?} {}: {}", s.step, s.status, e.message),
                    None => format!("step {:?} {}", s.step, s.status),
                },
            }),
        ),
    })
}

/// The error of a step cancelled because `failed` failed.
pub fn cancelled_for(failed: &str) -> JobError {
    JobError {
        code: STEP_FAILED.to_string(),
        message: format!("step {failed:?} failed, so the run stopped starting steps"),
    }
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

/// `step`'s parameters rendered with `values`, or why they cannot be.
pub fn render_step(step: &PlanStep, values: &RunValues) -> Result<Value, String> {
    Template::parse(&step.params)?
        .render(values)
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

    fn step(name: &str, status: JobStatus, current: u64, total: Option<u64>) -> StepState {
        StepState {
            id: named(name),
            step: name.into(),
            status,
            current,
            total,
            error: None,
        }
    }

    #[test]
    fn the_runs_bar_weighs_each_step_the_same_moving_with_a_known_total() {
        let p = run_progress(
            &[
                step("a", JobStatus::Succeeded, 0, None),
                step("b", JobStatus::Running, 25, Some(100)),
                step("c", JobStatus::Running, 7, None),
                step("d", JobStatus::Queued, 0, None),
            ],
            false,
        );
        assert_eq!((p.current, p.total), (1250, Some(4000)));
        assert_eq!(p.message, "1 of 4 steps ended");
        assert_eq!(p.level, Level::Success);
        let failed = run_progress(&[step("a", JobStatus::Failed, 0, None)], false);
        assert_eq!((failed.current, failed.level), (1000, Level::Danger));
    }

    #[test]
    fn a_run_ends_once_no_step_is_active_naming_the_step_that_failed() {
        let running = [
            step("a", JobStatus::Succeeded, 0, None),
            step("b", JobStatus::Running, 0, None),
        ];
        assert_eq!(run_end(JobStatus::Running, &running, None), None);
        let all = [step("a", JobStatus::Succeeded, 0, None)];
        assert_eq!(
            run_end(JobStatus::Running, &all, None),
            Some((JobStatus::Succeeded, None))
        );
        let mut b = step("b", JobStatus::Failed, 0, None);
        b.error = Some(JobError {
            code: "exit".into(),
            message: "exit code 2".into(),
        });
        let ended = [
            step("a", JobStatus::Cancelled, 0, None),
            b,
            step("c", JobStatus::Succeeded, 0, None),
        ];
        let (status, error) = run_end(JobStatus::Running, &ended, None).unwrap();
        assert_eq!(status, JobStatus::Failed);
        assert_eq!(error.unwrap().message, "step \"b\" failed: exit code 2");
        assert_eq!(
            run_end(JobStatus::Cancelling, &ended, None),
            Some((JobStatus::Cancelled, None))
        );
    }

    #[test]
    fn a_group_succeeds_when_enough_of_its_items_did_and_says_how_many() {
        let mut items: Vec<StepState> = (0..1000)
            .map(|i| step(&format!("i{i}"), JobStatus::Succeeded, 0, None))
            .collect();
        for item in items.iter_mut().take(50) {
            item.status = JobStatus::Failed;
        }
        assert_eq!(
            run_end(JobStatus::Running, &items, Some(95)),
            Some((JobStatus::Succeeded, None))
        );
        let (status, error) = run_end(JobStatus::Running, &items, Some(96)).unwrap();
        assert_eq!(status, JobStatus::Failed);
        assert_eq!(
            error.unwrap().message,
            "950 of 1,000 items succeeded, fewer than 96 %"
        );
        items[999].status = JobStatus::Running;
        assert_eq!(run_end(JobStatus::Running, &items, Some(1)), None);
        let p = run_progress(&items, true);
        assert_eq!(p.message, "949 of 1,000 done, 50 failed");
        assert_eq!(thousands(10_000), "10,000");
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
