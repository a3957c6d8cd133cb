//! The commands file: TOML the operator writes, read into [`Command`]s. Everything is checked
//! when the file is read (names, types, bounds, `{param}` references in `args`, the program
//! exists and may be run), so that a mistake stops start-up, or a reload, with one line that
//! says where and what.

use super::Command;
use crate::kinds::check::{self, ParamSpec, Typing};
use indexmap::IndexMap;
use model::kinds::name_problem;
use model::{KindTexts, ParamInfo, ParamTexts, ParamType};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A problem with the commands file: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    /// 1-based, when the problem is at a place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for FileError {}

impl FileError {
    /// A problem at `span` of `text`, the file at `path`.
    pub(crate) fn at(path: &Path, text: &str, span: Range<usize>, message: String) -> FileError {
        FileError {
            path: path.to_path_buf(),
            line: Some(line_of(text, span.start)),
            message,
        }
    }
}

/// The text of the declarations file at `path`, or why it cannot be read.
pub(crate) fn read_text(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| FileError {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot be read: {e}"),
    })
}

/// `text`, the file at `path`, read as TOML into what it declares.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| FileError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().replace('\n', "; "),
    })
}

/// Why `name`, given to a `what` of a file ("command", "workflow"), is refused, if it is: its
/// form, or `taken` (a `what` of the file is named so already).
pub(crate) fn name_refused(what: &str, name: &str, taken: bool) -> Option<String> {
    match (name_problem(name), taken) {
        (Some(problem), _) => Some(format!("the {what} name {name:?} {problem}")),
        (None, true) => Some(format!("a second {what} is named {name:?}")),
        (None, false) => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    command: Vec<Spanned<CommandToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandToml {
    name: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    description: String,
    program: Spanned<String>,
    #[serde(default)]
    args: Vec<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_running: Option<Spanned<i64>>,
    /// The tags a process must offer to run it ([`model::tags`]).
    #[serde(default)]
    requires: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    pass_env: Vec<Spanned<String>>,
    progress: Option<Spanned<String>>,
    retry: Option<Spanned<RetryToml>>,
    /// Its jobs' priority unless a start says otherwise (`"high"`, or 0 to 4).
    priority: Option<Spanned<toml::Value>>,
    /// Its limits (`[[command.limit]]`, [`model::limits`]).
    #[serde(default)]
    limit: Vec<Spanned<LimitToml>>,
    #[serde(default)]
    params: IndexMap<String, Spanned<ParamToml>>,
    /// Its title and description in other languages, by language tag.
    #[serde(default)]
    i18n: IndexMap<String, Spanned<TextsToml>>,
}

/// A title and a description in one language (`[command.i18n.zh-CN]`,
/// `[command.params.NAME.i18n.zh-CN]`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextsToml {
    title: Option<String>,
    description: Option<String>,
}

/// A limit: `max` jobs running at once, or with `every`, `max` starts in any such window;
/// over the kind, or `per` user (`"owner"`) or per value of a parameter (its name).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitToml {
    max: i64,
    per: Option<String>,
    every: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryToml {
    max_attempts: u32,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    cap: Option<String>,
    #[serde(default)]
    permanent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParamToml {
    #[serde(rename = "type")]
    kind: String,
    title: Option<String>,
    #[serde(default)]
    description: String,
    required: Option<bool>,
    default: Option<toml::Value>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    max_length: Option<u64>,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    accept: Vec<String>,
    /// Its title and description in other languages, by language tag.
    #[serde(default)]
    i18n: IndexMap<String, Spanned<TextsToml>>,
}

/// How a command's progress reaches Headway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressFrom {
    /// Lines on file descriptor 3 (see [`super::protocol`]); always read.
    Fd3,
    /// Also the bars tqdm and similar tools draw on stderr.
    Tqdm,
}

/// Variables a program never gets, even when the file asks to pass them on: Headway's own and
/// its database's.
fn withheld(name: &str) -> bool {
    name.starts_with("HEADWAY_") || name == "DATABASE_URL" || name.starts_with("LEPTOS_")
}

/// Reads the commands file at `path`. Relative program paths are taken from the file's folder
/// first, then the current directory. `languages` are the tags of the languages the pages
/// speak: the only ones a command's words may be given in.
pub fn read(path: &Path, languages: &[&str]) -> Result<Vec<Command>, FileError> {
    parse(path, &read_text(path)?, languages)
}

/// Reads the commands file's `text` (from `path`, for messages and relative programs).
pub fn parse(path: &Path, text: &str, languages: &[&str]) -> Result<Vec<Command>, FileError> {
    parse_for(path, text, languages, Runs::Here)
}

/// Where a commands file's programs run, and so whether they are looked up as it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// On this machine: each program must exist here and be executable.
    Here,
    /// On a worker's machine, which found them when it read the file: here the file only
    /// describes its kinds (forms, checks, limits, tags), and its programs are kept as written.
    Elsewhere,
}

/// Reads the commands file's `text`, its programs looked up or not as `runs` says.
pub fn parse_for(
    path: &Path,
    text: &str,
    languages: &[&str],
    runs: Runs,
) -> Result<Vec<Command>, FileError> {
    let at = |span: Range<usize>, message: String| FileError::at(path, text, span, message);
    let file: FileToml = from_toml(path, text)?;
    let mut commands: Vec<Command> = Vec::new();
    for entry in file.command {
        let span = entry.span();
        let c = entry.into_inner();
        let name = c.name.get_ref().clone();
        let taken = commands.iter().any(|k| k.info.name == name);
        if let Some(refused) = name_refused("command", &name, taken) {
            return Err(at(c.name.span(), refused));
        }
        let here = |span, message: String| at(span, format!("command {name:?}: {message}"));
        let program = match runs {
            Runs::Here => {
                find_program(path, c.program.get_ref()).map_err(|m| here(c.program.span(), m))?
            }
            Runs::Elsewhere => PathBuf::from(c.program.get_ref()),
        };
        let (params, translations) =
            declared(c.i18n, c.params, languages).map_err(|(span, m)| here(span, m))?;
        let mut args = Vec::new();
        for arg in &c.args {
            let parsed = super::args::Template::parse(arg.get_ref(), &params)
                .map_err(|m| here(arg.span(), m))?;
            args.push(parsed);
        }
        let timeout = match &c.timeout {
            Some(t) => {
                Some(duration(t.get_ref()).map_err(|m| here(t.span(), format!("timeout {m}")))?)
            }
            None => None,
        };
        let max_running = match &c.max_running {
            Some(n) if *n.get_ref() < 1 => {
                return Err(here(n.span(), "max_running must be at least 1".into()))
            }
            Some(n) => Some(*n.get_ref() as usize),
            None => None,
        };
        let requires = match &c.requires {
            Some(r) => model::tags::checked(r.get_ref())
                .map_err(|m| here(r.span(), format!("requires: {m}")))?,
            None => Vec::new(),
        };
        let priority = match &c.priority {
            Some(p) => {
                let level = match p.get_ref() {
                    toml::Value::String(s) => model::Priority::parse(s),
                    toml::Value::Integer(n) => model::Priority::of_level(*n),
                    _ => None,
                };
                level.ok_or_else(|| here(p.span(), model::Priority::expected()))?
            }
            None => model::Priority::NORMAL,
        };
        for key in c.env.keys() {
            if let Some(problem) = env_name_problem(key) {
                return Err(here(span.clone(), format!("env {key:?} {problem}")));
            }
        }
        let mut pass_env = Vec::new();
        for key in &c.pass_env {
            if let Some(problem) = env_name_problem(key.get_ref()) {
                return Err(here(
                    key.span(),
                    format!("pass_env {:?} {problem}", key.get_ref()),
                ));
            }
            pass_env.push(key.get_ref().clone());
        }
        let progress = match c
            .progress
            .as_ref()
            .map(|p| (p.get_ref().as_str(), p.span()))
        {
            None | Some(("fd3", _)) => ProgressFrom::Fd3,
            Some(("tqdm", _)) => ProgressFrom::Tqdm,
            Some((other, s)) => {
                return Err(here(
                    s,
                    format!("progress must be \"fd3\" or \"tqdm\", not {other:?}"),
                ))
            }
        };
        let retry = match c.retry {
            Some(r) => {
                let rspan = r.span();
                retry(r.into_inner()).map_err(|m| here(rspan, format!("retry {m}")))?
            }
            None => crate::kinds::Retry::NEVER,
        };
        let mut limits = Vec::new();
        for l in &c.limit {
            let limit = limit(&name, l.get_ref(), &params)
                .map_err(|m| here(l.span(), format!("limit {m}")))?;
            limits.push(limit);
        }
        let title = c.title.unwrap_or_else(|| name.clone());
        commands.push(Command {
            info: model::KindInfo {
                name: name.clone(),
                title,
                description: c.description,
                params: params.iter().map(|p| p.info.clone()).collect(),
                paused: None,
                retry: retry.info(),
                priority,
                translations,
                requires: Vec::new(),
                on_workers: false,
            },
            program,
            args,
            params,
            timeout,
            max_running,
            requires,
            limits,
            env: c.env,
            pass_env,
            progress,
            retry,
        });
    }
    Ok(commands)
}

/// A `[[command.limit]]` of the command `kind`, whose parameters are `params`.
fn limit(kind: &str, l: &LimitToml, params: &[ParamSpec]) -> Result<model::limits::Limit, String> {
    use model::limits::{Limit, Per};
    let per = match l.per.as_deref() {
        None => Per::Kind,
        Some("owner") => Per::Owner,
        Some(p) if params.iter().any(|s| s.info.name == p) => Per::Param(p.to_string()),
        Some(p) => {
            return Err(format!(
                "per must be \"owner\" or one of the command's parameters, not {p:?}"
            ))
        }
    };
    let window_ms = match &l.every {
        Some(every) => Some(
            duration(every)
                .map_err(|m| format!("every {m}"))?
                .as_millis()
                .min(i64::MAX as u128) as i64,
        ),
        None => None,
    };
    let limit = Limit {
        kind: kind.to_string(),
        per,
        max: u32::try_from(l.max).unwrap_or(0),
        window_ms,
    };
    match limit.problem() {
        Some((_, words)) => Err(words.english),
        None => Ok(limit),
    }
}

/// A declared kind's parameters and its words by language.
pub(crate) type Declared = (Vec<ParamSpec>, BTreeMap<String, KindTexts>);

/// A declared kind's words in other languages (its `i18n` tables) and its parameters (its
/// `params` tables, with their own `i18n`), read and checked: a command's or a workflow's. A
/// problem comes with where it is.
pub(crate) fn declared(
    i18n: IndexMap<String, Spanned<TextsToml>>,
    params: IndexMap<String, Spanned<ParamToml>>,
    languages: &[&str],
) -> Result<Declared, (Range<usize>, String)> {
    let mut translations: BTreeMap<String, KindTexts> = BTreeMap::new();
    for (tag, t) in i18n {
        let (title, description) = texts(&tag, &t, languages).map_err(|m| (t.span(), m))?;
        let words = translations.entry(tag).or_default();
        words.title = title;
        words.description = description;
    }
    let mut specs = Vec::new();
    for (pname, p) in params {
        let pspan = p.span();
        let mut p = p.into_inner();
        for (tag, t) in std::mem::take(&mut p.i18n) {
            let (label, description) = texts(&tag, &t, languages)
                .map_err(|m| (t.span(), format!("parameter {pname:?}: {m}")))?;
            translations
                .entry(tag)
                .or_default()
                .params
                .insert(pname.clone(), ParamTexts { label, description });
        }
        let spec = param(&pname, p).map_err(|m| (pspan, format!("parameter {pname:?} {m}")))?;
        specs.push(spec);
    }
    Ok((specs, translations))
}

/// A title and a description given in the language `tag`, which must be one the pages speak;
/// neither may be empty.
fn texts(
    tag: &str,
    t: &Spanned<TextsToml>,
    languages: &[&str],
) -> Result<(Option<String>, Option<String>), String> {
    if !languages.contains(&tag) {
        return Err(format!(
            "i18n.{tag}: the pages speak {} (a language tag as its file in app/locales is named)",
            languages.join(", ")
        ));
    }
    let t = t.get_ref();
    for (what, text) in [("title", &t.title), ("description", &t.description)] {
        if text.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(format!("i18n.{tag}: the {what} is empty"));
        }
    }
    if t.title.is_none() && t.description.is_none() {
        return Err(format!(
            "i18n.{tag}: gives neither a title nor a description"
        ));
    }
    Ok((t.title.clone(), t.description.clone()))
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn env_name_problem(name: &str) -> Option<&'static str> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        Some("is not a variable name (letters, digits and _)")
    } else if withheld(name) {
        Some("is Headway's own: a program never gets it")
    } else {
        None
    }
}

/// The program at `program`: a path (relative to the file's folder, else to the current
/// directory) or a name looked up in `PATH`. It must exist and be executable.
fn find_program(file: &Path, program: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    if program.is_empty() {
        return Err("program is empty".into());
    }
    let candidates: Vec<PathBuf> = if program.contains('/') {
        let p = Path::new(program);
        if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            let beside = file.parent().unwrap_or(Path::new(".")).join(p);
            vec![beside, p.to_path_buf()]
        }
    } else {
        std::env::var_os("PATH")
            .map(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(program))
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(found) = candidates.iter().find(|c| c.exists()) else {
        return Err(format!("program {program:?} does not exist"));
    };
    let meta = std::fs::metadata(found)
        .map_err(|e| format!("program {} cannot be read: {e}", found.display()))?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "program {} is not an executable file (chmod +x?)",
            found.display()
        ));
    }
    std::fs::canonicalize(found).map_err(|e| format!("program {}: {e}", found.display()))
}

fn param(name: &str, p: ParamToml) -> Result<ParamSpec, String> {
    if name_problem(name).is_some() || name.contains('-') {
        return Err("must be named with lowercase letters, digits and _".into());
    }
    if name == "timeout_ms" {
        return Err("takes the name every job's own time limit has; give it another".into());
    }
    let kind = match p.kind.as_str() {
        "string" => ParamType::String,
        "integer" => ParamType::Integer,
        "number" => ParamType::Number,
        "boolean" => ParamType::Boolean,
        "choice" => ParamType::Choice,
        "file" => ParamType::File,
        "secret" => ParamType::Secret,
        other => {
            return Err(format!(
                "has type {other:?}; the types are string, integer, number, boolean, choice, file and secret"
            ))
        }
    };
    let numeric = matches!(kind, ParamType::Integer | ParamType::Number);
    if (p.min.is_some() || p.max.is_some()) && !numeric {
        return Err("may have min and max only as an integer or a number".into());
    }
    if let (Some(lo), Some(hi)) = (p.min, p.max) {
        if lo > hi {
            return Err(format!("has min {lo} above max {hi}"));
        }
    }
    if kind == ParamType::Integer && [p.min, p.max].iter().flatten().any(|f| f.fract() != 0.0) {
        return Err("is an integer: its min and max must be whole".into());
    }
    if (p.pattern.is_some()) && kind != ParamType::String {
        return Err("may have a pattern only as a string".into());
    }
    if p.max_length.is_some() && !matches!(kind, ParamType::String | ParamType::Secret) {
        return Err("may have max_length only as a string or a secret".into());
    }
    if kind == ParamType::Choice && p.choices.is_empty() {
        return Err("is a choice: list its choices".into());
    }
    if kind != ParamType::Choice && !p.choices.is_empty() {
        return Err("may have choices only as a choice".into());
    }
    if kind != ParamType::File && !p.accept.is_empty() {
        return Err("may have accept only as a file".into());
    }
    if matches!(kind, ParamType::Secret | ParamType::File) && p.default.is_some() {
        return Err("may not have a default as a secret or a file".into());
    }
    let info = ParamInfo {
        name: name.to_string(),
        label: p.title.unwrap_or_else(|| name.to_string()),
        description: p.description,
        kind,
        required: false,
        default: None,
        // Filled in from the exact bounds by `ParamSpec::new`.
        min: None,
        max: None,
        accept: p.accept,
        max_bytes: None,
        choices: p.choices,
        pattern: p.pattern,
        max_length: p.max_length,
    };
    let mut spec = ParamSpec::new(info, p.min, p.max)
        .map_err(|e| format!("has a pattern that is not a regular expression: {e}"))?;
    let default = match p.default {
        Some(d) => Some(
            serde_json::to_value(&d)
                .map_err(|e| format!("has a default that is not a value: {e}"))?,
        ),
        // A checkbox left unticked is false.
        None if kind == ParamType::Boolean => Some(serde_json::Value::Bool(false)),
        None => None,
    };
    if let Some(d) = &default {
        let env = crate::kinds::KindEnv::files(crate::files::Files::whole(std::env::temp_dir()));
        check::check(
            std::slice::from_ref(&spec),
            Typing::Checker,
            serde_json::json!({ name: d }),
            &env,
        )
        .into_result()
        .map_err(|e| format!("has a default that {}", e[0].message))?;
    }
    spec.info.required = p.required.unwrap_or(default.is_none());
    spec.info.default = default;
    Ok(spec)
}

fn retry(r: RetryToml) -> Result<crate::kinds::Retry, String> {
    if r.max_attempts == 0 {
        return Err("max_attempts must be at least 1".into());
    }
    let base = r
        .base
        .as_deref()
        .map(duration)
        .transpose()?
        .unwrap_or(Duration::from_secs(10));
    let cap = r
        .cap
        .as_deref()
        .map(duration)
        .transpose()?
        .unwrap_or(Duration::from_secs(600));
    // Kept for the life of the process: a policy's codes are `'static`, and a reload of the
    // commands file is rare.
    let permanent: &'static [&'static str] = Box::leak(
        r.permanent
            .into_iter()
            .map(|c| &*Box::leak(c.into_boxed_str()))
            .collect::<Vec<&'static str>>()
            .into_boxed_slice(),
    );
    Ok(crate::kinds::Retry {
        max_attempts: r.max_attempts,
        base,
        cap,
        permanent,
    })
}

/// A duration such as `30m`, `90s`, `1h30m`, `500ms` or `2d`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as 90s, 30m, 1h30m or 500ms");
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    if total.is_zero() {
        return Err(format!("{text:?} is no time at all"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[command]]
name = "archive"
title = "Archive a folder"
description = "Packs a folder of the data folder into a tar.gz."
program = "/bin/sh"
args = ["--level", "{level}", "--", "{folder}"]
timeout = "30m"
max_running = 2

[command.params.folder]
type = "string"
title = "Folder"
description = "A folder, relative to the data folder."
max_length = 200

[command.params.level]
type = "integer"
title = "Compression level"
min = 1
max = 9
default = 6
"#;

    /// The languages the pages speak, as the server passes them.
    const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

    fn parsed(text: &str) -> Result<Vec<Command>, String> {
        parse(Path::new("commands.toml"), text, &LANGUAGES).map_err(|e| e.to_string())
    }

    #[test]
    fn a_command_declares_its_limits_per_owner_or_parameter_and_bad_ones_say_their_line() {
        use model::limits::Per;
        let text = EXAMPLE.replace(
            "max_running = 2",
            "max_running = 2\n[[command.limit]]\nmax = 1\nper = \"folder\"\n\
             [[command.limit]]\nmax = 10\nper = \"owner\"\nevery = \"1m\"",
        );
        let limits = &parsed(&text).unwrap()[0].limits;
        assert_eq!(limits.len(), 2);
        assert_eq!(limits[0].per, Per::Param("folder".into()));
        assert_eq!((limits[0].max, limits[0].window_ms), (1, None));
        assert_eq!(limits[1].per, Per::Owner);
        assert_eq!(limits[1].to_string(), "10 a minute per user");
        for (bad, says) in [
            ("max = 0", "from 1 to"),
            ("max = 2\nper = \"nope\"", "per must be"),
            ("max = 2\nevery = \"1ms\"", "a rate's window"),
            ("max = 2\nevery = \"soon\"", "every"),
            ("max = 2\nmin = 1", "unknown field"),
        ] {
            let text = EXAMPLE.replace(
                "max_running = 2",
                &format!("max_running = 2\n[[command.limit]]\n{bad}"),
            );
            let err = parsed(&text).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.starts_with("commands.toml:"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_command_requires_tags_of_the_process_that_runs_it_and_bad_ones_say_their_line() {
        assert!(parsed(EXAMPLE).unwrap()[0].requires.is_empty());
        let text = EXAMPLE.replace(
            "max_running = 2",
            "max_running = 2\nrequires = [\"gpu\", \"eu\", \"gpu\"]",
        );
        assert_eq!(parsed(&text).unwrap()[0].requires, ["eu", "gpu"]);
        for (bad, says) in [
            (
                "requires = [\"GPU\"]",
                "requires: the tag \"GPU\" must be lowercase",
            ),
            ("requires = [\"\"]", "requires: a tag cannot be empty"),
            ("requires = \"gpu\"", "invalid type"),
        ] {
            let text = EXAMPLE.replace("max_running = 2", &format!("max_running = 2\n{bad}"));
            let err = parsed(&text).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.starts_with("commands.toml:"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_documented_example_reads_as_written() {
        let commands = parsed(EXAMPLE).unwrap();
        let c = &commands[0];
        assert_eq!(c.info.name, "archive");
        assert_eq!(c.info.title, "Archive a folder");
        assert_eq!(c.timeout, Some(Duration::from_secs(1800)));
        assert_eq!(c.max_running, Some(2));
        let names: Vec<&str> = c.info.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["folder", "level"], "in the file's order");
        let level = &c.info.params[1];
        assert_eq!((level.min, level.max), (Some(1), Some(9)));
        assert_eq!(level.default, Some(serde_json::json!(6)));
        assert!(!level.required);
        assert!(c.info.params[0].required);
        assert_eq!(c.info.params[0].max_length, Some(200));
    }

    #[test]
    fn a_command_kind_says_its_jobs_priority_by_name_or_level() {
        assert_eq!(
            parsed(EXAMPLE).unwrap()[0].info.priority,
            model::Priority::NORMAL
        );
        for (written, level) in [
            ("\"high\"", model::Priority::HIGH),
            ("0", model::Priority::LOWEST),
        ] {
            let text = EXAMPLE.replace(
                "max_running = 2",
                &format!("max_running = 2\npriority = {written}"),
            );
            assert_eq!(parsed(&text).unwrap()[0].info.priority, level, "{written}");
        }
        for bad in ["\"asap\"", "7", "true"] {
            let text = EXAMPLE.replace(
                "max_running = 2",
                &format!("max_running = 2\npriority = {bad}"),
            );
            let err = parsed(&text).unwrap_err();
            assert!(
                err.contains("commands.toml:10:") && err.contains("a priority is one of"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn mistakes_say_where_and_what_on_one_line() {
        let cases = [
            (
                EXAMPLE.replace("/bin/sh", "/no/such/program"),
                "commands.toml:6: command \"archive\": program \"/no/such/program\" does not exist",
            ),
            (
                EXAMPLE.replace("{folder}", "{fodler}"),
                "commands.toml:7: command \"archive\": args name {fodler}",
            ),
            (
                EXAMPLE.replace("type = \"integer\"", "type = \"int\""),
                "commands.toml:17: command \"archive\": parameter \"level\" has type \"int\"",
            ),
            (
                EXAMPLE.replace("default = 6", "default = 12"),
                "has a default that must be from 1 to 9",
            ),
            (
                EXAMPLE.replace("timeout = \"30m\"", "timeout = \"soon\""),
                "commands.toml:8: command \"archive\": timeout \"soon\" is not a duration",
            ),
            (
                EXAMPLE.replace("max_running = 2", "max_runing = 2"),
                "commands.toml:9: unknown field `max_runing`",
            ),
            (
                EXAMPLE.replace("name = \"archive\"", "name = \"Archive!\""),
                "the command name \"Archive!\"",
            ),
            (
                format!("{EXAMPLE}\n[[command]]\nname = \"archive\"\nprogram = \"/bin/sh\"\n"),
                "a second command is named \"archive\"",
            ),
            ("[[command]\n".to_string(), "commands.toml:1:"),
        ];
        for (text, expected) in cases {
            let err = parsed(&text).unwrap_err();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
    }

    #[test]
    fn a_program_must_be_executable() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("plain.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let file = dir.path().join("commands.toml");
        let text = EXAMPLE.replace("/bin/sh", "./plain.sh");
        // Found beside the commands file, but not executable.
        let err = parse(&file, &text, &LANGUAGES).unwrap_err().to_string();
        assert!(err.contains("is not an executable file"), "{err}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let commands = parse(&file, &text, &LANGUAGES).unwrap();
        assert_eq!(commands[0].program, std::fs::canonicalize(&script).unwrap());
    }

    #[test]
    fn headways_own_variables_are_never_passed_on() {
        let text = EXAMPLE.replace(
            "max_running = 2",
            "max_running = 2\npass_env = [\"DATABASE_URL\"]",
        );
        assert!(parsed(&text).unwrap_err().contains("Headway's own"));
        let text = EXAMPLE.replace(
            "max_running = 2",
            "max_running = 2\nenv = { HEADWAY_TOKEN = \"x\" }",
        );
        assert!(parsed(&text).unwrap_err().contains("Headway's own"));
    }

    /// The documented example, with its words in Chinese.
    const TRANSLATED: &str = r#"
[command.i18n.zh-CN]
title = "归档文件夹"
description = "把数据文件夹中的一个文件夹打包成 tar.gz。"

[command.params.folder.i18n.zh-CN]
title = "文件夹"
description = "数据文件夹中的相对路径。"

[command.params.level.i18n.zh-CN]
title = "压缩级别"
"#;

    #[test]
    fn a_command_gives_its_words_per_language() {
        let commands = parsed(&format!("{EXAMPLE}{TRANSLATED}")).unwrap();
        let info = &commands[0].info;
        let zh = &info.translations["zh-CN"];
        assert_eq!(zh.title.as_deref(), Some("归档文件夹"));
        assert_eq!(zh.params["level"].label.as_deref(), Some("压缩级别"));
        assert_eq!(zh.params["level"].description, None);
        assert_eq!(info.translations.len(), 1);
        // As a page in Chinese shows it; in English, as the file says it.
        let shown = info.clone().in_language("zh-CN");
        assert_eq!(shown.title, "归档文件夹");
        assert_eq!(shown.params[0].label, "文件夹");
        assert_eq!(shown.params[1].label, "压缩级别");
        assert_eq!(shown.params[1].description, info.params[1].description);
        assert_eq!(info.clone().in_language("en"), *info);
        // Nothing of it reaches what the program gets.
        assert_eq!(commands[0].params[1].info.label, "Compression level");
    }

    #[test]
    fn words_in_a_language_the_pages_do_not_speak_or_empty_say_where() {
        let cases = [
            (
                TRANSLATED.replace("i18n.zh-CN]\ntitle = \"归档", "i18n.fr]\ntitle = \"归档"),
                "commands.toml:24: command \"archive\": i18n.fr: the pages speak en, zh-CN",
            ),
            (
                TRANSLATED.replace("level.i18n.zh-CN", "level.i18n.zh_CN"),
                "commands.toml:32: command \"archive\": parameter \"level\": i18n.zh_CN: the pages speak",
            ),
            (
                TRANSLATED.replace("title = \"文件夹\"", "title = \" \""),
                "commands.toml:28: command \"archive\": parameter \"folder\": i18n.zh-CN: the title is empty",
            ),
            (
                TRANSLATED.replace("title = \"压缩级别\"", "titel = \"压缩级别\""),
                "commands.toml:33: unknown field `titel`, expected `title` or `description`",
            ),
            (
                TRANSLATED.replace("title = \"压缩级别\"", ""),
                "commands.toml:32: command \"archive\": parameter \"level\": i18n.zh-CN: gives neither",
            ),
        ];
        for (translated, expected) in cases {
            let err = parsed(&format!("{EXAMPLE}{translated}")).unwrap_err();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("30").is_err());
        assert!(duration("0s").is_err());
        assert!(duration("m").is_err());
    }
}
