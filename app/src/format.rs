//! How values are written for people. Pure functions, the same on server and browser, so that
//! server-rendered text and hydrated text agree.

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

/// How long ago, for a person: `just now`, `42s ago`, `3 min ago`, `2 h ago`, `3 days ago`.
pub fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=4 => "just now".to_string(),
        5..=59 => format!("{s}s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        86_400..=172_799 => "1 day ago".to_string(),
        _ => format!("{} days ago", s / 86_400),
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
