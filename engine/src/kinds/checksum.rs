//! `checksum`: the SHA-256 of every regular file under a folder of the data root, written to
//! the job's log as a manifest in `sha256sum` format (so the log, saved as a file, can be
//! checked with `sha256sum -c` from inside that folder).
//!
//! Files are hashed in sorted order, which makes the job resumable: after each file it saves
//! how many files and bytes are done, and a resumed run walks the folder again, skips that
//! many files (their lines are already in the log) and continues. Symbolic links are followed
//! only while they stay inside the folder the job may use; every file is opened relative to it
//! (see [`super::files`]) and hashed only if what was opened is a regular file.

use super::{JobContext, Kind, KindEnv, Retry, RunResult};
use crate::files::{open_regular, path_of, Files, Located};
use cap_fs_ext::DirExt;
use cap_std::fs::Dir;
use model::{JobError, Level, LogLevel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub struct Checksum;

/// How much of a file is read (and hashed) per step: progress and cancellation are checked
/// between steps.
const CHUNK: usize = 1 << 20;

/// Computes the SHA-256 of every file in a folder of the data folder and writes a sha256sum
/// manifest to the log. Resumes after a restart.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Checksum")]
#[garde(context(KindEnv))]
pub struct ChecksumParams {
    /// Folder to hash, relative to the data folder (. for all of it).
    #[schemars(title = "Folder", extend("default" = "."))]
    #[garde(custom(folder_inside_data_root))]
    pub dir: String,
}

/// The folder must exist inside the caller's part of the data folder (checked again when the
/// job runs).
fn folder_inside_data_root(dir: &str, env: &KindEnv) -> garde::Result {
    env.files.folder(dir).map(drop).map_err(super::refuse)
}

/// What a run saves after each file, and a resumed run starts from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    files_done: usize,
    bytes_done: u64,
}

impl Kind for Checksum {
    type Params = ChecksumParams;
    const NAME: &'static str = "checksum";
    const RESUMABLE: bool = true;
    /// A folder that cannot be read is not tried again; a crash of the listing is.
    const RETRY: Retry = Retry {
        max_attempts: 3,
        base: Duration::from_secs(30),
        cap: Duration::from_secs(600),
        permanent: &["bad_path"],
    };

    async fn run(p: ChecksumParams, ctx: &mut JobContext) -> RunResult {
        // Checked again: the folder may have changed since the job was validated.
        let walk = {
            let (files, dir) = (ctx.files().clone(), p.dir.clone());
            tokio::task::spawn_blocking(move || walk_folder(&files, &dir))
                .await
                .map_err(crashed)?
                .map_err(|message| {
                    JobError::new("bad_path", format!("dir {:?} {message}", p.dir))
                })?
        };
        let total: u64 = walk.files.iter().map(|f| f.size).sum();
        ctx.set_total(Some(total), "bytes").await;

        let mut problems = 0;
        for note in &walk.notes {
            if note.warn {
                problems += 1;
                ctx.set_level(Level::Warning).await;
            }
            let level = if note.warn {
                LogLevel::Warn
            } else {
                LogLevel::Info
            };
            ctx.log(level, note.line.clone()).await;
        }

        let start = resume_point(ctx, walk.files.len());
        if start.files_done > 0 {
            ctx.set_current(start.bytes_done).await;
            ctx.log(
                LogLevel::Info,
                format!(
                    "resuming after {} of {} files",
                    start.files_done,
                    walk.files.len()
                ),
            )
            .await;
        }

        for (n, file) in walk.files.iter().enumerate().skip(start.files_done) {
            ctx.say(model::words::jobs::file_of(n + 1, walk.files.len()))
                .await;
            let (level, line) = match hash_file(ctx, &walk.base, &file.path).await {
                Ok(Some(hex)) => (LogLevel::Info, manifest_line(&hex, &file.name)),
                Ok(None) => return Ok(()), // cancelled; the runner records it
                Err(e) => {
                    problems += 1;
                    ctx.set_level(Level::Warning).await;
                    (LogLevel::Warn, format!("skipped {}: {e}", file.name))
                }
            };
            let done = Checkpoint {
                files_done: n + 1,
                bytes_done: ctx.progress().current,
            };
            // The file's line and the checkpoint past it commit together: a run resumed after
            // a crash neither hashes a file into the manifest twice nor leaves one out.
            ctx.checkpoint_with_line(json!(done), level, line).await;
        }

        let size = human_bytes(total);
        let summary = match problems {
            0 => model::words::jobs::files_hashed(walk.files.len(), &size),
            n => model::words::jobs::files_hashed_skipped(walk.files.len(), &size, n),
        };
        ctx.say(summary).await;
        write_manifest(ctx).await?;
        ctx.set_result(json!({
            "files": walk.files.len(),
            "bytes": total,
            "skipped": problems,
        }))
        .await?;
        Ok(())
    }
}

/// The output the manifest is written to, in `sha256sum` format (`sha256sum -c` checks it).
pub const MANIFEST: &str = "manifest.sha256";

/// Writes the manifest lines of the job's log (those of earlier, interrupted runs too) as the
/// output [`MANIFEST`].
async fn write_manifest(ctx: &mut JobContext) -> RunResult {
    let mut out = ctx
        .create_output(MANIFEST, "text/plain; charset=utf-8")
        .await?;
    let mut after = 0;
    loop {
        let lines = ctx.written_lines(after, 1000).await?;
        let Some(last) = lines.last() else { break };
        after = last.seq;
        let mut chunk = String::new();
        for line in lines
            .iter()
            .filter(|l| l.level == LogLevel::Info && is_manifest_line(&l.line))
        {
            chunk.push_str(&line.line);
            chunk.push('\n');
        }
        out.write(chunk.as_bytes()).await?;
    }
    out.finish().await?;
    Ok(())
}

/// Whether a log line is one of the manifest's: 64 hex digits (after a `\` for an escaped
/// name), two spaces, a name.
fn is_manifest_line(line: &str) -> bool {
    let line = line.strip_prefix('\\').unwrap_or(line);
    line.len() > 66
        && line.as_bytes()[..64].iter().all(|b| b.is_ascii_hexdigit())
        && &line[64..66] == "  "
}

/// Where this run starts: after the files an earlier run finished, if it saved a checkpoint
/// that still makes sense for the folder as it is now.
fn resume_point(ctx: &JobContext, files: usize) -> Checkpoint {
    ctx.resume_from()
        .and_then(|v| serde_json::from_value::<Checkpoint>(v.clone()).ok())
        .filter(|c| c.files_done <= files)
        .unwrap_or(Checkpoint {
            files_done: 0,
            bytes_done: 0,
        })
}

/// One regular file to hash.
#[derive(Debug)]
struct FileEntry {
    /// The path relative to the hashed folder, as the manifest writes it.
    name: String,
    /// Where to read it, relative to the walk's base: opened there when it is hashed, so that
    /// a link swapped in after the walk still cannot lead out.
    path: PathBuf,
    size: u64,
}

/// A log line about something the walk did not hash.
#[derive(Debug)]
struct Note {
    warn: bool,
    line: String,
}

#[derive(Debug)]
struct Walk {
    /// The folder the job may use, opened: every file is opened relative to it.
    base: Arc<Dir>,
    /// Sorted by path, component by component.
    files: Vec<FileEntry>,
    notes: Vec<Note>,
}

/// Lists the regular files under the folder `dir` names. Links are followed when their target
/// is a file inside the folder the job may use; links to folders are not followed (they could
/// make cycles), and links that lead outside it or nowhere are skipped with a warning.
fn walk_folder(files: &Files, dir: &str) -> Result<Walk, String> {
    let Located { base, path } = files.folder(dir)?;
    let top = match path.as_os_str().is_empty() {
        true => base.try_clone(),
        false => base.open_dir(&path),
    }
    .map_err(|e| format!("cannot be opened: {e}"))?;
    let base_path = path_of(&base).ok();
    let mut notes = Vec::new();
    let mut found: Vec<(PathBuf, PathBuf, u64)> = Vec::new();
    let mut folders = vec![(PathBuf::new(), top)];
    while let Some((rel_folder, folder)) = folders.pop() {
        let entries = match folder.entries() {
            Ok(entries) => entries,
            Err(e) => {
                let line = format!("skipped folder {}: {e}", shown(&rel_folder));
                notes.push(Note { warn: true, line });
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let line = format!("skipped an entry of {}: {e}", shown(&rel_folder));
                    notes.push(Note { warn: true, line });
                    continue;
                }
            };
            let rel = rel_folder.join(entry.file_name());
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                match folder.open_dir_nofollow(entry.file_name()) {
                    Ok(sub) => folders.push((rel, sub)),
                    Err(e) => notes.push(Note {
                        warn: true,
                        line: format!("skipped folder {}: {e}", shown(&rel)),
                    }),
                }
            } else if kind.is_file() {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                found.push((rel.clone(), path.join(&rel), size));
            } else if kind.is_symlink() {
                // A link by absolute path into the folder is refused like one out of it, but
                // says so.
                let absolute = folder
                    .read_link_contents(entry.file_name())
                    .is_ok_and(|target| {
                        target.is_absolute()
                            && base_path.as_ref().is_some_and(|b| target.starts_with(b))
                    });
                // Followed from the base, which no link may leave.
                match base.metadata(path.join(&rel)) {
                    Err(_) if absolute => notes.push(Note {
                        warn: true,
                        line: format!(
                            "skipped {}: symbolic link by absolute path (not followed; make it relative)",
                            shown(&rel)
                        ),
                    }),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => notes.push(Note {
                        warn: true,
                        line: format!("skipped {}: symbolic link to nothing", shown(&rel)),
                    }),
                    Err(_) => notes.push(Note {
                        warn: true,
                        line: format!(
                            "skipped {}: symbolic link to outside the data folder",
                            shown(&rel)
                        ),
                    }),
                    Ok(target) if target.is_dir() => notes.push(Note {
                        warn: false,
                        line: format!(
                            "skipped {}: symbolic link to a folder (not followed)",
                            shown(&rel)
                        ),
                    }),
                    Ok(target) if target.is_file() => {
                        found.push((rel.clone(), path.join(&rel), target.len()))
                    }
                    Ok(_) => {}
                }
            }
            // Sockets, pipes and devices are not regular files: reading a pipe could block forever.
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Walk {
        base: Arc::new(base),
        files: found
            .into_iter()
            .map(|(rel, path, size)| FileEntry {
                name: shown(&rel),
                path,
                size,
            })
            .collect(),
        notes,
    })
}

fn shown(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".into()
    } else {
        rel.to_string_lossy().into_owned()
    }
}

/// Hashes one file (`path`, relative to `base`) chunk by chunk on the blocking pool, advancing
/// progress by the bytes read. `Ok(None)` when the job was cancelled part-way. What is opened
/// must be a regular file inside `base`, whatever the path has become since the walk.
async fn hash_file(
    ctx: &mut JobContext,
    base: &Arc<Dir>,
    path: &Path,
) -> std::io::Result<Option<String>> {
    let file = {
        let (base, path) = (Arc::clone(base), path.to_path_buf());
        tokio::task::spawn_blocking(move || open_regular(&base, &path))
            .await
            .map_err(std::io::Error::other)??
    };
    let mut state = Some((file, Sha256::new(), vec![0u8; CHUNK]));
    loop {
        if ctx.is_cancelled() {
            return Ok(None);
        }
        let (mut file, mut hasher, mut buf) = state.take().expect("state is put back each step");
        let step = tokio::task::spawn_blocking(move || {
            let n = file.read(&mut buf)?;
            hasher.update(&buf[..n]);
            Ok::<_, std::io::Error>((n, file, hasher, buf))
        })
        .await
        .map_err(std::io::Error::other)??;
        let (n, file, hasher, buf) = step;
        if n == 0 {
            return Ok(Some(hex(&hasher.finalize())));
        }
        ctx.advance(n as u64).await;
        state = Some((file, hasher, buf));
    }
}

/// One manifest line as `sha256sum` writes it: names with a backslash or a line break are
/// escaped and the line then starts with a backslash.
fn manifest_line(hex: &str, name: &str) -> String {
    if name.contains(['\\', '\n', '\r']) {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{hex}  {escaped}")
    } else {
        format!("{hex}  {name}")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `512 bytes`, `3.4 MB`: decimal units, as file managers show sizes.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    match n {
        1 => "1 byte".into(),
        0..=999 => format!("{n} bytes"),
        _ => {
            let mut value = n as f64 / 1000.0;
            let mut unit = 0;
            while value >= 999.95 && unit < UNITS.len() - 1 {
                value /= 1000.0;
                unit += 1;
            }
            format!("{value:.1} {}", UNITS[unit])
        }
    }
}

fn crashed(e: tokio::task::JoinError) -> JobError {
    JobError::new(
        "crashed",
        format!("listing the folder stopped unexpectedly: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Harness;
    use std::os::unix::fs::symlink;

    /// The SHA-256 of `hello`, as `printf hello | sha256sum` prints it.
    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    /// Files under `tree/`, in the order the manifest lists them, with their contents.
    fn tree() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("a.txt", b"hello".to_vec()),
            ("empty", Vec::new()),
            // Larger than one chunk, so that it is read in several steps.
            (
                "sub/big.bin",
                (0..CHUNK * 2 + 123).map(|i| (i * 7 % 251) as u8).collect(),
            ),
            ("sub/deeper/c.txt", b"nested\n".to_vec()),
            ("z.txt", b"last".to_vec()),
        ]
    }

    fn expected_manifest(files: &[(&str, Vec<u8>)]) -> Vec<String> {
        files
            .iter()
            .map(|(name, data)| format!("{}  {name}", hex(&Sha256::digest(data))))
            .collect()
    }

    fn write_tree(h: &Harness) -> u64 {
        let files = tree();
        for (name, data) in &files {
            h.write(&format!("tree/{name}"), data);
        }
        files.iter().map(|(_, d)| d.len() as u64).sum()
    }

    fn check(h: &Harness, dir: &str) -> Vec<model::FieldError> {
        match crate::kinds::Registry::builtin().parse("checksum", json!({ "dir": dir }), &h.env()) {
            Ok(_) => Vec::new(),
            Err(e) => e.fields,
        }
    }

    fn params(dir: &str) -> ChecksumParams {
        ChecksumParams { dir: dir.into() }
    }

    /// Manifest lines only: `<64 hex digits>  <name>`.
    fn manifest(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.len() > 66 && l[..64].bytes().all(|b| b.is_ascii_hexdigit()))
            .cloned()
            .collect()
    }

    #[tokio::test]
    async fn the_manifest_lists_every_file_in_sorted_order_with_its_sha256() {
        let h = Harness::new().await;
        let size = write_tree(&h);
        let mut job = h.start("checksum", json!({"dir": "tree"})).await;

        assert_eq!(Checksum::run(params("tree"), &mut job.ctx).await, Ok(()));

        let info = h.lines(&mut job, LogLevel::Info).await;
        assert_eq!(info, expected_manifest(&tree()));
        assert_eq!(info[0], format!("{HELLO}  a.txt"));
        let stored = h.job(&mut job).await;
        // The manifest is also an output, as `sha256sum -c` reads it, and the counts the result.
        assert_eq!(stored.outputs.len(), 1);
        assert_eq!(stored.outputs[0].name, MANIFEST);
        let written = std::fs::read_to_string(h.blobs.output(&job.id, MANIFEST)).unwrap();
        assert_eq!(
            written.lines().collect::<Vec<_>>(),
            expected_manifest(&tree())
        );
        assert_eq!(stored.outputs[0].size, written.len() as u64);
        assert_eq!(
            stored.result.as_ref().unwrap()["files"],
            json!(tree().len())
        );
        assert_eq!(stored.progress.unit, "bytes");
        assert_eq!(
            (stored.progress.current, stored.progress.total),
            (size, Some(size))
        );
        assert_eq!(stored.progress.message, "5 files, 2.1 MB");
        assert_eq!(stored.progress.level, Level::Success);
    }

    #[tokio::test]
    async fn each_finished_file_is_checkpointed() {
        let h = Harness::new().await;
        let size = write_tree(&h);
        let mut job = h.start("checksum", json!({"dir": "tree"})).await;
        Checksum::run(params("tree"), &mut job.ctx).await.unwrap();
        assert_eq!(
            h.checkpoint(&mut job).await,
            Some(json!({"files_done": 5, "bytes_done": size}))
        );
    }

    #[tokio::test]
    async fn a_resumed_run_hashes_only_the_files_after_its_checkpoint() {
        let h = Harness::new().await;
        let size = write_tree(&h);
        let files = tree();
        let done: u64 = files[..3].iter().map(|(_, d)| d.len() as u64).sum();
        let checkpoint = json!({"files_done": 3, "bytes_done": done});
        let mut job = h
            .start_resuming("checksum", json!({"dir": "tree"}), Some(checkpoint))
            .await;

        assert_eq!(Checksum::run(params("tree"), &mut job.ctx).await, Ok(()));

        let info = h.lines(&mut job, LogLevel::Info).await;
        assert_eq!(manifest(&info), expected_manifest(&files[3..]));
        assert!(
            info.contains(&"resuming after 3 of 5 files".to_string()),
            "{info:?}"
        );
        let stored = h.job(&mut job).await;
        assert_eq!(
            (stored.progress.current, stored.progress.total),
            (size, Some(size))
        );
        assert_eq!(stored.progress.message, "5 files, 2.1 MB");
    }

    #[tokio::test]
    async fn a_checkpoint_that_no_longer_fits_the_folder_starts_over() {
        let h = Harness::new().await;
        write_tree(&h);
        let checkpoint = json!({"files_done": 99, "bytes_done": 1});
        let mut job = h
            .start_resuming("checksum", json!({"dir": "tree"}), Some(checkpoint))
            .await;
        Checksum::run(params("tree"), &mut job.ctx).await.unwrap();
        assert_eq!(manifest(&h.lines(&mut job, LogLevel::Info).await).len(), 5);
    }

    #[tokio::test]
    async fn links_inside_the_root_are_hashed_and_links_out_of_it_are_skipped_with_a_warning() {
        let h = Harness::new().await;
        h.write("tree/a.txt", "hello");
        h.write("elsewhere/b.txt", "hello");
        std::fs::write(h.outside().join("secret.txt"), "secret").unwrap();
        symlink("../elsewhere/b.txt", h.data_root.join("tree/b-link")).unwrap();
        symlink(
            h.outside().join("secret.txt"),
            h.data_root.join("tree/secret-link"),
        )
        .unwrap();
        symlink(h.outside(), h.data_root.join("tree/outside-dir")).unwrap();
        symlink(".", h.data_root.join("tree/loop")).unwrap();
        symlink(
            h.data_root.join("elsewhere/b.txt"),
            h.data_root.join("tree/absolute-link"),
        )
        .unwrap();
        let mut job = h.start("checksum", json!({"dir": "tree"})).await;

        assert_eq!(Checksum::run(params("tree"), &mut job.ctx).await, Ok(()));

        let info = h.lines(&mut job, LogLevel::Info).await;
        assert_eq!(
            manifest(&info),
            [format!("{HELLO}  a.txt"), format!("{HELLO}  b-link")]
        );
        assert!(
            info.contains(&"skipped loop: symbolic link to a folder (not followed)".to_string())
        );
        let mut warnings = h.lines(&mut job, LogLevel::Warn).await;
        warnings.sort();
        assert_eq!(
            warnings,
            [
                "skipped absolute-link: symbolic link by absolute path (not followed; make it relative)",
                "skipped outside-dir: symbolic link to outside the data folder",
                "skipped secret-link: symbolic link to outside the data folder",
            ]
        );
        let stored = h.job(&mut job).await;
        assert_eq!(stored.progress.level, Level::Warning);
        assert_eq!(stored.progress.message, "2 files, 10 bytes, 3 skipped");
    }

    #[tokio::test]
    async fn a_file_swapped_for_a_link_out_or_a_pipe_after_the_walk_is_not_read() {
        let h = Harness::new().await;
        h.write("tree/a.txt", "hello");
        h.write("tree/b.txt", "world");
        let secret = h.outside().join("secret.txt");
        std::fs::write(&secret, "secret").unwrap();
        let walk = walk_folder(&Files::whole(&h.data_root), "tree").unwrap();
        assert_eq!(walk.files.len(), 2);
        // Between the walk and the hashing: a.txt becomes a link out, b.txt a pipe with no
        // writer, whose plain opening would never return.
        std::fs::remove_file(h.data_root.join("tree/a.txt")).unwrap();
        symlink(&secret, h.data_root.join("tree/a.txt")).unwrap();
        std::fs::remove_file(h.data_root.join("tree/b.txt")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(h.data_root.join("tree/b.txt"))
            .status()
            .unwrap();
        assert!(made.success());
        let mut job = h.start("checksum", json!({"dir": "tree"})).await;
        for file in &walk.files {
            let hashed = tokio::time::timeout(
                std::time::Duration::from_secs(60),
                hash_file(&mut job.ctx, &walk.base, &file.path),
            )
            .await
            .unwrap_or_else(|_| panic!("opening {} hung", file.name));
            assert!(hashed.is_err(), "{} was read: {hashed:?}", file.name);
        }
    }

    #[tokio::test]
    async fn an_empty_folder_succeeds_with_nothing_to_do() {
        let h = Harness::new().await;
        std::fs::create_dir_all(h.data_root.join("nothing")).unwrap();
        let mut job = h.start("checksum", json!({"dir": "nothing"})).await;
        assert_eq!(Checksum::run(params("nothing"), &mut job.ctx).await, Ok(()));
        let stored = h.job(&mut job).await;
        assert_eq!(
            (stored.progress.total, stored.progress.message.as_str()),
            (Some(0), "0 files, 0 bytes")
        );
    }

    #[tokio::test]
    async fn a_cancelled_job_hashes_nothing_more() {
        let h = Harness::new().await;
        write_tree(&h);
        let mut job = h.start("checksum", json!({"dir": "tree"})).await;
        job.stop.cancel();
        assert_eq!(Checksum::run(params("tree"), &mut job.ctx).await, Ok(()));
        assert!(manifest(&h.lines(&mut job, LogLevel::Info).await).is_empty());
        assert_eq!(h.checkpoint(&mut job).await, None);
    }

    #[tokio::test]
    async fn the_folder_must_be_an_existing_folder_inside_the_data_root() {
        let h = Harness::new().await;
        write_tree(&h);
        symlink(h.outside(), h.data_root.join("escape")).unwrap();
        assert!(check(&h, "tree").is_empty());
        assert!(check(&h, ".").is_empty());
        assert!(check(&h, "tree/sub/deeper").is_empty());
        let message = |dir: &str| {
            let problems = check(&h, dir);
            assert_eq!(problems.len(), 1, "{dir}: {problems:?}");
            assert_eq!(problems[0].field, "dir");
            problems[0].message.clone()
        };
        assert!(message("../").contains("`..`"));
        assert!(message("tree/../tree").contains("`..`"));
        assert!(message(h.data_root.join("tree").to_str().unwrap()).contains("absolute"));
        assert!(message("/etc").contains("absolute"));
        assert!(message("escape").contains("outside the data folder"));
        assert_eq!(message("missing"), "does not exist");
        assert_eq!(message("tree/a.txt"), "is not a directory");
    }

    #[tokio::test]
    async fn a_folder_that_turned_bad_after_validation_fails_the_job() {
        let h = Harness::new().await;
        let mut job = h.start("checksum", json!({"dir": "gone"})).await;
        let err = Checksum::run(params("gone"), &mut job.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.code, "bad_path");
        assert_eq!(err.message, "dir \"gone\" does not exist");
    }

    #[test]
    fn names_that_would_break_a_line_are_escaped_like_sha256sum_does() {
        assert_eq!(manifest_line("ab", "plain name.txt"), "ab  plain name.txt");
        let hex = "0".repeat(64);
        assert!(is_manifest_line(&manifest_line(&hex, "a.txt")));
        assert!(is_manifest_line(&manifest_line(&hex, "two\nlines")));
        assert!(!is_manifest_line("resuming after 3 of 5 files"));
        assert!(!is_manifest_line(&format!("{hex}  ")));
        assert_eq!(manifest_line("ab", "two\nlines"), "\\ab  two\\nlines");
        assert_eq!(manifest_line("ab", "back\\slash"), "\\ab  back\\\\slash");
    }

    #[test]
    fn sizes_are_written_in_decimal_units() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1), "1 byte");
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(3_400_000), "3.4 MB");
        assert_eq!(human_bytes(999_999), "1.0 MB");
        assert_eq!(human_bytes(12_300_000_000), "12.3 GB");
    }
}
