//! `headway workers`: the workers on other machines of the server at `--server`, as an
//! operator (listing, draining, disabling) or an admin (worker tokens).

use super::Remote;
use crate::config::WorkersCommand;
use crate::Config;
use model::workers::{NewWorkerToken, WorkerInfo, WorkerState, WorkerTokenInfo};
use reqwest::Method;
use serde_json::json;

/// Runs the command and returns what to print, or why it failed.
pub async fn run(config: &Config, command: &WorkersCommand) -> Result<String, String> {
    let remote = Remote::new(config)?;
    match command {
        WorkersCommand::List => {
            let workers: Vec<WorkerInfo> =
                read(remote.expect(Method::GET, "/workers", None, &[200]).await?)?;
            let mut out = format!(
                "{:<34} {:<20} {:<9} {:>7} {:<16} LAST SEEN",
                "ID", "NAME", "STATE", "RUNNING", "TAGS"
            );
            for w in workers {
                out.push_str(&format!(
                    "\n{:<34} {:<20} {:<9} {:>7} {:<16} {}",
                    w.id,
                    w.name,
                    w.state.as_str(),
                    format!("{}/{}", w.running, w.slots),
                    match w.tags.is_empty() {
                        true => "-".to_string(),
                        false => w.tags.join(","),
                    },
                    super::local_time(w.last_seen_at)
                ));
            }
            Ok(out)
        }
        WorkersCommand::Token { name } => {
            let made: NewWorkerToken = read(
                remote
                    .expect(
                        Method::POST,
                        "/worker-tokens",
                        Some(&json!({ "name": name })),
                        &[201],
                    )
                    .await?,
            )?;
            Ok(format!(
                "worker token {} ({}), shown this once:\nexport HEADWAY_WORKER_TOKEN={}",
                made.id, made.name, made.token
            ))
        }
        WorkersCommand::Tokens => {
            let tokens: Vec<WorkerTokenInfo> = read(
                remote
                    .expect(Method::GET, "/worker-tokens", None, &[200])
                    .await?,
            )?;
            let mut out = format!("{:<34} {:<24} STATE", "ID", "NAME");
            for t in tokens {
                let state = match t.revoked_at {
                    Some(at) => format!("revoked {}", super::local_time(at)),
                    None => "in force".to_string(),
                };
                out.push_str(&format!("\n{:<34} {:<24} {state}", t.id, t.name));
            }
            Ok(out)
        }
        WorkersCommand::Revoke { id } => {
            remote
                .expect(
                    Method::DELETE,
                    &format!("/worker-tokens/{}", segment(id)),
                    None,
                    &[204],
                )
                .await?;
            Ok(format!("worker token {id} revoked"))
        }
        WorkersCommand::Drain { id } => set(&remote, id, WorkerState::Draining).await,
        WorkersCommand::Disable { id } => set(&remote, id, WorkerState::Disabled).await,
        WorkersCommand::Enable { id } => set(&remote, id, WorkerState::Active).await,
    }
}

async fn set(remote: &Remote, id: &str, state: WorkerState) -> Result<String, String> {
    let path = format!("/workers/{}/state", segment(id));
    let body = json!({ "state": state });
    let worker: WorkerInfo = read(
        remote
            .expect(Method::POST, &path, Some(&body), &[200])
            .await?,
    )?;
    Ok(format!("{} ({}): {}", worker.name, worker.id, worker.state))
}

/// A path segment, encoded.
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("the server's answer is not understood: {e}"))
}
