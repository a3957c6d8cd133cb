use crate::i18n::t;
use leptos::prelude::*;

/// Shown for any path that is not a page; answered with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let t = t();
    view! {
        <section class="not-found">
            <h1>{t.not_found_title()}</h1>
            <p>{t.not_found_text()} " " <a href="/">{t.not_found_back()}</a></p>
        </section>
    }
}
