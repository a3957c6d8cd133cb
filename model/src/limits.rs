//! Limits on a kind's jobs, each counted over the whole kind or per key (a job's owner, or the
//! value of one of its parameters):
//!
//! - a **concurrency** limit: at most `max` jobs running at once ("one at a time per
//!   `repository`", "at most 3 per user");
//! - a **rate** limit: at most `max` starts in any window of `window_ms` (a sliding window:
//!   "10 a minute per `customer_id`").
//!
//! A job held back by a limit stays queued and says which limit holds it and, for a rate, when
//! it may start; jobs of other keys start past it. A kind declares its limits (in code or in
//! the commands file); an operator sets more at run time, and one set at run time with the same
//! kind, key and window as a declared one takes its place ([`Limit::signature`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The most a limit allows.
pub const MAX_MAX: u32 = 1_000_000;
/// A rate's shortest and longest window: a second, a day.
pub const MIN_WINDOW_MS: i64 = 1_000;
pub const MAX_WINDOW_MS: i64 = 86_400_000;
/// The longest parameter name a limit is keyed by.
pub const MAX_PARAM: usize = 64;
/// What [`is_param_name`] accepts, as a pattern.
pub const PARAM_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]{0,63}$";
/// The longest key value a limit counts by (longer values are cut to this many bytes).
pub const MAX_KEY: usize = 200;
/// The most limits set at run time.
pub const MAX_SET: usize = 200;

/// What a limit counts by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Per {
    /// Every job of the kind together.
    Kind,
    /// Each user's jobs apart.
    Owner,
    /// The jobs with one value of a parameter apart (a job without it counts under `""`).
    Param(String),
}

/// A limit on a kind's jobs. On the wire: `kind`, `per` (`kind`, `owner` or `param`), `param`
/// (the parameter's name, for `per: param`; left out otherwise, and ignored if sent), `max` and
/// `window_ms` ([`LimitWire`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LimitWire", into = "LimitWire")]
pub struct Limit {
    pub kind: String,
    pub per: Per,
    /// At most this many running at once, or starts in a window.
    pub max: u32,
    /// A rate's window (`None`: a concurrency limit), from a second to a day.
    pub window_ms: Option<i64>,
}

/// What a limit counts by, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PerName {
    Kind,
    Owner,
    Param,
}

/// A [`Limit`] as the API writes and reads it (the document adds that `param` is required
/// with `per: param`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LimitWire {
    pub kind: String,
    /// Over the whole kind, each user apart, or each value of a parameter apart.
    pub per: PerName,
    /// The parameter, for `per: param`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schemars", schemars(regex(pattern = PARAM_PATTERN)))]
    pub param: Option<String>,
    /// At most this many running at once, or starts in a window.
    #[cfg_attr(feature = "schemars", schemars(range(min = 1, max = 1_000_000)))]
    pub max: u32,
    /// A rate's window (left out: a limit of jobs running at once), from a second to a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schemars", schemars(range(min = 1_000, max = 86_400_000)))]
    pub window_ms: Option<i64>,
}

impl TryFrom<LimitWire> for Limit {
    type Error = String;

    fn try_from(w: LimitWire) -> Result<Limit, String> {
        Ok(Limit {
            kind: w.kind,
            per: Per::of(w.per, w.param),
            max: w.max,
            window_ms: w.window_ms,
        })
    }
}

impl Per {
    /// What a limit counts by, from its name and its parameter's (a parameter beside another
    /// `per` is ignored; without one, `per: param` is refused on its field by
    /// [`Limit::problem`]).
    fn of(per: PerName, param: Option<String>) -> Per {
        match (per, param) {
            (PerName::Kind, _) => Per::Kind,
            (PerName::Owner, _) => Per::Owner,
            (PerName::Param, p) => Per::Param(p.unwrap_or_default()),
        }
    }
}

impl From<Limit> for LimitWire {
    fn from(l: Limit) -> LimitWire {
        let (per, param) = match l.per {
            Per::Kind => (PerName::Kind, None),
            Per::Owner => (PerName::Owner, None),
            Per::Param(p) => (PerName::Param, Some(p)),
        };
        LimitWire {
            kind: l.kind,
            per,
            param,
            max: l.max,
            window_ms: l.window_ms,
        }
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Limit {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Limit".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = LimitWire::json_schema(generator);
        // `param` is required with `per: param`.
        schema.insert(
            "if".into(),
            serde_json::json!({"properties": {"per": {"const": "param"}}, "required": ["per"]}),
        );
        schema.insert("then".into(), serde_json::json!({"required": ["param"]}));
        schema
    }
}

/// Where a limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// The kind's declaration (its code, or the commands file).
    Declared,
    /// An operator, at run time.
    Set,
}

/// A limit in force, with where it comes from and its use per key, the busiest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LimitUse {
    #[serde(flatten)]
    pub limit: Limit,
    pub source: LimitSource,
    /// What it replaces, when set at run time over a declared limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_max: Option<u32>,
    /// Who set it, and when (Unix ms), for a limit set at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_at: Option<i64>,
    /// Keys with jobs running (or starts in the window), the busiest first; at most
    /// [`USES_SHOWN`] of them.
    pub keys: Vec<KeyUse>,
    /// How many keys are in use in all.
    pub keys_in_use: u64,
}

/// The most keys [`LimitUse::keys`] lists.
pub const USES_SHOWN: usize = 20;

/// One key's use of a limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct KeyUse {
    pub key: String,
    /// The user's name, for a key that is a user's id (a limit per user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Jobs running, or starts in the window.
    pub used: u32,
    /// For a rate at its limit: when the next start is allowed (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<i64>,
}

/// Why a queued job waits on a limit: the limit, the job's key, its use, and when it may start.
/// Its use counts other users' jobs only for a caller who may see every job (as
/// [`LimitUse::keys`] lists keys only for them): anyone else learns what their own jobs use of
/// the key, and nothing of a rate's starts by others. On the
/// wire the limit's fields and the wait's are side by side ([`LimitWaitWire`]): written out
/// rather than `flatten`ed, so that a page reads it without serde's buffering of every value,
/// which is a part of the dashboard's wasm of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "LimitWaitWire", into = "LimitWaitWire")]
pub struct LimitWait {
    pub limit: Limit,
    pub key: String,
    /// The user's name, for a key that is a user's id (a limit per user).
    pub name: Option<String>,
    /// Jobs of the key running, or its starts in the window: every user's for a caller who may
    /// see every job; for anyone else their own jobs running, or (a rate) `None` unless the key
    /// is theirs alone (a limit per user), since the starts are counted by key, not by whose.
    pub used: Option<u32>,
    /// For a rate: when the next start of this key is allowed (Unix ms).
    pub next_at: Option<i64>,
}

/// A [`LimitWait`] as the API writes and reads it: the fields of its [`LimitWire`], then the
/// wait's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LimitWaitWire {
    pub kind: String,
    /// Over the whole kind, each user apart, or each value of a parameter apart.
    pub per: PerName,
    /// The parameter, for `per: param`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// At most this many running at once, or starts in a window.
    pub max: u32,
    /// A rate's window (left out: a limit of jobs running at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<i64>,
    /// The job's key.
    pub key: String,
    /// The user's name, for a key that is a user's id (a limit per user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Jobs of the key running, or its starts in the window; for a caller who may not see
    /// every job, only their own jobs running, and left out for a rate over a key others may
    /// share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<u32>,
    /// For a rate: when the next start of this key is allowed (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<i64>,
}

impl From<LimitWaitWire> for LimitWait {
    fn from(w: LimitWaitWire) -> LimitWait {
        LimitWait {
            limit: Limit {
                kind: w.kind,
                per: Per::of(w.per, w.param),
                max: w.max,
                window_ms: w.window_ms,
            },
            key: w.key,
            name: w.name,
            used: w.used,
            next_at: w.next_at,
        }
    }
}

impl From<LimitWait> for LimitWaitWire {
    fn from(w: LimitWait) -> LimitWaitWire {
        let LimitWire {
            kind,
            per,
            param,
            max,
            window_ms,
        } = w.limit.into();
        LimitWaitWire {
            kind,
            per,
            param,
            max,
            window_ms,
            key: w.key,
            name: w.name,
            used: w.used,
            next_at: w.next_at,
        }
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for LimitWait {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LimitWait".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        LimitWaitWire::json_schema(generator)
    }
}

impl Limit {
    /// What identifies a limit whatever its `max`: its kind, what it counts by, and its window.
    /// A limit set at run time replaces the declared one of the same signature, and a rate's
    /// starts are counted under it (so that a change of `max` keeps them).
    pub fn signature(&self) -> String {
        let per = match &self.per {
            Per::Kind => "kind".to_string(),
            Per::Owner => "owner".to_string(),
            Per::Param(p) => format!("param:{p}"),
        };
        match self.window_ms {
            Some(w) => format!("{}/{per}/rate:{w}", self.kind),
            None => format!("{}/{per}/running", self.kind),
        }
    }

    /// Whether it counts starts in a window (else jobs running).
    pub fn is_rate(&self) -> bool {
        self.window_ms.is_some()
    }

    /// The key a job of this limit's kind counts under, from its owner and parameters.
    pub fn key_of(&self, owner: &str, params: &serde_json::Value) -> String {
        match &self.per {
            Per::Kind => String::new(),
            Per::Owner => owner.to_string(),
            Per::Param(p) => key_text(params.get(p)),
        }
    }

    /// The first problem with it, in a sentence: `(field, message)`.
    pub fn problem(&self) -> Option<(&'static str, crate::Words)> {
        if self.max == 0 || self.max > MAX_MAX {
            return Some(("max", crate::words::limit_max(self.max)));
        }
        if let Some(w) = self.window_ms {
            if !(MIN_WINDOW_MS..=MAX_WINDOW_MS).contains(&w) {
                return Some(("window_ms", crate::words::limit_window(w)));
            }
        }
        if let Per::Param(p) = &self.per {
            if !is_param_name(p) {
                return Some(("param", crate::words::limit_param_name(format!("{p:?}"))));
            }
        }
        None
    }
}

/// Whether `name` may key a limit: letters, digits and `_`, not starting with a digit.
pub fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PARAM
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// A parameter's value as a key: a string as it is, a number or a boolean as written in JSON,
/// nothing (or `null`) as `""`; cut to [`MAX_KEY`] bytes.
pub fn key_text(value: Option<&serde_json::Value>) -> String {
    let text = match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    crate::text::truncate_bytes(&text, MAX_KEY).to_string()
}

impl fmt::Display for Limit {
    /// In words: "at most 2 at once per repository", "10 a minute per owner", "5 per 90 s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.window_ms {
            None => write!(f, "at most {} at once", self.max)?,
            Some(w) => write!(f, "{} {}", self.max, window_words(w))?,
        }
        match &self.per {
            Per::Kind => Ok(()),
            Per::Owner => write!(f, " per user"),
            Per::Param(p) => write!(f, " per {p}"),
        }
    }
}

/// "a second", "a minute", "an hour", "a day", else "per 90 s".
pub fn window_words(ms: i64) -> String {
    match ms {
        1_000 => "a second".into(),
        60_000 => "a minute".into(),
        3_600_000 => "an hour".into(),
        86_400_000 => "a day".into(),
        ms if ms % 1_000 == 0 => format!("per {} s", ms / 1_000),
        ms => format!("per {ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_written_flat_as_it_always_was_and_read_back() {
        let wait = LimitWait {
            limit: Limit {
                kind: "sync".into(),
                per: Per::Param("customer_id".into()),
                max: 10,
                window_ms: Some(60_000),
            },
            key: "acme".into(),
            name: None,
            used: Some(10),
            next_at: Some(12_000),
        };
        let json = serde_json::to_value(&wait).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "sync", "per": "param", "param": "customer_id", "max": 10,
                "window_ms": 60000, "key": "acme", "used": 10, "next_at": 12000})
        );
        assert_eq!(serde_json::from_value::<LimitWait>(json).unwrap(), wait);
        let per_user = serde_json::json!({"kind": "k", "per": "owner", "max": 1, "key": "u1",
            "name": "ada", "used": 1});
        let read: LimitWait = serde_json::from_value(per_user.clone()).unwrap();
        assert_eq!(
            (&read.limit.per, read.name.as_deref()),
            (&Per::Owner, Some("ada"))
        );
        assert_eq!(serde_json::to_value(&read).unwrap(), per_user);
        // Without its use (a member's view of a rate over a shared key).
        let unknown = LimitWait { used: None, ..wait };
        let json = serde_json::to_value(&unknown).unwrap();
        assert!(json.get("used").is_none(), "{json}");
        assert_eq!(serde_json::from_value::<LimitWait>(json).unwrap(), unknown);
    }
    use serde_json::json;

    /// [`PARAM_PATTERN`] by hand: a letter or `_`, then up to 63 letters, digits or `_`.
    fn regex_lite_free_match(name: &str) -> bool {
        assert_eq!(PARAM_PATTERN, "^[A-Za-z_][A-Za-z0-9_]{0,63}$");
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.len() <= 64
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    fn limit(per: Per, max: u32, window_ms: Option<i64>) -> Limit {
        Limit {
            kind: "deploy".into(),
            per,
            max,
            window_ms,
        }
    }

    #[test]
    fn a_limit_reads_and_writes_its_key_as_per_and_param() {
        let l = limit(Per::Param("repository".into()), 1, None);
        let v = serde_json::to_value(&l).unwrap();
        assert_eq!(
            v,
            json!({"kind": "deploy", "per": "param", "param": "repository", "max": 1})
        );
        assert_eq!(serde_json::from_value::<Limit>(v).unwrap(), l);
        let owner: Limit =
            serde_json::from_value(json!({"kind": "k", "per": "owner", "max": 3})).unwrap();
        assert_eq!(owner.per, Per::Owner);
        let rate: Limit = serde_json::from_value(
            json!({"kind": "k", "per": "kind", "max": 10, "window_ms": 60000}),
        )
        .unwrap();
        assert!(rate.is_rate());
        // A `param` beside another `per` is ignored; `per: param` without one is refused.
        let kind: Limit =
            serde_json::from_value(json!({"kind": "k", "per": "kind", "param": "A", "max": 1}))
                .unwrap();
        assert_eq!(kind.per, Per::Kind);
        let nameless: Limit =
            serde_json::from_value(json!({"kind": "k", "per": "param", "max": 1})).unwrap();
        assert_eq!(nameless.problem().unwrap().0, "param");
    }

    #[test]
    fn limits_say_themselves_in_words() {
        assert_eq!(
            limit(Per::Param("repository".into()), 1, None).to_string(),
            "at most 1 at once per repository"
        );
        assert_eq!(
            limit(Per::Owner, 3, None).to_string(),
            "at most 3 at once per user"
        );
        assert_eq!(
            limit(Per::Param("customer_id".into()), 10, Some(60_000)).to_string(),
            "10 a minute per customer_id"
        );
        assert_eq!(limit(Per::Kind, 5, Some(90_000)).to_string(), "5 per 90 s");
    }

    #[test]
    fn keys_come_from_the_owner_or_the_parameter_as_written() {
        let params = json!({"customer": "acme", "n": 42, "flag": true, "big": "x".repeat(500)});
        let by = |p: &str| limit(Per::Param(p.into()), 1, None).key_of("ann", &params);
        assert_eq!(by("customer"), "acme");
        assert_eq!(by("n"), "42");
        assert_eq!(by("flag"), "true");
        assert_eq!(by("missing"), "");
        assert_eq!(by("big").len(), MAX_KEY);
        assert_eq!(limit(Per::Owner, 1, None).key_of("ann", &params), "ann");
        assert_eq!(limit(Per::Kind, 1, None).key_of("ann", &params), "");
    }

    #[test]
    fn the_signature_leaves_out_the_max() {
        let a = limit(Per::Param("r".into()), 1, Some(1_000));
        let b = limit(Per::Param("r".into()), 7, Some(1_000));
        assert_eq!(a.signature(), b.signature());
        assert_ne!(
            a.signature(),
            limit(Per::Param("r".into()), 1, None).signature()
        );
        assert_ne!(a.signature(), limit(Per::Owner, 1, Some(1_000)).signature());
    }

    #[test]
    fn bad_limits_are_refused_with_their_field() {
        assert_eq!(limit(Per::Kind, 0, None).problem().unwrap().0, "max");
        assert_eq!(
            limit(Per::Kind, MAX_MAX + 1, None).problem().unwrap().0,
            "max"
        );
        assert_eq!(
            limit(Per::Kind, 1, Some(999)).problem().unwrap().0,
            "window_ms"
        );
        assert_eq!(
            limit(Per::Kind, 1, Some(MAX_WINDOW_MS + 1))
                .problem()
                .unwrap()
                .0,
            "window_ms"
        );
        for bad in ["", "a.b", "a'b", "9lives", &"x".repeat(65)] {
            assert_eq!(
                limit(Per::Param(bad.into()), 1, None).problem().unwrap().0,
                "param",
                "{bad:?}"
            );
        }
        assert_eq!(
            limit(Per::Param("customer_id".into()), 10, Some(60_000)).problem(),
            None
        );
        // The API's document says the same of a parameter's name.
        for name in ["a", "_x", "customer_id", &"y".repeat(64)] {
            assert!(is_param_name(name) && regex_lite_free_match(name), "{name}");
        }
        for bad in ["", "a.b", "9lives", &"x".repeat(65)] {
            assert!(!regex_lite_free_match(bad), "{bad:?}");
        }
    }
}
