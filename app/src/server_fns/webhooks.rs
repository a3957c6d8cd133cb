//! The webhooks' server functions: `/webhooks` (the list and the form to add one) and
//! `/webhooks/{id}` (its recent deliveries). Every form is a plain post: without JavaScript the
//! browser comes back to the page it was on (a new webhook goes to its own page), which shows
//! what the post did.

// A form's fields are the functions' arguments, as the browser posts them.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use super::{answered, caller, page_status};
use crate::error::AppError;
use crate::model::webhooks::{Webhook, WebhookDetail};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What `/webhooks` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhooksData {
    pub webhooks: Vec<Webhook>,
    /// The kinds a webhook may name.
    pub kinds: Vec<String>,
    /// Whether the caller may register webhooks (not a viewer, not a read token).
    pub manage: bool,
    /// Whether the caller may register webhooks that hear of everyone's jobs, and sees every
    /// webhook.
    pub admin: bool,
    /// A secret for the form: the new webhook's unless the person types another.
    pub secret: String,
}

#[server(endpoint = "webhooks", output = model::codec::Json)]
pub async fn load_webhooks() -> Result<WebhooksData, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let kinds = engine.jobs().job_kinds();
            Ok(WebhooksData {
                webhooks: engine.webhooks().list(&caller).await?,
                kinds,
                manage: caller.may_start().is_ok(),
                admin: caller.is_admin(),
                secret: engine::webhooks::new_secret(),
            })
        }
        .await,
    )
}

#[server(endpoint = "webhook", output = model::codec::Json)]
pub async fn load_webhook(id: String) -> Result<WebhookDetail, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            match engine::requested::webhook_id(&id) {
                Ok(id) => engine.webhooks().get(&caller, &id).await,
                Err(e) => Err(e),
            }
            .inspect_err(|_| page_status(404))
        }
        .await,
    )
}

/// Registers a webhook from the form: one checkbox per end (none ticked: every end), kinds
/// separated by commas (none: every kind). Goes on to the webhook's page.
#[server(endpoint = "create_webhook", output = model::codec::Json)]
pub async fn create_webhook(
    url: String,
    #[server(default)] kinds: String,
    #[server(default)] secret: String,
    #[server(default)] format: String,
    #[server(default)] scope: String,
    #[server(default)] succeeded: Option<String>,
    #[server(default)] failed: Option<String>,
    #[server(default)] cancelled: Option<String>,
    #[server(default)] interrupted: Option<String>,
) -> Result<Webhook, AppError> {
    use crate::model::JobStatus;
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let statuses = [
                (succeeded, JobStatus::Succeeded),
                (failed, JobStatus::Failed),
                (cancelled, JobStatus::Cancelled),
                (interrupted, JobStatus::Interrupted),
            ]
            .into_iter()
            .filter_map(|(ticked, status)| ticked.map(|_| status))
            .collect();
            let input = crate::model::webhooks::WebhookInput {
                url,
                statuses,
                kinds: kinds
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(String::from)
                    .collect(),
                secret: Some(secret.trim().to_string()).filter(|s| !s.is_empty()),
                format: choice(&format, "format")?,
                scope: choice(&scope, "scope")?,
            };
            let created = engine.webhooks().create(&caller, input).await?;
            leptos_axum::redirect(&format!("/webhooks/{}", created.webhook.id));
            Ok(created.webhook)
        }
        .await,
    )
}

/// Enables (`enabled=true`) or disables a webhook.
#[server(endpoint = "set_webhook_enabled", output = model::codec::Json)]
pub async fn set_webhook_enabled(id: String, enabled: bool) -> Result<Webhook, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let change = crate::model::webhooks::WebhookChange {
                enabled: Some(enabled),
            };
            let id = engine::requested::webhook_id(&id)?;
            engine.webhooks().change(&caller, &id, change).await
        }
        .await,
    )
}

/// Deletes a webhook and its deliveries; goes on to `/webhooks`.
#[server(endpoint = "delete_webhook", output = model::codec::Json)]
pub async fn delete_webhook(id: String) -> Result<(), AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::webhook_id(&id)?;
            engine.webhooks().delete(&caller, &id).await?;
            leptos_axum::redirect("/webhooks");
            Ok(())
        }
        .await,
    )
}

/// "Send a test".
#[server(endpoint = "test_webhook", output = model::codec::Json)]
pub async fn test_webhook(id: String) -> Result<crate::model::webhooks::Delivery, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::webhook_id(&id)?;
            engine.webhooks().test(&caller, &id).await
        }
        .await,
    )
}

/// "Resend" a delivery, with the same id.
#[server(endpoint = "resend_delivery", output = model::codec::Json)]
pub async fn resend_delivery(
    id: String,
    delivery: String,
) -> Result<crate::model::webhooks::Delivery, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let id = engine::requested::webhook_id(&id)?;
            let delivery = engine::requested::delivery_id(&delivery);
            engine
                .webhooks()
                .resend(&caller, &id, delivery.as_ref())
                .await
        }
        .await,
    )
}

/// A select's choice (empty: the default).
#[cfg(feature = "ssr")]
fn choice<T: std::str::FromStr + Default>(value: &str, field: &str) -> Result<T, AppError> {
    match value.trim() {
        "" => Ok(T::default()),
        v => v.parse().map_err(|_| {
            AppError::invalid(vec![crate::model::FieldError::new(
                field,
                crate::i18n::t().not_a_choice(format!("{v:?}")),
            )])
        }),
    }
}
