//! Where deliveries may go. A webhook's URL is checked when it is registered and its host's
//! addresses again at every connection (a name may resolve elsewhere later): loopback,
//! private, link-local, shared (CGNAT), unique-local, multicast and unspecified addresses are
//! refused unless the operator allows them (`--webhook-allow-private`), so that a user cannot
//! point Headway at the machine it runs on or the network behind it.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether a delivery may go to `ip`, which is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking, 198.18.0.0/15, and reserved, 240.0.0.0/4.
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local, fc00::/7; link-local, fe80::/10; site-local, fec0::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible (deprecated) and NAT64 forms carry an IPv4 address.
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// Why a URL's host is refused, if it is: it is, or resolves to, an address that is not public.
pub async fn refusal(url: &url::Url, allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    let host = url.host()?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host {
        url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
        url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        url::Host::Domain(name) => match tokio::net::lookup_host((name, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(e) => return Some(format!("{name} does not resolve: {e}")),
        },
    };
    addrs.into_iter().find(|ip| !is_public(*ip)).map(|ip| {
        format!("{ip} is a loopback, private or link-local address, which webhooks may not reach")
    })
}

/// A resolver that hands the connection only public addresses (all of them, unless the
/// operator allows private ones), so that a name cannot be made to point inside between the
/// check at registration and a delivery.
pub struct PublicOnly {
    pub allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if kept.is_empty() && !found.is_empty() {
                return Err(format!(
                    "{} resolves to {}, a loopback, private or link-local address, which webhooks may not reach",
                    name.as_str(),
                    found[0].ip()
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_refused_and_outside_ones_kept() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"] {
            assert!(is_public(outside.parse().unwrap()), "{outside}");
        }
    }

    #[tokio::test]
    async fn a_url_is_refused_for_its_address_unless_private_ones_are_allowed() {
        let url = url::Url::parse("http://127.0.0.1:9/hook").unwrap();
        let why = refusal(&url, false).await.unwrap();
        assert!(why.contains("127.0.0.1"), "{why}");
        assert_eq!(refusal(&url, true).await, None);
        let named = url::Url::parse("http://localhost:9/hook").unwrap();
        assert!(refusal(&named, false).await.is_some());
        let v6 = url::Url::parse("http://[::1]:9/hook").unwrap();
        assert!(refusal(&v6, false).await.is_some());
    }
}
