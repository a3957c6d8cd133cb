//! Bulk actions: cancel or re-run many of the caller's jobs at once, named by id or by a history
//! filter. Each job is handled as a single action would handle it, so only jobs the caller may
//! act on are touched, and each one's result says what became of it. A re-run must fit the
//! caller's share of the queue whole (see [`crate::shares`]).

use super::Jobs;
use crate::caller::Caller;
use crate::failures::read_failed;
use model::bulk::{BulkAnswer, BulkRequest, BulkResult, MAX_BULK, MAX_BULK_IDS};
use model::{AppError, ErrorCode, HistoryQuery, Job, JobId};

/// Jobs read per page while a filter is resolved.
const PAGE: u32 = 500;

/// One job a bulk request names: the id as it was named, and the job id it is (`None`: it is
/// no job id, and names no job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkTarget {
    pub named: String,
    pub id: Option<JobId>,
}

impl Jobs {
    /// Requests cancellation of every job `request` names.
    pub async fn bulk_cancel(
        &self,
        caller: &Caller,
        request: &BulkRequest,
    ) -> Result<BulkAnswer, AppError> {
        caller.may_act()?;
        let targets = self.bulk_targets(caller, request).await?;
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let result = match &target.id {
                Some(id) => self.cancel(caller, id).await,
                None => Err(AppError::not_found()),
            };
            results.push(outcome(target.named, result));
        }
        Ok(BulkAnswer::of(results))
    }

    /// Starts a new job like each job `request` names (see [`Jobs::rerun`]).
    pub async fn bulk_rerun(
        &self,
        caller: &Caller,
        request: &BulkRequest,
    ) -> Result<BulkAnswer, AppError> {
        caller.may_act()?;
        caller.may_start()?;
        let targets = self.bulk_targets(caller, request).await?;
        // The whole re-run must fit the caller's share of the queue, or none of it starts.
        self.check_room(caller, targets.len() as u64).await?;
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let result = match &target.id {
                Some(id) => self.rerun(caller, id).await,
                None => Err(AppError::not_found()),
            };
            results.push(outcome(target.named, result));
        }
        Ok(BulkAnswer::of(results))
    }

    /// How many jobs `request` names that the caller may see: what a bulk action's
    /// confirmation counts before it is done. One query, however many ids it names.
    pub async fn bulk_preview(
        &self,
        caller: &Caller,
        request: &BulkRequest,
    ) -> Result<usize, AppError> {
        let targets = self.bulk_targets(caller, request).await?;
        if request.filter.is_some() {
            // Read from the caller's own history: every one is theirs to act on.
            return Ok(targets.len());
        }
        // Ids of jobs that are not the caller's count for nothing, nor do strings that are no
        // job id.
        let targets: Vec<JobId> = targets.into_iter().filter_map(|t| t.id).collect();
        let n = self
            .inner
            .store
            .count_jobs(caller.sees(), &targets)
            .await
            .map_err(read_failed)?;
        Ok(n as usize)
    }

    /// The jobs `request` names: its `ids` (each once, in order), or every one of the caller's
    /// jobs its `filter` matches, newest first. At most [`MAX_BULK_IDS`] ids, or [`MAX_BULK`]
    /// jobs through a filter.
    pub async fn bulk_targets(
        &self,
        caller: &Caller,
        request: &BulkRequest,
    ) -> Result<Vec<BulkTarget>, AppError> {
        match (&request.ids, &request.filter) {
            (Some(ids), None) => {
                if ids.is_empty() {
                    return Err(AppError::words(
                        ErrorCode::InvalidParams,
                        model::words::authority::bulk_no_ids(),
                    ));
                }
                if ids.len() > MAX_BULK_IDS {
                    return Err(AppError::new(
                        ErrorCode::InvalidParams,
                        format!("{} ids: at most {MAX_BULK_IDS} at once; a filter can name up to {MAX_BULK}", ids.len()),
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                Ok(ids
                    .iter()
                    .filter(|id| seen.insert(id.as_str()))
                    .map(|id| BulkTarget {
                        named: id.clone(),
                        id: JobId::parse(id).ok(),
                    })
                    .collect())
            }
            (None, Some(filter)) => {
                let mut query = HistoryQuery {
                    status: filter.status.clone(),
                    kind: filter.kind.clone(),
                    schedule: filter.schedule.clone(),
                    parent: filter.parent.clone(),
                    q: filter.q.clone(),
                    error: None,
                    before: None,
                    after: None,
                    limit: Some(PAGE),
                };
                let mut ids = Vec::new();
                loop {
                    let page = self.history_page(caller, &query).await?;
                    ids.extend(page.jobs.into_iter().map(|j| BulkTarget {
                        named: j.id.to_string(),
                        id: Some(j.id),
                    }));
                    if ids.len() > MAX_BULK {
                        return Err(too_many(ids.len()));
                    }
                    match page.next {
                        Some(next) => query.before = Some(next),
                        None => return Ok(ids),
                    }
                }
            }
            _ => Err(AppError::bad_request(
                "give either `ids` or `filter`, not both",
            )),
        }
    }
}

fn too_many(n: usize) -> AppError {
    AppError::new(
        ErrorCode::InvalidParams,
        format!(
            "{}{n} jobs: at most {MAX_BULK} at once; narrow the filter",
            if n > MAX_BULK { "more than " } else { "" }
        ),
    )
}

pub(super) fn outcome(id: String, result: Result<Job, AppError>) -> BulkResult {
    match result {
        Ok(job) => BulkResult {
            id,
            done: true,
            job: Some(job),
            error: None,
        },
        Err(e) => BulkResult {
            id,
            done: false,
            job: None,
            error: Some(e),
        },
    }
}
