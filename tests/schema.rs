//! The committed JSON Schemas match the serde model. To refresh them after changing the model:
//! `UPDATE_SCHEMAS=1 cargo test --test schema`.

use std::path::Path;

fn check(file: &str, generated: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(file);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "{} is stale: run `UPDATE_SCHEMAS=1 cargo test --test schema`", path.display());
}

#[test]
fn committed_schemas_match_the_model() {
    check("scenario.schema.json", dcr_harness::scenario::scenario_schema());
    check("profile.schema.json", dcr_harness::scenario::profile_schema());
    check("report.schema.json", dcr_harness::report::json::schema());
}

#[test]
fn the_scenario_schema_knows_every_mutation_and_area() {
    let schema = dcr_harness::scenario::scenario_schema();
    for m in dcr_harness::signature::Mutation::ALL {
        assert!(schema.contains(&format!("\"{}\"", m.name())), "{m} missing from the schema");
    }
    assert!(schema.contains("\"management-authz\""));
}

/// A MUST is a failure only where the clause says MUST: every MUST scenario quotes the
/// obligation of the text it cites.
#[test]
fn every_must_scenario_quotes_the_obligation_of_its_clause() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scenarios = dcr_harness::scenario::load_dir(&dir).expect("the shipped scenarios load");
    let uncited: Vec<String> =
        scenarios.iter().filter(|s| !s.cites_its_level()).map(|s| format!("{}: {}", s.id, s.source)).collect();
    assert!(uncited.is_empty(), "MUST scenarios that quote no MUST, REQUIRED or SHALL:\n{}", uncited.join("\n"));
    assert!(scenarios.iter().filter(|s| s.severity == dcr_harness::scenario::Severity::Must).count() > 50);
}
