//! One island, hydrated the way Headway's frontend hydrates its own.

use leptos::prelude::*;

#[island]
pub fn Counter(start: u32) -> impl IntoView {
    let count = RwSignal::new(start);
    view! { <button on:click=move |_| count.update(|n| *n += 1)>{count}</button> }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
