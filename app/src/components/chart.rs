//! Jobs finished per minute over the last hour, and how long they ran: a small SVG drawn on the
//! server from the store's per-minute counts, with the numbers in a table for those who cannot
//! see it.

use crate::format::{self, Style};
use crate::i18n::{t, Text};
use crate::model::MinuteStats;
use crate::zone::{page_zone, Zone};
use leptos::prelude::*;

const MINUTES: i64 = 60;
const W: f64 = 600.0;
const H: f64 = 100.0;
const BAR: f64 = W / MINUTES as f64;

#[component]
pub fn FinishedChart(minutes: Vec<MinuteStats>, now: i64) -> impl IntoView {
    let end = now - now.rem_euclid(60_000) + 60_000;
    let start = end - MINUTES * 60_000;
    let most = minutes.iter().map(|m| m.finished).max().unwrap_or(0).max(1) as f64;
    let longest = minutes
        .iter()
        .filter_map(|m| m.avg_run_ms)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let total: u64 = minutes.iter().map(|m| m.finished).sum();
    let (t, zone) = (t(), page_zone());
    let minute = |at: i64| format::when(t, &zone, Style::Minute, at, at);
    let bars = minutes
        .iter()
        .filter(|m| m.start >= start && m.start < end)
        .map(|m| {
            let x = ((m.start - start) / 60_000) as f64 * BAR;
            let h = m.finished as f64 / most * H;
            let bad = m.unsuccessful as f64 / most * H;
            let label = minute_label(t, &zone, m);
            view! {
                <g>
                    <title>{label}</title>
                    <rect class="chart-ok" x=x + 1.0 y=H - h width=BAR - 2.0 height=h - bad/>
                    <rect class="chart-bad" x=x + 1.0 y=H - bad width=BAR - 2.0 height=bad/>
                </g>
            }
        })
        .collect_view();
    let line: Vec<String> = minutes
        .iter()
        .filter(|m| m.start >= start && m.start < end)
        .filter_map(|m| {
            let x = ((m.start - start) / 60_000) as f64 * BAR + BAR / 2.0;
            m.avg_run_ms
                .map(|avg| format!("{x:.1},{:.1}", H - avg as f64 / longest * (H - 4.0)))
        })
        .collect();
    let rows = minutes
        .iter()
        .rev()
        .map(|m| {
            view! {
                <tr>
                    <td>{minute(m.start)}</td>
                    <td>{t.int(m.finished as i64)}</td>
                    <td>{t.int(m.unsuccessful as i64)}</td>
                    <td>{m.avg_run_ms.map(|v| format::span(t, v as i64)).unwrap_or_default()}</td>
                    <td>{m.max_run_ms.map(|v| format::span(t, v as i64)).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let summary = t.chart_summary(total, format::span(t, longest as i64));
    view! {
        <figure class="chart">
            <figcaption>
                {t.chart_caption()} " "
                <span class="legend"><span class="swatch chart-ok"></span>{t.status_succeeded()}</span>
                <span class="legend"><span class="swatch chart-bad"></span>{t.chart_other_endings()}</span>
                <span class="legend"><span class="swatch chart-line"></span>{t.chart_average_run()}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {}", H + 2.0) role="img" aria-label=summary.clone() preserveAspectRatio="none">
                <defs>
                    <pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect class="chart-bad-fill" width="4" height="4"/>
                        <line x1="0" y1="0" x2="0" y2="4" class="chart-hatch"/>
                    </pattern>
                </defs>
                <line class="chart-axis" x1="0" y1=H x2=W y2=H/>
                {bars}
                <polyline class="chart-line" points=line.join(" ")/>
            </svg>
            // The time axis's ends, as text below the drawing: the drawing stretches to the
            // screen's width, which would stretch or squeeze its letters and cut off its edges.
            <div class="chart-ends" aria-hidden="true">
                <span>{minute(start)}</span>
                <span>{t.chart_now()}</span>
            </div>
            <details>
                <summary>{t.chart_numbers()}</summary>
                <p>{summary}</p>
                <table>
                    <thead><tr><th scope="col">{t.chart_minute(zone.name.clone())}</th><th scope="col">{t.chart_finished()}</th><th scope="col">{t.chart_not_succeeded()}</th><th scope="col">{t.chart_average()}</th><th scope="col">{t.chart_longest()}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// `12:03: 14 finished (2 did not succeed), average run 3s, longest 8s`.
fn minute_label(t: Text, zone: &Zone, m: &MinuteStats) -> String {
    let minute = format::when(t, zone, Style::Minute, m.start, m.start);
    let mut s = t.chart_minute_finished(minute, m.finished);
    if m.unsuccessful > 0 {
        s.push_str(&t.chart_minute_unsuccessful(m.unsuccessful));
    }
    if let (Some(avg), Some(max)) = (m.avg_run_ms, m.max_run_ms) {
        s.push_str(&t.chart_minute_runs(format::span(t, avg as i64), format::span(t, max as i64)));
    }
    s
}
