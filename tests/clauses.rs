//! Clause traceability: every source the suite ships (scenarios and the explorer's rules) quotes
//! what its text says, and `coverage` refuses a scenario whose source does not, naming its file
//! and line.

use std::path::{Path, PathBuf};
use std::process::Command;

use dcr_harness::clause::Library;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn library() -> Library {
    Library::load(&[root().join("clauses")]).expect("the clause files load")
}

#[test]
fn every_scenario_source_points_at_sentences_its_text_holds() {
    let library = library();
    let scenarios = dcr_harness::scenario::load_dir(&root().join("scenarios")).expect("scenarios");
    assert!(scenarios.len() > 200, "the whole suite");
    let written_at = |s: &dcr_harness::scenario::Scenario| format!("{}:{}", s.file.display(), s.line);
    let misquotes = library.misquotes(scenarios.iter().map(|s| (written_at(s), s.id.as_str(), s.source.as_str())));
    assert!(misquotes.is_empty(), "{}", misquotes.join("\n"));
}

#[test]
fn every_rule_of_the_explorer_quotes_its_text_too() {
    let library = library();
    let rules = dcr_harness::explore::rules::ALL;
    let misquotes =
        library.misquotes(rules.iter().map(|r| (format!("rule {}", r.id), r.id.as_ref(), r.source.as_ref())));
    assert!(misquotes.is_empty(), "{}", misquotes.join("\n"));
}

#[test]
fn the_texts_the_issue_names_are_whole_and_every_sentence_has_a_level() {
    let library = library();
    for id in ["rfc7591", "rfc7592", "rfc8705", "rfc9421", "smbc-dcr"] {
        let text = library.texts.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(text.complete, "{id} holds every normative sentence");
        let normative = text.sentences.iter().filter(|s| s.level.force() != dcr_harness::clause::Force::Informative);
        assert!(normative.count() >= 5, "{id} has its normative sentences");
    }
}

/// A copy of the suite's scenarios and clauses, `old` changed to `new` in the scenarios.
fn suite_with_source(old: &str, new: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["scenarios", "clauses"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(root().join(sub)).expect("read dir") {
            let path = entry.expect("entry").path();
            let mut text = std::fs::read_to_string(&path).expect("read");
            if sub == "scenarios" && !old.is_empty() {
                text = text.replace(old, new);
            }
            std::fs::write(dir.path().join(sub).join(path.file_name().expect("name")), text).expect("write");
        }
    }
    dir
}

#[test]
fn coverage_prints_the_shares_and_refuses_a_misquote_with_file_and_line() {
    let bin = env!("CARGO_BIN_EXE_dcr-harness");
    let clean = suite_with_source("", "");
    let out = Command::new(bin).args(["coverage", "--root"]).arg(clean.path()).output().expect("coverage");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let rfc7592 = stdout.lines().find(|l| l.contains("| rfc7592 |")).expect("a line for RFC 7592");
    assert!(rfc7592.contains("all normative") && rfc7592.contains('%'), "{rfc7592}");

    let broken = suite_with_source("successfully deprovisioned", "successfully deregistered");
    let out = Command::new(bin).args(["coverage", "--root"]).arg(broken.path()).output().expect("coverage");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("lifecycle.yaml:") && stderr.contains("does not say"), "{stderr}");
    assert!(stderr.contains("successfully deregistered"), "names the words: {stderr}");
}

#[test]
fn coverage_lists_one_texts_sentences_with_the_scenarios_that_check_them() {
    let bin = env!("CARGO_BIN_EXE_dcr-harness");
    let suite = suite_with_source("", "");
    let out = Command::new(bin)
        .args(["coverage", "--text", "rfc7592", "--root"])
        .arg(suite.path())
        .output()
        .expect("coverage");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[x] 2.3/"), "a covered sentence of §2.3: {stdout}");
    assert!(stdout.contains("checked by lifecycle-"), "{stdout}");
    assert!(stdout.contains("[ ] "), "and some not covered: {stdout}");
}
