//! `/new`: the kinds a person may start, by title and description, with a search; and
//! `/new/{kind}`: that kind's start form (the form generated from its parameters), which goes to
//! the new job's page once it starts, with or without JavaScript. `?from={job}` fills the form
//! with a finished job's parameters ("Run again with changes…"; secrets and files are asked for
//! anew). `?after={job}` ("Then run…" on a job's page) makes the form's job run after that one.

use crate::components::{LiveRoot, PageTitle, StartForm};
use crate::i18n::t;
use crate::server_fns::{load_new_job, NewJobData};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn NewJobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new_blocking(
        move || {
            let kind = params.with(|p| p.get("kind"));
            let (from, q, after) = query.with(|q| (q.get("from"), q.get("q"), q.get("after")));
            (kind, from, q, after)
        },
        |(kind, from, q, after)| load_new_job(kind, from, q, after),
    );
    let t = t();
    view! {
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <NewJobView data=d/> }.into_any(),
                    Err(e) => view! {
                        <PageTitle text=t.page_title_of(t.new_job())/>
                        <section class="problem" role="alert">
                            <h1>{t.new_job()}</h1>
                            <p>{e.message}</p>
                            <p><a href="/new">{t.new_job_every_kind_link()}</a> " · " <a href="/">{t.back_to_jobs()}</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewJobView(data: NewJobData) -> impl IntoView {
    let NewJobData {
        kinds,
        chosen,
        values,
        from,
        q,
        live,
        may_raise,
        after,
        workflow,
    } = data;
    let t = t();
    match chosen {
        Some(kind) => {
            let title = t.page_title_of(format!("{} · {}", kind.title, t.new_job()));
            let again = from.map(|id| {
                let short = id[..8.min(id.len())].to_string();
                view! {
                    <p class="hint run-again-note">
                        {t.new_job_filled()} " "
                        <a href=format!("/jobs/{id}")><code>{short}</code></a>
                        {t.new_job_filled_end()}
                    </p>
                }
            });
            view! {
                <PageTitle text=title/>
                <LiveRoot info=live/>
                <p class="breadcrumb"><a href="/new">{t.new_job_every_kind()}</a></p>
                <section class="start new-kind" aria-labelledby="start-title">
                    <h1 id="start-title">{kind.title.clone()}</h1>
                    <p class="kind-description">{kind.description.clone()}</p>
                    {where_it_runs(t, &kind).map(|w| view! { <p class="hint kind-where">{w}</p> })}
                    {again}
                    <StartForm kind values may_raise after workflow/>
                </section>
            }
            .into_any()
        }
        None => view! {
            <PageTitle text=t.page_title_of(t.new_job())/>
            <LiveRoot info=live/>
            <KindPicker kinds=kinds.into_iter().map(|k| KindCard { name: k.name, title: k.title, description: k.description }).collect() q=q.unwrap_or_default() after=after.unwrap_or_default()/>
        }
        .into_any(),
    }
}

/// Where a kind's jobs run, when that is not just anywhere: on workers on other machines, or
/// only where some tags are offered.
fn where_it_runs(t: crate::i18n::Text, kind: &crate::model::KindInfo) -> Option<String> {
    let tags = kind.requires.join(", ");
    match (kind.on_workers, kind.requires.is_empty()) {
        (true, true) => Some(t.new_job_on_workers().to_string()),
        (true, false) => Some(t.new_job_on_workers_with(tags)),
        (false, false) => Some(t.new_job_requires(tags)),
        (false, true) => None,
    }
}

/// A kind as the picker shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KindCard {
    pub name: String,
    pub title: String,
    pub description: String,
}

/// The kinds, each a link to its form, and a search that narrows them: as one types with
/// JavaScript, by a `GET` of the same form without it.
#[island(lazy)]
/// `after`: the job the new one is to run after ("Then run…"), carried to the kind's form.
fn KindPicker(kinds: Vec<KindCard>, q: String, after: String) -> impl IntoView {
    let typed = RwSignal::new(q);
    let kinds = StoredValue::new(kinds);
    let shown = move || {
        typed.with(|q| {
            kinds.with_value(|kinds| {
                kinds
                    .iter()
                    .filter(|k| matches(k, q))
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    let none = move || shown().is_empty();
    let t = t();
    let carried = (!after.is_empty())
        .then(|| view! { <input type="hidden" name="after" value=after.clone()/> });
    let after = StoredValue::new(after);
    view! {
        <section class="kind-picker" aria-labelledby="new-title">
            <h1 id="new-title">{t.new_job()}</h1>
            <form method="get" action="/new" role="search" aria-label=t.kind_picker_label() class="kind-search">
                {carried}
                <label for="kind-q">{t.kind_picker_find()}</label>
                <input
                    id="kind-q"
                    name="q"
                    type="search"
                    prop:value=move || typed.get()
                    value=typed.get_untracked()
                    autocomplete="off"
                    placeholder=t.kind_picker_placeholder()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <button type="submit" class="secondary">{t.kind_picker_button()}</button>
            </form>
            <ul class="kinds">
                <For each=shown key=|k| k.name.clone() let:k>
                    <li data-kind=k.name.clone()>
                        <a href=after.with_value(|a| kind_link(&k.name, a))>
                            <strong class="kind-title">{k.title}</strong>
                            <span class="kind-description">{k.description}</span>
                        </a>
                    </li>
                </For>
            </ul>
            <p class="empty kinds-none" hidden=move || !none()>{t.kind_picker_none()}</p>
        </section>
    }
}

/// A kind's form, for a job to run after `after` when it names one.
fn kind_link(kind: &str, after: &str) -> String {
    match after {
        "" => format!("/new/{kind}"),
        after => format!("/new/{kind}?after={}", crate::model::url_encode(after)),
    }
}

/// Whether a kind matches a search: every word of it is in the kind's title, name or
/// description.
fn matches(kind: &KindCard, q: &str) -> bool {
    let words = format!("{} {} {}", kind.title, kind.name, kind.description).to_lowercase();
    q.to_lowercase()
        .split_whitespace()
        .all(|w| words.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_matches_every_word_in_title_name_or_description() {
        let kind = KindCard {
            name: "word_report".into(),
            title: "Count words in a file".into(),
            description: "Writes words.csv".into(),
        };
        assert!(matches(&kind, ""));
        assert!(matches(&kind, "count FILE"));
        assert!(matches(&kind, "word_report"));
        assert!(!matches(&kind, "count photos"));
    }
}
