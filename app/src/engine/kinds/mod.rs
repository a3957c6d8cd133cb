//! Job kinds: the extension point. A kind declares its parameters (serde + validation with
//! field-level messages) and runs with a [`JobContext`].
//!
//! The [`Registry`] erases each kind's parameter type so the engine can hold them side by side.

mod demo;

pub use demo::Demo;

use super::context::JobContext;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::model::{JobError, KindInfo, ParamType};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

/// How a kind's run ended, when it did not fail.
pub type RunResult = Result<(), JobError>;

pub trait Kind: Send + Sync + 'static {
    type Params: DeserializeOwned + Serialize + Send + 'static;

    /// What the kind is called in the API and in the database (`demo`, `batch`...).
    const NAME: &'static str;

    /// Title, description and parameter descriptions, for `GET /api/v1/kinds` and the start form.
    fn info() -> KindInfo;

    /// Checks values serde accepted; returns one message per bad field.
    fn validate(params: &Self::Params) -> Vec<FieldError>;

    /// Does the work. Returning normally means success (with the level the job set).
    fn run(params: Self::Params, ctx: &mut JobContext) -> impl Future<Output = RunResult> + Send;
}

/// A kind with its parameter type erased.
trait ErasedKind: Send + Sync {
    fn info(&self) -> KindInfo;
    fn parse(&self, params: Value) -> Result<Value, AppError>;
    fn run<'a>(&self, params: Value, ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult>;
}

struct Typed<K>(std::marker::PhantomData<K>);

impl<K: Kind> ErasedKind for Typed<K> {
    fn info(&self) -> KindInfo {
        K::info()
    }

    fn parse(&self, params: Value) -> Result<Value, AppError> {
        let typed: K::Params = serde_json::from_value(params).map_err(|e| {
            AppError::invalid(vec![FieldError { field: "params".into(), message: e.to_string() }])
        })?;
        let problems = K::validate(&typed);
        if !problems.is_empty() {
            return Err(AppError::invalid(problems));
        }
        // Stored in normal form: defaults filled in, unknown fields refused above.
        Ok(serde_json::to_value(&typed).expect("params serialize"))
    }

    fn run<'a>(&self, params: Value, ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            match serde_json::from_value::<K::Params>(params) {
                Ok(p) => K::run(p, ctx).await,
                Err(e) => Err(JobError {
                    code: "bad_params".into(),
                    message: format!("stored parameters no longer parse: {e}"),
                }),
            }
        })
    }
}

/// The kinds this server can run, by name.
#[derive(Clone)]
pub struct Registry {
    kinds: Arc<BTreeMap<&'static str, Arc<dyn ErasedKind>>>,
}

impl Registry {
    /// Every built-in kind.
    pub fn builtin() -> Registry {
        let mut kinds: BTreeMap<&'static str, Arc<dyn ErasedKind>> = BTreeMap::new();
        kinds.insert(Demo::NAME, Arc::new(Typed::<Demo>(Default::default())));
        Registry { kinds: Arc::new(kinds) }
    }

    pub fn infos(&self) -> Vec<KindInfo> {
        self.kinds.values().map(|k| k.info()).collect()
    }

    /// Validates `params` for `kind` and returns them in normal form.
    pub fn parse(&self, kind: &str, params: Value) -> Result<Value, AppError> {
        self.get(kind)?.parse(params)
    }

    /// Turns form fields (all strings) into JSON params using the kind's parameter types, then
    /// validates them like [`Registry::parse`].
    pub fn parse_form(&self, kind: &str, form: &HashMap<String, String>) -> Result<Value, AppError> {
        let info = self.get(kind)?.info();
        let mut params = serde_json::Map::new();
        let mut problems = Vec::new();
        for p in &info.params {
            let Some(raw) = form.get(&p.name).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
                if p.required {
                    problems.push(FieldError { field: p.name.clone(), message: "is required".into() });
                }
                continue;
            };
            let value = match p.kind {
                ParamType::Integer => raw.parse::<i64>().map(Value::from).map_err(|_| {
                    match (p.min, p.max) {
                        (Some(lo), Some(hi)) => format!("must be a whole number from {lo} to {hi}"),
                        _ => "must be a whole number".to_string(),
                    }
                }),
                ParamType::Number => raw
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::from)
                    .ok_or_else(|| "must be a number".to_string()),
                ParamType::Boolean => match raw {
                    "true" | "on" | "1" => Ok(Value::Bool(true)),
                    "false" | "off" | "0" => Ok(Value::Bool(false)),
                    _ => Err("must be true or false".to_string()),
                },
                ParamType::String => Ok(Value::String(raw.to_string())),
            };
            match value {
                Ok(v) => {
                    params.insert(p.name.clone(), v);
                }
                Err(message) => problems.push(FieldError { field: p.name.clone(), message }),
            }
        }
        if !problems.is_empty() {
            return Err(AppError::invalid(problems));
        }
        self.parse(kind, Value::Object(params))
    }

    pub(crate) fn run<'a>(
        &self,
        kind: &str,
        params: Value,
        ctx: &'a mut JobContext,
    ) -> BoxFuture<'a, RunResult> {
        match self.kinds.get(kind) {
            Some(k) => k.run(params, ctx),
            None => {
                let message = format!("this server has no job kind {kind:?}");
                Box::pin(async move { Err(JobError { code: "unknown_kind".into(), message }) })
            }
        }
    }

    fn get(&self, kind: &str) -> Result<&Arc<dyn ErasedKind>, AppError> {
        self.kinds.get(kind).ok_or_else(|| {
            let known = self.kinds.keys().copied().collect::<Vec<_>>().join(", ");
            AppError::new(ErrorCode::UnknownKind, format!("unknown job kind {kind:?}; known kinds: {known}"))
        })
    }
}

/// Checks that an integer parameter lies in `lo..=hi`, with a message people understand.
pub fn check_range(field: &str, value: u64, lo: u64, hi: u64, out: &mut Vec<FieldError>) {
    if value < lo || value > hi {
        out.push(FieldError { field: field.into(), message: format!("must be from {lo} to {hi}") });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_kind_names_the_known_ones() {
        let err = Registry::builtin().parse("nope", json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownKind);
        assert!(err.message.contains("demo"), "{}", err.message);
    }

    #[test]
    fn form_fields_are_typed_from_the_kind_description() {
        let reg = Registry::builtin();
        let form: HashMap<String, String> =
            [("steps".into(), " 12 ".into()), ("interval_ms".into(), "5".into())].into();
        assert_eq!(reg.parse_form("demo", &form).unwrap(), json!({"steps": 12, "interval_ms": 5}));
    }

    #[test]
    fn form_errors_are_per_field() {
        let reg = Registry::builtin();
        let form: HashMap<String, String> =
            [("steps".into(), "many".into()), ("interval_ms".into(), "".into())].into();
        let err = reg.parse_form("demo", &form).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams);
        assert!(err.field("steps").unwrap().contains("whole number"));
        assert_eq!(err.field("interval_ms"), Some("is required"));
    }
}
