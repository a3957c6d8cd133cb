//! `/settings/api`: the JSON API's reference for people, rendered on the server from the
//! OpenAPI document that `GET /api/v1/openapi.json` serves (the server provides it as an
//! [`ApiDocument`]): the operations grouped by resource, each with who may call it, its
//! parameters, body and answers; then the errors and the schemas they name. Plain HTML: no
//! island, nothing to run in the browser. The page's own words follow the reader's language;
//! the document's descriptions are the API's, in English, as its messages are.

use crate::components::PageTitle;
use crate::i18n::t;
use leptos::prelude::*;
use serde_json::Value;

/// The API's OpenAPI 3.1 document, which the server gives the page to render.
#[derive(Clone, Copy)]
pub struct ApiDocument(pub &'static Value);

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let doc = use_context::<ApiDocument>().map(|d| d.0);
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.api_reference_title())/>
        <h1>{t.api_reference_title()}</h1>
        <p class="hint">
            {t.api_intro_1()} " " <code>"/api/v1"</code> {t.api_intro_2()} " ("
            <a href="/settings">{t.nav_settings()}</a> ") " {t.api_intro_3()} " " <code>"Authorization: Bearer <token>"</code>
            {t.api_intro_4()} " "
            <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a> {t.api_intro_5()}
        </p>
        {doc.map(reference)}
    }
}

/// The whole reference of `doc`.
fn reference(doc: &'static Value) -> impl IntoView {
    let tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (text(&t["name"]), text(&t["description"])))
        .collect();
    let description = text(&doc["info"]["description"]);
    let contents = tags
        .iter()
        .map(|(name, _)| {
            let href = format!("#{}", tag_anchor(name));
            view! { <li><a href=href>{title_case(name)}</a></li> }
        })
        .collect_view();
    let common = common_errors(doc);
    let sections = tags
        .into_iter()
        .map(|(name, about)| resource(doc, name, about, common.clone()))
        .collect_view();
    let t = t();
    view! {
        <p>{code_spans(&description)}</p>
        <nav class="api-contents" aria-label=t.api_resources()>
            <ul>
                {contents}
                <li><a href="#errors">{t.api_errors()}</a></li>
                <li><a href="#schemas">{t.api_schemas()}</a></li>
            </ul>
        </nav>
        {sections}
        {errors(doc)}
        {schemas(doc)}
    }
}

/// One resource: its operations, in the document's order.
fn resource(doc: &'static Value, tag: String, about: String, common: Vec<String>) -> impl IntoView {
    let operations = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, op)| (path.clone(), method.clone(), op))
        })
        .filter(|(_, _, op)| op["tags"][0].as_str() == Some(tag.as_str()))
        .map(|(path, method, op)| operation(doc, path, method, op, &common))
        .collect_view();
    let id = tag_anchor(&tag);
    let labelled = id.clone();
    view! {
        <section class="api-resource" aria-labelledby=labelled>
            <h2 id=id>{title_case(&tag)}</h2>
            <p>{code_spans(&about)}</p>
            {operations}
        </section>
    }
}

fn operation(
    doc: &'static Value,
    path: String,
    method: String,
    op: &'static Value,
    common: &[String],
) -> impl IntoView {
    let id = text(&op["operationId"]);
    let heading = format!("op-{id}");
    let method = method.to_uppercase();
    let summary = text(&op["summary"]);
    let description = text(&op["description"]);
    let paragraphs = description
        .split("\n\n")
        .map(|p| view! { <p>{code_spans(p)}</p> })
        .collect_view();
    let t = t();
    let params: Vec<&'static Value> = op["parameters"].as_array().into_iter().flatten().collect();
    let params = (!params.is_empty()).then(|| {
        let rows = params
            .into_iter()
            .map(|p| {
                let required = if p["required"].as_bool() == Some(true) {
                    t.api_required()
                } else {
                    t.api_optional()
                };
                view! {
                    <tr>
                        <th scope="row"><code>{text(&p["name"])}</code></th>
                        <td>{text(&p["in"])}</td>
                        <td>{type_of(&p["schema"])}</td>
                        <td>{required}</td>
                        <td>{code_spans(&text(&p["description"]))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="api-table">
                <caption>{t.api_parameters()}</caption>
                <thead><tr>
                    <th scope="col">{t.token_name()}</th><th scope="col">{t.api_in()}</th><th scope="col">{t.api_type()}</th>
                    <th scope="col">{t.api_required_col()}</th><th scope="col">{t.api_description()}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let body = op["requestBody"]["content"].as_object().map(|content| {
        let kinds = content
            .iter()
            .map(|(media, c)| {
                let example = c.get("example").map(|e| {
                    let text = serde_json::to_string_pretty(e).unwrap_or_default();
                    view! { <p>{t.api_for_example()}</p> <pre class="api-example"><code>{text}</code></pre> }
                });
                view! { <li><code>{media.clone()}</code> ": " {type_of(&c["schema"])} {example}</li> }
            })
            .collect_view();
        view! { <p class="api-body-title">{t.api_request_body()}</p> <ul class="api-body">{kinds}</ul> }
    });
    let answers = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(status, _)| !common.contains(status))
        .map(|(status, r)| {
            let r = resolve(doc, r);
            let media = r["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(media, c)| view! { <code>{media.clone()}</code> " " {type_of(&c["schema"])} " " })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{status.clone()}</th>
                    <td>{code_spans(&text(&r["description"]))}</td>
                    <td>{media}</td>
                </tr>
            }
        })
        .collect_view();
    let labelled = heading.clone();
    view! {
        <article class="api-op" id=id aria-labelledby=labelled>
            <h3 id=heading>
                <span class=format!("api-method api-{}", method.to_lowercase())>{method.clone()}</span>
                " " <code class="api-path">{path}</code>
                <span class="api-summary">{summary}</span>
            </h3>
            {paragraphs}
            {params}
            {body}
            <table class="api-table">
                <caption>{t.api_answers()}</caption>
                <thead><tr>
                    <th scope="col">{t.api_status()}</th><th scope="col">{t.api_meaning()}</th><th scope="col">{t.api_body()}</th>
                </tr></thead>
                <tbody>{answers}</tbody>
            </table>
            <p class="hint">{t.api_and_the()} " " <a href="#errors">{t.api_every_operation_errors()}</a> {t.api_and_the_end()}</p>
        </article>
    }
}

/// The error statuses every operation may answer, which the reference lists once.
fn common_errors(doc: &Value) -> Vec<String> {
    let operations: Vec<&Value> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, item)| item.as_object().into_iter().flatten().map(|(_, op)| op))
        .collect();
    let Some(first) = operations.first() else {
        return Vec::new();
    };
    first["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, _)| status.clone())
        .filter(|status| status.starts_with('4') || status.starts_with('5'))
        .filter(|status| {
            operations
                .iter()
                .all(|op| op["responses"].get(status).is_some())
        })
        .collect()
}

/// The error answers, each with its JSON body.
fn errors(doc: &'static Value) -> impl IntoView {
    let rows = doc["components"]["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, r)| {
            let body = r["content"]["application/json"]
                .get("schema")
                .map(|s| type_of(s).into_any())
                .unwrap_or_else(|| t().api_none().into_any());
            view! {
                <tr>
                    <th scope="row">{name.clone()}</th>
                    <td>{code_spans(&text(&r["description"]))}</td>
                    <td>{body}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="api-resource" aria-labelledby="errors">
            <h2 id="errors">{t().api_errors()}</h2>
            <p>
                {t().api_errors_intro_1()} " " <code>"code"</code> " " {t().api_errors_intro_2()} " "
                {t().api_errors_intro_3(common_errors(doc).join(", "))}
            </p>
            <table class="api-table">
                <caption>{t().api_error_answers()}</caption>
                <thead><tr><th scope="col">{t().api_error()}</th><th scope="col">{t().api_meaning()}</th><th scope="col">{t().api_body()}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// Every named schema: an object's fields, an enumeration's values, or its type.
fn schemas(doc: &'static Value) -> impl IntoView {
    let all = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let id = format!("schema-{name}");
            let about = text(&s["description"]);
            let fields = s["properties"].as_object().map(|props| {
                let required: Vec<&str> = s["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let rows = props
                    .iter()
                    .map(|(field, p)| {
                        let needed = if required.contains(&field.as_str()) {
                            t().api_required()
                        } else {
                            t().api_optional()
                        };
                        view! {
                            <tr>
                                <th scope="row"><code>{field.clone()}</code></th>
                                <td>{type_of(p)}</td>
                                <td>{needed}</td>
                                <td>{code_spans(&text(&p["description"]))}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <table class="api-table">
                        <caption>{t().api_fields_of(name.as_str())}</caption>
                        <thead><tr>
                            <th scope="col">{t().api_field()}</th><th scope="col">{t().api_type()}</th>
                            <th scope="col">{t().api_required_col()}</th><th scope="col">{t().api_description()}</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
            });
            let shape = fields
                .is_none()
                .then(|| view! { <p>{t().api_type_is()} " " {type_of(s)}</p> });
            let labelled = id.clone();
            view! {
                <article class="api-schema" aria-labelledby=labelled>
                    <h3 id=id>{name.clone()}</h3>
                    <p>{code_spans(&about)}</p>
                    {fields}
                    {shape}
                </article>
            }
        })
        .collect_view();
    view! {
        <section class="api-resource" aria-labelledby="schemas">
            <h2 id="schemas">{t().api_schemas()}</h2>
            {all}
        </section>
    }
}

/// A schema in a few words: a named one as a link to it, arrays as `T[]`, alternatives with `|`.
fn type_of(schema: &Value) -> AnyView {
    words(schema).into_iter().collect_view().into_any()
}

/// The pieces of [`type_of`]: text, and links to named schemas.
fn words(schema: &Value) -> Vec<AnyView> {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.rsplit('/').next().unwrap_or(target).to_string();
        let href = format!("#schema-{name}");
        return vec![view! { <a href=href>{name}</a> }.into_any()];
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            return joined(options.iter().map(words).collect());
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let listed = values
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(" | ");
        return vec![view! { <code>{listed}</code> }.into_any()];
    }
    if let Some(value) = schema.get("const") {
        return vec![view! { <code>{value.to_string()}</code> }.into_any()];
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if types.is_empty() {
        return vec![(if schema.get("contentMediaType").is_some() {
            t().api_file_bytes()
        } else {
            t().api_any_json()
        })
        .into_any()];
    }
    joined(
        types
            .into_iter()
            .map(|t| match t.as_str() {
                "array" => {
                    let mut item = words(&schema["items"]);
                    item.push("[]".into_any());
                    item
                }
                _ => {
                    let format = schema["format"]
                        .as_str()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default();
                    vec![format!("{t}{format}").into_any()]
                }
            })
            .collect(),
    )
}

fn joined(options: Vec<Vec<AnyView>>) -> Vec<AnyView> {
    let mut all = Vec::new();
    for (i, option) in options.into_iter().enumerate() {
        if i > 0 {
            all.push(" | ".into_any());
        }
        all.extend(option);
    }
    all
}

/// A `$ref`'d response as the one it names.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

/// Text whose `code spans` become `<code>`.
fn code_spans(text: &str) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| match i % 2 {
            1 => view! { <code>{part.to_string()}</code> }.into_any(),
            _ => part.to_string().into_any(),
        })
        .collect_view()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn tag_anchor(tag: &str) -> String {
    format!("resource-{tag}")
}

/// `jobs` → `Jobs`; `api` → `API`.
fn title_case(tag: &str) -> String {
    match tag {
        "api" => "API".to_string(),
        _ => {
            let mut chars = tag.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}
