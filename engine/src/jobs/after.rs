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
            return Err(AppError::invalid_words(
                AFTER_FIELD,
                model::words::after_too_many(MAX_AFTER),
            ));
        }
        let found: HashMap<JobId, JobStatus> = self
            .inner
            .store
            .job_statuses(caller.sees(), &named)
            .await
            .map_err(read_failed)?
            .into_iter()
            .collect();
        for id in &named {
            let status = found.get(id).ok_or_else(|| {
                AppError::invalid_words(AFTER_FIELD, model::words::after_unknown(id))
            })?;
            if status.is_terminal() && !when.allows(*status) {
                return Err(AppError::words(
                    ErrorCode::Conflict,
                    model::words::after_never(id, status),
                ));
            }
        }
        Ok(Some(After {
            jobs: named,
            when,
            left: 0,
        }))
    }

    /// Where the jobs stand that each of the queued `jobs` waits for, for those that wait; the
    /// needs of them all read in one query.
    pub(super) async fn after_waits(
        &self,
        jobs: &[Job],
    ) -> Result<HashMap<JobId, AfterWait>, AppError> {
        let waiting: Vec<(&JobId, &After)> = jobs
            .iter()
            .filter(|j| j.status == JobStatus::Queued)
            .filter_map(|j| Some((&j.id, j.after.as_ref().filter(|a| a.waits())?)))
            .collect();
        if waiting.is_empty() {
            return Ok(HashMap::new());
        }
        let mut needs: Vec<JobId> = waiting
            .iter()
            .flat_map(|(_, after)| after.jobs.iter().cloned())
            .collect();
        needs.sort();
        needs.dedup();
        let statuses: HashMap<JobId, JobStatus> = self
            .inner
            .store
            .job_statuses(None, &needs)
            .await
            .map_err(read_failed)?
            .into_iter()
            .collect();
        Ok(waiting
            .into_iter()
            .map(|(id, after)| {
                // A need deleted since (its history pruned) had ended.
                let of_needs = after
                    .jobs
                    .iter()
                    .map(|need| statuses.get(need).copied().unwrap_or(JobStatus::Succeeded));
                (id.clone(), AfterWait::of(after.when, of_needs))
            })
            .collect())
    }
}
