//! How deeply JSON from users may nest where Headway keeps it.
//!
//! Every reader of a kept value reads it inside something else: a page of jobs, the stream's
//! snapshot, the job's own answer. `serde_json` refuses input nested more than 128 levels
//! deep, counting the levels around the value too, so a value that was read once alone (a
//! result line on fd 3, a report's `result`) could be too deep for every reader after it.
//! Values that are kept are held to [`MAX_DEPTH`], far below that, and [`depth`] measures one
//! without recursion of its own: any value that was parsed can be measured.

use serde_json::Value;

/// The most levels of arrays and objects a kept value may nest, itself included: `{}` is one
/// level, `{"a": [1]}` two.
pub const MAX_DEPTH: usize = 32;

/// How many levels of arrays and objects `value` nests, itself included: 0 for a string, a
/// number, a boolean or null; 1 for `{}` or `[1, 2]`; 2 for `{"a": [1]}`.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut todo: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((value, level)) = todo.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(level);
                todo.extend(items.iter().map(|v| (v, level + 1)));
            }
            Value::Object(fields) => {
                deepest = deepest.max(level);
                todo.extend(fields.values().map(|v| (v, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Why `value` may not be kept as `what` ("a result"), if it nests deeper than [`MAX_DEPTH`].
pub fn too_deep(value: &Value, what: &str) -> Option<String> {
    let levels = depth(value);
    (levels > MAX_DEPTH).then(|| {
        format!(
            "{what} nests {levels} levels of arrays and objects, more than the {MAX_DEPTH} it may"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An object `levels` deep: `{"a": {"a": … {}}}`.
    fn nested(levels: usize) -> Value {
        let mut v = json!({});
        for _ in 1..levels {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn depth_counts_levels_of_arrays_and_objects() {
        assert_eq!(depth(&json!(3)), 0);
        assert_eq!(depth(&json!("x")), 0);
        assert_eq!(depth(&json!({})), 1);
        assert_eq!(depth(&json!([1, 2])), 1);
        assert_eq!(depth(&json!({"a": [1]})), 2);
        assert_eq!(depth(&json!({"a": 1, "b": {"c": [[]]}, "d": []})), 4);
        assert_eq!(depth(&nested(33)), 33);
    }

    #[test]
    fn a_value_deeper_than_any_parser_allows_is_measured() {
        // Built by hand: deeper than serde_json reads.
        let mut v = json!([]);
        for _ in 1..1_000 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(depth(&v), 1_000);
    }

    #[test]
    fn too_deep_says_how_deep_and_the_bound() {
        assert_eq!(too_deep(&nested(MAX_DEPTH), "a result"), None);
        let why = too_deep(&nested(MAX_DEPTH + 1), "a result").unwrap();
        assert!(why.contains("33 levels") && why.contains("32"), "{why}");
    }
}
