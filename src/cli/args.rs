//! The command line as clap reads it: every subcommand's flags, and command-line spellings of
//! library enums (each maps one to one onto the library's type). Only the binary sees clap;
//! turning these into the library's configuration is `config`'s job, not this file's.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use dcr_harness::pki::{KeyType, PspRole};
use dcr_harness::protocol::{CertCheck, DcrAuth, ServerProfile};

pub use super::load_args::*;

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
    /// Generated lifecycles (register, read, update, delete, refresh, racing pairs, registry
    /// metadata valid and broken in one rule) judged against a model of the RFCs; each finding
    /// shrunk to the smallest scenario that shows it and written as a file `run --scenario`
    /// reproduces. Same seed, same sequences.
    Explore(ExploreArgs),
    /// List the scenarios (id, area, severity, title) that a run would execute.
    List(SelectArgs),
    /// Check scenario and profile files without running them.
    Validate(SelectArgs),
    /// Load the target with a load profile: both paths of signature verification
    /// (`load merge FILE...` combines the figures of shards).
    Load(Box<LoadArgs>),
    /// Check a signed attestation (`run --attest`) offline and print what it attests.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// Per text the suite cites (RFC 7591, 7592, 8705, 9421, the SMBC description, ...), which
    /// of its normative sentences some scenario checks, at which level, and the share covered.
    Coverage(CoverageArgs),
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

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Check the signature over the envelope, the Statement inside it and the signer's chain
    /// to ROOT at this moment; print what it attests. Exit 0 when all hold, 1 when one does not
    /// (with the reason), 2 when the file is no envelope.
    Verify {
        /// The attestation (`run --attest FILE`).
        file: PathBuf,
        /// The root the signer's certificate must chain to (PEM). Without it the signature is
        /// checked against the certificate in the file, which proves nothing of who signed: exit 1.
        #[arg(long, value_name = "ROOT.pem")]
        ca: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// List every sentence of this text (its id: `rfc7591`, `smbc-dcr`, ...), each with the
    /// scenarios that quote it.
    #[arg(long)]
    pub text: Option<String>,
    #[command(flatten)]
    pub place: Place,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaKind {
    Scenario,
    Profile,
    Report,
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// Target profile: a name from profiles/ or a path.
    #[arg(long, default_value = "reference", env = "DCR_HARNESS_PROFILE")]
    pub profile: String,
    #[command(flatten)]
    pub place: Place,
    /// Base URL of the DCR server (default: the embedded reference server).
    #[arg(long, env = "DCR_HARNESS_TARGET")]
    pub target: Option<String>,
    /// The generator's seed (default: one drawn from the clock, and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after about this many requests (default 2000 when no --seconds is given).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub requests: Option<u64>,
    /// Stop after this many seconds, up to a day.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub seconds: Option<u64>,
    /// Actions per generated program, at most.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(2..=64))]
    pub max_actions: u64,
    /// Write findings as generated, without shrinking them.
    #[arg(long)]
    pub no_shrink: bool,
    /// Stop once this many rules are found broken.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub max_findings: Option<u64>,
    /// Sequences run side by side, each with its own clients (default: 4 against the embedded
    /// server, 1 against a target elsewhere).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Where to write each finding's scenario file.
    #[arg(long, default_value = "explore-findings")]
    pub out: PathBuf,
    /// Turn on a named flaw of the embedded server (repeatable).
    #[arg(long = "flaw")]
    pub flaws: Vec<String>,
    /// Turn on a named variant of the embedded server (repeatable).
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Reports of the findings: FORMAT=PATH[,FORMAT=PATH...] (junit, json, html, md; `-` is stdout).
    #[arg(long)]
    pub report: Option<String>,
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
    /// Only this scenario: an id, or a scenario file (`.yaml`) whose scenarios run beside the
    /// suite's, such as one `explore` wrote (repeatable).
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
    /// Write a signed attestation of the run here: an in-toto Statement in a DSSE envelope
    /// binding the target (its TLS certificate, its metadata document), the catalogue, the
    /// profile and every verdict with its clause. Signed with the profile's QSEAL unless
    /// `--attest-key` names another key.
    #[arg(long, value_name = "FILE")]
    pub attest: Option<PathBuf>,
    /// The PEM private key (RSA or P-256) to sign the attestation with; needs `--attest-cert`.
    #[arg(long, value_name = "KEY.pem", requires = "attest_cert")]
    pub attest_key: Option<PathBuf>,
    /// The PEM certificate of `--attest-key`, its chain after it (the root left out).
    #[arg(long, value_name = "CERT.pem", requires = "attest_key")]
    pub attest_cert: Option<PathBuf>,
    /// Export a span per scenario and, per step, its signing, requests and checks to this
    /// OTLP/HTTP receiver (`URL/v1/traces`, protobuf) once the run is over. Every request carries
    /// a W3C `traceparent` naming its span either way; reports give each scenario's trace id.
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// The JSON report of an earlier run: say what changed since (newly failing, newly
    /// passing, new and removed scenarios) here and in every report, the Markdown one first.
    #[arg(long, value_name = "PREVIOUS.json")]
    pub baseline: Option<PathBuf>,
    /// Start the embedded server with this flaw (repeatable), to watch the suite catch it.
    #[arg(long = "flaw")]
    pub flaws: Vec<String>,
    /// Start the embedded server with this variant (repeatable): a behaviour the RFCs allow,
    /// which the suite must pass.
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Hold a fault in a service the run hosts, throughout (repeatable): `ocsp|crl|keystore|sector:latency=MS|error=STATUS|down`.
    #[arg(long = "fault", value_name = "SERVICE:EFFECT")]
    pub faults: Vec<String>,
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
    /// How the DCR-service credentials go into `--curl`.
    CurlCredentials => dcr_harness::curl::Credentials {
        /// The profile's client-id and client-secret headers.
        ApiKey,
        /// `--user id:secret`.
        Basic,
        /// None.
        None,
    }
);
value_enum!(
    /// The kind of key the good identities get.
    KeyTypeArg => KeyType { Rsa2048, Rsa3072, Rsa4096, EcdsaP256 }
);

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
        spelled_alike::<CurlCredentials, dcr_harness::curl::Credentials>();
    }
}
