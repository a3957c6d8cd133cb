//! Where work may run: the tags a process offers (`--tags gpu,eu`) and the tags a kind requires
//! (`requires = ["gpu"]` in the commands file). A job runs only on a process that offers every
//! tag its kind requires; a kind that requires none runs anywhere.

/// The most tags a process may offer, or a kind require.
pub const MAX_TAGS: usize = 16;

/// The most characters of a tag.
pub const MAX_TAG_LEN: usize = 32;

/// What is wrong with `tag` as a tag, if anything: lowercase letters, digits, `-`, `_` and `.`,
/// starting with a letter or a digit, at most [`MAX_TAG_LEN`] characters.
pub fn tag_problem(tag: &str) -> Option<String> {
    let first_ok = tag
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = tag
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if tag.is_empty() {
        Some("a tag cannot be empty".into())
    } else if tag.chars().count() > MAX_TAG_LEN {
        Some(format!(
            "the tag {tag:?} is longer than {MAX_TAG_LEN} characters"
        ))
    } else if !first_ok || !rest_ok {
        Some(format!(
            "the tag {tag:?} must be lowercase letters, digits, '-', '_' or '.', starting with a \
             letter or a digit"
        ))
    } else {
        None
    }
}

/// `tags` checked: each one's form, no more than [`MAX_TAGS`] of them; sorted, each once
/// (`--tags`, after its commas, and a command's `requires`).
pub fn checked<I, S>(tags: I) -> Result<Vec<String>, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.as_ref();
        if let Some(problem) = tag_problem(tag) {
            return Err(problem);
        }
        out.push(tag.to_string());
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS {
        return Err(format!(
            "{} tags are more than the {MAX_TAGS} allowed",
            out.len()
        ));
    }
    Ok(out)
}

/// The tags of `required` that `offered` lacks, in `required`'s order: none when a process
/// offering `offered` may run a kind requiring `required`.
pub fn missing<'a>(required: &'a [String], offered: &[String]) -> Vec<&'a str> {
    required
        .iter()
        .filter(|r| !offered.contains(r))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_lowercase_letters_digits_and_a_few_marks() {
        for good in ["gpu", "eu-west-1", "cuda_12", "v1.2", "9x"] {
            assert_eq!(tag_problem(good), None, "{good}");
        }
        for bad in ["", "GPU", "-gpu", ".x", "gpu box", "gpu,eu", "ü"] {
            assert!(tag_problem(bad).is_some(), "{bad:?}");
        }
        assert!(tag_problem(&"a".repeat(MAX_TAG_LEN)).is_none());
        let long = tag_problem(&"a".repeat(MAX_TAG_LEN + 1)).unwrap();
        assert!(long.contains("longer than 32"), "{long}");
    }

    #[test]
    fn a_list_is_sorted_each_tag_once_and_bounded() {
        assert_eq!(checked(["gpu", "eu", "gpu"]).unwrap(), ["eu", "gpu"]);
        assert_eq!(checked::<_, &str>([]).unwrap(), Vec::<String>::new());
        let e = checked(["gpu", "GPU"]).unwrap_err();
        assert!(e.contains("\"GPU\""), "{e}");
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        let e = checked(&many).unwrap_err();
        assert!(e.contains("17 tags are more than the 16 allowed"), "{e}");
        assert_eq!(checked(&many[..MAX_TAGS]).unwrap().len(), MAX_TAGS);
    }

    #[test]
    fn a_kind_runs_where_every_tag_it_requires_is_offered() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert!(missing(&s(&[]), &s(&[])).is_empty());
        assert!(missing(&s(&[]), &s(&["gpu"])).is_empty());
        assert!(missing(&s(&["gpu"]), &s(&["eu", "gpu"])).is_empty());
        assert_eq!(missing(&s(&["gpu", "eu"]), &s(&["eu"])), ["gpu"]);
        assert_eq!(missing(&s(&["gpu", "eu"]), &s(&[])), ["gpu", "eu"]);
    }
}
