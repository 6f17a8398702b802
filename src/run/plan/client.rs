//! A client the session registered, as plans need it (its id, secrets, registration access token
//! and configuration URI), and why its token may have stopped working through no fault of the
//! server's. Data only: nothing here plans, sends or judges.

/// A client the session registered, as plans need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub secret: String,
    pub previous_secret: String,
    /// RFC 7592 registration access token.
    pub rat: String,
    /// RFC 7592 `registration_client_uri`.
    pub uri: String,
    pub deleted: bool,
    /// Why its registration access token may no longer be good, through no fault of the
    /// server's (a 401 to its deletion then strands it); none: it is good.
    pub doubt: Option<Doubt>,
    /// How it proves itself at the token endpoint, as its registration answer said (empty:
    /// `client_secret_basic`, RFC 7591 §2's default).
    pub auth_method: String,
    /// Why its registration answer could not be read whole (empty: it could).
    pub unreadable: String,
}

/// Why a client's registration access token may have stopped working without the server being
/// at fault, so that a 401 to its deletion strands the client instead of failing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doubt {
    /// The token was sent for another client: RFC 7592 §2.1 lets the server revoke it then.
    Lent,
    /// A request about it (a read, update, secret refresh or deletion) got no answer the harness
    /// saw: the server may have rotated the token (RFC 7592 §2.1, §2.2) or deleted the client.
    AnswerLost,
}

impl Doubt {
    /// Why the client stays on the server, in a sentence.
    pub fn why(self) -> &'static str {
        match self {
            Doubt::Lent => "its registration access token was used for another client, and RFC 7592 §2.1 says such a token \"SHOULD be immediately revoked\": the server did, and only its operator can delete the client now",
            Doubt::AnswerLost => "a request about it got no answer within the harness's timeout, and the server may have rotated its registration access token then (RFC 7592 §2.1, §2.2) or deleted it: the harness never saw which, so if it is still there only the server's operator can delete it",
        }
    }
}
