//! An HTTP request as the signer and verifier see it: method, target, headers (multi-valued,
//! case-insensitive names, order kept) and body.

/// The request target of `url` as sent on the wire: its path and query.
pub fn request_target(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// An HTTP request in memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Upper-case HTTP method as sent on the wire (`POST`).
    pub method: String,
    /// Path and query as sent on the wire (`/client/v1/register?x=1`).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn new(method: &str, target: &str, body: impl Into<Vec<u8>>) -> Self {
        Message {
            method: method.to_ascii_uppercase(),
            target: target.to_string(),
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

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
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
}
