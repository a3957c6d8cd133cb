//! Rows the server rendered, kept current in the browser: each row (`[data-job]`, the job as
//! the server rendered it) follows its job's live signal, and what changes is written into the
//! row's parts (status, bar, texts, times, which of Cancel and Re-run shows), with the texts
//! [`row_texts`] computes, the same the server rendered. No view is built in the browser: the
//! rows of jobs that appear later are rendered by the server too (`load_rows`).

use super::{row_texts, RowTexts};
use crate::format;
use crate::i18n::{t, Text};
use crate::live;
use crate::model::{Job, JobStatus};
use crate::pace::{self, RateMeter};
use crate::zone::Zone;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use std::collections::HashSet;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// How often a queued row asks again for its place in line.
const QUEUE_REFRESH_MS: i64 = 3_000;
/// The most new rows asked for at once (the server's bound).
const ROWS_PER_CALL: usize = 50;

/// What binding rows needs: the page's language, its zone and clock, and when a silent job
/// counts as stalled. Made in an island, whose owner keeps the zone and clock.
#[derive(Clone, Copy)]
pub struct Binder {
    t: Text,
    zone: Signal<Zone>,
    clock: Signal<i64>,
    stall_ms: u64,
}

impl Binder {
    pub fn new(stall_ms: u64) -> Binder {
        Binder {
            t: t(),
            zone: crate::zone::view_zone(),
            clock: live::view_clock(crate::components::now_ms()),
            stall_ms,
        }
    }

    /// Binds every row under `root` that is not bound yet; the rows' effects belong to the
    /// current owner.
    pub fn rows(self, root: &Element) {
        let Ok(rows) = root.query_selector_all("[data-job]") else {
            return;
        };
        for i in 0..rows.length() {
            if let Some(el) = rows.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                self.row(el);
            }
        }
    }

    fn row(self, el: Element) {
        let job = el
            .get_attribute("data-job")
            .and_then(|data| serde_json::from_str::<Job>(&data).ok());
        let _ = el.remove_attribute("data-job");
        let Some(job) = job else {
            return;
        };
        let job = RwSignal::from(live::track(job));
        let id = job.with_untracked(|j| j.id.to_string());
        let queue = RwSignal::new(None::<String>);
        let sending = RwSignal::new(false);
        let parts = Parts::of(&el);
        // Cancel and Re-run: the forms the page sends itself, showing the job it gets back.
        if let Ok(forms) = el.query_selector_all("form.job-action") {
            for i in 0..forms.length() {
                if let Some(form) = forms
                    .item(i)
                    .and_then(|n| n.dyn_into::<web_sys::HtmlFormElement>().ok())
                {
                    on_submit(&form, sending, parts.failure.clone());
                }
            }
        }
        // What a queued job's row says of its place in line (the server says it), asked for
        // while it waits: every few seconds (the clock) and whenever it is queued again; the
        // first screen's line says it too. A box of a run's graph says none.
        let clock = self.clock;
        let says_queue = parts.queue.is_some() || parts.line.is_some();
        Effect::new(move |_| {
            let queued = says_queue && job.with(|j| j.status == JobStatus::Queued);
            let _tick = clock.get() / QUEUE_REFRESH_MS;
            if !queued {
                queue.set(None);
                return;
            }
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let url = crate::server_fns::LoadQueueText::url();
                if let Ok(info) = crate::server_fns::post::fields(url, &[("id", &id)]).await {
                    queue.set(info);
                }
            });
        });
        // The rate is measured from the samples this page sees; until then, the average.
        let mut meter = RateMeter::default();
        let mut shown: Option<RowTexts> = None;
        let stall_ms = self.stall_ms;
        let (t, zone) = (self.t, self.zone);
        Effect::new(move |_| {
            let now = clock.get();
            let zone = zone.get();
            let queue = queue.get();
            let sending = sending.get();
            job.with(|j| {
                if let Some(at) = j.progress.at {
                    meter.observe(at, j.progress.current);
                }
                let p = pace::pace(j, meter.rate(), now, stall_ms);
                let x = row_texts(t, &zone, j, &p, queue.as_deref(), now);
                parts.paint(&x, shown.as_ref(), sending, || {
                    t.job_stalled_said(crate::names::job_title(j))
                });
                parts.retime(t, &zone, now);
                shown = Some(x);
            });
        });
    }
}

/// Binds the rows of a [`super::JobRows`] list once it is live and, with `newest`, puts the
/// rows of jobs that appear later at its top.
pub fn list(
    list: NodeRef<leptos::html::Div>,
    stall_ms: u64,
    newest: Option<(Option<String>, Vec<JobStatus>)>,
) {
    let binder = Binder::new(stall_ms);
    let mut newest = newest;
    // Effects run once the island is hydrated.
    Effect::new(move |_| {
        let Some(root) = list.get_untracked() else {
            return;
        };
        let root: Element = root.into();
        binder.rows(&root);
        if let Some((kind, statuses)) = newest.take() {
            follow_new(binder, root, kind, statuses);
        }
    });
}

/// Puts the rows of jobs that appear after the render, of `kind` and `statuses`, at the top of
/// the list's `.job-rows-new`, newest first, each rendered by the server once it fits.
fn follow_new(binder: Binder, root: Element, kind: Option<String>, statuses: Vec<JobStatus>) {
    let Ok(Some(target)) = root.query_selector(".job-rows-new") else {
        return;
    };
    let owner = Owner::current();
    let jobs = live::new_jobs();
    // Asked for or shown: a job stays once shown, as a rendered row does when its status moves on.
    let taken = StoredValue::new(HashSet::<String>::new());
    // One call at a time, so that the rows of newer jobs go above those asked for before them;
    // each answer lets the jobs that came meanwhile be asked for.
    let busy = StoredValue::new(false);
    let answered = RwSignal::new(0u64);
    // A workflow's step is shown on its run's page: the run is one row.
    let fits = move |j: &Job| {
        j.parent.is_none()
            && kind.as_ref().is_none_or(|k| *k == j.kind)
            && (statuses.is_empty() || statuses.contains(&j.status))
    };
    Effect::new(move |_| {
        answered.track();
        let mut wanted = Vec::new();
        for job in jobs.get() {
            // Followed until it fits: its status may come into the view.
            let (id, fit) = job.with(|j| (j.id.to_string(), fits(j)));
            if fit && wanted.len() < ROWS_PER_CALL && !taken.with_value(|t| t.contains(&id)) {
                wanted.push(id);
            }
        }
        if wanted.is_empty() || busy.get_value() {
            return;
        }
        busy.set_value(true);
        taken.update_value(|t| t.extend(wanted.iter().cloned()));
        let (target, owner) = (target.clone(), owner.clone());
        leptos::task::spawn_local(async move {
            let url = crate::server_fns::LoadRows::url();
            let ids = wanted.join(",");
            let answer = crate::server_fns::post::fields::<String>(url, &[("ids", &ids)]).await;
            busy.set_value(false);
            match answer {
                Ok(html) => {
                    let _ = target.insert_adjacent_html("afterbegin", &html);
                    match owner {
                        Some(owner) => owner.with(|| binder.rows(&target)),
                        None => binder.rows(&target),
                    }
                    answered.update(|n| *n += 1);
                }
                // Asked for again when the jobs next change.
                Err(_) => taken.update_value(|t| {
                    for id in &wanted {
                        t.remove(id);
                    }
                }),
            }
        });
    });
}

/// Sends a row's Cancel or Re-run form, as the browser would without JavaScript, and shows
/// the job it gets back (a re-run's new job at the top of the list, or its page when the form
/// says `then=job`), or the refusal in the row.
fn on_submit(form: &web_sys::HtmlFormElement, sending: RwSignal<bool>, failure: Option<Element>) {
    let target = form.clone();
    let send = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        let (form, failure) = (target.clone(), failure.clone());
        leptos::task::spawn_local(async move {
            let answer = crate::server_fns::post::form::<Job>(&form).await;
            sending.set(false);
            if let Some(p) = &failure {
                let message = answer.as_ref().err().map(|e| e.message.clone());
                p.set_text_content(message.as_deref());
                let _ = p.toggle_attribute_with_force("hidden", message.is_none());
            }
            if let Ok(job) = answer {
                let started = job.id.to_string();
                live::add(job);
                if matches!(form.query_selector("input[name=then]"), Ok(Some(_))) {
                    let _ = window().location().set_href(&format!("/jobs/{started}"));
                }
            }
        });
    });
    let _ = form.add_event_listener_with_callback("submit", send.as_ref().unchecked_ref());
    // Listens for the life of the page, as the row does.
    send.forget();
}

/// A row's parts that change, found once; a first screen's row has fewer than a history's.
struct Parts {
    row: Element,
    status: Option<Element>,
    icon: Option<Element>,
    word: Option<Element>,
    bar: Option<Element>,
    fill: Option<Element>,
    progress: Option<Element>,
    attempt: Option<Element>,
    pace: Option<Element>,
    message: Option<Element>,
    stall: Option<Element>,
    stall_for: Option<Element>,
    stall_said: Option<Element>,
    error: Option<Element>,
    starts: Option<Element>,
    queue: Option<Element>,
    priority: Option<Element>,
    priority_name: Option<Element>,
    when_word: Option<Element>,
    when: Option<Element>,
    took: Option<Element>,
    cancel: Option<Element>,
    rerun: Option<Element>,
    rerun_word: Option<Element>,
    again: Option<Element>,
    finished: Option<Element>,
    finished_at: Option<Element>,
    line: Option<Element>,
    failure: Option<Element>,
}

impl Parts {
    fn of(row: &Element) -> Parts {
        let q = |selector: &str| row.query_selector(selector).ok().flatten();
        Parts {
            row: row.clone(),
            status: q(".status"),
            icon: q(".status-icon"),
            word: q(".status-word"),
            bar: q(".bar"),
            fill: q(".bar-fill"),
            progress: q(".job-progress"),
            attempt: q(".job-attempt"),
            pace: q(".job-pace"),
            message: q(".job-message"),
            stall: q(".job-stall"),
            stall_for: q(".job-stall-for"),
            stall_said: q(".job-stall-said"),
            error: q(".job-error"),
            starts: q(".job-starts"),
            queue: q(".job-queue"),
            priority: q(".job-priority"),
            priority_name: q(".job-priority-name"),
            when_word: q(".job-when-word"),
            when: q(".job-when time"),
            took: q(".job-took-for"),
            cancel: q(".job-cancel"),
            rerun: q(".job-rerun"),
            rerun_word: q(".job-rerun button"),
            again: q(".job-again"),
            finished: q(".job-finished"),
            finished_at: q(".job-finished time"),
            line: q(".active-text"),
            failure: q(".field-error"),
        }
    }

    /// Writes what differs from `shown` (everything, the first time). The stall is told to
    /// screen readers (`said`) when the job stalls, not at every tick.
    fn paint(
        &self,
        x: &RowTexts,
        shown: Option<&RowTexts>,
        sending: bool,
        said: impl FnOnce() -> String,
    ) {
        let changed = |f: &dyn Fn(&RowTexts) -> bool| shown.is_none_or(f);
        if changed(&|s| s.status != x.status || s.warned != x.warned) {
            let status = x.status.as_str();
            let _ = self.row.set_attribute("data-status", status);
            if let Some(e) = &self.status {
                let _ = e.set_attribute("class", &super::status_class(x));
            }
            text(&self.icon, x.icon);
            text(&self.word, x.word);
            // A refusal concerns the status the job had.
            if shown.is_some() {
                hide(&self.failure, true);
            }
        }
        if changed(&|s| s.stalled != x.stalled) {
            match x.stalled {
                true => attr(&self.row, "data-stalled", Some("true")),
                false => attr(&self.row, "data-stalled", None),
            }
            hide(&self.stall, !x.stalled);
            if shown.is_some() {
                text(
                    &self.stall_said,
                    &if x.stalled { said() } else { String::new() },
                );
            }
        }
        if changed(&|s| s.bar != x.bar) {
            if let Some(bar) = &self.bar {
                let b = &x.bar;
                attr(bar, "class", Some(&b.class));
                attr(bar, "aria-label", Some(&b.label));
                attr(bar, "aria-valuemax", b.max.as_deref());
                attr(bar, "aria-valuenow", b.now.as_deref());
                attr(bar, "aria-valuetext", Some(&b.text));
                attr(bar, "data-level", Some(b.level));
            }
            if let Some(fill) = &self.fill {
                attr(fill, "style", Some(&format!("width: {};", x.bar.width)));
            }
        }
        text(&self.progress, &x.progress);
        text(&self.attempt, &x.attempt);
        text(&self.pace, &x.pace);
        text(&self.message, &x.message);
        text(&self.stall_for, &x.stalled_for);
        shown_text(&self.error, x.error.as_deref());
        shown_text(&self.starts, x.starts.as_deref());
        shown_text(&self.queue, x.queue.as_deref());
        text(&self.priority_name, x.priority.unwrap_or_default());
        hide(&self.priority, x.priority.is_none());
        text(&self.when_word, x.when_word);
        if let Some(e) = &self.when {
            instant(e, x.when_at);
        }
        text(&self.took, &x.took);
        text(&self.line, &x.line);
        hide(&self.finished, x.finished_at.is_none());
        if let (Some(e), Some(at)) = (&self.finished_at, x.finished_at) {
            instant(e, at);
        }
        let active = x.status.is_active();
        text(&self.rerun_word, x.rerun);
        hide(&self.again, active);
        for (form, hidden, disabled) in [
            (
                &self.cancel,
                !active,
                sending || x.status == JobStatus::Cancelling,
            ),
            (&self.rerun, active, sending),
        ] {
            hide(form, hidden);
            if let Some(button) = form
                .as_ref()
                .and_then(|f| f.query_selector("button").ok().flatten())
            {
                let _ = button.toggle_attribute_with_force("disabled", disabled);
            }
        }
    }

    /// The row's times, in `zone` at `now`.
    fn retime(&self, t: Text, zone: &Zone, now: i64) {
        let Ok(times) = self.row.query_selector_all("time[data-at]") else {
            return;
        };
        for i in 0..times.length() {
            if let Some(e) = times.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                format::retime(&e, t, zone, now);
            }
        }
    }
}

/// Sets an element's text where it differs.
fn text(e: &Option<Element>, value: &str) {
    if let Some(e) = e {
        if e.text_content().as_deref() != Some(value) {
            e.set_text_content(Some(value));
        }
    }
}

/// Sets an element's text and shows it, or hides it with `None`.
fn shown_text(e: &Option<Element>, value: Option<&str>) {
    text(e, value.unwrap_or_default());
    hide(e, value.is_none());
}

fn hide(e: &Option<Element>, hidden: bool) {
    if let Some(e) = e {
        if e.has_attribute("hidden") != hidden {
            let _ = e.toggle_attribute_with_force("hidden", hidden);
        }
    }
}

fn attr(e: &Element, name: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => e.set_attribute(name, v),
        None => e.remove_attribute(name),
    };
}

/// Points a `<time>` at another instant (its text follows with the row's times).
fn instant(e: &Element, at: i64) {
    let value = at.to_string();
    if e.get_attribute("data-at").as_deref() != Some(value.as_str()) {
        attr(e, "data-at", Some(&value));
        attr(e, "datetime", Some(&format::iso(at)));
    }
}
