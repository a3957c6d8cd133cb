//! `word_count`: counts the lines and words of a text file in the data folder. It is the example
//! kind of docs/KINDS.md, and shows everything a kind does:
//!
//! - its parameters are one struct: schemars describes it (titles, doc comments, defaults,
//!   bounds), Headway's checker checks values against that description, serde reads it, and
//!   garde runs its own check of the file, with the caller's part of the data folder as context;
//! - it opens its file through that part ([`engine::kinds::files`]), never by a path of its own;
//! - it reports a total and advances in the file's unit (bytes), sets a message and a level,
//!   writes log lines;
//! - it reads the file on the blocking pool, a chunk at a time, and sees cancellation between
//!   chunks;
//! - it is resumable: after each chunk it saves how far it got, and a run after a restart starts
//!   from there.

use engine::kinds::files::Files;
use engine::kinds::{refuse, JobContext, Kind, KindEnv, RunResult};
use model::{JobError, Level, LogLevel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

pub struct WordCount;

/// Counts the lines and words of a text file in the data folder.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Word count")]
#[garde(context(KindEnv))]
pub struct WordCountParams {
    /// The text file, relative to the data folder.
    #[schemars(title = "File")]
    #[garde(custom(text_file))]
    pub file: String,
    /// How much of the file is read at a time, in KiB.
    #[schemars(title = "Chunk (KiB)")]
    #[serde(default = "default_chunk_kib")]
    #[schemars(range(min = 1, max = 4096))]
    #[garde(skip)]
    pub chunk_kib: u64,
}

fn default_chunk_kib() -> u64 {
    64
}

/// The file must be a regular file the caller may read.
fn text_file(file: &str, env: &KindEnv) -> garde::Result {
    env.files.open_file(file).map(drop).map_err(refuse)
}

/// Opens the file on the blocking pool (opening is blocking I/O).
async fn open(files: &Files, file: &str) -> Result<File, String> {
    let (files, file) = (files.clone(), file.to_string());
    tokio::task::spawn_blocking(move || files.open_file(&file).map_err(String::from))
        .await
        .map_err(|e| e.to_string())?
}

/// How far a run got: saved after every chunk, read back by a resumed run.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
struct Progress {
    /// Bytes counted so far; always just after a whitespace byte (or 0).
    offset: u64,
    lines: u64,
    words: u64,
}

impl Kind for WordCount {
    type Params = WordCountParams;
    const NAME: &'static str = "word_count";
    const RESUMABLE: bool = true;

    async fn run(p: WordCountParams, ctx: &mut JobContext) -> RunResult {
        // Checked again: the file may have changed since the job was validated.
        let mut file = open(ctx.files(), &p.file)
            .await
            .map_err(|m| JobError::new("bad_path", format!("file {:?} {m}", p.file)))?;
        let size = file.metadata().map_err(io_error)?.len();
        ctx.set_total(Some(size), "bytes").await;
        let mut done: Progress = ctx
            .resume_from()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .filter(|d: &Progress| d.offset <= size)
            .unwrap_or_default();
        if done.offset > 0 {
            ctx.set_current(done.offset).await;
            ctx.log(LogLevel::Info, format!("resuming at byte {}", done.offset))
                .await;
        }
        let chunk = p.chunk_kib as usize * 1024;
        let mut invalid = false;
        while done.offset < size {
            if ctx.is_cancelled() {
                return Ok(()); // the runner records the cancel
            }
            // Reading is blocking IO: it runs on the blocking pool, never on the runtime.
            let from = done.offset;
            let (bytes, back) = tokio::task::spawn_blocking(move || read_chunk(file, from, chunk))
                .await
                .map_err(|e| JobError::new("crashed", e.to_string()))?;
            file = back;
            let bytes = bytes.map_err(io_error)?;
            if bytes.is_empty() {
                break; // the file shrank
            }
            // Count up to the last whitespace, so that no word is cut in two between chunks.
            let at_end = done.offset + bytes.len() as u64 >= size;
            let usable = if at_end {
                bytes.len()
            } else {
                bytes
                    .iter()
                    .rposition(|b| b.is_ascii_whitespace())
                    .map_or(bytes.len(), |i| i + 1)
            };
            let text = String::from_utf8_lossy(&bytes[..usable]);
            invalid |= matches!(text, std::borrow::Cow::Owned(_));
            done.lines += text.matches('\n').count() as u64;
            done.words += text.split_whitespace().count() as u64;
            done.offset += usable as u64;
            ctx.set_current(done.offset).await;
            ctx.set_message(format!("{} lines, {} words so far", done.lines, done.words))
                .await;
            ctx.checkpoint(serde_json::to_value(done).expect("counts serialize"))
                .await;
        }
        if invalid {
            ctx.set_level(Level::Warning).await;
            ctx.log(
                LogLevel::Warn,
                "the file is not all UTF-8; invalid bytes were read as �",
            )
            .await;
        }
        ctx.set_message(format!("{} lines, {} words", done.lines, done.words))
            .await;
        ctx.log(
            LogLevel::Info,
            format!("{}: {} lines, {} words", p.file, done.lines, done.words),
        )
        .await;
        Ok(())
    }
}

/// Reads up to `len` bytes at `from`; gives the file back for the next chunk.
fn read_chunk(mut file: File, from: u64, len: usize) -> (std::io::Result<Vec<u8>>, File) {
    let mut bytes = Vec::with_capacity(len);
    let read = file
        .seek(SeekFrom::Start(from))
        .and_then(|_| (&mut file).take(len as u64).read_to_end(&mut bytes));
    (read.map(|_| bytes), file)
}

fn io_error(e: std::io::Error) -> JobError {
    JobError::new("read_failed", format!("cannot read the file: {e}"))
}
