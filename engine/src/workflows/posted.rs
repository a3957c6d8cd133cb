//! Workflows posted with their run: a program that builds its graph as it goes (the files of
//! today's export, a step per shard) sends the definition in the body of the start,
//!
//! ```json
//! {"kind": "workflow", "params": {"workflow": {"name": "etl", "steps": [
//!   {"name": "extract", "kind": "export_jobs"},
//!   {"name": "load", "kind": "import_csv", "needs": ["extract"],
//!    "params": {"upload": "{steps.extract.outputs.jobs.csv}", "table": "jobs"}}
//! ]}, "params": {}}}
//! ```
//!
//! with the fields of one `[[workflow]]` of the workflows file (`steps` for its `step`s). It is
//! read by the file's own rules, so a posted graph can do what the operator's can and nothing
//! more: the definition is turned into the file's TOML and read as the file is
//! ([`super::file::parse`]). The run keeps its plan in its row, as every run does, so its page
//! draws its graph and its failed steps re-run; nothing else of it is kept.

use super::{file, Workflow};
use crate::caller::Caller;
use crate::jobs::{Jobs, Params, StartOptions, Started};
use crate::kinds::Registry;
use model::AppError;
use serde_json::Value;
use std::path::Path;

impl Jobs {
    /// Starts a run of a workflow posted by the caller: `body` is the run's parameters,
    /// `{"workflow": DEFINITION, "params": {…}}`, the values of its parameters in `params`.
    pub(crate) async fn start_posted(
        &self,
        caller: &Caller,
        body: Value,
        options: StartOptions,
    ) -> Result<Started, AppError> {
        caller.may_start()?;
        let Value::Object(mut body) = body else {
            return Err(AppError::invalid_field(
                "params",
                "a workflow's run takes workflow and params",
            ));
        };
        if let Some(stranger) = body.keys().find(|k| *k != "workflow" && *k != "params") {
            return Err(AppError::invalid_field(
                "params",
                format!("a workflow's run takes workflow and params, not {stranger:?}"),
            ));
        }
        let params = match body.remove("params") {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(given) => given,
        };
        let definition = body.remove("workflow").unwrap_or_default();
        let workflow = read(&definition, &self.inner.kinds, |name| {
            self.inner.workflows.get(name).is_some()
        })?;
        let values = self
            .run_values(&self.opens_of(caller), &workflow, Params::Json(params))
            .await?;
        self.start_run(caller, &workflow, values, options).await
    }
}

/// The field a posted definition is refused in.
const FIELD: &str = "params.workflow";

/// The largest definition read, in bytes of its JSON: a hundred steps with their parameters.
pub const MAX_DEFINITION: usize = 256 * 1024;

/// Reads the posted `definition` into a workflow of steps of `kinds`; `taken` says whether a
/// workflow of the server is called by a name (a posted one may not take it, or its page would
/// offer to start the server's). Why not, in the field `params.workflow`.
pub(crate) fn read(
    definition: &Value,
    kinds: &Registry,
    taken: impl Fn(&str) -> bool,
) -> Result<Workflow, AppError> {
    let refused = |message: String| AppError::invalid_field(FIELD, message);
    let Value::Object(fields) = definition else {
        return Err(refused(
            "a workflow is its name or its definition: an object with a name and steps".into(),
        ));
    };
    let size = definition.to_string().len();
    if size > MAX_DEFINITION {
        return Err(refused(format!(
            "the definition has {size} bytes, more than {MAX_DEFINITION}"
        )));
    }
    let mut fields = fields.clone();
    if fields.contains_key("step") {
        return Err(refused(
            "a posted workflow lists its steps in \"steps\"".into(),
        ));
    }
    if let Some(steps) = fields.remove("steps") {
        fields.insert("step".into(), steps);
    }
    if let Some(name) = fields.get("name").and_then(Value::as_str) {
        if taken(name) {
            return Err(refused(format!(
                "this server has a workflow called {name:?}: give yours another name"
            )));
        }
    }
    let toml_value = toml::Value::try_from(Value::Object(fields)).map_err(|e| {
        refused(format!(
            "the definition holds what a workflow cannot ({e}): leave out fields that are null"
        ))
    })?;
    let mut file = toml::Table::new();
    file.insert("workflow".into(), toml::Value::Array(vec![toml_value]));
    let text = toml::to_string(&file)
        .map_err(|e| refused(format!("the definition cannot be read: {e}")))?;
    // A posted workflow speaks its poster's words only: it declares no other language.
    let mut read = file::parse(Path::new("workflow"), &text, &kinds.infos(), &[])
        .map_err(|e| refused(e.message))?;
    match read.pop() {
        Some(workflow) if read.is_empty() => Ok(workflow),
        _ => Err(refused("a posted definition is one workflow".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posted(definition: Value) -> Result<Workflow, String> {
        read(&definition, &Registry::builtin(), |name| name == "nightly").map_err(|e| {
            assert_eq!(e.fields[0].field, FIELD, "{e:?}");
            e.fields[0].message.clone()
        })
    }

    #[test]
    fn a_posted_definition_reads_as_the_file_would_with_nested_parameters() {
        let w = posted(json!({
            "name": "etl",
            "title": "Extract, then load",
            "on_failure": "finish",
            "params": {"table": {"type": "string", "pattern": "[a-z]+"}},
            "steps": [
                {"name": "extract", "kind": "export_jobs", "params": {"format": "csv"}},
                {"name": "load", "kind": "import_csv", "needs": ["extract"],
                 "params": {"upload": "{steps.extract.outputs.jobs.csv}", "table": "{table}"}},
                {"name": "each", "kind": "demo", "each": "{steps.extract.result.rows}",
                 "needs": ["extract"], "concurrency": 4,
                 "params": {"steps": 2, "interval_ms": 0}}
            ]
        }))
        .unwrap();
        assert_eq!(w.info.name, "etl");
        assert_eq!(w.info.title, "Extract, then load");
        assert_eq!(w.on_failure, super::super::OnFailure::Finish);
        assert_eq!(w.params[0].name(), "table");
        assert_eq!(w.graph.needs(1), [0]);
        assert_eq!(
            w.steps[1].params,
            json!({"upload": "{steps.extract.outputs.jobs.csv}", "table": "{table}"})
        );
        assert_eq!(w.steps[2].each.as_ref().unwrap().concurrency, Some(4));
    }

    #[test]
    fn a_bad_definition_is_refused_saying_what_as_the_file_would() {
        let step = |kind: &str| json!({"name": "w", "steps": [{"name": "a", "kind": kind}]});
        for (definition, says) in [
            (
                json!("x"),
                "a workflow is its name or its definition".to_string(),
            ),
            (json!([]), "a workflow is its name or its definition".into()),
            (
                step("nope"),
                "kind \"nope\" is not a kind that runs here".into(),
            ),
            (
                json!({"name": "nightly", "steps": [{"name": "a", "kind": "demo"}]}),
                "this server has a workflow called \"nightly\"".into(),
            ),
            (
                json!({"name": "demo", "steps": [{"name": "a", "kind": "demo"}]}),
                "the workflow name \"demo\" is a kind's".into(),
            ),
            (
                json!({"name": "w", "steps": []}),
                "at least one step".into(),
            ),
            (
                json!({"name": "w", "step": [{"name": "a", "kind": "demo"}]}),
                "lists its steps in \"steps\"".into(),
            ),
            (
                json!({"name": "w", "steps": [{"name": "a", "kind": "demo", "title": null}]}),
                "leave out fields that are null".into(),
            ),
            (
                json!({"name": "w", "steps": [{"name": "a", "kind": "demo", "needs": ["a"]}]}),
                "needs itself".into(),
            ),
            (
                json!({"name": "w", "steps": [{"name": "a", "kind": "import_csv",
                    "params": {"upload": "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93", "table": "t"}}]}),
                "its file parameter \"upload\" takes a file parameter of the workflow".into(),
            ),
            (
                json!({"name": "w", "colour": "red", "steps": [{"name": "a", "kind": "demo"}]}),
                "unknown field `colour`".into(),
            ),
            (
                json!({"name": "w", "steps": (0..=model::workflows::MAX_STEPS)
                    .map(|i| json!({"name": format!("s{i}"), "kind": "demo"}))
                    .collect::<Vec<_>>()}),
                "at most 100 steps".into(),
            ),
            (
                json!({"name": "w", "description": "x".repeat(MAX_DEFINITION),
                    "steps": [{"name": "a", "kind": "demo"}]}),
                "more than 262144".into(),
            ),
        ] {
            let e = posted(definition.clone()).unwrap_err();
            assert!(e.contains(&says), "{definition}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
