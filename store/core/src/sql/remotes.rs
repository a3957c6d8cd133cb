//! Workers on other machines and their tokens ([`crate::RemoteStore`]).

use super::{count, on_pool, read_err, SqlBackend};
use crate::{
    stored_id, HeldJob, Orphan, OrphanRow, RemoteRow, RemoteStore, StoreResult, WorkerKindRow,
    WorkerTokenRow, JOB_COLUMNS, REMOTE_ROLE,
};
use async_trait::async_trait;
use model::{JobId, JobStatus, ProcessId};

type TokenColumns = (String, String, i64, Option<i64>, Option<i64>);

const TOKEN_COLUMNS: &str = "id, name, created_at, last_used_at, revoked_at";

fn token((id, name, created_at, last_used_at, revoked_at): TokenColumns) -> WorkerTokenRow {
    WorkerTokenRow {
        id,
        name,
        created_at,
        last_used_at,
        revoked_at,
    }
}

type KindColumns = (String, String, String, i64);

const KIND_COLUMNS: &str = "name, token_id, declaration, declared_at";

fn worker_kind((name, token_id, declaration, declared_at): KindColumns) -> WorkerKindRow {
    WorkerKindRow {
        name,
        token_id,
        declaration,
        declared_at,
    }
}

type RemoteColumns = (
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

/// The columns of a worker, in [`RemoteColumns`]'s order.
const REMOTE_COLUMNS: &str = "id, name, host, build, pid, tags, slots, state, token_id, \
     commands, started_at, heartbeat_at";

fn remote(
    (
        id,
        name,
        host,
        build,
        pid,
        tags,
        slots,
        state,
        token_id,
        commands,
        started_at,
        heartbeat_at,
    ): RemoteColumns,
) -> StoreResult<RemoteRow> {
    Ok(RemoteRow {
        id: stored_id(id)?,
        name,
        host,
        build,
        pid,
        // Stored comma-separated, as every process's (a tag has no comma).
        tags: tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        slots,
        state,
        token_id: token_id.unwrap_or_default(),
        commands,
        started_at,
        heartbeat_at,
    })
}

#[async_trait]
impl<T: SqlBackend> RemoteStore for T {
    async fn create_worker_token(&self, t: &WorkerTokenRow, hash: &str) -> StoreResult<()> {
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO worker_tokens (id, name, hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&t.id)
            .bind(&t.name)
            .bind(hash)
            .bind(t.created_at)
            .execute(p)
            .await
            .map(drop)
        })
        .map_err(read_err("storing a worker token"))
    }

    async fn worker_token_by_hash(&self, hash: &str) -> StoreResult<Option<WorkerTokenRow>> {
        let row: Option<TokenColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM worker_tokens WHERE hash = $1 AND revoked_at IS NULL"
            ))
            .bind(hash)
            .fetch_optional(p)
            .await
        })
        .map_err(read_err("reading a worker token"))?;
        Ok(row.map(token))
    }

    async fn worker_tokens(&self) -> StoreResult<Vec<WorkerTokenRow>> {
        let rows: Vec<TokenColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM worker_tokens ORDER BY created_at DESC, id"
            ))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("listing worker tokens"))?;
        Ok(rows.into_iter().map(token).collect())
    }

    async fn revoke_worker_token(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE worker_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("revoking a worker token"))?;
        // Its names are free again, whether it was in force or revoked before this version kept
        // names.
        on_pool!(self.pool(), p => {
            sqlx::query("DELETE FROM worker_kinds WHERE token_id = $1")
                .bind(id)
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("freeing a revoked worker token's kinds"))?;
        Ok(done == 1)
    }

    async fn worker_kinds(&self) -> StoreResult<Vec<WorkerKindRow>> {
        let rows: Vec<KindColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!("SELECT {KIND_COLUMNS} FROM worker_kinds ORDER BY name"))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading the workers' kinds"))?;
        Ok(rows.into_iter().map(worker_kind).collect())
    }

    async fn claim_worker_kind(&self, kind: &WorkerKindRow) -> StoreResult<WorkerKindRow> {
        // Two tokens declaring one name at once: the first insert wins, the other reads it.
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO worker_kinds (name, token_id, declaration, declared_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
            )
            .bind(&kind.name)
            .bind(&kind.token_id)
            .bind(&kind.declaration)
            .bind(kind.declared_at)
            .execute(p)
            .await
            .map(drop)
        })
        .map_err(read_err("declaring a worker's kind"))?;
        let row: KindColumns = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!("SELECT {KIND_COLUMNS} FROM worker_kinds WHERE name = $1"))
                .bind(&kind.name)
                .fetch_one(p)
                .await
        })
        .map_err(read_err("reading a worker's kind"))?;
        Ok(worker_kind(row))
    }

    async fn redeclare_worker_kind(
        &self,
        name: &str,
        token_id: &str,
        before: &str,
        declaration: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE worker_kinds SET declaration = $1, declared_at = $2 \
                 WHERE name = $3 AND token_id = $4 AND declaration = $5",
            )
            .bind(declaration)
            .bind(now)
            .bind(name)
            .bind(token_id)
            .bind(before)
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("declaring a worker's kind again"))?;
        Ok(done == 1)
    }

    async fn remotes_of_token(&self, token_id: &str) -> StoreResult<u64> {
        let n: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM processes WHERE role = '{REMOTE_ROLE}' AND token_id = $1"
            ))
            .bind(token_id)
            .fetch_one(p)
            .await
        })
        .map_err(read_err("counting a token's workers"))?;
        Ok(count(n))
    }

    async fn touch_worker_token(&self, id: &str, now: i64) -> StoreResult<()> {
        on_pool!(self.pool(), p => {
            sqlx::query("UPDATE worker_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("recording a worker token's use"))
    }

    async fn register_remote(&self, w: &RemoteRow) -> StoreResult<RemoteRow> {
        let now = self.pool().dialect().now_ms();
        let sql = format!(
            "INSERT INTO processes (id, role, build, host, pid, started_at, heartbeat_at, tags, \
               name, slots, state, token_id, commands) \
             VALUES ($1, '{REMOTE_ROLE}', $2, $3, $4, {now}, {now}, $5, $6, $7, $8, $9, $10) \
             RETURNING {REMOTE_COLUMNS}"
        );
        let row: RemoteColumns = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(w.id.as_str())
                .bind(&w.build)
                .bind(&w.host)
                .bind(w.pid)
                .bind(w.tags.join(","))
                .bind(&w.name)
                .bind(w.slots)
                .bind(&w.state)
                .bind(&w.token_id)
                .bind(&w.commands)
                .fetch_one(p)
                .await
        })
        .map_err(read_err("registering a worker"))?;
        remote(row)
    }

    async fn remotes(&self) -> StoreResult<Vec<RemoteRow>> {
        let rows: Vec<RemoteColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!(
                "SELECT {REMOTE_COLUMNS} FROM processes WHERE role = '{REMOTE_ROLE}' \
                 ORDER BY started_at, id"
            ))
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading the workers"))?;
        rows.into_iter().map(remote).collect()
    }

    async fn remote(&self, id: &ProcessId) -> StoreResult<Option<RemoteRow>> {
        let row: Option<RemoteColumns> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!(
                "SELECT {REMOTE_COLUMNS} FROM processes WHERE id = $1 AND role = '{REMOTE_ROLE}'"
            ))
            .bind(id.as_str())
            .fetch_optional(p)
            .await
        })
        .map_err(read_err("reading a worker"))?;
        row.map(remote).transpose()
    }

    async fn set_remote_state(&self, id: &ProcessId, state: &str) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(&format!(
                "UPDATE processes SET state = $1 WHERE id = $2 AND role = '{REMOTE_ROLE}'"
            ))
            .bind(state)
            .bind(id.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("setting a worker's state"))?;
        Ok(done == 1)
    }

    async fn reap_remotes(&self, lease_ms: i64) -> StoreResult<Vec<ProcessId>> {
        let sql = format!(
            "DELETE FROM processes WHERE role = '{REMOTE_ROLE}' AND (heartbeat_at < {} - $1 \
               OR token_id IS NULL \
               OR token_id NOT IN (SELECT id FROM worker_tokens WHERE revoked_at IS NULL)) \
             RETURNING id",
            self.pool().dialect().now_ms()
        );
        let ids: Vec<String> = on_pool!(self.pool(), p => {
            sqlx::query_scalar(&sql).bind(lease_ms).fetch_all(p).await
        })
        .map_err(read_err("removing workers that are gone"))?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn held_jobs(&self, worker: &ProcessId) -> StoreResult<Vec<HeldJob>> {
        // The running jobs through `jobs_working` (a job a worker runs has no plan).
        let rows: Vec<(String, String, i64)> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT id, status, log_seq FROM jobs WHERE status IN ('running', 'cancelling') \
                   AND plan IS NULL AND claimed_by = $1",
            )
            .bind(worker.as_str())
            .fetch_all(p)
            .await
        })
        .map_err(read_err("reading a worker's jobs"))?;
        rows.into_iter()
            .map(|(id, status, log_seq)| {
                Ok(HeldJob {
                    id: stored_id(id)?,
                    status: JobStatus::parse(&status).unwrap_or(JobStatus::Running),
                    log_seq: count(log_seq),
                })
            })
            .collect()
    }

    async fn claimed_job(&self, id: &JobId) -> StoreResult<Option<Orphan>> {
        let row: Option<OrphanRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(&format!(
                "SELECT owner, claimed_by, {JOB_COLUMNS} FROM jobs WHERE id = $1"
            ))
            .bind(id.as_str())
            .fetch_optional(p)
            .await
        })
        .map_err(read_err("reading a job"))?;
        row.map(Orphan::try_from).transpose()
    }
}
