//! A workflow run's graph on its page: each step a box in the column its needs put it in
//! ([`layout`]), with its status, bar, progress and attempt, and a line from each step it needs.
//! The boxes are rows like any other: [`super::JobRows`] binds them to their live jobs, so that
//! they move with the stream as the list under them does. The lines are drawn once, by the
//! server: a run's graph never changes.

use super::{job_data, texts_now, Bar};
use crate::i18n::t;
use crate::model::workflows::run::layout;
use crate::model::Job;
use leptos::prelude::*;

/// The graph of a run whose steps are `steps` (its jobs) and `needs` (each step's name and the
/// names of the steps it needs, in the plan's order). Nothing for a run without steps.
#[component]
pub fn RunGraph(
    steps: Vec<Job>,
    needs: Vec<(String, Vec<String>)>,
    now: i64,
    stall_ms: u64,
) -> impl IntoView {
    let t = t();
    let placed = layout(&needs);
    let columns = placed.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let rows = placed.iter().map(|p| p.1 + 1).max().unwrap_or(0);
    let at = |name: &str| needs.iter().position(|(n, _)| n == name).map(|i| placed[i]);
    // From the right side of each need's box to the left side of the step's, in hundredths of
    // a column and of a row.
    let mut lines = Vec::new();
    for ((_, of), &(c, r)) in needs.iter().zip(&placed) {
        for (nc, nr) in of.iter().filter_map(|n| at(n)) {
            let (x1, y1) = (nc * 100 + 90, nr * 100 + 50);
            let (x2, y2) = (c * 100 + 10, r * 100 + 50);
            let mid = (x1 + x2) / 2;
            lines.push(format!("M{x1} {y1} C{mid} {y1} {mid} {y2} {x2} {y2}"));
        }
    }
    let boxes = needs
        .iter()
        .zip(&placed)
        .filter_map(|((name, _), &(c, r))| {
            let job = steps.iter().find(|j| j.step.as_deref() == Some(name))?;
            let x = texts_now(job, None, now, stall_ms);
            let id = job.id.to_string();
            Some(view! {
                <a
                    class="run-node"
                    href=format!("/jobs/{id}")
                    data-step=name.clone()
                    data-status=x.status.as_str()
                    data-job=job_data(job)
                    style=format!("grid-column: {}; grid-row: {};", c + 1, r + 1)
                >
                    <span class="run-node-name">{crate::names::step_title(name)}</span>
                    <span class=super::status_class(&x)>
                        <span class="status-icon" aria-hidden="true">{x.icon}</span>
                        " "
                        <span class="status-word">{x.word}</span>
                    </span>
                    <Bar bar=x.bar.clone()/>
                    <span class="run-node-meta">
                        <span class="job-progress">{x.progress.clone()}</span>
                        " "
                        <span class="job-attempt">{x.attempt.clone()}</span>
                    </span>
                </a>
            })
        })
        .collect_view();
    (columns > 0).then(|| {
        view! {
            <figure class="run-graph" aria-labelledby="graph-title">
                <figcaption id="graph-title" class="visually-hidden">{t.job_graph()}</figcaption>
                <div
                    class="run-graph-grid"
                    style=format!("--columns: {columns}; --rows: {rows};")
                >
                    <svg
                        class="run-graph-lines"
                        viewBox=format!("0 0 {} {}", columns * 100, rows * 100)
                        preserveAspectRatio="none"
                        aria-hidden="true"
                        focusable="false"
                    >
                        {lines.into_iter().map(|d| view! {
                            <path d=d vector-effect="non-scaling-stroke"></path>
                        }).collect_view()}
                    </svg>
                    {boxes}
                </div>
            </figure>
        }
    })
}
