//! A job's priority: which queued job a free slot goes to first.
//!
//! Five levels, `0` to `4`, each with a name: `lowest`, `low`, `normal` (the default), `high`
//! and `urgent`. A claim gives a free slot to the job of the highest level first, then to the
//! user with the fewest jobs running (the fair share), then to the oldest job.
//!
//! **Aging.** A job rises one level for every [`Priority::AGING_MS`] it waits, up to the highest
//! priority among the jobs waiting: a stream of urgent jobs holds a `lowest` one back for at
//! most four steps, after which it competes with them as one of their own. Jobs never rise
//! above the highest priority waiting, so when every job waits at one level (the usual case),
//! nothing is reordered and the fair share alone decides.
//!
//! A queued job keeps its *rank* in the store: the time it became ready to start less its level
//! times the aging step. Ordering by rank is ordering by level with aging, and a rank never
//! changes while the job waits (an operator's change of priority moves it by the difference).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A job's priority: a level from [`Priority::LOWEST`] (0) to [`Priority::URGENT`] (4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

/// The levels' names, by level.
const NAMES: [&str; 5] = ["lowest", "low", "normal", "high", "urgent"];

impl Priority {
    pub const LOWEST: Priority = Priority(0);
    pub const LOW: Priority = Priority(1);
    pub const NORMAL: Priority = Priority(2);
    pub const HIGH: Priority = Priority(3);
    pub const URGENT: Priority = Priority(4);
    /// Every level, lowest first.
    pub const ALL: [Priority; 5] = [
        Priority::LOWEST,
        Priority::LOW,
        Priority::NORMAL,
        Priority::HIGH,
        Priority::URGENT,
    ];
    /// How long a queued job waits to rise one level: 10 minutes.
    pub const AGING_MS: i64 = 10 * 60 * 1000;

    /// The level, 0 to 4.
    pub fn level(self) -> u8 {
        self.0
    }

    /// The level `n`, if it is one (0 to 4).
    pub fn of_level(n: i64) -> Option<Priority> {
        u8::try_from(n)
            .ok()
            .filter(|n| usize::from(*n) < NAMES.len())
            .map(Priority)
    }

    /// Its name: `lowest`, `low`, `normal`, `high` or `urgent`.
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }

    /// A level written as its name or its number (`"high"`, `"3"`).
    pub fn parse(s: &str) -> Option<Priority> {
        let s = s.trim();
        match NAMES.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            Some(at) => Some(Priority(at as u8)),
            None => s.parse().ok().and_then(Priority::of_level),
        }
    }

    /// The rank of a job of this priority that became ready to start at `ready_at` (Unix ms):
    /// the queue's order, lowest first.
    pub fn rank(self, ready_at: i64) -> i64 {
        ready_at.saturating_sub(i64::from(self.0) * Priority::AGING_MS)
    }

    /// The level a job of `rank` competes at, at `now`, among jobs waiting whose highest
    /// priority is `top`: its own, raised one level per [`Priority::AGING_MS`] it has waited,
    /// up to `top`.
    pub fn standing(rank: i64, now: i64, top: Priority) -> u8 {
        let risen = now.saturating_sub(rank).max(0) / Priority::AGING_MS;
        risen.min(i64::from(top.0)) as u8
    }

    /// What a refused priority is told: the levels there are.
    pub fn expected() -> String {
        format!(
            "a priority is one of {} (or 0 to 4)",
            NAMES
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl Default for Priority {
    fn default() -> Priority {
        Priority::NORMAL
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Written as its name: `"high"`.
impl Serialize for Priority {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Read from its name or its level: `"high"` or `3`.
impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Priority;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&Priority::expected())
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Priority, E> {
                Priority::parse(s).ok_or_else(|| E::custom(Priority::expected()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Priority, E> {
                Priority::of_level(n).ok_or_else(|| E::custom(Priority::expected()))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Priority, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Priority, E> {
                // A whole number written as a float (`3.0`), as every whole number of a body.
                if n.fract() == 0.0 && n.abs() < 1e6 {
                    self.visit_i64(n as i64)
                } else {
                    Err(E::custom(Priority::expected()))
                }
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Priority {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Priority".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A job's priority: which queued job a free slot goes to first. Written \
                            as a name; read from a name or a level, 0 (lowest) to 4 (urgent). \
                            A job rises one level for every 10 minutes it waits, up to the \
                            highest priority waiting.",
            "anyOf": [
                { "type": "string", "enum": NAMES },
                { "type": "integer", "minimum": 0, "maximum": 4 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_from_names_and_numbers_and_are_written_as_names() {
        assert_eq!(Priority::parse("high"), Some(Priority::HIGH));
        assert_eq!(Priority::parse(" Urgent "), Some(Priority::URGENT));
        assert_eq!(Priority::parse("0"), Some(Priority::LOWEST));
        assert_eq!(Priority::parse("5"), None);
        assert_eq!(Priority::parse("-1"), None);
        assert_eq!(Priority::parse("asap"), None);
        let read: Priority = serde_json::from_str("3").unwrap();
        assert_eq!(read, Priority::HIGH);
        let read: Priority = serde_json::from_str("3.0").unwrap();
        assert_eq!(read, Priority::HIGH);
        let read: Priority = serde_json::from_str("\"low\"").unwrap();
        assert_eq!(read, Priority::LOW);
        assert_eq!(
            serde_json::to_string(&Priority::URGENT).unwrap(),
            "\"urgent\""
        );
        for bad in ["7", "2.5", "\"asap\"", "true", "null"] {
            let err = serde_json::from_str::<Priority>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("a priority is one of"), "{bad}: {err}");
        }
        assert_eq!(Priority::default(), Priority::NORMAL);
    }

    #[test]
    fn a_job_rises_a_level_per_step_of_waiting_up_to_the_highest_waiting() {
        let step = Priority::AGING_MS;
        let now = 100 * step;
        let low = Priority::LOW.rank(now);
        assert_eq!(Priority::standing(low, now, Priority::URGENT), 1);
        assert_eq!(Priority::standing(low, now + step - 1, Priority::URGENT), 1);
        assert_eq!(Priority::standing(low, now + step, Priority::URGENT), 2);
        assert_eq!(Priority::standing(low, now + 3 * step, Priority::URGENT), 4);
        assert_eq!(Priority::standing(low, now + 9 * step, Priority::URGENT), 4);
        // Never above the highest priority waiting: jobs of one level are not reordered.
        assert_eq!(Priority::standing(low, now + 9 * step, Priority::LOW), 1);
        let (old, new) = (
            Priority::NORMAL.rank(now),
            Priority::NORMAL.rank(now + 5 * step),
        );
        assert_eq!(
            Priority::standing(old, now + 5 * step, Priority::NORMAL),
            Priority::standing(new, now + 5 * step, Priority::NORMAL)
        );
        // An urgent job queued now goes ahead of low ones queued up to 30 minutes before it.
        assert!(Priority::URGENT.rank(now) < Priority::LOW.rank(now - 3 * step + 1));
        assert!(Priority::URGENT.rank(now) > Priority::LOW.rank(now - 3 * step - 1));
    }
}
