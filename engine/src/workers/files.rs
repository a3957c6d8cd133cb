//! The files of a job a worker holds: the inputs its file parameters name (an upload, or an
//! output of another job), which the worker fetches into the run's folder, and the outputs its
//! program leaves, which the worker sends back and which are listed with the job as a server's
//! run lists them. Only the worker that holds the job reaches them.

use super::report::Held;
use crate::context::OutputFile;
use crate::Jobs;
use model::{AppError, ErrorCode};
use std::collections::HashSet;
use std::path::PathBuf;

impl Jobs {
    /// Where the bytes of the file parameter `param` of the job `id` the worker holds are: a
    /// parameter that is a file by its kind's declaration (as its jobs were made with, not as
    /// the worker's file may say now), naming a file the job's owner may use (as when the job
    /// was admitted).
    pub async fn worker_input(
        &self,
        caller: &crate::Caller,
        worker: &str,
        id: &str,
        param: &str,
    ) -> Result<PathBuf, AppError> {
        let token = &Self::work_token(caller)?;
        let Held { job, owner, .. } = self.held(token, worker, id, None).await?;
        let no_such = || {
            AppError::new(
                ErrorCode::NotFound,
                format!("the job has no file for a parameter {param:?}"),
            )
        };
        let declared = self.inner.remotes.owners.get(&job.kind);
        if !declared.is_some_and(|d| d.files.contains(param)) {
            return Err(no_such());
        }
        let file = job
            .params
            .get(param)
            .and_then(|v| v.as_str())
            .and_then(model::FileRef::parse)
            .ok_or_else(no_such)?;
        let rerun_of = match &job.origin {
            Some(origin) => self
                .inner
                .store
                .job_owner(origin)
                .await
                .map_err(crate::failures::read_failed)?,
            None => None,
        };
        if !self
            .inner
            .uploads
            .may_use(&file, &owner, rerun_of.as_ref())
            .await?
        {
            return Err(no_such());
        }
        Ok(self.inner.blobs.file(&file))
    }

    /// The files (as their parameters name them) the file parameters of `job`, a worker's,
    /// name by its kind's declaration.
    pub(crate) fn held_files(&self, job: &model::Job) -> HashSet<String> {
        let Some(declared) = self.inner.remotes.owners.get(&job.kind) else {
            return HashSet::new();
        };
        declared
            .files
            .iter()
            .filter_map(|p| job.params.get(p).and_then(|v| v.as_str()))
            .map(str::to_string)
            .collect()
    }

    /// Starts the output `name` of attempt `attempt` of the job `id` the worker holds: written,
    /// then finished, it is listed with the job (fenced by the worker).
    pub async fn worker_output(
        &self,
        caller: &crate::Caller,
        worker: &str,
        id: &str,
        attempt: u32,
        name: &str,
        content_type: &str,
    ) -> Result<OutputFile, AppError> {
        let token = &Self::work_token(caller)?;
        if let Some(problem) = model::files::output_name_problem(name) {
            return Err(AppError::invalid_field(
                "name",
                format!("the output name {name:?} {problem}"),
            ));
        }
        let Held {
            worker, owner, job, ..
        } = self.held(token, worker, id, Some(attempt)).await?;
        OutputFile::start(
            &self.inner.blobs,
            &self.inner.committer,
            (&owner, &job.id, Some(worker.id.clone())),
            name,
            content_type,
        )
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, e.message))
    }
}
