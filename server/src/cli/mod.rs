//! The commands that talk to a running server (at `--server`, or `--addr`) over its JSON API,
//! as a script would: `headway notice` ([`notice`]), `headway kinds` ([`kinds`]), `headway
//! schedules` ([`schedules`]), `headway jobs`, `start`, `follow` and `cancel` ([`jobs`]) and
//! `headway run` ([`run`]: a program run here as an external job). They are authorized with the
//! API token in `HEADWAY_TOKEN` when it is set (then the token's owner and their role decide
//! what they may do, as in the browser), otherwise with the operator token (an admin).

pub mod jobs;
pub mod kinds;
pub mod limits;
pub mod notice;
pub mod report;
pub mod run;
pub mod schedules;
pub mod worker;
pub mod workers;

use crate::operator_token::token_path;
use crate::Config;
use reqwest::Method;
use serde_json::Value;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

/// A running server's JSON API, and the token to present.
#[derive(Clone)]
pub struct Remote {
    http: reqwest::Client,
    /// Its URL, without a trailing slash.
    base: String,
    token: String,
}

impl Remote {
    /// The server at `--addr`, with `HEADWAY_TOKEN` or the operator token.
    pub fn new(config: &Config) -> Result<Remote, String> {
        let token = match std::env::var("HEADWAY_TOKEN") {
            Ok(token) if !token.trim().is_empty() => token.trim().to_string(),
            _ => operator_token(config)?,
        };
        Remote::with(config, token)
    }

    /// The server at `--server` (or `--addr`), with `token`.
    pub fn with(config: &Config, token: String) -> Result<Remote, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let base = match &config.server {
            Some(url) => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| format!("--server {url:?} is not a URL: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!(
                        "--server {url:?}: Headway is reached over http or https"
                    ));
                }
                url.trim_end_matches('/').to_string()
            }
            None => format!("http://{}", loopback_if_unspecified(config.addr)),
        };
        Ok(Remote { http, base, token })
    }

    /// Its URL (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The token presented.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The same server, with another token.
    pub fn with_token(&self, token: &str) -> Remote {
        Remote {
            token: token.to_string(),
            ..self.clone()
        }
    }

    /// A request to `path` under `/api/v1`, with the token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends `body` (if any) to `path` under `/api/v1` and returns the status and the JSON
    /// answered (`null` if none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = request
            .send()
            .await
            .map_err(|e| format!("cannot reach Headway at {}: {e}", self.base))?;
        let status = reply.status().as_u16();
        let text = reply.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, json))
    }

    /// Like [`Remote::call`], with any status but the expected ones turned into why it failed.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        ok: &[u16],
    ) -> Result<Value, String> {
        let (status, json) = self.call(method, path, body).await?;
        if ok.contains(&status) {
            Ok(json)
        } else {
            Err(refused(status, &json))
        }
    }
}

/// Parameters given as NAME=VALUE: a number, true/false or JSON is taken as such, anything
/// else as text.
pub fn params(pairs: &[String]) -> Result<serde_json::Map<String, Value>, String> {
    let mut params = serde_json::Map::new();
    for p in pairs {
        let (name, value) = p
            .split_once('=')
            .ok_or_else(|| format!("--param {p:?}: write it NAME=VALUE"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        params.insert(name.to_string(), value);
    }
    Ok(params)
}

/// Why the server refused, in one line: its message and, for bad input, each field's.
pub fn refused(status: u16, json: &Value) -> String {
    let message = json["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| json.as_str().unwrap_or_default().trim().to_string());
    format!("the server refused ({status}): {}", printable(&message))
}

/// The operator token: `--admin-token`, or the file the server keeps next to its database.
fn operator_token(config: &Config) -> Result<String, String> {
    if let Some(t) = config.admin_token.as_deref() {
        return Ok(t.trim().to_string());
    }
    let dir = engine::store::local_dir(&config.database_url).ok_or_else(|| {
        "this database keeps no operator token file; pass --admin-token or set HEADWAY_TOKEN"
            .to_string()
    })?;
    let path = token_path(&dir);
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_string())
        .map_err(|e| {
            format!(
                "cannot read the operator token {} ({e}); start the server first, pass --admin-token, or set HEADWAY_TOKEN",
                path.display()
            )
        })
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

/// Text from the server (a log line, a message, an error, a name) as it may be printed on a
/// terminal: every control character but the tab (C0 and C1, so ESC and the CSI and OSC
/// sequences it starts: a clipboard write, a title change, a screen clear; BEL, CR, DEL) and
/// the marks that turn text around (bidi overrides and isolates) are written out visibly
/// (`\e`, `\a`, `\r`, `\u{9b}`), so that what another user wrote is read, never obeyed.
/// Every print of the server's data goes through it ([`printable_lines`] for text of many
/// lines).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !unsafe_on_terminal(c) => out.push(c),
            '\u{1b}' => out.push_str("\\e"),
            '\u{7}' => out.push_str("\\a"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// [`printable`] for text of many lines: each line on its own, the line breaks kept.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A character a terminal may act on rather than show: a control character (but the tab), or
/// a mark that reorders the text around it.
fn unsafe_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\t') || model::is_format_mark(c)
}

/// A time (Unix ms) as the command line prints it: RFC 3339 in the zone of the terminal that
/// runs it (`TZ`, or the machine's own), so that a line pasted elsewhere still names its moment:
/// `2026-11-28T20:31:05+08:00`.
pub fn local_time(ms: i64) -> String {
    engine::schedules::rfc_3339(ms, &jiff::tz::TimeZone::system())
}

#[cfg(test)]
mod printing_tests {
    use super::*;

    #[test]
    fn escapes_from_the_server_are_shown_not_obeyed() {
        assert_eq!(printable("plain\ttext ✓"), "plain\ttext ✓");
        assert_eq!(
            printable("\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{9b}2J\r\0\u{7f}"),
            "\\e]52;c;aGk=\\a\\e[2J\\x9b2J\\r\\0\\x7f"
        );
        assert_eq!(printable("\u{202e}vsc.exe"), "\\u{202e}vsc.exe");
        assert_eq!(printable_lines("a\u{1b}c\nb"), "a\\ec\nb");
        assert!(!printable("x\ny").contains('\n'));
    }
}
