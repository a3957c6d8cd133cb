//! One stream for all the tabs of a browser.
//!
//! Browsers open at most six HTTP/1.1 connections to a host, so a stream per tab would stall the
//! seventh tab. Instead the tabs showing the same events (the same [`LiveState::stream`] name)
//! elect one of them through the Web Locks API: the tab holding the lock opens the `EventSource`
//! and posts every event it receives on a `BroadcastChannel`; the others apply those events as if
//! they had received them. When the holding tab goes away its lock is released, the next tab in
//! line gets it and opens the stream from the last event it has, so the server replays whatever
//! the old holder received but did not hand on. Applying an event twice changes nothing (see
//! [`LiveState::apply`]), so overlaps are harmless; gaps are what this module prevents.
//!
//! A tab that joins as a follower first fetches what happened since its page was rendered with one
//! `GET /api/v1/events/poll` (which answers at once), holding back the events handed to it
//! meanwhile and applying them after, in order. Only then does it queue for the lock: when it
//! gets it, everything it has is in order and the stream resumes from its last event.
//!
//! Where the browser has no Web Locks or no `BroadcastChannel`, every tab opens its own stream.
//! The root element's `data-stream` attribute says what this tab does: `own`, `holder` or
//! `follower`.
//!
//! [`LiveState::stream`]: super::LiveState::stream
//! [`LiveState::apply`]: super::LiveState::apply

use super::state::{Connection, STATE};
use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use leptos::prelude::GetUntracked;
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent};

/// How long a follower waits before asking again when its catch-up request failed.
const CATCH_UP_RETRY_MS: i32 = 2_000;

/// An event handed on by the holding tab: `[id or null, type, data]`.
const EVENT: &str = "event";
/// The holding tab's stream changed state: `["connection", label]`.
const CONNECTION: &str = "connection";
/// A tab joined and asks for the stream's state: `["hello"]`.
const HELLO: &str = "hello";

/// What the tabs ask of this tab's own stream (given to [`join`]).
#[derive(Clone, Copy)]
pub struct Stream {
    /// Opens it, from the last event this tab has.
    pub connect: fn(),
    /// Closes it.
    pub close: fn(),
    /// Applies an event to this tab as if its stream had received it.
    pub deliver: fn(Option<i64>, &str, &str),
    /// No one is signed in any more: goes to the sign-in page.
    pub sign_in: fn(),
    /// Shows the state of the stream that feeds this tab.
    pub show: fn(Connection),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TabRole {
    /// Catching up on what happened since the page was rendered.
    Joining,
    Follower,
    Holder,
}

thread_local! {
    static STREAM: Cell<Option<Stream>> = const { Cell::new(None) };
    static CHANNEL: RefCell<Option<Channel>> = const { RefCell::new(None) };
    static ROLE: Cell<TabRole> = const { Cell::new(TabRole::Joining) };
    /// Lets go of the lock this tab holds.
    static RELEASE: RefCell<Option<Function>> = const { RefCell::new(None) };
    /// Events handed on while this tab was catching up: applied once it has.
    static HELD_BACK: RefCell<Vec<(Option<i64>, String, String)>> = const { RefCell::new(Vec::new()) };
}

struct Channel {
    channel: BroadcastChannel,
    /// Kept alive as long as the channel: the browser calls it.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

/// This tab's own stream, as given to [`join`].
fn stream() -> Stream {
    STREAM
        .get()
        .expect("the tabs are joined before anything else")
}

fn connect() {
    (stream().connect)()
}

fn close() {
    (stream().close)()
}

fn deliver(id: Option<i64>, kind: &str, data: &str) {
    (stream().deliver)(id, kind, data)
}

fn go_to_sign_in() {
    (stream().sign_in)()
}

fn show_connection(c: Connection) {
    (stream().show)(c)
}

/// Starts following the stream: through the tab that holds it, or by holding it (through
/// `stream`, this tab's own).
pub fn join(stream: Stream) {
    STREAM.set(Some(stream));
    let Some(stream) = STATE.with(|s| s.borrow().stream.clone()) else {
        return own_stream();
    };
    let name = format!("headway-stream-{stream}");
    let Some(locks) = lock_manager() else {
        return own_stream();
    };
    let Ok(channel) = BroadcastChannel::new(&name) else {
        return own_stream();
    };
    hand_over_on_leaving();
    let on_message =
        Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| on_message(&e.data()));
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    CHANNEL.with(|c| {
        *c.borrow_mut() = Some(Channel {
            channel,
            _on_message: on_message,
        })
    });
    // Free: nobody holds the stream, so this tab opens it, from where its page was rendered.
    let (queue, lock_name) = (locks.clone(), name.clone());
    let requested = request_lock(&locks, &name, true, move |granted| {
        if granted {
            hold();
        } else {
            ROLE.set(TabRole::Joining);
            mark("follower");
            post(&Array::of1(&HELLO.into()));
            wasm_bindgen_futures::spawn_local(catch_up(queue, lock_name));
        }
    });
    if !requested {
        own_stream();
    }
}

/// A page that goes away lets go of the stream when it is hidden for good (`pagehide`), not when
/// the browser gets round to destroying it: the next tab takes over a little sooner, and a page
/// kept in the back-forward cache never sits on the stream. Brought back from that cache, the
/// page loads afresh.
fn hand_over_on_leaving() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_hide = Closure::<dyn FnMut()>::new(|| {
        if let Some(release) = RELEASE.with(|r| r.borrow_mut().take()) {
            close();
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    });
    let on_show = Closure::<dyn FnMut(web_sys::PageTransitionEvent)>::new(
        |e: web_sys::PageTransitionEvent| {
            if e.persisted() {
                let _ = web_sys::window().map(|w| w.location().reload());
            }
        },
    );
    let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
    // Called for the life of the page.
    on_hide.forget();
    on_show.forget();
}

/// Every tab for itself: the browser cannot share.
fn own_stream() {
    ROLE.set(TabRole::Holder);
    mark("own");
    connect();
}

/// This tab holds the stream until it goes away.
fn hold() {
    ROLE.set(TabRole::Holder);
    mark("holder");
    connect();
}

/// Fetches what happened since the page was rendered (or since the last answer), then applies
/// what was handed on meanwhile, then queues for the lock.
async fn catch_up(locks: JsValue, name: String) {
    loop {
        match fetch_missed().await {
            Ok(true) => continue,
            Ok(false) => break,
            Err(Unauthorized) => return go_to_sign_in(),
            // The server is unreachable: the holding tab is not receiving anything either.
            Err(Failed) => sleep(CATCH_UP_RETRY_MS).await,
        }
    }
    for (id, kind, data) in HELD_BACK.with(|h| std::mem::take(&mut *h.borrow_mut())) {
        deliver(id, &kind, &data);
    }
    ROLE.set(TabRole::Follower);
    request_lock(&locks, &name, false, |granted| {
        if granted {
            hold();
        }
    });
}

/// Why a catch-up request did not help.
enum CatchUpError {
    /// No one is signed in any more.
    Unauthorized,
    /// The server did not answer, or not with events.
    Failed,
}
use CatchUpError::{Failed, Unauthorized};

/// One page of the events after this tab's last one, applied in order. `Ok(true)` when there
/// may be more.
async fn fetch_missed() -> Result<bool, CatchUpError> {
    let after = STATE.with(|s| s.borrow().last_event_id).unwrap_or(0);
    let window = web_sys::window().ok_or(Failed)?;
    let url = format!("/api/v1/events/poll?after={after}&timeout_ms=0");
    let answer = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|_| Failed)?;
    let response: web_sys::Response = answer.dyn_into().map_err(|_| Failed)?;
    if response.status() == 401 {
        return Err(Unauthorized);
    }
    if !response.ok() {
        return Err(Failed);
    }
    let text = JsFuture::from(response.text().map_err(|_| Failed)?)
        .await
        .map_err(|_| Failed)?;
    let page = JSON::parse(&text.as_string().unwrap_or_default()).map_err(|_| Failed)?;
    let events: Array = get(&page, "events").dyn_into().map_err(|_| Failed)?;
    for event in events.iter() {
        let id = get(&event, "id").as_f64().map(|f| f as i64);
        let kind = get(&event, "type").as_string().unwrap_or_default();
        let data = JSON::stringify(&get(&event, "data"))
            .map(String::from)
            .unwrap_or_default();
        deliver(id, &kind, &data);
    }
    let moved = get(&page, "next")
        .as_f64()
        .is_some_and(|next| next as i64 > after);
    Ok(events.length() > 0 && moved)
}

fn on_message(message: &JsValue) {
    let Some(message) = message.dyn_ref::<Array>() else {
        return;
    };
    let what = message.get(0).as_string().unwrap_or_default();
    match (what.as_str(), ROLE.get()) {
        (EVENT, TabRole::Holder) | (CONNECTION, TabRole::Holder) => {} // from a tab that held it before
        (EVENT, role) => {
            let id = message.get(1).as_f64().map(|f| f as i64);
            let kind = message.get(2).as_string().unwrap_or_default();
            let data = message.get(3).as_string().unwrap_or_default();
            if role == TabRole::Joining {
                HELD_BACK.with(|h| h.borrow_mut().push((id, kind, data)));
            } else {
                deliver(id, &kind, &data);
            }
        }
        (CONNECTION, _) => {
            if let Some(c) = message
                .get(1)
                .as_string()
                .and_then(|l| Connection::parse(&l))
            {
                show_connection(c);
            }
        }
        (HELLO, TabRole::Holder) => {
            let c = STATE.with(|s| s.borrow().connection.get_untracked());
            relay_connection(c);
        }
        _ => {}
    }
}

/// Hands an event this tab received on to the tabs that follow its stream.
pub fn relay_event(id: Option<i64>, kind: &str, data: &str) {
    let id = id.map_or(JsValue::NULL, |id| JsValue::from_f64(id as f64));
    post(&Array::of4(&EVENT.into(), &id, &kind.into(), &data.into()));
}

/// Tells the following tabs the state of this tab's stream.
pub fn relay_connection(c: Connection) {
    post(&Array::of2(&CONNECTION.into(), &c.label().into()));
}

fn post(message: &Array) {
    CHANNEL.with(|c| {
        if let Some(c) = c.borrow().as_ref() {
            let _ = c.channel.post_message(message);
        }
    });
}

/// `navigator.locks`, where the browser has it.
fn lock_manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// `navigator.locks.request(name, { ifAvailable }, callback)`: `granted(true)` once this tab
/// holds the lock, which it then keeps until the page goes away; with `if_available`,
/// `granted(false)` at once if another tab holds it. `false` if the request could not be made.
fn request_lock(
    locks: &JsValue,
    name: &str,
    if_available: bool,
    granted: impl FnOnce(bool) + 'static,
) -> bool {
    let Ok(request) = Reflect::get(locks, &"request".into()).and_then(|f| f.dyn_into::<Function>())
    else {
        return false;
    };
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &if_available.into());
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let held = !lock.is_null() && !lock.is_undefined();
        granted(held);
        if held {
            // Settles only when the page goes away: the lock is held until then.
            Promise::new(&mut |release, _| RELEASE.with(|r| *r.borrow_mut() = Some(release))).into()
        } else {
            JsValue::UNDEFINED
        }
    });
    request
        .call3(locks, &name.into(), &options, &callback)
        .is_ok()
}

/// Shows what this tab does with the stream on the root element.
/// Names how this tab follows the stream on `<html data-stream>`.
pub(super) fn mark(role: &str) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(root) = root {
        let _ = root.dataset().set("stream", role);
    }
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
