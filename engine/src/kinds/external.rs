//! The kind of external jobs: programs that run elsewhere (`headway run`, a CI step, a cron job
//! on another machine) and report over HTTP. It is registered like any kind, and says what sets
//! it apart ([`Starts::Elsewhere`]): no runner claims its jobs, a start opens the job running and
//! answers the token its program reports with ([`crate::Jobs::start_any`]), and a job of it
//! cannot be queued, scheduled or re-run here. What its parameters may be is checked here; its
//! reports and leases are the engine's ([`crate::external`]).

use super::{ErasedKind, JobContext, KindEnv, Retry, RunResult, Starts};
use futures::future::BoxFuture;
use model::external::{ExternalParams, LEASE_SECS};
use model::{AppError, JobError, KindInfo, EXTERNAL_KIND};
use serde_json::Value;
use std::time::Duration;

/// The longest title, command line and host name, in characters.
const MAX_TITLE: usize = 200;
const MAX_COMMAND: usize = 4_096;
const MAX_HOST: usize = 255;
/// The most bytes of an external job's other parameters, as JSON.
const MAX_PARAMS_BYTES: usize = 16 * 1024;

/// External jobs' kind.
pub struct External {
    info: KindInfo,
}

impl External {
    pub fn new() -> External {
        External {
            info: KindInfo {
                name: EXTERNAL_KIND.to_string(),
                title: "External".into(),
                description: "A program that runs elsewhere and reports its progress, log and \
                              end over HTTP."
                    .into(),
                params: Vec::new(),
                paused: None,
                retry: Retry::NEVER.info(),
                priority: Default::default(),
                translations: Default::default(),
                requires: Vec::new(),
                on_workers: false,
            },
        }
    }
}

impl Default for External {
    fn default() -> Self {
        External::new()
    }
}

impl ErasedKind for External {
    fn info(&self) -> &KindInfo {
        &self.info
    }

    fn resumable(&self) -> bool {
        false
    }

    fn default_timeout(&self) -> Option<Duration> {
        None
    }

    fn max_running(&self) -> Option<usize> {
        None
    }

    fn retry(&self) -> Retry {
        Retry::NEVER
    }

    fn parse(&self, params: Value, _env: &KindEnv) -> Result<Value, AppError> {
        let params = check_params(params)?;
        Ok(serde_json::to_value(&params).expect("external parameters serialize"))
    }

    fn run<'a>(&self, _params: Value, _ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async {
            Err(JobError::new(
                "runs_elsewhere",
                "an external job runs where its program was started, not here",
            ))
        })
    }

    fn starts(&self) -> Starts {
        Starts::Elsewhere
    }

    fn opens_files(&self) -> bool {
        false
    }
}

/// Reads and checks an external job's parameters.
pub fn check_params(value: serde_json::Value) -> Result<ExternalParams, AppError> {
    let mut params: ExternalParams = serde_json::from_value(value).map_err(|e| {
        AppError::invalid_field(
            "params",
            format!("not the parameters of an external job: {e}"),
        )
    })?;
    params.title = params.title.trim().to_string();
    let len = params.title.chars().count();
    if len == 0 || len > MAX_TITLE {
        return Err(AppError::invalid_field(
            "title",
            format!("a title has 1 to {MAX_TITLE} characters"),
        ));
    }
    if params.title.chars().any(char::is_control) {
        return Err(AppError::invalid_field(
            "title",
            "a title is one line of text",
        ));
    }
    if params
        .command
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMAND)
    {
        return Err(AppError::invalid_field(
            "command",
            format!("a command line has at most {MAX_COMMAND} characters"),
        ));
    }
    if params
        .host
        .as_ref()
        .is_some_and(|h| h.chars().count() > MAX_HOST || h.chars().any(char::is_control))
    {
        return Err(AppError::invalid_field(
            "host",
            format!("a host name is one line of at most {MAX_HOST} characters"),
        ));
    }
    let (min, max) = LEASE_SECS;
    if !(min..=max).contains(&params.lease_secs) {
        return Err(AppError::invalid_field(
            "lease_secs",
            format!("a lease is {min} to {max} seconds"),
        ));
    }
    let size = serde_json::to_string(&params.params).map_or(0, |s| s.len());
    if size > MAX_PARAMS_BYTES {
        return Err(AppError::invalid_field(
            "params",
            format!("an external job's parameters are {MAX_PARAMS_BYTES} bytes of JSON at most, not {size}"),
        ));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_are_checked_and_named() {
        let ok =
            check_params(json!({"title": "  nightly backup ", "params": {"db": "main"}})).unwrap();
        assert_eq!(ok.title, "nightly backup");
        assert_eq!(ok.lease_secs, model::external::DEFAULT_LEASE_SECS);
        for (bad, field) in [
            (json!({"title": ""}), "title"),
            (json!({"title": "a\nb"}), "title"),
            (json!({"title": "x".repeat(201)}), "title"),
            (json!({"title": "t", "lease_secs": 1}), "lease_secs"),
            (json!({"title": "t", "lease_secs": 3601}), "lease_secs"),
            (json!({"title": "t", "bogus": 1}), "params"),
            (
                json!({"title": "t", "params": {"x": "y".repeat(20_000)}}),
                "params",
            ),
            (json!("nightly"), "params"),
        ] {
            let e = check_params(bad.clone()).unwrap_err();
            assert_eq!(e.fields[0].field, field, "{bad}: {e:?}");
        }
    }
}
