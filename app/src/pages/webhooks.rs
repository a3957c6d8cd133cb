//! `/webhooks`: the caller's webhooks (an admin's: everyone's) and the form to add one; and
//! `/webhooks/{id}`, a webhook's recent deliveries (time, answer, attempts) with "Send a test"
//! and "Resend". Every action is a plain form post that comes back to the page, with or
//! without JavaScript; a refusal is shown where it applies.

use crate::components::{status_name, PageTitle, Time, ZoneNote};
use crate::format::Style;
use crate::i18n::{t, Text};
use crate::model::webhooks::{Delivery, DeliveryState, Webhook, WebhookDetail, WebhookScope};
use crate::model::AppError;
use crate::server_fns::webhooks::{
    load_webhook, load_webhooks, CreateWebhook, DeleteWebhook, ResendDelivery, SetWebhookEnabled,
    TestWebhook, WebhooksData,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_webhooks());
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.webhooks_title())/>
        <h1>{t.webhooks_title()}</h1>
        <p class="hint">
            {t.webhooks_hint()} " " <code>"docs/WEBHOOKS.md"</code> " " {t.webhooks_hint_end()}
        </p>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <WebhookList data/> }.into_any(),
                    Err(e) => view! { <p class="problem" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn WebhookList(data: WebhooksData) -> impl IntoView {
    let WebhooksData {
        webhooks,
        kinds,
        manage,
        admin,
        secret,
    } = data;
    let t = t();
    let list = match webhooks.is_empty() {
        true => view! { <p class="empty">{t.webhooks_none()}</p> }.into_any(),
        false => view! {
            <ul class="webhooks">
                {webhooks.into_iter().map(|w| view! { <li><WebhookCard webhook=w admin/></li> }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        {list}
        {manage.then(|| view! { <NewWebhook kinds admin secret/> })}
    }
}

/// One webhook in the list: where it posts, what it hears of, and whether it works.
#[component]
fn WebhookCard(webhook: Webhook, admin: bool) -> impl IntoView {
    let href = format!("/webhooks/{}", webhook.id);
    let t = t();
    view! {
        <article class="webhook" data-webhook-id=webhook.id.to_string()>
            <h2 class="webhook-url"><a href=href>{webhook.url.clone()}</a></h2>
            <p class="webhook-hears">{hears(t, &webhook)}</p>
            {admin.then(|| view! { <p class="webhook-owner">{t.schedule_owner(webhook.owner.clone())}</p> })}
            <WebhookState webhook=webhook.clone()/>
        </article>
    }
}

/// What a webhook hears of, in words.
fn hears(t: Text, w: &Webhook) -> String {
    let ends = match w.statuses.is_empty() {
        true => t.webhook_every_end().to_string(),
        false => w
            .statuses
            .iter()
            .map(|s| status_name(t, *s))
            .collect::<Vec<_>>()
            .join(t.list_separator()),
    };
    let kinds = match w.kinds.is_empty() {
        true => t.system_every_kind().to_string(),
        false => w.kinds.join(t.list_separator()),
    };
    let whose = match w.scope {
        WebhookScope::All => t.webhook_everyones_jobs(),
        WebhookScope::Own => t.webhook_owners_jobs(),
    };
    t.webhook_hears(ends, kinds, whose, w.format.as_str())
}

#[component]
fn WebhookState(webhook: Webhook) -> impl IntoView {
    let t = t();
    match (webhook.enabled, webhook.disabled_reason, webhook.failing_since) {
        (false, Some(why), _) => view! { <p class="webhook-state state-disabled">{t.webhook_disabled()} " " {why}</p> }.into_any(),
        (false, None, _) => view! { <p class="webhook-state state-disabled">{t.webhook_disabled()}</p> }.into_any(),
        (true, _, Some(since)) => view! {
            <p class="webhook-state state-failing">{t.webhook_failing_since()} " " <Time at=since/> {t.webhook_failing_since_end()}</p>
        }
        .into_any(),
        (true, _, None) => view! { <p class="webhook-state state-enabled">{t.webhook_enabled()}</p> }.into_any(),
    }
}

/// The form to add a webhook. A refusal of a post made without JavaScript comes back in the
/// address, and its messages are shown next to their fields.
#[component]
fn NewWebhook(kinds: Vec<String>, admin: bool, secret: String) -> impl IntoView {
    let t = crate::i18n::t();
    let refused = match ServerAction::<CreateWebhook>::new().value().get_untracked() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let message = |field: &str| {
        refused
            .as_ref()
            .and_then(|e| e.field(field))
            .map(|m| view! { <p class="field-error" id=format!("webhook-{field}-error")>{m.to_string()}</p> })
    };
    let described = |field: &str| {
        refused
            .as_ref()
            .and_then(|e| e.field(field))
            .map(|_| format!("webhook-{field}-error"))
    };
    let other = refused
        .as_ref()
        .filter(|e| e.fields.is_empty())
        .map(|e| view! { <p class="form-error" role="alert">{e.message.clone()}</p> });
    let ends = ["succeeded", "failed", "cancelled", "interrupted"]
        .map(|end| {
            let (id, label_for) = (format!("webhook-end-{end}"), format!("webhook-end-{end}"));
            view! {
                <label for=label_for class="check">
                    <input type="checkbox" id=id name=end value="on"/>
                    {crate::model::JobStatus::parse(end).map(|s| crate::components::status_name(t, s))}
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="new-webhook" aria-labelledby="new-webhook-title">
            <h2 id="new-webhook-title">{t.webhook_add_title()}</h2>
            <form method="post" action=CreateWebhook::url() class="webhook-form">
                <div class="field">
                    <label for="webhook-url">{t.webhook_url()}</label>
                    <input type="url" id="webhook-url" name="url" required placeholder="https://hooks.example.com/headway" aria-describedby=described("url")/>
                    {message("url")}
                </div>
                <fieldset class="field field-set">
                    <legend>{t.webhook_ends()}</legend>
                    <div class="checks">{ends}</div>
                    {message("statuses")}
                </fieldset>
                <div class="field">
                    <label for="webhook-kinds">{t.webhook_kinds()}</label>
                    <input type="text" id="webhook-kinds" name="kinds" list="webhook-kind-names" aria-describedby=described("kinds")/>
                    <datalist id="webhook-kind-names">
                        {kinds.into_iter().map(|k| view! { <option value=k/> }).collect_view()}
                    </datalist>
                    {message("kinds")}
                </div>
                <div class="field">
                    <label for="webhook-format">{t.webhook_body()}</label>
                    <select id="webhook-format" name="format">
                        <option value="json">{t.webhook_body_json()}</option>
                        <option value="slack">{t.webhook_body_slack()}</option>
                    </select>
                </div>
                {admin.then(|| view! {
                    <div class="field">
                        <label for="webhook-scope">{t.webhook_whose()}</label>
                        <select id="webhook-scope" name="scope">
                            <option value="own">{t.webhook_whose_mine()}</option>
                            <option value="all">{t.webhook_whose_all()}</option>
                        </select>
                    </div>
                })}
                <div class="field">
                    <label for="webhook-secret">{t.webhook_secret()}</label>
                    <input type="text" id="webhook-secret" name="secret" value=secret autocomplete="off" spellcheck="false" aria-describedby=described("secret")/>
                    {message("secret")}
                </div>
                {other}
                <button type="submit">{t.webhook_add()}</button>
            </form>
        </section>
    }
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new_blocking(id, load_webhook);
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.webhook_title())/>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(detail) => view! { <WebhookView detail/> }.into_any(),
                    Err(e) => view! {
                        <section class="problem" role="alert">
                            <h1>{t.webhook_title()}</h1>
                            <p>{e.message}</p>
                            <p><a href="/webhooks">{t.webhook_back()}</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The refusal of the last action posted without JavaScript, if one was.
fn refusal() -> Option<AppError> {
    let refused = |v: Option<Result<(), AppError>>| v.and_then(Result::err);
    refused(
        ServerAction::<TestWebhook>::new()
            .value()
            .get_untracked()
            .map(|r| r.map(drop)),
    )
    .or_else(|| {
        refused(
            ServerAction::<ResendDelivery>::new()
                .value()
                .get_untracked()
                .map(|r| r.map(drop)),
        )
    })
    .or_else(|| {
        refused(
            ServerAction::<SetWebhookEnabled>::new()
                .value()
                .get_untracked()
                .map(|r| r.map(drop)),
        )
    })
    .or_else(|| refused(ServerAction::<DeleteWebhook>::new().value().get_untracked()))
}

#[component]
fn WebhookView(detail: WebhookDetail) -> impl IntoView {
    let WebhookDetail {
        webhook,
        deliveries,
    } = detail;
    let id = webhook.id.to_string();
    let hidden =
        |name: &'static str, value: String| view! { <input type="hidden" name=name value=value/> };
    let t = t();
    let (verb, to) = match webhook.enabled {
        true => (t.user_disable(), "false"),
        false => (t.user_enable(), "true"),
    };
    let rows = deliveries
        .into_iter()
        .map(|d| view! { <DeliveryRow delivery=d webhook=id.clone()/> })
        .collect_view();
    view! {
        <p class="crumbs"><a href="/webhooks">{t.webhooks_title()}</a></p>
        <h1 class="webhook-title">{webhook.url.clone()}</h1>
        <p class="webhook-hears">{hears(t, &webhook)}</p>
        <WebhookState webhook=webhook.clone()/>
        {refusal().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
        <div class="webhook-actions">
            <form method="post" action=TestWebhook::url()>
                {hidden("id", id.clone())}
                <button type="submit">{t.webhook_send_test()}</button>
            </form>
            <form method="post" action=SetWebhookEnabled::url()>
                {hidden("id", id.clone())}
                {hidden("enabled", to.to_string())}
                <button type="submit" class="secondary">{verb}</button>
            </form>
            <form method="post" action=DeleteWebhook::url()>
                {hidden("id", id.clone())}
                <button type="submit" class="secondary danger">{t.schedule_delete()}</button>
            </form>
            <a class="button secondary" href="">{t.webhook_refresh()}</a>
        </div>
        <h2 id="deliveries-title">{t.webhook_deliveries()}</h2>
        <ZoneNote/>
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="deliveries-title">
            <table class="deliveries" aria-labelledby="deliveries-title">
                <thead>
                    <tr>
                        <th scope="col">{t.webhook_made()}</th>
                        <th scope="col">{t.webhook_event()}</th>
                        <th scope="col">{t.user_state()}</th>
                        <th scope="col">{t.webhook_answer()}</th>
                        <th scope="col">{t.attempts()}</th>
                        <th scope="col">{t.webhook_next_attempt()}</th>
                        <th scope="col"><span class="visually-hidden">{t.actions()}</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn DeliveryRow(delivery: Delivery, webhook: String) -> impl IntoView {
    let Delivery {
        id,
        event,
        job_id,
        created_at,
        state,
        attempts,
        last_status,
        last_error,
        next_attempt_at,
        ..
    } = delivery;
    let what = match job_id {
        Some(job) if event != crate::model::webhooks::EVENT_TEST => {
            view! { <a href=format!("/jobs/{job}")>{format!("{event} ({})", &job[..8.min(job.len())])}</a> }.into_any()
        }
        _ => view! { {event} }.into_any(),
    };
    let t = t();
    let answer = match (last_status, last_error) {
        (Some(status), None) => status.to_string(),
        (_, Some(error)) => error,
        (None, None) => t.webhook_not_sent_yet().to_string(),
    };
    let state_class = format!("delivery-state state-{state}");
    let state_text = match state {
        DeliveryState::Pending => t.delivery_pending(),
        DeliveryState::Delivered => t.delivery_delivered(),
        DeliveryState::Failed => t.delivery_failed(),
    };
    let made = crate::format::when(
        t,
        &crate::zone::page_zone(),
        Style::Full,
        created_at,
        created_at,
    );
    view! {
        <tr data-delivery-id=id.to_string()>
            <td><Time at=created_at/></td>
            <td>{what}</td>
            <td><span class=state_class>{state_text}</span></td>
            <td class="delivery-answer">{answer}</td>
            <td>{t.int(attempts)}</td>
            <td>{match (state, next_attempt_at) {
                (DeliveryState::Pending, Some(at)) => view! { <Time at/> }.into_any(),
                _ => "—".into_any(),
            }}</td>
            <td>
                <form method="post" action=ResendDelivery::url()>
                    <input type="hidden" name="id" value=webhook/>
                    <input type="hidden" name="delivery" value=id.to_string()/>
                    <button type="submit" class="secondary" aria-label=t.webhook_resend_label(made)>{t.webhook_resend()}</button>
                </form>
            </td>
        </tr>
    }
}
