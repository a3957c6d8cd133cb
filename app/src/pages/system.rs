//! `/system`: the operator's view of the deployment: queue depth and running jobs per kind, the
//! last hour's throughput and failures, time in queue against run time, open streams, events
//! per second, the store's size and the processes alive; the limits in force and their busiest
//! keys; and for operators, pausing and resuming a kind or every kind, setting a limit and
//! removing one set at run time. Rendered on the server, then refreshed every few seconds by a
//! light poll. Every form is a plain form post that comes back to the page without
//! JavaScript; a refused limit comes back with what was typed and why.

use crate::components::{limit_key, limit_words, PageTitle, Time};
use crate::format;
use crate::i18n::{t, Text};
use crate::model::limits::{LimitSource, LimitUse, Per};
use crate::model::workers::{WorkerInfo, WorkerState};
use crate::model::{AppError, KindLoad, KindPause, ProcessInfo, SystemOverview, EVERY_KIND};
use crate::server_fns::{
    load_system_page, LimitFields, PauseKind, RemoveLimit, ResumeKind, SetLimit, SetWorkerState,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

/// How often the open page asks for fresh figures.
#[cfg(feature = "hydrate")]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn SystemPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_system_page());
    // A limit refused without JavaScript comes back in the address: why, and what was typed.
    let refused = match ServerAction::<SetLimit>::new().value().get_untracked() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let query = use_query_map();
    let typed = query.with_untracked(|q| LimitFields::from_query(|k| q.get(k)));
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.nav_system())/>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || {
                let (refused, typed) = (refused.clone(), typed.clone());
                Suspend::new(async move {
                match data.await {
                    // The heading is the page's: the island carries no words of its own.
                    Ok(data) => {
                        view! {
                            <h1>{t.nav_system()}</h1>
                            <SystemLive initial=data.overview limit_kinds=data.limit_kinds refused typed/>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <section class="problem" role="alert">
                            <h1>{t.nav_system()}</h1>
                            <p>{e.message}</p>
                            <p><a href="/">{t.back_to_jobs()}</a></p>
                        </section>
                    }.into_any(),
                }
            })}}
        </Suspense>
    }
}

/// The figures, refreshed in the browser every few seconds.
#[island(lazy)]
fn SystemLive(
    initial: SystemOverview,
    limit_kinds: Vec<(String, String)>,
    refused: Option<AppError>,
    typed: LimitFields,
) -> impl IntoView {
    let may_set = initial.may_pause;
    let overview = RwSignal::new(initial);
    let on_change = pause_form_sender(overview);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(fresh) = crate::server_fns::load_system().await {
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
        })}
        <section aria-labelledby="limits-title" class="limits">
            <h2 id="limits-title">{t.system_limits()}</h2>
            {move || overview.with(|o| view! { <Limits o=o.clone() on_change/> })}
            // Outside the refreshed part: what is typed in it stays.
            {match may_set {
                true => view! { <LimitForm kinds=limit_kinds refused typed overview/> }.into_any(),
                false => view! { <p class="hint">{t.system_limit_hint()}</p> }.into_any(),
            }}
        </section>
        // A worker elsewhere is a process too: those who see the workers' table see it there.
        {move || overview.with(|o| view! { <Processes processes=o.processes.iter().filter(|p| !(may_set && p.role == REMOTE)).cloned().collect() now=o.now/> })}
        {move || overview.with(|o| may_set.then(|| view! { <Workers workers=o.workers.clone() now=o.now on_change/> }))}
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
            let Some(form) = crate::server_fns::post::submitted(&ev) else {
                return;
            };
            leptos::task::spawn_local(async move {
                let _ = crate::server_fns::post::form::<serde_json::Value>(&form).await;
                if let Ok(fresh) = crate::server_fns::load_system().await {
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

/// The limits in force: each in words, its kind, where it comes from, and its busiest keys;
/// for operators, Remove on those set at run time.
#[component]
fn Limits(
    o: SystemOverview,
    on_change: impl Fn(leptos::ev::SubmitEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = t();
    if o.limits.is_empty() {
        return view! { <p class="empty limits-none">{t.system_limits_none()}</p> }.into_any();
    }
    let title = |kind: &str| {
        o.kinds
            .iter()
            .find(|k| k.kind == kind)
            .map_or_else(|| kind.to_string(), |k| k.title.clone())
    };
    let (may_remove, now) = (o.may_pause, o.now);
    view! {
        <ul class="limit-list" aria-label=t.system_limits_caption()>
            {o.limits.iter().map(|l| {
                let title = title(&l.limit.kind);
                view! { <LimitItem l=l.clone() title may_remove now on_change/> }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn LimitItem(
    l: LimitUse,
    title: String,
    may_remove: bool,
    now: i64,
    on_change: impl Fn(leptos::ev::SubmitEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = t();
    let words = limit_words(t, &l.limit);
    let source = match (l.source, &l.set_by, l.set_at) {
        (LimitSource::Set, Some(by), Some(at)) => view! {
            {t.system_limit_set_by(by.clone())} " " <Time at style=format::Style::Short/>
        }
        .into_any(),
        _ => t.system_limit_declared().into_any(),
    };
    let declared = l
        .declared_max
        .map(|max| view! { " · " {t.system_limit_declared_max(max)} });
    let remove = (may_remove && l.source == LimitSource::Set).then(|| {
        let (per, param) = match &l.limit.per {
            Per::Kind => ("kind", String::new()),
            Per::Owner => ("owner", String::new()),
            Per::Param(p) => ("param", p.clone()),
        };
        let window = l.limit.window_ms.map(|w| w.to_string()).unwrap_or_default();
        view! {
            <form method="post" action=RemoveLimit::url() class="limit-remove" on:submit=on_change>
                <input type="hidden" name="kind" value=l.limit.kind.clone()/>
                <input type="hidden" name="per" value=per/>
                <input type="hidden" name="param" value=param/>
                <input type="hidden" name="window" value=window/>
                <button type="submit" class="secondary" aria-label=t.system_limit_remove_label(words.clone(), title.clone())>
                    {t.system_limit_remove()}
                </button>
            </form>
        }
    });
    let rate = l.limit.is_rate();
    let keys = l
        .keys
        .iter()
        .map(|k| {
            let key = limit_key(t, &l.limit.per, &k.key, k.name.as_deref());
            let used = match rate {
                true => t.system_limit_in_window(k.used),
                false => t.system_limit_running(k.used),
            };
            let next = k.next_at.map(|at| {
                // Within the hour: the time of day is enough.
                let style = match at - now < 3_600_000 {
                    true => format::Style::Clock,
                    false => format::Style::Short,
                };
                view! { {t.system_limit_next_start()} " " <Time at style/> }
            });
            view! { <li data-key=k.key.clone()><span class="limit-key">{key}</span> {t.system_limit_key_sep()} {used} {next}</li> }
        })
        .collect_view();
    view! {
        <li class="limit" data-limit=l.limit.signature() data-source=match l.source {
            LimitSource::Set => "set",
            LimitSource::Declared => "declared",
        }>
            <div class="limit-head">
                <p class="limit-what">
                    <strong class="limit-words">{words.clone()}</strong>
                    " · " <span class="limit-kind">{title.clone()}</span>
                </p>
                {remove}
            </div>
            <p class="limit-source">{source} {declared} " · " <span class="limit-keys-in-use">{t.system_limit_keys_in_use(l.keys_in_use)}</span></p>
            {(!l.keys.is_empty()).then(|| view! { <ul class="limit-keys">{keys}</ul> })}
        </li>
    }
}

/// The fields of the limits' form that the server may refuse, by the name the server gives
/// them, and the id of the field that shows its message.
const LIMIT_FIELDS: [(&str, &str); 5] = [
    ("kind", "limit-kind"),
    ("max", "limit-max"),
    ("per", "limit-per"),
    ("param", "limit-param"),
    ("window_ms", "limit-window"),
];

/// The form that sets a limit (operators and admins). With JavaScript it is sent by the page,
/// which shows the server's messages next to their fields and the limits as they are after it;
/// without, the server sends the browser back with them.
#[component]
fn LimitForm(
    kinds: Vec<(String, String)>,
    refused: Option<AppError>,
    typed: LimitFields,
    overview: RwSignal<SystemOverview>,
) -> impl IntoView {
    let t = t();
    let refusal = RwSignal::new(refused);
    let message = move |field: &'static str| {
        move || refusal.with(|r| r.as_ref().and_then(|e| e.field(field)).map(str::to_string))
    };
    let invalid = move |field: &'static str| move || message(field)().map(|_| "true");
    let other = move || {
        refusal.with(|r| {
            r.as_ref()
                .filter(|e| !LIMIT_FIELDS.iter().any(|(f, _)| e.field(f).is_some()))
                .map(|e| e.message.clone())
        })
    };
    let error = move |field: &'static str| {
        let id = LIMIT_FIELDS
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(field, |(_, id)| *id);
        view! { <p class="field-error" id=format!("{id}-error") aria-live="polite">{message(field)}</p> }
    };
    let kind_options = kinds
        .into_iter()
        .map(|(name, title)| {
            let selected = name == typed.kind;
            view! { <option value=name selected=selected>{title}</option> }
        })
        .collect_view();
    let option = |value: &'static str, chosen: &str, text: &'static str| {
        view! { <option value=value selected=value == chosen>{text}</option> }
    };
    let per = typed.per.clone();
    let window = typed.window.clone();
    let max = match typed.max.is_empty() {
        true => "1".to_string(),
        false => typed.max.clone(),
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let Some(form) = crate::server_fns::post::submitted(&ev) else {
                return;
            };
            leptos::task::spawn_local(async move {
                let answer =
                    crate::server_fns::post::form::<crate::model::limits::LimitUse>(&form).await;
                refusal.set(answer.err());
                if let Ok(fresh) = crate::server_fns::load_system().await {
                    overview.set(fresh);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = overview;
    };
    view! {
        <form method="post" action=SetLimit::url() id="limit-form" class="limit-form" on:submit=send>
            <h3>{t.system_limit_form()}</h3>
            <div class="limit-fields">
                <div class="field">
                    <label for="limit-kind">{t.system_kind()}</label>
                    <select id="limit-kind" name="kind" aria-describedby="limit-kind-error" aria-invalid=invalid("kind")>
                        {kind_options}
                    </select>
                    {error("kind")}
                </div>
                <div class="field">
                    <label for="limit-max">{t.system_limit_max()}</label>
                    <input type="number" id="limit-max" name="max" value=max inputmode="numeric" aria-describedby="limit-max-error" aria-invalid=invalid("max")/>
                    {error("max")}
                </div>
                <div class="field">
                    <label for="limit-window">{t.system_limit_counting()}</label>
                    <select id="limit-window" name="window" aria-describedby="limit-window-error" aria-invalid=invalid("window_ms")>
                        {option("", &window, t.system_limit_at_once())}
                        {option("1000", &window, t.system_limit_a_second())}
                        {option("60000", &window, t.system_limit_a_minute())}
                        {option("3600000", &window, t.system_limit_an_hour())}
                        {option("86400000", &window, t.system_limit_a_day())}
                    </select>
                    {error("window_ms")}
                </div>
                <div class="field">
                    <label for="limit-per">{t.system_limit_per()}</label>
                    <select id="limit-per" name="per" aria-describedby="limit-per-error" aria-invalid=invalid("per")>
                        {option("kind", &per, t.system_limit_per_kind())}
                        {option("owner", &per, t.system_limit_per_owner())}
                        {option("param", &per, t.system_limit_per_param())}
                    </select>
                    {error("per")}
                </div>
                <div class="field">
                    <label for="limit-param">{t.system_limit_param()}</label>
                    <input type="text" id="limit-param" name="param" value=typed.param.clone() autocomplete="off" spellcheck="false" aria-describedby="limit-param-error" aria-invalid=invalid("param")/>
                    {error("param")}
                </div>
            </div>
            <p class="form-error" role="alert">{other}</p>
            <button type="submit">{t.system_limit_submit()}</button>
        </form>
    }
}

/// The role of a worker on another machine ([`ProcessInfo::role`]).
const REMOTE: &str = "remote";

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
                                    {match p.name.is_empty() {
                                        true => view! { <code>{p.id[..8.min(p.id.len())].to_string()}</code> }.into_any(),
                                        false => p.name.clone().into_any(),
                                    }}
                                    {p.this.then(|| t.system_this_one())}
                                </th>
                                <td>{t.system_process_role(p.role.as_str())}</td>
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

/// The workers on other machines, with what each runs, and for operators the forms that drain,
/// disable and enable one.
#[component]
fn Workers(
    workers: Vec<WorkerInfo>,
    now: i64,
    on_change: impl Fn(leptos::ev::SubmitEvent) + Copy + 'static,
) -> impl IntoView {
    let count = workers.len();
    let t = t();
    let body = match workers.is_empty() {
        true => view! {
            <p class="hint">
                {t.system_workers_none()} " " <code>"headway worker"</code> " "
                {t.system_workers_none_end()}
            </p>
        }
        .into_any(),
        false => view! {
            <div class="table-scroll" tabindex="0" role="region" aria-label=t.system_workers_caption()>
                <table class="system-table">
                    <caption class="visually-hidden">{t.system_workers_caption()}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t.system_worker()}</th>
                            <th scope="col">{t.system_worker_state()}</th>
                            <th scope="col">{t.system_worker_running()}</th>
                            <th scope="col">{t.system_worker_tags()}</th>
                            <th scope="col">{t.system_worker_kinds()}</th>
                            <th scope="col">{t.system_host_pid()}</th>
                            <th scope="col">{t.system_build()}</th>
                            <th scope="col">{t.system_worker_last_poll()}</th>
                            <th scope="col">{t.system_worker_actions()}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {workers.into_iter().map(|w| {
                            let state = match w.state {
                                WorkerState::Active => t.system_worker_active(),
                                WorkerState::Draining => t.system_worker_draining(),
                                WorkerState::Disabled => t.system_worker_disabled(),
                            };
                            let actions: Vec<(WorkerState, String, String)> = [
                                (WorkerState::Draining, t.system_worker_drain(), t.system_worker_drain_label(w.name.clone())),
                                (WorkerState::Disabled, t.system_worker_disable(), t.system_worker_disable_label(w.name.clone())),
                                (WorkerState::Active, t.system_worker_enable(), t.system_worker_enable_label(w.name.clone())),
                            ]
                            .into_iter()
                            .filter(|(to, _, _)| *to != w.state)
                            .map(|(to, verb, label)| (to, verb.to_string(), label.to_string()))
                            .collect();
                            view! {
                                <tr data-worker=w.name.clone() data-state=w.state.as_str()>
                                    <th scope="row">{w.name.clone()}</th>
                                    <td>{state}</td>
                                    <td>{format!("{} / {}", t.int(w.running as i64), t.int(i64::from(w.slots)))}</td>
                                    <td>{if w.tags.is_empty() { "–".to_string() } else { w.tags.join(", ") }}</td>
                                    <td>{w.kinds.join(", ")}</td>
                                    <td>{w.host.clone()}</td>
                                    <td><code>{w.version.clone()}</code></td>
                                    <td>{t.system_ago(format::span(t, (now - w.last_seen_at).max(0)))}</td>
                                    <td class="worker-actions">
                                        {actions.into_iter().map(|(to, verb, label)| view! {
                                            <form method="post" action=SetWorkerState::url() class="pause-form" on:submit=on_change>
                                                <input type="hidden" name="id" value=w.id.clone()/>
                                                <input type="hidden" name="state" value=to.as_str()/>
                                                <button type="submit" class="secondary" aria-label=label>{verb}</button>
                                            </form>
                                        }).collect_view()}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <section aria-labelledby="workers-title">
            <h2 id="workers-title">{t.system_workers(count)}</h2>
            {body}
        </section>
    }
}
