//! What Headway writes about a job as it runs and ends: the built-in kinds' messages beside
//! the bar, and the errors of jobs that Headway, not their program, ended. A program's own
//! message and error have no words: a page shows them as they are.

//!
//! Counts are written with their thousands grouped (100,000), as the bars write them.

use crate::text::thousands as n;
use crate::Words;
use std::fmt::Display;

/// "1 row" or "5,000 rows" (English only: the catalogs choose their own forms).
fn rows(count: u64) -> String {
    match count {
        1 => "1 row".to_string(),
        count => format!("{} rows", n(count)),
    }
}

/// The demo kind's place: "step 3 of 10".
pub fn step_of(step: u64, steps: u64) -> Words {
    let (step, steps) = (n(step), n(steps));
    Words::new("engine-step-of", format!("step {step} of {steps}"))
        .with("step", step)
        .with("steps", steps)
}

/// The demo kind failing as its parameters asked.
pub fn failed_on_purpose(attempt: u32, step: u64, fail_attempts: u32) -> Words {
    Words::new(
        "engine-failed-on-purpose",
        format!(
            "attempt {attempt} failed on purpose at step {step} (fail_attempts = {fail_attempts})"
        ),
    )
    .with("attempt", attempt)
    .with("step", step)
    .with("fail_attempts", fail_attempts)
}

/// A batch's items so far: "1487 succeeded, 1513 failed".
pub fn items_tally(succeeded: u64, failed: u64) -> Words {
    let (succeeded, failed) = (n(succeeded), n(failed));
    Words::new(
        "engine-items-tally",
        format!("{succeeded} succeeded, {failed} failed"),
    )
    .with("succeeded", succeeded)
    .with("failed", failed)
}

/// A batch cancelled part of the way.
pub fn items_cancelled_after(done: u64, items: u64, succeeded: u64, failed: u64) -> Words {
    let (done, items, succeeded, failed) = (n(done), n(items), n(succeeded), n(failed));
    Words::new(
        "engine-items-cancelled-after",
        format!("cancelled after {done} of {items} items: {succeeded} succeeded, {failed} failed"),
    )
    .with("done", done)
    .with("items", items)
    .with("succeeded", succeeded)
    .with("failed", failed)
}

pub fn all_items_failed(items: u64) -> Words {
    let items = n(items);
    Words::new(
        "engine-all-items-failed",
        format!("all {items} items failed"),
    )
    .with("items", items)
}

/// The file a checksum is at: "file 2 of 5".
pub fn file_of(n: usize, files: usize) -> Words {
    Words::new("engine-file-of", format!("file {n} of {files}"))
        .with("n", n)
        .with("files", files)
}

/// A checksum's end: "5 files, 2.1 MB" (`size` as written: 2.1 MB).
pub fn files_hashed(files: usize, size: &str) -> Words {
    Words::new("engine-files-hashed", format!("{files} files, {size}"))
        .with("files", files)
        .with("size", size)
}

/// A checksum's end with files it could not read.
pub fn files_hashed_skipped(files: usize, size: &str, skipped: usize) -> Words {
    Words::new(
        "engine-files-hashed-skipped",
        format!("{files} files, {size}, {skipped} skipped"),
    )
    .with("files", files)
    .with("size", size)
    .with("skipped", skipped)
}

/// An import reading its file through before it writes.
pub fn checking_the_file() -> Words {
    Words::new("engine-checking-the-file", "checking the file")
}

/// An import's count: "1 row imported, 0 skipped".
pub fn rows_imported(imported: u64, skipped: u64) -> Words {
    Words::new(
        "engine-rows-imported",
        format!("{} imported, {} skipped", rows(imported), n(skipped)),
    )
    .with("imported", n(imported))
    .with("skipped", n(skipped))
}

pub fn counting_jobs() -> Words {
    Words::new("engine-counting-jobs", "counting the jobs to export")
}

/// An export writing its file (`file`: its name).
pub fn writing_file(file: &str) -> Words {
    Words::new("engine-writing-file", format!("writing {file}")).with("file", file)
}

pub fn jobs_exported(count: u64) -> Words {
    let count = n(count);
    Words::new("engine-jobs-exported", format!("{count} jobs exported")).with("n", count)
}

/// A job the server was running when it stopped.
pub fn server_stopped() -> Words {
    Words::new(
        "engine-server-stopped",
        "the server stopped while this job was running",
    )
}

/// An attempt whose process went away.
pub fn attempt_lost() -> Words {
    Words::new(
        "engine-attempt-lost",
        "the process running this attempt stopped (a crash, or it was taken for dead)",
    )
}

/// A job that ran past its time limit (`limit`: its milliseconds).
pub fn timed_out(limit: u128) -> Words {
    Words::new(
        "engine-timed-out",
        format!("the job ran longer than its {limit} ms timeout"),
    )
    .with("limit", limit)
}

/// A cancelled job that did not stop within the grace (`grace`: its milliseconds).
pub fn aborted(grace: u128) -> Words {
    Words::new(
        "engine-aborted",
        format!("the job did not stop within {grace} ms and was aborted"),
    )
    .with("grace", grace)
}

/// A program that exited with a status other than 0 and wrote nothing to its stderr.
pub fn exited(status: i32) -> Words {
    Words::new(
        "engine-exited",
        format!("the program exited with status {status}"),
    )
    .with("status", status)
}

/// A worker on another machine that an operator disabled while it held the job.
pub fn worker_disabled(name: &str) -> Words {
    Words::new(
        "engine-worker-disabled",
        format!("its worker {name:?} was disabled by an operator"),
    )
    .with("name", name)
}

/// A worker whose token was revoked while it held the job.
pub fn worker_revoked(name: &str) -> Words {
    Words::new(
        "engine-worker-revoked",
        format!("its worker {name:?} was removed: its worker token was revoked"),
    )
    .with("name", name)
}

/// A worker that stopped polling (`lease`: its lease, written as `8 s`).
pub fn worker_gone(name: &str, lease: &str) -> Words {
    Words::new(
        "engine-worker-gone",
        format!("its worker {name:?} stopped polling (no poll within its {lease} lease)"),
    )
    .with("name", name)
    .with("lease", lease)
}

/// A fan-out whose items did not succeed often enough.
pub fn too_few_items(ok: u64, items: u64, percent: u8) -> Words {
    let (ok, items) = (n(ok), n(items));
    Words::new(
        "engine-too-few-items",
        format!("{ok} of {items} items succeeded, fewer than {percent} %"),
    )
    .with("ok", ok)
    .with("n", items)
    .with("percent", percent)
}

/// A run's bar: "1 of 3 steps ended".
pub fn steps_ended(ended: u64, steps: u64) -> Words {
    let (ended, steps) = (n(ended), n(steps));
    Words::new(
        "engine-steps-ended",
        format!("{ended} of {steps} steps ended"),
    )
    .with("ended", ended)
    .with("steps", steps)
}

/// A fan-out's bar: "1,487 of 3,000 done, 12 failed".
pub fn items_done(succeeded: u64, items: u64, failed: u64) -> Words {
    let (succeeded, items, failed) = (n(succeeded), n(items), n(failed));
    Words::new(
        "engine-items-done",
        format!("{succeeded} of {items} done, {failed} failed"),
    )
    .with("succeeded", succeeded)
    .with("items", items)
    .with("failed", failed)
}

/// A step not started because step `failed` failed (or, `by_hand`, was cancelled).
pub fn run_stopped_by(failed: &str, by_hand: bool) -> Words {
    let (how, what) = match by_hand {
        true => ("cancelled", "was cancelled"),
        false => ("failed", "failed"),
    };
    Words::new(
        "engine-run-stopped-by",
        format!("step {failed:?} {what}, so the run stopped starting steps"),
    )
    .with("step", failed)
    .with("how", how)
}

/// A run that failed for its step `step`, which ended `status` (`failed`, `cancelled`…).
pub fn run_step_ended(step: &str, status: impl Display) -> Words {
    Words::new("engine-run-step-ended", format!("step {step:?} {status}"))
        .with("step", step)
        .with("status", status)
}

/// The same, with the step's own error after it (as it was written: in English, or a
/// program's).
pub fn run_step_ended_with(step: &str, status: impl Display, error: &str) -> Words {
    Words::new(
        "engine-run-step-ended-with",
        format!("step {step:?} {status}: {error}"),
    )
    .with("step", step)
    .with("status", status)
    .with("error", error)
}

/// Every function here with sample values: what the app's catalog test renders.
pub fn samples() -> Vec<Words> {
    vec![
        step_of(3, 10),
        step_of(20, 100_000),
        failed_on_purpose(1, 5, 2),
        items_tally(1487, 1513),
        items_cancelled_after(40, 100, 38, 2),
        all_items_failed(5),
        file_of(2, 5),
        files_hashed(5, "2.1 MB"),
        files_hashed_skipped(2, "10 bytes", 3),
        checking_the_file(),
        rows_imported(1, 0),
        rows_imported(2000, 3),
        counting_jobs(),
        writing_file("jobs.csv"),
        jobs_exported(120),
        server_stopped(),
        attempt_lost(),
        timed_out(5000),
        aborted(2000),
        exited(7),
        worker_disabled("gpu-1"),
        worker_revoked("gpu-1"),
        worker_gone("gpu-1", "8 s"),
        too_few_items(1487, 3000, 90),
        steps_ended(1, 3),
        items_done(1487, 3000, 12),
        run_stopped_by("check", false),
        run_stopped_by("check", true),
        run_step_ended("check", "cancelled"),
        run_step_ended_with("check", "failed", "the program exited with status 7"),
    ]
}
