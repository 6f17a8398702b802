//! YAML reading shared by every loader (PKI manifest, scenarios, profiles): one way to turn a
//! serde_norway error into `file:line:col: what is wrong`.

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
