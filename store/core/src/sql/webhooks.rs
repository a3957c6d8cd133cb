//! Webhooks and their deliveries (a delivery of a job's end is made by the batch that ends the
//! job: [`crate::batch`]).

use super::{count, on_pool, read_err, SqlBackend};
use crate::webhooks::{
    stored_list, Attempt, Next, RawDelivery, RawWebhook, DELIVERY_COLUMNS, INSERT_DELIVERY,
    WEBHOOK_COLUMNS,
};
use crate::{DeliveryRow, NewDelivery, StoreResult, WebhookRow, WebhookStore};
use async_trait::async_trait;
use model::{DeliveryId, UserId, WebhookId};

#[async_trait]
impl<T: SqlBackend> WebhookStore for T {
    async fn create_webhook(&self, row: &WebhookRow, max_per_owner: u32) -> StoreResult<bool> {
        let w = &row.webhook;
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO webhooks (id, owner, owner_name, url, statuses, kinds, secret, \
                   format, scope, enabled, disabled_reason, failing_since, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11 \
                 WHERE (SELECT COUNT(*) FROM webhooks WHERE owner = $2) < $12",
            )
            .bind(w.id.as_str())
            .bind(row.owner_id.as_str())
            .bind(&w.owner)
            .bind(&w.url)
            .bind(stored_list(&w.statuses))
            .bind(stored_list(&w.kinds))
            .bind(&row.secret)
            .bind(w.format.as_str())
            .bind(w.scope.as_str())
            .bind(w.enabled)
            .bind(w.created_at)
            .bind(i64::from(max_per_owner))
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("storing a webhook"))?;
        Ok(done == 1)
    }

    async fn webhooks(&self, owner: Option<&UserId>) -> StoreResult<Vec<WebhookRow>> {
        let sql = match owner {
            Some(_) => format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE owner = $1 ORDER BY created_at, id"
            ),
            None => format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"),
        };
        let rows: Vec<RawWebhook> = on_pool!(self.pool(), p => {
            let query = sqlx::query_as(&sql);
            match owner {
                Some(owner) => query.bind(owner.as_str()),
                None => query,
            }
            .fetch_all(p)
            .await
        })
        .map_err(read_err("listing webhooks"))?;
        rows.into_iter().map(RawWebhook::into_row).collect()
    }

    async fn webhook(&self, id: &WebhookId) -> StoreResult<Option<WebhookRow>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        let row: Option<RawWebhook> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql).bind(id.as_str()).fetch_optional(p).await
        })
        .map_err(read_err("reading a webhook"))?;
        row.map(RawWebhook::into_row).transpose()
    }

    async fn delete_webhook(&self, id: &WebhookId) -> StoreResult<bool> {
        let err = read_err("deleting a webhook");
        let done = on_pool!(self.pool(), p => {
            let mut tx = p.begin().await.map_err(&err)?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            done.rows_affected()
        });
        Ok(done == 1)
    }

    async fn enable_webhook(&self, id: &WebhookId) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE webhooks SET enabled = $1, disabled_reason = NULL, failing_since = NULL \
                 WHERE id = $2",
            )
            .bind(true)
            .bind(id.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("enabling a webhook"))?;
        Ok(done == 1)
    }

    async fn disable_webhook(
        &self,
        id: &WebhookId,
        reason: Option<&str>,
        at: i64,
    ) -> StoreResult<bool> {
        let err = read_err("disabling a webhook");
        let done = on_pool!(self.pool(), p => {
            let mut tx = p.begin().await.map_err(&err)?;
            let done = sqlx::query(
                "UPDATE webhooks SET enabled = $1, disabled_reason = $2, \
                   failing_since = COALESCE(failing_since, $3) WHERE id = $4",
            )
            .bind(false)
            .bind(reason)
            .bind(reason.map(|_| at))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, \
                   last_error = COALESCE(last_error, $1) \
                 WHERE webhook_id = $2 AND state = 'pending'",
            )
            .bind("not sent: the webhook was disabled")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            done.rows_affected()
        });
        Ok(done == 1)
    }

    async fn add_delivery(&self, d: &NewDelivery) -> StoreResult<()> {
        on_pool!(self.pool(), p => {
            sqlx::query(INSERT_DELIVERY)
                .bind(d.id.as_str())
                .bind(d.webhook_id.as_str())
                .bind(&d.event)
                .bind(d.job_id.as_ref().map(|j| j.as_str()))
                .bind(&d.payload)
                .bind(d.created_at)
                .execute(p)
                .await
                .map(drop)
        })
        .map_err(read_err("storing a delivery"))
    }

    async fn pending_deliveries(&self, webhook: &WebhookId, event: &str) -> StoreResult<u64> {
        let n: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_deliveries \
                 WHERE webhook_id = $1 AND event = $2 AND state = 'pending'",
            )
            .bind(webhook.as_str())
            .bind(event)
            .fetch_one(p)
            .await
        })
        .map_err(read_err("counting deliveries"))?;
        Ok(count(n))
    }

    async fn deliveries(&self, webhook: &WebhookId, limit: u32) -> StoreResult<Vec<DeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<RawDelivery> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(webhook.as_str())
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("listing deliveries"))?;
        rows.into_iter().map(RawDelivery::into_row).collect()
    }

    async fn resend_delivery(
        &self,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: i64,
    ) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'pending', retry_from = $1, \
                   next_attempt_at = $1 WHERE id = $2 AND webhook_id = $3",
            )
            .bind(now)
            .bind(id.as_str())
            .bind(webhook.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("resending a delivery"))?;
        Ok(done == 1)
    }

    async fn due_deliveries(
        &self,
        now: i64,
        per_owner: u32,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let inner = DELIVERY_COLUMNS
            .split(", ")
            .map(|c| format!("d.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        // Each owner's due deliveries numbered by how long they have waited: the owners'
        // firsts come first, then their seconds.
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM (SELECT {inner}, ROW_NUMBER() OVER \
             (PARTITION BY w.owner ORDER BY d.next_attempt_at, d.id) AS turn \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND w.enabled = $2) due \
             WHERE turn <= $3 ORDER BY turn, next_attempt_at, id LIMIT $4"
        );
        let rows: Vec<RawDelivery> = on_pool!(self.pool(), p => {
            sqlx::query_as(&sql)
                .bind(now)
                .bind(true)
                .bind(i64::from(per_owner))
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
        })
        .map_err(read_err("reading the deliveries due"))?;
        rows.into_iter().map(RawDelivery::into_row).collect()
    }

    async fn record_attempt(&self, a: &Attempt<'_>) -> StoreResult<Option<i64>> {
        let err = read_err("recording a delivery's attempt");
        let (state, next_at) = match a.next {
            Next::Delivered => ("delivered", None),
            Next::RetryAt(at) => ("pending", Some(at)),
            Next::GiveUp => ("failed", None),
        };
        let failing: Option<(Option<i64>,)> = on_pool!(self.pool(), p => {
            let mut tx = p.begin().await.map_err(&err)?;
            sqlx::query(
                "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
                   last_attempt_at = $2, last_status = $3, last_error = $4, \
                   next_attempt_at = $5 WHERE id = $6 AND state = 'pending'",
            )
            .bind(state)
            .bind(a.at)
            .bind(a.status.map(i64::from))
            .bind(a.error)
            .bind(next_at)
            .bind(a.delivery.as_str())
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            // A delivery answered ends the webhook's failing; another failure starts it, if it
            // is not failing already.
            let failing = match a.next {
                Next::Delivered => sqlx::query_as(
                    "UPDATE webhooks SET failing_since = NULL WHERE id = $1 \
                     RETURNING failing_since",
                )
                .bind(a.webhook.as_str()),
                _ => sqlx::query_as(
                    "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) \
                     WHERE id = $1 RETURNING failing_since",
                )
                .bind(a.webhook.as_str())
                .bind(a.at),
            }
            .fetch_optional(&mut *tx)
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            failing
        });
        Ok(failing.and_then(|(since,)| since))
    }

    async fn prune_deliveries(&self, before: i64) -> StoreResult<u64> {
        on_pool!(self.pool(), p => {
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < $1",
            )
            .bind(before)
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("pruning deliveries"))
    }

    async fn drop_delivery(&self, id: &DeliveryId, why: &str) -> StoreResult<bool> {
        let done = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, \
                   last_error = $1 WHERE id = $2 AND state = 'pending'",
            )
            .bind(why)
            .bind(id.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(read_err("giving up on a delivery"))?;
        Ok(done == 1)
    }
}
