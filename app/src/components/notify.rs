//! Browser notifications for jobs that finish while the tab is hidden. Opt-in: the browser's
//! permission is asked for only after a click on the toggle, and the choice is kept in this
//! browser (`localStorage`); the toggle turns them off again. Jobs that finish together (within
//! [`GROUP_MS`]) make one notification; clicking it opens the job (or the dashboard, for
//! several). Without JavaScript, or in a browser without notifications, the toggle stays hidden.

#[cfg(feature = "hydrate")]
use crate::live;
use leptos::prelude::*;

/// Finished jobs closer together than this are told in one notification.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const GROUP_MS: u64 = 500;

#[island]
pub fn NotifyToggle() -> impl IntoView {
    // Shown only once the browser says it can notify (never on the server).
    let ready = RwSignal::new(false);
    let on = RwSignal::new(false);
    let blocked = RwSignal::new(false);
    let t = crate::i18n::t();
    #[cfg(feature = "hydrate")]
    {
        use std::collections::HashSet;
        Effect::new(move |_| {
            if let Some(permission) = browser::permission() {
                ready.set(true);
                blocked.set(permission == web_sys::NotificationPermission::Denied);
                on.set(browser::enabled());
            }
        });
        let toasts = RwSignal::from(live::toasts());
        let told = StoredValue::new(HashSet::<u64>::new());
        let waiting = StoredValue::new(Vec::<live::Toast>::new());
        Effect::new(move |_| {
            for t in toasts.get() {
                if !told.try_update_value(|s| s.insert(t.id)).unwrap_or(false) {
                    continue;
                }
                if !on.get_untracked() || !browser::hidden() {
                    continue;
                }
                let first = waiting.try_update_value(|w| {
                    w.push(t);
                    w.len() == 1
                });
                if first == Some(true) {
                    set_timeout(
                        move || {
                            browser::notify(
                                &waiting.try_update_value(std::mem::take).unwrap_or_default(),
                            )
                        },
                        std::time::Duration::from_millis(GROUP_MS),
                    );
                }
            }
        });
    }
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if on.get_untracked() {
                browser::remember(false);
                on.set(false);
                return;
            }
            leptos::task::spawn_local(async move {
                let granted = browser::ask().await;
                browser::remember(granted);
                on.set(granted);
                blocked.set(
                    !granted
                        && browser::permission() == Some(web_sys::NotificationPermission::Denied),
                );
            });
        }
    };
    view! {
        <button
            type="button"
            class="secondary notify-toggle"
            hidden=move || !ready.get()
            aria-pressed=move || on.get().to_string()
            disabled=move || blocked.get()
            on:click=toggle
        >
            {move || match (blocked.get(), on.get()) {
                (true, _) => t.notify_blocked(),
                (false, true) => t.notify_on(),
                (false, false) => t.notify_off(),
            }}
        </button>
    }
}

/// The browser's side: the Notification API, the page's visibility, the stored choice.
#[cfg(feature = "hydrate")]
mod browser {
    use crate::live::Toast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    /// Where the choice is kept in this browser.
    const SETTING: &str = "headway_notify";

    /// The permission, if this browser has notifications at all.
    pub fn permission() -> Option<NotificationPermission> {
        let window = web_sys::window()?;
        js_sys::Reflect::has(&window, &"Notification".into())
            .ok()?
            .then(Notification::permission)
    }

    /// Turned on here, and still allowed by the browser.
    pub fn enabled() -> bool {
        let stored = storage().and_then(|s| s.get_item(SETTING).ok().flatten());
        stored.as_deref() == Some("on") && permission() == Some(NotificationPermission::Granted)
    }

    pub fn remember(on: bool) {
        if let Some(s) = storage() {
            let _ = s.set_item(SETTING, if on { "on" } else { "off" });
        }
    }

    /// Asks the browser (once the person has clicked); whether notifications are allowed.
    pub async fn ask() -> bool {
        let Ok(promise) = Notification::request_permission() else {
            return false;
        };
        let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
        answer.ok().and_then(|v| v.as_string()).as_deref() == Some("granted")
    }

    /// The tab is in the background (another tab, a minimised window).
    pub fn hidden() -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden())
    }

    /// One notification for `finished`: the job itself, or how many finished.
    pub fn notify(finished: &[Toast]) {
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
