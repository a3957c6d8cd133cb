//! Schedules read back (they are written by the writer, as changes: a fire and the job it
//! starts commit together).

use super::{count, on_pool, read_err, SqlBackend};
use crate::{stored_id, stored_opt_id, ScheduleRow, ScheduleStore, StoreError, StoreResult};
use async_trait::async_trait;
use model::{ScheduleId, UserId};

/// `SELECT <a schedule's columns, with its owner's name> FROM schedules s <tail>`.
macro_rules! select_schedules {
    ($tail:literal) => {
        concat!(
            "SELECT s.id, s.owner, u.name AS owner_name, s.name, s.kind, s.params, s.cron, s.timezone, \
               s.enabled, s.overlap, s.catch_up, s.max_attempts, s.next_fire_at, s.last_job_id, \
               s.last_fire_at, s.last_skip, s.created_at, s.updated_at, s.priority \
             FROM schedules s LEFT JOIN users u ON u.id = s.owner ",
            $tail
        )
    };
}

/// A row of [`select_schedules!`].
#[derive(sqlx::FromRow)]
struct Columns {
    id: String,
    owner: String,
    owner_name: Option<String>,
    name: Option<String>,
    kind: String,
    params: String,
    cron: String,
    timezone: String,
    enabled: bool,
    overlap: String,
    catch_up: String,
    max_attempts: Option<i64>,
    next_fire_at: Option<i64>,
    last_job_id: Option<String>,
    last_fire_at: Option<i64>,
    last_skip: Option<String>,
    created_at: i64,
    updated_at: i64,
    priority: Option<i64>,
}

impl TryFrom<Columns> for ScheduleRow {
    type Error = StoreError;

    fn try_from(r: Columns) -> StoreResult<ScheduleRow> {
        Ok(ScheduleRow {
            id: stored_id(r.id)?,
            owner: stored_id(r.owner)?,
            owner_name: r.owner_name,
            name: r.name,
            kind: r.kind,
            params: r.params,
            cron: r.cron,
            timezone: r.timezone,
            enabled: r.enabled,
            overlap: r.overlap,
            catch_up: r.catch_up,
            max_attempts: r.max_attempts,
            next_fire_at: r.next_fire_at,
            last_job_id: stored_opt_id(r.last_job_id)?,
            last_fire_at: r.last_fire_at,
            last_skip: r.last_skip,
            created_at: r.created_at,
            updated_at: r.updated_at,
            priority: r.priority.and_then(model::Priority::of_level),
        })
    }
}

#[async_trait]
impl<T: SqlBackend> ScheduleStore for T {
    async fn schedules(&self, owner: Option<&UserId>) -> StoreResult<Vec<ScheduleRow>> {
        const SQL: &str = select_schedules!(
            "WHERE CAST($1 AS TEXT) IS NULL OR s.owner = $1 ORDER BY s.created_at, s.id"
        );
        let rows: Vec<Columns> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL)
                .bind(owner.map(UserId::as_str))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading schedules"))?;
        rows.into_iter().map(ScheduleRow::try_from).collect()
    }

    async fn schedule(&self, id: &ScheduleId) -> StoreResult<Option<ScheduleRow>> {
        const SQL: &str = select_schedules!("WHERE s.id = $1");
        let row: Option<Columns> = on_pool!(self.pool(), p => {
            sqlx::query_as(SQL).bind(id.as_str()).fetch_optional(p).await
        })
        .map_err(read_err("reading a schedule"))?;
        row.map(ScheduleRow::try_from).transpose()
    }

    async fn schedule_count(&self, owner: &UserId) -> StoreResult<u64> {
        let n: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM schedules WHERE owner = $1")
                .bind(owner.as_str())
                .fetch_one(p)
                .await
        })
        .map_err(read_err("counting schedules"))?;
        Ok(count(n))
    }

    async fn due_schedules(&self, now: i64, limit: u32) -> StoreResult<Vec<ScheduleRow>> {
        let sql = format!(
            "{} WHERE {} AND s.next_fire_at <= $1 ORDER BY s.next_fire_at LIMIT $2",
            select_schedules!(""),
            self.pool().dialect().schedule_enabled()
        );
        let rows: Vec<Columns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading the schedules that are due"))?;
        rows.into_iter().map(ScheduleRow::try_from).collect()
    }

    async fn next_fire(&self) -> StoreResult<Option<i64>> {
        let sql = format!(
            "SELECT MIN(s.next_fire_at) FROM schedules s WHERE {}",
            self.pool().dialect().schedule_enabled()
        );
        on_pool!(self.pool(), p => sqlx::query_scalar(&sql).fetch_one(p).await)
            .map_err(read_err("reading when the next schedule fires"))
    }
}
