//! The ledger: every client a run registers, written down the moment the server answers, and
//! every deletion, so that what a run leaves on a target is known even if the process is
//! killed. Against a foreign target it is a file (JSON lines, owner-only permissions: it holds
//! the registration access tokens needed to delete); `dcr-harness cleanup LEDGER` deletes what
//! it names. A run that deletes everything removes its file. It records; it sends nothing.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

/// A client as the ledger keeps it: enough to delete it later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub target: String,
    pub profile: String,
    pub client_id: String,
    /// RFC 7592 `registration_client_uri` (empty where the server gives none).
    #[serde(default)]
    pub uri: String,
    /// RFC 7592 registration access token (empty where the server gives none).
    #[serde(default)]
    pub rat: String,
    /// The client's secret and token-endpoint method, where it is managed with its own access
    /// token (`client-token` management): what its owner needs to get one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_method: String,
    /// Set where the server's registration answer could not be read (not JSON, cut at the
    /// body limit): why, and that a client may be there. With no `client_id` (none could be
    /// found in the answer) the client cannot be deleted by anyone but the server's operator.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unreadable: String,
}

impl Entry {
    /// How reports name the client: its id, or, where none could be read, what is known.
    pub fn label(&self) -> String {
        match self.client_id.is_empty() {
            false => self.client_id.clone(),
            true => format!("an unidentified client ({})", self.unreadable),
        }
    }
}

/// One line of the ledger file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Record<'a> {
    /// Borrowed when written: a load registers thousands a second, and the entry goes on into
    /// the ledger's memory.
    Registered(Cow<'a, Entry>),
    Deleted {
        client_id: Cow<'a, str>,
    },
    /// Left on the server by a revocation the RFC allows: nothing a later cleanup can delete.
    Stranded {
        client_id: Cow<'a, str>,
    },
}

impl Record<'_> {
    /// The record as a line of the file.
    fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default() + "\n"
    }
}

/// Why a ledger could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}:1: not a ledger record: {source}", .path.display())]
    Record { path: PathBuf, line: usize, source: serde_json::Error },
}

#[derive(Debug, Default)]
struct State {
    /// Registered and not (yet) deleted, by client id. Hashed, not ordered: a load registers
    /// tens of thousands whose ids share long prefixes; `outstanding` sorts.
    /// Boxed: a load registers hundreds of thousands, and each time the table grows it moves
    /// every slot; a pointer moves faster than an entry.
    open: HashMap<String, Box<Entry>>,
    /// Taken out of `open`: the server revoked the means to delete them (RFC 7592 §2.1).
    stranded: Vec<String>,
    /// The first write that failed: the run must say its ledger is incomplete.
    write_error: Option<String>,
    /// Registrations whose answer named no client id that could be read.
    unidentified: usize,
}

/// The clients of a run not yet deleted; with a file, written as it changes.
#[derive(Debug, Default)]
pub struct Ledger {
    path: Option<PathBuf>,
    /// Appended to outside the state's lock: a load's users register thousands of clients a
    /// second, and a write under the lock would queue them all behind each system call. Each
    /// record is one `write` to a file opened for appending, so records never interleave.
    file: RwLock<Option<std::fs::File>>,
    state: Mutex<State>,
}

impl Ledger {
    /// A ledger kept in memory only (the embedded server's clients end with the process).
    pub fn in_memory() -> Self {
        Ledger::default()
    }

    /// A ledger written to `path` (created, owner-only).
    pub fn create(path: &Path) -> Result<Self, LedgerError> {
        let io = |source| LedgerError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(io)?;
        Ok(Ledger { path: Some(path.to_path_buf()), file: RwLock::new(Some(file)), state: Mutex::default() })
    }

    /// Reopens a ledger file to go on recording in it: its outstanding clients are known.
    pub fn resume(path: &Path) -> Result<Self, LedgerError> {
        let outstanding = Ledger::read(path)?;
        let ledger = Ledger::create(path)?;
        ledger.lock().open = outstanding.into_iter().map(|e| (e.client_id.clone(), Box::new(e))).collect();
        Ok(ledger)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A client registered (or its token or URI replaced: the newest entry wins). One whose
    /// answer named no id is kept under a key of its own, outstanding for good.
    pub fn registered(&self, entry: Entry) {
        // Written down before the entry moves into memory (a ledger in memory writes nothing).
        let line = self.path.is_some().then(|| Record::Registered(Cow::Borrowed(&entry)).line());
        {
            let mut state = self.lock();
            if entry.client_id.is_empty() {
                state.unidentified += 1;
                let key = format!("\u{0}unidentified-{}", state.unidentified);
                state.open.insert(key, Box::new(entry));
            } else if state.open.get(&entry.client_id).is_some_and(|known| **known == entry) {
                return;
            } else {
                state.open.insert(entry.client_id.clone(), Box::new(entry));
            }
        }
        if let Some(line) = line {
            self.append(&line);
        }
    }

    /// A client deleted.
    pub fn deleted(&self, client_id: &str) {
        let known = self.lock().open.remove(client_id).is_some();
        if known {
            self.append(&Record::Deleted { client_id: client_id.into() }.line());
        }
    }

    /// A client that cannot be deleted because the server revoked its token after it was used
    /// for another client, as RFC 7592 §2.1 allows. Returns whether the ledger knew it.
    pub fn stranded(&self, client_id: &str) -> bool {
        let known = {
            let mut state = self.lock();
            let known = state.open.remove(client_id).is_some();
            if known {
                state.stranded.push(client_id.to_string());
            }
            known
        };
        if known {
            self.append(&Record::Stranded { client_id: client_id.into() }.line());
        }
        known
    }

    /// The clients stranded so far.
    pub fn stranded_clients(&self) -> Vec<String> {
        self.lock().stranded.clone()
    }

    /// The clients registered and not deleted.
    pub fn outstanding(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self.lock().open.values().map(|entry| Entry::clone(entry)).collect();
        entries.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        entries
    }

    /// Why the file is incomplete, if a write failed.
    pub fn write_error(&self) -> Option<String> {
        self.lock().write_error.clone()
    }

    /// Ends the ledger: its file is removed when nothing is outstanding and kept otherwise.
    /// Returns the path of a kept file.
    pub fn finish(&self) -> Option<PathBuf> {
        *self.file.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        let state = self.lock();
        let path = self.path.clone()?;
        if state.open.is_empty() && state.write_error.is_none() {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(path)
    }

    /// The clients a ledger file names as registered and not deleted.
    pub fn read(path: &Path) -> Result<Vec<Entry>, LedgerError> {
        let text = crate::files::read_to_string(path, crate::files::MAX_LEDGER_BYTES)
            .map_err(|source| LedgerError::Io { path: path.to_path_buf(), source })?;
        let mut open: BTreeMap<String, Entry> = BTreeMap::new();
        let unidentified_key = |line: usize| format!("\u{0}unidentified-{line}");
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let record = serde_json::from_str(line).map_err(|source| LedgerError::Record {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?;
            match record {
                Record::Registered(entry) if entry.client_id.is_empty() => {
                    open.insert(unidentified_key(i), entry.into_owned());
                }
                Record::Registered(entry) => {
                    open.insert(entry.client_id.clone(), entry.into_owned());
                }
                Record::Deleted { client_id } | Record::Stranded { client_id } => {
                    open.remove(client_id.as_ref());
                }
            }
        }
        Ok(open.into_values().collect())
    }

    /// Appends one record's line, handed to the OS at once, so that a killed process loses
    /// nothing.
    fn append(&self, line: &str) {
        let file = self.file.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mut file) = file.as_ref() else { return };
        if let Err(e) = file.write_all(line.as_bytes()) {
            self.lock().write_error.get_or_insert(e.to_string());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, rat: &str) -> Entry {
        Entry {
            target: "https://127.0.0.1:1".into(),
            profile: "p".into(),
            client_id: id.into(),
            uri: format!("https://127.0.0.1:1/register/{id}"),
            rat: rat.into(),
            ..Entry::default()
        }
    }

    #[test]
    fn the_file_names_what_is_outstanding_at_every_moment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/ledger.jsonl");
        let ledger = Ledger::create(&path).expect("create");
        ledger.registered(entry("a", "rat-1"));
        ledger.registered(entry("b", "rat-2"));
        ledger.registered(entry("a", "rat-3"));
        ledger.deleted("b");
        ledger.deleted("never-registered");
        // What a killed process would leave: the file as it is now.
        assert_eq!(Ledger::read(&path).expect("read"), vec![entry("a", "rat-3")]);
        assert_eq!(ledger.outstanding(), vec![entry("a", "rat-3")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "the ledger holds tokens: owner-only");
        }
        assert_eq!(ledger.finish(), Some(path.clone()), "kept while a client is outstanding");
        let done = Ledger::create(&dir.path().join("done.jsonl")).expect("create");
        done.registered(entry("c", "r"));
        done.deleted("c");
        assert_eq!(done.finish(), None);
        assert!(!dir.path().join("done.jsonl").exists(), "removed when everything was deleted");
    }

    #[test]
    fn records_written_at_once_from_many_threads_never_interleave() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.jsonl");
        let ledger = Ledger::create(&path).expect("create");
        std::thread::scope(|scope| {
            for t in 0..8 {
                let ledger = &ledger;
                scope.spawn(move || {
                    for i in 0..300 {
                        ledger.registered(entry(&format!("c-{t}-{i}"), &"r".repeat(500)));
                        if i % 3 == 0 {
                            ledger.deleted(&format!("c-{t}-{i}"));
                        }
                    }
                });
            }
        });
        let read = Ledger::read(&path).expect("every line a whole record");
        assert_eq!(read.len(), 8 * 200);
        assert_eq!(read, ledger.outstanding());
    }

    #[test]
    fn a_stranded_client_is_named_but_no_longer_outstanding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.jsonl");
        let ledger = Ledger::create(&path).expect("create");
        ledger.registered(entry("lender", "rat-1"));
        ledger.registered(entry("kept", "rat-2"));
        assert!(ledger.stranded("lender"));
        assert!(!ledger.stranded("never-registered"));
        assert_eq!(ledger.stranded_clients(), vec!["lender".to_string()]);
        assert_eq!(ledger.outstanding(), vec![entry("kept", "rat-2")]);
        assert_eq!(Ledger::read(&path).expect("read"), vec![entry("kept", "rat-2")], "a cleanup would not retry it");
        ledger.deleted("kept");
        assert_eq!(ledger.finish(), None, "nothing a cleanup could delete: no file kept");
    }

    #[test]
    fn a_registration_whose_answer_named_no_client_stays_outstanding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.jsonl");
        let ledger = Ledger::create(&path).expect("create");
        let unknown = Entry { unreadable: "a 201 whose body is not JSON".into(), ..entry("", "") };
        ledger.registered(unknown.clone());
        ledger.registered(unknown.clone());
        ledger.registered(entry("a", "rat-1"));
        ledger.deleted("a");
        ledger.deleted("");
        assert_eq!(ledger.outstanding(), vec![unknown.clone(), unknown.clone()], "each registration counts");
        assert_eq!(Ledger::read(&path).expect("read"), vec![unknown.clone(), unknown.clone()]);
        assert!(unknown.label().contains("unidentified client (a 201 whose body is not JSON)"), "{}", unknown.label());
        assert_eq!(ledger.finish(), Some(path), "kept: the run names what may be left");
    }

    #[test]
    fn a_broken_ledger_line_is_located() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("l.jsonl");
        std::fs::write(&path, "{\"event\":\"deleted\",\"client_id\":\"x\"}\nnot json\n").expect("write");
        let error = Ledger::read(&path).expect_err("broken").to_string();
        assert!(error.contains("l.jsonl:2:1"), "{error}");
    }
}
