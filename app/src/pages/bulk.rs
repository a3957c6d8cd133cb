//! `/bulk`: the confirmation of a bulk action, reached from the dashboard's selection (a plain
//! `GET` form, so it works without JavaScript): it states how many of the caller's jobs will be
//! cancelled, re-run or given another priority (chosen here), and a form posts the action.

use crate::components::PageTitle;
use crate::i18n::t;
use crate::server_fns::{bulk_preview, BulkAct, BulkSelection};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BulkPage() -> impl IntoView {
    let query = use_query_map();
    let request = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
            let selection = BulkSelection {
                ids: q.get_all("ids").unwrap_or_default().join(","),
                all: get("all").is_some_and(|v| v == "true"),
                status: get("status"),
                kind: get("kind"),
                q: get("q"),
            };
            (get("action").unwrap_or_default(), selection)
        })
    };
    let count = Resource::new_blocking(request, |(_, selection)| bulk_preview(selection));
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.bulk_title())/>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                let (action, selection) = request();
                match (count.await, action.as_str()) {
                    (Ok(n), "cancel" | "rerun" | "priority") => view! { <Confirm action selection n/> }.into_any(),
                    (Ok(_), _) => problem(t.bulk_choose().into()).into_any(),
                    (Err(e), _) => problem(e.message).into_any(),
                }
            })}
        </Suspense>
    }
}

fn problem(message: String) -> impl IntoView {
    let t = t();
    view! {
        <section class="problem" role="alert">
            <h1>{t.bulk_title()}</h1>
            <p>{message}</p>
            <p><a href="/">{t.back_to_jobs()}</a></p>
        </section>
    }
}

#[component]
fn Confirm(action: String, selection: BulkSelection, n: usize) -> impl IntoView {
    let t = t();
    if n == 0 {
        return problem(t.bulk_none_selected().into()).into_any();
    }
    let act = ServerAction::<BulkAct>::new();
    let (question, button, hint) = match action.as_str() {
        "cancel" => (
            t.bulk_cancel_question(n),
            t.bulk_cancel_button(n),
            t.bulk_cancel_hint(),
        ),
        "priority" => (
            t.bulk_priority_question(n),
            t.bulk_priority_button(n),
            t.bulk_priority_hint(),
        ),
        _ => (
            t.bulk_rerun_question(n),
            t.bulk_rerun_button(n),
            t.bulk_rerun_hint(),
        ),
    };
    // The level to give them: every one is offered, the server holds each job to the rule.
    let priority = (action == "priority").then(|| {
        let options = crate::model::Priority::ALL
            .into_iter()
            .rev()
            .map(|p| {
                view! {
                    <option value=p.name() selected=p == crate::model::Priority::NORMAL>
                        {crate::components::priority_name(t, p)}
                    </option>
                }
            })
            .collect_view();
        view! {
            <p class="field">
                <label for="bulk-priority">{t.priority()}</label> " "
                <select id="bulk-priority" name="priority">{options}</select>
            </p>
        }
    });
    let BulkSelection {
        ids,
        all,
        status,
        kind,
        q,
    } = selection;
    view! {
        <section class="bulk-confirm" aria-labelledby="bulk-title">
            <h1 id="bulk-title">{question}</h1>
            <p>{hint}</p>
            <ActionForm action=act>
                <input type="hidden" name="action" value=action.clone()/>
                <input type="hidden" name="selection[ids]" value=ids/>
                <input type="hidden" name="selection[all]" value=all.to_string()/>
                <input type="hidden" name="selection[status]" value=status.unwrap_or_default()/>
                <input type="hidden" name="selection[kind]" value=kind.unwrap_or_default()/>
                <input type="hidden" name="selection[q]" value=q.unwrap_or_default()/>
                {priority}
                <button type="submit" class="danger">{button}</button>
                " "
                <a href="/">{t.back()}</a>
            </ActionForm>
            {move || act.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
        </section>
    }
    .into_any()
}
