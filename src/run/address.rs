//! Where a request about a client goes: a server-issued client id as one path segment, another
//! id put where a client's configuration URI holds its own, a URI used as the server gave it.
//! Pure functions of strings; they must not send or read anything.

use crate::scenario::template::Vars;

/// A server-issued client id as one path segment: every character that means something in a
/// URL (`/`, `?`, `#`, `%`, `..` as a whole segment, spaces, controls) percent-encoded, so that
/// the id cannot send the request, and the client's token, to another path or change its query.
pub fn path_segment(id: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    // RFC 3986 §3.3 pchar, less the sub-delims a server could read as structure.
    const SEGMENT: &AsciiSet =
        &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b':').remove(b'@');
    match id {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => utf8_percent_encode(id, SEGMENT).to_string(),
    }
}

/// A client's configuration URI with its id replaced by `other` where it stands: the last path
/// segment that is the id, else a query value that is; none if the id is in neither.
pub(super) fn with_other_id(uri: &str, id: &str, other: &str) -> Option<String> {
    let mut url = reqwest::Url::parse(uri).ok()?;
    let segments: Vec<String> = url
        .path_segments()?
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    if let Some(at) = segments.iter().rposition(|s| s == id) {
        let mut path: Vec<String> = segments.iter().map(|s| path_segment(s)).collect();
        path[at] = path_segment(other);
        url.set_path(&format!("/{}", path.join("/")));
        return Some(url.to_string());
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if !pairs.iter().any(|(_, v)| v == id) {
        return None;
    }
    let replaced = pairs.into_iter().map(|(k, v)| (k, if v == id { other.to_string() } else { v }));
    url.query_pairs_mut().clear().extend_pairs(replaced);
    Some(url.to_string())
}

/// A variable's value in a raw request's path: a client's id as one path segment.
pub(super) fn in_path(vars: &Vars, name: &str) -> Option<String> {
    let value = vars.get(name)?;
    let is_id = name.strip_suffix(crate::scenario::template::client_field::ID).is_some_and(|n| n.ends_with('.'));
    Some(if is_id { path_segment(value) } else { value.clone() })
}

/// A URI as the server gave it: its path and query, and its origin.
pub(super) fn opaque(uri: &str) -> (String, Option<String>) {
    match reqwest::Url::parse(uri) {
        Ok(url) => (crate::signature::request_target(&url), Some(url.origin().ascii_serialization())),
        // A relative reference: against the target itself.
        Err(_) => (uri.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_path_takes_client_ids_as_one_segment_and_other_values_as_they_are() {
        let vars: Vars = [("client.id", "a/b"), ("other.id", "x y"), ("client.uri", "https://h/r/a"), ("paid", "p/q")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let cases = [
            ("client.id", Some("a%2Fb")),
            ("other.id", Some("x%20y")),
            ("client.uri", Some("https://h/r/a")),
            ("paid", Some("p/q")),
            ("absent.id", None),
        ];
        for (name, expected) in cases {
            assert_eq!(in_path(&vars, name).as_deref(), expected, "{name}");
        }
    }

    #[test]
    fn another_id_takes_the_clients_place_wherever_its_uri_holds_it() {
        let cases = [
            ("https://h/register/c1", "https://h/register/never"),
            ("https://h/register/c1/", "https://h/register/never/"),
            ("https://h/c1/register/c1", "https://h/c1/register/never"),
            ("https://h/clientinfo?client_id=c1&x=y", "https://h/clientinfo?client_id=never&x=y"),
            ("https://h/register/other", ""),
        ];
        for (uri, expected) in cases {
            let got = with_other_id(uri, "c1", "never").unwrap_or_default();
            assert_eq!(got, expected, "{uri}");
        }
        assert_eq!(
            with_other_id("https://h/r/c1", "c1", "a/b?c").as_deref(),
            Some("https://h/r/a%2Fb%3Fc"),
            "the other id is one segment too"
        );
    }
}
