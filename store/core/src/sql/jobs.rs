//! Jobs read back: one job, a stream's snapshot, a page of the history, the jobs a process
//! that is gone left running, external jobs' leases and tokens.

use super::{count, json_list, on_pool, read_err, SqlBackend};
use crate::rows::job_columns;
use crate::{
    stored_id, stored_opt_id, stored_status, HistoryQuery, JobFilter, JobReads, JobRow, Orphan,
    OrphanRow, StoreResult, JOB_COLUMNS, RUNNING,
};
use async_trait::async_trait;
use model::{Job, JobId, JobStatus, UserId};

#[async_trait]
impl<T: SqlBackend> JobReads for T {
    async fn job(&self, owner: Option<&UserId>, id: &JobId) -> StoreResult<Option<Job>> {
        const ANYONES: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");
        const OWNERS: &str = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE id = $1 AND owner = $2"
        );
        let row: Option<JobRow> = on_pool!(self.pool(), p => match owner {
            Some(owner) => sqlx::query_as(OWNERS).bind(id.as_str()).bind(owner.as_str()),
            None => sqlx::query_as(ANYONES).bind(id.as_str()),
        }
        .fetch_optional(p)
        .await)
        .map_err(read_err("reading a job"))?;
        row.map(Job::try_from).transpose()
    }

    async fn job_owner(&self, id: &JobId) -> StoreResult<Option<UserId>> {
        let owner: Option<String> = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT owner FROM jobs WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(p)
                .await
        })
        .map_err(read_err("reading a job's owner"))?;
        stored_opt_id(owner)
    }

    async fn snapshot_jobs(&self, owner: Option<&UserId>, recent: u32) -> StoreResult<Vec<Job>> {
        // The unfinished jobs and the `recent` latest: each half reads its own index.
        const ANYONES: &str = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE seq IN ( \
               SELECT seq FROM jobs WHERE status IN ('queued', 'running', 'cancelling') \
               UNION \
               SELECT seq FROM (SELECT seq FROM jobs ORDER BY seq DESC LIMIT $1) recent \
             ) ORDER BY seq DESC"
        );
        const OWNERS: &str = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE seq IN ( \
               SELECT seq FROM jobs WHERE owner = $2 \
                 AND status IN ('queued', 'running', 'cancelling') \
               UNION \
               SELECT seq FROM (SELECT seq FROM jobs WHERE owner = $2 \
                 ORDER BY seq DESC LIMIT $1) recent \
             ) ORDER BY seq DESC"
        );
        let recent = i64::from(recent);
        let rows: Vec<JobRow> = on_pool!(self.pool(), p => match owner {
            Some(owner) => sqlx::query_as(OWNERS).bind(recent).bind(owner.as_str()),
            None => sqlx::query_as(ANYONES).bind(recent),
        }
        .fetch_all(p)
        .await)
        .map_err(read_err("reading a snapshot"))?;
        rows.into_iter().map(Job::try_from).collect()
    }

    async fn list_jobs(&self, owner: Option<&UserId>, filter: &JobFilter) -> StoreResult<Vec<Job>> {
        let owner = owner.map(UserId::as_str);
        let dialect = self.pool().dialect();
        on_pool!(self.pool(), p => {
            let mut history = HistoryQuery::new(owner, filter, dialect);
            let rows: Vec<JobRow> = history
                .query
                .build_query_as()
                .fetch_all(p)
                .await
                .map_err(read_err("listing jobs"))?;
            history.jobs(rows)
        })
    }

    async fn count_jobs(&self, sees: Option<&UserId>, ids: &[JobId]) -> StoreResult<u64> {
        let sql = format!(
            "SELECT COUNT(*) FROM jobs WHERE id IN ({}) \
             AND (CAST($2 AS TEXT) IS NULL OR owner = $2)",
            self.pool().dialect().list(1)
        );
        let n: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar(&sql)
                .bind(json_list(ids))
                .bind(sees.map(UserId::as_str))
                .fetch_one(p)
                .await
        })
        .map_err(read_err("counting jobs"))?;
        Ok(count(n))
    }

    async fn job_statuses(
        &self,
        sees: Option<&UserId>,
        ids: &[JobId],
    ) -> StoreResult<Vec<(JobId, JobStatus)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, status FROM jobs WHERE id IN ({}) \
             AND (CAST($2 AS TEXT) IS NULL OR owner = $2)",
            self.pool().dialect().list(1)
        );
        let rows: Vec<(String, String)> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(json_list(ids))
                .bind(sees.map(UserId::as_str))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading jobs' statuses"))?;
        rows.into_iter()
            .map(|(id, status)| Ok((stored_id(id)?, stored_status(&status))))
            .collect()
    }

    async fn checkpoint(&self, job_id: &JobId) -> StoreResult<Option<serde_json::Value>> {
        let saved: Option<Option<String>> = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT checkpoint FROM jobs WHERE id = $1")
                .bind(job_id.as_str())
                .fetch_optional(p)
                .await
        })
        .map_err(read_err("reading a checkpoint"))?;
        Ok(saved.flatten().and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn run_plan(&self, job_id: &JobId) -> StoreResult<Option<String>> {
        let plan: Option<Option<String>> = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT plan FROM jobs WHERE id = $1")
                .bind(job_id.as_str())
                .fetch_optional(p)
                .await
        })
        .map_err(read_err("reading a run's plan"))?;
        Ok(plan.flatten())
    }

    /// An external job (the one with a report token) and a workflow run's job (the one with a
    /// plan) are claimed by no process: never orphans.
    async fn orphaned_jobs(&self) -> StoreResult<Vec<Orphan>> {
        // The running jobs through `jobs_active`, not a read of every job: [`crate::RUNNING`].
        let sql = format!(
            "SELECT owner, claimed_by, {JOB_COLUMNS} FROM jobs WHERE {RUNNING} \
               AND report_hash IS NULL AND plan IS NULL \
               AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM processes)) \
             ORDER BY seq"
        );
        let rows: Vec<OrphanRow> =
            on_pool!(self.pool(), p => sqlx::query_as(&sql).fetch_all(p).await)
                .map_err(read_err("reading orphaned jobs"))?;
        rows.into_iter().map(Orphan::try_from).collect()
    }

    async fn expired_leases(&self, now: i64, limit: u32) -> StoreResult<Vec<(UserId, JobId)>> {
        let rows: Vec<(String, String)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT owner, id FROM jobs WHERE lease_until IS NOT NULL AND lease_until < $1 \
                   AND status IN ('running', 'cancelling') \
                 ORDER BY lease_until LIMIT $2",
            )
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading external jobs' leases"))?;
        rows.into_iter()
            .map(|(owner, id)| Ok((stored_id(owner)?, stored_id(id)?)))
            .collect()
    }

    async fn report_hash(&self, id: &JobId) -> StoreResult<Option<(UserId, String)>> {
        let row: Option<(String, Option<String>)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT owner, report_hash FROM jobs WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(p)
            .await
        })
        .map_err(read_err("reading a report token"))?;
        match row {
            Some((owner, Some(hash))) => Ok(Some((stored_id(owner)?, hash))),
            _ => Ok(None),
        }
    }
}
