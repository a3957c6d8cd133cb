//! `headway kinds list|pause|resume`: the kinds of the server running at `--addr`, and pausing
//! them (`*` is every kind), as an operator or an admin.

use super::Remote;
use crate::config::KindsCommand;
use crate::Config;
use reqwest::Method;

/// Runs the command and returns what to print, or why it failed.
pub async fn run(config: &Config, command: &KindsCommand) -> Result<String, String> {
    let remote = Remote::new(config)?;
    match command {
        KindsCommand::List => {
            let kinds = remote.expect(Method::GET, "/kinds", None, &[200]).await?;
            let mut out = format!("{:<16} STATE", "KIND");
            for k in kinds.as_array().into_iter().flatten() {
                let state = match &k["paused"] {
                    serde_json::Value::Null => "running".to_string(),
                    p => paused(p),
                };
                out.push_str(&format!(
                    "\n{:<16} {state}",
                    k["name"].as_str().unwrap_or("?")
                ));
            }
            Ok(out)
        }
        KindsCommand::Pause { kind } => {
            let pause = remote
                .expect(Method::POST, &path(kind, "pause"), None, &[200])
                .await?;
            Ok(format!("{}: {}", what(kind), paused(&pause)))
        }
        KindsCommand::Resume { kind } => {
            let done = remote
                .expect(Method::POST, &path(kind, "resume"), None, &[200])
                .await?;
            Ok(match done["was_paused"].as_bool() {
                Some(true) => format!("{}: resumed", what(kind)),
                _ => format!("{}: was not paused", what(kind)),
            })
        }
    }
}

fn path(kind: &str, action: &str) -> String {
    let kind: String = url::form_urlencoded::byte_serialize(kind.as_bytes()).collect();
    format!("/kinds/{kind}/{action}")
}

fn what(kind: &str) -> String {
    match kind {
        model::EVERY_KIND => "every kind".into(),
        kind => kind.into(),
    }
}

/// "paused by ada since 2026-11-24T22:02:00+08:00" (in the terminal's zone).
fn paused(pause: &serde_json::Value) -> String {
    format!(
        "paused by {} since {}",
        pause["paused_by"].as_str().unwrap_or("?"),
        super::local_time(pause["paused_at"].as_i64().unwrap_or(0))
    )
}
