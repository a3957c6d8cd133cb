//! Children a running job starts itself, for every backend: each a job whose `parent_id` is the
//! parent and whose `step` is its name (unique within the parent, so that a parent tried again
//! finds the children it started before instead of starting them twice), counted in the
//! parent's tally ([`model::workflows::run::Tally`]) as a run counts its steps.
//!
//! The parent's own work ends as any job's does; if a child of it has not succeeded by then, the
//! parent does not end but waits for them, running and claimed by no process (its runner's slot
//! is free, so parents waiting for children never hold the slots their children need), with its
//! result and outputs kept: it gets a plan with no steps, which makes it a run to the rest of the
//! store (never an orphan, its bar its children's, settled as the transaction that ends its last
//! child counts it). It then ends as a run does: succeeded when every child did, else failed
//! naming the first that did not. A parent whose own work fails or is cancelled ends at once,
//! and its children are cancelled.

use super::{Batch, BatchSql};
use crate::Created;
use model::workflows::run::Plan;
use model::{Job, JobId, JobStatus, UserId};

/// [`BatchSql::child_named`] in both databases' SQL (`$1`: the parent, `$2`: the child's name).
pub const CHILD_NAMED: &str = concat!(
    "SELECT owner, claimed_by, ",
    crate::rows::job_columns!(),
    " FROM jobs WHERE parent_id = $1 AND step = $2"
);

/// [`BatchSql::count_child`] in both databases' SQL (`$1`: how many more children, `$2`: the
/// parent, `$3`: the process running it, or null for a job no process runs): only while the
/// parent runs its own work.
pub const COUNT_CHILD: &str = "UPDATE jobs SET steps_made = steps_made + $1 \
     WHERE id = $2 AND status = 'running' AND plan IS NULL \
       AND ($3 IS NULL OR claimed_by = $3)";

/// [`BatchSql::await_children`] in both databases' SQL (`$1`: the plan that makes it a run,
/// `$2`: the parent, `$3`: the process that ran it, or null): a parent whose own work succeeded
/// while a child of it has not, waiting for them claimed by no process and with no lease.
pub const AWAIT_CHILDREN: &str = concat!(
    "UPDATE jobs SET plan = $1, claimed_by = NULL, lease_until = NULL \
     WHERE id = $2 AND status = 'running' AND plan IS NULL AND steps_succeeded < steps_made \
       AND ($3 IS NULL OR claimed_by = $3) \
     RETURNING ",
    crate::rows::job_columns!()
);

/// The plan of a parent waiting for its children: no steps of its own to start, its children
/// all running to their end whatever one of them does.
fn waiting_plan() -> Plan {
    Plan {
        on_failure: model::workflows::OnFailure::Finish,
        steps: Vec::new(),
        succeed_at: None,
    }
}

impl Batch {
    /// Starts `child` (queued, its `parent` and `step` set) for its running parent, run by
    /// `fence`'s process (`None`: a job no process runs). The child of that name the parent
    /// started before, if any, is the answer; `None` when the parent does not run its own work
    /// (any more) as the fence's. The child counts in its owner's share of the queue.
    pub(super) async fn start_child<S: BatchSql>(
        &mut self,
        sql: &mut S,
        owner: &UserId,
        child: &Job,
        fence: Option<&str>,
        max_queued: Option<u64>,
        at: i64,
    ) -> Result<Option<Created>, S::Error> {
        let (Some(parent), Some(name)) = (child.parent.as_ref(), child.step.as_deref()) else {
            return Ok(None);
        };
        if let Some((_, before)) = sql.child_named(parent.as_str(), name).await? {
            return Ok(Some(Created::Again(before)));
        }
        if !sql.count_child(parent.as_str(), 1, fence).await? {
            return Ok(None);
        }
        let created = self.create(sql, owner, child, max_queued, None, at).await?;
        if !matches!(created, Created::New(_)) {
            sql.count_child(parent.as_str(), -1, fence).await?;
        }
        Ok(Some(created))
    }

    /// What a parent whose own work succeeded becomes while a child of it has not (the move to
    /// `succeeded` left it running): a run waiting for its children, settled with the batch
    /// (at once, if they all ended). The parent as it is then, or `None` when it is not such a
    /// parent.
    pub(super) async fn await_children<S: BatchSql>(
        &mut self,
        sql: &mut S,
        job_id: &JobId,
        fence: Option<&str>,
    ) -> Result<Option<Job>, S::Error> {
        let plan = super::json(&waiting_plan());
        let Some(job) = sql.await_children(job_id.as_str(), &plan, fence).await? else {
            return Ok(None);
        };
        self.runs_waiting.push(job.id.clone());
        Ok(Some(job))
    }

    /// Whether a job moved to `to` passes a cancel on to its children (and a run to its
    /// steps): when it is asked to stop, or its own work failed for good (a run settles its
    /// steps' failures itself). An interrupted job runs again, and finds its children.
    pub(super) fn cancels_children(job: &Job, to: JobStatus) -> bool {
        match to {
            JobStatus::Cancelling => true,
            JobStatus::Failed => job.kind != model::workflows::WORKFLOW_KIND,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_parent_has_a_plan_without_steps_that_lets_every_child_finish() {
        let plan = waiting_plan();
        assert!(plan.steps.is_empty());
        assert_eq!(plan.on_failure, model::workflows::OnFailure::Finish);
        let read: Plan = serde_json::from_str(&super::super::json(&plan)).unwrap();
        assert_eq!(read, plan);
    }
}
