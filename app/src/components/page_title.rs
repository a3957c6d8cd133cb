//! The page's `<title>`, the one way a page names itself.
//!
//! `leptos_meta`'s `Title` writes its text into the server-rendered `<head>` as it is, without
//! escaping: a job's title of `x</title><meta http-equiv="refresh" …>` would end the element
//! and add its own tags to the page. So no page uses `Title` itself (a test below reads every
//! source file of the app to keep it so): they use [`PageTitle`], which escapes the text first.

use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the page's title to `text` (plain text: what it holds is shown, never read as HTML).
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    view! { <Title text=for_head(&text)/> }
}

/// The title's text as `Title` needs it: escaped where it is written into HTML (the server's
/// rendering); as it is where it sets `document.title`, which takes plain text.
fn for_head(text: &str) -> String {
    if cfg!(feature = "ssr") {
        escape_title(text)
    } else {
        text.to_string()
    }
}

/// `text` as the content of an HTML element: `&`, `<`, `>`, `"` and `'` as character
/// references, so that nothing in it can end the element or start another.
pub fn escape_title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_title_cannot_end_its_element_or_add_tags() {
        let attack = r#"x</title><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">"#;
        let escaped = escape_title(attack);
        assert_eq!(
            escaped,
            "x&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot; \
             content=&quot;0;url=http://127.0.0.1:9/&quot;&gt;"
        );
        assert!(!escaped.contains(['<', '>', '"', '\'']));
        assert_eq!(escape_title("Tom & Jerry's"), "Tom &amp; Jerry&#39;s");
        assert_eq!(escape_title("Jobs · Headway"), "Jobs · Headway");
    }

    /// Every `.rs` file under `dir`.
    fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn every_page_names_itself_through_page_title() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        assert!(files.len() > 20, "the app's sources were not found");
        let this = Path::new(file!()).file_name().unwrap();
        let raw: Vec<String> = files
            .iter()
            .filter(|f| f.file_name() != Some(this))
            .filter(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.contains("<Title") || text.contains("leptos_meta::Title")
            })
            .map(|f| f.display().to_string())
            .collect();
        assert!(
            raw.is_empty(),
            "these use leptos_meta's Title, which writes its text unescaped; use PageTitle: {raw:?}"
        );
    }
}
