//! `docs/ARCHITECTURE.md` walks a newcomer through the code by naming files and functions. These
//! tests keep it true: every path it names in backticks exists, and every function it names
//! (`path::name`, or `path::Type::name` for a method) is still defined in that file, so a file
//! moved or a function renamed without the page fails here.
//!
//! What counts as a path: a code span without spaces that contains a `/` or ends in a known
//! extension, that does not start with `/` (a URL path) and has no `://` (a URL), made only of
//! the characters of file names; a trailing `::name` or `:line` is taken off first. Spans that
//! hold anything else (`{id}`, `*`, `<name>`) are not read as paths.

use std::collections::BTreeSet;
use std::path::Path;

/// Extensions that make a code span a path even without a `/` (`Cargo.toml`).
const EXTENSIONS: [&str; 16] = [
    ".rs", ".md", ".toml", ".sql", ".ts", ".css", ".sh", ".json", ".py", ".mjs", ".js", ".conf",
    ".lock", ".yml", ".yaml", ".html",
];

/// Fewer named paths or functions than this means the page, or the reading of it, lost them.
const AT_LEAST: usize = 20;

/// A path of the repository named by the page, and the function named in it, if any: its name
/// last, after the names of the types it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    path: String,
    item: Vec<String>,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path)?;
        for part in &self.item {
            write!(f, "::{part}")?;
        }
        Ok(())
    }
}

/// The code spans of a Markdown text, paragraph by paragraph (a span never crosses a blank line),
/// leaving out fenced code blocks.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut paragraph = String::new();
    let mut fenced = false;
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        if fence || (!fenced && line.trim().is_empty()) {
            spans_of(&paragraph, &mut spans);
            paragraph.clear();
            fenced ^= fence;
            continue;
        }
        if !fenced {
            paragraph.push_str(line);
            paragraph.push('\n');
        }
    }
    spans_of(&paragraph, &mut spans);
    spans
}

/// Adds the code spans of one paragraph: what stands between a backtick and the next. A last
/// backtick without its pair opens nothing.
fn spans_of(paragraph: &str, spans: &mut Vec<String>) {
    let parts: Vec<&str> = paragraph.split('`').collect();
    let closed = parts.len() - (parts.len() + 1) % 2;
    spans.extend(
        parts[..closed]
            .iter()
            .skip(1)
            .step_by(2)
            .map(|s| s.to_string()),
    );
}

/// The reference a code span makes, if it names a path of the repository.
fn reference(span: &str) -> Option<Reference> {
    if span.is_empty()
        || span.chars().any(char::is_whitespace)
        || span.starts_with('/')
        || span.contains("://")
    {
        return None;
    }
    let (mut path, item) = match span.split_once("::") {
        Some((path, item)) => (path, item.split("::").map(str::to_string).collect()),
        None => (span, Vec::new()),
    };
    if item.is_empty() {
        if let Some((file, line)) = path.rsplit_once(':') {
            if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
                path = file;
            }
        }
    }
    let looks_like_a_path = path.contains('/') || EXTENSIONS.iter().any(|e| path.ends_with(e));
    let file_name_chars = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    (looks_like_a_path && file_name_chars).then(|| Reference {
        path: path.to_string(),
        item,
    })
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `words` (which start and end with identifiers) occur in `text` with no identifier
/// character on either side.
fn has_words(text: &str, words: &str) -> bool {
    text.match_indices(words).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + words.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// What is wrong with `r` in the repository at `root`: nothing, or one line per problem.
fn problems(root: &Path, r: &Reference) -> Vec<String> {
    let file = root.join(&r.path);
    if !file.exists() {
        return vec![format!("`{r}`: no such file or folder")];
    }
    let Some((name, types)) = r.item.split_last() else {
        return Vec::new();
    };
    if r.item
        .iter()
        .any(|part| part.is_empty() || !part.chars().all(is_ident))
    {
        return vec![format!("`{r}`: not a function's name after the path")];
    }
    let Ok(text) = std::fs::read_to_string(&file) else {
        return vec![format!(
            "`{r}`: not a text file, it cannot define a function"
        )];
    };
    let keyword = match r.path.rsplit('.').next() {
        Some("ts" | "js" | "mjs") => "function",
        _ => "fn",
    };
    let mut found = Vec::new();
    if !has_words(&text, &format!("{keyword} {name}")) {
        found.push(format!("`{r}`: no `{keyword} {name}` in {}", r.path));
    }
    for t in types {
        if !has_words(&text, t) {
            found.push(format!("`{r}`: no `{t}` in {}", r.path));
        }
    }
    found
}

/// The references of a page and what is wrong with them in the repository at `root`.
fn check(root: &Path, page: &str) -> (BTreeSet<Reference>, Vec<String>) {
    let refs: BTreeSet<Reference> = code_spans(page)
        .iter()
        .map(String::as_str)
        .filter_map(reference)
        .collect();
    let wrong = refs.iter().flat_map(|r| problems(root, r)).collect();
    (refs, wrong)
}

/// Every file and folder `docs/ARCHITECTURE.md` names exists, and every function it names is
/// defined in the file it names, as the repository is now. The page names enough of both that a
/// reading of it which found nothing could not pass.
#[test]
fn every_path_and_function_the_architecture_page_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md is readable");
    let (refs, wrong) = check(&root, &page);
    let paths: BTreeSet<&str> = refs.iter().map(|r| r.path.as_str()).collect();
    let functions = refs.iter().filter(|r| !r.item.is_empty()).count();
    assert!(
        wrong.is_empty(),
        "docs/ARCHITECTURE.md names what the repository does not have ({} of {} references):\n{}",
        wrong.len(),
        refs.len(),
        wrong.join("\n")
    );
    assert!(
        paths.len() >= AT_LEAST && functions >= AT_LEAST,
        "docs/ARCHITECTURE.md names only {} paths and {functions} functions: were they read?",
        paths.len()
    );
}

/// The check itself finds what it is for: a path that does not exist, a function that is not
/// defined (or defined under a longer name), a type the file does not have; and it leaves alone
/// what is not a path (URLs, routes, Rust paths, spans with spaces, fenced code).
#[test]
fn a_made_up_path_or_a_renamed_function_is_reported() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = "Real: `engine/src/bus.rs::publish`, `engine/src/bus.rs::Bus::subscribe`, \
                `Cargo.toml`, `engine/src/bus.rs:12`.\n\
                Made up: `engine/src/nowhere.rs`, `engine/src/bus.rs::publish_nothing`, \
                `engine/src/bus.rs::Nobody::publish`, `engine/src/bus.rs::pub`.\n\n\
                Not paths: `/api/v1/events`, `sqlite://data/headway.db`, `engine::bus::Bus`, \
                `GET /api/v1/jobs/{id}`, `engine/src/kinds/<name>.rs`.\n\n\
                ```\nmade/up/in/a/fence.rs\n```\n";
    let (refs, wrong) = check(&root, page);
    let named: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        named,
        [
            "Cargo.toml",
            "engine/src/bus.rs",
            "engine/src/bus.rs::Bus::subscribe",
            "engine/src/bus.rs::Nobody::publish",
            "engine/src/bus.rs::pub",
            "engine/src/bus.rs::publish",
            "engine/src/bus.rs::publish_nothing",
            "engine/src/nowhere.rs",
        ]
    );
    assert_eq!(
        wrong,
        [
            "`engine/src/bus.rs::Nobody::publish`: no `Nobody` in engine/src/bus.rs",
            "`engine/src/bus.rs::pub`: no `fn pub` in engine/src/bus.rs",
            "`engine/src/bus.rs::publish_nothing`: no `fn publish_nothing` in engine/src/bus.rs",
            "`engine/src/nowhere.rs`: no such file or folder",
        ]
    );
}
