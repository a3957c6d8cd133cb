//! What a program says on file descriptor 3, one line each (the grammar is in
//! docs/COMMANDS.md). This channel is the program's own: what it prints on stdout and stderr,
//! which may be data from users, only ever reaches the log.

use model::children::ChildStart;
use model::{Level, LogLevel};
use serde_json::Value;

/// One line of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// `progress CURRENT [TOTAL|? [UNIT]]`
    Progress {
        current: u64,
        /// `None`: the line did not say; `Some(None)`: unknown (`?`).
        total: Option<Option<u64>>,
        unit: Option<String>,
    },
    /// `advance N`
    Advance(u64),
    /// `total TOTAL|? [UNIT]`
    Total {
        total: Option<u64>,
        unit: Option<String>,
    },
    /// `message TEXT` (an empty text clears it)
    Message(String),
    /// `level success|warning|danger`
    Level(Level),
    /// `log info|warn|error TEXT`
    Log(LogLevel, String),
    /// `result {JSON object}`, nested at most [`model::json::MAX_DEPTH`] levels deep
    Result(Value),
    /// `output NAME`: a file written to `HEADWAY_OUTPUT_DIR` is complete; it is listed now
    /// instead of when the program ends.
    Output(String),
    /// `child {"name": …, "kind": …, "params": {…}}`: a child job ([`model::children`]).
    Child(ChildStart),
}

/// Reads one line. `Ok(None)`: a blank line or a `#` comment. `Err`: what is wrong with it.
pub fn parse(line: &str) -> Result<Option<Report>, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let (word, rest) = match trimmed.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim_start()),
        None => (trimmed, ""),
    };
    let number = |s: &str, what: &str| {
        s.parse::<u64>()
            .ok()
            .filter(|n| *n <= model::Progress::MAX_AMOUNT)
            .ok_or_else(|| {
                format!(
                    "{what} must be a whole number from 0 to {}, not {s:?}",
                    model::Progress::MAX_AMOUNT
                )
            })
    };
    let total_of = |s: &str| -> Result<Option<u64>, String> {
        if s == "?" {
            Ok(None)
        } else {
            number(s, "the total").map(Some)
        }
    };
    let unit_of = |words: &[&str]| {
        let unit = words.join(" ");
        (!unit.is_empty()).then_some(unit)
    };
    let report = match word {
        "progress" => {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let Some(current) = words.first() else {
                return Err("progress needs a number: progress CURRENT [TOTAL [UNIT]]".into());
            };
            Report::Progress {
                current: number(current, "the current amount")?,
                total: words.get(1).map(|t| total_of(t)).transpose()?,
                unit: unit_of(words.get(2..).unwrap_or_default()),
            }
        }
        "advance" => Report::Advance(number(rest.trim(), "advance")?),
        "total" => {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let Some(total) = words.first() else {
                return Err("total needs a number or ?: total TOTAL [UNIT]".into());
            };
            Report::Total {
                total: total_of(total)?,
                unit: unit_of(&words[1..]),
            }
        }
        "message" => Report::Message(rest.to_string()),
        "level" => Report::Level(match rest.trim() {
            "success" | "ok" | "info" => Level::Success,
            "warning" | "warn" => Level::Warning,
            "danger" | "error" => Level::Danger,
            other => {
                return Err(format!(
                    "level must be success, warning or danger, not {other:?}"
                ))
            }
        }),
        "log" => {
            let (level, text) = rest.split_once(' ').unwrap_or((rest, ""));
            let level = match level {
                "debug" | "info" => LogLevel::Info,
                "warn" | "warning" => LogLevel::Warn,
                "error" => LogLevel::Error,
                other => {
                    return Err(format!(
                        "log needs a level (info, warn or error) before its text, not {other:?}"
                    ))
                }
            };
            Report::Log(level, text.to_string())
        }
        "result" => {
            let value: Value = serde_json::from_str(rest)
                .map_err(|e| format!("result must be a JSON object: {e}"))?;
            if !value.is_object() {
                return Err("result must be a JSON object".into());
            }
            if let Some(why) = model::json::too_deep(&value, "the result") {
                return Err(why);
            }
            Report::Result(value)
        }
        "output" => {
            let name = rest.trim();
            if let Some(problem) = model::files::output_name_problem(name) {
                return Err(format!("output {name:?} {problem}"));
            }
            Report::Output(name.to_string())
        }
        "child" => {
            let child: ChildStart = serde_json::from_str(rest).map_err(|e| {
                format!("child must be a JSON object with name, kind and params: {e}")
            })?;
            Report::Child(child)
        }
        other => {
            return Err(format!(
                "unknown word {other:?} (progress, advance, total, message, level, log, result, output, child)"
            ))
        }
    };
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_lines_read() {
        assert_eq!(
            parse("progress 30 100 files").unwrap(),
            Some(Report::Progress {
                current: 30,
                total: Some(Some(100)),
                unit: Some("files".into())
            })
        );
        assert_eq!(
            parse("progress 30").unwrap(),
            Some(Report::Progress {
                current: 30,
                total: None,
                unit: None
            })
        );
        assert_eq!(
            parse("progress 3 ? rows read").unwrap(),
            Some(Report::Progress {
                current: 3,
                total: Some(None),
                unit: Some("rows read".into())
            })
        );
        assert_eq!(
            parse("message Copying photos").unwrap(),
            Some(Report::Message("Copying photos".into()))
        );
        assert_eq!(
            parse("level warning").unwrap(),
            Some(Report::Level(Level::Warning))
        );
        assert_eq!(
            parse("log error Disk almost full").unwrap(),
            Some(Report::Log(LogLevel::Error, "Disk almost full".into()))
        );
        assert_eq!(
            parse("result {\"files\": 30}\n").unwrap(),
            Some(Report::Result(json!({"files": 30})))
        );
        assert_eq!(parse("advance 2").unwrap(), Some(Report::Advance(2)));
        assert_eq!(
            parse("output report.csv").unwrap(),
            Some(Report::Output("report.csv".into()))
        );
        assert_eq!(
            parse(r#"child {"name": "part 1", "kind": "demo", "params": {"steps": 2}}"#).unwrap(),
            Some(Report::Child(ChildStart {
                name: "part 1".into(),
                kind: "demo".into(),
                params: json!({"steps": 2}),
            }))
        );
        assert_eq!(parse("   ").unwrap(), None);
        assert_eq!(parse("# a comment").unwrap(), None);
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        for (line, says) in [
            ("progress", "needs a number"),
            ("progress -3", "whole number"),
            ("progress 18446744073709551615", "to 9223372036854775807"),
            ("progress 3 many", "the total"),
            ("level purple", "success, warning or danger"),
            ("log loud hi", "needs a level"),
            ("result [1]", "JSON object"),
            ("result {", "JSON object"),
            ("output ../etc/passwd", "output"),
            ("child {\"kind\": \"demo\"}", "name, kind and params"),
            ("child [1]", "JSON object"),
            ("jump 3", "unknown word \"jump\""),
        ] {
            let err = parse(line).unwrap_err();
            assert!(err.contains(says), "{line:?}: {err}");
        }
    }

    #[test]
    fn a_result_nested_past_the_bound_is_refused_with_its_depth() {
        let line = |levels: usize| {
            format!(
                "result {}{}",
                r#"{"a":"#.repeat(levels - 1) + "{}",
                "}".repeat(levels - 1)
            )
        };
        assert!(matches!(
            parse(&line(model::json::MAX_DEPTH)),
            Ok(Some(Report::Result(_)))
        ));
        let err = parse(&line(model::json::MAX_DEPTH + 1)).unwrap_err();
        assert!(err.contains("33 levels"), "{err}");
        // Deeper than JSON is read at all: refused too.
        assert!(parse(&line(200)).is_err());
    }
}
