//! A cron expression in words, in any language. [`Cron::words_in`] decides what is said (one
//! time of day or how often, which days, which months); a [`Wording`] says each part in its
//! language. The engine's own words are English ([`English`]): the `description` of the JSON API
//! and the command line. The pages say them in the reader's language, with a `Wording` of the
//! message catalogs (`app/src/i18n/cron.rs`), whose English is checked to be these words.

use super::{single, Cron};

/// A unit of "every n …".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Second,
    Minute,
    Hour,
}

/// How one language says each part of a schedule's times. Times of day come written
/// (`02:00`, `06:30:45`); days of the week are numbered from Sunday (0) and months from January
/// (1).
pub trait Wording {
    /// `at 02:00`.
    fn at(&self, time: &str) -> String;
    /// `every day at 02:00`.
    fn every_day_at(&self, at: &str) -> String;
    /// `every weekday at 02:00`: which days, then the time.
    fn days_at(&self, days: &str, at: &str) -> String;
    /// `every 5 minutes, every weekday`.
    fn often_on(&self, often: &str, days: &str) -> String;
    /// `every day at 09:30, in January and July`.
    fn in_months(&self, when: &str, months: &str) -> String;
    /// `every minute` (`n` = 1), `every 5 minutes`.
    fn every(&self, unit: Unit, n: u32) -> String;
    /// `every 5 minutes at second 30`.
    fn at_second(&self, often: &str, second: u32) -> String;
    /// `every 2 hours at :15` (`minute` with two digits).
    fn hourly_at(&self, often: &str, minute: &str) -> String;
    /// Fields said as they are written, when nothing shorter says them.
    fn fields(&self, second: &str, minute: &str, hour: &str) -> String;
    /// `every weekday` (Monday to Friday).
    fn every_weekday(&self) -> String;
    /// `on weekdays`, after a day of the month.
    fn on_weekdays(&self) -> String;
    /// `every Saturday and Sunday`.
    fn weekend(&self) -> String;
    /// `every Monday and Wednesday`.
    fn every_day_named(&self, days: &str) -> String;
    /// `on Monday and Wednesday`, after a day of the month.
    fn on_day_named(&self, days: &str) -> String;
    /// `on day 1 of the month`.
    fn day_of_month(&self, day: u32) -> String;
    /// `on days 1-7 of the month` (the field as written).
    fn days_of_month(&self, days: &str) -> String;
    /// `on day 1 of the month and on Monday`: either matches.
    fn day_or_weekday(&self, day: &str, weekday: &str) -> String;
    /// `Sunday` (0) to `Saturday` (6).
    fn weekday(&self, day: usize) -> String;
    /// `January` (1) to `December` (12).
    fn month(&self, month: usize) -> String;
    /// `a`, `a and b`, `a, b and c`.
    fn list(&self, items: &[String]) -> String;
}

impl Cron {
    /// The expression in English words: "every weekday at 02:00", "every 5 minutes".
    pub fn words(&self) -> String {
        self.words_in(&English)
    }

    /// The expression in the words of `w`.
    pub fn words_in(&self, w: &dyn Wording) -> String {
        let [sec, min, hour, _, _, _] = &self.fields;
        let time = match (single(sec), single(min), single(hour)) {
            (Some(0), Some(m), Some(h)) => Some(w.at(&format!("{h:02}:{m:02}"))),
            (Some(s), Some(m), Some(h)) => Some(w.at(&format!("{h:02}:{m:02}:{s:02}"))),
            _ => None,
        };
        let days = self.days_in(w);
        let when = match (time, days) {
            (Some(at), None) => w.every_day_at(&at),
            (Some(at), Some(days)) => w.days_at(&days, &at),
            (None, None) => self.often_in(w),
            (None, Some(days)) => w.often_on(&self.often_in(w), &days),
        };
        match self.months_in(w) {
            Some(months) => w.in_months(&when, &months),
            None => when,
        }
    }

    /// How often within a day, for times that are not one time of day.
    fn often_in(&self, w: &dyn Wording) -> String {
        let [sec, min, hour, _, _, _] = &self.fields;
        let every = |unit: Unit, field: &str| -> Option<String> {
            if field == "*" {
                return Some(w.every(unit, 1));
            }
            let n: u32 = field.strip_prefix("*/")?.parse().ok()?;
            Some(w.every(unit, n))
        };
        let at_second = |often: String| match single(sec) {
            Some(s) if s > 0 => w.at_second(&often, s),
            _ => often,
        };
        if single(sec).is_none() {
            if let (Some(words), "*", "*") = (every(Unit::Second, sec), min.as_str(), hour.as_str())
            {
                return words;
            }
        } else if let (Some(words), "*") = (every(Unit::Minute, min), hour.as_str()) {
            return at_second(words);
        } else if let (Some(m), Some(words)) = (single(min), every(Unit::Hour, hour)) {
            return at_second(w.hourly_at(&words, &format!("{m:02}")));
        }
        w.fields(sec, min, hour)
    }

    /// Which days, or `None` for every day.
    fn days_in(&self, w: &dyn Wording) -> Option<String> {
        let weekdays: Vec<usize> = (0..7).filter(|d| self.weekdays & (1 << d) != 0).collect();
        let names = || w.list(&weekdays.iter().map(|d| w.weekday(*d)).collect::<Vec<_>>());
        let dom = &self.fields[3];
        let by_day = || match single(dom) {
            Some(d) => w.day_of_month(d),
            None => w.days_of_month(dom),
        };
        match (self.any_day, self.any_weekday) {
            (true, true) => None,
            (true, false) => Some(match weekdays.as_slice() {
                [1, 2, 3, 4, 5] => w.every_weekday(),
                [0, 6] => w.weekend(),
                _ => w.every_day_named(&names()),
            }),
            (false, true) => Some(by_day()),
            (false, false) => {
                let on = match weekdays.as_slice() {
                    [1, 2, 3, 4, 5] => w.on_weekdays(),
                    _ => w.on_day_named(&names()),
                };
                Some(w.day_or_weekday(&by_day(), &on))
            }
        }
    }

    fn months_in(&self, w: &dyn Wording) -> Option<String> {
        if self.fields[4] == "*" {
            return None;
        }
        let months: Vec<String> = (1..=12)
            .filter(|m| self.months & (1 << m) != 0)
            .map(|m| w.month(m))
            .collect();
        Some(w.list(&months))
    }
}

/// The engine's words.
pub struct English;

impl Wording for English {
    fn at(&self, time: &str) -> String {
        format!("at {time}")
    }
    fn every_day_at(&self, at: &str) -> String {
        format!("every day {at}")
    }
    fn days_at(&self, days: &str, at: &str) -> String {
        format!("{days} {at}")
    }
    fn often_on(&self, often: &str, days: &str) -> String {
        format!("{often}, {days}")
    }
    fn in_months(&self, when: &str, months: &str) -> String {
        format!("{when}, in {months}")
    }
    fn every(&self, unit: Unit, n: u32) -> String {
        let unit = match unit {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
        };
        match n {
            1 => format!("every {unit}"),
            n => format!("every {n} {unit}s"),
        }
    }
    fn at_second(&self, often: &str, second: u32) -> String {
        format!("{often} at second {second}")
    }
    fn hourly_at(&self, often: &str, minute: &str) -> String {
        format!("{often} at :{minute}")
    }
    fn fields(&self, second: &str, minute: &str, hour: &str) -> String {
        format!("at second {second}, minute {minute}, hour {hour}")
    }
    fn every_weekday(&self) -> String {
        "every weekday".into()
    }
    fn on_weekdays(&self) -> String {
        "on weekdays".into()
    }
    fn weekend(&self) -> String {
        "every Saturday and Sunday".into()
    }
    fn every_day_named(&self, days: &str) -> String {
        format!("every {days}")
    }
    fn on_day_named(&self, days: &str) -> String {
        format!("on {days}")
    }
    fn day_of_month(&self, day: u32) -> String {
        format!("on day {day} of the month")
    }
    fn days_of_month(&self, days: &str) -> String {
        format!("on days {days} of the month")
    }
    fn day_or_weekday(&self, day: &str, weekday: &str) -> String {
        format!("{day} and {weekday}")
    }
    fn weekday(&self, day: usize) -> String {
        const NAMES: [&str; 7] = [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ];
        NAMES[day % 7].into()
    }
    fn month(&self, month: usize) -> String {
        const NAMES: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        NAMES[(month + 11) % 12].into()
    }
    fn list(&self, items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// Expressions that take every path of [`Cron::words_in`], for the tests of each wording.
pub const SAMPLES: [&str; 22] = [
    "0 2 * * 1-5",
    "0 2 * * mon-fri",
    "@daily",
    "@hourly",
    "@weekly",
    "@monthly",
    "* * * * *",
    "*/5 * * * *",
    "* * * * * *",
    "*/10 * * * * *",
    "15 */2 * * *",
    "30 9 * * 1,3",
    "0 0 * * 6,0",
    "30 9 1 jan,jul *",
    "45 30 6 * * *",
    "*/5 * * * 1-5",
    "30 */5 * * * *",
    "0 0 1,15 * 1-5",
    "0 0 13 * 5",
    "0 8-18 * * *",
    "0 0 1-7 * *",
    "0 12 * 3-5 1",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_in_words() {
        let words = |e: &str| Cron::parse(e).unwrap().words();
        assert_eq!(words("0 2 * * 1-5"), "every weekday at 02:00");
        assert_eq!(words("0 2 * * mon-fri"), "every weekday at 02:00");
        assert_eq!(words("@daily"), "every day at 00:00");
        assert_eq!(words("@hourly"), "every hour at :00");
        assert_eq!(words("@weekly"), "every Sunday at 00:00");
        assert_eq!(words("@monthly"), "on day 1 of the month at 00:00");
        assert_eq!(words("* * * * *"), "every minute");
        assert_eq!(words("*/5 * * * *"), "every 5 minutes");
        assert_eq!(words("* * * * * *"), "every second");
        assert_eq!(words("*/10 * * * * *"), "every 10 seconds");
        assert_eq!(words("15 */2 * * *"), "every 2 hours at :15");
        assert_eq!(words("30 9 * * 1,3"), "every Monday and Wednesday at 09:30");
        assert_eq!(words("0 0 * * 6,0"), "every Saturday and Sunday at 00:00");
        assert_eq!(
            words("30 9 1 jan,jul *"),
            "on day 1 of the month at 09:30, in January and July"
        );
        assert_eq!(words("45 30 6 * * *"), "every day at 06:30:45");
        assert_eq!(words("*/5 * * * 1-5"), "every 5 minutes, every weekday");
        assert_eq!(words("30 */5 * * * *"), "every 5 minutes at second 30");
        assert_eq!(
            words("0 0 1,15 * 1-5"),
            "on days 1,15 of the month and on weekdays at 00:00"
        );
        assert_eq!(
            words("0 0 13 * 5"),
            "on day 13 of the month and on Friday at 00:00"
        );
        assert_eq!(words("0 8-18 * * *"), "at second 0, minute 0, hour 8-18");
        assert_eq!(
            words("0 12 * 3-5 1"),
            "every Monday at 12:00, in March, April and May"
        );
    }

    #[test]
    fn every_sample_parses() {
        for e in SAMPLES {
            assert!(Cron::parse(e).is_ok(), "{e}");
        }
    }
}
