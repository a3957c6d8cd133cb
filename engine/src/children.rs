//! How a running job reaches what starts its children ([`model::children`]): the runner hands
//! each job's context a [`Starter`], which the engine fills once it is built (the engine owns
//! the runner, so the runner cannot own the engine). A context whose starter was never filled
//! (a kind tested alone) starts no children, and says so.

use crate::store::Fence;
use model::children::ChildStart;
use model::{AppError, ErrorCode, Job, JobId, UserId};
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
}

/// The future [`StartsChildren::start_child`] gives.
pub type Starting<'a> = Pin<Box<dyn Future<Output = Result<Job, AppError>> + Send + 'a>>;

/// What starts children: the engine.
pub trait StartsChildren: Send + Sync {
    /// Starts `child` for `of`: the child as stored (or the one of that name started before).
    fn start_child<'a>(&'a self, of: &'a ChildOf, child: ChildStart) -> Starting<'a>;
}

/// Where a running job's children are started: empty until the engine is built.
#[derive(Clone, Default)]
pub struct Starter(Arc<OnceLock<Box<dyn StartsChildren>>>);

impl Starter {
    /// Fills the starter: once (a second call changes nothing).
    pub fn fill(&self, starts: Box<dyn StartsChildren>) {
        let _ = self.0.set(starts);
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
