//! The explorer's generator: programs of lifecycle actions drawn with a seeded generator, each
//! action possible in the state the ones before leave (clients registered first, operations
//! weighted toward what a conforming server must get right). Same generator state, same
//! program. It judges nothing: `explore::model` turns a program into expectations.

use rand::seq::IndexedRandom;
use rand::Rng;

use super::model::{Action, Borrowed, Capabilities, Life, CLIENTS};
use super::registry::EXTENSIONS;
use crate::scenario::Operation;

/// Generates a program of `len` actions with `rng`: clients registered first, then operations
/// weighted toward what a conforming server must get right, each one possible in the state the
/// actions before leave (so that few are left out).
pub fn generate(rng: &mut impl Rng, caps: Capabilities, forms: usize, len: usize) -> Vec<Action> {
    let mut life = [Life::Unregistered; CLIENTS];
    let mut refreshed = [false; CLIENTS];
    let mut program = vec![Action::Register { client: 0 }];
    life[0] = Life::Live;
    // Bounded: a roll that fits no client's state is drawn again, a few times at most.
    for _ in 0..len * 20 {
        if program.len() >= len {
            break;
        }
        let live: Vec<usize> = (0..CLIENTS).filter(|c| life[*c] == Life::Live).collect();
        let gone: Vec<usize> = (0..CLIENTS).filter(|c| life[*c] == Life::Gone).collect();
        let unregistered: Vec<usize> = (0..CLIENTS).filter(|c| life[*c] == Life::Unregistered).collect();
        let extras = |rng: &mut _| pick_extras(rng);
        let roll = rng.random_range(0..100u32);
        let action = match (live.choose(rng).copied(), roll) {
            (_, 0..8) if !unregistered.is_empty() => {
                life[unregistered[0]] = Life::Live;
                Action::Register { client: unregistered[0] }
            }
            (_, 8..15) if forms > 0 => Action::RegisterInvalid { form: rng.random_range(0..forms) },
            (_, 15..17) => Action::RegisterUnknownField,
            (_, 17..20) => Action::RegisterExtended { extras: extras(rng) },
            (None, _) if !unregistered.is_empty() => {
                life[unregistered[0]] = Life::Live;
                Action::Register { client: unregistered[0] }
            }
            (None, _) => match gone.choose(rng) {
                Some(c) => Action::Read { client: *c },
                None => break,
            },
            (Some(c), 20..32) => Action::Read { client: c },
            (Some(c), 32..42) => Action::Update { client: c, extras: vec![] },
            (Some(c), 42..48) => Action::Update { client: c, extras: extras(rng) },
            (Some(c), 48..56) if forms > 0 => Action::UpdateInvalid { client: c, form: rng.random_range(0..forms) },
            (Some(c), 56..62) => {
                life[c] = Life::Gone;
                Action::Delete { client: c }
            }
            (Some(c), 62..67) if caps.refresh => {
                refreshed[c] = true;
                Action::Refresh { client: c }
            }
            (Some(c), 67..71) if caps.token => {
                Action::Token { client: c, previous: refreshed[c] && rng.random_bool(0.6) }
            }
            (Some(c), 71..77) if caps.other_tpp => {
                let ops = [Operation::Read, Operation::Update, Operation::Delete, Operation::RefreshSecret];
                Action::AsOtherTpp { client: c, op: *ops.choose(rng).unwrap_or(&Operation::Read) }
            }
            (Some(c), 77..79) if caps.other_tpp => Action::ProbeAsOtherTpp { client: c },
            (Some(c), 71..79) if caps.registration_token || caps.client_token => {
                let ops = [Operation::Read, Operation::Update, Operation::Delete];
                let op = *ops.choose(rng).unwrap_or(&Operation::Read);
                let token = match (rng.random_range(0..3u32), live.iter().find(|o| **o != c)) {
                    (0, _) => Borrowed::Guessed,
                    (1, _) => Borrowed::Missing,
                    (_, Some(other)) => {
                        if caps.registration_token {
                            life[*other] = Life::Lent;
                        }
                        Borrowed::Of(*other)
                    }
                    (_, None) => Borrowed::Guessed,
                };
                Action::WrongToken { client: c, op, token }
            }
            (Some(c), 79..83) => {
                if caps.registration_token {
                    life[c] = Life::Lent;
                }
                Action::NeverIssued { client: c }
            }
            (Some(c), 83..88) if caps.race_delete => {
                life[c] = Life::Gone;
                Action::RaceDelete { client: c, delay_ms: rng.random_range(0..=20) }
            }
            (Some(c), 88..92) => Action::RaceUpdates { client: c },
            (_, 92..) => match gone.choose(rng) {
                Some(c) => {
                    let ops = [
                        Action::Read { client: *c },
                        Action::Delete { client: *c },
                        Action::Update { client: *c, extras: vec![] },
                    ];
                    ops.choose(rng).cloned().unwrap_or(Action::Read { client: *c })
                }
                None => continue,
            },
            _ => continue,
        };
        program.push(action);
    }
    program
}

/// One to three registry fields, none twice.
fn pick_extras(rng: &mut impl Rng) -> Vec<usize> {
    let count = rng.random_range(1..=3);
    let mut chosen: Vec<usize> = rand::seq::index::sample(rng, EXTENSIONS.len(), count).into_vec();
    chosen.sort_unstable();
    chosen
}
