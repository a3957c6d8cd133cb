//! The header's account corner: who is signed in, their role, and Sign out. Rendered on the
//! server from the request's caller (only a link to the settings for an anonymous user of an
//! open server).

use super::words::role_name;
use crate::model::Role;
use leptos::prelude::*;

/// Who is signed in, as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub name: String,
    pub role: Role,
}

/// The signed-in account of the request being rendered, if any.
pub fn signed_in() -> Option<SignedIn> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<axum::http::request::Parts>()?;
        let caller = parts.extensions.get::<engine::Caller>()?;
        caller.name().map(|name| SignedIn {
            name: name.to_string(),
            role: caller.role(),
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Whether the request being rendered has a caller: not so on the sign-in page before signing
/// in, where nothing may open the event stream.
pub fn identified() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .is_some_and(|p| p.extensions.get::<engine::Caller>().is_some())
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

#[component]
pub fn Account() -> impl IntoView {
    let t = crate::i18n::t();
    let Some(who) = signed_in() else {
        // An open server's anonymous user has settings too: tokens for scripts and `headway run`.
        return identified().then(|| {
            view! {
                <div class="account">
                    <a href="/settings">{t.nav_settings()}</a>
                </div>
            }
            .into_any()
        });
    };
    Some({
        view! {
            <div class="account">
                <span class="account-who">
                    <span class="visually-hidden">{t.account_signed_in_as()} " "</span>
                    <strong>{who.name}</strong>
                    " "
                    <span class="role-badge" data-role=who.role.as_str()>{role_name(t, who.role)}</span>
                </span>
                <a href="/settings">{t.nav_settings()}</a>
                <form method="post" action="/signout" class="sign-out">
                    <button type="submit" class="secondary">{t.account_sign_out()}</button>
                </form>
            </div>
        }
        .into_any()
    })
}
