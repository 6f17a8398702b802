//! The command line: clap definitions (clap stays in this module: library enums get
//! command-line wrappers here) and one function per subcommand. Each returns the [`Outcome`] of a
//! completed command or a typed [`Error`]; `main` alone turns them into messages and exit codes.
//! Data goes to stdout, diagnostics to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use clap::{Args, Parser, Subcommand};

use crate::error::Error;
use crate::pki::{self, KeyType, Pki, PkiOptions, PspRole};
use crate::protocol::{CertCheck, DcrAuth, ServerProfile, CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use crate::report::terminal::{Style, Verbosity};
use crate::run::Outcome;
use crate::server::{Flaw, ServerConfig, Variant};
use crate::signature::{self, Dialect, Message, Mutation, MutationContext};
use std::io::IsTerminal;
use std::ops::Not;

/// Proves an OAuth 2.0 Dynamic Client Registration server (RFC 7591/7592, PSD2: mTLS with a
/// QWAC, QSEAL-signed requests) right, keeps proving it in CI, and loads it before go-live.
#[derive(Debug, Parser)]
#[command(name = "dcr-harness", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How much the terminal shows, and in colour or not: the same in every command.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct OutputArgs {
    /// Show more: every step's checks of passing scenarios.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Show only what did not pass, and the summary.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "DCR_HARNESS_COLOR")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Where a command finds its project and its PKI: the same flags in every command that reads
/// them.
#[derive(Debug, Args, Clone, Default)]
pub struct Place {
    /// The project directory (default: the nearest with a dcr-harness.toml, else the built-in
    /// suite alone).
    #[arg(long, env = "DCR_HARNESS_ROOT")]
    pub root: Option<PathBuf>,
    /// The PKI directory (default: the project's fixtures/pki, else the one under
    /// DCR_HARNESS_HOME); created on first use.
    #[arg(long, env = "DCR_HARNESS_PKI")]
    pub pki: Option<PathBuf>,
}

impl Place {
    /// The project's directories, with `--pki` in place of its PKI.
    fn layout(&self) -> Result<crate::suite::Layout, Error> {
        let mut layout = layout_of(self.root.as_deref())?;
        if let Some(pki) = &self.pki {
            layout.pki = pki.clone();
        }
        Ok(layout)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter project here (or in DIR): settings, a target profile to edit, a
    /// known-failures file, a CI workflow and the JSON Schemas. Nothing is overwritten.
    Init {
        /// The directory (default: this one).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Create or inspect the test PKI (test QTSP, QWACs, QSEALs, bad certificates).
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Sign a request and print its signing string and headers (or a curl command).
    Sign(SignArgs),
    /// Say why a captured signed request is refused: the rule it breaks, what it signed, and what
    /// the profile's signer would have signed.
    Explain(ExplainArgs),
    /// Find what a target's signature verifier accepts (clock skew either way, digest, algorithm
    /// and keyId spellings, ...) and print it as Markdown: information, never a verdict.
    Probe(ProbeArgs),
    /// List the mutations a scenario can apply to a signed request.
    Mutations,
    /// Run the reference DCR server until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Run the conformance suite (against the embedded reference server unless a target is given).
    Run(RunArgs),
    /// List the scenarios (id, area, severity, title) that a run would execute.
    List(SelectArgs),
    /// Check scenario and profile files without running them.
    Validate(SelectArgs),
    /// Load the target with a load profile: both paths of signature verification
    /// (`load merge FILE...` combines the figures of shards).
    Load(LoadArgs),
    /// Review or accept changed and new response snapshots.
    #[command(subcommand)]
    Snapshots(SnapshotCommand),
    /// Delete the clients a run left on a target, as its ledger names them.
    Cleanup(CleanupArgs),
    /// The interop matrix: the suite against every server of the fleet (`foreign/*/server.yaml`,
    /// started on 127.0.0.1 by `scripts/foreign/NAME.sh`), written to docs/interop/ (or, with
    /// `--check`, compared with what is committed there).
    Matrix(MatrixArgs),
    /// Print a shell completion script (`dcr-harness completions bash > /etc/bash_completion.d/dcr-harness`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `dcr-harness man > dcr-harness.1`.
    Man,
    /// Print the JSON Schema of scenario files or target profiles (for editors).
    Schema {
        #[arg(value_enum)]
        kind: SchemaKind,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaKind {
    Scenario,
    Profile,
    Report,
}

#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Target profile: a name from profiles/ or a path.
    #[arg(long, default_value = "reference", env = "DCR_HARNESS_PROFILE")]
    pub profile: String,
    /// Only scenarios with this tag (repeatable).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Only scenarios of this area (repeatable).
    #[arg(long)]
    pub area: Vec<String>,
    /// Only this scenario (repeatable).
    #[arg(long)]
    pub scenario: Vec<String>,
    /// Leave this scenario out (repeatable).
    #[arg(long)]
    pub skip: Vec<String>,
    #[command(flatten)]
    pub place: Place,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Base URL of the DCR server under test (default: the profile's, else the embedded server).
    #[arg(long, env = "DCR_HARNESS_TARGET")]
    pub target: Option<String>,
    /// Stop starting scenarios after the first MUST failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Scenarios at once, 1 to 1024 (default: four per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// YAML map of scenario id to reason: failures listed there do not fail the run.
    #[arg(long)]
    pub known_failures: Option<PathBuf>,
    /// Start the embedded server with this flaw (repeatable), to watch the suite catch it.
    #[arg(long = "flaw")]
    pub flaws: Vec<String>,
    /// Start the embedded server with this variant (repeatable): a behaviour the RFCs allow,
    /// which the suite must pass.
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Start no scenario after this many seconds, up to a week (those left are reported as
    /// skipped).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub timeout: Option<u64>,
    /// Reports to write besides the terminal: `junit=PATH,json=PATH,html=PATH,md=PATH`.
    #[arg(long)]
    pub report: Option<String>,
    /// Write every snapshot as it now is, instead of comparing.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Do not compare or write snapshots.
    #[arg(long, conflicts_with = "update_snapshots")]
    pub no_snapshots: bool,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The ledger a run wrote (`.dcr-harness/ledgers/ledger-*.jsonl`; the run names it).
    pub ledger: PathBuf,
    /// Delete through this target profile instead of the one each client was registered under.
    #[arg(long)]
    pub profile: Option<String>,
    #[command(flatten)]
    pub place: Place,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    #[command(flatten)]
    pub run: LoadRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Combine shard files (`load --out`) into one summary; thresholds judged on the whole.
    Merge(LoadMergeArgs),
}

#[derive(Debug, Args)]
pub struct LoadMergeArgs {
    /// The shard files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub reports: LoadReportArgs,
}

/// Where a load's reports go besides the terminal.
#[derive(Debug, Args)]
pub struct LoadReportArgs {
    /// The summary as Markdown, for a CI job page.
    #[arg(long)]
    pub md: Option<PathBuf>,
    /// The report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The self-contained HTML report, with charts.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoadRunArgs {
    /// A load profile: a name from load/ or a path.
    #[arg(default_value = "smoke")]
    pub profile: String,
    /// Base URL of the DCR server to load (default: the target profile's, else the embedded server).
    #[arg(long, env = "DCR_HARNESS_TARGET")]
    pub target: Option<String>,
    /// The target profile (a name from profiles/ or a path), instead of the load profile's
    /// `target_profile`: the identities, credentials and signature rules of a real target.
    #[arg(long = "profile", visible_alias = "target-profile", env = "DCR_HARNESS_PROFILE")]
    pub target_profile: Option<String>,
    #[command(flatten)]
    pub place: Place,
    #[command(flatten)]
    pub reports: LoadReportArgs,
    /// This process is shard I of N (users and rates divided); default from a Kubernetes
    /// Indexed Job's JOB_COMPLETION_INDEX and DCR_HARNESS_SHARDS.
    #[arg(long)]
    pub shard: Option<String>,
    /// Start the attack at this UNIX time (seconds), so that shards begin together.
    #[arg(long = "start-at")]
    pub start_at: Option<u64>,
    /// Write this shard's figures (HDR histograms and counts) for `load merge`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Walk the pending snapshots one by one: show the diff, accept, reject or skip.
    Review(SnapshotDir),
    /// Accept pending snapshots: all of them, or one scenario's.
    Accept {
        #[command(flatten)]
        dir: SnapshotDir,
        /// Accept every pending snapshot.
        #[arg(long, conflicts_with = "scenario")]
        all: bool,
        /// The scenario whose pending snapshots to accept.
        scenario: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct SnapshotDir {
    /// The snapshot directory.
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub place: Place,
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: std::net::SocketAddr,
    /// What the server speaks: SMBC-style PSD2 DCR (mTLS, API-key credentials, signatures) or
    /// plain RFC 7591/7592 (registration access tokens).
    #[arg(long, value_enum, default_value_t = ServerKindArg::Smbc)]
    pub mode: ServerKindArg,
    /// Switch off one rule (repeatable); `--list-flaws` names them.
    #[arg(long = "flaw")]
    pub flaws: Vec<String>,
    /// Behave in one of the ways the RFCs allow (repeatable); `--list-variants` names them.
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Judge client certificates in HTTP (answers name the rule) or in the TLS handshake.
    #[arg(long, value_enum, default_value_t = CertCheckArg::Http)]
    pub cert_check: CertCheckArg,
    /// How DCR-service credentials travel.
    #[arg(long, value_enum, default_value_t = DcrAuthArg::ApiKey)]
    pub dcr_auth: DcrAuthArg,
    /// Accepted clock skew of a signed Date, in seconds (up to a day).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub max_skew: u64,
    /// Verify signatures in this target profile's dialect (`berlin-group`, `fapi-message-signing`,
    /// a profile of the project): its scheme, signed headers, keyId style, digest.
    #[arg(long)]
    pub dialect_of: Option<String>,
    /// Play the server this target profile expects (as `run --profile P` without a target
    /// does): its mode, signature dialect, date window and where certificates are judged.
    #[arg(long, conflicts_with_all = ["mode", "dialect_of", "cert_check", "max_skew"])]
    pub profile: Option<String>,
    /// Plain profile: require this initial access token to register.
    #[arg(long)]
    pub initial_access_token: Option<String>,
    /// Serve plain HTTP (for the plain profile on loopback; no mTLS possible).
    #[arg(long)]
    pub http: bool,
    /// Ask no QTSP whether certificates are revoked (by default the test QTSP's OCSP responder
    /// and CRL run beside the server, on 127.0.0.1, and it asks them).
    #[arg(long)]
    pub no_revocation: bool,
    /// Print the named flaws and exit.
    #[arg(long)]
    pub list_flaws: bool,
    /// Print the named variants and exit.
    #[arg(long)]
    pub list_variants: bool,
}

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the test PKI (reuses what is there and still valid; `--force` starts afresh).
    Init(PkiInitArgs),
    /// Print every identity: subject, serial, validity, key, PSD2 roles and NCA.
    Show(PkiDirArg),
}

#[derive(Debug, Args)]
pub struct PkiDirArg {
    /// The PKI directory (default: the project's fixtures/pki, else the one under
    /// DCR_HARNESS_HOME).
    #[arg(long = "pki", visible_alias = "dir", env = "DCR_HARNESS_PKI")]
    pub dir: Option<PathBuf>,
    /// The project directory (default: the nearest with a dcr-harness.toml).
    #[arg(long, env = "DCR_HARNESS_ROOT")]
    pub root: Option<PathBuf>,
}

impl PkiDirArg {
    fn dir(&self) -> Result<PathBuf, Error> {
        match &self.dir {
            Some(dir) => Ok(dir.clone()),
            None => Ok(layout_of(self.root.as_deref())?.pki),
        }
    }
}

#[derive(Debug, Args)]
pub struct PkiInitArgs {
    #[command(flatten)]
    pub dir: PkiDirArg,
    /// Throw away the existing PKI, broken or not, and generate anew; identities marked
    /// `external` and the TPPs' DCR-service credentials are kept where they can be read.
    #[arg(long)]
    pub force: bool,
    /// Key type of the QWACs and QSEALs.
    #[arg(long, value_enum, default_value_t = KeyTypeArg::Rsa2048)]
    pub key_type: KeyTypeArg,
    /// organizationIdentifier of TPP A.
    #[arg(long, default_value = "PSDGB-FCA-123456")]
    pub org_id: String,
    /// Organisation name of TPP A.
    #[arg(long, default_value = "Test TPP A Ltd")]
    pub org_name: String,
    /// PSD2 roles of TPP A, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "PSP_PI,PSP_AI")]
    pub roles: Vec<PspRole>,
    /// Name of the national competent authority.
    #[arg(long, default_value = "Financial Conduct Authority")]
    pub nca_name: String,
    /// Id of the national competent authority.
    #[arg(long, default_value = "GB-FCA")]
    pub nca_id: String,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The target profile: how to sign, which identities and credentials (default: reference).
    #[arg(long, env = "DCR_HARNESS_PROFILE", default_value = "reference")]
    pub profile: String,
    /// Base URL of the DCR server to probe (default: the profile's, else the embedded server).
    #[arg(long, env = "DCR_HARNESS_TARGET")]
    pub target: Option<String>,
    #[command(flatten)]
    pub place: Place,
    /// Also write the report to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The captured request: raw HTTP, a HAR file, or the output of `curl -v` (`-` reads stdin).
    pub capture: PathBuf,
    /// Verify as this target profile would: its signature dialect and date window (default: the
    /// reference profile's).
    #[arg(long, env = "DCR_HARNESS_PROFILE")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub place: Place,
    /// Which entry of a HAR file (counted from 0).
    #[arg(long)]
    pub entry: Option<usize>,
    /// The body, for a `curl -v` trace (which leaves it out).
    #[arg(long)]
    pub body: Option<PathBuf>,
    /// Judge the signing time as of this moment (RFC 7231 date; default: now), for a capture
    /// made earlier.
    #[arg(long)]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// HTTP method.
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// Full URL of the request (its path and query are signed).
    #[arg(long)]
    pub url: String,
    /// File holding the body (none: empty body).
    #[arg(long)]
    pub body: Option<PathBuf>,
    #[command(flatten)]
    pub place: Place,
    /// Sign as this target profile would: its signature dialect, identities and DCR-service
    /// credentials.
    #[arg(long, env = "DCR_HARNESS_PROFILE")]
    pub profile: Option<String>,
    /// Signing identity (a QSEAL; default: the profile's, else `qseal`).
    #[arg(long)]
    pub identity: Option<String>,
    /// TLS identity for `--curl` (a QWAC; default: the profile's, else `qwac`).
    #[arg(long)]
    pub tls_identity: Option<String>,
    /// Apply one mutation from the catalog (`dcr-harness mutations` lists them).
    #[arg(long)]
    pub mutation: Option<String>,
    /// The Date to sign, as RFC 7231 IMF-fixdate (default: now).
    #[arg(long)]
    pub date: Option<String>,
    /// Extra header `Name: value` (repeatable); sent, and signed if the dialect lists it.
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// How the DCR-service credentials go into `--curl` (default: as the profile says, else
    /// api-key).
    #[arg(long, value_enum)]
    pub credentials: Option<CurlCredentials>,
    /// Print the DCR-service credentials in `--curl` instead of `$DCR_CLIENT_ID` and
    /// `$DCR_CLIENT_SECRET` references.
    #[arg(long, requires = "curl")]
    pub show_secrets: bool,
    /// Print one JSON object (`signing_string`, `headers`).
    #[arg(long, conflicts_with = "curl")]
    pub json: bool,
    /// Print a ready curl command with the mTLS flags.
    #[arg(long)]
    pub curl: bool,
    /// Print the signed request as raw HTTP/1.1 (what `explain` reads back).
    #[arg(long, conflicts_with_all = ["curl", "json"])]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub place: Place,
    /// Only this server (repeatable; default: the whole fleet). The others keep their
    /// committed cells.
    #[arg(long = "server")]
    pub servers: Vec<String>,
    /// Do not run each launcher's `install` (the fleet is installed already).
    #[arg(long)]
    pub no_install: bool,
    /// Compare with the committed matrix instead of writing it: exit 1 on a cell that moved,
    /// a new or a gone one, an unreviewed failure, a run that errs, or a client left.
    #[arg(long)]
    pub check: bool,
    /// Where the matrix is (default: the project's docs/interop).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where each run's HTML report is written, a page per server, configuration and profile
    /// (default: the project's target/interop/html).
    #[arg(long)]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CurlCredentials {
    ApiKey,
    Basic,
    None,
}

/// Command-line spellings of library enums: clap stays in this module, and each wrapper maps
/// one to one onto the library's type.
macro_rules! value_enum {
    ($(#[$meta:meta])* $name:ident => $lib:ty { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
        impl From<$name> for $lib {
            fn from(arg: $name) -> $lib {
                match arg { $($name::$variant => <$lib>::$variant),+ }
            }
        }
    };
}

value_enum!(
    /// Which kind of DCR server to be.
    ServerKindArg => ServerProfile {
        /// A PSD2 bank as SMBC describes it: mTLS with a QWAC, DCR credentials, QSEAL signatures.
        Smbc,
        /// A plain RFC 7591/7592 server: registration access tokens, no mTLS, no signatures.
        Plain,
        /// RFC 7591/7592 with a software statement from the test directory in every registration.
        Fapi,
        /// Open Banking UK: mTLS, signed request objects with a statement, management with the
        /// client's own access token.
        Obuk,
    }
);
value_enum!(
    /// Where client certificates are judged.
    CertCheckArg => CertCheck {
        /// Accept the handshake, judge in HTTP, answer with the rule's code.
        Http,
        /// Refuse an expired or untrusted certificate in the TLS handshake.
        Handshake,
    }
);
value_enum!(
    /// How the TPP's credentials for the DCR service travel.
    DcrAuthArg => DcrAuth {
        /// `X-IBM-Client-Id` and `X-IBM-Client-Secret` headers.
        ApiKey,
        /// HTTP Basic with the client id and secret.
        Basic,
        /// `Authorization: Bearer` with a token from the server's token endpoint.
        Bearer,
    }
);
value_enum!(
    /// The kind of key the good identities get.
    KeyTypeArg => KeyType { Rsa2048, Rsa3072, Rsa4096, EcdsaP256 }
);

/// Runs a parsed command line; returns the exit code of a command that completed.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Pki(PkiCommand::Init(args)) => pki_init(&args),
        Command::Pki(PkiCommand::Show(args)) => pki_show(&args.dir()?),
        Command::Sign(args) => sign(&args),
        Command::Explain(args) => explain(&args),
        Command::Probe(args) => probe(&args),
        Command::Serve(args) => serve(&args),
        Command::Run(args) => run_suite(&args, cli.output),
        Command::Init { dir } => init(&dir),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "dcr-harness", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page).map_err(Error::Stdout)?;
            print(&String::from_utf8_lossy(&page))
        }
        Command::List(args) => list(&args),
        Command::Validate(args) => validate(&args),
        Command::Snapshots(command) => snapshots(command),
        Command::Load(args) => load(&args),
        Command::Cleanup(args) => cleanup(&args),
        Command::Matrix(args) => matrix(&args),
        Command::Schema { kind: SchemaKind::Scenario } => print(&crate::scenario::scenario_schema()),
        Command::Schema { kind: SchemaKind::Profile } => print(&crate::scenario::profile_schema()),
        Command::Schema { kind: SchemaKind::Report } => print(&crate::report::json::schema()),
        Command::Mutations => {
            let mut out = String::new();
            for m in Mutation::ALL {
                out.push_str(&format!("{:<40} {}\n", m.name(), m.description()));
            }
            print(&out)
        }
    }
}

fn print(text: &str) -> Result<Outcome, Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not an error worth a message.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Stdout(e)),
        _ => Ok(Outcome::Success),
    }
}

fn pki_init(args: &PkiInitArgs) -> Result<Outcome, Error> {
    let dir = &args.dir.dir()?;
    let options = PkiOptions {
        key_type: args.key_type.into(),
        organization_identifier: args.org_id.clone(),
        organization_name: args.org_name.clone(),
        roles: args.roles.clone(),
        nca_name: args.nca_name.clone(),
        nca_id: args.nca_id.clone(),
    };
    let pki = if args.force { Pki::rebuild(dir, &options)? } else { ensure_pki(dir, &options)? };
    eprintln!("test PKI ready in {} ({} identities)", dir.display(), pki.identities().count());
    Ok(Outcome::Success)
}

/// The PKI in `dir`, made or brought up to date; a generated file found broken and made again
/// is said on stderr, never replaced silently.
fn ensure_pki(dir: &Path, options: &PkiOptions) -> Result<Pki, Error> {
    let pki = Pki::ensure(dir, options)?;
    for note in &pki.repaired {
        eprintln!("dcr-harness: note: in the test PKI {}, {note}: made again", dir.display());
    }
    Ok(pki)
}

fn pki_show(dir: &Path) -> Result<Outcome, Error> {
    let pki = ensure_pki(dir, &PkiOptions::default())?;
    print(&pki::describe(&pki))
}

/// What `sign` signs as: the profile's choices, or the test PKI's defaults.
struct Signer {
    profile: Option<crate::scenario::Profile>,
    dialect: Dialect,
    sign: String,
    tls: String,
    /// The TPP whose DCR-service credentials go into `--curl`.
    tpp: Option<String>,
}

fn signer(args: &SignArgs) -> Result<(Signer, Pki), Error> {
    let layout = layout_of(args.place.root.as_deref())?;
    let profile =
        args.profile.as_deref().map(|name| crate::scenario::Profile::load(name, &layout.profiles)).transpose()?;
    let pki_dir = args
        .place
        .pki
        .clone()
        .or_else(|| profile.as_ref().and_then(|p| p.pki.clone()))
        .unwrap_or_else(|| layout.pki.clone());
    let pki = ensure_pki(&pki_dir, &PkiOptions::default())?;
    let named = |who: &crate::scenario::Who, fallback: &str| who.name().unwrap_or(fallback).to_string();
    let (dialect, sign, tls) = match &profile {
        Some(p) => (
            p.signature.dialect.clone(),
            named(&p.identities.sign, pki::names::QSEAL),
            named(&p.identities.tls, pki::names::QWAC),
        ),
        None => (Dialect::default(), pki::names::QSEAL.to_string(), pki::names::QWAC.to_string()),
    };
    let sign = args.identity.clone().unwrap_or(sign);
    let tls = args.tls_identity.clone().unwrap_or(tls);
    let tpp = match &profile {
        Some(p) => Some(p.identities.tpp.clone()),
        None => pki.identity(&tls)?.tpp.clone(),
    };
    Ok((Signer { profile, dialect, sign, tls, tpp }, pki))
}

fn probe(args: &ProbeArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let report = runtime()?.block_on(crate::suite::probe(&layout, &args.profile, args.target.clone()))?;
    let markdown = report.markdown();
    if let Some(path) = &args.output {
        std::fs::write(path, &markdown).map_err(|source| Error::Output { path: path.clone(), source })?;
    }
    print(&markdown)
}

fn explain(args: &ExplainArgs) -> Result<Outcome, Error> {
    let layout = layout_of(args.place.root.as_deref())?;
    let profile = crate::scenario::Profile::load(args.profile.as_deref().unwrap_or("reference"), &layout.profiles)?;
    let at = match &args.at {
        Some(text) => httpdate::parse_http_date(text).map_err(|_| {
            Error::input("--at", format!("`{text}` is not an RFC 7231 date like `Tue, 24 Nov 2026 19:11:14 GMT`"))
        })?,
        None => SystemTime::now(),
    };
    let read = |path: &Path| -> Result<Vec<u8>, Error> {
        let limit = crate::files::MAX_INPUT_BYTES;
        let bytes = if path == Path::new("-") {
            let mut bytes = Vec::new();
            let stdin = std::io::Read::take(std::io::stdin().lock(), limit + 1);
            std::io::Read::read_to_end(&mut { stdin }, &mut bytes).map_err(|e| Error::input("standard input", e))?;
            if bytes.len() as u64 > limit {
                return Err(Error::input("standard input", format!("over the {limit}-byte limit for a capture")));
            }
            bytes
        } else {
            crate::files::read(path, limit).map_err(|e| Error::input(path.display().to_string(), e))?
        };
        Ok(bytes)
    };
    let body = args.body.as_deref().map(read).transpose()?;
    let capture = args.capture.display().to_string();
    let msg =
        crate::explain::read_capture(&read(&args.capture)?, args.entry, body).map_err(|e| Error::input(&capture, e))?;
    let window = std::time::Duration::from_secs(profile.signature.date_window_s);
    let explained = crate::explain::explain(&msg, &profile.signature.dialect, window, at);
    print(&format!("profile: {}\n{}", profile.name, explained.render(&msg)))?;
    Ok(if explained.broken.is_some() { Outcome::MustFailed } else { Outcome::Success })
}

fn sign(args: &SignArgs) -> Result<Outcome, Error> {
    let (signer, pki) = signer(args)?;
    let identity = pki.identity(&signer.sign)?;
    let mutation = args.mutation.as_deref().map(str::parse::<Mutation>).transpose()?;
    if let Some(m) = mutation.filter(|m| !m.bends_http_signature()) {
        let why = format!("`{m}` bends a JWT in the body; `sign` signs HTTP requests (a scenario step applies it)");
        return Err(Error::input("--mutation", why));
    }
    let url = reqwest::Url::parse(&args.url).map_err(|e| Error::input(format!("--url {}", args.url), e))?;
    let target = signature::request_target(&url);
    let body = match &args.body {
        Some(path) => crate::files::read(path, crate::files::MAX_INPUT_BYTES)
            .map_err(|e| Error::input(path.display().to_string(), e))?,
        None => Vec::new(),
    };
    let date = match &args.date {
        Some(text) => httpdate::parse_http_date(text).map_err(|_| {
            Error::input("--date", format!("`{text}` is not an RFC 7231 date like `Tue, 24 Nov 2026 19:11:14 GMT`"))
        })?,
        None => SystemTime::now(),
    };
    let mut msg = Message::new(&args.method, &target, body);
    msg.set_origin(&url.origin().ascii_serialization());
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Error::input(format!("--header {header}"), "expected `Name: value`"))?;
        msg.add_header(name.trim(), value.trim());
    }
    let other = pki.identity(pki::names::QSEAL_B).ok();
    let ctx = MutationContext { other_identity: other, memo: None };
    let signed = signature::sign_mutated(identity, &signer.dialect, &mut msg, date, mutation, &ctx)?;
    if args.raw {
        // Exactly the bytes sent: a newline after the body would be part of it.
        return print(&String::from_utf8_lossy(&msg.to_raw()));
    }
    if args.json {
        let headers: serde_json::Map<String, serde_json::Value> =
            msg.headers.iter().map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone()))).collect();
        let out = serde_json::json!({ "signing_string": signed.signing_string, "headers": headers });
        return print(&format!("{out:#}\n"));
    }
    if args.curl {
        return print(&format!("{}\n", curl_command(&pki, &signer, args, &msg)?));
    }
    let mut out = format!("{}\n\n", signed.signing_string);
    for (name, value) in &msg.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    print(&out)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The environment variables a printed command refers to for the DCR-service credentials (they
/// are secrets): the profile's own where it reads them from one (`{{env.NAME}}`), else
/// `DCR_CLIENT_ID` and `DCR_CLIENT_SECRET`.
fn credential_variables(profile: Option<&crate::scenario::Profile>, tpp: &str) -> (String, String) {
    let from_env = |template: &str| {
        let name = template.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim().strip_prefix("env.")?;
        Some(name.to_string())
    };
    let overrides = profile.and_then(|p| p.credentials.overrides.get(tpp));
    (
        overrides.and_then(|o| from_env(&o.client_id)).unwrap_or_else(|| "DCR_CLIENT_ID".into()),
        overrides.and_then(|o| from_env(&o.client_secret)).unwrap_or_else(|| "DCR_CLIENT_SECRET".into()),
    )
}

/// Quotes for the shell, keeping `${VAR}` references live (double quotes) when there are any.
fn shell_quote_expanding(s: &str, expands: bool) -> String {
    match expands {
        true => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('`', "\\`")),
        false => shell_quote(s),
    }
}

fn curl_command(pki: &Pki, signer: &Signer, args: &SignArgs, msg: &Message) -> Result<String, Error> {
    let tls = pki.identity(&signer.tls)?;
    let mut parts = vec![
        "curl".to_string(),
        "-sS".into(),
        "--cert".into(),
        shell_quote(&tls.cert_path.display().to_string()),
        "--key".into(),
        shell_quote(&tls.key_path.display().to_string()),
        "--cacert".into(),
        shell_quote(&pki.path_of(&pki.manifest.trust_anchor).display().to_string()),
        "-X".into(),
        msg.method.clone(),
    ];
    let mut headers: Vec<(String, String, bool)> =
        msg.headers.iter().map(|(n, v)| (n.clone(), v.clone(), false)).collect();
    let kind = args.credentials.unwrap_or(match signer.profile.as_ref().map(|p| p.credentials.kind) {
        Some(crate::scenario::profile::CredentialKind::Basic) => CurlCredentials::Basic,
        Some(crate::scenario::profile::CredentialKind::ApiKey) | None => CurlCredentials::ApiKey,
        Some(_) => CurlCredentials::None,
    });
    let (id_header, secret_header) = match &signer.profile {
        Some(p) => (p.credentials.client_id_header.clone(), p.credentials.client_secret_header.clone()),
        None => (CLIENT_ID_HEADER.to_string(), CLIENT_SECRET_HEADER.to_string()),
    };
    let show = args.show_secrets;
    match (kind, &signer.tpp) {
        (CurlCredentials::None, _) => {}
        (_, None) => eprintln!(
            "dcr-harness: warning: identity `{}` belongs to no TPP in the PKI manifest, so the command carries no DCR-service credentials",
            signer.tls
        ),
        (kind, Some(tpp)) => {
            let (id_var, secret_var) = credential_variables(signer.profile.as_ref(), tpp);
            let (id, secret) = match (show, &signer.profile) {
                (false, _) => (format!("${{{id_var}}}"), format!("${{{secret_var}}}")),
                (true, Some(p)) => {
                    crate::run::plan::credentials_of(p, pki, tpp).map_err(|e| Error::input("--profile", e))?
                }
                (true, None) => pki.tpp(tpp).map(|t| (t.dcr_client_id.clone(), t.dcr_client_secret.clone()))?,
            };
            if !show {
                eprintln!("dcr-harness: note: the DCR-service credentials are ${id_var} and ${secret_var} in the command: export them, or add --show-secrets");
            }
            match kind {
                CurlCredentials::Basic => {
                    parts.extend(["--user".into(), shell_quote_expanding(&format!("{id}:{secret}"), !show)])
                }
                _ => {
                    headers.push((id_header, id, !show));
                    headers.push((secret_header, secret, !show));
                }
            }
        }
    }
    if !msg.body.is_empty() {
        headers.push(("Content-Type".into(), "application/json".into(), false));
    }
    for (name, value, expands) in headers {
        parts.push("-H".into());
        parts.push(shell_quote_expanding(&format!("{name}: {value}"), expands));
    }
    if !msg.body.is_empty() {
        // The signed bytes exactly, from a file: inlined, a non-UTF-8 byte would change (and the
        // Digest no longer match), and a large body would make a command line of its size.
        parts.push("--data-binary".into());
        parts.push(shell_quote(&format!("@{}", body_file_for_curl(args.body.as_deref(), &msg.body)?.display())));
    }
    parts.push(shell_quote(&args.url.replace(&url_target(&args.url).unwrap_or_default(), &msg.target)));
    Ok(parts.join(" "))
}

/// A file holding exactly `body`: the `--body` file where the signed body is its bytes, else
/// one written under the temporary directory, named by the body's digest.
fn body_file_for_curl(given: Option<&Path>, body: &[u8]) -> Result<PathBuf, Error> {
    if let Some(path) = given {
        if crate::files::read(path, crate::files::MAX_INPUT_BYTES).is_ok_and(|bytes| bytes == body) {
            return Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        }
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    let path = std::env::temp_dir().join(format!("dcr-harness-body-{}.bin", hex::encode(&digest.as_ref()[..8])));
    std::fs::write(&path, body).map_err(|e| Error::output(&path, e))?;
    eprintln!("dcr-harness: note: the signed body is in {} (the command sends it from there)", path.display());
    Ok(path)
}

/// The path and query of a URL as written, so a mutation that changes the target shows in curl.
fn url_target(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().map(|url| signature::request_target(&url))
}

/// A multi-threaded tokio runtime for the commands that do network work.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)
}

/// Parses flaw names, all errors at once.
pub fn parse_flaws(names: &[String]) -> Result<std::collections::BTreeSet<Flaw>, Error> {
    parse_named(names, "flaw")
}

/// Parses variant names, all errors at once.
pub fn parse_variants(names: &[String]) -> Result<std::collections::BTreeSet<Variant>, Error> {
    parse_named(names, "variant")
}

fn parse_named<T: std::str::FromStr + Ord>(
    names: &[String],
    what: &str,
) -> Result<std::collections::BTreeSet<T>, Error> {
    let mut known = std::collections::BTreeSet::new();
    let mut unknown = Vec::new();
    for name in names {
        match name.parse::<T>() {
            Ok(entry) => {
                known.insert(entry);
            }
            Err(_) => unknown.push(name.as_str()),
        }
    }
    if unknown.is_empty() {
        Ok(known)
    } else {
        Err(Error::input(
            format!("--{what} {}", unknown.join(", ")),
            format!("unknown {what}; `dcr-harness serve --list-{what}s` prints them"),
        ))
    }
}

/// A catalog's entries, a line each: name and description.
fn listing<T: Copy>(all: &[T], name: fn(T) -> &'static str, description: fn(T) -> &'static str) -> String {
    all.iter().map(|e| format!("{:<30} {}\n", name(*e), description(*e))).collect()
}

fn serve(args: &ServeArgs) -> Result<Outcome, Error> {
    if args.list_flaws {
        return print(&listing(Flaw::ALL, Flaw::name, Flaw::description));
    }
    if args.list_variants {
        return print(&listing(Variant::ALL, Variant::name, Variant::description));
    }
    let layout = args.place.layout()?;
    let pki = std::sync::Arc::new(ensure_pki(&layout.pki, &PkiOptions::default())?);
    let dialect = match &args.dialect_of {
        Some(name) => crate::scenario::Profile::load(name, &layout.profiles)?.signature.dialect,
        None => Dialect::default(),
    };
    let mut config = ServerConfig {
        listen: args.listen,
        dialect,
        profile: args.mode.into(),
        flaws: parse_flaws(&args.flaws)?,
        variants: parse_variants(&args.variants)?,
        cert_check: args.cert_check.into(),
        dcr_auth: args.dcr_auth.into(),
        max_skew: std::time::Duration::from_secs(args.max_skew),
        initial_access_token: args.initial_access_token.clone(),
        plain_http: args.http,
        ..ServerConfig::default()
    };
    let played = match &args.profile {
        Some(name) => {
            let profile = crate::scenario::Profile::load(name, &layout.profiles)?;
            config.profile = profile.embedded.profile;
            config.cert_check = profile.embedded.cert_check;
            config.max_skew = std::time::Duration::from_secs(profile.signature.date_window_s);
            config.dialect = profile.signature.dialect.clone();
            Some(profile.name)
        }
        None => None,
    };
    let deviations: Vec<String> = config
        .flaws
        .iter()
        .map(|f| format!("flaw {f}"))
        .chain(config.variants.iter().map(|v| format!("variant {v}")))
        .collect();
    runtime()?.block_on(async {
        // The test QTSP's OCSP responder and CRL, which the server asks about certificates.
        let qtsp = match args.no_revocation {
            true => None,
            false => Some(crate::qtsp::start(pki.clone()).await.map_err(Error::Qtsp)?),
        };
        config.revocation = qtsp.as_ref().map(|q| q.revocation_config(false));
        let server = crate::server::start(&pki, config).await.map_err(Error::Serve)?;
        print(&format!("{}\n", server.url()))?;
        let mode = match &played {
            Some(profile) => format!("as profile {profile} expects"),
            None => clap::ValueEnum::to_possible_value(&args.mode)
                .map(|v| v.get_name().to_string() + " mode")
                .unwrap_or_default(),
        };
        eprintln!(
            "reference DCR server ({}{}) on {}; Ctrl-C stops it",
            mode,
            if deviations.is_empty() { String::new() } else { format!(", {}", deviations.join(", ")) },
            server.url()
        );
        wait_for_stop_signal().await;
        server.stop().await;
        if let Some(qtsp) = qtsp {
            qtsp.stop().await;
        }
        Ok(Outcome::Success)
    })
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn filter_of(select: &SelectArgs) -> Result<crate::scenario::Filter, Error> {
    let areas = select
        .area
        .iter()
        .map(|a| a.parse::<crate::scenario::Area>().map_err(|e| Error::input(format!("--area {a}"), e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::scenario::Filter {
        tags: select.tag.clone(),
        areas,
        ids: select.scenario.clone(),
        skip: select.skip.clone(),
    })
}

/// The directories of the project a command works in (see `project`).
fn layout_of(root: Option<&Path>) -> Result<crate::suite::Layout, Error> {
    let cwd = std::env::current_dir().map_err(|e| Error::input("the working directory", e))?;
    let project = crate::project::Project::find(root, &cwd, crate::assets::home().as_deref())
        .map_err(|e| Error::input("project", e))?;
    Ok(project.layout())
}

fn run_suite(args: &RunArgs, output: OutputArgs) -> Result<Outcome, Error> {
    let layout = args.select.place.layout()?;
    ensure_pki(&layout.pki, &PkiOptions::default())?;
    let reports = match &args.report {
        Some(spec) => crate::report::parse_specs(spec)?,
        None => Vec::new(),
    };
    crate::report::check_writable(&reports)?;
    // A report on stdout (`json=-`) is the only data there: the terminal report goes to stderr.
    let to_stderr = reports.iter().any(|(_, path)| path == Path::new("-"));
    let say = move |text: &str| -> Result<(), Error> {
        match to_stderr {
            true => {
                eprint!("{text}");
                Ok(())
            }
            false => print(text).map(drop),
        }
    };
    let known_failures = match &args.known_failures {
        Some(path) => crate::suite::load_known_failures(path)?,
        None => Default::default(),
    };
    let options = crate::suite::SuiteOptions {
        profile: args.select.profile.clone(),
        target: args.target.clone(),
        filter: filter_of(&args.select)?,
        run: crate::run::RunOptions {
            interrupt: Default::default(),
            progress: None,
            jobs: args.jobs.map_or(0, usize::from),
            fail_fast: args.fail_fast,
            known_failures,
            deadline: args.timeout.map(std::time::Duration::from_secs),
            snapshots: (!args.no_snapshots).then(|| {
                crate::run::snapshot::SnapshotOptions::new(
                    layout.snapshots_for(&args.select.profile),
                    args.update_snapshots,
                )
            }),
        },
        embedded: crate::suite::Embedded {
            flaws: parse_flaws(&args.flaws)?,
            variants: parse_variants(&args.variants)?,
        },
        known_failures_file: args.known_failures.clone(),
    };
    let verbosity = match (output.verbose, output.quiet) {
        (true, _) => Verbosity::Verbose,
        (_, true) => Verbosity::Quiet,
        _ => Verbosity::Normal,
    };
    let color = match output.color {
        ColorChoice::Auto => None,
        ColorChoice::Always => Some(true),
        ColorChoice::Never => Some(false),
    };
    let style = Style::detect(verbosity, color);
    let mut options = options;
    // On a terminal (colour or not), a progress bar on stderr while running and the ordered
    // report after; elsewhere (CI logs), each scenario's line as soon as it and those before it
    // in the plan are done (so two logs diff), then the summary.
    let bar = (std::io::stderr().is_terminal() && std::io::stdout().is_terminal() && !to_stderr).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios, {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let (passed, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let streamed = bar.is_none() && std::io::stdout().is_terminal().not();
    let in_order = std::sync::Mutex::new(crate::report::terminal::InOrder::default());
    options.run.progress = Some(crate::run::Progress(std::sync::Arc::new({
        let bar = bar.clone();
        move |scenario, at: crate::run::Done| match &bar {
            Some(bar) => {
                let failing = matches!(scenario.verdict, crate::run::Verdict::Fail | crate::run::Verdict::Error);
                let tally = if failing { &failed } else { &passed };
                tally.fetch_add(1, Ordering::Relaxed);
                bar.set_length(at.total as u64);
                bar.set_position(at.done as u64);
                let (p, f) = (passed.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
                bar.set_message(format!("({p} passed, {f} failed) {}", scenario.id));
            }
            None if streamed => {
                let block = crate::report::terminal::scenario_block(scenario, &style);
                let due = in_order.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(at.index, block);
                for block in due {
                    let _ = say(&block);
                }
            }
            None => {}
        }
    })));
    let interrupt = options.run.interrupt.clone();
    let run = runtime()?.block_on(async {
        // The first Ctrl-C or SIGTERM stops starting scenarios and ends running ones after
        // their current step, deleting what they registered; a second one stops at once.
        tokio::spawn(async move {
            wait_for_stop_signal().await;
            eprintln!(
                "dcr-harness: interrupted: finishing the running steps and deleting their clients (again to stop now)"
            );
            interrupt.raise();
            wait_for_stop_signal().await;
            std::process::exit(130);
        });
        crate::suite::run(&layout, &options).await
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if streamed {
        say(&crate::report::terminal::summary(&run.result))?;
    } else {
        say(&crate::report::terminal::render_with(&run.result, &style))?;
    }
    if let Some(handshakes) = run.handshakes {
        eprintln!("embedded server: {handshakes} TLS handshakes for {} requests", run.result.requests);
    }
    let outcome = run.result.outcome();
    match crate::report::write_all(&run.result, &reports) {
        // A report lost after the run does not hide its verdict: the verdict's code stands.
        Err(e) if outcome != Outcome::Success => {
            eprintln!("dcr-harness: error: {}", crate::diagnostic::chain(&e));
            Ok(outcome)
        }
        written => written.map(|()| outcome),
    }
}

fn init(dir: &Path) -> Result<Outcome, Error> {
    let written = crate::init::init(dir).map_err(|e| Error::input("init", e))?;
    let mut out = String::new();
    for path in &written {
        out.push_str(&format!("wrote {}\n", path.display()));
    }
    out.push_str("next: add your QWAC and QSEAL (dcr-harness pki init, then `external: true` entries in fixtures/pki/manifest.yaml), edit profiles/my-bank.yaml, then: dcr-harness run --profile my-bank\n");
    print(&out)
}

fn list(args: &SelectArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let (profile, scenarios, _) = crate::suite::load(&layout, &args.profile)?;
    let filter = filter_of(args)?;
    let selected = crate::suite::select(&scenarios, &filter, &profile)?;
    let mut out = String::new();
    for s in &selected {
        out.push_str(&format!("{:<44} {:<16} {:<6} {}\n", s.id, s.area.name(), s.severity.name(), s.title));
    }
    let not_applicable = crate::suite::not_applicable(&scenarios, &filter, &profile);
    if !not_applicable.is_empty() {
        out.push_str(&format!("\nnot applicable to profile `{}` ({}):\n", profile.name, not_applicable.len()));
        for n in &not_applicable {
            out.push_str(&format!("{:<44} {}\n", n.id, n.reason));
        }
    }
    print(&out)
}

fn validate(args: &SelectArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let (profile, scenarios, pki) = crate::suite::load(&layout, &args.profile)?;
    let selected = crate::suite::select(&scenarios, &filter_of(args)?, &profile)?;
    let problems = crate::preflight::offline(&profile, &pki, &selected, &layout.fixtures);
    if !problems.is_empty() {
        return Err(Error::input("preflight", problems.join("\n")));
    }
    let applicable = scenarios.iter().filter(|s| profile.applies(s)).count();
    eprintln!("{} scenarios valid; {applicable} apply to profile `{}`", scenarios.len(), profile.name);
    Ok(Outcome::Success)
}

fn snapshots(command: SnapshotCommand) -> Result<Outcome, Error> {
    let io = |dir: &Path, e: std::io::Error| Error::output(dir, e);
    match command {
        SnapshotCommand::Review(dir) => {
            let stdin = std::io::stdin();
            let (accepted, rejected) =
                crate::run::snapshot::review(&dir.snapshots, &mut stdin.lock(), &mut std::io::stderr())
                    .map_err(|e| io(&dir.snapshots, e))?;
            eprintln!("{accepted} accepted, {rejected} rejected");
        }
        SnapshotCommand::Accept { dir, all, scenario } => {
            if !all && scenario.is_none() {
                return Err(Error::input("snapshots accept", "name a scenario, or give --all"));
            }
            let n =
                crate::run::snapshot::accept(&dir.snapshots, scenario.as_deref()).map_err(|e| io(&dir.snapshots, e))?;
            eprintln!("{n} snapshot(s) accepted");
        }
    }
    Ok(Outcome::Success)
}

fn cleanup(args: &CleanupArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let done = runtime()?.block_on(crate::suite::cleanup(&layout, &args.ledger, args.profile.as_deref()))?;
    let mut out = String::new();
    for r in &done.results {
        let mark = if r.ok { "deleted" } else { "LEFT" };
        out.push_str(&format!("{mark:<8} {} {}\n", r.client, crate::report::terminal::inert(&r.detail)));
    }
    let left = done.results.iter().filter(|r| !r.ok).count();
    out.push_str(&format!("{} deleted, {left} left", done.results.len() - left));
    match &done.ledger {
        Some(ledger) => out.push_str(&format!("; the ledger {} still names them\n", ledger.display())),
        None => out.push_str("; the ledger is removed\n"),
    }
    print(&out)?;
    Ok(if done.ledger.is_some() { Outcome::ClientsLeft } else { Outcome::Success })
}

fn matrix(args: &MatrixArgs) -> Result<Outcome, Error> {
    use crate::interop;
    let layout = args.place.layout()?;
    let out = args.out.clone().unwrap_or_else(|| layout.root.join("docs/interop"));
    let committed = interop::Matrix::read(&out.join(interop::MATRIX_JSON))?;
    let options = interop::MatrixOptions {
        servers: args.servers.clone(),
        no_install: args.no_install,
        state_dir: layout.root.join("target/interop/state"),
        html_dir: Some(args.html.clone().unwrap_or_else(|| layout.root.join("target/interop/html"))),
    };
    let now = runtime()?.block_on(interop::run(&layout, &options))?;
    let differences = interop::differences(&committed, &now);
    for line in &differences {
        eprintln!("matrix: {line}");
    }
    let cells = now.cells.len();
    if args.check {
        eprintln!("matrix: {cells} cells, {} difference(s) from {}", differences.len(), out.display());
        return Ok(if differences.is_empty() { Outcome::Success } else { Outcome::MustFailed });
    }
    let [json, md] = interop::merged(&committed, now).write(&out)?;
    eprintln!("matrix: {cells} cells run; wrote {} and {}", json.display(), md.display());
    Ok(Outcome::Success)
}

fn load(args: &LoadArgs) -> Result<Outcome, Error> {
    match &args.command {
        Some(LoadCommand::Merge(merge)) => {
            let (_, report) = crate::load::merge(&merge.files)?;
            write_load_reports(&report, &merge.reports)
        }
        None => load_run(&args.run),
    }
}

fn load_run(args: &LoadRunArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let mut profile = crate::load::read_profile(&args.profile, &layout.load)?;
    if let Some(target_profile) = &args.target_profile {
        profile.target_profile = target_profile.clone();
    }
    let shard = match &args.shard {
        Some(text) => text.parse().map_err(|e: String| Error::input("--shard", e))?,
        None => {
            let env = |name| std::env::var(name).ok();
            crate::load::Shard::from_job(env("JOB_COMPLETION_INDEX").as_deref(), env("DCR_HARNESS_SHARDS").as_deref())
                .map_err(|e| Error::input("--shard", e))?
                .unwrap_or_default()
        }
    };
    let start_at = args.start_at.map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
    let options = crate::load::LoadOptions { target: args.target.clone(), shard, start_at, stop: Default::default() };
    let pacing = profile.pacing().map_err(|p| Error::input("load profile", p))?;
    let shard_note = if shard.count > 1 { format!(" (shard {}/{})", shard.index, shard.count) } else { String::new() };
    eprintln!("load `{}`: {}{shard_note}, signing {:?} ...", profile.name, pacing.describe(), profile.signing);
    let stop = options.stop.clone();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (measurement, report) = runtime()?.block_on(async {
        // The first Ctrl-C or SIGTERM ends the load and deletes its clients; a second stops at once.
        tokio::spawn(async move {
            wait_for_stop_signal().await;
            eprintln!("\ndcr-harness: interrupted: stopping the users and deleting their clients (again to stop now)");
            stop.raise();
            wait_for_stop_signal().await;
            std::process::exit(130);
        });
        let on_tick = move |p: &crate::load::engine::Progress| {
            let line = format!(
                "{:>4}/{} s  {} requests  {}/s  p99 {:.1} ms  {} unexpected",
                p.elapsed_s,
                p.run_time_s,
                p.requests,
                p.last_second,
                p.last_p99_us as f64 / 1000.0,
                p.unexpected
            );
            // On a terminal one line kept up to date; elsewhere (CI logs) a line every 10 s.
            if tty {
                redraw(&line);
            } else if p.elapsed_s.is_multiple_of(10) {
                eprintln!("{line}");
            }
        };
        let on_cleanup = move |done: usize, total: usize| {
            if tty {
                redraw(&format!("deleting the clients registered: {done}/{total}"));
            } else if done == total || done.is_multiple_of(1000) {
                eprintln!("deleting the clients registered: {done}/{total}");
            }
        };
        crate::load::run(&layout, &profile, &options, on_tick, on_cleanup).await
    })?;
    if tty {
        eprintln!();
    }
    if let Some(path) = &args.out {
        let json = serde_json::to_string(&measurement).map_err(|e| Error::output(path, std::io::Error::other(e)))?;
        std::fs::write(path, json).map_err(|e| Error::output(path, e))?;
    }
    write_load_reports(&report, &args.reports)
}

/// Replaces the terminal's current line on stderr with `line` (a progress line kept up to date).
fn redraw(line: &str) {
    let _ = console::Term::stderr().clear_line();
    eprint!("{line}");
}

/// Prints the summary and writes the reports asked for; the outcome is the report's.
fn write_load_reports(report: &crate::load::LoadReport, to: &LoadReportArgs) -> Result<Outcome, Error> {
    let text = crate::load::render(report);
    print(&text)?;
    let json = || serde_json::to_string_pretty(report).unwrap_or_default();
    let html = match &to.html {
        Some(_) => {
            crate::load::render::html(report).map_err(|source| Error::Template { report: "HTML load", source })?
        }
        None => String::new(),
    };
    for (path, content) in
        [(&to.md, text.clone()), (&to.html, html), (&to.json, to.json.as_ref().map(|_| json()).unwrap_or_default())]
    {
        if let Some(path) = path {
            std::fs::write(path, content).map_err(|e| Error::output(path, e))?;
        }
    }
    Ok(report.outcome())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, ValueEnum};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Each wrapper's command-line spelling is the library type's own (serde) spelling.
    fn spelled_alike<A: ValueEnum + Copy, L: From<A> + serde::Serialize>() {
        for arg in A::value_variants() {
            let cli = arg.to_possible_value().expect("visible").get_name().to_string();
            let lib = serde_json::to_value(L::from(*arg)).expect("serialise");
            assert_eq!(Some(cli.as_str()), lib.as_str(), "{cli}");
        }
    }

    #[test]
    fn command_line_enums_map_one_to_one_onto_the_library() {
        spelled_alike::<ServerKindArg, ServerProfile>();
        spelled_alike::<CertCheckArg, CertCheck>();
        spelled_alike::<DcrAuthArg, DcrAuth>();
        spelled_alike::<KeyTypeArg, KeyType>();
    }

    #[test]
    fn unknown_flaws_are_named_all_at_once() {
        let names = ["skip-client-cert", "nope", "nada"].map(String::from);
        let err = parse_flaws(&names).expect_err("unknown").to_string();
        assert!(err.contains("nope, nada") && err.contains("--list-flaws"), "{err}");
        assert_eq!(parse_flaws(&names[..1]).expect("known").len(), 1);
    }

    #[test]
    fn an_unknown_area_is_bad_input_naming_the_areas() {
        let select = SelectArgs {
            profile: "reference".into(),
            tag: vec![],
            area: vec!["digest".into(), "nowhere".into()],
            scenario: vec![],
            skip: vec![],
            place: Place::default(),
        };
        let err = filter_of(&select).expect_err("unknown area");
        assert_eq!(err.kind(), crate::error::ErrorKind::BadInput);
        assert!(err.to_string().contains("--area nowhere") && err.to_string().contains("request-target"), "{err}");
    }
}
