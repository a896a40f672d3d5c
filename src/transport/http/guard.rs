//! DNS-rebinding protection: a present Origin must be allowed, and while bound to loopback the
//! Host must name loopback too (a rebound name such as evil.example.com is refused).

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

#[derive(Debug, Clone)]
pub struct Guard {
    /// When bound to loopback: only loopback names (plus `extra_hosts`) may appear in Host.
    check_host: bool,
    extra_hosts: Vec<String>,
    extra_origins: Vec<String>,
}

impl Guard {
    pub fn new(loopback: bool, extra_hosts: Vec<String>, extra_origins: Vec<String>) -> Self {
        let lower =
            |v: Vec<String>| v.into_iter().map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect();
        let extra_hosts: Vec<String> = lower(extra_hosts);
        Self { check_host: loopback || !extra_hosts.is_empty(), extra_hosts, extra_origins: lower(extra_origins) }
    }

    /// `Err(reason)` when the request must be refused with 403.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        if self.check_host {
            let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            let name = strip_port(host);
            if !is_loopback_name(name) && !self.extra_hosts.iter().any(|h| h == name || h == host) {
                return Err(format!("Host {host:?} is not allowed (DNS rebinding protection)"));
            }
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
            let host = origin.split_once("://").map_or("", |(_, rest)| rest);
            // A loopback page may talk to a loopback-bound Tally; anything else must be listed.
            let allowed =
                (self.check_host && is_loopback_name(strip_port(host))) || self.extra_origins.contains(&origin);
            if !allowed {
                return Err(format!("Origin {origin:?} is not allowed"));
            }
        }
        Ok(())
    }
}

fn strip_port(host: &str) -> &str {
    let host = host.trim().trim_end_matches('/');
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().map_or(host, |h| h);
    }
    host.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(host, |(name, _)| name)
}

fn is_loopback_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "localhost" || name == "::1" || name.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn loopback_binding_refuses_foreign_hosts_and_origins() {
        let g = Guard::new(true, vec![], vec![]);
        assert!(g.check(&headers(&[("host", "127.0.0.1:8080")])).is_ok());
        assert!(g.check(&headers(&[("host", "localhost:8080"), ("origin", "http://localhost:6274")])).is_ok());
        assert!(g.check(&headers(&[("host", "[::1]:8080")])).is_ok());
        assert!(g.check(&headers(&[("host", "evil.example.com")])).is_err());
        assert!(g.check(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.example.com")])).is_err());
    }

    #[test]
    fn public_binding_checks_origins_and_listed_hosts() {
        let g = Guard::new(false, vec![], vec!["https://app.example.com".into()]);
        assert!(g.check(&headers(&[("host", "tally.internal:8080")])).is_ok());
        assert!(g.check(&headers(&[("host", "x"), ("origin", "https://app.example.com")])).is_ok());
        assert!(g.check(&headers(&[("host", "x"), ("origin", "https://other.example.com")])).is_err());
        let g = Guard::new(false, vec!["tally.internal".into()], vec![]);
        assert!(g.check(&headers(&[("host", "tally.internal:8080")])).is_ok());
        assert!(g.check(&headers(&[("host", "evil.example.com")])).is_err());
    }
}
