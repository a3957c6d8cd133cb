//! Workers on other machines (`headway worker`) and the tokens they connect with. A worker is a
//! process of the registry with the role [`REMOTE_ROLE`]: its jobs are claimed under its id and
//! fenced by it like a server process's, and when it stops polling for longer than its lease
//! it is removed ([`RemoteStore::reap_remotes`]) and its jobs are taken over as orphans. The
//! SQL is the same on both databases (`crate::sql::remotes`).

use crate::{Orphan, StoreResult};
use async_trait::async_trait;
use model::{JobId, JobStatus, ProcessId};

/// The registry role of a worker on another machine (a server's own job-running process is
/// `worker`, from `--role worker`).
pub const REMOTE_ROLE: &str = "remote";

/// A job a worker holds, as its poll needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldJob {
    pub id: JobId,
    pub status: JobStatus,
    /// The number of its log's last line (the worker numbers its lines on from there).
    pub log_seq: u64,
}

/// A worker token, without its secret (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A kind a worker token declared: its name is the token's until the token is revoked, and its
/// jobs are made and run by `declaration` (its parameters, their types, the tags it requires, as
/// canonical JSON), which changes only while none of them is queued or running.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerKindRow {
    pub name: String,
    pub token_id: String,
    pub declaration: String,
    pub declared_at: i64,
}

/// A worker as registered.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteRow {
    pub id: ProcessId,
    /// What it calls itself (`--name`, else its host's name).
    pub name: String,
    pub host: String,
    /// Its Headway's version.
    pub build: String,
    pub pid: i64,
    /// The tags it offers, sorted.
    pub tags: Vec<String>,
    /// Jobs it runs at once.
    pub slots: i64,
    /// `active`, `draining` or `disabled` ([`model::workers::WorkerState`]).
    pub state: String,
    /// The worker token it registered with.
    pub token_id: String,
    /// The text of its commands file: the kinds it runs.
    pub commands: String,
    /// Unix ms, by the database's clock.
    pub started_at: i64,
    pub heartbeat_at: i64,
}

#[async_trait]
pub trait RemoteStore: Send + Sync + 'static {
    /// Stores a new worker token under the SHA-256 `hash` of its secret.
    async fn create_worker_token(&self, token: &WorkerTokenRow, hash: &str) -> StoreResult<()>;

    /// The worker token in force whose secret hashes to `hash`.
    async fn worker_token_by_hash(&self, hash: &str) -> StoreResult<Option<WorkerTokenRow>>;

    /// Every worker token, newest first, revoked ones too.
    async fn worker_tokens(&self) -> StoreResult<Vec<WorkerTokenRow>>;

    /// Revokes a worker token, and frees the kind names it declared; `false` if there is no
    /// such token in force.
    async fn revoke_worker_token(&self, id: &str, now: i64) -> StoreResult<bool>;

    /// Every kind name a worker token declared.
    async fn worker_kinds(&self) -> StoreResult<Vec<WorkerKindRow>>;

    /// Gives the name `kind.name` to `kind.token_id` with its declaration, unless a token owns
    /// it already; the owner's row as it is then (another token's, if it was taken first).
    async fn claim_worker_kind(&self, kind: &WorkerKindRow) -> StoreResult<WorkerKindRow>;

    /// Replaces the declaration of `name`, owned by `token_id`, if it is still `before`;
    /// whether it was.
    async fn redeclare_worker_kind(
        &self,
        name: &str,
        token_id: &str,
        before: &str,
        declaration: &str,
        now: i64,
    ) -> StoreResult<bool>;

    /// How many workers are registered with the token `token_id` now.
    async fn remotes_of_token(&self, token_id: &str) -> StoreResult<u64>;

    /// Records that a worker token was just used.
    async fn touch_worker_token(&self, id: &str, now: i64) -> StoreResult<()>;

    /// Registers a worker, its heartbeat now; returns it as registered.
    async fn register_remote(&self, worker: &RemoteRow) -> StoreResult<RemoteRow>;

    /// The registered workers, oldest first.
    async fn remotes(&self) -> StoreResult<Vec<RemoteRow>>;

    /// The worker registered as `id`.
    async fn remote(&self, id: &ProcessId) -> StoreResult<Option<RemoteRow>>;

    /// Sets a worker's state; `false` if it is not registered.
    async fn set_remote_state(&self, id: &ProcessId, state: &str) -> StoreResult<bool>;

    /// Removes the workers silent for longer than `lease_ms` (by the database's clock), and
    /// those of a token no longer in force; returns their ids. Their jobs are orphans then.
    async fn reap_remotes(&self, lease_ms: i64) -> StoreResult<Vec<ProcessId>>;

    /// The jobs `worker` holds (running or cancelling, claimed by it).
    async fn held_jobs(&self, worker: &ProcessId) -> StoreResult<Vec<HeldJob>>;

    /// A job with its owner and the process that claimed it, whatever its status.
    async fn claimed_job(&self, id: &JobId) -> StoreResult<Option<Orphan>>;
}
