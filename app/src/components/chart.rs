//! Jobs finished per minute over the last hour, and how long they ran: a small SVG drawn on the
//! server from the store's per-minute counts, with the numbers in a table for those who cannot
//! see it.

use crate::format;
use crate::model::MinuteStats;
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
    let bars = minutes
        .iter()
        .filter(|m| m.start >= start && m.start < end)
        .map(|m| {
            let x = ((m.start - start) / 60_000) as f64 * BAR;
            let h = m.finished as f64 / most * H;
            let bad = m.unsuccessful as f64 / most * H;
            let label = minute_label(m);
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
                    <td>{format::datetime(m.start)[11..16].to_string()}</td>
                    <td>{m.finished}</td>
                    <td>{m.unsuccessful}</td>
                    <td>{m.avg_run_ms.map(|v| format::duration(v as i64)).unwrap_or_default()}</td>
                    <td>{m.max_run_ms.map(|v| format::duration(v as i64)).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let summary = format!(
        "{} jobs finished in the last hour; the longest average run in a minute was {}.",
        format::count(total),
        format::duration(longest as i64)
    );
    view! {
        <figure class="chart">
            <figcaption>
                "Finished per minute, last hour "
                <span class="legend"><span class="swatch chart-ok"></span>"succeeded"</span>
                <span class="legend"><span class="swatch chart-bad"></span>"other endings (hatched)"</span>
                <span class="legend"><span class="swatch chart-line"></span>"average run time"</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {}", H + 14.0) role="img" aria-label=summary.clone() preserveAspectRatio="none">
                <defs>
                    <pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect class="chart-bad-fill" width="4" height="4"/>
                        <line x1="0" y1="0" x2="0" y2="4" class="chart-hatch"/>
                    </pattern>
                </defs>
                <line class="chart-axis" x1="0" y1=H x2=W y2=H/>
                {bars}
                <polyline class="chart-line" points=line.join(" ")/>
                <text class="chart-label" x="0" y=H + 12.0>{format::datetime(start)[11..16].to_string()}</text>
                <text class="chart-label" x=W y=H + 12.0 text-anchor="end">"now"</text>
            </svg>
            <details>
                <summary>"The numbers"</summary>
                <p>{summary}</p>
                <table>
                    <thead><tr><th scope="col">"Minute (UTC)"</th><th scope="col">"Finished"</th><th scope="col">"Not succeeded"</th><th scope="col">"Average run"</th><th scope="col">"Longest run"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// `12:03 UTC: 14 finished (2 did not succeed), average run 3s, longest 8s`.
fn minute_label(m: &MinuteStats) -> String {
    let mut s = format!(
        "{} UTC: {} finished",
        &format::datetime(m.start)[11..16],
        m.finished
    );
    if m.unsuccessful > 0 {
        s.push_str(&format!(" ({} did not succeed)", m.unsuccessful));
    }
    if let (Some(avg), Some(max)) = (m.avg_run_ms, m.max_run_ms) {
        s.push_str(&format!(
            ", average run {}, longest {}",
            format::duration(avg as i64),
            format::duration(max as i64)
        ));
    }
    s
}
