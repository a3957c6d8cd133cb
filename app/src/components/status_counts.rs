//! The counts of jobs per status above the history, each a link to the jobs of that status.

use crate::components::{status_icon, status_name};
use crate::i18n::t;
use crate::model::{HistoryQuery, StatusCount};
use leptos::prelude::*;

/// Counts per status (for the kind filtered on); each is a link to that status.
#[component]
pub fn StatusCounts(counts: Vec<StatusCount>, query: HistoryQuery) -> impl IntoView {
    let all: u64 = counts.iter().map(|c| c.n).sum();
    let link = |status: Option<&str>| {
        let q = HistoryQuery {
            status: status.map(str::to_string),
            kind: query.kind.clone(),
            ..HistoryQuery::default()
        };
        let qs = q.to_query_string();
        if qs.is_empty() {
            "/".to_string()
        } else {
            format!("/?{qs}")
        }
    };
    let current = query.status.clone();
    let t = t();
    let items = counts
        .iter()
        .map(|c| {
            let selected = current.as_deref() == Some(c.status.as_str());
            view! {
                <li>
                    <a
                        href=link(Some(c.status.as_str()))
                        class=format!("count status-{}", c.status)
                        aria-current=selected.then_some("true")
                        data-status=c.status.as_str()
                    >
                        <span aria-hidden="true">{status_icon(c.status)} " "</span>
                        {status_name(t, c.status)} " " <strong>{t.int(c.n as i64)}</strong>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="counts" aria-label=t.counts_label()>
            <ul>
                <li>
                    <a href=link(None) class="count" aria-current=current.is_none().then_some("true") data-status="all">
                        {t.counts_all()} " " <strong>{t.int(all as i64)}</strong>
                    </a>
                </li>
                {items}
            </ul>
        </nav>
    }
}
