//! The deliverer: every process runs one, and the one holding the `webhooks` lease sends the
//! deliveries that are due, so that on a shared database one process delivers. It looks every
//! second (at once when a test or a resend is asked for here), takes the longest-waiting due
//! deliveries, a few per webhook so that one slow endpoint cannot hold up the others, and sends
//! them side by side, each within the policy's time limit.
//!
//! A delivery is marked sent only once it was answered with a 2xx: a process killed mid-send
//! leaves it pending, and the next holder of the lease sends it again with the same id (at
//! least once). A webhook whose deliveries all failed for the retry period (or one of which was
//! refused for the whole period, with no 2xx answer since) is disabled, with a sentence saying
//! why, and its pending deliveries given up.

use super::send::{self, Answer};
use crate::engine::Engine;
use crate::now_ms;
use crate::store::{Attempt, DeliveryRow, Next, WebhookRow};
use futures::StreamExt;
use model::error::Chain;
use model::WebhookId;
use std::collections::HashMap;
use std::time::Duration;

/// How often the deliverer looks without being woken.
const POLL: Duration = Duration::from_secs(1);

/// How long the `webhooks` lease lasts without renewal: longer than a pass (whose attempts end
/// within the policy's time limit), so that a working holder keeps it.
const LEASE_MS: i64 = 30_000;

/// Deliveries read per pass.
const PAGE: u32 = 200;

/// Deliveries to one webhook per pass.
const PER_WEBHOOK: usize = 4;

/// Attempts in flight at once.
const IN_FLIGHT: usize = 16;

/// How long sent and given-up deliveries are kept.
const KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

impl Engine {
    /// Sends the deliveries that are due while this process holds the `webhooks` lease, until
    /// shutdown.
    pub(crate) fn spawn_deliverer(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            let stopping = engine.stopping();
            let config = engine.inner.webhooks.clone();
            let client = send::client(config.allow_private, config.policy.timeout);
            let mut pruned_at = 0;
            loop {
                let me = engine.process_id();
                let sent = match engine
                    .inner
                    .store
                    .try_lease("webhooks", &me, LEASE_MS)
                    .await
                {
                    Ok(true) => {
                        if now_ms() - pruned_at > 600_000 {
                            pruned_at = now_ms();
                            if let Err(e) = engine
                                .inner
                                .store
                                .prune_deliveries(pruned_at - KEPT_MS)
                                .await
                            {
                                tracing::warn!(error = %Chain(&e), "cannot prune old deliveries");
                            }
                        }
                        tokio::select! {
                            n = engine.deliver_due(&client) => n,
                            _ = stopping.cancelled() => return,
                        }
                    }
                    Ok(false) => 0,
                    Err(e) => {
                        tracing::warn!(error = %Chain(&e), "cannot take the webhooks' lease; trying again shortly");
                        0
                    }
                };
                if sent == 0 {
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {}
                        _ = engine.inner.deliveries_waiting.notified() => {}
                        _ = stopping.cancelled() => return,
                    }
                }
            }
        });
    }

    /// Sends the deliveries due now (a few per webhook); how many it tried.
    async fn deliver_due(&self, client: &reqwest::Client) -> usize {
        let store = &self.inner.store;
        let due = match store.due_deliveries(now_ms(), PAGE).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %Chain(&e), "cannot read the deliveries due");
                return 0;
            }
        };
        let mut per_hook: HashMap<WebhookId, usize> = HashMap::new();
        let mut hooks: HashMap<WebhookId, Option<WebhookRow>> = HashMap::new();
        let mut owners = super::Owners::default();
        let mut batch = Vec::new();
        for delivery in due {
            let id = delivery.delivery.webhook_id.clone();
            let taken = per_hook.entry(id.clone()).or_default();
            if *taken >= PER_WEBHOOK {
                continue;
            }
            *taken += 1;
            if !hooks.contains_key(&id) {
                let row = store.webhook(&id).await.unwrap_or_else(|e| {
                    tracing::error!(error = %Chain(&e), "cannot read a webhook");
                    None
                });
                hooks.insert(id.clone(), row);
            }
            if let Some(Some(hook)) = hooks.get(&id) {
                match self.still_heard(hook, &delivery, &mut owners).await {
                    super::Heard::Yes => batch.push((hook.clone(), delivery)),
                    super::Heard::No(why) => self.drop_delivery(&delivery, why).await,
                    super::Heard::Later => {}
                }
            }
        }
        let tried = batch.len();
        futures::stream::iter(batch)
            .for_each_concurrent(IN_FLIGHT, |(hook, delivery)| async move {
                let config = &self.inner.webhooks;
                let answer =
                    send::post(client, &hook, &delivery, &config.site, config.allow_private).await;
                self.record(&hook, &delivery, answer).await;
            })
            .await;
        tried
    }

    /// Records an attempt, and disables a webhook that failed for the whole retry period.
    async fn record(&self, hook: &WebhookRow, delivery: &DeliveryRow, answer: Answer) {
        let policy = self.inner.webhooks.policy;
        let now = now_ms();
        let attempts = delivery.delivery.attempts + 1;
        let next = match answer.delivered() {
            true => Next::Delivered,
            false => policy.after_failure(delivery.retry_from, attempts, now, jitter()),
        };
        let store = &self.inner.store;
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
