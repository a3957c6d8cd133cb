//! The words of a start's time refusals: when it may start (`run_after`), in which zone, how
//! long it may run.

use crate::Words;
use std::fmt::Display;

pub fn run_after_number() -> Words {
    Words::new(
        "engine-run-after-number",
        "run_after must be a whole number of Unix milliseconds or an RFC 3339 time",
    )
}

pub fn run_after_type() -> Words {
    Words::new(
        "engine-run-after-type",
        "run_after must be an RFC 3339 time (\"2026-11-24T14:00:00Z\") or Unix milliseconds",
    )
}

/// Text that is no RFC 3339 instant; `text` as given, shortened.
pub fn not_an_instant(text: &str) -> Words {
    Words::new(
        "engine-not-an-instant",
        format!("\"{text}\" is not an RFC 3339 time with its offset, such as 2026-11-24T14:00:00Z"),
    )
    .with("text", text)
}

/// Text that is no wall-clock time; `text` as given, shortened.
pub fn not_a_wall_clock(text: &str) -> Words {
    Words::new(
        "engine-not-a-wall-clock",
        format!("\"{text}\" is not a date and time such as 2026-11-24T14:00"),
    )
    .with("text", text)
}

/// A wall-clock time the zone never shows.
pub fn no_such_local_time(text: impl Display, zone: impl Display) -> Words {
    Words::new(
        "engine-no-such-local-time",
        format!("{text} does not exist in {zone}"),
    )
    .with("text", text)
    .with("zone", zone)
}

pub fn not_a_zone(name: &str) -> Words {
    Words::new(
        "engine-not-a-zone",
        format!("\"{name}\" is not an IANA time zone such as Europe/Paris or UTC"),
    )
    .with("name", name)
}

pub fn too_far_ahead() -> Words {
    Words::new(
        "engine-too-far-ahead",
        "run_after is more than a year and a day ahead; start the job nearer its time",
    )
}

pub fn timeout_ms(max: u64) -> Words {
    Words::new(
        "engine-timeout-ms",
        format!("must be a whole number of milliseconds from 1 to {max}"),
    )
    .with("max", max)
}

/// Every function here with sample values.
pub fn samples() -> Vec<Words> {
    vec![
        run_after_number(),
        run_after_type(),
        not_an_instant("tomorrow"),
        not_a_wall_clock("noon"),
        no_such_local_time("2026-03-29T02:30", "Europe/Paris"),
        not_a_zone("Mars/Base"),
        too_far_ahead(),
        timeout_ms(604_800_000),
    ]
}
