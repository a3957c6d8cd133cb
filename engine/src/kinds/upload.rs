//! A file parameter: [`UploadRef<T>`] names a file of a type `T` accepts: an upload
//! (`POST /api/v1/uploads`), by its id, or an output of one of its owner's jobs, by where it is
//! downloaded from ([`model::FileRef`]; how a workflow's step takes what a step it needs wrote). A kind's parameter struct uses it like any other field:
//!
//! ```ignore
//! #[garde(dive)]
//! pub upload: Option<UploadRef<Csv>>,
//! ```
//!
//! and everything follows from the type: `GET /api/v1/kinds` and the start form show a file
//! field with `T`'s accepted types and the server's size limit; validation refuses an id that
//! is not an upload or an output the caller may use, or a file that is not of the type (by its name or
//! the type it was sent as, and, for text, by what its first bytes look like: a zip archive
//! named `.csv` is refused before a job starts); the run opens it with
//! [`crate::context::JobContext::open_upload`].

use super::KindEnv;
use crate::blobs::Blobs;
use model::words::kinds;
use model::{FileRef, Upload, UploadId, Words};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// A type of file a parameter accepts.
pub trait FileType: Send + Sync + 'static {
    /// File extensions (`.csv`) and media types (`text/csv`), as `<input accept>` takes them;
    /// empty: any file.
    const ACCEPT: &'static [&'static str];
    /// Whether it is text: an upload whose first bytes look like an archive or binary data is
    /// refused.
    const TEXT: bool;
    /// The refusal of an upload named `name` that is not of this type by its name or media type.
    fn not_this(name: &str) -> Words;
    /// The refusal of an upload named `name` of this type whose bytes look like `seems`
    /// ([`looks_like`]).
    fn looks_like(name: &str, seems: &str) -> Words;
}

/// Comma-separated values, as text.
pub struct Csv;

impl FileType for Csv {
    const ACCEPT: &'static [&'static str] = &[".csv", "text/csv"];
    const TEXT: bool = true;

    fn not_this(name: &str) -> Words {
        kinds::upload_not_csv(name, &Self::ACCEPT.join(", "))
    }

    fn looks_like(name: &str, seems: &str) -> Words {
        kinds::upload_looks_like(name, seems)
    }
}

/// The file of type `T` a parameter names. On the wire it is the text the parameter was given;
/// text that names no file ([`FileRef::parse`]) is refused by validation as a file the caller
/// may not use is.
pub struct UploadRef<T> {
    /// The parameter's text.
    named: String,
    /// The file it names, if it names one.
    id: Option<FileRef>,
    of: PhantomData<fn() -> T>,
}

impl<T> UploadRef<T> {
    pub fn new(id: UploadId) -> Self {
        UploadRef {
            named: id.to_string(),
            id: Some(FileRef::Upload(id)),
            of: PhantomData,
        }
    }

    /// A parameter's text, as it names a file (or none).
    fn named(named: String) -> Self {
        UploadRef {
            id: FileRef::parse(&named),
            named,
            of: PhantomData,
        }
    }

    /// The file it names; `None` when the parameter's text names none (validation refuses it,
    /// so a job never runs with one).
    pub fn id(&self) -> Option<&FileRef> {
        self.id.as_ref()
    }
}

impl<T> std::fmt::Display for UploadRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.named)
    }
}

impl<T> Serialize for UploadRef<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.named)
    }
}

impl<'de, T> Deserialize<'de> for UploadRef<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(UploadRef::named)
    }
}

impl<T> Clone for UploadRef<T> {
    fn clone(&self) -> Self {
        UploadRef {
            named: self.named.clone(),
            id: self.id.clone(),
            of: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for UploadRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UploadRef({})", self.named)
    }
}

/// The schema's `format` of a file parameter.
pub const FORMAT: &str = "upload";

impl<T: FileType> JsonSchema for UploadRef<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Upload".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": FORMAT,
            "accept": T::ACCEPT,
        })
    }
}

/// What validation knows of a file a parameter names, an upload or an output: what its type is
/// told by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSeen {
    /// Its name, as sent or as written.
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// What its first bytes look like ([`looks_like`]).
    pub looks_like: String,
}

impl From<&Upload> for FileSeen {
    fn from(u: &Upload) -> FileSeen {
        FileSeen {
            name: u.name.clone(),
            size: u.size,
            content_type: u.content_type.clone(),
            looks_like: u.looks_like.clone(),
        }
    }
}

/// The files a start's parameters name that its caller may use, found before validation
/// (which cannot wait on the database), with where their bytes are.
#[derive(Debug, Clone, Default)]
pub struct Uploaded {
    uploads: Arc<HashMap<FileRef, FileSeen>>,
    blobs: Option<Blobs>,
}

impl Uploaded {
    pub fn new(uploads: HashMap<FileRef, FileSeen>, blobs: Blobs) -> Uploaded {
        Uploaded {
            uploads: Arc::new(uploads),
            blobs: Some(blobs),
        }
    }

    /// These uploads, without bytes to open: what checks that read no bytes are tested with.
    #[cfg(test)]
    pub fn listed(uploads: HashMap<UploadId, Upload>) -> Uploaded {
        Uploaded {
            uploads: Arc::new(
                uploads
                    .iter()
                    .map(|(id, u)| (FileRef::Upload(id.clone()), FileSeen::from(u)))
                    .collect(),
            ),
            blobs: None,
        }
    }

    pub fn get(&self, id: &FileRef) -> Option<&FileSeen> {
        self.uploads.get(id)
    }

    /// Opens a file's bytes (validation may read its beginning).
    pub fn open(&self, id: &FileRef) -> std::io::Result<std::fs::File> {
        match &self.blobs {
            Some(blobs) => std::fs::File::open(blobs.file(id)),
            None => Err(std::io::ErrorKind::NotFound.into()),
        }
    }
}

/// Why `upload` is not of type `T`, if it is not.
pub fn type_problem<T: FileType>(upload: &FileSeen) -> Option<Words> {
    if upload.size == 0 {
        return Some(kinds::upload_empty(&upload.name));
    }
    let name = upload.name.to_ascii_lowercase();
    let media = upload
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let named = T::ACCEPT.is_empty()
        || T::ACCEPT.iter().any(|a| {
            if a.starts_with('.') {
                name.ends_with(a)
            } else {
                media == *a
            }
        });
    if !named {
        return Some(T::not_this(&upload.name));
    }
    if T::TEXT && upload.looks_like != "text" {
        return Some(T::looks_like(&upload.name, &upload.looks_like));
    }
    None
}

impl<T: FileType> garde::Validate for UploadRef<T> {
    type Context = KindEnv;

    fn validate_into(
        &self,
        env: &KindEnv,
        parent: &mut dyn FnMut() -> garde::Path,
        report: &mut garde::Report,
    ) {
        let problem = match self.id.as_ref().and_then(|id| env.uploads.get(id)) {
            None => Some(kinds::not_your_upload(&self.named)),
            Some(upload) => type_problem::<T>(upload),
        };
        if let Some(problem) = problem {
            report.append(parent(), super::refuse(problem));
        }
    }
}

/// What an upload's first bytes look like: `zip`, `gzip`, `binary` (a NUL byte, or bytes no
/// text has) or `text`.
pub fn looks_like(head: &[u8]) -> &'static str {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        "zip"
    } else if head.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if head.starts_with(b"7z\xbc\xaf\x27\x1c")
        || head.starts_with(b"\x28\xb5\x2f\xfd")
        || head.starts_with(b"BZh")
        || head.contains(&0)
    {
        "binary"
    } else {
        "text"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(name: &str, content_type: &str, head: &[u8]) -> FileSeen {
        FileSeen {
            name: name.into(),
            size: head.len() as u64,
            content_type: content_type.into(),
            looks_like: looks_like(head).into(),
        }
    }

    #[test]
    fn a_csv_is_known_by_its_name_or_its_type_and_must_be_text() {
        assert_eq!(type_problem::<Csv>(&upload("a.CSV", "", b"a,b\n")), None);
        assert_eq!(
            type_problem::<Csv>(&upload("export", "text/csv; charset=utf-8", b"a\n")),
            None
        );
        let wrong = type_problem::<Csv>(&upload("a.png", "image/png", b"x")).unwrap();
        assert!(wrong.english.contains("is not a CSV file"), "{wrong}");
        let bomb = type_problem::<Csv>(&upload("big.csv", "text/csv", b"PK\x03\x04zzz")).unwrap();
        assert!(bomb.english.contains("looks like a zip archive"), "{bomb}");
        let binary = type_problem::<Csv>(&upload("x.csv", "text/csv", b"a\0b")).unwrap();
        assert!(binary.english.contains("binary data"), "{binary}");
        let empty = type_problem::<Csv>(&upload("e.csv", "text/csv", b"")).unwrap();
        assert!(empty.english.contains("is empty"), "{empty}");
    }

    #[test]
    fn the_schema_says_file_and_its_types() {
        let schema = schemars::schema_for!(Option<UploadRef<Csv>>);
        let value = serde_json::to_value(&schema).unwrap();
        assert_eq!(value["format"], FORMAT);
        assert_eq!(value["accept"], serde_json::json!([".csv", "text/csv"]));
    }

    #[test]
    fn on_the_wire_it_is_the_plain_id() {
        let id = "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93";
        let r: UploadRef<Csv> = serde_json::from_str(&format!("\"{id}\"")).unwrap();
        assert_eq!(r.id(), Some(&FileRef::Upload(UploadId::parse(id).unwrap())));
        assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{id}\""));
    }

    #[test]
    fn text_that_is_no_upload_id_is_kept_and_refused_as_no_upload_of_yours() {
        let r: UploadRef<Csv> = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(r.id(), None);
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"abc\"");
        let mut report = garde::Report::new();
        garde::Validate::validate_into(
            &r,
            &KindEnv::files(crate::files::Files::whole(std::env::temp_dir())),
            &mut garde::Path::empty,
            &mut report,
        );
        let (_, error) = report.iter().next().unwrap();
        let refused = super::super::typed::taken_apart("file", error.message());
        assert_eq!(
            refused.message,
            "abc is neither one of your uploads (send the file to POST /api/v1/uploads first) \
             nor an output of one of your jobs"
        );
        assert_eq!(refused.said, Some(kinds::not_your_upload("abc").said));
    }
}
