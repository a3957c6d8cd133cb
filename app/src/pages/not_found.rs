use leptos::prelude::*;

/// Shown for any path that is not a page; answered with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="not-found">
            <h1>"Not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Back to the dashboard"</a></p>
        </section>
    }
}
