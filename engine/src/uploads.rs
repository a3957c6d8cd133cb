//! Uploads: a file streamed into the file store ([`crate::blobs`]) chunk by chunk, hashed on
//! the way, checked against the size limit and its owner's quota (one quota for the files a user
//! keeps: their uploads and their jobs' outputs, see [`crate::context::OutputFile::keep`]), and
//! recorded only once it is whole; what the caller may list, use and delete; and the sweep that
//! deletes uploads no job used within a day, outputs past their retention, and what interrupted
//! writes left.
//!
//! Memory does not grow with the file: one chunk at a time is held. A body that stops short
//! (the connection cut, a limit passed) leaves nothing behind: its temporary file is deleted
//! when the receiving future is dropped or fails.

use crate::blobs::Blobs;
use crate::caller::Caller;
use crate::failures::read_failed;
use crate::files::Files;
use crate::kinds::around_start::AroundStart;
use crate::kinds::{FileSeen, KindEnv, Registry, Uploaded};
use crate::membership::Membership;
use crate::now_ms;
use crate::store::{Store, UploadAdded};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use model::{AppError, ErrorCode, FileRef, Job, JobId, ParamType, Upload, UploadId, UserId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The limits on uploads.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// The largest file, in bytes.
    pub max_bytes: u64,
    /// The bytes one user's stored files may hold together: their uploads and the outputs
    /// their jobs list (a worker's too), counted in the same running totals.
    pub quota: u64,
    /// How many uploads one user may send at once.
    pub at_once: usize,
    /// How long an upload no job used is kept.
    pub unused_for: Duration,
    /// How long outputs, and uploads since a job last used them, are kept.
    pub keep_files: Duration,
    /// How many uploads one user may hold at once.
    pub per_user: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_bytes: 1 << 30,
            quota: 10 << 30,
            at_once: 4,
            unused_for: Duration::from_secs(24 * 3600),
            keep_files: Duration::from_secs(30 * 24 * 3600),
            per_user: 1000,
        }
    }
}

/// What a client says of a file it sends.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// The file's name, for display.
    pub name: String,
    /// Its media type, if the client gave one.
    pub content_type: Option<String>,
    /// Its length, if the client declared one (`Content-Length`).
    pub declared: Option<u64>,
}

/// The longest file name kept, in bytes.
const MAX_NAME: usize = 255;

/// Uploads one page of the listing gives at most.
pub const MAX_UPLOADS_PAGE: u32 = 1000;

/// Uploads a page of the listing gives unless asked for another number.
pub const UPLOADS_PAGE: u32 = 100;

/// The bytes kept to tell what a file looks like.
const HEAD: usize = 8192;

/// Uploads in progress, per user.
#[derive(Default)]
pub(crate) struct Sending(Mutex<HashMap<UserId, usize>>);

struct SendSlot<'a> {
    sending: &'a Sending,
    user: UserId,
}

impl Sending {
    fn take(&self, user: &UserId, at_once: usize) -> Option<SendSlot<'_>> {
        let mut map = self.0.lock().expect("uploads in progress");
        let n = map.entry(user.clone()).or_default();
        if *n >= at_once {
            return None;
        }
        *n += 1;
        Some(SendSlot {
            sending: self,
            user: user.clone(),
        })
    }
}

impl Drop for SendSlot<'_> {
    fn drop(&mut self) {
        let mut map = self.sending.0.lock().expect("uploads in progress");
        if let Some(n) = map.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.user);
            }
        }
    }
}

/// A file name fit for display: its last path segment, without control characters (C0, C1)
/// or direction marks (bidi overrides, isolates and marks, which make `vsc.exe` after U+202E read as
/// `exe.csv`), at most [`MAX_NAME`] bytes; `upload` when nothing is left. Every upload's name
/// is made by it, however the file came (API, multipart, the start form).
pub fn display_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !model::is_format_mark(*c))
        .collect();
    clean = clean.trim().to_string();
    if clean.len() > MAX_NAME {
        let mut cut = MAX_NAME;
        while !clean.is_char_boundary(cut) {
            cut -= 1;
        }
        clean.truncate(cut);
    }
    if clean.is_empty() || clean == "." || clean == ".." {
        "upload".into()
    } else {
        clean
    }
}

/// What a caller does with an upload. Who may do what is decided in [`may`] alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAct {
    /// See it in the listing: its owner only.
    List,
    /// Read what is known of it (`GET /api/v1/uploads/{id}`): its owner, and an admin.
    Read,
    /// Delete it while no job used it: its owner, and an admin (with a token that writes), who
    /// keeps the file store clean.
    Delete,
    /// Name it in a job's parameters, which reads its content: its owner only (a viewer starts
    /// nothing; an operator or an admin re-running someone's job may use that job's uploads,
    /// which [`Uploads::kind_env`] allows for the re-run alone).
    Use,
}

/// Whether `caller` may do `act` with an upload of `owner`, as the policy says
/// ([`crate::authority::Act::Upload`]). An upload is private to the user who sent it, whatever
/// the role that lets others see their jobs: a viewer or an operator reads and deletes only
/// their own; an admin reads and deletes anyone's, never uses them.
pub fn may(caller: &Caller, owner: &UserId, act: UploadAct) -> bool {
    use crate::authority::Upload;
    let what = match act {
        UploadAct::List => Upload::List,
        UploadAct::Read => Upload::Read,
        UploadAct::Delete => Upload::Delete,
        UploadAct::Use => Upload::Use,
    };
    caller
        .may(crate::authority::Act::Upload(what, owner))
        .is_ok()
}

/// `bytes` as a person reads them: `10 GiB`, `1.5 MiB`, `300 bytes`.
pub(crate) fn human(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

/// Uploads: a service of the engine, which owns their limits, the uploads being received and
/// the sweep of the files that expired.
#[derive(Clone)]
pub struct Uploads(Arc<Shared>);

struct Shared {
    store: Store,
    blobs: Blobs,
    limits: UploadLimits,
    /// Uploads being received, per user.
    sending: Sending,
    /// The kinds, whose file parameters name uploads.
    kinds: Registry,
}

impl Uploads {
    pub(crate) fn new(
        store: Store,
        blobs: Blobs,
        limits: UploadLimits,
        kinds: Registry,
    ) -> Uploads {
        Uploads(Arc::new(Shared {
            store,
            blobs,
            limits,
            sending: Sending::default(),
            kinds,
        }))
    }

    pub fn limits(&self) -> UploadLimits {
        self.0.limits
    }

    /// The refusal of a file larger than the limit.
    pub fn too_large(&self) -> AppError {
        let max = self.0.limits.max_bytes;
        AppError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the file is larger than the {} ({max} bytes) this server takes (--max-upload-bytes); nothing was kept",
                human(max)
            ),
        )
    }

    fn over_quota(&self, kept: u64) -> AppError {
        let quota = self.0.limits.quota;
        AppError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "this file would pass your upload quota of {} ({quota} bytes; your uploads and \
                 your jobs' outputs hold {} now); delete uploads you no longer need \
                 (DELETE /api/v1/uploads/{{id}}), or wait for old outputs to expire; nothing was kept",
                human(quota),
                human(kept)
            ),
        )
    }

    /// Receives a file from `body` as an upload of `caller`. Refused before anything is read
    /// when the declared length is over the limit or the quota (the caller drains the body),
    /// when the caller may not start jobs, or sends too many files at once.
    pub async fn receive<S, E>(
        &self,
        caller: &Caller,
        incoming: Incoming,
        mut body: S,
    ) -> Result<Upload, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        caller.may_start()?;
        let limits = self.0.limits;
        if incoming.declared.is_some_and(|n| n > limits.max_bytes) {
            return Err(self.too_large());
        }
        let owner = caller.user();
        let Some(_slot) = self.0.sending.take(owner, limits.at_once) else {
            return Err(AppError::too_many(
                format!(
                    "you are sending {} files already; wait for one to finish",
                    limits.at_once
                ),
                1,
            ));
        };
        let (count, kept) = self
            .0
            .store
            .upload_totals(owner)
            .await
            .map_err(read_failed)?;
        if count >= limits.per_user {
            return Err(self.too_many_uploads(count));
        }
        if kept.saturating_add(incoming.declared.unwrap_or(0)) > limits.quota {
            return Err(self.over_quota(kept));
        }
        let blobs = &self.0.blobs;
        let store_failed = |e: std::io::Error| {
            AppError::internal_because("the server could not store the file; nothing was kept", e)
        };
        let mut temp = blobs.temp().await.map_err(store_failed)?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(HEAD);
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::bad_request(format!(
                    "the file did not arrive whole ({e}); nothing was kept"
                ))
            })?;
            size += chunk.len() as u64;
            if size > limits.max_bytes {
                return Err(self.too_large());
            }
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            temp.file().write_all(&chunk).await.map_err(store_failed)?;
        }
        if size == 0 {
            return Err(AppError::invalid_words("file", model::words::file_empty()));
        }
        let upload = Upload {
            id: UploadId::random(),
            name: display_name(&incoming.name),
            size,
            sha256: hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            content_type: incoming
                .content_type
                .filter(|t| !t.trim().is_empty() && t.len() <= 255)
                .unwrap_or_else(|| "application/octet-stream".into()),
            looks_like: crate::kinds::upload::looks_like(&head).into(),
            created_at: now_ms(),
            used_at: None,
        };
        let dest = blobs.upload(&upload.id);
        temp.keep_as(&dest).await.map_err(store_failed)?;
        let recorded = self
            .0
            .store
            .add_upload(owner, &upload, limits.quota, limits.per_user)
            .await;
        match recorded {
            Ok(UploadAdded::Added) => Ok(upload),
            Ok(UploadAdded::OverQuota) => {
                blobs.remove_upload(&upload.id).await;
                Err(self.over_quota(kept))
            }
            Ok(UploadAdded::TooMany) => {
                blobs.remove_upload(&upload.id).await;
                Err(self.too_many_uploads(limits.per_user))
            }
            Err(e) => {
                blobs.remove_upload(&upload.id).await;
                Err(read_failed(e))
            }
        }
    }

    /// The caller's uploads, newest first: an upload is listed to its owner only, whatever
    /// the caller's role ([`UploadAct::List`]); `limit` (at most [`MAX_UPLOADS_PAGE`]) after
    /// the upload `before` when given (the last of the previous page).
    pub async fn list(
        &self,
        caller: &Caller,
        before: Option<&UploadId>,
        limit: u32,
    ) -> Result<Vec<Upload>, AppError> {
        self.0
            .store
            .uploads_of(caller.user(), before, limit.clamp(1, MAX_UPLOADS_PAGE))
            .await
            .map_err(read_failed)
    }

    /// What a user with as many uploads as they may have is told.
    fn too_many_uploads(&self, count: u64) -> AppError {
        AppError::too_many(
            format!(
                "you have {count} uploads, as many as one may keep on this server; \
                 delete some you no longer need (an upload no job used goes by itself after a while)"
            ),
            60,
        )
    }

    /// An upload the caller may read ([`UploadAct::Read`]: theirs, or anyone's for an admin);
    /// otherwise `not_found`, as if it did not exist.
    pub async fn get(&self, caller: &Caller, id: &UploadId) -> Result<Upload, AppError> {
        self.upload_for(caller, id, UploadAct::Read).await
    }

    /// The upload `id` if `caller` may do `act` with it; `not_found` otherwise.
    async fn upload_for(
        &self,
        caller: &Caller,
        id: &UploadId,
        act: UploadAct,
    ) -> Result<Upload, AppError> {
        match self.0.store.upload(id).await {
            Ok(Some((owner, upload))) if may(caller, &owner, act) => Ok(upload),
            Ok(_) => Err(AppError::not_found()),
            Err(e) => Err(read_failed(e)),
        }
    }

    /// Deletes an upload the caller may delete ([`UploadAct::Delete`]: theirs, or anyone's for
    /// an admin) and no job used.
    pub async fn delete(&self, caller: &Caller, id: &UploadId) -> Result<(), AppError> {
        caller.may_write()?;
        let upload = self.upload_for(caller, id, UploadAct::Delete).await?;
        if upload.used_at.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "a job used this upload: it is kept with the job's history, and deleted with \
                 its outputs once they expire",
            ));
        }
        let deleted = self
            .0
            .store
            .delete_unused_upload(id)
            .await
            .map_err(read_failed)?;
        if !deleted {
            return Err(AppError::not_found());
        }
        self.0.blobs.remove_upload(id).await;
        Ok(())
    }

    /// The environment `kind`'s parameters are checked in for `user`: `files`, and the files its
    /// file parameters name (in `values`: the raw parameters, JSON or form) that `user` may use:
    /// uploads ([`UploadAct::Use`]: theirs, and for a re-run, those of the owner of the job run
    /// again, `rerun_of`) and the outputs of their jobs (or, for a re-run, of that owner's).
    pub(crate) async fn kind_env(
        &self,
        files: Files,
        user: &UserId,
        rerun_of: Option<&UserId>,
        kind: &str,
        values: impl Fn(&str) -> Option<String>,
    ) -> Result<KindEnv, AppError> {
        let names = self.0.kinds.params_of(kind, ParamType::File);
        self.env_for(files, user, rerun_of, names, values).await
    }

    /// [`Uploads::kind_env`] for the file parameters called `names` (a workflow's).
    pub(crate) async fn env_for(
        &self,
        files: Files,
        user: &UserId,
        rerun_of: Option<&UserId>,
        names: Vec<String>,
        values: impl Fn(&str) -> Option<String>,
    ) -> Result<KindEnv, AppError> {
        let mut found = HashMap::new();
        for name in names {
            let Some(file) = values(&name).and_then(|v| FileRef::parse(&v)) else {
                continue;
            };
            if let Some(seen) = self.seen(&file, user, rerun_of).await? {
                found.insert(file, seen);
            }
        }
        Ok(KindEnv {
            files,
            uploads: Uploaded::new(found, self.0.blobs.clone()),
        })
    }

    /// Whether `user` (or, for a re-run, `rerun_of`) may use `file` in a job's parameters: it
    /// is theirs (see [`UploadAct::Use`]), and still there.
    pub(crate) async fn may_use(
        &self,
        file: &FileRef,
        user: &UserId,
        rerun_of: Option<&UserId>,
    ) -> Result<bool, AppError> {
        Ok(self.seen(file, user, rerun_of).await?.is_some())
    }

    /// What is known of `file` if `user` (or, for a re-run, `rerun_of`) may use it.
    async fn seen(
        &self,
        file: &FileRef,
        user: &UserId,
        rerun_of: Option<&UserId>,
    ) -> Result<Option<FileSeen>, AppError> {
        let mine = |owner: &UserId| owner == user || rerun_of.is_some_and(|o| o == owner);
        match file {
            FileRef::Upload(id) => match self.0.store.upload(id).await {
                Ok(Some((owner, upload))) if mine(&owner) => Ok(Some(FileSeen::from(&upload))),
                Ok(_) => Ok(None),
                Err(e) => Err(read_failed(e)),
            },
            FileRef::Output { job, name } => {
                let mut output = None;
                for owner in std::iter::once(user).chain(rerun_of) {
                    let held = self.0.store.job(Some(owner), job).await;
                    let held = held.map_err(read_failed)?;
                    output = held.and_then(|j| j.outputs.into_iter().find(|o| o.name == *name));
                    if output.is_some() {
                        break;
                    }
                }
                let Some(output) = output else {
                    return Ok(None);
                };
                // What its beginning looks like, read as an upload's is when it arrives.
                let path = self.0.blobs.output(job, name);
                let head = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
                    use std::io::Read;
                    let mut head = Vec::with_capacity(HEAD);
                    std::fs::File::open(path)?
                        .take(HEAD as u64)
                        .read_to_end(&mut head)?;
                    Ok(head)
                })
                .await;
                let Ok(Ok(head)) = head else {
                    return Ok(None);
                };
                Ok(Some(FileSeen {
                    looks_like: crate::kinds::upload::looks_like(&head).into(),
                    name: output.name,
                    size: output.size,
                    content_type: output.content_type,
                }))
            }
        }
    }

    /// Records that a job took the uploads its parameters name, so they are kept with it.
    async fn keep_for(&self, kind: &str, params: &serde_json::Value) {
        let ids: Vec<UploadId> = self
            .0
            .kinds
            .params_of(kind, ParamType::File)
            .iter()
            .filter_map(|name| match FileRef::parse(params.get(name)?.as_str()?)? {
                FileRef::Upload(id) => Some(id),
                FileRef::Output { .. } => None,
            })
            .collect();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.0.store.use_uploads(&ids, now_ms()).await {
            tracing::error!(error = %model::error::Chain(&e), "cannot record that a job used its uploads");
        }
    }

    /// Sweeps files ([`Uploads::sweep`]) every ten minutes, or twice per upload lifetime when
    /// that is shorter; where processes share the database, only the one holding the `files`
    /// lease does.
    pub(crate) fn spawn_sweeper(
        &self,
        membership: Arc<Membership>,
        stopping: tokio_util::sync::CancellationToken,
    ) {
        let uploads = self.clone();
        let every = (self.0.limits.unused_for / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(600));
        let hold_ms = (every * 3).as_millis() as i64;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopping.cancelled() => return,
                }
                let me = membership.id();
                match uploads.0.store.try_lease("files", &me, hold_ms).await {
                    Ok(true) => {
                        let (uploads, outputs) = uploads.sweep().await;
                        if uploads + outputs > 0 {
                            tracing::info!(uploads, outputs, "deleted expired uploads and outputs");
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %model::error::Chain(&e), "cannot take the files lease; retrying at the next tick")
                    }
                }
            }
        });
    }

    /// Deletes uploads no job used within their time, and outputs (and uploads since last
    /// used) past theirs, a bounded batch at a time, with their files; and temporary files a
    /// crash left. How many uploads and jobs' outputs went.
    pub async fn sweep(&self) -> (usize, usize) {
        let limits = self.0.limits;
        let now = now_ms();
        let before = |d: Duration| now - d.as_millis().min(i64::MAX as u128) as i64;
        let (mut uploads, mut outputs) = (0, 0);
        loop {
            let stale = match self
                .0
                .store
                .delete_stale_uploads(before(limits.unused_for), before(limits.keep_files), 500)
                .await
            {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::error!(error = %model::error::Chain(&e), "cannot sweep old uploads");
                    break;
                }
            };
            for id in &stale {
                self.0.blobs.remove_upload(id).await;
            }
            uploads += stale.len();
            if stale.len() < 500 {
                break;
            }
        }
        loop {
            let jobs: Vec<JobId> = match self
                .0
                .store
                .expire_outputs(before(limits.keep_files), 500)
                .await
            {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::error!(error = %model::error::Chain(&e), "cannot expire old outputs");
                    break;
                }
            };
            for id in &jobs {
                self.0.blobs.remove_outputs(id).await;
            }
            outputs += jobs.len();
            if jobs.len() < 500 {
                break;
            }
        }
        self.0
            .blobs
            .sweep_temp(Duration::from_secs(24 * 3600))
            .await;
        self.sweep_secrets().await;
        (uploads, outputs)
    }

    /// Removes the secrets of jobs that ended (or are gone) without a run that removed them: a
    /// queued job cancelled, a job whose process died.
    async fn sweep_secrets(&self) {
        let Ok(mut dir) = tokio::fs::read_dir(self.0.blobs.root().join("secrets")).await else {
            return;
        };
        while let Ok(Some(entry)) = dir.next_entry().await {
            let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|n| JobId::parse(n).ok())
            else {
                // Named for no job: no job will ever read it.
                if orphaned(&entry).await {
                    let _ = tokio::fs::remove_file(entry.path()).await;
                }
                continue;
            };
            match self.0.store.job(None, &id).await {
                Ok(Some(job)) if !job.status.is_terminal() => {}
                Ok(Some(_)) => crate::commands::secrets::forget(&self.0.blobs, &id).await,
                // Secrets are kept just before their job is stored: a job not found may be
                // one being started now. Only a file left long enough is an orphan.
                Ok(None) if !orphaned(&entry).await => {}
                Ok(None) => crate::commands::secrets::forget(&self.0.blobs, &id).await,
                Err(_) => return,
            }
        }
    }
}

/// How long a job's secrets may wait for the job to be stored before the sweeper takes them
/// for a start that failed.
const SECRETS_ORPHANED_AFTER: Duration = Duration::from_secs(3600);

/// Whether a secrets file whose job is not in the store was written long enough ago that no
/// start is still storing its job.
async fn orphaned(entry: &tokio::fs::DirEntry) -> bool {
    entry
        .metadata()
        .await
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= SECRETS_ORPHANED_AFTER)
}

/// Uploads' part in every start ([`AroundStart`]): the uploads a job's file parameters name are
/// kept from its start on, with the job.
impl AroundStart for Uploads {
    fn before<'a>(&'a self, job: &'a mut Job) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            self.keep_for(&job.kind, &job.params).await;
            Ok(())
        })
    }

    fn after<'a>(&'a self, _: &'a JobId, _: &'a str, _: bool) -> BoxFuture<'a, ()> {
        // A use recorded for a job that was not stored only keeps the upload a while longer.
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::testing::named;

    #[test]
    fn names_are_for_display_only() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\me\\people.csv"), "people.csv");
        assert_eq!(display_name("a\nb.csv"), "ab.csv");
        assert_eq!(display_name("\u{202e}vsc.exe"), "vsc.exe");
        assert_eq!(
            display_name("a\u{2066}b\u{2069}\u{200e}\u{200f}\u{9b}\u{1b}.csv"),
            "ab.csv"
        );
        assert_eq!(display_name(".."), "upload");
        assert_eq!(display_name(""), "upload");
        assert_eq!(display_name(&"é".repeat(300)).len(), 254);
    }

    #[test]
    fn an_upload_is_its_owners_and_an_admins_to_read_and_delete_and_its_owners_to_use() {
        use model::Role;
        let owner = named::<UserId>("u-owner");
        let mine = Caller::account(named("u-owner"), "ann", Role::Viewer, true);
        assert!([
            UploadAct::List,
            UploadAct::Read,
            UploadAct::Delete,
            UploadAct::Use
        ]
        .into_iter()
        .all(|act| may(&mine, &owner, act)));
        for role in [Role::Viewer, Role::Member, Role::Operator] {
            let other = Caller::account(named("u-other"), "bob", role, true);
            for act in [
                UploadAct::List,
                UploadAct::Read,
                UploadAct::Delete,
                UploadAct::Use,
            ] {
                assert!(!may(&other, &owner, act), "{role} {act:?}");
            }
        }
        let admin = Caller::account(named("u-admin"), "root", Role::Admin, true);
        assert!(may(&admin, &owner, UploadAct::Read) && may(&admin, &owner, UploadAct::Delete));
        assert!(!may(&admin, &owner, UploadAct::Use) && !may(&admin, &owner, UploadAct::List));
        let reader = Caller::account(named("u-admin"), "root", Role::Admin, false);
        assert!(!may(&reader, &owner, UploadAct::Delete));
        assert!(!may(
            &Caller::new(named("anonymous")),
            &owner,
            UploadAct::Read
        ));
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human(1 << 30), "1 GiB");
        assert_eq!(human(3 << 20), "3.0 MiB");
        assert_eq!(human(12), "12 bytes");
    }
}
