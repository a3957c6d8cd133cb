//! The `EventSource` of the tab that holds the stream, and reconnection with backoff that never
//! gives up.
//!
//! The browser's own reconnect is not used: on any error the source is closed and a new one is
//! opened after a growing, jittered delay, resuming with `?last_event_id=` from the last event
//! received. The server replays what was missed. A stream refused because no one is signed in
//! any more sends the page to the sign-in page instead.

use super::state::{Connection, STATE};
use super::tabs::Stream;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

const EVENT_TYPES: [&str; 9] = [
    "snapshot", "job", "progress", "log", "done", "resync", "notice", "version", "output",
];
const FIRST_DELAY_MS: f64 = 500.0;
const MAX_DELAY_MS: f64 = 15_000.0;

struct Source {
    es: EventSource,
    /// Kept alive as long as the source: the browser calls them.
    _handlers: Vec<Closure<dyn FnMut(MessageEvent)>>,
    _on_open: Closure<dyn FnMut()>,
    _on_error: Closure<dyn FnMut()>,
}

/// The shortest time between two screen-reader announcements.
const ANNOUNCE_EVERY_MS: f64 = 5_000.0;

thread_local! {
    static BASE_TITLE: RefCell<Option<String>> = const { RefCell::new(None) };
    static CLOCK: RefCell<Option<ArcRwSignal<i64>>> = const { RefCell::new(None) };
    static LAST_ANNOUNCED: Cell<f64> = const { Cell::new(0.0) };
    static ANNOUNCE_PENDING: Cell<bool> = const { Cell::new(false) };
    static SOURCE: RefCell<Option<Source>> = const { RefCell::new(None) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
    static FAILURES: Cell<u32> = const { Cell::new(0) };
    /// The page is going away: no more connections.
    static CLOSED: Cell<bool> = const { Cell::new(false) };
    /// The page's own Sign out form was sent: the stream the server then ends is no reason to
    /// go to the sign-in page, where the form's answer is taking the page anyway.
    static SIGNING_OUT: Cell<bool> = const { Cell::new(false) };
    /// Log lines received and not shown yet, and whether their showing is asked for.
    static PENDING_LINES: RefCell<Vec<super::state::Updates>> = const { RefCell::new(Vec::new()) };
    static LINES_FLUSH_ASKED: Cell<bool> = const { Cell::new(false) };
}

/// Starts following the stream the first time it is needed: through another tab, or by opening
/// it here.
pub fn ensure_connected() {
    if !STARTED.replace(true) {
        watch_sign_out();
        // After the current call returns: the caller holds the state borrowed.
        defer(0, || super::tabs::join(stream()));
    }
}

/// What the tabs ask of this tab's stream.
fn stream() -> Stream {
    Stream {
        connect,
        close,
        deliver,
        sign_in: go_to_sign_in,
        show: show_connection,
    }
}

/// Notes when this page sends its Sign out form (a plain form post, which the page leaves to
/// the browser).
fn watch_sign_out() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
        let form = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        if form.is_some_and(|f| f.get_attribute("action").as_deref() == Some("/signout")) {
            SIGNING_OUT.set(true);
        }
    });
    let _ = document.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    on_submit.forget(); // for the life of the page
}

/// Opens the stream in this tab, from the last event the tab has.
pub(super) fn connect() {
    if CLOSED.get() {
        return;
    }
    let last = STATE.with(|s| s.borrow().last_event_id);
    let url = match last {
        Some(id) => format!("/api/v1/events?last_event_id={id}"),
        None => "/api/v1/events".to_string(),
    };
    let es = match EventSource::new(&url) {
        Ok(es) => es,
        Err(_) => return schedule_reconnect(),
    };
    let handlers = EVENT_TYPES
        .iter()
        .map(|&kind| {
            let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                on_message(kind, &e)
            });
            let _ = es.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref());
            handler
        })
        .collect();
    let on_open = Closure::<dyn FnMut()>::new(|| {
        FAILURES.set(0);
        set_connection(Connection::Live);
    });
    es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let on_error = Closure::<dyn FnMut()>::new(|| {
        if let Some(old) = SOURCE.with(|s| s.borrow_mut().take()) {
            old.es.close();
            // Dropping the closures inside their own call is not allowed: release them later.
            defer(0, move || drop(old));
        }
        reconnect_if_signed_in();
    });
    es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    SOURCE.with(|s| {
        *s.borrow_mut() = Some(Source {
            es,
            _handlers: handlers,
            _on_open: on_open,
            _on_error: on_error,
        })
    });
}

/// Closes the stream for good: the page is going away.
pub(super) fn close() {
    CLOSED.set(true);
    if let Some(old) = SOURCE.with(|s| s.borrow_mut().take()) {
        old.es.close();
    }
}

fn on_message(kind: &str, e: &MessageEvent) {
    let Some(data) = e.data().as_string() else {
        return;
    };
    let id = e.last_event_id().parse::<i64>().ok();
    deliver(id, kind, &data);
    super::tabs::relay_event(id, kind, &data);
}

/// Applies one event of the stream, whichever tab received it.
pub(super) fn deliver(id: Option<i64>, kind: &str, data: &str) {
    let result = STATE.with(|s| s.borrow_mut().apply(id, kind, data));
    let updates = match result {
        Ok(updates) => updates,
        Err(msg) => return leptos::logging::warn!("headway: ignored an event: {msg}"),
    };
    // A fast log brings hundreds of lines a second, each an event of its own: the page takes
    // them together, once the events already received are applied, rather than re-rendering
    // the log for each.
    if kind == "log" {
        PENDING_LINES.with(|p| p.borrow_mut().push(updates));
        if !LINES_FLUSH_ASKED.replace(true) {
            defer(0, flush_lines);
        }
        return;
    }
    // Whatever else comes is shown after the lines before it.
    flush_lines();
    updates.run();
    refresh_title();
    schedule_announcement();
}

/// Shows the log lines applied to the state since the last time.
fn flush_lines() {
    LINES_FLUSH_ASKED.set(false);
    let pending = PENDING_LINES.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for updates in pending {
        updates.run();
    }
}

/// Shows the overall progress of unfinished jobs in the tab title.
fn refresh_title() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let base = BASE_TITLE.with(|b| b.borrow_mut().get_or_insert_with(|| doc.title()).clone());
    let title = super::title(
        crate::i18n::t(),
        &base,
        STATE.with(|s| s.borrow().overall()),
    );
    if doc.title() != title {
        doc.set_title(&title);
    }
}

/// Announces finished jobs to screen readers: at once if the last announcement is old enough,
/// else in one sentence when it is.
fn schedule_announcement() {
    if STATE.with(|s| s.borrow().unannounced.is_empty()) || ANNOUNCE_PENDING.get() {
        return;
    }
    let since = js_sys::Date::now() - LAST_ANNOUNCED.get();
    let wait = (ANNOUNCE_EVERY_MS - since).max(0.0);
    ANNOUNCE_PENDING.set(true);
    defer(wait as i32, || {
        ANNOUNCE_PENDING.set(false);
        LAST_ANNOUNCED.set(js_sys::Date::now());
        let finished = STATE.with(|s| std::mem::take(&mut s.borrow_mut().unannounced));
        if let Some(text) = super::announcement(crate::i18n::t(), &finished) {
            super::announcements().set(text);
        }
    });
}

/// The page clock, ticking every second.
pub fn clock(_rendered_at: i64) -> ArcRwSignal<i64> {
    CLOCK.with(|c| {
        c.borrow_mut()
            .get_or_insert_with(|| {
                let now = ArcRwSignal::new(js_sys::Date::now() as i64);
                let tick = now.clone();
                let cb = Closure::<dyn FnMut()>::new(move || tick.set(js_sys::Date::now() as i64));
                if let Some(w) = web_sys::window() {
                    let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
                        cb.as_ref().unchecked_ref(),
                        1000,
                    );
                }
                cb.forget(); // ticks for the life of the page
                now
            })
            .clone()
    })
}

/// Reconnects, unless the stream failed because no one is signed in any more (signed out in
/// another tab, the account disabled, the password changed): then the page goes to sign-in,
/// and comes back here after.
fn reconnect_if_signed_in() {
    if SIGNING_OUT.get() {
        // The form's answer takes the page to sign in.
        super::tabs::mark("signing-out");
        return;
    }
    let Some(window) = web_sys::window() else {
        return schedule_reconnect();
    };
    let answered = Closure::once(|answer: JsValue| {
        let status = answer
            .dyn_into::<web_sys::Response>()
            .map_or(0, |r| r.status());
        if status != 401 {
            return schedule_reconnect();
        }
        go_to_sign_in();
    });
    let failed = Closure::once(|_: JsValue| schedule_reconnect());
    let _ = window
        .fetch_with_str("/api/v1/me")
        .then2(&answered, &failed);
    // Each is called at most once, after this returns (a few bytes per failed connection).
    answered.forget();
    failed.forget();
}

/// Goes to the sign-in page, which comes back here after; unless this page is signing out, and
/// on its way to the sign-in page already.
pub(super) fn go_to_sign_in() {
    if SIGNING_OUT.get() {
        return;
    }
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return;
    };
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    let next = String::from(js_sys::encode_uri_component(&here));
    let _ = location.set_href(&format!("/signin?next={next}"));
}

fn schedule_reconnect() {
    let online = web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true);
    set_connection(if online {
        Connection::Reconnecting
    } else {
        Connection::Offline
    });
    let failures = FAILURES.get();
    FAILURES.set(failures.saturating_add(1));
    let base = (FIRST_DELAY_MS * 2f64.powi(failures.min(10) as i32)).min(MAX_DELAY_MS);
    let delay = base * (0.5 + js_sys::Math::random() * 0.5);
    defer(delay as i32, connect);
}

/// Shows the stream's state here, and in the tabs that follow this one's stream.
fn set_connection(c: Connection) {
    show_connection(c);
    super::tabs::relay_connection(c);
}

/// Shows the state of the stream this tab follows.
pub(super) fn show_connection(c: Connection) {
    let sig = STATE.with(|s| s.borrow().connection.clone());
    if sig.get_untracked() != c {
        sig.set(c);
    }
}

fn defer(ms: i32, f: impl FnOnce() + 'static) {
    let cb = Closure::once_into_js(f);
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms);
    }
}
