//! The settings page's token list: create a personal API token (its secret is shown once, here,
//! selectable, with a button that copies it), see each one's scope and last use, revoke it.

use crate::components::Time;
use crate::i18n::t;
use crate::model::accounts::TokenInfo;
use crate::server_fns::{CreateToken, RevokeToken};
use leptos::prelude::*;

#[island(lazy)]
pub fn TokenManager(tokens: Vec<TokenInfo>) -> impl IntoView {
    let tokens = RwSignal::new(tokens);
    let t = t();
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
    // Whether the token shown was copied (a new token is not yet).
    let copied = RwSignal::new(false);
    Effect::new(move || {
        created.track();
        copied.set(false);
    });
    let secret = move || {
        created.with(|v| match v {
            Some(Ok(new)) => Some(view! {
                <div class="token-secret" role="status">
                    <p>{t.token_copy_now(new.name.clone())}</p>
                    <div class="token-copy-row">
                        <code class="token-value">{new.token.clone()}</code>
                        <button
                            type="button"
                            class="secondary token-copy"
                            data-copied=move || copied.get().then_some("true")
                            on:click={
                                let token = new.token.clone();
                                move |_| copy(token.clone(), copied)
                            }
                        >
                            {move || match copied.get() {
                                true => t.token_copied(),
                                false => t.token_copy(),
                            }}
                        </button>
                    </div>
                    <p>{t.token_in_a_shell()}</p>
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
            .map(|tok| {
                let state = match (tok.revoked_at, tok.last_used_at) {
                    (Some(at), _) => view! { {t.token_revoked()} " " <Time at/> }.into_any(),
                    (None, Some(at)) => view! { {t.token_last_used()} " " <Time at/> }.into_any(),
                    (None, None) => view! { {t.token_never_used()} }.into_any(),
                };
                let live = tok.revoked_at.is_none();
                let (id, name) = (tok.id.clone(), tok.name.clone());
                let scope = match tok.scope {
                    crate::model::TokenScope::Read => t.token_scope_read_short(),
                    crate::model::TokenScope::Write => t.token_scope_write_short(),
                };
                view! {
                    <tr data-token-id=tok.id.clone()>
                        <td>{tok.name.clone()}</td>
                        <td>{scope}</td>
                        <td><Time at=tok.created_at/></td>
                        <td>{state}</td>
                        <td>
                            {live.then(|| view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=id/>
                                    <button type="submit" class="secondary">{t.token_revoke()} " " <span class="visually-hidden">{name}</span></button>
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
                <label for="token-name">{t.token_name()}</label>
                <input id="token-name" name="name" type="text" required=true maxlength="100"/>
            </div>
            <div class="field">
                <label for="token-scope">{t.token_scope()}</label>
                <select id="token-scope" name="scope">
                    <option value="read">{t.token_scope_read()}</option>
                    <option value="write">{t.token_scope_write()}</option>
                </select>
            </div>
            <button type="submit" disabled=move || create.pending().get()>{t.token_create()}</button>
        </ActionForm>
        {secret}
        {error}
        <table class="tokens">
            <caption class="visually-hidden">{t.token_caption()}</caption>
            <thead>
                <tr><th scope="col">{t.token_name()}</th><th scope="col">{t.token_scope()}</th><th scope="col">{t.token_created()}</th><th scope="col">{t.token_use()}</th><th scope="col"><span class="visually-hidden">{t.actions()}</span></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Copies `text`, the token shown, to the clipboard, and sets `copied` once it is there. The
/// token is selected first, so that where the browser refuses the clipboard (a page not served
/// over HTTPS or from this machine) Ctrl+C copies it. The browser's methods are called by name
/// (`Reflect`), through bindings the page has already: typed ones would add to the script every
/// page loads, the dashboard's included, for a button of the settings page.
#[cfg(feature = "hydrate")]
fn copy(text: String, copied: RwSignal<bool>) {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    /// `on.name(arg)`, if `on` has such a method.
    fn call(on: &JsValue, name: &str, arg: &JsValue) -> Option<JsValue> {
        let method = Reflect::get(on, &name.into())
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        method.call1(on, arg).ok()
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let value = window.document().and_then(|d| {
        d.query_selector(".token-secret .token-value")
            .ok()
            .flatten()
    });
    if let (Some(selection), Some(value)) =
        (call(&window, "getSelection", &JsValue::UNDEFINED), value)
    {
        call(&selection, "selectAllChildren", &value);
    }
    // What older browsers, and pages that are not a secure context, copy with: the selection.
    let document: JsValue = window.document().map_or(JsValue::UNDEFINED, Into::into);
    let by_selection = move || {
        call(&document, "execCommand", &"copy".into()).and_then(|r| r.as_bool()) == Some(true)
    };
    let clipboard = Reflect::get(&window.navigator(), &"clipboard".into()).ok();
    let written = clipboard
        .filter(|c| !c.is_undefined())
        .and_then(|c| call(&c, "writeText", &text.into()))
        .and_then(|p| p.dyn_into::<Promise>().ok());
    let Some(written) = written else {
        copied.set(by_selection());
        return;
    };
    leptos::task::spawn_local(async move {
        let done = wasm_bindgen_futures::JsFuture::from(written).await.is_ok();
        copied.set(done || by_selection());
    });
}

#[cfg(not(feature = "hydrate"))]
fn copy(_: String, _: RwSignal<bool>) {}

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
