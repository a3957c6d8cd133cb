//! The stream's events: their `event:` names and the JSON each carries in its `data:` line.

use crate::ids::JobId;
use crate::job::{Job, JobError, JobStatus, Level, Progress};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr};

/// The `event:` names of the stream.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Display, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum EventType {
    Snapshot,
    Job,
    Progress,
    Log,
    Done,
    Resync,
    Notice,
    Version,
    /// A file a running job wrote: the one output added (or replaced, by name), not the list.
    Output,
}

names!(EventType);

/// Payload of a `progress` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ProgressEvent {
    pub job_id: JobId,
    pub current: u64,
    pub total: Option<u64>,
    pub unit: String,
    pub message: String,
    pub level: Level,
    /// When the job reported this sample (Unix ms).
    #[serde(default)]
    pub at: Option<i64>,
    /// The message in Headway's words ([`Progress::said`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub said: Option<crate::Said>,
}

impl ProgressEvent {
    pub fn new(job_id: &JobId, p: &Progress) -> Self {
        ProgressEvent {
            job_id: job_id.clone(),
            current: p.current,
            total: p.total,
            unit: p.unit.clone(),
            message: p.message.clone(),
            level: p.level,
            at: p.at,
            said: p.said.clone(),
        }
    }

    pub fn progress(&self) -> Progress {
        Progress {
            current: self.current,
            total: self.total,
            unit: self.unit.clone(),
            message: self.message.clone(),
            level: self.level,
            at: self.at,
            said: self.said.clone(),
        }
    }
}

/// Payload of an `output` event: the output a job attached, to add to its list (replacing
/// the one of the same name). The job's other fields did not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct OutputEvent {
    pub job_id: JobId,
    pub output: crate::files::Output,
}

impl OutputEvent {
    /// Adds the output to `outputs`, in place of one of the same name.
    pub fn apply_to(&self, outputs: &mut Vec<crate::files::Output>) {
        match outputs.iter_mut().find(|o| o.name == self.output.name) {
            Some(same) => *same = self.output.clone(),
            None => outputs.push(self.output.clone()),
        }
    }
}

/// Payload of a `done` event: the terminal status and, for a failure, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct DoneEvent {
    pub job_id: JobId,
    pub status: JobStatus,
    pub error: Option<JobError>,
}

/// Payload of a `snapshot` event: the current state of the jobs in view.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Snapshot {
    pub jobs: Vec<Job>,
    /// The build id of the server sending it (see [`VersionEvent`]).
    #[serde(default)]
    pub build: String,
    /// Operator notices still in force, oldest first.
    #[serde(default)]
    pub notices: Vec<Notice>,
}

/// A message from the operator to every connected user (`headway notice "..."`). Payload of a
/// `notice` event; `text` empty means the notice was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Notice {
    pub id: i64,
    pub text: String,
    pub created_at: i64,
}

/// Payload of a `version` event: the server's build id. A page rendered by another build offers
/// a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct VersionEvent {
    pub build: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip() {
        for t in [
            EventType::Snapshot,
            EventType::Progress,
            EventType::Resync,
            EventType::Version,
            EventType::Output,
        ] {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::json!(t.as_str())
            );
        }
        assert_eq!(EventType::parse("progress"), Some(EventType::Progress));
        assert_eq!(EventType::parse("Progress"), None);
    }
}
