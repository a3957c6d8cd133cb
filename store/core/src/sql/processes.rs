//! The processes sharing the database and the leases on work one of them does for all.
//! Heartbeats are the database's clock ([`super::Dialect::now_ms`]), so that processes on
//! machines whose clocks differ agree on who is late.

use super::{on_pool, read_err, SqlBackend};
use crate::{stored_id, ProcessRegistry, ProcessRow, StoreResult, REMOTE_ROLE};
use async_trait::async_trait;
use model::ProcessId;

type ProcessColumns = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
);

/// The columns of a process, in [`ProcessColumns`]'s order.
const COLUMNS: &str = "id, role, build, host, pid, started_at, heartbeat_at, tags, name";

fn process(
    (id, role, build, host, pid, started_at, heartbeat_at, tags, name): ProcessColumns,
) -> StoreResult<ProcessRow> {
    Ok(ProcessRow {
        id: stored_id(id)?,
        role,
        build,
        host,
        pid,
        started_at,
        heartbeat_at,
        name,
        // Stored comma-separated: a tag has no comma.
        tags: tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
    })
}

#[async_trait]
impl<T: SqlBackend> ProcessRegistry for T {
    async fn register(&self, p: &ProcessRow) -> StoreResult<ProcessRow> {
        let now = self.pool().dialect().now_ms();
        let sql = format!(
            "INSERT INTO processes (id, role, build, host, pid, started_at, heartbeat_at, tags) \
             VALUES ($1, $2, $3, $4, $5, {now}, {now}, $6) RETURNING {COLUMNS}"
        );
        let row: ProcessColumns = on_pool!(self.pool(), pool => {
            sqlx::query_as(&sql)
                .bind(p.id.as_str())
                .bind(&p.role)
                .bind(&p.build)
                .bind(&p.host)
                .bind(p.pid)
                .bind(p.tags.join(","))
                .fetch_one(pool)
                .await
        })
        .map_err(read_err("registering this process"))?;
        process(row)
    }

    async fn heartbeat(&self, id: &ProcessId) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE processes SET heartbeat_at = {} WHERE id = $1",
            self.pool().dialect().now_ms()
        );
        let done = on_pool!(self.pool(), p => {
            sqlx::query(&sql)
                .bind(id.as_str())
                .execute(p)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(read_err("refreshing the heartbeat"))?;
        Ok(done == 1)
    }

    async fn deregister(&self, id: &ProcessId) -> StoreResult<()> {
        on_pool!(self.pool(), p => {
            sqlx::query("DELETE FROM processes WHERE id = $1")
                .bind(id.as_str())
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("leaving the registry"))
    }

    async fn processes(&self) -> StoreResult<Vec<ProcessRow>> {
        let rows: Vec<ProcessColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM processes ORDER BY started_at, id"
            ))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading the processes"))?;
        rows.into_iter().map(process).collect()
    }

    /// On a database one server keeps to itself, every other process registered is gone,
    /// whatever its heartbeat (the lock that keeps other servers off proves it); on a shared
    /// one, those silent for longer than `lease_ms`. Their jobs are then orphans. Workers on
    /// other machines have leases of their own ([`crate::RemoteStore::reap_remotes`]): they
    /// outlive a server's restart.
    async fn reap_stale(&self, me: &ProcessId, lease_ms: i64) -> StoreResult<Vec<ProcessId>> {
        let dialect = self.pool().dialect();
        let sql = match dialect.one_server() {
            true => format!(
                "DELETE FROM processes WHERE id <> $1 AND role <> '{REMOTE_ROLE}' RETURNING id"
            ),
            false => format!(
                "DELETE FROM processes WHERE id <> $1 AND role <> '{REMOTE_ROLE}' \
                 AND heartbeat_at < {} - $2 RETURNING id",
                dialect.now_ms()
            ),
        };
        let ids: Vec<String> = on_pool!(self.pool(), p => {
            let query = sqlx::query_scalar(&sql).bind(me.as_str());
            match dialect.one_server() {
                true => query,
                false => query.bind(lease_ms),
            }
            .fetch_all(p)
            .await
        })
        .map_err(read_err("removing processes that are gone"))?;
        ids.into_iter().map(stored_id).collect()
    }

    /// Takes or renews the lease `name` for `holder` for `ttl_ms`; false if another process
    /// holds it. On a database one server keeps to itself, every lease is its own.
    async fn try_lease(&self, name: &str, holder: &ProcessId, ttl_ms: i64) -> StoreResult<bool> {
        let dialect = self.pool().dialect();
        if dialect.one_server() {
            return Ok(true);
        }
        let now = dialect.now_ms();
        let sql = format!(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, {now} + $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE leases.holder = excluded.holder OR leases.until < {now} \
             RETURNING holder"
        );
        let held: Option<String> = on_pool!(self.pool(), p => {
            sqlx::query_scalar(&sql)
                .bind(name)
                .bind(holder.as_str())
                .bind(ttl_ms)
                .fetch_optional(p)
                .await
        })
        .map_err(read_err("taking a lease"))?;
        Ok(held.is_some())
    }
}
