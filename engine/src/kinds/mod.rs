//! Job kinds: the extension point. A kind is a parameter struct and a `run` function.
//!
//! The parameter struct is declared once and everything else is derived from it:
//! - `schemars` describes it for `GET /api/v1/kinds` and the start form ([`describe`]): the
//!   struct's doc comment and `#[schemars(title)]` name the kind, each field's doc comment and
//!   title describe it, serde defaults become the form's defaults, `#[schemars(range(...))]`,
//!   `length` and `regex` its bounds, lengths and patterns;
//! - the one checker of every kind's parameters ([`check`], which checks command kinds' too)
//!   checks the values against that description, with the same messages for every kind;
//! - serde reads them (`#[serde(deny_unknown_fields)]`, defaults with `#[serde(default)]`);
//! - `garde` runs the struct's own checks, those the description cannot state, with the
//!   server's [`KindEnv`] as context (a path that must exist, an upload of the field's type).
//!
//! See docs/KINDS.md for a walk-through. The [`Registry`] erases each kind's parameter type so the
//! engine can hold them side by side (a compiled-in kind as `typed::Typed`). Every registry holds
//! external jobs' kind ([`external::External`]), whose jobs are started elsewhere ([`Starts`]).

pub mod around_start;
mod batch;
pub mod check;
mod checksum;
mod demo;
pub mod describe;
mod export_jobs;
pub mod external;
mod import_csv;
mod typed;
pub use typed::refuse;
pub mod upload;
/// What kinds open files through (see [`crate::files`]).
pub use crate::files;

pub use batch::Batch;
pub use checksum::Checksum;
pub use demo::Demo;
pub use export_jobs::ExportJobs;
pub use import_csv::ImportCsv;
pub use upload::{Csv, FileSeen, FileType, UploadRef, Uploaded};

pub use crate::context::JobContext;
use futures::future::BoxFuture;
use model::{AppError, ErrorCode, FieldError, JobError, KindInfo, ParamType};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How a kind's run ended, when it did not fail.
pub type RunResult = Result<(), JobError>;

pub trait Kind: Send + Sync + 'static {
    /// The kind's parameters, declared once: see the module documentation.
    type Params: DeserializeOwned
        + Serialize
        + JsonSchema
        + garde::Validate<Context = KindEnv>
        + Send
        + 'static;

    /// What the kind is called in the API and in the database (`demo`, `batch`...).
    const NAME: &'static str;

    /// A resumable kind saves checkpoints ([`JobContext::checkpoint`]); when the server stops
    /// while it runs, it is queued again and continues from its last checkpoint instead of
    /// ending `interrupted`.
    const RESUMABLE: bool = false;

    /// How long a job of this kind may run unless its own `timeout_ms` says otherwise.
    const DEFAULT_TIMEOUT: Option<Duration> = None;

    /// How many jobs of this kind may run at once (besides the global limit).
    const MAX_RUNNING: Option<usize> = None;

    /// The tags a process (or a worker on another machine) must offer to run its jobs
    /// ([`model::tags`]): `&["gpu"]` runs only where `--tags gpu` is offered. None by default.
    const REQUIRES: &'static [&'static str] = &[];

    /// Its limits of jobs running at once or starting, over the kind or per key
    /// ([`KindLimit`], [`model::limits`]); an operator may set others at run time.
    const LIMITS: &'static [KindLimit] = &[];

    /// How a failed job of this kind is tried again (see [`Retry`]); by default it is not.
    const RETRY: Retry = Retry::NEVER;

    /// The priority of its jobs unless a start says otherwise ([`model::priority`]): members
    /// may start them at this priority or below, operators at any.
    const PRIORITY: model::Priority = model::Priority::NORMAL;

    /// Whether it opens files of the data folder ([`JobContext::files`]), to check its
    /// parameters or as it runs. Its checks then run on the blocking pool, off the server's
    /// workers, and each run is given the files its owner's role allows at that moment (a read
    /// of the owner's account). A kind that says `false` is checked on its request's own task,
    /// and its runs get its owner's folder alone without a read. A parameter of type
    /// [`ParamType::File`] (an upload) counts as opening files whatever this says.
    const OPENS_FILES: bool = true;

    /// Does the work. Returning normally means success (with the level the job set).
    fn run(params: Self::Params, ctx: &mut JobContext) -> impl Future<Output = RunResult> + Send;
}

/// A limit a kind declares on its jobs ([`model::limits`]): at most `max` running at once, or
/// with a `window`, at most `max` starts in any such window; over the whole kind or per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindLimit {
    pub max: u32,
    pub per: KindPer,
    pub window: Option<Duration>,
}

/// What a [`KindLimit`] counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindPer {
    Kind,
    Owner,
    /// A parameter of the kind, by name.
    Param(&'static str),
}

impl KindLimit {
    /// As the store applies it, for the kind `kind`.
    pub fn of(&self, kind: &str) -> model::limits::Limit {
        model::limits::Limit {
            kind: kind.to_string(),
            per: match self.per {
                KindPer::Kind => model::limits::Per::Kind,
                KindPer::Owner => model::limits::Per::Owner,
                KindPer::Param(p) => model::limits::Per::Param(p.to_string()),
            },
            max: self.max,
            window_ms: self
                .window
                .map(|w| w.as_millis().min(i64::MAX as u128) as i64),
        }
    }
}

/// A kind's retry policy: a failed attempt is tried again, up to `max_attempts` in all, unless
/// its error code is one of `permanent` (or `bad_params`, which always is), after
/// `min(cap, base × 2^(n−1))` for the `n`-th failed attempt, less a random part of up to half of
/// it (jitter: jobs that failed together do not all come back at once). A timeout and an
/// interruption (a crash, a takeover, a shutdown) of a kind that cannot resume count as failed
/// attempts; a cancel never is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    pub permanent: &'static [&'static str],
}

impl Retry {
    /// One attempt: a failure is final.
    pub const NEVER: Retry = Retry {
        max_attempts: 1,
        base: Duration::ZERO,
        cap: Duration::ZERO,
        permanent: &[],
    };

    /// Whether a failure with `code` may be tried again.
    pub fn retries(&self, code: &str) -> bool {
        code != "bad_params" && !self.permanent.contains(&code)
    }

    /// How long after its `n`-th failed attempt (1, 2, …) a job is tried again, with `jitter`
    /// (0 to 1) taking off up to half of it.
    pub fn delay(&self, n: u32, jitter: f64) -> Duration {
        let doubled = self
            .base
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1).min(31)));
        let full = doubled.min(self.cap);
        full.saturating_sub(full.mul_f64(jitter.clamp(0.0, 1.0) / 2.0))
    }

    /// As `GET /api/v1/kinds` shows it.
    pub fn info(&self) -> model::RetryInfo {
        let mut permanent: Vec<String> = self.permanent.iter().map(|c| c.to_string()).collect();
        if !permanent.iter().any(|c| c == "bad_params") {
            permanent.push("bad_params".into());
        }
        model::RetryInfo {
            max_attempts: self.max_attempts.max(1),
            base_ms: self.base.as_millis() as u64,
            cap_ms: self.cap.as_millis() as u64,
            permanent,
        }
    }
}

/// What kinds may know about the server and the caller when they validate parameters (the
/// `garde` context).
#[derive(Debug, Clone)]
pub struct KindEnv {
    /// What the caller's jobs may open: their part of the data folder (see [`files`]).
    pub files: files::Files,
    /// The uploads the parameters name that the caller may use.
    pub uploads: Uploaded,
}

impl KindEnv {
    /// What `files` lets a job open, and no uploads.
    pub fn files(files: files::Files) -> KindEnv {
        KindEnv {
            files,
            uploads: Uploaded::default(),
        }
    }
}

/// Where a kind's jobs run, and so how one starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starts {
    /// Here: a start queues the job, and a runner of a process claims and runs it. A job of it
    /// may be scheduled and re-run.
    Here,
    /// Elsewhere: a program that runs on its own reports over HTTP. A start opens the job
    /// running, with the token its program reports with; no runner claims it, and it cannot be
    /// queued, scheduled or re-run here.
    Elsewhere,
}

/// A kind with its parameter type erased: a compiled-in [`Kind`], or a command the operator
/// declared ([`crate::commands`]).
pub trait ErasedKind: Send + Sync {
    fn info(&self) -> &KindInfo;
    fn resumable(&self) -> bool;
    fn default_timeout(&self) -> Option<Duration>;
    fn max_running(&self) -> Option<usize>;
    /// Its declared limits ([`Kind::LIMITS`], or the commands file's `[[command.limit]]`).
    fn limits(&self) -> Vec<model::limits::Limit> {
        Vec::new()
    }
    fn retry(&self) -> Retry;
    /// The tags a process must offer to run its jobs ([`model::tags`]): none by default.
    fn requires(&self) -> &[String] {
        &[]
    }
    fn parse(&self, params: Value, env: &KindEnv) -> Result<Value, AppError>;
    fn run<'a>(&self, params: Value, ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult>;
    /// Whether it came from the commands file (and goes when the file is read again).
    fn is_command(&self) -> bool {
        false
    }
    /// Where its jobs run: here by default.
    fn starts(&self) -> Starts {
        Starts::Here
    }
    /// Whether its jobs are queued here and run by workers on other machines
    /// ([`crate::workers`]): no runner of a server claims them.
    fn runs_on_workers(&self) -> bool {
        false
    }
    /// Whether [`ErasedKind::parse`] may open files, and so must run on the blocking pool:
    /// by default, whether it takes an upload.
    fn opens_files(&self) -> bool {
        self.info().takes(ParamType::File)
    }
}

type Kinds = BTreeMap<String, Arc<dyn ErasedKind>>;

/// The kinds a server knows, by name: those it runs, and external jobs'. Clones share one set:
/// when the commands file is read again ([`Registry::set_commands`]), every part of the server
/// sees the new commands at once.
#[derive(Clone)]
pub struct Registry {
    kinds: Arc<RwLock<Arc<Kinds>>>,
    /// Titles of kinds in languages they do not carry themselves (a built-in kind's, from the
    /// pages' catalogs), by kind: what a search for a kind's title also finds.
    titles: Arc<RwLock<BTreeMap<String, Vec<String>>>>,
}

impl Default for Registry {
    /// External jobs' kind alone.
    fn default() -> Self {
        let external: Arc<dyn ErasedKind> = Arc::new(external::External::new());
        let kinds: Kinds = [(external.info().name.clone(), external)].into();
        Registry {
            kinds: Arc::new(RwLock::new(Arc::new(kinds))),
            titles: Default::default(),
        }
    }
}

impl Registry {
    /// Every built-in kind.
    pub fn builtin() -> Registry {
        Registry::default()
            .with::<Demo>()
            .with::<Batch>()
            .with::<Checksum>()
            .with::<ImportCsv>()
            .with::<ExportJobs>()
    }

    /// This registry and kind `K` (replacing a kind of the same name): a new set, which this
    /// registry's clones do not share.
    pub fn with<K: Kind>(self) -> Registry {
        let mut kinds = (*self.now()).clone();
        kinds.insert(K::NAME.to_string(), Arc::new(typed::Typed::<K>::new()));
        Registry {
            kinds: Arc::new(RwLock::new(Arc::new(kinds))),
            titles: Arc::clone(&self.titles),
        }
    }

    /// Says that `kind` is also called `title` (in a language of the pages): a search for
    /// the title finds its jobs.
    pub fn also_titled(&self, kind: &str, title: &str) {
        let mut titles = self.titles.write().unwrap_or_else(|e| e.into_inner());
        let known = titles.entry(kind.to_string()).or_default();
        if !known.iter().any(|t| t == title) {
            known.push(title.to_string());
        }
    }

    /// The kinds whose name or title, in any language, has `text` (without regard to case):
    /// those a search for it finds the jobs of.
    pub fn named_by(&self, text: &str) -> Vec<String> {
        let text = text.to_lowercase();
        let titles = self.titles.read().unwrap_or_else(|e| e.into_inner());
        self.now()
            .values()
            .map(|k| k.info())
            .filter(|info| {
                info.is_named_by(&text)
                    || titles
                        .get(&info.name)
                        .is_some_and(|t| t.iter().any(|t| t.to_lowercase().contains(&text)))
            })
            .map(|info| info.name.clone())
            .collect()
    }

    /// Replaces the commands with `commands`, keeping the compiled-in kinds. Refused, and
    /// nothing changed, when a command takes the name of a compiled-in kind.
    pub(crate) fn set_commands(&self, commands: Vec<Arc<dyn ErasedKind>>) -> Result<(), String> {
        let mut guard = self.kinds.write().unwrap();
        let mut kinds: Kinds = guard
            .iter()
            .filter(|(_, k)| !k.is_command())
            .map(|(n, k)| (n.clone(), Arc::clone(k)))
            .collect();
        for command in commands {
            let name = command.info().name.clone();
            if kinds.contains_key(&name) {
                return Err(format!(
                    "the command {name:?} has the name of a built-in kind; give it another"
                ));
            }
            kinds.insert(name, command);
        }
        *guard = Arc::new(kinds);
        Ok(())
    }

    /// Replaces the kinds workers on other machines run with `remote` ([`crate::workers`]),
    /// keeping every other kind. A kind of a name this server has already is left out; their
    /// names are returned.
    pub(crate) fn set_remote(&self, remote: Vec<Arc<dyn ErasedKind>>) -> Vec<String> {
        let mut guard = self.kinds.write().unwrap();
        let mut kinds: Kinds = guard
            .iter()
            .filter(|(_, k)| !k.runs_on_workers())
            .map(|(n, k)| (n.clone(), Arc::clone(k)))
            .collect();
        let mut clashes = Vec::new();
        for kind in remote {
            let name = kind.info().name.clone();
            if kinds.contains_key(&name) {
                clashes.push(name);
                continue;
            }
            kinds.insert(name, kind);
        }
        *guard = Arc::new(kinds);
        clashes
    }

    /// Whether `kind` is one this server runs itself (a compiled-in kind or a command of its
    /// own file, or external jobs').
    pub fn is_local(&self, kind: &str) -> bool {
        self.find(kind).is_some_and(|k| !k.runs_on_workers())
    }

    /// The kinds as they are now.
    fn now(&self) -> Arc<Kinds> {
        Arc::clone(&self.kinds.read().unwrap())
    }

    fn find(&self, kind: &str) -> Option<Arc<dyn ErasedKind>> {
        self.now().get(kind).cloned()
    }

    /// The kinds whose jobs start `where`.
    fn starting(&self, at: Starts) -> impl Iterator<Item = Arc<dyn ErasedKind>> {
        let now = self.now();
        let found: Vec<_> = now.values().filter(|k| k.starts() == at).cloned().collect();
        found.into_iter()
    }

    /// The names of the kinds this server runs (whose jobs a runner claims).
    pub fn names(&self) -> Vec<String> {
        self.starting(Starts::Here)
            .map(|k| k.info().name.clone())
            .collect()
    }

    /// The names of the kinds this server runs that a process offering `tags` may run: those
    /// that require no tag it lacks ([`model::tags::missing`]), and none that only workers on
    /// other machines run.
    pub fn names_for(&self, tags: &[String]) -> Vec<String> {
        self.starting(Starts::Here)
            .filter(|k| !k.runs_on_workers())
            .filter(|k| model::tags::missing(k.requires(), tags).is_empty())
            .map(|k| k.info().name.clone())
            .collect()
    }

    /// The tags a process must offer to run the jobs of `kind` (none for a kind this server
    /// does not know).
    pub fn requires(&self, kind: &str) -> Vec<String> {
        self.find(kind)
            .map(|k| k.requires().to_vec())
            .unwrap_or_default()
    }

    /// Where the jobs of `kind` run, if this server knows it.
    pub fn starts(&self, kind: &str) -> Option<Starts> {
        self.find(kind).map(|k| k.starts())
    }

    pub fn is_resumable(&self, kind: &str) -> bool {
        self.find(kind).is_some_and(|k| k.resumable())
    }

    pub fn default_timeout(&self, kind: &str) -> Option<Duration> {
        self.find(kind).and_then(|k| k.default_timeout())
    }

    pub fn max_running(&self, kind: &str) -> Option<usize> {
        self.find(kind).and_then(|k| k.max_running())
    }

    /// The limits every kind declares.
    pub fn declared_limits(&self) -> Vec<model::limits::Limit> {
        self.names()
            .iter()
            .filter_map(|k| self.find(k))
            .flat_map(|k| k.limits())
            .collect()
    }

    /// The priority of the kind's jobs unless a start says otherwise (normal for a kind this
    /// server does not know).
    pub fn priority(&self, kind: &str) -> model::Priority {
        self.find(kind)
            .map(|k| k.info().priority)
            .unwrap_or_default()
    }

    /// The kind's retry policy ([`Retry::NEVER`] for a kind this server does not run).
    pub fn retry(&self, kind: &str) -> Retry {
        self.find(kind).map_or(Retry::NEVER, |k| k.retry())
    }

    /// Whether `kind` takes a parameter of type `ty` (false for a kind this server does not
    /// run): asked at every start, without copying the kind's description.
    pub fn takes(&self, kind: &str, ty: ParamType) -> bool {
        self.find(kind).is_some_and(|k| k.info().takes(ty))
    }

    /// The names of the parameters of `kind` of type `ty` (none for a kind this server does
    /// not run).
    pub fn params_of(&self, kind: &str, ty: ParamType) -> Vec<String> {
        match self.find(kind) {
            Some(k) => k.info().params_of(ty).map(String::from).collect(),
            None => Vec::new(),
        }
    }

    /// Whether checking the parameters of `kind` may open files ([`Kind::OPENS_FILES`]).
    pub fn opens_files(&self, kind: &str) -> bool {
        self.find(kind).is_some_and(|k| k.opens_files())
    }

    /// The kinds this server runs, described: what its forms, `GET /api/v1/kinds` and its
    /// schedules offer.
    pub fn infos(&self) -> Vec<KindInfo> {
        self.starting(Starts::Here)
            .map(|k| described(&*k))
            .collect()
    }

    /// The kinds whose jobs run elsewhere and report here, described.
    pub fn elsewhere(&self) -> Vec<KindInfo> {
        self.starting(Starts::Elsewhere)
            .map(|k| k.info().clone())
            .collect()
    }

    /// Every kind a job may have: those that run here and those that run elsewhere.
    pub fn job_kinds(&self) -> Vec<String> {
        self.now().keys().cloned().collect()
    }

    /// The kind's description, if this server knows it (wherever its jobs run).
    pub fn info(&self, kind: &str) -> Option<KindInfo> {
        self.find(kind).map(|k| described(&*k))
    }

    /// Validates `params` for `kind` and returns them in normal form.
    pub fn parse(&self, kind: &str, params: Value, env: &KindEnv) -> Result<Value, AppError> {
        self.get(kind)?.parse(params, env)
    }

    /// Turns form fields (all strings) into JSON params using the kind's parameter types, then
    /// validates them like [`Registry::parse`]. A field whose text is not of its type is told
    /// so, beside what the check says of the others.
    pub fn parse_form(
        &self,
        kind: &str,
        form: &HashMap<String, String>,
        env: &KindEnv,
    ) -> Result<Value, AppError> {
        let found = self.get(kind)?;
        read_form(&found.info().params, form, |params| {
            found.parse(params, env)
        })
    }

    pub(crate) fn run<'a>(
        &self,
        kind: &str,
        params: Value,
        ctx: &'a mut JobContext,
    ) -> BoxFuture<'a, RunResult> {
        match self.find(kind) {
            // The kind is held for the run: a reload of the commands file does not end it.
            Some(k) => Box::pin(async move { k.run(params, ctx).await }),
            None => {
                let message = format!("this server has no job kind {kind:?}");
                Box::pin(async move { Err(JobError::new("unknown_kind", message)) })
            }
        }
    }

    /// The kind `kind`, to queue a job of: refused for a kind this server does not know, and
    /// for one whose jobs run elsewhere.
    fn get(&self, kind: &str) -> Result<Arc<dyn ErasedKind>, AppError> {
        let known = || self.names().join(", ");
        match self.find(kind) {
            Some(k) if k.starts() == Starts::Here => Ok(k),
            Some(_) => Err(AppError::new(
                ErrorCode::UnknownKind,
                format!(
                    "jobs of kind {kind:?} run elsewhere: their program starts them \
                     (POST /api/v1/jobs, or `headway run`), they are not queued here; \
                     kinds that run here: {}",
                    known()
                ),
            )),
            None => Err(AppError::new(
                ErrorCode::UnknownKind,
                format!("unknown job kind {kind:?}; known kinds: {}", known()),
            )),
        }
    }
}

/// A kind as `GET /api/v1/kinds` describes it: its own description, with the tags it requires
/// and where it runs.
fn described(kind: &dyn ErasedKind) -> KindInfo {
    KindInfo {
        requires: kind.requires().to_vec(),
        on_workers: kind.runs_on_workers(),
        ..kind.info().clone()
    }
}

/// Turns form fields (all strings) into the JSON values of parameters `infos` by their types,
/// then checks them with `parse`. A field whose text is not of its type is told so, beside what
/// the check says of the others, in the order of the form.
pub fn read_form(
    infos: &[model::ParamInfo],
    form: &HashMap<String, String>,
    parse: impl FnOnce(Value) -> Result<Value, AppError>,
) -> Result<Value, AppError> {
    let mut params = serde_json::Map::new();
    let mut unread = Vec::new();
    for p in infos {
        // A set's checkboxes are fields of their own (`name/choice`); a field of its name
        // holds a comma-separated list (the history's filters).
        if p.kind == ParamType::Set {
            let ticked = p.choices.iter().filter(|c| {
                form.get(&format!("{}/{c}", p.name))
                    .is_some_and(|v| matches!(v.trim(), "on" | "true" | "1"))
            });
            let listed = form
                .get(&p.name)
                .into_iter()
                .flat_map(|raw| raw.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty());
            let mut chosen: Vec<String> = Vec::new();
            for v in ticked.map(String::as_str).chain(listed) {
                if !chosen.iter().any(|c| c == v) {
                    chosen.push(v.to_string());
                }
            }
            params.insert(p.name.clone(), Value::from(chosen));
            continue;
        }
        // An empty field is none given: the check says whether one is required.
        let Some(raw) = form
            .get(&p.name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        match check::form_value(p, raw) {
            Ok(v) => {
                params.insert(p.name.clone(), v);
            }
            Err(message) => unread.push(FieldError::words(p.name.clone(), message)),
        }
    }
    match parse(Value::Object(params)) {
        Ok(normal) if unread.is_empty() => Ok(normal),
        Ok(_) => Err(AppError::invalid(unread)),
        Err(e) if e.code == ErrorCode::InvalidParams => {
            // What the check says of a field left out because its text was unread is
            // only that it is missing.
            let mut fields = unread;
            for f in e.fields {
                if !fields.iter().any(|u| u.field == f.field) {
                    fields.push(f);
                }
            }
            check::in_form_order(infos, &mut fields);
            Err(AppError::invalid(fields))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> KindEnv {
        KindEnv::files(files::Files::whole(std::env::temp_dir()))
    }

    #[test]
    fn unknown_kind_names_the_known_ones() {
        let err = Registry::builtin()
            .parse("nope", json!({}), &env())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownKind);
        assert!(
            err.message
                .contains("batch, checksum, demo, export_jobs, import_csv"),
            "{}",
            err.message
        );
    }

    /// A command kind that runs nothing, of the name and words of `.0`.
    struct ACommand(KindInfo);

    impl ErasedKind for ACommand {
        fn info(&self) -> &KindInfo {
            &self.0
        }
        fn resumable(&self) -> bool {
            false
        }
        fn default_timeout(&self) -> Option<Duration> {
            None
        }
        fn max_running(&self) -> Option<usize> {
            None
        }
        fn retry(&self) -> Retry {
            Retry::NEVER
        }
        fn parse(&self, params: Value, _env: &KindEnv) -> Result<Value, AppError> {
            Ok(params)
        }
        fn run<'a>(&self, _params: Value, _ctx: &'a mut JobContext) -> BoxFuture<'a, RunResult> {
            Box::pin(async { Ok(()) })
        }
        fn is_command(&self) -> bool {
            true
        }
    }

    /// Runs only where a GPU is offered.
    struct OnGpu;

    impl Kind for OnGpu {
        type Params = demo::DemoParams;
        const NAME: &'static str = "on_gpu";
        const REQUIRES: &'static [&'static str] = &["gpu"];

        async fn run(_: demo::DemoParams, _: &mut JobContext) -> RunResult {
            Ok(())
        }
    }

    #[test]
    fn a_compiled_in_kind_that_requires_a_tag_is_claimed_only_where_it_is_offered() {
        let kinds = Registry::builtin().with::<OnGpu>();
        assert_eq!(kinds.requires("on_gpu"), ["gpu"]);
        assert!(!kinds.names_for(&[]).contains(&"on_gpu".to_string()));
        assert!(kinds
            .names_for(&["gpu".into()])
            .contains(&"on_gpu".to_string()));
        assert!(kinds.names_for(&[]).contains(&"demo".to_string()));
        // Every built-in kind's tags are tags.
        for name in Registry::builtin().names() {
            for tag in Registry::builtin().requires(&name) {
                assert_eq!(model::tags::tag_problem(&tag), None, "{name}: {tag}");
            }
        }
    }

    #[test]
    fn external_jobs_kind_is_registered_and_runs_elsewhere() {
        let kinds = Registry::builtin();
        let external = model::EXTERNAL_KIND;
        assert_eq!(kinds.starts(external), Some(Starts::Elsewhere));
        assert_eq!(kinds.starts("demo"), Some(Starts::Here));
        assert_eq!(kinds.starts("nope"), None);
        // Known as a job's kind, with its title, but neither run nor offered here.
        assert!(kinds.job_kinds().iter().any(|k| k == external));
        assert_eq!(kinds.info(external).unwrap().title, "External");
        assert!(!kinds.names().iter().any(|k| k == external));
        assert!(!kinds.infos().iter().any(|k| k.name == external));
        assert_eq!(
            kinds
                .elsewhere()
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>(),
            [external]
        );
        // A job of it is never queued: a start, a schedule or a re-run that would is refused.
        let err = kinds
            .parse(external, json!({"title": "nightly"}), &env())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownKind);
        assert!(err.message.contains("run elsewhere"), "{}", err.message);
        // Every registry has it, and no command may take its name.
        assert_eq!(
            Registry::default().starts(external),
            Some(Starts::Elsewhere)
        );
        let named: Arc<dyn ErasedKind> =
            Arc::new(ACommand(external::External::new().info().clone()));
        assert!(kinds.set_commands(vec![named]).is_err());
        assert_eq!(kinds.starts(external), Some(Starts::Elsewhere));
    }

    #[test]
    fn form_fields_are_typed_from_the_kind_description() {
        let form: HashMap<String, String> = [
            ("steps".into(), " 12 ".into()),
            ("interval_ms".into(), "5".into()),
        ]
        .into();
        assert_eq!(
            Registry::builtin()
                .parse_form("demo", &form, &env())
                .unwrap(),
            // The field the form left out takes its default.
            json!({"steps": 12, "interval_ms": 5, "log_every": 10, "fail_attempts": 0})
        );
    }

    #[test]
    fn form_errors_are_per_field() {
        let form: HashMap<String, String> = [
            ("steps".into(), "many".into()),
            ("interval_ms".into(), "".into()),
        ]
        .into();
        let err = Registry::builtin()
            .parse_form("demo", &form, &env())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams);
        assert!(err.field("steps").unwrap().contains("whole number"));
        assert_eq!(err.field("interval_ms"), Some("is required"));
    }

    #[test]
    fn params_are_stored_in_normal_form_with_defaults_filled_in() {
        let normal = Registry::builtin()
            .parse("batch", json!({"items": 3}), &env())
            .unwrap();
        assert_eq!(
            normal,
            json!({"items": 3, "item_kib": 64, "concurrency": 4, "failure_rate": 0.0, "seed": 0})
        );
    }
}
