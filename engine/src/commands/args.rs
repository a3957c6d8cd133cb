//! A command's `args`: each entry is one argument of the program, with `{param}` replaced by
//! the parameter's value as it was typed. Nothing is split, quoted or expanded: a value with
//! spaces, quotes, `;`, `$(…)`, a newline or a leading `-` is one argument as it is. An entry
//! that names a parameter left without a value is left out whole. `{{` and `}}` are braces.

use crate::kinds::check::ParamSpec;
use model::ParamType;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Param(String),
}

/// One entry of `args`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Reads `text`, whose `{name}`s must name parameters of `params` (and no secret: a secret
    /// reaches the program only in its environment).
    pub fn parse(text: &str, params: &[ParamSpec]) -> Result<Template, String> {
        use model::text::{braced, BraceError, Braced};
        let braced = braced(text).map_err(|e| match e {
            BraceError::Unclosed => format!("args entry {text:?} has a {{ without its }}"),
            BraceError::Unopened => {
                format!("args entry {text:?} has a }} without its {{ (write }}}} for a brace)")
            }
        })?;
        let mut parts = Vec::with_capacity(braced.len().max(1));
        for part in braced {
            let name = match part {
                Braced::Text(t) => {
                    parts.push(Part::Text(t));
                    continue;
                }
                Braced::Name(name) => name,
            };
            let Some(spec) = params.iter().find(|p| p.name() == name) else {
                return Err(format!(
                    "args name {{{name}}}, which is not one of its params (write {{{{ for a brace)"
                ));
            };
            if spec.kind() == ParamType::Secret {
                return Err(format!(
                    "args name the secret {{{name}}}: a secret reaches the program only in its environment (HEADWAY_PARAM_{})",
                    name.to_ascii_uppercase()
                ));
            }
            parts.push(Part::Param(name));
        }
        if parts.is_empty() {
            parts.push(Part::Text(String::new()));
        }
        Ok(Template { parts })
    }

    /// The argument for `values` (a job's parameters, with a file parameter's value already
    /// its path); `None` when a parameter it names has no value.
    pub fn render(&self, value_of: impl Fn(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Param(name) => out.push_str(&value_of(name)?),
            }
        }
        Some(out)
    }
}

/// The program's arguments for the job's `params`, a file parameter being given as `paths`'s
/// entry for it.
pub fn render_all(
    templates: &[Template],
    params: &Value,
    paths: &std::collections::HashMap<String, String>,
) -> Vec<String> {
    templates
        .iter()
        .filter_map(|t| {
            t.render(|name| {
                paths
                    .get(name)
                    .cloned()
                    .or_else(|| as_text(params.get(name)))
            })
        })
        .collect()
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
    use model::ParamInfo;
    use serde_json::json;

    fn specs() -> Vec<ParamSpec> {
        ["folder", "level", "note", "key"]
            .iter()
            .map(|n| {
                let kind = match *n == "key" {
                    true => ParamType::Secret,
                    false => ParamType::String,
                };
                let info = ParamInfo {
                    required: false,
                    ..ParamInfo::named(n, kind)
                };
                ParamSpec::new(info, None, None).unwrap()
            })
            .collect()
    }

    #[test]
    fn each_entry_is_one_argument_whatever_the_value_holds() {
        let templates: Vec<Template> = ["--level={level}", "--", "{folder}", "{note}", "{{x}}"]
            .iter()
            .map(|t| Template::parse(t, &specs()).unwrap())
            .collect();
        let nasty = "a b; rm -rf / $(id) `id` \"q\" 'q'\n-x";
        let args = render_all(
            &templates,
            &json!({"folder": nasty, "level": 6}),
            &Default::default(),
        );
        // `{note}` has no value: its entry is left out.
        assert_eq!(args, ["--level=6", "--", nasty, "{x}"]);
    }

    #[test]
    fn unknown_names_secrets_and_stray_braces_are_refused() {
        assert!(Template::parse("{nope}", &specs())
            .unwrap_err()
            .contains("not one of its params"));
        assert!(Template::parse("{key}", &specs())
            .unwrap_err()
            .contains("HEADWAY_PARAM_KEY"));
        assert!(Template::parse("{folder", &specs()).is_err());
        assert!(Template::parse("a}b", &specs()).is_err());
        assert_eq!(
            Template::parse("", &specs()).unwrap().render(|_| None),
            Some(String::new())
        );
    }
}
