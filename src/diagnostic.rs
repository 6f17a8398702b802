//! How the harness words what went wrong, shared by every module from the bottom up: an error
//! with its chain of causes, each once, and a YAML error as `file:line:col: what is wrong` (PKI
//! manifest, scenarios, profiles, load profiles). No I/O.

use std::path::{Path, PathBuf};

/// `file:line:col: message` for a YAML error of `source` (the file's text), without serde's own
/// trailing "at line X column Y", with a suggestion for a misspelt key or value, then the line
/// itself with a caret under the place.
pub fn located(path: &Path, source: &str, error: &serde_norway::Error) -> String {
    let text = error.to_string();
    let message = match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    let message = format!("{message}{}", suggestion(&message));
    match error.location() {
        Some(loc) => format!(
            "{}:{}:{}: {message}{}",
            path.display(),
            loc.line(),
            loc.column(),
            snippet(source, loc.line(), loc.column())
        ),
        None => format!("{}: {message}", path.display()),
    }
}

/// `; did you mean `x`?` when serde names what it expected (`unknown field `mutation`, expected
/// one of `mutations`, ...`) and one is close to what was written.
fn suggestion(message: &str) -> String {
    let quoted = |s: &str| -> Vec<String> { s.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    let Some((found, expected)) = message.split_once(", expected") else { return String::new() };
    let (Some(written), candidates) = (quoted(found).pop(), quoted(expected)) else { return String::new() };
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&written, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// The line `line` of `source` with a caret under column `col` (1-based), as annotate-snippets
/// draws it, on the lines after a message.
pub fn snippet(source: &str, line: usize, col: usize) -> String {
    use annotate_snippets::{Level, Renderer, Snippet};
    let Some(text) = source.lines().nth(line.saturating_sub(1)) else { return String::new() };
    // Control characters would drive the terminal; a YAML line is shown as inert text. A tab
    // becomes one space: annotate-snippets widens tabs itself and, past the terminal's width,
    // its margin arithmetic overflowed (found by fuzzing); one character for one keeps the caret
    // under the column the parser named.
    let text: String = text
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    // A window of the line around the column: annotate-snippets trims a line longer than the
    // terminal itself, and that arithmetic underflowed where the column fell in long leading
    // whitespace (found by fuzzing). A window never longer than its width takes no trimming.
    let (text, col) = window(&text, col);
    let at = text.char_indices().nth(col.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    let message = Level::Error
        .title("")
        .snippet(Snippet::source(&text).line_start(line).annotation(Level::Error.span(at..end.max(at))));
    let rendered = Renderer::plain().render(message).to_string();
    // The title line is the message already said: keep the drawing only.
    let mut drawing: Vec<&str> = rendered.lines().skip(1).collect();
    while drawing.last().is_some_and(|l| l.trim() == "|" || l.trim().is_empty()) {
        drawing.pop();
    }
    format!("\n{}", drawing.join("\n"))
}

/// The most bytes of a line a snippet shows: annotate-snippets measures lines in bytes against
/// a terminal of 140 columns less its margin.
const SNIPPET_BYTES: usize = 100;

/// At most [`SNIPPET_BYTES`] of `text` around the 1-based column `col` (whole characters, cut
/// ends marked `…`), and the column within them.
fn window(text: &str, col: usize) -> (String, usize) {
    if text.len() <= SNIPPET_BYTES {
        return (text.to_string(), col);
    }
    let chars: Vec<char> = text.chars().collect();
    let at = col.saturating_sub(1).min(chars.len());
    let mut budget = SNIPPET_BYTES / 2;
    let mut start = at;
    while start > 0 && chars[start - 1].len_utf8() <= budget {
        budget -= chars[start - 1].len_utf8();
        start -= 1;
    }
    budget += SNIPPET_BYTES / 2;
    let mut end = at;
    while end < chars.len() && chars[end].len_utf8() <= budget {
        budget -= chars[end].len_utf8();
        end += 1;
    }
    let mut shown: String = chars[start..end].iter().collect();
    let mut col = col.saturating_sub(start);
    if start > 0 {
        shown.insert(0, '…');
        col += 1;
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, col)
}

/// Text from outside (a target's answer, a client id it issued) made inert for a terminal or
/// a text report: control characters (escape sequences, carriage returns, bells) are shown
/// escaped, never interpreted. Newlines are kept.
pub fn inert(text: &str) -> String {
    escaped(text, false)
}

/// [`inert`] for text that must stay on one line (an id, a table cell): newlines escaped too,
/// so that a CR LF in a server-issued value cannot forge a line of its own.
pub fn inert_line(text: &str) -> String {
    escaped(text, true)
}

fn escaped(text: &str, newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if !newlines => out.push('\n'),
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.extend(c.escape_default())
            }
            c => out.push(c),
        }
    }
    out
}

/// The largest YAML file read: 8 MiB (the shipped scenarios together are under 100 KiB).
pub const MAX_YAML_BYTES: u64 = 8 * 1024 * 1024;
/// The deepest nesting of YAML collections accepted (a scenario needs under ten).
pub const MAX_YAML_DEPTH: usize = 64;

/// Why a YAML file's text was refused before it was parsed; every message starts with the file
/// (and, where there is one, `line:col`).
#[derive(Debug, thiserror::Error)]
pub enum YamlTextError {
    /// The reader refused the file (not a regular file, over the limit): its message names it.
    #[error("{0}")]
    Refused(#[source] std::io::Error),
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: not UTF-8 text (a YAML file is UTF-8)", .path.display())]
    NotUtf8 { path: PathBuf, line: usize, col: usize },
    #[error(
        "{}:{line}:{col}: nesting deeper than {MAX_YAML_DEPTH} levels; a scenario or profile needs far fewer",
        .path.display()
    )]
    TooDeep { path: PathBuf, line: usize, col: usize },
    #[error("{}:{line}:1: a second YAML document; a file holds one", .path.display())]
    SecondDocument { path: PathBuf, line: usize },
}

/// Reads a YAML file for a loader, refusing what would cost the parser more than the file is
/// worth: a file over [`MAX_YAML_BYTES`], or nesting deeper than [`MAX_YAML_DEPTH`] (the
/// parser's own limit is reached only after seconds of work). Errors are `file:line:col`.
pub fn read_yaml_text(path: &Path) -> Result<String, YamlTextError> {
    let bytes = crate::files::read(path, MAX_YAML_BYTES).map_err(|source| match source.kind() {
        // The reader's refusals name the file already.
        std::io::ErrorKind::InvalidInput => YamlTextError::Refused(source),
        _ => YamlTextError::Read { path: path.to_path_buf(), source },
    })?;
    yaml_text(path, bytes)
}

/// Why an earlier JSON report a user named (a baseline) could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum JsonReportError {
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not {what}: {message} (hint: give the JSON report an earlier {command} wrote with `--report json=FILE`)", .path.display())]
    NotAReport { path: PathBuf, line: usize, column: usize, message: String, what: &'static str, command: &'static str },
}

/// Reads back the JSON report of an earlier `command` (`what` it must be: "a run report"), at
/// most `limit` bytes; where it is not one, the line and column where that shows.
pub fn read_json_report<T: serde::de::DeserializeOwned>(
    path: &Path,
    limit: u64,
    what: &'static str,
    command: &'static str,
) -> Result<T, JsonReportError> {
    let text = crate::files::read_to_string(path, limit)
        .map_err(|source| JsonReportError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|e| JsonReportError::NotAReport {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
        what,
        command,
    })
}

/// The checks of [`read_yaml_text`] on bytes already read (`path` names them in messages).
pub fn yaml_text(path: &Path, bytes: Vec<u8>) -> Result<String, YamlTextError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, col) = line_col(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        YamlTextError::NotUtf8 { path: path.to_path_buf(), line, col }
    })?;
    if let Some((line, col)) = too_deep(&text) {
        return Err(YamlTextError::TooDeep { path: path.to_path_buf(), line, col });
    }
    if let Some(line) = second_document(&text) {
        return Err(YamlTextError::SecondDocument { path: path.to_path_buf(), line });
    }
    Ok(text)
}

/// The 1-based line and column just after `prefix`.
pub fn line_col(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|b| **b == b'\n').count() + 1;
    let col = prefix.len() - prefix.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The line of a `---` that starts a second document (one after content).
fn second_document(text: &str) -> Option<usize> {
    let mut content = false;
    for (i, line) in text.lines().enumerate() {
        let start = line.starts_with("---") && line[3..].trim().is_empty();
        if start && content {
            return Some(i + 1);
        }
        content |= !start && !line.trim().is_empty() && !line.trim_start().starts_with('#');
    }
    None
}

/// The 1-based line where a mapping key `key:` first starts a line, if one does.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines().position(|l| key_of_line(l) == Some(key)).map(|i| i + 1)
}

/// The 1-based line of every key's first appearance, in one pass (for many lookups in one text).
pub fn key_lines(text: &str) -> std::collections::HashMap<&str, usize> {
    let mut lines = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(key) = key_of_line(line) {
            lines.entry(key).or_insert(i + 1);
        }
    }
    lines
}

/// The key a YAML line starts (`key:`, `- key:`), if any.
fn key_of_line(line: &str) -> Option<&str> {
    let rest = line.trim_start().trim_start_matches("- ");
    rest.split_once(':').map(|(key, _)| key).filter(|key| !key.is_empty())
}

/// Where nesting first passes [`MAX_YAML_DEPTH`], in one pass: flow collections (`[`, `{`)
/// inside a line, plus block indentation (every two columns, a level at most). Quoted text
/// and comments are skipped.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut flow = 0usize;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        let mut quote: Option<char> = None;
        for (col, c) in line.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            if flow + indent / 2 > MAX_YAML_DEPTH {
                return Some((i + 1, col + 1));
            }
        }
    }
    None
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

    #[test]
    fn positions_and_documents_are_found_in_one_pass() {
        assert_eq!(line_col(b""), (1, 1));
        assert_eq!(line_col(b"ab\ncd"), (2, 3));
        assert_eq!(second_document("---\na: 1\n"), None);
        assert_eq!(second_document("# c\n---\na: 1\n---\nb: 2\n"), Some(4));
        assert_eq!(second_document("a: '---'\n"), None);
        assert_eq!(line_of_key("a: 1\n  b: 2\n- c: 3\n", "c"), Some(3));
        assert_eq!(line_of_key("ab: 1\n", "a"), None);
    }

    #[test]
    fn nesting_is_measured_in_one_pass() {
        let deep = |n: usize| format!("a: {}{}", "[".repeat(n), "]".repeat(n));
        let cases: Vec<(String, Option<(usize, usize)>)> = vec![
            ("a: [1, {b: [2]}]".into(), None),
            (deep(MAX_YAML_DEPTH), None),
            (deep(MAX_YAML_DEPTH + 1), Some((1, MAX_YAML_DEPTH + 4))),
            (format!("a: '{}'", "[".repeat(500)), None),
            (format!("a: 1 # {}", "{".repeat(500)), None),
            (format!("ok: 1\n{}x: 1", " ".repeat(2 * MAX_YAML_DEPTH + 2)), Some((2, 1))),
        ];
        for (text, expected) in cases {
            assert_eq!(too_deep(&text), expected, "{}", &text[..text.len().min(40)]);
        }
    }

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
        let text = located(Path::new("f.yaml"), "a: 1\nb: lots\n", &error);
        assert!(text.starts_with("f.yaml:2:4: "), "{text}");
        assert!(!text.contains(" at line "), "{text}");
        assert!(text.ends_with("\n  |\n2 | b: lots\n  |    ^"), "the line, a caret under column 4: {text}");
    }

    #[test]
    fn a_misspelt_key_or_value_gets_the_nearest_expected_one() {
        let cases = [
            ("unknown field `mutaton`, expected one of `op`, `mutation`, `body`", "; did you mean `mutation`?"),
            ("unknown variant `regster`, expected one of `register`, `read`", "; did you mean `register`?"),
            ("unknown field `zzz`, expected one of `op`, `body`", ""),
            ("invalid type: string, expected a map", ""),
        ];
        for (message, says) in cases {
            assert_eq!(suggestion(message), says, "{message}");
        }
    }

    #[test]
    fn outside_text_cannot_drive_the_terminal() {
        let cases = [
            ("plain", "plain"),
            ("two\nlines", "two\nlines"),
            ("\u{1b}[2J\u{1b}]0;owned\u{7}", "\\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
            ("cr\rover", "cr\\rover"),
            ("tab\there", "tab\\there"),
            ("\u{9b}csi", "\\u{9b}csi"),
        ];
        for (raw, shown) in cases {
            assert_eq!(inert(raw), shown, "{raw:?}");
            assert_eq!(inert_line(raw), shown.replace('\n', "\\n"), "{raw:?} on one line");
        }
        assert_eq!(inert_line("id\r\n  forged line"), "id\\r\\n  forged line");
        assert_eq!(inert("rtl\u{202e}txt"), "rtl\\u{202e}txt", "bidirectional overrides reorder what is shown");
    }

    #[test]
    fn a_snippet_never_carries_control_characters() {
        let drawn = snippet("key: \u{1b}[31mred\n", 1, 6);
        assert!(!drawn.contains('\u{1b}') && drawn.contains('\u{fffd}'), "{drawn:?}");
        assert_eq!(snippet("one line\n", 5, 1), "", "a line past the end draws nothing");
    }

    proptest::proptest! {
        /// Any line, at any column, draws without a panic (tabs, controls, wide characters).
        #[test]
        fn a_snippet_of_any_line_at_any_column_draws(
            chars in proptest::collection::vec(proptest::sample::select(vec!['\t', '\u{1}', '\u{1b}', 'a', ' ', '{', '\u{3042}', '\u{fffd}']), 0..400),
            col in 0usize..500,
        ) {
            let line: String = chars.into_iter().collect();
            let _ = snippet(&line, 1, col);
        }
    }

    /// A long line whose column falls in its leading whitespace (found by fuzzing the loaders)
    /// made annotate-snippets' trimming underflow: the whole file is refused with a drawing.
    #[test]
    fn a_long_line_with_the_column_in_its_leading_whitespace_draws() {
        let input = include_str!("../fuzz/corpus/seeds/long-leading-whitespace.yaml");
        let first = input.lines().next().unwrap_or_default();
        for col in [1, 5, 16, 40, 200, first.chars().count()] {
            let drawn = snippet(input, 1, col);
            assert!(drawn.contains('^'), "column {col}: {drawn:?}");
        }
    }

    #[test]
    fn a_window_keeps_the_column_under_the_same_character() {
        let line: String =
            (0..300).map(|i| if i % 7 == 0 { '\u{3042}' } else { char::from(b'a' + (i % 26) as u8) }).collect();
        for col in [1, 2, 50, 51, 52, 150, 299, 300] {
            let (shown, at) = window(&line, col);
            assert!(shown.len() <= SNIPPET_BYTES + 6, "{col}: {shown}");
            assert_eq!(shown.chars().nth(at - 1), line.chars().nth(col - 1), "column {col} in {shown}");
        }
        assert_eq!(window("short", 3), ("short".to_string(), 3));
    }

    /// A line of tabs and control characters (found by fuzzing the loaders) drew a margin that
    /// overflowed inside annotate-snippets: every column of it draws.
    #[test]
    fn a_snippet_of_tabs_and_control_characters_draws_at_every_column() {
        let line = format!(
            "\t\t\t\t\x11{}\x00A\x11{}{}\t`\t\t\t\t{{\"clirnt_\"ma:\"neKATb \"]}}",
            "\t".repeat(9),
            "\t".repeat(19),
            "\x06".repeat(74)
        );
        for col in 1..=line.chars().count() + 2 {
            let drawn = snippet(&line, 1, col);
            assert!(drawn.contains('^'), "column {col}: {drawn:?}");
        }
    }
}
