//! `/system`: the operator's view of the deployment: queue depth and running jobs per kind, the
//! last hour's throughput and failures, time in queue against run time, open streams, events
//! per second, the store's size and the processes alive; and for operators, pausing and
//! resuming a kind or every kind. Rendered on the server, then refreshed
//! every few seconds by a light poll.

use crate::components::{PageTitle, Time};
use crate::format;
use crate::i18n::{t, Text};
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
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.nav_system())/>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    // The heading is the page's: the island carries no words of its own.
                    Ok(overview) => view! { <h1>{t.nav_system()}</h1> <SystemLive initial=overview/> }.into_any(),
                    Err(e) => view! {
                        <section class="problem" role="alert">
                            <h1>{t.nav_system()}</h1>
                            <p>{e.message}</p>
                            <p><a href="/">{t.back_to_jobs()}</a></p>
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
    let t = t();
    view! {
        <noscript>
            <p class="hint">{t.system_as_of()} " " <a href="">{t.system_refresh()}</a></p>
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
    let t = t();
    let failure_rate = match o.failure_rate() {
        None => "–".to_string(),
        Some(rate) => t.percent(t.decimal(rate * 100.0, 1)),
    };
    let queued: u64 = o.kinds.iter().map(|k| k.queued).sum();
    let running: u64 = o.kinds.iter().map(|k| k.running).sum();
    view! {
        <section aria-labelledby="summary-title">
            <h2 id="summary-title">{t.system_now_and_last_hour()}</h2>
            <dl class="facts system-facts">
                <dt>{t.system_queued()}</dt><dd data-fact="queued">{t.int(queued as i64)}</dd>
                <dt>{t.system_running()}</dt><dd data-fact="running">{t.int(running as i64)}</dd>
                <dt>{t.system_finished_last_hour()}</dt><dd data-fact="finished">{t.int(o.finished_last_hour as i64)}</dd>
                <dt>{t.system_failed_last_hour()}</dt><dd data-fact="failed">{t.int(o.failed_last_hour as i64)}</dd>
                <dt>{t.system_cancelled_last_hour()}</dt><dd data-fact="cancelled">{t.int(o.cancelled_last_hour as i64)}</dd>
                <dt>{t.system_failure_rate()}</dt><dd data-fact="failure-rate">{failure_rate}</dd>
                <dt>{t.system_open_streams()}</dt><dd data-fact="streams">{t.int(o.open_streams as i64)}</dd>
                <dt>{t.system_events_per_second()}</dt><dd data-fact="events-per-second">{t.decimal(o.events_per_second, 1)}</dd>
                <dt>{t.system_store_size()}</dt><dd data-fact="store">{format::bytes(o.store_bytes)}</dd>
            </dl>
        </section>
    }
}

fn ms(t: Text, v: Option<i64>) -> String {
    v.map(|v| format::span(t, v)).unwrap_or_else(|| "–".into())
}

/// "paused by ada since Nov 24, 14:02", or "starts jobs" (not "running": that is a job's
/// status).
fn pause_text(t: Text, pause: Option<&KindPause>) -> AnyView {
    match pause {
        Some(p) => view! {
            {t.system_paused_by(p.paused_by.clone())} " " <Time at=p.paused_at style=format::Style::Short/>
        }
        .into_any(),
        None => t.system_kind_starts_jobs().into_any(),
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
    let t = t();
    let (verb, aria) = match paused {
        true => (t.system_resume(), t.system_resume_label(label)),
        false => (t.system_pause(), t.system_pause_label(label)),
    };
    view! {
        <form method="post" action=action class="pause-form" on:submit=on_change>
            <input type="hidden" name="kind" value=kind.to_string()/>
            <button type="submit" class="secondary" aria-label=aria>{verb}</button>
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
    let t = t();
    let every = pauses.iter().find(|p| p.kind == EVERY_KIND).cloned();
    let every_line = match &every {
        Some(p) => view! {
            "⏸ " {t.system_every_kind_paused(p.paused_by.clone())} " "
            <Time at=p.paused_at style=format::Style::Short/> {t.system_every_kind_paused_end()}
        }
        .into_any(),
        None => t.system_every_kind_runs().into_any(),
    };
    let every_form = may_pause.then(|| {
        pause_button(
            EVERY_KIND,
            every.is_some(),
            t.system_every_kind().into(),
            on_change,
        )
    });
    let own = move |kind: &str| pauses.iter().find(|p| p.kind == kind).cloned();
    view! {
        <section aria-labelledby="kinds-title">
            <h2 id="kinds-title">{t.system_by_kind()}</h2>
            <div class="pause-every" data-paused=every.is_some().then_some("true")>
                <p>{every_line}</p>
                {every_form}
            </div>
            {(!may_pause).then(|| view! {
                <p class="hint">{t.system_pause_hint()} " "
                    <code>"headway kinds pause KIND"</code>{t.system_pause_hint_end()}</p>
            })}
            <div class="table-scroll" tabindex="0" role="region" aria-label=t.system_kinds_caption()>
                <table class="system-table">
                    <caption class="visually-hidden">{t.system_kinds_caption()}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t.system_kind()}</th>
                            <th scope="col">{t.system_queued()}</th>
                            <th scope="col">{t.system_running()}</th>
                            <th scope="col">{t.system_finished_1h()}</th>
                            <th scope="col">{t.system_failed_1h()}</th>
                            <th scope="col">{t.system_cancelled_1h()}</th>
                            <th scope="col">{t.system_in_queue()}</th>
                            <th scope="col">{t.system_run_time()}</th>
                            <th scope="col">{t.user_state()}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {kinds.into_iter().map(|k| {
                            let pause = own(&k.kind);
                            let paused = pause.is_some();
                            let state = pause_text(t, pause.as_ref());
                            let form = may_pause.then(|| pause_button(&k.kind, paused, k.title.clone(), on_change));
                            view! {
                            <tr data-kind=k.kind.clone() data-paused=paused.then_some("true")>
                                <th scope="row">{k.title.clone()}</th>
                                <td data-col="queued">{t.int(k.queued as i64)}</td>
                                <td data-col="running">{t.int(k.running as i64)}</td>
                                <td data-col="finished">{t.int(k.finished_last_hour as i64)}</td>
                                <td data-col="failed">{t.int(k.failed_last_hour as i64)}</td>
                                <td data-col="cancelled">{t.int(k.cancelled_last_hour as i64)}</td>
                                <td data-col="queue">{format!("{} / {}", ms(t, k.queue_p50_ms), ms(t, k.queue_p95_ms))}</td>
                                <td data-col="run">{format!("{} / {}", ms(t, k.run_p50_ms), ms(t, k.run_p95_ms))}</td>
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
    let t = t();
    view! {
        <section aria-labelledby="processes-title">
            <h2 id="processes-title">{t.system_processes_alive(count)}</h2>
            <div class="table-scroll" tabindex="0" role="region" aria-label=t.system_processes_caption()>
                <table class="system-table">
                    <caption class="visually-hidden">{t.system_processes_caption()}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t.system_process()}</th>
                            <th scope="col">{t.role()}</th>
                            <th scope="col">{t.system_host_pid()}</th>
                            <th scope="col">{t.system_build()}</th>
                            <th scope="col">{t.system_up_for()}</th>
                            <th scope="col">{t.system_last_heartbeat()}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {processes.into_iter().map(|p| view! {
                            <tr data-process=p.id.to_string()>
                                <th scope="row">
                                    <code>{p.id[..8.min(p.id.len())].to_string()}</code>
                                    {p.this.then(|| t.system_this_one())}
                                </th>
                                <td>{p.role.clone()}</td>
                                <td>{format!("{} / {}", p.host, p.pid)}</td>
                                <td><code>{p.build.clone()}</code></td>
                                <td>{format::span(t, now - p.started_at)}</td>
                                <td>{t.system_ago(format::span(t, (now - p.heartbeat_at).max(0)))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
