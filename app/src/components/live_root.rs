//! What every page shows about the session as a whole: operator notices, the offer to reload
//! after an upgrade, toasts for finished jobs and the screen-reader announcements of them. It
//! also tells the tab's stream where the server-rendered page left off.

use crate::components::status_icon;
use crate::live;
use crate::model::JobStatus;
use crate::server_fns::{DismissNotice, LiveInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use std::collections::HashSet;
use std::time::Duration;

/// How long a toast stays unless closed.
const TOAST_MS: u64 = 8_000;

#[island]
pub fn LiveRoot(info: LiveInfo) -> impl IntoView {
    live::start_from(
        info.cursor,
        &info.build,
        info.notices.clone(),
        &info.dismissed,
        &info.stream,
        &info.titles,
    );
    if let Some(job_id) = &info.log_job {
        live::keep_log(job_id, info.log_after);
    }
    view! {
        <NoticeBanners rendered=info.notices/>
        <Outdated/>
        <Toasts/>
        <p class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
            {move || live::announcements().get()}
        </p>
    }
}

#[component]
fn NoticeBanners(rendered: Vec<crate::model::Notice>) -> impl IntoView {
    let notices = RwSignal::from(live::notices(rendered));
    let t = crate::i18n::t();
    // Without JavaScript, the form posts to `dismiss_notice`, which sets the cookie; with it,
    // the page writes the same cookie itself.
    let dismiss = move |ev: leptos::ev::SubmitEvent, id: i64| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use crate::server_fns::cookies;
            let ids = cookies::read(cookies::DISMISSED)
                .map(|v| cookies::decode_ids(&v))
                .unwrap_or_default();
            cookies::write(cookies::DISMISSED, &cookies::with_dismissed(ids, id));
        }
        live::dismiss_notice(id);
    };
    view! {
        <div class="notices">
            <For
                each=move || notices.get()
                key=|n| n.id
                children=move |n| view! {
                    <section class="notice" aria-label=t.notice_label() data-notice-id=n.id>
                        <p><span aria-hidden="true">"📣 "</span>{n.text}</p>
                        <form method="post" action=DismissNotice::url() on:submit=move |ev| dismiss(ev, n.id)>
                            <input type="hidden" name="id" value=n.id/>
                            <button type="submit" class="secondary">{t.notice_dismiss()}</button>
                        </form>
                    </section>
                }
            />
        </div>
    }
}

#[component]
fn Outdated() -> impl IntoView {
    let outdated = RwSignal::from(live::outdated());
    let reload = move |_| {
        let _ = window().location().reload();
    };
    let t = crate::i18n::t();
    view! {
        <section class="notice outdated" role="alert" hidden=move || !outdated.get()>
            <p>{t.outdated()}</p>
            <button type="button" on:click=reload>{t.outdated_reload()}</button>
        </section>
    }
}

#[component]
fn Toasts() -> impl IntoView {
    let toasts = RwSignal::from(live::toasts());
    let tr = crate::i18n::t();
    // Each toast closes itself after a while; the timer is set once per toast.
    let timed = StoredValue::new(HashSet::<u64>::new());
    Effect::new(move || {
        for t in toasts.get() {
            if timed.try_update_value(|s| s.insert(t.id)).unwrap_or(false) {
                set_timeout(
                    move || live::close_toast(t.id),
                    Duration::from_millis(TOAST_MS),
                );
            }
        }
    });
    view! {
        <div class="toasts">
            <For
                each=move || toasts.get()
                key=|t| t.id
                children=move |t| {
                    let id = t.id;
                    view! {
                        <div class=format!("toast {}", toast_class(t.status)) data-status=t.status.as_str()>
                            <span aria-hidden="true">{status_icon(t.status)} " "</span>
                            <a href=format!("/jobs/{}", t.job_id)>{t.text(tr)}</a>
                            <button type="button" class="close" aria-label=tr.close() on:click=move |_| live::close_toast(id)>
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}

/// A toast's colour says how its job ended, as the status badges do: a cancel was asked for, so
/// it is no failure (amber, like its badge), and an interruption is the server's doing.
fn toast_class(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Succeeded => "toast-ok",
        JobStatus::Failed => "toast-bad",
        JobStatus::Cancelled => "toast-cancelled",
        _ => "toast-other",
    }
}
