//! The operator token: `--admin-token` if given; otherwise the content of `admin.token` next to
//! the database, created (readable by its owner only) on first start, so that the operator of
//! the machine can use `headway notice` with no setup. Whoever can write that file chooses the
//! token, and whoever can read it holds it: a file owned by another user, or that others may
//! read or write, stops the server at start, as does a symbolic link in its place.

use std::path::{Path, PathBuf};

/// Where the generated token lives for a database in `db_dir`.
pub fn token_path(db_dir: &Path) -> PathBuf {
    db_dir.join("admin.token")
}

/// The configured token, else the one in `path`, created with a fresh random value if missing.
pub fn load_or_create_token(configured: Option<&str>, path: &Path) -> std::io::Result<String> {
    if let Some(t) = configured.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(t.to_string());
    }
    match read_private(path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = format!("{}{}", engine::new_id(), engine::new_id()).replace('-', "");
    write_private(path, &token)?;
    Ok(token)
}

/// Reads the token file, refusing one that is not this user's alone.
fn read_private(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused("is a symbolic link"),
            _ => e,
        })?;
    let meta = file.metadata()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(refused(&format!(
            "belongs to user {} and this server runs as user {me}",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(refused(&format!(
            "may be read or written by others (mode {:o}; run chmod 600 on it)",
            meta.mode() & 0o777
        )));
    }
    if !meta.is_file() {
        return Err(refused("is not a regular file"));
    }
    let mut token = String::new();
    file.read_to_string(&mut token)?;
    Ok(token)
}

fn refused(why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!("it {why}, so someone else may know or choose the operator token"),
    )
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // Created anew: a file or link someone put there meanwhile is not written through.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_others_could_read_write_or_choose_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path());
        load_or_create_token(None, &path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        for mode in [0o644, 0o620, 0o604] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = load_or_create_token(None, &path).unwrap_err();
            assert!(e.to_string().contains("read or written by others"), "{e}");
        }
        std::fs::remove_file(&path).unwrap();
        let elsewhere = dir.path().join("chosen");
        std::fs::write(&elsewhere, "chosen-by-someone").unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let e = load_or_create_token(None, &path).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn a_token_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path());
        let first = load_or_create_token(None, &path).unwrap();
        assert!(first.len() >= 64);
        assert_eq!(load_or_create_token(None, &path).unwrap(), first);
        assert_eq!(
            load_or_create_token(Some(" given "), &path).unwrap(),
            "given"
        );
    }
}
