//! `/settings`: the signed-in user's account and personal API tokens (on an open server, the
//! browser's anonymous user's tokens).

use crate::components::PageTitle;
use crate::components::{signed_in, TokenManager};
use crate::server_fns::load_tokens;
use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let who = signed_in();
    let tokens = Resource::new_blocking(|| (), |_| load_tokens());
    view! {
        <PageTitle text="Settings · Headway"/>
        <h1>"Settings"</h1>
        {who.map(|w| view! {
            <p class="account-summary">"Signed in as " <strong>{w.name}</strong> ", " {w.role.as_str()} "."</p>
        })}
        <section class="token-settings" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="hint">
                "A token acts as you in scripts: send it as "
                <code>"Authorization: Bearer <token>"</code>
                ". A read token can look but never change anything. What "
                <code>"headway run"</code>
                " reports with a write token of yours shows here, live."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenManager tokens=list/> }.into_any(),
                        Err(e) => view! { <p class="problem" role="alert">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p>
                "What the API offers, with every endpoint's parameters and answers: "
                <a href="/settings/api">"API reference"</a> "."
            </p>
        </section>
        <section class="webhook-settings" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="hint">
                "Tell other systems (a chat, a CI, your own service) when jobs end: "
                <a href="/webhooks">"manage webhooks"</a> "."
            </p>
        </section>
    }
}
