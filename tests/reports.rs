//! Reports: every reporter on a real run leaks no secret (private keys, client secrets,
//! registration access tokens, access tokens, DCR-service secrets), and each reporter's output
//! for a fixed run model is pinned by an insta snapshot.

use std::path::Path;

use dcr_harness::report::{self, Format, Report};
use dcr_harness::run::check::CheckOutcome;
use dcr_harness::run::model::{
    CleanupResult, RecordedRequest, RecordedResponse, RunResult, ScenarioResult, StepResult, Verdict,
};
use dcr_harness::scenario::Severity;
use dcr_harness::server::Flaw;
use dcr_harness::suite::{self, Embedded, Layout, SuiteOptions};
use dcr_harness::testing::{test_pki, test_pki_dir};

const KINDS: [(Format, &str); 5] = [
    (Format::Junit, "junit"),
    (Format::Json, "json"),
    (Format::Html, "html"),
    (Format::Markdown, "md"),
    (Format::Sarif, "sarif"),
];

/// Tokens shaped like what the reference server issues: 32 random bytes, base64url (client
/// secrets), with `rat-` (registration access tokens) or `at-` (access tokens).
fn secret_shaped_tokens(text: &str) -> Vec<String> {
    let b64 = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
    text.split(|c: char| !b64(c))
        .filter(|t| {
            let body = t.strip_prefix("rat-").or_else(|| t.strip_prefix("at-")).unwrap_or(t);
            body.len() == 43 && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        // A TLS cipher suite's registry name can be 43 characters too, and is no secret.
        .filter(|t| dcr_harness::tls_probe::cipher_suite(t).is_none())
        .map(str::to_string)
        .collect()
}

/// HTML text with the entities a template engine writes turned back into characters.
fn unescaped(text: &str) -> String {
    [("&#x2f;", "/"), ("&quot;", "\""), ("&#x27;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")]
        .iter()
        .fold(text.to_string(), |t, (entity, c)| t.replace(entity, c))
}

/// Everything secret this test knows of: DCR-service secrets and private key bodies.
fn known_secrets() -> Vec<String> {
    let pki = test_pki();
    let mut secrets: Vec<String> = pki.tpps().map(|(_, t)| t.dcr_client_secret.clone()).collect();
    let files: Vec<_> = std::fs::read_dir(test_pki_dir()).expect("pki dir").map(|e| e.expect("entry").path()).collect();
    let body = |path: &Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("pem")
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_string)
            .collect()
    };
    // The modulus of an RSA key is also in its certificate: only lines found in no certificate
    // are private.
    let public: String =
        files.iter().filter(|p| p.extension().is_some_and(|e| e == "pem")).flat_map(|p| body(p)).collect();
    for key in files.iter().filter(|p| p.extension().is_some_and(|e| e == "key")) {
        secrets.extend(body(key).into_iter().filter(|l| l.len() >= 40 && !public.contains(l.as_str())));
    }
    secrets
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    let secret = dcr_harness::pki::generate_token("", 32);
    let rat = dcr_harness::pki::generate_token("rat-", 32);
    let text = format!(
        r#"{{"client_secret":"{secret}","registration_access_token":"{rat}","client_id":"{}"}}"#,
        dcr_harness::pki::generate_token("", 16)
    );
    assert_eq!(secret_shaped_tokens(&text), vec![secret, rat]);
    assert!(secret_shaped_tokens("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn no_report_and_no_terminal_output_leaks_a_secret() {
    test_pki();
    let layout = Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) };
    let secrets = known_secrets();
    assert!(secrets.len() > 10, "the test must know the secrets it looks for");
    // A flawed run too, so that failures print requests, responses and checks in full.
    for flaws in [vec![], vec![Flaw::OmitSecretExpiry, Flaw::RefreshKeepsOldSecret, Flaw::LeakExistence]] {
        for profile in ["reference", "rfc7591-plain"] {
            let options = SuiteOptions {
                profile: profile.into(),
                embedded: Embedded { flaws: flaws.iter().copied().collect(), ..Embedded::default() },
                ..SuiteOptions::default()
            };
            let run = suite::run(&layout, &options).await.expect("run").result;
            let dir = tempfile::tempdir().expect("tempdir");
            let specs: Vec<_> = KINDS.iter().map(|(k, ext)| (*k, dir.path().join(format!("report.{ext}")))).collect();
            report::write_all(&run, &specs).expect("reports");
            let mut outputs = vec![("terminal".to_string(), report::terminal::render(&run))];
            for (_, path) in &specs {
                outputs.push((path.display().to_string(), std::fs::read_to_string(path).expect("read report")));
            }
            for (name, text) in &outputs {
                assert!(!text.contains("PRIVATE KEY"), "{name}: a private key");
                for secret in &secrets {
                    if let Some(at) = text.find(secret.as_str()) {
                        let context = &text[at.saturating_sub(300)..at];
                        panic!("{name}: a known secret ({profile}, {flaws:?}) after: {context}");
                    }
                }
                // As a reader sees it: an escaped `/` would cut a signature into token-sized pieces.
                let tokens = secret_shaped_tokens(&unescaped(text));
                assert!(tokens.is_empty(), "{name} ({profile}, {flaws:?}): secret-shaped tokens {tokens:?}");
            }
            assert!(
                outputs.iter().any(|(_, t)| t.contains("[redacted]")),
                "redaction happened (and the scan looked at real output)"
            );
        }
    }
}

fn change(id: &str, before: &str, now: &str) -> dcr_harness::run::baseline::Change {
    dcr_harness::run::baseline::Change { id: id.into(), before: before.into(), now: now.into() }
}

/// A small run model with every verdict, fixed so that rendering it is deterministic.
fn fixed_run() -> RunResult {
    let request = RecordedRequest {
        method: "POST".into(),
        url: "https://127.0.0.1:8443/client/v1/register".into(),
        tls_identity: Some("qwac".into()),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-IBM-Client-Secret".into(), "[redacted]".into()),
        ],
        body: r#"{"client_name":"a <b> & \"c\"","redirect_uris":["https://tpp.example/cb"]}"#.into(),
        signing_string: Some(
            "(request-target): post /client/v1/register\ndate: Wed, 02 Dec 2026 06:10:00 GMT\ndigest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
        ),
    };
    let response = RecordedResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"client_id":"abc","client_secret":"[redacted]"}"#.into(),
        truncated: false,
    };
    let step = |name: &str, passed: bool, mutation: Option<&str>| StepResult {
        name: name.into(),
        request: request.clone(),
        response: Some(response.clone()),
        transport_error: None,
        mutations: mutation.map(|m| vec![m.to_string()]).unwrap_or_default(),
        checks: vec![CheckOutcome::new(
            dcr_harness::run::model::Check::Status,
            passed,
            "signature rejection: 400 or 401",
            if passed { "401" } else { "201" },
        )],
        duration_ms: 12,
    };
    let scenario = |id: &str, area: &str, severity: Severity, verdict: Verdict, passed: bool| ScenarioResult {
        id: id.into(),
        title: format!("title of {id}"),
        location: format!("scenarios/{area}.yaml:{}", id.len()),
        area: area.parse().expect("area"),
        error: None,
        policy: None,
        severity,
        source: "RFC 7591 §3.2.1".into(),
        tags: vec!["rfc7591".into()],
        verdict,
        known_failure_reason: (verdict == Verdict::KnownFailure || verdict == Verdict::FixedKnownFailure)
            .then(|| "ticket 7".into()),
        steps: vec![step("step 1", passed, (!passed).then_some("digest-wrong"))],
        cleanup: vec![CleanupResult {
            client: "abc".into(),
            ok: true,
            stranded: false,
            detail: "deleted (204)".into(),
        }],
        duration_ms: 15,
        requests: 2,
        trace_id: String::new(),
    };
    RunResult {
        interrupted: false,
        target: "https://127.0.0.1:8443".into(),
        profile: "reference".into(),
        started_at: "2026-12-02T06:10:00Z".into(),
        scenarios: vec![
            scenario("digest-wrong", "digest", Severity::Must, Verdict::Fail, false),
            scenario("digest-sha1", "digest", Severity::Must, Verdict::Pass, true),
            scenario("metadata-response-not-cached", "metadata", Severity::Should, Verdict::Warn, false),
            scenario("metadata-minimal-registration", "metadata", Severity::Must, Verdict::KnownFailure, false),
            scenario("lifecycle-delete-twice", "lifecycle", Severity::Must, Verdict::FixedKnownFailure, true),
            scenario("lifecycle-delete-then-read", "lifecycle", Severity::Must, Verdict::Skipped, true),
        ],
        duration_ms: 1234,
        requests: 12,
        clients_left: vec!["left-behind-1".into(), "id\u{1b}[31m\r\nforged line".into()],
        ledger: Some(".dcr-harness/ledgers/ledger-1-1.jsonl".into()),
        origins_elsewhere: vec!["https://config.bank.example".into()],
        not_applicable: vec![dcr_harness::run::model::NotApplicable {
            id: "sig-refresh-unsigned".into(),
            reason: "it refreshes a secret, and the profile sets no `paths.secret`".into(),
        }],
        clients_stranded: vec!["stranded-1".into()],
        faults: Some("ocsp:latency=300".into()),
        since_baseline: Some(dcr_harness::run::baseline::Changes {
            baseline: "reports/main.json".into(),
            newly_failing: vec![change("digest-wrong", "pass", "fail")],
            newly_passing: vec![change("lifecycle-delete-twice", "known-failure", "fixed-known-failure")],
            changed: vec![],
            new: vec![change("digest-sha1", "-", "pass")],
            removed: vec![change("digest-retired", "pass", "-")],
        }),
        certificates: vec![dcr_harness::run::model::CertificateNote {
            role: "QWAC".into(),
            identity: "qwac".into(),
            subject: "C=GB, O=Test TPP A Ltd, CN=Test TPP A Ltd QWAC".into(),
        }],
    }
}

#[test]
fn terminal_report_of_a_fixed_run() {
    insta::assert_snapshot!(report::terminal::render(&fixed_run()));
}

#[test]
fn markdown_report_of_a_fixed_run() {
    insta::assert_snapshot!(&fixed_run().render(Format::Markdown).expect("rendered"));
}

#[test]
fn junit_report_of_a_fixed_run() {
    insta::assert_snapshot!(&fixed_run().render(Format::Junit).expect("rendered"));
}

#[test]
fn json_report_of_a_fixed_run() {
    insta::assert_snapshot!(&fixed_run().render(Format::Json).expect("rendered"));
}

#[test]
fn sarif_report_of_a_fixed_run() {
    insta::assert_snapshot!(&fixed_run().render(Format::Sarif).expect("rendered"));
}

/// The OASIS SARIF 2.1.0 schema (errata 01, draft-04), vendored in `schemas/vendor/`.
fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/vendor/sarif-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("json");
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_validates_against_the_oasis_schema_with_one_result_per_failed_must_and_should() {
    let validator = sarif_validator();
    let sarif: serde_json::Value =
        serde_json::from_str(&fixed_run().render(Format::Sarif).expect("rendered")).expect("SARIF is JSON");
    let errors: Vec<String> =
        validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let levels: Vec<(&str, &str)> =
        results.iter().map(|r| (r["ruleId"].as_str().unwrap_or(""), r["level"].as_str().unwrap_or(""))).collect();
    assert_eq!(levels, [("digest-wrong", "error"), ("metadata-response-not-cached", "warning")]);
    let region = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(region["artifactLocation"]["uri"], "scenarios/digest.yaml");
    assert!(region["region"]["startLine"].as_u64().is_some_and(|l| l >= 1), "{region}");
    // The validator is no rubber stamp: a level SARIF does not know is refused.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken), "a level outside the enum must be refused");
}

#[test]
fn html_report_of_a_fixed_run() {
    let html = &fixed_run().render(Format::Html).expect("rendered");
    assert!(!html.contains("<b>"), "HTML is escaped");
    assert!(!html.contains("http://") || !html.contains("src=\"http"), "no external assets");
    let at = |id: &str| html.find(&format!("<code>{id}</code>")).unwrap_or(usize::MAX);
    assert!(at("digest-wrong") < at("metadata-response-not-cached"), "the failure first");
    assert!(at("metadata-response-not-cached") < at("digest-sha1"), "warnings before passes");
    assert!(html.contains("started 2026-12-02T06:10:00Z · dcr-harness "), "date and version in the header");
    insta::assert_snapshot!(html);
}

/// A long value (a certificate header, a body) folds to its first characters with its length,
/// and the whole value is there when opened: it no longer buries the failure.
#[test]
fn html_folds_long_values_and_keeps_them_whole() {
    let mut run = fixed_run();
    let certificate = "MIIF".to_string() + &"A".repeat(1996);
    let body = format!("{{\"software_statement\":\"{}\"}}", "x".repeat(3000));
    let step = &mut run.scenarios[0].steps[0];
    step.request.headers.push(("TPP-Signature-Certificate".into(), certificate.clone()));
    step.request.body = body.clone();
    let html = run.render(Format::Html).expect("rendered");
    let folded = format!("TPP-Signature-Certificate: <details class=\"long\"><summary>MIIF{}… <span class=\"meta\">(2000 characters)</span>", "A".repeat(68));
    assert!(html.contains(&folded), "the header folds to its first 72 characters");
    assert!(html.contains(&format!("<span class=\"whole\">{certificate}</span>")), "and keeps the whole");
    assert!(html.contains(&format!("body, {} characters", body.chars().count())), "a long body folds whole");
    let short = &fixed_run().render(Format::Html).expect("rendered");
    assert!(!short.contains("class=\"long\""), "short values stay as they are");
    // A passing scenario's long values are cut, not kept: the page of a passing run stays small.
    let passing = run.scenarios.iter().position(|s| s.verdict == Verdict::Pass).expect("a pass");
    run.scenarios[passing].steps[0].request.headers.push(("TPP-Signature-Certificate".into(), "MIIG".repeat(500)));
    let html = run.render(Format::Html).expect("rendered");
    assert!(!html.contains(&"MIIG".repeat(30)), "cut");
    assert!(html.contains("(2000 characters, whole in the JSON report)"));
}

#[test]
fn report_specs_parse_and_bad_ones_name_the_culprit() {
    let specs = report::parse_specs("junit=a.xml,json=b.json,html=c.html,md=d.md", RunResult::FORMATS).expect("specs");
    assert_eq!(specs.len(), 4);
    let err = report::parse_specs("pdf=x.pdf", RunResult::FORMATS).expect_err("unknown kind").to_string();
    assert!(err.contains("unknown report kind `pdf`"), "{err}");
    assert!(report::parse_specs("junit", RunResult::FORMATS).is_err());
    // A load has no JUnit report: the kind is refused, naming the ones it has.
    let err =
        report::parse_specs("junit=a.xml", dcr_harness::load::LoadReport::FORMATS).expect_err("no junit").to_string();
    assert!(err.contains("unknown report kind `junit` (json, html, md)"), "{err}");
}

#[test]
fn terminal_styles_colour_quiet_and_verbose() {
    use dcr_harness::report::terminal::{render_with, Style, Verbosity};
    let run = fixed_run();
    let coloured = render_with(&run, &Style { color: true, verbosity: Verbosity::Normal, width: None });
    let red = dcr_harness::report::terminal::verdict_style(dcr_harness::run::Verdict::Fail);
    assert!(coloured.contains(&format!("{red}FAIL {red:#}")), "FAIL in red");
    assert!(red.get_fg_color().is_some() && red.get_effects().contains(anstyle::Effects::BOLD));
    let plain = render_with(&run, &Style { color: false, verbosity: Verbosity::Normal, width: None });
    assert!(!plain.contains('\x1b'), "no escape codes without colour (NO_COLOR, not a terminal)");
    let mut long = fixed_run();
    long.scenarios[0].title =
        "A registration whose Digest header does not match its body is refused by the server".into();
    let narrow = render_with(&long, &Style { color: false, verbosity: Verbosity::Normal, width: Some(110) });
    let line = narrow.lines().find(|l| l.starts_with("FAIL  digest-wrong")).expect("the failure's line");
    assert!(console::measure_text_width(line) <= 110 && line.ends_with('…'), "cut to the width: {line}");
    assert!(narrow.lines().all(|l| !l.starts_with("PASS") || console::measure_text_width(l) <= 110));
    let quiet = render_with(&run, &Style { color: false, verbosity: Verbosity::Quiet, width: None });
    assert!(!quiet.contains("PASS  digest-sha1") && quiet.contains("FAIL  digest-wrong"));
    let verbose = render_with(&run, &Style { color: false, verbosity: Verbosity::Verbose, width: None });
    assert!(verbose.contains("ok status: expected signature rejection"), "passing checks shown: {verbose}");
}

/// What the strictest JUnit reader (the Jenkins xUnit plugin's junit-10.xsd, checked against by
/// hand with xmllint) refuses: properties inside a testcase, a skipped count on testsuites.
#[test]
fn junit_keeps_to_the_strict_schema() {
    let xml = &fixed_run().render(Format::Junit).expect("rendered");
    let suites_tag = &xml[xml.find("<testsuites").expect("testsuites")..];
    let suites_tag = &suites_tag[..suites_tag.find('>').expect("tag end")];
    assert!(!suites_tag.contains("skipped="), "{suites_tag}");
    for case in xml.split("<testcase ").skip(1) {
        let body = &case[..case.find("</testcase>").unwrap_or(case.len())];
        assert!(!body.contains("<properties>"), "a testcase with properties: {body}");
    }
    assert!(xml.contains("severity: MUST"), "severity is still said");
    // ISO8601_DATETIME_PATTERN: no fraction, no zone.
    for stamp in xml.split("timestamp=\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap_or(0)]) {
        assert_eq!(stamp, "2026-12-02T06:10:00", "{xml}");
    }
    assert_eq!(xml.matches("timestamp=").count(), 4, "the testsuites and each testsuite");
}
