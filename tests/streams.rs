//! A load's figures streamed to real receivers on 127.0.0.1, while it runs: Prometheus 2.42
//! (Debian 12; remote write, native histograms) and VictoriaMetrics 1.112 (Debian 13; OTLP/HTTP
//! metrics). `scripts/receivers.sh install` fetches both (root, the network); this test runs it
//! when they are missing. What each receiver stored is read back through its own query API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dcr_harness::load::{self, stream::Sink, LoadOptions, LoadProfile};
use dcr_harness::suite::Layout;
use dcr_harness::testing::{test_pki, test_pki_dir};

fn receivers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/receivers")
}

/// The receivers, installed by the script where they are not yet.
fn installed() -> (PathBuf, PathBuf) {
    // The tests of this file run at once: one installs, the others wait for it (two apt-gets
    // would fight over one lock).
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let prometheus = receivers().join("prometheus/usr/bin/prometheus");
    let vm = receivers().join("vm/usr/bin/victoria-metrics");
    if !prometheus.exists() || !vm.exists() {
        let status = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/receivers.sh"))
            .arg("install")
            .status()
            .expect("bash runs");
        assert!(status.success(), "scripts/receivers.sh install failed: it needs root and Debian's mirrors");
    }
    (prometheus, vm)
}

/// A receiver process, stopped when dropped.
struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("address").port()
}

async fn start(program: &Path, args: &[String], ready: &str) -> Receiver {
    let child = Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("starts");
    let receiver = Receiver(child);
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if client.get(ready).send().await.is_ok_and(|r| r.status().is_success()) {
            return receiver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} did not become ready at {ready}", program.display());
}

fn with_query(url: &str, query: &[(&str, &str)]) -> url::Url {
    url::Url::parse_with_params(url, query).expect("a URL")
}

async fn get_json(url: &str, query: &[(&str, &str)]) -> serde_json::Value {
    let response = reqwest::get(with_query(url, query)).await.expect("the receiver answers");
    response.json().await.expect("JSON")
}

/// Debian's Prometheus on a free port of 127.0.0.1, its remote-write receiver on, native
/// histograms on or off, its data in `dir`: its URL, and the process.
async fn start_prometheus(dir: &Path, native: bool) -> (String, Receiver) {
    let (prometheus, _) = installed();
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\nscrape_configs: []\n").expect("written");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut args = vec![
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.join("prometheus").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--web.enable-remote-write-receiver".into(),
    ];
    if native {
        args.push("--enable-feature=native-histograms".into());
    }
    let receiver = start(&prometheus, &args, &format!("{url}/-/ready")).await;
    (url, receiver)
}

fn profile() -> LoadProfile {
    let mut profile = load::read_profile("smoke", &layout().load).expect("the smoke profile");
    profile.run_time = Some(3);
    profile
}

fn layout() -> Layout {
    test_pki();
    Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_and_an_otlp_receiver_hold_the_loads_figures() {
    let (_, vm) = installed();
    let data = tempfile::tempdir().expect("a temporary directory");
    let (p_url, _prometheus) = start_prometheus(data.path(), true).await;
    let v_port = free_port();
    let v_url = format!("http://127.0.0.1:{v_port}");
    let _vm = start(
        &vm,
        &[
            format!("-httpListenAddr=127.0.0.1:{v_port}"),
            format!("-storageDataPath={}", data.path().join("vm").display()),
            "-retentionPeriod=100y".into(),
            "-search.latencyOffset=0s".into(),
        ],
        &format!("{v_url}/health"),
    )
    .await;
    let streams = vec![
        Sink::PrometheusNative(format!("{p_url}/api/v1/write")),
        Sink::Otlp(format!("{v_url}/opentelemetry/v1/metrics")),
    ];
    let options = LoadOptions { streams, ..LoadOptions::default() };
    let (_, report) = load::run(&layout(), &profile(), &options, |_| {}, |_, _| {}).await.expect("load");
    assert_eq!(report.streamed.len(), 2);
    for sink in &report.streamed {
        assert!(sink.accepted >= 2 && sink.failed == 0, "{sink:?}");
    }
    assert!(load::render(&report).contains("pushes accepted"), "the summary says where the figures went");

    // Prometheus: the counter as of the last second pushed, the classic buckets and the native
    // histogram it holds.
    let query = format!("{p_url}/api/v1/query");
    let requests = get_json(&query, &[("query", "dcr_harness_load_requests_total{profile=\"smoke\"}")]).await;
    let value = requests["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok());
    let value = value.unwrap_or_else(|| panic!("the requests counter: {requests}"));
    assert!(value > 0.0 && value <= report.requests as f64, "{value} of {}", report.requests);
    let p99 =
        get_json(&query, &[("query", "histogram_quantile(0.99, dcr_harness_load_request_duration_seconds_bucket)")])
            .await;
    let p99 = p99["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok());
    assert!(p99.is_some_and(|s| s > 0.0 && s < 5.0), "p99 from the classic buckets: {p99:?}");
    let native = get_json(&query, &[("query", "dcr_harness_load_request_duration_seconds")]).await;
    let count = native["data"]["result"][0]["histogram"][1]["count"].as_str().and_then(|c| c.parse::<f64>().ok());
    assert!(count.is_some_and(|c| c > 0.0), "a native histogram: {native}");

    // VictoriaMetrics: what the OTLP export became, once flushed.
    let _ = reqwest::get(format!("{v_url}/internal/force_flush")).await;
    let until = Instant::now() + Duration::from_secs(20);
    let exported = loop {
        let export = with_query(&format!("{v_url}/api/v1/export"), &[("match[]", "{__name__=~\"dcr_harness.*\"}")]);
        let text = reqwest::get(export).await.expect("VictoriaMetrics answers").text().await.unwrap_or_default();
        if text.contains("dcr_harness.load.requests") || Instant::now() > until {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let series: Vec<serde_json::Value> = exported.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let named = |name: &str| series.iter().find(|s| s["metric"]["__name__"] == name);
    let sent = named("dcr_harness.load.requests").unwrap_or_else(|| panic!("the OTLP sum: {exported}"));
    let last = sent["values"].as_array().and_then(|v| v.last()).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    assert!(last > 0.0 && last <= report.requests as f64, "{sent}");
    assert_eq!(sent["metric"]["profile"], "smoke");
    assert!(named("dcr_harness.load.request.duration_count").is_some(), "the OTLP histogram: {exported}");
}

/// A receiver that refuses or is not there costs the load nothing: the report says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_sink_nobody_answers_is_reported_and_the_load_goes_on() {
    let closed = format!("http://127.0.0.1:{}/api/v1/write", free_port());
    let options = LoadOptions { streams: vec![Sink::Prometheus(closed)], ..LoadOptions::default() };
    let mut short = profile();
    short.run_time = Some(2);
    let (_, report) = load::run(&layout(), &short, &options, |_| {}, |_, _| {}).await.expect("load");
    let sink = &report.streamed[0];
    assert!(sink.failed >= 1 && sink.accepted == 0, "{sink:?}");
    assert!(sink.last_failure.as_deref().is_some_and(|f| f.contains("127.0.0.1")), "{sink:?}");
    assert_eq!(report.unexpected, 0);
}

/// A receiver's refusal is reported with its reason: native histograms sent to a Prometheus
/// that has them off are refused (500), the reason read back bounded, the load unharmed.
#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_refuses_is_reported_with_its_reason() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let (url, _prometheus) = start_prometheus(data.path(), false).await;
    let sink = Sink::PrometheusNative(format!("{url}/api/v1/write"));
    let options = LoadOptions { streams: vec![sink], ..LoadOptions::default() };
    let mut short = profile();
    short.run_time = Some(2);
    let (_, report) = load::run(&layout(), &short, &options, |_| {}, |_, _| {}).await.expect("load");
    let sink = &report.streamed[0];
    assert!(sink.failed >= 1 && sink.accepted == 0, "{sink:?}");
    let why = sink.last_failure.as_deref().unwrap_or_default();
    assert!(why.contains("500") && why.contains("native histograms"), "{why}");
    assert_eq!(report.unexpected, 0);
}
