//! The words for the model's values, in the reader's language: a job's status, a role. The
//! values themselves (`failed`, `admin`) stay what the API and the URLs say.

use crate::i18n::Text;
use crate::model::limits::{Limit, Per};
use crate::model::{JobStatus, KindInfo, Priority, Role};

/// A status as people read it: "failed", "失败".
pub fn status_name(t: Text, status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => t.status_queued(),
        JobStatus::Running => t.status_running(),
        JobStatus::Cancelling => t.status_cancelling(),
        JobStatus::Succeeded => t.status_succeeded(),
        JobStatus::Failed => t.status_failed(),
        JobStatus::Cancelled => t.status_cancelled(),
        JobStatus::Interrupted => t.status_interrupted(),
    }
}

/// A job's status as people read it, "succeeded with warnings" for one that did
/// ([`crate::model::Job::succeeded_with_warnings`]).
pub fn outcome_name(t: Text, status: JobStatus, warned: bool) -> &'static str {
    match (status, warned) {
        (JobStatus::Succeeded, true) => t.status_succeeded_warnings(),
        _ => status_name(t, status),
    }
}

/// A priority's name in the reader's language: "high", "高".
pub fn priority_name(t: Text, priority: Priority) -> &'static str {
    match priority.level() {
        0 => t.priority_lowest(),
        1 => t.priority_low(),
        2 => t.priority_normal(),
        3 => t.priority_high(),
        _ => t.priority_urgent(),
    }
}

/// A role's name in the reader's language.
pub fn role_name(t: Text, role: Role) -> &'static str {
    match role {
        Role::Viewer => t.role_viewer(),
        Role::Member => t.role_member(),
        Role::Operator => t.role_operator(),
        Role::Admin => t.role_admin(),
    }
}

/// A limit in words, in the reader's language: "at most 1 at once per repository", "10 a
/// minute per customer_id", "每个用户同时最多 2 个".
pub fn limit_words(t: Text, limit: &Limit) -> String {
    let max = limit.max;
    let amount = match limit.window_ms {
        None => t.limit_at_once(max),
        Some(1_000) => t.limit_a_second(max),
        Some(60_000) => t.limit_a_minute(max),
        Some(3_600_000) => t.limit_an_hour(max),
        Some(86_400_000) => t.limit_a_day(max),
        Some(ms) => t.limit_per_span(max, crate::format::span(t, ms)),
    };
    match &limit.per {
        Per::Kind => amount,
        Per::Owner => t.limit_per_user(amount),
        Per::Param(p) => t.limit_per_param(amount, p.as_str()),
    }
}

/// The key a limit counts a job under, as people read it: a parameter's value ("(none)" for a
/// job without it), a user's name, or every job of the kind.
pub fn limit_key(t: Text, per: &Per, key: &str, name: Option<&str>) -> String {
    match (per, name) {
        (Per::Kind, _) => t.limit_every_job().to_string(),
        (Per::Owner, Some(name)) => name.to_string(),
        (_, _) if key.is_empty() => t.limit_no_key().to_string(),
        (_, _) => key.to_string(),
    }
}

/// A kind's title as the reader reads it: a built-in kind's from the catalogs, a command
/// kind's as its file gives it in the reader's language, else as the kind says it.
pub fn kind_title(t: Text, kind: &KindInfo) -> String {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(title) = t.lookup(&format!("kind-{}", kind.name)) {
        return title.to_string();
    }
    let texts = kind.translations.get(t.lang.tag());
    texts
        .and_then(|w| w.title.clone())
        .unwrap_or_else(|| kind.title.clone())
}

/// A kind's description, found as [`kind_title`] finds its title.
pub fn kind_description(t: Text, kind: &KindInfo) -> String {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(text) = t.lookup(&format!("kind-{}.description", kind.name)) {
        return text.to_string();
    }
    let texts = kind.translations.get(t.lang.tag());
    texts
        .and_then(|w| w.description.clone())
        .unwrap_or_else(|| kind.description.clone())
}

/// `kind` with its title, description and parameters' labels and descriptions in the reader's
/// language where the catalogs have them (the built-in kinds) or its commands file gives them
/// (a command kind): what the pages' forms show.
#[cfg(not(target_arch = "wasm32"))]
pub fn localized_kind(t: Text, kind: KindInfo) -> KindInfo {
    let mut kind = kind.in_language(t.lang.tag());
    let key = format!("kind-{}", kind.name);
    let text = |k: &str, default: &mut String| {
        if let Some(found) = t.lookup(k) {
            *default = found.to_string();
        }
    };
    text(&key, &mut kind.title);
    text(&format!("{key}.description"), &mut kind.description);
    for p in &mut kind.params {
        let pk = format!("{key}-{}", p.name);
        text(&pk, &mut p.label);
        text(&format!("{pk}.description"), &mut p.description);
    }
    kind
}
