//! The visible state of the tab's event stream: live, reconnecting or offline.

use crate::live;
use leptos::prelude::*;

#[island]
pub fn ConnectionStatus() -> impl IntoView {
    let conn = RwSignal::from(live::connection());
    let label = move || conn.get().label();
    view! {
        <span class="connection" data-state=label role="status" aria-live="polite">
            <span class="dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}
