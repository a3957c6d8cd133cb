//! `headway notice "text"` / `headway notice --clear`: the operator's client for the notice
//! endpoints of the server running at `--addr`, authorized with the same token the server uses.

use crate::admin::token_path;
use crate::startup::sqlite_parent_dir;
use crate::Config;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends the notice (or the withdrawal) and returns what to print, or why it failed.
pub async fn run(config: &Config, text: Option<&str>, clear: bool) -> Result<String, String> {
    let dir = sqlite_parent_dir(&config.database_url);
    let path = token_path(dir.as_deref());
    let token = match config.admin_token.as_deref() {
        Some(t) => t.trim().to_string(),
        None => match std::fs::read_to_string(&path) {
            Ok(t) => t.trim().to_string(),
            Err(e) => {
                return Err(format!(
                    "cannot read the operator token {} ({e}); start the server first, or pass --admin-token",
                    path.display()
                ))
            }
        },
    };
    let (method, body) = if clear {
        ("DELETE", String::new())
    } else {
        let text = text.unwrap_or_default();
        ("POST", serde_json::json!({ "text": text }).to_string())
    };
    let addr = loopback_if_unspecified(config.addr);
    let (status, reply) = request(addr, method, "/api/v1/admin/notices", &token, &body)
        .await
        .map_err(|e| format!("cannot reach Headway at {addr}: {e}"))?;
    let json: serde_json::Value = serde_json::from_str(&reply).unwrap_or_default();
    match status {
        200 | 201 if clear => Ok(format!("withdrew {} notice(s)", json["withdrawn"])),
        200 | 201 => Ok(format!("notice {} shown to every user", json["id"])),
        _ => Err(format!(
            "the server refused ({status}): {}",
            json["message"].as_str().unwrap_or(reply.trim())
        )),
    }
}

/// `0.0.0.0:3000` is where the server listens, not an address to connect to.
fn loopback_if_unspecified(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let ip = if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns the status and the body.
async fn request(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))?;
    Ok((status, body.to_string()))
}
