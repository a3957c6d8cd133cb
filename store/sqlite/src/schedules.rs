//! Reading schedules (they are written by the writer, as changes: a fire and the job it starts
//! commit together).

use crate::{read_err, SqliteStore};
use async_trait::async_trait;
use model::{ScheduleId, UserId};
use store_core::{schedule_row, ScheduleRow, ScheduleStore, StoreResult};

/// `SELECT <schedule columns, with the owner's name> FROM schedules s <tail>` as a
/// compile-checked query.
macro_rules! select_schedules {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query!(r#"SELECT s.id, s.owner, u.name AS "owner_name?", s.name, s.kind, s.params, s.cron,
                      s.timezone, s.enabled AS "enabled: bool", s.overlap, s.catch_up, s.max_attempts,
                      s.next_fire_at, s.last_job_id, s.last_fire_at, s.last_skip, s.created_at,
                      s.updated_at
                      FROM schedules s LEFT JOIN users u ON u.id = s.owner "# + $tail $(, $arg)*)
    };
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn schedules(&self, owner: Option<&UserId>) -> StoreResult<Vec<ScheduleRow>> {
        let owner = owner.map(UserId::as_str);
        let rows = select_schedules!(
            "WHERE ?1 IS NULL OR s.owner = ?1 ORDER BY s.created_at, s.id",
            owner
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading schedules"))?;
        Ok(rows.into_iter().map(|r| schedule_row!(r)).collect())
    }

    async fn schedule(&self, id: &ScheduleId) -> StoreResult<Option<ScheduleRow>> {
        let id = id.as_str();
        let row = select_schedules!("WHERE s.id = ?", id)
            .fetch_optional(&self.pool)
            .await
            .map_err(read_err("reading a schedule"))?;
        Ok(row.map(|r| schedule_row!(r)))
    }

    async fn schedule_count(&self, owner: &UserId) -> StoreResult<u64> {
        let owner = owner.as_str();
        let n = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM schedules WHERE owner = ?"#,
            owner
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("counting schedules"))?;
        Ok(n.max(0) as u64)
    }

    async fn due_schedules(&self, now: i64, limit: u32) -> StoreResult<Vec<ScheduleRow>> {
        let rows = select_schedules!(
            "WHERE s.enabled = 1 AND s.next_fire_at <= ? ORDER BY s.next_fire_at LIMIT ?",
            now,
            limit
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read_err("reading the schedules that are due"))?;
        Ok(rows.into_iter().map(|r| schedule_row!(r)).collect())
    }

    async fn next_fire(&self) -> StoreResult<Option<i64>> {
        sqlx::query_scalar!(
            r#"SELECT MIN(next_fire_at) AS "next: i64" FROM schedules WHERE enabled = 1"#
        )
        .fetch_one(&self.pool)
        .await
        .map_err(read_err("reading when the next schedule fires"))
    }
}
