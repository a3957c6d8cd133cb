//! A job's states in order with their times, going on live as the job moves.

use crate::format;
use crate::live;
use crate::model::{Job, StatusChange};
use leptos::prelude::*;

#[island(lazy)]
pub fn Timeline(job: Job, changes: Vec<StatusChange>) -> impl IntoView {
    let job = RwSignal::from(live::track(job));
    let changes = RwSignal::new(changes);
    // A status the list does not end with yet is a new step, seen now.
    Effect::new(move || {
        let status = job.with(|j| j.status);
        if changes.with_untracked(|c| c.last().is_none_or(|c| c.status != status)) {
            let at = js_sys::Date::now() as i64;
            changes.update(|c| c.push(StatusChange { status, at }));
        }
    });
    view! {
        <ol class="timeline">
            <For
                each=move || changes.get().into_iter().enumerate()
                key=|(i, c)| (*i, c.status)
                children=|(_, c)| view! {
                    <li data-status=c.status.as_str()>
                        <span class="timeline-status">
                            <span aria-hidden="true">{super::job_row::status_icon(c.status)} " "</span>
                            {c.status.as_str()}
                        </span>
                        " "
                        <time datetime=format::iso(c.at)>{format::datetime(c.at)}</time>
                    </li>
                }
            />
        </ol>
    }
}
