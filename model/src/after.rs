//! Continuations: a job started to run after others.
//!
//! A job with [`After`] waits `queued`, out of line, until every job it needs has ended. Then,
//! with [`AfterWhen::Succeeded`] (the default), it starts if they all succeeded, and ends
//! `cancelled` naming the first that did not ([`NEED_FAILED`]); with [`AfterWhen::Ended`] it
//! starts however they ended. The store settles this in the transaction that ends a need, so a
//! job starts once, whatever the number of processes.

use crate::ids::JobId;
use crate::job::JobStatus;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr};

/// The most jobs one job may start after.
pub const MAX_AFTER: usize = 100;

/// The code of the error of a job cancelled because a job it needed did not succeed.
pub const NEED_FAILED: &str = "need_failed";

/// What a job waits for of the jobs it starts after.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum AfterWhen {
    /// It starts once they all succeeded; if one ends otherwise, it is cancelled.
    #[default]
    Succeeded,
    /// It starts once they all ended, however.
    Ended,
}

names!(AfterWhen);

impl AfterWhen {
    /// Whether a job waiting with this condition may still start once a job it needs ended
    /// with `status`.
    pub fn allows(self, status: JobStatus) -> bool {
        match self {
            AfterWhen::Succeeded => status == JobStatus::Succeeded,
            AfterWhen::Ended => status.is_terminal(),
        }
    }
}

/// The jobs a job starts after, and on what condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct After {
    /// The jobs it needs, in the order they were given.
    pub jobs: Vec<JobId>,
    #[serde(default)]
    pub when: AfterWhen,
    /// How many of them have not ended yet: while more than 0 the job waits, out of line.
    #[serde(default)]
    pub left: u32,
}

impl After {
    /// Whether the job still waits for some of its needs.
    pub fn waits(&self) -> bool {
        self.left > 0
    }

    /// The message of a job cancelled because `need` ended `status`.
    pub fn failed_message(need: &JobId, status: JobStatus) -> String {
        format!("job {need} ended {status}; this job was to run only after it succeeded")
    }
}

/// Where the jobs a queued job waits for stand, for "after 2 jobs: 1 running, 1 succeeded".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct AfterWait {
    /// How many it needs in all.
    pub total: u32,
    pub queued: u32,
    /// Running or cancelling.
    pub running: u32,
    pub succeeded: u32,
    /// Ended otherwise (failed, cancelled, interrupted): only with `when: ended`.
    pub ended: u32,
    pub when: AfterWhen,
}

impl AfterWait {
    /// The counts of `statuses`, the statuses of the jobs a job waits for.
    pub fn of(when: AfterWhen, statuses: impl IntoIterator<Item = JobStatus>) -> AfterWait {
        let mut wait = AfterWait {
            when,
            ..AfterWait::default()
        };
        for status in statuses {
            wait.total += 1;
            match status {
                JobStatus::Queued => wait.queued += 1,
                JobStatus::Running | JobStatus::Cancelling => wait.running += 1,
                JobStatus::Succeeded => wait.succeeded += 1,
                _ => wait.ended += 1,
            }
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobStatus::*;

    #[test]
    fn a_condition_allows_the_ends_it_names() {
        assert!(AfterWhen::Succeeded.allows(Succeeded));
        for s in [Failed, Cancelled, Interrupted, Queued, Running] {
            assert!(!AfterWhen::Succeeded.allows(s), "{s}");
        }
        for s in [Succeeded, Failed, Cancelled, Interrupted] {
            assert!(AfterWhen::Ended.allows(s), "{s}");
        }
        assert!(!AfterWhen::Ended.allows(Running));
    }

    #[test]
    fn a_wait_counts_its_needs_by_where_they_stand() {
        let wait = AfterWait::of(
            AfterWhen::Ended,
            [Running, Succeeded, Cancelling, Queued, Failed],
        );
        assert_eq!(
            (
                wait.total,
                wait.queued,
                wait.running,
                wait.succeeded,
                wait.ended
            ),
            (5, 1, 2, 1, 1)
        );
    }

    #[test]
    fn a_condition_reads_as_its_wire_name() {
        assert_eq!(AfterWhen::parse("ended"), Some(AfterWhen::Ended));
        assert_eq!(AfterWhen::default().as_str(), "succeeded");
        assert_eq!(AfterWhen::parse("done"), None);
    }
}
