//! Webhooks and their deliveries in the store.
//!
//! A delivery is made in the batch that ends its job ([`crate::batch`] asks
//! [`crate::batch::BatchSql::end_hooks`] which webhooks hear of the end, once per batch, and
//! inserts one [`NewDelivery`] for each), so that an end is never without its deliveries and a
//! delivery never without its end. The rest ([`WebhookStore`]) is the same SQL on both
//! backends, written once in `crate::sql`.

use crate::{stored_id, stored_opt_id, StoreResult};
use model::webhooks::{Delivery, DeliveryState, HookOwner, Webhook, WebhookFormat, WebhookScope};
use model::{DeliveryId, JobId, JobStatus, UserId, WebhookId};

/// A webhook as stored: what anyone who may see it sees, its owner's id and its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRow {
    pub webhook: Webhook,
    pub owner_id: UserId,
    pub secret: String,
}

/// A delivery as stored: what the page shows, the body's JSON and when its round of attempts
/// began.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub delivery: Delivery,
    /// The job as it ended ([`model::webhooks::JobEnded`]), as JSON.
    pub payload: String,
    /// When the current round of attempts began: its creation, or its last resend.
    pub retry_from: i64,
}

/// The SQL that inserts a [`NewDelivery`] (`$1`…`$6`: its fields in order), pending from its
/// creation.
pub const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, webhook_id, event, job_id, \
     payload, created_at, retry_from, state, attempts, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6, 'pending', 0, $6)";

/// A delivery to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: String,
    pub job_id: Option<JobId>,
    pub payload: String,
    pub created_at: i64,
}

/// What a webhook hears of, as a batch matches ends against it: its scope as its owner's
/// account allows it now ([`WebhookScope::heard_now`]; `None`: nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct HookMatch {
    pub id: WebhookId,
    pub owner: UserId,
    pub scope: Option<WebhookScope>,
    pub statuses: Vec<JobStatus>,
    pub kinds: Vec<String>,
}

impl HookMatch {
    /// The SQL that reads the enabled webhooks' [`HookMatch::stored`] columns, with their
    /// owner's account as it is now (`owner_state`: `disabled`, its role, or NULL for an owner
    /// without an account).
    pub const SELECT: &'static str = "SELECT w.id AS id, w.owner AS owner, w.scope AS scope, \
         w.statuses AS statuses, w.kinds AS kinds, \
         CASE WHEN u.id IS NULL THEN NULL WHEN u.disabled THEN 'disabled' ELSE u.role END \
         AS owner_state \
         FROM webhooks w LEFT JOIN users u ON u.id = w.owner WHERE w.enabled = $1";

    /// From the columns [`HookMatch::SELECT`] reads; `None` (logged) for a row whose ids do
    /// not parse: a webhook that cannot be named hears of nothing, and the ends it would have
    /// heard of are written all the same.
    pub fn stored(
        id: String,
        owner: String,
        scope: &str,
        statuses: &str,
        kinds: &str,
        owner_state: Option<&str>,
    ) -> Option<Self> {
        let (id, owner) = match (WebhookId::try_from(id), UserId::try_from(owner)) {
            (Ok(id), Ok(owner)) => (id, owner),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "a stored webhook's ids are malformed; it hears of nothing");
                return None;
            }
        };
        Some(HookMatch {
            id,
            owner,
            scope: WebhookScope::parse(scope)
                .unwrap_or_default()
                .heard_now(hook_owner(owner_state)),
            statuses: serde_json::from_str(statuses).unwrap_or_default(),
            kinds: serde_json::from_str(kinds).unwrap_or_default(),
        })
    }

    /// Whether it hears of `owner`'s job of `kind` ending `status`.
    pub fn hears(&self, owner: &UserId, kind: &str, status: JobStatus) -> bool {
        let whose = match self.scope {
            None => false,
            Some(WebhookScope::All) => true,
            Some(WebhookScope::Own) => self.owner == *owner,
        };
        whose
            && (self.statuses.is_empty() || self.statuses.contains(&status))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
    }
}

/// A webhook's owner from [`HookMatch::SELECT`]'s `owner_state`.
pub fn hook_owner(owner_state: Option<&str>) -> HookOwner {
    match owner_state {
        None => HookOwner::NoAccount,
        Some("disabled") => HookOwner::Disabled,
        Some(role) => HookOwner::Account(model::Role::parse(role).unwrap_or(model::Role::Viewer)),
    }
}

/// How an attempt went, and what comes next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Answered with a 2xx: done.
    Delivered,
    /// Refused or unanswered: tried again at this time.
    RetryAt(i64),
    /// Refused or unanswered, and retried long enough: given up on.
    GiveUp,
}

/// One attempt of a delivery, for [`WebhookStore::record_attempt`].
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt<'a> {
    pub delivery: &'a DeliveryId,
    pub webhook: &'a WebhookId,
    pub at: i64,
    pub status: Option<u16>,
    pub error: Option<&'a str>,
    pub next: Next,
}

/// Webhooks and deliveries (their making at a job's end is the batch's).
#[async_trait::async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Stores a new webhook, unless its owner has `max_per_owner` already: `false`.
    async fn create_webhook(
        &self,
        row: &WebhookRow,
        max_per_owner: u32,
    ) -> crate::StoreResult<bool>;

    /// The webhooks of `owner` (`None`: everyone's), oldest first.
    async fn webhooks(&self, owner: Option<&UserId>) -> crate::StoreResult<Vec<WebhookRow>>;

    async fn webhook(&self, id: &WebhookId) -> crate::StoreResult<Option<WebhookRow>>;

    /// Deletes a webhook and its deliveries; whether it existed.
    async fn delete_webhook(&self, id: &WebhookId) -> crate::StoreResult<bool>;

    /// Enables a webhook again, forgetting why it was disabled and since when it failed.
    async fn enable_webhook(&self, id: &WebhookId) -> crate::StoreResult<bool>;

    /// Disables a webhook (`reason`: why Headway did) and gives up on its pending deliveries.
    async fn disable_webhook(
        &self,
        id: &WebhookId,
        reason: Option<&str>,
        at: i64,
    ) -> crate::StoreResult<bool>;

    /// Stores a delivery to send now (a test).
    async fn add_delivery(&self, delivery: &NewDelivery) -> crate::StoreResult<()>;

    /// How many deliveries of `event` wait to be sent to a webhook.
    async fn pending_deliveries(&self, webhook: &WebhookId, event: &str)
        -> crate::StoreResult<u64>;

    /// A webhook's newest `limit` deliveries, newest first.
    async fn deliveries(
        &self,
        webhook: &WebhookId,
        limit: u32,
    ) -> crate::StoreResult<Vec<DeliveryRow>>;

    /// Sends a delivery of a webhook again from now, whatever became of it; whether it exists.
    async fn resend_delivery(
        &self,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: i64,
    ) -> crate::StoreResult<bool>;

    /// Up to `limit` pending deliveries of enabled webhooks due at `now`, at most `per_owner`
    /// of each owner's webhooks, taken in turns: each owner's longest waiting first, then each
    /// owner's second, and so on (so that one owner's backlog never hides another's).
    async fn due_deliveries(
        &self,
        now: i64,
        per_owner: u32,
        limit: u32,
    ) -> crate::StoreResult<Vec<DeliveryRow>>;

    /// Records an attempt on the delivery and on its webhook (which fails since this attempt,
    /// or no longer); returns since when the webhook fails, if it does.
    async fn record_attempt(&self, attempt: &Attempt<'_>) -> crate::StoreResult<Option<i64>>;

    /// Deletes the deliveries done with (delivered or given up on) made before `before`.
    async fn prune_deliveries(&self, before: i64) -> crate::StoreResult<u64>;

    /// Gives up on a pending delivery without an attempt (`why` is shown as its error), and
    /// without counting against its webhook; whether it was pending.
    async fn drop_delivery(&self, id: &DeliveryId, why: &str) -> crate::StoreResult<bool>;
}

/// The columns of a [`RawWebhook`].
pub const WEBHOOK_COLUMNS: &str = "id, owner, owner_name, url, statuses, kinds, secret, format, \
     scope, enabled, disabled_reason, failing_since, created_at";

/// The columns of a [`RawDelivery`].
pub const DELIVERY_COLUMNS: &str = "id, webhook_id, event, job_id, payload, created_at, \
     retry_from, state, attempts, last_attempt_at, last_status, last_error, next_attempt_at";

/// A `webhooks` row as read.
#[derive(Debug, sqlx::FromRow)]
pub struct RawWebhook {
    pub id: String,
    pub owner: String,
    pub owner_name: String,
    pub url: String,
    pub statuses: String,
    pub kinds: String,
    pub secret: String,
    pub format: String,
    pub scope: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
}

impl RawWebhook {
    pub fn into_row(self) -> StoreResult<WebhookRow> {
        Ok(WebhookRow {
            webhook: Webhook {
                id: stored_id(self.id)?,
                owner: self.owner_name,
                url: self.url,
                statuses: serde_json::from_str(&self.statuses).unwrap_or_default(),
                kinds: serde_json::from_str(&self.kinds).unwrap_or_default(),
                format: WebhookFormat::parse(&self.format).unwrap_or_default(),
                scope: WebhookScope::parse(&self.scope).unwrap_or_default(),
                enabled: self.enabled,
                disabled_reason: self.disabled_reason,
                failing_since: self.failing_since,
                created_at: self.created_at,
            },
            owner_id: stored_id(self.owner)?,
            secret: self.secret,
        })
    }
}

/// A `webhook_deliveries` row as read.
#[derive(Debug, sqlx::FromRow)]
pub struct RawDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub job_id: Option<String>,
    pub payload: String,
    pub created_at: i64,
    pub retry_from: i64,
    pub state: String,
    pub attempts: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
}

impl RawDelivery {
    pub fn into_row(self) -> StoreResult<DeliveryRow> {
        Ok(DeliveryRow {
            delivery: Delivery {
                id: stored_id(self.id)?,
                webhook_id: stored_id(self.webhook_id)?,
                event: self.event,
                job_id: stored_opt_id(self.job_id)?,
                created_at: self.created_at,
                state: DeliveryState::parse(&self.state).unwrap_or(DeliveryState::Pending),
                attempts: self.attempts.max(0) as u32,
                last_attempt_at: self.last_attempt_at,
                last_status: self.last_status.and_then(|s| u16::try_from(s).ok()),
                last_error: self.last_error,
                next_attempt_at: self.next_attempt_at,
            },
            payload: self.payload,
            retry_from: self.retry_from,
        })
    }
}

/// The webhook's lists as stored: JSON arrays.
pub fn stored_list<T: serde::Serialize>(list: &[T]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOK: &str = "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93";

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn hook(scope: WebhookScope, statuses: Vec<JobStatus>, kinds: Vec<&str>) -> HookMatch {
        HookMatch {
            id: WebhookId::parse(HOOK).unwrap(),
            owner: user("ann"),
            scope: Some(scope),
            statuses,
            kinds: kinds.into_iter().map(String::from).collect(),
        }
    }

    #[test]
    fn a_webhook_hears_of_its_owners_ends_of_its_statuses_and_kinds() {
        let any = hook(WebhookScope::Own, vec![], vec![]);
        assert!(any.hears(&user("ann"), "demo", JobStatus::Failed));
        assert!(!any.hears(&user("bob"), "demo", JobStatus::Failed));
        let all = hook(WebhookScope::All, vec![JobStatus::Failed], vec!["demo"]);
        assert!(all.hears(&user("bob"), "demo", JobStatus::Failed));
        assert!(!all.hears(&user("bob"), "demo", JobStatus::Succeeded));
        assert!(!all.hears(&user("bob"), "checksum", JobStatus::Failed));
    }

    #[test]
    fn a_webhook_hears_as_its_owners_account_is_now() {
        let stored =
            |state| HookMatch::stored(HOOK.into(), "ann".into(), "all", "[]", "[]", state).unwrap();
        assert!(stored(None).hears(&user("bob"), "demo", JobStatus::Failed));
        assert!(stored(Some("admin")).hears(&user("bob"), "demo", JobStatus::Failed));
        let demoted = stored(Some("member"));
        assert!(!demoted.hears(&user("bob"), "demo", JobStatus::Failed));
        assert!(demoted.hears(&user("ann"), "demo", JobStatus::Failed));
        let disabled = stored(Some("disabled"));
        assert!(!disabled.hears(&user("ann"), "demo", JobStatus::Failed));
    }

    #[test]
    fn a_webhook_whose_ids_are_malformed_hears_of_nothing() {
        assert!(HookMatch::stored("w".into(), "ann".into(), "all", "[]", "[]", None).is_none());
        assert!(HookMatch::stored(HOOK.into(), "".into(), "all", "[]", "[]", None).is_none());
    }
}
