//! The form that starts a job of one kind, generated from the kind's parameter descriptions.
//! The server validates; its messages appear next to the fields they concern.
//!
//! The fields are rendered on the server only (they never change); the island around them
//! sends the form, shows the server's messages in the fields' message slots and adds the new
//! job to the page. Without JavaScript the form posts to `start_job` and the page shows the
//! messages after the redirect.

use crate::api::StartJob;
use crate::live;
use crate::model::{KindInfo, ParamType};
use leptos::prelude::*;

#[component]
pub fn StartForm(kind: KindInfo) -> impl IntoView {
    let form_id = format!("start-{}", kind.name);
    let names: Vec<String> = kind.params.iter().map(|p| p.name.clone()).collect();
    // A refusal of a post made without JavaScript comes back in the address: its messages are
    // rendered in place (the island shows those of the posts it sends).
    let refused = match ServerAction::<StartJob>::new().value().get_untracked() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let fields = kind
        .params
        .into_iter()
        .map(|p| {
            let input_id = format!("{form_id}-{}", p.name);
            let error_id = format!("{input_id}-error");
            let message = refused.as_ref().and_then(|e| e.field(&p.name)).map(str::to_string);
            let invalid = message.is_some().then_some("true");
            let step = (p.kind == ParamType::Number).then_some("any");
            let input_type = match p.kind {
                ParamType::Integer | ParamType::Number => "number",
                ParamType::Boolean => "checkbox",
                ParamType::String => "text",
            };
            view! {
                <div class="field">
                    <label for=input_id.clone()>{p.label}</label>
                    <input
                        id=input_id
                        name=format!("params[{}]", p.name)
                        type=input_type
                        step=step
                        min=p.min.map(|v| v.to_string())
                        max=p.max.map(|v| v.to_string())
                        value=p.default.map(|v| v.to_string().trim_matches('"').to_string())
                        aria-describedby=error_id.clone()
                        aria-invalid=invalid
                        title=p.description
                    />
                    <p class="field-error" id=error_id aria-live="polite">{message}</p>
                </div>
            }
        })
        .collect_view();
    view! {
        <StartFormIsland form_id kind=kind.name title=kind.title fields=names>
            {fields}
        </StartFormIsland>
    }
}

/// Sends the form and shows what the server said: the new job joins the page; refused values
/// get their messages next to their fields (`aria-invalid` on the field), other refusals one
/// message under the button.
#[island]
fn StartFormIsland(form_id: String, kind: String, title: String, fields: Vec<String>, children: Children) -> impl IntoView {
    let action = ServerAction::<StartJob>::new();
    let value = action.value();
    let id = form_id.clone();
    Effect::new(move || {
        value.with(|v| {
            // Nothing sent from here yet: the server's messages (a post made before the page
            // was interactive) stay.
            let Some(v) = v else { return };
            let refused = v.as_ref().err();
            for name in &fields {
                let message = refused.and_then(|e| e.field(name)).unwrap_or_default();
                show_field_error(&format!("{id}-{name}"), message);
            }
        });
        if let Some(Ok(job)) = value.get() {
            live::add(job);
        }
    });
    let form_error = move || {
        value.with(|v| match v {
            Some(Err(e)) if e.fields.is_empty() => Some(e.message.clone()),
            _ => None,
        })
    };
    view! {
        <ActionForm action attr:class="start-form" attr:id=form_id attr:novalidate=true>
            <input type="hidden" name="kind" value=kind/>
            {children()}
            <button type="submit" disabled=move || action.pending().get()>"Start " {title}</button>
            <p class="form-error" role="alert">{form_error}</p>
        </ActionForm>
    }
}

/// Puts `message` in the slot of the field `input_id` (empty: none), and marks the field.
fn show_field_error(input_id: &str, message: &str) {
    let document = document();
    if let Some(slot) = document.get_element_by_id(&format!("{input_id}-error")) {
        slot.set_text_content(Some(message));
    }
    if let Some(input) = document.get_element_by_id(input_id) {
        let _ = match message.is_empty() {
            true => input.remove_attribute("aria-invalid"),
            false => input.set_attribute("aria-invalid", "true"),
        };
    }
}
