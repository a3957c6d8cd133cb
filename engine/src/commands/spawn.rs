//! Starting a program: no shell, a cleared environment, a working directory of its own, its
//! own process group, descriptors 0 to 2 and 3 for its reports (no other), and death with
//! Headway, of the program and of everything it starts.
//!
//! Every program runs under a supervisor of its own ([`super::supervisor`]): Headway's child,
//! the program's parent, the subreaper of everything the run starts, which kills it all when
//! the program ends, when Headway asks, or when Headway dies. Headway signals and waits for
//! the supervisor, which reports the program's exit status.
//!
//! Every supervisor is started from one thread that lives as long as the commands do, because
//! the signal it gets when Headway dies (`PR_SET_PDEATHSIG`) is tied to the thread that
//! started it, not to the process: one started from a pool thread that later exits would be
//! told Headway died with that thread.
//!
//! Neither is started with `fork`: the supervisor shares Headway's memory (`CLONE_VM`) and runs
//! on a stack Headway gives it, and the program is started from it the way `posix_spawn`
//! starts one (`CLONE_VM | CLONE_VFORK`, for the few system calls it makes before `execve`),
//! so that starting a program costs the same however much memory Headway has mapped. (A
//! `fork` copies Headway's page tables first, which made a run of `true` cost Headway some
//! 7 ms of CPU.) `posix_spawn` itself cannot be used: the parent-death signal must be set by
//! the child.

use super::child::ChildArgs;
use super::supervisor::{self, Shared};
use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU32, Ordering};
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
    /// Its supervisor, waited for through a pidfd; its exit says how the program ended.
    pub child: Program,
    /// The program's process group (its own pid), for a sweep after a crash.
    pub group: i32,
    /// What stops the run (with no grace period until one is set): see [`Group`].
    pub control: Group,
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
    /// thread ends when the spawner is dropped, and everything of the programs it started that
    /// still runs is killed then.
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

/// What a supervisor runs on: [`Shared`] and its stack and the program's, which must stay
/// where they are until the supervisor has been reaped.
struct Memory {
    shared: *mut Shared,
    stacks: Vec<u8>,
}

// SAFETY: the memory is only read by Headway after the supervisor wrote it and was reaped (or
// while it waits, through atomics); moving the owner between threads moves no byte of it.
unsafe impl Send for Memory {}

impl Memory {
    fn new(child: ChildArgs) -> Memory {
        let mut stacks = vec![0u8; 2 * STACK];
        let base = stacks.as_mut_ptr() as usize;
        // Each stack grows down from its top, aligned as the ABI wants.
        let program_stack = ((base + 2 * STACK) & !15) as *mut libc::c_void;
        let shared = Box::into_raw(Box::new(Shared {
            child,
            state: AtomicU32::new(supervisor::STARTING),
            headway: std::process::id() as libc::pid_t,
            program: 0,
            ended: 0,
            status: 0,
            program_stack,
        }));
        Memory { shared, stacks }
    }

    fn supervisor_stack(&mut self) -> *mut libc::c_void {
        ((self.stacks.as_mut_ptr() as usize + STACK) & !15) as *mut libc::c_void
    }

    /// The program's wait status, once the supervisor has been reaped (`None` if it was
    /// killed before it saw the program end).
    fn program_status(&self) -> Option<ExitStatus> {
        // SAFETY: written by the supervisor, which has been reaped: nothing writes it now.
        unsafe {
            let shared = &*self.shared;
            (std::ptr::read_volatile(&shared.ended) == 1)
                .then(|| ExitStatus::from_raw(std::ptr::read_volatile(&shared.status)))
        }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw in `new`, and dropped once.
        drop(unsafe { Box::from_raw(self.shared) });
    }
}

/// A running program, as its supervisor: waited for through a pidfd.
pub struct Program {
    pid: libc::pid_t,
    pidfd: AsyncFd<OwnedFd>,
    status: Option<ExitStatus>,
    /// Freed once the supervisor has been reaped; leaked if it never is.
    memory: Option<Memory>,
}

impl Program {
    /// Waits for the program to end and everything it started to be killed (once it has,
    /// again and again gives the same status).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        loop {
            let mut ready = self.pidfd.readable().await?;
            if let Some(own) = reap(self.pid, libc::WNOHANG)? {
                let memory = self.memory.take();
                let status = memory
                    .as_ref()
                    .and_then(Memory::program_status)
                    .unwrap_or(own);
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
        let memory = self.memory.take();
        // Not waited for: reaped here if it has ended, else by a task once it does (the
        // caller's `Group` has signalled it), so that no zombie is left behind. Its memory
        // goes with it, not before.
        if let Ok(Some(_)) = reap(self.pid, libc::WNOHANG) {
            return;
        }
        let pid = self.pid;
        let (Ok(fd), Ok(handle)) = (
            self.pidfd.get_ref().try_clone(),
            tokio::runtime::Handle::try_current(),
        ) else {
            std::mem::forget(memory);
            return;
        };
        handle.spawn(async move {
            if let Ok(fd) = watch(fd) {
                loop {
                    let Ok(mut ready) = fd.readable().await else {
                        break;
                    };
                    if !matches!(reap(pid, libc::WNOHANG), Ok(None)) {
                        drop(memory);
                        return;
                    }
                    ready.clear_ready();
                }
            }
            std::mem::forget(memory);
        });
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

/// The steps of a start, for the error message of one that fails (the last two are the
/// supervisor's).
const STEPS: [&str; 8] = [
    "making its process group",
    "setting its parent-death signal",
    "checking that Headway still runs",
    "setting up its descriptors",
    "entering its working folder",
    "executing it",
    "making its supervisor the subreaper of its processes",
    "starting it from its supervisor",
];

/// Each stack, the supervisor's and the program's (until it execs): they run only
/// `supervisor_main` and `child_main` and the system calls they make.
const STACK: usize = 64 * 1024;

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
    let mut memory = Memory::new(ChildArgs {
        path: path.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: cwd.as_ptr(),
        parent: 0,
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
    });
    let stack = memory.supervisor_stack();
    let shared = memory.shared;
    // SAFETY: every signal is blocked from before `clone` until the supervisor has started the
    // program, so that no handler runs in either before they reset them, and so that this
    // thread (whose errno the two share) writes none meanwhile. The supervisor runs
    // `supervisor_main` on its own stack with `shared`, which `memory` keeps where it is until
    // the supervisor has been reaped. The kernel clears `state` and wakes this thread if the
    // supervisor exits (CLONE_CHILD_CLEARTID).
    let (pid, clone_error) = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut (*shared).child.mask);
        let state = std::ptr::addr_of_mut!((*shared).state);
        let pid = libc::clone(
            supervisor::supervisor_main,
            stack,
            libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD,
            shared as *mut libc::c_void,
            std::ptr::null_mut::<libc::pid_t>(),
            std::ptr::null_mut::<libc::c_void>(),
            state as *mut libc::pid_t,
        );
        let clone_error = io::Error::last_os_error();
        if pid > 0 {
            while (*state).load(Ordering::Acquire) == supervisor::STARTING {
                libc::syscall(
                    libc::SYS_futex,
                    state as *const u32,
                    libc::FUTEX_WAIT,
                    supervisor::STARTING,
                    std::ptr::null::<libc::timespec>(),
                );
            }
        }
        libc::pthread_sigmask(
            libc::SIG_SETMASK,
            &(*shared).child.mask,
            std::ptr::null_mut(),
        );
        (pid, clone_error)
    };
    if pid < 0 {
        return Err(clone_error);
    }
    // SAFETY: the supervisor and the program wrote these (or not) before `state` changed.
    let (errno, step, program) = unsafe {
        (
            std::ptr::read_volatile(&(*shared).child.errno),
            std::ptr::read_volatile(&(*shared).child.step),
            std::ptr::read_volatile(&(*shared).program),
        )
    };
    drop((null, stdout_w, stderr_w, fd3_w));
    if errno != 0 || program == 0 {
        let _ = reap(pid, libc::__WALL);
        drop(memory);
        if errno == 0 {
            return Err(io::Error::other("its supervisor ended before starting it"));
        }
        let e = io::Error::from_raw_os_error(errno);
        return Err(match step {
            5 => e,
            s => io::Error::new(e.kind(), format!("{} failed: {e}", STEPS[s as usize])),
        });
    }
    // SAFETY: pidfd_open on our own child, which is not reaped yet (its pid cannot be reused).
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: a plain system call on our own child, which kills everything it started.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        let _ = reap(pid, 0);
        return Err(e);
    }
    // SAFETY: the descriptor was just opened and is owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as libc::c_int) };
    let control = Group::new(pidfd.try_clone()?);
    Ok(Spawned {
        child: Program {
            pid,
            pidfd: watch(pidfd)?,
            status: None,
            memory: Some(memory),
        },
        group: program,
        control,
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

/// Sends `signal` to the process of `pidfd`; false if it has been reaped.
fn signal(pidfd: &OwnedFd, signal: libc::c_int) -> bool {
    // SAFETY: a plain system call on a pidfd, which names one process (never a reused pid).
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        ) == 0
    }
}

/// A run's processes, stopped when this is dropped, through its supervisor: `SIGTERM` to the
/// program's process group, then, after the grace period, everything the run started killed.
/// So a run that ends any way at all (its future dropped on a timeout or an abort included)
/// leaves no process behind.
pub struct Group {
    /// The supervisor's pidfd.
    supervisor: OwnedFd,
    pub grace: Duration,
    /// When `SIGTERM` was sent, if it was.
    terminated: Option<tokio::time::Instant>,
    /// Nothing of it is left (the supervisor has ended, having killed the rest).
    done: bool,
    /// What must outlive every process of the run (the run's folder, with the note a sweep
    /// reads after a crash).
    kept: Option<Box<dyn Send>>,
}

impl Group {
    fn new(supervisor: OwnedFd) -> Group {
        Group {
            supervisor,
            grace: Duration::ZERO,
            terminated: None,
            done: false,
            kept: None,
        }
    }

    /// Keeps `thing` until no process of the run is left.
    pub fn keep(&mut self, thing: impl Send + 'static) {
        self.kept = Some(Box::new(thing));
    }

    /// Asks the program's process group to stop (once); returns when `SIGKILL` is due.
    pub fn terminate(&mut self) -> tokio::time::Instant {
        let at = *self.terminated.get_or_insert_with(|| {
            signal(&self.supervisor, libc::SIGTERM);
            tokio::time::Instant::now()
        });
        at + self.grace
    }

    /// Kills every process of the run that is left.
    pub fn kill(&mut self) {
        signal(&self.supervisor, libc::SIGUSR1);
    }

    /// The supervisor has ended and been waited for: nothing of the run is left.
    pub fn finish(&mut self) {
        self.done = true;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let due = self.terminate();
        let kept = self.kept.take();
        let Ok(supervisor) = self.supervisor.try_clone() else {
            self.kill();
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    tokio::time::sleep_until(due).await;
                    signal(&supervisor, libc::SIGUSR1);
                    drop(kept);
                });
            }
            Err(_) => {
                signal(&supervisor, libc::SIGUSR1);
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

    /// Reads `n` pids, one a line, from the program's stdout.
    async fn read_pids(stdout: &mut pipe::Receiver, n: usize) -> Vec<u32> {
        let mut text = String::new();
        let mut buf = [0u8; 256];
        while text.lines().count() < n || !text.ends_with('\n') {
            let got = stdout.read(&mut buf).await.unwrap();
            assert!(got > 0, "{text}");
            text.push_str(std::str::from_utf8(&buf[..got]).unwrap());
        }
        text.lines().map(|l| l.trim().parse().unwrap()).collect()
    }

    fn exists(pid: u32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    /// A child, and a grandchild in a session of its own whose parent has exited.
    const ESCAPES: &str = "sleep 300 & echo $!; (setsid sleep 300 & echo $!); wait";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn everything_a_program_started_is_killed_when_it_ends() {
        let spawner = Spawner::new(tokio::runtime::Handle::current()).unwrap();
        let script = ESCAPES.replace("; wait", "; exit 5");
        let mut s = spawner
            .spawn(spec("/bin/sh", &["-c", &script]))
            .await
            .unwrap();
        let pids = read_pids(&mut s.stdout, 2).await;
        let status = s.child.wait().await.unwrap();
        assert_eq!(status.code(), Some(5), "the program's own status");
        assert!(pids.iter().all(|p| !exists(*p)), "{pids:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn everything_a_program_started_is_killed_when_its_starter_goes() {
        let spawner = Spawner::new(tokio::runtime::Handle::current()).unwrap();
        let mut s = spawner
            .spawn(spec("/bin/sh", &["-c", ESCAPES]))
            .await
            .unwrap();
        let pids = read_pids(&mut s.stdout, 2).await;
        assert!(pids.iter().all(|p| exists(*p)));
        // Its thread ends, as it does when Headway dies.
        drop(spawner);
        let status = s.child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert!(pids.iter().all(|p| !exists(*p)), "{pids:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancel_terminates_the_group_then_kills_the_rest() {
        let spawner = Spawner::new(tokio::runtime::Handle::current()).unwrap();
        let script =
            "trap 'echo term; exit 0' TERM; (setsid sleep 300 & echo $!); sleep 300 & wait";
        let mut s = spawner
            .spawn(spec("/bin/sh", &["-c", script]))
            .await
            .unwrap();
        let pids = read_pids(&mut s.stdout, 1).await;
        s.control.terminate();
        let status = s.child.wait().await.unwrap();
        assert_eq!(status.code(), Some(0), "it heard SIGTERM");
        assert!(pids.iter().all(|p| !exists(*p)), "{pids:?}");
        let mut s = spawner
            .spawn(spec("/bin/sh", &["-c", ESCAPES]))
            .await
            .unwrap();
        let pids = read_pids(&mut s.stdout, 2).await;
        s.control.kill();
        assert_eq!(s.child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
        assert!(pids.iter().all(|p| !exists(*p)), "{pids:?}");
    }
}
