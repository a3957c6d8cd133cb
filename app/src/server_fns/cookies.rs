//! The preferences a browser keeps in cookies rather than in the session, so that they work the
//! same with and without JavaScript: the colour theme, the notices it dismissed, the language
//! (`i18n::negotiate::COOKIE`) and the time zone (`zone::COOKIE`).

pub const THEME: &str = "headway_theme";
pub const DISMISSED: &str = "headway_dismissed";
/// Dismissed notice ids remembered; older notices are long withdrawn.
pub const MAX_DISMISSED: usize = 20;

/// `12.15.20`: cookie-safe without quoting.
pub fn encode_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(".")
}

pub fn decode_ids(value: &str) -> Vec<i64> {
    value
        .split('.')
        .filter_map(|s| s.parse().ok())
        .take(MAX_DISMISSED * 2)
        .collect()
}

/// The value of cookie `name` among a request's `Cookie` headers.
#[cfg(feature = "ssr")]
pub fn find(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// The notices this browser dismissed.
#[cfg(feature = "ssr")]
pub fn dismissed(headers: &axum::http::HeaderMap) -> Vec<i64> {
    find(headers, DISMISSED)
        .map(|v| decode_ids(&v))
        .unwrap_or_default()
}

/// The theme of the request being rendered.
#[cfg(feature = "ssr")]
pub fn theme() -> crate::theme::Theme {
    use crate::theme::Theme;
    use leptos::prelude::use_context;
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| find(&parts.headers, THEME).and_then(|t| Theme::parse(&t)))
        .unwrap_or_default()
}

/// A preference cookie, kept for a year: the `Set-Cookie` value the server sends, and what the
/// browser writes to `document.cookie` when it changes the preference itself. `value` must be
/// cookie-safe (a theme's name, [`encode_ids`]).
pub fn line(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; Max-Age=31536000; SameSite=Lax")
}

/// The notices dismissed so far with `id` added, the latest [`MAX_DISMISSED`] kept (old
/// notices are long withdrawn): the value of the [`DISMISSED`] cookie.
pub fn with_dismissed(mut ids: Vec<i64>, id: i64) -> String {
    if !ids.contains(&id) {
        ids.push(id);
    }
    let keep = ids.len().saturating_sub(MAX_DISMISSED);
    ids.drain(..keep);
    encode_ids(&ids)
}

/// The value of cookie `name` as the page sees it.
#[cfg(feature = "hydrate")]
pub fn read(name: &str) -> Option<String> {
    let all = js_sys::Reflect::get(&leptos::prelude::document(), &"cookie".into())
        .ok()?
        .as_string()?;
    all.split("; ")
        .find_map(|c| c.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_string)
}

/// Sets cookie `name` from the page, as the server would ([`line`]).
#[cfg(feature = "hydrate")]
pub fn write(name: &str, value: &str) {
    let _ = js_sys::Reflect::set(
        &leptos::prelude::document(),
        &"cookie".into(),
        &line(name, value).into(),
    );
}

/// Removes cookie `name` from the browser, with the response being built.
#[cfg(feature = "ssr")]
pub fn clear(name: &str) {
    use leptos::prelude::use_context;
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0; SameSite=Lax")),
    ) {
        options.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// Sets a cookie on the response being built, for a year.
#[cfg(feature = "ssr")]
pub fn set(name: &str, value: &str) {
    use leptos::prelude::use_context;
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&line(name, value)),
    ) {
        options.append_header(axum::http::header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dismissed_notice_is_added_once_and_only_the_latest_are_kept() {
        assert_eq!(with_dismissed(vec![3, 14], 15), "3.14.15");
        assert_eq!(with_dismissed(vec![3, 14], 14), "3.14");
        let many: Vec<i64> = (1..=MAX_DISMISSED as i64).collect();
        let kept = decode_ids(&with_dismissed(many, 100));
        assert_eq!(kept.len(), MAX_DISMISSED);
        assert_eq!((kept[0], *kept.last().unwrap()), (2, 100));
    }

    #[test]
    fn dismissed_ids_round_trip_and_junk_is_skipped() {
        assert_eq!(decode_ids(&encode_ids(&[3, 14, 15])), [3, 14, 15]);
        assert_eq!(decode_ids("3.x.7"), [3, 7]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_preference_cookie_lasts_a_year_on_every_path_and_same_site_only() {
        let c = cookie::Cookie::parse(line(THEME, "dark")).unwrap();
        assert_eq!((c.name(), c.value()), (THEME, "dark"));
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.max_age(), Some(cookie::time::Duration::days(365)));
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax));
        assert_eq!(
            c.http_only(),
            None,
            "the theme switch writes it from the page"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn cookies_are_found_by_exact_name_across_headers() {
        let mut h = axum::http::HeaderMap::new();
        h.append(
            axum::http::header::COOKIE,
            "a=1; headway_themes=x".parse().unwrap(),
        );
        h.append(
            axum::http::header::COOKIE,
            "headway_theme=dark".parse().unwrap(),
        );
        assert_eq!(find(&h, THEME).as_deref(), Some("dark"));
        assert_eq!(find(&h, "b"), None);
    }
}
