//! The workflows file: TOML the operator writes, read into [`Workflow`]s. Everything that can be
//! checked before a run is checked when the file is read (names, the graph, each step's kind and
//! the names of its parameters, every `{…}` reference), so that a mistake stops start-up, or a
//! reload, with one line that says where and what.
//!
//! ```toml
//! [[workflow]]
//! name = "nightly"                 # as a command's name; never a kind's
//! title = "Nightly import"
//! on_failure = "cancel"            # or "finish": steps that do not need the failed one run on
//!
//! [workflow.params.day]            # typed parameters, as a command's
//! type = "string"
//!
//! [[workflow.step]]
//! name = "pack"
//! kind = "archive"                 # a built-in or command kind that runs here
//! params = { folder = "exports/{day}", level = 9 }
//!
//! [[workflow.step]]
//! name = "load"
//! kind = "import_csv"
//! needs = ["pack"]                 # starts once pack succeeded
//! params = { upload = "{steps.pack.outputs.rows.csv}" }   # pack's output, as a file
//! ```
//!
//! A step's `params` are a template ([`model::workflows::Template`]): `{NAME}` a parameter of
//! the workflow, `{steps.STEP.result}` (or `.result.PATH`) and `{steps.STEP.outputs.NAME}` what a
//! step it waits for left. A file parameter of a step's kind takes a file parameter of the
//! workflow or an output of a step it needs, nothing else.

use super::{OnFailure, Step, Workflow, WORKFLOW_KIND};
use crate::commands::file::{declared, from_toml, name_refused, read_text, ParamToml, TextsToml};
use crate::commands::FileError;
use crate::kinds::check::ParamSpec;
use indexmap::IndexMap;
use model::workflows::{Graph, Template};
use model::KindInfo;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    workflow: Vec<Spanned<WorkflowToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowToml {
    name: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    description: String,
    /// `"cancel"` (the default) or `"finish"`.
    on_failure: Option<Spanned<String>>,
    #[serde(default)]
    params: IndexMap<String, Spanned<ParamToml>>,
    #[serde(default)]
    i18n: IndexMap<String, Spanned<TextsToml>>,
    #[serde(default)]
    step: Vec<Spanned<StepToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepToml {
    name: Spanned<String>,
    title: Option<String>,
    kind: Spanned<String>,
    #[serde(default)]
    needs: Vec<String>,
    #[serde(default)]
    params: toml::Table,
    /// A fan-out: one reference to a list; the step's kind runs once per item.
    each: Option<Spanned<String>>,
    /// With `each`: at most this many items at once.
    concurrency: Option<Spanned<i64>>,
    /// With `each`: the percent of items that must succeed (100 unless said).
    succeed_at: Option<Spanned<i64>>,
}

/// Reads the workflows file at `path`. `kinds` are the kinds a step may be (the built-in and
/// command kinds that run here); `languages` the tags of the languages the pages speak.
pub fn read(
    path: &Path,
    kinds: &[KindInfo],
    languages: &[&str],
) -> Result<Vec<Workflow>, FileError> {
    parse(path, &read_text(path)?, kinds, languages)
}

/// Reads the workflows file's `text` (from `path`, for messages).
pub fn parse(
    path: &Path,
    text: &str,
    kinds: &[KindInfo],
    languages: &[&str],
) -> Result<Vec<Workflow>, FileError> {
    let at =
        |span: std::ops::Range<usize>, message: String| FileError::at(path, text, span, message);
    let file: FileToml = from_toml(path, text)?;
    let mut workflows: Vec<Workflow> = Vec::new();
    for entry in file.workflow {
        let span = entry.span();
        let w = entry.into_inner();
        let name = w.name.get_ref().clone();
        let taken = workflows.iter().any(|k| k.info.name == name);
        if let Some(refused) = name_refused("workflow", &name, taken) {
            return Err(at(w.name.span(), refused));
        }
        if kinds.iter().any(|k| k.name == name) || name == WORKFLOW_KIND {
            return Err(at(
                w.name.span(),
                format!("the workflow name {name:?} is a kind's: give it another"),
            ));
        }
        let here = |span, message: String| at(span, format!("workflow {name:?}: {message}"));
        let on_failure = match w
            .on_failure
            .as_ref()
            .map(|o| (o.get_ref().as_str(), o.span()))
        {
            None | Some(("cancel", _)) => OnFailure::Cancel,
            Some(("finish", _)) => OnFailure::Finish,
            Some((other, s)) => {
                return Err(here(
                    s,
                    format!("on_failure must be \"cancel\" or \"finish\", not {other:?}"),
                ))
            }
        };
        let (params, translations) =
            declared(w.i18n, w.params, languages).map_err(|(span, m)| here(span, m))?;
        let edges: Vec<(&str, Vec<&str>)> = w
            .step
            .iter()
            .map(|s| {
                let s = s.get_ref();
                (
                    s.name.get_ref().as_str(),
                    s.needs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let graph = Graph::new(&edges).map_err(|e| here(span.clone(), e.to_string()))?;
        let names: Vec<&str> = params.iter().map(|p| p.name()).collect();
        let mut steps = Vec::with_capacity(w.step.len());
        for (n, s) in w.step.iter().enumerate() {
            let sspan = s.span();
            let s = s.get_ref();
            let step = s.name.get_ref();
            let here = |span, message: String| {
                at(span, format!("workflow {name:?}, step {step:?}: {message}"))
            };
            let kind_name = s.kind.get_ref();
            let Some(kind) = kinds.iter().find(|k| k.name == *kind_name) else {
                return Err(here(
                    s.kind.span(),
                    format!(
                        "kind {kind_name:?} is not a kind that runs here; they are: {}",
                        kinds
                            .iter()
                            .map(|k| k.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            let given = serde_json::to_value(&s.params).map_err(|e| {
                here(
                    sspan.clone(),
                    format!("its params cannot be read as JSON: {e}"),
                )
            })?;
            for key in s.params.keys() {
                if key != "timeout_ms" && !kind.params.iter().any(|p| p.name == *key) {
                    return Err(here(
                        sspan.clone(),
                        format!(
                            "{kind_name} has no parameter {key:?}; its parameters are: {}",
                            kind.params
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            if let Some(missing) = kind
                .params
                .iter()
                .find(|p| p.required && p.default.is_none() && !s.params.contains_key(&p.name))
            {
                return Err(here(
                    sspan.clone(),
                    format!(
                        "{kind_name} needs its parameter {:?}; give it in params",
                        missing.name
                    ),
                ));
            }
            let each = fan_out(s, &graph, n, &names).map_err(|(span, m)| here(span, m))?;
            // A fan-out's parameters may use its item and the item's place.
            let mut usable = names.clone();
            if each.is_some() {
                usable.extend(["item", "index"]);
            }
            Template::parse(&given)
                .and_then(|t| t.check(&graph, n, &usable))
                .map_err(|m| here(sspan.clone(), m))?;
            if let Some(m) = file_problem(kind, &s.params, &params) {
                return Err(here(sspan.clone(), m));
            }
            steps.push(Step {
                name: step.clone(),
                title: s.title.clone(),
                kind: kind_name.clone(),
                params: given,
                each,
            });
        }
        let title = w.title.unwrap_or_else(|| name.clone());
        workflows.push(Workflow {
            info: KindInfo {
                name: name.clone(),
                title,
                description: w.description,
                params: params.iter().map(|p| p.info.clone()).collect(),
                paused: None,
                retry: crate::kinds::Retry::NEVER.info(),
                priority: model::Priority::NORMAL,
                translations,
                requires: Vec::new(),
                on_workers: false,
            },
            params,
            on_failure,
            graph,
            steps,
        });
    }
    Ok(workflows)
}

/// Why a file parameter of the step's `kind` in its `given` parameters names what no file
/// parameter may take, if one does. A step's file is a file of the run's owner: one the
/// workflow's own file parameter names (checked as theirs when the run starts) or an output of
/// a step it needs. Text, an item of a list or a result is none of these, and a step rendered
/// once its needs ended is not checked again.
fn file_problem(kind: &KindInfo, given: &toml::Table, params: &[ParamSpec]) -> Option<String> {
    use model::workflows::Ref;
    use model::ParamType;
    kind.params
        .iter()
        .filter(|p| p.kind == ParamType::File)
        .filter_map(|p| Some((p, given.get(&p.name)?)))
        .find_map(|(p, value)| {
            let template = value
                .as_str()
                .and_then(|v| Template::parse(&serde_json::Value::String(v.into())).ok());
            match template {
                Some(Template::Whole(Ref::Output { .. })) => None,
                Some(Template::Whole(Ref::Param(name)))
                    if params
                        .iter()
                        .any(|w| w.name() == name && w.kind() == ParamType::File) =>
                {
                    None
                }
                _ => Some(format!(
                    "its file parameter {:?} takes a file parameter of the workflow ({{NAME}}) \
                     or an output of a step it needs ({{steps.STEP.outputs.NAME}}), not {value}",
                    p.name
                )),
            }
        })
}

/// A step's `each`, `concurrency` and `succeed_at`, checked; `None` for a step that does not
/// fan out (which may not say the other two).
fn fan_out(
    s: &StepToml,
    graph: &Graph,
    n: usize,
    params: &[&str],
) -> Result<Option<model::workflows::EachSpec>, (std::ops::Range<usize>, String)> {
    let Some(list) = &s.each else {
        for (field, given) in [
            ("concurrency", &s.concurrency),
            ("succeed_at", &s.succeed_at),
        ] {
            if let Some(given) = given {
                return Err((given.span(), format!("{field} is for a step with each")));
            }
        }
        return Ok(None);
    };
    let template = Template::parse(&serde_json::Value::String(list.get_ref().clone()))
        .map_err(|m| (list.span(), m))?;
    if !matches!(template, Template::Whole(_)) {
        return Err((
            list.span(),
            "each names one list: a parameter ({files}) or a step's result ({steps.list.result.rows})"
                .into(),
        ));
    }
    template
        .check(graph, n, params)
        .map_err(|m| (list.span(), m))?;
    let concurrency = match &s.concurrency {
        None => None,
        Some(c) if (1..=i64::from(u32::MAX)).contains(c.get_ref()) => Some(*c.get_ref() as u32),
        Some(c) => return Err((c.span(), "concurrency must be at least 1".into())),
    };
    let succeed_at = match &s.succeed_at {
        None => 100,
        Some(p) if (1..=100).contains(p.get_ref()) => *p.get_ref() as u8,
        Some(p) => return Err((p.span(), "succeed_at is a percent, from 1 to 100".into())),
    };
    Ok(Some(model::workflows::EachSpec {
        list: list.get_ref().clone(),
        concurrency,
        succeed_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{ParamInfo, ParamType};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn kind(name: &str, params: &[(&str, bool)]) -> KindInfo {
        KindInfo {
            name: name.into(),
            title: format!("{name} title"),
            description: String::new(),
            params: params
                .iter()
                .map(|(p, required)| ParamInfo {
                    required: *required,
                    ..ParamInfo::named(p, ParamType::String)
                })
                .collect(),
            paused: None,
            retry: crate::kinds::Retry::NEVER.info(),
            requires: Vec::new(),
            on_workers: false,
            priority: model::Priority::NORMAL,
            translations: BTreeMap::new(),
        }
    }

    fn kinds() -> Vec<KindInfo> {
        vec![
            kind("archive", &[("folder", true), ("level", false)]),
            kind("import_csv", &[("file", true), ("delimiter", false)]),
            kind("notify", &[]),
        ]
    }

    fn parsed(text: &str) -> Result<Vec<Workflow>, String> {
        parse(
            &PathBuf::from("workflows.toml"),
            text,
            &kinds(),
            &["en", "zh-CN"],
        )
        .map_err(|e| e.to_string())
    }

    const NIGHTLY: &str = r#"
[[workflow]]
name = "nightly"
title = "Nightly import"
on_failure = "finish"

[workflow.params.day]
type = "string"
pattern = "[0-9]{4}-[0-9]{2}-[0-9]{2}"

[[workflow.step]]
name = "pack"
kind = "archive"
params = { folder = "exports/{day}", level = 9 }

[[workflow.step]]
name = "load"
kind = "import_csv"
needs = ["pack"]
params = { file = "{steps.pack.outputs.rows.csv}" }

[[workflow.step]]
name = "tell"
title = "Tell the team"
kind = "notify"
needs = ["load", "pack"]
"#;

    #[test]
    fn a_workflow_reads_into_its_graph_and_steps() {
        let w = parsed(NIGHTLY).unwrap();
        assert_eq!(w.len(), 1);
        let w = &w[0];
        assert_eq!(w.info.name, "nightly");
        assert_eq!(w.info.title, "Nightly import");
        assert_eq!(w.on_failure, OnFailure::Finish);
        assert_eq!(w.params.len(), 1);
        assert_eq!(w.graph.order(), [0, 1, 2]);
        assert_eq!(w.graph.needs(2), [1, 0]);
        assert_eq!(
            w.steps[0].title, None,
            "a step without a title is called by its name"
        );
        assert_eq!(w.steps[2].title.as_deref(), Some("Tell the team"));
        let values = model::workflows::run::RunValues {
            params: serde_json::Map::from_iter([("day".to_string(), json!("2026-11-27"))]),
            ..Default::default()
        };
        let step = model::workflows::PlanStep {
            name: w.steps[0].name.clone(),
            kind: w.steps[0].kind.clone(),
            needs: Vec::new(),
            each: None,
            params: w.steps[0].params.clone(),
        };
        assert_eq!(
            model::workflows::run::render_step(&step, &values).unwrap(),
            json!({"folder": "exports/2026-11-27", "level": 9})
        );
    }

    #[test]
    fn mistakes_say_where_and_what_on_one_line() {
        let cases: [(&str, &str, &str); 9] = [
            ("name = \"nightly\"", "name = \"Nightly\"", "workflows.toml:3: the workflow name \"Nightly\" must start"),
            ("name = \"nightly\"", "name = \"archive\"", "workflows.toml:3: the workflow name \"archive\" is a kind's"),
            ("on_failure = \"finish\"", "on_failure = \"stop\"", "workflows.toml:5: workflow \"nightly\": on_failure must be \"cancel\" or \"finish\", not \"stop\""),
            ("kind = \"import_csv\"", "kind = \"import\"", "workflows.toml:18: workflow \"nightly\", step \"load\": kind \"import\" is not a kind that runs here; they are: archive, import_csv, notify"),
            ("needs = [\"pack\"]", "needs = [\"tell\"]", "workflow \"nightly\": the steps need each other in a circle: load → tell → load"),
            ("needs = [\"load\", \"pack\"]", "needs = [\"load\", \"packs\"]", "workflow \"nightly\": step \"tell\" needs \"packs\", which is not a step of the workflow"),
            ("{ folder = \"exports/{day}\", level = 9 }", "{ folder = \"exports/{days}\" }", "step \"pack\": {days} is not a parameter of the workflow"),
            ("{ file = \"{steps.pack.outputs.rows.csv}\" }", "{ file = \"{steps.tell.result}\" }", "step \"load\": it uses step \"tell\", which it does not need"),
            ("{ folder = \"exports/{day}\", level = 9 }", "{ level = 9 }", "step \"pack\": archive needs its parameter \"folder\""),
        ];
        for (from, to, says) in cases {
            assert!(NIGHTLY.contains(from), "{from}");
            let e = parsed(&NIGHTLY.replace(from, to)).unwrap_err();
            assert!(e.contains(says), "{to}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = parsed(&NIGHTLY.replace("level = 9 }", "level = 9, speed = 1 }")).unwrap_err();
        assert!(
            e.contains("archive has no parameter \"speed\"; its parameters are: folder, level"),
            "{e}"
        );
        let e = parsed(&format!(
            "{NIGHTLY}\n{}",
            &NIGHTLY
                [NIGHTLY.find("[[workflow]]").unwrap()..NIGHTLY.find("[workflow.params").unwrap()]
        ))
        .unwrap_err();
        assert!(e.contains("a second workflow is named \"nightly\""), "{e}");
        let e = parsed("[[workflow]]\nname = \"empty\"\n").unwrap_err();
        assert!(
            e.ends_with("workflow \"empty\": a workflow needs at least one step"),
            "{e}"
        );
        let e = parsed("[[workflow]]\nname = \"x\"\nsteps = 1\n").unwrap_err();
        assert!(
            e.starts_with("workflows.toml:3: unknown field `steps`"),
            "{e}"
        );
    }

    #[test]
    fn a_fan_out_names_one_list_it_may_read_and_sane_bounds() {
        let fans = |each: &str, extra: &str| {
            parsed(&format!(
                "[[workflow]]\nname = \"w\"\n[workflow.params.files]\ntype = \"string\"\n\
                 [[workflow.step]]\nname = \"pack\"\nkind = \"archive\"\n{each}\n{extra}\n\
                 params = {{ folder = \"{{item}}/{{index}}\" }}\n"
            ))
        };
        let w = fans("each = \"{files}\"", "concurrency = 4\nsucceed_at = 95").unwrap();
        let spec = w[0].steps[0].each.clone().unwrap();
        assert_eq!((spec.concurrency, spec.succeed_at), (Some(4), 95));
        for (each, extra, says) in [
            ("each = \"{files} and more\"", "", "each names one list"),
            ("each = \"{nope}\"", "", "not a parameter of the workflow"),
            (
                "each = \"{files}\"",
                "concurrency = 0",
                "concurrency must be at least 1",
            ),
            (
                "each = \"{files}\"",
                "succeed_at = 101",
                "a percent, from 1 to 100",
            ),
            ("", "concurrency = 2", "concurrency is for a step with each"),
        ] {
            let e = fans(each, extra).unwrap_err();
            assert!(e.contains(says), "{each} {extra}: {e}");
        }
        // {item} is a fan-out's alone.
        assert!(fans("", "")
            .unwrap_err()
            .contains("{item} is not a parameter"));
    }

    #[test]
    fn a_steps_file_is_a_file_parameter_of_the_workflow_or_an_output_of_a_step_it_needs() {
        let mut load = kind("load", &[("table", true)]);
        load.params[0].kind = ParamType::File;
        let mut with_file = kinds();
        with_file.push(load);
        let read = |param: &str, table: &str| {
            parse(
                &PathBuf::from("workflows.toml"),
                &format!(
                    "[[workflow]]\nname = \"w\"\n[workflow.params.src]\ntype = \"{param}\"\n\
                     [[workflow.step]]\nname = \"pack\"\nkind = \"archive\"\n\
                     params = {{ folder = \"x\" }}\n\
                     [[workflow.step]]\nname = \"load\"\nkind = \"load\"\nneeds = [\"pack\"]\n\
                     params = {{ table = \"{table}\" }}\n"
                ),
                &with_file,
                &["en"],
            )
            .map_err(|e| e.to_string())
        };
        read("string", "{steps.pack.outputs.rows.csv}").unwrap();
        read("file", "{src}").unwrap();
        for (param, table) in [
            ("string", "{src}"),
            ("file", "in/{src}"),
            ("string", "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93"),
            (
                "string",
                "/api/v1/jobs/0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93/outputs/a",
            ),
            ("string", "{steps.pack.result}"),
        ] {
            let e = read(param, table).unwrap_err();
            assert!(
                e.contains("step \"load\": its file parameter \"table\" takes a file parameter of the workflow"),
                "{param} {table}: {e}"
            );
        }
    }

    #[test]
    fn the_documented_example_reads_as_written() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = root.join("examples/workflows/workflows.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        // The example commands, their programs found from the repository's root, where `make
        // run` starts Headway.
        let commands_path = root.join("examples/commands/commands.toml");
        let commands = std::fs::read_to_string(&commands_path).unwrap().replace(
            "program = \"examples/",
            &format!("program = \"{}/examples/", root.display()),
        );
        let commands =
            crate::commands::file::parse(&commands_path, &commands, &["en", "zh-CN"]).unwrap();
        let mut kinds = crate::kinds::Registry::builtin().infos();
        kinds.extend(commands.into_iter().map(|c| c.info));
        let read = parse(&path, &text, &kinds, &["en", "zh-CN"]).unwrap();
        let w = &read[0];
        assert_eq!(w.info.name, "photo_batch");
        let steps: Vec<(&str, &str)> = w
            .steps
            .iter()
            .map(|s| (s.name.as_str(), s.kind.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                ("resize", "resize_photos"),
                ("check", "demo"),
                ("publish", "batch")
            ]
        );
        assert_eq!(w.graph.needs(1), [0]);
        assert_eq!(
            w.info.translations["zh-CN"].title.as_deref(),
            Some("缩放照片，然后检查并发布")
        );
    }
}
