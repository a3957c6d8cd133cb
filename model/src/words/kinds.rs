//! The words of the built-in kinds' own refusals: an upload of the wrong type, a CSV import's
//! file, database and table, an export's times.

use crate::Words;
use std::fmt::Display;

/// An upload of nothing; `name` as the upload was named, quoted.
pub fn upload_empty(name: &str) -> Words {
    let name = format!("{name:?}");
    Words::new("engine-upload-empty", format!("{name} is empty")).with("name", name)
}

/// An upload that is not a CSV file by its name or media type; `accept` the names and types
/// that are.
pub fn upload_not_csv(name: &str, accept: &str) -> Words {
    let name = format!("{name:?}");
    Words::new(
        "engine-upload-not-csv",
        format!("{name} is not a CSV file (it must be one of: {accept})"),
    )
    .with("name", name)
    .with("accept", accept)
}

/// An upload named as a CSV file whose bytes are something else: `seems` is `zip`, `gzip` or
/// `binary`.
pub fn upload_looks_like(name: &str, seems: &str) -> Words {
    let name = format!("{name:?}");
    let what = match seems {
        "zip" => "a zip archive",
        "gzip" => "a gzip archive",
        _ => "binary data",
    };
    Words::new(
        "engine-upload-looks-like",
        format!("{name} looks like {what}, not a CSV file; upload the file itself, not an archive"),
    )
    .with("name", name)
    .with("seems", seems)
}

/// A file parameter naming something that is neither the caller's upload nor their job's
/// output; `named` as it was given.
pub fn not_your_upload(named: impl Display) -> Words {
    Words::new(
        "engine-not-your-upload",
        format!(
            "{named} is neither one of your uploads (send the file to POST /api/v1/uploads \
             first) nor an output of one of your jobs"
        ),
    )
    .with("named", named)
}

/// An upload whose stored bytes cannot be read.
pub fn upload_unreadable(reason: impl Display) -> Words {
    Words::new(
        "engine-upload-unreadable",
        format!("the file cannot be read ({reason}); upload it again"),
    )
    .with("reason", reason)
}

pub fn not_utf8(line: usize) -> Words {
    Words::new(
        "engine-not-utf8",
        format!("is not UTF-8 text (invalid bytes on line {line}); save it as UTF-8 and try again"),
    )
    .with("line", line)
}

pub fn csv_both_sources() -> Words {
    Words::new(
        "engine-csv-both-sources",
        "give an uploaded file or a file in the data folder, not both",
    )
}

pub fn csv_no_source() -> Words {
    Words::new(
        "engine-csv-no-source",
        "choose a CSV file to upload (or name a file in the data folder)",
    )
}

pub fn csv_into_itself() -> Words {
    Words::new("engine-csv-into-itself", "must not be the CSV file itself")
}

pub fn table_name() -> Words {
    Words::new(
        "engine-table-name",
        "must start with a letter or _ and contain only letters, digits and _",
    )
}

pub fn table_length(max: usize) -> Words {
    Words::new(
        "engine-table-length",
        format!("must be at most {max} characters long"),
    )
    .with("max", max)
}

pub fn table_sqlite() -> Words {
    Words::new(
        "engine-table-sqlite",
        "must not start with sqlite_ (SQLite reserves those names)",
    )
}

/// An export's bound that is no time; `text` as it was given.
pub fn not_a_time(text: &str) -> Words {
    Words::new(
        "engine-not-a-time",
        format!(
            "\"{text}\" is not a time: use a date (2026-11-24), a date and time in UTC \
             (2026-11-24T14:00) or an RFC 3339 time (2026-11-24T14:00:00+01:00)"
        ),
    )
    .with("text", text)
}

/// A time past what the calendar holds; `reason` in the calendar library's words.
pub fn time_out_of_range(reason: impl Display) -> Words {
    Words::new(
        "engine-time-out-of-range",
        format!("is out of range: {reason}"),
    )
    .with("reason", reason)
}

pub fn schedule_id() -> Words {
    Words::new("engine-schedule-id", "must be a schedule's id")
}

/// Every function here with sample values.
pub fn samples() -> Vec<Words> {
    vec![
        upload_empty("e.csv"),
        upload_not_csv("a.png", ".csv, text/csv"),
        upload_looks_like("big.csv", "zip"),
        upload_looks_like("big.csv", "gzip"),
        upload_looks_like("x.csv", "binary"),
        not_your_upload("\"u-1\""),
        upload_unreadable("No such file or directory (os error 2)"),
        not_utf8(3),
        csv_both_sources(),
        csv_no_source(),
        csv_into_itself(),
        table_name(),
        table_length(63),
        table_sqlite(),
        not_a_time("yesterday"),
        time_out_of_range("year 10000 is too far"),
        schedule_id(),
    ]
}
