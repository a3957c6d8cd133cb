//! `/`: the live state of the caller's work on one screen: the counts per status, the jobs
//! running now with their bars, the next to start, the failures of the last day grouped by kind
//! and error code, and the history as a dense table (filters by status, kind, text and error
//! code, pages, bulk actions, export; the chart of the last hour below). Starting a job is the
//! New job page's (`/new`). The filters live in the URL, so a view can be bookmarked and
//! shared; they are a plain `GET` form that works without JavaScript.

use crate::components::{kind_title, status_name, ZoneNote};
use crate::components::{
    ActiveJobs, ExportForm, FailureGroups, FinishedChart, JobRowView, JobRows, LiveRoot,
    StatusCounts,
};
use crate::i18n::t;
use crate::model::{HistoryQuery, Job, JobStatus, KindInfo, KindPause, QueueInfo};
use crate::server_fns::{load_dashboard, DashboardData};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

#[component]
pub fn Dashboard() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new_blocking(move || history_query(&query.get()), load_dashboard);
    let t = t();
    view! {
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <DashboardView data=d/> }.into_any(),
                    Err(e) => view! {
                        <section class="problem" role="alert">
                            <h1>{t.dashboard_cannot_show()}</h1>
                            <p>{e.message}</p>
                            <p><a href="/">{t.dashboard_show_all()}</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The history view a URL asks for.
fn history_query(map: &ParamsMap) -> HistoryQuery {
    let get = |k: &str| map.get(k).filter(|v| !v.trim().is_empty());
    HistoryQuery {
        status: get("status"),
        kind: get("kind"),
        schedule: get("schedule"),
        parent: get("parent"),
        q: get("q"),
        error: get("error"),
        before: get("before"),
        after: get("after"),
        limit: get("limit").and_then(|l| l.parse().ok()),
    }
}

#[component]
fn DashboardView(data: DashboardData) -> impl IntoView {
    let DashboardData {
        kinds,
        elsewhere,
        query,
        page,
        active,
        failures,
        counts,
        chart,
        live,
        may,
        limit_waits,
    } = data;
    let (now, stall_ms) = (live.now, live.stall_ms);
    let t = t();
    let filtered = query.status.is_some()
        || query.kind.is_some()
        || query.q.is_some()
        || query.error.is_some();
    // Jobs that appear after the render belong at the top of the newest page, when they are of
    // the view's kind and status. A search is not repeated in the browser: its view holds what
    // matched when it was loaded.
    let newest = query.before.is_none()
        && query.after.is_none()
        && query.q.is_none()
        && query.error.is_none();
    let statuses: Vec<JobStatus> = query
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .filter_map(|s| JobStatus::parse(s.trim()))
        .collect();
    let kind = query.kind.clone();
    // A queued job of a paused kind says so, with or without JavaScript, and one that waits on
    // a limit says which.
    let pauses: Vec<KindPause> = kinds.iter().filter_map(|k| k.paused.clone()).collect();
    let paused = move |job: &Job| {
        let pause = pauses.iter().find(|p| p.holds(&job.kind));
        let pause = pause
            .filter(|_| job.status == JobStatus::Queued)
            .map(|pause| QueueInfo {
                queue_position: None,
                expected_start_at: None,
                waiting_for: "paused".into(),
                paused: Some(pause.clone()),
                limit: None,
                needs: None,
                requires: Vec::new(),
            });
        pause.or_else(|| {
            limit_waits
                .iter()
                .find(|(id, _)| *id == job.id.as_str())
                .map(|(_, wait)| wait.clone())
        })
    };
    let empty_text = match (filtered, may.start) {
        (true, _) => t.dashboard_none_match(),
        (false, true) => t.dashboard_none_yet_start(),
        (false, false) => t.dashboard_none_yet(),
    };
    let pager = pager(&query, page.prev.clone(), page.next.clone());
    let bulk_bar = may.act.then(|| view! { <BulkBar query=query.clone()/> });
    let title = match may.sees_all {
        true => t.dashboard_all_jobs(),
        false => t.dashboard_your_jobs(),
    };
    let act = may.act;
    let counted = query.clone();
    let filter_notes = filter_notes(&query);
    view! {
        <LiveRoot info=live/>
        <LiveSummary kind=query.kind.clone() status=query.status.clone() stall_ms>
            <div class="dash-top">
                <h1 id="jobs-title">{title}</h1>
                <StatusCounts counts query=counted/>
            </div>
            <div class="dash-now">
                <ActiveJobs active now stall_ms/>
                <section class="failures" aria-labelledby="failures-title">
                    <h2 id="failures-title">{t.failures_title()}</h2>
                    <FailureGroups groups=failures now/>
                </section>
            </div>
        </LiveSummary>
        <section class="history" aria-labelledby="history-title">
            <div class="history-tools">
                <h2 id="history-title">{t.history_title()}</h2>
                <FilterForm kinds elsewhere query=query.clone()/>
                {may.start.then(|| view! { <ExportForm query=query.clone()/> })}
                {bulk_bar}
                <ZoneNote at=now/>
            </div>
            <noscript>
                <p class="hint">
                    {t.dashboard_without_js()} " " <a href="">{t.refresh_the_page()}</a> " " {t.refresh_to_see()}
                </p>
            </noscript>
            {filter_notes}
            <div class="job-list job-table">
                <div class="job-table-head" aria-hidden="true">
                    <span class="th-head">{t.history_col_job()}</span>
                    <span class="th-work">{t.history_col_progress()}</span>
                    <span class="th-when">{t.history_col_when()}</span>
                    <span class="th-took">{t.history_col_took()}</span>
                    <span class="th-who">{t.history_col_who()}</span>
                    <span class="th-act"></span>
                </div>
                <JobRows stall_ms newest kind statuses>
                    {page.jobs.into_iter().map(|job| {
                        let queue = paused(&job);
                        view! { <JobRowView job now stall_ms selectable=act actions=act queue/> }
                    }).collect_view()}
                </JobRows>
                <p class="empty">{empty_text}</p>
            </div>
            {pager}
            <details class="chart-box">
                <summary>{t.dashboard_last_hour()}</summary>
                <FinishedChart minutes=chart now/>
            </details>
        </section>
    }
}

/// The counts per status, the jobs running now and the next to start, and the failures of the
/// last day (`children`, rendered on the server). The running and next jobs' rows follow the
/// stream; when one of the caller's jobs appears or changes status, the server renders the
/// counts, those lists, the failures and the chart again (at most about twice a second) and
/// they take the place of those on the page, keeping the focus on the count that had it.
#[island]
fn LiveSummary(
    kind: Option<String>,
    status: Option<String>,
    stall_ms: u64,
    children: Children,
) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = (kind, status, stall_ms);
    #[cfg(feature = "hydrate")]
    {
        use crate::components::Binder;
        let binder = Binder::new(stall_ms);
        let parent = StoredValue::new(Owner::current());
        // The owner of each list's rows, replaced with the list.
        let owners = StoredValue::new_local(Vec::<Owner>::new());
        let bind = move |lists: &[web_sys::Element]| {
            let owner = match parent.get_value() {
                Some(p) => p.with(Owner::new),
                None => Owner::new(),
            };
            for list in lists {
                owner.with(|| binder.rows(list));
            }
            owners.update_value(|o| {
                for old in o.drain(..) {
                    old.cleanup();
                }
                o.push(owner);
            });
        };
        // Effects run once the island is hydrated.
        Effect::new(move |_| {
            let lists: Vec<_> = [".now-running", ".now-next"]
                .into_iter()
                .filter_map(|s| document().query_selector(s).ok().flatten())
                .collect();
            bind(&lists);
        });
        let changes = crate::live::status_changes();
        let pending = StoredValue::new(false);
        Effect::new(move |seen: Option<u64>| {
            let n = changes.get();
            if seen.is_some() && !pending.get_value() {
                pending.set_value(true);
                let (kind, status) = (kind.clone(), status.clone());
                set_timeout(
                    move || {
                        pending.set_value(false);
                        leptos::task::spawn_local(async move {
                            let url =
                                <crate::server_fns::LoadSummary as leptos::server_fn::ServerFn>::url();
                            let fields: Vec<(&str, &str)> = [("kind", &kind), ("status", &status)]
                                .into_iter()
                                .filter_map(|(n, v)| Some((n, v.as_deref()?)))
                                .collect();
                            let fresh: Result<crate::server_fns::Summary, _> =
                                crate::server_fns::post::fields(url, &fields).await;
                            if let Ok(fresh) = fresh {
                                swap::replace("nav.counts", &fresh.counts);
                                swap::replace(".failures-list", &fresh.failures);
                                swap::replace(".chart-box figure.chart", &fresh.chart);
                                let lists: Vec<_> = [
                                    swap::replace("section.now-running", &fresh.running),
                                    swap::replace("section.now-next", &fresh.next),
                                ]
                                .into_iter()
                                .flatten()
                                .collect();
                                bind(&lists);
                            }
                        });
                    },
                    std::time::Duration::from_millis(400),
                );
            }
            n
        });
    }
    children()
}

/// Putting freshly rendered HTML in place of a part of the page.
#[cfg(feature = "hydrate")]
mod swap {
    use wasm_bindgen::JsCast;

    /// Replaces the element `selector` finds with `html`, and returns the new one. The focus,
    /// when it was on an element with a `data-status` inside, moves to the new element with
    /// the same one; a `<details>` inside (the chart's numbers) that was open stays open.
    pub fn replace(selector: &str, html: &str) -> Option<web_sys::Element> {
        let document = leptos::prelude::document();
        let Ok(Some(old)) = document.query_selector(selector) else {
            return None;
        };
        let focused = document
            .active_element()
            .filter(|e| old.contains(Some(e)))
            .and_then(|e| e.get_attribute("data-status"));
        let open = matches!(old.query_selector("details[open]"), Ok(Some(_)));
        old.set_outer_html(html);
        let Ok(Some(new)) = document.query_selector(selector) else {
            return None;
        };
        if let (true, Ok(Some(details))) = (open, new.query_selector("details")) {
            let _ = details.set_attribute("open", "");
        }
        if let Some(status) = focused {
            let target = format!("[data-status=\"{status}\"]");
            if let Ok(Some(e)) = new.query_selector(&target) {
                if let Ok(e) = e.dyn_into::<web_sys::HtmlElement>() {
                    let _ = e.focus();
                }
            }
        }
        Some(new)
    }
}

/// The bulk actions on the jobs ticked in the list (their checkboxes belong to this form), or
/// on every job matching the view: a plain `GET` to `/bulk`, which asks for confirmation.
#[component]
fn BulkBar(query: HistoryQuery) -> impl IntoView {
    let done = bulk_done();
    let t = t();
    view! {
        {done}
        <form id="bulk" class="bulk-bar" method="get" action="/bulk">
            <input type="hidden" name="status" value=query.status.clone().unwrap_or_default()/>
            <input type="hidden" name="kind" value=query.kind.clone().unwrap_or_default()/>
            <input type="hidden" name="q" value=query.q.clone().unwrap_or_default()/>
            <label class="bulk-all">
                <input type="checkbox" name="all" value="true"/>
                " " {t.bulk_all_matching()}
            </label>
            <button type="submit" class="secondary" name="action" value="cancel">{t.bulk_cancel_selected()}</button>
            <button type="submit" class="secondary" name="action" value="rerun">{t.bulk_rerun_selected()}</button>
            <button type="submit" class="secondary" name="action" value="priority">{t.bulk_priority_selected()}</button>
        </form>
    }
}

/// What the last bulk action did, from the address it came back to.
fn bulk_done() -> Option<impl IntoView> {
    let query = use_query_map();
    query.with_untracked(|q| {
        let action = q.get("bulk")?;
        let done: usize = q.get("done")?.parse().ok()?;
        let not_done: usize = q.get("not_done").and_then(|n| n.parse().ok()).unwrap_or(0);
        let t = t();
        let mut text = match action.as_str() {
            "cancel" => t.bulk_done_cancelled(done),
            "priority" => t.bulk_done_priority(done),
            _ => t.bulk_done_rerun(done),
        };
        if not_done > 0 {
            text.push(' ');
            text.push_str(&match action.as_str() {
                "cancel" => t.bulk_not_done_cancel(not_done),
                "priority" => t.bulk_not_done_priority(not_done),
                _ => t.bulk_not_done_rerun(not_done),
            });
        }
        Some(view! { <p class="bulk-done" role="status">{text}</p> })
    })
}

#[component]
fn FilterForm(
    kinds: Vec<KindInfo>,
    elsewhere: Vec<KindInfo>,
    query: HistoryQuery,
) -> impl IntoView {
    let status = query.status.clone().unwrap_or_default();
    let kind = query.kind.clone().unwrap_or_default();
    let t = t();
    let status_options = JobStatus::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str() selected=status == s.as_str()>{status_name(t, *s)}</option> })
        .collect_view();
    // Several statuses (`queued,running`, from a link) are a choice of their own.
    let several = (status.contains(',')).then(|| {
        let words: Vec<&str> = status
            .split(',')
            .filter_map(|s| JobStatus::parse(s.trim()))
            .map(|s| status_name(t, s))
            .collect();
        view! { <option value=status.clone() selected=true>{words.join(t.list_separator())}</option> }
    });
    let kind_options = kinds
        .into_iter()
        .map(|k| {
            let selected = kind == k.name;
            view! { <option value=k.name.clone() selected=selected>{kind_title(t, &k)}</option> }
        })
        .collect_view();
    let elsewhere_options = elsewhere
        .into_iter()
        .map(|k| {
            let selected = kind == k.name;
            view! { <option value=k.name.clone() selected=selected>{t.filter_elsewhere(kind_title(t, &k))}</option> }
        })
        .collect_view();
    view! {
        <form class="filters" method="get" action="/" role="search" aria-label=t.filter_jobs()>
            <div class="field">
                <label for="filter-status">{t.filter_status()}</label>
                <select id="filter-status" name="status">
                    <option value="" selected=status.is_empty()>{t.filter_any()}</option>
                    {status_options}
                    {several}
                </select>
            </div>
            <div class="field">
                <label for="filter-kind">{t.system_kind()}</label>
                <select id="filter-kind" name="kind">
                    <option value="" selected=kind.is_empty()>{t.filter_any()}</option>
                    {kind_options}
                    {elsewhere_options}
                </select>
            </div>
            <div class="field grow">
                <label for="filter-q">{t.filter_q()}</label>
                <input id="filter-q" name="q" type="search" value=query.q.clone() placeholder=t.filter_q_placeholder()/>
            </div>
            {query.schedule.clone().map(|s| view! { <input type="hidden" name="schedule" value=s/> })}
            {query.error.clone().map(|e| view! { <input type="hidden" name="error" value=e/> })}
            <button type="submit" class="secondary">{t.filter()}</button>
            <a class="clear" href="/">{t.filter_clear()}</a>
        </form>
    }
}

/// What the view is narrowed to, beyond its filters' fields: one schedule's jobs, or those that
/// ended with one error code.
fn filter_notes(query: &HistoryQuery) -> impl IntoView {
    let t = t();
    view! {
        {query.schedule.clone().map(|s| view! {
            <p class="filter-note">
                {t.filter_one_schedule()} " ("
                <a href=format!("/schedules/{s}")>{t.filter_see_it()}</a>
                "). " <a href="/">{t.filter_every_job()}</a>
            </p>
        })}
        {query.error.clone().map(|e| view! {
            <p class="filter-note">
                {t.filter_one_error()} " " <code>{e}</code> ". " <a href="/">{t.filter_every_job()}</a>
            </p>
        })}
    }
}

/// Newer and older pages, keeping the filters.
fn pager(query: &HistoryQuery, prev: Option<String>, next: Option<String>) -> impl IntoView {
    let href = |q: HistoryQuery| format!("/?{}", q.to_query_string());
    let t = t();
    let newer = prev.map(
        |id| view! { <a rel="prev" href=href(query.page(None, Some(id)))>{t.pager_newer()}</a> },
    );
    let older = next.map(
        |id| view! { <a rel="next" href=href(query.page(Some(id), None))>{t.pager_older()}</a> },
    );
    view! { <nav class="pager" aria-label=t.pager_label()>{newer}{older}</nav> }
}
