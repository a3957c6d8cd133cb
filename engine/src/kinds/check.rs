//! The one checker of a job's parameters, for every kind. A kind declares its parameters as
//! [`ParamSpec`]s: a built-in kind through its parameter struct ([`super::describe`]), a command
//! in the commands file ([`crate::commands::file`]). Each is what the form and the API show (a
//! [`ParamInfo`]) with what they show rounded or as text, exactly: a number's bounds, a string's
//! pattern compiled. [`check`] checks a JSON object of values against them (types, required
//! values and defaults, bounds, lengths, patterns, choices, sets, uploads, unknown names) and
//! returns them in normal form, defaults filled in, or one message per wrong field in the order
//! of the form: the same words for every kind, which the pages' catalogs translate.
//!
//! What reads a value into its type is the one thing kinds differ in ([`Typing`]). A command has
//! no Rust type: the checker reads its values itself. A built-in kind's values are read into its
//! struct by serde once the checker is done, and what the struct's types decide (a value of
//! another JSON type, a negative number for an unsigned field, a name that is no field, an upload
//! of the field's file type) is left to serde and to the struct's own checks, in their words.

use super::KindEnv;
use model::words;
use model::{FieldError, FileRef, ParamInfo, ParamType, Words};
use regex::Regex;
use serde_json::{Map, Value};

/// One parameter of a kind, as the checker reads it.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    /// What the form and `GET /api/v1/kinds` show; its `min` and `max` are the whole numbers
    /// within the exact bounds below.
    pub info: ParamInfo,
    /// For a number or an integer: its bounds, both included, exactly (`0.5` stays `0.5`).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// For a string: `info.pattern`, which the whole value matches.
    pub pattern: Option<Regex>,
    /// For an integer of a built-in kind: its field's type holds no negative number (`u64`), so
    /// a negative value is that type's to refuse, before any bound.
    pub unsigned: bool,
}

impl ParamSpec {
    /// The parameter `info` describes, with the exact bounds `min` and `max`: the description
    /// shows them as the whole numbers within (a `min` of `0.5` as 1), so that a form's field
    /// never offers a value the check refuses. `info.pattern` is compiled to match whole values.
    pub fn new(
        mut info: ParamInfo,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Result<ParamSpec, regex::Error> {
        info.min = min.map(|f| f.ceil() as i64);
        info.max = max.map(|f| f.floor() as i64);
        let pattern = match &info.pattern {
            Some(re) => Some(Regex::new(&format!("^(?:{re})$"))?),
            None => None,
        };
        Ok(ParamSpec {
            info,
            min,
            max,
            pattern,
            unsigned: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn kind(&self) -> ParamType {
        self.info.kind
    }
}

/// What reads a kind's values into their types, and so refuses those of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// The checker (a command kind): a number or a boolean may also be given as text, a name
    /// that is not a parameter is refused, a file must be one of the caller's uploads of a type
    /// its `accept` list names.
    Checker,
    /// The kind's parameter struct, which serde reads the checked values into (a built-in
    /// kind): a value its field's type cannot hold and a name that is not a field are passed on
    /// for serde to refuse, and an upload for the field's own check (`UploadRef<T>`).
    Struct,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The values in normal form, defaults filled in. A refused value stays as it was given, and
    /// what the checker passed on (see [`Typing::Struct`]) is there too, so that a struct can
    /// still be read from them and its other fields checked.
    pub values: Map<String, Value>,
    /// One per wrong field, in the order of the form, then names that are not parameters.
    pub problems: Vec<FieldError>,
}

impl Checked {
    /// The values in normal form, or the problems.
    pub fn into_result(self) -> Result<Value, Vec<FieldError>> {
        if self.problems.is_empty() {
            Ok(Value::Object(self.values))
        } else {
            Err(self.problems)
        }
    }
}

/// Checks `params` against `specs`. A value that is absent, `null` or empty (`""`, a set with
/// nothing chosen) counts as none given: a required parameter is then refused, another takes
/// its default. Secrets are checked like any string; the engine takes them out before the job
/// is stored.
pub fn check(specs: &[ParamSpec], typing: Typing, params: Value, env: &KindEnv) -> Checked {
    let mut given = match params {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            return Checked {
                values: Map::new(),
                problems: vec![FieldError::words("params", words::json_object(other))],
            }
        }
    };
    let mut values = Map::new();
    let mut problems = Vec::new();
    for spec in specs {
        let name = spec.name().to_string();
        let value = given.remove(&name).and_then(|v| something(spec, v));
        let value = match (value, &spec.info.default) {
            (Some(v), _) => v,
            (None, _) if spec.info.required => {
                let message = match spec.kind() {
                    ParamType::Set => words::choose_one(),
                    _ => words::required(),
                };
                problems.push(FieldError::words(&name, message));
                continue;
            }
            (None, Some(default)) => default.clone(),
            (None, None) => continue,
        };
        match check_one(spec, typing, value.clone(), env) {
            Ok(normal) => {
                values.insert(name, normal);
            }
            Err(message) => {
                problems.push(FieldError::words(&name, message));
                values.insert(name, value);
            }
        }
    }
    match typing {
        Typing::Checker => {
            let known: Vec<&str> = specs.iter().map(ParamSpec::name).collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            for name in given.keys() {
                problems.push(FieldError::words(name, words::not_a_parameter(&known)));
            }
        }
        Typing::Struct => values.extend(given),
    }
    Checked { values, problems }
}

/// `problems` in the order the form shows their fields (`params`), then the others.
pub fn in_form_order(params: &[ParamInfo], problems: &mut [FieldError]) {
    problems.sort_by_key(|f| {
        params
            .iter()
            .position(|p| p.name == f.field)
            .unwrap_or(usize::MAX)
    });
}

/// A form field's text as the value of parameter `p` (a number from its digits, a checkbox's
/// `on` as `true`), or why it is not one. Sets are read from their checkboxes, not here.
pub fn form_value(p: &ParamInfo, text: &str) -> Result<Value, Words> {
    match p.kind {
        ParamType::Integer => {
            text.parse::<i64>()
                .map(Value::from)
                .map_err(|_| match (p.min, p.max) {
                    (Some(lo), Some(hi)) => words::whole_number_from_to(lo, hi),
                    _ => words::whole_number(),
                })
        }
        ParamType::Number => number_from_text(text)
            .map(Value::from)
            .ok_or_else(words::number),
        ParamType::Boolean => match text {
            "true" | "on" | "1" => Ok(Value::Bool(true)),
            "false" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(words::true_or_false()),
        },
        ParamType::String
        | ParamType::File
        | ParamType::Choice
        | ParamType::Secret
        | ParamType::Set => Ok(Value::String(text.to_string())),
    }
}

/// `value`, unless it says nothing: `null`, `""`, or a set with nothing in it. A set given as
/// one comma-separated string (the history's filters) becomes the list it names.
fn something(spec: &ParamSpec, value: Value) -> Option<Value> {
    let value = match (spec.kind(), value) {
        (ParamType::Set, Value::String(text)) => Value::from(
            text.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>(),
        ),
        (_, value) => value,
    };
    match &value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) if a.is_empty() && spec.kind() == ParamType::Set => None,
        _ => Some(value),
    }
}

/// One value, in normal form, or why it is wrong.
fn check_one(
    spec: &ParamSpec,
    typing: Typing,
    value: Value,
    env: &KindEnv,
) -> Result<Value, Words> {
    let info = &spec.info;
    match (info.kind, typing) {
        (ParamType::Integer, Typing::Checker) => {
            let n = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(words::whole_number)?;
            bounds(spec, n as f64)?;
            Ok(Value::from(n))
        }
        (ParamType::Integer, Typing::Struct) => {
            let n = match (value.as_i64(), value.as_u64()) {
                (Some(n), _) if n < 0 && spec.unsigned => None,
                (Some(n), _) => Some(n as f64),
                (None, Some(u)) => Some(u as f64),
                (None, None) => None,
            };
            if let Some(n) = n {
                bounds(spec, n)?;
            }
            Ok(value)
        }
        (ParamType::Number, Typing::Checker) => {
            let n = value
                .as_f64()
                .or_else(|| value.as_str().and_then(number_from_text))
                .ok_or_else(words::number)?;
            bounds(spec, n)?;
            Ok(Value::from(n))
        }
        (ParamType::Number, Typing::Struct) => {
            if let Some(n) = value.as_f64() {
                bounds(spec, n)?;
            }
            Ok(value)
        }
        (ParamType::Boolean, Typing::Checker) => match value {
            Value::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(words::true_or_false()),
        },
        (ParamType::String | ParamType::Secret, _) => match value {
            Value::String(s) => {
                text(spec, &s)?;
                Ok(Value::String(s))
            }
            _ if typing == Typing::Checker => Err(words::string()),
            other => Ok(other),
        },
        (ParamType::Choice, _) => match value.as_str() {
            Some(s) if info.choices.iter().any(|c| c == s) => Ok(value),
            _ => Err(words::one_of(&info.choices)),
        },
        (ParamType::Set, _) => {
            let listed: Option<Vec<&str>> = value
                .as_array()
                .and_then(|a| a.iter().map(Value::as_str).collect());
            let Some(listed) = listed else {
                return Err(words::list_of(&info.choices));
            };
            match listed
                .iter()
                .find(|v| !info.choices.iter().any(|c| c == *v))
            {
                Some(stranger) => Err(words::not_one_of(stranger, &info.choices)),
                None => Ok(value),
            }
        }
        (ParamType::File, Typing::Checker) => {
            let id = value.as_str().ok_or_else(words::upload_id)?;
            let found = FileRef::parse(id).and_then(|file| env.uploads.get(&file));
            let Some(found) = found else {
                return Err(words::no_upload(id));
            };
            if let Some(problem) = accept_problem(&info.accept, &found.name, &found.content_type) {
                return Err(problem);
            }
            Ok(value)
        }
        // Left to the struct: serde reads the value, its type checks the upload.
        (ParamType::Boolean | ParamType::File, Typing::Struct) => Ok(value),
    }
}

/// A number written as text, if it is a finite one.
fn number_from_text(text: &str) -> Option<f64> {
    text.trim().parse().ok().filter(|f: &f64| f.is_finite())
}

/// A string's checks: its length, no NUL character (which no database column holds), its
/// pattern.
fn text(spec: &ParamSpec, s: &str) -> Result<(), Words> {
    if let Some(max) = spec.info.max_length {
        let n = s.chars().count() as u64;
        if n > max {
            return Err(words::max_length(max, n));
        }
    }
    if s.contains('\0') {
        return Err(words::no_nul());
    }
    if let Some(re) = &spec.pattern {
        if !re.is_match(s) {
            return Err(words::pattern(
                spec.info.pattern.as_deref().unwrap_or_default(),
            ));
        }
    }
    Ok(())
}

/// A number against its bounds, told as they were declared (`1`, `0.5`).
fn bounds(spec: &ParamSpec, n: f64) -> Result<(), Words> {
    let show = |f: f64| {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            format!("{}", f as i64)
        } else {
            f.to_string()
        }
    };
    match (spec.min, spec.max) {
        (Some(lo), Some(hi)) if n < lo || n > hi => Err(words::from_to(show(lo), show(hi))),
        (Some(lo), None) if n < lo => Err(words::at_least(show(lo))),
        (None, Some(hi)) if n > hi => Err(words::at_most(show(hi))),
        _ => Ok(()),
    }
}

/// Whether a file fits a parameter's `accept` list (extensions such as `.csv`, media types
/// such as `text/csv` or `image/*`); an empty list takes any file.
fn accept_problem(accept: &[String], name: &str, content_type: &str) -> Option<Words> {
    if accept.is_empty() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let fits = accept.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        if a.starts_with('.') {
            lower.ends_with(&a)
        } else if let Some(major) = a.strip_suffix("/*") {
            content_type
                .split('/')
                .next()
                .is_some_and(|m| m.eq_ignore_ascii_case(major))
        } else {
            content_type.eq_ignore_ascii_case(&a)
        }
    });
    (!fits).then(|| words::file_type(accept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::file;
    use crate::kinds::{describe, ExportJobs, Registry};
    use model::ids::testing::named;
    use model::{Upload, UploadId};
    use serde_json::json;
    use std::collections::HashMap;

    fn env() -> KindEnv {
        KindEnv::files(crate::files::Files::whole(std::env::temp_dir()))
    }

    fn spec(name: &str, kind: ParamType) -> ParamSpec {
        let info = ParamInfo::named(name, kind);
        ParamSpec::new(info, None, None).unwrap()
    }

    /// The parameters `toml` declares for a command in the commands file.
    fn declared(toml: &str) -> Vec<ParamSpec> {
        let text = format!("[[command]]\nname = \"c\"\nprogram = \"/bin/sh\"\n{toml}");
        let commands = file::parse(std::path::Path::new("commands.toml"), &text, &["en"]).unwrap();
        commands[0].params.clone()
    }

    /// A command with the parameters `toml` declares, as its kind checks them.
    fn command(toml: &str) -> impl Fn(Value) -> Result<Value, Vec<FieldError>> {
        let params = declared(toml);
        move |v| check(&params, Typing::Checker, v, &env()).into_result()
    }

    /// The built-in kind `kind`, as the registry checks it: the checker, serde, garde.
    fn builtin(kind: &'static str) -> impl Fn(Value) -> Result<Value, Vec<FieldError>> {
        let registry = Registry::builtin();
        move |v| registry.parse(kind, v, &env()).map_err(|e| e.fields)
    }

    /// Refusals as their English says them; those of the checker (not serde's) must come
    /// with their words for other readers.
    trait English {
        fn english(self) -> Vec<FieldError>;
    }

    impl English for Vec<FieldError> {
        fn english(self) -> Vec<FieldError> {
            self.into_iter()
                .map(|f| {
                    let serdes = ["invalid ", "missing ", "unknown "]
                        .iter()
                        .any(|w| f.message.starts_with(w));
                    assert!(serdes || f.said.is_some(), "{f:?} has no words");
                    FieldError::new(f.field, f.message)
                })
                .collect()
        }
    }

    fn said(fields: &[(&str, &str)]) -> Vec<FieldError> {
        fields
            .iter()
            .map(|(f, m)| FieldError::new(f.to_string(), m.to_string()))
            .collect()
    }

    /// `demo`'s parameter struct, declared in a commands file.
    const DEMO: &str = r#"
[command.params.steps]
type = "integer"
title = "Steps"
description = "How many steps to take."
min = 1
max = 100000
default = 50
required = true

[command.params.interval_ms]
type = "integer"
title = "Interval (ms)"
description = "Milliseconds between two steps."
min = 0
max = 60000
default = 100
required = true

[command.params.log_every]
type = "integer"
title = "Log interval"
description = "A log line every this many steps."
min = 1
max = 100000
default = 10

[command.params.fail_attempts]
type = "integer"
title = "Failing attempts"
description = "Its first attempts fail halfway, this many of them, to watch retries."
min = 0
max = 2
default = 0
"#;

    #[test]
    fn a_built_in_kind_and_a_command_declaring_the_same_get_the_same_words() {
        let infos: Vec<ParamInfo> = declared(DEMO).into_iter().map(|p| p.info).collect();
        assert_eq!(
            infos,
            describe::kind::<crate::kinds::Demo>().params,
            "the same description"
        );
        let (demo, command) = (builtin("demo"), command(DEMO));
        let cases = [
            (
                json!({"steps": 0, "interval_ms": 10}),
                said(&[("steps", "must be from 1 to 100000")]),
            ),
            (
                json!({"steps": 100001, "interval_ms": 60001}),
                said(&[
                    ("steps", "must be from 1 to 100000"),
                    ("interval_ms", "must be from 0 to 60000"),
                ]),
            ),
            (json!({"interval_ms": 1}), said(&[("steps", "is required")])),
            (
                json!({"steps": null, "interval_ms": ""}),
                said(&[("steps", "is required"), ("interval_ms", "is required")]),
            ),
            (
                json!({"fail_attempts": 3, "log_every": 0, "steps": 5, "interval_ms": 1}),
                said(&[
                    ("log_every", "must be from 1 to 100000"),
                    ("fail_attempts", "must be from 0 to 2"),
                ]),
            ),
            (
                json!(7),
                said(&[("params", "must be a JSON object, not 7")]),
            ),
            (
                json!(null),
                said(&[("steps", "is required"), ("interval_ms", "is required")]),
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(
                demo(given.clone()).unwrap_err().english(),
                expected,
                "demo: {given}"
            );
            assert_eq!(
                command(given.clone()).unwrap_err().english(),
                expected,
                "command: {given}"
            );
        }
        let normal = json!({"steps": 5, "interval_ms": 1, "log_every": 10, "fail_attempts": 0});
        assert_eq!(demo(json!({"steps": 5, "interval_ms": 1})).unwrap(), normal);
        assert_eq!(
            command(json!({"steps": 5, "interval_ms": 1})).unwrap(),
            normal
        );
    }

    #[test]
    fn choices_sets_and_strings_get_the_same_words_from_both() {
        let export = builtin("export_jobs");
        let command = command(
            r#"
[command.params.format]
type = "choice"
choices = ["csv", "jsonl"]
default = "csv"

[command.params.kind]
type = "string"
max_length = 100
default = ""

[command.params.search]
type = "string"
max_length = 200
default = ""
"#,
        );
        let given = json!({"search": "a\u{0}b", "kind": "k".repeat(101), "format": "xlsx"});
        let expected = said(&[
            ("format", "must be one of: csv, jsonl"),
            ("kind", "may have at most 100 characters, not 101"),
            ("search", "may not contain a NUL character"),
        ]);
        assert_eq!(export(given.clone()).unwrap_err().english(), expected);
        assert_eq!(command(given).unwrap_err().english(), expected);
        // The commands file declares no sets: export's own, read by the checker alone.
        let status: Vec<ParamSpec> = describe::params::<ExportJobs>()
            .into_iter()
            .filter(|p| p.name() == "status")
            .collect();
        let alone = |v: Value| check(&status, Typing::Checker, v, &env()).into_result();
        let all = "queued, running, cancelling, succeeded, failed, cancelled, interrupted";
        for (given, message) in [
            (
                json!("failed, done"),
                format!("\"done\" is not one of: {all}"),
            ),
            (json!(["failed", 3]), format!("must be a list of: {all}")),
        ] {
            let expected = said(&[("status", &message)]);
            assert_eq!(
                export(json!({ "status": given })).unwrap_err().english(),
                expected
            );
            assert_eq!(
                alone(json!({ "status": given })).unwrap_err().english(),
                expected
            );
        }
        assert_eq!(
            alone(json!({"status": "failed, cancelled"})).unwrap(),
            json!({"status": ["failed", "cancelled"]})
        );
    }

    #[test]
    fn a_pattern_and_exact_bounds_read_the_same_whoever_reads_the_types() {
        let mut name = spec("name", ParamType::String);
        name.info.pattern = Some("[a-z]+".into());
        let name = ParamSpec::new(name.info, None, None).unwrap();
        let ratio =
            ParamSpec::new(spec("ratio", ParamType::Number).info, Some(0.5), Some(2.5)).unwrap();
        // The form is offered the whole numbers within.
        assert_eq!((ratio.info.min, ratio.info.max), (Some(1), Some(2)));
        let specs = [name, ratio];
        for typing in [Typing::Checker, Typing::Struct] {
            let refused = check(&specs, typing, json!({"name": "AB", "ratio": 0.4}), &env());
            assert_eq!(
                refused.problems.english(),
                said(&[
                    ("name", "must match the pattern [a-z]+"),
                    ("ratio", "must be from 0.5 to 2.5")
                ]),
                "{typing:?}"
            );
            let taken = check(&specs, typing, json!({"name": "ab", "ratio": 0.5}), &env());
            assert_eq!(taken.into_result(), Ok(json!({"name": "ab", "ratio": 0.5})));
        }
    }

    #[test]
    fn what_a_struct_reads_is_refused_in_serdes_words_and_a_command_in_the_checkers() {
        let (demo, command) = (builtin("demo"), command(DEMO));
        let first = |r: Result<Value, Vec<FieldError>>| {
            let e = r.unwrap_err().english();
            assert_eq!(e.len(), 1, "{e:?}");
            (e[0].field.clone(), e[0].message.clone())
        };
        for (given, field, serde_says, checker_says) in [
            (
                json!("ten"),
                "steps",
                "invalid type: string \"ten\"",
                "must be a whole number",
            ),
            (
                json!(1.5),
                "steps",
                "invalid type: floating point `1.5`",
                "must be a whole number",
            ),
            (
                json!(-5),
                "steps",
                "invalid value: integer `-5`",
                "must be from 1 to 100000",
            ),
        ] {
            let (f, m) = first(demo(json!({"steps": given, "interval_ms": 1})));
            assert!(f == field && m.starts_with(serde_says), "{given}: {f}: {m}");
            let (f, m) = first(command(json!({"steps": given, "interval_ms": 1})));
            assert_eq!((f.as_str(), m.as_str()), (field, checker_says), "{given}");
        }
        let (f, m) = first(demo(json!({"steps": 1, "interval_ms": 1, "x": 1})));
        assert_eq!(f, "x");
        assert!(
            m.starts_with("unknown field `x`, expected one of `steps`"),
            "{m}"
        );
        assert_eq!(
            first(command(json!({"steps": 1, "interval_ms": 1, "x": 1}))),
            (
                "x".to_string(),
                "is not a parameter of this command (its parameters: steps, interval_ms, log_every, fail_attempts)".to_string()
            )
        );
        // A command takes numbers written as text; a struct's field does not.
        assert_eq!(
            command(json!({"steps": " 12 ", "interval_ms": "1"})).unwrap()["steps"],
            json!(12)
        );
    }

    #[test]
    fn defaults_fill_in_and_bounds_say_what_they_are() {
        let level = ParamSpec::new(
            ParamInfo {
                default: Some(json!(6)),
                required: false,
                ..spec("level", ParamType::Integer).info
            },
            Some(1.0),
            Some(9.0),
        )
        .unwrap();
        let folder = spec("folder", ParamType::String);
        let specs = [folder, level];
        let checked = |v| check(&specs, Typing::Checker, v, &env()).into_result();
        assert_eq!(
            checked(json!({"folder": "a b"})).unwrap(),
            json!({"folder": "a b", "level": 6})
        );
        assert_eq!(
            checked(json!({"level": 12, "extra": 1}))
                .unwrap_err()
                .english(),
            said(&[
                ("folder", "is required"),
                ("level", "must be from 1 to 9"),
                (
                    "extra",
                    "is not a parameter of this command (its parameters: folder, level)"
                ),
            ])
        );
    }

    #[test]
    fn strings_choices_and_numbers_are_checked() {
        let mut name = spec("name", ParamType::String).info;
        name.max_length = Some(5);
        name.pattern = Some("[a-z]+".into());
        let name = ParamSpec::new(name, None, None).unwrap();
        let mut colour = spec("colour", ParamType::Choice);
        colour.info.choices = vec!["red".into(), "blue".into()];
        let ratio = spec("ratio", ParamType::Number);
        let flag = spec("flag", ParamType::Boolean);
        let specs = [name, colour, ratio, flag];
        let checked = |v| check(&specs, Typing::Checker, v, &env()).into_result();
        assert_eq!(
            checked(json!({"name": "abcdef", "colour": "green", "ratio": "x", "flag": "yes"}))
                .unwrap_err()
                .english(),
            said(&[
                ("name", "may have at most 5 characters, not 6"),
                ("colour", "must be one of: red, blue"),
                ("ratio", "must be a number"),
                ("flag", "must be true or false"),
            ])
        );
        assert_eq!(
            checked(json!({"name": 5, "colour": "red", "ratio": 0.5, "flag": true}))
                .unwrap_err()
                .english(),
            said(&[("name", "must be a string")])
        );
        assert_eq!(
            checked(json!({"name": "ab", "colour": "red", "ratio": "0.5", "flag": false})).unwrap(),
            json!({"name": "ab", "colour": "red", "ratio": 0.5, "flag": false})
        );
    }

    #[test]
    fn a_file_is_one_of_the_callers_uploads_of_an_accepted_type() {
        let upload = |id: &str, name: &str, content_type: &str| Upload {
            id: named(id),
            name: name.into(),
            size: 4,
            sha256: String::new(),
            content_type: content_type.into(),
            looks_like: "text".into(),
            created_at: 0,
            used_at: None,
        };
        let mut env = env();
        env.uploads = crate::kinds::Uploaded::listed(HashMap::from([
            (named("u1"), upload("u1", "people.CSV", "text/plain")),
            (named("u2"), upload("u2", "photo.png", "image/png")),
        ]));
        let specs = declared(
            r#"
[command.params.table]
type = "file"
accept = [".csv", "text/csv"]
"#,
        );
        let checked = |v| check(&specs, Typing::Checker, v, &env).into_result();
        let (u1, u2): (UploadId, UploadId) = (named("u1"), named("u2"));
        assert_eq!(
            checked(json!({"table": u1.as_str()})).unwrap(),
            json!({"table": u1.as_str()})
        );
        for (given, message) in [
            (
                json!("u3"),
                "there is no upload or output \"u3\" you may use; upload the file again",
            ),
            (json!(u2.as_str()), "must be a file of type .csv, text/csv"),
            (json!(3), "must be an upload's id (POST /api/v1/uploads)"),
        ] {
            assert_eq!(
                checked(json!({ "table": given })).unwrap_err().english(),
                said(&[("table", message)])
            );
        }
        // A built-in kind's upload is its field type's to check (`UploadRef<T>`).
        let csv: Vec<ParamSpec> = describe::params::<crate::kinds::ImportCsv>()
            .into_iter()
            .filter(|p| p.name() == "upload")
            .collect();
        let passed = check(&csv, Typing::Struct, json!({"upload": "u3"}), &env);
        assert_eq!(passed.into_result(), Ok(json!({"upload": "u3"})));
    }

    #[test]
    fn accept_takes_extensions_and_media_types() {
        let accept = vec![".csv".to_string(), "image/*".to_string()];
        assert!(accept_problem(&accept, "A.CSV", "text/plain").is_none());
        assert!(accept_problem(&accept, "p.png", "image/png").is_none());
        assert!(accept_problem(&accept, "a.zip", "application/zip").is_some());
    }
}
