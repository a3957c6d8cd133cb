//! Workflows: named graphs of steps, each a kind with parameters, declared by the operator in a
//! TOML file (`--workflows FILE`, read like the commands file). The graph's rules and the
//! templates of a step's parameters are the model's ([`model::workflows`]), the same wherever a
//! workflow is read; [`file`](mod@file) reads and checks the file against the kinds that run
//! here.

pub mod file;

use crate::kinds::check::ParamSpec;
use model::workflows::{Graph, Template};
use model::KindInfo;

pub use file::WORKFLOW_KIND;

/// What a failed step does to the rest of its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// The steps that have not started are cancelled, and the run fails.
    #[default]
    Cancel,
    /// The steps that do not need the failed one still run; the run fails once they ended.
    Finish,
}

/// One workflow of the file, checked.
#[derive(Debug)]
pub struct Workflow {
    /// Its name, title, description and parameters, as a kind's: what its form shows.
    pub info: KindInfo,
    /// Its parameters, checked as a kind's are when a run starts.
    pub params: Vec<ParamSpec>,
    pub on_failure: OnFailure,
    pub graph: Graph,
    /// Its steps, in the order declared (the graph's numbering).
    pub steps: Vec<Step>,
}

/// A step of a workflow.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// What its row says: its own title, or its kind's.
    pub title: String,
    pub kind: String,
    /// Its parameters, rendered once the steps it needs ended.
    pub params: Template,
}
