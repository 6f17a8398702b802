//! The model of the RFCs' lifecycle the explorer judges by: generated programs (lifecycle
//! operations over several clients, racing pairs, metadata drawn from the registry, valid or
//! invalid in one rule), and what a conforming server must answer to each step after any
//! sequence, written as a scenario the runner judges. The state it tracks is the set of states a
//! conforming server may be in (a refused-or-substituted update leaves two; two racing updates
//! leave either), so that what the text leaves open is accepted in every form it allows. It is
//! pure: it sends nothing.

use serde_json::{json, Map, Value};

pub use super::capabilities::{Capabilities, Unsupported};
use super::registry::{InvalidForm, EXTENSIONS, UNKNOWN_FIELD};
pub use super::rules::StepRules;
use super::rules::{self, Rule};
use crate::run::model::Check;
use crate::scenario::{Actor, Alongside, Expect, OneOrMany, Operation, Predicate, RequestSpec, Step, Test};

/// The most clients a program manages at once.
pub const CLIENTS: usize = 3;

/// How a request carries a registration access token that is not its client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Borrowed {
    Guessed,
    Missing,
    /// Client `n`'s own (RFC 7592 §2.1: a token manages only its client).
    Of(usize),
}

/// One generated operation. Clients are numbered (`c0`..); an action on a client the program
/// never registered is left out when the program becomes a scenario, so that any part of a
/// program is a program (which is what shrinking needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Register {
        client: usize,
    },
    /// A registration broken in one rule (an invalid form), under a name nothing uses again.
    /// It carries nothing else a server may refuse, so that a refusal is the form's.
    RegisterInvalid {
        form: usize,
    },
    /// A registration with a field no registry defines, under a name nothing uses again.
    RegisterUnknownField,
    /// A registration with valid registry metadata, under a name nothing uses again.
    RegisterExtended {
        extras: Vec<usize>,
    },
    Read {
        client: usize,
    },
    Update {
        client: usize,
        extras: Vec<usize>,
    },
    UpdateInvalid {
        client: usize,
        form: usize,
    },
    Delete {
        client: usize,
    },
    Refresh {
        client: usize,
    },
    Token {
        client: usize,
        previous: bool,
    },
    AsOtherTpp {
        client: usize,
        op: Operation,
    },
    ProbeAsOtherTpp {
        client: usize,
    },
    WrongToken {
        client: usize,
        op: Operation,
        token: Borrowed,
    },
    NeverIssued {
        client: usize,
    },
    RaceDelete {
        client: usize,
        delay_ms: u64,
    },
    RaceUpdates {
        client: usize,
    },
}

/// Where a client is in its life, as the program has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Life {
    Unregistered,
    Live,
    Gone,
    /// Its registration access token was lent to another client's request: a server may revoke
    /// it (RFC 7592 §2.1), so nothing uses the client again.
    Lent,
}

/// The metadata a read is judged on, in one state the server may be in: `None` where the
/// server may have put a value of its own.
#[derive(Debug, Clone, PartialEq)]
struct Doc {
    redirect_uris: Option<Value>,
    client_name: Option<Value>,
}

#[derive(Debug, Clone)]
struct ClientModel {
    life: Life,
    /// The states a conforming server may hold (one, unless an answer was left open).
    states: Vec<Doc>,
    refreshed: bool,
}

/// A program as steps of a scenario, each with its rules, and the tags of what it uses.
pub struct Written {
    pub steps: Vec<Step>,
    pub rules: Vec<StepRules>,
    pub tags: Vec<String>,
}

fn name(client: usize) -> String {
    format!("c{client}")
}

/// The core metadata of version `v` of client `client`, as sent and as a read must show it:
/// redirect URIs of the sequence's own, or, where a software statement fixes the redirect URIs a
/// client may register (`redirects`), one of those.
fn core(client: usize, v: usize, caps: Capabilities, redirects: &[String]) -> (Map<String, Value>, Doc) {
    // `{{unique}}` makes each body the sequence's own: two sequences never send one signed body.
    let redirect = match redirects {
        [] => json!([format!("https://tpp.example/{{{{unique}}}}/c{client}/v{v}")]),
        pool => json!([pool[(client + v) % pool.len()]]),
    };
    let client_name = json!(format!("c{client} v{v} {{{{unique}}}}"));
    let mut body = Map::new();
    body.insert("client_name".into(), client_name.clone());
    body.insert("redirect_uris".into(), redirect.clone());
    if caps.token && caps.own_grants {
        // The client-credentials grant lets the client prove its secret at the token endpoint:
        // that grant alone (a server may register one grant per client), no response type, and
        // the secret asked for, as the suite's `metadata/client-credentials.json` and
        // `metadata-issued-secret-has-expiry` do.
        body.insert("grant_types".into(), json!(["client_credentials"]));
        body.insert("response_types".into(), json!([]));
        body.insert("token_endpoint_auth_method".into(), json!("client_secret_basic"));
    }
    (body, Doc { redirect_uris: Some(redirect), client_name: Some(client_name) })
}

fn request(op: Operation, client: Option<usize>, body: Option<Map<String, Value>>) -> RequestSpec {
    let mut r = RequestSpec::of(op);
    r.client = client.map(name);
    r.body = body.map(Value::Object);
    r
}

fn step(request: RequestSpec, expect: Expect) -> Step {
    Step::of(request, expect)
}

fn statuses(s: &[u16]) -> Option<OneOrMany<u16>> {
    Some(OneOrMany::Many(s.to_vec()))
}

fn rejection(kind: &str) -> Expect {
    Expect { reject: Some(kind.into()), ..Expect::default() }
}

fn equals(value: &Value) -> Predicate {
    Predicate::Equals(value.clone())
}

/// What a read may show of a field across the states the server may hold: nothing to judge
/// where one of them is the server's own value.
fn across(states: &[Doc], field: impl Fn(&Doc) -> Option<&Value>) -> Option<Predicate> {
    let values: Option<Vec<&Value>> = states.iter().map(&field).collect();
    let mut values = values?;
    values.dedup();
    match &values[..] {
        [] => None,
        [one] => Some(equals(one)),
        many => Some(Predicate::Test(Test::OneOf(many.iter().map(|v| (*v).clone()).collect()))),
    }
}

/// Turns programs into scenario steps.
pub struct Model<'a> {
    pub caps: Capabilities,
    pub forms: &'a [InvalidForm],
    /// The redirect URIs a software statement lets a client register (none: any).
    pub redirects: &'a [String],
    /// Rules already found broken: their checks that other steps do not hang on are left out.
    pub found: std::collections::BTreeSet<String>,
}

impl Model<'_> {
    /// The steps of `program` with their expectations: what a conforming server answers after
    /// the steps before, in every state it may be in.
    pub fn write(&self, program: &[Action]) -> Written {
        let mut clients = vec![ClientModel { life: Life::Unregistered, states: vec![], refreshed: false }; CLIENTS];
        let mut w = Written { steps: vec![], rules: vec![], tags: vec!["rfc7592".into(), "explore".into()] };
        for (index, action) in program.iter().enumerate() {
            self.write_action(index, action, &mut clients, &mut w);
        }
        for (step, rules) in w.steps.iter_mut().zip(&w.rules) {
            self.relax(step, rules);
        }
        w.tags.sort();
        w.tags.dedup();
        w
    }

    fn write_action(&self, v: usize, action: &Action, clients: &mut [ClientModel], w: &mut Written) {
        let caps = self.caps;
        let live = |c: usize, clients: &[ClientModel]| clients.get(c).is_some_and(|m| m.life == Life::Live);
        let gone = |c: usize, clients: &[ClientModel]| clients.get(c).is_some_and(|m| m.life == Life::Gone);
        let mut push = |s: Step, r: StepRules| {
            w.steps.push(s);
            w.rules.push(r);
        };
        match action {
            Action::Register { client } if clients.get(*client).is_some_and(|m| m.life == Life::Unregistered) => {
                let (body, doc) = core(*client, v, caps, self.redirects);
                let mut s = step(request(Operation::Register, None, Some(body)), Expect::default());
                s.register_as = Some(name(*client));
                s.expect.created = true;
                s.expect
                    .json
                    .insert("$.redirect_uris".into(), equals(doc.redirect_uris.as_ref().unwrap_or(&Value::Null)));
                let mut r = StepRules::of(rules::REGISTERED);
                r.json = Some(rules::REGISTERED);
                if caps.token && caps.own_grants {
                    // It asked for client_secret_basic: a secret with its expiry, which the token
                    // steps then prove.
                    for (path, test) in [
                        ("$.client_secret", crate::scenario::JsonType::String),
                        ("$.client_secret_expires_at", crate::scenario::JsonType::Number),
                    ] {
                        s.expect.json.insert(path.into(), Predicate::Test(Test::Type(test)));
                        r.paths.push((path.into(), rules::ISSUED_SECRET));
                    }
                }
                self.no_store(&mut s, &mut r);
                push(s, r);
                clients[*client] = ClientModel { life: Life::Live, states: vec![doc], refreshed: false };
            }
            Action::RegisterInvalid { form } => {
                let Some(form) = self.forms.get(*form) else { return };
                let (mut body, _) = core(CLIENTS + v, v, Capabilities { token: false, ..caps }, self.redirects);
                body.extend(form.fields.clone());
                let mut s = step(request(Operation::Register, None, Some(body)), form.expect.clone());
                s.register_as = Some(format!("probe{v}"));
                let mut r = StepRules::of(form.rule.clone());
                r.json = Some(form.rule.clone());
                push(s, r);
            }
            Action::RegisterUnknownField => {
                let (mut body, _) = core(CLIENTS + v, v, Capabilities { token: false, ..caps }, self.redirects);
                let (field, value) = UNKNOWN_FIELD;
                body.insert(field.into(), serde_json::from_str(value).unwrap_or(Value::Null));
                let mut s = step(request(Operation::Register, None, Some(body)), Expect::default());
                s.register_as = Some(format!("probe{v}"));
                s.expect.created = true;
                push(s, StepRules::of(rules::UNKNOWN_FIELD_IGNORED));
            }
            Action::RegisterExtended { extras } => {
                let (mut body, _) = core(CLIENTS + v, v, Capabilities { token: false, ..caps }, self.redirects);
                extend(&mut body, extras);
                let mut s = step(request(Operation::Register, None, Some(body)), Expect::default());
                s.register_as = Some(format!("probe{v}"));
                s.expect.created = true;
                s.expect.status = statuses(&[400]);
                push(s, StepRules::of(rules::EXTENSION_ACCEPTED_OR_REFUSED));
            }
            Action::Read { client } if live(*client, clients) => {
                let m = &clients[*client];
                let mut s = step(request(Operation::Read, Some(*client), None), Expect::default());
                s.expect.status = statuses(&[200]);
                s.expect.json.insert("$.client_id".into(), equals(&json!(format!("{{{{{}.id}}}}", name(*client)))));
                if let Some(p) = across(&m.states, |d| d.redirect_uris.as_ref()) {
                    s.expect.json.insert("$.redirect_uris".into(), p);
                }
                if let Some(p) = across(&m.states, |d| d.client_name.as_ref()) {
                    s.expect.json.insert("$.client_name".into(), p);
                }
                let mut r = StepRules::of(rules::READ_RETURNS_REGISTRATION);
                r.json = Some(rules::READ_RETURNS_REGISTRATION);
                self.no_store(&mut s, &mut r);
                push(s, r);
            }
            Action::Update { client, extras } if live(*client, clients) => {
                let (mut body, doc) = core(*client, v, caps, self.redirects);
                body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                extend(&mut body, extras);
                let mut s = step(request(Operation::Update, Some(*client), Some(body)), Expect::default());
                let m = &mut clients[*client];
                if extras.is_empty() {
                    s.expect.status = statuses(&[200]);
                    s.expect
                        .json
                        .insert("$.redirect_uris".into(), equals(doc.redirect_uris.as_ref().unwrap_or(&Value::Null)));
                    m.states = vec![doc];
                    let mut r = StepRules::of(rules::UPDATE_REPLACES);
                    r.json = Some(rules::UPDATE_REPLACES);
                    push(s, r);
                } else {
                    // A server may refuse registry metadata it does not support (RFC 7591
                    // §3.2.1): the client is then as before, or as sent.
                    s.expect.status = statuses(&[200, 400]);
                    m.states.push(doc);
                    push(s, StepRules::of(rules::EXTENSION_ACCEPTED_OR_REFUSED));
                }
            }
            Action::UpdateInvalid { client, form } if live(*client, clients) => {
                // The metadata rules hold for an update too (RFC 7592 §2.2); a statement's, or an
                // ecosystem's registration rules, are the registration's.
                let Some(form) = self.forms.get(*form).filter(|f| f.rule.area == crate::scenario::Area::Metadata)
                else {
                    return;
                };
                let (mut body, mut doc) = core(*client, v, caps, self.redirects);
                body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                body.extend(form.fields.clone());
                let mut expect = form.expect.clone();
                expect.unchanged = Some(name(*client));
                // An update has a substitute for every value, the one registered before: the
                // server may keep it instead of refusing (RFC 7591 §3.2.1, RFC 7592 §2.2).
                if expect.or_substituted.is_none() {
                    expect.or_substituted = form.fields.keys().next().map(|field| format!("$.{field}"));
                }
                let substitutable = expect.or_substituted.is_some();
                let s = step(request(Operation::Update, Some(*client), Some(body)), expect);
                let mut r = StepRules::of(form.rule.clone());
                r.json = Some(form.rule.clone());
                r.unchanged = Some(rules::REFUSED_UPDATE_CHANGES_NOTHING);
                push(s, r);
                if substitutable {
                    // Taken with a value of the server's own where the form breaks the rule.
                    for field in form.fields.keys() {
                        match field.as_str() {
                            "redirect_uris" => doc.redirect_uris = None,
                            "client_name" => doc.client_name = None,
                            _ => {}
                        }
                    }
                    clients[*client].states.push(doc);
                }
            }
            Action::Delete { client } if live(*client, clients) => {
                let mut s = step(request(Operation::Delete, Some(*client), None), Expect::default());
                s.expect.status = statuses(&[204]);
                push(s, StepRules::of(rules::DELETE_ANSWERED));
                clients[*client].life = Life::Gone;
            }
            Action::Read { client } | Action::Delete { client } | Action::Update { client, .. }
                if gone(*client, clients) =>
            {
                let op = match action {
                    Action::Read { .. } => Operation::Read,
                    Action::Delete { .. } => Operation::Delete,
                    _ => Operation::Update,
                };
                let body = (op == Operation::Update).then(|| {
                    let (mut body, _) = core(*client, v, caps, self.redirects);
                    body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                    body
                });
                push(
                    step(request(op, Some(*client), body), rejection("not-found")),
                    StepRules::of(rules::DELETED_IS_GONE),
                );
            }
            Action::Refresh { client } if caps.refresh && live(*client, clients) => {
                let mut s = step(request(Operation::RefreshSecret, Some(*client), None), Expect::default());
                s.expect.status = statuses(&[200]);
                let secret = format!("{{{{{}.secret}}}}", name(*client));
                s.expect.json.insert("$.client_secret".into(), Predicate::Test(Test::Not(json!(secret))));
                s.expect.json.insert(
                    "$.client_secret_expires_at".into(),
                    Predicate::Test(Test::Type(crate::scenario::JsonType::Number)),
                );
                let mut r = StepRules::of(rules::REFRESH_ISSUES_SECRET);
                r.json = Some(rules::REFRESH_ISSUES_SECRET);
                self.no_store(&mut s, &mut r);
                push(s, r);
                clients[*client].refreshed = true;
                w.tags.push("secret-refresh".into());
            }
            Action::Refresh { client } if caps.refresh && gone(*client, clients) => {
                push(
                    step(request(Operation::RefreshSecret, Some(*client), None), rejection("not-found")),
                    StepRules::of(rules::DELETED_IS_GONE),
                );
                w.tags.push("secret-refresh".into());
            }
            Action::Token { client, previous } if caps.token && (live(*client, clients) || gone(*client, clients)) => {
                let m = &clients[*client];
                let mut r = request(Operation::Token, Some(*client), None);
                let (expect, rule) = match (m.life, previous) {
                    (Life::Gone, _) => (rejection("token"), rules::DELETED_SECRET_REFUSED),
                    (_, true) if m.refreshed => {
                        r.secret = Some(format!("{{{{{}.previous_secret}}}}", name(*client)));
                        (rejection("token"), rules::REFRESHED_SECRET_RETIRED)
                    }
                    (_, true) => return,
                    _ => (Expect { status: statuses(&[200]), ..Expect::default() }, rules::TOKEN_WITH_SECRET),
                };
                if rule == rules::REFRESHED_SECRET_RETIRED {
                    w.tags.push("secret-refresh".into());
                }
                push(step(r, expect), StepRules::of(rule));
                w.tags.push("token-endpoint".into());
            }
            Action::AsOtherTpp { client, op } if caps.other_tpp && live(*client, clients) => {
                if *op == Operation::RefreshSecret && !caps.refresh {
                    return;
                }
                let body = (*op == Operation::Update).then(|| {
                    let (mut body, _) = core(*client, v, caps, self.redirects);
                    body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                    body
                });
                let mut r = request(*op, Some(*client), body);
                r.actor = Actor::OtherTpp;
                let mut expect = rejection("forbidden");
                expect.unchanged = (*op != Operation::Read).then(|| name(*client));
                let mut rules = StepRules::of(rules::OTHER_TPP_REFUSED);
                rules.unchanged = Some(rules::OTHER_TPP_REFUSED);
                push(step(r, expect), rules);
                w.tags.push("tpp-isolation".into());
            }
            Action::ProbeAsOtherTpp { client } if caps.other_tpp && live(*client, clients) => {
                let mut r = request(Operation::Read, Some(*client), None);
                r.actor = Actor::OtherTpp;
                push(step(r, rejection("not-found")), StepRules::of(rules::NO_EXISTENCE_LEAK));
                w.tags.push("tpp-isolation".into());
            }
            Action::WrongToken { client, op, token }
                if (caps.registration_token || caps.client_token) && live(*client, clients) =>
            {
                let (bearer, allowed): (String, &[u16]) = match token {
                    Borrowed::Guessed => ("guessed-{{unique}}".into(), &[400, 401, 403, 404, 405]),
                    Borrowed::Missing => ("none".into(), &[400, 401, 403]),
                    Borrowed::Of(other) if other != client && live(*other, clients) && caps.client_token => {
                        // The other client's own access token, from the token endpoint.
                        let var = format!("{}_access_token", name(*other));
                        let mut t = step(request(Operation::Token, Some(*other), None), Expect::default());
                        t.expect.status = statuses(&[200]);
                        t.capture.insert(var.clone(), "$.access_token".into());
                        push(t, StepRules::of(rules::TOKEN_WITH_SECRET));
                        (format!("{{{{{var}}}}}"), &[401, 403])
                    }
                    Borrowed::Of(other) if other != client && live(*other, clients) => {
                        (format!("{{{{{}.rat}}}}", name(*other)), &[401, 403])
                    }
                    Borrowed::Of(_) => return,
                };
                let body = (*op == Operation::Update).then(|| {
                    let (mut body, _) = core(*client, v, caps, self.redirects);
                    body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                    body
                });
                let mut r = request(*op, Some(*client), body);
                r.registration_token = Some(bearer);
                let mut expect = Expect { status: statuses(allowed), ..Expect::default() };
                // RFC 6750 §3 for a registration access token; a client's own access token is
                // judged by the Open Banking UK rule, which names the status alone.
                if !matches!(token, Borrowed::Of(_)) && caps.registration_token {
                    expect.headers.insert("www-authenticate".into(), Predicate::Test(Test::Exists(true)));
                }
                expect.unchanged = (*op != Operation::Read).then(|| name(*client));
                let rule = match caps.client_token {
                    true => rules::ANOTHER_CLIENTS_TOKEN,
                    false => rules::WRONG_TOKEN_REFUSED,
                };
                let mut rules = StepRules::of(rule.clone());
                rules.header = Some(rule.clone());
                rules.unchanged = Some(rule);
                push(step(r, expect), rules);
                if let (Borrowed::Of(other), true) = (token, caps.registration_token) {
                    clients[*other].life = Life::Lent;
                }
                if caps.registration_token {
                    w.tags.push("registration-token".into());
                }
            }
            Action::NeverIssued { client } if live(*client, clients) => {
                if caps.registration_token {
                    // Its token, presented for another id, may be revoked (RFC 7592 §2.1).
                    clients[*client].life = Life::Lent;
                }
                let mut r = request(Operation::Read, Some(*client), None);
                r.other_id = Some("never-issued-{{unique}}".into());
                match self.caps.unknown_client_404 {
                    true => {
                        let expect = Expect { status: statuses(&[404]), ..Expect::default() };
                        push(step(r, expect), StepRules::of(rules::UNKNOWN_CLIENT_404));
                    }
                    false => push(step(r, rejection("not-found")), StepRules::of(rules::NEVER_ISSUED_UNKNOWN)),
                }
            }
            Action::RaceDelete { client, delay_ms } if caps.race_delete && live(*client, clients) => {
                let (mut body, _) = core(*client, v, caps, self.redirects);
                body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                let mut s = step(request(Operation::Update, Some(*client), Some(body)), Expect::default());
                s.expect.status = statuses(&[200, 401, 404, 409]);
                let delete = Expect { status: statuses(&[204]), ..Expect::default() };
                s.alongside = Some(Box::new(Alongside {
                    request: request(Operation::Delete, Some(*client), None),
                    expect: delete,
                    delay_ms: *delay_ms,
                }));
                push(s, StepRules::of(rules::RACE_LEAVES_SERIAL_STATE));
                let read = step(request(Operation::Read, Some(*client), None), rejection("not-found"));
                push(read, StepRules::of(rules::RACE_LEAVES_SERIAL_STATE));
                clients[*client].life = Life::Gone;
                w.tags.push(crate::scenario::profile::DCR_MANAGEMENT_TAG.into());
            }
            Action::RaceUpdates { client } if live(*client, clients) => {
                let (mut body, doc) = core(*client, v, caps, self.redirects);
                body.insert("client_id".into(), json!(format!("{{{{{}.id}}}}", name(*client))));
                body.insert("client_name".into(), json!(format!("c{client} v{v} racer {{{{iteration}}}}")));
                // Where a statement fixes the redirect URIs, the racers differ by name alone.
                let racer_redirect = |i: &str| match self.redirects {
                    [] => json!([format!("https://tpp.example/c{client}/v{v}/{i}")]),
                    _ => doc.redirect_uris.clone().unwrap_or(Value::Null),
                };
                body.insert("redirect_uris".into(), racer_redirect("{{iteration}}"));
                let mut s = step(request(Operation::Update, Some(*client), Some(body)), Expect::default());
                s.concurrent = Some(2);
                s.expect.status = statuses(&[200, 409]);
                push(s, StepRules::of(rules::RACING_UPDATES));
                let racers: Vec<Doc> = (0..2)
                    .map(|i| Doc {
                        redirect_uris: Some(racer_redirect(&i.to_string())),
                        client_name: Some(json!(format!("c{client} v{v} racer {i}"))),
                    })
                    .collect();
                // A race already found broken is no longer judged: what it left is then unknown,
                // so that a later read does not report the same fault under another rule.
                clients[*client].states = match self.found.contains(rules::RACING_UPDATES.id.as_ref()) {
                    true => vec![Doc { redirect_uris: None, client_name: None }],
                    false => racers,
                };
                let mut read = step(request(Operation::Read, Some(*client), None), Expect::default());
                read.expect.status = statuses(&[200]);
                for (path, p) in [
                    ("$.redirect_uris", across(&clients[*client].states, |d| d.redirect_uris.as_ref())),
                    ("$.client_name", across(&clients[*client].states, |d| d.client_name.as_ref())),
                ] {
                    if let Some(p) = p {
                        read.expect.json.insert(path.into(), p);
                    }
                }
                let mut r = StepRules::of(rules::RACING_UPDATES);
                r.json = Some(rules::RACING_UPDATES);
                push(read, r);
            }
            // An action on a client not (or no longer) in a state for it: left out.
            _ => {}
        }
    }

    /// Leaves out the checks of rules already found: JSON paths, headers, the `unchanged` read
    /// and the error code; a success whose exact status was the fault takes any 2xx (a delete
    /// answered 200 still deleted). What the model's state hangs on, a success or a refusal,
    /// stays.
    fn relax(&self, s: &mut Step, r: &StepRules) {
        let found = |rule: &Rule| self.found.contains(rule.id.as_ref());
        s.expect.json.retain(|path, _| !found(r.rule_for(&Check::Json(path.clone()))));
        if r.header.as_ref().is_some_and(found) {
            s.expect.headers.clear();
        }
        if r.unchanged.as_ref().is_some_and(found) {
            s.expect.unchanged = None;
        }
        if found(r.rule_for(&Check::ErrorCode)) {
            s.expect.code = None;
        }
        let successes = s.expect.status.as_ref().is_some_and(|st| st.to_vec().iter().all(|c| (200..300).contains(c)));
        if found(&r.main) && successes {
            s.expect.status = None;
        }
    }

    /// Answers that carry a secret are not cached, where the profile holds the policy.
    fn no_store(&self, s: &mut Step, r: &mut StepRules) {
        if self.caps.no_store {
            s.expect.headers.insert("cache-control".into(), Predicate::Test(Test::Contains("no-store".into())));
            r.header = Some(rules::NO_STORE);
        }
    }
}

/// Lays registry metadata over a body.
fn extend(body: &mut Map<String, Value>, extras: &[usize]) {
    for extension in extras.iter().filter_map(|i| EXTENSIONS.get(*i)) {
        body.insert(extension.field.into(), extension.json());
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
