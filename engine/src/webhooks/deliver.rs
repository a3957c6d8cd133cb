//! The deliverer: every process runs one, and the one holding the `webhooks` lease sends the
//! deliveries that are due, so that on a shared database one process delivers. It looks every
//! second, at once when a test or a resend is asked for here, and whenever an attempt ends.
//!
//! It is fair between owners: deliveries are taken in turns across the owners of the webhooks
//! (each owner's longest waiting, then each one's second...), with at most [`PER_OWNER`] in
//! flight for one owner's webhooks, [`PER_WEBHOOK`] for one webhook and [`IN_FLIGHT`] in all, and
//! each attempt ends within the policy's time limit. Attempts run side by side and each frees
//! its place as it ends: one owner's slow endpoints hold at most their own places, and another
//! owner's delivery goes out at the next look.
//!
//! A delivery is marked sent only once it was answered with a 2xx: a process killed mid-send
//! leaves it pending, and the next holder of the lease sends it again with the same id (at
//! least once). A webhook whose deliveries all failed for the retry period (or one of which was
//! refused for the whole period, with no 2xx answer since) is disabled, with a sentence saying
//! why, and its pending deliveries given up.

use super::send::{self, Answer};
use super::Webhooks;
use crate::membership::Membership;
use crate::now_ms;
use crate::store::{Attempt, DeliveryRow, Next, WebhookRow};
use model::error::Chain;
use model::{DeliveryId, UserId, WebhookId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// How often the deliverer looks without being woken.
const POLL: Duration = Duration::from_secs(1);

/// How long the `webhooks` lease lasts without renewal: much longer than the look between two
/// renewals, so that a working holder keeps it.
const LEASE_MS: i64 = 30_000;

/// How often the holder renews the lease (it looks more often).
const RENEW_MS: i64 = 1_000;

/// Deliveries read per look.
const PAGE: u32 = 500;

/// Attempts in flight at once for the webhooks of one owner.
pub const PER_OWNER: usize = 8;

/// Attempts in flight at once to one webhook.
pub const PER_WEBHOOK: usize = 4;

/// Attempts in flight at once in all.
pub const IN_FLIGHT: usize = 64;

/// How long sent and given-up deliveries are kept.
const KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// The attempts in flight: which deliveries, and how many per owner and per webhook.
#[derive(Default)]
struct Flight {
    ids: HashSet<DeliveryId>,
    per_owner: HashMap<UserId, usize>,
    per_hook: HashMap<WebhookId, usize>,
}

/// What an attempt frees when it ends.
type Place = (DeliveryId, UserId, WebhookId);

impl Flight {
    /// Whether one more attempt to `hook` fits.
    fn fits(&self, hook: &WebhookRow) -> bool {
        self.ids.len() < IN_FLIGHT
            && self.per_owner.get(&hook.owner_id).copied().unwrap_or(0) < PER_OWNER
            && self.per_hook.get(&hook.webhook.id).copied().unwrap_or(0) < PER_WEBHOOK
    }

    fn take(&mut self, hook: &WebhookRow, delivery: &DeliveryId) -> Place {
        self.ids.insert(delivery.clone());
        *self.per_owner.entry(hook.owner_id.clone()).or_default() += 1;
        *self.per_hook.entry(hook.webhook.id.clone()).or_default() += 1;
        (
            delivery.clone(),
            hook.owner_id.clone(),
            hook.webhook.id.clone(),
        )
    }

    fn free(&mut self, (delivery, owner, hook): Place) {
        self.ids.remove(&delivery);
        release(&mut self.per_owner, owner);
        release(&mut self.per_hook, hook);
    }
}

/// One place of `key` less.
fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = counts.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&key);
        }
    }
}

impl Webhooks {
    /// Sends the deliveries that are due while this process holds the `webhooks` lease, until
    /// shutdown.
    pub(crate) fn spawn_deliverer(
        &self,
        membership: Arc<Membership>,
        stopping: tokio_util::sync::CancellationToken,
    ) {
        let webhooks = self.clone();
        tokio::spawn(async move {
            let config = webhooks.0.config.clone();
            let client = send::client(config.allow_private, config.policy.timeout);
            let mut pruned_at = 0;
            let mut flight = Flight::default();
            // Attempts in flight, and the place each holds; dropped (cut off, left pending) at
            // shutdown.
            let mut attempts: JoinSet<()> = JoinSet::new();
            let mut places: HashMap<tokio::task::Id, Place> = HashMap::new();
            let mut renewed_at = i64::MIN;
            let mut holder = false;
            loop {
                if now_ms().saturating_sub(renewed_at) >= RENEW_MS {
                    let me = membership.id();
                    holder = match webhooks.0.store.try_lease("webhooks", &me, LEASE_MS).await {
                        Ok(held) => held,
                        Err(e) => {
                            tracing::warn!(error = %Chain(&e), "cannot take the webhooks' lease; trying again shortly");
                            false
                        }
                    };
                    renewed_at = now_ms();
                    if holder && now_ms() - pruned_at > 600_000 {
                        pruned_at = now_ms();
                        if let Err(e) = webhooks.0.store.prune_deliveries(pruned_at - KEPT_MS).await
                        {
                            tracing::warn!(error = %Chain(&e), "cannot prune old deliveries");
                        }
                    }
                }
                if holder {
                    webhooks
                        .start_due(&client, &mut flight, &mut attempts, &mut places)
                        .await;
                }
                tokio::select! {
                    Some(ended) = attempts.join_next_with_id(), if !attempts.is_empty() => {
                        // This one and every other attempt that has ended too (a panic
                        // included), before looking again.
                        let mut ended = Some(ended);
                        while let Some(done) = ended {
                            let id = match done {
                                Ok((id, ())) => id,
                                Err(e) => e.id(),
                            };
                            if let Some(place) = places.remove(&id) {
                                flight.free(place);
                            }
                            ended = attempts.try_join_next_with_id();
                        }
                    }
                    _ = tokio::time::sleep(POLL) => {}
                    _ = webhooks.0.waiting.notified() => {}
                    _ = stopping.cancelled() => return,
                }
            }
        });
    }

    /// Starts the attempts of the deliveries due now that fit in `flight`, owners in turns.
    async fn start_due(
        &self,
        client: &reqwest::Client,
        flight: &mut Flight,
        attempts: &mut JoinSet<()>,
        places: &mut HashMap<tokio::task::Id, Place>,
    ) {
        if flight.ids.len() >= IN_FLIGHT {
            return;
        }
        let store = &self.0.store;
        // Twice the places of an owner: its attempts in flight are still due, and listed.
        let due = match store
            .due_deliveries(now_ms(), 2 * PER_OWNER as u32, PAGE)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %Chain(&e), "cannot read the deliveries due");
                return;
            }
        };
        let mut hooks: HashMap<WebhookId, Option<WebhookRow>> = HashMap::new();
        let mut owners = super::Owners::default();
        for delivery in due {
            if flight.ids.len() >= IN_FLIGHT {
                break;
            }
            if flight.ids.contains(&delivery.delivery.id) {
                continue;
            }
            let id = delivery.delivery.webhook_id.clone();
            if !hooks.contains_key(&id) {
                let row = store.webhook(&id).await.unwrap_or_else(|e| {
                    tracing::error!(error = %Chain(&e), "cannot read a webhook");
                    None
                });
                hooks.insert(id.clone(), row);
            }
            let Some(Some(hook)) = hooks.get(&id) else {
                continue;
            };
            if !flight.fits(hook) {
                continue;
            }
            match self.still_heard(hook, &delivery, &mut owners).await {
                super::Heard::Yes => {}
                super::Heard::No(why) => {
                    self.drop_delivery(&delivery, why).await;
                    continue;
                }
                super::Heard::Later => continue,
            }
            let place = flight.take(hook, &delivery.delivery.id);
            let (webhooks, client, hook) = (self.clone(), client.clone(), hook.clone());
            let task = attempts.spawn(async move {
                let config = &webhooks.0.config;
                let answer = send::post(
                    &client,
                    &hook,
                    &delivery,
                    &config.site,
                    config.allow_private,
                )
                .await;
                webhooks.record(&hook, &delivery, answer).await;
            });
            places.insert(task.id(), place);
        }
    }

    /// Records an attempt, and disables a webhook that failed for the whole retry period.
    async fn record(&self, hook: &WebhookRow, delivery: &DeliveryRow, answer: Answer) {
        let policy = self.0.config.policy;
        let now = now_ms();
        let attempts = delivery.delivery.attempts + 1;
        let next = match answer.delivered() {
            true => Next::Delivered,
            false => policy.after_failure(delivery.retry_from, attempts, now, jitter()),
        };
        let store = &self.0.store;
        let attempt = Attempt {
            delivery: &delivery.delivery.id,
            webhook: &hook.webhook.id,
            at: now,
            status: answer.status,
            error: answer.error.as_deref(),
            next: next.clone(),
        };
        let failing_since = match store.record_attempt(&attempt).await {
            Ok(since) => since,
            Err(e) => {
                tracing::error!(error = %Chain(&e), delivery = %delivery.delivery.id, "cannot record a delivery's attempt");
                return;
            }
        };
        match &next {
            Next::Delivered => {
                tracing::debug!(delivery = %delivery.delivery.id, webhook = %hook.webhook.id, "delivered")
            }
            _ => tracing::info!(
                delivery = %delivery.delivery.id,
                webhook = %hook.webhook.id,
                attempts,
                error = answer.error.as_deref().unwrap_or(""),
                gave_up = next == Next::GiveUp,
                "a delivery failed"
            ),
        }
        // Disabled once its deliveries have all failed for the retry period, or once one was
        // given up on and nothing was answered with a 2xx since.
        let Some(since) =
            failing_since.filter(|since| next == Next::GiveUp || policy.gives_up_on(*since, now))
        else {
            return;
        };
        let reason = format!(
            "disabled by Headway: its deliveries failed for {} without a 2xx answer (last: {})",
            period(policy.retry_for),
            answer.error.as_deref().unwrap_or("no answer")
        );
        match store
            .disable_webhook(&hook.webhook.id, Some(&reason), now)
            .await
        {
            Ok(_) => {
                tracing::warn!(webhook = %hook.webhook.id, url = %hook.webhook.url, failing_since = since, "webhook disabled: it failed for the whole retry period")
            }
            Err(e) => tracing::error!(error = %Chain(&e), "cannot disable a failing webhook"),
        }
    }
}

/// A number in `[-1, 1)` that spreads retries of deliveries that failed together.
fn jitter() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u32;
    f64::from(bits) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// A retry period in words: "a day", "4 s".
fn period(d: Duration) -> String {
    match d.as_secs() {
        86_400 => "a day".into(),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s => format!("{s} s"),
    }
}
