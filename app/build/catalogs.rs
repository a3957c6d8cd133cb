//! The message catalogs' compiler: reads the catalogs (Fluent syntax) and compiles them into
//! Rust: one method per message on `i18n::Text`, each language's messages as a static table, and
//! the list of those the browser needs. A message missing from a language, one a language has
//! that English does not, a variable a translation uses that English does not give, or a
//! construct the runtime does not render is a problem named with its file and message.
//! `app/build.rs` runs it on `app/locales/*.ftl` and fails the build on any problem; the app's
//! tests run it on catalogs of their own (`i18n::tests`). docs/I18N.md describes the format.
//!
//! A message's text is stored in a small encoding the runtime (`app/src/i18n/render.rs`) walks:
//! plain text, with control characters for a variable (`\u{1}` and the variable's index) and a
//! selection (`\u{2}` and the selector's index, then each variant as `\u{3}` (or `\u{5}` for
//! the default) key `\u{4}` pattern, ended by `\u{6}`). Message and term references are put in
//! place here.

use fluent_syntax::ast::{
    Entry, Expression, InlineExpression, Pattern, PatternElement, VariantKey,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The language every other is checked against: its messages, their variables and which of
/// them the browser needs.
const REFERENCE: &str = "en";

/// What a language file says about itself, in terms (`-name = …`).
const META: [&str; 7] = [
    "-language-name",
    "-plural-rule",
    "-ordinal-rule",
    "-group-separator",
    "-decimal-separator",
    "-accept",
    "-accept-not",
];

const ORDINAL_RULES: [&str; 2] = ["other", "english"];

const PLURAL_RULES: [&str; 6] = [
    "other",
    "one-other",
    "one-zero-one",
    "east-slavic",
    "polish",
    "arabic",
];

/// Reads the catalogs `files` (each file's path and text), checks them against each other and
/// returns the Rust they compile to, or every problem found, each naming its file and message.
pub fn compile(files: &[(PathBuf, String)]) -> Result<String, Vec<String>> {
    let mut catalogs: Vec<Catalog> = Vec::new();
    let mut errors = Vec::new();
    for (path, source) in files {
        match Catalog::parse(path, source) {
            Ok(c) => catalogs.push(c),
            Err(e) => errors.extend(e),
        }
    }
    // English first: it is the default and the reference.
    catalogs.sort_by_key(|c| (c.tag != REFERENCE, c.tag.clone()));
    if catalogs.first().map(|c| c.tag.as_str()) != Some(REFERENCE) && errors.is_empty() {
        errors.push(format!("no {REFERENCE}.ftl among the catalogs"));
    }
    if errors.is_empty() {
        errors.extend(check(&catalogs));
    }
    match errors.is_empty() {
        true => Ok(generate(&catalogs)),
        false => Err(errors),
    }
}

/// One language's file, read.
struct Catalog {
    /// The file's name without `.ftl`: a BCP 47 tag (`en`, `zh-CN`).
    tag: String,
    path: PathBuf,
    /// Its metadata terms, as text.
    meta: BTreeMap<String, String>,
    /// Messages and attributes by key (`message` or `message.attribute`), in file order.
    messages: Vec<Message>,
}

/// The scope of a group comment's section for the browser: `[browser]` every page (`""`),
/// `[browser /system]` the pages under `/system`; `None` for a section the browser does not need.
fn browser_scope(comment: &str) -> Option<String> {
    let rest = comment.strip_prefix("[browser")?;
    if !rest.starts_with([']', ' ']) {
        return None;
    }
    let (scope, _) = rest.split_once(']')?;
    Some(scope.trim().to_string())
}

struct Message {
    key: String,
    parts: Vec<Part>,
    /// The variables it uses, in the order they first appear.
    vars: Vec<String>,
    /// In a section the browser needs (`## [browser] …`): `Some("")`; one that only the pages
    /// under a path need (`## [browser /system] …`): `Some("/system")`.
    browser: Option<String>,
}

impl Message {
    /// The text in the runtime's encoding, its variables numbered as `order` lists them (the
    /// reference's order, the same in every language).
    fn encoded(&self, order: &[String]) -> String {
        let mut out = String::new();
        encode(&self.parts, order, &mut out);
        out
    }
}

/// A pattern before its variables are numbered: the parts the encoding is written from.
enum Part {
    Text(String),
    Var(String),
    Select {
        on: String,
        variants: Vec<(String, bool, Vec<Part>)>,
    },
}

impl Catalog {
    fn parse(path: &Path, source: &str) -> Result<Catalog, Vec<String>> {
        let name = path.display().to_string();
        let tag = path.file_stem().unwrap().to_string_lossy().to_string();
        let resource = match fluent_syntax::parser::parse(source) {
            Ok(r) => r,
            Err((_, errs)) => {
                return Err(errs
                    .iter()
                    .map(|e| {
                        let line = source[..e.pos.start.min(source.len())]
                            .lines()
                            .count()
                            .max(1);
                        format!("{name}:{line}: {:?}", e.kind)
                    })
                    .collect())
            }
        };
        let mut terms: BTreeMap<String, Vec<Part>> = BTreeMap::new();
        let mut raw: Vec<(String, Pattern<&str>, Option<String>)> = Vec::new();
        let mut browser: Option<String> = None;
        for entry in resource.body {
            match entry {
                Entry::GroupComment(c) => {
                    browser = c.content.first().and_then(|l| browser_scope(l.trim()))
                }
                Entry::Term(t) => {
                    let parts = parts(&t.value, &BTreeMap::new(), &BTreeMap::new())
                        .map_err(|e| vec![format!("{name}: -{}: {e}", t.id.name)])?;
                    terms.insert(format!("-{}", t.id.name), parts);
                }
                Entry::Message(m) => {
                    if let Some(v) = m.value {
                        raw.push((m.id.name.to_string(), v, browser.clone()));
                    }
                    for a in m.attributes {
                        raw.push((
                            format!("{}.{}", m.id.name, a.id.name),
                            a.value,
                            browser.clone(),
                        ));
                    }
                }
                Entry::Junk { content } => {
                    return Err(vec![format!("{name}: cannot read: {}", content.trim())])
                }
                _ => {}
            }
        }
        // Messages may refer to others: those are put in place, in any order of the file.
        let patterns: BTreeMap<String, Pattern<&str>> =
            raw.iter().map(|(k, p, _)| (k.clone(), p.clone())).collect();
        let mut messages = Vec::new();
        let mut errors = Vec::new();
        for (key, pattern, browser) in &raw {
            match parts(pattern, &terms, &patterns) {
                Ok(p) => {
                    let mut vars = Vec::new();
                    collect_vars(&p, &mut vars);
                    messages.push(Message {
                        key: key.clone(),
                        parts: p,
                        vars,
                        browser: browser.clone(),
                    });
                }
                Err(e) => errors.push(format!("{name}: {key}: {e}")),
            }
        }
        let mut meta = BTreeMap::new();
        for m in META {
            match terms.get(m) {
                Some(p) => {
                    let mut s = String::new();
                    encode(p, &[], &mut s);
                    meta.insert(m.to_string(), s);
                }
                None if m == "-accept-not" => {
                    meta.insert(m.to_string(), String::new());
                }
                None if m == "-ordinal-rule" => {
                    meta.insert(m.to_string(), "other".into());
                }
                None => errors.push(format!("{name}: the term {m} is missing")),
            }
        }
        if let Some(rule) = meta.get("-plural-rule") {
            if !PLURAL_RULES.contains(&rule.as_str()) {
                errors.push(format!(
                    "{name}: -plural-rule is {rule:?}, not one of {PLURAL_RULES:?}"
                ));
            }
        }
        if let Some(rule) = meta.get("-ordinal-rule") {
            if !ORDINAL_RULES.contains(&rule.as_str()) {
                errors.push(format!(
                    "{name}: -ordinal-rule is {rule:?}, not one of {ORDINAL_RULES:?}"
                ));
            }
        }
        if errors.is_empty() {
            Ok(Catalog {
                tag,
                path: path.to_path_buf(),
                meta,
                messages,
            })
        } else {
            Err(errors)
        }
    }

    fn get(&self, key: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.key == key)
    }
}

/// A pattern as parts, with message and term references put in place.
fn parts(
    pattern: &Pattern<&str>,
    terms: &BTreeMap<String, Vec<Part>>,
    messages: &BTreeMap<String, Pattern<&str>>,
) -> Result<Vec<Part>, String> {
    let mut out = Vec::new();
    for element in &pattern.elements {
        match element {
            PatternElement::TextElement { value } => out.push(Part::Text(value.to_string())),
            PatternElement::Placeable { expression } => {
                out.extend(expression_parts(expression, terms, messages, 0)?)
            }
        }
    }
    Ok(out)
}

fn expression_parts(
    e: &Expression<&str>,
    terms: &BTreeMap<String, Vec<Part>>,
    messages: &BTreeMap<String, Pattern<&str>>,
    depth: usize,
) -> Result<Vec<Part>, String> {
    if depth > 8 {
        return Err("references go round in a circle".into());
    }
    match e {
        Expression::Select { selector, variants } => {
            let InlineExpression::VariableReference { id } = selector else {
                return Err("a selection must be on a variable".into());
            };
            let mut vs = Vec::new();
            for v in variants {
                let key = match &v.key {
                    VariantKey::Identifier { name } => name.to_string(),
                    VariantKey::NumberLiteral { value } => value.to_string(),
                };
                vs.push((key, v.default, parts(&v.value, terms, messages)?));
            }
            Ok(vec![Part::Select {
                on: id.name.to_string(),
                variants: vs,
            }])
        }
        Expression::Inline(inline) => match inline {
            InlineExpression::StringLiteral { value } => Ok(vec![Part::Text(
                fluent_syntax::unicode::unescape_unicode_to_string(value).into_owned(),
            )]),
            InlineExpression::NumberLiteral { value } => Ok(vec![Part::Text(value.to_string())]),
            InlineExpression::VariableReference { id } => Ok(vec![Part::Var(id.name.to_string())]),
            InlineExpression::Placeable { expression } => {
                expression_parts(expression, terms, messages, depth + 1)
            }
            InlineExpression::TermReference {
                id,
                attribute: None,
                arguments: None,
            } => {
                let name = format!("-{}", id.name);
                let parts = terms.get(&name).ok_or_else(|| format!("no term {name}"))?;
                Ok(copy(parts))
            }
            InlineExpression::MessageReference { id, attribute } => {
                let key = match attribute {
                    Some(a) => format!("{}.{}", id.name, a.name),
                    None => id.name.to_string(),
                };
                let pattern = messages
                    .get(&key)
                    .ok_or_else(|| format!("no message {key}"))?;
                let mut out = Vec::new();
                for element in &pattern.elements {
                    match element {
                        PatternElement::TextElement { value } => {
                            out.push(Part::Text(value.to_string()))
                        }
                        PatternElement::Placeable { expression } => {
                            out.extend(expression_parts(expression, terms, messages, depth + 1)?)
                        }
                    }
                }
                Ok(out)
            }
            _ => Err("functions and terms with arguments are not supported".into()),
        },
    }
}

fn copy(parts: &[Part]) -> Vec<Part> {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => Part::Text(t.clone()),
            Part::Var(v) => Part::Var(v.clone()),
            Part::Select { on, variants } => Part::Select {
                on: on.clone(),
                variants: variants
                    .iter()
                    .map(|(k, d, p)| (k.clone(), *d, copy(p)))
                    .collect(),
            },
        })
        .collect()
}

fn collect_vars(parts: &[Part], vars: &mut Vec<String>) {
    for p in parts {
        match p {
            Part::Text(_) => {}
            Part::Var(v) => {
                if !vars.contains(v) {
                    vars.push(v.clone());
                }
            }
            Part::Select { on, variants } => {
                if !vars.contains(on) {
                    vars.push(on.clone());
                }
                for (_, _, p) in variants {
                    collect_vars(p, vars);
                }
            }
        }
    }
}

/// Writes `parts` in the runtime's encoding; `order` numbers the variables.
fn encode(parts: &[Part], order: &[String], out: &mut String) {
    let index = |v: &str| {
        let i = order.iter().position(|o| o == v).unwrap();
        char::from(b'0' + u8::try_from(i).expect("at most 10 variables"))
    };
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Var(v) => {
                out.push('\u{1}');
                out.push(index(v));
            }
            Part::Select { on, variants } => {
                out.push('\u{2}');
                out.push(index(on));
                for (key, default, parts) in variants {
                    out.push(if *default { '\u{5}' } else { '\u{3}' });
                    out.push_str(key);
                    out.push('\u{4}');
                    encode(parts, order, out);
                }
                out.push('\u{6}');
            }
        }
    }
}

/// Every language has every message of the reference and no other, and uses only variables the
/// reference gives.
fn check(catalogs: &[Catalog]) -> Vec<String> {
    let mut errors = Vec::new();
    let reference = &catalogs[0];
    let mut seen = BTreeSet::new();
    for m in &reference.messages {
        if !seen.insert(&m.key) {
            errors.push(format!(
                "{}: {} is defined twice",
                reference.path.display(),
                m.key
            ));
        }
        if m.vars.len() > 10 {
            errors.push(format!(
                "{}: {} has more than 10 variables",
                reference.path.display(),
                m.key
            ));
        }
    }
    let mut methods = BTreeMap::new();
    for m in &reference.messages {
        if let Some(other) = methods.insert(method(&m.key), &m.key) {
            errors.push(format!(
                "{}: {} and {other} would have the same method name",
                reference.path.display(),
                m.key
            ));
        }
    }
    for c in &catalogs[1..] {
        let file = c.path.display();
        for m in &reference.messages {
            match c.get(&m.key) {
                None => errors.push(format!("{file}: the message {} is missing", m.key)),
                Some(t) => {
                    for v in t.vars.iter().filter(|v| !m.vars.contains(v)) {
                        errors.push(format!(
                            "{file}: {} uses ${v}, which {REFERENCE}.ftl does not give it",
                            m.key
                        ));
                    }
                }
            }
        }
        for t in &c.messages {
            if reference.get(&t.key).is_none() {
                errors.push(format!(
                    "{file}: {} is not in {REFERENCE}.ftl (a typo, or a message removed there?)",
                    t.key
                ));
            }
        }
    }
    errors
}

/// `job-row.cancel` → `job_row_cancel`.
fn method(key: &str) -> String {
    key.replace(['-', '.'], "_")
}

fn variant_name(tag: &str) -> String {
    tag.split('-')
        .map(|p| {
            let mut c = p.chars();
            let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
            first.to_string() + &c.as_str().to_ascii_lowercase()
        })
        .collect()
}

fn generate(catalogs: &[Catalog]) -> String {
    let reference = &catalogs[0];
    let mut s =
        String::from("// Generated by app/build.rs from app/locales/*.ftl: edit those.\n\n");
    // The languages.
    s.push_str(
        "/// A language Headway speaks: one per file of `app/locales/`.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]\n\
         pub enum Lang {\n",
    );
    for (i, c) in catalogs.iter().enumerate() {
        if i == 0 {
            s.push_str("    #[default]\n");
        }
        writeln!(
            s,
            "    #[serde(rename = {:?})]\n    {},",
            c.tag,
            variant_name(&c.tag)
        )
        .unwrap();
    }
    s.push_str("}\n\nimpl Lang {\n    /// Every language, the default first.\n");
    writeln!(s, "    pub const ALL: [Lang; {}] = [", catalogs.len()).unwrap();
    for c in catalogs {
        writeln!(s, "        Lang::{},", variant_name(&c.tag)).unwrap();
    }
    s.push_str("    ];\n\n    /// Its BCP 47 tag, as `<html lang>` and the cookie say it.\n    pub fn tag(self) -> &'static str {\n        match self {\n");
    for c in catalogs {
        writeln!(
            s,
            "            Lang::{} => {:?},",
            variant_name(&c.tag),
            c.tag
        )
        .unwrap();
    }
    s.push_str("        }\n    }\n\n    /// What its file says about it.\n    pub(crate) fn meta(self) -> &'static Meta {\n        match self {\n");
    for c in catalogs {
        let m = &c.meta;
        writeln!(
            s,
            "            Lang::{} => &Meta {{ name: {:?}, plural: Plural::{}, ordinal: Ordinal::{}, group: {:?}, decimal: {:?}, accept: {:?}, accept_not: {:?} }},",
            variant_name(&c.tag),
            m["-language-name"],
            variant_name(&m["-plural-rule"]),
            variant_name(&m["-ordinal-rule"]),
            m["-group-separator"],
            m["-decimal-separator"],
            m["-accept"],
            m["-accept-not"],
        )
        .unwrap();
    }
    s.push_str("        }\n    }\n}\n\n");

    // The browser's messages, by their place in the page's table.
    let browser: Vec<usize> = reference
        .messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.browser.is_some())
        .map(|(i, _)| i)
        .collect();
    let scopes: Vec<&str> = reference
        .messages
        .iter()
        .filter_map(|m| m.browser.as_deref())
        .collect();
    writeln!(
        s,
        "/// The messages the browser needs, in the order of the table a page carries.\npub const BROWSER: [u16; {}] = {:?};\n",
        browser.len(),
        browser
    )
    .unwrap();
    writeln!(
        s,
        "/// The path under which each of them is needed, in the same order (\"\": every page).\n#[cfg(not(target_arch = \"wasm32\"))]\npub const BROWSER_ON: [&str; {}] = {:?};\n",
        scopes.len(),
        scopes
    )
    .unwrap();
    writeln!(
        s,
        "/// How many messages there are.\npub const COUNT: usize = {};\n",
        reference.messages.len()
    )
    .unwrap();

    // Each language's texts, on the server (the browser reads the page's table).
    for c in catalogs {
        writeln!(
            s,
            "#[cfg(not(target_arch = \"wasm32\"))]\nstatic {}: [&str; {}] = [",
            variant_name(&c.tag).to_uppercase(),
            reference.messages.len()
        )
        .unwrap();
        for m in &reference.messages {
            writeln!(s, "    {:?},", c.get(&m.key).unwrap().encoded(&m.vars)).unwrap();
        }
        s.push_str("];\n\n");
    }
    s.push_str("/// Every language's texts, by message id.\n#[cfg(not(target_arch = \"wasm32\"))]\npub(crate) fn table(lang: Lang) -> &'static [&'static str] {\n    match lang {\n");
    for c in catalogs {
        let v = variant_name(&c.tag);
        writeln!(s, "        Lang::{v} => &{},", v.to_uppercase()).unwrap();
    }
    s.push_str("    }\n}\n\n");

    // Keys, sorted, for the messages looked up by name (a built-in kind's title).
    let mut keys: Vec<(&str, usize)> = reference
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.key.as_str(), i))
        .collect();
    keys.sort();
    writeln!(s, "/// Every message's key and id, sorted by key.\n#[cfg(not(target_arch = \"wasm32\"))]\npub(crate) static KEYS: [(&str, u16); {}] = [", keys.len()).unwrap();
    for (k, i) in &keys {
        writeln!(s, "    ({k:?}, {i}),").unwrap();
    }
    s.push_str("];\n\n");
    // Each message's variables by id, in the order its arguments are passed: what a message
    // named at run time (Headway's words sent as an id and values) is rendered with.
    writeln!(s, "/// Each message's variables, by id, in the order of its arguments.\n#[cfg(not(target_arch = \"wasm32\"))]\npub(crate) static VARS: [&[&str]; {}] = [", reference.messages.len()).unwrap();
    for m in &reference.messages {
        writeln!(s, "    &{:?},", m.vars).unwrap();
    }
    s.push_str("];\n\n");

    // Headway's words the browser says itself (a job's message and error, which the stream
    // brings): the `engine-` messages of the browser's sections, sorted by key, with their
    // id, place in the page's table and variables.
    let mut said: Vec<(&str, usize, usize, &Vec<String>)> = browser
        .iter()
        .enumerate()
        .map(|(pos, &id)| (&reference.messages[id], id, pos))
        .filter(|(m, _, _)| m.key.starts_with("engine-"))
        .map(|(m, id, pos)| (m.key.as_str(), id, pos, &m.vars))
        .collect();
    said.sort();
    writeln!(s, "/// Headway's words the browser says: key, id, place in the page's table, variables; sorted by key.\n#[cfg(target_arch = \"wasm32\")]\npub(crate) static BROWSER_SAID: [(&str, u16, u16, &[&str]); {}] = [", said.len()).unwrap();
    for (k, id, pos, vars) in &said {
        writeln!(s, "    ({k:?}, {id}, {pos}, &{vars:?}),").unwrap();
    }
    s.push_str("];\n\n");

    // A method per message.
    s.push_str("impl Text {\n");
    for (id, m) in reference.messages.iter().enumerate() {
        let pos = browser
            .iter()
            .position(|b| *b == id)
            .map_or("NOT_IN_BROWSER".to_string(), |p| p.to_string());
        let text = m
            .encoded(&m.vars)
            .replace(['\u{1}', '\u{2}', '\u{3}', '\u{4}', '\u{5}', '\u{6}'], "");
        writeln!(s, "    /// `{}`: {:?}", m.key, shorten(&text)).unwrap();
        let name = method(&m.key);
        // Each method is put in place where it is called: a call is then one of `plain` or
        // `format`, the only compiled code, whatever the arguments' types (a method of its
        // own would be compiled once per combination of them).
        if m.vars.is_empty() {
            writeln!(
                s,
                "    #[inline(always)]\n    pub fn {name}(self) -> &'static str {{\n        self.plain({id}, {pos})\n    }}"
            )
            .unwrap();
        } else {
            let params: Vec<String> = m
                .vars
                .iter()
                .map(|v| format!("{}: impl Into<Arg<'a>>", method(v)))
                .collect();
            let args: Vec<String> = m
                .vars
                .iter()
                .map(|v| format!("{}.into()", method(v)))
                .collect();
            writeln!(
                s,
                "    #[inline(always)]\n    pub fn {name}<'a>(self, {}) -> String {{\n        self.format({id}, {pos}, &[{}])\n    }}",
                params.join(", "),
                args.join(", ")
            )
            .unwrap();
        }
    }
    s.push_str("}\n");
    s
}

fn shorten(text: &str) -> String {
    let t: String = text.chars().take(60).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}
