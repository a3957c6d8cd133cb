//! Continuations ([`model::after`]): which jobs a start may name to run after, and what a job
//! waiting for them says of them.
//!
//! A caller may start a job after jobs they can see (their own; any for those who see every
//! job), at most [`MAX_AFTER`], each named once. A start after a job that already ended in a
//! way the condition does not allow is refused: it would never run. The store settles the wait
//! ([`store_core::batch`]): a job that ends in the meantime is counted there, in the
//! transaction that inserts the new job.

use super::Jobs;
use crate::caller::Caller;
use crate::failures::read_failed;
use model::after::MAX_AFTER;
use model::{After, AfterWait, AfterWhen, AppError, ErrorCode, Job, JobId, JobStatus};
use std::collections::HashMap;

/// The field a start's jobs to run after are refused under.
pub const AFTER_FIELD: &str = "after";

/// The jobs a start asked to run after, and on what condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AfterAsked {
    pub jobs: Vec<JobId>,
    pub when: AfterWhen,
}

impl Jobs {
    /// The jobs a start by `caller` runs after, checked: `None` when it names none.
    pub(crate) async fn after_for(
        &self,
        caller: &Caller,
        asked: Option<AfterAsked>,
    ) -> Result<Option<After>, AppError> {
        let Some(AfterAsked { jobs, when }) = asked else {
            return Ok(None);
        };
        let mut named: Vec<JobId> = Vec::with_capacity(jobs.len());
        for id in jobs {
            if !named.contains(&id) {
                named.push(id);
            }
        }
        if named.is_empty() {
            return Ok(None);
        }
        if named.len() > MAX_AFTER {
            return Err(AppError::invalid_field(
                AFTER_FIELD,
                format!("a job may start after at most {MAX_AFTER} jobs"),
            ));
        }
        for id in &named {
            let need = self
                .inner
                .store
                .job(caller.sees(), id)
                .await
                .map_err(read_failed)?
                .ok_or_else(|| {
                    AppError::invalid_field(AFTER_FIELD, format!("there is no job {id} of yours"))
                })?;
            if need.status.is_terminal() && !when.allows(need.status) {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "job {id} ended {}: a job to run after it succeeded would never start",
                        need.status
                    ),
                ));
            }
        }
        Ok(Some(After {
            jobs: named,
            when,
            left: 0,
        }))
    }

    /// Where the jobs stand that each of the queued `jobs` waits for, for those that wait.
    pub(super) async fn after_waits(
        &self,
        jobs: &[Job],
    ) -> Result<HashMap<JobId, AfterWait>, AppError> {
        let mut waits = HashMap::new();
        let mut statuses: HashMap<JobId, JobStatus> = HashMap::new();
        for job in jobs.iter().filter(|j| j.status == JobStatus::Queued) {
            let Some(after) = job.after.as_ref().filter(|a| a.waits()) else {
                continue;
            };
            let mut of_needs = Vec::with_capacity(after.jobs.len());
            for need in &after.jobs {
                let status = match statuses.get(need) {
                    Some(status) => *status,
                    None => {
                        let read = self
                            .inner
                            .store
                            .job(None, need)
                            .await
                            .map_err(read_failed)?;
                        // A need deleted since (its history pruned) had ended.
                        let status = read.map_or(JobStatus::Succeeded, |j| j.status);
                        statuses.insert(need.clone(), status);
                        status
                    }
                };
                of_needs.push(status);
            }
            waits.insert(job.id.clone(), AfterWait::of(after.when, of_needs));
        }
        Ok(waits)
    }
}
