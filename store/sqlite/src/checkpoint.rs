//! Checkpoints off the writer's thread.
//!
//! In WAL mode a commit appends pages to the log; a checkpoint copies them back into the database
//! file and fsyncs it. SQLite's own rule runs the checkpoint inside the commit that crossed the
//! threshold, on the writer's thread: under a stream of job changes that was a sixth of the
//! writer's time, during which no change was written. Here the writer's connection reports each
//! commit's log size ([`WalWatch`], SQLite's WAL hook in place of its auto-checkpoint), and once
//! the log holds [`CHECKPOINT_PAGES`] a thread of its own, on a connection of its own, runs a
//! `PASSIVE` checkpoint: it copies what it can while the writer goes on appending, and the writer
//! restarts the log at its next commit once everything is copied.
//!
//! A log copied while the writer appends to it is never wholly copied at the moment of a commit,
//! and SQLite restarts a log only then: so once the log is half a threshold past the checkpoint's
//! start, the writer copies the few pages the checkpointer has not reached itself, and the log
//! starts again at its next commit. Those copies do not wait: if the checkpointer holds the log at
//! that moment (on a busy machine it can be kept off the CPU while the writer appends), they are
//! tried again at the next commit. Once the log holds twice the threshold, the writer waits for
//! the checkpointer's pass to end and copies the rest: the log stays bounded however starved the
//! checkpointer is (SQLite does not wait for another checkpoint, whatever the mode: the writer
//! tries again every millisecond, for at most [`WAIT_LIMIT`]). If the checkpointer is gone (it could not open its connection, or
//! it panicked), the writer checkpoints inline as SQLite would.

use rusqlite::{ffi, Connection, OpenFlags};
use std::cell::Cell;
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

/// Log pages (4 KiB each) after which a checkpoint starts: 16 MiB. The pages a stream of job
/// changes rewrites (the jobs' indexes, the newest events) are copied back once per checkpoint,
/// whatever the number of times they were rewritten.
pub const CHECKPOINT_PAGES: i32 = 4000;

/// Checkpoints done, by whom: what the tests read.
#[derive(Debug, Default)]
pub struct Checkpoints {
    /// Passes of the checkpointer's thread.
    pub background: AtomicU64,
    /// Checkpoints on the writer's thread, each of which let the log restart.
    pub inline: AtomicU64,
    /// Pages the writer copied itself, and the pages of the logs it finished.
    pub inline_pages: AtomicU64,
    pub logged_pages: AtomicU64,
    /// Pages of the current log the checkpointer has copied, as of its last pass.
    copied: std::sync::atomic::AtomicI32,
}

/// What a commit that left `frames` pages in the log asks for.
#[derive(Debug, PartialEq, Eq)]
enum Due {
    Nothing,
    /// Wake the checkpointer.
    Background,
    /// The checkpointer is gone, or the log is past half a threshold more: checkpoint here,
    /// without waiting, as SQLite's own rule would.
    Inline,
    /// The log holds twice the threshold: wait for the checkpointer and copy the rest here.
    Wait,
}

/// How long the writer waits, at one commit, for the checkpointer's pass to end.
pub const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The writer connection's view of its log, told by SQLite after every commit.
pub struct WalWatch {
    threshold: i32,
    /// Log size at which the checkpointer is woken next. Raised as it is woken, so that a log
    /// the checkpointer is still copying does not wake it at every commit; lowered again when the
    /// log restarts.
    next: Cell<i32>,
    last: Cell<i32>,
    wake: SyncSender<()>,
    counts: Arc<Checkpoints>,
}

impl WalWatch {
    fn committed(&self, frames: i32) -> Due {
        if frames < self.last.get() {
            self.next.set(self.threshold);
        }
        self.last.set(frames);
        // The log restarts only at a commit that finds every page of it copied; copying while
        // the writer appends never catches up on its own. So past half a threshold more, the
        // writer copies what the checkpointer has not yet (a few pages) itself: the next commit
        // starts the log again. If the checkpointer is copying at that moment, this is a no-op
        // (a passive checkpoint does not wait), tried again at the next commit.
        if frames >= 2 * self.threshold {
            return Due::Wait;
        }
        if frames >= self.threshold + self.threshold / 2 {
            return Due::Inline;
        }
        if frames < self.next.get() {
            return Due::Nothing;
        }
        // A further wake after another eighth of the threshold, if the log has not restarted.
        self.next.set(frames + (self.threshold / 8).max(1));
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => Due::Background,
            Err(TrySendError::Disconnected(())) => Due::Inline,
        }
    }
}

/// The WAL hook on the writer's connection; frees its [`WalWatch`] when dropped, after the
/// connection (declare it after the connection in the struct that owns both).
pub struct Hook {
    watch: *mut WalWatch,
}

// The hook's state is only touched by SQLite on the connection's thread, during a commit, and by
// `drop`: it moves with the connection to the writer's thread and is never shared.
unsafe impl Send for Hook {}

impl Drop for Hook {
    fn drop(&mut self) {
        // SAFETY: made by `Box::into_raw` in `install`; the connection that called the hook is
        // closed by now (it is dropped first), so nothing else holds this pointer.
        drop(unsafe { Box::from_raw(self.watch) });
    }
}

unsafe extern "C" fn on_commit(
    arg: *mut c_void,
    db: *mut ffi::sqlite3,
    _schema: *const c_char,
    frames: c_int,
) -> c_int {
    // SAFETY: `arg` is the `WalWatch` that `install` leaked for as long as the connection lives.
    let watch = unsafe { &*(arg as *const WalWatch) };
    let wait = match watch.committed(frames) {
        Due::Nothing | Due::Background => None,
        Due::Inline => Some(false),
        Due::Wait => Some(true),
    };
    if let Some(wait) = wait {
        let counts = &watch.counts;
        let before = counts.copied.load(Ordering::Relaxed);
        let (mut logged, mut copied) = (0, 0);
        let rc = attempt(wait, WAIT_LIMIT, || {
            // SAFETY: `db` is the connection committing, as SQLite's own checkpointing hook does.
            unsafe {
                ffi::sqlite3_wal_checkpoint_v2(
                    db,
                    std::ptr::null(),
                    ffi::SQLITE_CHECKPOINT_PASSIVE,
                    &mut logged,
                    &mut copied,
                )
            }
        });
        if rc == ffi::SQLITE_OK {
            // The checkpointer's count is of this log unless the log restarted since.
            let before = if before <= copied { before } else { 0 };
            counts.inline.fetch_add(1, Ordering::Relaxed);
            counts
                .inline_pages
                .fetch_add((copied - before).max(0) as u64, Ordering::Relaxed);
            counts
                .logged_pages
                .fetch_add(logged.max(0) as u64, Ordering::Relaxed);
            counts.copied.store(0, Ordering::Relaxed);
        }
    }
    ffi::SQLITE_OK
}

/// Runs `checkpoint` once, or, with `wait`, again every millisecond while another checkpoint
/// holds the log (`SQLITE_BUSY`), for at most `limit`. Returns its last result code.
fn attempt(wait: bool, limit: std::time::Duration, mut checkpoint: impl FnMut() -> c_int) -> c_int {
    let started = std::time::Instant::now();
    loop {
        let rc = checkpoint();
        if rc != ffi::SQLITE_BUSY || !wait || started.elapsed() >= limit {
            return rc;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Replaces SQLite's auto-checkpoint on the writer's connection `db` with a checkpointer thread
/// on a connection of its own to `path`. Returns the hook to keep beside the connection. Without
/// that thread (its connection or the thread could not be had), the writer checkpoints itself.
pub fn install(db: &Connection, path: &Path, threshold: i32, counts: Arc<Checkpoints>) -> Hook {
    let (wake, woken) = sync_channel(1);
    match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(conn) => {
            let counts = counts.clone();
            if let Err(e) = std::thread::Builder::new()
                .name("headway-checkpoint".into())
                .spawn(move || run(conn, woken, &counts))
            {
                tracing::warn!(error = %e, "cannot start the checkpoint thread; the writer checkpoints itself");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the checkpoint connection; the writer checkpoints itself");
            drop(woken);
        }
    }
    let watch = Box::into_raw(Box::new(WalWatch {
        threshold,
        next: Cell::new(threshold),
        last: Cell::new(0),
        wake,
        counts,
    }));
    // SAFETY: `db.handle()` is the open connection; the hook's state lives until `Hook` drops,
    // after the connection (see `Hook`). Setting a WAL hook replaces the auto-checkpoint's.
    unsafe {
        ffi::sqlite3_wal_hook(db.handle(), Some(on_commit), watch as *mut c_void);
    }
    Hook { watch }
}

/// The checkpointer's loop: a `PASSIVE` checkpoint each time it is woken, until the writer's
/// connection (and its hook) is gone.
fn run(conn: Connection, woken: Receiver<()>, counts: &Checkpoints) {
    while woken.recv().is_ok() {
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i32>(2)
        }) {
            Ok(copied) => {
                counts.background.fetch_add(1, Ordering::Relaxed);
                counts.copied.store(copied, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "a checkpoint of the database failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(threshold: i32) -> (WalWatch, Receiver<()>) {
        let (wake, woken) = sync_channel(1);
        let watch = WalWatch {
            threshold,
            next: Cell::new(threshold),
            last: Cell::new(0),
            wake,
            counts: Arc::default(),
        };
        (watch, woken)
    }

    #[test]
    fn the_checkpointer_is_woken_once_the_log_reaches_the_threshold() {
        let (w, woken) = watch(800);
        assert_eq!(w.committed(10), Due::Nothing);
        assert_eq!(w.committed(799), Due::Nothing);
        assert!(woken.try_recv().is_err());
        assert_eq!(w.committed(800), Due::Background);
        assert!(woken.try_recv().is_ok());
    }

    #[test]
    fn a_log_being_copied_wakes_it_again_only_as_it_grows_by_an_eighth() {
        let (w, _woken) = watch(800);
        assert_eq!(w.committed(800), Due::Background);
        assert_eq!(w.committed(850), Due::Nothing);
        assert_eq!(w.committed(899), Due::Nothing);
        assert_eq!(w.committed(900), Due::Background);
        assert_eq!(w.committed(1199), Due::Background);
        // Half a threshold past: the writer copies the rest itself, at each commit until the
        // log restarts.
        assert_eq!(w.committed(1200), Due::Inline);
        assert_eq!(w.committed(1210), Due::Inline);
        // Twice the threshold, the checkpointer still copying: the writer waits and copies.
        assert_eq!(w.committed(1599), Due::Inline);
        assert_eq!(w.committed(1600), Due::Wait);
        assert_eq!(w.committed(1700), Due::Wait);
        // The log restarted: the threshold counts again from the start.
        assert_eq!(w.committed(20), Due::Nothing);
        assert_eq!(w.committed(799), Due::Nothing);
        assert_eq!(w.committed(800), Due::Background);
    }

    #[test]
    fn a_writer_that_must_wait_tries_again_until_the_other_checkpoint_ends() {
        let mut answers = vec![ffi::SQLITE_OK, ffi::SQLITE_BUSY, ffi::SQLITE_BUSY];
        let mut tries = 0;
        let rc = attempt(true, WAIT_LIMIT, || {
            tries += 1;
            answers.pop().unwrap()
        });
        assert_eq!((rc, tries), (ffi::SQLITE_OK, 3));
        // Without waiting, one try; with a limit, no more tries than it allows.
        let mut tries = 0;
        let busy = || ffi::SQLITE_BUSY;
        assert_eq!(
            attempt(false, WAIT_LIMIT, || {
                tries += 1;
                busy()
            }),
            ffi::SQLITE_BUSY
        );
        assert_eq!(tries, 1);
        assert_eq!(
            attempt(true, std::time::Duration::ZERO, busy),
            ffi::SQLITE_BUSY
        );
    }

    #[test]
    fn without_a_checkpointer_the_writer_checkpoints_itself() {
        let (w, woken) = watch(800);
        drop(woken);
        assert_eq!(w.committed(800), Due::Inline);
    }
}
