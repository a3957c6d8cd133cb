//! A kind's description, derived from its parameter struct's JSON schema: the title and
//! description of the kind, and for each field its type, label, description, default, bounds
//! and whether it is required. Validation messages use the same bounds.

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
    let params = root
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, field)| param(name, field, required.contains(&name.as_str())))
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

fn param(name: &str, field: &Value, required: bool) -> ParamInfo {
    let empty = Map::new();
    let field = field.as_object().unwrap_or(&empty);
    ParamInfo {
        name: name.to_string(),
        label: text(field, "title").unwrap_or_else(|| name.to_string()),
        description: text(field, "description").unwrap_or_default(),
        kind: param_type(field),
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
        // Command kinds declare these (see crate::commands).
        choices: Vec::new(),
        pattern: None,
        max_length: None,
    }
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The field's JSON type; an optional field's schema lists `null` beside it.
fn param_type(field: &Map<String, Value>) -> ParamType {
    let types: Vec<&str> = match field.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
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
