//! A job's outputs and result on its page, appearing live as the job writes them: each output
//! with its size, type and a download link, the result as name and value.

use crate::format;
use crate::live;
use crate::model::Job;
use leptos::prelude::*;

#[island(lazy)]
pub fn JobFiles(job: Job) -> impl IntoView {
    // As the server rendered it first (a lazy island may hydrate after the job moved on), then
    // as the stream keeps it.
    let tracked = live::track(job.clone());
    let job = RwSignal::new(job);
    Effect::new(move || job.set(tracked.get()));
    let outputs = move || {
        job.with(|j| {
            let id = j.id.to_string();
            j.outputs
                .iter()
                .map(|o| (o.href(&id), o.clone()))
                .collect::<Vec<_>>()
        })
    };
    let result = move || job.with(|j| result_rows(j.result.as_ref()));
    let t = crate::i18n::t();
    view! {
        <h3 id="outputs-title">{t.outputs()}</h3>
        <Show
            when=move || job.with(|j| !j.outputs.is_empty())
            fallback=move || view! {
                <p class="hint outputs-none">
                    {move || if job.with(|j| j.status.is_terminal()) { t.outputs_none() } else { t.outputs_none_yet() }}
                </p>
            }
        >
            <ul class="outputs" aria-labelledby="outputs-title">
                {move || outputs().into_iter().map(|(href, o)| view! {
                    <li data-output=o.name.clone()>
                        <a href=href download=o.name.clone()>{o.name.clone()}</a>
                        " "
                        <span class="output-facts">{format::bytes(o.size)} " · " {o.content_type.clone()}</span>
                    </li>
                }).collect_view()}
            </ul>
        </Show>
        <Show when=move || job.with(|j| j.result.is_some())>
            <h3 id="result-title">{t.result()}</h3>
            // What the program returned, as it wrote it: the same in every language.
            <dl class="facts result" aria-labelledby="result-title" translate="no">
                {move || result().into_iter().map(|(k, v)| view! {
                    <dt>{k}</dt><dd>{v}</dd>
                }).collect_view()}
            </dl>
        </Show>
    }
}

/// A result's fields as text, by name (the server's and the browser's JSON maps may keep
/// different orders, and both must render alike): strings as they are, anything else as JSON.
pub fn result_rows(result: Option<&serde_json::Value>) -> Vec<(String, String)> {
    result
        .and_then(|r| r.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_reads_as_names_and_values() {
        let r = serde_json::json!({"imported": 2, "table": "people", "ok": true});
        assert_eq!(
            result_rows(Some(&r)),
            [
                ("imported".to_string(), "2".to_string()),
                ("ok".to_string(), "true".to_string()),
                ("table".to_string(), "people".to_string())
            ]
        );
        assert!(result_rows(None).is_empty());
    }
}
