//! The header's language switch: a button for each other language Headway speaks, each named in
//! its own language. A plain form post to `set_language`, which remembers the choice in a
//! cookie (with or without JavaScript) and comes back to the page, now in that language.

use crate::i18n::{t, Lang, Text};
use crate::server_fns::SetLanguage;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let t = t();
    let buttons = Lang::ALL
        .into_iter()
        .filter(|l| *l != t.lang)
        .map(|l| {
            view! {
                <button
                    type="submit"
                    class="secondary"
                    name="lang"
                    value=l.tag()
                    lang=l.tag()
                    title=Text::of(l).lang_switch_to(l.name())
                >
                    {l.name()}
                </button>
            }
        })
        .collect_view();
    view! {
        <form method="post" action=SetLanguage::url() class="lang-switch" aria-label=t.lang_switch(t.lang.name())>
            {buttons}
        </form>
    }
}
