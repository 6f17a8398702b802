//! The book (`docs/book`) and the README point only at what exists. Every relative link, inline
//! (`[x](path)`, `[x](path#anchor)`) or reference-style (`[x]: path`), names a file or directory
//! that is there, resolved as GitHub and mdBook resolve it: relative to the file that holds it.
//! Every `#anchor` into a Markdown file names one of its headings by GitHub's slug (mdBook makes
//! the same ids). Every `{{#include}}` names a file that is there, and the anchor it asks for.
//! A chapter's links stay inside `docs/book/src`, the only directory mdBook copies into the book.
//! And the README stays short enough to be read.
//!
//! External (http, https, mailto) links are not fetched: a test that needs the network would fail
//! for the network's reasons, not the book's.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The issue's limit: past it the README stops being read and becomes a reference nobody opens.
const README_MAX_LINES: usize = 250;

/// mdBook gives up at this depth of nested includes (a cycle); so does the check.
const INCLUDE_DEPTH: usize = 10;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn book_src(root: &Path) -> PathBuf {
    root.join("docs/book/src")
}

/// A link as written: its line (from 1) and its destination, title left off.
#[derive(Debug, PartialEq)]
struct Link {
    line: usize,
    target: String,
}

/// An mdBook `{{#include path}}` or `{{#include path:anchor}}` (a line range, `path:10:20`, has no
/// anchor).
#[derive(Debug, PartialEq)]
struct Include {
    line: usize,
    /// The directive as written, `{{#include ...}}`, which the included text replaces.
    directive: String,
    path: String,
    anchor: Option<String>,
}

/// The lines outside fenced code blocks, numbered from 1: what a reader sees as prose, where a
/// `#` starts a heading and `[x](y)` is a link. (A `# comment` in a shell block is neither.)
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        if let Some(c) = marker {
            let run = trimmed.chars().take_while(|x| *x == c).count();
            if run >= 3 {
                match fence {
                    None => {
                        fence = Some((c, run));
                        continue;
                    }
                    // A closing fence is the same character, at least as long, with nothing after.
                    Some((open, len)) if open == c && run >= len && trimmed[run..].trim().is_empty() => {
                        fence = None;
                        continue;
                    }
                    Some(_) => {}
                }
            }
        }
        if fence.is_none() {
            out.push((i + 1, line));
        }
    }
    out
}

/// The line with each inline code span blanked: `[x](y)` inside backticks is an example.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let run = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + run..];
        match closing_run(after, run) {
            Some(end) => {
                out.push(' ');
                rest = &after[end + run..];
            }
            // An unmatched backtick run is literal text (CommonMark).
            None => {
                out.push_str(&rest[start..start + run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a run of exactly `len` backticks starts in `text`.
fn closing_run(text: &str, len: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|b| **b == b'`').count();
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Every link of a Markdown text, inline or reference-style, outside code.
fn links(text: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for (line, raw) in prose_lines(text) {
        let prose = without_code_spans(raw);
        if let Some(target) = reference_definition(&prose) {
            out.push(Link { line, target });
            continue;
        }
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let (target, used) = destination(after);
            if !target.is_empty() {
                out.push(Link { line, target });
            }
            rest = &after[used..];
        }
    }
    out
}

/// The destination of an inline link, from just after its `(`: `<path with spaces>`, or up to the
/// first space (a title may follow) or the `)` that closes it (balanced parentheses kept). Returns
/// it and how much of `after` the link used.
fn destination(after: &str) -> (String, usize) {
    if let Some(inner) = after.strip_prefix('<') {
        let end = inner.find('>').unwrap_or(inner.len());
        let close = after[end..].find(')').map_or(after.len(), |i| end + i + 1);
        return (inner[..end].to_string(), close);
    }
    let mut depth = 0usize;
    let mut end = after.len();
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            c if c.is_whitespace() => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let close = after[end..].find(')').map_or(after.len(), |i| end + i + 1);
    (after[..end].to_string(), close)
}

/// `[label]: destination`, indented at most three spaces; a footnote (`[^1]:`) is not a link.
fn reference_definition(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let label_end = trimmed.strip_prefix('[')?.find(']')? + 1;
    let label = &trimmed[1..label_end];
    if label.is_empty() || label.starts_with('^') {
        return None;
    }
    let rest = trimmed[label_end + 1..].strip_prefix(':')?;
    let target = rest.split_whitespace().next()?;
    Some(target.trim_start_matches('<').trim_end_matches('>').to_string())
}

/// The text of each ATX heading (`# Title`, closing `#`s dropped), outside code, in order.
fn headings(text: &str) -> Vec<String> {
    prose_lines(text).into_iter().filter_map(|(_, line)| atx_heading(line)).collect()
}

fn atx_heading(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.chars().take_while(|c| *c == '#').count();
    let rest = &trimmed[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let text = rest.trim();
    let unclosed = text.trim_end_matches('#');
    let text = if unclosed.is_empty() || unclosed.ends_with([' ', '\t']) { unclosed.trim_end() } else { text };
    Some(text.to_string())
}

/// The heading as a reader sees it: a link's text without its destination, code without its
/// backticks, no emphasis stars.
fn rendered_text(heading: &str) -> String {
    let mut out = String::new();
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..at]);
        let (_, used) = destination(&rest[at + 2..]);
        rest = &rest[at + 2 + used..];
    }
    out.push_str(rest);
    out.chars().filter(|c| !matches!(c, '`' | '*' | '[')).collect()
}

/// GitHub's anchor for a heading, which is also mdBook's (`id_from_content`): the rendered text,
/// trimmed and lower-cased, letters, digits, `-` and `_` kept, each white-space character a `-`,
/// everything else dropped.
fn slug(heading: &str) -> String {
    rendered_text(heading)
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// Every anchor a Markdown text's headings get: a heading's `{#id}` where it gives one, else its
/// slug, a repeated one numbered (`-1`, `-2`) as GitHub and mdBook number it.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut used = HashSet::new();
    for heading in headings(text) {
        if let Some(id) = explicit_id(&heading) {
            used.insert(id);
            continue;
        }
        let base = slug(&heading);
        let mut candidate = base.clone();
        let mut n = 0;
        while !used.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
    }
    used.into_iter().collect()
}

/// mdBook's heading attribute: `## Title {#id .class}`.
fn explicit_id(heading: &str) -> Option<String> {
    let open = heading.rfind(" {")?;
    let attributes = heading[open + 2..].strip_suffix('}')?;
    attributes.split_whitespace().find_map(|a| a.strip_prefix('#')).map(str::to_string)
}

/// The `{{#include}}` directives of a text (anywhere: mdBook expands them inside code blocks too),
/// leaving out an escaped `\{{#include}}`.
fn includes(text: &str) -> Vec<Include> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("{{#include") {
            let escaped = rest[..at].ends_with('\\');
            let after = &rest[at + "{{#include".len()..];
            let Some(end) = after.find("}}") else { break };
            if !escaped {
                let spec = after[..end].trim();
                let mut parts = spec.splitn(2, ':');
                let path = parts.next().unwrap_or_default().to_string();
                // `path:anchor` names an anchor; `path:10` or `path:10:20` a range of lines.
                let anchor = parts
                    .next()
                    .filter(|p| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit() || c == ':'))
                    .map(str::to_string);
                let directive = format!("{{{{#include{}}}}}", &after[..end]);
                out.push(Include { line: i + 1, directive, path, anchor });
            }
            rest = &after[end + 2..];
        }
    }
    out
}

/// The lines of `text` between `ANCHOR: name` and `ANCHOR_END: name`, the marker lines left out
/// as mdBook leaves them out; `None` when the anchor is not there.
fn anchored(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| marker(l, "ANCHOR:") != Some(name));
    lines.next()?;
    let body: Vec<&str> = lines
        .take_while(|l| marker(l, "ANCHOR_END:") != Some(name))
        .filter(|l| marker(l, "ANCHOR:").is_none() && marker(l, "ANCHOR_END:").is_none())
        .collect();
    Some(body.join("\n"))
}

/// The name an mdBook anchor marker gives (`ANCHOR: name`, as mdBook reads it: word characters
/// and `-`), so that `exit-code` is not taken for `exit-codes`.
fn marker<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    let after = line[line.find(kind)? + kind.len()..].trim_start();
    let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(after.len());
    Some(&after[..end]).filter(|n| !n.is_empty())
}

/// The text as mdBook renders it: each include replaced by what it names, to the depth mdBook
/// allows. An include that cannot be read is left as written (`check_file` reports it).
fn expanded(file: &Path, text: &str, depth: usize) -> String {
    if depth >= INCLUDE_DEPTH {
        return text.to_string();
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for line in text.lines() {
        let mut line = line.to_string();
        for include in includes(&line) {
            let target = normalize(&dir.join(&include.path));
            let Some(part) = included_text(&target, include.anchor.as_deref()) else { continue };
            line = line.replace(&include.directive, &expanded(&target, &part, depth + 1));
        }
        out.push(line);
    }
    out.join("\n")
}

/// What an include of `target` (at `anchor`, if it names one) puts in its place.
fn included_text(target: &Path, anchor: Option<&str>) -> Option<String> {
    let text = fs::read_to_string(target).ok()?;
    match anchor {
        Some(name) => anchored(&text, name),
        None => Some(text),
    }
}

/// `a/b/../c` as `a/c`, without touching the file system (the path may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// An address with a scheme (`https:`, `mailto:`): not a file of this repository.
fn is_external(target: &str) -> bool {
    let scheme: String = target.chars().take_while(|c| c.is_ascii_alphanumeric() || "+.-".contains(*c)).collect();
    !scheme.is_empty() && target[scheme.len()..].starts_with(':')
}

/// `%20` and the like, as a browser decodes a link before asking for the file.
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if let (b'%', Some(Ok(b))) = (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_markdown(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
}

/// What is wrong with one file's links and includes, each as `file:line: what`. `book` is the
/// book's source directory: a chapter's links must stay inside it.
fn check_file(root: &Path, book: &Path, file: &Path) -> Vec<String> {
    let shown = |line: usize| format!("{}:{line}", file.strip_prefix(root).unwrap_or(file).display());
    let Ok(text) = fs::read_to_string(file) else {
        return vec![format!("{}: cannot be read", shown(0))];
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();

    // Each link with where to say it is: the file's own, then those of the text it includes,
    // which mdBook puts into this chapter and so resolves relative to it.
    let mut found: Vec<(String, String)> = links(&text).into_iter().map(|l| (shown(l.line), l.target)).collect();
    for include in includes(&text) {
        let target = normalize(&dir.join(&include.path));
        if !target.is_file() {
            problems.push(format!("{}: includes {}, which does not exist", shown(include.line), include.path));
            continue;
        }
        let Some(part) = included_text(&target, include.anchor.as_deref()) else {
            let name = include.anchor.unwrap_or_default();
            problems.push(format!(
                "{}: includes {}:{name}, but that file has no `ANCHOR: {name}`",
                shown(include.line),
                include.path
            ));
            continue;
        };
        for link in links(&expanded(&target, &part, 1)) {
            found.push((
                format!("{} (line {} of the included {})", shown(include.line), link.line, include.path),
                link.target,
            ));
        }
    }

    for (at, link) in found {
        if is_external(&link) {
            continue;
        }
        let (path, anchor) = match link.split_once('#') {
            Some((p, a)) => (percent_decoded(p), Some(a)),
            None => (percent_decoded(&link), None),
        };
        if path.starts_with('/') {
            problems
                .push(format!("{at}: {link} is absolute: GitHub and mdBook resolve it differently; write it relative"));
            continue;
        }
        let target = if path.is_empty() { file.to_path_buf() } else { normalize(&dir.join(&path)) };
        if !target.exists() {
            problems.push(format!("{at}: {link} does not exist ({})", target.display()));
            continue;
        }
        if file.starts_with(book) && !target.starts_with(book) {
            problems.push(format!(
                "{at}: {link} is outside docs/book/src, all that mdBook copies: the link breaks in the book \
                 (include the file, or name it in code)"
            ));
            continue;
        }
        let Some(anchor) = anchor.filter(|a| !a.is_empty()) else { continue };
        if is_markdown(&target) {
            let target_text = fs::read_to_string(&target).unwrap_or_default();
            if !anchors(&expanded(&target, &target_text, 0)).contains(anchor) {
                problems.push(format!("{at}: {} has no heading with the anchor #{anchor}", path_or_self(&path)));
            }
        }
    }
    problems
}

fn path_or_self(path: &str) -> &str {
    if path.is_empty() {
        "this file"
    } else {
        path
    }
}

/// The chapters `SUMMARY.md` lists, in order (a draft chapter, `[x]()`, has no file).
fn chapters(book: &Path) -> Vec<PathBuf> {
    let summary = fs::read_to_string(book.join("SUMMARY.md")).expect("docs/book/src/SUMMARY.md");
    links(&summary)
        .into_iter()
        .filter(|l| !is_external(&l.target))
        .map(|l| normalize(&book.join(l.target.split('#').next().unwrap_or_default())))
        .collect()
}

/// Every Markdown file under a directory.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_markdown(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_link_of_the_book_and_the_readme_resolves() {
    let root = root();
    let book = book_src(&root);
    let mut files = vec![root.join("README.md"), book.join("SUMMARY.md")];
    files.extend(chapters(&book));
    let problems: Vec<String> = files.iter().flat_map(|f| check_file(&root, &book, f)).collect();
    assert!(problems.is_empty(), "{} broken link(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_chapter_file_is_in_the_summary() {
    let root = root();
    let book = book_src(&root);
    let listed: HashSet<PathBuf> = chapters(&book).into_iter().collect();
    let orphans: Vec<String> = markdown_files(&book)
        .into_iter()
        .filter(|f| !f.ends_with("SUMMARY.md") && !listed.contains(f))
        .map(|f| f.strip_prefix(&root).unwrap_or(&f).display().to_string())
        .collect();
    assert!(orphans.is_empty(), "chapters SUMMARY.md does not list (mdBook leaves them out):\n{}", orphans.join("\n"));
}

#[test]
fn the_readme_is_short() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move the detail into docs/book"
    );
}

#[test]
fn slugs_are_githubs() {
    let cases = [
        ("Two commands", "two-commands"),
        ("Why was this signature refused? `explain` and `probe`", "why-was-this-signature-refused-explain-and-probe"),
        ("Beyond one machine: shards, and Kubernetes", "beyond-one-machine-shards-and-kubernetes"),
        ("PSD2 bank (SMBC)", "psd2-bank-smbc"),
        ("Plain RFC 7591/7592", "plain-rfc-75917592"),
        ("The `keep_clients` setting", "the-keep_clients-setting"),
        ("A [linked](other.md#x) heading", "a-linked-heading"),
        ("**Bold** and *emphasis*", "bold-and-emphasis"),
        ("Open Banking UK: signed request objects", "open-banking-uk-signed-request-objects"),
        ("Émission — signée", "émission--signée"),
        ("  spaced  out ", "spaced--out"),
    ];
    for (heading, want) in cases {
        assert_eq!(slug(heading), want, "slug of {heading:?}");
    }
}

#[test]
fn repeated_headings_are_numbered_and_ids_kept() {
    let text = "# Load\n## Load\n```sh\n# Load (a comment, not a heading)\n```\n## Load\n## Custom {#mine}\n#hashtag\n";
    let want: BTreeSet<String> = ["load", "load-1", "load-2", "mine"].into_iter().map(String::from).collect();
    assert_eq!(anchors(text), want);
}

#[test]
fn headings_are_read_as_commonmark_reads_them() {
    let cases = [
        ("# Title", Some("Title")),
        ("## Title ##", Some("Title")),
        ("### C#", Some("C#")),
        ("   # indented three", Some("indented three")),
        ("    # indented four: code", None),
        ("#no space", None),
        ("####### seven", None),
        ("{{#include x.md}}", None),
    ];
    for (line, want) in cases {
        assert_eq!(atx_heading(line).as_deref(), want, "heading of {line:?}");
    }
}

#[test]
fn links_are_found_where_markdown_has_them() {
    let cases: &[(&str, &[(usize, &str)])] = &[
        ("see [the book](docs/book/src/SUMMARY.md).", &[(1, "docs/book/src/SUMMARY.md")]),
        ("[a](x.md#part) and [b](y.md \"title\")", &[(1, "x.md#part"), (1, "y.md")]),
        ("![a picture](img/p.png)", &[(1, "img/p.png")]),
        ("[spaces](<a file.md>)", &[(1, "a file.md")]),
        ("[wiki](https://en.wikipedia.org/wiki/X_(y))", &[(1, "https://en.wikipedia.org/wiki/X_(y)")]),
        ("[ref]: docs/x.md", &[(1, "docs/x.md")]),
        ("   [ref]: <docs/y.md> \"title\"", &[(1, "docs/y.md")]),
        ("[^note]: a footnote", &[]),
        ("`[not](a link)` but [this](is.md)", &[(1, "is.md")]),
        ("``code with ` [x](y) ``", &[]),
        ("```sh\n[x](in-a-fence.md)\n```\n[y](after.md)", &[(4, "after.md")]),
        ("~~~\n```\n[x](still-fenced.md)\n~~~\n", &[]),
        ("[empty]() is a draft chapter", &[]),
        ("a [x] that is no link, then [y](z.md)", &[(1, "z.md")]),
        ("| `--jobs N` | [scale-out](scale-out.md#shards) |", &[(1, "scale-out.md#shards")]),
    ];
    for (text, want) in cases {
        let got: Vec<(usize, String)> = links(text).into_iter().map(|l| (l.line, l.target)).collect();
        let want: Vec<(usize, String)> = want.iter().map(|(l, t)| (*l, t.to_string())).collect();
        assert_eq!(got, want, "links of {text:?}");
    }
}

#[test]
fn includes_are_found_with_their_anchors() {
    let text = "{{#include ../../architecture.md}}\n{{#include ../../../README.md:exit-codes}}\n\
                {{#include x.rs:10:20}}\n\\{{#include escaped.md}}\n";
    let found = includes(text);
    assert_eq!(found[1].directive, "{{#include ../../../README.md:exit-codes}}");
    let got: Vec<(usize, String, Option<String>)> = found.into_iter().map(|i| (i.line, i.path, i.anchor)).collect();
    assert_eq!(
        got,
        vec![
            (1, "../../architecture.md".into(), None),
            (2, "../../../README.md".into(), Some("exit-codes".into())),
            (3, "x.rs".into(), None),
        ]
    );
    let readme = "intro\n<!-- ANCHOR: codes -->\n| 0 | fine |\n<!-- ANCHOR: inner -->\n| 1 | not |\n\
                  <!-- ANCHOR_END: inner -->\n<!-- ANCHOR_END: codes -->\nrest\n";
    assert_eq!(anchored(readme, "codes").as_deref(), Some("| 0 | fine |\n| 1 | not |"));
    assert_eq!(anchored(readme, "inner").as_deref(), Some("| 1 | not |"));
    assert_eq!(anchored(readme, "code"), None, "a prefix of an anchor is not that anchor");
    assert_eq!(anchored(readme, "other"), None);
}

/// The check fails, naming file and line, for each kind of break it is there to catch.
#[test]
fn the_check_names_each_broken_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let book = root.join("docs/book/src");
    fs::create_dir_all(book.join("part")).unwrap();
    fs::write(root.join("README.md"), "# Readme\n\n[ok](docs/book/src/part/a.md#a-chapter)\n").unwrap();
    fs::write(root.join("outside.md"), "# Outside\n").unwrap();
    fs::write(
        book.join("part/a.md"),
        "# A chapter\n\n[gone](missing.md)\n[bad anchor](b.md#no-such-heading)\n\
         [here](#a-chapter) [not here](#nowhere)\n[ref]: ../gone/too.md\n\
         {{#include ../../../../outside.md}}\n{{#include ../../../../nothing.md}}\n\
         {{#include ../../../../README.md:absent}}\n[escapes](../../../../outside.md)\n",
    )
    .unwrap();
    fs::write(book.join("part/b.md"), "# B\n\n```\n# not a heading\n```\n").unwrap();

    let problems = check_file(root, &book, &book.join("part/a.md"));
    let at = |line: usize, what: &str| {
        assert!(
            problems.iter().any(|p| p.starts_with(&format!("docs/book/src/part/a.md:{line}")) && p.contains(what)),
            "no problem at line {line} about {what:?} in:\n{}",
            problems.join("\n")
        )
    };
    at(3, "missing.md does not exist");
    at(4, "no heading with the anchor #no-such-heading");
    at(5, "#nowhere");
    at(6, "../gone/too.md does not exist");
    at(8, "nothing.md, which does not exist");
    at(9, "no `ANCHOR: absent`");
    at(10, "outside docs/book/src");
    assert_eq!(problems.len(), 7, "{}", problems.join("\n"));
    assert!(check_file(root, &book, &root.join("README.md")).is_empty());
}
