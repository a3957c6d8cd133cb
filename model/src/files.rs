//! Files in and out of jobs: an [`Upload`] is a file a person sent, which a job's file
//! parameter names by id; an [`Output`] is a file a job wrote, listed with its job and
//! downloaded from `GET /api/v1/jobs/{id}/outputs/{name}`.

use crate::ids::UploadId;
use serde::{Deserialize, Serialize};

/// An uploaded file, as `POST /api/v1/uploads` answers and `GET /api/v1/uploads` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Upload {
    pub id: UploadId,
    /// The name it was sent with, for display only.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    /// The type it was sent as (`application/octet-stream` when none was given).
    pub content_type: String,
    /// What its first bytes look like: `text`, `zip`, `gzip` or `binary`.
    pub looks_like: String,
    /// Unix ms.
    pub created_at: i64,
    /// When a job last took it as a parameter; an upload no job took is deleted a day after
    /// it was sent.
    #[serde(default)]
    pub used_at: Option<i64>,
}

/// A file a job wrote, listed with the job ([`crate::Job::outputs`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Output {
    /// Unique within its job; a job writing a name again replaces the file.
    pub name: String,
    /// Bytes.
    pub size: u64,
    pub content_type: String,
    /// Unix ms, when it was complete.
    pub created_at: i64,
}

impl Output {
    /// Where it is downloaded from, relative to the site's root.
    pub fn href(&self, job_id: &str) -> String {
        format!(
            "/api/v1/jobs/{job_id}/outputs/{}",
            crate::text::url_encode(&self.name)
        )
    }
}

/// The longest an output's name may be, in bytes.
pub const MAX_OUTPUT_NAME: usize = 200;

/// Why `name` cannot name an output, if it cannot: it must be 1 to [`MAX_OUTPUT_NAME`] bytes,
/// with no control characters, no `/` or `\`, and not `.` or `..`.
pub fn output_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_OUTPUT_NAME {
        Some("is longer than 200 bytes")
    } else if name
        .chars()
        .any(|c| c.is_control() || crate::is_format_mark(c))
    {
        Some("holds a control character or a direction mark")
    } else if name.contains(['/', '\\']) {
        Some("holds a slash")
    } else if name == "." || name == ".." {
        Some("is a dot name")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_are_plain_file_names() {
        for good in ["rejected.csv", "manifest — März.txt", "a b", "..x"] {
            assert_eq!(output_name_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "a/b",
            "a\\b",
            "..",
            ".",
            "a\nb",
            "\u{202e}vsc.exe",
            &"x".repeat(201),
        ] {
            assert!(output_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn the_download_link_encodes_the_name() {
        let o = Output {
            name: "rejected rows #1?.csv".into(),
            size: 1,
            content_type: "text/csv".into(),
            created_at: 0,
        };
        let href = o.href("j1");
        assert!(href.starts_with("/api/v1/jobs/j1/outputs/"), "{href}");
        assert!(
            !href["/api/v1/jobs/j1/outputs/".len()..].contains([' ', '#', '?', '/']),
            "{href}"
        );
    }
}
