//! Events per second, from samples of the head event id taken every few seconds.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How far back events per second are measured.
const RATE_WINDOW_MS: i64 = 60_000;
/// Samples of (Unix ms, head event id), oldest first, covering the last [`RATE_WINDOW_MS`].
#[derive(Default)]
pub(crate) struct HeadSamples(Mutex<VecDeque<(i64, i64)>>);

impl HeadSamples {
    pub(crate) fn record(&self, at: i64, head: i64) {
        let mut s = self.0.lock().unwrap();
        s.push_back((at, head));
        while s.len() > 2 && s[1].0 <= at - RATE_WINDOW_MS {
            s.pop_front();
        }
    }

    /// Events per second between the oldest sample and (`at`, `head`).
    pub(crate) fn rate(&self, at: i64, head: i64) -> f64 {
        let s = self.0.lock().unwrap();
        match s.front() {
            Some(&(t0, h0)) if at > t0 => (head - h0).max(0) as f64 * 1000.0 / (at - t0) as f64,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HeadSamples;

    #[test]
    fn events_per_second_over_the_last_minute() {
        let s = HeadSamples::default();
        assert_eq!(s.rate(1_000, 50), 0.0);
        s.record(0, 100);
        s.record(5_000, 150);
        // From the oldest sample: 100 events in 10 s.
        assert_eq!(s.rate(10_000, 200), 10.0);
        // Samples older than the window go, but the newest before it stays as the base.
        for t in (10_000..=120_000).step_by(5_000) {
            s.record(t, 200 + t / 1000);
        }
        // The oldest kept is the newest one at least a window old: (60 s, 260).
        assert_eq!(s.rate(120_000, 320), 1.0);
    }
}
