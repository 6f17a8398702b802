//! The Python environment of the interoperability tests: a virtual environment in
//! `target/python-interop` with the hash-pinned packages of `tests/python/requirements.txt`
//! (PyJWT, pyauth's http-message-signatures, securesystemslib, in-toto-attestation), made once
//! per checkout and requirements, once per test binary; and running one of `tests/python`'s scripts in it. Needs python3 with venv and
//! pip (CI has them).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The environment's interpreter, made ready on first use.
pub fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> PathBuf {
    let requirements = root().join("tests/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("the requirements");
    let venv = root().join("target/python-interop");
    let python = venv.join("bin/python");
    // The marker holds the requirements it was made from: a changed list makes it again.
    let ready = venv.join(".installed");
    if std::fs::read_to_string(&ready).is_ok_and(|made| made == wanted) {
        return python;
    }
    let run = |command: &mut Command| {
        let out = command.output().expect("python3 can be started");
        assert!(out.status.success(), "{:?}: {}", command, String::from_utf8_lossy(&out.stderr));
    };
    run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv));
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--require-hashes", "--only-binary=:all:", "-r"])
        .arg(&requirements));
    std::fs::write(&ready, wanted).expect("mark the environment ready");
    python
}

/// Runs `tests/python/SCRIPT` with `args`, `stdin` on its standard input; its standard output,
/// trimmed. A failing script fails the test with its standard error.
pub fn run_script(script: &str, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(root().join("tests/python").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the script");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("the script finishes");
    assert!(out.status.success(), "{script} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
