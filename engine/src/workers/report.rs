//! A worker's reports on the jobs it holds: the body of an external job's report
//! ([`model::external::Report`]), for one attempt of a job claimed under the worker's id. Every
//! write is fenced by that id: once the job was taken back (the worker silent for longer than
//! the lease, disabled, or its token revoked), what it still sends is refused (409), and never
//! reaches the job's next attempt. A failed end is tried again where the kind allows, as on a
//! server.

use super::WorkToken;
use crate::bounds::Reporter;
use crate::children::WorkerChildren;
use crate::failures::{read_failed, write_failed};
use crate::jobs::external::{check_report, lines_missing, reported_end};
use crate::retries::{next_attempt, Tries};
use crate::store::{ExternalReport, RemoteRow, Reported};
use crate::{now_ms, Jobs};
use model::external::{Report, ReportReply};
use model::{AppError, ErrorCode, JobId, JobStatus, ParamType, UserId};

impl Jobs {
    /// Writes what the worker `worker` reported on attempt `attempt` of job `id`: 404 for a job
    /// that is not of the worker's kinds, 409 for an attempt that is no longer the worker's (or
    /// a worker taken for gone), 422 for a report that is not well formed (nothing written).
    pub async fn worker_report(
        &self,
        caller: &crate::Caller,
        worker: &str,
        id: &str,
        attempt: u32,
        report: Report,
    ) -> Result<ReportReply, AppError> {
        let token = &Self::work_token(caller)?;
        check_report(&report)?;
        let Held {
            worker, owner, job, ..
        } = self.held(token, worker, id, Some(attempt)).await?;
        let id = job.id.clone();
        self.take_report_budget(Reporter::WorkerToken(&token.id), &report)?;
        // Its children: of its token's own kinds, with the files it was given (its owner's
        // other files are not the worker's to pass on).
        let worker_children = (!report.children.is_empty()).then(|| WorkerChildren {
            token_id: token.id.clone(),
            files: self.held_files(&job),
        });
        let children = self
            .start_reported_children(&owner, &id, worker_children, report.children.clone())
            .await?;
        let progress = crate::jobs::external::merged_progress(&job.progress, &report);
        // A failed end goes through the kind's retries, as a server's run does.
        let mut again = None;
        let end = match report.end.map(reported_end) {
            Some((JobStatus::Failed, Some(error))) => {
                match next_attempt(&self.inner.kinds, &Tries::from(&job), &error) {
                    Some(wait_ms) => {
                        again = Some((error, wait_ms));
                        None
                    }
                    None => Some((JobStatus::Failed, Some(error))),
                }
            }
            other => other,
        };
        let ends = end.is_some() || again.is_some();
        let reported = self
            .inner
            .committer
            .report(ExternalReport {
                owner: owner.clone(),
                job_id: id.clone(),
                bounds: Default::default(),
                log: report.log,
                progress,
                result: report.result,
                end,
                lease_until: now_ms(),
                fence: Some(worker.id.clone()),
            })
            .await
            .map_err(|e| write_failed("store a worker's report", e))?;
        let reply = match reported {
            Reported::Taken {
                acked,
                mut status,
                event_id,
            } => {
                if let Some((error, wait_ms)) = again {
                    let retried = self
                        .inner
                        .committer
                        .retry(&owner, &id, error, wait_ms, true, Some(worker.id.clone()))
                        .await
                        .map_err(|e| write_failed("queue a job for another attempt", e))?;
                    match retried {
                        Some(job) => status = job.status,
                        None => return Err(taken_back(&job)),
                    }
                }
                ReportReply {
                    acked,
                    status,
                    event_id,
                    children,
                }
            }
            Reported::Gap { acked } => return Err(lines_missing(acked)),
            Reported::NotRunning => return Err(taken_back(&job)),
        };
        if ends && !reply.status.is_active() && self.inner.kinds.takes(&job.kind, ParamType::Secret)
        {
            // It will not run again: its secrets go.
            crate::commands::secrets::forget(&self.inner.blobs, &id).await;
        }
        Ok(reply)
    }
}

/// A job a worker holds, as a request of the worker finds it.
pub(crate) struct Held {
    pub(crate) worker: RemoteRow,
    pub(crate) owner: UserId,
    pub(crate) job: model::Job,
}

impl Jobs {
    /// The job `id` the worker `worker` holds (at `attempt`, when given): 404 for a job that
    /// is not of the worker's kinds, 409 for one it no longer holds, or a worker taken for
    /// gone.
    pub(crate) async fn held(
        &self,
        token: &WorkToken,
        worker: &str,
        id: &str,
        attempt: Option<u32>,
    ) -> Result<Held, AppError> {
        // A worker taken for gone had its jobs taken back: what it still says is too late.
        let worker = self.worker_of(token, worker).await.map_err(|_| {
            AppError::new(
                ErrorCode::Conflict,
                "this worker was taken for gone (no poll within its lease, disabled, or its \
                 token revoked): its jobs were taken back; stop them and register again",
            )
        })?;
        let not_yours = || AppError::new(ErrorCode::NotFound, "no such job among this worker's");
        let id = JobId::parse(id).map_err(|_| not_yours())?;
        let Some(found) = self
            .inner
            .store
            .claimed_job(&id)
            .await
            .map_err(read_failed)?
        else {
            return Err(not_yours());
        };
        let commands = self
            .inner
            .remotes
            .parsed
            .read(&worker.commands)
            .map_err(|_| not_yours())?;
        // Its kind must be one the worker's token owns: a registration of another token's
        // never reaches that token's jobs.
        let owned = self.inner.remotes.owners.get(&found.job.kind);
        let declares = commands.iter().any(|c| c.info.name == found.job.kind);
        if !declares || owned.is_none_or(|o| o.token_id != token.id) {
            return Err(not_yours());
        }
        let holds = found.claimed_by.as_ref() == Some(&worker.id)
            && attempt.is_none_or(|a| a == found.job.attempt)
            && matches!(found.job.status, JobStatus::Running | JobStatus::Cancelling);
        if !holds {
            return Err(taken_back(&found.job));
        }
        Ok(Held {
            worker,
            owner: found.owner,
            job: found.job,
        })
    }
}

/// 409 for a report on an attempt the worker no longer holds.
fn taken_back(job: &model::Job) -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        format!(
            "this attempt is no longer this worker's: the job was taken back (it is {} now, on \
             attempt {}); stop it and send nothing more for it",
            job.status, job.attempt
        ),
    )
}
