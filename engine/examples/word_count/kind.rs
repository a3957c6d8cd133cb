//! `word_count`: counts the lines and words of a text file in the data folder. It is the example
//! kind of docs/KINDS.md, and shows everything a kind does:
//!
//! - its parameters are one struct: serde reads it, schemars describes it (titles, doc comments,
//!   defaults, bounds), garde checks it, with the server's data folder as context;
//! - it reports a total and advances in the file's unit (bytes), sets a message and a level,
//!   writes log lines;
//! - it reads the file on the blocking pool, a chunk at a time, and sees cancellation between
//!   chunks;
//! - it is resumable: after each chunk it saves how far it got, and a run after a restart starts
//!   from there.

use engine::kinds::paths::resolve_inside;
use engine::kinds::{JobContext, Kind, KindEnv, RunResult};
use model::{JobError, Level, LogLevel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

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
    #[garde(range(min = 1, max = 4096))]
    pub chunk_kib: u64,
}

fn default_chunk_kib() -> u64 {
    64
}

/// The file must be a regular file inside the data folder.
fn text_file(file: &str, env: &KindEnv) -> garde::Result {
    resolve_file(env, file).map(drop).map_err(garde::Error::new)
}

fn resolve_file(env: &KindEnv, file: &str) -> Result<PathBuf, String> {
    let path = resolve_inside(&env.data_root, file)?;
    if !path.is_file() {
        return Err("is not a file".into());
    }
    Ok(path)
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
        let env = KindEnv {
            data_root: ctx.data_root().to_path_buf(),
        };
        // Checked again: the file may have changed since the job was validated.
        let path = resolve_file(&env, &p.file).map_err(|m| JobError {
            code: "bad_path".into(),
            message: format!("file {:?} {m}", p.file),
        })?;
        let size = std::fs::metadata(&path).map_err(io_error)?.len();
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
            let (path, from) = (path.clone(), done.offset);
            let bytes = tokio::task::spawn_blocking(move || read_chunk(&path, from, chunk))
                .await
                .map_err(|e| JobError {
                    code: "crashed".into(),
                    message: e.to_string(),
                })?
                .map_err(io_error)?;
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

fn read_chunk(path: &std::path::Path, from: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::with_capacity(len);
    file.take(len as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn io_error(e: std::io::Error) -> JobError {
    JobError {
        code: "read_failed".into(),
        message: format!("cannot read the file: {e}"),
    }
}
