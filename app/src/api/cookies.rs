//! The two preferences a browser keeps in cookies rather than in the session, so that they work
//! the same with and without JavaScript: the colour theme and the notices it dismissed.

pub const THEME: &str = "headway_theme";
pub const DISMISSED: &str = "headway_dismissed";
/// Dismissed notice ids remembered; older notices are long withdrawn.
pub const MAX_DISMISSED: usize = 20;

/// The value of cookie `name` in a `Cookie:` header value.
pub fn find<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').map(str::trim).find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// `12.15.20`: cookie-safe without quoting.
pub fn encode_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(".")
}

pub fn decode_ids(value: &str) -> Vec<i64> {
    value.split('.').filter_map(|s| s.parse().ok()).take(MAX_DISMISSED * 2).collect()
}

#[cfg(feature = "ssr")]
fn cookie_header(headers: &axum::http::HeaderMap) -> String {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The notices this browser dismissed.
#[cfg(feature = "ssr")]
pub fn dismissed(headers: &axum::http::HeaderMap) -> Vec<i64> {
    find(&cookie_header(headers), DISMISSED).map(decode_ids).unwrap_or_default()
}

/// The theme of the request being rendered.
#[cfg(feature = "ssr")]
pub fn theme() -> crate::model::Theme {
    use crate::model::Theme;
    use leptos::prelude::use_context;
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| find(&cookie_header(&parts.headers), THEME).and_then(Theme::parse))
        .unwrap_or_default()
}

/// Sets a cookie on the response being built, for a year.
#[cfg(feature = "ssr")]
pub fn set(name: &str, value: &str) {
    use leptos::prelude::use_context;
    let cookie = format!("{name}={value}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let (Some(options), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(&cookie))
    {
        options.append_header(axum::http::header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; headway_theme=dark; headway_themes=x";
        assert_eq!(find(h, THEME), Some("dark"));
        assert_eq!(find(h, "b"), None);
        assert_eq!(decode_ids(&encode_ids(&[3, 14, 15])), [3, 14, 15]);
        assert_eq!(decode_ids("3.x.7"), [3, 7]);
    }
}
