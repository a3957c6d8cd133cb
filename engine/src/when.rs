//! When a job may start: the `run_after` of a delayed start, from the ways people and scripts
//! say a time (an RFC 3339 instant or Unix milliseconds in the API; a wall-clock time and a time
//! zone in the start form), and the bounds every such time is held to.

use model::words::when as words;
use model::{AppError, Words};

/// How far ahead a start may be put: a year and a day.
pub const MAX_AHEAD_MS: i64 = 366 * 24 * 3_600_000;

/// The field a refused time is reported under.
pub const FIELD: &str = "run_after";

/// `run_after` as the API takes it: an RFC 3339 instant with its offset
/// (`2026-11-24T14:00:00+01:00`, `…Z`) or Unix milliseconds.
pub fn from_json(value: &serde_json::Value) -> Result<i64, AppError> {
    match value {
        // A whole number may be written `5.0`, as JavaScript and Python's `float` write it.
        serde_json::Value::Number(n) => whole(n).ok_or_else(|| refused(words::run_after_number())),
        serde_json::Value::String(text) => instant(text),
        _ => Err(refused(words::run_after_type())),
    }
}

/// A number's whole value, if it has one within `i64`: `5` or `5.0`.
fn whole(n: &serde_json::Number) -> Option<i64> {
    // 2⁶³ is the first float past the range.
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| {
                f.fract() == 0.0
                    && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(f)
            })
            .map(|f| f as i64)
    })
}

/// An RFC 3339 instant, in Unix milliseconds.
pub fn instant(text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| refused(words::not_an_instant(&shorten(text))))
}

/// A wall-clock time (`2026-11-24T14:00`, seconds optional, as a `datetime-local` field sends
/// it) in the IANA time zone `zone`, in Unix milliseconds. A time that a daylight-saving change
/// skips is moved forward by the length of the gap (02:30 on a night the clocks go from 02:00 to
/// 03:00 is 03:30); a time it repeats is its first occurrence.
pub fn wall_clock(text: &str, zone: &str) -> Result<i64, AppError> {
    let civil: jiff::civil::DateTime = text
        .trim()
        .parse()
        .map_err(|_| refused(words::not_a_wall_clock(&shorten(text))))?;
    let tz = time_zone(zone)?;
    tz.to_ambiguous_zoned(civil)
        .compatible()
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|_| refused(words::no_such_local_time(text, zone)))
}

/// The IANA time zone `name` (`Europe/Paris`, `UTC`).
pub fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, AppError> {
    jiff::tz::TimeZone::get(name.trim())
        .map_err(|_| AppError::invalid_words("timezone", words::not_a_zone(&shorten(name))))
}

/// `at` as the job's `run_after`: `None` for a time already past (the job starts now), refused
/// beyond [`MAX_AHEAD_MS`].
pub fn checked(at: i64, now: i64) -> Result<Option<i64>, AppError> {
    if at <= now {
        return Ok(None);
    }
    if at - now > MAX_AHEAD_MS {
        return Err(refused(words::too_far_ahead()));
    }
    Ok(Some(at))
}

fn refused(words: Words) -> AppError {
    AppError::invalid_words(FIELD, words)
}

/// A value quoted back in a message, cut at 40 characters.
fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn said(e: AppError) -> String {
        e.field(FIELD)
            .or(e.field("timezone"))
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn the_api_takes_rfc_3339_with_an_offset_or_unix_milliseconds() {
        assert_eq!(
            from_json(&json!("2026-11-24T14:00:00Z")).unwrap(),
            1_795_528_800_000
        );
        assert_eq!(
            from_json(&json!("2026-11-24T15:00:00+01:00")).unwrap(),
            1_795_528_800_000
        );
        assert_eq!(
            from_json(&json!(1_795_528_800_000i64)).unwrap(),
            1_795_528_800_000
        );
        assert!(said(from_json(&json!("2026-11-24T14:00:00")).unwrap_err()).contains("offset"));
        assert!(said(from_json(&json!("tomorrow")).unwrap_err()).contains("\"tomorrow\""));
        assert!(said(from_json(&json!(1.5)).unwrap_err()).contains("whole number"));
        // A whole number written as a float is that number; one past `i64` is refused.
        assert_eq!(
            from_json(&json!(1_795_528_800_000.0)).unwrap(),
            1_795_528_800_000
        );
        assert!(said(from_json(&json!(1e19)).unwrap_err()).contains("whole number"));
        assert!(said(from_json(&json!(true)).unwrap_err()).contains("RFC 3339"));
    }

    #[test]
    fn a_wall_clock_time_is_read_in_its_zone() {
        assert_eq!(
            wall_clock("2026-11-24T15:00", "Europe/Paris").unwrap(),
            1_795_528_800_000
        );
        assert_eq!(
            wall_clock("2026-11-24T14:00:00", "UTC").unwrap(),
            1_795_528_800_000
        );
        assert!(said(wall_clock("24/11/2026", "UTC").unwrap_err()).contains("2026-11-24T14:00"));
        assert!(
            said(wall_clock("2026-11-24T14:00", "Mars/Olympus").unwrap_err())
                .contains("Mars/Olympus")
        );
    }

    #[test]
    fn a_skipped_local_time_moves_forward_and_a_repeated_one_is_its_first() {
        // Paris, 2026-03-29: 02:00 becomes 03:00. 02:30 does not exist; it is read as 03:30
        // CEST (01:30 UTC).
        assert_eq!(
            wall_clock("2026-03-29T02:30", "Europe/Paris").unwrap(),
            wall_clock("2026-03-29T01:30", "UTC").unwrap()
        );
        // Paris, 2026-10-25: 03:00 becomes 02:00. 02:30 happens twice; the first is CEST
        // (00:30 UTC).
        assert_eq!(
            wall_clock("2026-10-25T02:30", "Europe/Paris").unwrap(),
            wall_clock("2026-10-25T00:30", "UTC").unwrap()
        );
    }

    #[test]
    fn past_times_start_now_and_times_beyond_a_year_and_a_day_are_refused() {
        assert_eq!(checked(1_000, 2_000).unwrap(), None);
        assert_eq!(checked(2_000, 2_000).unwrap(), None);
        assert_eq!(checked(3_000, 2_000).unwrap(), Some(3_000));
        assert_eq!(
            checked(2_000 + MAX_AHEAD_MS, 2_000).unwrap(),
            Some(2_000 + MAX_AHEAD_MS)
        );
        assert!(said(checked(2_001 + MAX_AHEAD_MS, 2_000).unwrap_err()).contains("a year"));
    }
}
