//! Changing a queued job's priority: its owner within what they may start at, an operator or
//! an admin to any ([`crate::priorities`]).

use super::Jobs;
use crate::caller::Caller;
use crate::failures::write_failed;
use crate::priorities::priority_for;
use model::bulk::{BulkAnswer, BulkRequest};
use model::{AppError, ErrorCode, Job, JobId, JobStatus, Priority};

impl Jobs {
    /// Sets queued job `id`'s priority; the job as it is then. Its place in the queue moves by
    /// the difference of the levels: the time it has waited counts as before.
    pub async fn set_priority(
        &self,
        caller: &Caller,
        id: &JobId,
        priority: Priority,
    ) -> Result<Job, AppError> {
        let job = self.job(caller, id).await?;
        let owner = self.may_touch(caller, id).await?;
        priority_for(&self.inner.kinds, caller, &job.kind, Some(priority))?;
        let not_queued = |status: JobStatus| {
            AppError::words(
                ErrorCode::Conflict,
                model::words::priority_not_queued(status),
            )
        };
        if job.status != JobStatus::Queued {
            return Err(not_queued(job.status));
        }
        match self
            .inner
            .committer
            .prioritize(&owner, id, priority)
            .await
            .map_err(|e| write_failed("change a job's priority", e))?
        {
            Some(job) => Ok(job),
            // It started (or was cancelled) meanwhile.
            None => Err(not_queued(self.job(caller, id).await?.status)),
        }
    }

    /// Sets the priority of every queued job `request` names (see [`Jobs::set_priority`]).
    pub async fn bulk_prioritize(
        &self,
        caller: &Caller,
        request: &BulkRequest,
        priority: Priority,
    ) -> Result<BulkAnswer, AppError> {
        caller.may_act()?;
        let targets = self.bulk_targets(caller, request).await?;
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let result = match &target.id {
                Some(id) => self.set_priority(caller, id, priority).await,
                None => Err(AppError::not_found()),
            };
            results.push(super::bulk::outcome(target.named, result));
        }
        Ok(BulkAnswer::of(results))
    }
}
