//! A conformance run, in rooms: [`model`] (what a run produced, redacted; the outcome),
//! [`plan`] (a pure function from a request in scenario terms to a signed request, or a typed
//! error), [`session`] (one scenario's or load user's variables and clients; learning from
//! answers; cleanup), [`target`] (where to send, endpoints after discovery, DCR tokens),
//! [`scenario`] (one scenario's steps, checks and cleanup) and [`schedule`] (concurrency,
//! fail-fast, deadline, panics). The load command drives `session` and `plan` directly. Nothing
//! here prints.

pub mod address;
pub mod answer;
pub mod baseline;
pub mod check;
pub mod handshake;
pub mod ledger;
pub mod model;
pub mod options;
pub mod plan;
pub mod rotation;
pub mod scenario;
pub mod schedule;
pub mod session;
pub mod snapshot;
pub mod target;
pub mod trace;

pub use model::{Outcome, RunResult, ScenarioResult, StepResult, Verdict};
pub use options::{Done, Interrupt, Progress, RunOptions};
pub use schedule::run;
pub use target::Target;
