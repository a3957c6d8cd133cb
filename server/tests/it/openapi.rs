//! The API's OpenAPI document (`GET /api/v1/openapi.json`) and the routes agree: the document
//! is served to anyone, is OpenAPI 3.1, and every operation it describes is served by its
//! handler; every other method of a documented path is 405, every other path the "no such API
//! endpoint" 404; and every handler of the API's modules is in the list both are built from
//! (`server/src/rest/api.rs`), so that an endpoint cannot be served without being described.

use crate::harness::spawn_app;
use crate::team::accounts_app;
use serde_json::{json, Value};
use std::path::Path;

/// What the catch-all of `/api/v1` answers.
const NO_SUCH_ENDPOINT: &str = "no such API endpoint";

#[tokio::test]
async fn the_api_describes_itself_as_openapi_3_1_to_anyone() {
    // A server with accounts, asked by someone not signed in.
    let app = accounts_app().await;
    let r = crate::client::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Headway");
    assert!(doc["info"]["version"].is_string());
    assert_eq!(&doc, server::rest::api::document());
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(
                ["get", "post", "patch", "delete"].contains(&method.as_str()),
                "{method} {path}"
            );
            assert!(op["operationId"].is_string(), "{method} {path}");
            assert!(op["tags"][0].is_string(), "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} answers no success"
            );
            assert!(responses.contains_key("401") && responses.contains_key("403"));
        }
    }
    // The resources the API is made of.
    for (method, path) in [
        ("post", "/api/v1/jobs"),
        ("get", "/api/v1/jobs/{id}"),
        ("get", "/api/v1/events"),
        ("post", "/api/v1/uploads"),
        ("post", "/api/v1/schedules"),
        ("post", "/api/v1/tokens"),
        ("patch", "/api/v1/users/{name}"),
        ("get", "/api/v1/openapi.json"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not described"
        );
    }
    // Query parameters are described, each one the server requires as required.
    let query = |path: &str| -> Vec<(String, bool)> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["required"] == true,
                )
            })
            .collect()
    };
    let preview = query("/api/v1/schedules/preview");
    assert!(preview.contains(&("cron".into(), true)), "{preview:?}");
    assert!(preview.contains(&("timezone".into(), false)), "{preview:?}");
    let history = query("/api/v1/jobs");
    for name in ["status", "kind", "limit", "before", "q"] {
        assert!(
            history.contains(&(name.into(), false)),
            "{name}: {history:?}"
        );
    }
    // What the server requires is said: a page's size, a bulk action's one of `ids` and
    // `filter`, a new schedule's kind and expression, an idempotency key's characters, a user name's.
    let range = |path: &str, name: &str| {
        let param = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"));
        (
            param["schema"]["minimum"].clone(),
            param["schema"]["maximum"].clone(),
        )
    };
    assert_eq!(range("/api/v1/jobs", "limit"), (json!(1), json!(500)));
    // A number's range where only its format said it: the server reads no more than that.
    assert_eq!(
        range("/api/v1/uploads", "limit"),
        (json!(0), json!(u32::MAX))
    );
    let bulk = &doc["components"]["schemas"]["BulkRequest"];
    assert_eq!(bulk["oneOf"][0]["required"], json!(["ids"]), "{bulk}");
    assert_eq!(bulk["oneOf"][1]["required"], json!(["filter"]), "{bulk}");
    assert_eq!(bulk["properties"]["ids"]["maxItems"], json!(1000), "{bulk}");
    let new_schedule = &doc["paths"]["/api/v1/schedules"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    assert_eq!(
        new_schedule["required"],
        json!(["kind", "cron"]),
        "{new_schedule}"
    );
    let key = &doc["paths"]["/api/v1/jobs"]["post"]["parameters"][0];
    assert_eq!(key["name"], "Idempotency-Key");
    assert_eq!(key["schema"]["pattern"], "^[!-~]{1,255}$", "{key}");
    let username = &doc["components"]["schemas"]["NewUser"]["properties"]["username"];
    assert_eq!(
        username["pattern"],
        model::accounts::USERNAME_PATTERN,
        "{username}"
    );
    // Errors are described with the shape they are sent in.
    let error = &doc["components"]["schemas"]["AppError"];
    assert_eq!(error["required"], json!(["code", "message"]), "{error}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // The rest of the API still wants a caller.
    let r = crate::client::get(format!("{}/api/v1/jobs", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// A concrete path for a documented one: every `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| match s.starts_with('{') {
            true => "0b7c1e9a-no-such-thing",
            false => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_served_and_nothing_else_is() {
    let app = spawn_app().await;
    let http = crate::client::http();
    let token = app.admin_token();
    let doc = server::rest::api::document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = format!("{}{}", app.base, concrete(path));
        let documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        for method in ["GET", "POST", "PATCH", "DELETE", "PUT"] {
            let mut request = http
                .request(method.parse().unwrap(), &url)
                .bearer_auth(&token)
                .timeout(std::time::Duration::from_secs(30));
            if method != "GET" {
                request = request.json(&json!({}));
            }
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            // Event streams stay open: their status and head are enough.
            let streams = r
                .headers()
                .get("content-type")
                .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
            let body = match streams {
                true => String::new(),
                false => r.text().await.unwrap_or_default(),
            };
            if documented.contains(&method.to_string()) {
                checked += 1;
                assert_ne!(status, 405, "{method} {path} is described but not served");
                assert!(
                    !(status == 404 && body.contains(NO_SUCH_ENDPOINT)),
                    "{method} {path} is described but not served: {body}"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is served but not described: {body}"
                );
                let error: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(error["code"], "method_not_allowed", "{body}");
            }
        }
    }
    assert_eq!(checked, server::rest::api::ENDPOINTS.len());
    // Any other path is no endpoint at all.
    for path in [
        "/api/v1/nothing",
        "/api/v1/jobs/x/nothing",
        "/api/v1/webhook",
    ] {
        let r = http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.unwrap().contains(NO_SUCH_ENDPOINT), "{path}");
    }
}

/// The handlers of the API's modules that are not API endpoints, and why.
const NOT_ENDPOINTS: [&str; 9] = [
    // The sign-in page's and the header's HTML forms (`/signin`, `/signout`).
    "accounts::sign_in_form",
    "accounts::sign_out_form",
    // The start form sent with its file (a page's form, `/api/start_with_file`).
    "start_with_file::start",
    // `/healthz`, `/readyz` and `/metrics`, outside the API.
    "health::healthz",
    "health::readyz",
    "metrics::metrics",
    // The answer for every path that is no endpoint.
    "health::no_such_endpoint",
    // Helpers of the upload handler.
    "files::drain",
    "files::receive",
];

#[test]
fn every_handler_of_the_api_is_in_its_list() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let list = std::fs::read_to_string(root.join("rest/api.rs")).unwrap();
    let mut missing = Vec::new();
    let mut found = 0;
    for (dir, module) in [("rest", None), ("sse", Some("sse"))] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            if path.extension().is_none_or(|e| e != "rs") || stem == "api" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("pub async fn ") else {
                    continue;
                };
                let name = &rest[..rest.find(['(', '<']).unwrap()];
                let named = format!("{}::{name}", module.unwrap_or(&stem));
                found += 1;
                if NOT_ENDPOINTS.contains(&format!("{stem}::{name}").as_str()) {
                    continue;
                }
                if !list.contains(&format!("on(m, {named})")) {
                    missing.push(format!("{} ({named})", path.display()));
                }
            }
        }
    }
    assert!(found > 30, "the handlers were not found");
    assert!(
        missing.is_empty(),
        "handlers not in the API's list (server/src/rest/api.rs), hence neither served nor described: {missing:?}"
    );
    // And the API is served from that list only.
    let routes = std::fs::read_to_string(root.join("routes.rs")).unwrap();
    assert!(routes.contains("let rest = rest::api::router()"));
    assert!(routes.contains(".nest(\"/api/v1\", rest)"));
}
