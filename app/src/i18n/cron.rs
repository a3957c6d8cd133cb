//! Schedules' times in the reader's words. The engine decides what a cron expression says
//! (`engine::schedules::cron::Cron::words_in`: one time of day or how often, which days, which
//! months); the catalogs' `cron-*` messages say each part. Server-side: the schedules' server
//! functions put these words in place of the engine's English before a page gets a schedule
//! (the JSON API keeps the engine's).

use super::Text;
use crate::model::Schedule;
use engine::schedules::cron::{Cron, Unit, Wording};

/// A [`Wording`] of the catalogs, in `t`'s language.
pub struct Words(pub Text);

/// `every weekday at 02:00, Europe/Paris` in `t`'s language; `None` for an expression that does
/// not parse (the engine's own description stays).
pub fn describe(t: Text, cron: &str, zone: &str) -> Option<String> {
    let cron = Cron::parse(cron.trim()).ok()?;
    Some(t.cron_in_zone(cron.words_in(&Words(t)), zone.trim()))
}

/// `schedule` with its times in `t`'s words.
pub fn localize(t: Text, mut schedule: Schedule) -> Schedule {
    if let Some(words) = describe(t, &schedule.cron, &schedule.timezone) {
        schedule.description = words;
    }
    schedule
}

impl Wording for Words {
    fn at(&self, time: &str) -> String {
        self.0.cron_at(time)
    }
    fn every_day_at(&self, at: &str) -> String {
        self.0.cron_every_day_at(at)
    }
    fn days_at(&self, days: &str, at: &str) -> String {
        self.0.cron_days_at(days, at)
    }
    fn often_on(&self, often: &str, days: &str) -> String {
        self.0.cron_often_on(often, days)
    }
    fn in_months(&self, when: &str, months: &str) -> String {
        self.0.cron_in_months(when, months)
    }
    fn every(&self, unit: Unit, n: u32) -> String {
        match unit {
            Unit::Second => self.0.cron_every_seconds(n),
            Unit::Minute => self.0.cron_every_minutes(n),
            Unit::Hour => self.0.cron_every_hours(n),
        }
    }
    fn at_second(&self, often: &str, second: u32) -> String {
        self.0.cron_at_second(often, second)
    }
    fn hourly_at(&self, often: &str, minute: &str) -> String {
        self.0.cron_hourly_at(often, minute)
    }
    fn fields(&self, second: &str, minute: &str, hour: &str) -> String {
        self.0.cron_fields(second, minute, hour)
    }
    fn every_weekday(&self) -> String {
        self.0.cron_every_weekday().into()
    }
    fn on_weekdays(&self) -> String {
        self.0.cron_on_weekdays().into()
    }
    fn weekend(&self) -> String {
        self.0.cron_weekend().into()
    }
    fn every_day_named(&self, days: &str) -> String {
        self.0.cron_every_day_named(days)
    }
    fn on_day_named(&self, days: &str) -> String {
        self.0.cron_on_day_named(days)
    }
    fn day_of_month(&self, day: u32) -> String {
        self.0.cron_day_of_month(day)
    }
    fn days_of_month(&self, days: &str) -> String {
        self.0.cron_days_of_month(days)
    }
    fn day_or_weekday(&self, day: &str, weekday: &str) -> String {
        self.0.cron_day_or_weekday(day, weekday)
    }
    fn weekday(&self, day: usize) -> String {
        let t = self.0;
        match day % 7 {
            0 => t.cron_sunday(),
            1 => t.cron_monday(),
            2 => t.cron_tuesday(),
            3 => t.cron_wednesday(),
            4 => t.cron_thursday(),
            5 => t.cron_friday(),
            _ => t.cron_saturday(),
        }
        .into()
    }
    fn month(&self, month: usize) -> String {
        let t = self.0;
        match month {
            1 => t.cron_january(),
            2 => t.cron_february(),
            3 => t.cron_march(),
            4 => t.cron_april(),
            5 => t.cron_may(),
            6 => t.cron_june(),
            7 => t.cron_july(),
            8 => t.cron_august(),
            9 => t.cron_september(),
            10 => t.cron_october(),
            11 => t.cron_november(),
            _ => t.cron_december(),
        }
        .into()
    }
    fn list(&self, items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [most @ .., last] => self
                .0
                .cron_list_and(most.join(self.0.list_separator()), last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use engine::schedules::cron::SAMPLES;

    /// The catalogs' English is the engine's, for every path of the words.
    #[test]
    fn in_english_the_catalogs_say_what_the_engine_says() {
        let t = Text::of(Lang::En);
        for e in SAMPLES {
            let cron = Cron::parse(e).unwrap();
            assert_eq!(cron.words_in(&Words(t)), cron.words(), "{e}");
        }
        assert_eq!(
            describe(t, " 0 2 * * 1-5 ", "Europe/Paris").as_deref(),
            Some("every weekday at 02:00, Europe/Paris")
        );
        assert_eq!(describe(t, "0 2 * *", "UTC"), None);
    }

    #[test]
    fn every_language_says_every_sample() {
        let zh = Text::of(Lang::ZhCn);
        let said = |e: &str| describe(zh, e, "Asia/Shanghai").unwrap();
        assert_eq!(said("0 2 * * 1-5"), "每个工作日 02:00，Asia/Shanghai");
        assert_eq!(said("*/5 * * * *"), "每 5 分钟，Asia/Shanghai");
        assert_eq!(said("30 9 * * 1,3"), "每周一和周三 09:30，Asia/Shanghai");
        assert_eq!(
            said("30 9 1 jan,jul *"),
            "每月1日 09:30，仅在1月和7月，Asia/Shanghai"
        );
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            let t = Text::of(lang);
            for e in SAMPLES {
                let cron = Cron::parse(e).unwrap();
                let words = cron.words_in(&Words(t));
                assert!(!words.is_empty(), "{lang:?} {e}");
            }
        }
    }
}
