//! The HTML shell, `<App/>` and its routes.

use crate::components::{
    identified, signed_in, Account, ConnectionStatus, Hydrated, Keys, NotifyToggle, PageTitle,
    ThemeToggle,
};
use crate::pages::{
    ApiReferencePage, BulkPage, Dashboard, JobPage, NewJobPage, NotFound, SchedulePage,
    SchedulesPage, SettingsPage, SignInPage, SystemPage, UsersPage, WebhookPage, WebhooksPage,
};
use crate::theme::Theme;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// A small inline icon: a bar two-thirds full.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E\
%3Crect y='5' width='16' height='6' rx='3' fill='%23d9dbe3'/%3E%3Crect y='5' width='11' height='6' rx='3' fill='%231f8a4c'/%3E%3C/svg%3E";

/// The document around every page. The server renders it; islands hydrate inside it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::security::apply();
    let theme = theme();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.as_str()>
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
                <Hydrated/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    crate::names::provide();
    view! {
        <Stylesheet id="leptos" href="/pkg/headway.css"/>
        <PageTitle text="Headway"/>
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="top">
                <a class="brand" href="/">"Headway"</a>
                <nav class="top-nav" aria-label="Pages">
                    <a href="/">"Jobs"</a>
                    {identified().then(|| view! { <a href="/schedules">"Schedules"</a> })}
                    {show_system().then(|| view! { <a href="/system">"System"</a> })}
                    {signed_in().is_some_and(|w| w.role == crate::model::Role::Admin).then(|| view! { <a href="/users">"Users"</a> })}
                </nav>
                <div class="top-tools">
                    {may_start().then(|| view! {
                        <a class="button new-job-link" href="/new" aria-keyshortcuts="n">"New job"</a>
                    })}
                    {identified().then(|| view! { <ConnectionStatus/> <NotifyToggle/> <Keys/> })}
                    <ThemeToggle theme=theme()/>
                    <Account/>
                </div>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=Dashboard ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("jobs"), ParamSegment("id")) view=JobPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("new") view=NewJobPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("new"), ParamSegment("kind")) view=NewJobPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("system") view=SystemPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("schedules") view=SchedulesPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("schedules"), ParamSegment("id")) view=SchedulePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("bulk") view=BulkPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view=SignInPage/>
                    <Route path=StaticSegment("settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("settings"), StaticSegment("api")) view=ApiReferencePage/>
                    <Route path=StaticSegment("users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("webhooks") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("webhooks"), ParamSegment("id")) view=WebhookPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Whether the header links to `/system`: on an open loopback server, or for an operator or
/// admin.
fn show_system() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server_fns::system_open()
            || signed_in().is_some_and(|w| w.role >= crate::model::Role::Operator)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = signed_in;
        true
    }
}

/// Whether the header offers "New job": to whoever may start jobs (not a viewer, and someone
/// the server knows).
fn may_start() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<engine::Caller>().cloned())
            .is_some_and(|c| c.may_start().is_ok())
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// The theme the person chose (a cookie), for the page being rendered.
fn theme() -> Theme {
    #[cfg(feature = "ssr")]
    {
        crate::server_fns::cookies::theme()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Theme::System
    }
}
