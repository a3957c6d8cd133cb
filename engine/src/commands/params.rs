//! A command's parameters: declared in the commands file, described to the form and the API
//! like a compiled-in kind's, and checked with the same messages.

use crate::kinds::KindEnv;
use model::{FieldError, ParamInfo, ParamType, UploadId};
use regex::Regex;
use serde_json::{Map, Value};

/// One parameter, as the commands file declares it.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub info: ParamInfo,
    /// For a number or an integer: its bounds, exactly.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// For a string: the pattern the whole value matches.
    pub pattern: Option<Regex>,
}

impl ParamSpec {
    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn kind(&self) -> ParamType {
        self.info.kind
    }
}

/// Checks `params` against `specs` and returns them in normal form (defaults filled in), or
/// one message per field that is wrong. Secrets are checked here like any string; the engine
/// takes them out before the job is stored.
pub fn check(specs: &[ParamSpec], params: Value, env: &KindEnv) -> Result<Value, Vec<FieldError>> {
    let mut given = match params {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            return Err(vec![FieldError {
                field: "params".into(),
                message: format!("must be a JSON object, not {other}"),
            }])
        }
    };
    let mut problems = Vec::new();
    for name in given.keys() {
        if !specs.iter().any(|s| s.name() == name) {
            let known: Vec<&str> = specs.iter().map(ParamSpec::name).collect();
            problems.push(FieldError {
                field: name.clone(),
                message: format!(
                    "is not a parameter of this command (its parameters: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        }
    }
    let mut normal = Map::new();
    for spec in specs {
        let value = given
            .remove(spec.name())
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        let value = match value {
            Some(v) => v,
            None => match &spec.info.default {
                Some(d) => d.clone(),
                None if spec.info.required => {
                    problems.push(field(spec, "is required"));
                    continue;
                }
                None => continue,
            },
        };
        match check_one(spec, value, env) {
            Ok(v) => {
                normal.insert(spec.name().to_string(), v);
            }
            Err(message) => problems.push(field(spec, &message)),
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(normal))
    } else {
        Err(problems)
    }
}

fn field(spec: &ParamSpec, message: &str) -> FieldError {
    FieldError {
        field: spec.name().to_string(),
        message: message.to_string(),
    }
}

fn check_one(spec: &ParamSpec, value: Value, env: &KindEnv) -> Result<Value, String> {
    let info = &spec.info;
    match info.kind {
        ParamType::Integer => {
            let n = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| "must be a whole number".to_string())?;
            bounds(spec, n as f64)?;
            Ok(Value::from(n))
        }
        ParamType::Number => {
            let n = value
                .as_f64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|f: &f64| f.is_finite())
                .ok_or_else(|| "must be a number".to_string())?;
            bounds(spec, n)?;
            Ok(Value::from(n))
        }
        ParamType::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(b)),
            _ => Err("must be true or false".into()),
        },
        ParamType::String | ParamType::Secret => {
            let Value::String(s) = value else {
                return Err("must be a string".into());
            };
            if let Some(max) = info.max_length {
                let n = s.chars().count() as u64;
                if n > max {
                    return Err(format!("may have at most {max} characters, not {n}"));
                }
            }
            if s.contains('\0') {
                return Err("may not contain a NUL character".into());
            }
            if let Some(re) = &spec.pattern {
                if !re.is_match(&s) {
                    return Err(format!(
                        "must match the pattern {}",
                        info.pattern.as_deref().unwrap_or_default()
                    ));
                }
            }
            Ok(Value::String(s))
        }
        ParamType::Choice => {
            let s = value.as_str().unwrap_or_default();
            if info.choices.iter().any(|c| c == s) {
                Ok(Value::String(s.to_string()))
            } else {
                Err(format!("must be one of: {}", info.choices.join(", ")))
            }
        }
        // The commands file declares no sets (see file.rs).
        ParamType::Set => Err("a command kind takes no set of choices".into()),
        ParamType::File => {
            let id = value
                .as_str()
                .ok_or_else(|| "must be an upload's id (POST /api/v1/uploads)".to_string())?;
            let found = UploadId::parse(id)
                .ok()
                .and_then(|upload| env.uploads.get(&upload));
            let Some(found) = found else {
                return Err(format!(
                    "there is no upload {id:?} you may use; upload the file again"
                ));
            };
            if let Some(problem) = accept_problem(&info.accept, &found.name, &found.content_type) {
                return Err(problem);
            }
            Ok(Value::String(id.to_string()))
        }
    }
}

fn bounds(spec: &ParamSpec, n: f64) -> Result<(), String> {
    let show = |f: f64| {
        if f.fract() == 0.0 {
            format!("{}", f as i64)
        } else {
            f.to_string()
        }
    };
    match (spec.min, spec.max) {
        (Some(lo), Some(hi)) if n < lo || n > hi => {
            Err(format!("must be from {} to {}", show(lo), show(hi)))
        }
        (Some(lo), None) if n < lo => Err(format!("must be at least {}", show(lo))),
        (None, Some(hi)) if n > hi => Err(format!("must be at most {}", show(hi))),
        _ => Ok(()),
    }
}

/// Whether a file fits a parameter's `accept` list (extensions such as `.csv`, media types
/// such as `text/csv` or `image/*`); an empty list takes any file.
fn accept_problem(accept: &[String], name: &str, content_type: &str) -> Option<String> {
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
    (!fits).then(|| format!("must be a file of type {}", accept.join(", ")))
}

/// A parameter's value as the program gets it, in an argument or its environment: strings as
/// they are, numbers and booleans as JSON writes them; `None` when it has none.
pub fn as_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, kind: ParamType) -> ParamSpec {
        ParamSpec {
            info: ParamInfo {
                name: name.into(),
                label: name.into(),
                description: String::new(),
                kind,
                required: true,
                default: None,
                min: None,
                max: None,
                accept: Vec::new(),
                max_bytes: None,
                choices: Vec::new(),
                pattern: None,
                max_length: None,
            },
            min: None,
            max: None,
            pattern: None,
        }
    }

    fn env() -> KindEnv {
        KindEnv::files(crate::files::Files::whole(std::env::temp_dir()))
    }

    #[test]
    fn defaults_fill_in_and_bounds_say_what_they_are() {
        let mut level = spec("level", ParamType::Integer);
        level.info.default = Some(json!(6));
        level.info.required = false;
        (level.min, level.max) = (Some(1.0), Some(9.0));
        let folder = spec("folder", ParamType::String);
        let specs = [folder, level];
        assert_eq!(
            check(&specs, json!({"folder": "a b"}), &env()).unwrap(),
            json!({"folder": "a b", "level": 6})
        );
        let errors = check(&specs, json!({"level": 12, "extra": 1}), &env()).unwrap_err();
        let by = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .unwrap()
                .message
                .clone()
        };
        assert_eq!(by("folder"), "is required");
        assert_eq!(by("level"), "must be from 1 to 9");
        assert!(by("extra").contains("folder, level"), "{}", by("extra"));
    }

    #[test]
    fn strings_choices_and_numbers_are_checked() {
        let mut name = spec("name", ParamType::String);
        name.info.max_length = Some(5);
        name.info.pattern = Some("[a-z]+".into());
        name.pattern = Some(Regex::new("^(?:[a-z]+)$").unwrap());
        let mut colour = spec("colour", ParamType::Choice);
        colour.info.choices = vec!["red".into(), "blue".into()];
        let ratio = spec("ratio", ParamType::Number);
        let specs = [name, colour, ratio];
        let errors = check(
            &specs,
            json!({"name": "abcdef", "colour": "green", "ratio": "x"}),
            &env(),
        )
        .unwrap_err();
        let by = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .unwrap()
                .message
                .clone()
        };
        assert_eq!(by("name"), "may have at most 5 characters, not 6");
        assert_eq!(by("colour"), "must be one of: red, blue");
        assert_eq!(by("ratio"), "must be a number");
        let errors = check(
            &specs,
            json!({"name": "AB", "colour": "red", "ratio": 0.5}),
            &env(),
        )
        .unwrap_err();
        assert_eq!(errors[0].message, "must match the pattern [a-z]+");
        assert_eq!(
            check(
                &specs,
                json!({"name": "ab", "colour": "red", "ratio": "0.5"}),
                &env()
            )
            .unwrap(),
            json!({"name": "ab", "colour": "red", "ratio": 0.5})
        );
    }

    #[test]
    fn accept_takes_extensions_and_media_types() {
        let accept = vec![".csv".to_string(), "image/*".to_string()];
        assert!(accept_problem(&accept, "A.CSV", "text/plain").is_none());
        assert!(accept_problem(&accept, "p.png", "image/png").is_none());
        assert!(accept_problem(&accept, "a.zip", "application/zip").is_some());
    }
}
