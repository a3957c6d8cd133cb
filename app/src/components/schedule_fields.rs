//! A schedule's timing fields: its cron expression, time zone, and what to do while its
//! previous job runs and with times missed while no process ran; as an expression is typed,
//! its words and next fire times (asked of the server, which reads expressions one way for
//! everyone). Without JavaScript the fields post as they are, and the server's words come with
//! the page that shows the schedule.

use crate::model::CronPreview;
use leptos::prelude::*;

/// The fields as a schedule has them (or as a new one starts: empty expression, the browser's
/// zone), and the server's messages for the expression and the zone.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    /// What its owner calls it; empty for none.
    pub name: String,
    pub name_error: Option<String>,
    pub cron: String,
    pub timezone: String,
    pub overlap: String,
    pub catch_up: String,
    pub cron_error: Option<String>,
    pub timezone_error: Option<String>,
}

/// The fields in the form `form_id` (ids `{form_id}-cron`, `{form_id}-timezone`…), with the
/// preview `shown` at first.
#[island(lazy)]
pub fn ScheduleFields(
    form_id: String,
    timing: Timing,
    shown: Option<CronPreview>,
) -> impl IntoView {
    let preview = RwSignal::new(shown.map(Ok::<CronPreview, String>));
    let cron = RwSignal::new(timing.cron.clone());
    let zone = RwSignal::new(timing.timezone.clone());
    #[cfg(feature = "hydrate")]
    {
        // A new schedule is read in the browser's zone.
        if timing.timezone.is_empty() {
            if let Some(browser) = browser_zone() {
                zone.set(browser);
            }
        }
        // Asked again a moment after the typing stops; only the latest answer is shown.
        let asked = StoredValue::new(0u64);
        Effect::new(move |_| {
            let (c, z) = (cron.get(), zone.get());
            asked.update_value(|n| *n += 1);
            let mine = asked.get_value();
            set_timeout(
                move || {
                    if asked.get_value() != mine {
                        return;
                    }
                    if c.trim().is_empty() {
                        preview.set(None);
                        return;
                    }
                    leptos::task::spawn_local(async move {
                        use crate::server_fns::schedules::{preview_schedule, Preview};
                        let answer = match preview_schedule(c, z).await {
                            Ok(Preview::Fires(p)) => Ok(p),
                            Ok(Preview::Refused(why)) => Err(why),
                            Err(e) => Err(e.message),
                        };
                        if asked.get_value() == mine {
                            preview.set(Some(answer));
                        }
                    });
                },
                std::time::Duration::from_millis(300),
            );
        });
    }
    let id = |name: &str| format!("{form_id}-{name}");
    let (cron_id, zone_id) = (id("cron"), id("timezone"));
    let (overlap_id, catch_up_id, preview_id) = (id("overlap"), id("catch_up"), id("cron-preview"));
    let cron_error = timing.cron_error.clone();
    let zone_error = timing.timezone_error.clone();
    let name_id = id("name");
    let name_error = timing.name_error.clone();
    let t = crate::i18n::t();
    let option = |value: &'static str, label: &'static str, chosen: &str| {
        view! { <option value=value selected=chosen == value>{label}</option> }
    };
    view! {
        <div class="field">
            <label for=name_id.clone()>{crate::i18n::t().schedule_name()}</label>
            <input
                id=name_id.clone()
                name="name"
                type="text"
                value=timing.name.clone()
                maxlength="100"
                placeholder=crate::i18n::t().schedule_name_placeholder()
                autocomplete="off"
                aria-describedby=format!("{name_id}-hint {name_id}-error")
                aria-invalid=name_error.is_some().then_some("true")
                on:keydown=enter_creates_schedule
            />
            <p class="field-hint" id=format!("{name_id}-hint")>{crate::i18n::t().schedule_name_hint()}</p>
            <p class="field-error" id=format!("{name_id}-error") aria-live="polite">{name_error}</p>
        </div>
        <div class="field">
            <label for=cron_id.clone()>{t.schedule_cron()}</label>
            <input
                id=cron_id.clone()
                name="cron"
                type="text"
                value=timing.cron.clone()
                placeholder="0 2 * * 1-5"
                spellcheck="false"
                autocomplete="off"
                aria-describedby=format!("{cron_id}-help {cron_id}-error {preview_id}")
                aria-invalid=cron_error.is_some().then_some("true")
                on:input=move |ev| cron.set(event_target_value(&ev))
                on:keydown=enter_creates_schedule
            />
            <p class="hint" id=format!("{cron_id}-help")>
                {t.schedule_cron_help()}
            </p>
            <p class="field-error" id=format!("{cron_id}-error") aria-live="polite">{cron_error}</p>
        </div>
        <div class="field">
            <label for=zone_id.clone()>{t.schedule_zone()}</label>
            <input
                id=zone_id.clone()
                name="timezone"
                type="text"
                prop:value=move || zone.get()
                value=timing.timezone.clone()
                placeholder="UTC"
                spellcheck="false"
                aria-describedby=format!("{zone_id}-error")
                aria-invalid=zone_error.is_some().then_some("true")
                on:input=move |ev| zone.set(event_target_value(&ev))
                on:keydown=enter_creates_schedule
            />
            <p class="field-error" id=format!("{zone_id}-error") aria-live="polite">{zone_error}</p>
        </div>
        <div class="field">
            <label for=overlap_id.clone()>{t.schedule_overlap()}</label>
            <select id=overlap_id name="overlap">
                {option("skip", t.schedule_overlap_skip(), &timing.overlap)}
                {option("start", t.schedule_overlap_start(), &timing.overlap)}
            </select>
        </div>
        <div class="field">
            <label for=catch_up_id.clone()>{t.schedule_catch_up()}</label>
            <select id=catch_up_id name="catch_up">
                {option("skip", t.schedule_catch_up_skip(), &timing.catch_up)}
                {option("one", t.schedule_catch_up_one(), &timing.catch_up)}
            </select>
        </div>
        <div class="cron-preview" id=preview_id aria-live="polite">
            {move || preview.get().map(|p| match p {
                Ok(p) => view! {
                    <p class="cron-words">{p.description}</p>
                    <ol class="cron-next" aria-label=t.schedule_next_fires()>
                        {p.next_runs.into_iter().map(|r| view! { <li><time datetime=r.clone()>{crate::format::rfc_3339_text(&r)}</time></li> }).collect_view()}
                    </ol>
                }.into_any(),
                Err(why) => view! { <p class="cron-refused">{why}</p> }.into_any(),
            })}
        </div>
    }
}

/// Enter in the expression or the zone submits the form with its "Create schedule" button,
/// where it has one (a start form, whose own default is to start the job).
fn enter_creates_schedule(ev: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if ev.key() != "Enter" {
            return;
        }
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.form());
        let button = form
            .as_ref()
            .and_then(|f| f.query_selector("button.create-schedule").ok().flatten())
            .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok());
        if let (Some(form), Some(button)) = (form, button) {
            ev.prevent_default();
            let _ = form.request_submit_with_submitter(Some(&button));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The browser's IANA time zone.
#[cfg(feature = "hydrate")]
fn browser_zone() -> Option<String> {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
}
