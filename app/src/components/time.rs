//! A time as every page shows it: `<time>` with its instant, in the reader's language and time
//! zone, with the exact time in its title when it is shown relative ("3 min ago"). In an
//! island it follows the zone once the page is live; elsewhere the page's script rewrites it
//! when a first visit moves the page to the browser's zone (`format::retime_page`).

use crate::format::{self, Style};
use crate::i18n::t;
use crate::zone::view_zone;
use leptos::prelude::*;

/// The instant `at` (Unix ms) in `style`; for a relative time, `clock` (a view's clock, which
/// ticks) or else `now`.
#[component]
pub fn Time(
    at: i64,
    #[prop(optional)] style: Style,
    #[prop(optional)] now: Option<i64>,
    #[prop(optional, into)] clock: Option<Signal<i64>>,
) -> impl IntoView {
    let t = t();
    let zone = view_zone();
    let now = now.unwrap_or_else(now_ms);
    let now = move || clock.map_or(now, |c| c.get());
    let text = move || format::when(t, &zone.get(), style, at, now());
    let title = move || {
        (style != Style::Full).then(|| format::when(t, &zone.get(), Style::Full, at, now()))
    };
    view! {
        <time datetime=format::iso(at) data-at=at data-style=style.as_str() title=title>{text}</time>
    }
}

/// Which zone the page's times are in, said once: "Times in Asia/Shanghai (UTC+08:00)", or, when
/// the reader's zone is not known (no JavaScript), that they are in UTC and where to choose one.
#[component]
pub fn ZoneNote(#[prop(optional)] at: Option<i64>) -> impl IntoView {
    let t = t();
    let zone = view_zone();
    let at = at.unwrap_or_else(now_ms);
    let text = move || {
        let z = zone.get();
        match z.unknown {
            true => t.zone_note_utc().to_string(),
            false => t.zone_note(z.name.clone(), z.offset_text(at)),
        }
    };
    let unknown = move || zone.with(|z| z.unknown);
    view! {
        <p class="zone-note" data-zone-note="">
            {text}
            <span hidden=move || !unknown()>" " <a href="/settings#time-zone">{t.zone_note_choose()}</a></span>
        </p>
    }
}

/// The time now, Unix ms.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}
