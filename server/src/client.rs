//! Who the client of a request is: the connection's peer, unless that peer is a trusted proxy
//! (`--trusted-proxy`), whose `X-Forwarded-For` (or `X-Real-IP`) then names the client. Whether
//! that client is on this machine decides what a loopback-only server shows without
//! credentials (`/metrics`, `/system`): a request relayed by a proxy from elsewhere is not
//! local, whatever address the server listens on.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The client of a request, as [`identify_client`] found it (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub addr: IpAddr,
    /// On a server that listens on loopback only, the client is on this machine too (not
    /// relayed from elsewhere by a proxy).
    pub local: bool,
}

/// What [`identify_client`] needs: the proxies believed, whether the server listens on
/// loopback only, and whether it is open (no accounts).
#[derive(Debug, Clone)]
pub struct Clients {
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    pub loopback_bind: bool,
    pub open_mode: bool,
}

impl Clients {
    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        let addr = client_address(peer, headers, &self.trusted_proxies);
        Client {
            addr,
            local: self.loopback_bind && addr.is_loopback(),
        }
    }
}

/// Puts the request's [`Client`] in its extensions, and whether `/system` is shown to it
/// without a role (a local client of an open server).
pub async fn identify_client(
    State(clients): State<Clients>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let client = clients.client(peer, req.headers());
    req.extensions_mut().insert(client);
    req.extensions_mut().insert(app::server_fns::SystemOpen(
        client.local && clients.open_mode,
    ));
    next.run(req).await
}

/// Who the client is: `peer`, or if `peer` is a trusted proxy, the address it forwarded.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    // From the nearest hop back: the first address that is not one of our proxies.
    if let Some(client) = forwarded.iter().rev().find(|a| !trusted.contains(a)) {
        return *client;
    }
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.9".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 198.51.100.2")]);
        // Untrusted peer: whatever it claims, it is the client.
        assert_eq!(client_address(other, &h, &[proxy]), other);
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        // Trusted: the nearest forwarded address.
        assert_eq!(
            client_address(proxy, &h, &[proxy]),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
        // A chain of our own proxies is skipped.
        let chain = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.9")]);
        assert_eq!(
            client_address(proxy, &chain, &[proxy, other]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Without X-Forwarded-For, X-Real-IP; without either, the proxy itself.
        let real = headers(&[("x-real-ip", "203.0.113.8")]);
        assert_eq!(
            client_address(proxy, &real, &[proxy]),
            "203.0.113.8".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
        // Garbage is ignored.
        let junk = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_address(proxy, &junk, &[proxy]), proxy);
    }
}
