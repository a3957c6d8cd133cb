//! A batch of changes, written once for every backend: what each [`Change`] means (the state
//! machine, fences, the claim and its limits, the share of queued jobs), the event ids it takes
//! and gives back, the events it makes, and the retry of a batch, change by change in
//! savepoints, when one of its changes fails.
//!
//! A backend brings what is its own: the statements ([`BatchSql`], in its SQL and on its
//! connection) and the transaction around a batch (begin, the lock or counter of event ids,
//! commit). A new change is written here once, plus its statements in each backend.

use crate::{
    now_ms, Applied, Attached, Attachment, Candidate, Change, CommittedEvent, Created,
    ExternalReport, ExternalState, FairPick, Fire, Fired, Moved, QueuedJob, Reported, ScheduleRow,
    StartKey, StoreError, StoredEvent, START_KEY_MS,
};
use model::{
    DoneEvent, EventType, Job, JobError, JobId, JobStatus, KindPause, LogLevel, LogLine, Notice,
    ProcessId, Progress, ProgressEvent, UserId, EVERY_KIND,
};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::task::{Context, Poll, Waker};

mod after;
mod children;
mod outputs;
mod runs;
pub use after::{ANY_WAITING, NEED_MET, NEED_STATUS, TAKE_WAITING, WAITING_JOB, WAIT_FOR};
pub use children::{AWAIT_CHILDREN, CHILD_NAMED, COUNT_CHILD};
pub use outputs::{within_quota, FILE_BYTES};
pub use runs::{
    RunRow, StepRow, TallyRow, ITEMS_MADE, RUN_OF, SET_ENDED, SET_PARAMS, SET_PLAN, STEPS_ENDED,
    STEPS_OF, TALLY_OF,
};

/// What [`BatchSql::next_log_seq`] gives back.
#[derive(Debug, Clone, Copy)]
pub struct LogSeq {
    /// The job's latest log sequence number (its new one, unless the line is past the bound).
    pub seq: i64,
    pub attempt: i64,
    /// The bytes of log the job had written before this line.
    pub bytes_before: i64,
}

/// How many changes one transaction takes at most.
pub const MAX_BATCH: usize = 512;

/// The statements of a batch, in one backend's SQL, run inside the transaction it opened.
///
/// Each method is one step of the job-state logic in [`apply_changes`]; none decides anything
/// the others could disagree on. A job's statements that take a `fence` do nothing unless the
/// job is still claimed by that process (or the fence is `None`).
// The futures are awaited only where the backend's own type is known (its writer), which is
// where their `Send`-ness (or not, for SQLite's thread) is decided.
#[allow(async_fn_in_trait)]
pub trait BatchSql {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether notices' events are stored in `events` (for other processes to read) rather
    /// than only published: then their ids need no floor of their own.
    const STORES_NOTICE_EVENTS: bool;

    /// How many jobs `owner` has queued (at most `up_to`), read from the kept counts
    /// (`job_counts`): as cheap with a long queue as with none.
    async fn queued_of(&mut self, owner: &str, up_to: u64) -> Result<u64, Self::Error>;
    /// Inserts a new job (its `event_id` set).
    async fn insert_job(&mut self, owner: &str, job: &Job) -> Result<(), Self::Error>;
    /// The start `owner` made with `key` at or after `since`: its fingerprint and its job as it
    /// is now.
    async fn started_with(
        &mut self,
        owner: &str,
        key: &str,
        since: i64,
    ) -> Result<Option<(String, Job)>, Self::Error>;
    /// Records that `owner`'s start with `key` made `job_id` at `at` (replacing an expired
    /// record of the key).
    async fn keep_start_key(
        &mut self,
        owner: &str,
        key: &StartKey,
        job_id: &str,
        at: i64,
    ) -> Result<(), Self::Error>;
    /// Deletes the start keys recorded before `before`.
    async fn forget_start_keys(&mut self, before: i64) -> Result<(), Self::Error>;
    /// Moves a job whose status is one of `from` (never empty) to `to`, stamped with
    /// `event_id`; the job as stored, or `None` when no job matched.
    ///
    /// `started_at` is set on the first move to running; `finished_at` on reaching a terminal
    /// status (and cleared otherwise). Moving to running claims the job for `fence`, moving to
    /// queued releases it; any other move with a fence needs the job to be still its own.
    async fn move_job(&mut self, to: &Move<'_>) -> Result<Option<Job>, Self::Error>;
    /// Queues a running job again for its next attempt ([`Change::Retry`]); the job as stored,
    /// or `None` if it is not running (for the fence) or has no attempt left.
    async fn retry_job(&mut self, retry: &Retry<'_>) -> Result<Option<Job>, Self::Error>;
    /// Records a progress sample of a running (or cancelling) job: `None` if it is not, else
    /// the workflow run it is a step of, if any.
    async fn record_progress(
        &mut self,
        job_id: &str,
        progress: &Progress,
        event_id: i64,
        fence: Option<&str>,
    ) -> Result<Option<Option<String>>, Self::Error>;
    /// Counts `bytes` more of a running (or cancelling) job's log and, unless the job had
    /// written `max_bytes` already, takes its next log sequence number, stamped with
    /// `event_id`; the job's sequence number and attempt then, and its log bytes before;
    /// `None` if it is not running.
    async fn next_log_seq(
        &mut self,
        job_id: &str,
        event_id: i64,
        fence: Option<&str>,
        bytes: i64,
        max_bytes: i64,
    ) -> Result<Option<LogSeq>, Self::Error>;
    /// The outputs (as JSON, `None` for none yet) of a running (or cancelling) job; `Err`-free
    /// `None` when it is not running (for the fence).
    async fn outputs_of(
        &mut self,
        job_id: &str,
        fence: Option<&str>,
    ) -> Result<Option<Option<String>>, Self::Error>;
    /// The bytes `owner`'s stored files hold: their uploads and their jobs' outputs
    /// ([`FILE_BYTES`]).
    async fn file_bytes(&mut self, owner: &str) -> Result<i64, Self::Error>;
    /// Sets a running (or cancelling) job's outputs or result (each JSON, `None`: unchanged),
    /// stamped with `event_id`; the job as stored, or `None` when it is not running.
    async fn attach(
        &mut self,
        job_id: &str,
        outputs: Option<&str>,
        result: Option<&str>,
        event_id: i64,
        fence: Option<&str>,
    ) -> Result<Option<Job>, Self::Error>;
    /// Sets a queued job's priority and moves its rank by the difference of the levels,
    /// stamped with `event_id`; the job as stored, or `None` when it is not queued.
    async fn set_priority(
        &mut self,
        job_id: &str,
        priority: i64,
        event_id: i64,
    ) -> Result<Option<Job>, Self::Error>;
    /// Saves a running (or cancelling) job's checkpoint; false if it is not running.
    async fn save_checkpoint(
        &mut self,
        job_id: &str,
        value: &str,
        fence: Option<&str>,
    ) -> Result<bool, Self::Error>;
    /// A running (or cancelling) external job's status, log position, lease and latest event;
    /// `None` for any other job ([`EXTERNAL_STATE`]). With a `fence`, the same of a running job
    /// claimed by that process (a worker on another machine), whatever its kind
    /// ([`CLAIMED_STATE`]).
    async fn external_state(
        &mut self,
        job_id: &str,
        fence: Option<&str>,
    ) -> Result<Option<ExternalState>, Self::Error>;
    /// Moves a running (or cancelling) external job's lease on to `until`, and with `hash`
    /// sets its report token's hash; false if it is not one ([`SET_LEASE`]).
    async fn set_lease(
        &mut self,
        job_id: &str,
        until: i64,
        hash: Option<&str>,
    ) -> Result<bool, Self::Error>;
    /// The enabled webhooks, to match the batch's ends against.
    async fn end_hooks(&mut self) -> Result<Vec<crate::HookMatch>, Self::Error>;
    /// Inserts a delivery, pending from its `created_at`.
    async fn insert_delivery(&mut self, delivery: &crate::NewDelivery) -> Result<(), Self::Error>;
    /// Deletes up to `limit` of the oldest events written before `before_ms`, and records how
    /// far events were pruned; the highest id deleted.
    async fn prune_events(
        &mut self,
        before_ms: i64,
        limit: u32,
    ) -> Result<Option<i64>, Self::Error>;
    async fn insert_notice(&mut self, notice: &Notice) -> Result<(), Self::Error>;
    /// Withdraws every notice in force at `at`; the notices withdrawn.
    async fn withdraw_notices(&mut self, at: i64) -> Result<Vec<Notice>, Self::Error>;
    /// Adds a schedule, or changes what a person may change of it and the fire time it waits
    /// for.
    async fn put_schedule(&mut self, row: &ScheduleRow) -> Result<(), Self::Error>;
    /// Deletes a schedule; whether there was one.
    async fn delete_schedule(&mut self, id: &str) -> Result<bool, Self::Error>;
    /// Moves an enabled schedule that waits for `due` on to `next`, recording `due` as its last
    /// fire time; the id of the job it started last (`Some(None)`: none yet), or `None` when it
    /// does not wait for `due` (fired already, changed, paused or deleted).
    async fn advance_schedule(
        &mut self,
        id: &str,
        due: i64,
        next: Option<i64>,
    ) -> Result<Option<Option<String>>, Self::Error>;
    /// Whether the job is queued, running or cancelling.
    async fn job_active(&mut self, job_id: &str) -> Result<bool, Self::Error>;
    /// Records the job a schedule started last.
    async fn schedule_started(&mut self, id: &str, job_id: &str) -> Result<(), Self::Error>;
    /// Records what a schedule's last fire time did: the job it started (`job_id`), or why it
    /// started none (`why`).
    async fn schedule_fired(
        &mut self,
        id: &str,
        job_id: Option<&str>,
        why: Option<&str>,
    ) -> Result<(), Self::Error>;
    /// Pauses `kind` at `at` unless it is paused already; the pause in force.
    async fn pause_kind(&mut self, kind: &str, by: &str, at: i64)
        -> Result<KindPause, Self::Error>;
    /// Resumes `kind`; whether it was paused.
    async fn resume_kind(&mut self, kind: &str) -> Result<bool, Self::Error>;
    /// The kinds paused now ([`model::EVERY_KIND`] for all of them).
    async fn paused_kinds(&mut self) -> Result<Vec<String>, Self::Error>;
    /// The jobs running (or cancelling) anywhere, counted by kind and by owner.
    async fn running_counts(&mut self) -> Result<RunningCounts, Self::Error>;
    /// The limits set at run time ([`crate::limits`]).
    async fn set_limits(&mut self) -> Result<Vec<crate::limits::SetLimit>, Self::Error>;
    /// Sets a limit at run time, in place of the one of its signature if there is one.
    async fn put_limit(&mut self, limit: &crate::limits::SetLimit) -> Result<(), Self::Error>;
    /// Removes the limit set at run time with `signature`; whether there was one.
    async fn delete_limit(&mut self, signature: &str) -> Result<bool, Self::Error>;
    /// The running jobs of `kind` counted by key: the value of their parameter `param` (as
    /// [`model::limits::key_text`] writes it, before it is cut), or without one their owner.
    async fn running_keys(
        &mut self,
        kind: &str,
        param: Option<&str>,
    ) -> Result<Vec<(String, u32)>, Self::Error>;
    /// The starts recorded under a rate limit's `signature` at or after `since`, by key.
    async fn limit_uses(
        &mut self,
        signature: &str,
        since: i64,
    ) -> Result<Vec<(String, u32)>, Self::Error>;
    /// Records a start under a rate limit.
    async fn use_limit(&mut self, signature: &str, key: &str, at: i64) -> Result<(), Self::Error>;
    /// Deletes the starts recorded under `signature` before `before`.
    async fn forget_limit_uses(&mut self, signature: &str, before: i64) -> Result<(), Self::Error>;
    /// The queued jobs of `kinds` a claim chooses from: the `scan` oldest (at most
    /// [`crate::CLAIM_SCAN`]), and the `slots` oldest of each of the first
    /// [`crate::OWNER_SCAN`] users with jobs queued; none whose `run_after` is later than
    /// `now`; none whose key is full (`excluded`, [`crate::limits::Keyed::excluded`]), and
    /// with their parameters for the kinds `keyed`.
    async fn claim_candidates(
        &mut self,
        kinds: &[String],
        slots: u32,
        scan: u32,
        now: i64,
        keyed: &[String],
        excluded: &str,
    ) -> Result<Vec<Candidate>, Self::Error>;
    /// Whether some job waits for another to end ([`after::ANY_WAITING`]).
    async fn any_waiting(&mut self) -> Result<bool, Self::Error>;
    /// A job's status, if there is such a job ([`after::NEED_STATUS`]).
    async fn need_status(&mut self, job_id: &str) -> Result<Option<JobStatus>, Self::Error>;
    /// Records that `job_id` waits for `need_id` to end ([`after::WAIT_FOR`]).
    async fn wait_for(&mut self, need_id: &str, job_id: &str) -> Result<(), Self::Error>;
    /// Deletes the records of the jobs waiting for `need_id`, and gives back their ids
    /// ([`after::TAKE_WAITING`]).
    async fn take_waiting(&mut self, need_id: &str) -> Result<Vec<String>, Self::Error>;
    /// A queued job that still waits for others to end, with its owner; `None` for any other.
    async fn waiting_job(&mut self, job_id: &str) -> Result<Option<(UserId, Job)>, Self::Error>;
    /// One job fewer for a queued job to wait for, stamped with `event_id`; at the last, its
    /// rank in the queue becomes `rank`. The job as stored, or `None` when it no longer waits.
    async fn need_met(
        &mut self,
        job_id: &str,
        rank: i64,
        event_id: i64,
    ) -> Result<Option<Job>, Self::Error>;
    /// Keeps a run's plan in its job, with how many steps it made and how many of them were made
    /// ended and succeeded ([`runs::SET_PLAN`]).
    async fn set_plan(
        &mut self,
        job_id: &str,
        plan: &str,
        made: i64,
        ended: i64,
        succeeded: i64,
    ) -> Result<(), Self::Error>;
    /// Sets a queued job's parameters ([`runs::SET_PARAMS`]).
    async fn set_params(&mut self, job_id: &str, params: &str) -> Result<(), Self::Error>;
    /// Sets when a job made ended started and ended, and what it left ([`runs::SET_ENDED`]).
    async fn set_ended(
        &mut self,
        job_id: &str,
        started_at: Option<i64>,
        finished_at: Option<i64>,
        result: Option<String>,
        outputs: Option<String>,
    ) -> Result<(), Self::Error>;
    /// The child of that name a parent started, with its owner ([`children::CHILD_NAMED`]).
    async fn child_named(
        &mut self,
        parent: &str,
        name: &str,
    ) -> Result<Option<(UserId, Job)>, Self::Error>;
    /// Counts `n` more children of a parent running its own work as `fence`'s; whether it does
    /// ([`children::COUNT_CHILD`]).
    async fn count_child(
        &mut self,
        parent: &str,
        n: i64,
        fence: Option<&str>,
    ) -> Result<bool, Self::Error>;
    /// Leaves a parent whose own work succeeded waiting for its children, with `plan`; the
    /// parent then, if it had a child that has not succeeded ([`children::AWAIT_CHILDREN`]).
    async fn await_children(
        &mut self,
        job_id: &str,
        plan: &str,
        fence: Option<&str>,
    ) -> Result<Option<Job>, Self::Error>;
    /// How many items a run's fan-outs made so far ([`runs::ITEMS_MADE`]).
    async fn items_made(&mut self, run_id: &str) -> Result<i64, Self::Error>;
    /// A run's job, if it is one ([`runs::RUN_OF`]).
    async fn run_of(&mut self, job_id: &str) -> Result<Option<RunRow>, Self::Error>;
    /// The steps of a run ([`runs::STEPS_OF`]).
    async fn steps_of(&mut self, job_id: &str) -> Result<Vec<StepRow>, Self::Error>;
    /// A run's tally, if it is a run ([`runs::TALLY_OF`]).
    async fn tally_of(&mut self, job_id: &str) -> Result<Option<TallyRow>, Self::Error>;
    /// Counts `ended` steps of a run as ended, `succeeded` of them succeeded; the run's tally
    /// then ([`runs::STEPS_ENDED`]).
    async fn steps_ended(
        &mut self,
        job_id: &str,
        ended: i64,
        succeeded: i64,
    ) -> Result<Option<TallyRow>, Self::Error>;
    /// Inserts events (each with the time it was made) and log lines.
    async fn insert_rows(
        &mut self,
        events: &[(&CommittedEvent, i64)],
        logs: &[LogLine],
    ) -> Result<(), Self::Error>;
    /// Opens the savepoint around one change of a careful batch.
    async fn savepoint(&mut self) -> Result<(), Self::Error>;
    /// Keeps what the change wrote.
    async fn release(&mut self) -> Result<(), Self::Error>;
    /// Undoes what the change wrote.
    async fn roll_back(&mut self) -> Result<(), Self::Error>;
}

/// A move of one job, for [`BatchSql::move_job`].
pub struct Move<'a> {
    pub job_id: &'a str,
    pub from: &'a [JobStatus],
    pub to: JobStatus,
    pub error: Option<&'a JobError>,
    pub at: i64,
    pub event_id: i64,
    pub fence: Option<&'a str>,
    /// Who asked for a cancel ([`model::Actor`] as stored), kept as `cancelled_by`.
    pub by: Option<&'a str>,
}

/// A job queued again for its next attempt, for [`BatchSql::retry_job`].
pub struct Retry<'a> {
    pub job_id: &'a str,
    /// Why the attempt failed.
    pub error: &'a JobError,
    /// When the attempt ended.
    pub at: i64,
    /// When the next one starts.
    pub next_at: i64,
    pub event_id: i64,
    pub fence: Option<&'a str>,
    pub reset_progress: bool,
}

/// Jobs running anywhere, by kind and by owner.
pub type RunningCounts = (HashMap<String, u32>, HashMap<UserId, u32>);

/// The running jobs counted by kind and by owner, from their `(kind, owner)` rows
/// ([`crate::RUNNING_KINDS_AND_OWNERS`]). A job whose owner's id does not parse (a corrupted
/// row) counts for its kind only: no caller has that id, so its share limits nobody, and the
/// claims of everyone else go on. A workflow run's own job, and a parent waiting for its
/// children, run nothing: they are not among the rows ([`crate::WORKING`]).
pub fn count_running(rows: impl IntoIterator<Item = (String, String)>) -> RunningCounts {
    let mut counts = RunningCounts::default();
    for (kind, owner) in rows {
        *counts.0.entry(kind).or_default() += 1;
        if let Ok(owner) = UserId::try_from(owner) {
            *counts.1.entry(owner).or_default() += 1;
        }
    }
    counts
}

/// Why a batch was not written.
#[derive(Debug)]
pub enum Failure<E> {
    /// One change failed: the batch may be written again, carefully, without it.
    Change(E),
    /// The transaction itself failed.
    Batch(E),
}

impl<E> From<E> for Failure<E> {
    fn from(e: E) -> Self {
        Failure::Batch(e)
    }
}

impl<E> Failure<E> {
    pub fn into_inner(self) -> E {
        match self {
            Failure::Change(e) | Failure::Batch(e) => e,
        }
    }
}

/// What a batch wrote, before its backend commits it.
pub struct Written {
    /// How many changes failed alone and were undone (each answered with its error).
    pub failed: usize,
    pub events: Vec<CommittedEvent>,
    /// The highest event id handed out (the first one minus one when none was).
    pub head: i64,
    /// Ids were handed out that no stored event holds (notices' events where they are not
    /// stored): the backend's floor of ids must move to `head`.
    pub unstored_ids: bool,
}

/// A backend's transaction around a batch: it opens it, takes event ids (its lock or its
/// counter), runs [`apply_changes`] in it, and commits.
#[allow(async_fn_in_trait)]
pub trait Transaction {
    type Error: std::fmt::Display;
    /// Writes `changes` in one transaction, each in a savepoint of its own when `careful`.
    async fn attempt(
        &mut self,
        changes: &mut [Change],
        careful: bool,
    ) -> Result<Applied, Failure<Self::Error>>;
}

/// [`BatchSql::external_state`] in both databases' SQL (`$1`: the job). An external job is the
/// one with a report token: nothing else has its hash.
pub const EXTERNAL_STATE: &str = "SELECT status, log_seq, lease_until, event_id FROM jobs \
     WHERE id = $1 AND report_hash IS NOT NULL AND status IN ('running', 'cancelling')";

/// [`BatchSql::external_state`] with a fence, in both databases' SQL (`$1`: the job, `$2`: the
/// process that must hold it).
pub const CLAIMED_STATE: &str = "SELECT status, log_seq, lease_until, event_id FROM jobs \
     WHERE id = $1 AND claimed_by = $2 AND status IN ('running', 'cancelling')";

/// [`BatchSql::set_lease`] in both databases' SQL (`$1`: until, `$2`: the hash or NULL, `$3`:
/// the job). The hash is given once, as the job opens: only then may the job have none yet.
pub const SET_LEASE: &str =
    "UPDATE jobs SET lease_until = $1, report_hash = COALESCE($2, report_hash) \
     WHERE id = $3 AND ($2 IS NOT NULL OR report_hash IS NOT NULL) \
     AND status IN ('running', 'cancelling')";

/// Writes a batch in one transaction; if one of its changes failed, writes it again with a
/// savepoint around each change, so that the failing one is undone alone and the others commit.
pub async fn write_batch<T: Transaction>(
    t: &mut T,
    changes: &mut [Change],
) -> Result<Applied, T::Error> {
    match t.attempt(changes, false).await {
        Err(Failure::Change(e)) => {
            tracing::debug!(error = %e, "a change of a batch failed; writing it again change by change");
            t.attempt(changes, true).await.map_err(Failure::into_inner)
        }
        other => other.map_err(Failure::into_inner),
    }
}

/// Applies `changes` with the backend's statements inside its open transaction, handing out
/// event ids from `first_id`. Careless, the first change that fails fails the batch
/// ([`Failure::Change`]); careful, each change is in a savepoint and one that fails is undone
/// alone, answered with its error. Events and log lines are inserted at the end (after
/// each change, when careful).
pub async fn apply_changes<S: BatchSql>(
    sql: &mut S,
    first_id: i64,
    changes: &mut [Change],
    careful: bool,
) -> Result<Written, Failure<S::Error>> {
    let mut batch = Batch {
        next_id: first_id,
        events: Vec::new(),
        event_rows: Vec::new(),
        logs: Vec::new(),
        queued: HashMap::new(),
        unstored_ids: false,
        hooks: None,
        ended: Vec::new(),
        any_waiting: None,
        steps_ended: Vec::new(),
        runs_cancelled: Vec::new(),
        runs_moved: BTreeMap::new(),
        runs_waiting: Vec::new(),
    };
    let mut failed = 0;
    for change in changes {
        if !careful {
            batch.apply(sql, change).await.map_err(Failure::Change)?;
            continue;
        }
        let (next_id, events) = (batch.next_id, batch.events.len());
        let (steps_ended, waiting) = (batch.steps_ended.len(), batch.runs_waiting.len());
        sql.savepoint().await?;
        let done = match batch.apply(sql, change).await {
            Ok(()) => batch.insert_rows(sql).await,
            Err(e) => Err(e),
        };
        match done {
            Ok(()) => sql.release().await?,
            Err(e) => {
                // Undo this change alone: its rows, its events and the ids it took.
                sql.roll_back().await?;
                batch.next_id = next_id;
                batch.events.truncate(events);
                batch.event_rows.clear();
                batch.logs.clear();
                batch.ended.clear();
                batch.steps_ended.truncate(steps_ended);
                batch.runs_waiting.truncate(waiting);
                batch.runs_cancelled.clear();
                // What the change counted is gone with it: the bars are drawn as rows say.
                batch.runs_moved.values_mut().for_each(|seen| *seen = None);
                tracing::error!(error = %e, "a change was refused by the database; the rest of its batch goes on");
                change.fail(&StoreError::new("the database refused the change", e));
                failed += 1;
            }
        }
    }
    let at = now_ms();
    batch.settle_steps(sql, at).await?;
    batch.draw_runs(sql, at).await?;
    batch.insert_rows(sql).await?;
    Ok(Written {
        failed,
        head: batch.next_id - 1,
        events: batch.events,
        unstored_ids: batch.unstored_ids,
    })
}

/// The batch being written: the next event id to hand out, the events made so far, and the rows
/// not inserted yet.
struct Batch {
    next_id: i64,
    events: Vec<CommittedEvent>,
    /// The events to insert (by index in `events`), with the time each was made.
    event_rows: Vec<(usize, i64)>,
    logs: Vec<LogLine>,
    /// Each owner's queued jobs, counted at their first start in the batch (no further than
    /// their share) and counting the starts written since: a flood of one user's starts costs
    /// one count per batch. Jobs leaving the queue in the batch are not subtracted: the count
    /// errs high, never low.
    queued: HashMap<UserId, u64>,
    unstored_ids: bool,
    /// The enabled webhooks, read at the batch's first end.
    hooks: Option<Vec<crate::HookMatch>>,
    /// The jobs the change being written ended, with how: the jobs waiting for them are
    /// settled once it is written ([`after`]).
    ended: Vec<(JobId, JobStatus)>,
    /// Whether some job waits for another, read at the batch's first end.
    any_waiting: Option<bool>,
    /// The steps of workflow runs the batch's changes ended (their run, their step's name,
    /// how): their runs are settled, each once, when the batch's changes are written
    /// ([`runs`]).
    steps_ended: Vec<runs::StepEnded>,
    /// The runs the change being written asked to cancel, with their owners: their steps are
    /// cancelled in turn.
    runs_cancelled: Vec<(UserId, JobId)>,
    /// The runs whose steps moved in this batch: their bars are drawn again at its end, from
    /// the steps as the settling of the run last read them, or read again after a step's
    /// progress moved ([`runs::Seen`]).
    runs_moved: BTreeMap<JobId, Option<runs::Seen>>,
    /// The parents the batch's changes left waiting for their children ([`children`]): settled
    /// with the runs, at once if their children all ended.
    runs_waiting: Vec<JobId>,
}

impl Batch {
    fn take_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Inserts the events and log lines kept so far.
    async fn insert_rows<S: BatchSql>(&mut self, sql: &mut S) -> Result<(), S::Error> {
        if self.event_rows.is_empty() && self.logs.is_empty() {
            return Ok(());
        }
        let rows: Vec<(&CommittedEvent, i64)> = self
            .event_rows
            .iter()
            .map(|&(i, at)| (&self.events[i], at))
            .collect();
        sql.insert_rows(&rows, &self.logs).await?;
        self.event_rows.clear();
        self.logs.clear();
        Ok(())
    }

    /// Keeps an event for publishing and, unless it is a notice's where those are not stored,
    /// for the batch's insert.
    fn event<S: BatchSql>(
        &mut self,
        owner: Option<&UserId>,
        id: i64,
        job_id: Option<&JobId>,
        kind: EventType,
        data: String,
        at: i64,
    ) {
        if kind == EventType::Notice && !S::STORES_NOTICE_EVENTS {
            self.unstored_ids = true;
        } else {
            self.event_rows.push((self.events.len(), at));
        }
        self.events.push(CommittedEvent {
            owner: owner.cloned(),
            event: StoredEvent {
                id,
                job_id: job_id.cloned(),
                kind,
                data,
            },
            moved: None,
        });
    }

    /// Keeps the `job` event `id` that shows `job` as it is now, with its move.
    fn job_event<S: BatchSql>(&mut self, owner: &UserId, id: i64, job: &Job, at: i64) {
        self.event::<S>(
            Some(owner),
            id,
            Some(&job.id),
            EventType::Job,
            json(job),
            at,
        );
        if let Some(event) = self.events.last_mut() {
            event.moved = Some(Moved::of(job));
        }
    }

    /// Writes one change, keeps the events it makes, and gives the change its answer; then
    /// settles the jobs waiting for the jobs it ended.
    async fn apply<S: BatchSql>(
        &mut self,
        sql: &mut S,
        change: &mut Change,
    ) -> Result<(), S::Error> {
        let at = now_ms();
        self.apply_one(sql, change, at).await?;
        // The runs whose steps ended are settled once the batch's changes are written
        // ([`Batch::settle_steps`]).
        self.settle_waiting(sql, at).await
    }

    /// Settles the jobs waiting for the jobs ended so far, and passes on the cancels of runs
    /// asked for: ending jobs may end or cancel others, and so on, until nothing moves.
    async fn settle_waiting<S: BatchSql>(&mut self, sql: &mut S, at: i64) -> Result<(), S::Error> {
        loop {
            self.settle(sql, at).await?;
            self.pass_cancels(sql, at).await?;
            if self.ended.is_empty() && self.runs_cancelled.is_empty() {
                return Ok(());
            }
        }
    }

    /// [`Batch::apply`] without the settling.
    async fn apply_one<S: BatchSql>(
        &mut self,
        sql: &mut S,
        change: &mut Change,
        at: i64,
    ) -> Result<(), S::Error> {
        match change {
            Change::Create {
                owner,
                job,
                max_queued,
                key,
                answer,
            } => {
                let created = self
                    .create(sql, owner, job, *max_queued, key.as_ref(), at)
                    .await?;
                // A schedule's job started now (run at once) is the schedule's last.
                if let Created::New(job) = &created {
                    if let Some(schedule) = &job.schedule_id {
                        sql.schedule_started(schedule, &job.id).await?;
                    }
                }
                answer.set(created)
            }
            Change::StartRun {
                owner,
                run,
                plan,
                steps,
                max_queued,
                key,
                answer,
            } => answer.set(
                self.start_run(sql, owner, run, plan, steps, *max_queued, key.as_ref(), at)
                    .await?,
            ),
            Change::StartChild {
                owner,
                child,
                fence,
                max_queued,
                answer,
            } => {
                let fence = fence.as_ref().map(ProcessId::as_str);
                answer.set(
                    self.start_child(sql, owner, child, fence, *max_queued, at)
                        .await?,
                )
            }
            Change::PutSchedule { row, answer } => {
                sql.put_schedule(row).await?;
                answer.set(())
            }
            Change::DeleteSchedule { id, answer } => answer.set(sql.delete_schedule(id).await?),
            Change::Fire { fire, answer } => answer.set(self.fire(sql, fire, at).await?),
            Change::Transition {
                owner,
                job_id,
                to,
                error,
                fence,
                answer,
            } => answer.set(
                self.move_job(sql, owner, job_id, *to, error.as_ref(), fence.as_ref(), at)
                    .await?,
            ),
            Change::Cancel {
                owner,
                job_id,
                to,
                by,
                answer,
            } => {
                let by = by.as_ref().map(model::Actor::stored);
                answer.set(
                    self.move_job_by(sql, owner, job_id, *to, None, None, at, by.as_deref())
                        .await?,
                )
            }
            Change::Interrupt {
                owner,
                job_id,
                error,
                requeue,
                fence,
                answer,
            } => {
                let fence = fence.as_ref();
                let interrupted = self
                    .move_job(
                        sql,
                        owner,
                        job_id,
                        JobStatus::Interrupted,
                        Some(error),
                        fence,
                        at,
                    )
                    .await?;
                answer.set(match (interrupted, *requeue) {
                    (Some(_), true) => {
                        // Queued again at once: it has not ended for the jobs waiting for it,
                        // nor for its run.
                        self.ended.retain(|(id, _)| id != &*job_id);
                        self.steps_ended.retain(|ended| ended.job != *job_id);
                        self.move_job(sql, owner, job_id, JobStatus::Queued, None, fence, at)
                            .await?
                    }
                    (job, _) => job,
                })
            }
            Change::Claim {
                by,
                slots,
                kinds,
                limits,
                declared,
                per_owner,
                answer,
            } => answer.set(
                self.claim(
                    sql,
                    Claim {
                        by,
                        slots: *slots,
                        kinds,
                        limits,
                        declared,
                        per_owner: *per_owner,
                    },
                    at,
                )
                .await?,
            ),
            Change::Retry {
                owner,
                job_id,
                error,
                wait_ms,
                reset_progress,
                fence,
                answer,
            } => {
                let id = self.take_id();
                let retry = Retry {
                    job_id,
                    error,
                    at,
                    next_at: at.saturating_add(*wait_ms),
                    event_id: id,
                    fence: fence.as_deref(),
                    reset_progress: *reset_progress,
                };
                let retried = sql.retry_job(&retry).await?;
                match &retried {
                    Some(job) => self.job_event::<S>(owner, id, job, at),
                    None => self.next_id = id,
                }
                answer.set(retried)
            }
            Change::Progress {
                owner,
                job_id,
                progress,
                fence,
                answer,
            } => answer.set(
                self.progress(sql, owner, job_id, progress, fence.as_deref(), at)
                    .await?,
            ),
            Change::Log {
                owner,
                job_id,
                level,
                line,
                fence,
                bounds,
                answer,
            } => {
                let taken = self
                    .log(
                        sql,
                        owner,
                        job_id,
                        *level,
                        line,
                        fence.as_deref(),
                        bounds,
                        at,
                    )
                    .await?;
                answer.set(taken)
            }
            Change::Attach {
                owner,
                job_id,
                what,
                fence,
                answer,
            } => answer.set(
                self.attach(sql, owner, job_id, what, fence.as_deref(), at)
                    .await?,
            ),
            Change::Prioritize {
                owner,
                job_id,
                priority,
                answer,
            } => {
                let id = self.take_id();
                let job = sql
                    .set_priority(job_id, i64::from(priority.level()), id)
                    .await?;
                match &job {
                    Some(job) => self.job_event::<S>(owner, id, job, at),
                    None => self.next_id = id,
                }
                answer.set(job)
            }
            Change::Open {
                owner,
                job_id,
                report_hash,
                lease_until,
                answer,
            } => {
                let mut opened = self
                    .move_job(sql, owner, job_id, JobStatus::Running, None, None, at)
                    .await?;
                if opened.is_some()
                    && !sql
                        .set_lease(job_id, *lease_until, Some(report_hash))
                        .await?
                {
                    opened = None;
                }
                answer.set(opened)
            }
            Change::Report { report, answer } => answer.set(self.report(sql, report, at).await?),
            Change::Expire {
                owner,
                job_id,
                now,
                error,
                answer,
            } => {
                let ended = match sql.external_state(job_id, None).await? {
                    Some(state) if state.lease_until.is_none_or(|until| until < *now) => {
                        let (to, error) = match state.status {
                            JobStatus::Cancelling => (JobStatus::Cancelled, None),
                            _ => (JobStatus::Interrupted, Some(&*error)),
                        };
                        self.move_job(sql, owner, job_id, to, error, None, at)
                            .await?
                    }
                    // Not running, or its lease holds (a report came meanwhile).
                    _ => None,
                };
                answer.set(ended)
            }
            Change::Together(changes) => {
                for change in changes {
                    // Boxed: the future would otherwise contain itself.
                    Box::pin(self.apply(sql, change)).await?;
                }
            }
            Change::Checkpoint {
                job_id,
                value,
                fence,
                answer,
            } => answer.set(
                sql.save_checkpoint(job_id, &value.to_string(), fence.as_deref())
                    .await?,
            ),
            Change::Prune {
                before_ms,
                limit,
                answer,
            } => {
                sql.forget_start_keys(at - START_KEY_MS).await?;
                answer.set(sql.prune_events(*before_ms, *limit).await?)
            }
            Change::PostNotice { text, answer } => {
                let notice = Notice {
                    id: self.take_id(),
                    text: text.clone(),
                    created_at: at,
                };
                sql.insert_notice(&notice).await?;
                self.event::<S>(None, notice.id, None, EventType::Notice, json(&notice), at);
                answer.set(notice)
            }
            Change::Pause { kind, by, answer } => answer.set(sql.pause_kind(kind, by, at).await?),
            Change::Resume { kind, answer } => answer.set(sql.resume_kind(kind).await?),
            Change::SetLimit { limit, by, answer } => {
                let set = crate::limits::SetLimit {
                    limit: limit.clone(),
                    set_by: by.clone(),
                    set_at: at,
                };
                sql.put_limit(&set).await?;
                answer.set(set)
            }
            Change::RemoveLimit { signature, answer } => {
                answer.set(sql.delete_limit(signature).await?)
            }
            Change::WithdrawNotices { answer } => {
                let withdrawn = sql.withdraw_notices(at).await?;
                for notice in &withdrawn {
                    let gone = Notice {
                        text: String::new(),
                        ..notice.clone()
                    };
                    let id = self.take_id();
                    self.event::<S>(None, id, None, EventType::Notice, json(&gone), at);
                }
                answer.set(withdrawn.len())
            }
        }
        Ok(())
    }

    /// Records a progress sample of a running job ([`Change::Progress`]); whether the job took
    /// it.
    async fn progress<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        progress: &Progress,
        fence: Option<&str>,
        at: i64,
    ) -> Result<bool, S::Error> {
        let id = self.take_id();
        let Some(run) = sql.record_progress(job_id, progress, id, fence).await? else {
            self.next_id = id;
            return Ok(false);
        };
        if let Some(run) = run.and_then(|r| JobId::try_from(r).ok()) {
            self.runs_moved.entry(run).or_insert(None);
        }
        let data = json(&ProgressEvent::new(job_id, progress));
        self.event::<S>(Some(owner), id, Some(job_id), EventType::Progress, data, at);
        Ok(true)
    }

    /// Appends a log line of a running job ([`Change::Log`]); whether the job took it.
    #[allow(clippy::too_many_arguments)]
    async fn log<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        level: LogLevel,
        line: &str,
        fence: Option<&str>,
        bounds: &crate::LogBounds,
        at: i64,
    ) -> Result<bool, S::Error> {
        let id = self.take_id();
        let line = bounds.cut_line(line);
        let job_bytes = bounds.job_bytes.min(i64::MAX as u64) as i64;
        let Some(LogSeq {
            seq,
            attempt,
            bytes_before,
        }) = sql
            .next_log_seq(job_id, id, fence, line.len() as i64, job_bytes)
            .await?
        else {
            self.next_id = id;
            return Ok(false);
        };
        if bytes_before >= job_bytes {
            // Past the job's bound: dropped, counted in its `log_bytes` only.
            self.next_id = id;
            return Ok(true);
        }
        let (level, line) = if bytes_before.saturating_add(line.len() as i64) > job_bytes {
            (LogLevel::Warn, bounds.cut_log())
        } else {
            (level, line)
        };
        let log = LogLine {
            job_id: job_id.clone(),
            seq: seq.max(0) as u64,
            level,
            line,
            at,
            attempt: attempt.clamp(1, u32::MAX as i64) as u32,
        };
        self.event::<S>(
            Some(owner),
            id,
            Some(job_id),
            EventType::Log,
            json(&log),
            at,
        );
        self.logs.push(log);
        Ok(true)
    }

    /// Adds an output to a running job or sets its result ([`Change::Attach`]).
    async fn attach<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        what: &Attachment,
        fence: Option<&str>,
        at: i64,
    ) -> Result<Attached, S::Error> {
        let (outputs, result) = match what {
            Attachment::Output {
                output,
                most,
                quota,
            } => {
                let Some(stored) = sql.outputs_of(job_id, fence).await? else {
                    return Ok(Attached::NotRunning);
                };
                let mut outputs: Vec<model::Output> = stored
                    .and_then(|o| serde_json::from_str(&o).ok())
                    .unwrap_or_default();
                let added = model::OutputEvent {
                    job_id: job_id.clone(),
                    output: output.clone(),
                };
                let replaced = outputs.iter().find(|o| o.name == output.name);
                if replaced.is_none() && outputs.len() >= *most {
                    return Ok(Attached::Full(outputs.len()));
                }
                let replaced = replaced.map_or(0, |o| o.size);
                if output.size > replaced {
                    let kept = sql.file_bytes(owner.as_str()).await?.max(0) as u64;
                    if !within_quota(kept, output.size, replaced, *quota) {
                        return Ok(Attached::OverQuota(kept));
                    }
                }
                added.apply_to(&mut outputs);
                (Some((json(&outputs), added)), None)
            }
            Attachment::Result(value) => (None, Some(value.to_string())),
        };
        let id = self.take_id();
        let Some(job) = sql
            .attach(
                job_id,
                outputs.as_ref().map(|(list, _)| list.as_str()),
                result.as_deref(),
                id,
                fence,
            )
            .await?
        else {
            self.next_id = id;
            return Ok(Attached::NotRunning);
        };
        // An output's event carries that output alone: a job's events grow with its
        // outputs, not with their square.
        match &outputs {
            Some((_, added)) => {
                let data = json(added);
                self.event::<S>(Some(owner), id, Some(job_id), EventType::Output, data, at)
            }
            None => self.job_event::<S>(owner, id, &job, at),
        }
        Ok(Attached::Done(Box::new(job)))
    }

    /// Inserts a new job with its `job` event, unless its key started a job before or its
    /// owner's share of the queue is full ([`Change::Create`]).
    async fn create<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job: &Job,
        max_queued: Option<u64>,
        key: Option<&StartKey>,
        at: i64,
    ) -> Result<Created, S::Error> {
        if let Some(key) = key {
            if let Some((fingerprint, job)) =
                sql.started_with(owner, &key.key, at - START_KEY_MS).await?
            {
                return Ok(match fingerprint == key.fingerprint {
                    true => Created::Again(job),
                    false => Created::KeyTaken,
                });
            }
        }
        let mut job = job.clone();
        let needs = match self.needs(sql, &mut job).await? {
            after::Needs::Known { waiting, failed } => (waiting, failed),
            after::Needs::Unknown(id) => return Ok(Created::UnknownNeed(id)),
        };
        let job = match self.insert_within(sql, owner, &job, max_queued, at).await? {
            Ok(job) => job,
            Err(waiting) => return Ok(Created::Full { waiting }),
        };
        if let Some(key) = key {
            sql.keep_start_key(owner, key, &job.id, at).await?;
        }
        let job = self.wait_for(sql, owner, job, needs, at).await?;
        Ok(Created::New(job))
    }

    /// How many jobs `owner` has queued (counted up to `max`): read once per owner and batch,
    /// then counted here as starts are written.
    pub(super) async fn waiting<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        max: u64,
    ) -> Result<u64, S::Error> {
        if let Some(n) = self.queued.get(owner) {
            return Ok(*n);
        }
        let n = sql.queued_of(owner, max).await?;
        self.queued.insert(owner.clone(), n);
        Ok(n)
    }

    /// A job of `owner`'s counted as queued in this batch left the queue (a run's or a
    /// fan-out's own job, which runs at once).
    pub(super) fn left_queue(&mut self, owner: &UserId) {
        if let Some(n) = self.queued.get_mut(owner) {
            *n = n.saturating_sub(1);
        }
    }

    /// Inserts a new job with its `job` event, unless its owner has `max_queued` jobs queued:
    /// then `Err` with how many they have.
    async fn insert_within<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job: &Job,
        max_queued: Option<u64>,
        at: i64,
    ) -> Result<Result<Job, u64>, S::Error> {
        if let Some(max) = max_queued {
            let waiting = self.waiting(sql, owner, max).await?;
            if waiting >= max {
                return Ok(Err(waiting));
            }
        }
        let mut job = job.clone();
        job.event_id = self.take_id();
        sql.insert_job(owner, &job).await?;
        if let Some(n) = self.queued.get_mut(owner) {
            *n += 1;
        }
        self.job_event::<S>(owner, job.event_id, &job, at);
        Ok(Ok(job))
    }

    /// A schedule's fire time ([`Fire`]): it moves on only if it still waits for this time,
    /// and only then starts its job, in the same transaction.
    async fn fire<S: BatchSql>(
        &mut self,
        sql: &mut S,
        fire: &Fire,
        at: i64,
    ) -> Result<Option<Fired>, S::Error> {
        let Some(last_job) = sql
            .advance_schedule(&fire.schedule_id, fire.due, fire.next)
            .await?
        else {
            return Ok(None);
        };
        let mut skipped = fire.skipped.clone();
        let mut started = None;
        if let Some((owner, job)) = &fire.job {
            let busy = match (&last_job, fire.skip_if_busy) {
                (Some(last), true) => sql.job_active(last).await?,
                _ => false,
            };
            if busy {
                let last = last_job.as_deref().unwrap_or_default();
                skipped = Some(format!(
                    "its previous job {} was still queued or running (overlap: skip)",
                    &last[..8.min(last.len())]
                ));
            } else {
                // A run's steps wait in its owner's share too: they must fit with its job.
                let steps = fire.run.as_ref().map_or(0, |(_, steps)| {
                    steps
                        .iter()
                        .filter(|s| s.status == JobStatus::Queued)
                        .count() as u64
                });
                let full = match fire.max_queued {
                    Some(max) if steps > 0 => {
                        let waiting = self.waiting(sql, owner, max).await?;
                        (waiting.saturating_add(steps) > max).then_some(waiting)
                    }
                    _ => None,
                };
                let inserted = match full {
                    Some(waiting) => Err(waiting),
                    None => {
                        self.insert_within(sql, owner, job, fire.max_queued, at)
                            .await?
                    }
                };
                match inserted {
                    Ok(job) => {
                        started = Some(match &fire.run {
                            Some((plan, steps)) => {
                                self.begin_run(sql, owner, job, plan, steps, at).await?
                            }
                            None => job,
                        })
                    }
                    Err(waiting) => {
                        skipped = Some(format!(
                            "its owner's queue was full ({waiting} jobs waiting)"
                        ))
                    }
                }
            }
        }
        // What the fire time did, in the same row as its move on: its job, or why none.
        let job_id = started.as_ref().map(|j| j.id.as_str());
        sql.schedule_fired(&fire.schedule_id, job_id, skipped.as_deref())
            .await?;
        Ok(Some(Fired {
            job: started,
            skipped,
        }))
    }

    /// Writes an external job's report ([`Change::Report`]).
    async fn report<S: BatchSql>(
        &mut self,
        sql: &mut S,
        report: &ExternalReport,
        at: i64,
    ) -> Result<Reported, S::Error> {
        let ExternalReport {
            owner,
            job_id,
            fence,
            ..
        } = report;
        let fence = fence.as_ref().map(ProcessId::as_str);
        let Some(state) = sql.external_state(job_id, fence).await? else {
            return Ok(Reported::NotRunning);
        };
        let mut acked = state.log_seq.max(0) as u64;
        let fresh: Vec<&model::ReportLine> = report.log.iter().filter(|l| l.seq > acked).collect();
        if fresh.first().is_some_and(|l| l.seq != acked + 1) {
            return Ok(Reported::Gap { acked });
        }
        for line in fresh {
            self.log(
                sql,
                owner,
                job_id,
                line.level,
                &line.line,
                fence,
                &report.bounds,
                at,
            )
            .await?;
            acked = line.seq;
        }
        if let Some(progress) = &report.progress {
            self.progress(sql, owner, job_id, progress, fence, at)
                .await?;
        }
        if let Some(value) = &report.result {
            let result = Attachment::Result(value.clone());
            self.attach(sql, owner, job_id, &result, fence, at).await?;
        }
        // A worker's job is held by its process's heartbeat, not a lease of its own.
        if fence.is_none() {
            sql.set_lease(job_id, report.lease_until, None).await?;
        }
        let mut status = state.status;
        if let Some((to, error)) = &report.end {
            if let Some(job) = self
                .move_job(
                    sql,
                    owner,
                    job_id,
                    *to,
                    error.as_ref(),
                    report.fence.as_ref(),
                    at,
                )
                .await?
            {
                status = job.status;
            }
        }
        let event_id = match self.events.last() {
            Some(e) if e.event.job_id.as_ref() == Some(job_id) => e.event.id,
            _ => state.event_id,
        };
        Ok(Reported::Taken {
            acked,
            status,
            event_id,
        })
    }

    /// Moves a job to `to` (if its status and the fence allow it) with its `job` event and, for
    /// a terminal status, its `done` event.
    #[allow(clippy::too_many_arguments)]
    async fn move_job<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        to: JobStatus,
        error: Option<&JobError>,
        fence: Option<&ProcessId>,
        at: i64,
    ) -> Result<Option<Job>, S::Error> {
        self.move_job_by(sql, owner, job_id, to, error, fence, at, None)
            .await
    }

    /// [`Self::move_job`], keeping who asked for it (`by`, as stored) as who cancelled it.
    #[allow(clippy::too_many_arguments)]
    async fn move_job_by<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job_id: &JobId,
        to: JobStatus,
        error: Option<&JobError>,
        fence: Option<&ProcessId>,
        at: i64,
        by: Option<&str>,
    ) -> Result<Option<Job>, S::Error> {
        let from: Vec<JobStatus> = JobStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.can_become(to))
            .collect();
        if from.is_empty() {
            return Ok(None);
        }
        let job_event = self.take_id();
        let done_event = to.is_terminal().then(|| self.take_id());
        let moved = sql
            .move_job(&Move {
                job_id,
                from: &from,
                to,
                error,
                at,
                event_id: done_event.unwrap_or(job_event),
                fence: fence.map(ProcessId::as_str),
                by,
            })
            .await?;
        let Some(job) = moved else {
            self.next_id = job_event;
            // A parent whose own work succeeded before its children did waits for them.
            if to == JobStatus::Succeeded {
                return self
                    .await_children(sql, job_id, fence.map(ProcessId::as_str))
                    .await;
            }
            return Ok(None);
        };
        let shown = Job {
            event_id: job_event,
            ..job.clone()
        };
        self.job_event::<S>(owner, job_event, &shown, at);
        if Self::cancels_children(&job, to) {
            self.runs_cancelled.push((owner.clone(), job.id.clone()));
        }
        if let Some(id) = done_event {
            if let Some(run) = &job.parent {
                self.steps_ended.push(runs::StepEnded {
                    run: run.clone(),
                    job: job.id.clone(),
                    step: job.step.clone().unwrap_or_default(),
                    status: to,
                    // Its run's cancel, or what it needs failing, gives no error or one of its
                    // own; a person's gives none, and leaves the run running.
                    by_hand: to == JobStatus::Cancelled && job.error.is_none(),
                });
            }
            self.deliver_end::<S>(sql, owner, &job, at).await?;
            self.ended.push((job.id.clone(), to));
            let done = DoneEvent {
                job_id: job_id.clone(),
                status: to,
                error: job.error.clone(),
            };
            self.event::<S>(
                Some(owner),
                id,
                Some(job_id),
                EventType::Done,
                json(&done),
                at,
            );
        }
        Ok(Some(job))
    }

    /// Inserts a delivery of a job's end to each webhook that hears of it, in the transaction
    /// that ends it.
    async fn deliver_end<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        job: &Job,
        at: i64,
    ) -> Result<(), S::Error> {
        if self.hooks.is_none() {
            self.hooks = Some(sql.end_hooks().await?);
        }
        let hooks = self.hooks.as_deref().unwrap_or_default();
        let hearing: Vec<model::WebhookId> = hooks
            .iter()
            .filter(|h| h.hears(owner, &job.kind, job.status))
            .map(|h| h.id.clone())
            .collect();
        if hearing.is_empty() {
            return Ok(());
        }
        let payload = json(&model::webhooks::JobEnded::of(job));
        for webhook_id in hearing {
            let delivery = crate::NewDelivery {
                id: model::DeliveryId::random(),
                webhook_id,
                event: model::webhooks::EVENT_JOB_ENDED.to_string(),
                job_id: Some(job.id.clone()),
                payload: payload.clone(),
                created_at: at,
            };
            sql.insert_delivery(&delivery).await?;
        }
        Ok(())
    }

    /// Takes up to `slots` queued jobs of `kinds` for process `by`, each slot for a job of the
    /// highest priority waiting and, among those, of the user with the fewest jobs running
    /// anywhere ([`FairPick`]), past the kinds at their limit of jobs running anywhere, the
    /// users at `per_owner` and the keys at their limits ([`crate::limits`]). The counts stay
    /// true until the commit: the backend's transaction keeps other claims out (SQLite's one
    /// writer, PostgreSQL's lock on event ids that every batch of every process takes first).
    async fn claim<S: BatchSql>(
        &mut self,
        sql: &mut S,
        claim: Claim<'_>,
        at: i64,
    ) -> Result<Vec<QueuedJob>, S::Error> {
        let Claim {
            by,
            slots,
            kinds,
            limits,
            declared,
            per_owner,
        } = claim;
        // Paused kinds are passed over: read in the claim's transaction, so that a claim
        // committed after a pause never takes a job of its kind, on any process.
        let paused = sql.paused_kinds().await?;
        if paused.iter().any(|k| k == EVERY_KIND) {
            return Ok(Vec::new());
        }
        let kinds: Vec<String> = kinds
            .iter()
            .filter(|k| !paused.contains(k))
            .cloned()
            .collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        // The limits set at run time, read here too, so that every process applies the same.
        let set = sql.set_limits().await?;
        let (limits, keyed) = crate::limits::split(crate::limits::in_force(declared, &set), limits);
        let (mut by_kind, mut by_owner) = sql.running_counts().await?;
        // Kinds at their limit are not read at all: the candidates read are of kinds that may
        // start, so a few per slot are enough, however long the queue of a kind at its limit.
        let kinds: Vec<String> = kinds
            .into_iter()
            .filter(|k| !crate::claim::kind_full(&by_kind, &limits, k))
            .collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = self.keys_in_use(sql, keyed, at).await?;
        let keyed_kinds = keys.kinds();
        let mut claimed = Vec::new();
        // A key that fills up during a claim leaves its other candidates out; the jobs of other
        // keys behind them are read in another round, a few rounds at most.
        for _round in 0..4 {
            let room = slots - claimed.len() as u32;
            let scan = crate::claim::scan_for(room);
            let candidates = sql
                .claim_candidates(&kinds, room, scan, at, &keyed_kinds, &keys.excluded())
                .await?;
            let mut pick = FairPick::new(
                candidates,
                by_kind.clone(),
                by_owner.clone(),
                &limits,
                per_owner,
                at,
            )
            .with_keys(keys);
            while (claimed.len() as u32) < slots {
                let Some(c) = pick.pick() else { break };
                if let Some(job) = self
                    .move_job(sql, &c.owner, &c.id, JobStatus::Running, None, Some(by), at)
                    .await?
                {
                    for (signature, key) in pick.started(&c) {
                        sql.use_limit(&signature, &key, at).await?;
                    }
                    *by_kind.entry(c.kind.clone()).or_default() += 1;
                    *by_owner.entry(c.owner.clone()).or_default() += 1;
                    let checkpoint = c.checkpoint.and_then(|s| serde_json::from_str(&s).ok());
                    claimed.push(QueuedJob {
                        owner: c.owner,
                        job,
                        checkpoint,
                    });
                }
            }
            keys = pick.into_keys();
            if (claimed.len() as u32) >= slots || !keys.filled_up() {
                break;
            }
        }
        Ok(claimed)
    }

    /// The keyed limits with their use now: each key's running jobs, and its starts in each
    /// rate's window (a start exactly a window ago still counts: no window of that length ever
    /// holds more than the limit). Starts older than every window are deleted.
    async fn keys_in_use<S: BatchSql>(
        &mut self,
        sql: &mut S,
        keyed: Vec<model::limits::Limit>,
        at: i64,
    ) -> Result<crate::limits::Keyed, S::Error> {
        let mut keys = crate::limits::Keyed::new(keyed);
        if keys.is_empty() {
            return Ok(keys);
        }
        let running: Vec<(usize, String, Option<String>)> = keys
            .of_running()
            .map(|(i, l)| {
                (
                    i,
                    l.kind.clone(),
                    match &l.per {
                        model::limits::Per::Param(p) => Some(p.clone()),
                        _ => None,
                    },
                )
            })
            .collect();
        for (i, kind, param) in running {
            for (key, n) in sql.running_keys(&kind, param.as_deref()).await? {
                keys.count(i, &key, n);
            }
        }
        let rates: Vec<(usize, String, i64)> = keys
            .rates()
            .map(|(i, l)| (i, l.signature(), l.window_ms.unwrap_or(0)))
            .collect();
        for (i, signature, window) in rates {
            sql.forget_limit_uses(&signature, at - window).await?;
            for (key, n) in sql.limit_uses(&signature, at - window).await? {
                keys.count(i, &key, n);
            }
        }
        Ok(keys)
    }
}

/// What a claim is asked for ([`Change::Claim`]).
struct Claim<'a> {
    by: &'a ProcessId,
    slots: u32,
    kinds: &'a [String],
    limits: &'a [(String, u32)],
    declared: &'a [model::limits::Limit],
    per_owner: u32,
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("job types always serialize")
}

/// The output of a future that never waits, such as the batch logic on statements that run
/// synchronously (SQLite's writer thread).
///
/// # Panics
/// If the future waits: it would never be woken.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a synchronous batch waited"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_that_never_waits_is_ready_at_once() {
        assert_eq!(ready(async { 40 + 2 }), 42);
    }

    #[test]
    #[should_panic(expected = "a synchronous batch waited")]
    fn a_future_that_waits_is_a_bug_said_so() {
        ready(std::future::pending::<()>());
    }

    #[test]
    fn a_failure_keeps_its_cause_whatever_its_kind() {
        assert_eq!(Failure::Change(1).into_inner(), 1);
        assert_eq!(Failure::<i32>::from(2).into_inner(), 2);
    }
}
