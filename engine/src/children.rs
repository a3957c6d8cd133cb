//! How a running job reaches the engine: what starts its children ([`model::children`]), and
//! what checks the parameters of a step rendered after its run was admitted before it starts
//! ([`crate::jobs`]' admission). The runner hands each job's context a [`Starter`], which the
//! engine fills once it is built (the engine owns the runner, so the runner cannot own the
//! engine). A context whose starter was never filled (a kind tested alone) starts no children,
//! and says so; its jobs' parameters are taken as they are.

use crate::store::Fence;
use model::children::ChildStart;
use model::{AppError, ErrorCode, Job, JobError, JobId, UserId};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

/// The running job a child is asked for.
#[derive(Debug, Clone)]
pub struct ChildOf {
    pub parent: JobId,
    pub owner: UserId,
    /// The process that runs it (`None`: a job no process runs, reported on over HTTP).
    pub fence: Fence,
    /// What a job on a worker may ask for ([`WorkerChildren`]); `None`: what its owner may.
    pub worker: Option<WorkerChildren>,
}

/// What the children of a job a worker runs may be: of the kinds the worker's token owns, and
/// with file parameters that name only the files the job was given or its own outputs. A
/// worker acts on the jobs it holds, never as their owner toward anything else.
#[derive(Debug, Clone)]
pub struct WorkerChildren {
    /// The worker token.
    pub token_id: String,
    /// The files (as their parameters name them) the parent job's file parameters named.
    pub files: std::collections::HashSet<String>,
}

/// The future [`StartsChildren::start_child`] gives.
pub type Starting<'a> = Pin<Box<dyn Future<Output = Result<Job, AppError>> + Send + 'a>>;

/// The future [`StartsChildren::admit`] gives: the parameters to run with, or why not.
pub type Admitting<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, JobError>> + Send + 'a>>;

/// What starts children and admits rendered parameters: the engine.
pub trait StartsChildren: Send + Sync {
    /// Starts `child` for `of`: the child as stored (or the one of that name started before).
    fn start_child<'a>(&'a self, of: &'a ChildOf, child: ChildStart) -> Starting<'a>;

    /// The parameters `job` of `owner` runs with, as its kind checks them now.
    fn admit<'a>(&'a self, owner: &'a UserId, job: &'a Job) -> Admitting<'a>;
}

/// Where a running job's children are started: empty until the engine is built.
#[derive(Clone, Default)]
pub struct Starter(Arc<OnceLock<Box<dyn StartsChildren>>>);

impl Starter {
    /// Fills the starter: once (a second call changes nothing).
    pub fn fill(&self, starts: Box<dyn StartsChildren>) {
        let _ = self.0.set(starts);
    }

    /// The parameters `job` of `owner` runs with, as its kind checks them now (as they are, in
    /// a runner without an engine).
    pub async fn admit(&self, owner: &UserId, job: &Job) -> Result<serde_json::Value, JobError> {
        match self.0.get() {
            Some(starts) => starts.admit(owner, job).await,
            None => Ok(job.params.clone()),
        }
    }

    pub async fn start(&self, of: &ChildOf, child: ChildStart) -> Result<Job, AppError> {
        match self.0.get() {
            Some(starts) => starts.start_child(of, child).await,
            None => Err(AppError::new(
                ErrorCode::Unavailable,
                "this job's children cannot be started here",
            )),
        }
    }
}

impl std::fmt::Debug for Starter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Starter")
            .field("filled", &self.0.get().is_some())
            .finish()
    }
}
