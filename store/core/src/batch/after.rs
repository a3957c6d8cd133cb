//! Continuations in a batch ([`model::after`]): a new job's needs read as it is inserted, and
//! the jobs waiting for a job settled in the transaction that ends it, for every backend.
//!
//! A need not ended yet has a row in `job_needs` per job waiting for it. The end of a job takes
//! its rows ([`BatchSql::take_waiting`]) and, for each job still waiting: one need fewer, and
//! at the last its rank in the queue ([`model::Job::rank_from`]); or, when the need ended in a
//! way the job's condition does not allow, the job ends `cancelled`, which settles the jobs
//! waiting for it in turn. Every batch of every process is one transaction after another
//! (SQLite's one writer, PostgreSQL's lock on event ids), so a job's wait ends once.

use super::{Batch, BatchSql};
use model::after::NEED_FAILED;
use model::{After, Job, JobError, JobId, JobStatus, UserId};

/// [`BatchSql::any_waiting`] in both databases' SQL: 1 if some job waits for another, else 0.
pub const ANY_WAITING: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM job_needs LIMIT 1) w";

/// [`BatchSql::need_status`] in both databases' SQL (`$1`: the job).
pub const NEED_STATUS: &str = "SELECT status FROM jobs WHERE id = $1";

/// [`BatchSql::wait_for`] in both databases' SQL (`$1`: the need, `$2`: the job waiting).
pub const WAIT_FOR: &str =
    "INSERT INTO job_needs (need_id, job_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

/// [`BatchSql::take_waiting`] in both databases' SQL (`$1`: the job that ended).
pub const TAKE_WAITING: &str = "DELETE FROM job_needs WHERE need_id = $1 RETURNING job_id";

/// [`BatchSql::waiting_job`] in both databases' SQL (`$1`: the job): its owner, claim and
/// columns.
pub const WAITING_JOB: &str = concat!(
    "SELECT owner, claimed_by, ",
    crate::rows::job_columns!(),
    " FROM jobs WHERE id = $1 AND status = 'queued' AND needs_left > 0"
);

/// [`BatchSql::need_met`] in both databases' SQL (`$1`: its rank once it waits for nothing,
/// `$2`: the event id, `$3`: the job).
pub const NEED_MET: &str = concat!(
    "UPDATE jobs SET needs_left = needs_left - 1, \
         rank = CASE WHEN needs_left = 1 THEN $1 ELSE rank END, event_id = $2 \
     WHERE id = $3 AND status = 'queued' AND needs_left > 0 RETURNING ",
    crate::rows::job_columns!()
);

/// What a new job's needs are when it is inserted.
pub(super) enum Needs {
    /// Every one is known: the job's `after.left` is set; the ones not ended yet are to be
    /// waited for, and `failed` is the first that ended in a way its condition does not allow.
    Known {
        waiting: Vec<JobId>,
        failed: Option<(JobId, JobStatus)>,
    },
    /// No job has this id.
    Unknown(JobId),
}

impl Batch {
    /// Reads where the jobs `job` starts after stand, and sets how many it waits for.
    pub(super) async fn needs<S: BatchSql>(
        &mut self,
        sql: &mut S,
        job: &mut Job,
    ) -> Result<Needs, S::Error> {
        let Some(after) = job.after.as_mut() else {
            return Ok(Needs::Known {
                waiting: Vec::new(),
                failed: None,
            });
        };
        let (mut waiting, mut failed) = (Vec::new(), None);
        for need in &after.jobs {
            match sql.need_status(need.as_str()).await? {
                None => return Ok(Needs::Unknown(need.clone())),
                Some(status) if status.is_active() => waiting.push(need.clone()),
                Some(status) if !after.when.allows(status) && failed.is_none() => {
                    failed = Some((need.clone(), status))
                }
                Some(_) => {}
            }
        }
        after.left = waiting.len() as u32;
        Ok(Needs::Known { waiting, failed })
    }

    /// Records that the new job `job_id` waits for `waiting`; or, when a need `failed`, ends it
    /// `cancelled` at once. The job as it is then.
    pub(super) async fn wait_for<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job: Job,
        needs: (Vec<JobId>, Option<(JobId, JobStatus)>),
        at: i64,
    ) -> Result<Job, S::Error> {
        let (waiting, failed) = needs;
        if let Some((need, status)) = failed {
            let cancelled = self
                .cancel_for_need(sql, owner, &job.id, (&need, status), at)
                .await?;
            return Ok(cancelled.unwrap_or(job));
        }
        for need in &waiting {
            sql.wait_for(need.as_str(), job.id.as_str()).await?;
        }
        if !waiting.is_empty() {
            self.any_waiting = Some(true);
        }
        Ok(job)
    }

    /// Settles the jobs waiting for the jobs this change ended, and for those it cancels in
    /// turn.
    pub(super) async fn settle<S: BatchSql>(
        &mut self,
        sql: &mut S,
        at: i64,
    ) -> Result<(), S::Error> {
        if self.ended.is_empty() {
            return Ok(());
        }
        if self.any_waiting.is_none() {
            self.any_waiting = Some(sql.any_waiting().await?);
        }
        if self.any_waiting == Some(false) {
            self.ended.clear();
            return Ok(());
        }
        while let Some((need, status)) = self.ended.pop() {
            for waiting in sql.take_waiting(need.as_str()).await? {
                // Cancelled or started meanwhile: nothing waits any more.
                let Some((owner, job)) = sql.waiting_job(&waiting).await? else {
                    continue;
                };
                let when = job.after.as_ref().map(|a| a.when).unwrap_or_default();
                if !when.allows(status) {
                    // Its end is pushed onto `ended`: the jobs waiting for it are settled next.
                    self.cancel_for_need(sql, &owner, &job.id, (&need, status), at)
                        .await?;
                    continue;
                }
                let event_id = self.take_id();
                let Some(mut job) = sql
                    .need_met(job.id.as_str(), job.rank_from(at), event_id)
                    .await?
                else {
                    self.next_id = event_id;
                    continue;
                };
                // A step of a run takes what the steps it needs left once they all ended; a
                // fan-out makes its items.
                let ready = job.after.as_ref().is_some_and(|a| a.left == 0);
                if ready && job.kind == model::workflows::WORKFLOW_KIND {
                    self.job_event::<S>(&owner, event_id, &job, at);
                    self.expand_group(sql, &owner, job, at).await?;
                    continue;
                }
                if let Some(run) = job.parent.clone().filter(|_| ready) {
                    if let Err(why) = self.render_step(sql, &run, &mut job).await? {
                        self.job_event::<S>(&owner, event_id, &job, at);
                        self.fail_step(sql, &owner, &job.id, why, at).await?;
                        continue;
                    }
                }
                self.job_event::<S>(&owner, event_id, &job, at);
            }
        }
        Ok(())
    }
}

impl Batch {
    /// Ends the queued job `job_id` `cancelled` because `need` ended `status`, which its
    /// condition does not allow; the job as it is then. Its end is pushed onto `ended`, so the
    /// jobs waiting for it are settled in turn.
    async fn cancel_for_need<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        (need, status): (&JobId, JobStatus),
        at: i64,
    ) -> Result<Option<Job>, S::Error> {
        let error = JobError::new(NEED_FAILED.to_string(), After::failed_message(need, status));
        self.move_job(
            sql,
            owner,
            job_id,
            JobStatus::Cancelled,
            Some(&error),
            None,
            at,
        )
        .await
    }
}
