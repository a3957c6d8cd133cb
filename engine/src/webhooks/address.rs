//! Where deliveries may go. A webhook's URL is checked when it is registered and its host's
//! addresses again at every connection (a name may resolve elsewhere later): loopback,
//! private, link-local, shared (CGNAT), unique-local, multicast and unspecified addresses are
//! refused, and so are IPv6 addresses that carry one of those (IPv4-mapped, -compatible and
//! -translated, NAT64, 6to4, Teredo: the IPv4 rules apply to what they carry), unless the
//! operator allows them (`--webhook-allow-private`), so that a user cannot point Headway at
//! the machine it runs on or the network behind it.

use model::words::webhooks as words;
use model::Words;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether a delivery may go to `ip`, which is on the public internet. An IPv6 address that
/// carries an IPv4 one ([`embedded_v4`]) is judged by the IPv4 rules on what it carries.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
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
        // IETF protocol assignments, 192.0.0.0/24 (DS-Lite, NAT64 discovery…).
        || (a == 192 && b == 0 && c == 0)
        // 6to4 relay anycast, 192.88.99.0/24 (deprecated).
        || (a == 192 && b == 88 && c == 99)
        // Benchmarking, 198.18.0.0/15, and reserved, 240.0.0.0/4.
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_loopback() || ip.is_unspecified() {
        return false;
    }
    // Local-use NAT64, 64:ff9b:1::/48 (RFC 8215): translated to addresses of the local network.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 0x0001 {
        return false;
    }
    let carried = embedded_v4(ip);
    if !carried.is_empty() {
        return carried.into_iter().all(is_public_v4);
    }
    !(ip.is_multicast()
        // Unique local, fc00::/7; link-local, fe80::/10; site-local, fec0::/10.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // Documentation, 2001:db8::/32.
        || (s[0] == 0x2001 && s[1] == 0x0db8))
}

/// The IPv4 addresses an IPv6 address carries, by which it reaches an IPv4 host: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), SIIT's IPv4-translated
/// (`::ffff:0:a.b.c.d`), NAT64's well-known prefix (`64:ff9b::a.b.c.d`), 6to4 (`2002:AABB:CCDD::`)
/// and Teredo (`2001:0:SSSS:SSSS::`, its server, and its client's address inverted in the last
/// 32 bits). Empty for any other address.
fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-mapped and IPv4-compatible (`::` and `::1` are told apart by the caller).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => vec![v4(hi, lo)],
        // IPv4-translated (SIIT), ::ffff:0:0/96.
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => vec![v4(hi, lo)],
        // NAT64, 64:ff9b::/96.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => vec![v4(hi, lo)],
        // 6to4, 2002::/16.
        [0x2002, hi, lo, ..] => vec![v4(hi, lo)],
        // Teredo, 2001::/32: the server, and the client (its bits inverted).
        [0x2001, 0, server_hi, server_lo, _, _, hi, lo] => {
            vec![v4(server_hi, server_lo), v4(!hi, !lo)]
        }
        _ => Vec::new(),
    }
}

/// Why a URL's host is refused, if it is: it is, or resolves to, an address that is not public.
pub async fn refusal(url: &url::Url, allow_private: bool) -> Option<Words> {
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
            Err(e) => return Some(words::no_such_host(name, e)),
        },
    };
    addrs
        .into_iter()
        .find(|ip| !is_public(*ip))
        .map(words::private_address)
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
            // IETF protocol assignments, 192.0.0.0/24.
            "192.0.0.1",
            "192.0.0.170",
            // IPv4-compatible.
            "::127.0.0.1",
            "::10.0.0.1",
            // SIIT, IPv4-translated.
            "::ffff:0:127.0.0.1",
            "::ffff:0:a9fe:a9fe",
            // NAT64, well-known prefix and local use.
            "64:ff9b::7f00:1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::192.168.1.1",
            "64:ff9b:1::1.1.1.1",
            "64:ff9b:1:ab::8.8.8.8",
            // 6to4 of inside addresses.
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:c0a8:101::",
            // Teredo whose client (inverted) is loopback, or whose server is private.
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "2001:0:a00:1:8000:63bf:fefe:fefe",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for outside in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "192.0.1.1",
            "::ffff:1.1.1.1",
            "64:ff9b::1.1.1.1",
            "2002:101:101::1",
            // Teredo: server 65.54.227.120, client 1.1.1.1 (inverted: fefe:fefe).
            "2001:0:4136:e378:8000:63bf:fefe:fefe",
        ] {
            assert!(is_public(outside.parse().unwrap()), "{outside}");
        }
    }

    #[tokio::test]
    async fn a_url_is_refused_for_its_address_unless_private_ones_are_allowed() {
        let url = url::Url::parse("http://127.0.0.1:9/hook").unwrap();
        let why = refusal(&url, false).await.unwrap();
        assert!(why.english.contains("127.0.0.1"), "{why}");
        assert_eq!(refusal(&url, true).await, None);
        let named = url::Url::parse("http://localhost:9/hook").unwrap();
        assert!(refusal(&named, false).await.is_some());
        let v6 = url::Url::parse("http://[::1]:9/hook").unwrap();
        assert!(refusal(&v6, false).await.is_some());
    }
}
