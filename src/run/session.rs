//! A session: what one scenario (or one load user) knows while it runs. Its template
//! variables, the clients it registered (by name, and those it no longer names), and the count
//! of requests it sent. It plans through [`super::plan`], learns from answers ([`Session::absorb`]),
//! reads a client for `unchanged`, and deletes every client it registered ([`Session::cleanup`]).
//! Built from a target alone: it knows nothing of scenarios, steps or load users.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::answer::{
    claims_creation, comparable, follow_rotation, registration_at_once, registration_in, Registration, Rotation,
};
pub use super::answer::{text_field, Answer};
use super::model::{Check, CheckOutcome, CleanupResult};
use super::plan::{self, Client, Doubt, PlanEnv, PlanError, Planned, SessionView, Vars};
use super::target::Target;
use crate::scenario::template::{builtin, client_field, client_var};
use crate::scenario::{Operation, RequestSpec};
use crate::signature::Mutation;
use crate::transport::{Response, TransportError};

/// One scenario's (or load user's) state.
pub struct Session {
    target: Arc<Target>,
    vars: Vars,
    clients: BTreeMap<String, Client>,
    /// Clients no longer known by name (created against expectations, or registered again
    /// under a name in use); deleted at the end. Boxed: a load keeps every registration here
    /// until its end, and a growing queue of pointers moves less than one of clients.
    retired: VecDeque<Box<Client>>,
    requests: u64,
    /// Per-second signature reuse, shared by a load's users; none signs every request afresh.
    memo: Option<Arc<crate::signature::SignatureMemo>>,
    /// Under `client-token` management, each client's access token by client id: fetched once
    /// while the client exists, and still sent after it is deleted (as its owner would).
    client_tokens: std::sync::Mutex<BTreeMap<String, String>>,
    /// Registrations whose answer named no readable client id: nothing can delete them.
    unidentified: Vec<String>,
    /// What the last requests signed: a client never sends one signature twice (a server may
    /// refuse the second as a replay).
    recently_signed: std::sync::Mutex<std::collections::VecDeque<String>>,
    /// A load's session signs each request once (re-dating cannot keep pace with hundreds a
    /// second): its registrations are numbered instead ([`Session::number_request`]).
    signs_once: bool,
    /// DPoP keys made for this session, where the profile holds dpop-bound-tokens.
    dpop: Option<plan::DpopKeys>,
    /// A `DPoP-Nonce` header gave a nonce the session had not had.
    dpop_nonce_renewed: bool,
    /// A scenario's tracing: each request signed with a `traceparent`, spans recorded.
    pub trace: Option<super::trace::Traced>,
}

/// How many signing strings a session remembers, to never sign one twice in a row.
const RECENTLY_SIGNED: usize = 16;

/// What an answer may teach the session: the operation it answered, the client it was about,
/// the name a new client gets, whether a new client was expected, and what to capture.
pub struct Lesson<'a> {
    pub op: Operation,
    pub client: &'a str,
    pub register_as: &'a str,
    pub creation_expected: bool,
    pub capture: &'a BTreeMap<String, String>,
}

impl<'a> Lesson<'a> {
    /// A lesson with nothing to capture.
    pub fn without_capture(op: Operation, client: &'a str, register_as: &'a str, creation_expected: bool) -> Self {
        Lesson { op, client, register_as, creation_expected, capture: &NO_CAPTURE }
    }
}

/// The statement the profile's registrations carry where it is one the session makes, and
/// another of the same software (what an update rotating it carries): for `{{directory.product}}`
/// two the directory issues now for this session's own product (issuing costs a signature, so
/// only where the profile uses them); for `{{directory.ssa}}` its ES256 twin. Unset where there
/// is none, so that a template that uses it fails to plan, naming it.
fn session_statements(target: &Target) -> (Option<String>, Option<String>) {
    match target.profile.statement_variable().as_deref() {
        Some(builtin::PRODUCT_STATEMENT) => {
            let tpp = &target.profile.identities.tpp;
            let product = format!("{tpp}-app-{}", crate::pki::generate_token("", 8));
            let mut issued = target.pki.issue_statements(tpp, &product, 2).unwrap_or_default().into_iter();
            (issued.next(), issued.next())
        }
        Some("directory.ssa") => (None, target.pki.statement("ssa-es256").map(str::to_string)),
        _ => (None, None),
    }
}

impl Session {
    pub fn new(target: Arc<Target>) -> Self {
        let mut vars: Vars = target.profile.vars.clone();
        vars.insert(builtin::BASE_URL.into(), target.base_url.clone());
        // Without a trailing `/`: scenarios append `/{{...}}` to it.
        vars.insert(builtin::REGISTER_PATH.into(), target.endpoints.register.trim_end_matches('/').to_string());
        vars.insert(builtin::TOKEN_PATH.into(), target.endpoints.token.clone());
        let issuer = target.endpoints.issuer.clone().unwrap_or_else(|| target.base_url.clone());
        vars.insert(builtin::ISSUER.into(), issuer);
        let unique = crate::pki::generate_token("", 6);
        if let Some(keystore) = &target.keystore {
            vars.insert(builtin::KEYSTORE.into(), keystore.url().to_string());
            if let Some((old, new)) = target.rotating_keys() {
                vars.insert(builtin::ROTATING_JWKS_URI.into(), keystore.rotating_jwks_uri(old, new, &unique));
            }
        }
        vars.insert(builtin::UNIQUE.into(), unique);
        vars.insert(builtin::PRODUCT_SCOPE.into(), crate::pki::directory::PRODUCT_SCOPE.into());
        if target.profile.holds(crate::protocol::Policy::SoftwareJwksEndpoint) {
            vars.extend(target.keys_at_statements().iter().map(|(var, jws)| (var.to_string(), jws.clone())));
        }
        for (name, jws) in target.pki.statements() {
            vars.insert(format!("{}{name}", crate::scenario::template::DIRECTORY), jws.clone());
        }
        // Unset when the credentials cannot be resolved: a template that uses it then fails
        // to plan, naming the variable.
        let ids = &target.profile.identities;
        for (var, who) in [(builtin::TLS_SUBJECT_DN, &ids.tls), (builtin::OTHER_TLS_SUBJECT_DN, &ids.other_tls)] {
            if let Some(identity) = who.name().and_then(|name| target.pki.identity(name).ok()) {
                vars.insert(var.into(), identity.info.subject_rfc4514.clone());
            }
        }
        let tls = ids.tls.name().and_then(|name| target.pki.identity(name).ok());
        if let Some(leaf) = tls.and_then(|identity| identity.chain.first()) {
            vars.insert(builtin::TLS_X5T_S256.into(), crate::pki::inspect::thumbprint_s256(leaf));
        }
        if let Some(dns) = tls.and_then(|identity| identity.info.dns_names.first()) {
            vars.insert(builtin::TLS_SAN_DNS.into(), dns.clone());
        }
        if let Some(names) = tls.map(|identity| &identity.info.alt_names) {
            let first = [
                (builtin::TLS_SAN_URI, names.uris.first().cloned()),
                (builtin::TLS_SAN_IP, names.ips.first().map(|ip| ip.to_string())),
                (builtin::TLS_SAN_EMAIL, names.emails.first().cloned()),
            ];
            vars.extend(first.into_iter().filter_map(|(var, value)| Some((var.to_string(), value?))));
        }
        let (product, rotated) = session_statements(&target);
        let made = [(builtin::PRODUCT_STATEMENT, product), (builtin::ROTATED_STATEMENT, rotated)];
        vars.extend(made.into_iter().filter_map(|(var, statement)| Some((var.to_string(), statement?))));
        let sent = target.profile.statement_template();
        if let Some(statement) = sent.and_then(|t| crate::scenario::template::render(t, &vars).ok()) {
            vars.insert(builtin::REGISTRATION_STATEMENT.into(), statement);
        }
        if let Ok((id, _)) = plan::credentials_of(&target.profile, &target.pki, &target.profile.identities.tpp) {
            vars.insert(builtin::DCR_CLIENT_ID.into(), id);
        }
        let dpop = match target.profile.holds(crate::protocol::Policy::DpopBoundTokens) {
            true => plan::DpopKeys::generate().ok(),
            false => None,
        };
        if let Some(keys) = &dpop {
            vars.insert(builtin::DPOP_JKT.into(), keys.own.thumbprint());
        }
        Session {
            target,
            vars,
            dpop,
            dpop_nonce_renewed: false,
            clients: BTreeMap::new(),
            retired: VecDeque::new(),
            requests: 0,
            memo: None,
            client_tokens: Default::default(),
            unidentified: Vec::new(),
            recently_signed: Default::default(),
            signs_once: false,
            trace: None,
        }
    }

    /// A load user's session: each request signed once (through `memo` where a load reuses them).
    pub fn for_load(target: Arc<Target>, memo: Option<Arc<crate::signature::SignatureMemo>>) -> Self {
        Session { memo, signs_once: true, ..Session::new(target) }
    }

    /// Sets `{{iteration}}` to `n`: a load's request number, which its registration bodies carry.
    pub fn number_request(&mut self, n: u64) {
        self.vars.insert(builtin::ITERATION.into(), n.to_string());
    }

    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    pub fn vars(&self) -> &Vars {
        &self.vars
    }

    /// A registered client by name.
    pub fn client(&self, name: &str) -> Option<&Client> {
        self.clients.get(name)
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Builds and signs `r` now, with the session's variables. A request that would sign what one
    /// of the last did (a second refresh or delete within the same second) is signed a second
    /// earlier, then two; a load's ([`Session::for_load`]) or one a step dates is signed as asked.
    pub async fn plan(&self, r: &RequestSpec, mutation: Option<Mutation>) -> Result<Planned, PlanError> {
        let now = std::time::SystemTime::now();
        let mut planned = self.plan_with(r, mutation, &self.vars, now).await?;
        if self.signs_once || r.date_offset != crate::scenario::DateOffset::Seconds(0) {
            return Ok(planned);
        }
        for earlier in 1..=2 {
            if !self.signed_recently(&planned) {
                break;
            }
            let at = now.checked_sub(std::time::Duration::from_secs(earlier)).unwrap_or(now);
            planned = self.plan_with(r, mutation, &self.vars, at).await?;
        }
        self.remember_signature(&planned);
        Ok(planned)
    }

    fn signed_recently(&self, planned: &Planned) -> bool {
        let recent = self.recently_signed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        planned.signing_string.as_ref().is_some_and(|text| recent.contains(text))
    }

    fn remember_signature(&self, planned: &Planned) {
        let Some(text) = &planned.signing_string else { return };
        let mut recent = self.recently_signed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() == RECENTLY_SIGNED {
            recent.pop_front();
        }
        recent.push_back(text.clone());
    }

    /// `copies` plans of `r`, each with `{{iteration}}` set to its index.
    pub async fn plan_copies(
        &self,
        r: &RequestSpec,
        mutation: Option<Mutation>,
        copies: u32,
    ) -> Result<Vec<Planned>, PlanError> {
        if copies <= 1 {
            return Ok(vec![self.plan(r, mutation).await?]);
        }
        let mut out = Vec::new();
        let now = std::time::SystemTime::now();
        for i in 0..copies {
            let mut vars = self.vars.clone();
            vars.insert(builtin::ITERATION.into(), i.to_string());
            // Copies are signed a second apart: no two carry the same signature, which a
            // server may refuse as a replay.
            let signed_at = now.checked_sub(std::time::Duration::from_secs(i.into())).unwrap_or(now);
            out.push(self.plan_with(r, mutation, &vars, signed_at).await?);
        }
        Ok(out)
    }

    async fn plan_with(
        &self,
        r: &RequestSpec,
        mutation: Option<Mutation>,
        vars: &Vars,
        now: std::time::SystemTime,
    ) -> Result<Planned, PlanError> {
        let target = &self.target;
        let dcr_token = match plan::dcr_token_needed(r, &target.profile) {
            Some((tpp, tls)) => Some(target.dcr_token(&tpp, tls.as_deref()).await?),
            None => None,
        };
        let env = PlanEnv {
            profile: &target.profile,
            pki: &target.pki,
            endpoints: &target.endpoints,
            fixtures: &target.fixtures,
            now,
            memo: self.memo.as_deref(),
        };
        let mut view = SessionView {
            vars,
            clients: &self.clients,
            dcr_token: dcr_token.as_deref(),
            client_token: None,
            dpop: self.dpop.as_ref(),
        };
        let client_token = match plan::client_token_needed(r, &target.profile) {
            Some(name) => Some(self.client_token(name, &env, &view).await?),
            None => None,
        };
        view.client_token = client_token.as_deref();
        let sign = self.trace.as_ref().and_then(|t| t.span(super::trace::SIGN));
        let mut planned = plan::plan(r, mutation, &env, &view)?;
        if let Some(traced) = &self.trace {
            traced.signed(sign, &mut planned.msg, r.op.name());
        }
        Ok(planned)
    }

    /// The access token of client `name` from the token endpoint (client-credentials grant, as
    /// the client authenticates there), fetched once per client.
    async fn client_token(&self, name: &str, env: &PlanEnv<'_>, view: &SessionView<'_>) -> Result<String, PlanError> {
        let id = self.clients.get(name).map(|c| c.id.clone()).unwrap_or_default();
        let cached = self.client_tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).cloned();
        if let Some(token) = cached {
            return Ok(token);
        }
        let fail = |message: String| PlanError::ClientToken { name: name.to_string(), message };
        let planned = plan::plan(&owner_request(Operation::Token, name), None, env, view)?;
        let answer = self.target.send_planned(&planned, self.trace.as_ref()).await.map_err(|e| fail(e.to_string()))?;
        let token = crate::transport::parse_json(&answer.body)
            .and_then(|json: Value| json.get("access_token")?.as_str().map(str::to_string))
            .ok_or_else(|| fail(format!("the token endpoint answered {} without an access_token", answer.status)))?;
        self.client_tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, token.clone());
        Ok(token)
    }

    /// Sends a planned request, counting it.
    pub async fn send(&mut self, planned: &Planned) -> Result<Response, TransportError> {
        self.requests += 1;
        self.target.send_planned(planned, self.trace.as_ref()).await
    }

    /// Sends a request built before ([`Target::ready`]), untraced.
    pub async fn send_ready(&mut self, ready: &crate::transport::Ready) -> Result<Response, TransportError> {
        self.requests += 1;
        self.target.transport.send_ready(ready).await
    }

    /// Sends `copies` at once and, `delay` after they leave, `partner`: a race between two
    /// different operations, each answer returned, every request counted.
    pub async fn send_with_partner(
        &mut self,
        copies: &[Planned],
        partner: Option<(&Planned, std::time::Duration)>,
    ) -> (Vec<Result<Response, TransportError>>, Option<Result<Response, TransportError>>) {
        self.requests += copies.len() as u64 + u64::from(partner.is_some());
        let (target, traced) = (&self.target, self.trace.as_ref());
        let own = futures_util::future::join_all(copies.iter().map(|p| target.send_planned(p, traced)));
        let other = async {
            match partner {
                Some((planned, delay)) => {
                    tokio::time::sleep(delay).await;
                    Some(target.send_planned(planned, traced).await)
                }
                None => None,
            }
        };
        futures_util::future::join(own, other).await
    }

    /// The client as its owner reads it, for `unchanged`: status (or why there is none) and the
    /// body without what a read may rotate (RFC 7592 §2.1: a new registration access token).
    /// The session follows any rotation the read brings.
    pub async fn read_client(&mut self, name: &str) -> (String, String) {
        let read = owner_request(Operation::Read, name);
        let planned = match self.plan(&read, None).await {
            Ok(p) => p,
            Err(e) => return (format!("cannot read: {e}"), String::new()),
        };
        match self.send(&planned).await {
            Ok(r) => {
                self.absorb(&Lesson::without_capture(Operation::Read, name, name, false), Answer::from(&r));
                (r.status.to_string(), comparable(&r.body))
            }
            Err(e) => (format!("no answer: {e}"), String::new()),
        }
    }

    /// After racing requests each issued the client a registration access token, finds the one
    /// the server kept: the first candidate a read accepts (each tried once).
    pub async fn settle_registration_token(&mut self, name: &str, candidates: Vec<String>) {
        for candidate in candidates {
            if let Some(client) = self.clients.get_mut(name) {
                client.rat = candidate;
                let client = client.clone();
                self.set_client_vars(name, &client);
            }
            let (status, _) = self.read_client(name).await;
            if status == "200" {
                return;
            }
        }
    }

    /// Marks every client whose registration access token `planned` carries for another client
    /// (one of the session's, or an id never issued: `other_id`).
    pub fn note_lent_tokens(&mut self, r: &RequestSpec, planned: &Planned) {
        let Some(token) = planned.msg.header("authorization").and_then(|v| v.strip_prefix("Bearer ")) else {
            return;
        };
        if r.other_id.is_some() {
            if let Some(client) = self.clients.get_mut(r.client_name()).filter(|c| !c.rat.is_empty() && c.rat == token)
            {
                client.doubt = Some(Doubt::Lent);
            }
        }
        for (name, client) in &mut self.clients {
            if name != r.client_name() && !client.rat.is_empty() && client.rat == token {
                client.doubt = Some(Doubt::Lent);
            }
        }
    }

    /// Takes the nonce a `DPoP-Nonce` header of `response` gives (RFC 9449 §8), where the session
    /// proves DPoP keys.
    pub fn learn_dpop_nonce(&mut self, response: &crate::transport::Response) {
        if let Some(keys) = &self.dpop {
            self.dpop_nonce_renewed |= keys.learn_nonce(response.header("dpop-nonce"));
        }
    }

    /// Whether the server gave a new DPoP nonce since this was last asked.
    pub fn dpop_nonce_renewed(&mut self) -> bool {
        std::mem::take(&mut self.dpop_nonce_renewed)
    }

    /// What an answer teaches: registered clients, refreshed secrets, deletions, captures; a
    /// failed check where a client was created against expectations, or a capture found nothing.
    pub fn absorb(&mut self, lesson: &Lesson<'_>, answer: Answer<'_>) -> Vec<CheckOutcome> {
        // Parsed only where something is read from it: a load's reads and refusals teach nothing.
        let parsed = std::cell::OnceCell::new();
        let json = || parsed.get_or_init(|| crate::transport::parse_json(answer.body)).as_ref();
        let mut out = Vec::new();
        let registration = claims_creation(lesson.op, answer.status).then(|| {
            registration_at_once(answer.body).map_or_else(|| registration_in(&answer, json()), Registration::Client)
        });
        match registration {
            Some(Registration::Client(created)) => {
                self.target.ledger.registered(self.ledger_entry(&created));
                if lesson.op == Operation::Register && lesson.creation_expected {
                    self.set_client_vars(lesson.register_as, &created);
                    // A concurrent or repeated registration under the same name: keep the
                    // earlier client for cleanup.
                    if let Some(earlier) = self.clients.insert(lesson.register_as.to_string(), created) {
                        if !earlier.deleted {
                            self.retired.push_back(Box::new(earlier));
                        }
                    }
                } else {
                    out.push(CheckOutcome::new(
                        Check::NoClientCreated,
                        false,
                        "no client",
                        format!("client {} was created", created.id),
                    ));
                    self.retired.push_back(Box::new(created));
                }
            }
            Some(Registration::Unidentified(why)) => {
                let entry =
                    crate::run::ledger::Entry { unreadable: why.clone(), ..self.ledger_entry(&Client::default()) };
                self.target.ledger.registered(entry.clone());
                self.unidentified.push(entry.label());
                if !(lesson.op == Operation::Register && lesson.creation_expected) {
                    out.push(CheckOutcome::new(Check::NoClientCreated, false, "no client", why));
                }
            }
            None => {}
        }
        if let Some(client) = self.clients.get_mut(lesson.client) {
            // The ledger hears only of what changes how the client is deleted: a new token or
            // URI, or the deletion itself (not every answer: load goes through here).
            let rotation = match (lesson.op, answer.status) {
                (Operation::Read | Operation::Update | Operation::RefreshSecret, 200) => {
                    json().map(|json| follow_rotation(client, json)).unwrap_or_default()
                }
                (Operation::Delete, 200 | 204) => {
                    client.deleted = true;
                    self.target.ledger.deleted(&client.id);
                    Rotation::default()
                }
                _ => Rotation::default(),
            };
            if rotation.relocated || rotation.secret {
                let client = client.clone();
                if rotation.relocated {
                    self.target.ledger.registered(self.ledger_entry(&client));
                }
                self.set_client_vars(lesson.client, &client);
            }
        }
        for (var, path) in lesson.capture {
            match json().and_then(|j| crate::run::check::lookup(j, path)) {
                Some(Value::String(s)) => {
                    self.vars.insert(var.clone(), s.clone());
                }
                Some(other) => {
                    self.vars.insert(var.clone(), other.to_string());
                }
                None => out.push(CheckOutcome::new(
                    Check::Capture(var.to_string()),
                    false,
                    format!("a value at {path}"),
                    "absent",
                )),
            }
        }
        out
    }

    /// Hands over every client not yet deleted (to delete them elsewhere, several at a time).
    pub fn take_clients(&mut self) -> Vec<Client> {
        let named = std::mem::take(&mut self.clients).into_values();
        named.chain(self.retired.drain(..).map(|c| *c)).filter(|c| !c.deleted).collect()
    }

    /// Takes over a client registered elsewhere (a ledger's), to delete it with `cleanup`.
    pub fn adopt(&mut self, name: &str, client: Client) {
        self.set_client_vars(name, &client);
        self.clients.insert(name.to_string(), client);
    }

    fn ledger_entry(&self, c: &Client) -> crate::run::ledger::Entry {
        let own_token = self.target.profile.management == crate::scenario::profile::Management::ClientToken;
        let if_own_token = |value: &String| if own_token { value.clone() } else { String::new() };
        crate::run::ledger::Entry {
            target: self.target.base_url.clone(),
            profile: self.target.profile.name.clone(),
            client_id: c.id.clone(),
            uri: c.uri.clone(),
            rat: c.rat.clone(),
            secret: if_own_token(&c.secret),
            auth_method: if_own_token(&c.auth_method),
            unreadable: c.unreadable.clone(),
        }
    }

    fn set_client_vars(&mut self, name: &str, c: &Client) {
        for (field, value) in [
            (client_field::ID, &c.id),
            (client_field::SECRET, &c.secret),
            (client_field::PREVIOUS_SECRET, &c.previous_secret),
            (client_field::RAT, &c.rat),
            (client_field::URI, &c.uri),
        ] {
            // Replaced in place: a load registers thousands a second under one name.
            self.vars
                .entry(client_var(name, field))
                .and_modify(|v| v.clone_from(value))
                .or_insert_with(|| value.clone());
        }
    }

    /// Deletes every client the session registered and did not delete itself.
    pub async fn cleanup(&mut self) -> Vec<CleanupResult> {
        let mut pending: Vec<(String, Client)> =
            self.clients.iter().filter(|(_, c)| !c.deleted).map(|(n, c)| (n.clone(), c.clone())).collect();
        pending.extend(
            self.retired.drain(..).filter(|c| !c.deleted).enumerate().map(|(i, c)| (format!("retired-{i}"), *c)),
        );
        let mut out = Vec::new();
        for (name, client) in pending {
            out.push(self.delete(&name, client).await.0);
        }
        out.extend(self.unidentified.drain(..).map(|client| CleanupResult {
            client,
            ok: false,
            stranded: false,
            detail: "not deleted: the server's answer named no client id that could be read".into(),
        }));
        out
    }

    /// A request about the client `name` got no answer: the client is put aside for cleanup
    /// (where a 401 strands it, see [`Doubt::AnswerLost`]) and the session names it no more.
    pub fn put_aside_unanswered(&mut self, name: &str) {
        if let Some(mut client) = self.clients.remove(name).filter(|c| !c.deleted) {
            client.doubt = Some(Doubt::AnswerLost);
            self.retired.push_back(Box::new(client));
        }
    }

    /// Clients this session registered and no longer names, not yet deleted.
    pub fn retired_count(&self) -> usize {
        self.retired.len()
    }

    /// Deletes the oldest client this session no longer names (a load's rolling cleanup); one
    /// that could not be deleted is kept for the final cleanup. None when there is none; the
    /// status is the delete's answer, or why there was none.
    pub async fn delete_oldest_retired(&mut self) -> Option<(CleanupResult, Result<u16, NoStatus>)> {
        let client = *self.retired.pop_front()?;
        let name = "retired-rolling";
        let (result, status) = self.delete(name, client.clone()).await;
        self.clients.remove(name);
        if !result.ok && !result.stranded {
            self.retired.push_back(Box::new(client));
        }
        Some((result, status))
    }

    /// Deletes one client under `name` (RFC 7592 §2.3), telling the ledger; with the answer's
    /// status, or why there was none.
    async fn delete(&mut self, name: &str, client: Client) -> (CleanupResult, Result<u16, NoStatus>) {
        if self.target.profile.management == crate::scenario::profile::Management::None {
            // RFC 7591 alone: no request can delete it, so none is sent; it is named.
            self.target.ledger.stranded(&client.id);
            let detail = NO_MANAGEMENT.to_string();
            return (CleanupResult { client: client.id, ok: false, stranded: true, detail }, Err(NoStatus::NotSent));
        }
        self.clients.insert(name.to_string(), client.clone());
        let delete = owner_request(Operation::Delete, name);
        let (ok, mut stranded, detail, status) = match self.plan(&delete, None).await {
            Ok(planned) => match self.send(&planned).await {
                Ok(r) if (200..300).contains(&r.status) => {
                    (true, false, format!("deleted ({})", r.status), Ok(r.status))
                }
                Ok(r) if r.status == 401 && client.doubt.is_some() => {
                    let why = client.doubt.map(Doubt::why).unwrap_or_default();
                    (false, true, format!("delete answered 401: {why}"), Ok(r.status))
                }
                Ok(r) => (false, false, format!("delete answered {}", r.status), Ok(r.status)),
                Err(e) => (false, false, e.to_string(), Err(NoStatus::NoAnswer)),
            },
            Err(e) => (false, false, format!("the delete request could not be built: {e}"), Err(NoStatus::NotSent)),
        };
        if ok {
            if let Some(c) = self.clients.get_mut(name) {
                c.deleted = true;
            }
            self.target.ledger.deleted(&client.id);
        }
        if stranded {
            stranded = self.target.ledger.stranded(&client.id);
        }
        (CleanupResult { client: client.id, ok, stranded, detail }, status)
    }
}

/// Why a delete got no status (its cleanup result's detail says more), in the words a load's
/// tally counts it under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoStatus {
    #[error("not sent")]
    NotSent,
    #[error("no answer")]
    NoAnswer,
}

/// Why a client registered under a profile without management stays.
pub const NO_MANAGEMENT: &str =
    "not deleted: the profile has `management: none` (RFC 7591 without RFC 7592), so no request can delete it";

/// A lesson's captures when there are none.
static NO_CAPTURE: BTreeMap<String, String> = BTreeMap::new();

/// `op` by the client's owner, as the profile does it by default.
pub fn owner_request(op: Operation, client: &str) -> RequestSpec {
    RequestSpec { client: Some(client.to_string()), ..RequestSpec::of(op) }
}
