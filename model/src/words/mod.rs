//! The words Headway writes for a person, one function per message of Headway's catalogs
//! (`app/locales/*.ftl`, the `engine-` messages): each says its message's id, its values and
//! the same words in English ([`Words`]). The English goes to the JSON API and the logs; a page
//! puts the id and the values into its reader's language. The app's catalog test renders every
//! function's English from the English catalog, so that the two never drift apart.

use crate::Words;
use std::fmt::Display;

pub mod authority;
pub mod files;
pub mod jobs;
pub mod kinds;
pub mod webhooks;
pub mod when;

/// A parameter given no value that needs one.
pub fn required() -> Words {
    Words::new("engine-required", "is required")
}

/// A set of choices given none.
pub fn choose_one() -> Words {
    Words::new("engine-choose-one", "choose at least one")
}

pub fn from_to(lo: impl Display, hi: impl Display) -> Words {
    Words::new("engine-from-to", format!("must be from {lo} to {hi}"))
        .with("lo", lo)
        .with("hi", hi)
}

pub fn at_least(lo: impl Display) -> Words {
    Words::new("engine-at-least", format!("must be at least {lo}")).with("lo", lo)
}

pub fn at_most(hi: impl Display) -> Words {
    Words::new("engine-at-most", format!("must be at most {hi}")).with("hi", hi)
}

pub fn whole_number() -> Words {
    Words::new("engine-whole-number", "must be a whole number")
}

pub fn whole_number_from_to(lo: impl Display, hi: impl Display) -> Words {
    Words::new(
        "engine-whole-number-from-to",
        format!("must be a whole number from {lo} to {hi}"),
    )
    .with("lo", lo)
    .with("hi", hi)
}

pub fn number() -> Words {
    Words::new("engine-number", "must be a number")
}

pub fn true_or_false() -> Words {
    Words::new("engine-true-or-false", "must be true or false")
}

pub fn string() -> Words {
    Words::new("engine-string", "must be a string")
}

pub fn no_nul() -> Words {
    Words::new("engine-no-nul", "may not contain a NUL character")
}

pub fn max_length(max: u64, n: u64) -> Words {
    Words::new(
        "engine-max-length",
        format!("may have at most {max} characters, not {n}"),
    )
    .with("max", max)
    .with("n", n)
}

pub fn one_of(choices: &[String]) -> Words {
    let choices = choices.join(", ");
    Words::new("engine-one-of", format!("must be one of: {choices}")).with("choices", choices)
}

pub fn list_of(choices: &[String]) -> Words {
    let choices = choices.join(", ");
    Words::new("engine-list-of", format!("must be a list of: {choices}")).with("choices", choices)
}

pub fn not_one_of(value: &str, choices: &[String]) -> Words {
    let choices = choices.join(", ");
    Words::new(
        "engine-not-one-of",
        format!("\"{value}\" is not one of: {choices}"),
    )
    .with("value", value)
    .with("choices", choices)
}

pub fn pattern(pattern: &str) -> Words {
    Words::new(
        "engine-pattern",
        format!("must match the pattern {pattern}"),
    )
    .with("pattern", pattern)
}

pub fn file_type(accept: &[String]) -> Words {
    let types = accept.join(", ");
    Words::new(
        "engine-file-type",
        format!("must be a file of type {types}"),
    )
    .with("types", types)
}

pub fn upload_id() -> Words {
    Words::new(
        "engine-upload-id",
        "must be an upload's id (POST /api/v1/uploads)",
    )
}

/// A file parameter naming no upload or output the caller may use.
pub fn no_upload(id: &str) -> Words {
    Words::new(
        "engine-no-upload",
        format!("there is no upload or output \"{id}\" you may use; upload the file again"),
    )
    .with("id", id)
}

/// A name a command's parameters do not have; `names` are those it has (`none`).
pub fn not_a_parameter(names: &str) -> Words {
    Words::new(
        "engine-not-a-parameter",
        format!("is not a parameter of this command (its parameters: {names})"),
    )
    .with("names", names)
}

pub fn json_object(value: impl Display) -> Words {
    Words::new(
        "engine-json-object",
        format!("must be a JSON object, not {value}"),
    )
    .with("value", value)
}

/// More attempts than `kind` allows (`n`, more than 1).
pub fn attempts_at_most(n: u32, kind: &str) -> Words {
    Words::new(
        "engine-attempts-at-most",
        format!("must be from 1 to {n}: {kind} allows at most {n} attempts"),
    )
    .with("n", n)
    .with("kind", kind)
}

/// Attempts asked of a kind that never tries again.
pub fn attempts_none(kind: &str) -> Words {
    Words::new(
        "engine-attempts-none",
        format!("{kind} jobs are not tried again: max_attempts can only be 1"),
    )
    .with("kind", kind)
}

/// A job named in `after` beyond the most a job may wait for.
pub fn after_too_many(max: usize) -> Words {
    Words::new(
        "engine-after-too-many",
        format!("a job may start after at most {max} jobs"),
    )
    .with("max", max)
}

/// A job named in `after` that the caller has not (or may not see).
pub fn after_unknown(id: impl Display) -> Words {
    Words::new(
        "engine-after-unknown",
        format!("there is no job {id} of yours"),
    )
    .with("id", id)
}

/// A job named in `after` that ended in a way the wait can never be met.
pub fn after_never(id: impl Display, status: impl Display) -> Words {
    Words::new(
        "engine-after-never",
        format!("job {id} ended {status}: a job to run after it succeeded would never start"),
    )
    .with("id", id)
    .with("status", status)
}

/// A priority asked of a job that is no longer queued.
pub fn priority_not_queued(status: impl Display) -> Words {
    Words::new(
        "engine-priority-not-queued",
        format!("only a queued job's priority can change: this one is {status}"),
    )
    .with("status", status)
}

/// A priority above its kind's asked by someone who may not raise one.
pub fn priority_above(
    role: impl Display,
    kind: &str,
    default: impl Display,
    asked: impl Display,
) -> Words {
    Words::new(
        "engine-priority-above",
        format!(
            "a {role} may start {kind} jobs at priority {default} or below, not {asked}: only \
             an operator or an admin may raise a job above its kind's priority"
        ),
    )
    .with("role", role)
    .with("kind", kind)
    .with("default", default)
    .with("asked", asked)
}

/// A limit's `max` out of its range.
pub fn limit_max(max: impl Display) -> Words {
    Words::new(
        "engine-limit-max",
        format!("a limit allows from 1 to 1000000 jobs, not {max}"),
    )
    .with("max", max)
}

/// A rate's window out of its range.
pub fn limit_window(ms: impl Display) -> Words {
    Words::new(
        "engine-limit-window",
        format!("a rate's window is from 1 second to a day (1000 to 86400000 ms), not {ms}"),
    )
    .with("ms", ms)
}

/// A limit keyed by something that is not a parameter's name (`name` as given, quoted).
pub fn limit_param_name(name: impl Display) -> Words {
    Words::new(
        "engine-limit-param-name",
        format!(
            "a limit is keyed by a parameter's name (letters, digits and _, at most 64), not {name}"
        ),
    )
    .with("name", name)
}

/// A limit of a kind this server does not run (`kind` quoted).
pub fn limit_no_kind(kind: impl Display) -> Words {
    Words::new(
        "engine-limit-no-kind",
        format!("there is no kind named {kind} (see GET /api/v1/kinds)"),
    )
    .with("kind", kind)
}

/// A limit of a kind whose jobs run elsewhere (`kind` quoted).
pub fn limit_elsewhere(kind: impl Display) -> Words {
    Words::new(
        "engine-limit-elsewhere",
        format!("jobs of {kind} run elsewhere: no limit applies to them"),
    )
    .with("kind", kind)
}

/// A limit keyed by a parameter its kind does not have (`param` quoted).
pub fn limit_no_param(kind: &str, param: impl Display, names: &str) -> Words {
    Words::new(
        "engine-limit-no-param",
        format!("{kind} has no parameter {param}; its parameters are: {names}"),
    )
    .with("kind", kind)
    .with("param", param)
    .with("names", names)
}

/// A limit past the most that may be set.
pub fn limit_too_many(n: usize) -> Words {
    Words::new(
        "engine-limit-too-many",
        format!("{n} limits are set already, the most there may be: remove one first"),
    )
    .with("n", n)
}

/// A job that is not there, or not the caller's to see.
pub fn no_such_job() -> Words {
    Words::new("engine-no-such-job", "no such job")
}

/// A schedule's name past its length.
pub fn name_length(n: usize) -> Words {
    Words::new(
        "engine-name-length",
        format!("a name has at most {n} characters"),
    )
    .with("n", n)
}

/// A schedule's name with control characters or several lines.
pub fn name_plain() -> Words {
    Words::new(
        "engine-name-plain",
        "a name is one line of plain text, without control characters",
    )
}

/// A start's attempts that are not a whole number.
pub fn attempts_whole() -> Words {
    Words::new(
        "engine-attempts-whole",
        "must be a whole number of attempts, 1 for no retry",
    )
}

/// An upload of nothing.
pub fn file_empty() -> Words {
    Words::new("engine-file-empty", "the file is empty")
}

/// What a person is told of a failure the server logged.
pub fn internal() -> Words {
    Words::new(
        "engine-internal",
        "something went wrong on the server; it has been logged",
    )
}

/// A request that got no answer from the server.
pub fn unreachable() -> Words {
    Words::new(
        "engine-unreachable",
        "the server could not be reached; check the connection and try again",
    )
}

/// A priority that is none of the levels.
pub fn priority_levels() -> Words {
    Words::new("engine-priority-levels", crate::Priority::expected())
}

/// Every function here with sample values: what the app's catalog test renders.
pub fn samples() -> Vec<Words> {
    let choices = ["csv".to_string(), "jsonl".to_string()];
    vec![
        required(),
        choose_one(),
        from_to(1, 100),
        at_least(0.5),
        at_most(9),
        whole_number(),
        whole_number_from_to(1, 10),
        number(),
        true_or_false(),
        string(),
        no_nul(),
        max_length(10, 12),
        one_of(&choices),
        list_of(&choices),
        not_one_of("xml", &choices),
        pattern("[a-z]+"),
        file_type(&[".csv".to_string(), "text/csv".to_string()]),
        upload_id(),
        no_upload("u-1"),
        not_a_parameter("name, size"),
        json_object(7),
        attempts_at_most(3, "demo"),
        attempts_none("export_jobs"),
        after_too_many(20),
        after_unknown("0193a7f2"),
        after_never("0193a7f2", "failed"),
        priority_not_queued("running"),
        priority_above("member", "demo", "normal", "urgent"),
        limit_max(0),
        limit_window(10),
        limit_param_name("\"a b\""),
        limit_no_kind("\"nope\""),
        limit_elsewhere("\"external\""),
        limit_no_param("demo", "\"x\"", "steps"),
        limit_too_many(100),
        no_such_job(),
        name_length(200),
        name_plain(),
        attempts_whole(),
        file_empty(),
        internal(),
        priority_levels(),
        unreachable(),
    ]
    .into_iter()
    .chain(authority::samples())
    .chain(files::samples())
    .chain(jobs::samples())
    .chain(kinds::samples())
    .chain(webhooks::samples())
    .chain(when::samples())
    .collect()
}
