//! The schedules' server functions: `/schedules` and its edit page, the start form's
//! "Repeat…", and the preview of an expression as it is typed. Forms posted without JavaScript
//! come back to the page that shows what they did.

// A form's fields are the functions' arguments, as the browser posts them.
#![allow(clippy::too_many_arguments)]

use super::LiveInfo;
#[cfg(feature = "ssr")]
use super::{answered, caller, live_info, page_status};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::i18n::cron::{describe, localize};
use crate::model::{CronPreview, Job, KindInfo, Schedule};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What `/schedules` shows: each schedule the caller may see, with its last job as it is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchedulesData {
    pub schedules: Vec<ScheduleRowData>,
    pub live: LiveInfo,
    /// Whether the caller may change schedules at all (not a viewer); each schedule is checked
    /// again by the server.
    pub manage: bool,
    /// Whether the owner is shown (the caller sees everyone's).
    pub sees_all: bool,
}

/// One schedule and its last job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRowData {
    pub schedule: Schedule,
    pub last_job: Option<Job>,
    /// Its jobs' parameters, as a person reads them.
    pub params: Vec<super::ShownParam>,
}

#[server(endpoint = "schedules", output = model::codec::Json)]
pub async fn load_schedules() -> Result<SchedulesData, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let live = live_info(&engine, &caller).await?;
            let mut schedules = Vec::new();
            let kinds = engine.jobs().kinds();
            let t = crate::i18n::t();
            for schedule in engine.schedules().list(&caller).await? {
                let schedule = localize(t, schedule);
                let last_job = match &schedule.last_job_id {
                    Some(id) => engine.jobs().job(&caller, id).await.ok(),
                    None => None,
                };
                let kind = kinds.iter().find(|k| k.name == schedule.kind);
                let params = super::shown_params(&engine, &caller, kind, &schedule.params).await;
                schedules.push(ScheduleRowData {
                    schedule,
                    last_job,
                    params,
                });
            }
            Ok(SchedulesData {
                schedules,
                live,
                manage: caller.may_start().is_ok(),
                sees_all: caller.sees().is_none(),
            })
        }
        .await,
    )
}

/// What the edit page of a schedule shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduleEdit {
    pub schedule: Schedule,
    pub kind: Option<KindInfo>,
}

#[server(endpoint = "schedule", output = model::codec::Json)]
pub async fn load_schedule(id: String) -> Result<ScheduleEdit, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let schedule = match engine::requested::schedule_id(&id) {
                Ok(id) => engine.schedules().get(&caller, &id).await,
                Err(e) => Err(e),
            }
            .inspect_err(|_| page_status(404))?;
            let kind = engine
                .jobs()
                .kinds_now()
                .await?
                .into_iter()
                .find(|k| k.name == schedule.kind)
                .map(|k| crate::components::localized_kind(crate::i18n::t(), k));
            let schedule = localize(crate::i18n::t(), schedule);
            Ok(ScheduleEdit { schedule, kind })
        }
        .await,
    )
}

/// What an expression does, as the form shows it while it is typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Preview {
    /// Its words and next fire times.
    Fires(CronPreview),
    /// Why it is refused: not a failed request, only a half-typed expression.
    Refused(String),
}

/// The words and next fire times of an expression, or why it is refused.
#[server(endpoint = "cron_preview", output = model::codec::Json)]
pub async fn preview_schedule(cron: String, tz: String) -> Result<Preview, AppError> {
    answered(
        async move {
            let (engine, _) = caller().await?;
            Ok(match engine.schedules().preview(&cron, &tz, None) {
                Ok(mut preview) => {
                    if let Some(words) = describe(crate::i18n::t(), &cron, &tz) {
                        preview.description = words;
                    }
                    Preview::Fires(preview)
                }
                Err(e) if e.code == crate::error::ErrorCode::InvalidParams => Preview::Refused(
                    e.fields
                        .into_iter()
                        .map(|f| f.message)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Err(e) => return Err(e),
            })
        }
        .await,
    )
}

/// Creates a schedule from the start form's "Repeat…": the kind's fields, the expression and
/// its zone, and what to do with overlaps and missed times. Without JavaScript the browser goes
/// on to `/schedules`.
#[server(endpoint = "create_schedule", output = model::codec::Json)]
pub async fn create_schedule(
    kind: String,
    #[server(default)] name: String,
    #[server(default)] params: HashMap<String, String>,
    #[server(default)] cron: String,
    #[server(default)] timezone: String,
    #[server(default)] overlap: String,
    #[server(default)] catch_up: String,
    #[server(default)] max_attempts: String,
    #[server(default)] priority: String,
) -> Result<Schedule, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let params = engine.jobs().form_params(&caller, &kind, &params).await?;
            let input = crate::model::ScheduleInput {
                name: Some(name),
                kind: Some(kind),
                params: Some(params),
                cron: Some(cron),
                timezone: Some(timezone),
                enabled: Some(true),
                overlap: choice(&overlap, "overlap")?,
                catch_up: choice(&catch_up, "catch_up")?,
                max_attempts: Some(attempts(&max_attempts)?),
                priority: Some(engine::priorities::parse_field(&priority)?),
            };
            let schedule = engine.schedules().create(&caller, input).await?;
            leptos_axum::redirect("/schedules");
            Ok(localize(crate::i18n::t(), schedule))
        }
        .await,
    )
}

/// Saves the edit page's form.
#[server(endpoint = "save_schedule", output = model::codec::Json)]
pub async fn save_schedule(
    id: String,
    #[server(default)] name: String,
    #[server(default)] params: HashMap<String, String>,
    #[server(default)] cron: String,
    #[server(default)] timezone: String,
    #[server(default)] overlap: String,
    #[server(default)] catch_up: String,
    #[server(default)] max_attempts: String,
    #[server(default)] priority: String,
    #[server(default)] enabled: Option<String>,
) -> Result<Schedule, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::schedule_id(&id)?;
            let old = engine.schedules().get(&caller, &id).await?;
            let params = engine
                .jobs()
                .form_params(&caller, &old.kind, &params)
                .await?;
            let input = crate::model::ScheduleInput {
                name: Some(name),
                kind: None,
                params: Some(params),
                cron: Some(cron),
                timezone: Some(timezone),
                enabled: Some(enabled.is_some()),
                overlap: choice(&overlap, "overlap")?,
                catch_up: choice(&catch_up, "catch_up")?,
                max_attempts: Some(attempts(&max_attempts)?),
                priority: Some(engine::priorities::parse_field(&priority)?),
            };
            let schedule = engine.schedules().change(&caller, &id, input).await?;
            leptos_axum::redirect("/schedules");
            Ok(localize(crate::i18n::t(), schedule))
        }
        .await,
    )
}

/// Pauses (`enabled` absent or `false`) or resumes a schedule.
#[server(endpoint = "set_schedule_enabled", output = model::codec::Json)]
pub async fn set_schedule_enabled(id: String, enabled: bool) -> Result<Schedule, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let input = crate::model::ScheduleInput {
                enabled: Some(enabled),
                ..Default::default()
            };
            let id = engine::requested::schedule_id(&id)?;
            let schedule = engine.schedules().change(&caller, &id, input).await?;
            Ok(localize(crate::i18n::t(), schedule))
        }
        .await,
    )
}

/// Starts the schedule's job now ("Run now").
#[server(endpoint = "run_schedule", output = model::codec::Json)]
pub async fn run_schedule(id: String) -> Result<Job, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::schedule_id(&id)?;
            engine.schedules().run_now(&caller, &id).await
        }
        .await,
    )
}

/// Deletes a schedule (its jobs stay).
#[server(endpoint = "delete_schedule", output = model::codec::Json)]
pub async fn delete_schedule(id: String) -> Result<(), AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::schedule_id(&id)?;
            engine.schedules().delete(&caller, &id).await
        }
        .await,
    )
}

/// A select's choice, or `None` for none made.
#[cfg(feature = "ssr")]
fn choice<T: std::str::FromStr>(value: &str, field: &str) -> Result<Option<T>, AppError> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| {
            AppError::invalid(vec![crate::model::FieldError::new(
                field,
                crate::i18n::t().not_a_choice(format!("{v:?}")),
            )])
        }),
    }
}

/// The form's number of attempts: empty for the kind's.
#[cfg(feature = "ssr")]
fn attempts(value: &str) -> Result<Option<u32>, AppError> {
    match value.trim() {
        "" => Ok(None),
        n => n.parse().map(Some).map_err(|_| {
            AppError::invalid(vec![crate::model::FieldError::new(
                "max_attempts",
                crate::i18n::t().engine_attempts_whole(),
            )])
        }),
    }
}
