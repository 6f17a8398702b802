//! The corpus of broken inputs (`tests/corpus/`): one file per case, its expectations in its
//! first comment lines (`# exit: N`, `# says: text`). Every case must end with its documented
//! exit code and message, name the file and line where a file is at fault, never panic, end
//! within its time limit, and stay within a memory limit.
//!
//! - `scenarios/*.yaml`: the only scenario file of a project; `validate` must refuse it.
//! - `profiles/*.yaml`: a target profile; `validate --profile` must refuse it.
//! - `known-failures/*.yaml`: `run --known-failures` must refuse it before running anything.
//! - `load/*.yaml`: a load profile; `load` must refuse it before sending anything.
//! - `cli/*.args`: command-line arguments, one per line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dcr_harness::testing::{copy_dir, test_pki, test_pki_dir};

/// No case may take longer than this (the slowest honest one takes well under a second).
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Address space for one case, in KiB: a loader that balloons on hostile input fails here.
const MEMORY_LIMIT_KIB: u64 = 4 * 1024 * 1024;

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Case {
    kind: String,
    path: PathBuf,
    exit: i32,
    says: Option<String>,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for kind in ["scenarios", "profiles", "known-failures", "load", "cli"] {
        let dir = project().join("tests/corpus").join(kind);
        let mut paths: Vec<PathBuf> =
            std::fs::read_dir(&dir).expect("corpus dir").map(|e| e.expect("entry").path()).collect();
        paths.sort();
        for path in paths {
            let head = String::from_utf8_lossy(&std::fs::read(&path).expect("read case")).into_owned();
            let field = |name: &str| {
                head.lines()
                    .take_while(|l| l.starts_with('#'))
                    .find_map(|l| l.strip_prefix(&format!("# {name}: ")).map(str::to_string))
            };
            let exit = field("exit")
                .and_then(|e| e.parse().ok())
                .unwrap_or_else(|| panic!("{}: no `# exit:`", path.display()));
            cases.push(Case { kind: kind.into(), path, exit, says: field("says") });
        }
    }
    cases
}

/// A project directory for a case: the shipped profiles, fixtures and test PKI, and the
/// case's file in place of the part under test.
fn project_for(case: &Case, scratch: &Path) -> PathBuf {
    let name = case.path.file_stem().expect("name").to_string_lossy().into_owned();
    let root = scratch.join(format!("{}-{name}", case.kind));
    copy_dir(&project().join("profiles"), &root.join("profiles"));
    copy_dir(&project().join("load"), &root.join("load"));
    copy_dir(&project().join("fixtures/metadata"), &root.join("fixtures/metadata"));
    copy_dir(&test_pki_dir(), &root.join("fixtures/pki"));
    match case.kind.as_str() {
        "scenarios" => {
            std::fs::create_dir_all(root.join("scenarios")).expect("mkdir");
            std::fs::copy(&case.path, root.join("scenarios/case.yaml")).expect("copy");
        }
        _ => copy_dir(&project().join("scenarios"), &root.join("scenarios")),
    }
    if case.kind == "profiles" {
        std::fs::copy(&case.path, root.join("profiles/case.yaml")).expect("copy");
    }
    root
}

fn arguments(case: &Case, root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    let path = case.path.display().to_string();
    let args: &[&str] = match case.kind.as_str() {
        "scenarios" => &["validate", "--root", &root],
        "profiles" => &["validate", "--root", &root, "--profile", "case"],
        "known-failures" => &["run", "--root", &root, "--known-failures", &path],
        "load" => &["load", &path, "--root", &root, "--target", "http://127.0.0.1:9"],
        _ => {
            let text = std::fs::read_to_string(&case.path).expect("args");
            return text.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect();
        }
    };
    args.iter().map(|a| a.to_string()).collect()
}

/// Runs the binary in `cwd` under the memory limit and the time limit: (exit code, stderr,
/// time). Each case has its own project copy: cases run in parallel, and none may touch the
/// checkout (its `fixtures/pki`, its ledgers).
fn run(args: &[String], cwd: &Path) -> (Option<i32>, String, Duration) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(args)
        .current_dir(cwd)
        .env("DCR_HARNESS_HOME", dcr_harness::testing::test_home())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.and_then(|s| s.code()), stderr, started.elapsed())
}

/// What is wrong with one case's outcome, if anything.
fn judge(case: &Case, scratch: &Path) -> Option<String> {
    let root = project_for(case, scratch);
    let args = arguments(case, &root);
    let (code, stderr, took) = run(&args, &root);
    let name = format!("{}/{}", case.kind, case.path.file_name().expect("name").to_string_lossy());
    let mut wrong = Vec::new();
    match code {
        None if took >= TIME_LIMIT => wrong.push(format!("hung past {TIME_LIMIT:?}")),
        None => wrong.push("killed by a signal".to_string()),
        Some(code) if code != case.exit => wrong.push(format!("exit {code}, documented {}", case.exit)),
        Some(_) => {}
    }
    if stderr.contains("panicked") {
        wrong.push("panicked".into());
    }
    if let Some(says) = &case.says {
        if !stderr.contains(says.as_str()) {
            wrong.push(format!("does not say `{says}`"));
        }
    }
    let located = |file: &str| {
        stderr
            .split(file)
            .skip(1)
            .any(|rest| rest.starts_with(':') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
    };
    let file_at_fault = match case.kind.as_str() {
        "scenarios" | "profiles" => Some("case.yaml".to_string()),
        "known-failures" | "load" => Some(case.path.file_name().expect("name").to_string_lossy().into_owned()),
        _ => None,
    };
    if let (Some(file), true) = (file_at_fault, case.exit == 2) {
        if !located(&file) {
            wrong.push(format!("does not name {file}:LINE"));
        }
    }
    (!wrong.is_empty()).then(|| format!("{name}: {}\n    {}", wrong.join("; "), stderr.trim().replace('\n', "\n    ")))
}

#[test]
fn every_broken_input_gets_its_documented_exit_and_a_located_message() {
    test_pki();
    let cases = cases();
    assert!(cases.len() >= 100, "the corpus has only {} cases", cases.len());
    let scratch = tempfile::tempdir().expect("tempdir");
    let workers = 4;
    let problems: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (cases, scratch) = (&cases, scratch.path());
                scope.spawn(move || {
                    cases.iter().skip(w).step_by(workers).filter_map(|c| judge(c, scratch)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker")).collect()
    });
    assert!(problems.is_empty(), "{} of {} cases wrong:\n{}", problems.len(), cases.len(), problems.join("\n"));
}

/// Not a broken input but a large one, generated here rather than committed: 20,000 scenarios
/// in one file validate within the same limits (loading was quadratic in the file's size and
/// took over two minutes; `cargo bench --bench loader` measures it).
#[test]
fn a_file_of_twenty_thousand_scenarios_loads_within_the_limits() {
    test_pki();
    let scratch = tempfile::tempdir().expect("tempdir");
    let big = scratch.path().join("big.yaml");
    let text: String = (0..20_000)
        .map(|i| {
            format!(
                "- id: s{i}\n  title: t\n  area: metadata\n  severity: SHOULD\n  source: x\n  steps:\n    - request: {{ op: register, body_file: metadata/minimal.json }}\n"
            )
        })
        .collect();
    std::fs::write(&big, text).expect("write");
    let case = Case { kind: "scenarios".into(), path: big, exit: 0, says: None };
    let root = project_for(&case, scratch.path());
    let (code, stderr, took) = run(&arguments(&case, &root), &root);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(took < TIME_LIMIT, "took {took:?}");
}
