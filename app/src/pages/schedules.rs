//! `/schedules`: every schedule the caller may see, its expression in words, its next three fire
//! times counting down, its last job live, and pause or resume, run now, edit and delete; and
//! `/schedules/{id}`, a schedule's edit form. Every action is a plain form post without
//! JavaScript; with it, the list follows the stream (a schedule's new job refreshes it).

use crate::components::PageTitle;
use crate::components::{
    param_fields, status_icon, LiveRoot, ScheduleFields, Time, Timing, ZoneNote,
};
use crate::format::{self, Style};
use crate::i18n::t;
use crate::live;
use crate::model::{Job, Schedule};
use crate::server_fns::schedules::{
    load_schedule, load_schedules, DeleteSchedule, RunSchedule, SaveSchedule, ScheduleEdit,
    ScheduleRowData, SchedulesData, SetScheduleEnabled,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SchedulesPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_schedules());
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.nav_schedules())/>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <SchedulesView data/> }.into_any(),
                    Err(e) => problem(t.nav_schedules(), e.message).into_any(),
                }
            })}
        </Suspense>
    }
}

fn problem(title: &'static str, message: String) -> impl IntoView {
    let t = t();
    view! {
        <section class="problem" role="alert">
            <h1>{title}</h1>
            <p>{message}</p>
            <p><a href="/">{t.back_to_jobs()}</a></p>
        </section>
    }
}

#[component]
fn SchedulesView(data: SchedulesData) -> impl IntoView {
    let SchedulesData {
        schedules,
        live,
        manage,
        sees_all,
    } = data;
    let now = live.now;
    let t = t();
    view! {
        <LiveRoot info=live/>
        <h1>{t.nav_schedules()}</h1>
        <p class="hint">
            {t.schedules_hint()} {t.schedules_hint_gap()} <a href="/">{t.schedules_hint_dashboard()}</a> {t.schedules_hint_open()} <em>{t.schedules_hint_repeat()}</em> {t.schedules_hint_close()}
        </p>
        <ZoneNote at=now/>
        <noscript>
            <p class="hint">{t.without_js_refresh()} " " <a href="">{t.refresh_the_page()}</a> " " {t.refresh_to_see()}</p>
        </noscript>
        <SchedulesLive rows=schedules now manage sees_all/>
    }
}

/// The schedules, kept current in the browser: each one's last job from the stream, its next
/// fire times counting down, and the whole list again when one of them starts a job or an
/// action here changes one.
#[island(lazy)]
fn SchedulesLive(
    rows: Vec<ScheduleRowData>,
    now: i64,
    manage: bool,
    sees_all: bool,
) -> impl IntoView {
    let rows = RwSignal::new(rows);
    let clock = live::view_clock(now);
    let t = t();
    #[cfg(feature = "hydrate")]
    let reload = move || {
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = load_schedules().await {
                rows.set(fresh.schedules);
            }
        });
    };
    // A schedule's new job (it fired, or someone ran it): the list again.
    #[cfg(feature = "hydrate")]
    {
        let seen = StoredValue::new(std::collections::HashSet::<String>::new());
        let fresh = live::new_jobs();
        Effect::new(move |_| {
            let ours: Vec<String> =
                rows.with(|r| r.iter().map(|r| r.schedule.id.to_string()).collect());
            let mut changed = false;
            for job in fresh.get() {
                job.with_untracked(|j| {
                    let (Some(schedule), id) = (&j.schedule_id, j.id.to_string()) else {
                        return;
                    };
                    if ours.iter().any(|o| o == schedule.as_str())
                        && seen.with_value(|s| !s.contains(&id))
                    {
                        seen.update_value(|s| {
                            s.insert(id);
                        });
                        changed = true;
                    }
                });
            }
            if changed {
                reload();
            }
        });
    }
    let act = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let Some(form) = crate::server_fns::post::submitted(&ev) else {
                return;
            };
            if form.class_list().contains("schedule-delete")
                && !window()
                    .confirm_with_message(t.schedule_delete_confirm())
                    .unwrap_or(false)
            {
                return;
            }
            leptos::task::spawn_local(async move {
                let answer = crate::server_fns::post::form::<serde_json::Value>(&form).await;
                if let Err(e) = answer {
                    let _ = window().alert_with_message(&e.message);
                }
                reload();
            });
        }
    };
    view! {
        <Show
            when=move || rows.with(|r| !r.is_empty())
            fallback=move || view! { <p class="empty">{t.schedules_none()}</p> }
        >
            <div class="schedules">
                <For
                    each=move || rows.get()
                    key=|r| (r.schedule.id.clone(), r.schedule.updated_at, r.schedule.last_fire_at, r.schedule.last_job_id.clone())
                    children=move |r| view! { <ScheduleCard row=r clock manage sees_all act/> }
                />
            </div>
        </Show>
    }
}

#[component]
fn ScheduleCard(
    row: ScheduleRowData,
    clock: Signal<i64>,
    manage: bool,
    sees_all: bool,
    act: impl Fn(leptos::ev::SubmitEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ScheduleRowData {
        schedule,
        last_job,
        params,
    } = row;
    let Schedule {
        id,
        name,
        kind,
        enabled,
        description,
        next_runs,
        owner,
        last_skip,
        held,
        ..
    } = schedule;
    let id = id.to_string();
    let t = t();
    // Named, a schedule is told by its name; its kind's title says what it starts.
    let title = crate::names::kind_title(&kind);
    let called = name.clone().unwrap_or_else(|| title.clone());
    let what = name
        .is_some()
        .then(|| view! { <span class="schedule-what">{title.clone()}</span> });
    let shown_params = (!params.is_empty()).then(|| {
        view! {
            <p class="schedule-params">
                {params.into_iter().map(|p| view! {
                    <span class="schedule-param" data-param=p.name>{p.label} " " <strong>{p.value}</strong></span>
                }).collect_view()}
            </p>
        }
    });
    let (state, state_text) = match (&held, enabled) {
        (Some(_), _) => ("held", t.schedule_held()),
        (None, true) => ("enabled", t.schedule_enabled()),
        (None, false) => ("paused", t.schedule_paused()),
    };
    let next = next_runs
        .into_iter()
        .map(|r| {
            let at = crate::model::schedules::rfc_3339_ms(&r);
            let left = move || {
                at.map(|at| at - clock.get())
                    .filter(|left| *left > 0)
                    .map(|left| format!(" · {}", t.in_span(format::span(t, left.max(1000)))))
                    .unwrap_or_default()
            };
            let when = match at {
                Some(at) => view! { <Time at style=Style::Short/> }.into_any(),
                None => {
                    view! { <time datetime=r.clone()>{format::rfc_3339_text(&r)}</time> }.into_any()
                }
            };
            view! { <li>{when}<span class="schedule-left">{left}</span></li> }
        })
        .collect_view();
    let last = match last_job {
        Some(job) => view! { <LastJob job/> }.into_any(),
        None => view! { {t.schedule_none_yet()} }.into_any(),
    };
    let hidden =
        |name: &'static str, value: String| view! { <input type="hidden" name=name value=value/> };
    let actions = manage.then(|| {
        let (verb, verb_label) = match enabled {
            true => (t.system_pause(), t.schedule_pause_label(called.as_str())),
            false => (t.system_resume(), t.schedule_resume_label(called.as_str())),
        };
        view! {
            <div class="schedule-actions">
                <form method="post" action=SetScheduleEnabled::url() on:submit=act>
                    {hidden("id", id.clone())}
                    {hidden("enabled", (!enabled).to_string())}
                    <button type="submit" class="secondary" aria-label=verb_label>{verb}</button>
                </form>
                <form method="post" action=RunSchedule::url() on:submit=act>
                    {hidden("id", id.clone())}
                    <button type="submit" class="secondary" aria-label=t.schedule_run_now_label(called.as_str())>{t.schedule_run_now()}</button>
                </form>
                <a class="button secondary" href=format!("/schedules/{id}") aria-label=t.schedule_edit_label(called.as_str())>{t.schedule_edit()}</a>
                <form method="post" action=DeleteSchedule::url() class="schedule-delete" on:submit=act>
                    {hidden("id", id.clone())}
                    <button type="submit" class="secondary danger" aria-label=t.schedule_delete_label(called.as_str())>{t.schedule_delete()}</button>
                </form>
            </div>
        }
    });
    view! {
        <article class="schedule" data-schedule-id=id.clone() data-state=state>
            <header class="schedule-head">
                <h2 class="schedule-kind">{called.clone()}</h2>
                {what}
                <span class=format!("schedule-state state-{state}")>{state_text}</span>
                {sees_all.then(|| view! { <span class="schedule-owner">{t.schedule_owner(owner)}</span> })}
            </header>
            <p class="schedule-when">{description}</p>
            {shown_params}
            {held.map(|why| view! { <p class="schedule-held">{t.schedule_not_firing()} " " {why}</p> })}
            {enabled.then(|| view! {
                <div class="schedule-next-box">
                    <span class="schedule-label" id=format!("next-{id}")>{t.schedule_next()}</span>
                    <ol class="schedule-next" aria-labelledby=format!("next-{id}")>{next}</ol>
                </div>
            })}
            <p class="schedule-last">{t.schedule_last_job()} " " {last} " · " <a href=format!("/?schedule={id}")>{t.schedule_all_jobs()}</a></p>
            {last_skip.map(|why| view! { <p class="schedule-skip">{t.schedule_last_skip()} " " {why}</p> })}
            {actions}
        </article>
    }
}

/// A schedule's last job, its status following the stream.
#[component]
fn LastJob(job: Job) -> impl IntoView {
    let id = job.id.to_string();
    let job = RwSignal::from(live::track(job));
    let status = move || job.with(|j| j.status);
    let t = t();
    view! {
        <a class="schedule-last-job" href=format!("/jobs/{id}")>
            <span class=move || format!("status status-{}", status())>
                <span class="status-icon" aria-hidden="true">{move || status_icon(status())}</span>
                " " <span class="status-word">{move || crate::components::status_name(t, status())}</span>
            </span>
            " " <code>{id[..8.min(id.len())].to_string()}</code>
        </a>
    }
}

/// `/schedules/{id}`: the schedule's edit form.
#[component]
pub fn SchedulePage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new_blocking(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        load_schedule,
    );
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.schedule_edit_title())/>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(edit) => view! { <ScheduleForm edit/> }.into_any(),
                    Err(e) => problem(t.schedule_title(), e.message).into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ScheduleForm(edit: ScheduleEdit) -> impl IntoView {
    let ScheduleEdit { schedule, kind } = edit;
    let refused = match ServerAction::<SaveSchedule>::new().value().get_untracked() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let form_id = "schedule-edit".to_string();
    let message = |field: &str| {
        refused
            .as_ref()
            .and_then(|e| e.field(field))
            .map(str::to_string)
    };
    let timing = Timing {
        name: schedule.name.clone().unwrap_or_default(),
        name_error: message("name"),
        cron: schedule.cron.clone(),
        timezone: schedule.timezone.clone(),
        overlap: schedule.overlap.as_str().into(),
        catch_up: schedule.catch_up.as_str().into(),
        cron_error: message("cron"),
        timezone_error: message("timezone"),
    };
    let shown = Some(crate::model::CronPreview {
        description: schedule.description.clone(),
        next_runs: schedule.next_runs.clone(),
    });
    let fields = kind.as_ref().map(|k| {
        param_fields(
            &k.params,
            &form_id,
            Some(&schedule.params),
            refused.as_ref(),
        )
    });
    let allowed = kind.as_ref().map_or(1, |k| k.retry.max_attempts);
    let attempts = schedule.max_attempts.unwrap_or(allowed);
    let attempts_error = message("max_attempts");
    let default = kind.as_ref().map(|k| k.priority).unwrap_or_default();
    let priority = crate::components::start_form::priority_field(
        &form_id,
        schedule.priority.unwrap_or(default),
        default,
        refused.as_ref(),
    );
    let other = refused
        .as_ref()
        .filter(|e| e.fields.is_empty())
        .map(|e| e.message.clone());
    let t = t();
    view! {
        <p class="breadcrumb"><a href="/schedules">{t.schedule_all()}</a></p>
        <h1>{t.schedule_edit_heading(schedule.name.clone().unwrap_or_else(|| crate::names::kind_title(&schedule.kind)))}</h1>
        <p class="schedule-when">{schedule.description.clone()}</p>
        <form method="post" action=SaveSchedule::url() class="start-form schedule-form" id=form_id.clone() novalidate=true>
            <input type="hidden" name="id" value=schedule.id.to_string()/>
            {fields}
            <div class="field">
                <label for="schedule-edit-max_attempts">{t.attempts()}</label>
                <input id="schedule-edit-max_attempts" name="max_attempts" type="number" min="1"
                    max=allowed.to_string() value=attempts.to_string()
                    aria-describedby="schedule-edit-max_attempts-error"
                    aria-invalid=attempts_error.is_some().then_some("true")/>
                <p class="field-error" id="schedule-edit-max_attempts-error" aria-live="polite">{attempts_error}</p>
            </div>
            {priority}
            <ScheduleFields form_id=form_id.clone() timing shown/>
            <div class="field field-check">
                <label class="check">
                    <input id="schedule-edit-enabled" name="enabled" type="checkbox" value="true" checked=schedule.enabled/>
                    {t.schedule_enabled_label()}
                </label>
            </div>
            <button type="submit">{t.save()}</button>
            <p class="form-error" role="alert">{other}</p>
        </form>
    }
}
