//! How a job kind describes itself to the start form and to `GET /api/v1/kinds`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The type of a kind's parameter, as the start form and the JSON API see it:
///
/// - `integer`, `number`, `boolean`, `string`;
/// - `file`: an uploaded file, the value an upload's id (`POST /api/v1/uploads`);
/// - `choice`: one of `choices`;
/// - `set`: any of `choices`, none to all, a JSON array of them (checkboxes in a form);
/// - `secret`: a string that is never stored with the job, shown in its log or given back by
///   the API (a password field).
///
/// The variants carry no documentation of their own, so that the API's document describes the
/// type as one `enum` of strings, which every client generator reads as such (documented
/// variants become a `oneOf` of constants, which some read as a union to try in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum ParamType {
    Integer,
    Number,
    Boolean,
    String,
    File,
    Choice,
    Set,
    Secret,
}

/// One parameter of a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
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
    /// For a file: the types it accepts, as file extensions (`.csv`) and media types
    /// (`text/csv`), the form of an `<input type=file accept>`; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    /// For a file: the largest it may be, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// For a choice or a set: the values it may take.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// For a string: a regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// For a string or a secret: the most characters it may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
}

impl ParamInfo {
    /// A parameter of `kind` named `name`, with its name as its label, required, without a
    /// default, bounds or choices: where a declared parameter starts.
    pub fn named(name: &str, kind: ParamType) -> ParamInfo {
        ParamInfo {
            name: name.to_string(),
            label: name.to_string(),
            description: String::new(),
            kind,
            required: true,
            default: None,
            min: None,
            max: None,
            accept: Vec::new(),
            max_bytes: None,
            choices: Vec::new(),
            pattern: None,
            max_length: None,
        }
    }
}

/// What `GET /api/v1/kinds` says about a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct KindInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub params: Vec<ParamInfo>,
    /// Whether an operator paused it (or every kind), and who and when: its queued jobs wait.
    #[serde(default)]
    pub paused: Option<KindPause>,
    /// How its failed jobs are tried again.
    #[serde(default)]
    pub retry: RetryInfo,
    /// The priority of its jobs unless a start says otherwise; a member may start them at this
    /// priority or below, an operator at any.
    #[serde(default)]
    pub priority: crate::Priority,
    /// Its title, description and parameters' words in other languages, by language tag
    /// (`zh-CN`): a command kind's file may give them (docs/COMMANDS.md). Pages show those of
    /// the reader's language, and the words above where there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, KindTexts>,
    /// The tags a process or a worker must offer to run its jobs ([`crate::tags`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Whether its jobs run on workers on other machines (`headway worker`), not on a server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_workers: bool,
}

impl KindInfo {
    /// Whether `text` (already lowercase) is in its name or its title, in any language it
    /// has one: a search for it finds the kind's jobs.
    pub fn is_named_by(&self, text: &str) -> bool {
        let has = |s: &str| s.to_lowercase().contains(text);
        has(&self.name)
            || has(&self.title)
            || self
                .translations
                .values()
                .filter_map(|t| t.title.as_deref())
                .any(has)
    }
}

/// A kind's words in one language; what is not given stays as the kind says it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct KindTexts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// By parameter name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, ParamTexts>,
}

/// A parameter's label and description in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ParamTexts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl KindInfo {
    /// The kind with its words in the language `tag`, where it has them.
    pub fn in_language(mut self, tag: &str) -> KindInfo {
        let Some(texts) = self.translations.get(tag) else {
            return self;
        };
        if let Some(title) = &texts.title {
            self.title = title.clone();
        }
        if let Some(description) = &texts.description {
            self.description = description.clone();
        }
        for p in &mut self.params {
            if let Some(words) = texts.params.get(&p.name) {
                if let Some(label) = &words.label {
                    p.label = label.clone();
                }
                if let Some(description) = &words.description {
                    p.description = description.clone();
                }
            }
        }
        self
    }
}

impl KindInfo {
    /// Whether it takes a parameter of type `ty`.
    pub fn takes(&self, ty: ParamType) -> bool {
        self.params.iter().any(|p| p.kind == ty)
    }

    /// The names of its parameters of type `ty`.
    pub fn params_of(&self, ty: ParamType) -> impl Iterator<Item = &str> {
        self.params
            .iter()
            .filter(move |p| p.kind == ty)
            .map(|p| p.name.as_str())
    }
}

/// A kind's retry policy, as `GET /api/v1/kinds` shows it: a failed attempt whose error code is
/// not permanent is tried again after `min(cap, base × 2^(n−1))`, a random half of it
/// subtracted (jitter), up to `max_attempts` attempts in all. A start may ask for fewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct RetryInfo {
    pub max_attempts: u32,
    pub base_ms: u64,
    pub cap_ms: u64,
    /// Error codes never tried again (`bad_params` always is one).
    pub permanent: Vec<String>,
}

impl Default for RetryInfo {
    fn default() -> Self {
        RetryInfo {
            max_attempts: 1,
            base_ms: 0,
            cap_ms: 0,
            permanent: Vec::new(),
        }
    }
}

/// The name a pause of every kind is kept under.
pub const EVERY_KIND: &str = "*";

/// The longest a declared name may be: a command's, a workflow's or a step's.
pub const MAX_NAME: usize = 64;

/// Why a declared name (a command's, a workflow's, a step's) is refused, if it is: it must be a
/// lowercase letter, then lowercase letters, digits, `_` and `-`, [`MAX_NAME`] at most.
pub fn name_problem(name: &str) -> Option<&'static str> {
    let ok_start = name.starts_with(|c: char| c.is_ascii_lowercase());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    match name.is_empty() || name.len() > MAX_NAME || !ok_start || !ok_chars {
        true => Some("must start with a lowercase letter and have only lowercase letters, digits, _ and -, at most 64"),
        false => None,
    }
}

/// A kind an operator paused: its queued jobs stay queued, its running ones finish, and none
/// starts until it is resumed, on every process and across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct KindPause {
    /// The kind, or [`EVERY_KIND`].
    pub kind: String,
    /// The name of who paused it.
    pub paused_by: String,
    /// Unix ms.
    pub paused_at: i64,
}

impl KindPause {
    /// Whether this pause holds back jobs of `kind`.
    pub fn holds(&self, kind: &str) -> bool {
        self.kind == EVERY_KIND || self.kind == kind
    }

    /// The pause that holds back `kind` among `pauses` (a pause of every kind first).
    pub fn of<'a>(pauses: &'a [KindPause], kind: &str) -> Option<&'a KindPause> {
        pauses
            .iter()
            .find(|p| p.kind == EVERY_KIND)
            .or_else(|| pauses.iter().find(|p| p.kind == kind))
    }
}
