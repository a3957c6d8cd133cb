//! The texts the browser needs, in the page's language only: the server writes them into every
//! page as a JSON array (`<script type="application/json" id="headway-text">`, which runs
//! nothing), in the order of the catalogs' `[browser]` sections; the islands read it once. The
//! page's language is its `<html lang>`.

/// The id of the element that carries the table.
pub const ELEMENT_ID: &str = "headway-text";

/// The table for `lang`, as the page carries it: a JSON array of strings, safe inside a
/// `<script>` element (no `<`, `>` or `&` as such).
#[cfg(not(target_arch = "wasm32"))]
pub fn table_json(lang: super::Lang) -> String {
    let texts = super::table(lang);
    let mut out = String::from("[");
    for (i, id) in super::BROWSER.iter().enumerate() {
        if i > 0 {
            out.push(',');
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

#[cfg(target_arch = "wasm32")]
mod browser {
    use crate::i18n::Lang;
    use std::cell::OnceCell;

    thread_local! {
        static TABLE: OnceCell<Vec<&'static str>> = const { OnceCell::new() };
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
        let found = TABLE.with(|t| t.get_or_init(read).get(usize::from(pos)).copied());
        found.unwrap_or_else(|| {
            leptos::logging::error!(
                "message {id} is not in the page's texts: put it in a [browser] section of the catalogs"
            );
            ""
        })
    }

    fn read() -> Vec<&'static str> {
        let json = leptos::prelude::document()
            .get_element_by_id(super::ELEMENT_ID)
            .and_then(|e| e.text_content())
            .unwrap_or_default();
        let Ok(array) = js_sys::JSON::parse(&json) else {
            return Vec::new();
        };
        js_sys::Array::from(&array)
            .iter()
            .map(|v| &*String::leak(v.as_string().unwrap_or_default()))
            .collect()
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::{lang, text};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, BROWSER};

    #[test]
    fn the_pages_table_is_json_that_cannot_end_its_script_element() {
        for lang in Lang::ALL {
            let json = table_json(lang);
            assert!(!json.contains(['<', '>', '&']), "{json}");
            let parsed: Vec<String> = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed.len(), BROWSER.len());
            for (text, id) in parsed.iter().zip(BROWSER) {
                assert_eq!(text, crate::i18n::table(lang)[usize::from(id)]);
            }
        }
    }
}
