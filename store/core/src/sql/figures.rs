//! The figures of the queue and of the jobs: counts by status and by kind, the chart of
//! finished jobs, where queued jobs stand, what runs and what ended, the paused kinds.

use super::{count, json_list, on_pool, read_err, SqlBackend};
use crate::{
    failure_groups, kind_counts, now_ms, status_counts, FailureGroupRow, FailureGroupsQuery,
    FigureReads, FinishedJob, KindCount, QueueStanding, RunningJob, StoreResult, FINISHED_SAMPLE,
    QUEUE_LOOKAHEAD, RUNNING, WORKING,
};
use async_trait::async_trait;
use model::{FailureGroup, JobId, KindPause, MinuteStats, StatusCount, UserId};

#[async_trait]
impl<T: SqlBackend> FigureReads for T {
    async fn failure_groups(
        &self,
        owner: Option<&UserId>,
        since: i64,
        limit: u32,
    ) -> StoreResult<Vec<FailureGroup>> {
        let owner = owner.map(UserId::as_str);
        let rows: Vec<FailureGroupRow> = on_pool!(self.pool(), p => {
            FailureGroupsQuery::new(owner, since, limit)
                .query
                .build_query_as()
                .fetch_all(p)
                .await
        })
        .map_err(read_err("grouping failed jobs"))?;
        failure_groups(rows)
    }

    async fn status_counts(
        &self,
        owner: Option<&UserId>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<StatusCount>> {
        // `job_counts` is kept exact by the database itself (triggers), a handful of rows. A
        // workflow run counts once: its steps (`nested`) are not counted apart.
        const ANYONES: &str = "SELECT status, CAST(SUM(n) AS BIGINT) FROM job_counts \
             WHERE NOT nested AND (CAST($1 AS TEXT) IS NULL OR kind = $1) GROUP BY status";
        const OWNERS: &str = "SELECT status, CAST(SUM(n) AS BIGINT) FROM job_counts \
             WHERE owner = $2 AND NOT nested AND (CAST($1 AS TEXT) IS NULL OR kind = $1) \
             GROUP BY status";
        let rows: Vec<(String, i64)> = on_pool!(self.pool(), p => match owner {
            Some(owner) => sqlx::query_as(OWNERS).bind(kind).bind(owner.as_str()),
            None => sqlx::query_as(ANYONES).bind(kind),
        }
        .fetch_all(p)
        .await)
        .map_err(read_err("counting jobs"))?;
        Ok(status_counts(rows))
    }

    async fn finished_per_minute(
        &self,
        owner: Option<&UserId>,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<MinuteStats>> {
        const ANYONES: &str = "SELECT (finished_at - $1) / 60000, COUNT(*), \
               COUNT(*) FILTER (WHERE status <> 'succeeded'), \
               CAST(AVG(finished_at - started_at) AS DOUBLE PRECISION), \
               MAX(finished_at - started_at) \
             FROM jobs WHERE finished_at >= $1 AND finished_at < $2 GROUP BY 1 ORDER BY 1";
        const OWNERS: &str = "SELECT (finished_at - $1) / 60000, COUNT(*), \
               COUNT(*) FILTER (WHERE status <> 'succeeded'), \
               CAST(AVG(finished_at - started_at) AS DOUBLE PRECISION), \
               MAX(finished_at - started_at) \
             FROM jobs WHERE owner = $3 AND finished_at >= $1 AND finished_at < $2 \
             GROUP BY 1 ORDER BY 1";
        type Minute = (i64, i64, i64, Option<f64>, Option<i64>);
        let rows: Vec<Minute> = on_pool!(self.pool(), p => match owner {
            Some(owner) => sqlx::query_as(OWNERS).bind(since).bind(until).bind(owner.as_str()),
            None => sqlx::query_as(ANYONES).bind(since).bind(until),
        }
        .fetch_all(p)
        .await)
        .map_err(read_err("reading the chart"))?;
        Ok(rows
            .into_iter()
            .map(
                |(minute, finished, unsuccessful, avg_run, max_run)| MinuteStats {
                    start: since + minute * 60_000,
                    finished: count(finished),
                    unsuccessful: count(unsuccessful),
                    avg_run_ms: avg_run.map(|a| a.max(0.0) as u64),
                    max_run_ms: max_run.map(count),
                },
            )
            .collect())
    }

    async fn unfinished_by_kind(&self) -> StoreResult<Vec<KindCount>> {
        let rows: Vec<(String, String, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT kind, status, CAST(SUM(n) AS BIGINT) FROM job_counts \
                 WHERE status IN ('queued', 'running', 'cancelling') GROUP BY kind, status",
            )
            .fetch_all(p)
            .await
        })
        .map_err(read_err("counting unfinished jobs"))?;
        Ok(kind_counts(rows))
    }

    async fn running_jobs(&self) -> StoreResult<Vec<RunningJob>> {
        // The running jobs through `jobs_active`, not a read of every job: [`crate::RUNNING`].
        let sql = format!("SELECT kind, started_at, current, total FROM jobs WHERE {RUNNING}");
        let rows: Vec<(String, Option<i64>, i64, Option<i64>)> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql).fetch_all(p).await
        })
        .map_err(read_err("reading the running jobs"))?;
        Ok(rows
            .into_iter()
            .map(|(kind, started_at, current, total)| RunningJob {
                kind,
                started_at,
                current,
                total,
            })
            .collect())
    }

    async fn finished_since(&self, since: i64) -> StoreResult<Vec<FinishedJob>> {
        let rows: Vec<(String, String, Option<i64>, Option<i64>)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT kind, status, started_at - created_at, finished_at - started_at \
                 FROM jobs WHERE finished_at >= $1 ORDER BY finished_at DESC LIMIT $2",
            )
            .bind(since)
            .bind(FINISHED_SAMPLE)
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading the jobs that ended"))?;
        Ok(rows
            .into_iter()
            .map(|(kind, status, queued_ms, ran_ms)| FinishedJob {
                kind,
                status,
                queued_ms,
                ran_ms,
            })
            .collect())
    }

    async fn queued_count(&self, user: &UserId) -> StoreResult<u64> {
        let n: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE owner = $1 AND status = 'queued'")
                .bind(user.as_str())
                .fetch_one(p)
                .await
        })
        .map_err(read_err("counting a user's queued jobs"))?;
        Ok(count(n))
    }

    async fn queue_standings(&self, ids: &[JobId]) -> StoreResult<Vec<Option<QueueStanding>>> {
        // A job's level is its priority with aging (up to the highest priority waiting), and
        // each user's `n`-th waiting job, by rank, takes its turn after the jobs they run, as
        // claims give slots ([`crate::FairPick`]); the jobs asked about, and the first ones of
        // the queue for the kinds ahead.
        let sql = format!(
            "WITH running AS ( \
               SELECT owner, COUNT(*) AS n FROM jobs WHERE {WORKING} GROUP BY owner \
             ), queued AS ( \
               SELECT j.id, j.kind, j.seq, j.priority, COALESCE(j.rank, j.created_at) AS rank, \
                 ROW_NUMBER() OVER (PARTITION BY j.owner ORDER BY j.rank, j.seq) - 1 \
                   + COALESCE(r.n, 0) AS turn \
               FROM jobs j LEFT JOIN running r ON r.owner = j.owner \
               WHERE j.status = 'queued' AND (j.run_after IS NULL OR j.run_after <= $3) \
                 AND j.needs_left = 0 \
                 AND NOT EXISTS (SELECT 1 FROM kind_pauses p WHERE p.kind IN (j.kind, '*')) \
             ), levelled AS ( \
               SELECT q.id, q.kind, q.seq, q.rank, q.turn, \
                 CASE WHEN ($3 - q.rank) / $4 > t.top THEN t.top ELSE ($3 - q.rank) / $4 END \
                   AS level \
               FROM queued q CROSS JOIN (SELECT MAX(priority) AS top FROM queued) t \
             ), ranked AS ( \
               SELECT id, kind, \
                 ROW_NUMBER() OVER (ORDER BY level DESC, turn, rank, seq) - 1 AS ahead, \
                 ROW_NUMBER() OVER (PARTITION BY kind ORDER BY level DESC, turn, rank, seq) - 1 \
                   AS ahead_of_kind \
               FROM levelled \
             ) \
             SELECT id, kind, ahead, ahead_of_kind FROM ranked \
             WHERE id IN ({ids}) OR ahead < $2 ORDER BY ahead",
            ids = self.pool().dialect().list(1)
        );
        let rows: Vec<(String, String, i64, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(json_list(ids))
                .bind(QUEUE_LOOKAHEAD)
                .bind(now_ms())
                .bind(model::Priority::AGING_MS)
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading jobs' places in the queue"))?;
        Ok(QueueStanding::of(ids, rows))
    }

    async fn next_start(&self) -> StoreResult<Option<i64>> {
        on_pool!(self.pool(), p => {
            sqlx::query_scalar(
                "SELECT MIN(run_after) FROM jobs WHERE status = 'queued' AND run_after > $1",
            )
            .bind(now_ms())
            .fetch_one(p)
            .await
        })
        .map_err(read_err("reading when the next waiting job is due"))
    }

    async fn kind_pauses(&self) -> StoreResult<Vec<KindPause>> {
        let rows: Vec<(String, String, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT kind, paused_by, paused_at FROM kind_pauses ORDER BY kind")
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading the paused kinds"))?;
        Ok(rows
            .into_iter()
            .map(|(kind, paused_by, paused_at)| KindPause {
                kind,
                paused_by,
                paused_at,
            })
            .collect())
    }

    async fn set_limits(&self) -> StoreResult<Vec<crate::limits::SetLimit>> {
        let rows: Vec<(String, String, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(crate::limits::SET_LIMITS).fetch_all(p).await
        })
        .map_err(read_err("reading the limits set at run time"))?;
        Ok(crate::limits::set_limits(rows))
    }

    async fn running_params(&self, kind: &str) -> StoreResult<Vec<(String, String)>> {
        let sql = format!("SELECT owner, params FROM jobs WHERE {WORKING} AND kind = $1");
        on_pool!(self.pool(), p => {
            sqlx::query_as(&sql).bind(kind).fetch_all(p).await
        })
        .map_err(read_err("reading the running jobs' keys"))
    }

    async fn limit_uses(
        &self,
        signature: &str,
        since: i64,
    ) -> StoreResult<Vec<(String, u32, i64)>> {
        let rows: Vec<(String, i64, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT key, COUNT(*), MIN(at) FROM limit_uses \
                 WHERE signature = $1 AND at >= $2 GROUP BY key",
            )
            .bind(signature)
            .bind(since)
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading a rate limit's starts"))?;
        Ok(rows
            .into_iter()
            .map(|(key, n, oldest)| (key, count(n).min(u32::MAX as u64) as u32, oldest))
            .collect())
    }
}
