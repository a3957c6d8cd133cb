//! Jobs' logs read back: the tail, a page after a line, a search.

use super::{count, on_pool, read_err, SqlBackend};
use crate::{stored_id, LogReads, StoreResult};
use async_trait::async_trait;
use model::{JobId, LogFilter, LogLevel, LogLine};

/// A `job_logs` row: job, seq, level, line, at, attempt.
type LineRow = (String, i64, String, String, i64, i64);

fn log_line((job_id, seq, level, line, at, attempt): LineRow) -> StoreResult<LogLine> {
    Ok(LogLine {
        job_id: stored_id(job_id)?,
        seq: count(seq),
        level: LogLevel::parse(&level).unwrap_or_default(),
        line,
        at,
        attempt: attempt.clamp(1, u32::MAX as i64) as u32,
    })
}

#[async_trait]
impl<T: SqlBackend> LogReads for T {
    async fn log_tail(&self, job_id: &JobId, limit: u32) -> StoreResult<(Vec<LogLine>, u64)> {
        let total: Option<i64> = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT log_seq FROM jobs WHERE id = $1")
                .bind(job_id.as_str())
                .fetch_optional(p)
                .await
        })
        .map_err(read_err("counting log lines"))?;
        let total = count(total.unwrap_or(0));
        let after = total.saturating_sub(limit as u64);
        Ok((self.log_lines(job_id, after, limit).await?, total))
    }

    async fn log_lines(&self, job_id: &JobId, after: u64, limit: u32) -> StoreResult<Vec<LogLine>> {
        let after = after.min(i64::MAX as u64) as i64;
        let rows: Vec<LineRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT job_id, seq, level, line, at, attempt FROM job_logs \
                 WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(job_id.as_str())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading log lines"))?;
        rows.into_iter().map(log_line).collect()
    }

    async fn log_search(
        &self,
        job_id: &JobId,
        filter: &LogFilter,
        limit: u32,
    ) -> StoreResult<(Vec<LogLine>, u64)> {
        // `$2`: the lowest level shown (0 every line, 1 warnings and errors, 2 errors);
        // `$3`: a `LIKE` pattern, or NULL.
        let filtered = format!(
            "FROM job_logs WHERE job_id = $1 \
               AND ($2 = 0 OR ($2 = 1 AND level IN ('warn', 'error')) OR ($2 = 2 AND level = 'error')) \
               AND (CAST($3 AS TEXT) IS NULL OR line {} $3 ESCAPE '\\')",
            self.pool().dialect().like()
        );
        let counting = format!("SELECT COUNT(*) {filtered}");
        let reading = format!(
            "SELECT job_id, seq, level, line, at, attempt {filtered} ORDER BY seq DESC LIMIT $4"
        );
        let rank = filter.min_rank();
        let pattern = filter.q.as_deref().map(crate::like_pattern);
        let fail = read_err("searching a log");
        let matching: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar(&counting)
                .bind(job_id.as_str())
                .bind(rank)
                .bind(pattern.as_deref())
                .fetch_one(p)
                .await
        })
        .map_err(&fail)?;
        let rows: Vec<LineRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(&reading)
                .bind(job_id.as_str())
                .bind(rank)
                .bind(pattern.as_deref())
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
        })
        .map_err(&fail)?;
        let mut lines = rows
            .into_iter()
            .map(log_line)
            .collect::<StoreResult<Vec<LogLine>>>()?;
        lines.reverse();
        Ok((lines, count(matching)))
    }
}
