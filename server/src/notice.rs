//! `headway notice "text"` / `headway notice --clear`: the operator's client for the notice
//! endpoints of the server running at `--addr`, authorized with the same token the server uses.

use crate::operator_token::token_path;
use crate::Config;
use std::net::SocketAddr;
use std::time::Duration;

/// Sends the notice (or the withdrawal) and returns what to print, or why it failed.
pub async fn run(config: &Config, text: Option<&str>, clear: bool) -> Result<String, String> {
    let token = match config.admin_token.as_deref() {
        Some(t) => t.trim().to_string(),
        None => {
            let dir = engine::store::local_dir(&config.database_url).ok_or_else(|| {
                "this database keeps no operator token file; pass --admin-token".to_string()
            })?;
            let path = token_path(&dir);
            std::fs::read_to_string(&path).map(|t| t.trim().to_string()).map_err(|e| {
                format!("cannot read the operator token {} ({e}); start the server first, or pass --admin-token", path.display())
            })?
        }
    };
    let addr = loopback_if_unspecified(config.addr);
    let url = format!("http://{addr}/api/v1/admin/notices");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let request = if clear {
        http.delete(&url)
    } else {
        http.post(&url)
            .json(&serde_json::json!({ "text": text.unwrap_or_default() }))
    };
    let reply = request
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("cannot reach Headway at {addr}: {e}"))?;
    let status = reply.status();
    let body = reply.text().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    match status.as_u16() {
        200 | 201 if clear => Ok(format!("withdrew {} notice(s)", json["withdrawn"])),
        200 | 201 => Ok(format!("notice {} shown to every user", json["id"])),
        code => Err(format!(
            "the server refused ({code}): {}",
            json["message"].as_str().unwrap_or(body.trim())
        )),
    }
}

/// `0.0.0.0:3000` is where the server listens, not an address to connect to.
fn loopback_if_unspecified(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let ip = if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}
