//! Where the database is: its URL read as a file, a folder and an open mode.

use std::path::PathBuf;

/// Where the database is: `sqlite://data/headway.db`, `sqlite:data/headway.db?mode=rwc`,
/// `sqlite:///var/lib/headway/h.db?mode=ro`.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub path: PathBuf,
    /// `mode=ro`: open read-only (a server then refuses to start; see [`SqliteStore::open`](crate::SqliteStore::open)).
    pub read_only: bool,
    /// `mode=rw`: the file must exist already.
    pub must_exist: bool,
}

impl Location {
    pub fn parse(url: &str) -> Result<Location, String> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or("a SQLite URL starts with sqlite:")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err("the URL names no file".into());
        }
        if path == ":memory:" {
            return Err(
                "in-memory databases lose every job when the process exits; name a file".into(),
            );
        }
        let mut location = Location {
            path: PathBuf::from(path),
            read_only: false,
            must_exist: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("mode", "ro")) => location.read_only = true,
                Some(("mode", "rw")) => location.must_exist = true,
                Some(("mode", "rwc")) => {}
                _ => {
                    return Err(format!(
                        "unsupported parameter {pair:?} (mode=ro, mode=rw or mode=rwc)"
                    ))
                }
            }
        }
        Ok(location)
    }

    /// The folder holding the file (`.` for a bare file name).
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}
