//! Keys for the whole app, as in the dashboards people know: `/` to the page's search, `n` to
//! the kind picker, `?` for the list of keys (Escape closes it). Not while typing in a field,
//! and never with a modifier (the browser's own keys stay its own). Without JavaScript the same
//! places are links.

use crate::i18n::{t, Text};
use leptos::prelude::*;

/// The keys, as the list shows them.
fn keys(t: Text) -> [(&'static str, &'static str); 4] {
    [
        ("/", t.keys_search()),
        ("n", t.keys_new()),
        ("?", t.keys_list()),
        ("Esc", t.keys_close_list()),
    ]
}

#[island]
pub fn Keys() -> impl IntoView {
    let open = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |e| {
            if e.default_prevented() || e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            if e.key() == "Escape" {
                open.set(false);
                return;
            }
            if typing(&e) {
                return;
            }
            match e.key().as_str() {
                "/" => {
                    if let Some(search) = search_field() {
                        e.prevent_default();
                        let _ = search.focus();
                        search.select();
                    }
                }
                "n" => {
                    e.prevent_default();
                    let _ = window().location().set_href("/new");
                }
                "?" => {
                    e.prevent_default();
                    open.update(|o| *o = !*o);
                }
                _ => {}
            }
        });
        // For the life of the page.
        std::mem::forget(handle);
    });
    let t = t();
    let rows = keys(t)
        .iter()
        .map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> })
        .collect_view();
    view! {
        <div class="keys-help" role="dialog" aria-modal="false" aria-labelledby="keys-title" hidden=move || !open.get()>
            <h2 id="keys-title">{t.keys_title()}</h2>
            <dl>{rows}</dl>
            <button type="button" class="secondary" on:click=move |_| open.set(false)>{t.keys_close()}</button>
        </div>
    }
}

/// Whether the key goes to a field being typed in.
#[cfg(feature = "hydrate")]
fn typing(e: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    let Some(target) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    let tag = target.tag_name().to_ascii_lowercase();
    let field = matches!(tag.as_str(), "input" | "textarea" | "select");
    let editable = target
        .dyn_ref::<web_sys::HtmlElement>()
        .is_some_and(|h| h.is_content_editable());
    field || editable
}

/// The page's search field: the kinds' on the New job page, else the history's.
#[cfg(feature = "hydrate")]
fn search_field() -> Option<web_sys::HtmlInputElement> {
    use wasm_bindgen::JsCast;
    let document = document();
    ["kind-q", "filter-q"]
        .iter()
        .find_map(|id| document.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
}
