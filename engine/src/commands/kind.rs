//! A command as a job kind, beside the compiled-in ones in the [`crate::kinds::Registry`].

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
    pub programs: Arc<Programs>,
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
        let (command, programs) = (Arc::clone(&self.command), Arc::clone(&self.programs));
        Box::pin(super::run::run(command, programs, params, ctx))
    }

    fn is_command(&self) -> bool {
        true
    }
}
