//! The spectators' page: one HTML page, its style sheet and its script,
//! built into the binary (no build step, nothing fetched from elsewhere). It
//! is a viewer client of docs/protocol.md like any other.

/// A file of the page.
#[derive(Debug, PartialEq, Eq)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

pub const ASSETS: [Asset; 3] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../web/index.html"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/app.js"),
    },
    Asset {
        path: "/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../web/style.css"),
    },
];

/// The page's file at `path`, if it is one (`/index.html` is `/`).
pub fn asset(path: &str) -> Option<&'static Asset> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

/// Headers for every file of the page: only this server's own scripts,
/// styles and WebSocket; no framing by other sites; no sniffing.
pub const HEADERS: &str = "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'\r\nx-content-type-options: nosniff\r\nreferrer-policy: no-referrer\r\n";

/// Whether a WebSocket handshake's `Origin` is this server's own page: the
/// scheme the connection came in on, and the `Host` it asked for.
pub fn own_origin(origin: &[u8], host: Option<&[u8]>, tls: bool) -> bool {
    let (Ok(origin), Some(Ok(host))) = (std::str::from_utf8(origin), host.map(std::str::from_utf8))
    else {
        return false;
    };
    let scheme = if tls { "https" } else { "http" };
    let origin = origin.trim().trim_end_matches('/');
    origin.eq_ignore_ascii_case(&format!("{scheme}://{}", host.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_small_and_whole() {
        let total: usize = ASSETS.iter().map(|a| a.body.len()).sum();
        assert!(total < 100 * 1024, "the page is {total} bytes");
        let html = asset("/").unwrap().body;
        assert!(html.contains("/app.js") && html.contains("/style.css"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing from elsewhere"
        );
        assert_eq!(asset("/index.html"), asset("/"));
        assert!(asset("/../etc/passwd").is_none());
    }

    #[test]
    fn only_the_servers_own_origin_is_its_own() {
        assert!(own_origin(
            b"http://10.0.0.5:7878",
            Some(b"10.0.0.5:7878"),
            false
        ));
        assert!(own_origin(
            b"https://auction.local:7878/",
            Some(b"auction.local:7878"),
            true
        ));
        assert!(!own_origin(
            b"http://auction.local:7878",
            Some(b"auction.local:7878"),
            true
        ));
        assert!(!own_origin(
            b"http://evil.example",
            Some(b"10.0.0.5:7878"),
            false
        ));
        assert!(!own_origin(b"http://10.0.0.5:7878", None, false));
    }
}
