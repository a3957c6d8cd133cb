//! The file store: the bytes of uploads and of jobs' outputs, in a folder every process of a
//! deployment shares (`--file-store`; see docs/DEPLOY.md). The database holds what is known of
//! each file; the folder holds its bytes under a name derived from ids, never from the name a
//! person gave it:
//!
//! - `uploads/<upload id>`;
//! - `outputs/<job id>/<SHA-256 of the output's name, 32 hex digits>`;
//! - `tmp/<random>`: files being written. A file is complete, whole and synced before it is
//!   renamed into place, and only then recorded: a reader never sees half a file, and a
//!   write cut short leaves nothing but a temporary file, deleted at once or, after a crash,
//!   by the next sweep.
//!
//! Processes sharing a database must share the folder: the first process records the folder's
//! id (kept in `.headway-file-store` inside it) in the database, and a process whose folder
//! holds another id, or none while the database names one, refuses to start.

use crate::store::Store;
use model::error::Chain;
use model::{JobId, UploadId};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

/// The file in the folder that names it.
const MARK: &str = ".headway-file-store";

/// The shared folder of files.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: Arc<PathBuf>,
}

/// Why the file store cannot be used, as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum BlobsError {
    #[error("cannot use the files folder {path}: {error}")]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot record the files folder in the database: {0}")]
    Store(String),
    #[error(
        "the files folder {path} is not the one this database's other processes use \
         (it holds {found}, the database expects {expected}); give every process sharing the \
         database the same --file-store, on a volume they all mount"
    )]
    NotShared {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

impl Blobs {
    /// Opens (creating it if needed) the folder at `root`, and checks it is the one the
    /// database's files are in.
    pub async fn open(root: &Path, store: &Store) -> Result<Blobs, BlobsError> {
        let io = |error| BlobsError::Io {
            path: root.to_path_buf(),
            error,
        };
        for sub in ["uploads", "outputs", "tmp", "secrets"] {
            tokio::fs::create_dir_all(root.join(sub))
                .await
                .map_err(io)?;
        }
        {
            use std::os::unix::fs::PermissionsExt;
            // A job's secrets are for the processes that run it, no one else on the machine.
            tokio::fs::set_permissions(
                root.join("secrets"),
                std::fs::Permissions::from_mode(0o700),
            )
            .await
            .map_err(io)?;
        }
        let mark = root.join(MARK);
        let mine = match tokio::fs::read_to_string(&mark).await {
            Ok(id) => Some(id.trim().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let candidate = mine.clone().unwrap_or_else(crate::new_id);
        let expected = store
            .file_store_id(&candidate, crate::now_ms())
            .await
            .map_err(|e| BlobsError::Store(Chain(&e).to_string()))?;
        if expected != candidate {
            return Err(BlobsError::NotShared {
                path: root.to_path_buf(),
                found: mine.unwrap_or_else(|| "no id".into()),
                expected,
            });
        }
        if mine.is_none() {
            tokio::fs::write(&mark, format!("{candidate}\n"))
                .await
                .map_err(io)?;
        }
        Ok(Blobs {
            root: Arc::new(root.to_path_buf()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an upload's bytes are.
    pub fn upload(&self, id: &UploadId) -> PathBuf {
        self.root.join("uploads").join(plain(id))
    }

    /// Where a job's secrets wait for its run (see `crate::commands::secrets`).
    pub fn secrets(&self, job: &JobId) -> PathBuf {
        self.root.join("secrets").join(plain(job))
    }

    /// The folder of a job's outputs.
    pub fn outputs(&self, job: &JobId) -> PathBuf {
        self.root.join("outputs").join(plain(job))
    }

    /// Where the bytes of a job's output called `name` are.
    pub fn output(&self, job: &JobId, name: &str) -> PathBuf {
        let digest = Sha256::digest(name.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.outputs(job).join(hex)
    }

    /// Where the bytes of the file a parameter names are: an upload's, or a job's output's.
    pub fn file(&self, file: &model::FileRef) -> PathBuf {
        match file {
            model::FileRef::Upload(id) => self.upload(id),
            model::FileRef::Output { job, name } => self.output(job, name),
        }
    }

    /// A new temporary file, deleted when dropped unless [`Temp::keep_as`] moved it into place.
    pub async fn temp(&self) -> std::io::Result<Temp> {
        let path = self.root.join("tmp").join(crate::new_id());
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(Temp {
            path,
            file: Some(file),
        })
    }

    /// Deletes an upload's bytes (gone already is fine).
    pub async fn remove_upload(&self, id: &UploadId) {
        remove(self.upload(id)).await;
    }

    /// Deletes a job's outputs (gone already is fine).
    pub async fn remove_outputs(&self, job: &JobId) {
        let dir = self.outputs(job);
        if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %dir.display(), error = %e, "cannot delete a job's outputs");
            }
        }
    }

    /// Deletes temporary files older than `age`: what writes cut short by a crash left.
    pub async fn sweep_temp(&self, age: Duration) -> usize {
        let Ok(mut dir) = tokio::fs::read_dir(self.root.join("tmp")).await else {
            return 0;
        };
        let mut removed = 0;
        while let Ok(Some(entry)) = dir.next_entry().await {
            let old = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|a| a > age);
            if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

/// An id as a file name: the ids are UUIDs, and anything else is cut to its safe characters.
fn plain(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

async fn remove(path: PathBuf) {
    if let Err(e) = tokio::fs::remove_file(&path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "cannot delete a stored file");
        }
    }
}

/// A file being written in `tmp/`.
#[derive(Debug)]
pub struct Temp {
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl Temp {
    pub fn file(&mut self) -> &mut tokio::fs::File {
        self.file
            .as_mut()
            .expect("a temporary file is open until kept")
    }

    /// Syncs the file and renames it to `dest` (replacing what was there).
    pub async fn keep_as(mut self, dest: &Path) -> std::io::Result<()> {
        let mut file = self.file.take().expect("a temporary file is kept once");
        file.flush().await?;
        file.sync_data().await?;
        drop(file);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&self.path, dest).await?;
        // Renamed: nothing left to delete.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_come_from_ids_and_hashes_never_from_what_a_person_typed() {
        let blobs = Blobs {
            root: Arc::new(PathBuf::from("/files")),
        };
        // What a person typed is no id; an id is its own name.
        assert!(UploadId::parse("../../etc/passwd").is_err());
        let id = "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93";
        let up = blobs.upload(&UploadId::parse(id).unwrap());
        assert_eq!(up, PathBuf::from(format!("/files/uploads/{id}")));
        let job = JobId::parse(id).unwrap();
        let out = blobs.output(&job, "../../x.csv");
        assert!(out.starts_with(format!("/files/outputs/{id}/")), "{out:?}");
        assert_eq!(out.file_name().unwrap().len(), 32);
        assert_ne!(blobs.output(&job, "a"), blobs.output(&job, "b"));
    }

    #[tokio::test]
    async fn a_temporary_file_is_gone_unless_kept_and_whole_where_it_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let blobs = Blobs {
            root: Arc::new(dir.path().to_path_buf()),
        };
        let mut dropped = blobs.temp().await.unwrap();
        dropped.file().write_all(b"half").await.unwrap();
        drop(dropped);
        let mut kept = blobs.temp().await.unwrap();
        kept.file().write_all(b"whole").await.unwrap();
        let dest = dir.path().join("uploads/u1");
        kept.keep_as(&dest).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
