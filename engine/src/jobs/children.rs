//! Starting the children a running job asks for ([`model::children`]): checked as a start of
//! that kind by the job's owner (its parameters, its files, its share of the queue), then
//! written with its parent counting it ([`crate::store::Change::StartChild`]).

use super::{take_timeout, Inner, Jobs, Opens, Params};
use crate::caller::Caller;
use crate::children::{Admitting, ChildOf, Starting, StartsChildren};
use crate::failures::{read_failed, write_failed};
use crate::files::Files;
use crate::now_ms;
use crate::priorities::priority_for;
use crate::retries::attempts_for;
use crate::store::Created;
use model::children::ChildStart;
use model::{AppError, ErrorCode, Job, JobError, JobId, UserId};
use std::sync::Weak;

/// The engine as its runner's jobs reach it: weakly, as the engine owns the runner.
pub(super) struct Starts(pub Weak<Inner>);

impl StartsChildren for Starts {
    fn start_child<'a>(&'a self, of: &'a ChildOf, child: ChildStart) -> Starting<'a> {
        Box::pin(async move {
            match self.0.upgrade() {
                Some(inner) => Jobs { inner }.start_child(of, child).await,
                None => Err(AppError::new(
                    ErrorCode::Unavailable,
                    "the server is shutting down",
                )),
            }
        })
    }

    fn admit<'a>(&'a self, owner: &'a UserId, job: &'a Job) -> Admitting<'a> {
        Box::pin(async move {
            match self.0.upgrade() {
                Some(inner) => Jobs { inner }.admit_rendered(owner, job).await,
                None => Err(JobError::new(
                    "shutting_down",
                    "the server is shutting down",
                )),
            }
        })
    }
}

impl Jobs {
    /// Starts `child` for the running job `of`: the child as stored, or the one of that name
    /// it started before.
    pub async fn start_child(&self, of: &ChildOf, child: ChildStart) -> Result<Job, AppError> {
        self.refuse_when_stopping()?;
        if let Some(why) = child.name_problem() {
            return Err(AppError::invalid_field("name", why));
        }
        if child.kind == model::workflows::WORKFLOW_KIND || child.kind == model::EXTERNAL_KIND {
            return Err(AppError::invalid_field(
                "kind",
                format!(
                    "{:?}: a child is a job of a kind this server runs",
                    child.kind
                ),
            ));
        }
        if let Some(worker) = &of.worker {
            let owned = self.inner.remotes.owners.get(&child.kind);
            if owned.is_none_or(|o| o.token_id != worker.token_id) {
                return Err(AppError::forbidden(format!(
                    "{:?}: a job on a worker starts children only of the kinds its worker \
                     token owns",
                    child.kind
                )));
            }
        }
        let params = match child.params {
            serde_json::Value::Null => serde_json::json!({}),
            params => params,
        };
        let (params, timeout_ms) = take_timeout(params)?;
        // What its files may be: its owner's, as their role is now.
        let files = Files::for_owner(&self.inner.data_root, &self.inner.store, &of.owner)
            .await
            .map_err(read_failed)?;
        let opens = Opens {
            files,
            user: of.owner.clone(),
            rerun_of: None,
        };
        let params = self
            .admit_params(opens, &child.kind, Params::Json(params))
            .await?;
        if let Some(worker) = &of.worker {
            self.worker_child_files(worker, &of.parent, &child.kind, &params)?;
        }
        let kinds = &self.inner.kinds;
        let caller = Caller::new(of.owner.clone());
        let mut job = Job {
            parent: Some(of.parent.clone()),
            step: Some(child.name),
            timeout_ms,
            max_attempts: attempts_for(kinds, &child.kind, None)?,
            priority: priority_for(kinds, &caller, &child.kind, None)?,
            ..Job::queued(JobId::random(), &child.kind, params, now_ms())
        };
        // What is kept beside the job (secrets, uploads) is kept first, as for any start.
        self.inner.around_start.before(&mut job).await?;
        let (id, kind) = (job.id.clone(), job.kind.clone());
        let max_queued = Some(self.inner.queue_shares.max());
        let created = self
            .inner
            .committer
            .start_child(&of.owner, job, of.fence.clone(), max_queued)
            .await
            .map_err(|e| write_failed("start a child job", e));
        let stored = matches!(&created, Ok(Some(Created::New(_))));
        self.inner.around_start.after(&id, &kind, stored).await;
        match created? {
            Some(created) => self.started(created).map(|s| s.job),
            None => Err(AppError::new(
                ErrorCode::Conflict,
                "the job no longer runs its own work, so it starts no more children",
            )),
        }
    }
}

impl Jobs {
    /// Refuses a worker's child whose file parameters name a file its parent was not given and
    /// did not write: a worker reaches its jobs' own files, never the rest of their owner's.
    fn worker_child_files(
        &self,
        worker: &crate::children::WorkerChildren,
        parent: &JobId,
        kind: &str,
        params: &serde_json::Value,
    ) -> Result<(), AppError> {
        for name in self.inner.kinds.params_of(kind, model::ParamType::File) {
            let Some(named) = params.get(&name).and_then(|v| v.as_str()) else {
                continue;
            };
            let own_output = matches!(
                model::FileRef::parse(named),
                Some(model::FileRef::Output { job, .. }) if job == *parent
            );
            if !own_output && !worker.files.contains(named) {
                return Err(AppError::invalid_field(
                    &name,
                    "a job on a worker passes its children only the files it was given or its \
                     own outputs",
                ));
            }
        }
        Ok(())
    }
}
