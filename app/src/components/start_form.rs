//! The form that starts a job of one kind, generated from the kind's parameter descriptions.
//! The server validates; its messages appear next to the fields they concern.

use crate::api::StartJob;
use crate::live;
use crate::model::{KindInfo, ParamType};
use leptos::prelude::*;

#[island]
pub fn StartForm(kind: KindInfo) -> impl IntoView {
    let action = ServerAction::<StartJob>::new();
    let value = action.value();
    Effect::new(move || {
        if let Some(Ok(job)) = value.get() {
            live::add(job);
        }
    });
    let field_error = move |name: &str| {
        value.with(|v| match v {
            Some(Err(e)) => e.field(name).map(str::to_string),
            _ => None,
        })
    };
    let form_error = move || {
        value.with(|v| match v {
            Some(Err(e)) if e.fields.is_empty() => Some(e.message.clone()),
            _ => None,
        })
    };
    let form_id = format!("start-{}", kind.name);
    let fields = kind
        .params
        .into_iter()
        .map(|p| {
            let input_id = format!("{form_id}-{}", p.name);
            let error_id = format!("{input_id}-error");
            let name = p.name.clone();
            let has_error = move || field_error(&name).is_some();
            let name = p.name.clone();
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
                        aria-invalid=move || has_error().then_some("true")
                        title=p.description
                    />
                    <p class="field-error" id=error_id aria-live="polite">{move || field_error(&name)}</p>
                </div>
            }
        })
        .collect_view();
    view! {
        <ActionForm action attr:class="start-form" attr:id=form_id attr:novalidate=true>
            <input type="hidden" name="kind" value=kind.name/>
            {fields}
            <button type="submit" disabled=move || action.pending().get()>"Start " {kind.title}</button>
            <p class="form-error" role="alert">{form_error}</p>
        </ActionForm>
    }
}
