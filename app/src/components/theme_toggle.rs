//! The theme switch: system, light, dark. A plain form post to `set_theme` (it works without
//! JavaScript); with JavaScript the page switches at once and writes the same cookie itself,
//! without a request. The island changes the form it rendered itself (the theme it posts, the
//! button's words) rather than through signals: the same behaviour for a fraction of the code.

use crate::i18n::Text;
use crate::server_fns::SetTheme;
use crate::theme::Theme;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[island]
pub fn ThemeToggle(theme: Theme) -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <form method="post" action=SetTheme::url() class="theme-toggle" on:submit=move |ev| switch(t, ev)>
            <input type="hidden" name="theme" value=theme.next().as_str()/>
            <button type="submit" class="secondary" title=t.theme_switch_title() aria-label=label(t, theme)>
                <span aria-hidden="true">{icon(theme)}</span>
                " " {name(t, theme)}
            </button>
        </form>
    }
}

fn name(t: Text, theme: Theme) -> &'static str {
    match theme {
        Theme::System => t.theme_system(),
        Theme::Light => t.theme_light(),
        Theme::Dark => t.theme_dark(),
    }
}

fn icon(theme: Theme) -> &'static str {
    match theme {
        Theme::System => "◐",
        Theme::Light => "☀",
        Theme::Dark => "☾",
    }
}

/// What the button says to a screen reader: the theme now, and the one it switches to.
fn label(t: Text, theme: Theme) -> String {
    t.theme_switch_label(name(t, theme), name(t, theme.next()))
}

/// Switches to the theme the form posts, and makes the form post the one after it.
fn switch(t: Text, ev: leptos::ev::SubmitEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(form) = ev
            .current_target()
            .and_then(|f| f.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let (Ok(Some(input)), Ok(Some(button))) =
            (form.query_selector("input"), form.query_selector("button"))
        else {
            return;
        };
        ev.prevent_default();
        let chosen = input
            .get_attribute("value")
            .and_then(|v| Theme::parse(&v))
            .unwrap_or_default();
        apply(chosen);
        let _ = input.set_attribute("value", chosen.next().as_str());
        let _ = button.set_attribute("aria-label", &label(t, chosen));
        button.set_inner_html(&format!(
            "<span aria-hidden=\"true\">{}</span> {}",
            icon(chosen),
            super::escape_title(name(t, chosen))
        ));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (t, ev);
}

/// Shows the page in `theme` and remembers it in the cookie the server reads.
#[cfg(feature = "hydrate")]
fn apply(theme: Theme) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    crate::server_fns::cookies::write(crate::server_fns::cookies::THEME, theme.as_str());
}
