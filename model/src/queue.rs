//! Where a queued job stands: its place in line and when it is expected to start.

use crate::kinds::KindPause;
use serde::{Deserialize, Serialize};

/// A queued job's place in line for the limit that holds it back, and its expected start; or
/// the pause of its kind that holds it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct QueueInfo {
    /// 1 for the next job to start; `None` while its kind is paused (it is out of line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u64>,
    /// Unix ms; `None` when there is not enough to go on (a running job without progress and
    /// a kind without recent run times), or while its kind is paused.
    pub expected_start_at: Option<i64>,
    /// `kind` when the job waits for its kind's limit, `all` when for a free slot, `paused`
    /// while an operator holds its kind (or every kind) back, `limit` while one of its keys is
    /// at a limit ([`crate::limits`]), `jobs` while it waits for the jobs it runs after
    /// ([`crate::after`]), `tags` while no live process that runs jobs offers every tag its
    /// kind requires ([`crate::tags`]).
    pub waiting_for: String,
    /// Where the jobs it runs after stand, while it waits for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<crate::AfterWait>,
    /// The limit its key is at, with when it may start (for a rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<crate::limits::LimitWait>,
    /// Who paused its kind, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<KindPause>,
    /// The tags its kind requires, while `waiting_for` is `tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
}

/// "1st", "2nd", "3rd", "11th", "22nd"…
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::ordinal;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111]
            .iter()
            .map(|&n| ordinal(n))
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "101st", "111th"
            ]
        );
    }
}
