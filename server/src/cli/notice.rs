//! `headway notice "text"` / `headway notice --clear`: the operator's client for the notice
//! endpoints of the server running at `--addr`.

use super::Remote;
use crate::Config;
use reqwest::Method;
use serde_json::json;

/// Sends the notice (or the withdrawal) and returns what to print, or why it failed.
pub async fn run(config: &Config, text: Option<&str>, clear: bool) -> Result<String, String> {
    let remote = Remote::new(config)?;
    if clear {
        let done = remote
            .expect(Method::DELETE, "/admin/notices", None, &[200])
            .await?;
        return Ok(format!("withdrew {} notice(s)", done["withdrawn"]));
    }
    let body = json!({ "text": text.unwrap_or_default() });
    let notice = remote
        .expect(Method::POST, "/admin/notices", Some(&body), &[200, 201])
        .await?;
    Ok(format!("notice {} shown to every user", notice["id"]))
}
