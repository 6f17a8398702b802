use super::*;

#[test]
fn a_source_cites_an_obligation_only_inside_quotes() {
    let cases = [
        (r#"RFC 7592 §2.2: "values ... MUST replace, not augment""#, true),
        (r#"SMBC: "all operations ... must be signed""#, true),
        (r#"SMBC: "All operations require the TPP to authenticate""#, true),
        (r#"RFC 7591 §3.2.1: client_id "REQUIRED""#, true),
        (r#"ETSI: "shall include""#, true),
        ("RFC 7592 §2.2 (the server MUST replace the metadata)", false),
        (r#"RFC 6749 §3.1.2.1: "SHOULD require the use of TLS""#, false),
        (r#"RFC 6749 §3.1.2.1: "SHOULD use TLS"; MUST elsewhere"#, false),
        (r#"a "mustard" word is no obligation"#, false),
        (r#"an unclosed "MUST"#, false),
        ("", false),
    ];
    for (source, cites) in cases {
        assert_eq!(quoted_obligation(source).is_some(), cites, "{source}");
    }
}

#[test]
fn date_offsets_are_seconds_or_counted_from_the_window() {
    let cases = [
        ("-298", Some(-298)),
        ("'-window+1'", Some(-299)),
        ("window", Some(300)),
        ("'+window-2'", Some(298)),
        ("'- window + 1'", Some(-299)),
        ("'window+x'", None),
        ("'windows'", None),
        ("'-1'", None),
    ];
    for (yaml, expected) in cases {
        let parsed = serde_norway::from_str::<DateOffset>(yaml).ok();
        assert_eq!(parsed.and_then(|d| d.seconds(300)), expected, "{yaml}");
    }
    let round_trip = serde_norway::to_string(&DateOffset::FromWindow { sign: -1, seconds: 1 }).expect("yaml");
    assert_eq!(
        serde_norway::from_str::<DateOffset>(&round_trip).ok(),
        Some(DateOffset::FromWindow { sign: -1, seconds: 1 })
    );
    assert_eq!(DateOffset::FromWindow { sign: 1, seconds: 0 }.seconds(u64::MAX), None, "out of range, no panic");
}
