//! A finding as a YAML scenario file a person reads and `run --scenario FILE` loads: the
//! scenario model serialised in its fields' order, with what a scenario file leaves out by
//! default left out.

use serde_norway::Value;

use super::model::Written;
use super::rules::Rule;
use crate::run::model::Check;
use crate::scenario::{Expect, OneOrMany, Scenario};

/// Whether a key's value is the default, which says nothing when written.
fn is_default(key: &str, value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Mapping(map) => map.is_empty(),
        Value::Sequence(list) => list.is_empty() && key == "tags",
        Value::Number(n) => matches!(key, "wait_ms" | "date_offset" | "delay_ms") && n.as_u64() == Some(0),
        Value::String(s) => (key == "as" && s == "tpp") || (key == "date_offset" && s == "0"),
        _ => false,
    }
}

/// Drops default keys, leaving alone what is data (bodies, expected values, captures).
fn prune(value: &mut Value) {
    match value {
        Value::Sequence(items) => items.iter_mut().for_each(prune),
        Value::Mapping(map) => {
            for (key, inner) in map.iter_mut() {
                let data = matches!(key.as_str(), Some("body" | "capture"));
                if !data {
                    prune(inner);
                }
            }
            map.retain(|key, value| !is_default(key.as_str().unwrap_or_default(), value));
        }
        // A test (`!contains no-store`) written as the suite's files write it: `{contains: no-store}`.
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let mut inner = std::mem::replace(&mut tagged.value, Value::Null);
            prune(&mut inner);
            let mut map = serde_norway::Mapping::new();
            map.insert(Value::String(tag.trim_start_matches('!').to_string()), inner);
            *value = Value::Mapping(map);
        }
        _ => {}
    }
}

/// `scenario` as the text of a scenario file, with a comment on how to run it.
pub fn to_yaml(scenario: &Scenario, profile: &str) -> Result<String, serde_norway::Error> {
    let mut value = serde_norway::to_value(scenario)?;
    prune(&mut value);
    let yaml = serde_norway::to_string(&vec![value])?;
    Ok(format!(
        "# yaml-language-server: $schema=../schemas/scenario.schema.json\n# Found by `dcr-harness explore`. Reproduce with:\n#   dcr-harness run --profile {profile} --scenario THIS-FILE\n{yaml}"
    ))
}

/// A finding's steps: those up to the one that failed (the scenario stopped there), each judged
/// by the finding's rule alone beyond its status (which the steps after it hang on).
///
/// A step before the failure that another rule judged as refused or substituted (an invalid
/// form) takes any success or `refusals` (the profile's metadata refusals): the model holds both
/// outcomes possible after it, and another server may take the other one.
pub fn focus(w: &mut Written, failed: usize, rule: &Rule, refusals: &[u16]) {
    w.steps.truncate(failed + 1);
    w.rules.truncate(failed + 1);
    for (index, (s, r)) in w.steps.iter_mut().zip(&w.rules).enumerate() {
        if index < failed && r.main != *rule && s.expect.or_substituted.is_some() {
            let mut allowed: Vec<u16> = (200..300).collect();
            allowed.extend_from_slice(refusals);
            s.expect = Expect { status: Some(OneOrMany::Many(allowed)), ..Expect::default() };
            continue;
        }
        s.expect.json.retain(|path, _| r.rule_for(&Check::Json(path.clone())) == rule);
        if r.header.as_ref() != Some(rule) {
            s.expect.headers.clear();
        }
        if r.unchanged.as_ref() != Some(rule) {
            s.expect.unchanged = None;
        }
        if r.rule_for(&Check::ErrorCode) != rule {
            s.expect.code = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::{Action, Capabilities, Model};
    use super::super::{rules, scenario_of};
    use super::*;

    fn caps() -> Capabilities {
        Capabilities { no_store: true, unknown_client_404: true, ..Capabilities::for_tests() }
    }

    #[test]
    fn a_written_finding_reads_as_the_suite_writes_and_loads_back() {
        let program = [
            Action::Register { client: 0 },
            Action::RaceDelete { client: 0, delay_ms: 10 },
            Action::Read { client: 0 },
        ];
        let written = Model { caps: caps(), forms: &[], redirects: &[], found: Default::default() }.write(&program);
        let scenario = scenario_of(
            &written,
            "explore-race-leaves-a-serial-state-seed-1-sequence-0",
            &rules::RACE_LEAVES_SERIAL_STATE,
        );
        let yaml = to_yaml(&scenario, "reference").expect("yaml");
        insta::assert_snapshot!(yaml);
        let loaded = crate::scenario::parse_file(std::path::Path::new("finding.yaml"), &yaml).expect("loads");
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].steps.len(), scenario.steps.len());
        assert!(loaded[0].steps[1].alongside.is_some(), "the racing delete survives");
        assert!(!yaml.contains("!contains"), "tests are written as maps, as the suite's files write them");
    }
}
