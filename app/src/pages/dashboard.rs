//! `/`: the start form and the caller's jobs, newest first, with live bars.

use crate::api::{load_dashboard, DashboardData};
use crate::components::{JobRow, NewJobs, StartForm};
use leptos::prelude::*;

/// How many jobs the dashboard lists.
pub const LIST_LIMIT: u32 = 50;

#[component]
pub fn Dashboard() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_dashboard(LIST_LIMIT));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <DashboardView data=d/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardView(data: DashboardData) -> impl IntoView {
    let DashboardData { kinds, jobs } = data;
    // One form per kind: the demo open, the others one click away.
    let forms = kinds
        .into_iter()
        .map(|kind| {
            let open = kind.name == "demo";
            view! {
                <details class="kind" open=open>
                    <summary>
                        <strong>{kind.title.clone()}</strong>
                        <span class="kind-description">{kind.description.clone()}</span>
                    </summary>
                    <StartForm kind/>
                </details>
            }
        })
        .collect_view();
    view! {
        <section class="start" aria-labelledby="start-title">
            <h1 id="start-title">"Start a job"</h1>
            {forms}
        </section>
        <section class="jobs" aria-labelledby="jobs-title">
            <h2 id="jobs-title">"Your jobs"</h2>
            <noscript>
                <p class="hint">"Live progress needs JavaScript; reload the page to see the latest state."</p>
            </noscript>
            <div class="job-list">
                <NewJobs/>
                {jobs.into_iter().map(|job| view! { <JobRow job/> }).collect_view()}
                <p class="empty">"No jobs yet: start one above."</p>
            </div>
        </section>
    }
}
