//! The visible state of the tab's event stream: live, reconnecting or offline.

use crate::live;
use leptos::prelude::*;

#[island]
pub fn ConnectionStatus() -> impl IntoView {
    let conn = RwSignal::from(live::connection());
    let t = crate::i18n::t();
    let label = move || conn.get().label();
    let words = move || match conn.get() {
        live::Connection::Connecting => t.connection_connecting(),
        live::Connection::Live => t.connection_live(),
        live::Connection::Reconnecting => t.connection_reconnecting(),
        live::Connection::Offline => t.connection_offline(),
    };
    view! {
        <span class="connection" data-state=label role="status" aria-live="polite">
            <span class="dot" aria-hidden="true"></span>
            {words}
        </span>
    }
}
