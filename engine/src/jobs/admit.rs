//! Admission: the one door every new job passes, whichever path makes it (a start from the API
//! or a form, a re-run, a schedule's fire, a child, a workflow's step, a fan-out's item, a
//! re-run of failed steps). A new job is admitted here with:
//!
//! - its parameters checked by its kind as they will be stored, with what its owner's jobs may
//!   open ([`Jobs::admit_params`]), and held to [`MAX_PARAMS_BYTES`] of JSON;
//! - its attempts within what its kind allows, and its priority within what the principal may
//!   ask for ([`crate::priorities`]): a workflow's steps run at the run's priority only as far
//!   as the one who started it may raise their kinds;
//! - its place in its owner's share of the queue, counted by the store's writer where the job
//!   is written ([`crate::shares`]), with everything the path makes at once (a run and its
//!   steps, a fan-out's items, a bulk re-run).
//!
//! What is rendered later, inside the writer's transaction (a step that uses what the steps it
//! needs left, a fan-out's items), is bounded there as it is rendered
//! ([`model::workflows::Template::render_within`]) and counted against the share there
//! ([`model::workflows::run::Each::max_queued`]); its kind's checks run when it is about to start
//! ([`Jobs::admit_rendered`]), and a job they refuse fails saying why, never running.

use super::{Jobs, StartOptions, Started, MAX_TIMEOUT_MS};
use crate::caller::Caller;
use crate::files::Files;
use crate::now_ms;
use crate::priorities::{priority_for, rerun_priority};
use crate::retries::attempts_for;
use model::job::MAX_PARAMS_BYTES;
use model::{AppError, ErrorCode, Job, JobError, JobId, Priority, UserId};
use std::collections::HashMap;

/// A job's parameters as they came: JSON, or a form's fields.
pub(crate) enum Params {
    Json(serde_json::Value),
    Form(HashMap<String, String>),
}

impl Params {
    /// The parameter `name` as text, if it is text.
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        match self {
            Params::Json(v) => v.get(name)?.as_str().map(str::to_string),
            Params::Form(f) => f.get(name).map(|s| s.trim().to_string()),
        }
    }
}

/// What a job's parameters may name: its owner's part of the data folder, and the uploads of
/// `user` (and, for a re-run, of the owner of the job run again: see
/// [`crate::uploads::UploadAct::Use`]).
#[derive(Clone)]
pub(crate) struct Opens {
    pub files: Files,
    pub user: UserId,
    pub rerun_of: Option<UserId>,
}

/// Takes the generic `timeout_ms` out of a job's parameters (every kind accepts it).
pub(crate) fn take_timeout(
    mut params: serde_json::Value,
) -> Result<(serde_json::Value, Option<u64>), AppError> {
    let Some(raw) = params.as_object_mut().and_then(|o| o.remove("timeout_ms")) else {
        return Ok((params, None));
    };
    match raw.as_u64() {
        Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok((params, Some(ms))),
        _ => Err(AppError::invalid_words(
            "timeout_ms",
            model::words::when::timeout_ms(MAX_TIMEOUT_MS),
        )),
    }
}

/// Refuses parameters that would be stored as more than [`MAX_PARAMS_BYTES`] of JSON, or that
/// nest deeper than [`model::json::MAX_DEPTH`] (what reads a job back, a page or a terminal,
/// must read its parameters too).
pub(crate) fn bounded(params: &serde_json::Value) -> Result<(), AppError> {
    if let Some(why) = model::json::too_deep(params, "the parameters") {
        return Err(AppError::invalid_field("params", why));
    }
    let size = params.to_string().len();
    match size > MAX_PARAMS_BYTES {
        true => Err(AppError::invalid_field(
            "params",
            format!(
                "the parameters are {size} bytes of JSON, and a job's are at most \
                 {MAX_PARAMS_BYTES}: pass large data as a file (an upload) instead"
            ),
        )),
        false => Ok(()),
    }
}

/// The priority of a step of a run at `run` for a principal who may (`raises`) or may not set
/// any priority: the run's, but never above its kind's own for one who may not.
pub(crate) fn step_priority(
    kinds: &crate::kinds::Registry,
    raises: bool,
    kind: &str,
    run: Priority,
) -> Priority {
    match raises {
        true => run,
        false => run.min(kinds.priority(kind)),
    }
}

impl Jobs {
    /// Validates and starts a job for the caller.
    pub async fn create_job(
        &self,
        caller: &Caller,
        kind: &str,
        params: serde_json::Value,
    ) -> Result<Job, AppError> {
        self.create_job_with(caller, kind, params, StartOptions::default())
            .await
            .map(|started| started.job)
    }

    /// Like [`Jobs::create_job`], with `options` (a later start, an idempotency key).
    pub async fn create_job_with(
        &self,
        caller: &Caller,
        kind: &str,
        params: serde_json::Value,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        caller.may_start()?;
        let (params, timeout_ms) = take_timeout(params)?;
        self.start_asked(caller, kind, Params::Json(params), timeout_ms, options)
            .await
    }

    /// Like [`Jobs::create_job_with`], from a form where every value is a string.
    pub async fn create_job_from_form(
        &self,
        caller: &Caller,
        kind: &str,
        form: &HashMap<String, String>,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        caller.may_start()?;
        // A workflow's form starts a run (a workflow's name is never a kind's).
        if self.workflow_named(kind).is_some() {
            return self
                .start_workflow_from_form(caller, kind, form, options)
                .await;
        }
        self.start_asked(caller, kind, Params::Form(form.clone()), None, options)
            .await
    }

    /// A start of a job of `kind` with `params` as the caller asked for it, admitted and
    /// written.
    async fn start_asked(
        &self,
        caller: &Caller,
        kind: &str,
        params: Params,
        timeout_ms: Option<u64>,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        let key = options.key()?;
        let run_after = options.run_after()?;
        let params = self.validate(caller, kind, params).await?;
        let max_attempts = attempts_for(&self.inner.kinds, kind, options.max_attempts)?;
        let priority = priority_for(&self.inner.kinds, caller, kind, options.priority)?;
        let after = self.after_for(caller, options.after).await?;
        let job = Job {
            timeout_ms,
            run_after,
            max_attempts,
            priority,
            after,
            ..Job::queued(JobId::random(), kind, params, now_ms())
        };
        self.insert_and_start(caller, job, key).await
    }

    /// A form's fields (all strings) as `kind`'s parameters: typed from the kind's
    /// description and checked, as a start from the form would be, for a caller who may start
    /// jobs (a viewer learns nothing of why a start would be refused).
    pub async fn form_params(
        &self,
        caller: &Caller,
        kind: &str,
        form: &HashMap<String, String>,
    ) -> Result<serde_json::Value, AppError> {
        caller.may_start()?;
        self.validate(caller, kind, Params::Form(form.clone()))
            .await
    }

    /// Starts a new job with the kind, parameters and timeout of one of the caller's jobs.
    pub async fn rerun(&self, caller: &Caller, id: &JobId) -> Result<Job, AppError> {
        let origin = self.job(caller, id).await?;
        let owner = self.may_touch(caller, id).await?;
        caller.may_start()?;
        if origin.kind == crate::workflows::WORKFLOW_KIND {
            return self.rerun_run(caller, origin).await;
        }
        if self.inner.kinds.starts(&origin.kind) == Some(crate::kinds::Starts::Elsewhere) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "an external job runs where its program was started: start it there again",
            ));
        }
        // Parameters are validated again: limits or files may have changed since.
        let params = self
            .validate_for(
                caller,
                Some(owner),
                &origin.kind,
                Params::Json(origin.params),
            )
            .await?;
        // As many attempts as the first asked for, within what its kind allows now.
        let allowed = self.inner.kinds.retry(&origin.kind).max_attempts.max(1);
        let job = Job {
            timeout_ms: origin.timeout_ms,
            max_attempts: origin.max_attempts.clamp(1, allowed),
            priority: rerun_priority(&self.inner.kinds, caller, &origin.kind, origin.priority),
            origin: Some(origin.id),
            ..Job::queued(JobId::random(), &origin.kind, params, now_ms())
        };
        self.insert_and_start(caller, job, None)
            .await
            .map(|started| started.job)
    }

    /// Whether the jobs `owner` makes without being there (a schedule's) may run above their
    /// kinds' priority: the owner's account is an operator's or an admin's (or `owner` is the
    /// operator token's user), as its role is now.
    pub(crate) async fn raises(&self, owner: &UserId) -> Result<bool, AppError> {
        if *owner == crate::caller::operator_id() {
            return Ok(true);
        }
        let user = self
            .inner
            .store
            .user_by_id(owner)
            .await
            .map_err(crate::failures::read_failed)?;
        Ok(user
            .and_then(|u| model::Role::parse(&u.role))
            .is_some_and(|role| role.acts_on_all()))
    }

    /// Refuses `n` new jobs of the caller that would not fit their share of the queue as it is
    /// (see [`crate::shares`]).
    pub(crate) async fn check_room(&self, caller: &Caller, n: u64) -> Result<(), AppError> {
        self.inner
            .queue_shares
            .check_room(&self.inner.store, caller.user(), n)
            .await
    }

    /// Checks `params` for a job of `kind` started by `caller`, as they will be stored. On the
    /// blocking pool: checking a file parameter opens the file.
    pub(crate) async fn validate(
        &self,
        caller: &Caller,
        kind: &str,
        params: Params,
    ) -> Result<serde_json::Value, AppError> {
        self.validate_for(caller, None, kind, params).await
    }

    /// [`Jobs::validate`] for a re-run of a job of `rerun_of`, whose uploads it may use.
    async fn validate_for(
        &self,
        caller: &Caller,
        rerun_of: Option<UserId>,
        kind: &str,
        params: Params,
    ) -> Result<serde_json::Value, AppError> {
        let opens = Opens {
            files: Files::for_caller(&self.inner.data_root, caller),
            user: caller.user().clone(),
            rerun_of,
        };
        self.admit_params(opens, kind, params).await
    }

    /// Checks `params` for a job of `kind` with what `opens` lets it open, as they will be
    /// stored: its kind's checks, then the bounds every job's parameters are held to. Every
    /// path that makes a job checks its parameters here.
    pub(crate) async fn admit_params(
        &self,
        opens: Opens,
        kind: &str,
        params: Params,
    ) -> Result<serde_json::Value, AppError> {
        let env = self
            .inner
            .uploads
            .kind_env(
                opens.files,
                &opens.user,
                opens.rerun_of.as_ref(),
                kind,
                |name| params.value(name),
            )
            .await?;
        let kinds = self.inner.kinds.clone();
        let check = move |kind: &str| match params {
            Params::Json(params) => kinds.parse(kind, params, &env),
            Params::Form(form) => kinds.parse_form(kind, &form, &env),
        };
        // Checks that open files block: they go to the blocking pool. The others are a few
        // microseconds of work, done here rather than handed to another thread and back.
        let checked = match self.inner.kinds.opens_files(kind) {
            false => check(kind)?,
            true => {
                let kind = kind.to_string();
                tokio::task::spawn_blocking(move || check(&kind))
                    .await
                    .map_err(|e| {
                        AppError::internal_because(
                            "checking a job's parameters stopped unexpectedly",
                            e,
                        )
                    })??
            }
        };
        bounded(&checked)?;
        Ok(checked)
    }

    /// The parameters of `job` of `owner`, which were rendered after its run was admitted (a
    /// step that uses what other steps left, a fan-out's item), as its kind checks them now
    /// that it is about to start; why it may not start otherwise (`step_params`).
    pub(crate) async fn admit_rendered(
        &self,
        owner: &UserId,
        job: &Job,
    ) -> Result<serde_json::Value, JobError> {
        let refused = |message: String| {
            JobError::new(model::workflows::run::STEP_PARAMS.to_string(), message)
        };
        // The files it may open are its owner's as their role is now, read from their account
        // only for a kind that opens files (as the runner does): a step of one that never
        // does costs no read.
        let files = match self.inner.kinds.opens_files(&job.kind) {
            true => Files::for_owner(&self.inner.data_root, &self.inner.store, owner)
                .await
                .map_err(|e| refused(format!("its owner's files cannot be read: {e}")))?,
            false => Files::own(&*self.inner.data_root, owner),
        };
        let opens = Opens {
            files,
            user: owner.clone(),
            rerun_of: None,
        };
        self.admit_params(opens, &job.kind, Params::Json(job.params.clone()))
            .await
            .map_err(|e| {
                let said = match e.fields.is_empty() {
                    true => e.message,
                    false => e
                        .fields
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                };
                refused(format!(
                    "its kind refuses its parameters as rendered: {said}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;
    use serde_json::json;

    #[test]
    fn parameters_past_the_bound_are_refused_saying_so() {
        assert!(bounded(&json!({"text": "x".repeat(MAX_PARAMS_BYTES - 100)})).is_ok());
        let e = bounded(&json!({"text": "x".repeat(MAX_PARAMS_BYTES)})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParams);
        assert_eq!(e.fields[0].field, "params");
        assert!(e.fields[0].message.contains("65536"), "{e:?}");
        let mut deep = json!("x");
        for _ in 0..model::json::MAX_DEPTH {
            deep = json!([deep]);
        }
        assert!(bounded(&json!({ "a": deep.clone() })).is_err());
        assert!(bounded(&deep).is_ok());
    }

    #[test]
    fn a_step_runs_at_its_runs_priority_only_as_far_as_its_starter_may_raise_it() {
        let kinds = Registry::builtin();
        let default = kinds.priority("demo");
        assert_eq!(
            step_priority(&kinds, false, "demo", Priority::URGENT),
            default
        );
        assert_eq!(
            step_priority(&kinds, true, "demo", Priority::URGENT),
            Priority::URGENT
        );
        assert_eq!(
            step_priority(&kinds, false, "demo", Priority::LOWEST),
            Priority::LOWEST
        );
    }
}
