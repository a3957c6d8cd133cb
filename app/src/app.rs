//! The HTML shell, `<App/>` and its routes.

use crate::components::ConnectionStatus;
use crate::pages::{Dashboard, NotFound};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    SsrMode, StaticSegment,
};

/// A small inline icon: a bar two-thirds full.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E\
%3Crect y='5' width='16' height='6' rx='3' fill='%23d9dbe3'/%3E%3Crect y='5' width='11' height='6' rx='3' fill='%231f8a4c'/%3E%3C/svg%3E";

/// The document around every page. The server renders it; islands hydrate inside it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href=FAVICON/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/headway.css"/>
        <Title text="Headway"/>
        <Router>
            <header class="top">
                <a class="brand" href="/">"Headway"</a>
                <ConnectionStatus/>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=Dashboard ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
