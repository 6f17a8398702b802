//! How the harness words what went wrong, shared by every module from the bottom up: an error
//! with its chain of causes, each once, and a YAML error as `file:line:col: what is wrong` (PKI
//! manifest, scenarios, profiles, load profiles). No I/O.

use std::path::Path;

/// `file:line:col: message` for a YAML error, without serde's own trailing "at line X column Y".
pub fn located(path: &Path, error: &serde_norway::Error) -> String {
    let text = error.to_string();
    let message = match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    match error.location() {
        Some(loc) => format!("{}:{}:{}: {message}", path.display(), loc.line(), loc.column()),
        None => format!("{}: {message}", path.display()),
    }
}

/// An error and its sources, `: `-joined, each cause once (a message that already quotes its
/// cause does not repeat it).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Quoting(#[source] std::io::Error);

    #[test]
    fn the_chain_names_each_cause_once() {
        assert_eq!(chain(&Outer(std::io::Error::other("disk full"))), "outer: disk full");
        assert_eq!(chain(&Quoting(std::io::Error::other("disk full"))), "outer: disk full");
    }

    #[test]
    fn yaml_errors_are_located() {
        let error =
            serde_norway::from_str::<std::collections::BTreeMap<String, u8>>("a: 1\nb: lots\n").expect_err("bad");
        let text = located(Path::new("f.yaml"), &error);
        assert!(text.starts_with("f.yaml:2:4: "), "{text}");
        assert!(!text.contains(" at line "), "{text}");
    }
}
