//! Jobs' outputs as their readers get them: whoever sees a job sees its outputs, and no one
//! else; the bytes come from the file store every process shares.

use super::Jobs;
use crate::caller::Caller;
use model::{AppError, JobId, Output};
use std::path::PathBuf;

impl Jobs {
    /// The outputs of a job the caller may see, in the order they were first written.
    pub async fn outputs(&self, caller: &Caller, id: &JobId) -> Result<Vec<Output>, AppError> {
        Ok(self.job(caller, id).await?.outputs)
    }

    /// One output of a job the caller may see, and where its bytes are; `not_found` for a job
    /// the caller may not see, a name the job has no output by, or an output whose file has
    /// gone.
    pub async fn output(
        &self,
        caller: &Caller,
        id: &JobId,
        name: &str,
    ) -> Result<(Output, PathBuf), AppError> {
        let job = self.job(caller, id).await?;
        let output = job
            .outputs
            .into_iter()
            .find(|o| o.name == name)
            .ok_or_else(AppError::not_found)?;
        let path = self.inner.blobs.output(id, name);
        Ok((output, path))
    }
}
