//! The form that starts a job of one kind, generated from the kind's parameter descriptions.
//! The server validates; its messages appear next to the fields they concern.
//!
//! The fields are rendered on the server only (they never change); the island around them
//! sends the form, shows the server's messages in the fields' message slots and, once the job
//! is started, goes to its page, where its bar is. Without JavaScript the form posts to
//! `start_job` and the browser is sent to the same page, or back to the form with the messages.
//! The islands of the form are lazy: only the New job page loads them.
//!
//! A kind with a file parameter uploads the file as soon as it is picked (see
//! [`super::upload_field`]); without JavaScript its form is multipart, posted to
//! [`START_WITH_FILE`].
//!
//! "Start at…" puts the start off: a wall-clock time read in the browser's time zone (the
//! island fills in its name), in UTC without JavaScript.

use super::param_fields::param_fields;
use super::schedule_fields::{ScheduleFields, Timing};
use crate::model::KindInfo;
use crate::server_fns::schedules::CreateSchedule;
use crate::server_fns::StartJob;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `values` fill the fields (a finished job's parameters, to run it again with changes).
/// `may_raise`: the reader may start jobs above the kind's priority (an operator or an admin).
/// `after`: the job the new one runs after ("Then run…" on that job's page).
#[component]
pub fn StartForm(
    kind: KindInfo,
    values: Option<serde_json::Value>,
    #[prop(optional)] may_raise: bool,
    #[prop(default = None)] after: Option<String>,
    #[prop(optional)] workflow: bool,
) -> impl IntoView {
    let form_id = format!("start-{}", kind.name);
    let mut names: Vec<String> = kind.params.iter().map(|p| p.name.clone()).collect();
    names.extend(
        [
            RUN_AFTER,
            MAX_ATTEMPTS,
            PRIORITY,
            AFTER,
            WHEN,
            "name",
            "cron",
            "timezone",
        ]
        .map(String::from),
    );
    // A refusal of a post made without JavaScript comes back in the address: its messages are
    // rendered in place (the island shows those of the posts it sends). A start and a new
    // schedule share the kind's fields.
    let refused = match ServerAction::<StartJob>::new().value().get_untracked() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let refused_schedule = match ServerAction::<CreateSchedule>::new()
        .value()
        .get_untracked()
    {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let either = refused.as_ref().or(refused_schedule.as_ref());
    let fields = param_fields(&kind.params, &form_id, values.as_ref(), either);
    // A workflow's run starts at once, its steps with their kinds' attempts, after nothing; it
    // may repeat on a schedule.
    let later = (!workflow).then(|| start_later(&form_id, refused.as_ref()));
    let attempts = (!workflow).then(|| attempts_field(&form_id, kind.retry.max_attempts, either));
    let highest = if may_raise {
        crate::model::Priority::URGENT
    } else {
        kind.priority
    };
    let priority = priority_field(&form_id, kind.priority, highest, either);
    let after = after_field(&form_id, after.filter(|_| !workflow), refused.as_ref());
    let repeat = repeat(&form_id, refused_schedule.as_ref());
    let with_file = kind
        .params
        .iter()
        .any(|p| p.kind == crate::model::ParamType::File);
    view! {
        <StartFormIsland form_id title=super::words::kind_title(crate::i18n::t(), &kind) kind=kind.name fields=names key=start_key() with_file>
            {after}
            {fields}
            {attempts}
            {priority}
            {later}
            {repeat}
        </StartFormIsland>
    }
}

/// "Repeat…": the form's job as a schedule instead, on a cron expression in a time zone (the
/// browser's with JavaScript, else UTC), created by its own button. That button comes after
/// "Start" (shown while "Repeat…" is open), so that Enter in a parameter starts the job; Enter
/// in the schedule's own fields creates the schedule.
fn repeat(form_id: &str, refused: Option<&crate::model::AppError>) -> impl IntoView {
    let message = |field: &str| refused.and_then(|e| e.field(field)).map(str::to_string);
    let timing = Timing {
        overlap: "skip".into(),
        catch_up: "skip".into(),
        name_error: message("name"),
        cron_error: message("cron"),
        timezone_error: message("timezone"),
        ..Timing::default()
    };
    view! {
        <details class="field repeat" open=refused.is_some()>
            <summary>{crate::i18n::t().start_repeat()}</summary>
            <ScheduleFields form_id=form_id.to_string() timing shown=None/>
        </details>
    }
}

/// The fields (in the server's refusals and the form's posts) of the job the new one runs
/// after, and of the condition.
const AFTER: &str = "after";
const WHEN: &str = "when";

/// "Runs after job 1f0c…": the job the new one runs after, in a hidden field, and when it
/// starts: once that job succeeds (the default), or once it ends however it ends.
fn after_field(
    form_id: &str,
    after: Option<String>,
    refused: Option<&crate::model::AppError>,
) -> Option<impl IntoView> {
    let id = after?;
    let t = crate::i18n::t();
    let (input_id, when_id) = (format!("{form_id}-{AFTER}"), format!("{form_id}-{WHEN}"));
    let (after_error, when_error) = (format!("{input_id}-error"), format!("{when_id}-error"));
    let message = |field: &str| refused.and_then(|e| e.field(field)).map(str::to_string);
    let short = id[..8.min(id.len())].to_string();
    Some(view! {
        <div class="field after-field">
            <input type="hidden" id=input_id name=AFTER value=id.clone()/>
            <p class="after-job">
                {t.start_after()} " " <a href=format!("/jobs/{id}")><code>{short}</code></a>
            </p>
            <p class="field-error" id=after_error aria-live="polite">{message(AFTER)}</p>
            <label for=when_id.clone()>{t.start_when()}</label>
            <select id=when_id name=WHEN aria-describedby=when_error.clone()>
                <option value="succeeded" selected>{t.start_when_succeeded()}</option>
                <option value="ended">{t.start_when_ended()}</option>
            </select>
            <p class="field-error" id=when_error aria-live="polite">{message(WHEN)}</p>
        </div>
    })
}

/// The field (in the server's refusals) the number of attempts is checked under.
const MAX_ATTEMPTS: &str = "max_attempts";

/// "Attempts": how many the job may take, at most (and by default) what its kind allows; only
/// for a kind that tries failed jobs again.
fn attempts_field(
    form_id: &str,
    allowed: u32,
    refused: Option<&crate::model::AppError>,
) -> Option<impl IntoView> {
    if allowed <= 1 {
        return None;
    }
    let input_id = format!("{form_id}-{MAX_ATTEMPTS}");
    let error_id = format!("{input_id}-error");
    let hint_id = format!("{input_id}-hint");
    let message = refused
        .and_then(|e| e.field(MAX_ATTEMPTS))
        .map(str::to_string);
    let invalid = message.is_some().then_some("true");
    Some(view! {
        <div class="field">
            <label for=input_id.clone()>{crate::i18n::t().attempts()}</label>
            <input
                id=input_id
                name=MAX_ATTEMPTS
                type="number"
                min="1"
                max=allowed.to_string()
                value=allowed.to_string()
                aria-describedby=format!("{hint_id} {error_id}")
                aria-invalid=invalid
            />
            <p class="field-hint" id=hint_id>{crate::i18n::t().start_attempts_hint(allowed)}</p>
            <p class="field-error" id=error_id aria-live="polite">{message}</p>
        </div>
    })
}

/// The field (in the server's refusals and the form's posts) of a job's priority.
const PRIORITY: &str = "priority";

/// "Priority": the levels up to `highest` (the kind's, or any for a reader who may raise a
/// job: [`crate::model::Priority`]), `chosen` selected.
pub(crate) fn priority_field(
    form_id: &str,
    chosen: crate::model::Priority,
    highest: crate::model::Priority,
    refused: Option<&crate::model::AppError>,
) -> impl IntoView {
    let t = crate::i18n::t();
    let input_id = format!("{form_id}-{PRIORITY}");
    let error_id = format!("{input_id}-error");
    let hint_id = format!("{input_id}-hint");
    let message = refused.and_then(|e| e.field(PRIORITY)).map(str::to_string);
    let invalid = message.is_some().then_some("true");
    let options = crate::model::Priority::ALL
        .into_iter()
        .filter(|p| *p <= highest.max(chosen))
        .rev()
        .map(|p| {
            view! {
                <option value=p.name() selected=p == chosen>{super::words::priority_name(t, p)}</option>
            }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for=input_id.clone()>{t.priority()}</label>
            <select
                id=input_id
                name=PRIORITY
                aria-describedby=format!("{hint_id} {error_id}")
                aria-invalid=invalid
            >
                {options}
            </select>
            <p class="field-hint" id=hint_id>{t.start_priority_hint()}</p>
            <p class="field-error" id=error_id aria-live="polite">{message}</p>
        </div>
    }
}

/// A fresh idempotency key for one rendering of a start form: the page sent twice (a double
/// click without JavaScript, a post sent again from the browser's history) starts one job.
pub(crate) fn start_key() -> String {
    #[cfg(feature = "ssr")]
    return engine::new_id();
    #[cfg(not(feature = "ssr"))]
    return String::new();
}

/// The field (in the server's refusals) a start time is checked under.
const RUN_AFTER: &str = "run_after";

/// "Start at…": closed unless the refused post had a start time that was wrong.
fn start_later(form_id: &str, refused: Option<&crate::model::AppError>) -> impl IntoView {
    let input_id = format!("{form_id}-{RUN_AFTER}");
    let error_id = format!("{input_id}-error");
    let message = refused
        .and_then(|e| e.field(RUN_AFTER).or(e.field("timezone")))
        .map(str::to_string);
    let open = message.is_some();
    let invalid = open.then_some("true");
    view! {
        <details class="field start-later" open=open>
            <summary>{crate::i18n::t().start_at_summary()}</summary>
            <label for=input_id.clone()>
                {crate::i18n::t().start_at()} " " <span class="start-zone">"(UTC)"</span>
            </label>
            <input
                id=input_id
                name="start_at"
                type="datetime-local"
                step="1"
                aria-describedby=error_id.clone()
                aria-invalid=invalid
            />
            <input type="hidden" name="tz" value="UTC" class="start-tz"/>
            <p class="field-error" id=error_id aria-live="polite">{message}</p>
        </details>
    }
}

/// Sends the form and shows what the server said: the new job joins the page; refused values
/// get their messages next to their fields (`aria-invalid` on the field), other refusals one
/// message under the button.
///
/// After a start, the button rests for a moment ("Started") before the form takes a new key: a
/// double click starts one job, and a second start with the same values is a second job.
#[island(lazy)]
fn StartFormIsland(
    form_id: String,
    kind: String,
    title: String,
    fields: Vec<String>,
    key: String,
    with_file: bool,
    children: Children,
) -> impl IntoView {
    let sending = RwSignal::new(false);
    let started = RwSignal::new(false);
    let key = RwSignal::new(key);
    let t = crate::i18n::t();
    let refusal = RwSignal::new(None::<String>);
    // What the last schedule made from the form is.
    let scheduled = RwSignal::new(None::<crate::model::Schedule>);
    #[cfg(not(feature = "hydrate"))]
    let _ = &fields;
    #[cfg(feature = "hydrate")]
    let id = form_id.clone();
    // A start time is read in the browser's time zone, named in the form.
    #[cfg(feature = "hydrate")]
    {
        let id = form_id.clone();
        Effect::new(move |_| name_time_zone(&id));
    }
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let form = crate::server_fns::post::submitted(&ev);
            let Some(form) = form.filter(|_| !sending.get_untracked()) else {
                return;
            };
            // A file still on its way is not an upload id yet.
            if let Ok(Some(_)) = form.query_selector(".upload[data-state=sending]") {
                refusal.set(Some(t.start_still_uploading().into()));
                return;
            }
            sending.set(true);
            let (id, fields) = (id.clone(), fields.clone());
            // "Create schedule" posts the same fields elsewhere.
            let to_schedule = ev
                .submitter()
                .and_then(|b| b.get_attribute("formaction"))
                .filter(|url| url.as_str() == CreateSchedule::url());
            leptos::task::spawn_local(async move {
                // What the server refused goes next to its fields, or under the button.
                let show = |refused: Option<&crate::model::AppError>| {
                    for name in &fields {
                        let message = refused.and_then(|e| e.field(name)).unwrap_or_default();
                        show_field_error(&format!("{id}-{name}"), message);
                    }
                    refusal.set(
                        refused
                            .filter(|e| e.fields.is_empty())
                            .map(|e| e.message.clone()),
                    );
                };
                if let Some(url) = to_schedule {
                    let made =
                        crate::server_fns::post::form_to::<crate::model::Schedule>(&form, &url)
                            .await;
                    sending.set(false);
                    show(made.as_ref().err());
                    scheduled.set(made.ok());
                    return;
                }
                let answer =
                    crate::server_fns::post::form_to::<crate::model::Job>(&form, StartJob::url())
                        .await;
                sending.set(false);
                scheduled.set(None);
                show(answer.as_ref().err());
                if let Ok(job) = answer {
                    started.set(true);
                    // Where its bar is. Back on this page, the form takes a new key.
                    let _ = window().location().set_href(&format!("/jobs/{}", job.id));
                    set_timeout(
                        move || {
                            key.set(new_key());
                            started.set(false);
                        },
                        std::time::Duration::from_millis(KEY_REST_MS),
                    );
                }
            });
        }
    };
    let label = move || match started.get() {
        true => t.start_started(title.as_str()),
        false => t.start_kind(title.as_str()),
    };
    // Without JavaScript a file goes in the post that starts the job.
    let (action, enctype, schedule_enctype) = match with_file {
        true => (
            START_WITH_FILE,
            Some("multipart/form-data"),
            Some("application/x-www-form-urlencoded"),
        ),
        false => (StartJob::url(), None, None),
    };
    view! {
        <form method="post" action=action enctype=enctype class="start-form" id=form_id novalidate=true on:submit=send>
            <input type="hidden" name="kind" value=kind/>
            <input type="hidden" name="then" value="job"/>
            <input type="hidden" name="idempotency_key" value=move || key.get()/>
            {children()}
            <button type="submit" disabled=move || sending.get() || started.get()>{label}</button>
            <button type="submit" class="secondary create-schedule" formaction=CreateSchedule::url() formenctype=schedule_enctype disabled=move || sending.get()>
                {t.start_create_schedule()}
            </button>
            <p class="form-error" role="alert">{move || refusal.get()}</p>
            <p class="form-note" role="status">
                {move || scheduled.get().map(|s| view! {
                    {t.start_schedule_created(s.description)} " "
                    {s.next_runs.first().map(|r| crate::format::rfc_3339_text(r)).unwrap_or_default()}
                    {t.sentence_end()} " " <a href="/schedules">{t.start_see_schedules()}</a>
                })}
            </p>
        </form>
    }
}

/// Where the start form posts, without JavaScript, when it holds a file: the server takes the
/// multipart form, stores its files as uploads and starts the job with their ids.
pub const START_WITH_FILE: &str = "/start";

/// How long the button rests after a start before the form takes a new key.
#[cfg(feature = "hydrate")]
const KEY_REST_MS: u64 = 1_000;

/// A new idempotency key, from the browser's random UUIDs.
#[cfg(feature = "hydrate")]
pub(crate) fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("{:x}", (js_sys::Math::random() * 1e18) as u64))
}

/// Names the browser's time zone in the form `form_id`: in the field the server reads a start
/// time in, and in its label.
#[cfg(feature = "hydrate")]
fn name_time_zone(form_id: &str) {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    let Some(zone) = js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
    else {
        return;
    };
    let Some(form) = document().get_element_by_id(form_id) else {
        return;
    };
    if let Ok(Some(tz)) = form.query_selector(".start-tz") {
        let _ = tz.set_attribute("value", &zone);
    }
    if let Ok(Some(label)) = form.query_selector(".start-zone") {
        label.set_text_content(Some(&format!("({zone})")));
    }
}

/// Puts `message` in the slot of the field `input_id` (empty: none), and marks the field.
#[cfg(feature = "hydrate")]
fn show_field_error(input_id: &str, message: &str) {
    let document = document();
    if let Some(slot) = document.get_element_by_id(&format!("{input_id}-error")) {
        slot.set_text_content(Some(message));
    }
    if let Some(input) = document.get_element_by_id(input_id) {
        let _ = match message.is_empty() {
            true => input.remove_attribute("aria-invalid"),
            false => input.set_attribute("aria-invalid", "true"),
        };
    }
}
