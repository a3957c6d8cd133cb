//! The texts the browser needs, in the page's language only: the server writes them into every
//! page as a JSON array (`<script type="application/json" id="headway-text">`, which runs
//! nothing), in the order of the catalogs' `[browser]` sections; the islands read it once. The
//! page's language is its `<html lang>`. A section only some pages need (`[browser /system]`)
//! travels on the pages under its path; elsewhere its places hold `0`, and an island that reads
//! one there says so in the console.

/// The id of the element that carries the table.
pub const ELEMENT_ID: &str = "headway-text";

/// The table for `lang` on the page at `path`, as the page carries it: a JSON array of
/// strings, safe inside a `<script>` element (no `<`, `>` or `&` as such).
#[cfg(not(target_arch = "wasm32"))]
pub fn table_json(lang: super::Lang, path: &str) -> String {
    let texts = super::table(lang);
    let mut out = String::from("[");
    for (i, (id, on)) in super::BROWSER.iter().zip(super::BROWSER_ON).enumerate() {
        if i > 0 {
            out.push(',');
        }
        if !needed_on(on, path) {
            out.push('0');
            continue;
        }
        out.push('"');
        for c in texts[usize::from(*id)].chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)))
                }
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

/// Whether a text of a section for the pages under `scope` (`""`: every page; several paths
/// are separated by spaces) is needed on the page at `path`.
#[cfg(not(target_arch = "wasm32"))]
fn needed_on(scope: &str, path: &str) -> bool {
    scope.is_empty()
        || scope.split_whitespace().any(|under| {
            path.strip_prefix(under)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use crate::i18n::Lang;
    use std::cell::OnceCell;

    thread_local! {
        static TABLE: OnceCell<Vec<Option<&'static str>>> = const { OnceCell::new() };
        static LANG: OnceCell<Lang> = const { OnceCell::new() };
    }

    /// The page's language, from `<html lang>`.
    pub fn lang() -> Lang {
        LANG.with(|l| {
            *l.get_or_init(|| {
                leptos::prelude::document()
                    .document_element()
                    .and_then(|e| e.get_attribute("lang"))
                    .and_then(|tag| Lang::from_tag(&tag))
                    .unwrap_or_default()
            })
        })
    }

    /// The text at `pos` of the page's table. The strings live as long as the page.
    pub fn text(id: u16, pos: u16) -> &'static str {
        let found = TABLE.with(|t| t.get_or_init(read).get(usize::from(pos)).copied().flatten());
        found.unwrap_or_else(|| {
            leptos::logging::error!(
                "message {id} is not in this page's texts: see the catalogs' [browser] sections"
            );
            ""
        })
    }

    fn read() -> Vec<Option<&'static str>> {
        let json = leptos::prelude::document()
            .get_element_by_id(super::ELEMENT_ID)
            .and_then(|e| e.text_content())
            .unwrap_or_default();
        let Ok(array) = js_sys::JSON::parse(&json) else {
            return Vec::new();
        };
        js_sys::Array::from(&array)
            .iter()
            .map(|v| v.as_string().map(|s| &*String::leak(s)))
            .collect()
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::{lang, text};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, BROWSER, BROWSER_ON};

    #[test]
    fn the_pages_table_is_json_that_cannot_end_its_script_element() {
        let mut carried = vec![false; BROWSER.len()];
        for lang in Lang::ALL {
            for path in ["/", "/system", "/new/demo", "/schedules"] {
                let json = table_json(lang, path);
                assert!(!json.contains(['<', '>', '&']), "{json}");
                let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
                assert_eq!(parsed.len(), BROWSER.len());
                for (i, (text, id)) in parsed.iter().zip(BROWSER).enumerate() {
                    if let Some(text) = text.as_str() {
                        assert_eq!(text, crate::i18n::table(lang)[usize::from(id)]);
                        carried[i] = true;
                    }
                }
            }
        }
        assert!(
            carried.iter().all(|c| *c),
            "every text travels on some page"
        );
    }

    #[test]
    fn a_section_for_some_pages_travels_on_those_only_and_holds_its_places_elsewhere() {
        let worker = BROWSER
            .iter()
            .position(|id| {
                crate::i18n::KEYS
                    .iter()
                    .any(|(k, i)| *k == "system-worker" && i == id)
            })
            .expect("system-worker is in a [browser /system] section");
        assert_eq!(BROWSER_ON[worker], "/system");
        let everywhere = BROWSER_ON.iter().filter(|on| on.is_empty()).count();
        assert!(everywhere > 0 && everywhere < BROWSER.len());
        for (path, kept) in [
            ("/", false),
            ("/systems", false),
            ("/jobs/x", false),
            ("/system", true),
            ("/system/x", true),
        ] {
            let parsed: Vec<serde_json::Value> =
                serde_json::from_str(&table_json(Lang::En, path)).unwrap();
            assert_eq!(parsed.len(), BROWSER.len(), "{path}");
            assert_eq!(parsed[worker].is_string(), kept, "{path}");
            let scoped_here = BROWSER_ON
                .iter()
                .filter(|on| !on.is_empty() && needed_on(on, path))
                .count();
            assert_eq!(
                parsed.iter().filter(|t| t.is_string()).count(),
                everywhere + scoped_here,
                "{path}"
            );
            assert_eq!(scoped_here > 0, kept, "{path}");
        }
    }

    #[test]
    fn a_section_for_several_paths_travels_on_each_and_nowhere_else() {
        assert!(needed_on("/new /schedules", "/new/demo"));
        assert!(needed_on("/new /schedules", "/schedules"));
        assert!(!needed_on("/new /schedules", "/"));
        assert!(!needed_on("/new /schedules", "/newer"));
        assert!(!needed_on("/new", "/schedules"));
        assert!(needed_on("", "/jobs/x"));
    }
}
