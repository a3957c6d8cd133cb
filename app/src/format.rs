//! How values are written for people, in their language and time zone. Pure functions, the
//! same on server and browser, so that server-rendered text and hydrated text agree.

use crate::i18n::Text;
use crate::zone::Zone;

/// How a time is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Date and time to the second: `Nov 25, 2026, 17:50:13`.
    #[default]
    Full,
    /// Date and time to the minute, without the year: `Nov 25, 17:50`.
    Short,
    /// The time of day: `17:50:13`.
    Clock,
    /// Hours and minutes: `17:50`.
    Minute,
    /// How long ago (or how soon): `3 min ago`, `in 2 h`; the exact time goes in a title.
    Ago,
}

impl Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Full => "full",
            Style::Short => "short",
            Style::Clock => "clock",
            Style::Minute => "minute",
            Style::Ago => "ago",
        }
    }

    pub fn parse(s: &str) -> Option<Style> {
        [
            Style::Full,
            Style::Short,
            Style::Clock,
            Style::Minute,
            Style::Ago,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The wall-clock time of `ms` in `zone`: (year, month, day, hour, minute, second).
pub fn civil(zone: &Zone, ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let local = ms.div_euclid(1000) + zone.offset_secs(ms);
    let (days, rem) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let rem = rem as u32;
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `at` as `style` asks, in `zone` and `t`'s language; `now` for relative times. A zone nobody
/// chose is named (`… UTC`) wherever the full time is shown.
pub fn when(t: Text, zone: &Zone, style: Style, at: i64, now: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(zone, at);
    let two = |n: u32| format!("{n:02}");
    let text = match style {
        Style::Full => t.date_time(mo, d, y.to_string(), two(h), two(mi), two(s)),
        Style::Short => t.date_time_short(mo, d, two(h), two(mi)),
        Style::Clock => t.time_clock(two(h), two(mi), two(s)),
        Style::Minute => t.time_minute(two(h), two(mi)),
        Style::Ago => return ago(t, at, now),
    };
    match zone.unknown && style != Style::Minute && style != Style::Clock {
        true => t.time_in_utc(text),
        false => text,
    }
}

/// `3 min ago`, `in 2 h`, `just now`; past a week, the date.
pub fn ago(t: Text, at: i64, now: i64) -> String {
    let secs = (now - at) / 1000;
    let n = secs.abs();
    let past = secs >= 0;
    match n {
        0..=9 => t.ago_now().to_string(),
        10..=59 => {
            if past {
                t.ago_seconds(n)
            } else {
                t.in_seconds(n)
            }
        }
        60..=3599 => {
            if past {
                t.ago_minutes(n / 60)
            } else {
                t.in_minutes(n / 60)
            }
        }
        3600..=86_399 => {
            if past {
                t.ago_hours(n / 3600)
            } else {
                t.in_hours(n / 3600)
            }
        }
        _ => {
            if past {
                t.ago_days(n / 86_400)
            } else {
                t.in_days(n / 86_400)
            }
        }
    }
}

/// A duration in `t`'s language: `850ms`, `42s`, `3m 07s`, `2h 05m`.
pub fn span(t: Text, ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return t.duration_ms(ms);
    }
    let s = ms / 1000;
    match s {
        0..=59 => t.duration_s(s),
        60..=3599 => t.duration_m_s(s / 60, format!("{:02}", s % 60)),
        _ => t.duration_h_m(s / 3600, format!("{:02}", s % 3600 / 60)),
    }
}

/// Shows every server-rendered time of the page (`<time data-at data-style>` outside the
/// islands, which follow the zone themselves) in `zone`.
#[cfg(target_arch = "wasm32")]
pub fn retime_page(zone: &Zone) {
    let t = crate::i18n::t();
    let now = js_sys::Date::now() as i64;
    let Ok(times) = leptos::prelude::document().query_selector_all("time[data-at]") else {
        return;
    };
    for i in 0..times.length() {
        let Some(el) = times
            .item(i)
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
        else {
            continue;
        };
        if !matches!(el.closest("leptos-island"), Ok(Some(_))) {
            retime(&el, t, zone, now);
        }
    }
    // The note that names the zone.
    let Ok(notes) = leptos::prelude::document().query_selector_all("[data-zone-note]") else {
        return;
    };
    for i in 0..notes.length() {
        let Some(el) = notes
            .item(i)
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
        else {
            continue;
        };
        if !matches!(el.closest("leptos-island"), Ok(Some(_))) {
            el.set_text_content(Some(&t.zone_note(zone.name.clone(), zone.offset_text(now))));
        }
    }
}

/// Writes a `<time data-at data-style>` again for `zone` at `now`: its text, and its exact
/// time in its title when it says it another way.
#[cfg(target_arch = "wasm32")]
pub fn retime(el: &web_sys::Element, t: Text, zone: &Zone, now: i64) {
    let at = el
        .get_attribute("data-at")
        .and_then(|a| a.parse::<i64>().ok());
    let style = el
        .get_attribute("data-style")
        .and_then(|s| Style::parse(&s))
        .unwrap_or_default();
    if let Some(at) = at {
        let text = when(t, zone, style, at, now);
        if el.text_content().as_deref() != Some(text.as_str()) {
            el.set_text_content(Some(&text));
        }
        if style != Style::Full {
            let _ = el.set_attribute("title", &when(t, zone, Style::Full, at, now));
        }
    }
}

/// `2026-11-21 12:03:04 UTC` from Unix milliseconds.
pub fn datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// ISO 8601 for `<time datetime=...>`.
pub fn iso(ms: i64) -> String {
    let s = datetime(ms);
    format!("{}T{}Z", &s[..10], &s[11..19])
}

/// `850ms`, `42s`, `3m 07s`, `2h 05m`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// An RFC 3339 time as written in its own zone, for people: `2026-11-25 02:00 (+01:00)`,
/// `2026-11-25 02:00:30 (UTC)`; as it came when it is not one.
pub fn rfc_3339_text(t: &str) -> String {
    if t.len() < 20 || !t.is_char_boundary(19) || t.as_bytes().get(10) != Some(&b'T') {
        return t.to_string();
    }
    let time = match &t[17..19] {
        "00" => &t[11..16],
        _ => &t[11..19],
    };
    let zone = match &t[19..] {
        "Z" | "+00:00" => "UTC",
        offset => offset,
    };
    format!("{} {time} ({zone})", &t[..10])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fire_time_reads_in_its_own_zone() {
        assert_eq!(
            rfc_3339_text("2026-11-25T02:00:00+01:00"),
            "2026-11-25 02:00 (+01:00)"
        );
        assert_eq!(
            rfc_3339_text("2026-11-25T02:00:30+00:00"),
            "2026-11-25 02:00:30 (UTC)"
        );
        assert_eq!(rfc_3339_text("soon"), "soon");
    }

    #[test]
    fn datetimes() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(datetime(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(datetime(1_795_262_584_999), "2026-11-21 12:03:04 UTC");
        assert_eq!(iso(1_795_262_584_999), "2026-11-21T12:03:04Z");
    }

    #[test]
    fn times_are_written_in_the_readers_language_and_zone() {
        use crate::i18n::{Lang, Text};
        let (en, zh) = (Text::of(Lang::En), Text::of(Lang::ZhCn));
        let at = 1_795_262_584_999; // 2026-11-21 12:03:04.999 UTC
        let utc = Zone::utc();
        assert_eq!(
            when(en, &utc, Style::Full, at, at),
            "Nov 21, 2026, 12:03:04 UTC"
        );
        assert_eq!(
            when(zh, &utc, Style::Full, at, at),
            "2026年11月21日 12:03:04（UTC）"
        );
        assert_eq!(when(en, &utc, Style::Clock, at, at), "12:03:04");
        assert_eq!(when(zh, &utc, Style::Minute, at, at), "12:03");
        #[cfg(feature = "ssr")]
        {
            let shanghai = Zone::named("Asia/Shanghai", false).unwrap();
            assert_eq!(
                when(en, &shanghai, Style::Full, at, at),
                "Nov 21, 2026, 20:03:04"
            );
            assert_eq!(when(zh, &shanghai, Style::Short, at, at), "11月21日 20:03");
            let ny = Zone::named("America/New_York", false).unwrap();
            assert_eq!(when(en, &ny, Style::Short, at, at), "Nov 21, 07:03");
            // Midnight in New York is the day before in UTC terms' afternoon.
            assert_eq!(civil(&ny, 1_795_237_200_000), (2026, 11, 21, 0, 0, 0));
        }
    }

    #[test]
    fn relative_times_and_durations_read_naturally_in_each_language() {
        use crate::i18n::{Lang, Text};
        let (en, zh) = (Text::of(Lang::En), Text::of(Lang::ZhCn));
        let now = 1_000_000_000;
        assert_eq!(ago(en, now - 3_000, now), "just now");
        assert_eq!(ago(en, now - 42_000, now), "42 s ago");
        assert_eq!(ago(en, now - 180_000, now), "3 min ago");
        assert_eq!(ago(zh, now - 180_000, now), "3 分钟前");
        assert_eq!(ago(en, now - 86_400_000, now), "yesterday");
        assert_eq!(ago(en, now - 3 * 86_400_000, now), "3 days ago");
        assert_eq!(ago(zh, now - 86_400_000, now), "昨天");
        assert_eq!(ago(en, now + 7_200_000, now), "in 2 h");
        assert_eq!(ago(zh, now + 7_200_000, now), "2 小时后");
        assert_eq!(span(en, 850), "850ms");
        assert_eq!(span(en, 187_000), "3m 07s");
        assert_eq!(span(zh, 187_000), "3 分 07 秒");
        assert_eq!(span(en, 7_500_000), "2h 05m");
        assert_eq!(span(zh, 42_000), "42 秒");
        assert_eq!(span(en, 12_345_000_000), "3,429h 10m");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(-5), "0ms");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(42_000), "42s");
        assert_eq!(duration(187_000), "3m 07s");
        assert_eq!(duration(7_500_000), "2h 05m");
    }

    #[test]
    fn counts() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}

/// A size in bytes, in the largest binary unit that keeps it at 1 or more: "312 KiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod bytes_tests {
    use super::bytes;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(300 * 1024), "300 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
