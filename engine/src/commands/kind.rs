//! A command as a job kind, beside the compiled-in ones in the [`crate::kinds::Registry`]: one
//! of the server's own commands file, run here, or one of a worker's on another machine
//! ([`crate::workers`]), whose jobs are queued here and run there.

use super::{Command, Programs};
use crate::kinds::check::{self, Typing};
use crate::kinds::{ErasedKind, JobContext, KindEnv, Retry, RunResult};
use futures::future::BoxFuture;
use model::{AppError, KindInfo};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub struct CommandKind {
    pub command: Arc<Command>,
    /// Where its programs run here; `None` for a worker's command, which no runner of a
    /// server claims ([`crate::kinds::Registry::names_for`]).
    pub programs: Option<Arc<Programs>>,
}

impl ErasedKind for CommandKind {
    fn info(&self) -> &KindInfo {
        &self.command.info
    }

    fn resumable(&self) -> bool {
        false
    }

    fn default_timeout(&self) -> Option<Duration> {
        self.command.timeout
    }

    fn max_running(&self) -> Option<usize> {
        self.command.max_running
    }

    fn limits(&self) -> Vec<model::limits::Limit> {
        self.command.limits.clone()
    }

    fn requires(&self) -> &[String] {
        &self.command.requires
    }

    fn retry(&self) -> Retry {
        self.command.retry
    }

    fn parse(&self, params: Value, env: &KindEnv) -> Result<Value, AppError> {
        check::check(&self.command.params, Typing::Checker, params, env)
            .into_result()
            .map_err(AppError::invalid)
    }

    fn run<'a>(&self, params: Value, ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult> {
        let command = Arc::clone(&self.command);
        match &self.programs {
            Some(programs) => Box::pin(super::run::run(command, Arc::clone(programs), params, ctx)),
            None => Box::pin(async {
                Err(model::JobError::new(
                    "runs_on_workers",
                    "this kind runs on workers on other machines, not on a server",
                ))
            }),
        }
    }

    /// One of the server's own commands file (read again on SIGHUP); a worker's are not.
    fn is_command(&self) -> bool {
        self.programs.is_some()
    }

    fn runs_on_workers(&self) -> bool {
        self.programs.is_none()
    }
}
