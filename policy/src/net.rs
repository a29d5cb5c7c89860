//! Network grants: parsing `HOST:PORT` / `unix:PATH` endpoints and matching
//! socket addresses (as the guest passed them, copied) against them.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `None` host or port means any.
    Ip {
        host: Option<IpAddr>,
        port: Option<u16>,
    },
    /// A unix socket path (exact match).
    Unix(Vec<u8>),
}

impl Endpoint {
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            return Ok(Endpoint::Unix(path.as_bytes().to_vec()));
        }
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("endpoint {text:?} must be HOST:PORT or unix:PATH"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = match host {
            "*" => None,
            h => Some(
                h.parse::<IpAddr>()
                    .map_err(|_| format!("{h:?} is not an IP address or *"))?,
            ),
        };
        let port = match port {
            "*" => None,
            p => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("{p:?} is not a port number or *"))?,
            ),
        };
        Ok(Endpoint::Ip { host, port })
    }

    pub fn matches(&self, addr: &SockAddr) -> bool {
        match (self, addr) {
            (Endpoint::Ip { host, port }, SockAddr::Ip(ip, p)) => {
                host.is_none_or(|h| h == *ip) && port.is_none_or(|q| q == *p)
            }
            (Endpoint::Unix(path), SockAddr::Unix(p)) => path == p,
            _ => false,
        }
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
                let end = path
                    .iter()
                    .position(|&b| b == 0)
                    .filter(|&e| e > 0)
                    .unwrap_or(path.len());
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
        let v4 =
            SockAddr::decode(&[2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(v4.to_string(), "127.0.0.1:8080");
        assert!(Endpoint::parse("127.0.0.1:8080").unwrap().matches(&v4));
        assert!(Endpoint::parse("*:8080").unwrap().matches(&v4));
        assert!(Endpoint::parse("127.0.0.1:*").unwrap().matches(&v4));
        assert!(!Endpoint::parse("127.0.0.1:80").unwrap().matches(&v4));
        assert!(!Endpoint::parse("[::1]:8080").unwrap().matches(&v4));
        let unix = SockAddr::decode(b"\x01\x00/run/x.sock\0").unwrap();
        assert!(Endpoint::parse("unix:/run/x.sock").unwrap().matches(&unix));
        assert!(Endpoint::parse("localhost:80").is_err());
    }
}
