//! What every page shows about the session as a whole: operator notices, the offer to reload
//! after an upgrade, toasts for finished jobs and the screen-reader announcements of them. It
//! also tells the tab's stream where the server-rendered page left off.
//!
//! The notices and the toasts are lists of HTML the island writes itself (the same function
//! renders a notice on the server and in the browser), not lists of views: a keyed list of
//! views costs every page several KB of code for each, for what changes a few times a session.
//! Their buttons are handled where the lists are, whatever the item.

use crate::components::{escape_title as escape, outcome_icon};
use crate::i18n::Text;
use crate::live;
use crate::live::Toast;
use crate::model::{JobStatus, Notice};
use crate::server_fns::{DismissNotice, LiveInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// How long a toast stays unless closed.
#[cfg(feature = "hydrate")]
const TOAST_MS: u64 = 8_000;

/// The ids of the parts the island changes.
const NOTICES: &str = "headway-notices";
const TOASTS: &str = "headway-toasts";
const OUTDATED: &str = "headway-outdated";
const ANNOUNCED: &str = "headway-announced";

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
    let t = crate::i18n::t();
    // The server writes the notices in force; the browser keeps them as the stream and the
    // reader change them (the list's HTML from the server is not read again when it hydrates).
    let rendered: String = match cfg!(feature = "ssr") {
        true => info.notices.iter().map(|n| notice_html(t, n)).collect(),
        false => String::new(),
    };
    #[cfg(feature = "hydrate")]
    follow(t, info.notices);
    let reload = |_| {
        let _ = window().location().reload();
    };
    view! {
        <div class="notices" id=NOTICES inner_html=rendered on:submit=dismiss></div>
        <section class="notice outdated" id=OUTDATED role="alert" hidden=true>
            <p>{t.outdated()}</p>
            <button type="button" on:click=reload>{t.outdated_reload()}</button>
        </section>
        <div class="toasts" id=TOASTS on:click=close></div>
        <p class="visually-hidden" id=ANNOUNCED role="status" aria-live="polite" aria-atomic="true"></p>
    }
}

/// Without JavaScript, a notice's form posts to `dismiss_notice`, which sets the cookie; with
/// it, the page writes the same cookie itself.
fn dismiss(ev: leptos::ev::SubmitEvent) {
    #[cfg(feature = "hydrate")]
    {
        let Some(id) = target_attr(&ev, "data-notice-id").and_then(|i| i.parse().ok()) else {
            return;
        };
        ev.prevent_default();
        use crate::server_fns::cookies;
        let ids = cookies::read(cookies::DISMISSED)
            .map(|v| cookies::decode_ids(&v))
            .unwrap_or_default();
        cookies::write(cookies::DISMISSED, &cookies::with_dismissed(ids, id));
        live::dismiss_notice(id);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// A toast's close button.
fn close(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    if let Some(id) = target_attr(&ev, "data-toast-id").and_then(|i| i.parse().ok()) {
        live::close_toast(id);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The attribute `name` of the element the event happened in, or of its nearest ancestor that
/// has one.
#[cfg(feature = "hydrate")]
fn target_attr(ev: &web_sys::Event, name: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    let el: web_sys::Element = ev.target()?.dyn_into().ok()?;
    el.closest(&format!("[{name}]")).ok()??.get_attribute(name)
}

/// Keeps the two lists as the tab's state has them, and closes each toast after a while; offers
/// the reload once the server runs another build; says what the announcements say.
#[cfg(feature = "hydrate")]
fn follow(t: Text, rendered: Vec<Notice>) {
    let outdated = live::outdated();
    Effect::new(move || {
        if let (true, Some(el)) = (outdated.get(), document().get_element_by_id(OUTDATED)) {
            let _ = el.remove_attribute("hidden");
        }
    });
    let announced = live::announcements();
    Effect::new(move || {
        let text = announced.get();
        if let Some(el) = document().get_element_by_id(ANNOUNCED) {
            el.set_text_content(Some(&text));
        }
    });
    let notices = live::notices(rendered);
    Effect::new(move || {
        let items: Vec<(String, String)> = notices
            .get()
            .iter()
            .map(|n| (n.id.to_string(), notice_html(t, n)))
            .collect();
        sync(NOTICES, &items);
    });
    let toasts = live::toasts();
    Effect::new(move || {
        let items: Vec<(String, String)> = toasts
            .get()
            .iter()
            .map(|toast| (toast.id.to_string(), toast_html(t, toast)))
            .collect();
        // A toast not shown before is new: its timer starts now.
        for key in sync(TOASTS, &items) {
            if let Ok(id) = key.parse() {
                set_timeout(
                    move || live::close_toast(id),
                    std::time::Duration::from_millis(TOAST_MS),
                );
            }
        }
    });
}

/// Makes the items of the list `id` (its children with a `data-key`) those of `items` (key,
/// HTML): those no longer there leave, the new ones are added at the end, in order. Returns the
/// keys added.
#[cfg(feature = "hydrate")]
fn sync(id: &str, items: &[(String, String)]) -> Vec<String> {
    use wasm_bindgen::JsCast;
    let Some(list) = document().get_element_by_id(id) else {
        return Vec::new();
    };
    let mut shown = Vec::new();
    if let Ok(children) = list.query_selector_all(":scope > [data-key]") {
        for i in 0..children.length() {
            let Some(el) = children
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let key = el.get_attribute("data-key").unwrap_or_default();
            match items.iter().any(|(k, _)| *k == key) {
                true => shown.push(key),
                false => el.remove(),
            }
        }
    }
    let mut added = Vec::new();
    for (key, html) in items {
        if !shown.contains(key) {
            let _ = list.insert_adjacent_html("beforeend", html);
            added.push(key.clone());
        }
    }
    added
}

/// A notice, with the form that dismisses it.
fn notice_html(t: Text, n: &Notice) -> String {
    format!(
        "<section class=\"notice\" aria-label=\"{label}\" data-key=\"{id}\" data-notice-id=\"{id}\">\
         <p><span aria-hidden=\"true\">📣 </span>{text}</p>\
         <form method=\"post\" action=\"{action}\" data-notice-id=\"{id}\">\
         <input type=\"hidden\" name=\"id\" value=\"{id}\">\
         <button type=\"submit\" class=\"secondary\">{dismiss}</button></form></section>",
        label = escape(t.notice_label()),
        id = n.id,
        text = escape(&n.text),
        action = DismissNotice::url(),
        dismiss = escape(t.notice_dismiss()),
    )
}

/// A finished job's toast: how it ended, a link to it, and a button that closes it.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn toast_html(t: Text, toast: &Toast) -> String {
    format!(
        "<div class=\"toast {class}\" data-key=\"{id}\" data-status=\"{status}\">\
         <span aria-hidden=\"true\">{icon} </span><a href=\"/jobs/{job}\">{text}</a>\
         <button type=\"button\" class=\"close\" aria-label=\"{close}\" data-toast-id=\"{id}\">×</button></div>",
        class = toast_class(toast.status, toast.warned),
        id = toast.id,
        status = toast.status.as_str(),
        icon = outcome_icon(toast.status, toast.warned),
        job = escape(&toast.job_id),
        text = escape(&toast.text(t)),
        close = escape(t.close()),
    )
}

/// A toast's colour says how its job ended, as the status badges do: a cancel was asked for, so
/// it is no failure (amber, like its badge), and an interruption is the server's doing.
fn toast_class(status: JobStatus, warned: bool) -> &'static str {
    match status {
        JobStatus::Succeeded if warned => "toast-warned",
        JobStatus::Succeeded => "toast-ok",
        JobStatus::Failed => "toast-bad",
        JobStatus::Cancelled => "toast-cancelled",
        _ => "toast-other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn a_notice_and_a_toast_are_written_with_their_texts_escaped() {
        let t = Text::of(Lang::En);
        let n = Notice {
            id: 7,
            text: "<b>Maintenance</b> at 18:00 & after".into(),
            created_at: 0,
        };
        let html = notice_html(t, &n);
        assert!(
            html.contains("&lt;b&gt;Maintenance&lt;/b&gt; at 18:00 &amp; after"),
            "{html}"
        );
        assert!(html.contains("data-key=\"7\"") && html.contains("name=\"id\" value=\"7\""));
        assert!(html.contains(">Dismiss</button>"), "{html}");
        let toast = Toast {
            id: 3,
            job_id: "j\"1".into(),
            title: "<demo>".into(),
            status: JobStatus::Failed,
            warned: false,
            error: Some("disk <full>".into()),
        };
        let html = toast_html(t, &toast);
        assert!(html.contains("class=\"toast toast-bad\""), "{html}");
        assert!(html.contains("href=\"/jobs/j&quot;1\""), "{html}");
        assert!(
            !html.contains("<demo>") && !html.contains("<full>"),
            "{html}"
        );
        assert!(
            html.contains("aria-label=\"Close\" data-toast-id=\"3\""),
            "{html}"
        );
        // Succeeded with warnings: its own word, shape and colour, in both languages.
        let warned = Toast {
            status: JobStatus::Succeeded,
            warned: true,
            error: None,
            ..toast
        };
        let html = toast_html(t, &warned);
        assert!(html.contains("class=\"toast toast-warned\""), "{html}");
        assert!(html.contains("⚠ </span>"), "{html}");
        assert!(
            html.contains("&lt;demo&gt; job succeeded with warnings"),
            "{html}"
        );
        let zh = toast_html(Text::of(crate::i18n::Lang::ZhCn), &warned);
        assert!(zh.contains("成功，有警告"), "{zh}");
    }
}
