//! The theme switch: system, light, dark. A plain form post to `set_theme` (it works without
//! JavaScript); with JavaScript the page switches at once and writes the same cookie itself,
//! without a request.

use crate::server_fns::SetTheme;
use crate::theme::Theme;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[island]
pub fn ThemeToggle(theme: Theme) -> impl IntoView {
    let current = RwSignal::new(theme);
    let t = crate::i18n::t();
    let name = move |theme: Theme| match theme {
        Theme::System => t.theme_system(),
        Theme::Light => t.theme_light(),
        Theme::Dark => t.theme_dark(),
    };
    let switch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = current.get_untracked().next();
        current.set(chosen);
        apply(chosen);
    };
    view! {
        <form method="post" action=SetTheme::url() class="theme-toggle" on:submit=switch>
            <input type="hidden" name="theme" value=move || current.get().next().as_str()/>
            <button
                type="submit"
                class="secondary"
                title=t.theme_switch_title()
                aria-label=move || t.theme_switch_label(name(current.get()), name(current.get().next()))
            >
                <span aria-hidden="true">{move || match current.get() { Theme::System => "◐", Theme::Light => "☀", Theme::Dark => "☾" }}</span>
                " " {move || name(current.get())}
            </button>
        </form>
    }
}

/// Shows the page in `theme` and remembers it in the cookie the server reads.
fn apply(theme: Theme) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    #[cfg(feature = "hydrate")]
    crate::server_fns::cookies::write(crate::server_fns::cookies::THEME, theme.as_str());
}
