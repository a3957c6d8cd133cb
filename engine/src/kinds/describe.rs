//! A kind's description, derived from its parameter struct's JSON schema: the title and
//! description of the kind, and for each field its type, label, description, default, bounds,
//! length, pattern, choices and whether it is required. The same [`ParamSpec`]s are what
//! [`super::check`] checks the kind's values against, so the form and the checks agree.
//!
//! A field whose type is a Rust enum of unit variants (or a string the schema lists the values
//! of) is a choice, a select in the form; a list of such an enum (a `Vec` or a set) is a set,
//! checkboxes in the form. Bounds (`#[schemars(range(min, max))]`), lengths
//! (`#[schemars(length(max))]`) and patterns (`#[schemars(regex(pattern))]`) are read from the
//! schema; so are garde's `range`, `length` and `pattern`, which schemars reads too.

use super::check::ParamSpec;
use super::Kind;
use model::{KindInfo, ParamInfo, ParamType};
use serde_json::{Map, Value};

/// The description of kind `K`, from the schema of `K::Params`.
pub fn kind<K: Kind>() -> KindInfo {
    let root = schema::<K>();
    KindInfo {
        name: K::NAME.to_string(),
        title: text(&root, "title").unwrap_or_else(|| K::NAME.to_string()),
        description: text(&root, "description").unwrap_or_default(),
        params: params::<K>().into_iter().map(|p| p.info).collect(),
        paused: None,
        retry: K::RETRY.info(),
        priority: K::PRIORITY,
        translations: Default::default(),
        requires: Vec::new(),
        on_workers: false,
    }
}

/// The parameters of kind `K`, in the order of its struct's fields.
pub fn params<K: Kind>() -> Vec<ParamSpec> {
    let root = schema::<K>();
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
    root.get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, field)| param(name, field, defs, required.contains(&name.as_str())))
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON schema of `K::Params`, as an object.
fn schema<K: Kind>() -> Map<String, Value> {
    let schema = schemars::schema_for!(K::Params);
    schema.as_object().cloned().unwrap_or_default()
}

fn param(name: &str, field: &Value, defs: &Map<String, Value>, required: bool) -> ParamSpec {
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
    let info = ParamInfo {
        name: name.to_string(),
        label: text(field, "title").unwrap_or_else(|| name.to_string()),
        description: text(field, "description").unwrap_or_default(),
        kind,
        required,
        default: field.get("default").cloned(),
        // Filled in from the exact bounds by `ParamSpec::new`.
        min: None,
        max: None,
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
        pattern: text(field, "pattern"),
        max_length: field.get("maxLength").and_then(Value::as_u64),
    };
    let bound = |key: &str| field.get(key).and_then(Value::as_f64);
    let mut spec = ParamSpec::new(info, bound("minimum"), bound("maximum"))
        .unwrap_or_else(|e| panic!("the pattern of {name} is not a regular expression: {e}"));
    spec.unsigned = text(field, "format").is_some_and(|f| f.starts_with("uint"));
    spec
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::check::{check, Typing};
    use crate::kinds::RunResult;
    use crate::kinds::{Batch, Checksum, Demo, ExportJobs, ImportCsv, JobContext, KindEnv};
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    /// A kind of these tests: a pattern and bounds that are not whole numbers.
    struct Shaped;

    #[derive(Serialize, Deserialize, JsonSchema, garde::Validate)]
    #[garde(context(KindEnv))]
    struct ShapedParams {
        #[schemars(regex(pattern = "[a-z]+"))]
        #[garde(skip)]
        code: String,
        #[schemars(range(min = 0.5, max = 2.5))]
        #[garde(skip)]
        ratio: f64,
    }

    impl Kind for Shaped {
        type Params = ShapedParams;
        const NAME: &'static str = "shaped";

        async fn run(_: ShapedParams, _: &mut JobContext) -> RunResult {
            Ok(())
        }
    }

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

    #[test]
    fn bounds_lengths_and_patterns_are_checked_as_the_schema_states_them() {
        let batch = params::<Batch>();
        let rate = batch.iter().find(|p| p.name() == "failure_rate").unwrap();
        assert_eq!((rate.min, rate.max), (Some(0.0), Some(1.0)));
        assert!(batch.iter().find(|p| p.name() == "items").unwrap().unsigned);
        assert!(!rate.unsigned);
        let export = kind::<ExportJobs>();
        let length = |n: &str| {
            export
                .params
                .iter()
                .find(|p| p.name == n)
                .unwrap()
                .max_length
        };
        assert_eq!((length("kind"), length("search")), (Some(100), Some(200)));

        let shaped = params::<Shaped>();
        let (code, ratio) = (&shaped[0], &shaped[1]);
        assert_eq!(code.info.pattern.as_deref(), Some("[a-z]+"));
        // The form is offered the whole numbers within; the check keeps them exact.
        assert_eq!((ratio.info.min, ratio.info.max), (Some(1), Some(2)));
        let env = KindEnv::files(crate::files::Files::whole(std::env::temp_dir()));
        let refused = check(
            &shaped,
            Typing::Struct,
            json!({"code": "ab1", "ratio": 2.6}),
            &env,
        );
        let messages: Vec<&str> = refused
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(
            messages,
            ["must match the pattern [a-z]+", "must be from 0.5 to 2.5"]
        );
        let taken = check(
            &shaped,
            Typing::Struct,
            json!({"code": "ab", "ratio": 0.5}),
            &env,
        );
        assert!(taken.problems.is_empty(), "{:?}", taken.problems);
    }
}
