//! Schedules as every client sees them: a job of a kind, with stored parameters, started as its
//! owner at every fire time of a cron expression in an IANA time zone.

use crate::ids::{JobId, ScheduleId};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr};

/// The shape of a cron expression, for the API's document: five fields, or six with seconds
/// first, or a macro (`@daily`). What each field may hold is the parser's to say (the engine's
/// `schedules::cron`), and its refusal names the field.
pub const CRON_PATTERN: &str = r"^\s*(@[A-Za-z]+|\S+(\s+\S+){4,5})\s*$";

/// The most characters a schedule's name has.
pub const MAX_NAME: usize = 100;

/// What a schedule's name may hold: plain text on one line, without control characters or the
/// marks that reorder text ([`crate::text::is_format_mark`]).
pub const NAME_PATTERN: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$";

/// A schedule, as the API, the command line and `/schedules` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Schedule {
    pub id: ScheduleId,
    /// What its owner calls it ("nightly import"), if they named it.
    #[serde(default)]
    pub name: Option<String>,
    pub kind: String,
    pub params: serde_json::Value,
    /// Five fields, or six with seconds first, or a macro (`@daily`).
    pub cron: String,
    /// An IANA time zone (`Europe/Paris`, `UTC`).
    pub timezone: String,
    /// `false` while paused: it does not fire.
    pub enabled: bool,
    pub overlap: Overlap,
    pub catch_up: CatchUp,
    /// How many attempts its jobs may take; `None`: as many as their kind allows.
    pub max_attempts: Option<u32>,
    /// Its jobs' priority; `None`: their kind's.
    #[serde(default)]
    pub priority: Option<crate::Priority>,
    /// Its next three fire times, RFC 3339 in its time zone (none while paused).
    pub next_runs: Vec<String>,
    /// The job it started last (on its clock or by "Run now").
    pub last_job_id: Option<JobId>,
    /// Who owns it: an account's name (an open server's anonymous users by their id).
    pub owner: String,
    /// Its expression and zone in words: "every weekday at 02:00, Europe/Paris".
    pub description: String,
    /// Unix ms.
    pub created_at: i64,
    pub updated_at: i64,
    /// Its last fire time, whether it started a job or not (Unix ms).
    pub last_fire_at: Option<i64>,
    /// Why its last fire time started no job: the previous one still ran, its owner may not
    /// start jobs, times were missed while no process ran…
    pub last_skip: Option<String>,
    /// Why it does not fire now, while something holds it (its owner's account is disabled).
    pub held: Option<String>,
}

/// What a fire time does while the schedule's previous job is still queued or running.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Overlap {
    /// Starts nothing this time.
    #[default]
    Skip,
    /// Starts another job anyway.
    Start,
}

names!(Overlap);

/// What becomes of fire times missed while no process ran (found more than a minute late).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum CatchUp {
    /// They start nothing; the schedule goes on with its next time.
    #[default]
    Skip,
    /// One job is started for all of them.
    One,
}

names!(CatchUp);

/// What a person or a script gives to create a schedule, or to change one (every field but
/// the kind may change; absent fields stay as they were).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ScheduleInput {
    /// What to call it, at most 100 characters; empty takes a name away.
    #[serde(default)]
    #[cfg_attr(
        feature = "schemars",
        schemars(length(max = MAX_NAME), regex(pattern = NAME_PATTERN))
    )]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// The kind's parameters, by name (`GET /api/v1/kinds` says which).
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(schema_with = "params_or_null"))]
    pub params: Option<serde_json::Value>,
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(regex(pattern = CRON_PATTERN)))]
    pub cron: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub overlap: Option<Overlap>,
    #[serde(default)]
    pub catch_up: Option<CatchUp>,
    /// `Some(None)` (JSON `null`) goes back to the kind's number.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "schemars", schemars(with = "Option<u32>"))]
    pub max_attempts: Option<Option<u32>>,
    /// Its jobs' priority (above their kind's only for an operator or an admin); `Some(None)`
    /// (JSON `null`) goes back to the kind's.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "schemars", schemars(with = "Option<crate::Priority>"))]
    pub priority: Option<Option<crate::Priority>>,
}

/// A job's parameters: an object (or `null`, the same as leaving them out), said as what it is
/// not, so that a generated client takes any map of values rather than a class of its own.
#[cfg(feature = "schemars")]
fn params_or_null(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "not": { "type": ["array", "string", "number", "boolean"] } })
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// What the schedule form shows as you type an expression: its words and next fire times, or
/// why it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct CronPreview {
    /// "every weekday at 02:00, Europe/Paris"
    pub description: String,
    /// The next three fire times, RFC 3339 in the zone.
    pub next_runs: Vec<String>,
}

/// An RFC 3339 time with its offset (`2026-11-25T02:00:00+01:00`, `…Z`), as Unix ms: what a
/// page needs of a schedule's next fire times to count down to them.
pub fn rfc_3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let offset = match &text[19..] {
        "Z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 60 + o[4..6].parse::<i64>().ok()?) * 60
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3_600 + mi * 60 + s - offset) * 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rfc_3339_time_is_read_with_its_offset() {
        assert_eq!(rfc_3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc_3339_ms("2026-11-24T14:00:00Z"), Some(1_795_528_800_000));
        assert_eq!(
            rfc_3339_ms("2026-11-24T15:00:00+01:00"),
            Some(1_795_528_800_000)
        );
        assert_eq!(
            rfc_3339_ms("2026-11-24T09:00:00-05:00"),
            Some(1_795_528_800_000)
        );
        assert_eq!(
            rfc_3339_ms("2028-02-29T12:00:00+00:00"),
            Some(1_835_438_400_000)
        );
        assert_eq!(rfc_3339_ms("tomorrow"), None);
        assert_eq!(rfc_3339_ms("2026-11-24 14:00:00Z"), None);
    }

    #[test]
    fn a_change_tells_absent_from_null() {
        let keep: ScheduleInput = serde_json::from_str(r#"{"cron": "@daily"}"#).unwrap();
        assert_eq!(keep.max_attempts, None);
        let clear: ScheduleInput = serde_json::from_str(r#"{"max_attempts": null}"#).unwrap();
        assert_eq!(clear.max_attempts, Some(None));
        let two: ScheduleInput = serde_json::from_str(r#"{"max_attempts": 2}"#).unwrap();
        assert_eq!(two.max_attempts, Some(Some(2)));
        assert!(serde_json::from_str::<ScheduleInput>(r#"{"crons": "x"}"#).is_err());
        assert_eq!(Overlap::parse("start"), Some(Overlap::Start));
        assert_eq!(CatchUp::One.as_str(), "one");
    }
}
