//! Workflows: named graphs of steps, each a kind with parameters, declared by the operator in a
//! TOML file (`--workflows FILE`, read at start-up and again on SIGHUP, like the commands file).
//! The graph's rules, the templates of a step's parameters and the rules of a run are the
//! model's ([`model::workflows`]), the same wherever a workflow is read or run; [`file`](mod@file)
//! reads and checks the file against the kinds that run here; [`posted`] reads a workflow posted
//! with its run by the same rules; [`start`] starts a run.

pub mod file;
pub mod plan;
pub mod posted;
pub mod rerun;
pub mod start;

use crate::kinds::check::ParamSpec;
use crate::kinds::Registry;
use model::workflows::Graph;
use model::KindInfo;
use std::path::Path;
use std::sync::{Arc, RwLock};

pub use model::workflows::{OnFailure, WORKFLOW_KIND};

/// One workflow of the file, checked.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Its name, title, description and parameters, as a kind's: what its form shows.
    pub info: KindInfo,
    /// Its parameters, checked as a command's are when a run starts.
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
    /// Its own title, if the file gives one: its rows and its box in the run's graph say it,
    /// else its name.
    pub title: Option<String>,
    pub kind: String,
    /// Its parameters as declared, a checked [`model::workflows::Template`]: rendered when the
    /// run starts, or once the steps it needs ended when they use what those left.
    pub params: serde_json::Value,
    /// A fan-out: its kind runs once per item of a list.
    pub each: Option<model::workflows::EachSpec>,
}

/// The workflows this server starts: those of the file, replaced whole when it is read again.
#[derive(Debug, Clone, Default)]
pub struct Workflows(Arc<RwLock<Arc<Vec<Workflow>>>>);

impl Workflows {
    /// Reads the workflows file at `path` against the kinds of `kinds` that run here; its
    /// workflows replace those read before. A file with a mistake changes nothing. How many
    /// workflows it declares.
    pub fn install(
        &self,
        path: &Path,
        kinds: &Registry,
        languages: &[&str],
    ) -> Result<usize, String> {
        let read = file::read(path, &kinds.infos(), languages).map_err(|e| e.to_string())?;
        let n = read.len();
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(read);
        Ok(n)
    }

    /// Every workflow, in the order of the file.
    pub fn all(&self) -> Arc<Vec<Workflow>> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The workflow called `name`.
    pub fn get(&self, name: &str) -> Option<Workflow> {
        self.all().iter().find(|w| w.info.name == name).cloned()
    }

    /// The workflows whose name or title, in any language, has `text` (without regard to
    /// case): a search for it finds their runs, whose parameters name them.
    pub fn named_by(&self, text: &str) -> Vec<String> {
        let text = text.to_lowercase();
        self.all()
            .iter()
            .filter(|w| w.info.is_named_by(&text))
            .map(|w| w.info.name.clone())
            .collect()
    }

    /// What their forms show.
    pub fn infos(&self) -> Vec<KindInfo> {
        self.all().iter().map(|w| w.info.clone()).collect()
    }
}
