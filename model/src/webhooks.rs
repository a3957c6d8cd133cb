//! Webhooks: a URL Headway POSTs to when a job ends, and each of those deliveries.
//!
//! A webhook names which ends it wants (statuses, kinds) and whose jobs (its owner's, or, an
//! admin's, everyone's). Each matching end is a [`Delivery`], stored in the same transaction as
//! the end itself and sent from there: at least once, with the same id on every attempt.

use crate::ids::{DeliveryId, JobId, WebhookId};
use crate::job::{JobError, JobStatus};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr};

/// Webhooks one user may have.
pub const MAX_WEBHOOKS_PER_USER: usize = 20;

/// Deliveries waiting to be sent to one webhook past which "send a test" is refused: a flood
/// of tests from one user cannot bury the ends of everyone's jobs.
pub const MAX_PENDING_TESTS: u64 = 10;

/// The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, over
/// `<unix seconds>.<body>` with the webhook's secret.
pub const SIGNATURE_HEADER: &str = "Headway-Signature";

/// The [Standard Webhooks](https://www.standardwebhooks.com) headers every delivery carries too:
/// the delivery's id, the time it was signed (Unix seconds) and its signature (`v1,<base64>`).
pub const STANDARD_ID_HEADER: &str = "webhook-id";
pub const STANDARD_TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const STANDARD_SIGNATURE_HEADER: &str = "webhook-signature";

/// The header carrying the delivery's id, the same on every attempt.
pub const DELIVERY_HEADER: &str = "Headway-Delivery";

/// The header naming what happened: [`EVENT_JOB_ENDED`] or [`EVENT_TEST`].
pub const EVENT_HEADER: &str = "Headway-Event";

/// A job ended.
pub const EVENT_JOB_ENDED: &str = "job.ended";

/// "Send a test" on the webhooks page.
pub const EVENT_TEST: &str = "test";

/// How a delivery's body is written.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WebhookFormat {
    /// Headway's JSON ([`JobEnded`]).
    #[default]
    Json,
    /// `{"text": …}`, which Slack's, Mattermost's and Discord's (`/slack`) incoming webhooks
    /// show as a message.
    Slack,
}

names!(WebhookFormat);

/// Whose jobs a webhook hears of.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WebhookScope {
    /// The jobs of the webhook's owner.
    #[default]
    Own,
    /// Everyone's jobs (an admin's webhook).
    All,
}

names!(WebhookScope);

/// Whose account owns a webhook, as it is now: what [`WebhookScope::heard_now`] decides from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOwner {
    /// No account: an open server's anonymous user, or the operator token's holder.
    NoAccount,
    /// An account with this role, enabled.
    Account(crate::Role),
    /// A disabled account.
    Disabled,
}

impl WebhookScope {
    /// What a webhook registered with this scope hears of now, from its owner's account as it
    /// is now (`None`: nothing). The right to hear of everyone's jobs is an admin's, checked
    /// at every end and every delivery, not only at registration: an owner no longer an admin
    /// hears of their own jobs only, and a disabled account hears of nothing.
    pub fn heard_now(self, owner: HookOwner) -> Option<WebhookScope> {
        match (self, owner) {
            (_, HookOwner::Disabled) => None,
            (WebhookScope::All, HookOwner::Account(role)) if role != crate::Role::Admin => {
                Some(WebhookScope::Own)
            }
            (scope, _) => Some(scope),
        }
    }
}

/// The longest URL a webhook may have.
pub const MAX_URL_CHARS: usize = 2048;

/// The kinds one webhook may name at most.
pub const MAX_KINDS: usize = 50;

/// What a webhook's URL looks like: `http://` or `https://`, a host, and no credentials (those
/// go in the secret). Whether the host may be reached is the server's to say when it is
/// registered: it must resolve to public addresses, unless the operator allows private ones.
pub const URL_PATTERN: &str =
    r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(:[0-9]{1,4})?([/?#]\S*)?$";

/// What a webhook's own secret looks like: 16 to 200 printable ASCII characters, no spaces.
pub const SECRET_PATTERN: &str = "^[!-~]{16,200}$";

/// What a person or a script gives to register a webhook.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where to POST: `http://` or `https://`.
    #[cfg_attr(
        feature = "schemars",
        schemars(length(max = MAX_URL_CHARS), regex(pattern = URL_PATTERN))
    )]
    pub url: String,
    /// The ends it hears of; empty for every end.
    #[serde(default)]
    #[cfg_attr(
        feature = "schemars",
        schemars(extend("items" = { "enum": ["succeeded", "failed", "cancelled", "interrupted"] }))
    )]
    pub statuses: Vec<JobStatus>,
    /// The kinds it hears of; empty for every kind.
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(length(max = MAX_KINDS)))]
    pub kinds: Vec<String>,
    /// The secret deliveries are signed with; absent for one Headway makes (shown once).
    #[serde(default)]
    #[cfg_attr(feature = "schemars", schemars(regex(pattern = SECRET_PATTERN)))]
    pub secret: Option<String>,
    #[serde(default)]
    pub format: WebhookFormat,
    #[serde(default)]
    pub scope: WebhookScope,
}

/// A change to a webhook: enable it again (after it was disabled for failing), or disable it.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub enabled: Option<bool>,
}

/// A registered webhook (its secret is never shown again after it was made).
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    /// The owner's name (an anonymous user's id on an open server).
    pub owner: String,
    pub url: String,
    pub statuses: Vec<JobStatus>,
    pub kinds: Vec<String>,
    pub format: WebhookFormat,
    pub scope: WebhookScope,
    pub enabled: bool,
    /// Why it was disabled, when Headway disabled it.
    pub disabled_reason: Option<String>,
    /// Since when its deliveries fail, if the last one did.
    pub failing_since: Option<i64>,
    pub created_at: i64,
}

/// A new webhook and its secret, shown this once.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCreated {
    pub webhook: Webhook,
    pub secret: String,
}

/// Where a delivery stands.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Display, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryState {
    /// Not answered with a 2xx yet; tried again at `next_attempt_at`.
    Pending,
    /// Answered with a 2xx.
    Delivered,
    /// Given up on, after retrying for a day (or its webhook was disabled).
    Failed,
}

names!(DeliveryState);

/// One delivery to a webhook, and its attempts so far.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// [`EVENT_JOB_ENDED`] or [`EVENT_TEST`].
    pub event: String,
    /// The job that ended (none for a test).
    pub job_id: Option<JobId>,
    pub created_at: i64,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_attempt_at: Option<i64>,
    /// The HTTP status of the last answer, if there was one.
    pub last_status: Option<u16>,
    /// Why the last attempt failed: no answer, refused address, time-out.
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
}

/// A webhook and its recent deliveries, newest first.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDetail {
    pub webhook: Webhook,
    pub deliveries: Vec<Delivery>,
}

/// The body Headway POSTs (format `json`).
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryBody {
    /// The delivery's id: the same on every attempt.
    pub id: DeliveryId,
    /// [`EVENT_JOB_ENDED`] or [`EVENT_TEST`].
    pub event: String,
    /// When the delivery was made (Unix milliseconds), not when this attempt was.
    pub created_at: i64,
    pub job: JobEnded,
}

/// The job a delivery tells of, as it ended.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEnded {
    pub id: JobId,
    pub kind: String,
    /// An external job's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub status: JobStatus,
    pub error: Option<JobError>,
    pub attempt: u32,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The job's page.
    #[serde(default)]
    pub url: String,
}

impl JobEnded {
    /// The job's name for people: its title, or its kind.
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.kind)
    }
}

impl JobEnded {
    /// The job as it ended (its page's address is added when a delivery is sent).
    pub fn of(job: &crate::job::Job) -> JobEnded {
        JobEnded {
            id: job.id.clone(),
            kind: job.kind.clone(),
            title: job.title().map(str::to_string),
            status: job.status,
            error: job.error.clone(),
            attempt: job.attempt,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            url: String::new(),
        }
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;
    use crate::Role;

    #[test]
    fn everyones_ends_are_heard_by_an_admins_webhook_only_while_the_owner_is_an_admin() {
        let all = WebhookScope::All;
        assert_eq!(all.heard_now(HookOwner::Account(Role::Admin)), Some(all));
        assert_eq!(all.heard_now(HookOwner::NoAccount), Some(all));
        for role in [Role::Operator, Role::Member, Role::Viewer] {
            assert_eq!(
                all.heard_now(HookOwner::Account(role)),
                Some(WebhookScope::Own)
            );
        }
        assert_eq!(all.heard_now(HookOwner::Disabled), None);
        assert_eq!(WebhookScope::Own.heard_now(HookOwner::Disabled), None);
        assert_eq!(
            WebhookScope::Own.heard_now(HookOwner::Account(Role::Member)),
            Some(WebhookScope::Own)
        );
    }
}

#[cfg(all(test, feature = "schemars"))]
mod tests {
    use super::*;

    #[test]
    fn the_schema_of_a_new_webhook_names_every_end_and_only_ends() {
        let schema = serde_json::Value::from(schemars::schema_for!(WebhookInput));
        let ends: Vec<&str> = JobStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            schema["properties"]["statuses"]["items"]["enum"],
            serde_json::json!(ends)
        );
    }
}
