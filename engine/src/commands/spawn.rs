//! Starting a program: no shell, a cleared environment, a working directory of its own, its
//! own process group, file descriptor 3 for its reports, and death with Headway.
//!
//! Every program is started from one thread that lives as long as the commands do, because
//! the signal a program gets when Headway dies (`PR_SET_PDEATHSIG`) is tied to the thread
//! that started it, not to the process: a program started from a pool thread that later
//! exits would be killed with that thread.
//!
//! A program is started the way `posix_spawn` starts one, not with `fork`: the child shares
//! Headway's memory (`CLONE_VM | CLONE_VFORK`) for the few system calls it makes before
//! `execve`, so that starting it costs the same however much memory Headway has mapped. (A
//! `fork` copies Headway's page tables first, which made a run of `true` cost Headway some
//! 7 ms of CPU.) `posix_spawn` itself cannot be used: the parent-death signal must be set by
//! the child.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe;

/// What to start.
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, OsString)>,
    pub cwd: PathBuf,
}

/// A started program and its three channels.
pub struct Spawned {
    pub child: Program,
    /// Its process group (its own pid).
    pub group: i32,
    pub stdout: pipe::Receiver,
    pub stderr: pipe::Receiver,
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

/// A running program, waited for through a pidfd.
pub struct Program {
    pid: libc::pid_t,
    pidfd: AsyncFd<OwnedFd>,
    status: Option<ExitStatus>,
}

impl Program {
    /// Waits for the program to end (once it has, again and again gives the same status).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        loop {
            let mut ready = self.pidfd.readable().await?;
            if let Some(status) = reap(self.pid, libc::WNOHANG)? {
                self.status = Some(status);
                return Ok(status);
            }
            ready.clear_ready();
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        // Not waited for: reaped here if it has ended, else by a task once it does (the
        // caller's `Group` has signalled it), so that no zombie is left behind.
        if let Ok(Some(_)) = reap(self.pid, libc::WNOHANG) {
            return;
        }
        let pid = self.pid;
        let Ok(fd) = self.pidfd.get_ref().try_clone() else {
            return;
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Ok(fd) = watch(fd) {
                    loop {
                        let Ok(mut ready) = fd.readable().await else {
                            return;
                        };
                        if !matches!(reap(pid, libc::WNOHANG), Ok(None)) {
                            return;
                        }
                        ready.clear_ready();
                    }
                }
            });
        }
    }
}

/// A pidfd, readable once its process has ended.
fn watch(pidfd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the `OwnedFd` is moved in and stays open, the same descriptor, as long as the
    // `AsyncFd` owns it.
    Ok(unsafe { AsyncFd::register(pidfd) }?)
}

/// `waitpid` of one child; `None` while it runs (with `WNOHANG`).
fn reap(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<ExitStatus>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: a plain system call on our own child, writing into `status`.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r == pid {
            return Ok(Some(ExitStatus::from_raw(status)));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Everything the child needs, prepared before it exists: it may not allocate.
#[repr(C)]
struct ChildArgs {
    path: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    cwd: *const libc::c_char,
    parent: libc::pid_t,
    /// stdin, stdout, stderr and fd 3, in that order.
    fds: [libc::c_int; 4],
    /// The highest signal number.
    max_signal: libc::c_int,
    /// The signal mask to exec with (the spawning thread's, before it blocked every signal).
    mask: libc::sigset_t,
    /// Set by the child when it cannot exec: the errno, and which step failed.
    errno: libc::c_int,
    step: libc::c_int,
}

/// The steps the child takes, for the error message of one that fails.
const STEPS: [&str; 6] = [
    "making its process group",
    "setting its parent-death signal",
    "checking that Headway still runs",
    "setting up its descriptors",
    "entering its working folder",
    "executing it",
];

/// The child, between `clone` and `execve`. It shares Headway's memory and the spawning
/// thread is suspended until it execs or exits: only system calls on values prepared before,
/// no allocation, no lock, no unwinding.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent keeps alive (and does not touch) until this
    // child has exec'd or exited; every call below is async-signal-safe.
    unsafe {
        let a = &mut *(arg as *mut ChildArgs);
        let fail = |a: &mut ChildArgs, step: libc::c_int| -> libc::c_int {
            a.errno = *libc::__errno_location();
            a.step = step;
            libc::_exit(127)
        };
        // Handlers are Headway's code on Headway's memory: none may run here, and the program
        // starts with every signal at its default (SIGPIPE too, which Rust ignores).
        let mut old: libc::sigaction = std::mem::zeroed();
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        for sig in 1..=a.max_signal {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && (old.sa_sigaction != libc::SIG_DFL
                    && (old.sa_sigaction != libc::SIG_IGN || sig == libc::SIGPIPE))
            {
                libc::sigaction(sig, &default, std::ptr::null_mut());
            }
        }
        if libc::setpgid(0, 0) != 0 {
            return fail(a, 0);
        }
        if libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ) != 0
        {
            return fail(a, 1);
        }
        // Headway died before the line above: nothing would kill this program later.
        if libc::getppid() != a.parent {
            *libc::__errno_location() = libc::ESRCH;
            return fail(a, 2);
        }
        // A descriptor below 4 that is not yet where it goes would be overwritten by the
        // dup2 of another (when Headway runs with stdin, stdout or stderr closed): moved up
        // first.
        for (target, fd) in a.fds.iter_mut().enumerate() {
            if *fd < 4 && *fd != target as libc::c_int {
                *fd = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 4);
                if *fd < 0 {
                    return fail(a, 3);
                }
            }
        }
        for (target, fd) in a.fds.iter().enumerate() {
            let target = target as libc::c_int;
            if *fd == target {
                // Already in place: keep it open across exec.
                let flags = libc::fcntl(target, libc::F_GETFD);
                if flags < 0 || libc::fcntl(target, libc::F_SETFD, flags & !libc::FD_CLOEXEC) != 0 {
                    return fail(a, 3);
                }
            } else if libc::dup2(*fd, target) != target {
                return fail(a, 3);
            }
        }
        if libc::chdir(a.cwd) != 0 {
            return fail(a, 4);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &a.mask, std::ptr::null_mut());
        libc::execve(a.path, a.argv, a.envp);
        fail(a, 5)
    }
}

/// The child's stack: it runs only `child_main` and the system calls it makes.
const CHILD_STACK: usize = 64 * 1024;

fn c_string(bytes: &[u8], what: &str) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} holds a NUL byte"),
        )
    })
}

fn spawn(spec: Spec) -> io::Result<Spawned> {
    let path = c_string(spec.program.as_os_str().as_bytes(), "the program's path")?;
    let cwd = c_string(spec.cwd.as_os_str().as_bytes(), "the working folder")?;
    let mut args = vec![path.clone()];
    for a in &spec.args {
        args.push(c_string(a.as_bytes(), "an argument")?);
    }
    let mut env = Vec::with_capacity(spec.env.len());
    for (k, v) in &spec.env {
        let mut pair = k.as_bytes().to_vec();
        pair.push(b'=');
        pair.extend_from_slice(v.as_bytes());
        env.push(c_string(&pair, "an environment variable")?);
    }
    let pointers = |strings: &[CString]| -> Vec<*const libc::c_char> {
        strings
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    };
    let (argv, envp) = (pointers(&args), pointers(&env));

    let null = std::fs::File::open("/dev/null")?;
    let (stdout_r, stdout_w) = pipe_cloexec()?;
    let (stderr_r, stderr_w) = pipe_cloexec()?;
    let (fd3_r, fd3_w) = pipe_cloexec()?;
    let mut child = ChildArgs {
        path: path.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: cwd.as_ptr(),
        parent: std::process::id() as libc::pid_t,
        fds: [
            null.as_raw_fd(),
            stdout_w.as_raw_fd(),
            stderr_w.as_raw_fd(),
            fd3_w.as_raw_fd(),
        ],
        max_signal: libc::SIGRTMAX(),
        // SAFETY: an all-zero sigset_t is a valid (empty) set; it is overwritten below.
        mask: unsafe { std::mem::zeroed() },
        errno: 0,
        step: 0,
    };
    let mut stack = vec![0u8; CHILD_STACK];
    // The stack grows down: its top, aligned as the ABI wants.
    let top = ((stack.as_mut_ptr() as usize + CHILD_STACK) & !15) as *mut libc::c_void;
    // SAFETY: every signal is blocked around `clone` so that no handler runs in the child
    // before it resets them; the child runs `child_main` on its own stack with `child`, which
    // outlives it (CLONE_VFORK: this thread waits until it has exec'd or exited).
    let (pid, clone_error) = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut child.mask);
        let pid = libc::clone(
            child_main,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &mut child as *mut ChildArgs as *mut libc::c_void,
        );
        let clone_error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &child.mask, std::ptr::null_mut());
        (pid, clone_error)
    };
    drop(stack);
    if pid < 0 {
        return Err(clone_error);
    }
    // SAFETY: the child wrote these (or not) before this thread resumed.
    let (errno, step) = unsafe {
        (
            std::ptr::read_volatile(&child.errno),
            std::ptr::read_volatile(&child.step),
        )
    };
    if errno != 0 {
        let _ = reap(pid, 0);
        let e = io::Error::from_raw_os_error(errno);
        return Err(match step {
            5 => e,
            s => io::Error::new(e.kind(), format!("{} failed: {e}", STEPS[s as usize])),
        });
    }
    drop((null, stdout_w, stderr_w, fd3_w));
    // SAFETY: pidfd_open on our own child, which is not reaped yet (its pid cannot be reused).
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: a plain system call on our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = reap(pid, 0);
        return Err(e);
    }
    // SAFETY: the descriptor was just opened and is owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as libc::c_int) };
    Ok(Spawned {
        child: Program {
            pid,
            pidfd: watch(pidfd)?,
            status: None,
        },
        group: pid,
        stdout: pipe::Receiver::from_owned_fd(stdout_r)?,
        stderr: pipe::Receiver::from_owned_fd(stderr_r)?,
        fd3: pipe::Receiver::from_owned_fd(fd3_r)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn spec(program: &str, args: &[&str]) -> Spec {
        Spec {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![
                ("ONLY".into(), "this".into()),
                ("PATH".into(), "/usr/bin:/bin".into()),
            ],
            cwd: std::env::temp_dir(),
        }
    }

    async fn all(mut r: pipe::Receiver) -> String {
        let mut text = String::new();
        r.read_to_string(&mut text).await.unwrap();
        text
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_program_gets_its_channels_group_environment_and_default_signals() {
        let spawner = Spawner::new(tokio::runtime::Handle::current()).unwrap();
        let script = "echo \"out $ONLY $(env | wc -l)\"; echo err >&2; echo 'progress 1 2' >&3; \
                      echo \"group $(ps -o pgid= $$ | tr -d ' ') $$\"; \
                      grep -E '^(SigIgn|SigBlk)' /proc/self/status; pwd; exit 7";
        let s = spawner
            .spawn(spec("/bin/sh", &["-c", script]))
            .await
            .unwrap();
        let (out, err, fd3) = tokio::join!(all(s.stdout), all(s.stderr), all(s.fd3));
        let mut child = s.child;
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(7));
        assert_eq!(child.wait().await.unwrap().code(), Some(7), "waits again");
        let lines: Vec<&str> = out.lines().collect();
        // `sh` adds PWD (and maybe SHLVL and _) to what it was given.
        assert!(lines[0].starts_with("out this "), "{out}");
        assert_eq!(lines[1], format!("group {0} {0}", s.group), "its own group");
        // Nothing blocked, and SIGPIPE (which Rust ignores) not ignored.
        assert_eq!(lines[2], "SigBlk:\t0000000000000000", "{out}");
        let ignored = u64::from_str_radix(lines[3].trim_start_matches("SigIgn:\t"), 16).unwrap();
        assert_eq!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "{out}");
        assert_eq!(
            std::path::Path::new(lines[4]).canonicalize().unwrap(),
            std::env::temp_dir().canonicalize().unwrap()
        );
        assert_eq!((err.as_str(), fd3.as_str()), ("err\n", "progress 1 2\n"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_program_that_cannot_start_is_an_error_that_says_why() {
        let spawner = Spawner::new(tokio::runtime::Handle::current()).unwrap();
        let e = spawner
            .spawn(spec("/nonexistent/program", &[]))
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
        let mut bad = spec("/bin/true", &[]);
        bad.cwd = "/nonexistent/folder".into();
        let e = spawner.spawn(bad).await.err().unwrap();
        assert!(
            e.to_string()
                .starts_with("entering its working folder failed"),
            "{e}"
        );
        let e = spawner
            .spawn(spec("/bin/echo", &["a\0b"]))
            .await
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "an argument holds a NUL byte");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_program_not_waited_for_is_reaped_once_it_ends() {
        let spawner = Spawner::new(tokio::runtime::Handle::current()).unwrap();
        let s = spawner.spawn(spec("/bin/sleep", &["0.2"])).await.unwrap();
        let pid = s.group;
        drop(s);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        // A zombie keeps its /proc entry until it is reaped.
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(tokio::time::Instant::now() < deadline, "never reaped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
