//! The normative sentences of the texts the suite cites (`clauses/*.yaml`: RFC 7591, 7592,
//! 8705, 9421, the SMBC description, ...), and where a scenario's `source` quotes them: each
//! quoted piece found in a sentence of the text it names (in the section it names), with quote
//! marks and reference tags set aside. It owns that matching and the coverage it adds up to;
//! it must not run scenarios or read anything but the clause files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;

/// A text as `clauses/ID.yaml` holds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub id: String,
    pub title: String,
    /// How scenario sources name it (`RFC 7591`): a citation starts with one of these.
    pub cited_as: Vec<String>,
    /// Every normative sentence is here (not only those the suite quotes).
    pub complete: bool,
    pub sentences: Vec<Sentence>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sentence {
    /// `SECTION/N`.
    pub id: String,
    pub section: String,
    pub level: Level,
    pub text: String,
}

/// The strongest BCP 14 keyword of a sentence; `INFO` for one without (kept because a source
/// quotes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "REQUIRED")]
    Required,
    #[serde(rename = "SHALL")]
    Shall,
    #[serde(rename = "SHALL NOT")]
    ShallNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "RECOMMENDED")]
    Recommended,
    #[serde(rename = "NOT RECOMMENDED")]
    NotRecommended,
    #[serde(rename = "MAY")]
    May,
    #[serde(rename = "OPTIONAL")]
    Optional,
    #[serde(rename = "INFO")]
    Info,
}

/// What a level binds: an absolute requirement, a recommendation, a permission, nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Force {
    Must,
    Should,
    May,
    Informative,
}

impl Level {
    /// The keyword as BCP 14 spells it (`MUST NOT`), or `INFO`.
    pub fn name(self) -> &'static str {
        use Level::*;
        match self {
            Must => "MUST",
            MustNot => "MUST NOT",
            Required => "REQUIRED",
            Shall => "SHALL",
            ShallNot => "SHALL NOT",
            Should => "SHOULD",
            ShouldNot => "SHOULD NOT",
            Recommended => "RECOMMENDED",
            NotRecommended => "NOT RECOMMENDED",
            May => "MAY",
            Optional => "OPTIONAL",
            Info => "INFO",
        }
    }

    pub fn force(self) -> Force {
        use Level::*;
        match self {
            Must | MustNot | Required | Shall | ShallNot => Force::Must,
            Should | ShouldNot | Recommended | NotRecommended => Force::Should,
            May | Optional => Force::May,
            Info => Force::Informative,
        }
    }
}

impl Force {
    pub fn name(self) -> &'static str {
        match self {
            Force::Must => "MUST",
            Force::Should => "SHOULD",
            Force::May => "MAY",
            Force::Informative => "informative",
        }
    }
}

/// Why the clause files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClauseError {
    #[error("{}: {source}", .dir.display())]
    Dir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Text(#[from] crate::diagnostic::YamlTextError),
    #[error("{0}")]
    Yaml(String),
    #[error("{}: {why}", .file.display())]
    Invalid { file: PathBuf, why: String },
}

/// Every text of a clause directory.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub texts: Vec<Text>,
}

impl Library {
    /// Reads every `*.yaml` of each of `dirs`, a later directory's file replacing an earlier
    /// one's of the same name; the texts in file-name order.
    pub fn load(dirs: &[PathBuf]) -> Result<Library, ClauseError> {
        let mut files: BTreeMap<std::ffi::OsString, PathBuf> = BTreeMap::new();
        for dir in dirs {
            let paths =
                crate::files::yaml_files(dir).map_err(|source| ClauseError::Dir { dir: dir.to_path_buf(), source })?;
            files.extend(paths.into_iter().map(|path| (path.file_name().unwrap_or_default().to_os_string(), path)));
        }
        let mut texts = Vec::new();
        for file in files.into_values() {
            let source = crate::diagnostic::read_yaml_text(&file)?;
            let text: Text = serde_norway::from_str(&source)
                .map_err(|e| ClauseError::Yaml(crate::diagnostic::located(&file, &source, &e)))?;
            check_text(&text).map_err(|why| ClauseError::Invalid { file: file.clone(), why })?;
            texts.push(text);
        }
        Ok(Library { texts })
    }

    /// The citations of a scenario's `source`, each quoted piece looked up in its text.
    pub fn cite(&self, source: &str) -> Vec<Citation> {
        let mut out = Vec::new();
        for (text, segment) in self.segments(source) {
            let mut section: Option<&str> = None;
            let mut quoted_any = false;
            for event in events(segment) {
                match event {
                    Event::Section(s) => section = Some(s),
                    Event::Quote(quote) => {
                        for piece in pieces(quote) {
                            quoted_any = true;
                            let found = match text {
                                Some(t) => find(&self.texts[t], section, &piece),
                                None => Found::Unattributed,
                            };
                            out.push(Citation {
                                text,
                                section: section.map(str::to_string),
                                piece: Some(piece),
                                found,
                            });
                        }
                    }
                }
            }
            if let (Some(t), false) = (text, quoted_any) {
                // A text kept in part may well have the section: only a whole one can say not.
                let found = match section {
                    Some(s) if self.texts[t].complete && !has_section(&self.texts[t], s) => Found::NoSuchSection,
                    _ => Found::Named,
                };
                out.push(Citation { text: Some(t), section: section.map(str::to_string), piece: None, found });
            }
        }
        out
    }

    /// The source split at each text it names: (the text, what follows its name up to the
    /// next); what comes before the first name belongs to none.
    fn segments<'s>(&self, source: &'s str) -> Vec<(Option<usize>, &'s str)> {
        let mut names: Vec<(&str, usize)> =
            self.texts.iter().enumerate().flat_map(|(i, t)| t.cited_as.iter().map(move |n| (n.as_str(), i))).collect();
        names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        let mut at = 0;
        while at < source.len() {
            let starts_word = at == 0 || !source[..at].ends_with(|c: char| c.is_alphanumeric());
            let hit = names.iter().find(|(name, _)| starts_word && source[at..].starts_with(name));
            match hit {
                Some((name, text)) => {
                    hits.push((at, at + name.len(), *text));
                    at += name.len();
                }
                None => at += source[at..].chars().next().map_or(1, char::len_utf8),
            }
        }
        let mut out = Vec::new();
        let first = hits.first().map_or(source.len(), |h| h.0);
        if first > 0 {
            out.push((None, &source[..first]));
        }
        for (i, (_, end, text)) in hits.iter().enumerate() {
            let next = hits.get(i + 1).map_or(source.len(), |h| h.0);
            out.push((Some(*text), &source[*end..next]));
        }
        out
    }

    /// Each citation of a source that names what its text does not say, as a line: where the
    /// source is written (`at`), whose it is, what is wrong, and a hint. Sources are given as
    /// (where, id, source).
    pub fn misquotes<'a>(&self, sources: impl IntoIterator<Item = (String, &'a str, &'a str)>) -> Vec<String> {
        let mut out = Vec::new();
        for (at, id, source) in sources {
            let citations = self.cite(source);
            if citations.iter().all(|c| c.text.is_none()) {
                out.push(format!(
                    "{at}: `{id}`: its source names no text of clauses/ (hint: cite one by a name in its `cited_as`)"
                ));
                continue;
            }
            for c in citations.iter().filter(|c| !c.found.holds()) {
                let Some(t) = c.text else { continue };
                let text = self.texts[t].id.as_str();
                let section = c.section.as_deref().map(|s| format!(" §{s}")).unwrap_or_default();
                let why = match (&c.found, &c.piece) {
                    (Found::OtherSection(ids), Some(piece)) => {
                        format!("\"{piece}\" is in {text} at {}, not{section}", ids.join(", "))
                    }
                    (Found::NoSuchSection, _) => format!("{text} has no sentence in{section}"),
                    (_, Some(piece)) => format!("{text}{section} does not say \"{piece}\""),
                    (_, None) => format!("{text}{section}: nothing found"),
                };
                out.push(format!(
                    "{at}: `{id}`: {why} (hint: quote its words verbatim; `dcr-harness coverage --text {text}` lists them)"
                ));
            }
        }
        out
    }

    /// Coverage of every text by `scenarios` (each as its id, its level's name and its source).
    pub fn coverage<'a>(&self, scenarios: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Coverage {
        let mut by: BTreeMap<(usize, usize), BTreeSet<(String, String)>> = BTreeMap::new();
        for (id, level, source) in scenarios {
            for citation in self.cite(source) {
                let (Some(t), Found::Sentences { ids, .. }) = (citation.text, citation.found) else { continue };
                for s in ids {
                    by.entry((t, s)).or_default().insert((id.to_string(), level.to_string()));
                }
            }
        }
        Coverage { by }
    }
}

/// Which scenarios quote which sentence: (text index, sentence index) → (scenario id, level).
#[derive(Debug, Default)]
pub struct Coverage {
    pub by: BTreeMap<(usize, usize), BTreeSet<(String, String)>>,
}

/// A text's figures: per force, (sentences, covered).
pub fn shares(library: &Library, coverage: &Coverage, text: usize) -> BTreeMap<Force, (usize, usize)> {
    let mut out: BTreeMap<Force, (usize, usize)> = BTreeMap::new();
    for (i, s) in library.texts[text].sentences.iter().enumerate() {
        let entry = out.entry(s.level.force()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(coverage.by.contains_key(&(text, i)));
    }
    out
}

/// One citation of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The text (index in the library); none for a quote before any text is named.
    pub text: Option<usize>,
    pub section: Option<String>,
    /// The quoted piece (a quote is cut at its `...`); none where the text is only named.
    pub piece: Option<String>,
    pub found: Found,
}

/// What a citation was found to name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The sentences (indices) holding the piece; `exact` unless quote marks had to be set aside.
    Sentences { ids: Vec<usize>, exact: bool },
    /// In the text, but in another section than the one named.
    OtherSection(Vec<String>),
    /// In no sentence of the text.
    Missing,
    /// The text named, with no quote, at a section it has (or at none).
    Named,
    /// The text named at a section none of its sentences is in.
    NoSuchSection,
    /// A quote before any text is named.
    Unattributed,
}

impl Found {
    /// Whether the citation names something the text says.
    pub fn holds(&self) -> bool {
        matches!(self, Found::Sentences { .. } | Found::Named)
    }
}

enum Event<'s> {
    Section(&'s str),
    Quote(&'s str),
}

/// `§` sections and `"quotes"` of a segment, in order (a `§` inside a quote is the quote's).
fn events(segment: &str) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    let mut rest = segment;
    loop {
        let quote = rest.find('"');
        let section = rest.find('§');
        match (section, quote) {
            (Some(s), q) if q.is_none_or(|q| s < q) => {
                let after = rest[s + '§'.len_utf8()..].trim_start();
                let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.')).unwrap_or(after.len());
                let name = after[..len].trim_end_matches('.');
                if !name.is_empty() {
                    out.push(Event::Section(name));
                }
                rest = &after[len..];
            }
            (_, Some(q)) => {
                let Some(close) = rest[q + 1..].find('"') else { break };
                out.push(Event::Quote(&rest[q + 1..q + 1 + close]));
                rest = &rest[q + 1 + close + 1..];
            }
            _ => break,
        }
    }
    out
}

/// A quote cut at its ellipses, each piece with whitespace collapsed; crumbs dropped.
fn pieces(quote: &str) -> Vec<String> {
    quote
        .split("...")
        .flat_map(|p| p.split('…'))
        .map(|p| collapse(p).trim_matches(|c: char| c == ' ' || c == ',' || c == ';').to_string())
        .filter(|p| p.chars().count() >= 2)
        .collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text with quote marks, backquotes and `[RFC6750]`-style reference tags set aside.
fn lenient(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').map(|c| open + c);
        match close.filter(|c| rest[open + 1..*c].chars().all(|ch| ch.is_ascii_alphanumeric() || " .:_-".contains(ch)))
        {
            Some(close) => {
                out.push_str(rest[..open].trim_end());
                rest = &rest[close + 1..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    collapse(&out.replace(['"', '\'', '`', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'], ""))
}

fn in_section(sentence: &Sentence, section: Option<&str>) -> bool {
    section
        .is_none_or(|s| sentence.section == s || sentence.section.strip_prefix(s).is_some_and(|r| r.starts_with('.')))
}

fn has_section(text: &Text, section: &str) -> bool {
    text.sentences.iter().any(|s| in_section(s, Some(section)))
}

/// The sentences of `text` (in `section` and its subsections, where one is named) that hold
/// `piece`, exactly or with quote marks set aside; a piece running over several sentences is
/// found when each of its sentences is.
fn find(text: &Text, section: Option<&str>, piece: &str) -> Found {
    let matching = |exact: bool, piece: &str, section: Option<&str>| -> Vec<usize> {
        let wanted = if exact { piece.to_string() } else { lenient(piece) };
        text.sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| in_section(s, section))
            .filter(
                |(_, s)| if exact { collapse(&s.text).contains(&wanted) } else { lenient(&s.text).contains(&wanted) },
            )
            .map(|(i, _)| i)
            .collect()
    };
    for exact in [true, false] {
        let ids = matching(exact, piece, section);
        if !ids.is_empty() {
            return Found::Sentences { ids, exact };
        }
        let parts = sentences_of(piece);
        if parts.len() > 1 {
            let each: Vec<Vec<usize>> = parts.iter().map(|p| matching(exact, p, section)).collect();
            if each.iter().all(|ids| !ids.is_empty()) {
                return Found::Sentences { ids: each.into_iter().flatten().collect(), exact };
            }
        }
    }
    let elsewhere = matching(false, piece, None);
    match elsewhere.is_empty() {
        true => Found::Missing,
        false => Found::OtherSection(elsewhere.iter().map(|i| text.sentences[*i].id.clone()).collect()),
    }
}

/// A quote cut where one sentence ends and the next begins (`. T`).
fn sentences_of(piece: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = piece.as_bytes();
    for i in 1..bytes.len().saturating_sub(1) {
        if matches!(bytes[i - 1], b'.' | b'!' | b'?') && bytes[i] == b' ' && bytes[i + 1].is_ascii_uppercase() {
            out.push(&piece[start..i]);
            start = i + 1;
        }
    }
    out.push(&piece[start..]);
    out.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// A text's own consistency: ids unique, every sentence with a section and some words.
fn check_text(text: &Text) -> Result<(), String> {
    if text.cited_as.iter().any(|n| n.trim().is_empty()) || text.cited_as.is_empty() {
        return Err("`cited_as` needs at least one non-empty name".into());
    }
    let mut ids = BTreeSet::new();
    for s in &text.sentences {
        if !ids.insert(s.id.as_str()) {
            return Err(format!("sentence id `{}` appears twice", s.id));
        }
        if s.section.trim().is_empty() || s.text.trim().is_empty() {
            return Err(format!("sentence `{}` has no section or no text", s.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
