//! The `load` command's flags as clap reads them: a load, its reports, its shards, its faults and
//! the suite beside it, and `load merge`. Split from `args` so that each stays a room.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::Place;

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

/// Where a load's reports go besides the terminal: `--report` as for a run; `--md`, `--json`
/// and `--html` are the older spellings of the same, kept working.
#[derive(Debug, Args)]
pub struct LoadReportArgs {
    /// Reports to write besides the terminal: `json=PATH,html=PATH,md=PATH` (HTML with charts,
    /// Markdown the summary for a CI job page).
    #[arg(long)]
    pub report: Option<String>,
    #[arg(long, hide = true)]
    pub md: Option<PathBuf>,
    #[arg(long, hide = true)]
    pub json: Option<PathBuf>,
    #[arg(long, hide = true)]
    pub html: Option<PathBuf>,
    /// An earlier load's JSON report (`--report json=FILE`): each figure is shown beside it with
    /// the ratio, and the profile's ratio thresholds (`p99_ratio: 1.2`) are judged (exit 4).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
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
    /// Load again under a fault in a hosted service, one load per `--fault` after the one without:
    /// `SERVICE:latency=MS|error=STATUS|down`, several at once joined by commas (`ocsp:down,crl:down`).
    #[arg(long = "fault", value_name = "SERVICE:EFFECT[,...]")]
    pub faults: Vec<String>,
    /// Run the target profile's negative scenarios beside the load (at the profile's `suite_at`,
    /// 80% of the saturation measured first): each must give its idle verdict.
    #[arg(long, conflicts_with = "faults")]
    pub with_suite: bool,
    /// Stream the figures once a second while the load runs (repeatable):
    /// `prometheus=URL` (remote write), `prometheus-native=URL` (with a native histogram), `otlp=URL`.
    #[arg(long = "stream", value_name = "KIND=URL")]
    pub streams: Vec<String>,
    /// The engine that runs the users: the harness's own, or goose (closed-model profiles).
    #[arg(long, value_enum, default_value = "harness")]
    pub engine: EngineArg,
    /// With `--engine goose`: write goose's own HTML report here too.
    #[arg(long, value_name = "FILE.html")]
    pub goose_report: Option<PathBuf>,
    /// Start the embedded server with this flaw (repeatable): a load shows what a run cannot.
    #[arg(long = "flaw")]
    pub flaws: Vec<String>,
}

/// `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    Harness,
    Goose,
}
