use super::*;
use rand::SeedableRng;

fn caps() -> Capabilities {
    Capabilities::for_tests()
}

fn model() -> Model<'static> {
    Model { caps: caps(), forms: &[], redirects: &[], found: Default::default() }
}

#[test]
fn an_action_on_a_client_never_registered_is_left_out() {
    let written = model().write(&[Action::Read { client: 1 }, Action::Delete { client: 2 }]);
    assert!(written.steps.is_empty());
}

#[test]
fn a_deleted_client_is_expected_gone_everywhere() {
    let program = [
        Action::Register { client: 0 },
        Action::Delete { client: 0 },
        Action::Read { client: 0 },
        Action::Update { client: 0, extras: vec![] },
        Action::Token { client: 0, previous: false },
    ];
    let written = model().write(&program);
    let rejects: Vec<Option<&str>> = written.steps.iter().map(|s| s.expect.reject.as_deref()).collect();
    assert_eq!(rejects, [None, None, Some("not-found"), Some("not-found"), Some("token")]);
    assert_eq!(written.rules[4].main, rules::DELETED_SECRET_REFUSED);
}

#[test]
fn a_read_after_racing_updates_accepts_either_state_and_nothing_else() {
    let written = model().write(&[Action::Register { client: 0 }, Action::RaceUpdates { client: 0 }]);
    let read = &written.steps[2];
    let Some(Predicate::Test(Test::OneOf(names))) = read.expect.json.get("$.client_name") else {
        panic!("{:?}", read.expect.json)
    };
    assert_eq!(names.len(), 2);
}

#[test]
fn an_update_with_registry_metadata_leaves_both_states_possible() {
    let program =
        [Action::Register { client: 0 }, Action::Update { client: 0, extras: vec![0] }, Action::Read { client: 0 }];
    let written = model().write(&program);
    assert!(
        matches!(written.steps[2].expect.json.get("$.redirect_uris"), Some(Predicate::Test(Test::OneOf(v))) if v.len() == 2)
    );
}

#[test]
fn an_update_racing_a_delete_is_judged_by_a_read_after_it() {
    let written = model().write(&[Action::Register { client: 0 }, Action::RaceDelete { client: 0, delay_ms: 5 }]);
    assert_eq!(written.steps.len(), 3);
    assert!(written.steps[1].alongside.is_some());
    assert_eq!(written.steps[2].expect.reject.as_deref(), Some("not-found"));
    assert_eq!(written.rules[2].main, rules::RACE_LEAVES_SERIAL_STATE);
}

#[test]
fn the_same_seed_gives_the_same_program() {
    let a = crate::explore::generate::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7), caps(), 3, 12);
    let b = crate::explore::generate::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7), caps(), 3, 12);
    let c = crate::explore::generate::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(8), caps(), 3, 12);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 12);
}

#[test]
fn without_a_capability_its_actions_are_left_out() {
    let none = Capabilities { refresh: false, token: false, other_tpp: false, race_delete: false, ..caps() };
    let m = Model { caps: none, forms: &[], redirects: &[], found: Default::default() };
    let program = [
        Action::Register { client: 0 },
        Action::Refresh { client: 0 },
        Action::Token { client: 0, previous: false },
        Action::AsOtherTpp { client: 0, op: Operation::Read },
        Action::RaceDelete { client: 0, delay_ms: 0 },
    ];
    assert_eq!(m.write(&program).steps.len(), 1);
}

#[test]
fn a_rule_found_once_no_longer_ends_later_sequences() {
    let program = [Action::Register { client: 0 }, Action::Delete { client: 0 }];
    let mut m = model();
    m.caps.no_store = true;
    m.found = [rules::ISSUED_SECRET.id.to_string(), rules::DELETE_ANSWERED.id.to_string()].into();
    let written = m.write(&program);
    let register = &written.steps[0].expect;
    assert!(
        !register.json.contains_key("$.client_secret") && !register.json.contains_key("$.client_secret_expires_at")
    );
    assert!(register.json.contains_key("$.redirect_uris"), "another rule's check stays");
    assert!(register.headers.contains_key("cache-control"), "another rule's header stays");
    assert!(written.steps[1].expect.status.is_none(), "a delete answered with another 2xx still deleted");
}

#[test]
fn a_finding_keeps_the_steps_up_to_its_failure_judged_by_its_rule() {
    let program = [Action::Register { client: 0 }, Action::Read { client: 0 }, Action::Delete { client: 0 }];
    let mut m = model();
    m.caps.no_store = true;
    let mut written = m.write(&program);
    crate::explore::write::focus(&mut written, 1, &rules::READ_RETURNS_REGISTRATION, &[400]);
    assert_eq!(written.steps.len(), 2, "the delete after the failure is left out");
    assert!(written.steps[0].expect.headers.is_empty(), "no-store is another rule's");
    assert!(written.steps[0].expect.json.is_empty(), "the registration's checks are other rules'");
    assert!(written.steps[0].expect.created, "the registration must still make the client");
    assert!(written.steps[1].expect.json.contains_key("$.redirect_uris"));
    assert!(written.steps[1].expect.headers.is_empty());
}

#[test]
fn an_earlier_invalid_form_of_another_rule_takes_any_success_or_refusal() {
    let form = crate::explore::registry::InvalidForm {
        fields: [("client_name".to_string(), json!(42))].into_iter().collect(),
        expect: Expect {
            reject: Some("metadata".into()),
            or_substituted: Some("$.client_name".into()),
            ..Expect::default()
        },
        rule: rules::REGISTERED,
    };
    let forms = [form];
    let m = Model { caps: caps(), forms: &forms, redirects: &[], found: Default::default() };
    let program =
        [Action::Register { client: 0 }, Action::UpdateInvalid { client: 0, form: 0 }, Action::Read { client: 0 }];
    let mut written = m.write(&program);
    crate::explore::write::focus(&mut written, 2, &rules::READ_RETURNS_REGISTRATION, &[400]);
    let earlier = &written.steps[1].expect;
    assert!(earlier.or_substituted.is_none() && earlier.unchanged.is_none() && earlier.reject.is_none());
    let allowed = earlier.status.as_ref().map(|s| s.to_vec()).unwrap_or_default();
    assert!(allowed.contains(&200) && allowed.contains(&400) && !allowed.contains(&500));
}

#[test]
fn a_race_found_once_leaves_the_client_unknown_to_later_reads() {
    let mut m = model();
    m.found = [rules::RACING_UPDATES.id.to_string()].into();
    let written =
        m.write(&[Action::Register { client: 0 }, Action::RaceUpdates { client: 0 }, Action::Read { client: 0 }]);
    let later = &written.steps[3].expect;
    assert!(!later.json.contains_key("$.redirect_uris") && !later.json.contains_key("$.client_name"), "{later:?}");
}
