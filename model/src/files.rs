//! Files in and out of jobs: an [`Upload`] is a file a person sent, which a job's file
//! parameter names by id; an [`Output`] is a file a job wrote, listed with its job and
//! downloaded from `GET /api/v1/jobs/{id}/outputs/{name}`.

use crate::ids::{JobId, UploadId};
use serde::{Deserialize, Serialize};

/// What a file parameter names: an upload, by its id, or a job's output, by where it is
/// downloaded from (`/api/v1/jobs/{id}/outputs/{name}`, [`Output::href`]). A workflow's step
/// takes the output of a step it needs this way; any job may take an output of its owner's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileRef {
    Upload(UploadId),
    Output { job: JobId, name: String },
}

impl FileRef {
    /// Reads a file parameter's text; `None` when it names neither.
    pub fn parse(text: &str) -> Option<FileRef> {
        if let Ok(id) = UploadId::parse(text) {
            return Some(FileRef::Upload(id));
        }
        let (job, name) = text
            .strip_prefix("/api/v1/jobs/")?
            .split_once("/outputs/")?;
        let name = crate::text::percent_decode(name)?;
        if output_name_problem(&name).is_some() {
            return None;
        }
        Some(FileRef::Output {
            job: JobId::parse(job).ok()?,
            name,
        })
    }
}

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
    fn a_file_parameter_names_an_upload_or_an_output_and_nothing_else() {
        let upload = UploadId::parse("0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93").unwrap();
        assert_eq!(
            FileRef::parse(upload.as_str()),
            Some(FileRef::Upload(upload))
        );
        let job = JobId::parse("77310000-0000-0000-0000-000000000000").unwrap();
        let o = Output {
            name: "rows #1 März?.csv".into(),
            size: 1,
            content_type: "text/csv".into(),
            created_at: 0,
        };
        assert_eq!(
            FileRef::parse(&o.href(job.as_str())),
            Some(FileRef::Output {
                job: job.clone(),
                name: o.name.clone()
            })
        );
        for bad in [
            "",
            "exports/rows.csv",
            "/api/v1/jobs/not-an-id/outputs/a.csv",
            &format!("/api/v1/jobs/{job}/outputs/"),
            &format!("/api/v1/jobs/{job}/outputs/a%2Fb"),
            &format!("/api/v1/jobs/{job}/outputs/%zz"),
            &format!("/api/v1/jobs/{job}/logs/a.csv"),
        ] {
            assert_eq!(FileRef::parse(bad), None, "{bad:?}");
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
