//! The context a running job works through: progress, message, level, log lines, cancellation.
//!
//! Progress samples are coalesced here, at the source: a job may call `advance` a million times a
//! second, but at most one sample per [`SAMPLE_EVERY`] reaches the writer (and so the store and
//! the wire). Status changes and log lines are never coalesced.

use crate::blobs::{Blobs, Temp};
use crate::children::{ChildOf, Starter};
use crate::committer::{Attached, Committer};
use crate::files::Files;
use crate::kinds::UploadRef;
use crate::store::Attachment;
use crate::store::Fence;
use model::{AppError, ErrorCode, JobError, JobId, Level, LogLevel, Output, Progress, UserId};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
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
    /// Where uploads are read and outputs written.
    blobs: Blobs,
    /// What starts the job's children.
    starter: Starter,
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
        blobs: Blobs,
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
            blobs,
            starter: Starter::default(),
        }
    }

    /// The context with what starts the job's children.
    pub(crate) fn with_starter(self, starter: Starter) -> JobContext {
        JobContext { starter, ..self }
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
    /// Amounts stop at [`Progress::MAX_AMOUNT`], the largest the store keeps.
    pub async fn set_total(&mut self, total: Option<u64>, unit: &str) {
        self.progress.total = total.map(|t| t.min(Progress::MAX_AMOUNT));
        self.progress.unit = unit.to_string();
        self.sample(true).await;
    }

    /// Records `n` more units of work done.
    pub async fn advance(&mut self, n: u64) {
        self.progress.current = self
            .progress
            .current
            .saturating_add(n)
            .min(Progress::MAX_AMOUNT);
        self.sample(false).await;
    }

    /// Sets the absolute amount of work done.
    pub async fn set_current(&mut self, current: u64) {
        self.progress.current = current.min(Progress::MAX_AMOUNT);
        self.sample(false).await;
    }

    /// Sets the message beside the bar: the kind's own text.
    pub async fn set_message(&mut self, message: impl Into<String>) {
        self.progress.set_text(message.into());
        self.sample(false).await;
    }

    /// Sets the message beside the bar in Headway's words ([`model::words`]), which a page says
    /// in its reader's language.
    pub async fn say(&mut self, words: model::Words) {
        self.progress.say(words);
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

    /// Opens the file (an upload, or an output of a job) the job's parameters name (validation
    /// checked that its owner may use it, and its type).
    pub async fn open_upload<T>(&self, upload: &UploadRef<T>) -> Result<tokio::fs::File, JobError> {
        let gone = |why: &dyn std::fmt::Display| {
            JobError::new(
                "upload_gone",
                format!(
                "the file {upload} cannot be read ({why}); it may have expired: upload it again"
            ),
            )
        };
        let id = upload.id().ok_or_else(|| gone(&"it names no file"))?;
        tokio::fs::File::open(self.blobs.file(id))
            .await
            .map_err(|e| gone(&e))
    }

    /// Where the bytes of a file the job's parameters name are, for a kind that reads them on
    /// the blocking pool.
    pub fn file_path(&self, file: &model::FileRef) -> std::path::PathBuf {
        self.blobs.file(file)
    }

    /// Starts an output file called `name` (see [`model::files::output_name_problem`]), of
    /// media type `content_type`. Write to it, then [`OutputFile::finish`]: only then does it
    /// appear with the job, whole. Dropped unfinished, it leaves nothing.
    pub async fn create_output(
        &self,
        name: &str,
        content_type: &str,
    ) -> Result<OutputFile, JobError> {
        if let Some(problem) = model::files::output_name_problem(name) {
            return Err(JobError::new(
                "bad_output",
                format!("the output name {name:?} {problem}"),
            ));
        }
        OutputFile::start(
            &self.blobs,
            &self.committer,
            (&self.owner, &self.job_id, self.fence.clone()),
            name,
            content_type,
        )
        .await
    }

    /// Sets the job's result: a small JSON object (at most [`MAX_RESULT_BYTES`] as JSON, nested
    /// at most [`model::json::MAX_DEPTH`] levels deep) shown on its page and in `GET /api/v1/jobs/{id}`. Setting it again replaces it.
    pub async fn set_result(&mut self, result: serde_json::Value) -> Result<(), JobError> {
        if !result.is_object() {
            return Err(JobError::new(
                "bad_result",
                "a job's result must be a JSON object",
            ));
        }
        if let Some(why) = model::json::too_deep(&result, "a job's result") {
            return Err(JobError::new("bad_result", why));
        }
        let size = result.to_string().len();
        if size > MAX_RESULT_BYTES {
            return Err(JobError::new(
                "bad_result",
                format!(
                    "a job's result may be {MAX_RESULT_BYTES} bytes of JSON at most, not {size}; \
                     write larger results as an output"
                ),
            ));
        }
        self.flush().await;
        self.committer
            .attach(
                &self.owner,
                &self.job_id,
                Attachment::Result(result),
                self.fence.clone(),
            )
            .await
            .map_err(|e| {
                JobError::new(
                    "store_failed",
                    format!("the result could not be saved: {e}"),
                )
            })?;
        Ok(())
    }

    /// This job's log lines after sequence number `after`, up to `limit`, once everything it
    /// wrote so far is stored (a kind that gathers its own lines into an output).
    pub async fn written_lines(
        &mut self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<model::LogLine>, JobError> {
        self.flush().await;
        self.committer.flush().await;
        self.committer
            .store()
            .log_lines(&self.job_id, after, limit)
            .await
            .map_err(|e| {
                JobError::new(
                    "store_failed",
                    format!("the job's log could not be read: {e}"),
                )
            })
    }

    /// A page of the jobs this job's owner sees, as their role is now (their own; everyone's
    /// for an operator or an admin), newest first: for a kind that reports on the history.
    pub async fn owners_jobs(
        &self,
        filter: &crate::store::JobFilter,
    ) -> Result<Vec<model::Job>, JobError> {
        let failed = |e: crate::store::StoreError| {
            JobError::new("store_failed", format!("the jobs could not be read: {e}"))
        };
        let store = self.committer.store();
        // No account (an open server's user, the operator token): their own jobs.
        let sees_all = store
            .user_by_id(&self.owner)
            .await
            .map_err(failed)?
            .and_then(|user| model::Role::parse(&user.role))
            .is_some_and(|role| role.sees_all());
        store
            .list_jobs((!sees_all).then_some(&self.owner), filter)
            .await
            .map_err(failed)
    }

    /// Starts a child of this job: a job of `kind` with `params`, checked as a start of its
    /// owner's, named `name` among this job's children ([`model::children`]). This job then
    /// does not end before its children did, and fails if one of them did not succeed; its
    /// runner's slot is free meanwhile. A name asked for before (by an earlier attempt) gives
    /// the child started then. Refused with the start's error (a bad kind or parameter, the
    /// owner's share of the queue full), or `conflict` once this job no longer runs.
    pub async fn start_child(
        &self,
        name: impl Into<String>,
        kind: &str,
        params: serde_json::Value,
    ) -> Result<model::Job, model::AppError> {
        let of = ChildOf {
            parent: self.job_id.clone(),
            owner: self.owner.clone(),
            fence: self.fence.clone(),
            worker: None,
        };
        let child = model::children::ChildStart {
            name: name.into(),
            kind: kind.to_string(),
            params,
        };
        self.starter.start(&of, child).await
    }

    /// What fires when the job should stop, for a kind that waits on it beside other work.
    pub(crate) fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Where uploads, outputs and a job's secrets are kept.
    pub(crate) fn blobs(&self) -> &Blobs {
        &self.blobs
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

/// The largest result, as JSON.
pub const MAX_RESULT_BYTES: usize = 16 * 1024;

fn output_failed(e: std::io::Error) -> JobError {
    JobError::new(
        "output_failed",
        format!("an output file could not be written: {e}"),
    )
}

/// An output being written ([`JobContext::create_output`]).
pub struct OutputFile {
    name: String,
    content_type: String,
    temp: Temp,
    size: u64,
    dest: PathBuf,
    job_id: JobId,
    owner: UserId,
    fence: Fence,
    committer: Committer,
}

impl OutputFile {
    /// Starts the output `name` of the job `job` (of `owner`, its writes fenced by `fence`),
    /// whose name was checked.
    pub(crate) async fn start(
        blobs: &Blobs,
        committer: &Committer,
        (owner, job, fence): (&UserId, &JobId, Fence),
        name: &str,
        content_type: &str,
    ) -> Result<OutputFile, JobError> {
        let temp = blobs.temp().await.map_err(output_failed)?;
        Ok(OutputFile {
            name: name.to_string(),
            content_type: content_type.to_string(),
            temp,
            size: 0,
            dest: blobs.output(job, name),
            job_id: job.clone(),
            owner: owner.clone(),
            fence,
            committer: committer.clone(),
        })
    }

    /// Appends `bytes`.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), JobError> {
        self.temp
            .file()
            .write_all(bytes)
            .await
            .map_err(output_failed)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Puts the file in place, whole and synced, and lists it with the job (replacing an
    /// output of the same name).
    pub async fn finish(self) -> Result<Output, JobError> {
        self.keep().await.map_err(JobError::from)
    }

    /// [`OutputFile::finish`], saying why an output was not kept both as a job's error and
    /// as an API's answer ([`NotKept`]). Refused (too many outputs, past the owner's file
    /// quota, the job no longer running), nothing of it is kept.
    pub async fn keep(self) -> Result<Output, NotKept> {
        let OutputFile {
            name,
            content_type,
            temp,
            size,
            dest,
            job_id,
            owner,
            fence,
            committer,
        } = self;
        let output = Output {
            name,
            size,
            content_type,
            created_at: crate::now_ms(),
        };
        let quota = committer.file_quota();
        let over_quota = |kept: u64| NotKept {
            code: "over_quota",
            error: AppError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "the output {:?} ({} bytes) would pass the file quota of the job's owner, {} \
                     ({quota} bytes, --upload-quota-bytes), of which their uploads and outputs \
                     hold {kept} bytes now; it was not kept. Delete uploads no longer needed, \
                     or wait for old outputs to expire",
                    output.name,
                    output.size,
                    crate::uploads::human(quota),
                ),
            ),
        };
        // Refused before its bytes take the place of an output of the same name. The store
        // checks again as it lists it: that check holds against outputs attached at once.
        let store = committer.store();
        let read_failed = |e| NotKept {
            code: "store_failed",
            error: AppError::internal_because("the owner's stored files could not be read", e),
        };
        let (_, kept) = store.upload_totals(&owner).await.map_err(read_failed)?;
        if kept.saturating_add(size) > quota {
            let job = store.job(None, &job_id).await.map_err(read_failed)?;
            let replaced = job
                .iter()
                .flat_map(|j| &j.outputs)
                .find(|o| o.name == output.name)
                .map_or(0, |o| o.size);
            if !store_core::batch::within_quota(kept, size, replaced, quota) {
                return Err(over_quota(kept));
            }
        }
        // In place before it is listed, so that a listed output is always there to read. A
        // replaced output's bytes are overwritten here: its place in the quota is given back
        // as the list changes.
        let replaces = tokio::fs::try_exists(&dest).await.unwrap_or(true);
        temp.keep_as(&dest).await.map_err(|e| NotKept {
            code: "output_failed",
            error: AppError::internal_because("an output file could not be written", e),
        })?;
        let attached = committer
            .attach(
                &owner,
                &job_id,
                Attachment::Output {
                    output: output.clone(),
                    most: committer.outputs_per_job(),
                    quota: committer.file_quota(),
                },
                fence,
            )
            .await;
        let refused = |code, error| NotKept { code, error };
        let refusal = match attached {
            Ok(Attached::Done(_)) => return Ok(output),
            Ok(Attached::NotRunning) => refused(
                "not_running",
                AppError::new(
                    ErrorCode::Conflict,
                    "the job stopped before its output was recorded",
                ),
            ),
            Ok(Attached::Full(has)) => refused(
                "too_many_outputs",
                AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "a job may write {has} outputs at most on this server; {:?} was not kept",
                        output.name
                    ),
                ),
            ),
            Ok(Attached::OverQuota(kept)) => over_quota(kept),
            Err(e) => refused(
                "store_failed",
                AppError::internal_because("the output could not be recorded", e),
            ),
        };
        // Not listed, so not kept: the bytes go too, unless they took the place of a listed
        // output's.
        if matches!(refusal.code, "too_many_outputs" | "over_quota") && !replaces {
            let _ = tokio::fs::remove_file(&dest).await;
        }
        Err(refusal)
    }
}

/// Why an output was not kept: `code` for the job's error, `error` for an API's answer (413
/// past the owner's file quota, 409 past the outputs a job may have or once it stopped).
#[derive(Debug)]
pub struct NotKept {
    /// The job's error code: `over_quota`, `too_many_outputs`, `not_running`, `store_failed`
    /// or `output_failed`.
    pub code: &'static str,
    /// What an API caller is answered.
    pub error: AppError,
}

impl From<NotKept> for JobError {
    fn from(n: NotKept) -> JobError {
        JobError::new(n.code, n.error.message)
    }
}

/// An output is also an async writer (for `tokio::io::copy`, a CSV writer over a buffer…).
impl tokio::io::AsyncWrite for OutputFile {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let written = std::pin::Pin::new(this.temp.file()).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &written {
            this.size += *n as u64;
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(self.temp.file()).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(self.temp.file()).poll_shutdown(cx)
    }
}
