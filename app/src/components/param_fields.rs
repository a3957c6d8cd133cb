//! A kind's parameters as form fields, from its description: the start form's, and a
//! schedule's. The server validates; its message for a field goes in the field's slot.

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
        .map(|p| {
            let input_id = format!("{form_id}-{}", p.name);
            let error_id = format!("{input_id}-error");
            let message = refused.and_then(|e| e.field(&p.name)).map(str::to_string);
            let invalid = message.is_some().then_some("true");
            let step = (p.kind == ParamType::Number).then_some("any");
            let input_type = match p.kind {
                ParamType::Integer | ParamType::Number => "number",
                ParamType::Boolean => "checkbox",
                ParamType::String => "text",
                // Never filled in again: a refused form asks for the secret anew.
                ParamType::Secret => "password",
                ParamType::Choice => {
                    let chosen = values
                        .and_then(|v| v.get(&p.name))
                        .or(p.default.as_ref())
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
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
                            <select
                                id=input_id
                                name=format!("params[{}]", p.name)
                                aria-describedby=error_id.clone()
                                aria-invalid=invalid
                                title=p.description
                            >
                                {options}
                            </select>
                            <p class="field-error" id=error_id aria-live="polite">{message}</p>
                        </div>
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
            let value = values
                .and_then(|v| v.get(&p.name))
                .or(p.default.as_ref())
                .filter(|_| p.kind != ParamType::Secret)
                .map(|v| v.to_string().trim_matches('"').to_string());
            let autocomplete = (p.kind == ParamType::Secret).then_some("off");
            let checked =
                (p.kind == ParamType::Boolean && value.as_deref() == Some("true")).then_some(true);
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
                        maxlength=p.max_length.map(|v| v.to_string())
                        autocomplete=autocomplete
                        value=if p.kind == ParamType::Boolean { Some("true".to_string()) } else { value }
                        checked=checked
                        aria-describedby=error_id.clone()
                        aria-invalid=invalid
                        title=p.description
                    />
                    <p class="field-error" id=error_id aria-live="polite">{message}</p>
                </div>
            }
            .into_any()
        })
        .collect_view()
}
