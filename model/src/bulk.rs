//! Bulk actions: cancel or re-run many jobs at once, named by id or by a history filter.

use crate::error::AppError;
use crate::history::HistoryQuery;
use crate::job::Job;
use serde::{Deserialize, Serialize};

/// The most jobs one bulk action touches through a filter.
pub const MAX_BULK: usize = 10_000;

/// The most ids one bulk request may name (they must fit a request body).
pub const MAX_BULK_IDS: usize = 1_000;

/// Which jobs a bulk action is for: exactly one of `ids` or `filter` (a history view's
/// `status`, `kind` and `q`; its paging is ignored: every matching job). The ids are taken as
/// sent: one that is no job id names no job, and is answered `not_found` like a job the caller
/// may not see, beside the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(transform = exactly_one_of))]
pub struct BulkRequest {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub filter: Option<HistoryQuery>,
}

/// A change of priority for many queued jobs: the jobs as a [`BulkRequest`] names them, and
/// their new priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(transform = exactly_one_of))]
pub struct BulkPriority {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub filter: Option<HistoryQuery>,
    pub priority: crate::Priority,
}

impl BulkPriority {
    /// The jobs it names.
    pub fn request(&self) -> BulkRequest {
        BulkRequest {
            ids: self.ids.clone(),
            filter: self.filter.clone(),
        }
    }
}

/// The document says what the server takes: exactly one of `ids` (1 to [`MAX_BULK_IDS`]) and
/// `filter` that is not `null` (which the server reads as absent).
#[cfg(feature = "schemars")]
fn exactly_one_of(schema: &mut schemars::Schema) {
    use serde_json::{json, Value};
    if let Some(ids) = schema
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .and_then(|p| p.get_mut("ids"))
    {
        ids["minItems"] = json!(1);
        ids["maxItems"] = json!(MAX_BULK_IDS);
    }
    schema.insert(
        "oneOf".into(),
        json!([
            { "required": ["ids"], "properties": { "ids": { "type": "array" } } },
            { "required": ["filter"], "properties": { "filter": { "type": "object" } } },
        ]),
    );
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct BulkResult {
    /// The job the action was for, as it was named.
    pub id: String,
    /// `true` if the action was done.
    pub done: bool,
    /// The job as it is now (cancel), or the new job (re-run), when it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// Why not, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AppError>,
}

/// The answer to a bulk action: one result per job, in the order asked (or newest first for a
/// filter), and how many were done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct BulkAnswer {
    pub done: usize,
    pub not_done: usize,
    pub results: Vec<BulkResult>,
}

impl BulkAnswer {
    pub fn of(results: Vec<BulkResult>) -> BulkAnswer {
        let done = results.iter().filter(|r| r.done).count();
        BulkAnswer {
            done,
            not_done: results.len() - done,
            results,
        }
    }
}
