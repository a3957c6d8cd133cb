//! Command kinds: programs and scripts the operator declares in a TOML file
//! (`--commands FILE`), run as job kinds like the compiled-in ones. People fill a typed form;
//! each value reaches the program as one literal argument or variable, never through a shell.
//! See docs/COMMANDS.md for the file, the progress protocol and the security model.
//!
//! - [`file`](mod@file) reads and checks the file, its parameters into the
//!   [`ParamSpec`](crate::kinds::check::ParamSpec)s the one checker of every kind checks a job's
//!   values against ([`crate::kinds::check`]); [`args`] turns those values into the program's
//!   arguments and environment;
//! - [`spawn`] starts the program (own process group, cleared environment, fd 3, death with
//!   Headway) and [`rundir`] gives each run its folder and sweeps what a crash left;
//! - [`run`] reads its stdout, stderr ([`lines`], [`tqdm`]) and fd 3 ([`protocol`]) into the
//!   job and turns its exit into the job's end, through a [`Sink`]: the job's context on the
//!   server, or what `headway worker` reports to ([`run_on`]);
//! - [`secrets`] keeps secret parameters out of the job's record.

pub mod args;
mod child;
pub mod file;
mod kind;
pub mod lines;
pub mod protocol;
mod run;
pub mod rundir;
pub mod secrets;
pub mod sink;
pub mod spawn;
mod supervisor;
pub mod tail;
pub mod tqdm;

pub use file::{duration, FileError, ProgressFrom};
pub use kind::CommandKind;
pub use run::run_on;
pub use sink::Sink;

use crate::kinds::{ErasedKind, Registry, Retry};
use model::KindInfo;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One command of the file, checked.
#[derive(Debug)]
pub struct Command {
    pub info: KindInfo,
    /// The program, found and executable when the file was read.
    pub program: PathBuf,
    pub args: Vec<args::Template>,
    pub params: Vec<crate::kinds::check::ParamSpec>,
    pub timeout: Option<Duration>,
    pub max_running: Option<usize>,
    /// The tags a process must offer to run its jobs (`requires`, [`model::tags`]).
    pub requires: Vec<String>,
    /// Its limits (`[[command.limit]]`).
    pub limits: Vec<model::limits::Limit>,
    /// Variables the file sets for it.
    pub env: BTreeMap<String, String>,
    /// Variables of Headway's environment passed on to it, besides `PATH`, `HOME`, `LANG`, `TZ`.
    pub pass_env: Vec<String>,
    pub progress: ProgressFrom,
    pub retry: Retry,
}

/// What every command's runs share: where programs are started from, where runs keep their
/// folders, and how long a program has between `SIGTERM` and `SIGKILL`.
pub struct Programs {
    spawner: spawn::Spawner,
    runs: PathBuf,
    grace: Duration,
    /// The server's data folder (`--data-root`), made absolute, which every program is told in
    /// `HEADWAY_DATA_ROOT`; none on a worker, which has no data folder of Headway's.
    data_root: Option<PathBuf>,
}

impl Programs {
    /// Programs whose runs keep their folders under `runs`, stopped with `grace` between
    /// `SIGTERM` and `SIGKILL`, told the server's data folder `data_root` (relative to the
    /// current folder, as the flag was given). What a Headway that died left running under
    /// `runs` is killed first.
    pub fn new(
        runs: PathBuf,
        grace: Duration,
        data_root: Option<&Path>,
    ) -> std::io::Result<Arc<Programs>> {
        let data_root = data_root.map(std::path::absolute).transpose()?;
        {
            use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&runs)?;
            // Runs hold people's files: the folder must be Headway's user's alone.
            let meta = std::fs::metadata(&runs)?;
            // SAFETY: getuid has no preconditions.
            if meta.uid() != unsafe { libc::getuid() } {
                return Err(std::io::Error::other(format!(
                    "{} belongs to another user",
                    runs.display()
                )));
            }
            std::fs::set_permissions(&runs, std::fs::Permissions::from_mode(0o700))?;
        }
        let killed = rundir::sweep(&runs);
        if killed > 0 {
            tracing::warn!(
                processes = killed,
                "killed what programs of a stopped Headway left running"
            );
        }
        Ok(Arc::new(Programs {
            spawner: spawn::Spawner::new(tokio::runtime::Handle::current())?,
            runs,
            grace,
            data_root,
        }))
    }

    /// The default folder of runs: one per user of the machine, in its temporary folder.
    pub fn default_runs() -> PathBuf {
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        std::env::temp_dir().join(format!("headway-runs-{uid}"))
    }
}

/// Reads the commands file at `path` and makes `registry` run its commands (replacing those
/// of an earlier read). On any problem nothing changes, and the error says where and what.
/// `languages`: the tags of the languages the pages speak, in which the file may give a
/// command's words.
pub fn install(
    registry: &Registry,
    path: &Path,
    programs: &Arc<Programs>,
    languages: &[&str],
) -> Result<usize, String> {
    let commands = file::read(path, languages).map_err(|e| e.to_string())?;
    let n = commands.len();
    let kinds: Vec<Arc<dyn ErasedKind>> = commands
        .into_iter()
        .map(|command| {
            Arc::new(kind::CommandKind {
                command: Arc::new(command),
                programs: Some(Arc::clone(programs)),
            }) as Arc<dyn ErasedKind>
        })
        .collect();
    registry
        .set_commands(kinds)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(n)
}
