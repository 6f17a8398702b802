//! The binary outside this repository: from an empty directory it runs the built-in suite (kept
//! under DCR_HARNESS_HOME), and in a project written by `init` the project's files add to it.
//! Every command here talks only to the embedded server on 127.0.0.1, or to nothing.

use std::path::Path;
use std::process::{Command, Output};

use tempfile::TempDir;

/// The binary in `cwd` with its own home, as a new user meets it (no project root or CI taken
/// from the test's environment).
fn command(cwd: &Path, home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcr-harness"));
    command.args(args).current_dir(cwd).env("DCR_HARNESS_HOME", home).env_remove("DCR_HARNESS_ROOT").env_remove("CI");
    command
}

fn harness(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    command(cwd, home, args).output().expect("run dcr-harness")
}

/// Runs `command`, which must exit with `code` (else everything it printed is shown).
fn exits(mut command: Command, code: i32) -> Output {
    let out = command.output().expect("run dcr-harness");
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    out
}

/// An empty working directory and a home of its own.
fn fresh() -> (TempDir, TempDir) {
    (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn from_an_empty_directory_the_built_in_suite_runs() {
    let (empty, home) = fresh();
    let list = exits(command(empty.path(), home.path(), &["list"]), 0);
    assert!(String::from_utf8_lossy(&list.stdout).contains("metadata-minimal-registration"));
    let run = exits(command(empty.path(), home.path(), &["run", "--scenario", "metadata-minimal-registration"]), 0);
    assert!(String::from_utf8_lossy(&run.stdout).contains("verdict: PASS"), "{}", text(&run));
    assert!(home.path().join("pki/manifest.yaml").is_file(), "the PKI is kept in the home, not the working directory");
    assert_eq!(std::fs::read_dir(empty.path()).expect("list").count(), 0, "nothing written where it ran");
}

#[test]
fn a_project_from_init_adds_its_scenarios_and_profiles_to_the_built_in_ones() {
    let (project, home) = fresh();
    exits(command(project.path(), home.path(), &["init"]), 0);
    let again = harness(project.path(), home.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2), "init never overwrites: {}", text(&again));

    let own = "- id: own-minimal-registration\n  title: our own check\n  area: metadata\n  severity: MUST\n  source: RFC 7591 §3.2.1\n  steps:\n    - request: { op: register, body_file: metadata/minimal.json }\n      expect: { status: 201 }\n";
    std::fs::create_dir_all(project.path().join("scenarios")).expect("mkdir");
    std::fs::write(project.path().join("scenarios/own.yaml"), own).expect("write");
    let below = project.path().join("deep/below");
    std::fs::create_dir_all(&below).expect("mkdir");
    let list = harness(&below, home.path(), &["list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list));
    assert!(
        listed.contains("own-minimal-registration") && listed.contains("metadata-minimal-registration"),
        "{listed}"
    );
    // The project's scenario runs, its body file found among the built-in fixtures.
    exits(command(&below, home.path(), &["run", "--scenario", "own-minimal-registration"]), 0);

    // The starter profile names identities the PKI does not have yet: a setup error, said
    // offline by `validate`, and by `run` before it tries the placeholder URL.
    for verb in ["validate", "run"] {
        let out = exits(command(project.path(), home.path(), &[verb, "--profile", "my-bank"]), 2);
        assert!(text(&out).contains("my-qwac"), "{verb}: {}", text(&out));
    }
}

/// `--report json=-` makes the JSON report the whole of stdout (the terminal report goes to
/// stderr), with the verdict, the counts, the start time and the tool version up front.
#[test]
fn a_json_report_on_stdout_is_the_only_data_there() {
    let (empty, home) = fresh();
    let args = ["run", "--scenario", "metadata-minimal-registration", "--report", "json=-"];
    let out = exits(command(empty.path(), home.path(), &args), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(report["verdict"], "PASS");
    assert_eq!((report["counts"]["scenarios"].as_u64(), report["counts"]["passed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["tool_version"], env!("CARGO_PKG_VERSION"));
    assert!(report["run"]["started_at"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20), "{report}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("verdict: PASS"), "the terminal report on stderr");
    let certificates = report["run"]["certificates"].as_array().expect("the certificates used");
    let roles: Vec<&str> = certificates.iter().filter_map(|c| c["role"].as_str()).collect();
    assert_eq!(roles, ["QWAC", "QSEAL"]);
    assert!(certificates.iter().all(|c| c["subject"].as_str().is_some_and(|s| s.contains("Test TPP A"))));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("PRIVATE KEY"));
    exits(command(empty.path(), home.path(), &["run", "--report", "json=-,md=-"]), 2);
}

/// Outside a terminal (a CI log) each scenario's line comes as soon as it and those before it are
/// done, in the order `list` gives, however many run at once: two logs of one suite diff.
#[test]
fn a_ci_log_lists_scenarios_in_the_plans_order() {
    let (empty, home) = fresh();
    let ids = |out: &Output, column: usize| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_uppercase()))
            .filter_map(|l| l.split_whitespace().nth(column).map(str::to_string))
            .filter(|id| id.starts_with("sig-"))
            .collect()
    };
    let list = harness(empty.path(), home.path(), &["list", "--area", "signature"]);
    let planned = ids(&list, 0);
    assert!(planned.len() > 10, "{}", text(&list));
    let run = exits(command(empty.path(), home.path(), &["run", "--area", "signature", "--jobs", "32"]), 0);
    assert_eq!(ids(&run, 1), planned, "{}", text(&run));
}

/// Colour follows the conventions anstream reads: CLICOLOR_FORCE colours even a pipe, NO_COLOR
/// wins over it, and `--color` over both.
#[test]
fn colour_follows_clicolor_force_no_color_and_the_flag() {
    let (empty, home) = fresh();
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut run = command(empty.path(), home.path(), &["run", "--scenario", "metadata-minimal-registration"]);
        run.args(extra);
        for name in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "DCR_HARNESS_COLOR"] {
            run.env_remove(name);
        }
        run.envs(env.iter().copied());
        String::from_utf8_lossy(&exits(run, 0).stdout).contains('\u{1b}')
    };
    assert!(!run(&[], &[]), "a pipe gets no colour");
    assert!(run(&[("CLICOLOR_FORCE", "1")], &[]), "CLICOLOR_FORCE colours a pipe");
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]), "NO_COLOR wins");
    assert!(run(&[("NO_COLOR", "1")], &["--color", "always"]), "the flag wins over both");
}

/// A failure says what was sent and signed: the signed headers, the signing string (whose
/// digest line is the Digest header sent), where the scenario is written, and how to run it again.
#[test]
fn a_failure_shows_what_was_signed_where_it_is_written_and_how_to_run_it_again() {
    let (empty, home) = fresh();
    let args = ["run", "--flaw", "skip-digest-check", "--scenario", "digest-wrong"];
    let out = exits(command(empty.path(), home.path(), &args), 1);
    let printed = String::from_utf8_lossy(&out.stdout);
    let line_after =
        |prefix: &str| printed.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(str::to_string);
    let sent = line_after("Digest: ").expect("the Digest sent");
    assert_eq!(line_after("digest: "), Some(sent), "the signing string signs the Digest sent: {printed}");
    assert!(printed.contains("signing string:\n          (request-target): post /client/v1/register\n"), "{printed}");
    assert!(printed.contains("scenarios/digest.yaml:"), "where it is written: {printed}");
    assert!(printed.contains("again: dcr-harness run --scenario digest-wrong"), "{printed}");
}
