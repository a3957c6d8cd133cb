//! Each run of a command gets a folder of its own: `work/` (its working directory), `inputs/`
//! (read-only copies of its files) and `outputs/` (`HEADWAY_OUTPUT_DIR`), and a note of the
//! Headway process that runs it and the program's process group. The folder goes when the run
//! ends. If Headway is killed, each run's supervisor kills everything the run started (see
//! [`super::supervisor`]), but the folder stays: the next Headway to start on the machine reads
//! the notes of runs whose Headway is gone (a zombie is gone), kills what may be left of their
//! process groups (a supervisor killed with Headway), and removes their folders.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The note in a run's folder.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    /// The Headway process running it, and when that process started (its pid may be reused).
    headway: u32,
    headway_started: u64,
    job: String,
    /// The program's process group, once started.
    group: Option<i32>,
}

const NOTE: &str = "run.json";

/// A run's folder, removed when dropped.
pub struct RunDir {
    root: PathBuf,
    job: String,
}

impl RunDir {
    /// Makes the folder of a new run of `job` under `runs`.
    pub async fn create(runs: &Path, job: &str, attempt: u32) -> std::io::Result<RunDir> {
        let root = runs.join(format!("{job}-{attempt}-{}", crate::new_id()));
        for sub in ["work", "inputs", "outputs"] {
            tokio::fs::create_dir_all(root.join(sub)).await?;
        }
        let dir = RunDir {
            root,
            job: job.to_string(),
        };
        dir.note(None).await?;
        Ok(dir)
    }

    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    pub fn inputs(&self) -> PathBuf {
        self.root.join("inputs")
    }

    pub fn outputs(&self) -> PathBuf {
        self.root.join("outputs")
    }

    /// Notes the program's process group, for a sweep after a crash.
    pub async fn note(&self, group: Option<i32>) -> std::io::Result<()> {
        let note = Note {
            headway: std::process::id(),
            headway_started: started(std::process::id()).unwrap_or(0),
            job: self.job.clone(),
            group,
        };
        let text = serde_json::to_vec(&note).expect("a note serializes");
        tokio::fs::write(self.root.join(NOTE), text).await
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        remove_tree(&self.root);
    }
}

/// Removes `dir`, making read-only parts writable first.
fn remove_tree(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::remove_dir_all(dir).is_ok() {
        return;
    }
    for entry in walk(dir) {
        let _ = std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o700));
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// When process `pid` started (clock ticks after boot), if it runs: a zombie (dead, not yet
/// waited for by its parent) does not.
fn started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let mut fields = after.split(' ');
    if matches!(fields.next(), Some("Z" | "X" | "x")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// The process group of `pid`.
fn group_of(pid: u32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(2)?.parse().ok()
}

/// Whether `pid`'s environment names `job` (every program of a job has `HEADWAY_JOB_ID`).
fn runs_job(pid: u32, job: &str) -> bool {
    let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let wanted = format!("HEADWAY_JOB_ID={job}");
    env.split(|b| *b == 0).any(|v| v == wanted.as_bytes())
}

/// Kills what is left of the runs under `runs` whose Headway process is gone, and removes
/// their folders. Returns how many processes were killed.
pub fn sweep(runs: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let dir = entry.path();
        let note: Option<Note> = std::fs::read(dir.join(NOTE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Some(note) = note else {
            // A folder being made right now, or one from a crash before its note: left to a
            // later sweep unless it is old.
            if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 3600))
            {
                remove_tree(&dir);
            }
            continue;
        };
        let alive = started(note.headway).is_some_and(|s| s == note.headway_started);
        if alive {
            continue;
        }
        if let Some(group) = note.group.filter(|g| *g > 1) {
            for pid in pids() {
                if group_of(pid) == Some(group) && runs_job(pid, &note.job) {
                    // SAFETY: a plain system call on a process id.
                    if unsafe { libc::kill(pid as i32, libc::SIGKILL) } == 0 {
                        killed += 1;
                    }
                }
            }
        }
        remove_tree(&dir);
    }
    killed
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_seen_running_with_its_group() {
        let me = std::process::id();
        assert!(started(me).is_some());
        // SAFETY: getpgrp has no preconditions.
        assert_eq!(group_of(me), Some(unsafe { libc::getpgrp() }));
    }

    #[test]
    fn a_zombie_is_not_running() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not waited for: a zombie once it has exited, its /proc entry still there.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap()
            .contains(") Z ")
        {
            assert!(std::time::Instant::now() < deadline, "never a zombie");
            std::thread::yield_now();
        }
        assert_eq!(started(pid), None);
        child.wait().unwrap();
    }

    #[tokio::test]
    async fn a_run_of_a_live_headway_is_left_alone_and_a_dead_ones_is_swept() {
        let runs = tempfile::tempdir().unwrap();
        let live = RunDir::create(runs.path(), "job1", 1).await.unwrap();
        assert_eq!(sweep(runs.path()), 0);
        assert!(live.work().exists(), "a live Headway's run stays");
        // A run noted by a Headway that is gone (pid 0 never matches a start time).
        let dead = runs.path().join("job2-1-x");
        std::fs::create_dir_all(dead.join("inputs")).unwrap();
        std::fs::write(
            dead.join(NOTE),
            r#"{"headway":4294967295,"headway_started":1,"job":"job2","group":null}"#,
        )
        .unwrap();
        sweep(runs.path());
        assert!(!dead.exists());
        let path = live.work();
        drop(live);
        assert!(!path.exists(), "a run's folder goes with it");
    }
}
