//! The context a running job works through: progress, message, level, log lines, cancellation.
//!
//! Progress samples are coalesced here, at the source: a job may call `advance` a million times a
//! second, but at most one sample per [`SAMPLE_EVERY`] reaches the writer (and so the store and
//! the wire). Status changes and log lines are never coalesced.

use crate::committer::Committer;
use crate::files::Files;
use crate::store::Fence;
use model::{JobId, Level, LogLevel, Progress, UserId};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The shortest time between two progress samples of one job (10 per second).
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

pub struct JobContext {
    job_id: JobId,
    owner: UserId,
    /// The process running the job: its writes count only while the job is still its own.
    fence: Fence,
    committer: Committer,
    progress: Progress,
    /// When the last sample was sent, and whether something changed since.
    last_sample: Option<Instant>,
    dirty: bool,
    /// Fires when a person cancels the job or the server shuts down.
    stop: CancellationToken,
    /// What a resumable kind saved last time this job ran, if it was interrupted.
    resume_from: Option<serde_json::Value>,
    /// What the job may open: its owner's part of the data folder.
    files: Arc<Files>,
    /// Which attempt this run is (1 for the first).
    attempt: u32,
}

impl JobContext {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        job_id: JobId,
        owner: UserId,
        fence: Fence,
        committer: Committer,
        progress: Progress,
        stop: CancellationToken,
        resume_from: Option<serde_json::Value>,
        files: Arc<Files>,
    ) -> JobContext {
        JobContext {
            job_id,
            owner,
            fence,
            committer,
            progress,
            last_sample: None,
            dirty: false,
            stop,
            resume_from,
            files,
            attempt: 1,
        }
    }

    /// Which attempt this run is: 1, then 2, 3… when a failed attempt is tried again (see
    /// [`crate::kinds::Retry`]).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Runs as attempt `n`.
    pub(crate) fn on_attempt(mut self, n: u32) -> JobContext {
        self.attempt = n.max(1);
        self
    }

    pub fn job_id(&self) -> &JobId {
        &self.job_id
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Declares how much work there is (`None`: unknown) and what it is counted in.
    pub async fn set_total(&mut self, total: Option<u64>, unit: &str) {
        self.progress.total = total;
        self.progress.unit = unit.to_string();
        self.sample(true).await;
    }

    /// Records `n` more units of work done.
    pub async fn advance(&mut self, n: u64) {
        self.progress.current = self.progress.current.saturating_add(n);
        self.sample(false).await;
    }

    /// Sets the absolute amount of work done.
    pub async fn set_current(&mut self, current: u64) {
        self.progress.current = current;
        self.sample(false).await;
    }

    pub async fn set_message(&mut self, message: impl Into<String>) {
        self.progress.message = message.into();
        self.sample(false).await;
    }

    /// Sets the bar's colour; a job that ends with `Warning` still succeeds.
    pub async fn set_level(&mut self, level: Level) {
        if self.progress.level != level {
            self.progress.level = level;
            self.sample(true).await;
        }
    }

    /// Writes one log line. Lines are never dropped or coalesced.
    pub async fn log(&mut self, level: LogLevel, line: impl Into<String>) {
        self.committer
            .log(
                &self.owner,
                &self.job_id,
                level,
                line.into(),
                self.fence.clone(),
            )
            .await;
    }

    /// Saves how far a resumable job has come. If the server stops, the job is queued again on
    /// the next start and finds this value in [`JobContext::resume_from`]. The latest progress
    /// is saved with it, so the bar continues where it was.
    pub async fn checkpoint(&mut self, value: serde_json::Value) {
        self.flush().await;
        self.committer
            .checkpoint(&self.job_id, value, self.fence.clone())
            .await;
    }

    /// Logs `line` and saves the checkpoint `value` in one commit, for a line that records the
    /// work the checkpoint says is done (a file's manifest line): whatever stops the server, the
    /// resumed job neither repeats the line nor lacks it.
    pub async fn checkpoint_with_line(
        &mut self,
        value: serde_json::Value,
        level: LogLevel,
        line: impl Into<String>,
    ) {
        self.flush().await;
        self.committer
            .log_and_checkpoint(
                &self.owner,
                &self.job_id,
                (level, line.into()),
                value,
                self.fence.clone(),
            )
            .await;
    }

    /// The last checkpoint of an earlier, interrupted run of this job.
    pub fn resume_from(&self) -> Option<&serde_json::Value> {
        self.resume_from.as_ref()
    }

    /// What the job may open: its owner's part of the data folder (`--data-root`). Kinds open
    /// every file they are given through it (see `kinds::files`).
    pub fn files(&self) -> &Files {
        &self.files
    }

    pub fn is_cancelled(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Completes when the job should stop (cancel request or shutdown).
    pub async fn cancelled(&self) {
        self.stop.cancelled().await
    }

    /// Sends the latest progress if anything changed since the last sample.
    pub async fn flush(&mut self) {
        if self.dirty {
            self.send().await;
        }
    }

    async fn sample(&mut self, force: bool) {
        self.dirty = true;
        let due = self.last_sample.is_none_or(|t| t.elapsed() >= SAMPLE_EVERY);
        if force || due {
            self.send().await;
        }
    }

    async fn send(&mut self) {
        self.dirty = false;
        self.last_sample = Some(Instant::now());
        self.progress.at = Some(crate::now_ms());
        self.committer
            .progress(
                &self.owner,
                &self.job_id,
                self.progress.clone(),
                self.fence.clone(),
            )
            .await;
    }
}
