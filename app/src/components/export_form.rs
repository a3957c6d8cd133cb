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

#[island]
fn ExportIsland(key: String, children: Children) -> impl IntoView {
    let sending = RwSignal::new(false);
    let t = t();
    let key = RwSignal::new(key);
    let refusal = RwSignal::new(None::<String>);
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok());
            let Some(form) = form.filter(|_| !sending.get_untracked()) else {
                return;
            };
            sending.set(true);
            leptos::task::spawn_local(async move {
                match crate::server_fns::post::form::<crate::model::Job>(&form).await {
                    Ok(job) => {
                        // Back on this page, the next export is another one.
                        key.set(super::start_form::new_key());
                        sending.set(false);
                        let _ = window().location().set_href(&format!("/jobs/{}", job.id));
                    }
                    Err(e) => {
                        sending.set(false);
                        refusal.set(Some(e.message));
                    }
                }
            });
        }
    };
    view! {
        <form method="post" action=StartJob::url() class="export-form" on:submit=send>
            <input type="hidden" name="kind" value=EXPORT_KIND/>
            <input type="hidden" name="then" value="job"/>
            <input type="hidden" name="idempotency_key" value=move || key.get()/>
            {children()}
            <label for="export-format">{t.export_as()}</label>
            <select id="export-format" name="params[format]">
                <option value="csv" selected=true>"CSV"</option>
                <option value="jsonl">{t.export_json_lines()}</option>
            </select>
            <button type="submit" class="secondary" disabled=move || sending.get()>
                {t.export()}
            </button>
            <p class="form-error" role="alert">{move || refusal.get()}</p>
        </form>
    }
}
