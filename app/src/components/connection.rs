//! The visible state of the tab's event stream: live, reconnecting or offline. The island
//! changes the element it rendered itself as the state changes, rather than through a view.

use crate::i18n::Text;
use crate::live::Connection;
use leptos::prelude::*;

/// The element's id.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const ID: &str = "headway-connection";

#[island]
pub fn ConnectionStatus() -> impl IntoView {
    let t = crate::i18n::t();
    #[cfg(feature = "hydrate")]
    {
        let conn = crate::live::connection();
        Effect::new(move |_| {
            let state = conn.get();
            if let Some(el) = document().get_element_by_id(ID) {
                let _ = el.set_attribute("data-state", state.label());
                if let Ok(Some(words)) = el.query_selector(".words") {
                    words.set_text_content(Some(words_of(t, state)));
                }
            }
        });
    }
    let state = Connection::Connecting;
    view! {
        <span class="connection" id=ID data-state=state.label() role="status" aria-live="polite">
            <span class="dot" aria-hidden="true"></span>
            <span class="words">{words_of(t, state)}</span>
        </span>
    }
}

fn words_of(t: Text, state: Connection) -> &'static str {
    match state {
        Connection::Connecting => t.connection_connecting(),
        Connection::Live => t.connection_live(),
        Connection::Reconnecting => t.connection_reconnecting(),
        Connection::Offline => t.connection_offline(),
    }
}
