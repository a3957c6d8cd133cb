//! The whole of a log in one scrolling pane, however long, with only the lines in view in the
//! page. Every line has the same height, so the pane's height stands for the whole log and a
//! scroll position for a line number; the lines from just above the view to just below it are
//! rendered, at their place. They come from the live lines the page already has (the newest),
//! or are fetched a page at a time as they come into view; a line not there yet shows its number
//! until it is. A few thousand earlier lines are kept, the farthest from the view dropped first.

use crate::model::LogLine;
use crate::server_fns::LOG_PAGE_LINES;
use leptos::html::Div;
use leptos::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// The height of one line (px): the stylesheet gives `.log-rows .log-line` the same.
const ROW_PX: i32 = 20;
/// Lines rendered beyond each edge of the view, so that a short scroll shows lines at once.
const OVERSCAN: u64 = 30;
/// The most earlier lines the page keeps.
const MAX_KEPT: usize = 20_000;

#[derive(Clone, Copy)]
pub struct Scroller {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    job_id: StoredValue<String>,
    /// The live lines: the newest, contiguous, kept current by the stream.
    live: RwSignal<Vec<LogLine>>,
    /// Lines fetched because they came into view, by `seq`.
    fetched: RwSignal<BTreeMap<u64, LogLine>>,
    /// Pages of lines asked for and not answered yet (or answered).
    asked: StoredValue<HashSet<u64>>,
    /// How many lines the log has, as far as the page knows.
    count: Memo<u64>,
    /// The `seq`s rendered: `from..=to`.
    range: RwSignal<(u64, u64)>,
    pane: NodeRef<Div>,
}

impl Scroller {
    pub fn new(
        job_id: String,
        live: RwSignal<Vec<LogLine>>,
        total: u64,
        pane: NodeRef<Div>,
    ) -> Scroller {
        let count = Memo::new(move |_| live.with(|l| l.last().map_or(0, |l| l.seq)).max(total));
        let scroller = Scroller {
            job_id: StoredValue::new(job_id),
            live,
            fetched: RwSignal::new(BTreeMap::new()),
            asked: StoredValue::new(HashSet::new()),
            count,
            range: RwSignal::new((1, 0)),
            pane,
        };
        Effect::new(move || scroller.fetch_missing());
        scroller
    }

    /// Works out which lines are in view from the pane's scroll position.
    pub fn measure(self) {
        let Some(el) = self.pane.get_untracked() else {
            return;
        };
        let count = self.count.get_untracked();
        let top = (el.scroll_top().max(0) / ROW_PX) as u64;
        let rows = (el.client_height().max(0) / ROW_PX) as u64 + 1;
        let from = (top + 1).saturating_sub(OVERSCAN).max(1);
        let to = (top + rows + OVERSCAN).min(count);
        if self.range.get_untracked() != (from, to) {
            self.range.set((from, to));
        }
    }

    /// The line `seq`, if the page has it.
    fn line(self, seq: u64) -> Option<LogLine> {
        let live = self.live.with(|live| {
            let first = live.first()?.seq;
            let at = usize::try_from(seq.checked_sub(first)?).ok()?;
            match live.get(at) {
                Some(l) if l.seq == seq => Some(l.clone()),
                // Not contiguous after all: look it up.
                _ => live
                    .binary_search_by_key(&seq, |l| l.seq)
                    .ok()
                    .map(|i| live[i].clone()),
            }
        });
        live.or_else(|| self.fetched.with(|f| f.get(&seq).cloned()))
    }

    /// Asks for each page of lines in view that the page does not have.
    fn fetch_missing(self) {
        let (from, to) = self.range.get();
        let first_live = self.live.with(|l| l.first().map_or(u64::MAX, |l| l.seq));
        let page = u64::from(LOG_PAGE_LINES);
        let mut seq = from;
        while seq <= to && seq < first_live {
            let index = (seq - 1) / page;
            let have = self.fetched.with_untracked(|f| f.contains_key(&seq));
            if !have
                && self
                    .asked
                    .try_update_value(|a| a.insert(index))
                    .unwrap_or(false)
            {
                self.fetch(index * page);
            }
            seq = if have {
                seq + 1
            } else {
                (index + 1) * page + 1
            };
        }
    }

    #[cfg(feature = "hydrate")]
    fn fetch(self, after: u64) {
        let id = self.job_id.get_value();
        leptos::task::spawn_local(async move {
            match crate::server_fns::load_log_page(id, after, LOG_PAGE_LINES).await {
                Ok(lines) => self.keep(lines),
                // Asked again when the lines come into view again.
                Err(_) => self.asked.update_value(|a| {
                    a.remove(&(after / u64::from(LOG_PAGE_LINES)));
                }),
            }
        });
    }

    #[cfg(not(feature = "hydrate"))]
    fn fetch(self, _after: u64) {}

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn keep(self, lines: Vec<LogLine>) {
        let (from, to) = self.range.get_untracked();
        let middle = from / 2 + to / 2;
        let page = u64::from(LOG_PAGE_LINES);
        self.fetched.update(|f| {
            f.extend(lines.into_iter().map(|l| (l.seq, l)));
            // The lines farthest from the view go first; their pages are asked for again if
            // they come back into view.
            while f.len() > MAX_KEPT {
                let (Some(&low), Some(&high)) = (f.keys().next(), f.keys().next_back()) else {
                    break;
                };
                let gone = if middle.abs_diff(low) > middle.abs_diff(high) {
                    low
                } else {
                    high
                };
                f.remove(&gone);
                self.asked.update_value(|a| {
                    a.remove(&((gone - 1) / page));
                });
            }
        });
    }

    /// The pane's content: a block as tall as the whole log, with the lines in view at their
    /// place in it.
    pub fn view<V: IntoView + 'static>(
        self,
        row: impl Fn(LogLine) -> V + Copy + Send + Sync + 'static,
        empty: impl Fn() -> &'static str + Copy + Send + Sync + 'static,
    ) -> impl IntoView {
        let rows = move || {
            let (from, to) = self.range.get();
            (from..=to)
                .map(|seq| (seq, self.line(seq)))
                .collect::<Vec<_>>()
        };
        let height = move || format!("{}px", self.count.get() * ROW_PX as u64);
        let offset = move || {
            format!(
                "translateY({}px)",
                self.range.get().0.saturating_sub(1) * ROW_PX as u64
            )
        };
        view! {
            <div class="log-space" style:height=height>
                <div class="log-rows" style:transform=offset>
                    <For
                        each=rows
                        key=|(seq, line)| (*seq, line.is_some())
                        children=move |(seq, line)| match line {
                            Some(l) => row(l).into_any(),
                            None => view! {
                                <div class="log-line log-pending" data-seq=seq>
                                    <span class="log-seq">{seq}</span>
                                    <span class="log-text">"…"</span>
                                </div>
                            }
                            .into_any(),
                        }
                    />
                </div>
            </div>
            <Show when=move || self.count.get() == 0>
                <p class="empty-log">{empty}</p>
            </Show>
        }
    }
}
