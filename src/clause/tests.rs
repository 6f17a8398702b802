use super::*;

fn sentence(id: &str, section: &str, level: Level, text: &str) -> Sentence {
    Sentence { id: id.into(), section: section.into(), level, text: text.into() }
}

fn library() -> Library {
    let rfc = Text {
        id: "rfc7592".into(),
        title: "Management".into(),
        cited_as: vec!["RFC 7592".into()],
        complete: true,
        sentences: vec![
            sentence(
                "2.1/1",
                "2.1",
                Level::Must,
                "If the client does not exist on this server, the server MUST respond with HTTP 401 Unauthorized.",
            ),
            sentence(
                "2.2/1",
                "2.2",
                Level::Must,
                "Valid values of client metadata fields in this request MUST replace, not augment, the values \
                 previously associated with this client.",
            ),
            sentence("2.2.1/1", "2.2.1", Level::Should, "The \"client_secret\" SHOULD be kept [RFC6749]."),
            sentence("3/1", "3", Level::May, "The server MAY rotate the token."),
        ],
    };
    let smbc = Text {
        id: "smbc".into(),
        title: "SMBC".into(),
        cited_as: vec!["SMBC DCR service description".into(), "SMBC".into()],
        complete: true,
        sentences: vec![sentence("sig/1", "sig", Level::Must, "All operations must be signed.")],
    };
    Library { texts: vec![rfc, smbc] }
}

fn found(source: &str) -> Vec<(Option<String>, Found)> {
    library().cite(source).into_iter().map(|c| (c.piece, c.found)).collect()
}

#[test]
fn each_quoted_piece_is_looked_up_in_the_text_and_section_it_follows() {
    let exact = |ids: Vec<usize>| Found::Sentences { ids, exact: true };
    type Expected<'a> = Vec<(Option<&'a str>, Found)>;
    let cases: Vec<(&str, Expected)> = vec![
        (
            r#"RFC 7592 §2.1: "the server MUST respond with HTTP 401 Unauthorized""#,
            vec![(Some("the server MUST respond with HTTP 401 Unauthorized"), exact(vec![0]))],
        ),
        // Ellipses cut a quote into pieces, each found on its own.
        (
            r#"RFC 7592 §2.2: "Valid values ... MUST replace, not augment""#,
            vec![(Some("Valid values"), exact(vec![1])), (Some("MUST replace, not augment"), exact(vec![1]))],
        ),
        // A subsection belongs to its section; quote marks and reference tags may be dropped.
        (
            r#"RFC 7592 §2.2: "The client_secret SHOULD be kept""#,
            vec![(Some("The client_secret SHOULD be kept"), Found::Sentences { ids: vec![2], exact: false })],
        ),
        // A misquote, and a quote from another section, are told apart.
        (
            r#"RFC 7592 §2.1: "the server MUST respond with 404""#,
            vec![(Some("the server MUST respond with 404"), Found::Missing)],
        ),
        (
            r#"RFC 7592 §3: "MUST respond with HTTP 401""#,
            vec![(Some("MUST respond with HTTP 401"), Found::OtherSection(vec!["2.1/1".into()]))],
        ),
        // A text named with no quote: at a section it has, or one it does not.
        ("RFC 7592 §2.2 (the whole of the update)", vec![(None, Found::Named)]),
        ("RFC 7592 §9.9 (nowhere)", vec![(None, Found::NoSuchSection)]),
        // Two texts in one source; the longest name wins; a quote before any name is nobody's.
        (
            r#""free words"; SMBC DCR service description, Digital signature: "must be signed"; RFC 7592 §3: "MAY rotate""#,
            vec![
                (Some("free words"), Found::Unattributed),
                (Some("must be signed"), exact(vec![0])),
                (Some("MAY rotate"), exact(vec![3])),
            ],
        ),
    ];
    for (source, expected) in cases {
        let expected: Vec<(Option<String>, Found)> =
            expected.into_iter().map(|(p, f)| (p.map(str::to_string), f)).collect();
        assert_eq!(found(source), expected, "{source}");
    }
}

#[test]
fn a_levels_name_is_the_keyword_the_files_write() {
    use Level::*;
    let all =
        [Must, MustNot, Required, Shall, ShallNot, Should, ShouldNot, Recommended, NotRecommended, May, Optional, Info];
    for level in all {
        assert_eq!(serde_norway::from_str::<Level>(&format!("\"{}\"", level.name())).ok(), Some(level), "{level:?}");
    }
}

#[test]
fn a_name_inside_a_word_is_no_citation() {
    assert_eq!(found(r#"notRFC 7592 "x y""#), vec![(Some("x y".to_string()), Found::Unattributed)]);
}

#[test]
fn coverage_counts_each_sentence_once_per_force() {
    let lib = library();
    let scenarios = [
        ("a", "MUST", r#"RFC 7592 §2.1: "MUST respond with HTTP 401""#),
        ("b", "MUST", r#"RFC 7592 §2.1: "does not exist on this server""#),
        ("c", "SHOULD", r#"RFC 7592 §2.2: "SHOULD be kept""#),
    ];
    let coverage = lib.coverage(scenarios);
    let figures = shares(&lib, &coverage, 0);
    assert_eq!(figures[&Force::Must], (2, 1));
    assert_eq!(figures[&Force::Should], (1, 1));
    assert_eq!(figures[&Force::May], (1, 0));
    assert_eq!(coverage.by[&(0, 0)].len(), 2, "both scenarios quote 2.1/1");
}

#[test]
fn lenient_text_drops_quote_marks_and_reference_tags_only() {
    let cases = [
        (r#"The "client_secret" SHOULD be kept [RFC6749]."#, "The client_secret SHOULD be kept."),
        ("a [not a tag!] b", "a [not a tag!] b"),
        ("`x`  y", "x y"),
    ];
    for (text, expected) in cases {
        assert_eq!(lenient(text), expected, "{text}");
    }
}
