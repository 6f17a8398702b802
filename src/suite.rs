//! The conformance run as one call: load the profile and scenarios, validate them against the
//! PKI, start the embedded server when there is no target, check the target is reachable, run,
//! and stop. Shared by the `run` command and the project's own tests (the flaw matrix).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::pki::{Pki, PkiOptions};
use crate::preflight::target_url_problem;
use crate::protocol::Policy;
use crate::run::model::NotApplicable;
use crate::run::target::DiscoveryError;
use crate::run::{self, RunOptions, RunResult, Target};
use crate::scenario::profile::TEST_PKI_ONLY_TAG;
use crate::scenario::{self, Filter, Profile, Scenario};
use crate::server::{self, Flaw, ServerConfig, Variant};
use crate::transport::{ServerTrust, Transport, TransportConfig};

/// Where the suite's files are.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Scenario directories; a later one's file replaces an earlier one's of the same name.
    pub scenarios: Vec<PathBuf>,
    /// Scenario files named on the command line (`run --scenario FILE`), loaded beside them.
    pub scenario_files: Vec<PathBuf>,
    /// Snapshot directories: the first is written; a profile's snapshots are read from the
    /// first that has them.
    pub snapshots: Vec<PathBuf>,
    /// Target-profile and load-profile directories: the first holding a name wins.
    pub profiles: Vec<PathBuf>,
    pub load: Vec<PathBuf>,
    /// Clause directories (the normative sentences cited): a later one's file replaces an
    /// earlier one's of the same name.
    pub clauses: Vec<PathBuf>,
    pub fixtures: crate::scenario::Fixtures,
    pub pki: PathBuf,
    /// Where a run against a foreign target keeps its ledger of registered clients.
    pub ledgers: PathBuf,
    /// Where files a command writes by default go (the project, or the built-in suite).
    pub root: PathBuf,
}

impl Layout {
    /// A whole suite of its own at `root` (this repository, or a copy of it).
    pub fn at(root: &Path) -> Self {
        Layout {
            scenarios: vec![root.join("scenarios")],
            scenario_files: vec![],
            snapshots: vec![root.join("snapshots")],
            profiles: vec![root.join("profiles")],
            load: vec![root.join("load")],
            clauses: vec![root.join("clauses")],
            fixtures: crate::scenario::Fixtures::at(root.join("fixtures")),
            pki: root.join("fixtures").join("pki"),
            ledgers: root.join(".dcr-harness").join("ledgers"),
            root: root.to_path_buf(),
        }
    }

    /// Where `profile`'s snapshots are: the first snapshot directory that has them, else the
    /// first (where new ones are written).
    pub fn snapshots_for(&self, profile: &str) -> PathBuf {
        let first = self.snapshots.first().cloned().unwrap_or_default();
        self.snapshots.iter().find(|d| d.join(profile).is_dir()).cloned().unwrap_or(first)
    }
}

/// One run's settings.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    pub profile: String,
    pub target: Option<String>,
    pub filter: Filter,
    pub run: RunOptions,
    /// How the embedded server deviates from its default, when there is no target.
    pub embedded: Embedded,
    /// The file `run.known_failures` came from, to point at a line in it.
    pub known_failures_file: Option<PathBuf>,
    /// Faults held in the services the run hosts for the whole run (`--fault`).
    pub faults: Option<crate::fault::Faults>,
    /// Gather what an attestation binds (`run --attest`): the target's fingerprints, the
    /// digests of the catalogue and the profile.
    pub evidence: bool,
}

/// How the embedded server deviates from its default: flaws (the suite proving it can fail)
/// and variants (the suite proving it fails only for real faults).
#[derive(Debug, Clone, Default)]
pub struct Embedded {
    pub flaws: BTreeSet<Flaw>,
    pub variants: BTreeSet<Variant>,
}

/// What a run produced, with the embedded server's counters if there was one.
pub struct SuiteRun {
    pub result: RunResult,
    pub handshakes: Option<u64>,
    /// Clients still registered on the embedded server when the run ended (none, if the
    /// cleanup did its work).
    pub clients_left: Option<usize>,
    /// What the embedded server spent fetching from the services the run hosts, by service.
    pub fetches: Vec<(crate::fault::Service, crate::server::fetch_clock::FetchFigures)>,
    /// What an attestation binds, where the options asked for it.
    pub evidence: Option<crate::attest::Evidence>,
}

/// Loads the profile, the scenarios (strictly) and the PKI, and validates them together.
pub fn load(layout: &Layout, profile: &str) -> Result<(Profile, Vec<Scenario>, Pki), Error> {
    let mut profile = Profile::load(profile, &layout.profiles)?;
    let mut scenarios = scenario::load_dirs(&layout.scenarios).map_err(|e| Error::input("scenarios", e))?;
    if !layout.scenario_files.is_empty() {
        let named = scenario::load_files(&layout.scenario_files).map_err(|e| Error::input("--scenario", e))?;
        let ids: BTreeSet<&str> = named.iter().map(|s| s.id.as_str()).collect();
        // A file's scenario stands in for the suite's of the same id.
        scenarios.retain(|s| !ids.contains(s.id.as_str()));
        scenarios.extend(named);
    }
    let pki_dir = profile.pki.clone().unwrap_or_else(|| layout.pki.clone());
    let pki = Pki::ensure(&pki_dir, &PkiOptions::default())?;
    if uses_own_certificates(&profile, &pki) && !profile.exclude_tags.iter().any(|t| t == TEST_PKI_ONLY_TAG) {
        // Expired, untrusted or wrong-role twins exist only for the test QTSP's certificates:
        // run against the user's own, those scenarios would test certificates the target never
        // trusted, and pass for the wrong reason.
        profile.exclude_tags.push(TEST_PKI_ONLY_TAG.into());
    }
    let identities: BTreeSet<String> = pki.identities().map(|i| i.name.clone()).collect();
    let tpps: BTreeSet<String> = pki.tpps().map(|(n, _)| n.clone()).collect();
    let problems = scenario::validate(&scenarios, &identities, &tpps, &profile);
    if !problems.is_empty() {
        return Err(Error::input("scenarios", format!("{} problem(s):\n{}", problems.len(), problems.join("\n"))));
    }
    Ok((profile, scenarios, pki))
}

/// Whether the profile presents or signs with certificates the user brought (`external`).
fn uses_own_certificates(profile: &Profile, pki: &Pki) -> bool {
    let ids = &profile.identities;
    [&ids.tls, &ids.sign]
        .into_iter()
        .filter_map(|who| who.name())
        .any(|name| pki.manifest.identities.get(name).is_some_and(|entry| entry.external))
}

/// A target ready to run against, with the embedded server if one was started for it.
pub struct Prepared {
    pub target: Arc<Target>,
    pub scenarios: Vec<Scenario>,
    pub embedded: Option<server::RunningServer>,
    /// The harness's key store, where the profile holds the jwks-uri policy.
    pub keystore: Option<crate::keystore::Keystore>,
    /// The test QTSP's status services, where the embedded server asks them (the profile holds
    /// the revocation-check policy).
    pub qtsp: Option<crate::qtsp::Qtsp>,
}

impl Prepared {
    /// Stops what was started for the run: the embedded server, the key store and the QTSP's
    /// services.
    pub async fn stop(
        embedded: Option<server::RunningServer>,
        keystore: Option<crate::keystore::Keystore>,
        qtsp: Option<crate::qtsp::Qtsp>,
    ) {
        if let Some(server) = embedded {
            server.stop().await;
        }
        if let Some(keystore) = keystore {
            keystore.stop().await;
        }
        if let Some(qtsp) = qtsp {
            qtsp.stop().await;
        }
    }
}

/// Loads everything, starts the embedded server when there is no target, checks the target is
/// reachable, and discovers its registration endpoint if the profile says so.
pub async fn prepare(
    layout: &Layout,
    profile: &str,
    target: Option<String>,
    embedded_as: &Embedded,
    adjust: impl FnOnce(&mut Profile),
) -> Result<Prepared, Error> {
    let (mut profile, scenarios, pki) = load(layout, profile)?;
    adjust(&mut profile);
    // What is wrong on this side (identities, the profile's environment) is said before the
    // network is tried: a starter profile's placeholder URL must not hide its missing QWAC.
    let problems = crate::preflight::offline(&profile, &pki, &[], &layout.fixtures);
    if !problems.is_empty() {
        return Err(Error::input("preflight", problems.join("\n")));
    }
    let pki = Arc::new(pki);
    let remote = target.or_else(|| profile.base_url.clone());
    if let (Some(url), false) = (&remote, embedded_as.flaws.is_empty() && embedded_as.variants.is_empty()) {
        return Err(Error::input(
            "--flaw / --variant",
            format!("they change the embedded reference server, and this run targets {url}: drop them, or the target"),
        ));
    }
    if let Some(problem) = remote.as_deref().and_then(|url| target_url_problem(url, &profile.paths)) {
        return Err(Error::input("target", problem));
    }
    let mut embedded = None;
    let mut qtsp = None;
    let faults = crate::fault::Switchboard::default();
    let base_url = match remote {
        Some(url) => url,
        None => {
            // A variant is what a target without the policy forbidding it may do.
            for variant in &embedded_as.variants {
                if let Some(policy) = variant.forbidden_by() {
                    profile.policies.remove(&policy);
                }
            }
            // The embedded server asks the test QTSP about certificates where the profile says
            // a server must: its services run on this host for as long as the server does.
            let revocation = match profile.holds(crate::protocol::Policy::RevocationCheck) {
                true => {
                    let services = crate::qtsp::start(pki.clone(), faults.clone()).await.map_err(Error::Qtsp)?;
                    let config = services.revocation_config(false);
                    qtsp = Some(services);
                    Some(config)
                }
                false => None,
            };
            let config = ServerConfig {
                revocation,
                profile: profile.embedded.profile,
                cert_check: profile.embedded.cert_check,
                max_skew: std::time::Duration::from_secs(profile.signature.date_window_s),
                dialect: profile.signature.dialect.clone(),
                flaws: embedded_as.flaws.clone(),
                variants: embedded_as.variants.clone(),
                ..ServerConfig::default()
            };
            let server = server::start(&pki, config).await.map_err(Error::Serve)?;
            let url = server.url();
            embedded = Some(server);
            url
        }
    };
    check_reachable(&base_url).await?;
    let trust =
        if profile.server_ca.is_empty() { ServerTrust::TestPki } else { ServerTrust::Pem(profile.server_ca.clone()) };
    let limits = &profile.limits;
    let config = TransportConfig {
        trust,
        max_body_bytes: limits.response_body_kib * 1024,
        request_timeout: std::time::Duration::from_secs(limits.request_timeout_s),
        ..TransportConfig::default()
    };
    let transport = Transport::new(&pki, config).map_err(|e| Error::input("server trust", e))?;
    let foreign = embedded.is_none();
    let hosted = [Policy::JwksUri, Policy::JwksRotation, Policy::SectorIdentifier, Policy::SoftwareJwksEndpoint];
    let keystore = match hosted.iter().any(|policy| profile.holds(*policy)) {
        true => Some(crate::keystore::start(&pki, faults.clone()).await.map_err(Error::Keystore)?),
        false => None,
    };
    let mut target = Target::new(base_url, pki, profile, transport, layout.fixtures.clone());
    target.keystore = keystore.as_ref().map(crate::keystore::Keystore::handle);
    target.faults = faults;
    use crate::fault::Service;
    let qtsp_services = qtsp.as_ref().map(|_| [Service::Ocsp, Service::Crl]);
    let keystore_services = keystore.as_ref().map(|_| [Service::Keystore, Service::Sector]);
    target.hosted = qtsp_services.into_iter().chain(keystore_services).flatten().collect();
    if !foreign {
        target.date_margin = crate::run::target::DATE_MARGIN_EMBEDDED;
    }
    if foreign {
        target.snapshot_key = Target::foreign_snapshot_key(&target.profile.name, &target.base_url);
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let name = format!("ledger-{}-{}.jsonl", started.as_secs(), std::process::id());
        target.ledger = crate::run::ledger::Ledger::create(&layout.ledgers.join(name))
            .map_err(|e| Error::input("ledger of registered clients", e))?;
    }
    if target.profile.discover {
        target.discover().await.map_err(|cause| match cause {
            DiscoveryError::Setup(e) => Error::input("target", e),
            cause => Error::Unreachable { target: target.base_url.clone(), cause: cause.into() },
        })?;
    }
    Ok(Prepared { target: Arc::new(target), scenarios, embedded, keystore, qtsp })
}

/// Runs the suite as `options` say.
pub async fn run(layout: &Layout, options: &SuiteOptions) -> Result<SuiteRun, Error> {
    let prepared = prepare(layout, &options.profile, options.target.clone(), &options.embedded, |_| {}).await?;
    let held = options.faults.as_ref().map(|f| prepared.target.hold_faults(f)).transpose();
    let selected = match held.map_err(|why| Error::input("--fault", why)) {
        Ok(_) => ready_to_run(layout, options, &prepared).await,
        Err(e) => Err(e),
    };
    let selected = match selected {
        Ok(selected) => selected,
        Err(e) => {
            // An empty ledger goes; one naming a probe client stays, and the error names it.
            prepared.target.ledger.finish();
            Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
            return Err(e);
        }
    };
    let mut run_options = options.run.clone();
    if prepared.embedded.is_none() {
        // A foreign target's first answers are recorded as pending for review, not failed:
        // there is nothing of its own to compare them with yet.
        if let Some(snapshots) = run_options.snapshots.as_mut() {
            snapshots.require_existing &= snapshots.dir.join(&prepared.target.snapshot_key).exists();
        }
    }
    if run_options.jobs == 0 {
        run_options.jobs = std::thread::available_parallelism().map(|n| n.get() * 4).unwrap_or(8);
    }
    let mut result = run::run(prepared.target.clone(), selected, run_options).await;
    prepared.target.faults.clear();
    result.faults = options.faults.as_ref().map(ToString::to_string);
    result.not_applicable = not_applicable(&prepared.scenarios, &options.filter, &prepared.target.profile);
    result.ledger = prepared.target.ledger.finish().map(|p| p.display().to_string());
    if let Some(error) = prepared.target.ledger.write_error() {
        // A ledger that could not be written is no record to clean up from: say so loudly.
        result.ledger = Some(format!("{} (incomplete: {error})", result.ledger.unwrap_or_default()));
    }
    let handshakes =
        prepared.embedded.as_ref().map(|s| s.stats().handshakes.load(std::sync::atomic::Ordering::Relaxed));
    let fetches = prepared.embedded.as_ref().map(|s| s.stats().fetches.figures()).unwrap_or_default();
    let clients_left = prepared.embedded.as_ref().map(|s| s.registered_clients());
    let evidence = match options.evidence {
        true => Some(evidence(&prepared).await),
        false => None,
    };
    Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    Ok(SuiteRun { result, handshakes, clients_left, fetches, evidence })
}

/// What an attestation of this run binds: the target's fingerprints, and the SHA-256 of every
/// scenario file loaded (by name and bytes) and of the profile's file.
async fn evidence(prepared: &Prepared) -> crate::attest::Evidence {
    let (tls_certificate_sha256, metadata) = prepared.target.fingerprints().await;
    let files: BTreeSet<&Path> = prepared.scenarios.iter().map(|s| s.file.as_path()).collect();
    let mut catalogue = Vec::new();
    for file in files {
        catalogue.extend_from_slice(file.file_name().unwrap_or_default().as_encoded_bytes());
        catalogue.push(0);
        catalogue.extend(std::fs::read(file).unwrap_or_default());
        catalogue.push(0);
    }
    let profile = prepared.target.profile.file.as_ref().and_then(|f| std::fs::read(f).ok()).unwrap_or_default();
    crate::attest::Evidence {
        tls_certificate_sha256,
        metadata,
        catalogue_sha256: crate::pki::inspect::sha256_hex(&catalogue),
        profile_sha256: crate::pki::inspect::sha256_hex(&profile),
    }
}

/// An exploration's outcome, with the target it explored.
pub struct ExploreRun {
    pub exploration: crate::explore::Exploration,
    pub profile: Profile,
    pub target: String,
    /// Clients the server still holds, as the embedded server counts them.
    pub clients_left: Option<usize>,
    /// Clients registered and not deleted, as the ledger has them (their labels).
    pub clients_outstanding: Vec<String>,
    /// Clients the server made undeletable by revoking their token (RFC 7592 §2.1).
    pub clients_stranded: Vec<String>,
    /// The ledger of a foreign target's clients, if any are outstanding in it.
    pub ledger: Option<PathBuf>,
}

/// `dcr-harness explore`: the target prepared as for a run, explored, stopped.
pub async fn explore(
    layout: &Layout,
    profile: &str,
    target: Option<String>,
    embedded: &Embedded,
    options: &crate::explore::ExploreOptions,
    tick: impl FnMut(crate::explore::Tick),
) -> Result<ExploreRun, Error> {
    // What the model cannot follow is said before anything is started.
    crate::explore::Capabilities::of(&Profile::load(profile, &layout.profiles)?)
        .map_err(|e| Error::input("--profile", e))?;
    let prepared = prepare(layout, profile, target, embedded, |_| {}).await?;
    let jobs = options.jobs.or(Some(if prepared.embedded.is_some() { 4 } else { 1 }));
    let options = crate::explore::ExploreOptions { jobs, ..options.clone() };
    let explored = crate::explore::explore(prepared.target.clone(), &prepared.scenarios, &options, tick).await;
    let target = &prepared.target;
    let clients_outstanding = target.ledger.outstanding().iter().map(crate::run::ledger::Entry::label).collect();
    let clients_stranded = target.ledger.stranded_clients();
    let ledger = target.ledger.finish();
    let clients_left = prepared.embedded.as_ref().map(|s| s.registered_clients());
    let (profile, url) = (target.profile.clone(), target.base_url.clone());
    Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    let exploration = explored.map_err(|e| Error::input("--profile", e))?;
    Ok(ExploreRun { exploration, profile, target: url, clients_left, clients_outstanding, clients_stranded, ledger })
}

/// What `cleanup` did with each client a ledger named.
pub struct CleanupRun {
    pub results: Vec<crate::run::model::CleanupResult>,
    /// The ledger, if clients are still outstanding in it.
    pub ledger: Option<PathBuf>,
}

/// The most deletions under way at once.
const CLEANUP_PARALLELISM: usize = 8;

/// Deletes every client `ledger` names as registered and not deleted, through the profile it
/// was registered under (or `profile`), recording each deletion in the same file.
pub async fn cleanup(layout: &Layout, ledger: &Path, profile: Option<&str>) -> Result<CleanupRun, Error> {
    use futures_util::StreamExt;
    let book = crate::run::ledger::Ledger::resume(ledger).map_err(|e| Error::input("ledger", e))?;
    let mut groups: BTreeMap<(String, String), Vec<crate::run::ledger::Entry>> = BTreeMap::new();
    let mut results = Vec::new();
    for entry in book.outstanding() {
        if entry.client_id.is_empty() {
            // Nothing to address a delete to: the report names it, and the ledger keeps it.
            let detail = "the server's registration answer named no client id that could be read; only its operator can find and delete it".to_string();
            results.push(crate::run::model::CleanupResult {
                client: entry.label(),
                ok: false,
                stranded: false,
                detail,
            });
            continue;
        }
        let profile = profile.map(str::to_string).unwrap_or_else(|| entry.profile.clone());
        groups.entry((entry.target.clone(), profile)).or_default().push(entry);
    }
    for ((target, profile), entries) in groups {
        let prepared = prepare(layout, &profile, Some(target), &Embedded::default(), |_| {}).await?;
        let deletions = futures_util::stream::iter(entries).map(|entry| {
            let target = prepared.target.clone();
            async move {
                let mut session = crate::run::session::Session::new(target);
                let client = crate::run::plan::Client {
                    id: entry.client_id.clone(),
                    rat: entry.rat.clone(),
                    uri: entry.uri.clone(),
                    secret: entry.secret.clone(),
                    auth_method: entry.auth_method.clone(),
                    ..Default::default()
                };
                session.adopt("client", client);
                session.cleanup().await
            }
        });
        let done: Vec<_> = deletions.buffer_unordered(CLEANUP_PARALLELISM).collect().await;
        for result in done.into_iter().flatten() {
            if result.ok {
                book.deleted(&result.client);
            }
            results.push(result);
        }
        prepared.target.ledger.finish();
        Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    }
    Ok(CleanupRun { results, ledger: book.finish() })
}

/// The scenarios to run, once everything that can be checked before the first one holds: the
/// selection names only what exists, and the preflight finds no setup mistake.
async fn ready_to_run(layout: &Layout, options: &SuiteOptions, prepared: &Prepared) -> Result<Vec<Scenario>, Error> {
    let target = &prepared.target;
    let selected = select(&prepared.scenarios, &options.filter, &target.profile)?;
    check_known_failures(&options.run.known_failures, options.known_failures_file.as_deref(), &prepared.scenarios)?;
    let problems = crate::preflight::offline(&target.profile, &target.pki, &selected, &layout.fixtures);
    if !problems.is_empty() {
        return Err(Error::input("preflight", problems.join("\n")));
    }
    crate::preflight::online(target).await?;
    Ok(selected)
}

/// The scenarios the filters pick that do not apply to `profile`, each with why.
pub fn not_applicable(scenarios: &[Scenario], filter: &Filter, profile: &Profile) -> Vec<NotApplicable> {
    scenarios
        .iter()
        .filter(|s| filter.admits_whatever_the_profile(s))
        .filter_map(|s| Some(NotApplicable { id: s.id.clone(), reason: profile.inapplicable(s)? }))
        .collect()
}

/// The scenarios `filter` picks for `profile`. A name in the filter that matches nothing, or a
/// selection that is empty, is bad input: a typo must not pass as "0 scenarios, PASS".
pub fn select(scenarios: &[Scenario], filter: &Filter, profile: &Profile) -> Result<Vec<Scenario>, Error> {
    let problems = filter.unknown_names(scenarios);
    if !problems.is_empty() {
        return Err(Error::input("selection", problems.join("\n")));
    }
    let selected: Vec<Scenario> = scenarios
        .iter()
        .filter(|s| filter.admits(s, profile))
        .map(|s| Scenario { severity: profile.severity_of(s), ..s.clone() })
        .collect();
    if selected.is_empty() {
        let applicable = scenarios.iter().filter(|s| profile.applies(s)).count();
        return Err(Error::input(
            "selection",
            format!(
                "no scenario selected: the filters leave none of the {applicable} scenarios that apply to profile `{}`",
                profile.name
            ),
        ));
    }
    Ok(selected)
}

/// Every id of a known-failures list names a scenario. Linear in the list's length: the ids are
/// looked up in a set and their lines found in one pass over the file; only the first
/// [`MAX_LISTED_PROBLEMS`] unknown ids are named (each with a suggestion).
fn check_known_failures(
    known: &BTreeMap<String, String>,
    file: Option<&Path>,
    scenarios: &[Scenario],
) -> Result<(), Error> {
    let ids: std::collections::HashSet<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    let unknown: Vec<&String> = known.keys().filter(|id| !ids.contains(id.as_str())).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let text = file.and_then(|f| crate::diagnostic::read_yaml_text(f).ok()).unwrap_or_default();
    let lines = crate::diagnostic::key_lines(&text);
    let at = |id: &str| match (file, lines.get(id)) {
        (Some(file), Some(line)) => format!("{}:{line}:1: ", file.display()),
        _ => String::new(),
    };
    let names = || scenarios.iter().map(|s| s.id.as_str());
    let mut problems: Vec<String> = unknown
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|id| format!("{}`{id}`: no such scenario{}", at(id), scenario::did_you_mean(id, names())))
        .collect();
    if unknown.len() > MAX_LISTED_PROBLEMS {
        problems.push(format!("... and {} more ids that name no scenario", unknown.len() - MAX_LISTED_PROBLEMS));
    }
    Err(Error::input("known failures", problems.join("\n")))
}

/// The most problems of one kind a message lists one by one.
const MAX_LISTED_PROBLEMS: usize = 20;

/// Fails fast, naming the target, when nothing listens there.
async fn check_reachable(base_url: &str) -> Result<(), Error> {
    let unreachable = |cause: crate::error::BoxError| Error::Unreachable { target: base_url.to_string(), cause };
    let url = reqwest::Url::parse(base_url).map_err(|e| Error::input(format!("target {base_url}"), e))?;
    let host = url.host_str().ok_or_else(|| unreachable("the URL has no host".into()))?.to_string();
    let port = url.port_or_known_default().ok_or_else(|| unreachable("the URL has no port".into()))?;
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(std::time::Duration::from_secs(5), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.into())),
        Err(_) => Err(unreachable("no TCP connection within 5 s".into())),
    }
}

/// Reads a known-failures file: `scenario-id: reason` lines (YAML map).
pub fn load_known_failures(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let text = crate::diagnostic::read_yaml_text(path).map_err(|e| Error::input("known failures", e))?;
    serde_norway::from_str(&text)
        .map_err(|e| Error::input("known failures", crate::diagnostic::located(path, &text, &e)))
}

/// Probes the target's signature verifier (`dcr-harness probe`): prepared as a run is, so that
/// the embedded server serves when there is no target and a foreign target's ledger records
/// every client the probe registers; then stopped.
pub async fn probe(layout: &Layout, profile: &str, target: Option<String>) -> Result<crate::probe::Report, Error> {
    let prepared = prepare(layout, profile, target, &Embedded::default(), |_| {}).await?;
    let report = crate::probe::probe(prepared.target.clone()).await;
    Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn target_url_mistakes_are_named_with_what_was_meant() {
        let paths = crate::scenario::profile::Paths::default();
        let cases = [
            ("https://bank.example", None),
            ("https://bank.example/dcr/", None),
            ("http://127.0.0.1:8080", None),
            ("bank.example", Some("has no scheme: did you mean https://bank.example?")),
            ("https:bank.example", Some("lacks the `//` after `https:`: did you mean https://bank.example?")),
            ("https:/bank.example", Some("did you mean https://bank.example?")),
            ("ftp://bank.example", Some("the scheme must be https")),
            ("https://bank.example/?x=1", Some("without query or fragment")),
            (
                "https://bank.example/dcr/client/v1/register",
                Some("ends with the endpoint path `/client/v1/register`, which the profile adds itself: give the base URL, https://bank.example/dcr"),
            ),
            ("https://bank.example/client/v1/register/", Some("give the base URL, https://bank.example")),
        ];
        for (text, says) in cases {
            let problem = target_url_problem(text, &paths);
            match says {
                None => assert_eq!(problem, None, "{text}"),
                Some(says) => assert!(problem.as_deref().is_some_and(|p| p.contains(says)), "{text}: {problem:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_target_that_cannot_be_reached_says_why() {
        let cases = [
            ("not a url", ErrorKind::BadInput, "target not a url"),
            ("unix:/tmp/socket", ErrorKind::Unreachable, "the URL has no host"),
            ("https://127.0.0.1:1", ErrorKind::Unreachable, "cannot reach https://127.0.0.1:1"),
        ];
        for (url, kind, message) in cases {
            let err = check_reachable(url).await.expect_err(url);
            assert_eq!(err.kind(), kind, "{url}");
            assert!(crate::diagnostic::chain(&err).contains(message), "{url}: {err}");
        }
    }

    #[test]
    fn the_known_failures_check_is_linear_and_its_message_bounded() {
        let scenarios = crate::scenario::load_dirs(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")])
            .expect("the shipped scenarios");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kf.yaml");
        // Quadratic in the ids, this took minutes; linear, well under a second.
        let known: BTreeMap<String, String> = (0..100_000).map(|i| (format!("no-such-{i}"), "r".to_string())).collect();
        let text: String = known.keys().map(|id| format!("{id}: r\n")).collect();
        std::fs::write(&path, text).expect("write");
        let err = check_known_failures(&known, Some(&path), &scenarios).expect_err("unknown ids").to_string();
        assert!(err.contains("kf.yaml:1:1: `no-such-0`: no such scenario"), "{}", &err[..err.len().min(500)]);
        assert!(err.contains("and 99980 more ids that name no scenario"), "bounded: {} bytes", err.len());
        assert!(err.lines().count() <= MAX_LISTED_PROBLEMS + 2);
    }

    #[test]
    fn a_broken_known_failures_file_is_located() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("known.yaml");
        std::fs::write(&path, "some-id: a reason\nother: [not, a, reason]\n").expect("write");
        let err = load_known_failures(&path).expect_err("broken").to_string();
        assert!(err.contains("known.yaml:2:"), "{err}");
        std::fs::write(&path, "some-id: a reason\n").expect("write");
        assert_eq!(load_known_failures(&path).expect("fine").get("some-id").map(String::as_str), Some("a reason"));
    }
}
