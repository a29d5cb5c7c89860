//! Network grants: parsing `HOST:PORT` / `unix:PATH` endpoints and matching
//! socket addresses (as the guest passed them, copied) against them.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `None` host or port means any; a host is a network and prefix length.
    Ip { host: Option<(IpAddr, u8)>, port: Option<u16> },
    /// A unix socket path (exact match).
    Unix(Vec<u8>),
}

impl Endpoint {
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            return Ok(Endpoint::Unix(path.as_bytes().to_vec()));
        }
        let (host, port) =
            text.rsplit_once(':').ok_or_else(|| format!("endpoint {text:?} must be HOST:PORT or unix:PATH"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = match host {
            "*" => None,
            h => {
                let (ip, bits) = h.split_once('/').map_or((h, None), |(ip, b)| (ip, Some(b)));
                let ip = ip.parse::<IpAddr>().map_err(|_| format!("{h:?} is not an IP address, network or *"))?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    Some(b) => {
                        b.parse::<u8>().ok().filter(|&b| b <= max).ok_or_else(|| format!("{h:?}: bad prefix length"))?
                    }
                    None => max,
                };
                Some((ip, bits))
            }
        };
        let port = match port {
            "*" => None,
            p => Some(p.parse::<u16>().map_err(|_| format!("{p:?} is not a port number or *"))?),
        };
        Ok(Endpoint::Ip { host, port })
    }

    pub fn matches(&self, addr: &SockAddr) -> bool {
        match (self, addr) {
            (Endpoint::Ip { host, port }, SockAddr::Ip(ip, p)) => {
                (*host).is_none_or(|(net, bits)| in_network(*ip, net, bits)) && (*port).is_none_or(|q| q == *p)
            }
            (Endpoint::Unix(path), SockAddr::Unix(p)) => path == p,
            _ => false,
        }
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - bits as u32;
    shift >= width || a >> shift == b >> shift
}

/// The argument of a syscall that holds the socket address the `net`
/// grants judge, and whether it is a bind (else a destination).
pub fn address_arg(syscall: &str) -> Option<(usize, bool)> {
    match syscall {
        "connect" => Some((1, false)),
        "bind" => Some((1, true)),
        "sendto" => Some((4, false)),
        // The msghdr's destination, copied out by the host.
        "sendmsg" => Some((1, false)),
        _ => None,
    }
}

/// A decoded socket address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr {
    Ip(IpAddr, u16),
    Unix(Vec<u8>),
    /// Another family (number).
    Other(u16),
}

impl SockAddr {
    /// Decodes a `struct sockaddr` as the kernel would read it.
    pub fn decode(bytes: &[u8]) -> Option<SockAddr> {
        let family = u16::from_le_bytes(bytes.get(0..2)?.try_into().ok()?);
        let port = || Some(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?));
        match family {
            2 => {
                let a: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
                Some(SockAddr::Ip(IpAddr::from(a), port()?))
            }
            10 => {
                let a: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
                let ip = std::net::Ipv6Addr::from(a);
                let ip = ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4);
                Some(SockAddr::Ip(ip, port()?))
            }
            1 => {
                let path = &bytes[2..];
                let end = path.iter().position(|&b| b == 0).filter(|&e| e > 0).unwrap_or(path.len());
                Some(SockAddr::Unix(path[..end].to_vec()))
            }
            f => Some(SockAddr::Other(f)),
        }
    }
}

impl std::fmt::Display for SockAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SockAddr::Ip(IpAddr::V6(ip), port) => write!(f, "[{ip}]:{port}"),
            SockAddr::Ip(ip, port) => write!(f, "{ip}:{port}"),
            SockAddr::Unix(p) => write!(f, "unix:{}", String::from_utf8_lossy(p)),
            SockAddr::Other(fam) => write!(f, "family {fam}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_addresses() {
        let v4 = SockAddr::decode(&[2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(v4.to_string(), "127.0.0.1:8080");
        assert!(Endpoint::parse("127.0.0.1:8080").unwrap().matches(&v4));
        assert!(Endpoint::parse("*:8080").unwrap().matches(&v4));
        assert!(Endpoint::parse("127.0.0.1:*").unwrap().matches(&v4));
        assert!(!Endpoint::parse("127.0.0.1:80").unwrap().matches(&v4));
        assert!(!Endpoint::parse("[::1]:8080").unwrap().matches(&v4));
        let unix = SockAddr::decode(b"\x01\x00/run/x.sock\0").unwrap();
        assert!(Endpoint::parse("unix:/run/x.sock").unwrap().matches(&unix));
        assert!(Endpoint::parse("localhost:80").is_err());
        assert!(Endpoint::parse("127.0.0.0/8:*").unwrap().matches(&v4));
        assert!(!Endpoint::parse("10.0.0.0/8:*").unwrap().matches(&v4));
        assert!(Endpoint::parse("0.0.0.0/0:8080").unwrap().matches(&v4));
        assert!(Endpoint::parse("127.0.0.1/33:*").is_err());
    }
}
