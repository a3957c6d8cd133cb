//! The user's language: every text a page shows comes from the message catalogs
//! (`app/locales/<tag>.ftl`, one file per language, in Fluent's syntax), compiled by
//! `app/build.rs` into a method per message on [`Text`]: a message used by a page but missing
//! from a language, or missing altogether, does not compile. docs/I18N.md explains the files,
//! how to add a language, and why the catalogs are compiled rather than read at run time.
//!
//! - [`render`]: a message's text with its variables, plural rules and numbers, the same code
//!   on the server and in the browser;
//! - `errors` (server side): the engine's errors in the reader's language;
//! - `cron` (server side): schedules' times in the reader's words;
//! - [`negotiate`]: which language a request gets (its cookie, else `Accept-Language`);
//! - [`page`]: the table of the texts the browser needs, in the page's language only, which
//!   the server writes into every page and the islands read.
//!
//! On the server every language's texts are in the binary. The browser's bundle holds none:
//! only the messages of the catalogs' `[browser]` sections travel, in the page.

#[cfg(feature = "ssr")]
pub mod cron;
#[cfg(not(target_arch = "wasm32"))]
pub mod errors;
pub mod negotiate;
pub mod page;
mod render;

pub use render::Arg;

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// The place of a message that is not in the browser's table.
const NOT_IN_BROWSER: u16 = u16::MAX;

/// What a language's file says about itself.
#[derive(Debug)]
pub(crate) struct Meta {
    /// Its own name, as the language switch shows it.
    pub name: &'static str,
    pub plural: Plural,
    pub ordinal: Ordinal,
    /// Between groups of three digits (`1,234`).
    pub group: &'static str,
    /// Before the fraction (`2.5`).
    pub decimal: &'static str,
    /// The `Accept-Language` tags it serves, space-separated.
    pub accept: &'static str,
    /// Tags it does not serve although a shorter one is in `accept` (`zh-TW` for `zh-CN`).
    pub accept_not: &'static str,
}

/// A language's plural rule, one of CLDR's families for whole numbers. A language file names
/// one; those no file names yet are there for the next languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum Plural {
    /// No plural forms (Chinese, Japanese, Korean…).
    Other,
    /// `one` for 1 (English, German, Dutch…).
    OneOther,
    /// `one` for 0 and 1 (French, Portuguese).
    OneZeroOne,
    /// `one`, `few`, `many` (Russian, Ukrainian).
    EastSlavic,
    /// `one`, `few`, `many` (Polish).
    Polish,
    /// `zero`, `one`, `two`, `few`, `many` (Arabic).
    Arabic,
}

/// A language's rule for ordinals ("1st", "2nd"), chosen in a selection by keys `ord-one`,
/// `ord-two`, `ord-few` and `ord-other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ordinal {
    /// One form for every number (第 1, 1.).
    Other,
    /// 1st, 2nd, 3rd, 4th, 11th, 21st.
    English,
}

impl Lang {
    /// The language's own name (`English`, `中文`).
    pub fn name(self) -> &'static str {
        self.meta().name
    }

    /// The language of `tag` as a file names it (`zh-CN`; any case).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }
}

/// The texts of one language: `t().cancel()`. Cheap to copy; get it with [`t`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub lang: Lang,
}

/// The texts of the page being rendered: on the server, the request's language; in the
/// browser, the page's.
pub fn t() -> Text {
    Text { lang: lang() }
}

/// The language of the page being rendered.
pub fn lang() -> Lang {
    #[cfg(target_arch = "wasm32")]
    {
        page::lang()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        request_lang()
    }
}

/// The request's language: the one the shell chose, else (a server function) the request's
/// cookie or `Accept-Language`; English outside a request.
#[cfg(not(target_arch = "wasm32"))]
fn request_lang() -> Lang {
    use leptos::prelude::use_context;
    if let Some(lang) = use_context::<Lang>() {
        return lang;
    }
    #[cfg(feature = "ssr")]
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        return negotiate::of_request(&parts.headers);
    }
    Lang::default()
}

impl Text {
    /// The texts of `lang`, outside a page (tests, the server's own messages).
    pub fn of(lang: Lang) -> Text {
        Text { lang }
    }

    /// A message without variables. `pos` is its place in the browser's table. Never put in
    /// place: the generated methods, which are, come down to a call of this or [`Text::format`].
    #[inline(never)]
    fn plain(self, id: u16, pos: u16) -> &'static str {
        self.raw(id, pos)
    }

    /// A message with variables.
    #[inline(never)]
    fn format(self, id: u16, pos: u16, args: &[Arg]) -> String {
        render::render(self.raw(id, pos), args, self.lang.meta())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn raw(self, id: u16, _pos: u16) -> &'static str {
        table(self.lang)[usize::from(id)]
    }

    #[cfg(target_arch = "wasm32")]
    fn raw(self, id: u16, pos: u16) -> &'static str {
        page::text(id, pos)
    }

    /// The message `key` (`kind-demo`), for the texts looked up by a name the data gives (a
    /// built-in kind's title); server-side only, where every message is at hand.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn lookup(self, key: &str) -> Option<&'static str> {
        let i = KEYS.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
        Some(self.raw(KEYS[i].1, NOT_IN_BROWSER))
    }

    /// Headway's own words `said` in this language, in the browser: those of the catalogs'
    /// browser sections (a job's message and error); `None` for others, which the page shows
    /// in English.
    #[cfg(target_arch = "wasm32")]
    pub fn said(self, said: &crate::model::Said) -> Option<String> {
        let i = BROWSER_SAID
            .binary_search_by(|(k, ..)| (*k).cmp(said.id.as_str()))
            .ok()?;
        let (_, id, pos, vars) = BROWSER_SAID[i];
        let args = vars
            .iter()
            .map(|v| said.values.get(*v).map(|value| Arg::from(value.as_str())))
            .collect::<Option<Vec<Arg>>>()?;
        Some(render::render(self.raw(id, pos), &args, self.lang.meta()))
    }

    /// Headway's own words `said` in this language: their message with their values; `None`
    /// for a message the catalogs do not have, or a value it needs that is missing.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn said(self, said: &crate::model::Said) -> Option<String> {
        let i = KEYS
            .binary_search_by(|(k, _)| (*k).cmp(said.id.as_str()))
            .ok()?;
        let id = KEYS[i].1;
        let args = VARS[usize::from(id)]
            .iter()
            .map(|v| said.values.get(*v).map(|value| Arg::from(value.as_str())))
            .collect::<Option<Vec<Arg>>>()?;
        Some(render::render(
            self.raw(id, NOT_IN_BROWSER),
            &args,
            self.lang.meta(),
        ))
    }

    /// What a job says, a message or an error: Headway's words (`said`) in this language;
    /// else `text` as its program wrote it.
    pub fn said_or(self, said: Option<&crate::model::Said>, text: &str) -> String {
        said.and_then(|s| self.said(s))
            .unwrap_or_else(|| text.to_string())
    }

    /// A whole number as the language writes it: `1,234,567`.
    #[inline(always)]
    pub fn int(self, n: impl Into<i64>) -> String {
        render::int(n.into(), self.lang.meta())
    }

    /// A number with `places` digits after the point: `2.5`, `23.1`.
    pub fn decimal(self, x: f64, places: usize) -> String {
        render::decimal(x, places, self.lang.meta())
    }
}

/// The compiler `app/build.rs` runs, for the tests to run it on catalogs of their own.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../build/catalogs.rs"]
mod catalogs;

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogs of `app/locales/`, and each one's path.
    fn locales() -> Vec<(std::path::PathBuf, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect();
        files.sort();
        files
    }

    /// What `make test` builds fails on a message a language lacks (a page's message missing
    /// from Chinese), on one English lacks (a page's method then does not exist: a compile error
    /// too), and on a variable English does not give; each problem names its file and message.
    #[test]
    fn a_message_missing_from_a_language_fails_the_build_naming_it() {
        let files = locales();
        assert!(
            catalogs::compile(&files).is_ok(),
            "the catalogs as they are"
        );
        let without = |tag: &str, key: &str| -> Vec<(std::path::PathBuf, String)> {
            files
                .iter()
                .map(|(p, text)| match p.file_stem().unwrap() == tag {
                    true => {
                        let kept: Vec<&str> = text
                            .lines()
                            .filter(|l| !l.starts_with(&format!("{key} =")))
                            .collect();
                        assert!(kept.len() < text.lines().count(), "{key} in {tag}");
                        (p.clone(), kept.join("\n"))
                    }
                    false => (p.clone(), text.clone()),
                })
                .collect()
        };
        // Used by every page's header.
        let errors = catalogs::compile(&without("zh-CN", "nav-jobs")).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].ends_with("zh-CN.ftl: the message nav-jobs is missing"),
            "{errors:?}"
        );
        let errors = catalogs::compile(&without("en", "nav-jobs")).unwrap_err();
        assert!(
            errors[0].ends_with(
                "zh-CN.ftl: nav-jobs is not in en.ftl (a typo, or a message removed there?)"
            ),
            "{errors:?}"
        );
        let mut stray = files.clone();
        for (p, text) in &mut stray {
            if p.file_stem().unwrap() == "zh-CN" {
                *text = text.replace("nav-jobs = 任务", "nav-jobs = { $count } 个任务");
            }
        }
        let errors = catalogs::compile(&stray).unwrap_err();
        assert!(
            errors[0].ends_with("zh-CN.ftl: nav-jobs uses $count, which en.ftl does not give it"),
            "{errors:?}"
        );
    }

    /// A language is one file: a third catalog beside the two is a language of the pages
    /// (`Lang::ALL`, its tag, its name), or a build that says what it lacks.
    #[test]
    fn a_third_language_is_one_file() {
        let mut files = locales();
        let english = files
            .iter()
            .find(|(p, _)| p.file_stem().unwrap() == "en")
            .unwrap()
            .1
            .clone();
        let german = english
            .replace("-language-name = English", "-language-name = Deutsch")
            .replace("-accept = en", "-accept = de de-DE de-AT de-CH")
            .replace("nav-jobs = Jobs", "nav-jobs = Aufträge");
        files.push(("locales/de.ftl".into(), german.clone()));
        let code = catalogs::compile(&files).unwrap();
        assert!(
            code.contains("pub const ALL: [Lang; 3]"),
            "{}",
            code.chars().take(600).collect::<String>()
        );
        assert!(code.contains("Lang::De => \"de\""));
        assert!(code.contains("name: \"Deutsch\""));
        assert!(code.contains("\"Aufträge\""));
        let last = files.len() - 1;
        files[last].1 = german.replace("nav-jobs = Aufträge\n", "");
        let errors = catalogs::compile(&files).unwrap_err();
        assert_eq!(errors, ["locales/de.ftl: the message nav-jobs is missing"]);
    }

    #[test]
    fn every_language_is_found_by_its_tag_and_english_is_the_default() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
            assert_eq!(Lang::from_tag(&l.tag().to_lowercase()), Some(l));
        }
        assert_eq!(Lang::default(), Lang::En);
        assert_eq!(Lang::ALL[0], Lang::En);
        assert_eq!(Lang::from_tag("xx"), None);
        assert_eq!(Lang::ZhCn.tag(), "zh-CN");
        assert_eq!(Lang::ZhCn.name(), "中文");
    }

    /// A built-in kind shows its title, description and parameters in every language: each
    /// has its messages (`kind-NAME`, `kind-NAME-PARAM`), and in English they say what the
    /// engine says.
    #[cfg(feature = "ssr")]
    #[test]
    fn every_built_in_kind_speaks_every_language() {
        for kind in engine::kinds::Registry::builtin().infos() {
            for lang in Lang::ALL {
                let t = Text::of(lang);
                let key = format!("kind-{}", kind.name);
                let got = |k: &str| t.lookup(k).unwrap_or_else(|| panic!("{lang:?} has no {k}"));
                let (title, about) = (got(&key), got(&format!("{key}.description")));
                if lang == Lang::En {
                    assert_eq!(
                        (title, about),
                        (
                            kind.title.as_str(),
                            kind.description.replace('\n', " ").as_str()
                        )
                    );
                }
                for p in &kind.params {
                    let pk = format!("{key}-{}", p.name);
                    let (label, about) = (got(&pk), got(&format!("{pk}.description")));
                    if lang == Lang::En {
                        assert_eq!(label, p.label);
                        assert_eq!(about, p.description.replace('\n', " "));
                    }
                }
            }
        }
    }

    #[test]
    fn messages_are_found_by_key_in_every_language() {
        assert_eq!(Text::of(Lang::En).lookup("nav-jobs"), Some("Jobs"));
        assert_eq!(Text::of(Lang::ZhCn).lookup("nav-jobs"), Some("任务"));
        assert_eq!(Text::of(Lang::En).lookup("no-such-message"), None);
        assert!(KEYS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// Every message of every language renders without a stray control character, whatever
    /// its variables: the encoding the build writes is the one the runtime reads.
    #[test]
    fn every_message_renders_in_every_language() {
        for lang in Lang::ALL {
            for (i, text) in table(lang).iter().enumerate() {
                for n in [0, 1, 2, 5, 11, 1000] {
                    let args: Vec<Arg> = (0..10).map(|_| Arg::from(n)).collect();
                    let out = render::render(text, &args, lang.meta());
                    assert!(
                        !out.contains(|c: char| ('\u{1}'..='\u{6}').contains(&c)),
                        "{lang:?} message {i} ({}): {out:?}",
                        KEYS.iter().find(|k| usize::from(k.1) == i).unwrap().0
                    );
                }
            }
        }
    }
}
