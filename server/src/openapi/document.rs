//! The OpenAPI 3.1 document of a list of [`Endpoint`]s: each operation with its parameters,
//! bodies and answers, the errors every operation may answer, and the schemas of them all,
//! derived (`schemars`) from the types the handlers read and write.

use super::*;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

/// The document of `endpoints`.
pub fn build(endpoints: &[Endpoint]) -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let error = g.subschema_for::<model::AppError>();
    let mut paths = Map::new();
    for e in endpoints {
        let item = paths
            .entry(e.full_path())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object");
        item.insert(e.verb.key().into(), operation(e, &mut g));
    }
    let mut responses = Map::new();
    for status in all_error_statuses(endpoints) {
        responses.insert(error_name(status).into(), error_response(status, &error));
    }
    let schemas = g.take_definitions(true);
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Headway",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Long jobs, started and watched live: the JSON API for scripts.",
            "description": "Every error is JSON `{code, message}` (with `fields` for a refused value, and `retry_after` when trying again later may succeed) \
                            with the status its code stands for. A job the caller may not see is 404, never 403. \
                            Times are Unix milliseconds unless said otherwise. \
                            On an open server (`--auth open`) each browser is its own anonymous user and needs no credential; \
                            with accounts, a caller presents the session cookie or `Authorization: Bearer <token>`. \
                            A change sent with the session cookie from another site is refused (403).",
            "license": { "name": "MIT", "identifier": "MIT" },
        },
        "tags": Resource::ALL.iter().map(|r| json!({ "name": r.name(), "description": r.about() })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (`hw_…`, from the settings page or `POST /api/v1/tokens`), or the operator token.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": crate::identity::COOKIE_NAME,
                    "description": "The browser's session (`POST /api/v1/session` signs it in).",
                },
                "reportToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An external job's report token (`hwr_…`), answered once by `POST /api/v1/jobs` with `kind: \"external\"`.",
                },
                "workerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A worker token (`hwk_…`), made by an admin with `POST /api/v1/worker-tokens` or `headway workers token NAME`.",
                },
            },
        },
    });
    no_true_schemas(&mut document, false);
    integer_bounds(&mut document);
    document
}

/// States the range of each Rust integer the document names only by its `format` (`uint32`,
/// …): the server cannot read a number past it, and a client that knows no such format would
/// send one.
fn integer_bounds(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let range = match object.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((json!(0), json!(u8::MAX))),
                Some("uint16") => Some((json!(0), json!(u16::MAX))),
                Some("uint32") => Some((json!(0), json!(u32::MAX))),
                Some("uint64" | "uint") => Some((json!(0), json!(u64::MAX))),
                Some("int8") => Some((json!(i8::MIN), json!(i8::MAX))),
                Some("int16") => Some((json!(i16::MIN), json!(i16::MAX))),
                Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                Some("int64" | "int") => Some((json!(i64::MIN), json!(i64::MAX))),
                _ => None,
            };
            if let Some((min, max)) = range {
                object.entry("minimum").or_insert(min);
                object.entry("maximum").or_insert(max);
            }
            object.values_mut().for_each(integer_bounds);
        }
        Value::Array(items) => items.iter_mut().for_each(integer_bounds),
        _ => {}
    }
}

/// Writes the schema `true` (anything: a job's parameters, a result) as `{}`, which means the
/// same: client generators that read OpenAPI's schema objects refuse a boolean where they
/// expect one. `in_schema`: `value` is where a schema stands.
fn no_true_schemas(value: &mut Value, in_schema: bool) {
    match value {
        Value::Bool(true) if in_schema => *value = json!({}),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "schema" | "items" | "not" | "contains" | "propertyNames" | "if" | "then"
                    | "else" => no_true_schemas(v, true),
                    "properties" | "patternProperties" | "$defs" | "dependentSchemas"
                    | "schemas" => {
                        if let Value::Object(each) = v {
                            each.values_mut().for_each(|s| no_true_schemas(s, true));
                        }
                    }
                    "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                        if let Value::Array(each) = v {
                            each.iter_mut().for_each(|s| no_true_schemas(s, true));
                        }
                    }
                    // A boolean there is how OpenAPI says it, and generators read it.
                    "additionalProperties" | "unevaluatedProperties" => {}
                    _ => no_true_schemas(v, false),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| no_true_schemas(v, false)),
        _ => {}
    }
}

/// One operation of the document.
fn operation(e: &Endpoint, g: &mut SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = e
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": match p.place { Place::Path => "path", Place::Header => "header" },
                "required": p.required,
                "description": p.about,
                "schema": Value::from((p.schema)(g)),
            })
        })
        .collect();
    if let Some(query) = e.query {
        parameters.extend(query_parameters(query, g));
    }
    let mut responses = Map::new();
    for a in e.answers {
        responses.insert(a.status.to_string(), answer(a, g));
    }
    for status in e.error_statuses() {
        responses.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{}", error_name(status)) }),
        );
    }
    let description = match e.about {
        "" => e.access.about().to_string(),
        about => format!("{about}\n\nWho may call it: {}", e.access.about()),
    };
    let mut op = json!({
        "operationId": e.id,
        "tags": [e.resource.name()],
        "summary": e.summary,
        "description": description,
        "x-access": e.access.name(),
        "security": e.access.security(),
        "responses": responses,
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    match e.body {
        Body::None => {}
        Body::Json(schema) => {
            let mut media = json!({ "schema": Value::from(schema(g)) });
            if let Some(example) = e.example {
                media["example"] = serde_json::from_str(example).expect("an example is JSON");
            }
            op["requestBody"] = json!({
                "required": true,
                "content": { "application/json": media },
            });
        }
        Body::File => {
            op["requestBody"] = json!({
                "required": true,
                "content": {
                    // An empty file is refused.
                    "application/octet-stream": {
                        "schema": { "contentMediaType": "application/octet-stream", "minLength": 1 },
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": { "contentMediaType": "application/octet-stream", "minLength": 1 },
                            },
                            "required": ["file"],
                            // Fields besides the file are skipped; a name is header text, without controls.
                            "propertyNames": { "pattern": "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$" },
                        },
                    },
                },
            });
        }
    }
    op
}

/// The query parameters of a query type: one per field of its (object) schema, with the
/// field's description; `null` is left out of their types (a query value is a string).
fn query_parameters(query: SchemaFn, g: &mut SchemaGenerator) -> Vec<Value> {
    let mut schema = Value::from(query(g));
    // A named type is a reference to the document's schemas: its fields are in the definition.
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        schema = g.definitions().get(name).cloned().unwrap_or_default();
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"))
                .unwrap_or(Value::String(String::new()));
            if let Some(types) = property.get_mut("type").and_then(Value::as_array_mut) {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    property["type"] = types[0].clone();
                }
            }
            if let Some(p) = property.as_object_mut() {
                p.remove("default");
            }
            json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "description": description,
                "schema": property,
            })
        })
        .collect()
}

fn answer(a: &Answer, g: &mut SchemaGenerator) -> Value {
    let content = match a.content {
        Content::Json(schema) => {
            Some(json!({ "application/json": { "schema": Value::from(schema(g)) } }))
        }
        Content::Empty => None,
        Content::Events => Some(json!({ "text/event-stream": { "schema": { "type": "string" } } })),
        Content::Text => Some(json!({ "text/plain": { "schema": { "type": "string" } } })),
        Content::File => Some(json!({ "*/*": { "schema": {} } })),
    };
    let mut answer = json!({ "description": a.about });
    if let Some(content) = content {
        answer["content"] = content;
    }
    if !a.links.is_empty() {
        let links: Map<String, Value> = a
            .links
            .iter()
            .map(|l| {
                let link = json!({ "operationId": l.op, "parameters": { l.param: l.from } });
                (l.op.to_string(), link)
            })
            .collect();
        answer["links"] = Value::Object(links);
    }
    if a.located {
        answer["headers"] = json!({
            "Location": {
                "description": "Where the new resource is.",
                "schema": { "type": "string" },
            },
        });
    }
    answer
}

/// Every error status some operation answers, in order.
fn all_error_statuses(endpoints: &[Endpoint]) -> Vec<u16> {
    let mut all: Vec<u16> = endpoints
        .iter()
        .flat_map(Endpoint::error_statuses)
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The name of an error answer among the document's responses.
pub fn error_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        416 => "RangeNotSatisfiable",
        421 => "MisdirectedRequest",
        422 => "InvalidParams",
        429 => "TooManyRequests",
        503 => "Unavailable",
        _ => "Error",
    }
}

fn error_response(status: u16, error: &Schema) -> Value {
    let about = match status {
        400 => "The request could not be read: not JSON, the wrong `Content-Type`, a query or header that does not parse.",
        401 => "No one is signed in (a server with accounts), or the bearer token is not valid.",
        403 => "The caller may not do this: their role, a read token, a report token used elsewhere than its report, or a change sent with the cookie from another site.",
        404 => "There is no such thing, or the caller may not see it.",
        408 => "The request body did not arrive in time; the connection closes.",
        409 => "The thing is in a state that does not allow this.",
        413 => "The body is too large (64 KiB for JSON, 288 KiB for a start, 2 MiB for a report; an upload: its kind's limit or the caller's quota); the connection closes.",
        416 => "The range asked for is not in the file.",
        421 => "The request named a host this server does not answer for.",
        422 => "A value is not acceptable: `fields` says which and why.",
        429 => "A limit was hit; `Retry-After` says when trying again may succeed.",
        503 => "The server is shutting down, busy, or has too many connections; try again shortly.",
        _ => "An error.",
    };
    if status == 416 {
        return json!({ "description": about });
    }
    let mut response = json!({
        "description": about,
        "content": { "application/json": { "schema": Value::from(error.clone()) } },
    });
    if matches!(status, 429 | 503) {
        response["headers"] = json!({
            "Retry-After": {
                "description": "Seconds after which trying again may succeed.",
                "schema": { "type": "integer" },
            },
        });
    }
    response
}
