//! Schedules: a job of a kind, with stored parameters, started as its owner at every fire time
//! of a cron expression ([`cron`]) in an IANA time zone.
//!
//! Who may do what, decided here for the API, the pages and the command line alike: a member
//! sees and manages their own schedules; an operator or an admin every one; a viewer sees every
//! one and changes none. The owner's rights are checked again at every fire
//! ([`fire`]): a disabled owner's schedule starts nothing, and says why.
//!
//! A fire time found more than [`MISSED_AFTER_MS`] late was missed (no process ran): the
//! schedule's `catch_up` says whether one job is started for the times it missed, or none.

pub mod cron;
mod fire;

use crate::bounds::WriteBounds;
use crate::caller::Caller;
use crate::failures::{read_failed, write_failed};
use crate::files::Files;
use crate::jobs::{take_timeout, Jobs, Opens, Params};
use crate::now_ms;
use crate::priorities::priority_for;
use crate::retries::attempts_for;
use crate::store::{ScheduleRow, UserRow};
use cron::Cron;
use model::schedules::MAX_NAME;
use model::{
    AppError, CatchUp, CronPreview, ErrorCode, FieldError, Job, JobId, Overlap, Role, Schedule,
    ScheduleId, ScheduleInput, UserId,
};
use std::collections::HashMap;

/// How late a fire time may be found and still start its job as usual: an older one was
/// missed while no process ran, and its schedule's `catch_up` decides.
pub const MISSED_AFTER_MS: i64 = 60_000;

/// How many fire times a schedule shows ahead.
const NEXT_RUNS: usize = 3;

/// The schedules service: schedules kept in the store, checked as their jobs' starts are, and a
/// scheduler per process that fires them ([`fire`]); it starts their jobs through [`Jobs`].
#[derive(Clone)]
pub struct Schedules {
    jobs: Jobs,
    /// How many schedules a user may have, and how often one may fire.
    bounds: WriteBounds,
    /// A schedule changed in this process: its scheduler looks again.
    changed: std::sync::Arc<tokio::sync::Notify>,
}

impl Schedules {
    pub(crate) fn new(jobs: Jobs, bounds: WriteBounds) -> Schedules {
        Schedules {
            jobs,
            bounds,
            changed: Default::default(),
        }
    }
}

impl Schedules {
    /// The schedules the caller may see, oldest first.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<Schedule>, AppError> {
        let rows = self
            .jobs
            .inner
            .store
            .schedules(caller.sees())
            .await
            .map_err(read_failed)?;
        self.schedule_views(rows).await
    }

    /// The schedule, if the caller may see it (otherwise 404).
    pub async fn get(&self, caller: &Caller, id: &ScheduleId) -> Result<Schedule, AppError> {
        let row = self.schedule_row(caller, id).await?;
        Ok(self.schedule_views(vec![row]).await?.remove(0))
    }

    /// Adds a schedule of the caller's: its kind and parameters are checked as a start's would
    /// be, its expression and zone must be readable, and it fires first at its next time.
    pub async fn create(
        &self,
        caller: &Caller,
        input: ScheduleInput,
    ) -> Result<Schedule, AppError> {
        caller.may_start()?;
        let kind = input
            .kind
            .clone()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                AppError::invalid_field("kind", "a schedule needs the kind of job it starts")
            })?;
        let (cron, tz, timezone) = when(input.cron.as_deref(), input.timezone.as_deref())?;
        self.often_enough(&cron)?;
        let name = input
            .name
            .as_deref()
            .map(schedule_name)
            .transpose()?
            .flatten();
        let opens = Opens {
            files: Files::for_caller(&self.jobs.inner.data_root, caller),
            user: caller.user().clone(),
            rerun_of: None,
        };
        let params = self
            .schedule_params(opens, &kind, input.params.clone().unwrap_or_default())
            .await?;
        let max_attempts = input.max_attempts.flatten();
        attempts_for(&self.jobs.inner.kinds, &kind, max_attempts)?;
        let priority = input.priority.flatten();
        if priority.is_some() {
            priority_for(&self.jobs.inner.kinds, caller, &kind, priority)?;
        }
        let owner = caller.user();
        let mine = self
            .jobs
            .inner
            .store
            .schedule_count(owner)
            .await
            .map_err(read_failed)?;
        let most = self.bounds.schedules_per_user;
        if mine >= most {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("you have {mine} schedules, as many as one may have ({most}); delete some first"),
            ));
        }
        let now = now_ms();
        let enabled = input.enabled.unwrap_or(true);
        let row = ScheduleRow {
            id: ScheduleId::random(),
            owner: owner.clone(),
            owner_name: caller.name().map(str::to_string),
            name,
            kind,
            params: params.to_string(),
            cron: input.cron.clone().unwrap_or_default().trim().to_string(),
            timezone,
            enabled,
            overlap: input.overlap.unwrap_or_default().as_str().into(),
            catch_up: input.catch_up.unwrap_or_default().as_str().into(),
            max_attempts: max_attempts.map(i64::from),
            next_fire_at: enabled.then(|| cron.next_after(now, &tz)).flatten(),
            last_job_id: None,
            last_fire_at: None,
            last_skip: None,
            created_at: now,
            updated_at: now,
            priority,
        };
        self.put_schedule(row.clone()).await?;
        tracing::info!(schedule = %row.id, kind = %row.kind, cron = %row.cron, "schedule created");
        Ok(self.schedule_views(vec![row]).await?.remove(0))
    }

    /// Refuses (422) an expression that fires more often than a user's schedules may.
    fn often_enough(&self, cron: &Cron) -> Result<(), AppError> {
        let min = self.bounds.min_schedule_interval.as_secs().max(1);
        let gap = cron.shortest_gap_secs();
        if gap < min {
            return Err(AppError::invalid_field(
                "cron",
                format!(
                    "this expression fires {gap} s apart, and a schedule may fire at most every \
                     {min} s on this server"
                ),
            ));
        }
        Ok(())
    }

    /// Changes a schedule: its parameters, expression, zone, state and policies (its kind stays).
    /// A new expression, zone or a resume starts again from the next fire time after now: times
    /// passed while it was paused are not caught up.
    pub async fn change(
        &self,
        caller: &Caller,
        id: &ScheduleId,
        input: ScheduleInput,
    ) -> Result<Schedule, AppError> {
        let old = self.schedule_row(caller, id).await?;
        may_manage(caller, &old.owner)?;
        if input.kind.as_ref().is_some_and(|k| *k != old.kind) {
            return Err(AppError::invalid_field(
                "kind",
                "a schedule's kind cannot change: create another schedule",
            ));
        }
        let cron_text = input.cron.clone().unwrap_or_else(|| old.cron.clone());
        let zone_text = input
            .timezone
            .clone()
            .unwrap_or_else(|| old.timezone.clone());
        let (cron, tz, timezone) = when(Some(&cron_text), Some(&zone_text))?;
        if cron_text.trim() != old.cron {
            self.often_enough(&cron)?;
        }
        let params = match input.params.clone() {
            Some(params) => {
                let files = Files::for_owner(
                    &self.jobs.inner.data_root,
                    &self.jobs.inner.store,
                    &old.owner,
                )
                .await
                .map_err(read_failed)?;
                let opens = Opens {
                    files,
                    user: old.owner.clone(),
                    rerun_of: None,
                };
                self.schedule_params(opens, &old.kind, params)
                    .await?
                    .to_string()
            }
            None => old.params.clone(),
        };
        let max_attempts = match input.max_attempts {
            Some(asked) => {
                attempts_for(&self.jobs.inner.kinds, &old.kind, asked)?;
                asked.map(i64::from)
            }
            None => old.max_attempts,
        };
        let priority = match input.priority {
            Some(Some(asked)) => {
                priority_for(&self.jobs.inner.kinds, caller, &old.kind, Some(asked))?;
                Some(asked)
            }
            Some(None) => None,
            None => old.priority,
        };
        let enabled = input.enabled.unwrap_or(old.enabled);
        let now = now_ms();
        let retimed = cron_text.trim() != old.cron || timezone != old.timezone;
        let resumed = enabled && !old.enabled;
        let next_fire_at = match (enabled, retimed || resumed) {
            (false, _) => old.next_fire_at,
            (true, true) => cron.next_after(now, &tz),
            (true, false) => old.next_fire_at.or_else(|| cron.next_after(now, &tz)),
        };
        let name = match input.name.as_deref() {
            Some(asked) => schedule_name(asked)?,
            None => old.name.clone(),
        };
        let row = ScheduleRow {
            name,
            params,
            cron: cron_text.trim().to_string(),
            timezone,
            enabled,
            overlap: input
                .overlap
                .map_or(old.overlap.clone(), |o| o.as_str().into()),
            catch_up: input
                .catch_up
                .map_or(old.catch_up.clone(), |c| c.as_str().into()),
            max_attempts,
            priority,
            next_fire_at,
            updated_at: now,
            ..old
        };
        self.put_schedule(row.clone()).await?;
        Ok(self.schedule_views(vec![row]).await?.remove(0))
    }

    /// Deletes a schedule; the jobs it started stay in the history.
    pub async fn delete(&self, caller: &Caller, id: &ScheduleId) -> Result<(), AppError> {
        let row = self.schedule_row(caller, id).await?;
        may_manage(caller, &row.owner)?;
        self.jobs
            .inner
            .committer
            .delete_schedule(&row.id)
            .await
            .map_err(|e| write_failed("delete the schedule", e))?;
        self.poke_scheduler();
        tracing::info!(schedule = %row.id, "schedule deleted");
        Ok(())
    }

    /// Starts the schedule's job now, as its owner, outside its clock ("Run now"); its fire
    /// times go on as before.
    pub async fn run_now(&self, caller: &Caller, id: &ScheduleId) -> Result<Job, AppError> {
        let row = self.schedule_row(caller, id).await?;
        may_manage(caller, &row.owner)?;
        caller.may_start()?;
        if let Some(why) = self.held(&row.owner, &mut HashMap::new()).await? {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("it cannot run: {why}"),
            ));
        }
        let files = Files::for_owner(
            &self.jobs.inner.data_root,
            &self.jobs.inner.store,
            &row.owner,
        )
        .await
        .map_err(read_failed)?;
        let opens = Opens {
            files,
            user: row.owner.clone(),
            rerun_of: None,
        };
        let started = match self.schedule_job(&row, opens, None).await? {
            Scheduled::Job(job) => {
                self.jobs
                    .insert_and_start_for(&row.owner, job, None)
                    .await?
            }
            Scheduled::Run(new) => self.jobs.write_run(&row.owner, new, None).await?,
        };
        Ok(started.job)
    }

    /// What the schedule form shows as an expression is typed: its words and next fire times
    /// (after `after`, Unix ms, or now).
    pub fn preview(
        &self,
        cron: &str,
        timezone: &str,
        after: Option<i64>,
    ) -> Result<CronPreview, AppError> {
        let (cron, tz, timezone) = when(Some(cron), Some(timezone))?;
        Ok(CronPreview {
            description: format!("{}, {timezone}", cron.words()),
            next_runs: cron
                .next_n(after.unwrap_or_else(now_ms), &tz, NEXT_RUNS)
                .into_iter()
                .map(|at| rfc_3339(at, &tz))
                .collect(),
        })
    }

    /// The job the schedule `row` starts (for the fire time `scheduled_for`, or now), its
    /// parameters checked again with what `env` lets it open.
    async fn schedule_job(
        &self,
        row: &ScheduleRow,
        opens: Opens,
        scheduled_for: Option<i64>,
    ) -> Result<Scheduled, AppError> {
        let stored: serde_json::Value =
            serde_json::from_str(&row.params).unwrap_or(serde_json::Value::Null);
        if let Some(workflow) = self.jobs.workflow_named(&row.kind) {
            let values = self
                .jobs
                .run_values(&opens, &workflow, Params::Json(stored))
                .await?;
            let priority = row.priority.unwrap_or(model::Priority::NORMAL);
            let raises = self.jobs.raises(&row.owner).await?;
            let mut new = self
                .jobs
                .build_run(opens, &workflow, values, priority, raises)
                .await?;
            new.run.schedule_id = Some(row.id.clone());
            new.run.scheduled_for = scheduled_for;
            return Ok(Scheduled::Run(new));
        }
        let (params, timeout_ms) = take_timeout(stored)?;
        let params = self
            .jobs
            .admit_params(opens, &row.kind, Params::Json(params))
            .await?;
        let allowed = self.jobs.inner.kinds.retry(&row.kind).max_attempts.max(1);
        let asked = row
            .max_attempts
            .map_or(allowed, |n| n.clamp(1, 1_000) as u32);
        Ok(Scheduled::Job(Job {
            timeout_ms,
            max_attempts: asked.min(allowed),
            priority: row
                .priority
                .unwrap_or_else(|| self.jobs.inner.kinds.priority(&row.kind)),
            schedule_id: Some(row.id.clone()),
            scheduled_for,
            ..Job::queued(JobId::random(), &row.kind, params, now_ms())
        }))
    }

    /// `params` for a schedule of `kind`, checked as a start's would be, in normal form (the
    /// generic `timeout_ms` kept beside them).
    async fn schedule_params(
        &self,
        opens: Opens,
        kind: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, AppError> {
        let params = match params {
            serde_json::Value::Null => serde_json::json!({}),
            p => p,
        };
        // A workflow's: its parameters, and its steps checked as a run's would be.
        if let Some(workflow) = self.jobs.workflow_named(kind) {
            let values = self
                .jobs
                .run_values(&opens, &workflow, Params::Json(params))
                .await?;
            self.jobs
                .build_run(
                    opens,
                    &workflow,
                    values.clone(),
                    model::Priority::NORMAL,
                    false,
                )
                .await?;
            return Ok(values);
        }
        let (params, timeout_ms) = take_timeout(params)?;
        let mut params = self
            .jobs
            .admit_params(opens, kind, Params::Json(params))
            .await?;
        if let Some(info) = self.jobs.inner.kinds.info(kind) {
            let secrets = crate::commands::secrets::take(&info, &mut params);
            let mut names: Vec<&String> = secrets.keys().collect();
            names.sort();
            if let Some(name) = names.first() {
                return Err(AppError::invalid(vec![FieldError::new(
                    (*name).clone(),
                    "is a secret, which a schedule cannot keep; start the job from the \
                              form instead",
                )]));
            }
        }
        if let (Some(ms), Some(map)) = (timeout_ms, params.as_object_mut()) {
            map.insert("timeout_ms".into(), ms.into());
        }
        Ok(params)
    }

    async fn put_schedule(&self, row: ScheduleRow) -> Result<(), AppError> {
        self.jobs
            .inner
            .committer
            .put_schedule(row)
            .await
            .map_err(|e| write_failed("save the schedule", e))?;
        self.poke_scheduler();
        Ok(())
    }

    /// The schedule's row, if the caller may see it.
    async fn schedule_row(
        &self,
        caller: &Caller,
        id: &ScheduleId,
    ) -> Result<ScheduleRow, AppError> {
        let row = self
            .jobs
            .inner
            .store
            .schedule(id)
            .await
            .map_err(read_failed)?
            .ok_or_else(no_such_schedule)?;
        match caller.sees() {
            Some(own) if *own != row.owner => Err(no_such_schedule()),
            _ => Ok(row),
        }
    }

    /// Why `owner` may not start jobs now, if they may not: an account that is disabled, or a
    /// viewer's. An owner without an account (an open server's anonymous user, the operator)
    /// may. `known` keeps the accounts read so far.
    async fn held(
        &self,
        owner: &UserId,
        known: &mut HashMap<UserId, Option<UserRow>>,
    ) -> Result<Option<String>, AppError> {
        if !known.contains_key(owner) {
            let user = self
                .jobs
                .inner
                .store
                .user_by_id(owner)
                .await
                .map_err(read_failed)?;
            known.insert(owner.clone(), user);
        }
        Ok(match known.get(owner).and_then(Option::as_ref) {
            Some(u) if u.disabled => Some(format!("its owner {}'s account is disabled", u.name)),
            Some(u) if Role::parse(&u.role).is_some_and(|r| !r.starts()) => Some(format!(
                "its owner {} is a {}, who may not start jobs",
                u.name, u.role
            )),
            _ => None,
        })
    }

    /// The schedules as people see them: in words, with their next fire times and whatever
    /// holds them back.
    async fn schedule_views(&self, rows: Vec<ScheduleRow>) -> Result<Vec<Schedule>, AppError> {
        let mut known = HashMap::new();
        let now = now_ms();
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let held = self.held(&row.owner, &mut known).await?;
            views.push(view(row, held, now));
        }
        Ok(views)
    }

    /// Wakes this process's scheduler: a schedule changed.
    fn poke_scheduler(&self) {
        self.changed.notify_one();
    }
}

/// A schedule's name as asked for: trimmed, `None` when empty (no name), refused when too long
/// or holding a control character.
fn schedule_name(asked: &str) -> Result<Option<String>, AppError> {
    let name = asked.trim();
    if name.chars().count() > MAX_NAME {
        return Err(AppError::invalid_words(
            "name",
            model::words::name_length(MAX_NAME),
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || model::is_format_mark(c))
    {
        return Err(AppError::invalid_words("name", model::words::name_plain()));
    }
    Ok(Some(name.to_string()).filter(|n| !n.is_empty()))
}

/// A schedule as people see it.
fn view(row: ScheduleRow, held: Option<String>, now: i64) -> Schedule {
    let parsed = Cron::parse(&row.cron).ok();
    let tz = crate::when::time_zone(&row.timezone).ok();
    let (description, next_runs) = match (&parsed, &tz) {
        (Some(cron), Some(tz)) => {
            let from = row.next_fire_at.filter(|at| *at > now).map(|at| at - 1);
            let runs = match row.enabled {
                true => cron.next_n(from.unwrap_or(now), tz, NEXT_RUNS),
                false => Vec::new(),
            };
            (
                format!("{}, {}", cron.words(), row.timezone),
                runs.into_iter().map(|at| rfc_3339(at, tz)).collect(),
            )
        }
        _ => (format!("{} ({})", row.cron, row.timezone), Vec::new()),
    };
    Schedule {
        id: row.id,
        name: row.name,
        kind: row.kind,
        params: serde_json::from_str(&row.params).unwrap_or(serde_json::Value::Null),
        cron: row.cron,
        timezone: row.timezone,
        enabled: row.enabled,
        overlap: Overlap::parse(&row.overlap).unwrap_or_default(),
        catch_up: CatchUp::parse(&row.catch_up).unwrap_or_default(),
        max_attempts: row.max_attempts.map(|n| n.clamp(1, u32::MAX as i64) as u32),
        priority: row.priority,
        next_runs,
        last_job_id: row.last_job_id,
        owner: row.owner_name.unwrap_or_else(|| row.owner.to_string()),
        description,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_fire_at: row.last_fire_at,
        last_skip: row.last_skip,
        held,
    }
}

/// A cron expression and a time zone (UTC when absent), read; a refusal names the field.
fn when(
    cron: Option<&str>,
    timezone: Option<&str>,
) -> Result<(Cron, jiff::tz::TimeZone, String), AppError> {
    let cron = cron.unwrap_or_default();
    let parsed = Cron::parse(cron).map_err(|e| AppError::invalid_field("cron", &e));
    let zone = match timezone.map(str::trim) {
        None | Some("") => "UTC",
        Some(z) => z,
    };
    let tz = crate::when::time_zone(zone);
    match (parsed, tz) {
        (Ok(cron), Ok(tz)) => Ok((cron, tz, zone.to_string())),
        (Err(a), Err(b)) => Err(AppError::invalid(
            a.fields.into_iter().chain(b.fields).collect(),
        )),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// Refuses a viewer, or a member changing someone else's schedule (the policy's
/// [`crate::authority::Act::Schedule`]).
fn may_manage(caller: &Caller, owner: &UserId) -> Result<(), AppError> {
    caller.may(crate::authority::Act::Schedule(owner))
}

/// The answer about a schedule the caller may not see: one that is not theirs, one that does not
/// exist, or a string that is no schedule id.
pub fn no_such_schedule() -> AppError {
    AppError::words(
        ErrorCode::NotFound,
        model::words::authority::no_such_schedule(),
    )
}

/// `at` (Unix ms) in RFC 3339, in the zone `tz`: `2026-11-25T02:00:00+01:00`.
pub fn rfc_3339(at: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(at)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

/// What a schedule starts at a fire time: a job of its kind, or a run of its workflow.
pub(crate) enum Scheduled {
    Job(Job),
    Run(crate::workflows::start::NewRun),
}
