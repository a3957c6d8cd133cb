//! A job's log as it is written. Follow mode keeps the newest line in view, as lines come and as
//! the pane changes size; scrolling up pauses it (so a person can read, and is never pulled back
//! down), scrolling back to the bottom or the button resumes it.
//!
//! The server renders the newest lines (or the lines that match the page's search), which is
//! what a page without JavaScript shows. In the browser the whole log becomes scrollable, however
//! long: only the lines in view are in the page, and earlier ones are fetched as they come into
//! view ([`scroller`]).

mod scroller;

use crate::ansi;
use crate::format;
use crate::live;
use crate::model::history::find_all;
use crate::model::{LogFilter, LogLevel, LogLine};
use leptos::html::Div;
use leptos::prelude::*;

/// How close to the bottom (px) still counts as "at the bottom".
const BOTTOM_SLACK: i32 = 24;

/// With a `filter` (the page's search and level), only the lines that pass it are shown, new
/// ones too, with the searched text marked. `children` (the search form) go between the heading,
/// whose count of lines follows the log, and the pane.
#[island(lazy)]
pub fn JobLog(
    job_id: String,
    lines: Vec<LogLine>,
    total: u64,
    filter: LogFilter,
    /// Whether the job had ended when the page was rendered: a log that stays empty then has
    /// no lines, not "no lines yet".
    ended: bool,
    children: Children,
) -> impl IntoView {
    let ended = live::ended(&job_id, ended);
    let t = crate::i18n::t();
    let zone = crate::zone::view_zone();
    let none_text = move || match ended.get() {
        true => t.log_no_lines(),
        false => t.log_no_lines_yet(),
    };
    let filtered = !filter.is_empty();
    let shown_from = if filtered {
        1
    } else {
        lines.first().map_or(total + 1, |l| l.seq)
    };
    let (lines, kept) = live::watch_log(&job_id, lines);
    let lines = RwSignal::from(lines);
    // Lines the stream brought while this view's code was loading: added once it is live.
    if !kept.is_empty() {
        let kept = StoredValue::new(kept);
        Effect::new(move || {
            let more = kept.try_update_value(std::mem::take).unwrap_or_default();
            lines.update(|l| live::merge_lines(l, more));
        });
    }
    let filter = StoredValue::new(filter);
    let follow = RwSignal::new(true);
    let pane = NodeRef::<Div>::new();
    // The whole log, scrollable: once the page is live, unless it shows a search's matches.
    let whole = RwSignal::new(false);
    if !filtered {
        Effect::new(move || whole.set(true));
    }
    // Where the page itself last scrolled the pane to. Only the person moves the pane above
    // it: lines that come, a pane that grows or the page's own scrolls (whose events may arrive
    // after more lines did) never read as "scrolled up".
    let placed = StoredValue::new(0);
    let to_bottom = move || {
        if let Some(el) = pane.get_untracked() {
            el.set_scroll_top(el.scroll_height());
            placed.set_value(el.scroll_top());
        }
    };
    let scroller = scroller::Scroller::new(job_id.clone(), lines, total, pane);
    // New lines (or the switch to the whole log): keep the newest in view while following, once
    // a frame however many lines came in it.
    let frame_asked = StoredValue::new(false);
    Effect::new(move || {
        lines.track();
        whole.track();
        // The lines in view now include any new one (animation frames wait while the tab is in
        // the background).
        scroller.measure();
        if follow.get_untracked() && !frame_asked.get_value() {
            frame_asked.set_value(true);
            // Still following when the frame comes (the person may have scrolled meanwhile).
            request_animation_frame(move || {
                frame_asked.set_value(false);
                if follow.get_untracked() {
                    to_bottom();
                }
                scroller.measure();
            });
        }
    });
    // A pane that changes size while following keeps the newest line in view.
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Some(el) = pane.get() else { return };
        let resized = Closure::<dyn FnMut()>::new(move || {
            if follow.get_untracked() {
                to_bottom();
            }
            scroller.measure();
        });
        if let Ok(observer) = web_sys::ResizeObserver::new(resized.as_ref().unchecked_ref()) {
            observer.observe(&el);
        }
        // The pane lives as long as the page: so do its observer and callback.
        resized.forget();
    });
    let on_scroll = move |_| {
        if let Some(el) = pane.get_untracked() {
            let top = el.scroll_top();
            let at_bottom = el.scroll_height() - top - el.client_height() <= BOTTOM_SLACK;
            let following = follow.get_untracked();
            let now = match at_bottom {
                true => true,
                // Above where the page put it: the person scrolled up.
                false if following => top + BOTTOM_SLACK >= placed.get_value(),
                false => false,
            };
            if !now || at_bottom {
                placed.set_value(top);
            }
            if now != following {
                follow.set(now);
            }
        }
        if whole.get_untracked() {
            scroller.measure();
        }
    };
    let resume = move |_| {
        follow.set(true);
        to_bottom();
    };
    // The whole log as a file: the API's plain text, which the session may read.
    let log_file = format!("/api/v1/jobs/{job_id}/log.txt");
    let earlier_file = log_file.clone();
    let earlier = (shown_from > 1).then(move || {
        view! {
            <Show when=move || !whole.get()>
                <p class="log-earlier">
                    {t.log_earlier_not_shown(shown_from - 1)} " "
                    <a href=earlier_file.clone() download="">{t.log_download_whole()}</a>
                    {t.sentence_end()}
                </p>
            </Show>
        }
    });
    let row = move |l: LogLine| {
        let text = filter.with_value(|f| rendered(&l.line, f.q.as_deref()));
        view! {
            <div class=format!("log-line log-{}", l.level.as_str()) data-seq=l.seq data-attempt=l.attempt>
                <span class="log-seq">{l.seq}</span>
                <time class="log-time" datetime=format::iso(l.at)>{move || format::when(t, &zone.get(), format::Style::Clock, l.at, l.at)}</time>
                <span class="log-level">{level_tag(l.level)}</span>
                // A retried job's lines say their attempt from the second on.
                {(l.attempt > 1).then(|| view! { <span class="log-attempt">{t.log_attempt(l.attempt)}</span> })}
                <span class="log-text">{text}</span>
            </div>
        }
    };
    let shown = move || {
        lines.with(|all| {
            filter.with_value(|f| {
                all.iter()
                    .filter(|l| f.matches(l))
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    let plain = move || {
        view! {
            <For each=shown key=|l| l.seq children=row/>
            <Show when=move || shown().is_empty()>
                <p class="empty-log">{move || if filtered { t.log_no_match() } else { none_text() }}</p>
            </Show>
        }
    };
    let count = move || {
        let n = lines.with(|l| l.last().map_or(0, |l| l.seq)).max(total);
        t.log_count(n)
    };
    view! {
        <h2 id="log-title">{t.log_title()} " " <span class="muted">{count}</span></h2>
        {children()}
        <div class="log-tools">
            <span class="log-follow" data-following=move || follow.get().to_string()>
                {move || if follow.get() { t.log_following() } else { t.log_paused() }}
            </span>
            <button type="button" class="secondary" on:click=resume disabled=move || follow.get()>
                {t.log_follow()}
            </button>
            <a class="log-download" href=log_file download="">{t.log_download()}</a>
        </div>
        {earlier}
        <div
            class="log"
            node_ref=pane
            on:scroll=on_scroll
            tabindex="0"
            role="log"
            aria-label=t.log_aria()
            aria-live="off"
        >
            <Show when=move || whole.get() fallback=plain>
                {scroller.view(row, none_text)}
            </Show>
        </div>
    }
}

/// The level in words, so that it never rests on colour alone.
fn level_tag(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Info => "info",
        LogLevel::Warn => "WARN",
        LogLevel::Error => "ERROR",
    }
}

/// A line as its program wrote it: its colours as classes (escape sequences read by
/// [`ansi::parse`], nothing else of them shown), with each occurrence of `q` in a `<mark>`.
fn rendered(line: &str, q: Option<&str>) -> impl IntoView {
    let spans = ansi::parse(line);
    let text: String = spans.iter().map(|s| s.text.as_str()).collect();
    let found = q.map(|q| find_all(&text, q)).unwrap_or_default();
    let mut parts = Vec::new();
    let mut at = 0;
    for span in spans {
        let end = at + span.text.len();
        // The span in pieces, marked or not, where the matches start and end.
        let mut from = at;
        while from < end {
            let inside = found.iter().find(|r| r.start <= from && from < r.end);
            let to = match inside {
                Some(r) => r.end.min(end),
                None => found
                    .iter()
                    .map(|r| r.start)
                    .filter(|&s| s > from)
                    .min()
                    .unwrap_or(end)
                    .min(end),
            };
            let piece = text[from..to].to_string();
            let piece = match inside {
                Some(_) => view! { <mark>{piece}</mark> }.into_any(),
                None => piece.into_any(),
            };
            parts.push(match span.style.is_plain() {
                true => piece,
                false => view! { <span class=span.style.classes()>{piece}</span> }.into_any(),
            });
            from = to;
        }
        at = end;
    }
    parts
}
