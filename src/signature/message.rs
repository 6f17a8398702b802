//! An HTTP request as the signer and verifier see it: method, target, the scheme and authority
//! it was sent to (RFC 9421 signs them), headers (multi-valued, case-insensitive names, order
//! kept) and body; and reading one back from its raw HTTP/1.1 text.

/// The request target of `url` as sent on the wire: its path and query.
pub fn request_target(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The scheme and authority of an origin, or `None` where it is not a URL. The last one parsed
/// on each thread is kept: a run sends thousands of requests to one origin, and parsing it again
/// was a twentieth of planning a request.
fn origin_parts(origin: &str) -> Option<(String, String)> {
    /// An origin, and its scheme and authority where it is a URL.
    type Parsed = (String, Option<(String, String)>);
    thread_local! {
        static LAST: std::cell::RefCell<Option<Parsed>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, parts)) if seen == origin => parts.clone(),
        _ => {
            let parts = parse_origin(origin);
            *last = Some((origin.to_string(), parts.clone()));
            parts
        }
    })
}

fn parse_origin(origin: &str) -> Option<(String, String)> {
    let url = url::Url::parse(origin).ok()?;
    let authority = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => String::new(),
    };
    Some((url.scheme().to_string(), authority))
}

/// An HTTP request in memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Upper-case HTTP method as sent on the wire (`POST`).
    pub method: String,
    /// Path and query as sent on the wire (`/client/v1/register?x=1`).
    pub target: String,
    /// `https` unless told otherwise.
    pub scheme: String,
    /// Host and port (the port left out where it is the scheme's default), as the `Host` header
    /// carries them; empty where unknown.
    pub authority: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn new(method: &str, target: &str, body: impl Into<Vec<u8>>) -> Self {
        Message {
            method: method.to_ascii_uppercase(),
            target: target.to_string(),
            scheme: "https".into(),
            authority: String::new(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Every value of header `name`, in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Replaces every value of `name` by `value` (appended where there was none).
    pub fn set_header(&mut self, name: &str, value: &str) {
        match self.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(at) => {
                self.headers[at].1 = value.to_string();
                let mut index = 0;
                self.headers.retain(|(n, _)| {
                    index += 1;
                    index - 1 == at || !n.eq_ignore_ascii_case(name)
                });
            }
            None => self.headers.push((name.to_string(), value.to_string())),
        }
    }

    /// Adds a value without touching existing ones (for duplicated headers).
    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_string(), value.to_string()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The request as it goes on the wire (HTTP/1.1, with a Host where the authority is known).
    pub fn to_raw(&self) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        if !self.authority.is_empty() && self.header("host").is_none() {
            head.push_str(&format!("Host: {}\r\n", self.authority));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut raw = head.into_bytes();
        raw.extend_from_slice(&self.body);
        raw
    }

    /// Sets scheme and authority from an origin (`https://host:port`); an origin that is not a
    /// URL leaves them as they were.
    pub fn set_origin(&mut self, origin: &str) {
        if let Some((scheme, authority)) = origin_parts(origin) {
            self.scheme = scheme;
            self.authority = authority;
        }
    }

    /// `scheme://authority/path?query`, the RFC 9421 `@target-uri`.
    pub fn target_uri(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.target)
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// Why a captured request could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RawError {
    #[error("not an HTTP/1.1 request: {0}")]
    Syntax(String),
    #[error("the request ends inside its headers (no blank line after them)")]
    Incomplete,
    #[error("header `{0}` is not text")]
    NotText(String),
    #[error("more than {0} headers")]
    TooManyHeaders(usize),
}

const MAX_RAW_HEADERS: usize = 128;

impl Message {
    /// Reads a request as it goes on the wire: request line, headers, blank line, body. A bare
    /// `\n` is accepted for `\r\n` (captures pasted from a terminal lose the `\r`), and the body
    /// is what follows the blank line, whatever its `Content-Length` says.
    pub fn from_raw(raw: &[u8]) -> Result<Message, RawError> {
        let mut slots = [httparse::EMPTY_HEADER; MAX_RAW_HEADERS];
        let mut request = httparse::Request::new(&mut slots);
        let head = match request.parse(raw) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Err(RawError::Incomplete),
            Err(httparse::Error::TooManyHeaders) => return Err(RawError::TooManyHeaders(MAX_RAW_HEADERS)),
            Err(e) => return Err(RawError::Syntax(e.to_string())),
        };
        let mut msg = Message::new(request.method.unwrap_or("GET"), request.path.unwrap_or("/"), raw[head..].to_vec());
        for h in request.headers.iter() {
            let value = std::str::from_utf8(h.value).map_err(|_| RawError::NotText(h.name.to_string()))?;
            msg.add_header(h.name, value.trim());
        }
        // An absolute-form target (a proxy's) carries the origin itself.
        if let Ok(url) = url::Url::parse(&msg.target) {
            msg.set_origin(&url.origin().ascii_serialization());
            msg.target = request_target(&url);
        } else if let Some(host) = msg.header("host") {
            msg.authority = host.to_ascii_lowercase();
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_header_replaces_all_values_case_insensitively_and_keeps_position() {
        let mut m = Message::new("post", "/x", "");
        m.add_header("A", "1");
        m.add_header("digest", "old");
        m.add_header("B", "2");
        m.add_header("DIGEST", "older");
        m.set_header("Digest", "new");
        assert_eq!(
            m.headers,
            vec![("A".into(), "1".into()), ("digest".into(), "new".into()), ("B".into(), "2".into())]
        );
        assert_eq!(m.method, "POST");
    }

    #[test]
    fn raw_requests_are_read_with_lf_or_crlf_and_the_host_becomes_the_authority() {
        for raw in [
            "POST /foo?a=1 HTTP/1.1\r\nHost: Example.com:8443\r\nDate: x\r\n\r\n{}",
            "POST /foo?a=1 HTTP/1.1\nHost: Example.com:8443\nDate: x\n\n{}",
        ] {
            let m = Message::from_raw(raw.as_bytes()).expect(raw);
            assert_eq!((m.method.as_str(), m.target.as_str(), m.body.as_slice()), ("POST", "/foo?a=1", &b"{}"[..]));
            assert_eq!(m.target_uri(), "https://example.com:8443/foo?a=1");
            assert_eq!(m.header("date"), Some("x"));
        }
        let absolute = Message::from_raw(b"GET http://h.example/p HTTP/1.1\r\n\r\n").expect("absolute form");
        assert_eq!(absolute.target_uri(), "http://h.example/p");
        assert_eq!(Message::from_raw(b"POST /x HTTP/1.1\r\nDate: y\r\n"), Err(RawError::Incomplete));
        assert!(matches!(Message::from_raw(b"not http at all\r\n\r\n"), Err(RawError::Syntax(_))));
    }

    #[test]
    fn an_origin_sets_scheme_and_authority_without_a_default_port() {
        let mut m = Message::new("GET", "/p?q", "");
        m.set_origin("https://bank.example:443");
        assert_eq!(m.target_uri(), "https://bank.example/p?q");
        m.set_origin("https://127.0.0.1:8443");
        assert_eq!(m.authority, "127.0.0.1:8443");
        m.set_origin("not a url");
        assert_eq!(m.authority, "127.0.0.1:8443", "what is not a URL changes nothing");
        // The same origin again, answered from the thread's last one, and then another.
        for (origin, uri) in [
            ("http://h.example:80", "http://h.example/p?q"),
            ("http://h.example:80", "http://h.example/p?q"),
            ("https://B.example:8443", "https://b.example:8443/p?q"),
        ] {
            m.set_origin(origin);
            assert_eq!(m.target_uri(), uri, "{origin}");
        }
    }
}
