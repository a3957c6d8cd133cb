//! Browser notifications for jobs that finish while the tab is hidden. Opt-in: the browser's
//! permission is asked for only after a click on the toggle, and the choice is kept in this
//! browser (`localStorage`); the toggle turns them off again. Jobs that finish together (within
//! [`GROUP_MS`]) make one notification; clicking it opens the job (or the dashboard, for
//! several). Without JavaScript, or in a browser without notifications, the toggle stays hidden.

use leptos::prelude::*;

/// Finished jobs closer together than this are told in one notification.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const GROUP_MS: u64 = 500;

/// The toggle's id.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const ID: &str = "headway-notify";

/// The toggle is a button the island changes itself (shown, pressed, blocked, its words) rather
/// than a view of signals: the same behaviour for a fraction of the page's code.
#[island]
pub fn NotifyToggle() -> impl IntoView {
    let t = crate::i18n::t();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::start(t));
    let toggle = move |_: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        browser::toggle(t);
    };
    // Shown only once the browser says it can notify (never on the server).
    view! {
        <button type="button" id=ID class="secondary notify-toggle" hidden=true aria-pressed="false" on:click=toggle>
            {t.notify_off()}
        </button>
    }
}

/// The browser's side: the Notification API, the page's visibility, the stored choice.
#[cfg(feature = "hydrate")]
mod browser {
    use crate::i18n::Text;
    use crate::live::{self, Toast};
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    /// Where the choice is kept in this browser.
    const SETTING: &str = "headway_notify";

    thread_local! {
        /// The last toast considered (their ids grow).
        static SEEN: Cell<Option<u64>> = const { Cell::new(None) };
        /// Finished jobs waiting to be told together.
        static WAITING: RefCell<Vec<Toast>> = const { RefCell::new(Vec::new()) };
    }

    /// Shows the toggle where the browser can notify, and tells of the jobs that finish while
    /// the tab is hidden.
    pub fn start(t: Text) {
        if let Some(permission) = permission() {
            show(t, enabled(), permission == NotificationPermission::Denied);
        }
        let toasts = live::toasts();
        Effect::new(move |_| {
            for toast in toasts.get() {
                if SEEN.get().is_some_and(|seen| toast.id <= seen) {
                    continue;
                }
                SEEN.set(Some(toast.id));
                if !enabled() || !hidden() {
                    continue;
                }
                let first = WAITING.with_borrow_mut(|w| {
                    w.push(toast);
                    w.len() == 1
                });
                if first {
                    set_timeout(
                        || notify(&WAITING.with_borrow_mut(std::mem::take)),
                        std::time::Duration::from_millis(super::GROUP_MS),
                    );
                }
            }
        });
    }

    /// A click: turns them off, or asks the browser.
    pub fn toggle(t: Text) {
        if enabled() {
            remember(false);
            return show(t, false, false);
        }
        leptos::task::spawn_local(async move {
            let granted = ask().await;
            remember(granted);
            show(
                t,
                granted,
                !granted && permission() == Some(NotificationPermission::Denied),
            );
        });
    }

    /// The toggle as `on` and `blocked` say.
    fn show(t: Text, on: bool, blocked: bool) {
        let Some(button) = document().get_element_by_id(super::ID) else {
            return;
        };
        let _ = button.remove_attribute("hidden");
        let _ = button.set_attribute("aria-pressed", if on { "true" } else { "false" });
        let _ = match blocked {
            true => button.set_attribute("disabled", ""),
            false => button.remove_attribute("disabled"),
        };
        button.set_text_content(Some(match (blocked, on) {
            (true, _) => t.notify_blocked(),
            (false, true) => t.notify_on(),
            (false, false) => t.notify_off(),
        }));
    }

    /// The permission, if this browser has notifications at all.
    fn permission() -> Option<NotificationPermission> {
        let window = web_sys::window()?;
        js_sys::Reflect::has(&window, &"Notification".into())
            .ok()?
            .then(Notification::permission)
    }

    /// Turned on here, and still allowed by the browser.
    fn enabled() -> bool {
        let stored = storage().and_then(|s| s.get_item(SETTING).ok().flatten());
        stored.as_deref() == Some("on") && permission() == Some(NotificationPermission::Granted)
    }

    fn remember(on: bool) {
        if let Some(s) = storage() {
            let _ = s.set_item(SETTING, if on { "on" } else { "off" });
        }
    }

    /// Asks the browser (once the person has clicked); whether notifications are allowed.
    async fn ask() -> bool {
        let Ok(promise) = Notification::request_permission() else {
            return false;
        };
        let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
        answer.ok().and_then(|v| v.as_string()).as_deref() == Some("granted")
    }

    /// The tab is in the background (another tab, a minimised window).
    fn hidden() -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden())
    }

    /// One notification for `finished`: the job itself, or how many finished.
    fn notify(finished: &[Toast]) {
        let t = crate::i18n::t();
        let (title, body, href) = match finished {
            [] => return,
            [one] => (
                one.text(t),
                t.notify_open_job().to_string(),
                format!("/jobs/{}", one.job_id),
            ),
            many => {
                let body = many
                    .iter()
                    .map(|m| m.text(t))
                    .collect::<Vec<_>>()
                    .join("\n");
                // "3 jobs finished: 2 succeeded, 1 cancelled": each ending by its name.
                let title = crate::live::announcement(t, many).unwrap_or_default();
                (title, body, "/".to_string())
            }
        };
        let options = NotificationOptions::new();
        options.set_body(&body);
        options.set_tag("headway-finished");
        let Ok(notification) = Notification::new_with_options(&title, &options) else {
            return;
        };
        let shown = notification.clone();
        let open = Closure::<dyn FnMut()>::new(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.focus();
                let _ = window.location().set_href(&href);
            }
            shown.close();
        });
        notification.set_onclick(Some(open.as_ref().unchecked_ref()));
        // Lives as long as the notification may be clicked.
        open.forget();
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }
}
