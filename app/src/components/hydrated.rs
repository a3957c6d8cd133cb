//! The page's "interactive now" mark, `data-hydrated` on `<body>`, for tests and styles.
//!
//! Islands hydrate one after the other in document order, and a lazy island (its code in a wasm
//! file of its own) holds back the ones after it until its file has loaded. This island comes
//! last in `<body>`, so when it hydrates every island of the page has.

use leptos::prelude::*;

#[island]
pub fn Hydrated() -> impl IntoView {
    Effect::new(|| {
        // Every island is live: a page rendered in another zone than the browser's moves to it.
        #[cfg(target_arch = "wasm32")]
        if let Some(zone) = crate::zone::adopt_browser_zone() {
            crate::format::retime_page(&zone);
        }
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
