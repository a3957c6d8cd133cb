//! `headway limits list|set|remove`: the limits of the server running at `--addr`
//! ([`model::limits`]), and setting them at run time as an operator or an admin.

use super::Remote;
use crate::config::LimitsCommand;
use crate::Config;
use model::limits::{Limit, Per};
use reqwest::Method;

/// Runs the command and returns what to print, or why it failed.
pub async fn run(config: &Config, command: &LimitsCommand) -> Result<String, String> {
    let remote = Remote::new(config)?;
    match command {
        LimitsCommand::List => {
            let limits = remote.expect(Method::GET, "/limits", None, &[200]).await?;
            let limits: Vec<model::limits::LimitUse> =
                serde_json::from_value(limits).map_err(|e| format!("unexpected answer: {e}"))?;
            if limits.is_empty() {
                return Ok("no limits".into());
            }
            let mut out = format!("{:<16} {:<36} {:<9} KEYS IN USE", "KIND", "LIMIT", "SOURCE");
            for l in &limits {
                let source = match l.source {
                    model::limits::LimitSource::Declared => "declared",
                    model::limits::LimitSource::Set => "set",
                };
                out.push_str(&format!(
                    "\n{:<16} {:<36} {source:<9} {}",
                    l.limit.kind,
                    l.limit.to_string(),
                    l.keys_in_use
                ));
                for k in &l.keys {
                    let key = if k.key.is_empty() { "(none)" } else { &k.key };
                    out.push_str(&format!("\n    {key}: {}", k.used));
                }
            }
            Ok(out)
        }
        LimitsCommand::Set {
            kind,
            max,
            per,
            every,
        } => {
            let limit = limit(kind, *max, per.as_deref(), every.as_deref())?;
            let body = serde_json::to_value(&limit).expect("limits serialize");
            remote
                .expect(Method::POST, "/limits", Some(&body), &[200])
                .await?;
            Ok(format!("{kind}: {limit}"))
        }
        LimitsCommand::Remove { kind, per, every } => {
            let limit = limit(kind, 1, per.as_deref(), every.as_deref())?;
            let body = serde_json::to_value(&limit).expect("limits serialize");
            let done = remote
                .expect(Method::POST, "/limits/remove", Some(&body), &[200])
                .await?;
            Ok(match done["was_set"].as_bool() {
                Some(true) => format!("{kind}: limit removed"),
                _ => format!("{kind}: no such limit was set"),
            })
        }
    }
}

/// The limit the options say.
fn limit(kind: &str, max: u32, per: Option<&str>, every: Option<&str>) -> Result<Limit, String> {
    let per = match per {
        None | Some("kind") => Per::Kind,
        Some("owner") => Per::Owner,
        Some(p) => Per::Param(p.to_string()),
    };
    let window_ms = match every {
        Some(e) => Some(
            engine::commands::duration(e)
                .map_err(|m| format!("--every {m}"))?
                .as_millis()
                .min(i64::MAX as u128) as i64,
        ),
        None => None,
    };
    Ok(Limit {
        kind: kind.to_string(),
        per,
        max,
        window_ms,
    })
}
