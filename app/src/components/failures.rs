//! The failures of the last day on the dashboard's first screen, grouped by kind and error code:
//! "12 × Import CSV · bad_header, last 3 min ago", each group a link to its jobs in the history
//! (filtered by status, kind and error code). Rendered on the server, and again by the server
//! when the caller's jobs change (the dashboard's summary).

use crate::components::Time;
use crate::format::Style;
use crate::i18n::t;
use crate::model::{FailureGroup, HistoryQuery};
use leptos::prelude::*;

#[component]
pub fn FailureGroups(groups: Vec<FailureGroup>, now: i64) -> impl IntoView {
    let t = t();
    let list = match groups.is_empty() {
        true => view! { <p class="empty">{t.failures_none()}</p> }.into_any(),
        false => view! {
            <ul>
                {groups.into_iter().map(|g| {
                    let href = format!("/?{}", jobs_of(&g).to_query_string());
                    let code = g.error_code.clone().unwrap_or_else(|| t.failures_no_code().into());
                    let said = t.said_or(g.last_said.as_ref(), g.last_message.as_deref().unwrap_or_default());
                    view! {
                        <li data-kind=g.kind.clone() data-code=g.error_code.clone()>
                            <a href=href title=said>
                                <strong class="failure-count">{t.failures_count(g.count as i64)}</strong>
                                " " {crate::names::kind_title(&g.kind)} " · " <code>{code}</code>
                            </a>
                            <span class="failure-last">
                                {t.failures_last()} " " <Time at=g.last_at style=Style::Ago now/>
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! { <div class="failures-list">{list}</div> }
}

/// The history's view of a group's jobs.
fn jobs_of(g: &FailureGroup) -> HistoryQuery {
    HistoryQuery {
        status: Some("failed".into()),
        kind: Some(g.kind.clone()),
        error: g.error_code.clone(),
        ..HistoryQuery::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::testing::named;

    #[test]
    fn a_group_links_to_its_jobs() {
        let g = FailureGroup {
            kind: "import_csv".into(),
            error_code: Some("bad_header".into()),
            count: 12,
            last_at: 0,
            last_job: named("j"),
            last_message: None,
            last_said: None,
        };
        assert_eq!(
            jobs_of(&g).to_query_string(),
            "status=failed&kind=import_csv&error=bad_header"
        );
    }
}
