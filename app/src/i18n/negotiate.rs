//! Which language a request gets: the one the person chose (the `headway_lang` cookie the
//! header's switch sets), else the best of the browser's `Accept-Language` that Headway speaks,
//! else English.

use super::Lang;

/// The cookie that remembers the chosen language.
pub const COOKIE: &str = "headway_lang";

/// The language for a request with this cookie value and `Accept-Language` header.
pub fn choose(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    cookie
        .and_then(Lang::from_tag)
        .or_else(|| accept_language.and_then(best))
        .unwrap_or_default()
}

/// The language of a request being served.
#[cfg(feature = "ssr")]
pub fn of_request(headers: &axum::http::HeaderMap) -> Lang {
    let cookie = crate::server_fns::cookies::find(headers, COOKIE);
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    choose(cookie.as_deref(), accept)
}

/// The language Headway speaks that the browser prefers most, by RFC 4647's lookup: each range
/// of the header in order of its `q`, shortened from the end (`zh-Hans-CN`, `zh-Hans`, `zh`)
/// until a language serves it. A language's `-accept-not` stops the shortening (`zh-TW` is
/// not served Simplified Chinese for its `zh`).
pub fn best(header: &str) -> Option<Lang> {
    let mut ranges: Vec<(&str, f32)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!range.is_empty() && q > 0.0).then_some((range, q))
        })
        .collect();
    // Stable: ranges of equal weight keep the header's order.
    ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranges.into_iter().find_map(|(range, _)| lookup(range))
}

fn lookup(range: &str) -> Option<Lang> {
    let listed =
        |list: &str, tag: &str| list.split_whitespace().any(|t| t.eq_ignore_ascii_case(tag));
    let mut tag = range;
    loop {
        for lang in Lang::ALL {
            let meta = lang.meta();
            if listed(meta.accept_not, tag) {
                return None;
            }
            if lang.tag().eq_ignore_ascii_case(tag) || listed(meta.accept, tag) {
                return Some(lang);
            }
        }
        tag = tag.rsplit_once('-')?.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preferences_are_followed_in_order_of_weight() {
        assert_eq!(best("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(best("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        // Languages no catalog can be (Klingon, and a tag for local use): a language added
        // to app/locales/ changes none of these.
        assert_eq!(best("tlh-US, zh;q=0.5, en;q=0.4"), Some(Lang::ZhCn));
        assert_eq!(best("en;q=0.2, zh-Hans-CN;q=0.7"), Some(Lang::ZhCn));
        assert_eq!(best("zh-SG"), Some(Lang::ZhCn));
        assert_eq!(best("tlh, qaa"), None);
        assert_eq!(best("*"), None);
        assert_eq!(best(""), None);
        // A weight of 0 means "not this one".
        assert_eq!(best("zh-CN;q=0, en"), Some(Lang::En));
    }

    #[test]
    fn traditional_chinese_is_not_served_simplified_chinese() {
        assert_eq!(best("zh-TW"), None);
        assert_eq!(best("zh-Hant-HK, en;q=0.5"), Some(Lang::En));
    }

    #[test]
    fn a_chosen_language_wins_over_the_browsers_and_english_is_the_rest() {
        assert_eq!(choose(Some("zh-CN"), Some("en")), Lang::ZhCn);
        assert_eq!(choose(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(choose(Some("klingon"), Some("zh-CN")), Lang::ZhCn);
        assert_eq!(choose(None, None), Lang::En);
        assert_eq!(choose(None, Some("tlh")), Lang::En);
    }
}
