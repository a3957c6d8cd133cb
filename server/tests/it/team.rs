//! A team: a server with accounts (`--auth accounts`), its members added as the holder of the
//! operator token, and browsers signed in as them.

use crate::client::Session;
use crate::harness::{app, App};
use serde_json::{json, Value};
use server::config::AuthMode;

pub const PASSWORD: &str = "correct horse battery";

pub async fn accounts_app() -> App {
    app()
        .with(|c| {
            c.auth = Some(AuthMode::Accounts);
            // Streams check their session again at every keep-alive.
            c.keep_alive_secs = 1;
        })
        .start()
        .await
}

/// Adds an account through the API, as the holder of the operator token (an admin).
pub async fn add_user(app: &App, name: &str, role: &str) {
    let r = crate::client::http()
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(app.admin_token())
        .json(&json!({"username": name, "password": PASSWORD, "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// A browser signed in as `name`.
pub async fn signed_in(app: &App, name: &str) -> Session {
    let s = app.session();
    let (status, me) = sign_in(&s, name, PASSWORD).await;
    assert_eq!(status, 200, "{me}");
    s
}

pub async fn sign_in(s: &Session, name: &str, password: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/session"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}
