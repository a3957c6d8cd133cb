//! The program's side of a start: what it needs, prepared before it exists, and what it does
//! between `clone` and `execve` ([`child_main`]), run from its supervisor
//! ([`super::supervisor`]), which [`super::spawn`] starts. The step numbers a failure records
//! are those `spawn` names in its error message.

/// Everything the program needs, prepared before it exists: it may not allocate.
#[repr(C)]
pub struct ChildArgs {
    pub path: *const libc::c_char,
    pub argv: *const *const libc::c_char,
    pub envp: *const *const libc::c_char,
    pub cwd: *const libc::c_char,
    /// Its parent (the supervisor), set by the supervisor.
    pub parent: libc::pid_t,
    /// stdin, stdout, stderr and fd 3, in that order: Headway's, then 0 to 3 once the
    /// supervisor has put them there.
    pub fds: [libc::c_int; 4],
    /// The highest signal number.
    pub max_signal: libc::c_int,
    /// The signal mask to exec with (the spawning thread's, before it blocked every signal).
    pub mask: libc::sigset_t,
    /// Set when the program cannot be started: the errno, and which step failed.
    pub errno: libc::c_int,
    pub step: libc::c_int,
}

/// The program, between `clone` and `execve`. It shares Headway's memory and its supervisor
/// is suspended until it execs or exits: only system calls on values prepared before, no
/// allocation, no lock, no unwinding. Its descriptors are already in place.
pub extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` Headway keeps alive (and does not touch) until this
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
        // The supervisor died before the line above: nothing would kill this program later.
        if libc::getppid() != a.parent {
            *libc::__errno_location() = libc::ESRCH;
            return fail(a, 2);
        }
        if libc::chdir(a.cwd) != 0 {
            return fail(a, 4);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &a.mask, std::ptr::null_mut());
        libc::execve(a.path, a.argv, a.envp);
        fail(a, 5)
    }
}
