//! Job kinds: the extension point. A kind declares its parameters (serde + validation with
//! field-level messages) and runs with a [`JobContext`].
//!
//! The [`Registry`] erases each kind's parameter type so the engine can hold them side by side.

mod batch;
mod checksum;
mod demo;
mod import_csv;
pub mod paths;

pub use batch::Batch;
pub use checksum::Checksum;
pub use demo::Demo;
pub use import_csv::ImportCsv;

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

    /// A resumable kind saves checkpoints ([`JobContext::checkpoint`]); when the server stops
    /// while it runs, it is queued again and continues from its last checkpoint instead of
    /// ending `interrupted`.
    const RESUMABLE: bool = false;

    /// How long a job of this kind may run unless its own `timeout_ms` says otherwise.
    const DEFAULT_TIMEOUT: Option<std::time::Duration> = None;

    /// How many jobs of this kind may run at once (besides the global limit).
    const MAX_RUNNING: Option<usize> = None;

    /// Title, description and parameter descriptions, for `GET /api/v1/kinds` and the start form.
    fn info() -> KindInfo;

    /// Checks values serde accepted; returns one message per bad field. File-based kinds check
    /// their paths against `env.data_root` here, so that a bad path is a 4xx, not a failed job.
    fn validate(params: &Self::Params, env: &KindEnv) -> Vec<FieldError>;

    /// Does the work. Returning normally means success (with the level the job set).
    fn run(params: Self::Params, ctx: &mut JobContext) -> impl Future<Output = RunResult> + Send;
}

/// What kinds may know about the server when they validate parameters.
#[derive(Debug, Clone)]
pub struct KindEnv {
    /// The directory file-based kinds may read and write in; nothing outside it.
    pub data_root: std::path::PathBuf,
}

/// A kind with its parameter type erased.
trait ErasedKind: Send + Sync {
    fn info(&self) -> KindInfo;
    fn resumable(&self) -> bool;
    fn default_timeout(&self) -> Option<std::time::Duration>;
    fn max_running(&self) -> Option<usize>;
    fn parse(&self, params: Value, env: &KindEnv) -> Result<Value, AppError>;
    fn run<'a>(&self, params: Value, ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult>;
}

struct Typed<K>(std::marker::PhantomData<K>);

impl<K: Kind> ErasedKind for Typed<K> {
    fn info(&self) -> KindInfo {
        K::info()
    }

    fn resumable(&self) -> bool {
        K::RESUMABLE
    }

    fn default_timeout(&self) -> Option<std::time::Duration> {
        K::DEFAULT_TIMEOUT
    }

    fn max_running(&self) -> Option<usize> {
        K::MAX_RUNNING
    }

    fn parse(&self, params: Value, env: &KindEnv) -> Result<Value, AppError> {
        let typed: K::Params = serde_json::from_value(params).map_err(|e| {
            AppError::invalid(vec![FieldError { field: "params".into(), message: e.to_string() }])
        })?;
        let problems = K::validate(&typed, env);
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
    env: Arc<KindEnv>,
}

impl Registry {
    /// Every built-in kind.
    pub fn builtin(env: KindEnv) -> Registry {
        let mut kinds: BTreeMap<&'static str, Arc<dyn ErasedKind>> = BTreeMap::new();
        fn add<K: Kind>(kinds: &mut BTreeMap<&'static str, Arc<dyn ErasedKind>>) {
            kinds.insert(K::NAME, Arc::new(Typed::<K>(Default::default())));
        }
        add::<Demo>(&mut kinds);
        add::<Batch>(&mut kinds);
        add::<Checksum>(&mut kinds);
        add::<ImportCsv>(&mut kinds);
        Registry { kinds: Arc::new(kinds), env: Arc::new(env) }
    }

    pub fn env(&self) -> &KindEnv {
        &self.env
    }

    pub fn is_resumable(&self, kind: &str) -> bool {
        self.kinds.get(kind).is_some_and(|k| k.resumable())
    }

    pub fn default_timeout(&self, kind: &str) -> Option<std::time::Duration> {
        self.kinds.get(kind).and_then(|k| k.default_timeout())
    }

    pub fn max_running(&self, kind: &str) -> Option<usize> {
        self.kinds.get(kind).and_then(|k| k.max_running())
    }

    pub fn infos(&self) -> Vec<KindInfo> {
        self.kinds.values().map(|k| k.info()).collect()
    }

    /// Validates `params` for `kind` and returns them in normal form.
    pub fn parse(&self, kind: &str, params: Value) -> Result<Value, AppError> {
        self.get(kind)?.parse(params, &self.env)
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

    fn registry() -> Registry {
        Registry::builtin(KindEnv { data_root: std::env::temp_dir() })
    }

    #[test]
    fn unknown_kind_names_the_known_ones() {
        let err = registry().parse("nope", json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownKind);
        assert!(err.message.contains("demo"), "{}", err.message);
    }

    #[test]
    fn form_fields_are_typed_from_the_kind_description() {
        let reg = registry();
        let form: HashMap<String, String> =
            [("steps".into(), " 12 ".into()), ("interval_ms".into(), "5".into())].into();
        assert_eq!(reg.parse_form("demo", &form).unwrap(), json!({"steps": 12, "interval_ms": 5}));
    }

    #[test]
    fn form_errors_are_per_field() {
        let reg = registry();
        let form: HashMap<String, String> =
            [("steps".into(), "many".into()), ("interval_ms".into(), "".into())].into();
        let err = reg.parse_form("demo", &form).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams);
        assert!(err.field("steps").unwrap().contains("whole number"));
        assert_eq!(err.field("interval_ms"), Some("is required"));
    }
}
