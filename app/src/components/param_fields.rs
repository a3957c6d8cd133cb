//! A kind's parameters as form fields, from its description: the start form's, and a
//! schedule's. Each field shows its description as text under it (a tooltip is invisible on a
//! phone); a choice is a select, a set is checkboxes. The server validates; its message for a
//! field goes in the field's slot, next to the field, with or without JavaScript.

use super::upload_field::UploadField;
use crate::error::AppError;
use crate::model::{ParamInfo, ParamType};
use leptos::prelude::*;

/// The fields of `params` in the form `form_id`, holding `values` where given (else each one's
/// default), with the messages of `refused` in place.
pub fn param_fields(
    params: &[ParamInfo],
    form_id: &str,
    values: Option<&serde_json::Value>,
    refused: Option<&AppError>,
) -> impl IntoView {
    params
        .iter()
        .cloned()
        .map(|p| field(p, form_id, values, refused))
        .collect_view()
}

fn field(
    p: ParamInfo,
    form_id: &str,
    values: Option<&serde_json::Value>,
    refused: Option<&AppError>,
) -> AnyView {
    let input_id = format!("{form_id}-{}", p.name);
    let error_id = format!("{input_id}-error");
    let hint_id = format!("{input_id}-hint");
    let message = refused.and_then(|e| e.field(&p.name)).map(str::to_string);
    let invalid = message.is_some().then_some("true");
    // The description under the field, read with it by screen readers; the error after it.
    let described = match p.description.is_empty() {
        true => error_id.clone(),
        false => format!("{hint_id} {error_id}"),
    };
    let hint = (!p.description.is_empty())
        .then(|| view! { <p class="field-hint" id=hint_id.clone()>{p.description.clone()}</p> });
    let error =
        view! { <p class="field-error" id=error_id aria-live="polite">{message.clone()}</p> };
    let given = values.and_then(|v| v.get(&p.name)).or(p.default.as_ref());
    let name = format!("params[{}]", p.name);
    let input_type = match p.kind {
        ParamType::Integer | ParamType::Number => "number",
        ParamType::Boolean => "checkbox",
        ParamType::String => "text",
        // Never filled in again: a refused form asks for the secret anew.
        ParamType::Secret => "password",
        ParamType::Choice => {
            let chosen = given.and_then(|v| v.as_str()).map(str::to_string);
            let options = p
                .choices
                .iter()
                .map(|c| {
                    let selected = chosen.as_deref() == Some(c.as_str());
                    view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                })
                .collect_view();
            return view! {
                <div class="field">
                    <label for=input_id.clone()>{p.label}</label>
                    <select id=input_id name=name aria-describedby=described aria-invalid=invalid>
                        {options}
                    </select>
                    {hint}
                    {error}
                </div>
            }
            .into_any();
        }
        ParamType::Set => {
            // Checked: a list, or the comma-separated text the history's filters write.
            let chosen: Vec<String> = match given {
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                Some(serde_json::Value::String(s)) => {
                    s.split(',').map(|v| v.trim().to_string()).collect()
                }
                _ => Vec::new(),
            };
            let boxes = p
                .choices
                .iter()
                .map(|c| {
                    let checked = chosen.contains(c);
                    view! {
                        <label class="check">
                            <input type="checkbox" name=format!("params[{}/{c}]", p.name) value="on" checked=checked/>
                            {c.clone()}
                        </label>
                    }
                })
                .collect_view();
            return view! {
                <fieldset
                    class="field field-set"
                    id=input_id
                    aria-describedby=described
                    aria-invalid=invalid
                >
                    <legend>{p.label}</legend>
                    <div class="checks">{boxes}</div>
                    {hint}
                    {error}
                </fieldset>
            }
            .into_any();
        }
        ParamType::File => {
            return view! {
                <UploadField
                    input_id
                    name=p.name
                    label=p.label
                    description=p.description
                    accept=p.accept.join(",")
                    max_bytes=p.max_bytes
                    message
                />
            }
            .into_any();
        }
    };
    let value = given
        .filter(|_| p.kind != ParamType::Secret)
        .map(|v| v.to_string().trim_matches('"').to_string());
    let autocomplete = (p.kind == ParamType::Secret).then_some("off");
    let step = (p.kind == ParamType::Number).then_some("any");
    if p.kind == ParamType::Boolean {
        // The box beside its label, as people expect a checkbox.
        let checked = value.as_deref() == Some("true");
        return view! {
            <div class="field field-check">
                <label class="check">
                    <input
                        id=input_id
                        name=name
                        type="checkbox"
                        value="true"
                        checked=checked
                        aria-describedby=described
                        aria-invalid=invalid
                    />
                    {p.label}
                </label>
                {hint}
                {error}
            </div>
        }
        .into_any();
    }
    view! {
        <div class="field">
            <label for=input_id.clone()>{p.label}</label>
            <input
                id=input_id
                name=name
                type=input_type
                step=step
                min=p.min.map(|v| v.to_string())
                max=p.max.map(|v| v.to_string())
                maxlength=p.max_length.map(|v| v.to_string())
                autocomplete=autocomplete
                value=value
                aria-describedby=described
                aria-invalid=invalid
            />
            {hint}
            {error}
        </div>
    }
    .into_any()
}
