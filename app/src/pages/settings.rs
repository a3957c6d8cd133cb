//! `/settings`: the language and time zone pages are shown in (the zones grouped by region, the
//! browser's and UTC first), the signed-in user's account and
//! personal API tokens (on an open server, the browser's anonymous user's tokens): the newest
//! [`TOKENS_SHOWN`](crate::server_fns::TOKENS_SHOWN), and a plain link to the older ones
//! (`?tokens_before=`, the last one shown), never all of them at once.

use crate::components::PageTitle;
use crate::components::{signed_in, TokenManager, ZoneNote};
use crate::i18n::{t, Lang};
use crate::server_fns::{load_tokens, SetLanguage, SetTimeZone, TokensPage};
use crate::zone::page_zone;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

/// The query parameter that names the last token of the page before (the older tokens' page).
const TOKENS_BEFORE: &str = "tokens_before";

#[component]
pub fn SettingsPage() -> impl IntoView {
    let who = signed_in();
    let query = use_query_map();
    let before = move || {
        query
            .get()
            .get(TOKENS_BEFORE)
            .filter(|v| !v.trim().is_empty())
    };
    let tokens = Resource::new_blocking(before, load_tokens);
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.nav_settings())/>
        <h1>{t.nav_settings()}</h1>
        {who.map(|w| view! {
            <p class="account-summary">{t.settings_signed_in_as(w.name, crate::components::role_name(t, w.role))}</p>
        })}
        <LanguageAndTime/>
        <section class="token-settings" aria-labelledby="tokens-title">
            <h2 id="tokens-title">{t.settings_tokens_title()}</h2>
            <p class="hint">
                {t.settings_tokens_hint_1()} " "
                <code>"Authorization: Bearer <token>"</code>
                {t.settings_tokens_hint_2()} " "
                <code>"headway run"</code>
                " " {t.settings_tokens_hint_3()}
            </p>
            <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(page) => view! { <Tokens page/> }.into_any(),
                        Err(e) => view! { <p class="problem" role="alert">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p>
                {t.settings_api_reference_hint()} " "
                <a href="/settings/api">{t.api_reference_title()}</a>
            </p>
        </section>
        <section class="webhook-settings" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">{t.webhooks_title()}</h2>
            <p class="hint">
                {t.settings_webhooks_hint()} " "
                <a href="/webhooks">{t.settings_webhooks_link()}</a>
            </p>
        </section>
    }
}

/// A page of tokens, with links to the older ones and back to the newest, which work without
/// JavaScript.
#[component]
fn Tokens(page: TokensPage) -> impl IntoView {
    let t = t();
    let TokensPage { tokens, older } = page;
    let newest = use_query_map()
        .with_untracked(|q| q.get(TOKENS_BEFORE).is_some())
        .then(|| view! { <a href="/settings#tokens-title">{t.token_newest()}</a> });
    let older = older.map(|id| {
        let href = format!(
            "/settings?{TOKENS_BEFORE}={}#tokens-title",
            crate::model::text::url_encode(&id)
        );
        view! { <a rel="next" href=href>{t.token_older()}</a> }
    });
    let pager = (newest.is_some() || older.is_some())
        .then(|| view! { <nav class="pager" aria-label=t.pager_label()>{newest}{older}</nav> });
    view! {
        <TokenManager tokens/>
        {pager}
    }
}

/// The language, and the time zone times are shown in: plain forms, as the header's switch.
#[component]
fn LanguageAndTime() -> impl IntoView {
    let t = t();
    let zone = page_zone();
    let languages = Lang::ALL
        .into_iter()
        .map(|l| view! { <option value=l.tag() lang=l.tag() selected=l == t.lang>{l.name()}</option> })
        .collect_view();
    let chosen = zone.chosen.then(|| zone.name.clone());
    // The zone the browser said it is in (its script keeps the cookie up to date), unless the
    // reader chose one: then the browser's is not known.
    let browser = (!zone.chosen && !zone.unknown && zone.name != "UTC").then(|| zone.name.clone());
    let first: Vec<String> = browser.iter().cloned().chain(["UTC".to_string()]).collect();
    let is_chosen = |name: &str| chosen.as_deref() == Some(name);
    let firsts = first
        .iter()
        .map(|name| {
            let label = match browser.as_deref() == Some(name.as_str()) {
                true => t.settings_zone_browser(name.clone()),
                false => name.clone(),
            };
            view! { <option value=name.clone() selected=is_chosen(name)>{label}</option> }
        })
        .collect_view();
    let groups = zone_groups(zone_names())
        .into_iter()
        .map(|(region, places)| {
            let options = places
                .into_iter()
                .map(|(name, place)| {
                    // A zone offered first is selected there. Its place is the IANA name's,
                    // in every language.
                    let selected = is_chosen(&name) && !first.contains(&name);
                    view! { <option value=name selected=selected translate="no">{place}</option> }
                })
                .collect_view();
            view! { <optgroup label=region>{options}</optgroup> }
        })
        .collect_view();
    view! {
        <section class="display-settings" aria-labelledby="display-title">
            <h2 id="display-title">{t.settings_display_title()}</h2>
            <form method="post" action=SetLanguage::url() class="settings-form">
                <div class="field">
                    <label for="settings-language">{t.settings_language()}</label>
                    <select id="settings-language" name="lang">{languages}</select>
                </div>
                <button type="submit">{t.settings_language_save()}</button>
            </form>
            <form method="post" action=SetTimeZone::url() class="settings-form" id="time-zone">
                <div class="field">
                    <label for="settings-zone">{t.settings_zone()}</label>
                    <select id="settings-zone" name="zone" aria-describedby="settings-zone-hint">
                        <option value="" selected=chosen.is_none()>{t.settings_zone_automatic()}</option>
                        {firsts}
                        {groups}
                    </select>
                    <p class="hint" id="settings-zone-hint">{t.settings_zone_hint()}</p>
                </div>
                <button type="submit">{t.settings_zone_save()}</button>
            </form>
            <ZoneNote/>
        </section>
    }
}

/// The zones by region, the part of their name before the first `/` (`Europe`, `America`…),
/// each as its name and its place in the region (`Argentina/Buenos_Aires`), in the order given;
/// a name without a region (`UTC`) is left out.
fn zone_groups(names: Vec<String>) -> Vec<(String, Vec<(String, String)>)> {
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for name in names {
        let Some((region, place)) = name.split_once('/') else {
            continue;
        };
        let entry = (name.clone(), place.to_string());
        match groups.iter_mut().find(|(r, _)| r == region) {
            Some((_, places)) => places.push(entry),
            None => groups.push((region.to_string(), vec![entry])),
        }
    }
    groups
}

/// Every zone the time zone database knows, sorted (`UTC` among them).
fn zone_names() -> Vec<String> {
    #[cfg(feature = "ssr")]
    {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| n.contains('/') || n == "UTC")
            .collect();
        names.sort();
        names.dedup();
        names
    }
    #[cfg(not(feature = "ssr"))]
    {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_grouped_by_their_region_and_named_by_their_place_in_it() {
        let names = [
            "America/Argentina/Buenos_Aires",
            "America/Lima",
            "Etc/GMT+5",
            "Europe/Paris",
            "UTC",
        ];
        let groups = zone_groups(names.iter().map(|n| n.to_string()).collect());
        let pair = |n: &str, p: &str| (n.to_string(), p.to_string());
        assert_eq!(
            groups,
            vec![
                (
                    "America".to_string(),
                    vec![
                        pair("America/Argentina/Buenos_Aires", "Argentina/Buenos_Aires"),
                        pair("America/Lima", "Lima")
                    ]
                ),
                ("Etc".to_string(), vec![pair("Etc/GMT+5", "GMT+5")]),
                ("Europe".to_string(), vec![pair("Europe/Paris", "Paris")]),
            ]
        );
    }
}
