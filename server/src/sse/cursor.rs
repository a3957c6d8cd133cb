//! The client's cursor, the id of the last event it has: `Last-Event-ID` (the header first,
//! then `?last_event_id=` where a header cannot be set), or a long poll's `?after=`.

use axum::http::HeaderMap;
use model::AppError;

/// `Last-Event-ID` (header first, then the query's value): absent, or a non-negative integer.
pub fn requested_cursor(
    headers: &HeaderMap,
    query_value: Option<&str>,
) -> Result<Option<i64>, AppError> {
    let raw = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().map_err(|_| bad_cursor("(not text)"))?),
        None => query_value,
    };
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| bad_cursor(s)),
    }
}

fn bad_cursor(got: &str) -> AppError {
    let shown: String = got.chars().take(40).collect();
    AppError::bad_request(format!(
        "Last-Event-ID must be a non-negative whole number (an event id), got {shown:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cursor_comes_from_header_then_query() {
        let mut h = HeaderMap::new();
        assert_eq!(requested_cursor(&h, None).unwrap(), None);
        assert_eq!(requested_cursor(&h, Some("12")).unwrap(), Some(12));
        h.insert("last-event-id", HeaderValue::from_static(" 7 "));
        assert_eq!(requested_cursor(&h, Some("12")).unwrap(), Some(7));
    }

    #[test]
    fn malformed_cursors_are_refused_with_a_message() {
        let h = HeaderMap::new();
        for bad in ["abc", "-1", "1.5", "99999999999999999999"] {
            let err = requested_cursor(&h, Some(bad)).unwrap_err();
            assert!(
                err.message.contains("Last-Event-ID"),
                "{bad}: {}",
                err.message
            );
        }
    }
}
