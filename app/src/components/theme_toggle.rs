//! The theme switch: system, light, dark. A plain form post (it works without JavaScript); with
//! JavaScript the page switches at once without reloading.

use crate::api::SetTheme;
use crate::theme::Theme;
use leptos::prelude::*;

#[island]
pub fn ThemeToggle(theme: Theme) -> impl IntoView {
    let current = RwSignal::new(theme);
    let action = ServerAction::<SetTheme>::new();
    Effect::new(move || {
        if let Some(Ok(chosen)) = action.value().get() {
            let chosen = Theme::parse(&chosen).unwrap_or_default();
            current.set(chosen);
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("data-theme", chosen.as_str());
            }
        }
    });
    view! {
        <ActionForm action attr:class="theme-toggle">
            <input type="hidden" name="theme" value=move || current.get().next().as_str()/>
            <button
                type="submit"
                class="secondary"
                title="Switch the colour theme"
                aria-label=move || format!("Theme: {}. Switch to {}", current.get().as_str(), current.get().next().as_str())
            >
                <span aria-hidden="true">{move || match current.get() { Theme::System => "◐", Theme::Light => "☀", Theme::Dark => "☾" }}</span>
                " " {move || current.get().as_str()}
            </button>
        </ActionForm>
    }
}
