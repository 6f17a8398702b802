//! A goose attack of your own that signs and sends as dcr-harness does: the harness prepares the
//! target (here the embedded reference server, from this project's profiles and test PKI), each
//! goose user gets a client presenting the profile's QWAC from the harness's transport, and a
//! transaction written here plans a QSEAL-signed registration with the harness's session and
//! sends it through goose, which times it and writes its report.
//!
//! cargo run --release --example goose_attack   (the `goose` feature, on by default)

use std::path::Path;
use std::sync::Arc;

use dcr_harness::run::session::Session;
use dcr_harness::run::Target;
use dcr_harness::scenario::{Operation, RequestSpec};
use goose::config::GooseConfiguration;
use goose::goose::{GooseRequest, GooseUser, Scenario, Transaction, TransactionFunction, TransactionResult};
use goose::GooseAttack;

/// Registers a client, signed by the harness, sent and timed by goose; deletes it again.
async fn register(target: &Arc<Target>, user: &mut GooseUser) -> TransactionResult {
    let mut session = Session::new(target.clone());
    let body = serde_json::json!({ "client_name": "goose {{unique}}", "redirect_uris": ["https://tpp.example/cb"] });
    let request = RequestSpec { body: Some(body), ..RequestSpec::of(Operation::Register) };
    let planned = session.plan(&request, None).await.map_err(|e| e.to_string())?;
    let builder = dcr_harness::transport::Transport::request(&user.client, &target.base_url, &planned.msg)
        .map_err(|e| e.to_string())?;
    let mut answer =
        user.request(GooseRequest::builder().name("register").set_request_builder(builder).build()).await?;
    let created = answer.request.status_code == 201;
    if let Ok(response) = answer.response {
        let url = format!("{}{}", target.base_url, planned.msg.target);
        let started = std::time::Instant::now();
        if let Ok(response) = target.transport.read_response(&url, response, started).await {
            let lesson =
                dcr_harness::run::session::Lesson::without_capture(Operation::Register, "client", "client", true);
            session.absorb(&lesson, dcr_harness::run::session::Answer::from(&response));
        }
    }
    session.cleanup().await;
    match created {
        true => Ok(()),
        false => user.set_failure("not created", &mut answer.request, None, None),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = dcr_harness::suite::Layout::at(root);
    dcr_harness::pki::Pki::ensure(&layout.pki, &Default::default())?;
    let prepared = dcr_harness::suite::prepare(&layout, "reference", None, &Default::default(), |_| {}).await?;
    let target = prepared.target.clone();

    let setup: TransactionFunction = {
        let target = target.clone();
        Arc::new(move |user| {
            let target = target.clone();
            Box::pin(async move {
                let qwac = target.profile.identities.tls.name();
                let builder = target.transport.client_builder(&target.pki, qwac).map_err(|e| e.to_string())?;
                user.set_client_builder(builder).await?;
                Ok(())
            })
        })
    };
    let work: TransactionFunction = {
        let target = target.clone();
        Arc::new(move |user| {
            let target = target.clone();
            Box::pin(async move { register(&target, user).await })
        })
    };
    let mut config = GooseConfiguration::default();
    config.host = Some(target.base_url.clone());
    config.users = Some(2);
    config.increase_rate = Some("2".into());
    config.run_time = Some("3".into());
    config.no_telnet = true;
    config.report_file = vec!["target/goose-attack.html".into()];
    let metrics = GooseAttack::initialize_with_config(config)?
        .register_scenario(
            Scenario::new("register")
                .register_transaction(Transaction::new(setup).set_on_start())
                .register_transaction(Transaction::new(work).set_name("register")),
        )
        .execute()
        .await?;
    for (name, request) in &metrics.requests {
        println!(
            "{name}: {} ok, {} failed, p99 {} us",
            request.success_count,
            request.fail_count,
            request.raw_data.percentile_us(0.99)
        );
    }
    dcr_harness::suite::Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    Ok(())
}
