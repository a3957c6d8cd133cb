//! The hosts this server answers for. A request whose `Host` names another is refused with
//! `421 Misdirected Request` before any handler runs, streams and pages included.
//!
//! Why: a web page on any site can make a browser send requests to `http://name:port/` for a
//! name whose DNS the page's author controls, and then point that name at 127.0.0.1 (DNS
//! rebinding). The browser takes those requests as same-origin with the page, so nothing in
//! them looks cross-site; only the `Host` they carry gives them away.
//!
//! - On a loopback address: `localhost`, `127.0.0.1` and `[::1]`, on any port, and the names
//!   given with `--allowed-host` or `--public-url`.
//! - Elsewhere: the names given; without any, hosts written as IP addresses (a name that
//!   resolves somewhere else cannot be rebound to them) and `localhost`.
//!
//! `/healthz` and `/readyz` answer whatever the host: load balancers probe a process by its
//! address, and they say nothing about anyone's jobs.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use model::{AppError, ErrorCode};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The hosts this server answers for.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// Names, lower-cased, without ports (`[::1]` with its brackets).
    names: Arc<Vec<String>>,
    /// Any host written as an IP address is accepted too.
    any_address: bool,
}

impl Hosts {
    /// The hosts for a server bound to `bind`, with the names the operator gave.
    pub fn new(bind: SocketAddr, given: &[String], public_url: Option<&url::Url>) -> Hosts {
        let mut names: Vec<String> = given.iter().map(|n| n.to_ascii_lowercase()).collect();
        if let Some(host) = public_url.and_then(|u| u.host_str()) {
            names.push(host.to_ascii_lowercase());
        }
        let any_address = !bind.ip().is_loopback() && names.is_empty();
        if bind.ip().is_loopback() || any_address {
            names.extend(["localhost", "127.0.0.1", "[::1]"].map(String::from));
        }
        names.sort();
        names.dedup();
        Hosts {
            names: Arc::new(names),
            any_address,
        }
    }

    /// Whether a request for `host` (as `Host` carries it, maybe with a port) is answered.
    pub fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        if self.names.contains(&name) {
            return true;
        }
        self.any_address && is_ip_literal(&name)
    }
}

/// The host part of a `Host` value: `name`, `1.2.3.4` or `[::1]`, without the port; `None`
/// when it is not of that shape.
fn host_name(host: &str) -> Option<&str> {
    let host = host.trim();
    let name = if host.starts_with('[') {
        let end = host.find(']')?;
        let rest = &host[end + 1..];
        if !(rest.is_empty() || valid_port(rest.strip_prefix(':')?)) {
            return None;
        }
        &host[..=end]
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if valid_port(port) => name,
            Some(_) => return None,
            None => host,
        }
    };
    (!name.is_empty()).then_some(name)
}

fn valid_port(port: &str) -> bool {
    !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
}

fn is_ip_literal(name: &str) -> bool {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => name.parse::<IpAddr>().is_ok(),
    }
}

/// Refuses requests for hosts this server does not answer for.
pub async fn refuse_other_hosts(State(hosts): State<Hosts>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    // An absolute-form request line names its host itself; otherwise `Host` does.
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        });
    match host {
        Some(host) if hosts.allows(&host) => next.run(req).await,
        host => {
            let shown: String = host
                .as_deref()
                .unwrap_or("(none)")
                .chars()
                .take(100)
                .collect();
            tracing::warn!(host = %shown, path, "request for another host refused");
            let error = AppError::new(
                ErrorCode::MisdirectedRequest,
                format!(
                    "this server does not answer for the host {shown:?}; it answers for {} \
                     (its operator can add a name with --allowed-host or --public-url)",
                    match hosts.any_address {
                        true => "IP addresses and ".to_string() + &hosts.names.join(", "),
                        false => hosts.names.join(", "),
                    }
                ),
            );
            let mut response = ApiError(error).into_response();
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(bind: &str, given: &[&str], public: Option<&str>) -> Hosts {
        let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
        let url = public.map(|u| url::Url::parse(u).unwrap());
        Hosts::new(bind.parse().unwrap(), &given, url.as_ref())
    }

    #[test]
    fn a_loopback_server_answers_for_loopback_names_on_any_port() {
        let h = hosts("127.0.0.1:3000", &[], None);
        for ok in [
            "localhost",
            "localhost:3000",
            "LOCALHOST:9",
            "127.0.0.1:3000",
            "127.0.0.1",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for refused in [
            "rebind.evil.example:3000",
            "rebind.evil.example",
            "127.0.0.2:3000",
            "10.0.0.1",
            "localhost.evil.example",
            "localhost:abc",
            "localhost:3000:1",
            "[::1]x",
            "",
            ":3000",
        ] {
            assert!(!h.allows(refused), "{refused:?}");
        }
    }

    #[test]
    fn names_given_are_answered_for_besides() {
        let h = hosts(
            "127.0.0.1:3000",
            &["jobs.internal"],
            Some("https://Jobs.Example.com/"),
        );
        assert!(h.allows("jobs.internal:3000"));
        assert!(h.allows("jobs.example.com"));
        assert!(h.allows("localhost:3000"));
        assert!(!h.allows("other.example.com"));
    }

    #[test]
    fn beyond_loopback_without_names_only_addresses_are_answered() {
        let h = hosts("0.0.0.0:3000", &[], None);
        assert!(h.allows("192.168.1.5:3000"));
        assert!(h.allows("[2001:db8::1]:3000"));
        assert!(h.allows("localhost:3000"));
        assert!(!h.allows("jobs.example.com:3000"));
        // Once names are given, only they are.
        let h = hosts("0.0.0.0:3000", &["jobs.example.com"], None);
        assert!(h.allows("jobs.example.com:443"));
        assert!(!h.allows("192.168.1.5:3000"));
        assert!(!h.allows("localhost"));
    }
}
