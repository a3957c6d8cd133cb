//! The HTML shell, `<App/>` and its routes.

use crate::components::{
    identified, signed_in, Account, ConnectionStatus, Hydrated, Keys, LanguageSwitch, NotifyToggle,
    PageTitle, ThemeToggle,
};
use crate::i18n::{t, Lang};
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
    let lang = page_lang();
    provide_context(lang);
    let zone = crate::zone::page_zone();
    provide_context(zone.clone());
    view! {
        <!DOCTYPE html>
        <html
            lang=lang.tag()
            data-theme=theme.as_str()
            data-tz=zone.name.clone()
            data-tz-chosen=zone.chosen.then_some("")
            data-tz-unknown=zone.unknown.then_some("")
        >
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
                <PageTexts lang/>
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
    let t = t();
    view! {
        <Stylesheet id="leptos" href="/pkg/headway.css"/>
        <PageTitle text=t.page_title()/>
        <Router>
            <a class="skip" href="#main">{t.skip_to_content()}</a>
            <header class="top">
                <a class="brand" href="/">"Headway"</a>
                <nav class="top-nav" aria-label=t.nav_label()>
                    <a href="/">{t.nav_jobs()}</a>
                    {identified().then(|| view! { <a href="/schedules">{t.nav_schedules()}</a> })}
                    {show_system().then(|| view! { <a href="/system">{t.nav_system()}</a> })}
                    {signed_in().is_some_and(|w| w.role == crate::model::Role::Admin).then(|| view! { <a href="/users">{t.nav_users()}</a> })}
                </nav>
                <div class="top-tools">
                    {may_start().then(|| view! {
                        <a class="button new-job-link" href="/new" aria-keyshortcuts="n">{t.new_job()}</a>
                    })}
                    {identified().then(|| view! { <ConnectionStatus/> <NotifyToggle/> <Keys/> })}
                    <ThemeToggle theme=theme()/>
                    <LanguageSwitch/>
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

/// The texts the page's islands need, in its language (see `i18n::page`).
#[component]
fn PageTexts(lang: Lang) -> impl IntoView {
    #[cfg(not(target_arch = "wasm32"))]
    let json = {
        #[cfg(feature = "ssr")]
        let path = use_context::<axum::http::request::Parts>()
            .map(|p| p.uri.path().to_string())
            .unwrap_or_default();
        #[cfg(not(feature = "ssr"))]
        let path = String::new();
        crate::i18n::page::table_json(lang, &path)
    };
    #[cfg(target_arch = "wasm32")]
    let json = {
        let _ = lang;
        String::new()
    };
    view! { <script type="application/json" id=crate::i18n::page::ELEMENT_ID inner_html=json></script> }
}

/// The language of the page being rendered: the request's cookie, else its `Accept-Language`.
fn page_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .map(|parts| crate::i18n::negotiate::of_request(&parts.headers))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        crate::i18n::lang()
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
