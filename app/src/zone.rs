//! The time zone a page shows times in: the reader's.
//!
//! The page's script writes the browser's zone into a cookie (`headway_tz`), so that the server
//! renders the next pages in it; the first page it meets in another zone it puts in the
//! browser's zone itself, once hydrated (see [`adopt_browser_zone`]). A zone chosen in the
//! settings (`headway_tz_chosen`) is kept as it is, with or without JavaScript. A browser that
//! has told nothing reads UTC, and the pages say so.
//!
//! The offset of a zone at an instant comes from the time zone database built into the server
//! (jiff's) and from the browser's own (`Intl.DateTimeFormat`) in the browser, so that an
//! island renders in the browser what the server rendered.

use serde::{Deserialize, Serialize};

/// The cookie that holds the zone pages are rendered in.
pub const COOKIE: &str = "headway_tz";
/// Set (to `1`) when the zone was chosen in the settings rather than read from the browser.
pub const CHOSEN_COOKIE: &str = "headway_tz_chosen";

/// A time zone: an IANA name (`Europe/Paris`), or `UTC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    /// The reader chose it in the settings: the browser's zone does not replace it.
    #[serde(default)]
    pub chosen: bool,
    /// Nobody said which zone: UTC, and the pages say so.
    #[serde(default)]
    pub unknown: bool,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone {
            name: "UTC".into(),
            chosen: false,
            unknown: true,
        }
    }
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::default()
    }

    /// The zone of a name the server knows; `None` for any other.
    pub fn named(name: &str, chosen: bool) -> Option<Zone> {
        let name = name.trim();
        (name.len() <= 64 && known(name)).then(|| Zone {
            name: name.to_string(),
            chosen,
            unknown: false,
        })
    }

    /// How far its clocks are from UTC at `ms` (Unix milliseconds), in seconds.
    pub fn offset_secs(&self, ms: i64) -> i64 {
        if self.name == "UTC" {
            return 0;
        }
        offset_secs(&self.name, ms)
    }

    /// `+08:00`, `-05:00`, `+00:00` at `ms`.
    pub fn offset_text(&self, ms: i64) -> String {
        let s = self.offset_secs(ms);
        let sign = if s < 0 { '-' } else { '+' };
        let m = s.unsigned_abs() / 60;
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// Whether the time zone database knows `name`.
fn known(name: &str) -> bool {
    if name == "UTC" {
        return true;
    }
    #[cfg(feature = "ssr")]
    {
        jiff::tz::TimeZone::get(name).is_ok()
    }
    #[cfg(target_arch = "wasm32")]
    {
        browser::formatter(name).is_some()
    }
    #[cfg(not(any(feature = "ssr", target_arch = "wasm32")))]
    {
        false
    }
}

#[cfg(feature = "ssr")]
fn offset_secs(name: &str, ms: i64) -> i64 {
    let (Ok(tz), Ok(at)) = (
        jiff::tz::TimeZone::get(name),
        jiff::Timestamp::from_millisecond(ms),
    ) else {
        return 0;
    };
    i64::from(tz.to_offset(at).seconds())
}

#[cfg(target_arch = "wasm32")]
fn offset_secs(name: &str, ms: i64) -> i64 {
    browser::offset_secs(name, ms).unwrap_or(0)
}

#[cfg(not(any(feature = "ssr", target_arch = "wasm32")))]
fn offset_secs(_: &str, _: i64) -> i64 {
    0
}

/// The zone of the page being rendered: on the server, the request's cookies; in the browser,
/// the zone the server rendered the page in (its `<html data-tz>`), so that islands hydrate
/// with the same times.
pub fn page_zone() -> Zone {
    #[cfg(target_arch = "wasm32")]
    {
        browser::page_zone()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use leptos::prelude::use_context;
        if let Some(zone) = use_context::<Zone>() {
            return zone;
        }
        #[cfg(feature = "ssr")]
        if let Some(parts) = use_context::<axum::http::request::Parts>() {
            return of_request(&parts.headers);
        }
        Zone::utc()
    }
}

/// The zone a request's cookies name, or UTC.
#[cfg(feature = "ssr")]
pub fn of_request(headers: &axum::http::HeaderMap) -> Zone {
    use crate::server_fns::cookies::find;
    let chosen = find(headers, CHOSEN_COOKIE).as_deref() == Some("1");
    find(headers, COOKIE)
        .and_then(|name| Zone::named(&name, chosen))
        .unwrap_or_default()
}

/// The zone views show times in: the page's until the view is live in the browser, then the
/// browser's own, unless the reader chose one. A page rendered before the server knew the
/// browser's zone (a first visit) moves to it once hydrated.
pub fn view_zone() -> leptos::prelude::Signal<Zone> {
    use leptos::prelude::*;
    let rendered = page_zone();
    #[cfg(target_arch = "wasm32")]
    {
        let live = RwSignal::new(false);
        Effect::new(move || live.set(true));
        let current = browser::current();
        Signal::derive(move || match live.get() {
            true => current.get(),
            false => rendered.clone(),
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Signal::stored(rendered)
    }
}

/// Once the page is live: when it was rendered in another zone than the browser's (and the
/// reader chose none), remembers the browser's zone for the next pages, moves the islands' times
/// to it and returns it, for the rest of the page's times (`format::retime_page`).
pub fn adopt_browser_zone() -> Option<Zone> {
    #[cfg(target_arch = "wasm32")]
    return browser::adopt();
    #[cfg(not(target_arch = "wasm32"))]
    None
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::Zone;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::JsValue;

    thread_local! {
        static FORMATTERS: RefCell<HashMap<String, Option<js_sys::Intl::DateTimeFormat>>> =
            RefCell::new(HashMap::new());
        static CURRENT: ArcRwSignal<Zone> = ArcRwSignal::new(page_zone());
    }

    /// The zone the page was rendered in.
    pub fn page_zone() -> Zone {
        let root = document().document_element();
        let attr = |name: &str| root.as_ref().and_then(|r| r.get_attribute(name));
        match attr("data-tz") {
            Some(name) if attr("data-tz-unknown").is_none() => Zone {
                name,
                chosen: attr("data-tz-chosen").is_some(),
                unknown: false,
            },
            _ => Zone::utc(),
        }
    }

    /// The zone views show now.
    pub fn current() -> ArcRwSignal<Zone> {
        CURRENT.with(Clone::clone)
    }

    /// The browser's IANA zone.
    pub fn browser_zone() -> Option<String> {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
    }

    pub fn adopt() -> Option<Zone> {
        let page = page_zone();
        if page.chosen {
            return None;
        }
        let name = browser_zone()?;
        crate::server_fns::cookies::write(super::COOKIE, &name);
        if page.name == name && !page.unknown {
            return None;
        }
        let zone = Zone {
            name,
            chosen: false,
            unknown: false,
        };
        current().set(zone.clone());
        Some(zone)
    }

    /// A formatter that names `zone`'s offset from UTC (`GMT+05:30`), cached per zone; `None`
    /// for a zone the browser does not know.
    pub fn formatter(zone: &str) -> Option<js_sys::Intl::DateTimeFormat> {
        FORMATTERS.with(|f| {
            f.borrow_mut()
                .entry(zone.to_string())
                .or_insert_with(|| {
                    let options = js_sys::Object::new();
                    let set = |k: &str, v: &str| {
                        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
                    };
                    set("timeZone", zone);
                    set("timeZoneName", "longOffset");
                    let locales = js_sys::Array::of1(&"en-US".into());
                    // An unknown zone throws a RangeError.
                    let made = js_sys::Reflect::construct(
                        &js_sys::Intl::DateTimeFormat::new(&locales, &js_sys::Object::new())
                            .constructor(),
                        &js_sys::Array::of2(&locales, &options),
                    );
                    made.ok().map(wasm_bindgen::JsCast::unchecked_into)
                })
                .clone()
        })
    }

    /// The offset of `zone` at `ms`, as the browser's time zone database names it.
    pub fn offset_secs(zone: &str, ms: i64) -> Option<i64> {
        let parts =
            formatter(zone)?.format_to_parts(&js_sys::Date::new(&JsValue::from_f64(ms as f64)));
        let field = |part: &JsValue, name: &str| {
            js_sys::Reflect::get(part, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let name = parts
            .iter()
            .find(|p| field(p, "type").as_deref() == Some("timeZoneName"))?;
        super::gmt_offset(&field(&name, "value")?)
    }
}

/// The seconds of an offset as `Intl.DateTimeFormat` names it in English (`longOffset`):
/// `GMT+05:30`, `GMT-08:00`, `GMT+00:09:21`, and `GMT` for none.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn gmt_offset(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("GMT")?;
    if rest.is_empty() {
        return Some(0);
    }
    let sign = match rest.as_bytes()[0] {
        b'+' => 1,
        b'-' | 0xE2 => -1,
        _ => return None,
    };
    // A minus may be written as U+2212.
    let digits = rest.trim_start_matches(['+', '-', '\u{2212}']);
    let mut secs = 0;
    let mut unit = 3600;
    for field in digits.split(':') {
        if unit == 0 || field.is_empty() || field.len() > 2 {
            return None;
        }
        secs += field.parse::<i64>().ok()? * unit;
        unit /= 60;
    }
    Some(sign * secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_the_zone_of_a_reader_who_said_nothing_and_it_is_said() {
        let z = Zone::default();
        assert_eq!((z.name.as_str(), z.unknown, z.chosen), ("UTC", true, false));
        assert_eq!(z.offset_text(0), "+00:00");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_named_zone_has_its_offset_at_each_instant() {
        let paris = Zone::named("Europe/Paris", false).unwrap();
        // 2026-01-15 12:00 UTC: winter time; 2026-07-15 12:00 UTC: summer time.
        assert_eq!(paris.offset_secs(1_768_478_400_000), 3600);
        assert_eq!(paris.offset_secs(1_784_116_800_000), 7200);
        assert_eq!(paris.offset_text(1_784_116_800_000), "+02:00");
        let ny = Zone::named("America/New_York", true).unwrap();
        assert_eq!(ny.offset_text(1_768_478_400_000), "-05:00");
        assert!(ny.chosen && !ny.unknown);
        assert_eq!(Zone::named("Mars/Olympus", false), None);
        assert_eq!(Zone::named("../../etc/passwd", false), None);
    }

    #[test]
    fn the_browsers_names_of_offsets_are_read_to_the_second() {
        assert_eq!(gmt_offset("GMT"), Some(0));
        assert_eq!(gmt_offset("GMT+05:30"), Some(19_800));
        assert_eq!(gmt_offset("GMT-08:00"), Some(-28_800));
        assert_eq!(gmt_offset("GMT\u{2212}03:00"), Some(-10_800));
        assert_eq!(gmt_offset("GMT+00:09:21"), Some(561));
        assert_eq!(gmt_offset("GMT+14"), Some(50_400));
        for bad in [
            "",
            "UTC",
            "GMT+",
            "GMT5",
            "GMT+05:30:00:00",
            "GMT+123:00",
            "GMT+a",
        ] {
            assert_eq!(gmt_offset(bad), None, "{bad}");
        }
    }
}
