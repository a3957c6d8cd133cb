//! `/system`: the operator's view of the deployment: queue depth and running jobs per kind, the
//! last hour's throughput and failures, time in queue against run time, open streams, events
//! per second, the store's size and the processes alive; and for operators, pausing and
//! resuming a kind or every kind. Rendered on the server, then refreshed
//! every few seconds by a light poll.

use crate::components::PageTitle;
use crate::format;
use crate::model::{KindLoad, KindPause, ProcessInfo, SystemOverview, EVERY_KIND};
use crate::server_fns::{load_system, PauseKind, ResumeKind};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// How often the open page asks for fresh figures.
#[cfg(feature = "hydrate")]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn SystemPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_system());
    view! {
        <PageTitle text="System · Headway"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(overview) => view! { <SystemLive initial=overview/> }.into_any(),
                    Err(e) => view! {
                        <section class="problem" role="alert">
                            <h1>"System"</h1>
                            <p>{e.message}</p>
                            <p><a href="/">"Back to your jobs"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The figures, refreshed in the browser every few seconds.
#[island(lazy)]
fn SystemLive(initial: SystemOverview) -> impl IntoView {
    let overview = RwSignal::new(initial);
    let on_change = pause_form_sender(overview);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(fresh) = load_system().await {
                        overview.set(fresh);
                    }
                })
            },
            REFRESH,
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <h1>"System"</h1>
        <noscript>
            <p class="hint">"These figures are as of the page's rendering: " <a href="">"refresh"</a> " for newer ones."</p>
        </noscript>
        {move || overview.with(|o| view! {
            <Summary o=o.clone()/>
            <Kinds kinds=o.kinds.clone() pauses=o.pauses.clone() may_pause=o.may_pause on_change/>
            <Processes processes=o.processes.clone() now=o.now/>
        })}
    }
}

/// Sends a pause or resume form, then shows the figures as they are after it; without
/// JavaScript the form posts and the page comes back.
fn pause_form_sender(
    overview: RwSignal<SystemOverview>,
) -> impl Fn(leptos::ev::SubmitEvent) + Copy + Send + Sync + 'static {
    move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            leptos::task::spawn_local(async move {
                let _ = crate::server_fns::post::form::<serde_json::Value>(&form).await;
                if let Ok(fresh) = load_system().await {
                    overview.set(fresh);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = overview;
    }
}

#[component]
fn Summary(o: SystemOverview) -> impl IntoView {
    let failure_rate = match o.failure_rate() {
        None => "–".to_string(),
        Some(rate) => format!("{:.1}%", rate * 100.0),
    };
    let queued: u64 = o.kinds.iter().map(|k| k.queued).sum();
    let running: u64 = o.kinds.iter().map(|k| k.running).sum();
    view! {
        <section aria-labelledby="summary-title">
            <h2 id="summary-title">"Now and in the last hour"</h2>
            <dl class="facts system-facts">
                <dt>"Queued"</dt><dd data-fact="queued">{queued}</dd>
                <dt>"Running"</dt><dd data-fact="running">{running}</dd>
                <dt>"Finished in the last hour"</dt><dd data-fact="finished">{o.finished_last_hour}</dd>
                <dt>"Failed in the last hour"</dt><dd data-fact="failed">{o.failed_last_hour}</dd>
                <dt>"Cancelled in the last hour"</dt><dd data-fact="cancelled">{o.cancelled_last_hour}</dd>
                <dt>"Failure rate (last hour, cancels aside)"</dt><dd data-fact="failure-rate">{failure_rate}</dd>
                <dt>"Open streams (this process)"</dt><dd data-fact="streams">{o.open_streams}</dd>
                <dt>"Events per second (last minute)"</dt><dd data-fact="events-per-second">{format!("{:.1}", o.events_per_second)}</dd>
                <dt>"Store size"</dt><dd data-fact="store">{format::bytes(o.store_bytes)}</dd>
            </dl>
        </section>
    }
}

fn ms(v: Option<i64>) -> String {
    v.map(format::duration).unwrap_or_else(|| "–".into())
}

/// "paused by ada since 2026-11-24 14:02:00 UTC", or "starts jobs" (not "running": that is a
/// job's status).
fn pause_text(pause: Option<&KindPause>) -> String {
    match pause {
        Some(p) => format!(
            "paused by {} since {}",
            p.paused_by,
            format::datetime(p.paused_at)
        ),
        None => "starts jobs".into(),
    }
}

/// The form that pauses `kind` (`*`: every kind), or resumes it when it is paused.
fn pause_button(
    kind: &str,
    paused: bool,
    label: String,
    on_change: impl Fn(leptos::ev::SubmitEvent) + Copy + 'static,
) -> impl IntoView {
    let action = match paused {
        true => ResumeKind::url(),
        false => PauseKind::url(),
    };
    let verb = if paused { "Resume" } else { "Pause" };
    view! {
        <form method="post" action=action class="pause-form" on:submit=on_change>
            <input type="hidden" name="kind" value=kind.to_string()/>
            <button type="submit" class="secondary" aria-label=format!("{verb} {label}")>{verb}</button>
        </form>
    }
}

#[component]
fn Kinds(
    kinds: Vec<KindLoad>,
    pauses: Vec<KindPause>,
    may_pause: bool,
    on_change: impl Fn(leptos::ev::SubmitEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let every = pauses.iter().find(|p| p.kind == EVERY_KIND).cloned();
    let every_line = match &every {
        Some(p) => format!(
            "⏸ Every kind is {}: no job starts until it is resumed.",
            pause_text(Some(p))
        ),
        None => "Every kind runs, unless paused on its own below.".to_string(),
    };
    let every_form = may_pause
        .then(|| pause_button(EVERY_KIND, every.is_some(), "every kind".into(), on_change));
    let own = move |kind: &str| pauses.iter().find(|p| p.kind == kind).cloned();
    view! {
        <section aria-labelledby="kinds-title">
            <h2 id="kinds-title">"By kind"</h2>
            <div class="pause-every" data-paused=every.is_some().then_some("true")>
                <p>{every_line}</p>
                {every_form}
            </div>
            {(!may_pause).then(|| view! {
                <p class="hint">"Operators and admins can pause a kind here, or with "
                    <code>"headway kinds pause KIND"</code>"."</p>
            })}
            <div class="table-scroll">
                <table class="system-table">
                    <caption class="visually-hidden">"Queue depth, running jobs, the last hour's jobs and their timings, by kind"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Queued"</th>
                            <th scope="col">"Running"</th>
                            <th scope="col">"Finished (1 h)"</th>
                            <th scope="col">"Failed (1 h)"</th>
                            <th scope="col">"Cancelled (1 h)"</th>
                            <th scope="col">"In queue p50 / p95"</th>
                            <th scope="col">"Run time p50 / p95"</th>
                            <th scope="col">"State"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {kinds.into_iter().map(|k| {
                            let pause = own(&k.kind);
                            let paused = pause.is_some();
                            let state = pause_text(pause.as_ref());
                            let form = may_pause.then(|| pause_button(&k.kind, paused, k.title.clone(), on_change));
                            view! {
                            <tr data-kind=k.kind.clone() data-paused=paused.then_some("true")>
                                <th scope="row">{k.title.clone()}</th>
                                <td data-col="queued">{k.queued}</td>
                                <td data-col="running">{k.running}</td>
                                <td data-col="finished">{k.finished_last_hour}</td>
                                <td data-col="failed">{k.failed_last_hour}</td>
                                <td data-col="cancelled">{k.cancelled_last_hour}</td>
                                <td data-col="queue">{format!("{} / {}", ms(k.queue_p50_ms), ms(k.queue_p95_ms))}</td>
                                <td data-col="run">{format!("{} / {}", ms(k.run_p50_ms), ms(k.run_p95_ms))}</td>
                                <td data-col="state"><span class="pause-state">{state}</span>{form}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Processes(processes: Vec<ProcessInfo>, now: i64) -> impl IntoView {
    let count = processes.len();
    view! {
        <section aria-labelledby="processes-title">
            <h2 id="processes-title">{format!("Processes alive: {count}")}</h2>
            <div class="table-scroll">
                <table class="system-table">
                    <caption class="visually-hidden">"The Headway processes sharing this store"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Process"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Host / PID"</th>
                            <th scope="col">"Build"</th>
                            <th scope="col">"Up for"</th>
                            <th scope="col">"Last heartbeat"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {processes.into_iter().map(|p| view! {
                            <tr data-process=p.id.to_string()>
                                <th scope="row">
                                    <code>{p.id[..8.min(p.id.len())].to_string()}</code>
                                    {p.this.then_some(" (this one)")}
                                </th>
                                <td>{p.role.clone()}</td>
                                <td>{format!("{} / {}", p.host, p.pid)}</td>
                                <td><code>{p.build.clone()}</code></td>
                                <td>{format::duration(now - p.started_at)}</td>
                                <td>{format!("{} ago", format::duration((now - p.heartbeat_at).max(0)))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
