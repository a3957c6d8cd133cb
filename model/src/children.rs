//! Children a running job starts itself: from a Rust kind's context, from a command through its
//! descriptor 3 (`{"child": {…}}`), or from a program elsewhere through the report API. Each is
//! a job of its own (any kind this server runs) whose parent is the job that started it; the
//! parent does not end before its children did, and fails if one of them did not succeed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest name of a child.
pub const MAX_CHILD_NAME: usize = 100;

/// A child a running job asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct ChildStart {
    /// Its name, unique among its parent's children: a parent tried again that asks for a
    /// name it asked for before gets that child, not a second one.
    pub name: String,
    /// Its kind: any kind this server runs.
    pub kind: String,
    /// Its parameters, checked as a start of that kind by the parent's owner.
    #[serde(default)]
    pub params: Value,
}

impl ChildStart {
    /// Why `name` cannot name a child, if it cannot.
    pub fn name_problem(&self) -> Option<String> {
        let name = &self.name;
        if name.trim().is_empty() {
            return Some("a child needs a name".into());
        }
        if name.chars().count() > MAX_CHILD_NAME {
            return Some(format!("at most {MAX_CHILD_NAME} characters"));
        }
        if name.chars().any(char::is_control) {
            return Some("no control characters".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> ChildStart {
        ChildStart {
            name: name.into(),
            kind: "demo".into(),
            params: Value::Null,
        }
    }

    #[test]
    fn a_child_is_named_by_a_short_printable_name() {
        assert_eq!(named("resize 3").name_problem(), None);
        assert_eq!(named(&"é".repeat(100)).name_problem(), None);
        assert!(named(" ").name_problem().is_some());
        assert!(named(&"a".repeat(101)).name_problem().is_some());
        assert!(named("a\nb").name_problem().is_some());
    }

    #[test]
    fn a_child_is_read_from_json_with_its_params_optional_and_nothing_else() {
        let read: ChildStart = serde_json::from_str(r#"{"name": "a", "kind": "demo"}"#).unwrap();
        assert_eq!(read, named("a"));
        assert!(
            serde_json::from_str::<ChildStart>(r#"{"name": "a", "kind": "demo", "x": 1}"#).is_err()
        );
    }
}
