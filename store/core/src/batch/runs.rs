//! Workflow runs in a batch ([`model::workflows::run`]), for every backend: a run started as
//! one change (its job, running at once and claimed by no process, and its steps, each waiting
//! for the steps it needs through continuations), a step's parameters rendered when its wait
//! ends, and the run settled in the transaction that ends a step: its [`Tally`] counted in its
//! row, the steps not started cancelled when one failed (unless the run lets its other branches
//! finish), a cancel passed on to the steps, and the run ended once no step is active. The
//! run's bar is drawn again once per batch from its tally and its active steps' progress.
//!
//! Every batch of every process is one transaction after another, so a run ends once, whichever
//! process ended its last step.

use super::{Batch, BatchSql};
use crate::Created;
use model::workflows::run::{
    cancelled_for, group_end, render_step, run_end, run_progress, uses_steps, Plan, RunParams,
    RunValues, StepState, Tally, MAX_ITEMS, STEP_PARAMS,
};
use model::workflows::{Template, WORKFLOW_KIND};
use model::{EventType, Job, JobError, JobId, JobStatus, ProgressEvent, UserId};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// [`BatchSql::set_plan`] in both databases' SQL (`$1`: the plan, `$2`: the steps made, `$3`:
/// how many of them were made ended, `$4`: and succeeded, `$5`: the run's job). SQLite numbers
/// parameters in the order they appear: so do these.
pub const SET_PLAN: &str = "UPDATE jobs SET plan = $1, steps_made = $2, steps_ended = $3, \
         steps_succeeded = $4 WHERE id = $5";

/// [`BatchSql::set_params`] in both databases' SQL (`$1`: the parameters, `$2`: the job).
pub const SET_PARAMS: &str = "UPDATE jobs SET params = $1 WHERE id = $2 AND status = 'queued'";

/// [`BatchSql::set_ended`] in both databases' SQL (`$1`: started, `$2`: finished, `$3`: the
/// result, `$4`: the outputs, `$5`: the job).
pub const SET_ENDED: &str = "UPDATE jobs SET started_at = $1, finished_at = $2, result = $3, \
         outputs = $4 WHERE id = $5";

/// [`BatchSql::items_made`] in both databases' SQL (`$1`: the run's job): the items its fan-outs
/// made so far (each group's count of its items, in its row).
pub const ITEMS_MADE: &str = "SELECT CAST(COALESCE(SUM(steps_made), 0) AS BIGINT) FROM jobs \
     WHERE parent_id = $1 AND plan IS NOT NULL";

/// [`BatchSql::run_of`] in both databases' SQL (`$1`: the run's job).
pub const RUN_OF: &str = "SELECT params, plan FROM jobs WHERE id = $1 AND plan IS NOT NULL";

/// [`BatchSql::steps_of`] in both databases' SQL (`$1`: the run's job), in the order they were
/// made (the plan's order).
pub const STEPS_OF: &str = "SELECT id, step, status, error_code, error_message, result, outputs \
     FROM jobs WHERE parent_id = $1 ORDER BY seq";

/// What a run's active steps that know their total add to its bar: each its share of 1000
/// (`current` of `total`, at most all of it), summed in the statement that reads the run's
/// tally, so that drawing the bar reads nothing more.
macro_rules! active_shares {
    () => {
        "CAST(COALESCE((SELECT SUM((CASE WHEN s.current < s.total THEN s.current ELSE s.total END) \
             * 1000 / s.total) FROM jobs s WHERE s.parent_id = jobs.id \
             AND s.status IN ('running', 'cancelling') AND s.total > 0), 0) AS BIGINT) AS shares"
    };
}

/// [`BatchSql::tally_of`] in both databases' SQL (`$1`: the run's job).
pub const TALLY_OF: &str = concat!(
    "SELECT owner, status, parent_id, steps_made, steps_ended, steps_succeeded, ",
    active_shares!(),
    ", CAST(1 AS BIGINT) AS planned FROM jobs WHERE id = $1 AND plan IS NOT NULL"
);

/// [`BatchSql::steps_ended`] in both databases' SQL (`$1`: the steps that ended, `$2`: how
/// many of them succeeded, `$3`: the run's job), returning what [`TALLY_OF`] reads. A parent
/// still running its own work ([`super::children`]) has no plan yet: its children are counted
/// all the same.
pub const STEPS_ENDED: &str = concat!(
    "UPDATE jobs \
     SET steps_ended = steps_ended + $1, steps_succeeded = steps_succeeded + $2 \
     WHERE id = $3 \
     RETURNING owner, status, parent_id, steps_made, steps_ended, steps_succeeded, ",
    active_shares!(),
    ", CAST(CASE WHEN plan IS NULL THEN 0 ELSE 1 END AS BIGINT) AS planned"
);

/// A run's job as [`TALLY_OF`] and [`STEPS_ENDED`] read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TallyRow {
    pub owner: String,
    pub status: String,
    pub parent_id: Option<String>,
    pub steps_made: i64,
    pub steps_ended: i64,
    pub steps_succeeded: i64,
    /// What its active steps that know their total add to its bar, in thousandths of a step.
    pub shares: i64,
    /// 1 for a run (a plan kept); 0 for a parent still running its own work.
    pub planned: i64,
}

/// A run (or group) as its tally reads it: enough to settle it and draw its bar.
pub(super) struct Seen {
    owner: UserId,
    status: JobStatus,
    tally: Tally,
    /// What its active steps that know their total add to its bar (thousandths of a step).
    shares: u64,
    /// A fan-out's group (a run's child), whose bar counts items.
    group: bool,
}

impl Seen {
    fn of(row: TallyRow) -> Option<Seen> {
        if row.planned == 0 {
            return None;
        }
        let n = |v: i64| v.max(0) as u64;
        Some(Seen {
            owner: UserId::try_from(row.owner).ok()?,
            status: crate::stored_status(&row.status),
            tally: Tally {
                made: n(row.steps_made),
                ended: n(row.steps_ended),
                succeeded: n(row.steps_succeeded),
            },
            shares: n(row.shares),
            group: row.parent_id.is_some(),
        })
    }
}

/// The first step of a run that stopped it starting others: its name, and whether someone
/// cancelled it (rather than its failing).
type Stopper = (String, bool);

/// A step that ended in the change being written.
pub(super) struct StepEnded {
    pub run: JobId,
    pub job: JobId,
    pub step: String,
    pub status: JobStatus,
    /// Cancelled by someone, not by its run (a cancel of the run, or of what it needs).
    pub by_hand: bool,
}

impl StepEnded {
    /// Whether the run can no longer succeed for it: it failed, was interrupted for good, or
    /// someone cancelled it.
    fn stops(&self) -> bool {
        matches!(self.status, JobStatus::Failed | JobStatus::Interrupted) || self.by_hand
    }
}

/// The parameters of each item of a fan-out: its list read with `values` (a count n stands for
/// 0 to n - 1), then its step's parameters rendered with the item as `{item}` and its place as
/// `{index}`; or why not.
fn items_of(each: &model::workflows::Each, values: &mut RunValues) -> Result<Vec<Value>, String> {
    let name = &each.step.name;
    let spec = each
        .step
        .each
        .as_ref()
        .ok_or_else(|| format!("step {name:?} names no list"))?;
    let list = Template::parse(&Value::String(spec.list.clone()))
        .and_then(|t| t.render(values))
        .map_err(|e| format!("the list of step {name:?}: {e}"))?;
    // A count n stands for the list 0, 1, …, n - 1: the step runs n times.
    let len = match &list {
        Value::Array(list) => list.len() as u64,
        Value::Number(n) if n.is_u64() => n.as_u64().unwrap_or(0),
        _ => {
            return Err(format!(
                "the list of step {name:?}, {}, is not a list nor a count but {list}",
                spec.list
            ))
        }
    };
    if len > MAX_ITEMS as u64 {
        return Err(format!(
            "the list of step {name:?} has {len} items, more than {MAX_ITEMS}"
        ));
    }
    let list = match list {
        Value::Array(list) => list,
        _ => (0..len).map(Value::from).collect(),
    };
    let mut out = Vec::with_capacity(list.len());
    let mut bytes = 0usize;
    for (i, item) in list.into_iter().enumerate() {
        values.params.insert("item".into(), item);
        values.params.insert("index".into(), Value::from(i));
        let params = render_step(&each.step, values).map_err(|e| format!("item {i}: {e}"))?;
        // Each item is bounded by the render; together they are bounded here, before more is
        // made: every item's parameters are stored with it and with each of its events.
        bytes += params.to_string().len();
        if bytes > MAX_ITEMS_BYTES {
            return Err(format!(
                "the items of step {name:?} would have more than {MAX_ITEMS_BYTES} bytes of \
                 parameters together (passed at item {i}): give each item less, or fewer items"
            ));
        }
        out.push(params);
    }
    Ok(out)
}

/// The most bytes of parameters the items of one fan-out may have together.
pub const MAX_ITEMS_BYTES: usize = 8 * 1024 * 1024;

/// Whether `adding` new queued jobs of `owner`, who has `waiting`, fit within `max_queued` (the
/// most one user may have waiting); else why not.
fn share_fits(what: &str, waiting: u64, adding: u64, max_queued: u64) -> Result<(), String> {
    match waiting.saturating_add(adding) {
        total if total > max_queued => Err(format!(
            "{what} would make {adding} jobs, and with the {waiting} its owner has waiting that \
             passes the {max_queued} one user may have waiting at once: run it when fewer wait, \
             or ask the operator for a larger share (--max-queued-per-user)"
        )),
        _ => Ok(()),
    }
}

/// Whether step `name`'s `adding` items fit in its run, whose other fan-outs made `before`: a run
/// makes at most [`MAX_ITEMS`] in all, so that one run (a posted one included) costs the queue
/// and the disk no more than one full fan-out.
fn run_items_fit(name: &str, before: u64, adding: u64) -> Result<(), String> {
    match before.saturating_add(adding) {
        total if total > MAX_ITEMS as u64 => Err(format!(
            "step {name:?} would make {adding} items after the {before} its run's other fan-outs \
             made, {total} in all, more than the {MAX_ITEMS} a run may make"
        )),
        _ => Ok(()),
    }
}

/// A run's job as [`RUN_OF`] reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub params: String,
    pub plan: Option<String>,
}

/// A step's job as [`STEPS_OF`] reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRow {
    pub id: String,
    pub step: Option<String>,
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub result: Option<String>,
    pub outputs: Option<String>,
}

/// A run as its rules read it.
struct Run {
    params: RunParams,
    plan: Plan,
}

impl Run {
    fn of(row: RunRow) -> Option<Run> {
        Some(Run {
            params: serde_json::from_str(&row.params).ok()?,
            plan: serde_json::from_str(row.plan.as_deref()?).ok()?,
        })
    }
}

/// A step's job with what it left, as stored: read only to render what uses it.
struct Step {
    state: StepState,
    result: Option<String>,
    outputs: Option<String>,
}

impl Step {
    /// Its job, its result and the names of its outputs, for [`RunValues`].
    fn left(self) -> (String, (JobId, Option<Value>, Vec<String>)) {
        let outputs: Vec<model::Output> = self
            .outputs
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or_default();
        let result = self.result.and_then(|v| serde_json::from_str(&v).ok());
        let names = outputs.into_iter().map(|o| o.name).collect();
        (self.state.step, (self.state.id, result, names))
    }
}

fn steps(rows: Vec<StepRow>) -> Vec<Step> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Step {
                state: StepState {
                    id: JobId::try_from(r.id).ok()?,
                    step: r.step.unwrap_or_default(),
                    status: crate::stored_status(&r.status),
                    error: r
                        .error_code
                        .map(|code| JobError::new(code, r.error_message.unwrap_or_default())),
                },
                result: r.result,
                outputs: r.outputs,
            })
        })
        .collect()
}

/// What a run's steps are rendered with: its parameters `params`, and what its steps that
/// succeeded left.
async fn run_values<S: BatchSql>(
    sql: &mut S,
    run_id: &JobId,
    params: serde_json::Map<String, Value>,
) -> Result<RunValues, S::Error> {
    let mut values = RunValues {
        params,
        ..RunValues::default()
    };
    for s in steps(sql.steps_of(run_id.as_str()).await?) {
        if s.state.status == JobStatus::Succeeded {
            let (name, left) = s.left();
            values.steps.insert(name, left);
        }
    }
    Ok(values)
}

fn states(steps: Vec<Step>) -> Vec<StepState> {
    steps.into_iter().map(|s| s.state).collect()
}

impl Batch {
    /// Starts a run ([`crate::Change::StartRun`]): its job, unless its key started one before or
    /// its owner's share of the queue is full, then running; then its steps, in an order where
    /// each comes after the steps it needs. The run's job as it is then.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn start_run<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        run: &Job,
        plan: &str,
        steps: &[Job],
        max_queued: Option<u64>,
        key: Option<&crate::StartKey>,
        at: i64,
    ) -> Result<Created, S::Error> {
        // Its steps wait in its owner's share of the queue as its job does: all of them must
        // fit (a key that started the run before finds it whatever the queue).
        if let Some(max) = max_queued {
            let again = match key {
                Some(key) => sql
                    .started_with(owner, &key.key, at - crate::START_KEY_MS)
                    .await?
                    .is_some(),
                None => false,
            };
            let waiting = self.waiting(sql, owner, max).await?;
            let queued = steps
                .iter()
                .filter(|s| s.status == JobStatus::Queued)
                .count();
            // The run's own job runs at once: what waits is its steps.
            if !again && waiting.saturating_add(queued as u64) > max {
                return Ok(Created::Full { waiting });
            }
        }
        let created = self.create(sql, owner, run, max_queued, key, at).await?;
        let Created::New(queued) = created else {
            return Ok(created);
        };
        Ok(Created::New(
            self.begin_run(sql, owner, queued, plan, steps, at).await?,
        ))
    }

    /// Begins the run whose job `queued` was just made: its plan kept, then running, then its
    /// steps made. The run's job as it is then.
    pub(super) async fn begin_run<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        queued: Job,
        plan: &str,
        steps: &[Job],
        at: i64,
    ) -> Result<Job, S::Error> {
        let running = self
            .move_job(sql, owner, &queued.id, JobStatus::Running, None, None, at)
            .await?
            .unwrap_or(queued);
        self.left_queue(owner);
        let (mut made, mut kept) = (0, 0);
        for step in steps {
            let created = self.create(sql, owner, step, None, None, at).await?;
            made += i64::from(matches!(created, Created::New(_)));
            match created {
                // A fan-out that waits for nothing makes its items now.
                Created::New(group)
                    if group.kind == WORKFLOW_KIND
                        && group.after.as_ref().is_none_or(|a| a.left == 0) =>
                {
                    self.expand_group(sql, owner, group, at).await?;
                }
                // A step a re-run keeps: made as it ended in the run it re-runs.
                Created::New(step) if step.status.is_terminal() => {
                    kept += 1;
                    let result = step.result.as_ref().map(|r| r.to_string());
                    let outputs = serde_json::to_string(&step.outputs).ok();
                    let (started, finished) = (step.started_at, step.finished_at);
                    sql.set_ended(step.id.as_str(), started, finished, result, outputs)
                        .await?;
                }
                Created::New(_) => {}
                other => tracing::error!(
                    run = %running.id,
                    step = ?step.step,
                    answer = ?std::mem::discriminant(&other),
                    "a step of a run was not made: its needs must come before it"
                ),
            }
        }
        // The steps that end in this change (a fan-out of nothing, parameters that cannot be
        // rendered) are counted as they are settled; the steps a re-run keeps, now.
        sql.set_plan(running.id.as_str(), plan, made, kept, kept)
            .await?;
        // Its bar from the start: a re-run's kept steps count.
        self.runs_moved.insert(running.id.clone(), None);
        Ok(running)
    }

    /// Renders the parameters of `job`, a step whose wait just ended, from its run's parameters
    /// and what the steps it needs left; `Err` with why they cannot be.
    pub(super) async fn render_step<S: BatchSql>(
        &mut self,
        sql: &mut S,
        run_id: &JobId,
        job: &mut Job,
    ) -> Result<Result<(), String>, S::Error> {
        // Rendered when the run started: what uses another step names it.
        if !job.params.to_string().contains("{steps.") {
            return Ok(Ok(()));
        }
        let Some(run) = sql.run_of(run_id.as_str()).await?.and_then(Run::of) else {
            return Ok(Ok(()));
        };
        let Some(step) = job.step.as_deref().and_then(|s| run.plan.step(s)) else {
            return Ok(Ok(()));
        };
        if !uses_steps(step) {
            return Ok(Ok(()));
        }
        let values = run_values(sql, run_id, run.params.params).await?;
        let params = match render_step(step, &values) {
            Ok(params) => params,
            Err(why) => return Ok(Err(why)),
        };
        sql.set_params(job.id.as_str(), &params.to_string()).await?;
        job.params = params;
        Ok(Ok(()))
    }

    /// Makes the items of a fan-out's `group` (a step of a run, kind `workflow`, queued) once
    /// what it needs succeeded: its list read from the run's parameters and what the run's steps
    /// left, each item's parameters rendered, the group running with its items as its children,
    /// at most its concurrency running at once (each item past the first ones waits, through a
    /// continuation, for the end of the one that many places before it). A list that cannot be
    /// read, is too long, or an item whose parameters cannot be rendered fails the group, saying
    /// why; an empty list succeeds it.
    pub(super) async fn expand_group<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        group: Job,
        at: i64,
    ) -> Result<(), S::Error> {
        let Some(params) = serde_json::from_value::<RunParams>(group.params.clone())
            .ok()
            .filter(|p| p.each.is_some())
        else {
            return Ok(());
        };
        let Some(run_id) = group.parent.clone() else {
            return Ok(());
        };
        let each = params.each.clone().expect("filtered on each");
        let mut values = run_values(sql, &run_id, params.params.clone()).await?;
        let items = match items_of(&each, &mut values) {
            Ok(items) => items,
            Err(why) => return self.fail_step(sql, owner, &group.id, why, at).await,
        };
        // The bound holds for the run as a whole, not only for each of its fan-outs.
        let before = sql.items_made(run_id.as_str()).await?.max(0) as u64;
        if let Err(why) = run_items_fit(&each.step.name, before, items.len() as u64) {
            return self.fail_step(sql, owner, &group.id, why, at).await;
        }
        // Its items wait in its owner's share of the queue, as any start does.
        if let Some(max) = each.max_queued {
            // The group itself waits no more once its items are made.
            let waiting = self.waiting(sql, owner, max).await?.saturating_sub(1);
            let what = format!("the fan-out of step {:?}", each.step.name);
            if let Err(why) = share_fits(&what, waiting, items.len() as u64, max) {
                return self.fail_step(sql, owner, &group.id, why, at).await;
            }
        }
        let plan = Plan {
            on_failure: model::workflows::OnFailure::Finish,
            steps: Vec::new(),
            succeed_at: Some(each.step.each.as_ref().map_or(100, |e| e.succeed_at)),
        };
        let made = items.len() as i64;
        sql.set_plan(group.id.as_str(), &super::json(&plan), made, 0, 0)
            .await?;
        let Some(running) = self
            .move_job(sql, owner, &group.id, JobStatus::Running, None, None, at)
            .await?
        else {
            return Ok(());
        };
        self.left_queue(owner);
        if items.is_empty() {
            self.move_job(sql, owner, &group.id, JobStatus::Succeeded, None, None, at)
                .await?;
            return Ok(());
        }
        let window = each
            .step
            .each
            .as_ref()
            .and_then(|e| e.concurrency)
            .map_or(usize::MAX, |c| c.max(1) as usize);
        let ids: Vec<JobId> = items.iter().map(|_| JobId::random()).collect();
        for (i, params) in items.into_iter().enumerate() {
            let after = (i >= window).then(|| model::After {
                jobs: vec![ids[i - window].clone()],
                when: model::AfterWhen::Ended,
                left: 0,
            });
            let item = Job {
                max_attempts: each.max_attempts,
                priority: running.priority,
                after,
                parent: Some(running.id.clone()),
                step: Some(format!("{}[{i}]", each.step.name)),
                ..Job::queued(ids[i].clone(), &each.step.kind, params, at)
            };
            self.create(sql, owner, &item, None, None, at).await?;
        }
        self.runs_moved.insert(running.id, None);
        Ok(())
    }

    /// Ends a step whose parameters could not be rendered `failed`, saying why.
    pub(super) async fn fail_step<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        why: String,
        at: i64,
    ) -> Result<(), S::Error> {
        let error = JobError::new(STEP_PARAMS.to_string(), why);
        self.move_job(
            sql,
            owner,
            job_id,
            JobStatus::Failed,
            Some(&error),
            None,
            at,
        )
        .await?;
        Ok(())
    }

    /// Passes on the cancels of runs the change being written asked for: each step waiting is
    /// cancelled, each running one asked to stop.
    pub(super) async fn pass_cancels<S: BatchSql>(
        &mut self,
        sql: &mut S,
        at: i64,
    ) -> Result<(), S::Error> {
        while let Some((owner, run_id)) = self.runs_cancelled.pop() {
            for step in steps(sql.steps_of(run_id.as_str()).await?) {
                let to = match step.state.status {
                    JobStatus::Queued => JobStatus::Cancelled,
                    JobStatus::Running => JobStatus::Cancelling,
                    _ => continue,
                };
                self.move_job(sql, &owner, &step.state.id, to, None, None, at)
                    .await?;
            }
        }
        Ok(())
    }

    /// Settles the runs whose steps the batch's changes ended, once they are all written: each
    /// run's tally counted in one statement however many of its steps ended (the runs in the
    /// order of their ids, so that processes sharing a database lock their rows in one order),
    /// the steps not started cancelled after a failure, the run ended once no step is active.
    /// What that ends in turn (the jobs after a run, a group's run) is settled the same way.
    pub(super) async fn settle_steps<S: BatchSql>(
        &mut self,
        sql: &mut S,
        at: i64,
    ) -> Result<(), S::Error> {
        while !self.steps_ended.is_empty() || !self.runs_waiting.is_empty() {
            // Each run: how many of its steps ended, how many succeeded, the first that failed
            // (none, for a parent that just began to wait for its children).
            let mut ended: BTreeMap<JobId, (i64, i64, Option<Stopper>)> = BTreeMap::new();
            for run in std::mem::take(&mut self.runs_waiting) {
                ended.entry(run).or_default();
            }
            for step in std::mem::take(&mut self.steps_ended) {
                let stops = step.stops();
                let e = ended.entry(step.run).or_default();
                e.0 += 1;
                e.1 += i64::from(step.status == JobStatus::Succeeded);
                if stops {
                    e.2.get_or_insert((step.step, step.by_hand));
                }
            }
            for (run_id, (n, succeeded, failed)) in ended {
                self.settle_run(sql, run_id, n, succeeded, failed, at)
                    .await?;
            }
            // The jobs after what ended, and the cancels it passed on.
            self.settle_waiting(sql, at).await?;
        }
        Ok(())
    }

    /// Counts `n` steps of `run_id` as ended, `succeeded` of them succeeded and `failed` the
    /// first that failed, then settles the run (not a parent still running its own work, whose
    /// children are counted for when it ends).
    async fn settle_run<S: BatchSql>(
        &mut self,
        sql: &mut S,
        run_id: JobId,
        n: i64,
        succeeded: i64,
        failed: Option<Stopper>,
        at: i64,
    ) -> Result<(), S::Error> {
        let counted = sql.steps_ended(run_id.as_str(), n, succeeded).await?;
        let Some(seen) = counted.and_then(Seen::of) else {
            return Ok(());
        };
        if !seen.status.is_active() {
            return Ok(());
        }
        // A group's items all run, whatever one of them did.
        if let Some((step, by_hand)) =
            failed.filter(|_| seen.status == JobStatus::Running && !seen.group)
        {
            let error = cancelled_for(&step, by_hand);
            self.stop_starting(sql, &seen.owner, &run_id, &error, at)
                .await?;
        }
        // The steps it cancelled, if any, are counted as they are settled, the last one
        // ending the run.
        if !seen.tally.all_ended() {
            self.runs_moved.insert(run_id, Some(seen));
            return Ok(());
        }
        let (to, error) = if seen.status == JobStatus::Cancelling {
            (JobStatus::Cancelled, None)
        } else if seen.group {
            let run = sql.run_of(run_id.as_str()).await?.and_then(Run::of);
            let percent = run.and_then(|r| r.plan.succeed_at).unwrap_or(100);
            group_end(seen.tally, percent)
        } else {
            run_end(&states(steps(sql.steps_of(run_id.as_str()).await?)))
        };
        self.draw_run(sql, &run_id, &seen, at).await?;
        self.move_job(sql, &seen.owner, &run_id, to, error.as_ref(), None, at)
            .await?;
        self.runs_moved.remove(&run_id);
        Ok(())
    }

    /// Cancels the steps of a run not started yet, saying why (`error`), if the run's plan says
    /// to (`on_failure = "cancel"`).
    async fn stop_starting<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        run_id: &JobId,
        error: &JobError,
        at: i64,
    ) -> Result<(), S::Error> {
        let Some(run) = sql.run_of(run_id.as_str()).await?.and_then(Run::of) else {
            return Ok(());
        };
        if run.plan.on_failure != model::workflows::OnFailure::Cancel {
            return Ok(());
        }
        for queued in steps(sql.steps_of(run_id.as_str()).await?)
            .into_iter()
            .filter(|s| s.state.status == JobStatus::Queued)
        {
            self.move_job(
                sql,
                owner,
                &queued.state.id,
                JobStatus::Cancelled,
                Some(error),
                None,
                at,
            )
            .await?;
        }
        Ok(())
    }

    /// Draws again the bars of the runs whose steps moved in this batch: a fan-out's group
    /// before its run, whose bar moves with the group's.
    pub(super) async fn draw_runs<S: BatchSql>(
        &mut self,
        sql: &mut S,
        at: i64,
    ) -> Result<(), S::Error> {
        while !self.runs_moved.is_empty() {
            let mut moved = Vec::new();
            for (run_id, seen) in std::mem::take(&mut self.runs_moved) {
                // As the settling of the run counted its steps, else as its row says.
                let seen = match seen {
                    Some(seen) => Some(seen),
                    None => sql.tally_of(run_id.as_str()).await?.and_then(Seen::of),
                };
                if let Some(seen) = seen.filter(|s| s.status.is_active()) {
                    moved.push((run_id, seen));
                }
            }
            moved.sort_by_key(|(_, seen)| !seen.group);
            let drawing: BTreeSet<JobId> = moved.iter().map(|(id, _)| id.clone()).collect();
            for (run_id, seen) in moved {
                if let Some(parent) = self.draw_run(sql, &run_id, &seen, at).await? {
                    if !drawing.contains(&parent) {
                        self.runs_moved.entry(parent).or_insert(None);
                    }
                }
            }
        }
        Ok(())
    }

    /// Records a run's bar from its tally and its active steps' progress, with its `progress`
    /// event; the run it is a step of, if any (a fan-out's group is its run's step).
    async fn draw_run<S: BatchSql>(
        &mut self,
        sql: &mut S,
        run_id: &JobId,
        seen: &Seen,
        at: i64,
    ) -> Result<Option<JobId>, S::Error> {
        let progress = model::Progress {
            at: Some(at),
            ..run_progress(seen.tally, seen.shares, seen.group)
        };
        let id = self.take_id();
        let Some(parent) = sql
            .record_progress(run_id.as_str(), &progress, id, None)
            .await?
        else {
            self.next_id = id;
            return Ok(None);
        };
        let data = super::json(&ProgressEvent::new(run_id, &progress));
        self.event::<S>(
            Some(&seen.owner),
            id,
            Some(run_id),
            EventType::Progress,
            data,
            at,
        );
        Ok(parent.and_then(|p| JobId::try_from(p).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_fan_outs_fit_while_their_items_add_up_to_the_bound() {
        assert_eq!(run_items_fit("a", 0, MAX_ITEMS as u64), Ok(()));
        assert_eq!(run_items_fit("a", 4_000, 6_000), Ok(()));
        let past = run_items_fit("b", 6_000, 5_000).unwrap_err();
        assert_eq!(
            past,
            "step \"b\" would make 5000 items after the 6000 its run's other fan-outs made, \
             11000 in all, more than the 10000 a run may make"
        );
        assert!(run_items_fit("c", u64::MAX, 1).is_err(), "no overflow");
    }
}
