//! The binary as a user runs it: `pki init`, `pki show`, `sign` in its three output forms, and
//! exit code 2 with a message naming the culprit for bad input.

use std::process::Output;

use dcr_harness::testing::{test_pki, test_pki_dir};

fn harness(args: &[&str]) -> Output {
    test_pki();
    dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness")).args(args).output().expect("run dcr-harness")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn pki_dir() -> String {
    test_pki_dir().display().to_string()
}

fn kat_body() -> String {
    format!("{}/fixtures/kat/body.json", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn pki_show_prints_roles_nca_and_no_secret() {
    let out = harness(&["pki", "show", "--dir", &pki_dir()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("psd2      roles PSP_PI, PSP_AI; NCA Financial Conduct Authority (GB-FCA)"), "{text}");
    assert!(text.contains("qseal-rsa1024") && text.contains("RSA-1024"));
    let secret = &test_pki().tpp("tpp-a").expect("tpp").dcr_client_secret;
    assert!(!text.contains(secret.as_str()), "DCR secret leaked into pki show");
}

#[test]
fn sign_prints_signing_string_blank_line_then_headers() {
    let date = "Tue, 24 Nov 2026 19:11:14 GMT";
    let body = kat_body();
    let out = harness(&[
        "sign",
        "--method",
        "POST",
        "--url",
        "https://127.0.0.1:8443/client/v1/register",
        "--body",
        &body,
        "--pki",
        &pki_dir(),
        "--date",
        date,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (string, headers) = text.split_once("\n\n").expect("blank line");
    assert_eq!(
        string,
        format!(
            "(request-target): post /client/v1/register\ndate: {date}\ndigest: SHA-256=3ZAjGu9zgW+WQ03cuYiWS8fXaF8ODXWPrVptwxZeZlQ="
        )
    );
    for name in ["Date: ", "Digest: ", "Signature: keyId=\"SN=", "TPP-Signature-Certificate: "] {
        assert!(headers.lines().any(|l| l.starts_with(name)), "{name} missing in {headers}");
    }
}

#[test]
fn sign_json_and_curl_forms() {
    let body = kat_body();
    let base = ["sign", "--url", "https://127.0.0.1:8443/client/v1/register", "--body", &body, "--pki"];
    let dir = pki_dir();
    let mut json_args = base.to_vec();
    json_args.extend([dir.as_str(), "--json"]);
    let out = harness(&json_args);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert!(value["signing_string"].as_str().expect("string").starts_with("(request-target): post "));
    assert!(value["headers"]["Signature"].as_str().expect("sig").contains("algorithm=\"rsa-sha256\""));

    let mut curl_args = base.to_vec();
    curl_args.extend([dir.as_str(), "--curl", "--mutation", "request-target-without-query"]);
    let out = harness(&curl_args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "curl -sS --cert ",
        "qwac.pem",
        "--key ",
        "--cacert ",
        "root-ca.pem",
        "-X POST",
        "X-IBM-Client-Id",
        "--data-binary",
    ] {
        assert!(text.contains(part), "{part} missing in {text}");
    }
    assert!(text.contains("/client/v1/register?dcr-harness=query'"), "mutated target shown: {text}");
    // Quiet, and no DCR-service secret unless asked: shell references instead.
    let secret = test_pki().tpp("tpp-a").expect("tpp").dcr_client_secret.clone();
    assert!(text.starts_with("curl -sS "), "{text}");
    assert!(!text.contains(&secret) && text.contains("\"X-IBM-Client-Secret: ${DCR_CLIENT_SECRET}\""), "{text}");
    curl_args.push("--show-secrets");
    let shown = stdout(&harness(&curl_args));
    assert!(shown.contains(&format!("'X-IBM-Client-Secret: {secret}'")), "{shown}");
}

/// `sign --curl` sends the very bytes it signed: a body that is not UTF-8 and a large one go
/// by `--data-binary @FILE`, the file holding exactly what the Digest covers, and the command
/// stays short.
#[test]
fn sign_curl_sends_the_signed_bytes_from_a_file() {
    use base64::Engine;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = pki_dir();
    let mut large = b"{\"client_name\":\"\xff\xfe not UTF-8\",\"x\":\"".to_vec();
    large.extend(std::iter::repeat_n(b'a', 300 * 1024));
    large.extend(b"\"}");
    let body = tmp.path().join("body.bin");
    std::fs::write(&body, &large).expect("write");
    let body_arg = body.display().to_string();
    for mutation in [None, Some("digest-wrong")] {
        let mut args = vec!["sign", "--url", "https://127.0.0.1:8443/client/v1/register", "--body", &body_arg];
        args.extend(["--pki", dir.as_str(), "--curl"]);
        args.extend(mutation.iter().flat_map(|m| ["--mutation", *m]));
        let out = harness(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.len() < 16 * 1024, "{mutation:?}: a {}-byte command", text.len());
        let file = text
            .split("--data-binary '@")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{mutation:?}: no --data-binary @FILE in {text}"));
        let sent = std::fs::read(file).expect("the referenced file");
        assert_eq!(sent, large, "{mutation:?}: the file holds the signed bytes exactly");
        let digest = base64::engine::general_purpose::STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(&sent));
        let carries_the_bodys_digest = text.contains(&format!("Digest: SHA-256={digest}"));
        assert_eq!(carries_the_bodys_digest, mutation.is_none(), "{mutation:?}: {}", &text[..text.len().min(2000)]);
    }
}

/// `sign --profile` signs as a run under that profile would: its dialect (here upper-case
/// method and a bare hex digest) and its identities.
#[test]
fn sign_with_a_profile_applies_its_dialect() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let profile = tmp.path().join("upper.yaml");
    let yaml = "name: upper\nsignature: { dialect: { method_case: upper, digest: hex } }\nidentities: { sign: qseal-b, tls: qwac-b, tpp: tpp-b }\n";
    std::fs::write(&profile, yaml).expect("write");
    let body = kat_body();
    let url = "https://127.0.0.1:8443/client/v1/register";
    let out = harness(&[
        "sign",
        "--url",
        url,
        "--body",
        &body,
        "--pki",
        &pki_dir(),
        "--profile",
        &profile.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("(request-target): POST /client/v1/register\n"), "{text}");
    assert!(text.contains("\ndigest: dd9023"), "a bare hex digest: {text}");
    let qseal_b = test_pki().identity("qseal-b").expect("qseal-b").info.serial_hex();
    assert!(text.contains(&format!("keyId=\"SN={qseal_b}")), "signed with the profile's QSEAL: {text}");
}

#[test]
fn bad_input_exits_2_naming_the_culprit() {
    let dir = pki_dir();
    let url = "https://127.0.0.1/client/v1/register";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["sign", "--url", url, "--pki", &dir, "--identity", "nobody"], "unknown identity `nobody`"),
        (vec!["sign", "--url", url, "--pki", &dir, "--mutation", "no-such"], "unknown mutation `no-such`"),
        (vec!["sign", "--url", url, "--pki", &dir, "--body", "/nonexistent/body.json"], "/nonexistent/body.json"),
        (vec!["sign", "--url", "not a url", "--pki", &dir], "--url not a url"),
        (vec!["sign", "--url", url, "--pki", &dir, "--date", "yesterday"], "`yesterday` is not an RFC 7231 date"),
    ];
    for (args, expected) in cases {
        let out = harness(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn unreadable_pem_exits_2_with_the_file_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(test_pki_dir()).expect("dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).expect("copy");
    }
    std::fs::write(tmp.path().join("qseal.key"), "-----BEGIN PRIVATE KEY-----\nnot base64\n").expect("write");
    // Not expired and present, so `ensure` keeps it; loading must then fail clearly.
    let out = harness(&["sign", "--url", "https://127.0.0.1/x", "--pki", &tmp.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("qseal.key"), "{}", stderr(&out));
    // The message names the repair, and the repair works (no loop back to the same error).
    assert!(stderr(&out).contains("pki init --force --dir"), "{}", stderr(&out));
    let dir = tmp.path().display().to_string();
    let repaired = harness(&["pki", "init", "--force", "--dir", &dir, "--key-type", "ecdsa-p256"]);
    assert!(repaired.status.success(), "{}", stderr(&repaired));
    let out = harness(&["sign", "--url", "https://127.0.0.1/x", "--pki", &dir]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_is_an_error_but_a_closed_pipe_is_not() {
    test_pki();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["mutations"])
        .stdout(full)
        .output()
        .expect("run dcr-harness");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot write to standard output"), "{}", stderr(&out));

    let mut child = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["mutations"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "a reader that went away is not an error: {}", stderr(&out));
}

#[test]
fn a_broken_generated_certificate_is_made_again_and_said_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(test_pki_dir()).expect("read") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    std::fs::write(dir.path().join("qwac-b.pem"), "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        .expect("break");
    let out = harness(&["pki", "show", "--dir", &dir.path().display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("qwac-b: its certificate is unreadable") && said.contains("made again"), "{said}");
    let again = harness(&["pki", "show", "--dir", &dir.path().display().to_string()]);
    assert!(!stderr(&again).contains("made again"), "once repaired, nothing more to say");
}

/// Processes that make the same PKI at once take turns: none reads a half-written file, and
/// all end with the same PKI.
#[test]
fn concurrent_processes_make_one_pki() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = dir.path().join("pki").display().to_string();
    let children: Vec<_> = (0..4)
        .map(|_| {
            dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
                .args(["pki", "show", "--dir", &pki])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    assert!(outputs.windows(2).all(|w| w[0].stdout == w[1].stdout), "every process saw the same PKI");
}

/// Completions and the man page come from the clap definitions, so they name every command.
#[test]
fn completions_and_man_page_name_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = harness(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for command in ["run", "load", "init", "sign", "serve"] {
            assert!(script.contains(command), "{shell} completion lacks `{command}`");
        }
    }
    let man = stdout(&harness(&["man"]));
    assert!(man.starts_with(".ie") && man.contains(".TH dcr-harness 1"), "{man}");
    assert!(man.contains("completions") && man.contains("init"), "{man}");
}

/// `sign --raw` writes a request out as captured; `explain` reads it back and names the rule a
/// mutation broke, in each dialect, as of the moment it was signed (`--at`), with exit 1; an
/// unbroken request verifies with exit 0.
#[test]
fn explain_reads_back_what_sign_raw_wrote_and_names_the_broken_rule() {
    let date = "Tue, 24 Nov 2026 19:11:14 GMT";
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.http");
    let (body, pki) = (kat_body(), pki_dir());
    for (profile, mutation, rule) in [
        ("reference", Some("digest-wrong"), Some("digest-mismatch")),
        ("reference", Some("keyid-ca-wrong"), Some("keyid-mismatch")),
        ("fapi-message-signing", Some("label-mismatch"), Some("label-mismatch")),
        ("fapi-message-signing", Some("headers-without-request-target"), Some("header-not-signed")),
        ("reference", None, None),
        ("fapi-message-signing", None, None),
    ] {
        let mut args = vec!["sign", "--raw", "--profile", profile, "--url", "https://bank.example/client/v1/register"];
        args.extend(["--body", &body, "--pki", &pki, "--date", date]);
        if let Some(m) = mutation {
            args.extend(["--mutation", m]);
        }
        let signed = harness(&args);
        assert!(signed.status.success(), "{}", stderr(&signed));
        std::fs::write(&capture, &signed.stdout).expect("write the capture");
        let path = capture.display().to_string();
        let out = harness(&["explain", &path, "--profile", profile, "--at", date]);
        let text = stdout(&out);
        match rule {
            Some(rule) => {
                assert_eq!(out.status.code(), Some(1), "{profile} {mutation:?}: {text}{}", stderr(&out));
                assert!(text.contains(&format!("rule `{rule}`")), "{profile} {mutation:?}: {text}");
            }
            None => {
                assert_eq!(out.status.code(), Some(0), "{profile}: {text}{}", stderr(&out));
                assert!(text.contains("signature verifies"), "{text}");
            }
        }
    }
}

/// The binaries end to end: `serve --max-skew 137 --dialect-of berlin-group` in one process,
/// `probe --profile berlin-group --target` in another, which reports the skew the server was
/// started with, to the second, either way.
#[test]
fn probe_reports_the_max_skew_a_served_reference_server_was_started_with() {
    use std::io::BufRead;
    test_pki();
    let mut server = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["serve", "--listen", "127.0.0.1:0", "--max-skew", "137", "--dialect-of", "berlin-group", "--pki"])
        .arg(pki_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut url = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout")).read_line(&mut url).expect("the URL line");
    let out = harness(&["probe", "--profile", "berlin-group", "--target", url.trim(), "--pki", &pki_dir()]);
    let _ = server.kill();
    let _ = server.wait();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    for direction in ["in the past", "in the future"] {
        let edge = ["136", "137"].iter().any(|s| text.contains(&format!("up to **{s} s** {direction}")));
        assert!(edge, "{direction}: {text}");
    }
    assert!(
        text.contains("| Digest as SHA-512 only (`SHA-512=`) | accepted |"),
        "the Berlin Group takes SHA-512: {text}"
    );
}

/// A scenario file that is a named pipe: `validate` refuses it at once (opening a pipe would
/// wait for a writer for ever), naming it.
#[test]
fn a_scenario_file_that_is_a_pipe_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(dir.path());
    let fifo = dir.path().join("scenarios/zz-pipe.yaml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let root = dir.path().display().to_string();
    let out = harness(&["validate", "--root", &root]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("zz-pipe.yaml is a named pipe, not a regular file"), "{}", stderr(&out));
}

/// `explore` end to end as a user runs it: a clean exploration exits 0 with its summary; against a
/// flaw it exits 1, writes the shrunk scenario, and `run --scenario FILE` fails on it with the
/// flaw and passes without; the JSON report names the finding and no secret.
#[test]
fn explore_finds_writes_and_run_reproduces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("findings");
    let out_arg = out_dir.display().to_string();
    let clean = harness(&["explore", "--pki", &pki_dir(), "--seed", "4", "--requests", "300", "--out", &out_arg]);
    assert_eq!(clean.status.code(), Some(0), "{}{}", stdout(&clean), stderr(&clean));
    assert!(stdout(&clean).contains("findings: 0 (0 failing, 0 warning)"), "{}", stdout(&clean));
    assert!(stderr(&clean).contains("seed 4"), "{}", stderr(&clean));

    let report = dir.path().join("explore.json");
    let report_arg = format!("json={}", report.display());
    let flawed = [
        "explore",
        "--pki",
        &pki_dir(),
        "--seed",
        "4",
        "--requests",
        "3000",
        "--out",
        &out_arg,
        "--flaw",
        "cross-tpp-update",
        "--max-findings",
        "1",
        "--report",
        &report_arg,
    ];
    let found = harness(&flawed);
    assert_eq!(found.status.code(), Some(1), "{}{}", stdout(&found), stderr(&found));
    let text = stdout(&found);
    assert!(text.contains("FAIL other-tpp-refused (MUST)") && text.contains("reproduce: dcr-harness run"), "{text}");
    let files: Vec<_> = std::fs::read_dir(&out_dir).expect("findings written").flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = files[0].display().to_string();
    let json = std::fs::read_to_string(&report).expect("report");
    assert!(json.contains("explore-other-tpp-refused-seed-4"), "{json}");
    let secret = &test_pki().tpp("tpp-a").expect("tpp").dcr_client_secret;
    assert!(!json.contains(secret.as_str()), "a DCR secret in the report");

    let again = harness(&["run", "--pki", &pki_dir(), "--scenario", &file, "--flaw", "cross-tpp-update"]);
    assert_eq!(again.status.code(), Some(1), "{}{}", stdout(&again), stderr(&again));
    let passes = harness(&["run", "--pki", &pki_dir(), "--scenario", &file]);
    assert_eq!(passes.status.code(), Some(0), "{}{}", stdout(&passes), stderr(&passes));
    assert!(stdout(&passes).contains("1 scenarios, 1 passed"), "{}", stdout(&passes));
}

#[test]
fn explore_refuses_what_it_cannot_model_and_bad_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = std::fs::read_to_string(format!("{}/profiles/rfc7591-plain.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("profile");
    let registration_only = dir.path().join("registration-only.yaml");
    std::fs::write(&registration_only, plain.replace("management: registration-token", "management: none"))
        .expect("write");
    let profile = registration_only.display().to_string();
    let refused = harness(&["explore", "--pki", &pki_dir(), "--profile", &profile, "--requests", "10"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("no RFC 7592 management"), "{}", stderr(&refused));
    let cdr = harness(&["explore", "--pki", &pki_dir(), "--profile", "cdr", "--requests", "10"]);
    assert_eq!(cdr.status.code(), Some(2), "{}", stderr(&cdr));
    assert!(stderr(&cdr).contains("one registration per software product"), "{}", stderr(&cdr));
    let zero = harness(&["explore", "--requests", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
    let broken = harness(&["run", "--pki", &pki_dir(), "--scenario", "no-such-dir/finding.yaml"]);
    assert_eq!(broken.status.code(), Some(2), "{}", stderr(&broken));
    assert!(stderr(&broken).contains("no-such-dir/finding.yaml"), "{}", stderr(&broken));
}

#[test]
fn a_run_against_a_baseline_names_what_changed_and_markdown_leads_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (base, md) = (dir.path().join("base.json"), dir.path().join("now.md"));
    let pki = pki_dir();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--pki", &pki, "--scenario", "digest-wrong"];
        args.extend_from_slice(extra);
        harness(&args)
    };
    let json = format!("json={}", base.display());
    let clean = run(&["--scenario", "digest-sha1", "--report", &json]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));

    let markdown = format!("md={}", md.display());
    let baseline = base.display().to_string();
    let flawed = run(&[
        "--scenario",
        "digest-missing",
        "--flaw",
        "skip-digest-check",
        "--baseline",
        &baseline,
        "--report",
        &markdown,
    ]);
    assert_eq!(flawed.status.code(), Some(1), "the verdict stands: {}", stderr(&flawed));
    let text = std::fs::read_to_string(&md).expect("markdown report");
    let lead = text.find("### Since the baseline").expect("a baseline section");
    assert!(lead < text.find("| area |").expect("the area table"), "it leads: {text}");
    for row in [
        "| newly failing | `digest-wrong` | pass | fail |",
        "| new | `digest-missing` | - |",
        "| removed | `digest-sha1` | pass | - |",
    ] {
        assert!(text.contains(row), "{row} in {text}");
    }
    assert!(stdout(&flawed).contains("since the baseline"), "{}", stdout(&flawed));

    let same = run(&["--scenario", "digest-sha1", "--baseline", &baseline]);
    assert!(stdout(&same).contains("nothing changed since the baseline"), "{}", stdout(&same));

    std::fs::write(&base, "{\"run\": {\"scenarios\": [\n  {\"id\": 1}\n]}}").expect("write");
    let broken = run(&["--baseline", &baseline]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(stderr(&broken).contains("base.json:2:"), "file:line:col: {}", stderr(&broken));
}
