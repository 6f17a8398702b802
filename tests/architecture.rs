//! The map is checked: every `crate::` path in `src/` (the library; the binary's `cli/` may use
//! anything) is read, and the test fails when a room uses a room its row in
//! `docs/architecture.md`'s layer table does not list, when a row lists a room it no longer uses
//! (so the table stays exact), when a room uses one listed after it (the table is bottom-up), or
//! when two modules import each other. Test code (`#[cfg(test)]` modules, `tests.rs` files and
//! `testing`) is left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside the crate, as `["run", "plan"]`.
type ModPath = Vec<String>;

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every library source file with its module path (the binary's `main.rs` and `cli/` left out,
/// and test code: `tests.rs` files and `testing`).
fn library_files(src: &Path) -> Vec<(ModPath, PathBuf)> {
    rust_files(src)
        .into_iter()
        .filter(|path| !path.starts_with(src.join("cli")))
        .filter_map(|path| {
            let rel = path.strip_prefix(src).expect("under src").with_extension("");
            let mut module: ModPath = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            let last = module.last().cloned().unwrap_or_default();
            if ["main", "tests", "testing"].contains(&last.as_str()) {
                return None;
            }
            if last == "mod" || last == "lib" {
                module.pop();
            }
            Some((module, path))
        })
        .collect()
}

/// The text of a file without its test module (clippy keeps it last) and without comments.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
    code.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The paths a file names with `crate::` or `super::`, resolved against its module: each as the
/// full path written (`crate::run::plan::PlanError` gives `run plan PlanError`); braces expanded.
fn referenced_paths(module: &ModPath, code: &str) -> Vec<ModPath> {
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent_of(module))] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for path in expand(rest) {
                let mut full = base.clone();
                full.extend(path);
                out.push(full);
            }
        }
    }
    out
}

/// A file's `super`: the parent of its module (a `mod.rs` is its directory's module).
fn parent_of(module: &ModPath) -> ModPath {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// The paths at the start of `text`: `a::b::C`, or `a::{b, c::d}` expanded.
fn expand(text: &str) -> Vec<ModPath> {
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if end == 0 {
            if let Some(inner) = rest.strip_prefix('{') {
                let group = &inner[..closing_brace(inner)];
                return split_top_level(group)
                    .into_iter()
                    .flat_map(|part| expand(part.trim()))
                    .map(|tail| path.iter().cloned().chain(tail).collect())
                    .collect();
            }
            return vec![path];
        }
        path.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => return vec![path],
        }
    }
}

fn closing_brace(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        depth += match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        };
        if depth == 0 {
            return i;
        }
    }
    text.len()
}

fn split_top_level(group: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&group[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The longest known module a path names (`run plan PlanError` is in `run::plan`).
fn module_named(path: &ModPath, modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|prefix| modules.contains(prefix))
}

/// The layer table: each room's row (the rooms it may use), in the table's order.
fn layer_table(map: &str) -> Vec<(String, BTreeSet<String>)> {
    let section = map.split("### Which room may use which").nth(1).expect("the layer table's section");
    let block = section.split("```").nth(1).expect("the layer table's code block");
    let mut rows = Vec::new();
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('(')) {
        match line.split_once("->") {
            Some((room, uses)) => {
                let uses = uses.split('(').next().unwrap_or_default();
                let uses = uses.split(',').map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
                rows.push((room.trim().to_string(), uses));
            }
            None => {
                let rooms = line.split('(').next().unwrap_or_default();
                rows.extend(rooms.split(',').map(|r| (r.trim().to_string(), BTreeSet::new())));
            }
        }
    }
    rows
}

struct Graph {
    /// Room -> rooms it uses.
    rooms: BTreeMap<String, BTreeSet<String>>,
    /// Module -> modules it uses (by file).
    modules: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = library_files(&src);
    let known: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut modules: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (module, path) in &files {
        let Some(room) = module.first() else { continue };
        rooms.entry(room.clone()).or_default();
        let code = code_of(&std::fs::read_to_string(path).expect("source readable"));
        for reference in referenced_paths(module, &code) {
            let Some(target) = module_named(&reference, &known) else { continue };
            if target.first().is_some_and(|t| t != room && t != "testing") {
                rooms.entry(room.clone()).or_default().insert(target[0].clone());
            }
            modules.entry(module.clone()).or_default().insert(target);
        }
    }
    Graph { rooms, modules }
}

/// What is untrue in the layer table of the rooms' uses.
fn table_problems(table: &[(String, BTreeSet<String>)], rooms: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    let order: BTreeMap<&str, usize> = table.iter().enumerate().map(|(i, (room, _))| (room.as_str(), i)).collect();
    for (room, uses) in rooms {
        let Some(&at) = order.get(room.as_str()) else {
            problems.push(format!("`{room}` has no row in the layer table"));
            continue;
        };
        let listed = &table[at].1;
        for used in uses.difference(listed) {
            problems.push(format!("`{room}` uses `{used}`, which its row does not list"));
        }
        for stale in listed.difference(uses) {
            problems.push(format!("`{room}`'s row lists `{stale}`, which it does not use"));
        }
        for used in uses {
            if order.get(used.as_str()).is_some_and(|&u| u > at) {
                problems.push(format!("`{room}` uses `{used}`, listed after it: the table is bottom-up"));
            }
        }
    }
    for (room, _) in table {
        if !rooms.contains_key(room) {
            problems.push(format!("the layer table has a row for `{room}`, which is no room of src/"));
        }
    }
    problems
}

/// Pairs of modules that import each other, neither inside the other.
fn circles(modules: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<String> {
    let is_within = |a: &ModPath, b: &ModPath| a.len() <= b.len() && b[..a.len()] == a[..];
    let mut circles = Vec::new();
    for (a, uses) in modules {
        for b in uses {
            let related = is_within(a, b) || is_within(b, a);
            if a < b && !related && modules.get(b).is_some_and(|back| back.contains(a)) {
                circles.push(format!("{} <-> {}", a.join("::"), b.join("::")));
            }
        }
    }
    circles
}

#[test]
fn every_room_uses_exactly_the_rooms_its_row_lists_and_only_rooms_below_it() {
    let map = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
        .expect("docs/architecture.md");
    let problems = table_problems(&layer_table(&map), &graph().rooms);
    assert!(problems.is_empty(), "docs/architecture.md is not true:\n  {}", problems.join("\n  "));
}

#[test]
fn no_two_modules_import_each_other() {
    let circles = circles(&graph().modules);
    assert!(circles.is_empty(), "import circles:\n  {}", circles.join("\n  "));
}

#[test]
fn paths_are_read_as_the_compiler_reads_them() {
    let module: ModPath = vec!["run".into(), "plan".into()];
    let cases: &[(&str, &[&str])] = &[
        ("use crate::pki::Pki;", &["pki::Pki"]),
        ("use crate::{pki, signature::{self, Dialect}};", &["pki", "signature::self", "signature::Dialect"]),
        ("use super::session::Session;", &["run::session::Session"]),
        ("let x = my_crate::pki::Pki;", &[]),
    ];
    for (code, expected) in cases {
        let got: Vec<String> = referenced_paths(&module, code).iter().map(|p| p.join("::")).collect();
        assert_eq!(got, expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{code}");
    }
    let table = layer_table(
        "### Which room may use which\n```\nfiles, crypto  (no crate imports)\npki -> files, crypto\n```\n",
    );
    assert_eq!(table[0], ("files".to_string(), BTreeSet::new()));
    assert_eq!(table[2].1, ["crypto", "files"].map(String::from).into_iter().collect());
}

/// The checks can fail: a circle, an unlisted use, a stale entry, a use of a room above.
#[test]
fn a_circle_an_unlisted_use_a_stale_row_and_an_upward_use_are_caught() {
    let path = |s: &str| s.split("::").map(String::from).collect::<ModPath>();
    let modules: BTreeMap<ModPath, BTreeSet<ModPath>> = [
        (path("run::a"), [path("run::b")].into()),
        (path("run::b"), [path("run::a")].into()),
        (path("run"), [path("run::a")].into()),
    ]
    .into();
    assert_eq!(circles(&modules), ["run::a <-> run::b"]);
    let table =
        layer_table("### Which room may use which\n```\nfiles  (no crate imports)\npki -> files\nrun -> pki\n```\n");
    let set = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
    let rooms: BTreeMap<String, BTreeSet<String>> =
        [("files".into(), set(&["run"])), ("pki".into(), set(&[])), ("run".into(), set(&["pki"]))].into();
    let problems = table_problems(&table, &rooms);
    assert!(problems.iter().any(|p| p.contains("`files` uses `run`, which its row does not list")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("`pki`'s row lists `files`, which it does not use")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("listed after it")), "{problems:?}");
}

/// Rooms stay small: a source file past 650 lines holds more than one job (tests beside the code
/// may live in a sibling `tests.rs`, which this leaves out).
#[test]
fn no_source_file_is_over_650_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|n| n != "tests.rs"))
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path).expect("source readable").lines().count();
            (lines > 650).then(|| format!("{} ({lines} lines)", path.strip_prefix(&src).unwrap_or(&path).display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 650 lines, each a seam to cut:\n  {}", long.join("\n  "));
}
