//! The words for the model's values, in the reader's language: a job's status, a role. The
//! values themselves (`failed`, `admin`) stay what the API and the URLs say.

use crate::i18n::Text;
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
