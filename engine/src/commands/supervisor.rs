//! The supervisor of one run: a small process between Headway and the program, so that nothing
//! the program starts outlives Headway, however Headway ends.
//!
//! It is Headway's child and the program's parent, and makes itself the child subreaper of
//! everything the run starts: a process of the run whose parent dies (a daemon, a `setsid`
//! grandchild) becomes its child, not init's. It dies with Headway's thread that started it
//! (`PR_SET_PDEATHSIG`, a signal it waits for), and then, when the program ends, or when
//! Headway asks (the run is cancelled or given up), it kills every process left under it,
//! walking its children again and again until none remain, and exits.
//!
//! It costs no `exec` and no copy of Headway's memory: it is cloned with `CLONE_VM`, runs on a
//! stack Headway gives it, on Headway's memory, and only makes system calls on values prepared
//! before it existed. It allocates nothing, takes no lock, and makes its system calls itself
//! (not through libc, whose `errno` is the spawning thread's): a process killed while Headway
//! is left with only what was already there. Its stack and [`Shared`] are Headway's to keep
//! until it has been reaped.
//!
//! What it understands, from Headway:
//! - `SIGTERM`: passed on to the program's process group (a cancel, the grace period begins);
//! - `SIGUSR1` (also its parent-death signal): kill everything of the run now, and exit.
//!
//! It ends (exit status 0) after the program has ended and everything left was killed, having
//! written the program's wait status into [`Shared::status`].

use super::child::{child_main, ChildArgs};
use std::sync::atomic::{AtomicU32, Ordering};

/// The futex word while the supervisor starts the program.
pub const STARTING: u32 = 1;
/// The futex word once the program runs (it has exec'd).
pub const STARTED: u32 = 2;

/// What Headway and a supervisor share. Headway keeps it, unmoved, until the supervisor has
/// been reaped.
#[repr(C)]
pub struct Shared {
    /// The program's start; its `errno` and `step` say why a start failed, whether the
    /// supervisor or the program failed.
    pub child: ChildArgs,
    /// [`STARTING`], then [`STARTED`]; 0 once the supervisor has exited (written by the kernel:
    /// `CLONE_CHILD_CLEARTID`). Headway waits on it as a futex.
    pub state: AtomicU32,
    /// Headway's pid, to check it still runs once the parent-death signal is set.
    pub headway: libc::pid_t,
    /// The program's pid (and process group), once started.
    pub program: libc::pid_t,
    /// 1 once the program ended, with its wait status in `status`.
    pub ended: libc::c_int,
    pub status: libc::c_int,
    /// The top of the stack the program runs on until it execs.
    pub program_stack: *mut libc::c_void,
}

/// The steps of the supervisor that can fail, numbered after the program's (see
/// [`super::spawn`]'s `STEPS`).
pub const STEP_SUBREAPER: libc::c_int = 6;
pub const STEP_CLONE: libc::c_int = 7;

/// A system call made without libc: it returns `-errno` on failure and writes no `errno`
/// (which would be the spawning thread's, shared with this process).
#[cfg(target_arch = "x86_64")]
unsafe fn sys(n: libc::c_long, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
unsafe fn sys(n: libc::c_long, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
            options(nostack),
        );
    }
    ret
}

/// Elsewhere, through libc (which writes `errno`): `-errno` on failure all the same.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn sys(n: libc::c_long, a: [usize; 6]) -> isize {
    // SAFETY: the caller passes arguments valid for system call `n`.
    let r = unsafe { libc::syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r < 0 {
        -(unsafe { *libc::__errno_location() } as isize)
    } else {
        r as isize
    }
}

unsafe fn sys0(n: libc::c_long) -> isize {
    unsafe { sys(n, [0; 6]) }
}

unsafe fn exit(code: libc::c_int) -> ! {
    unsafe {
        sys(libc::SYS_exit_group, [code as usize, 0, 0, 0, 0, 0]);
    }
    #[allow(clippy::empty_loop)]
    loop {}
}

fn kill(pid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: a plain system call.
    unsafe {
        sys(
            libc::SYS_kill,
            [pid as isize as usize, signal as usize, 0, 0, 0, 0],
        )
    };
}

/// `wait4(pid, &status, flags)`: the pid reaped, 0, or `-errno`.
fn wait(pid: libc::pid_t, status: &mut libc::c_int, flags: libc::c_int) -> isize {
    // SAFETY: `status` is a valid place for the kernel to write.
    unsafe {
        sys(
            libc::SYS_wait4,
            [
                pid as isize as usize,
                status as *mut libc::c_int as usize,
                flags as usize,
                0,
                0,
                0,
            ],
        )
    }
}

/// The supervisor, from `clone` to its exit. Runs on Headway's memory: see the module's notes.
pub extern "C" fn supervisor_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Shared` Headway keeps alive and unmoved until this process has been
    // reaped; everything below is a system call on values prepared before.
    unsafe {
        let s = &mut *(arg as *mut Shared);
        // Every signal stays blocked (as it was when Headway cloned this process): none of
        // Headway's handlers may run here, and the three it waits for are taken with
        // sigtimedwait. They must not be ignored (an ignored SIGCHLD reaps children unseen).
        let default = [0usize; 4];
        for sig in [libc::SIGCHLD, libc::SIGTERM, libc::SIGUSR1] {
            sys(
                libc::SYS_rt_sigaction,
                [sig as usize, default.as_ptr() as usize, 0, 8, 0, 0],
            );
        }
        let r = sys(
            libc::SYS_prctl,
            [libc::PR_SET_CHILD_SUBREAPER as usize, 1, 0, 0, 0, 0],
        );
        if r != 0 {
            fail(s, STEP_SUBREAPER, r);
        }
        let r = sys(
            libc::SYS_prctl,
            [
                libc::PR_SET_PDEATHSIG as usize,
                libc::SIGUSR1 as usize,
                0,
                0,
                0,
                0,
            ],
        );
        if r != 0 {
            fail(s, 1, r);
        }
        // Headway died before the line above: nothing would tell this process later.
        if sys0(libc::SYS_getppid) as libc::pid_t != s.headway {
            fail(s, 2, -(libc::ESRCH as isize));
        }
        // The program's four descriptors to 0..3, and every other one Headway had (those it
        // inherited without close-on-exec too) closed: the program gets these four only.
        for (target, fd) in s.child.fds.iter_mut().enumerate() {
            if *fd < 4 && *fd != target as libc::c_int {
                let r = sys(
                    libc::SYS_fcntl,
                    [*fd as usize, libc::F_DUPFD_CLOEXEC as usize, 4, 0, 0, 0],
                );
                if r < 0 {
                    fail(s, 3, r);
                }
                *fd = r as libc::c_int;
            }
        }
        for (target, fd) in s.child.fds.iter().enumerate() {
            let r = if *fd == target as libc::c_int {
                // Already in place: kept open across exec.
                sys(
                    libc::SYS_fcntl,
                    [target, libc::F_SETFD as usize, 0, 0, 0, 0],
                )
            } else {
                sys(libc::SYS_dup3, [*fd as usize, target, 0, 0, 0, 0])
            };
            if r < 0 {
                fail(s, 3, r);
            }
        }
        s.child.fds = [0, 1, 2, 3];
        close_from(4);
        s.child.parent = sys0(libc::SYS_getpid) as libc::pid_t;
        let pid = libc::clone(
            child_main,
            s.program_stack,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &mut s.child as *mut ChildArgs as *mut libc::c_void,
        );
        if pid < 0 {
            // libc's clone set the spawning thread's errno: that thread is waiting, signals
            // blocked, and writes none now.
            fail(s, STEP_CLONE, -(*libc::__errno_location() as isize));
        }
        if std::ptr::read_volatile(&s.child.errno) != 0 {
            // The program wrote why it could not exec.
            let mut status = 0;
            wait(pid, &mut status, libc::__WALL);
            exit(127);
        }
        s.program = pid;
        // This process keeps no end of the run's pipes: they close when the run's processes end.
        for fd in 0..4usize {
            sys(libc::SYS_close, [fd, 0, 0, 0, 0, 0]);
        }
        s.state.store(STARTED, Ordering::Release);
        sys(
            libc::SYS_futex,
            [
                &s.state as *const AtomicU32 as usize,
                libc::FUTEX_WAKE as usize,
                1,
                0,
                0,
                0,
            ],
        );
        // The kernel's sigset for these calls: one bit per signal, in 64 bits.
        let set: u64 = [libc::SIGCHLD, libc::SIGTERM, libc::SIGUSR1]
            .iter()
            .fold(0, |set, sig| set | 1 << (sig - 1));
        loop {
            let sig = sys(
                libc::SYS_rt_sigtimedwait,
                [&set as *const u64 as usize, 0, 0, 8, 0, 0],
            ) as libc::c_int;
            match sig {
                libc::SIGCHLD if reap(s) => {
                    kill_all(s);
                    exit(0);
                }
                libc::SIGTERM if s.ended == 0 => kill(-pid, libc::SIGTERM),
                libc::SIGUSR1 => {
                    kill_all(s);
                    exit(0);
                }
                _ => {}
            }
        }
    }
}

/// Notes why the start failed (`e` is `-errno`) and exits.
unsafe fn fail(s: &mut Shared, step: libc::c_int, e: isize) -> ! {
    s.child.errno = (-e) as libc::c_int;
    s.child.step = step;
    // SAFETY: the end of this process.
    unsafe { exit(127) }
}

/// Closes every descriptor from `low` up.
unsafe fn close_from(low: usize) {
    // SAFETY: closing descriptors of this process only.
    unsafe {
        if sys(libc::SYS_close_range, [low, u32::MAX as usize, 0, 0, 0, 0]) == 0 {
            return;
        }
        // Before Linux 5.9: one by one, up to the limit on open descriptors.
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let top = if sys(
            libc::SYS_getrlimit,
            [
                libc::RLIMIT_NOFILE as usize,
                &mut limit as *mut libc::rlimit as usize,
                0,
                0,
                0,
                0,
            ],
        ) == 0
        {
            (limit.rlim_cur as usize).min(1 << 20)
        } else {
            65_536
        };
        for fd in low..top {
            sys(libc::SYS_close, [fd, 0, 0, 0, 0, 0]);
        }
    }
}

/// Reaps every child that has ended; whether the program is among those that have.
fn reap(s: &mut Shared) -> bool {
    loop {
        let mut status = 0;
        let r = wait(-1, &mut status, libc::WNOHANG | libc::__WALL);
        if r <= 0 {
            return s.ended == 1;
        }
        if r as libc::pid_t == s.program {
            s.status = status;
            s.ended = 1;
        }
    }
}

/// Kills every process of the run: each child of this process, reaping as they end (the
/// children of each become this process's own, as it is their subreaper), until it has none.
fn kill_all(s: &mut Shared) {
    loop {
        if !each_child(|pid| kill(pid, libc::SIGKILL)) && s.ended == 0 {
            kill(-s.program, libc::SIGKILL);
        }
        let mut status = 0;
        let r = wait(-1, &mut status, libc::__WALL);
        if r == -(libc::EINTR as isize) {
            continue;
        }
        if r < 0 {
            // No child left.
            return;
        }
        if r as libc::pid_t == s.program {
            s.status = status;
            s.ended = 1;
        }
    }
}

/// Calls `f` with the pid of each child of this process, read from
/// `/proc/thread-self/children` (this process has one thread); false without that file (a
/// kernel without `CONFIG_PROC_CHILDREN`).
fn each_child(mut f: impl FnMut(libc::pid_t)) -> bool {
    const PATH: &[u8] = b"/proc/thread-self/children\0";
    // SAFETY: system calls on a path and a buffer of this stack frame.
    unsafe {
        let fd = sys(
            libc::SYS_openat,
            [
                libc::AT_FDCWD as isize as usize,
                PATH.as_ptr() as usize,
                (libc::O_RDONLY | libc::O_CLOEXEC) as usize,
                0,
                0,
                0,
            ],
        );
        if fd < 0 {
            return false;
        }
        let mut buf = [0u8; 512];
        let mut pid: libc::pid_t = 0;
        loop {
            let n = sys(
                libc::SYS_read,
                [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
            );
            if n <= 0 {
                break;
            }
            for &b in buf.iter().take(n as usize) {
                if b.is_ascii_digit() {
                    pid = pid.wrapping_mul(10).wrapping_add((b - b'0') as libc::pid_t);
                } else {
                    if pid > 1 {
                        f(pid);
                    }
                    pid = 0;
                }
            }
        }
        if pid > 1 {
            f(pid);
        }
        sys(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0]);
    }
    true
}
