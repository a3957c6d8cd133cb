//! The settings page's token list: create a personal API token (its secret is shown once, here),
//! see each one's scope and last use, revoke it.

use crate::format;
use crate::model::accounts::TokenInfo;
use crate::server_fns::{CreateToken, RevokeToken};
use leptos::prelude::*;

#[island(lazy)]
pub fn TokenManager(tokens: Vec<TokenInfo>) -> impl IntoView {
    let tokens = RwSignal::new(tokens);
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let created = create.value();
    Effect::new(move || {
        if let Some(Ok(new)) = created.get() {
            tokens.update(|list| {
                list.insert(
                    0,
                    TokenInfo {
                        id: new.id.clone(),
                        name: new.name.clone(),
                        scope: new.scope,
                        user: String::new(),
                        created_at: js_now(),
                        last_used_at: None,
                        revoked_at: None,
                    },
                )
            });
        }
    });
    Effect::new(move || {
        if let Some(Ok(id)) = revoke.value().get() {
            tokens.update(|list| {
                if let Some(t) = list.iter_mut().find(|t| t.id == id) {
                    t.revoked_at = Some(js_now());
                }
            });
        }
    });
    let secret = move || {
        created.with(|v| match v {
            Some(Ok(new)) => Some(view! {
                <div class="token-secret" role="status">
                    <p>"Copy the token "<strong>{new.name.clone()}</strong>" now: it is not shown again."</p>
                    <code class="token-value">{new.token.clone()}</code>
                    <p>"In a shell, for " <code>"headway run"</code> " and the other commands:"</p>
                    <code class="token-export">{format!("export HEADWAY_TOKEN={}", new.token)}</code>
                </div>
            }),
            _ => None,
        })
    };
    let error = move || {
        let e = match (created.get(), revoke.value().get()) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e),
            _ => None,
        };
        e.map(|e| {
            let text = e
                .fields
                .first()
                .map_or(e.message.clone(), |f| f.message.clone());
            view! { <p class="form-error" role="alert">{text}</p> }
        })
    };
    let rows = move || {
        tokens
            .get()
            .into_iter()
            .map(|t| {
                let state = match (t.revoked_at, t.last_used_at) {
                    (Some(at), _) => format!("revoked {}", format::datetime(at)),
                    (None, Some(at)) => format!("last used {}", format::datetime(at)),
                    (None, None) => "never used".to_string(),
                };
                let live = t.revoked_at.is_none();
                let (id, name) = (t.id.clone(), t.name.clone());
                view! {
                    <tr data-token-id=t.id.clone()>
                        <td>{t.name.clone()}</td>
                        <td>{t.scope.as_str()}</td>
                        <td>{format::datetime(t.created_at)}</td>
                        <td>{state}</td>
                        <td>
                            {live.then(|| view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=id/>
                                    <button type="submit" class="secondary">"Revoke " <span class="visually-hidden">{name}</span></button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <ActionForm action=create attr:class="token-form">
            <div class="field">
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" type="text" required=true maxlength="100"/>
            </div>
            <div class="field">
                <label for="token-scope">"Scope"</label>
                <select id="token-scope" name="scope">
                    <option value="read">"read: look only"</option>
                    <option value="write">"write: act as you"</option>
                </select>
            </div>
            <button type="submit" disabled=move || create.pending().get()>"Create token"</button>
        </ActionForm>
        {secret}
        {error}
        <table class="tokens">
            <caption class="visually-hidden">"Your API tokens"</caption>
            <thead>
                <tr><th scope="col">"Name"</th><th scope="col">"Scope"</th><th scope="col">"Created"</th><th scope="col">"Use"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn js_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}
