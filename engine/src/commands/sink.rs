//! Where a command's run goes: everything [`super::run`] reads from and writes to while its
//! program runs. On the server that is the job itself, through its [`JobContext`] (the
//! database, the file store, the job's children); `headway worker` runs the same program on
//! another machine and reports to the server over HTTP instead.

use crate::kinds::JobContext;
use model::children::ChildStart;
use model::{AppError, FileRef, JobError, JobId, Level, LogLevel, Progress};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

/// What a command's run needs from the job it runs: its progress, log, result, children, input
/// files, outputs and secrets, and when to stop.
pub trait Sink: Send {
    /// The job's id.
    fn job_id(&self) -> &str;

    /// Which attempt this run is (1 for the first).
    fn attempt(&self) -> u32;

    /// The bar as last set.
    fn progress(&self) -> &Progress;

    /// Declares how much work there is (`None`: unknown) and what it is counted in.
    fn set_total(&mut self, total: Option<u64>, unit: &str) -> impl Future<Output = ()> + Send;

    /// Records `n` more units of work done.
    fn advance(&mut self, n: u64) -> impl Future<Output = ()> + Send;

    /// Sets the absolute amount of work done.
    fn set_current(&mut self, current: u64) -> impl Future<Output = ()> + Send;

    fn set_message(&mut self, message: String) -> impl Future<Output = ()> + Send;

    /// Sets the bar's colour.
    fn set_level(&mut self, level: Level) -> impl Future<Output = ()> + Send;

    /// Writes one log line; lines are never dropped.
    fn log(&mut self, level: LogLevel, line: String) -> impl Future<Output = ()> + Send;

    /// Sets the job's result (a small JSON object), or says why it is refused.
    fn set_result(&mut self, result: Value) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Starts a child of the job. `Some`: the child's job, started now; `None`: it is asked
    /// for, and started later by the server, which refuses it its own way if it must.
    fn start_child(
        &mut self,
        child: ChildStart,
    ) -> impl Future<Output = Result<Option<JobId>, AppError>> + Send;

    /// Sends the latest progress if anything changed since it was last sent.
    fn flush(&mut self) -> impl Future<Output = ()> + Send;

    /// What fires when the run should stop: the job cancelled, timed out or shut down.
    fn stop_token(&self) -> CancellationToken;

    /// Where to read the file that the parameter `param` names: where this side keeps it, or
    /// `to` (the run's own copy of it) once it fetched the file there.
    fn input(
        &mut self,
        param: &str,
        file: &FileRef,
        to: &Path,
    ) -> impl Future<Output = Result<PathBuf, JobError>> + Send;

    /// Keeps the file at `path` as the job's output `name`, of media type `content_type`
    /// (replacing an output of that name).
    fn keep_output(
        &mut self,
        path: &Path,
        name: &str,
        content_type: &str,
    ) -> impl Future<Output = Result<(), JobError>> + Send;

    /// The values of the job's secret parameters, by name.
    fn secrets(&mut self) -> impl Future<Output = HashMap<String, String>> + Send;
}

/// The job on the server: each call goes to [`JobContext`]'s own.
impl Sink for JobContext {
    fn job_id(&self) -> &str {
        JobContext::job_id(self)
    }

    fn attempt(&self) -> u32 {
        JobContext::attempt(self)
    }

    fn progress(&self) -> &Progress {
        JobContext::progress(self)
    }

    async fn set_total(&mut self, total: Option<u64>, unit: &str) {
        JobContext::set_total(self, total, unit).await
    }

    async fn advance(&mut self, n: u64) {
        JobContext::advance(self, n).await
    }

    async fn set_current(&mut self, current: u64) {
        JobContext::set_current(self, current).await
    }

    async fn set_message(&mut self, message: String) {
        JobContext::set_message(self, message).await
    }

    async fn set_level(&mut self, level: Level) {
        JobContext::set_level(self, level).await
    }

    async fn log(&mut self, level: LogLevel, line: String) {
        JobContext::log(self, level, line).await
    }

    async fn set_result(&mut self, result: Value) -> Result<(), JobError> {
        JobContext::set_result(self, result).await
    }

    async fn start_child(&mut self, child: ChildStart) -> Result<Option<JobId>, AppError> {
        JobContext::start_child(self, child.name, &child.kind, child.params)
            .await
            .map(|job| Some(job.id))
    }

    async fn flush(&mut self) {
        JobContext::flush(self).await
    }

    fn stop_token(&self) -> CancellationToken {
        JobContext::stop_token(self)
    }

    /// The file store's own copy, read where it is.
    async fn input(
        &mut self,
        _param: &str,
        file: &FileRef,
        _to: &Path,
    ) -> Result<PathBuf, JobError> {
        Ok(self.file_path(file))
    }

    async fn keep_output(
        &mut self,
        path: &Path,
        name: &str,
        content_type: &str,
    ) -> Result<(), JobError> {
        let failed = |message: String| JobError::new("output_failed", message);
        let mut from = tokio::fs::File::open(path)
            .await
            .map_err(|e| failed(format!("cannot be read: {e}")))?;
        let mut out = self.create_output(name, content_type).await?;
        tokio::io::copy(&mut from, &mut out)
            .await
            .map_err(|e| failed(format!("cannot be copied: {e}")))?;
        out.finish().await.map(drop)
    }

    async fn secrets(&mut self) -> HashMap<String, String> {
        super::secrets::read(self.blobs(), JobContext::job_id(self)).await
    }
}
