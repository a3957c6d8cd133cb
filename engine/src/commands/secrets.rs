//! A job's secrets. A secret parameter is never stored with the job: the engine takes its
//! value out of the parameters before the job is stored ([`take`]) and keeps it in the file
//! store, in a file only Headway's user may read ([`keep`]), where whichever process runs the
//! job reads it ([`read`]). The file goes when the job ends ([`forget`]; the file sweeper
//! removes those of jobs that ended without running).

use crate::blobs::Blobs;
use crate::kinds::around_start::AroundStart;
use crate::kinds::Registry;
use futures::future::BoxFuture;
use model::{AppError, Job, JobId, KindInfo, ParamType};
use serde_json::Value;
use std::collections::HashMap;

/// Takes the values of `info`'s secret parameters out of `params`.
pub fn take(info: &KindInfo, params: &mut Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(map) = params.as_object_mut() else {
        return out;
    };
    for p in info.params.iter().filter(|p| p.kind == ParamType::Secret) {
        if let Some(Value::String(v)) = map.remove(&p.name) {
            out.insert(p.name.clone(), v);
        }
    }
    out
}

/// Keeps `secrets` for job `job` until it ends.
pub async fn keep(
    blobs: &Blobs,
    job: &JobId,
    secrets: &HashMap<String, String>,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let path = blobs.secrets(job);
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .await?;
    file.write_all(&serde_json::to_vec(secrets).expect("strings serialize"))
        .await?;
    file.sync_all().await
}

/// The secrets kept for job `job` (none if it has none).
pub async fn read(blobs: &Blobs, job: &JobId) -> HashMap<String, String> {
    match tokio::fs::read(blobs.secrets(job)).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => HashMap::new(),
    }
}

/// Removes job `job`'s secrets.
pub async fn forget(blobs: &Blobs, job: &JobId) {
    let _ = tokio::fs::remove_file(blobs.secrets(job)).await;
}

/// Secrets' part in every start ([`AroundStart`]): the secret parameters of a job's kind are
/// taken out of it before it is stored and kept for its run ([`take`], [`keep`]); they go if the
/// job is not stored ([`forget`]).
pub struct KeptSecrets {
    blobs: Blobs,
    kinds: Registry,
}

impl KeptSecrets {
    pub fn new(blobs: Blobs, kinds: Registry) -> KeptSecrets {
        KeptSecrets { blobs, kinds }
    }
}

impl AroundStart for KeptSecrets {
    fn before<'a>(&'a self, job: &'a mut Job) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            if !self.kinds.takes(&job.kind, ParamType::Secret) {
                return Ok(());
            }
            let Some(info) = self.kinds.info(&job.kind) else {
                return Ok(());
            };
            let secrets = take(&info, &mut job.params);
            if secrets.is_empty() {
                return Ok(());
            }
            keep(&self.blobs, &job.id, &secrets)
                .await
                .map_err(|e| AppError::internal_because("keeping a job's secrets for its run", e))
        })
    }

    fn after<'a>(&'a self, job: &'a JobId, kind: &'a str, stored: bool) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // Not stored, or an earlier job given back instead: no run will read them.
            if !stored && self.kinds.takes(kind, ParamType::Secret) {
                forget(&self.blobs, job).await;
            }
        })
    }
}
