//! The wasm entry point: hydrates the islands of a server-rendered page.

// Linking the app crate is what registers its islands.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // `data-hydrated` is set by the page's last island (`app::components::Hydrated`).
}
