//! Cron expressions: parsed, said in words, and their fire times in an IANA time zone.
//!
//! Five fields (`minute hour day-of-month month day-of-week`) or six with seconds first;
//! `*`, `?` (day fields), numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`, lists `a,b`,
//! month names `jan`–`dec` and day names `sun`–`sat` (`0` and `7` are Sunday); and the macros
//! `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`). When both
//! day fields are restricted, a day matches either (as in Vixie cron).
//!
//! Fire times are wall-clock times in the schedule's zone, found one after the other
//! ([`Cron::next_after`]), so that daylight-saving changes never fire a time twice:
//! - a local time the clocks skip (02:30 on the night 02:00 becomes 03:00) fires once, that long
//!   after the change (03:30), or not at all when a later fire time of the schedule comes first;
//! - a local time the clocks repeat (02:30 on the night 03:00 becomes 02:00) fires once, at its
//!   first occurrence; nothing fires during the repeated hour's second pass.

mod words;

pub use words::{English, Unit, Wording, SAMPLES};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// How far ahead fire times are looked for: an expression with none within it never fires.
const HORIZON_YEARS: i16 = 5;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u32,
    /// Days of the month, bit 1 to 31.
    days: u32,
    /// Months, bit 1 to 12.
    months: u16,
    /// Days of the week, bit 0 (Sunday) to 6.
    weekdays: u8,
    /// Whether the day fields were `*` (or `?`): the other one alone decides.
    any_day: bool,
    any_weekday: bool,
    /// The six fields as written (after a macro's expansion), for the words.
    fields: [String; 6],
}

/// One field's bounds and names.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECOND: Field = Field {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
};
const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day of the month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const WEEKDAY: Field = Field {
    name: "day of the week",
    min: 0,
    max: 7,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

impl Cron {
    /// Reads an expression; the error says which field is wrong and why.
    pub fn parse(expr: &str) -> Result<Cron, String> {
        let expr = expr.trim();
        let expanded = match expr.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
            "@monthly" => "0 0 1 * *".to_string(),
            "@weekly" => "0 0 * * 0".to_string(),
            "@daily" | "@midnight" => "0 0 * * *".to_string(),
            "@hourly" => "0 * * * *".to_string(),
            m if m.starts_with('@') => {
                return Err(format!(
                "{} is not a macro Headway knows: @hourly, @daily, @weekly, @monthly or @yearly",
                shorten(expr)
            ))
            }
            _ => expr.to_string(),
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        let parts: Vec<&str> = match parts.len() {
            5 => std::iter::once("0").chain(parts).collect(),
            6 => parts,
            0 => return Err("the expression is empty: give 5 fields (minute hour day month weekday), or 6 with seconds first".into()),
            n => return Err(format!(
                "{n} fields: a cron expression has 5 (minute hour day month weekday), or 6 with seconds first"
            )),
        };
        let seconds = set(parts[0], &SECOND)?;
        let minutes = set(parts[1], &MINUTE)?;
        let hours = set(parts[2], &HOUR)? as u32;
        let days = set(parts[3], &DAY)? as u32;
        let months = set(parts[4], &MONTH)? as u16;
        let weekdays = set(parts[5], &WEEKDAY)?;
        // 7 is Sunday too.
        let weekdays = ((weekdays | (weekdays >> 7)) & 0x7f) as u8;
        let cron = Cron {
            seconds,
            minutes,
            hours,
            days,
            months,
            weekdays,
            any_day: is_any(parts[3]),
            any_weekday: is_any(parts[5]),
            fields: std::array::from_fn(|i| parts[i].to_string()),
        };
        if cron
            .next_civil(DateTime::constant(2000, 1, 1, 0, 0, 0, 0))
            .is_none()
            && cron
                .next_civil(DateTime::constant(2003, 1, 1, 0, 0, 0, 0))
                .is_none()
        {
            return Err(format!(
                "it never fires: no date has day {} in month {}",
                parts[3], parts[4]
            ));
        }
        Ok(cron)
    }

    /// The first fire time after `after_ms` (Unix ms) in `tz`, in Unix ms; `None` if there is
    /// none within the next five years.
    pub fn next_after(&self, after_ms: i64, tz: &TimeZone) -> Option<i64> {
        let after = Timestamp::from_millisecond(after_ms).ok()?;
        let mut civil = tz.to_datetime(after);
        // Each local time is tried once, in order: a skipped one moves forward, a repeated one
        // is its first occurrence, and a time at or before `after` is passed.
        for _ in 0..10_000 {
            let next = self.next_civil(civil)?;
            let at = tz
                .to_ambiguous_zoned(next)
                .compatible()
                .ok()?
                .timestamp()
                .as_millisecond();
            if at > after_ms {
                return Some(at);
            }
            civil = next;
        }
        None
    }

    /// The first `n` fire times after `after_ms`.
    pub fn next_n(&self, after_ms: i64, tz: &TimeZone, n: usize) -> Vec<i64> {
        let mut times = Vec::with_capacity(n);
        let mut at = after_ms;
        while times.len() < n {
            match self.next_after(at, tz) {
                Some(next) => {
                    times.push(next);
                    at = next;
                }
                None => break,
            }
        }
        times
    }

    /// The first local time that matches, strictly after `after` (to the second).
    fn next_civil(&self, after: DateTime) -> Option<DateTime> {
        let (mut y, mut mo, mut d) = (after.year(), after.month(), after.day());
        let (mut h, mut mi, mut s) = (
            after.hour() as i32,
            after.minute() as i32,
            after.second() as i32 + 1,
        );
        let limit = after.year() + HORIZON_YEARS;
        loop {
            if s > 59 {
                s = 0;
                mi += 1;
            }
            if mi > 59 {
                mi = 0;
                h += 1;
            }
            if h > 23 {
                h = 0;
                d += 1;
            }
            if d > days_in_month(y, mo) {
                d = 1;
                mo += 1;
            }
            if mo > 12 {
                mo = 1;
                y += 1;
            }
            if y > limit {
                return None;
            }
            if self.months & (1 << mo) == 0 {
                (mo, d, h, mi, s) = (mo + 1, 1, 0, 0, 0);
                if mo > 12 {
                    mo = 1;
                    y += 1;
                }
                continue;
            }
            if !self.day_matches(y, mo, d) {
                (d, h, mi, s) = (d + 1, 0, 0, 0);
                continue;
            }
            if self.hours & (1 << h) == 0 {
                (h, mi, s) = (h + 1, 0, 0);
                continue;
            }
            if self.minutes & (1 << mi) == 0 {
                (mi, s) = (mi + 1, 0);
                continue;
            }
            if self.seconds & (1 << s) == 0 {
                s += 1;
                continue;
            }
            return DateTime::new(y, mo, d, h as i8, mi as i8, s as i8, 0).ok();
        }
    }

    fn day_matches(&self, y: i16, mo: i8, d: i8) -> bool {
        let by_day = self.days & (1 << d) != 0;
        let weekday = jiff::civil::Date::new(y, mo, d)
            .map(|date| date.weekday().to_sunday_zero_offset())
            .unwrap_or(0);
        let by_weekday = self.weekdays & (1 << weekday) != 0;
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => by_weekday,
            (false, true) => by_day,
            (false, false) => by_day || by_weekday,
        }
    }

    /// The shortest time between two fire times, in seconds, as the clock reads (a day or
    /// more is said as a day): what a user's bound on how often their schedules fire checks.
    pub fn shortest_gap_secs(&self) -> u64 {
        let mut first = None;
        let mut last: Option<u64> = None;
        let mut gap = u64::MAX;
        for h in 0..24u64 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            for mi in 0..60u64 {
                if self.minutes & (1 << mi) == 0 {
                    continue;
                }
                for s in 0..60u64 {
                    if self.seconds & (1 << s) == 0 {
                        continue;
                    }
                    let at = h * 3600 + mi * 60 + s;
                    if let Some(last) = last {
                        gap = gap.min(at - last);
                    }
                    first.get_or_insert(at);
                    last = Some(at);
                }
            }
        }
        // From the day's last time to the next day's first.
        if let (Some(first), Some(last)) = (first, last) {
            gap = gap.min(86_400 - last + first);
        }
        gap.min(86_400)
    }
}

/// The field's one value, if it is a plain number.
fn single(field: &str) -> Option<u32> {
    field.parse().ok()
}

fn is_any(field: &str) -> bool {
    field == "*" || field == "?"
}

fn days_in_month(y: i16, mo: i8) -> i8 {
    jiff::civil::Date::new(y, mo, 1)
        .map(|d| d.days_in_month())
        .unwrap_or(31)
}

/// The values a field allows, as bits.
fn set(text: &str, f: &Field) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!(
                        "{}: the step {step:?} is not a whole number above 0",
                        f.name
                    )
                })?;
                (range, step)
            }
            None => (part, 1),
        };
        let (low, high) = match range {
            "*" | "?" => {
                if range == "?" && f.name != DAY.name && f.name != WEEKDAY.name {
                    return Err(format!("{}: ? is for the day fields only", f.name));
                }
                (f.min, if f.name == WEEKDAY.name { 6 } else { f.max })
            }
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a, f)?, value(b, f)?),
                // `a/n` runs from a to the field's end.
                None if part.contains('/') => (value(range, f)?, f.max),
                None => {
                    let v = value(range, f)?;
                    (v, v)
                }
            },
        };
        if low > high {
            return Err(format!(
                "{}: the range {range} goes backwards ({low} is after {high})",
                f.name
            ));
        }
        let mut v = low;
        while v <= high {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

/// One value of a field: a number within its bounds, or one of its names.
fn value(text: &str, f: &Field) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = f.names.iter().position(|n| *n == lower) {
        // Months count from 1, days of the week from 0.
        return Ok(i as u32 + f.min);
    }
    let n: u32 = text.parse().map_err(|_| {
        let names = match f.names.first() {
            Some(first) => format!(" or a name such as {first}"),
            None => String::new(),
        };
        format!("{}: {:?} is not a number{names}", f.name, shorten(text))
    })?;
    if n < f.min || n > f.max {
        return Err(format!(
            "{}: {n} is out of range ({} to {})",
            f.name, f.min, f.max
        ));
    }
    Ok(n)
}

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

    fn utc_ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn utc(ms: i64) -> String {
        Timestamp::from_millisecond(ms).unwrap().to_string()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn next(expr: &str, after: &str, tz: &str, n: usize) -> Vec<String> {
        Cron::parse(expr)
            .unwrap()
            .next_n(utc_ms(after), &zone(tz), n)
            .into_iter()
            .map(utc)
            .collect()
    }

    #[test]
    fn five_fields_six_with_seconds_and_the_macros() {
        assert_eq!(
            next("*/15 * * * *", "2026-11-24T10:07:30Z", "UTC", 3),
            [
                "2026-11-24T10:15:00Z",
                "2026-11-24T10:30:00Z",
                "2026-11-24T10:45:00Z"
            ]
        );
        assert_eq!(
            next("*/20 * * * * *", "2026-11-24T10:07:30Z", "UTC", 2),
            ["2026-11-24T10:07:40Z", "2026-11-24T10:08:00Z"]
        );
        assert_eq!(
            next("@hourly", "2026-11-24T10:00:00Z", "UTC", 1),
            ["2026-11-24T11:00:00Z"]
        );
        assert_eq!(
            next("@daily", "2026-11-24T10:00:00Z", "UTC", 1),
            ["2026-11-25T00:00:00Z"]
        );
        // 2026-11-24 is a Tuesday: the next Sunday is the 29th.
        assert_eq!(
            next("@weekly", "2026-11-24T10:00:00Z", "UTC", 1),
            ["2026-11-29T00:00:00Z"]
        );
        assert_eq!(
            next("@monthly", "2026-11-24T10:00:00Z", "UTC", 1),
            ["2026-12-01T00:00:00Z"]
        );
        assert_eq!(
            next("@yearly", "2026-11-24T10:00:00Z", "UTC", 1),
            ["2027-01-01T00:00:00Z"]
        );
    }

    #[test]
    fn names_ranges_lists_steps_and_either_day_field() {
        // Weekdays at 02:00, by name; Sunday as 7.
        assert_eq!(
            next("0 2 * * mon-fri", "2026-11-27T03:00:00Z", "UTC", 2),
            ["2026-11-30T02:00:00Z", "2026-12-01T02:00:00Z"]
        );
        assert_eq!(
            next("0 0 * * 7", "2026-11-24T00:00:00Z", "UTC", 1),
            ["2026-11-29T00:00:00Z"]
        );
        assert_eq!(
            next("30 9 1,15 jan,jul *", "2026-11-24T00:00:00Z", "UTC", 3),
            [
                "2027-01-01T09:30:00Z",
                "2027-01-15T09:30:00Z",
                "2027-07-01T09:30:00Z"
            ]
        );
        // The 13th, or any Friday (Vixie cron's either-day rule).
        assert_eq!(
            next("0 0 13 * fri", "2026-11-24T00:00:00Z", "UTC", 3),
            [
                "2026-11-27T00:00:00Z",
                "2026-12-04T00:00:00Z",
                "2026-12-11T00:00:00Z"
            ]
        );
        assert_eq!(
            next("0 0 31 * *", "2026-11-24T00:00:00Z", "UTC", 2),
            ["2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"]
        );
        assert_eq!(
            next("0 12 29 feb *", "2026-11-24T00:00:00Z", "UTC", 1),
            ["2028-02-29T12:00:00Z"]
        );
        assert_eq!(
            next("5/20 * * * *", "2026-11-24T10:00:00Z", "UTC", 3),
            [
                "2026-11-24T10:05:00Z",
                "2026-11-24T10:25:00Z",
                "2026-11-24T10:45:00Z"
            ]
        );
    }

    #[test]
    fn a_time_zone_is_read_in_its_own_clock() {
        // 02:00 in Paris in November is 01:00 UTC.
        assert_eq!(
            next("0 2 * * *", "2026-11-24T10:00:00Z", "Europe/Paris", 1),
            ["2026-11-25T01:00:00Z"]
        );
    }

    #[test]
    fn a_local_time_the_clocks_skip_fires_once_that_long_after_the_change() {
        // Paris, 2026-03-29: 02:00 becomes 03:00. A daily 02:30 fires at 03:30 CEST (01:30 UTC)
        // that day, then at 02:30 CEST again.
        assert_eq!(
            next("30 2 * * *", "2026-03-28T12:00:00Z", "Europe/Paris", 3),
            [
                "2026-03-29T01:30:00Z",
                "2026-03-30T00:30:00Z",
                "2026-03-31T00:30:00Z"
            ]
        );
        // Every 15 minutes: the skipped hour has no fire time of its own, and none twice.
        let times = next("*/15 * * * *", "2026-03-29T00:30:00Z", "Europe/Paris", 4);
        assert_eq!(
            times,
            [
                "2026-03-29T00:45:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-29T01:15:00Z",
                "2026-03-29T01:30:00Z"
            ]
        );
    }

    #[test]
    fn a_local_time_the_clocks_repeat_fires_at_its_first_occurrence_only() {
        // Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET. 02:30 happens twice: it fires at
        // the first (00:30 UTC), not at the second (01:30 UTC).
        assert_eq!(
            next("30 2 * * *", "2026-10-24T12:00:00Z", "Europe/Paris", 2),
            ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
        );
        // Hourly: 02:00 CEST, then 03:00 CET; the repeated 02:00 CET does not fire.
        assert_eq!(
            next("0 * * * *", "2026-10-24T23:30:00Z", "Europe/Paris", 3),
            [
                "2026-10-25T00:00:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T03:00:00Z"
            ]
        );
        // Asked from inside the repeated hour's second pass: nothing until it ends.
        assert_eq!(
            next("*/30 * * * *", "2026-10-25T01:10:00Z", "Europe/Paris", 1),
            ["2026-10-25T02:00:00Z"]
        );
    }

    #[test]
    fn fire_times_never_repeat_or_go_back_across_a_year_of_changes() {
        for tz in [
            "Europe/Paris",
            "America/New_York",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            for expr in ["*/7 * * * *", "30 2 * * *", "0 1-3 * * *"] {
                let cron = Cron::parse(expr).unwrap();
                let times = cron.next_n(utc_ms("2026-01-01T00:00:00Z"), &zone(tz), 3000);
                assert!(times.windows(2).all(|w| w[0] < w[1]), "{tz} {expr}");
            }
        }
    }

    #[test]
    fn a_bad_expression_says_which_field_and_why() {
        let said = |e: &str| Cron::parse(e).unwrap_err();
        assert!(said("").contains("empty"));
        assert!(said("* * *").contains("3 fields"));
        assert!(said("61 * * * *").contains("minute: 61 is out of range (0 to 59)"));
        assert!(said("0 24 * * *").contains("hour: 24 is out of range"));
        assert!(said("0 0 0 * *").contains("day of the month: 0 is out of range (1 to 31)"));
        assert!(
            said("0 0 * foo *").contains("month: \"foo\" is not a number or a name such as jan")
        );
        assert!(said("0 0 * * 8").contains("day of the week: 8 is out of range (0 to 7)"));
        assert!(said("*/0 * * * *").contains("step"));
        assert!(said("0 5-2 * * *").contains("goes backwards"));
        assert!(said("@often").contains("not a macro"));
        assert!(said("0 0 30 2 *").contains("never fires"));
        assert!(said("? * * * *").contains("day fields only"));
    }
}
