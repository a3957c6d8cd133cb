//! "Export": the history's jobs as the filters show them, as a file to download. It starts an
//! `export_jobs` job with the view's filters and goes to that job's page, where its bar runs and
//! its file appears to download. Without JavaScript the form posts to `start_job`, which sends
//! the browser to the job's page too.

use crate::i18n::t;
use crate::model::HistoryQuery;
use crate::server_fns::StartJob;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The kind an export starts.
pub const EXPORT_KIND: &str = "export_jobs";

#[component]
pub fn ExportForm(query: HistoryQuery) -> impl IntoView {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    view! {
        <ExportIsland key=super::start_form::start_key()>
            <input type="hidden" name="params[status]" value=value(&query.status)/>
            <input type="hidden" name="params[kind]" value=value(&query.kind)/>
            <input type="hidden" name="params[search]" value=value(&query.q)/>
            <input type="hidden" name="params[schedule]" value=value(&query.schedule)/>
        </ExportIsland>
    }
}

/// The form is the one the server rendered; the island only sends it (and changes the form
/// itself while it does: its button, its message, its next key) rather than through signals.
#[island]
fn ExportIsland(key: String, children: Children) -> impl IntoView {
    let t = t();
    view! {
        <form method="post" action=StartJob::url() class="export-form" on:submit=send>
            <input type="hidden" name="kind" value=EXPORT_KIND/>
            <input type="hidden" name="then" value="job"/>
            <input type="hidden" name="idempotency_key" value=key/>
            {children()}
            <label for="export-format">{t.export_as()}</label>
            <select id="export-format" name="params[format]">
                <option value="csv" selected=true>"CSV"</option>
                <option value="jsonl">{t.export_json_lines()}</option>
            </select>
            <button type="submit" class="secondary">{t.export()}</button>
            <p class="form-error" role="alert"></p>
        </form>
    }
}

/// Starts the export and goes to its job, or says why the server refused it.
fn send(ev: leptos::ev::SubmitEvent) {
    #[cfg(feature = "hydrate")]
    {
        ev.prevent_default();
        let Some(form) = crate::server_fns::post::submitted(&ev) else {
            return;
        };
        let part = |selector: &str| form.query_selector(selector).ok().flatten();
        let (Some(button), Some(message), Some(key)) = (
            part("button"),
            part(".form-error"),
            part("input[name=idempotency_key]"),
        ) else {
            return;
        };
        if button.has_attribute("disabled") {
            return;
        }
        let _ = button.set_attribute("disabled", "");
        leptos::task::spawn_local(async move {
            let answer = crate::server_fns::post::form::<crate::model::Job>(&form).await;
            let _ = button.remove_attribute("disabled");
            match answer {
                Ok(job) => {
                    // Back on this page, the next export is another one.
                    let _ = key.set_attribute("value", &super::start_form::new_key());
                    message.set_text_content(None);
                    let _ = window().location().set_href(&format!("/jobs/{}", job.id));
                }
                Err(e) => message.set_text_content(Some(&e.message)),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}
