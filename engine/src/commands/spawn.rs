//! Starting a program: no shell, a cleared environment, a working directory of its own, its
//! own process group, file descriptor 3 for its reports, and death with Headway.
//!
//! Every program is started from one thread that lives as long as the commands do, because
//! the signal a program gets when Headway dies (`PR_SET_PDEATHSIG`) is tied to the thread
//! that started it, not to the process: a program started from a pool thread that later
//! exits would be killed with that thread.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::unix::pipe;
use tokio::process::{Child, ChildStderr, ChildStdout};

/// What to start.
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, OsString)>,
    pub cwd: PathBuf,
}

/// A started program and its three channels.
pub struct Spawned {
    pub child: Child,
    /// Its process group (its own pid).
    pub group: i32,
    pub stdout: ChildStdout,
    pub stderr: ChildStderr,
    pub fd3: pipe::Receiver,
}

type Request = (Spec, tokio::sync::oneshot::Sender<io::Result<Spawned>>);

/// The thread programs are started from.
pub struct Spawner {
    requests: std::sync::Mutex<std::sync::mpsc::Sender<Request>>,
}

impl Spawner {
    /// A spawner whose programs' pipes are driven by the runtime `handle` belongs to. Its
    /// thread ends when the spawner is dropped, and programs it started that still run are
    /// killed then.
    pub fn new(handle: tokio::runtime::Handle) -> io::Result<Spawner> {
        let (tx, rx) = std::sync::mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("headway-programs".into())
            .spawn(move || {
                for (spec, reply) in rx {
                    let _entered = handle.enter();
                    let _ = reply.send(spawn(spec));
                }
            })?;
        Ok(Spawner {
            requests: std::sync::Mutex::new(tx),
        })
    }

    pub async fn spawn(&self, spec: Spec) -> io::Result<Spawned> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.requests
            .lock()
            .unwrap()
            .send((spec, tx))
            .map_err(|_| io::Error::other("the program starter has stopped"))?;
        rx.await
            .map_err(|_| io::Error::other("the program starter has stopped"))?
    }
}

fn spawn(spec: Spec) -> io::Result<Spawned> {
    let (read, write) = pipe_cloexec()?;
    let write_fd = write.as_raw_fd();
    let parent = std::process::id() as libc::pid_t;
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(false);
    // SAFETY: between fork and exec only async-signal-safe calls are made (setpgid, prctl,
    // getppid, dup2, fcntl), on values computed before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // Headway died between the fork and the line above: nothing would kill us later.
            if libc::getppid() != parent {
                return Err(io::Error::other(
                    "Headway stopped while the program started",
                ));
            }
            if write_fd == 3 {
                let flags = libc::fcntl(3, libc::F_GETFD);
                if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) != 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(write_fd, 3) != 3 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    drop(write);
    let group = child.id().map(|p| p as i32).unwrap_or(0);
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let fd3 = pipe::Receiver::from_owned_fd(read)?;
    Ok(Spawned {
        child,
        group,
        stdout,
        stderr,
        fd3,
    })
}

/// A pipe whose two ends close on exec.
fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends `signal` to every process of `group`; false if none is left.
pub fn signal_group(group: i32, signal: libc::c_int) -> bool {
    if group <= 1 {
        return false;
    }
    // SAFETY: a plain system call on a process group id.
    unsafe { libc::kill(-group, signal) == 0 }
}

/// A program's process group, stopped when this is dropped: `SIGTERM` to every process of it,
/// then `SIGKILL` to what is left after the grace period. So a run that ends any way at all
/// (its future dropped on a timeout or an abort included) leaves no process behind.
pub struct Group {
    pub id: i32,
    pub grace: Duration,
    /// When `SIGTERM` was sent, if it was.
    terminated: Option<tokio::time::Instant>,
    /// Nothing of it is left (its leader ended and the rest was killed).
    done: bool,
    /// What must outlive every process of the group (the run's folder, with the note a sweep
    /// reads after a crash).
    kept: Option<Box<dyn Send>>,
}

impl Group {
    pub fn new(id: i32, grace: Duration) -> Group {
        Group {
            id,
            grace,
            terminated: None,
            done: false,
            kept: None,
        }
    }

    /// Keeps `thing` until no process of the group is left.
    pub fn keep(&mut self, thing: impl Send + 'static) {
        self.kept = Some(Box::new(thing));
    }

    /// Asks every process of the group to stop (once); returns when `SIGKILL` is due.
    pub fn terminate(&mut self) -> tokio::time::Instant {
        let at = *self.terminated.get_or_insert_with(|| {
            signal_group(self.id, libc::SIGTERM);
            tokio::time::Instant::now()
        });
        at + self.grace
    }

    /// Kills every process of the group that is left.
    pub fn kill(&mut self) {
        signal_group(self.id, libc::SIGKILL);
    }

    /// The leader has ended and been waited for: what is left of the group is killed now.
    pub fn finish(&mut self) {
        self.kill();
        self.done = true;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let due = self.terminate();
        let id = self.id;
        let kept = self.kept.take();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    tokio::time::sleep_until(due).await;
                    signal_group(id, libc::SIGKILL);
                    drop(kept);
                });
            }
            Err(_) => {
                signal_group(id, libc::SIGKILL);
            }
        }
    }
}
