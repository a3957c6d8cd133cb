//! Starting a workflow's run: its parameters checked as a command's, each step's parameters
//! rendered and checked as its kind's where they use only the run's parameters (the others
//! once the steps they use ended, in the transaction that ends the last of those), and the run
//! written as one change ([`crate::store::Change::StartRun`]). A schedule builds its runs the
//! same way ([`NewRun`]), as its owner.

use super::{Workflow, WORKFLOW_KIND};
use crate::caller::Caller;
use crate::failures::write_failed;
use crate::files::Files;
use crate::jobs::{step_priority, Jobs, Opens, Params, StartOptions, Started};
use crate::kinds::check::{self, Typing};
use crate::now_ms;
use crate::priorities::priority_for;
use crate::retries::attempts_for;
use crate::store::StartKey;
use model::workflows::run::{render_step, uses_steps, RunValues};
use model::workflows::{Plan, PlanStep, RunParams};
use model::{
    After, AfterWhen, AppError, ErrorCode, FieldError, Job, JobId, KindInfo, Priority, UserId,
};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A run ready to be written: its job, its plan and its steps' jobs.
#[derive(Debug, Clone)]
pub(crate) struct NewRun {
    pub run: Job,
    pub plan: Plan,
    pub steps: Vec<Job>,
}

impl Jobs {
    /// The workflows the caller may start, described as their forms show them.
    pub fn workflows(&self) -> Vec<KindInfo> {
        self.inner.workflows.infos()
    }

    /// The own titles of the steps of the workflow `name` that have one, by step name.
    pub fn step_titles(&self, name: &str) -> Vec<(String, String)> {
        self.workflow_named(name)
            .map(|w| {
                w.steps
                    .into_iter()
                    .filter_map(|s| Some((s.name, s.title?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The workflow called `name`, unless a kind is (a kind's name wins).
    pub(crate) fn workflow_named(&self, name: &str) -> Option<Workflow> {
        match self.inner.kinds.info(name) {
            Some(_) => None,
            None => self.inner.workflows.get(name),
        }
    }

    /// Starts a run of the workflow `name` with `params` (JSON) for the caller.
    pub async fn start_workflow(
        &self,
        caller: &Caller,
        name: &str,
        params: Value,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        let workflow = self.workflow_for(caller, name)?;
        let values = self
            .run_values(&self.opens_of(caller), &workflow, Params::Json(params))
            .await?;
        self.start_run(caller, &workflow, values, options).await
    }

    /// Like [`Jobs::start_workflow`], from a form where every value is a string.
    pub async fn start_workflow_from_form(
        &self,
        caller: &Caller,
        name: &str,
        form: &HashMap<String, String>,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        let workflow = self.workflow_for(caller, name)?;
        let values = self
            .run_values(
                &self.opens_of(caller),
                &workflow,
                Params::Form(form.clone()),
            )
            .await?;
        self.start_run(caller, &workflow, values, options).await
    }

    /// The workflow `name`, once the caller may start it.
    fn workflow_for(&self, caller: &Caller, name: &str) -> Result<Workflow, AppError> {
        caller.may_start()?;
        self.inner.workflows.get(name).ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("there is no workflow {name:?} on this server"),
            )
        })
    }

    /// What the caller's jobs may open.
    pub(super) fn opens_of(&self, caller: &Caller) -> Opens {
        Opens {
            files: Files::for_caller(&self.inner.data_root, caller),
            user: caller.user().clone(),
            rerun_of: None,
        }
    }

    /// The values of `workflow`'s parameters in `params` (JSON, or a form's strings), checked as
    /// a command's are, with what `opens` lets them open: the uploads (and outputs) its file
    /// parameters name that are the caller's.
    pub(crate) async fn run_values(
        &self,
        opens: &Opens,
        workflow: &Workflow,
        params: Params,
    ) -> Result<Value, AppError> {
        let names = workflow
            .params
            .iter()
            .filter(|p| p.kind() == model::ParamType::File)
            .map(|p| p.name().to_string())
            .collect();
        let env = self
            .inner
            .uploads
            .env_for(
                opens.files.clone(),
                &opens.user,
                opens.rerun_of.as_ref(),
                names,
                |name| params.value(name),
            )
            .await?;
        let check = |values| {
            check::check(&workflow.params, Typing::Checker, values, &env)
                .into_result()
                .map_err(AppError::invalid)
        };
        match params {
            Params::Json(values) => check(values),
            Params::Form(form) => crate::kinds::read_form(&workflow.info.params, &form, check),
        }
    }

    /// Makes the run's job and its steps' jobs and writes them together.
    pub(super) async fn start_run(
        &self,
        caller: &Caller,
        workflow: &Workflow,
        values: Value,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        if options.after.is_some() || options.max_attempts.is_some() || options.run_after.is_some()
        {
            return Err(AppError::invalid(vec![FieldError::new(
                "kind",
                "a workflow's run starts at once and its steps keep their kinds' \
                          attempts: it takes no run_after, after or max_attempts",
            )]));
        }
        let key = options.key()?;
        let priority = match options.priority {
            Some(p) => priority_for(&self.inner.kinds, caller, WORKFLOW_KIND, Some(p))?,
            None => Priority::NORMAL,
        };
        let raises = caller.may_operate().is_ok();
        let mut new = self
            .build_run(self.opens_of(caller), workflow, values, priority, raises)
            .await?;
        new.run.started_by = caller.actor();
        self.write_run(caller.user(), new, key).await
    }

    /// A run of `workflow` with the checked `values` of its parameters, at `priority`, its steps
    /// admitted with what `opens` lets them open: each after the steps it needs, in an order
    /// where those come first, at the run's priority as far as its starter may raise their kinds
    /// (`raises`: an operator's run).
    pub(crate) async fn build_run(
        &self,
        opens: Opens,
        workflow: &Workflow,
        values: Value,
        priority: Priority,
        raises: bool,
    ) -> Result<NewRun, AppError> {
        let params: Map<String, Value> = match values {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let run_params = RunParams {
            workflow: workflow.info.name.clone(),
            params: params.clone(),
            each: None,
        };
        let plan = plan_of(workflow);
        let now = now_ms();
        let run = Job {
            priority,
            ..Job::queued(
                JobId::random(),
                WORKFLOW_KIND,
                serde_json::to_value(&run_params).expect("a run's parameters serialize"),
                now,
            )
        };
        let given = RunValues {
            params,
            ..RunValues::default()
        };
        let ids: Vec<JobId> = workflow.steps.iter().map(|_| JobId::random()).collect();
        let mut steps = Vec::with_capacity(ids.len());
        let mut problems = Vec::new();
        for &n in workflow.graph.order() {
            let step = &plan.steps[n];
            let params = match uses_steps(step) || step.each.is_some() {
                true => step.params.clone(),
                false => match render_step(step, &given) {
                    Ok(rendered) => match self
                        .admit_params(opens.clone(), &step.kind, Params::Json(rendered))
                        .await
                    {
                        Ok(checked) => checked,
                        Err(e) => {
                            problems.extend(step_problems(&step.name, e));
                            continue;
                        }
                    },
                    Err(message) => {
                        problems.push(FieldError::new(format!("steps.{}", step.name), message));
                        continue;
                    }
                },
            };
            let needs = workflow.graph.needs(n);
            let after = (!needs.is_empty()).then(|| After {
                jobs: needs.iter().map(|&m| ids[m].clone()).collect(),
                when: AfterWhen::Succeeded,
                left: 0,
            });
            let priority = step_priority(&self.inner.kinds, raises, &step.kind, run.priority);
            steps.push(self.step_job(
                (&run, priority),
                &run_params,
                step,
                ids[n].clone(),
                after,
                params,
            )?);
        }
        if !problems.is_empty() {
            return Err(AppError::invalid(problems));
        }
        Ok(NewRun { run, plan, steps })
    }

    /// The job of `step` of `run` (whose parameters are `run_params`), at `priority`, with
    /// `params`: a job of its kind, or, for a fan-out, its group (a job of kind `workflow`, a
    /// child of the run, which makes its items once the list is known, at its priority, if they
    /// fit its owner's share of the queue as it is then).
    pub(crate) fn step_job(
        &self,
        (run, priority): (&Job, Priority),
        run_params: &RunParams,
        step: &PlanStep,
        id: JobId,
        after: Option<After>,
        params: Value,
    ) -> Result<Job, AppError> {
        let max_attempts = attempts_for(&self.inner.kinds, &step.kind, None)?;
        let (kind, params, max_attempts) = match &step.each {
            None => (step.kind.as_str(), params, max_attempts),
            Some(_) => {
                let group = RunParams {
                    each: Some(model::workflows::Each {
                        step: step.clone(),
                        max_attempts,
                        max_queued: Some(self.inner.queue_shares.max()),
                    }),
                    ..run_params.clone()
                };
                let group = serde_json::to_value(&group).expect("a group's parameters serialize");
                (WORKFLOW_KIND, group, 1)
            }
        };
        Ok(Job {
            max_attempts,
            priority,
            after,
            parent: Some(run.id.clone()),
            step: Some(step.name.clone()),
            ..Job::queued(id, kind, params, run.created_at)
        })
    }

    /// Writes a run as `owner`'s (see [`crate::committer::Committer::start_run`]), what its
    /// steps keep beside them (secrets, uploads) kept first.
    pub(crate) async fn write_run(
        &self,
        owner: &UserId,
        new: NewRun,
        key: Option<String>,
    ) -> Result<Started, AppError> {
        self.refuse_when_stopping()?;
        let NewRun {
            run,
            plan,
            mut steps,
        } = new;
        for step in &mut steps {
            self.inner.around_start.before(step).await?;
        }
        let key = key.map(|key| StartKey {
            fingerprint: crate::jobs::fingerprint(&run),
            key,
        });
        let plan = serde_json::to_string(&plan).expect("a plan serializes");
        let created = self
            .inner
            .committer
            .start_run(
                owner,
                run,
                plan,
                steps.clone(),
                Some(self.inner.queue_shares.max()),
                key,
            )
            .await
            .map_err(|e| write_failed("start a workflow's run", e));
        let stored = matches!(&created, Ok(crate::committer::Created::New(_)));
        for step in &steps {
            self.inner
                .around_start
                .after(&step.id, &step.kind, stored)
                .await;
        }
        self.started(created?)
    }
}

/// The workflow's steps as a run keeps them.
fn plan_of(workflow: &Workflow) -> Plan {
    Plan {
        on_failure: workflow.on_failure,
        steps: workflow
            .steps
            .iter()
            .enumerate()
            .map(|(n, s)| PlanStep {
                name: s.name.clone(),
                kind: s.kind.clone(),
                needs: workflow
                    .graph
                    .needs(n)
                    .iter()
                    .map(|&m| workflow.graph.name(m).to_string())
                    .collect(),
                params: s.params.clone(),
                each: s.each.clone(),
            })
            .collect(),
        succeed_at: None,
    }
}

/// What the check of a step's parameters said, each field named as the step's.
fn step_problems(step: &str, e: AppError) -> Vec<FieldError> {
    match e.fields.is_empty() {
        true => vec![FieldError::new(format!("steps.{step}"), e.message)],
        false => e
            .fields
            .into_iter()
            .map(|f| FieldError::new(format!("steps.{step}.{}", f.field), f.message))
            .collect(),
    }
}
