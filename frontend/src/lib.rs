//! The wasm entry point: hydrates the islands of a server-rendered page.

// Linking the app crate is what registers its islands.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A build whose panics abort at once (`make site`) never runs a panic hook.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    // A request that gets no answer is said in the page's language.
    app::error::on_unreachable(|| app::i18n::t().answer_unreachable().to_string());
    leptos::mount::hydrate_islands();
    // `data-hydrated` is set by the page's last island (`app::components::Hydrated`).
}

/// Room for the wasm splitter (`--split`). It lays out each module's read-only data anew, and
/// alignment padding can make that layout a little longer than the linked data segment; it
/// then gives up and puts all of the program's read-only data, the lazy islands' too, in the
/// main module: about 26 KB more (10 KB gzip) for every page. Nothing refers to these bytes, so
/// no module gets them; they only make the linked segment longer than any new layout. The
/// page benchmark and `lazy-islands.spec.ts` check that no lazy island's text is in the main
/// module.
#[used]
static SPLIT_ROOM: [u8; 2048] = [0xA5; 2048];
