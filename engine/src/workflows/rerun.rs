//! Re-running a run that did not succeed: a new run of the same plan and parameters in which
//! the steps that succeeded are kept as they ended (their results, and their output files linked,
//! not copied) and only the others run again, each once the steps it needs succeeded. A run
//! that succeeded runs again whole.

use super::WORKFLOW_KIND;
use crate::caller::Caller;
use crate::jobs::{Jobs, Params};
use model::workflows::run::{render_step, uses_steps, RunValues};
use model::workflows::{Graph, Plan, RunParams};
use model::{After, AfterWhen, AppError, ErrorCode, HistoryQuery, Job, JobId, JobStatus};
use std::collections::HashMap;

impl Jobs {
    /// Re-runs the run `origin` (see the module's notes); the new run's job.
    pub(crate) async fn rerun_run(&self, caller: &Caller, origin: Job) -> Result<Job, AppError> {
        if origin.parent.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "a fan-out's items are re-run with their run: re-run the run",
            ));
        }
        if !origin.status.is_terminal() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "the run has not ended: its failed steps are re-run once it has",
            ));
        }
        let plan: Plan = self
            .run_plan(&origin.id)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::Conflict, "the run keeps no plan to re-run"))?;
        let params: RunParams = serde_json::from_value(origin.params.clone()).map_err(|_| {
            AppError::new(ErrorCode::Conflict, "the run's parameters are unreadable")
        })?;
        let edges: Vec<(&str, Vec<&str>)> = plan
            .steps
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.needs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let graph = Graph::new(&edges)
            .map_err(|e| AppError::new(ErrorCode::Conflict, format!("the run's plan: {e}")))?;
        let query = HistoryQuery {
            parent: Some(origin.id.to_string()),
            limit: Some(model::workflows::MAX_STEPS as u32),
            ..Default::default()
        };
        let before = self.history_page(caller, &query).await?.jobs;
        // What succeeded is kept, unless everything did: then the whole run runs again.
        let mut kept: HashMap<&str, &Job> = before
            .iter()
            .filter(|j| j.status == JobStatus::Succeeded)
            .filter_map(|j| j.step.as_deref().map(|s| (s, j)))
            .collect();
        if origin.status == JobStatus::Succeeded || kept.len() >= plan.steps.len() {
            kept.clear();
        }
        let now = crate::now_ms();
        let run = Job {
            origin: Some(origin.id.clone()),
            started_by: caller.actor(),
            priority: crate::priorities::rerun_priority(
                &self.inner.kinds,
                caller,
                WORKFLOW_KIND,
                origin.priority,
            ),
            ..Job::queued(JobId::random(), WORKFLOW_KIND, origin.params.clone(), now)
        };
        let ids: Vec<JobId> = plan.steps.iter().map(|_| JobId::random()).collect();
        let run_params = RunParams {
            each: None,
            ..params.clone()
        };
        let mut values = RunValues {
            params: params.params,
            ..RunValues::default()
        };
        let raises = caller.may_operate().is_ok();
        let mut steps = Vec::with_capacity(ids.len());
        for &n in graph.order() {
            let step = &plan.steps[n];
            let id = ids[n].clone();
            if let Some(old) = kept.get(step.name.as_str()) {
                self.link_outputs(&old.id, &id).await;
                values.steps.insert(
                    step.name.clone(),
                    (
                        id.clone(),
                        old.result.clone(),
                        old.outputs.iter().map(|o| o.name.clone()).collect(),
                    ),
                );
                steps.push(Job {
                    status: JobStatus::Succeeded,
                    progress: old.progress.clone(),
                    started_at: old.started_at,
                    finished_at: old.finished_at,
                    result: old.result.clone(),
                    outputs: old.outputs.clone(),
                    origin: Some(old.id.clone()),
                    priority: crate::jobs::step_priority(
                        &self.inner.kinds,
                        raises,
                        &step.kind,
                        run.priority,
                    ),
                    parent: Some(run.id.clone()),
                    step: Some(step.name.clone()),
                    ..Job::queued(id, &step.kind, old.params.clone(), now)
                });
                continue;
            }
            let needs = graph.needs(n);
            // Rendered now when what it uses is known now: the run's parameters, or steps kept
            // (a fan-out's items, when they are made).
            let ready = needs.iter().all(|&m| kept.contains_key(graph.name(m)));
            let params = match (!uses_steps(step) || ready) && step.each.is_none() {
                false => step.params.clone(),
                true => {
                    let rendered = render_step(step, &values)
                        .map_err(|e| AppError::new(ErrorCode::Conflict, e))?;
                    self.validate(caller, &step.kind, Params::Json(rendered))
                        .await?
                }
            };
            let after = (!needs.is_empty()).then(|| After {
                jobs: needs.iter().map(|&m| ids[m].clone()).collect(),
                when: AfterWhen::Succeeded,
                left: 0,
            });
            let priority =
                crate::jobs::step_priority(&self.inner.kinds, raises, &step.kind, run.priority);
            steps.push(self.step_job((&run, priority), &run_params, step, id, after, params)?);
        }
        let new = super::start::NewRun { run, plan, steps };
        self.write_run(caller.user(), new, None)
            .await
            .map(|started| started.job)
    }

    /// Links the output files of `from` as those of `to` (a step kept by a re-run): the same
    /// bytes, each job's kept as long as it is.
    async fn link_outputs(&self, from: &JobId, to: &JobId) {
        let (from, to) = (self.inner.blobs.outputs(from), self.inner.blobs.outputs(to));
        let linked = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let Ok(entries) = std::fs::read_dir(&from) else {
                return Ok(());
            };
            std::fs::create_dir_all(&to)?;
            for entry in entries {
                let entry = entry?;
                let dest = to.join(entry.file_name());
                if std::fs::hard_link(entry.path(), &dest).is_err() {
                    std::fs::copy(entry.path(), &dest)?;
                }
            }
            Ok(())
        })
        .await;
        if let Ok(Err(e)) | Err(e) = linked.map_err(std::io::Error::other) {
            tracing::error!(error = %e, "cannot link a kept step's outputs");
        }
    }
}
