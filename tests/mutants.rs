//! What `cargo-mutants` runs against each mutant of the reference server's lifecycle and
//! metadata code (`scripts/mutants.sh`): the fixed suite and the explorer, each alone, against
//! the embedded server built from the mutated source. Each tool's verdict is appended to the file
//! `DCR_MUTANTS_LOG` names, with the mutant (the working tree's diff), so that the kill rate of
//! each is counted; the test fails where either killed the mutant. Ignored in `cargo test`: a
//! measurement, not a check.

use std::io::Write;
use std::path::Path;

use dcr_harness::explore::{Budget, ExploreOptions};
use dcr_harness::server::Variant;
use dcr_harness::suite::{self, Embedded, Layout, SuiteOptions};
use dcr_harness::testing::{test_pki, test_pki_dir};

fn layout() -> Layout {
    test_pki();
    Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) }
}

/// Where each tool judges the mutant: the clean server in both management families, and the
/// variants whose code is the lifecycle's and the metadata's (a mutant of the substitution code
/// shows only where the server substitutes).
const CONFIGURATIONS: [(&str, Option<Variant>); 6] = [
    ("reference", None),
    ("rfc7591-plain", None),
    ("reference", Some(Variant::MetadataSubstituted)),
    ("reference", Some(Variant::ClientIdInUpdateReplaced)),
    ("reference", Some(Variant::SecretRotatedOnUpdate)),
    ("rfc7591-plain", Some(Variant::RatRotatedOnUse)),
];

fn embedded(variant: Option<Variant>) -> Embedded {
    Embedded { variants: variant.into_iter().collect(), ..Embedded::default() }
}

/// The mutant under test: the changed lines of the working tree (cargo-mutants runs in place).
fn mutant() -> String {
    let diff = std::process::Command::new("git")
        .args(["diff", "--unified=0", "--", "src"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> =
        diff.lines().filter(|l| l.starts_with("@@") || l.starts_with('+') && !l.starts_with("+++")).collect();
    lines.join(" | ")
}

fn log(tool: &str, killed: bool, why: &str) {
    let Ok(path) = std::env::var("DCR_MUTANTS_LOG") else { return };
    let line = serde_json::json!({ "mutant": mutant(), "tool": tool, "killed": killed, "why": why });
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}

async fn suite_kills() -> (bool, String) {
    for (profile, variant) in CONFIGURATIONS {
        let options = SuiteOptions { profile: profile.into(), embedded: embedded(variant), ..SuiteOptions::default() };
        match suite::run(&layout(), &options).await {
            Ok(run) => {
                if let Some(s) = run.result.scenarios.iter().find(|s| s.verdict.is_adverse()) {
                    return (true, format!("{profile} {variant:?}: {}", s.id));
                }
            }
            Err(e) => return (true, format!("{profile}: {e}")),
        }
    }
    (false, String::new())
}

async fn explorer_kills() -> (bool, String) {
    for (profile, variant) in CONFIGURATIONS {
        let options = ExploreOptions {
            seed: 1,
            budget: Budget { requests: Some(1_500), seconds: None },
            max_findings: Some(1),
            shrink: false,
            ..ExploreOptions::default()
        };
        match suite::explore(&layout(), profile, None, &embedded(variant), &options, |_| {}).await {
            Ok(run) => {
                if let Some(f) = run.exploration.findings.first() {
                    return (true, format!("{profile} {variant:?}: {}", f.rule.id));
                }
                if let Some((_, error)) = run.exploration.errors.first() {
                    return (true, format!("{profile}: error {error}"));
                }
            }
            Err(e) => return (true, format!("{profile}: {e}")),
        }
    }
    (false, String::new())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement for scripts/mutants.sh, not a check"]
async fn the_suite_and_the_explorer_each_judge_the_mutant() {
    let (suite, why_suite) = suite_kills().await;
    log("suite", suite, &why_suite);
    let (explorer, why_explorer) = explorer_kills().await;
    log("explore", explorer, &why_explorer);
    assert!(!suite && !explorer, "killed: suite {suite} ({why_suite}), explorer {explorer} ({why_explorer})");
}
