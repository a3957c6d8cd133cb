//! A run's plan as its row keeps it: what re-running it starts again, and what its page draws.

use crate::failures::read_failed;
use crate::jobs::Jobs;
use model::workflows::Plan;
use model::{AppError, JobId};

impl Jobs {
    /// The plan of the run `run` (a job the caller may see): `None` for a job that is no run, or
    /// whose plan cannot be read.
    pub async fn run_plan(&self, run: &JobId) -> Result<Option<Plan>, AppError> {
        Ok(self
            .inner
            .store
            .run_plan(run)
            .await
            .map_err(read_failed)?
            .and_then(|p| serde_json::from_str(&p).ok()))
    }
}
