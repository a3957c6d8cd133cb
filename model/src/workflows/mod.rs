//! Workflows: a named graph of steps, each a kind with parameters, joined by `needs` edges (a
//! step starts once the steps it needs succeeded). What is here is what stays the same wherever
//! a workflow is declared, checked or run:
//!
//! - [`Graph`]: the rules of the graph (names, needs that name steps, no cycle) and the order its
//!   steps may start in;
//! - [`Template`]: a step's parameters, whose strings may name the workflow's parameters
//!   (`{day}`) and the result and outputs of the steps it needs (`{steps.extract.result.rows}`,
//!   `{steps.extract.outputs.data.csv}`), rendered into the step's own parameters once those
//!   steps ended.
//!
//! A string that is one reference and nothing else (`"{count}"`) takes the value as it is (a
//! number stays a number, a result's object stays an object); one with text around references
//! (`"exports/{day}.csv"`) is a string, each value written as text. `{{` and `}}` are braces.

pub mod run;

pub use run::{Each, EachSpec, OnFailure, Plan, PlanStep, RunParams, WORKFLOW_KIND};

use crate::kinds::name_problem;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

/// The most steps a workflow declares (a step that fans out counts once).
pub const MAX_STEPS: usize = 100;

/// A workflow's steps and the edges between them, checked: every step named once, every need
/// a step of the workflow, and no cycle. Steps are numbered in the order they were declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    names: Vec<String>,
    /// The steps each step needs, by number, each once, in the order written.
    needs: Vec<Vec<usize>>,
    /// An order in which each step comes after every step it needs.
    order: Vec<usize>,
}

/// What is wrong with a workflow's graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    NoSteps,
    TooMany(usize),
    BadName {
        step: String,
        problem: &'static str,
    },
    Twice(String),
    UnknownNeed {
        step: String,
        need: String,
    },
    NeedsItself(String),
    /// The steps of a cycle, in order, the first again at the end.
    Cycle(Vec<String>),
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::NoSteps => write!(f, "a workflow needs at least one step"),
            GraphError::TooMany(n) => {
                write!(f, "a workflow has at most {MAX_STEPS} steps, not {n}")
            }
            GraphError::BadName { step, problem } => {
                write!(f, "the step name {step:?} {problem}")
            }
            GraphError::Twice(step) => write!(f, "a second step is named {step:?}"),
            GraphError::UnknownNeed { step, need } => write!(
                f,
                "step {step:?} needs {need:?}, which is not a step of the workflow"
            ),
            GraphError::NeedsItself(step) => write!(f, "step {step:?} needs itself"),
            GraphError::Cycle(steps) => write!(
                f,
                "the steps need each other in a circle: {}",
                steps.join(" → ")
            ),
        }
    }
}

impl std::error::Error for GraphError {}

impl Graph {
    /// Checks `steps`, each a name and the names of the steps it needs.
    pub fn new<S: AsRef<str>>(steps: &[(S, Vec<S>)]) -> Result<Graph, GraphError> {
        if steps.is_empty() {
            return Err(GraphError::NoSteps);
        }
        if steps.len() > MAX_STEPS {
            return Err(GraphError::TooMany(steps.len()));
        }
        let mut names: Vec<String> = Vec::with_capacity(steps.len());
        for (name, _) in steps {
            let name = name.as_ref();
            if let Some(problem) = name_problem(name) {
                return Err(GraphError::BadName {
                    step: name.to_string(),
                    problem,
                });
            }
            if names.iter().any(|n| n == name) {
                return Err(GraphError::Twice(name.to_string()));
            }
            names.push(name.to_string());
        }
        let mut needs = Vec::with_capacity(steps.len());
        for (i, (name, wanted)) in steps.iter().enumerate() {
            let mut of_step: Vec<usize> = Vec::with_capacity(wanted.len());
            for need in wanted {
                let need = need.as_ref();
                let Some(n) = names.iter().position(|s| s == need) else {
                    return Err(GraphError::UnknownNeed {
                        step: name.as_ref().to_string(),
                        need: need.to_string(),
                    });
                };
                if n == i {
                    return Err(GraphError::NeedsItself(need.to_string()));
                }
                if !of_step.contains(&n) {
                    of_step.push(n);
                }
            }
            needs.push(of_step);
        }
        let order = order(&names, &needs)?;
        Ok(Graph {
            names,
            needs,
            order,
        })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, step: usize) -> &str {
        &self.names[step]
    }

    /// The number of the step named `name`.
    pub fn step(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The steps `step` needs.
    pub fn needs(&self, step: usize) -> &[usize] {
        &self.needs[step]
    }

    /// An order in which each step comes after the steps it needs: of the steps that may come
    /// next, the first declared.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Every step `step` waits for, directly or through others.
    pub fn ancestors(&self, step: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<usize> = self.needs[step].clone();
        while let Some(s) = todo.pop() {
            if seen.insert(s) {
                todo.extend(&self.needs[s]);
            }
        }
        seen
    }

    /// The steps that need nothing: those a run starts with.
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|s| self.needs[*s].is_empty())
    }
}

/// The order of Kahn's algorithm, taking the first declared of the steps ready each time; a
/// cycle among what is left is named.
fn order(names: &[String], needs: &[Vec<usize>]) -> Result<Vec<usize>, GraphError> {
    let mut placed = vec![false; names.len()];
    let mut order = Vec::with_capacity(names.len());
    while order.len() < names.len() {
        let next = (0..names.len()).find(|&s| !placed[s] && needs[s].iter().all(|&n| placed[n]));
        match next {
            Some(s) => {
                placed[s] = true;
                order.push(s);
            }
            None => return Err(GraphError::Cycle(cycle(names, needs, &placed))),
        }
    }
    Ok(order)
}

/// A cycle among the steps not `placed` (each of them needs one that is not placed either):
/// following those needs from the first of them must come back to a step already visited.
fn cycle(names: &[String], needs: &[Vec<usize>], placed: &[bool]) -> Vec<String> {
    let Some(start) = (0..names.len()).find(|&s| !placed[s]) else {
        return Vec::new();
    };
    let mut path = vec![start];
    loop {
        let here = *path.last().expect("the path has a step");
        let Some(&next) = needs[here].iter().find(|&&n| !placed[n]) else {
            return path.iter().map(|&s| names[s].clone()).collect();
        };
        if let Some(at) = path.iter().position(|&s| s == next) {
            let mut steps: Vec<String> = path[at..].iter().map(|&s| names[s].clone()).collect();
            steps.push(names[next].clone());
            return steps;
        }
        path.push(next);
    }
}

/// What a template names: a parameter of the workflow, or the result (or a part of it) or an
/// output file of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// `{day}`.
    Param(String),
    /// `{steps.extract.result}`, `{steps.extract.result.rows.0}`: the step's result, or the
    /// value at that path in it (object keys, array indexes).
    Result { step: String, path: Vec<String> },
    /// `{steps.extract.outputs.data.csv}`: the step's output file of that name.
    Output { step: String, name: String },
}

impl Ref {
    /// Reads what is between the braces.
    fn parse(inside: &str) -> Result<Ref, String> {
        let Some(rest) = inside.strip_prefix("steps.") else {
            return match is_param_name(inside) {
                true => Ok(Ref::Param(inside.to_string())),
                false => Err(format!(
                    "{{{inside}}} names neither a parameter nor steps.STEP.result or steps.STEP.outputs.NAME"
                )),
            };
        };
        let (step, what) = rest.split_once('.').unwrap_or((rest, ""));
        if name_problem(step).is_some() {
            return Err(format!("{{{inside}}} does not name a step"));
        }
        let step = step.to_string();
        if what == "result" {
            return Ok(Ref::Result {
                step,
                path: Vec::new(),
            });
        }
        if let Some(path) = what.strip_prefix("result.") {
            let path: Vec<String> = path.split('.').map(str::to_string).collect();
            if path.iter().any(String::is_empty) {
                return Err(format!("{{{inside}}} has an empty part in its path"));
            }
            return Ok(Ref::Result { step, path });
        }
        if let Some(name) = what.strip_prefix("outputs.").filter(|n| !n.is_empty()) {
            return Ok(Ref::Output {
                step,
                name: name.to_string(),
            });
        }
        Err(format!(
            "{{{inside}}}: a step's value is steps.{step}.result, steps.{step}.result.PATH or steps.{step}.outputs.NAME"
        ))
    }

    /// The step it names, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            Ref::Param(_) => None,
            Ref::Result { step, .. } | Ref::Output { step, .. } => Some(step),
        }
    }
}

/// A parameter's name: a lowercase letter, then lowercase letters, digits and `_`.
fn is_param_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A part of a string of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Ref(Ref),
}

/// A step's parameters as declared: JSON whose strings may hold references ([`Ref`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A value with no reference in it, as it is.
    Plain(Value),
    /// A string that is one reference: the value it names, as it is.
    Whole(Ref),
    /// A string of text and references: a string.
    Text(Vec<Piece>),
    Array(Vec<Template>),
    Object(Vec<(String, Template)>),
}

/// What a template's references are rendered with.
pub trait Values {
    /// A parameter of the workflow's run, if it was given.
    fn param(&self, name: &str) -> Option<Value>;
    /// The result a step ended with (`None` if it has none).
    fn result(&self, step: &str) -> Option<Value>;
    /// What names a step's output file `name` to the kind that takes it as a file (its id), if
    /// the step wrote one.
    fn output(&self, step: &str, name: &str) -> Option<Value>;
}

impl Template {
    /// Reads `value`, each string's references checked for their form.
    pub fn parse(value: &Value) -> Result<Template, String> {
        Ok(match value {
            Value::String(s) => {
                let pieces = pieces(s)?;
                match pieces.as_slice() {
                    [] => Template::Plain(Value::String(String::new())),
                    [Piece::Ref(r)] => Template::Whole(r.clone()),
                    [Piece::Text(t)] => Template::Plain(Value::String(t.clone())),
                    _ => Template::Text(pieces),
                }
            }
            Value::Array(items) => {
                let items = items
                    .iter()
                    .map(Template::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                match items.iter().all(|t| matches!(t, Template::Plain(_))) {
                    true => Template::Plain(value.clone()),
                    false => Template::Array(items),
                }
            }
            Value::Object(fields) => {
                let fields = fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Template::parse(v)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                match fields.iter().all(|(_, t)| matches!(t, Template::Plain(_))) {
                    true => Template::Plain(value.clone()),
                    false => Template::Object(fields),
                }
            }
            other => Template::Plain(other.clone()),
        })
    }

    /// Every reference in it, in order.
    pub fn refs(&self) -> Vec<&Ref> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Ref>) {
        match self {
            Template::Plain(_) => {}
            Template::Whole(r) => out.push(r),
            Template::Text(pieces) => out.extend(pieces.iter().filter_map(|p| match p {
                Piece::Ref(r) => Some(r),
                Piece::Text(_) => None,
            })),
            Template::Array(items) => items.iter().for_each(|t| t.collect(out)),
            Template::Object(fields) => fields.iter().for_each(|(_, t)| t.collect(out)),
        }
    }

    /// Checks that its references name only `params` (the workflow's parameters) and steps of
    /// `graph` among those `step` waits for, directly or through others: those are the only
    /// ones ended when it starts.
    pub fn check(&self, graph: &Graph, step: usize, params: &[&str]) -> Result<(), String> {
        let before = graph.ancestors(step);
        for r in self.refs() {
            match r {
                Ref::Param(name) if params.contains(&name.as_str()) => {}
                Ref::Param(name) => {
                    return Err(format!(
                        "{{{name}}} is not a parameter of the workflow (write {{{{ for a brace)"
                    ))
                }
                Ref::Result { step: s, .. } | Ref::Output { step: s, .. } => match graph.step(s) {
                    Some(n) if before.contains(&n) => {}
                    Some(_) => {
                        return Err(format!(
                            "it uses step {s:?}, which it does not need (add it to needs)"
                        ))
                    }
                    None => return Err(format!("it uses step {s:?}, which is not a step")),
                },
            }
        }
        Ok(())
    }

    /// The value it stands for with `values`. A parameter left without a value renders as
    /// nothing: a field that is one such reference is left out of its object; a reference to
    /// what is not there (a missing output, a path not in the result) is an error that names it.
    /// Unbounded: a template an operator wrote; [`Template::render_within`] bounds the rest.
    pub fn render(&self, values: &dyn Values) -> Result<Value, String> {
        self.render_within(values, usize::MAX)
    }

    /// [`Template::render`], refused once what it renders passes `bytes` of JSON: a template
    /// that repeats a large value many times is stopped before it is made, not after.
    pub fn render_within(&self, values: &dyn Values, bytes: usize) -> Result<Value, String> {
        let mut budget = Budget {
            left: bytes,
            of: bytes,
        };
        Ok(self.render_opt(values, &mut budget)?.unwrap_or(Value::Null))
    }

    fn render_opt(
        &self,
        values: &dyn Values,
        budget: &mut Budget,
    ) -> Result<Option<Value>, String> {
        Ok(match self {
            Template::Plain(v) => Some(budget.take(v)?.clone()),
            Template::Whole(r) => match lookup(r, values)? {
                Some(v) => {
                    budget.take(&v)?;
                    Some(v)
                }
                None => None,
            },
            Template::Text(pieces) => {
                let mut s = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => {
                            budget.spend(t.len())?;
                            s.push_str(t)
                        }
                        Piece::Ref(r) => match lookup(r, values)? {
                            Some(Value::String(v)) => {
                                budget.spend(v.len())?;
                                s.push_str(&v)
                            }
                            Some(Value::Null) | None => {}
                            Some(v) => {
                                budget.take(&v)?;
                                s.push_str(&v.to_string())
                            }
                        },
                    }
                }
                budget.spend(2)?;
                Some(Value::String(s))
            }
            Template::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|t| Ok(t.render_opt(values, budget)?.unwrap_or(Value::Null)))
                    .collect::<Result<_, String>>()?,
            )),
            Template::Object(fields) => {
                let mut out = Map::new();
                for (k, t) in fields {
                    budget.spend(k.len() + 4)?;
                    if let Some(v) = t.render_opt(values, budget)? {
                        out.insert(k.clone(), v);
                    }
                }
                Some(Value::Object(out))
            }
        })
    }
}

/// What a rendering may still make, in bytes of JSON (counted about as `to_string` writes it,
/// never less).
struct Budget {
    left: usize,
    of: usize,
}

impl Budget {
    fn spend(&mut self, n: usize) -> Result<(), String> {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(format!(
                "rendered, they would be more than {} bytes of JSON, the most a job's \
                 parameters may be",
                self.of
            )),
        }
    }

    /// Spends what `v` costs, measured without writing it out and stopping once past the
    /// budget.
    fn take<'v>(&mut self, v: &'v Value) -> Result<&'v Value, String> {
        let whole = v;
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::String(s) => self.spend(s.len() + 2)?,
                Value::Array(items) => {
                    self.spend(items.len() + 2)?;
                    stack.extend(items);
                }
                Value::Object(fields) => {
                    self.spend(fields.len() + 2)?;
                    for (k, v) in fields {
                        self.spend(k.len() + 3)?;
                        stack.push(v);
                    }
                }
                other => self.spend(other.to_string().len())?,
            }
        }
        Ok(whole)
    }
}

/// The value `r` names: `None` for a parameter left without one.
fn lookup(r: &Ref, values: &dyn Values) -> Result<Option<Value>, String> {
    match r {
        Ref::Param(name) => Ok(values.param(name)),
        Ref::Result { step, path } => {
            let result = values
                .result(step)
                .ok_or_else(|| format!("step {step:?} ended without a result"))?;
            let mut at = &result;
            for part in path {
                let next = match at {
                    Value::Object(fields) => fields.get(part),
                    Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                    _ => None,
                };
                at = next.ok_or_else(|| {
                    format!("the result of step {step:?} has no {}", path.join("."))
                })?;
            }
            Ok(Some(at.clone()))
        }
        Ref::Output { step, name } => values
            .output(step, name)
            .map(Some)
            .ok_or_else(|| format!("step {step:?} wrote no output {name:?}")),
    }
}

/// The text and references of `s`.
fn pieces(s: &str) -> Result<Vec<Piece>, String> {
    use crate::text::{braced, BraceError, Braced};
    braced(s)
        .map_err(|e| match e {
            BraceError::Unclosed => format!("{s:?} has a {{ without its }}"),
            BraceError::Unopened => {
                format!("{s:?} has a }} without its {{ (write }}}} for a brace)")
            }
        })?
        .into_iter()
        .map(|part| match part {
            Braced::Text(t) => Ok(Piece::Text(t)),
            Braced::Name(inside) => Ref::parse(&inside).map(Piece::Ref),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn graph(steps: &[(&str, &[&str])]) -> Result<Graph, GraphError> {
        let steps: Vec<(&str, Vec<&str>)> = steps
            .iter()
            .map(|(n, needs)| (*n, needs.to_vec()))
            .collect();
        Graph::new(&steps)
    }

    #[test]
    fn a_graph_orders_each_step_after_what_it_needs_first_declared_first() {
        let g = graph(&[
            ("load", &["transform", "extract"]),
            ("extract", &[]),
            ("transform", &["extract", "extract"]),
            ("notify", &[]),
        ])
        .unwrap();
        let names: Vec<&str> = g.order().iter().map(|&s| g.name(s)).collect();
        assert_eq!(names, ["extract", "transform", "load", "notify"]);
        assert_eq!(g.needs(2), [1], "a need named twice counts once");
        assert_eq!(g.ancestors(0), BTreeSet::from([1, 2]));
        assert_eq!(g.roots().collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn a_graph_refuses_what_could_never_run_naming_it() {
        assert_eq!(graph(&[]), Err(GraphError::NoSteps));
        assert_eq!(
            graph(&[("a", &[]), ("a", &[])]),
            Err(GraphError::Twice("a".into()))
        );
        assert!(matches!(
            graph(&[("Big", &[])]),
            Err(GraphError::BadName { .. })
        ));
        assert_eq!(
            graph(&[("a", &["b"])]).unwrap_err().to_string(),
            "step \"a\" needs \"b\", which is not a step of the workflow"
        );
        assert_eq!(
            graph(&[("a", &["a"])]),
            Err(GraphError::NeedsItself("a".into()))
        );
        let circle = graph(&[("a", &[]), ("b", &["d"]), ("c", &["b"]), ("d", &["c", "a"])]);
        assert_eq!(
            circle.unwrap_err().to_string(),
            "the steps need each other in a circle: b → d → c → b"
        );
        let many: Vec<(String, Vec<String>)> = (0..=MAX_STEPS)
            .map(|i| (format!("s{i}"), Vec::new()))
            .collect();
        assert_eq!(Graph::new(&many), Err(GraphError::TooMany(MAX_STEPS + 1)));
    }

    struct Run {
        params: HashMap<&'static str, Value>,
        results: HashMap<&'static str, Value>,
        outputs: HashMap<(&'static str, &'static str), Value>,
    }

    impl Values for Run {
        fn param(&self, name: &str) -> Option<Value> {
            self.params.get(name).cloned()
        }
        fn result(&self, step: &str) -> Option<Value> {
            self.results.get(step).cloned()
        }
        fn output(&self, step: &str, name: &str) -> Option<Value> {
            self.outputs.get(&(step, name)).cloned()
        }
    }

    fn run() -> Run {
        Run {
            params: HashMap::from([("day", json!("2026-11-27")), ("steps", json!(40))]),
            results: HashMap::from([("extract", json!({"rows": [{"n": 7}], "ok": true}))]),
            outputs: HashMap::from([(("extract", "data.csv"), json!("0f3c-upload"))]),
        }
    }

    #[test]
    fn a_template_takes_parameters_results_and_outputs_typed_where_whole() {
        let t = Template::parse(&json!({
            "file": "{steps.extract.outputs.data.csv}",
            "steps": "{steps}",
            "label": "day {day}: {steps.extract.result.rows.0.n} rows, ok={steps.extract.result.ok}",
            "braces": "{{literal}}",
            "count": 3,
            "all": ["{steps.extract.result}", "x"],
            "missing": "{note}",
        }))
        .unwrap();
        let out = t.render(&run()).unwrap();
        assert_eq!(
            out,
            json!({
                "file": "0f3c-upload",
                "steps": 40,
                "label": "day 2026-11-27: 7 rows, ok=true",
                "braces": "{literal}",
                "count": 3,
                "all": [{"rows": [{"n": 7}], "ok": true}, "x"],
            }),
            "a parameter without a value is left out"
        );
        // Without references it is the value as it is.
        let plain = json!({"steps": 3, "text": "no braces"});
        assert_eq!(Template::parse(&plain).unwrap(), Template::Plain(plain));
    }

    #[test]
    fn a_template_names_what_it_cannot_find_or_read() {
        let r = run();
        let render = |v: Value| Template::parse(&v).unwrap().render(&r);
        assert_eq!(
            render(json!("{steps.extract.result.rows.3}")).unwrap_err(),
            "the result of step \"extract\" has no rows.3"
        );
        assert_eq!(
            render(json!("{steps.extract.outputs.other.csv}")).unwrap_err(),
            "step \"extract\" wrote no output \"other.csv\""
        );
        assert_eq!(
            render(json!("{steps.load.result}")).unwrap_err(),
            "step \"load\" ended without a result"
        );
        for (bad, says) in [
            ("{day", "without its }"),
            ("day}", "without its {"),
            ("{steps.extract}", "steps.extract.result"),
            ("{steps.extract.result.}", "empty part"),
            ("{Day Two}", "names neither a parameter"),
        ] {
            let e = Template::parse(&json!(bad)).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_step_may_use_only_the_steps_it_waits_for_and_the_workflows_parameters() {
        let g = graph(&[
            ("extract", &[]),
            ("transform", &["extract"]),
            ("load", &["transform"]),
            ("side", &[]),
        ])
        .unwrap();
        let t = |v: Value| Template::parse(&v).unwrap();
        // Through transform, load waits for extract too.
        t(json!({"f": "{steps.extract.outputs.a}", "d": "{day}"}))
            .check(&g, 2, &["day"])
            .unwrap();
        assert_eq!(
            t(json!("{steps.side.result}"))
                .check(&g, 2, &["day"])
                .unwrap_err(),
            "it uses step \"side\", which it does not need (add it to needs)"
        );
        assert_eq!(
            t(json!("{steps.nope.result}"))
                .check(&g, 2, &[])
                .unwrap_err(),
            "it uses step \"nope\", which is not a step"
        );
        assert!(t(json!("{hour}"))
            .check(&g, 0, &["day"])
            .unwrap_err()
            .contains("not a parameter of the workflow"));
    }
}
