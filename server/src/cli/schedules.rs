//! `headway schedules list|add|pause|resume|run|delete`: the schedules of the server running at
//! `--addr`, through its API, with the roles of the token's owner (see [`super`]).

use super::Remote;
use crate::config::SchedulesCommand;
use crate::Config;
use reqwest::Method;
use serde_json::{json, Value};

/// Runs the command and returns what to print, or why it failed.
pub async fn run(config: &Config, command: &SchedulesCommand) -> Result<String, String> {
    let remote = Remote::new(config)?;
    match command {
        SchedulesCommand::List => {
            let list = remote
                .expect(Method::GET, "/schedules", None, &[200])
                .await?;
            let mut out = format!(
                "{:<36}  {:<10}  {:<8}  {:<25}  DESCRIPTION",
                "ID", "KIND", "STATE", "NEXT"
            );
            // A named schedule is told by its name first.
            let described = |s: &Value| match s["name"].as_str() {
                Some(name) => format!("{name}: {}", s["description"].as_str().unwrap_or("")),
                None => s["description"].as_str().unwrap_or("").to_string(),
            };
            for s in list.as_array().into_iter().flatten() {
                let state = match (&s["held"], s["enabled"].as_bool()) {
                    (Value::String(_), _) => "held",
                    (_, Some(true)) => "enabled",
                    _ => "paused",
                };
                out.push_str(&format!(
                    "\n{:<36}  {:<10}  {:<8}  {:<25}  {}",
                    s["id"].as_str().unwrap_or("?"),
                    s["kind"].as_str().unwrap_or("?"),
                    state,
                    s["next_runs"][0].as_str().unwrap_or("-"),
                    described(s)
                ));
            }
            Ok(out)
        }
        SchedulesCommand::Add {
            kind,
            name,
            cron,
            timezone,
            param,
            overlap,
            catch_up,
            max_attempts,
            paused,
        } => {
            let params = super::params(param)?;
            let mut body =
                json!({"kind": kind, "cron": cron, "params": params, "enabled": !paused});
            if let Some(name) = name {
                body["name"] = json!(name);
            }
            if let Some(tz) = timezone {
                body["timezone"] = json!(tz);
            }
            if let Some(o) = overlap {
                body["overlap"] = json!(o);
            }
            if let Some(c) = catch_up {
                body["catch_up"] = json!(c);
            }
            if let Some(n) = max_attempts {
                body["max_attempts"] = json!(n);
            }
            let s = remote
                .expect(Method::POST, "/schedules", Some(&body), &[201])
                .await?;
            Ok(format!(
                "{} {}; next at {}",
                s["id"].as_str().unwrap_or("?"),
                s["description"].as_str().unwrap_or(""),
                s["next_runs"][0].as_str().unwrap_or("-")
            ))
        }
        SchedulesCommand::Pause { id } | SchedulesCommand::Resume { id } => {
            let enabled = matches!(command, SchedulesCommand::Resume { .. });
            let s = remote
                .expect(
                    Method::PATCH,
                    &path(id, ""),
                    Some(&json!({ "enabled": enabled })),
                    &[200],
                )
                .await?;
            Ok(match enabled {
                true => format!(
                    "{id} resumed; next at {}",
                    s["next_runs"][0].as_str().unwrap_or("-")
                ),
                false => format!("{id} paused"),
            })
        }
        SchedulesCommand::Run { id } => {
            let job = remote
                .expect(Method::POST, &path(id, "/run"), None, &[201])
                .await?;
            Ok(format!("started job {}", job["id"].as_str().unwrap_or("?")))
        }
        SchedulesCommand::Delete { id } => {
            remote
                .expect(Method::DELETE, &path(id, ""), None, &[204])
                .await?;
            Ok(format!("{id} deleted"))
        }
    }
}

fn path(id: &str, rest: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("/schedules/{id}{rest}")
}
