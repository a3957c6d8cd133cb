//! One name for each thing: what a person reads for a job is its kind's title ("Count words in a
//! file"), or an external job's own title ([`Job::title`]); the machine name (`word_report`) stays where a person
//! types it (the API, the command line, the filters' addresses).
//!
//! The titles come with every page: the server renders with its kinds' titles (a context the
//! app provides per request), and the page's live state keeps the same titles, handed to it with
//! the page's [`LiveInfo`](crate::server_fns::LiveInfo), for the jobs it learns of later.

use crate::model::Job;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Each kind's title, by machine name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindTitles(pub BTreeMap<String, String>);

impl KindTitles {
    pub fn of(&self, kind: &str) -> Option<&str> {
        self.0.get(kind).map(String::as_str)
    }
}

impl FromIterator<(String, String)> for KindTitles {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        KindTitles(pairs.into_iter().collect())
    }
}

/// What a person calls a kind: its title, or its machine name for a kind the page has no title
/// of (one added since, or gone).
pub fn kind_title(kind: &str) -> String {
    kind_title_with(kind, known_title)
}

/// What a person calls a job: an external job's title, any other's kind's title; a step, its
/// own title on its run's page ([`StepTitles`]), else its name.
pub fn job_title(job: &Job) -> String {
    match &job.step {
        Some(step) => step_title(step),
        None => job_title_with(job, known_title),
    }
}

/// The own titles of a run's steps, by step name, where a page shows the run's steps (provided
/// as a context while it renders them).
#[derive(Debug, Clone, Default)]
pub struct StepTitles(pub BTreeMap<String, String>);

/// What a person calls the step `name`: its own title where the page knows it, else its name
/// (the steps of one run are often of one kind: its title would not tell them apart).
pub fn step_title(name: &str) -> String {
    leptos::prelude::use_context::<StepTitles>()
        .and_then(|t| t.0.get(name).cloned())
        .unwrap_or_else(|| name.to_string())
}

/// [`kind_title`] with the titles `known` knows.
pub fn kind_title_with(kind: &str, known: impl Fn(&str) -> Option<String>) -> String {
    known(kind).unwrap_or_else(|| kind.to_string())
}

/// [`job_title`] with the titles `known` knows: a workflow's run is called by its workflow's
/// title, as its form is.
pub fn job_title_with(job: &Job, known: impl Fn(&str) -> Option<String>) -> String {
    let run = job.kind == crate::model::workflows::WORKFLOW_KIND && job.step.is_none();
    match job.title() {
        Some(workflow) if run => kind_title_with(workflow, known),
        Some(title) => title.to_string(),
        None => kind_title_with(&job.kind, known),
    }
}

#[cfg(feature = "ssr")]
fn known_title(kind: &str) -> Option<String> {
    leptos::prelude::use_context::<KindTitles>().and_then(|t| t.of(kind).map(String::from))
}

#[cfg(not(feature = "ssr"))]
fn known_title(kind: &str) -> Option<String> {
    learned(kind)
}

thread_local! {
    /// The titles the page was rendered with, in the browser (see [`learn`]).
    static LEARNED: RefCell<KindTitles> = RefCell::default();
}

/// Remembers the titles the page was rendered with, for the jobs it learns of later.
pub fn learn(titles: &[(String, String)]) {
    LEARNED.with(|l| l.borrow_mut().0.extend(titles.iter().cloned()));
}

/// A kind's title that [`learn`] was given.
pub fn learned(kind: &str) -> Option<String> {
    LEARNED.with(|l| l.borrow().of(kind).map(String::from))
}

/// The titles the server renders with, for the request being answered (provided by the app).
#[cfg(feature = "ssr")]
pub fn provide() {
    if let Some(engine) = leptos::prelude::use_context::<engine::Engine>() {
        leptos::prelude::provide_context(titles_of(&engine));
    }
}

/// The titles of the kinds `engine` knows now (those it runs and those that run elsewhere) and
/// of its workflows, in the page's language.
#[cfg(feature = "ssr")]
pub fn titles_of(engine: &engine::Engine) -> KindTitles {
    let t = crate::i18n::t();
    engine
        .jobs()
        .kinds()
        .into_iter()
        .chain(engine.jobs().kinds_elsewhere())
        .chain(engine.jobs().workflows())
        .map(|k| (k.name.clone(), crate::components::kind_title(t, &k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::testing::named;

    #[test]
    fn an_external_job_is_called_by_its_title_and_an_unknown_kind_by_its_name() {
        let mut job = Job::queued(named("j"), "word_report", serde_json::json!({}), 0);
        assert_eq!(job_title(&job), "word_report");
        job.kind = crate::model::EXTERNAL_KIND.into();
        job.params = serde_json::json!({"title": "nightly backup"});
        assert_eq!(job_title(&job), "nightly backup");
        let titles: KindTitles = [("demo".to_string(), "Demo".to_string())]
            .into_iter()
            .collect();
        assert_eq!(titles.of("demo"), Some("Demo"));
        assert_eq!(titles.of("batch"), None);
    }

    #[test]
    fn a_run_is_called_by_its_workflows_title_and_a_step_by_its_name() {
        use crate::model::workflows::WORKFLOW_KIND;
        let known = |name: &str| (name == "photo_batch").then(|| "Resize photos".to_string());
        let mut run = Job::queued(
            named("r"),
            WORKFLOW_KIND,
            serde_json::json!({"workflow": "photo_batch", "params": {}}),
            0,
        );
        assert_eq!(job_title_with(&run, known), "Resize photos");
        run.params = serde_json::json!({"workflow": "gone", "params": {}});
        assert_eq!(job_title_with(&run, known), "gone");
        let mut step = Job::queued(named("s"), "demo", serde_json::json!({}), 0);
        step.step = Some("check".into());
        assert_eq!(job_title_with(&step, known), "check");
    }
}
