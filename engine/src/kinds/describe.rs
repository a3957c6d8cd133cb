//! A kind's description, derived from its parameter struct's JSON schema: the title and
//! description of the kind, and for each field its type, label, description, default, bounds,
//! choices and whether it is required. Validation messages use the same bounds and choices.
//!
//! A field whose type is a Rust enum of unit variants (or a string the schema lists the values
//! of) is a choice, a select in the form; a list of such an enum (a `Vec` or a set) is a set,
//! checkboxes in the form.

use super::Kind;
use model::{FieldError, KindInfo, ParamInfo, ParamType};
use serde_json::{Map, Value};

/// The description of kind `K`, from the schema of `K::Params`.
pub fn kind<K: Kind>() -> KindInfo {
    let schema = schemars::schema_for!(K::Params);
    let root = schema.as_object().cloned().unwrap_or_default();
    let required: Vec<&str> = root
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let empty = Map::new();
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let params = root
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, field)| param(name, field, defs, required.contains(&name.as_str())))
                .collect()
        })
        .unwrap_or_default();
    KindInfo {
        name: K::NAME.to_string(),
        title: text(&root, "title").unwrap_or_else(|| K::NAME.to_string()),
        description: text(&root, "description").unwrap_or_default(),
        params,
        paused: None,
        retry: K::RETRY.info(),
        translations: Default::default(),
    }
}

fn param(name: &str, field: &Value, defs: &Map<String, Value>, required: bool) -> ParamInfo {
    let field = field
        .as_object()
        .map(|f| resolved(f, defs))
        .unwrap_or_default();
    let field = &field;
    let listed = field
        .get("items")
        .and_then(Value::as_object)
        .and_then(|items| choices_of(items, defs));
    let (kind, choices) = match (listed, choices_of(field, defs)) {
        (Some(choices), _) if types(field).contains(&"array") => (ParamType::Set, choices),
        (_, Some(choices)) => (ParamType::Choice, choices),
        _ => (param_type(field), Vec::new()),
    };
    ParamInfo {
        name: name.to_string(),
        label: text(field, "title").unwrap_or_else(|| name.to_string()),
        description: text(field, "description").unwrap_or_default(),
        kind,
        required,
        default: field.get("default").cloned(),
        min: field.get("minimum").and_then(whole),
        max: field.get("maximum").and_then(whole),
        accept: field
            .get("accept")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        // The server's limit, filled in where it is known.
        max_bytes: None,
        choices,
        pattern: None,
        max_length: None,
    }
}

/// `field` with what its `$ref` points to among the schema's definitions (a Rust enum's schema
/// is one), its own keys (title, description, default) first.
fn resolved(field: &Map<String, Value>, defs: &Map<String, Value>) -> Map<String, Value> {
    let target = field
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
        .and_then(Value::as_object);
    let mut out = field.clone();
    if let Some(target) = target {
        out.remove("$ref");
        for (k, v) in target {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

/// The strings a field may be, when the schema lists them: `enum`, or `oneOf`/`anyOf` of
/// constants (a Rust enum whose variants have doc comments); `null` (an `Option`) aside.
fn choices_of(field: &Map<String, Value>, defs: &Map<String, Value>) -> Option<Vec<String>> {
    let field = resolved(field, defs);
    if let Some(values) = field.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| v.as_str().map(String::from))
            .collect::<Option<_>>()?;
        return (!values.is_empty()).then_some(values);
    }
    if let Some(value) = field.get("const").and_then(Value::as_str) {
        return Some(vec![value.to_string()]);
    }
    let branches = ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| field.get(*k).and_then(Value::as_array))?;
    let mut out = Vec::new();
    for branch in branches {
        let branch = branch.as_object()?;
        if types(branch) == ["null"] || branch.get("const").is_some_and(Value::is_null) {
            continue;
        }
        out.extend(choices_of(branch, defs)?);
    }
    (!out.is_empty()).then_some(out)
}

/// The JSON types a field's schema names.
fn types(field: &Map<String, Value>) -> Vec<&str> {
    match field.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Values of choices and sets that are not among their choices, one message per field, in the
/// order of the form. A set may be given as a list or as one comma-separated string.
pub fn choice_errors(info: &KindInfo, params: &Value) -> Vec<FieldError> {
    let mut out = Vec::new();
    for p in &info.params {
        let Some(value) = params.get(&p.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let known = |v: &str| p.choices.iter().any(|c| c == v);
        let message = match (p.kind, value) {
            (ParamType::Choice, Value::String(v)) if known(v) => continue,
            (ParamType::Choice, _) => format!("must be one of: {}", p.choices.join(", ")),
            (ParamType::Set, _) => {
                let given: Option<Vec<&str>> = match value {
                    Value::String(s) => Some(
                        s.split(',')
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .collect(),
                    ),
                    Value::Array(a) => a.iter().map(Value::as_str).collect(),
                    _ => None,
                };
                match given.map(|g| g.into_iter().find(|v| !known(v))) {
                    Some(None) => continue,
                    Some(Some(stranger)) => {
                        format!("\"{stranger}\" is not one of: {}", p.choices.join(", "))
                    }
                    None => format!("must be a list of: {}", p.choices.join(", ")),
                }
            }
            _ => continue,
        };
        out.push(FieldError {
            field: p.name.clone(),
            message,
        });
    }
    out
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The field's JSON type; an optional field's schema lists `null` beside it.
fn param_type(field: &Map<String, Value>) -> ParamType {
    let types = types(field);
    if field.get("format").and_then(Value::as_str) == Some(super::upload::FORMAT) {
        return ParamType::File;
    }
    match types.into_iter().find(|t| *t != "null") {
        Some("integer") => ParamType::Integer,
        Some("number") => ParamType::Number,
        Some("boolean") => ParamType::Boolean,
        _ => ParamType::String,
    }
}

/// A bound as a whole number (`0.0` and `1.0` bound a probability as 0 and 1).
fn whole(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| u.min(i64::MAX as u64) as i64))
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
}

/// One message per field that failed validation. A number outside its bounds is told the
/// bounds as the description states them; other checks say what they found.
pub fn field_errors(info: &KindInfo, params: &Value, report: &garde::Report) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::new();
    for (path, error) in report.iter() {
        let field = path.to_string();
        if out.iter().any(|f| f.field == field) {
            continue;
        }
        let param = info.params.iter().find(|p| p.name == field);
        let value = params.get(&field).and_then(Value::as_f64);
        let message = match (param, value) {
            (Some(p), Some(v)) if matches!(p.kind, ParamType::Integer | ParamType::Number) => {
                match (p.min, p.max) {
                    (Some(lo), Some(hi)) if v < lo as f64 || v > hi as f64 => {
                        format!("must be from {lo} to {hi}")
                    }
                    (Some(lo), None) if v < lo as f64 => format!("must be at least {lo}"),
                    (None, Some(hi)) if v > hi as f64 => format!("must be at most {hi}"),
                    _ => error.message().to_string(),
                }
            }
            _ => error.message().to_string(),
        };
        out.push(FieldError { field, message });
    }
    // In the order the form shows the fields (the report sorts them by name).
    let position = |f: &FieldError| {
        info.params
            .iter()
            .position(|p| p.name == f.field)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(position);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{Batch, Checksum, Demo, ImportCsv};
    use serde_json::json;

    #[test]
    fn demo_is_described_from_its_parameter_struct() {
        let info = kind::<Demo>();
        assert_eq!((info.name.as_str(), info.title.as_str()), ("demo", "Demo"));
        assert_eq!(
            info.description,
            "Advances one step per interval and logs every 10 steps."
        );
        let steps = &info.params[0];
        assert_eq!(steps.name, "steps");
        assert_eq!(steps.label, "Steps");
        assert_eq!(steps.description, "How many steps to take.");
        assert_eq!(steps.kind, ParamType::Integer);
        assert!(steps.required);
        assert_eq!(steps.default, Some(json!(50)));
        assert_eq!((steps.min, steps.max), (Some(1), Some(100_000)));
    }

    #[test]
    fn fields_keep_their_declaration_order_types_and_defaults() {
        let batch = kind::<Batch>();
        let names: Vec<&str> = batch.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["items", "item_kib", "concurrency", "failure_rate", "seed"]
        );
        let by_name = |n: &str| batch.params.iter().find(|p| p.name == n).unwrap().clone();
        assert!(by_name("items").required);
        assert!(!by_name("item_kib").required);
        assert_eq!(by_name("item_kib").default, Some(json!(64)));
        assert_eq!(by_name("failure_rate").kind, ParamType::Number);
        assert_eq!(
            (by_name("failure_rate").min, by_name("failure_rate").max),
            (Some(0), Some(1))
        );
        assert_eq!((by_name("seed").min, by_name("seed").max), (Some(0), None));
        let csv = kind::<ImportCsv>();
        let database = csv.params.iter().find(|p| p.name == "database").unwrap();
        assert_eq!(
            (database.kind, database.required),
            (ParamType::String, false)
        );
        assert_eq!(database.default, Some(json!("imports.db")));
        assert_eq!(kind::<Checksum>().params[0].default, Some(json!(".")));
    }
}
