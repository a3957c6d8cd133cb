//! One server per database file. A server holds an exclusive lock on `<database>.lock` for its
//! whole life; a second server started on the same file finds it taken and refuses to start,
//! instead of treating the first one's running jobs as interrupted. The lock belongs to the open
//! file, so the kernel releases it however the process ends (even `kill -9`).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use store_core::OpenError;

#[derive(Debug)]
pub struct ProcessLock {
    _file: File,
}

impl ProcessLock {
    pub fn take(database: &Path) -> Result<ProcessLock, OpenError> {
        let path = lock_path(database);
        let open_err = |e: std::io::Error| OpenError::Open {
            url: database.display().to_string(),
            reason: format!("cannot open the lock file {}: {e}", path.display()),
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(open_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (pid {holder})")
                };
                return Err(OpenError::InUse {
                    path: database.to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(open_err(e)),
        }
        // Whoever finds it taken can say which process holds it.
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "{}", std::process::id()))
            .map_err(open_err)?;
        Ok(ProcessLock { _file: file })
    }
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    database.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("h.db");
        let first = ProcessLock::take(&db).unwrap();
        match ProcessLock::take(&db) {
            Err(OpenError::InUse { path, holder }) => {
                assert_eq!(path, db);
                assert_eq!(holder, format!(" (pid {})", std::process::id()));
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        drop(first);
        ProcessLock::take(&db).expect("free again once the first is dropped");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("h.db.lock"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
}
