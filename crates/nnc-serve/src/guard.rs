//! Who may talk to the server: every request carries the token printed with the URL (as
//! `?token=` or the `X-NNC-Token` header), its `Host` names the address the server is
//! bound to (a page on another site that rebinds its DNS name to 127.0.0.1 sends its own
//! name), and an `Origin`, when there is one, is the server's own (no cross-site
//! requests from other pages in the same browser).

use std::net::SocketAddr;

/// The checks of one server.
pub(crate) struct Guard {
    pub token: String,
    /// `host:port` values a request's `Host` may have.
    hosts: Vec<String>,
}

/// Why a request is refused.
#[derive(Debug, PartialEq)]
pub(crate) enum Refusal {
    Token,
    Host,
    Origin,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::Token => "a valid token is required: open the URL nnc serve printed",
            Refusal::Host => "the Host header does not name this server",
            Refusal::Origin => "requests from other sites are refused",
        }
    }
}

impl Guard {
    pub fn new(addr: SocketAddr) -> Guard {
        let port = addr.port();
        let mut hosts = vec![format!("{}:{port}", host_text(addr))];
        if addr.ip().is_loopback() {
            hosts.extend([format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")]);
        }
        Guard { token: random_token(), hosts }
    }

    /// Checks a request's headers and token (`query` is its URL's query string).
    pub fn check(&self, host: Option<&str>, origin: Option<&str>, token: Option<&str>) -> Result<(), Refusal> {
        if !host.is_some_and(|h| self.hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(h))) {
            return Err(Refusal::Host);
        }
        if let Some(origin) = origin {
            let own = self.hosts.iter().any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")));
            if !own {
                return Err(Refusal::Origin);
            }
        }
        // Compared in constant time: the token is the only secret.
        let given = token.unwrap_or_default().as_bytes();
        let wanted = self.token.as_bytes();
        let same = given.len() == wanted.len() && given.iter().zip(wanted).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
        if same { Ok(()) } else { Err(Refusal::Token) }
    }
}

fn host_text(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    }
}

/// 32 random hexadecimal digits (128 bits), from the operating system's generator.
fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

/// The value of `key` in a URL query string (`a=1&token=x`), undecoded: tokens are hex.
pub(crate) fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:8123".parse().unwrap_or_else(|_| unreachable!()))
    }

    #[test]
    fn the_token_host_and_origin_must_all_be_right() {
        let g = guard();
        let token = g.token.clone();
        let ok = Some(token.as_str());
        assert_eq!(g.check(Some("127.0.0.1:8123"), None, ok), Ok(()));
        assert_eq!(g.check(Some("localhost:8123"), Some("http://localhost:8123"), ok), Ok(()));
        assert_eq!(g.check(Some("127.0.0.1:8123"), None, None), Err(Refusal::Token));
        assert_eq!(g.check(Some("127.0.0.1:8123"), None, Some("0000")), Err(Refusal::Token));
        assert_eq!(g.check(Some("evil.example:8123"), None, ok), Err(Refusal::Host));
        assert_eq!(g.check(None, None, ok), Err(Refusal::Host));
        assert_eq!(g.check(Some("127.0.0.1:9999"), None, ok), Err(Refusal::Host));
        assert_eq!(g.check(Some("127.0.0.1:8123"), Some("http://evil.example"), ok), Err(Refusal::Origin));
    }

    #[test]
    fn tokens_are_long_and_differ() {
        let (a, b) = (guard().token, guard().token);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(query_value(&format!("x=1&token={a}"), "token"), Some(a.as_str()));
        assert_eq!(query_value("tokenx=1", "token"), None);
    }
}
