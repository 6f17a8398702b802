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

/// A vendored JSON Schema from `schemas/vendor/`.
fn vendored(file: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/vendor").join(file);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("json");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read");
    let yaml: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    serde_json::to_value(yaml).expect("as JSON")
}

#[test]
fn the_github_action_keeps_to_the_action_metadata_schema() {
    let validator = vendored("github-action.json");
    let action = yaml_as_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"));
    let errors: Vec<String> = validator.iter_errors(&action).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Every input is documented, and the schema is no rubber stamp.
    for (name, input) in action["inputs"].as_object().expect("inputs") {
        assert!(input["description"].as_str().is_some_and(|d| d.len() > 20), "input {name} is documented");
    }
    let mut broken = action.clone();
    broken.as_object_mut().expect("object").remove("runs");
    assert!(!validator.is_valid(&broken), "an action without `runs` must be refused");
}
