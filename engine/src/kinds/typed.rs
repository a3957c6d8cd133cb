//! A compiled-in [`Kind`] as the registry holds it. Its parameters are checked in three steps,
//! each refusal a message on its field, every field's at once, in the order of the form:
//!
//! 1. the one checker ([`super::check`]) checks them against the kind's description: required
//!    values and defaults, bounds, lengths, patterns, choices and sets, the same words as a
//!    command's;
//! 2. serde reads what it passed into the kind's struct, and refuses, in its words, what the
//!    struct's types decide: a value of another JSON type, a negative number for an unsigned
//!    field, a name that is not a field;
//! 3. garde runs the struct's own checks, those the description cannot state because they need
//!    the [`KindEnv`]: that a path is inside the caller's folder and exists, that an upload is
//!    the caller's and of the field's file type.

use super::check::{self, ParamSpec, Typing};
use super::{describe, ErasedKind, JobContext, Kind, KindEnv, Retry, RunResult};
use futures::future::BoxFuture;
use model::{AppError, FieldError, JobError, KindInfo, ParamType, Said, Words};
use serde_json::Value;
use std::marker::PhantomData;
use std::time::Duration;

pub(super) struct Typed<K> {
    info: KindInfo,
    params: Vec<ParamSpec>,
    requires: Vec<String>,
    kind: PhantomData<K>,
}

impl<K: Kind> Typed<K> {
    pub(super) fn new() -> Typed<K> {
        Typed {
            info: describe::kind::<K>(),
            params: describe::params::<K>(),
            requires: K::REQUIRES.iter().map(|t| t.to_string()).collect(),
            kind: PhantomData,
        }
    }
}

impl<K: Kind> ErasedKind for Typed<K> {
    fn info(&self) -> &KindInfo {
        &self.info
    }

    fn resumable(&self) -> bool {
        K::RESUMABLE
    }

    fn default_timeout(&self) -> Option<Duration> {
        K::DEFAULT_TIMEOUT
    }

    fn max_running(&self) -> Option<usize> {
        K::MAX_RUNNING
    }

    fn limits(&self) -> Vec<model::limits::Limit> {
        K::LIMITS.iter().map(|l| l.of(K::NAME)).collect()
    }

    fn retry(&self) -> Retry {
        K::RETRY
    }

    fn requires(&self) -> &[String] {
        &self.requires
    }

    fn opens_files(&self) -> bool {
        K::OPENS_FILES || self.info.takes(ParamType::File)
    }

    fn parse(&self, params: Value, env: &KindEnv) -> Result<Value, AppError> {
        let checked = check::check(&self.params, Typing::Struct, params, env);
        let mut problems = checked.problems;
        // Read even when the checker refused a field, so that the other fields' own checks
        // are told at once; a field keeps the first message it was given.
        match serde_path_to_error::deserialize::<_, K::Params>(Value::Object(checked.values)) {
            Ok(typed) => {
                if let Err(report) = garde::Validate::validate_with(&typed, env) {
                    for (path, error) in report.iter() {
                        let path = path.to_string();
                        add(&mut problems, field_of(&path), error.message());
                    }
                }
                if problems.is_empty() {
                    // Stored in normal form: as the struct writes itself.
                    return serde_json::to_value(&typed).map_err(|e| {
                        AppError::internal_because("a kind's parameters could not be written", e)
                    });
                }
            }
            Err(e) => {
                let field = match e.path().iter().next() {
                    Some(serde_path_to_error::Segment::Map { key }) => Some(key.clone()),
                    _ => None,
                };
                match field {
                    Some(field) => add(&mut problems, &field, &e.inner().to_string()),
                    // A struct-wide refusal says nothing the checker has not said already.
                    None if problems.is_empty() => {
                        add(&mut problems, "params", &e.inner().to_string())
                    }
                    None => {}
                }
            }
        }
        check::in_form_order(&self.info.params, &mut problems);
        Err(AppError::invalid(problems))
    }

    fn run<'a>(&self, params: Value, ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            match serde_json::from_value::<K::Params>(params) {
                Ok(p) => K::run(p, ctx).await,
                Err(e) => Err(JobError::new(
                    "bad_params",
                    format!("stored parameters no longer parse: {e}"),
                )),
            }
        })
    }
}

/// The field a garde path starts with (`upload` of `upload.id`); `params` for the struct.
fn field_of(path: &str) -> &str {
    match path.split(['.', '[']).next() {
        Some(field) if !field.is_empty() => field,
        _ => "params",
    }
}

/// `message` for `field`, unless the field has one already.
fn add(problems: &mut Vec<FieldError>, field: &str, message: &str) {
    if !problems.iter().any(|p| p.field == field) {
        problems.push(taken_apart(field, message));
    }
}

/// A kind's own check refusing in Headway's words ([`model::words`]). garde carries only a
/// message, so the words' id and values travel after the English, behind a NUL, which the
/// engine's English never holds (and their JSON escapes); [`taken_apart`] parts them again.
pub fn refuse(words: Words) -> garde::Error {
    match serde_json::to_string(&words.said) {
        Ok(said) => garde::Error::new(format!("{}\u{0}{said}", words.english)),
        Err(_) => garde::Error::new(words.english),
    }
}

/// The field's refusal from a garde message: in words when [`refuse`] made it, else in the
/// English it has.
pub(crate) fn taken_apart(field: &str, message: &str) -> FieldError {
    let parted = message.rsplit_once('\u{0}').and_then(|(english, said)| {
        let said = serde_json::from_str::<Said>(said).ok()?;
        Some(Words {
            english: english.to_string(),
            said,
        })
    });
    match parted {
        Some(words) => FieldError::words(field, words),
        None => FieldError::new(field, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    /// A kind of these tests: a name its own check refuses, and a bounded size.
    struct Probe;

    #[derive(Serialize, Deserialize, JsonSchema, garde::Validate)]
    #[serde(deny_unknown_fields)]
    #[garde(context(KindEnv))]
    struct ProbeParams {
        #[garde(custom(not_nope))]
        name: String,
        #[schemars(range(min = 1, max = 10))]
        #[serde(default = "three")]
        #[garde(skip)]
        size: u64,
    }

    fn three() -> u64 {
        3
    }

    fn not_nope(name: &str, _: &KindEnv) -> garde::Result {
        match name {
            "nope" => Err(garde::Error::new("may not be nope")),
            "gone" => Err(refuse(model::words::files::does_not_exist())),
            _ => Ok(()),
        }
    }

    impl Kind for Probe {
        type Params = ProbeParams;
        const NAME: &'static str = "probe";
        const OPENS_FILES: bool = false;

        async fn run(_: ProbeParams, _: &mut JobContext) -> RunResult {
            Ok(())
        }
    }

    fn env() -> KindEnv {
        KindEnv::files(crate::files::Files::whole(std::env::temp_dir()))
    }

    fn refused(kind: &str, params: Value) -> AppError {
        Registry::builtin()
            .with::<Probe>()
            .parse(kind, params, &env())
            .unwrap_err()
    }

    fn fields(e: &AppError) -> Vec<(&str, &str)> {
        e.fields
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect()
    }

    /// A kind's own check in words keeps them through garde: the English for the API, the id
    /// and values for a page to say.
    #[test]
    fn a_kinds_own_refusal_in_words_reaches_the_field_with_them() {
        let e = refused("probe", json!({"name": "gone"}));
        assert_eq!(fields(&e), [("name", "does not exist")]);
        assert_eq!(
            e.fields[0].said,
            Some(model::words::files::does_not_exist().said)
        );
        assert_eq!(e.message, "name: does not exist");
        // Plain words stay plain.
        let e = refused("probe", json!({"name": "nope"}));
        assert_eq!(e.fields[0].said, None);
        assert_eq!(
            taken_apart("f", "a\u{0}{not json").message,
            "a\u{0}{not json"
        );
    }

    #[test]
    fn the_checker_serde_and_garde_are_told_together_in_the_order_of_the_form() {
        let e = refused("probe", json!({"size": 0, "name": "nope"}));
        assert_eq!(
            fields(&e),
            [
                ("name", "may not be nope"),
                ("size", "must be from 1 to 10")
            ]
        );
        let e = refused("probe", json!({"size": 11, "name": 5}));
        assert_eq!(
            fields(&e),
            [
                ("name", "invalid type: integer `5`, expected a string"),
                ("size", "must be from 1 to 10")
            ]
        );
        let e = refused("probe", json!({"name": "a", "x": 1}));
        assert_eq!(
            fields(&e),
            [("x", "unknown field `x`, expected `name` or `size`")]
        );
        assert_eq!(
            Registry::builtin()
                .with::<Probe>()
                .parse("probe", json!({"name": "a"}), &env())
                .unwrap(),
            json!({"name": "a", "size": 3})
        );
    }

    #[test]
    fn a_refusal_tells_the_field_and_what_is_wrong_with_it() {
        // As the API's callers read them (server/tests/it/api.rs).
        for (params, says) in [
            (
                json!({"steps": 0, "interval_ms": 1}),
                "steps: must be from 1 to 100000",
            ),
            (
                json!({"steps": 1, "interval_ms": 60001}),
                "interval_ms: must be from 0 to 60000",
            ),
            (json!({"steps": 1}), "interval_ms: is required"),
            (
                json!({"steps": 1, "interval_ms": 1, "x": 1}),
                "x: unknown field `x`",
            ),
            (
                json!({"steps": "ten", "interval_ms": 1}),
                "steps: invalid type",
            ),
            (
                json!({"steps": -5, "interval_ms": 1}),
                "steps: invalid value",
            ),
            (
                json!({"steps": 1e300, "interval_ms": 1}),
                "steps: invalid type",
            ),
        ] {
            let e = refused("demo", params.clone());
            assert_eq!(e.code, model::ErrorCode::InvalidParams);
            assert!(e.message.starts_with(says), "{params}: {}", e.message);
        }
    }

    #[test]
    fn an_upload_is_checked_by_its_field_type() {
        let e = refused(
            "import_csv",
            json!({"upload": "someone-elses", "table": "t"}),
        );
        assert_eq!(e.fields.len(), 1, "{e:?}");
        assert_eq!(e.fields[0].field, "upload");
        assert!(
            e.fields[0]
                .message
                .contains("is neither one of your uploads"),
            "{e:?}"
        );
    }
}
