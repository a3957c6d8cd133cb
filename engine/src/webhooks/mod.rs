//! Webhooks: Headway POSTs to a URL when a job ends.
//!
//! Who may do what, decided here for the API and the pages alike: a member (or an open server's
//! anonymous user) registers webhooks that hear of their own jobs; an admin may also register
//! ones that hear of everyone's (`scope: all`) and sees and manages every webhook; a viewer or
//! a read token registers none. Someone else's webhook is 404, as if it did not exist.
//!
//! A delivery is stored in the transaction that ends its job (`store_core::batch`), so it is
//! neither lost with a process nor sent for an end that did not commit; [`deliver`] sends it
//! from there: at least once, with the same id every time, signed ([`send`]), and only to
//! public addresses unless the operator allows others ([`address`]).

pub mod address;
mod deliver;
pub mod send;

use crate::caller::Caller;
use crate::failures::read_failed;
use crate::kinds::Registry;
use crate::store::{DeliveryRow, NewDelivery, Store, WebhookRow};
use model::webhooks::{
    Delivery, HookOwner, JobEnded, Webhook, WebhookChange, WebhookCreated, WebhookDetail,
    WebhookInput, WebhookScope, EVENT_TEST, MAX_PENDING_TESTS, MAX_WEBHOOKS_PER_USER,
};
use model::words::webhooks as words;
use model::{AppError, DeliveryId, FieldError, JobId, JobStatus, Role, WebhookId, Words};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub use send::Policy;

use model::webhooks::{MAX_KINDS, MAX_URL_CHARS};

/// Deliveries shown with a webhook.
const RECENT_DELIVERIES: u32 = 50;

/// How a process delivers: where deliveries may go, how long each may take, how long one is
/// retried, and the address of the site that job links point to.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Deliveries may go to loopback, private and link-local addresses.
    pub allow_private: bool,
    pub policy: Policy,
    /// The site's address (`https://jobs.example.com`), for links to jobs' pages.
    pub site: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_private: false,
            policy: Policy {
                retry_for: Duration::from_secs(24 * 3600),
                timeout: Duration::from_secs(10),
            },
            site: "http://127.0.0.1:3000".into(),
        }
    }
}

/// Webhooks: a service of the engine, which owns how this process delivers and the wake-up
/// of its deliverer ([`deliver`]).
#[derive(Clone)]
pub struct Webhooks(Arc<Shared>);

struct Shared {
    store: Store,
    config: WebhookConfig,
    /// A delivery was asked for here (a test, a resend): the deliverer looks at once.
    waiting: Notify,
    /// The kinds a job may have, which a webhook may name.
    kinds: Registry,
}

impl Webhooks {
    pub(crate) fn new(store: Store, config: WebhookConfig, kinds: Registry) -> Webhooks {
        Webhooks(Arc::new(Shared {
            store,
            config,
            waiting: Notify::new(),
            kinds,
        }))
    }

    /// The webhooks the caller may see: an admin's, everyone's; anyone else's, their own.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<Webhook>, AppError> {
        let rows = self
            .0
            .store
            .webhooks(owned_by(caller))
            .await
            .map_err(read_failed)?;
        Ok(rows.into_iter().map(|r| r.webhook).collect())
    }

    /// A webhook and its recent deliveries, if the caller may see it (otherwise 404).
    pub async fn get(&self, caller: &Caller, id: &WebhookId) -> Result<WebhookDetail, AppError> {
        let row = self.webhook_row(caller, id).await?;
        let deliveries = self
            .0
            .store
            .deliveries(id, RECENT_DELIVERIES)
            .await
            .map_err(read_failed)?;
        Ok(WebhookDetail {
            webhook: row.webhook,
            deliveries: self.visible_deliveries(caller, deliveries).await?,
        })
    }

    /// Registers a webhook of the caller's; its secret (given, or made here) is in the answer,
    /// and never shown again.
    pub async fn create(
        &self,
        caller: &Caller,
        input: WebhookInput,
    ) -> Result<WebhookCreated, AppError> {
        may_register(caller, input.scope)?;
        let url = self.check_input(&input).await?;
        let secret = match input.secret {
            Some(secret) => secret,
            None => new_secret(),
        };
        let mut kinds = input.kinds;
        kinds.sort();
        kinds.dedup();
        let mut statuses = input.statuses;
        statuses.sort_by_key(|s| s.as_str());
        statuses.dedup();
        let row = WebhookRow {
            webhook: Webhook {
                id: WebhookId::random(),
                owner: caller
                    .name()
                    .map_or_else(|| caller.user().to_string(), str::to_string),
                url: url.to_string(),
                statuses,
                kinds,
                format: input.format,
                scope: input.scope,
                enabled: true,
                disabled_reason: None,
                failing_since: None,
                created_at: crate::now_ms(),
            },
            owner_id: caller.user().clone(),
            secret: secret.clone(),
        };
        let stored = self
            .0
            .store
            .create_webhook(&row, MAX_WEBHOOKS_PER_USER as u32)
            .await
            .map_err(read_failed)?;
        if !stored {
            return Err(AppError::too_many(
                format!("you have {MAX_WEBHOOKS_PER_USER} webhooks already; delete one first"),
                60,
            ));
        }
        tracing::info!(webhook = %row.webhook.id, url = %row.webhook.url, "webhook registered");
        Ok(WebhookCreated {
            webhook: row.webhook,
            secret,
        })
    }

    /// Enables a webhook again (after Headway disabled it for failing), or disables it.
    pub async fn change(
        &self,
        caller: &Caller,
        id: &WebhookId,
        change: WebhookChange,
    ) -> Result<Webhook, AppError> {
        let row = self.webhook_row(caller, id).await?;
        may_manage(caller, &row)?;
        let store = &self.0.store;
        match change.enabled {
            Some(true) => store.enable_webhook(id).await,
            Some(false) => store.disable_webhook(id, None, crate::now_ms()).await,
            None => Ok(true),
        }
        .map_err(read_failed)?;
        Ok(self.webhook_row(caller, id).await?.webhook)
    }

    /// Deletes a webhook and its deliveries.
    pub async fn delete(&self, caller: &Caller, id: &WebhookId) -> Result<(), AppError> {
        let row = self.webhook_row(caller, id).await?;
        may_manage(caller, &row)?;
        self.0.store.delete_webhook(id).await.map_err(read_failed)?;
        tracing::info!(webhook = %id, "webhook deleted");
        Ok(())
    }

    /// Sends a test delivery now ("send a test"): a made-up job that succeeded. Refused with
    /// 429 while [`MAX_PENDING_TESTS`] tests wait to be sent to the webhook.
    pub async fn test(&self, caller: &Caller, id: &WebhookId) -> Result<Delivery, AppError> {
        let row = self.webhook_row(caller, id).await?;
        may_manage(caller, &row)?;
        if !row.webhook.enabled {
            return Err(AppError::words(
                model::ErrorCode::Conflict,
                words::disabled_test(),
            ));
        }
        let store = &self.0.store;
        let waiting = store
            .pending_deliveries(id, EVENT_TEST)
            .await
            .map_err(read_failed)?;
        if waiting >= MAX_PENDING_TESTS {
            return Err(AppError::words(
                model::ErrorCode::TooManyRequests,
                words::tests_waiting(waiting),
            )
            .retry_after(10));
        }
        let now = crate::now_ms();
        let delivery = NewDelivery {
            id: DeliveryId::random(),
            webhook_id: id.clone(),
            event: EVENT_TEST.into(),
            job_id: None,
            payload: serde_json::to_string(&test_job(now)).unwrap_or_default(),
            created_at: now,
        };
        store.add_delivery(&delivery).await.map_err(read_failed)?;
        self.0.waiting.notify_one();
        self.delivery(caller, id, &delivery.id).await
    }

    /// Sends a delivery again from now, whatever became of it ("resend"), with the same id.
    /// `delivery` is `None` when the request named no delivery id: the webhook is checked as
    /// for any delivery, and then there is no such delivery.
    pub async fn resend(
        &self,
        caller: &Caller,
        id: &WebhookId,
        delivery: Option<&DeliveryId>,
    ) -> Result<Delivery, AppError> {
        let row = self.webhook_row(caller, id).await?;
        may_manage(caller, &row)?;
        if !row.webhook.enabled {
            return Err(AppError::words(
                model::ErrorCode::Conflict,
                words::disabled_resend(),
            ));
        }
        let Some(delivery) = delivery else {
            return Err(AppError::not_found());
        };
        let found = self
            .0
            .store
            .resend_delivery(id, delivery, crate::now_ms())
            .await
            .map_err(read_failed)?;
        if !found {
            return Err(AppError::not_found());
        }
        self.0.waiting.notify_one();
        self.delivery(caller, id, delivery).await
    }

    async fn delivery(
        &self,
        caller: &Caller,
        id: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<Delivery, AppError> {
        self.get(caller, id)
            .await?
            .deliveries
            .into_iter()
            .find(|d| d.id == *delivery)
            .ok_or_else(AppError::not_found)
    }

    /// The webhook, if the caller may see it; 404 otherwise.
    async fn webhook_row(&self, caller: &Caller, id: &WebhookId) -> Result<WebhookRow, AppError> {
        let row = self
            .0
            .store
            .webhook(id)
            .await
            .map_err(read_failed)?
            .ok_or_else(AppError::not_found)?;
        match owned_by(caller) {
            Some(me) if row.owner_id != *me => Err(AppError::not_found()),
            _ => Ok(row),
        }
    }

    /// The URL, if the input is one a webhook may have; every field's problem otherwise.
    async fn check_input(&self, input: &WebhookInput) -> Result<url::Url, AppError> {
        let mut problems = Vec::new();
        let mut problem =
            |field: &str, message: Words| problems.push(FieldError::words(field, message));
        let url = match check_url(&input.url) {
            Ok(url) => Some(url),
            Err(why) => {
                problem("url", why);
                None
            }
        };
        if let Some(s) = input.statuses.iter().find(|s| !s.is_terminal()) {
            problem("statuses", words::not_an_end(s));
        }
        if input.kinds.len() > MAX_KINDS {
            problem("kinds", words::kinds_at_most(MAX_KINDS));
        } else {
            let known = self.0.kinds.job_kinds();
            if let Some(k) = input.kinds.iter().find(|k| !known.contains(k)) {
                problem("kinds", words::no_such_kind(k));
            }
        }
        if let Some(secret) = &input.secret {
            if !(16..=200).contains(&secret.chars().count())
                || !secret.chars().all(|c| c.is_ascii_graphic())
            {
                problem("secret", words::secret());
            }
        }
        if let Some(url) = &url {
            if let Some(why) = address::refusal(url, self.0.config.allow_private).await {
                problem("url", why);
            }
        }
        match (problems.is_empty(), url) {
            (true, Some(url)) => Ok(url),
            _ => Err(AppError::invalid(problems)),
        }
    }
}

/// The owners of the webhooks a pass of the deliverer sends to, as their accounts are now.
#[derive(Default)]
pub(crate) struct Owners(std::collections::HashMap<model::UserId, HookOwner>);

impl Webhooks {
    /// Why a delivery may no longer be sent, if it may not: the right to hear of a job's end
    /// is checked again when it is sent, from its webhook's owner's account as it is then
    /// ([`WebhookScope::heard_now`]), so that a delivery made while the owner was an admin
    /// does not go out after they are made a member, nor anything after the account is
    /// disabled.
    pub(crate) async fn still_heard(
        &self,
        hook: &WebhookRow,
        delivery: &DeliveryRow,
        owners: &mut Owners,
    ) -> Heard {
        let store = &self.0.store;
        let owner = match owners.0.get(&hook.owner_id) {
            Some(owner) => *owner,
            None => {
                let owner = match store.user_by_id(&hook.owner_id).await {
                    Ok(None) => HookOwner::NoAccount,
                    Ok(Some(user)) if user.disabled => HookOwner::Disabled,
                    Ok(Some(user)) => {
                        HookOwner::Account(Role::parse(&user.role).unwrap_or(Role::Viewer))
                    }
                    Err(e) => {
                        tracing::warn!(error = %model::error::Chain(&e), "cannot read a webhook's owner");
                        return Heard::Later;
                    }
                };
                owners.0.insert(hook.owner_id.clone(), owner);
                owner
            }
        };
        match hook.webhook.scope.heard_now(owner) {
            None => Heard::No("not sent: the webhook's owner's account is disabled"),
            Some(WebhookScope::All) => Heard::Yes,
            Some(WebhookScope::Own) => {
                let Some(job) = delivery.delivery.job_id.as_ref() else {
                    return Heard::Yes;
                };
                match store.job_owner(job).await {
                    Ok(Some(of)) if of == hook.owner_id => Heard::Yes,
                    Ok(_) => Heard::No(
                        "not sent: the job is someone else's, and the webhook's owner may no \
                         longer hear of others' jobs",
                    ),
                    Err(e) => {
                        tracing::warn!(error = %model::error::Chain(&e), "cannot read a job's owner");
                        Heard::Later
                    }
                }
            }
        }
    }

    /// Gives up on a delivery its webhook's owner may no longer have (see
    /// [`Webhooks::still_heard`]).
    pub(crate) async fn drop_delivery(&self, delivery: &DeliveryRow, why: &str) {
        match self.0.store.drop_delivery(&delivery.delivery.id, why).await {
            Ok(_) => {
                tracing::info!(delivery = %delivery.delivery.id, why, "a delivery was not sent")
            }
            Err(e) => {
                tracing::error!(error = %model::error::Chain(&e), "cannot give up on a delivery")
            }
        }
    }

    /// A webhook's recent deliveries as `caller` may see them: the id of a job they may not
    /// see is left out (a member whose webhook once heard of everyone's jobs sees that a
    /// delivery was made, not for which job).
    async fn visible_deliveries(
        &self,
        caller: &Caller,
        deliveries: Vec<DeliveryRow>,
    ) -> Result<Vec<Delivery>, AppError> {
        let mut shown = Vec::with_capacity(deliveries.len());
        let mut seen: std::collections::HashMap<model::JobId, bool> = Default::default();
        for row in deliveries {
            let mut delivery = row.delivery;
            if let (Some(me), Some(job)) = (caller.sees(), delivery.job_id.clone()) {
                let visible = match seen.get(&job) {
                    Some(v) => *v,
                    None => {
                        let owner = self.0.store.job_owner(&job).await.map_err(read_failed)?;
                        let v = owner.as_ref() == Some(me);
                        seen.insert(job, v);
                        v
                    }
                };
                if !visible {
                    delivery.job_id = None;
                }
            }
            shown.push(delivery);
        }
        Ok(shown)
    }
}

/// Whether a delivery may still be sent ([`Webhooks::still_heard`]).
pub(crate) enum Heard {
    Yes,
    /// No: given up on, for this reason.
    No(&'static str),
    /// The owner or the job could not be read: left pending, for the next pass.
    Later,
}

/// A new secret: 244 random bits.
pub fn new_secret() -> String {
    format!(
        "whsec_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The webhooks `caller` sees: an admin every one (`None`), anyone else their own.
fn owned_by(caller: &Caller) -> Option<&model::UserId> {
    (caller.role() != Role::Admin).then_some(caller.user())
}

/// The policy's [`crate::authority::Act::RegisterWebhook`].
fn may_register(caller: &Caller, scope: WebhookScope) -> Result<(), AppError> {
    caller.may(crate::authority::Act::RegisterWebhook(scope))
}

/// The policy's [`crate::authority::Act::Webhook`].
fn may_manage(caller: &Caller, row: &WebhookRow) -> Result<(), AppError> {
    caller.may(crate::authority::Act::Webhook(&row.owner_id))
}

/// The URL a webhook may have: `http://` or `https://` with a host, no user or password.
pub fn check_url(text: &str) -> Result<url::Url, Words> {
    let text = text.trim();
    if text.is_empty() {
        return Err(words::needs_url());
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(words::url_length(MAX_URL_CHARS));
    }
    let url = url::Url::parse(text).map_err(|e| words::not_a_url(text, e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(words::url_scheme());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(words::url_credentials());
    }
    Ok(url)
}

/// The id of the job a test delivery tells of: the nil UUID, which no job has.
pub(crate) fn no_job_id() -> JobId {
    JobId::parse("00000000-0000-0000-0000-000000000000").expect("the nil UUID is a job id")
}

/// What a test delivery tells of: a job that never ran.
fn test_job(now: i64) -> JobEnded {
    JobEnded {
        id: no_job_id(),
        kind: "test".into(),
        title: Some("A test delivery from Headway".into()),
        status: JobStatus::Succeeded,
        error: None,
        attempt: 1,
        created_at: now,
        started_at: Some(now),
        finished_at: Some(now),
        url: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_an_http_address_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.example.com/x?y=1").is_ok());
        assert!(check_url("").unwrap_err().english.contains("needs"));
        assert!(check_url("ftp://example.com/")
            .unwrap_err()
            .english
            .contains("http"));
        assert!(check_url("not a url")
            .unwrap_err()
            .english
            .contains("not a URL"));
        assert!(check_url("https://me:pw@example.com/")
            .unwrap_err()
            .english
            .contains("secret"));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(check_url(&long).unwrap_err().english.contains("at most"));
    }
}
