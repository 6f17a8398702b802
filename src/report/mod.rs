//! Reporters: each renders the run model ([`crate::runner::RunResult`]) and nothing else; a
//! reporter never touches the network or the target. Secrets were redacted when the model was
//! recorded.

pub mod terminal;
