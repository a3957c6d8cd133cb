//! How a job kind describes itself to the start form and to `GET /api/v1/kinds`.

use serde::{Deserialize, Serialize};

/// The type of a kind's parameter, as the start form and the JSON API see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    Integer,
    Number,
    Boolean,
    String,
}

/// One parameter of a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub name: String,
    /// A short label for the form.
    pub label: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// What `GET /api/v1/kinds` says about a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub params: Vec<ParamInfo>,
}
