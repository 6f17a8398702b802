//! The request of the second, for per-second signing: within one `Date` second a registration
//! signed through the memo is the same request every time (same body, same signature), so a
//! user builds it once and sends those bytes again instead of planning, signing and building
//! each one. It owns only that reuse: it trusts nothing it has not seen, reusing a request only
//! after two plans of the same second gave the same message; a transaction whose two plans of
//! one second differed (something fresh in each: a `jti`, a request id, random noise) is planned
//! every time for the rest of the run. It never plans or sends itself.

use std::collections::HashMap;

use crate::run::plan::Planned;
use crate::signature::{unix_seconds, Message};

/// Each slot of a user's per-second requests: by transaction and body of its pool.
pub(crate) type Key = (usize, usize);

/// The most slots a user keeps: a pool of many bodies (up to 10,000) would otherwise keep a
/// built request per body for every user; past it, only this second's are kept, and no more.
const MOST_KEPT: usize = 64;

/// One user's requests of the second, built as `R` (a transport's ready request).
#[derive(Debug)]
pub(crate) struct Resend<R> {
    slots: HashMap<Key, Slot<R>>,
}

#[derive(Debug)]
enum Slot<R> {
    /// Planned in `second`, built; `confirmed` once a second plan of that second agreed.
    Second { second: i64, msg: Message, ready: R, confirmed: bool },
    /// Two plans of one second differed: planned every time from now on.
    Fresh,
}

impl<R> Default for Resend<R> {
    fn default() -> Self {
        Resend { slots: HashMap::new() }
    }
}

impl<R> Resend<R> {
    /// The request to send again for `key` in `now` (a Unix second, [`unix_seconds`]): built in
    /// this second and confirmed by a second plan of it.
    pub(crate) fn ready(&self, key: Key, now: i64) -> Option<&R> {
        match self.slots.get(&key) {
            Some(Slot::Second { second, ready, confirmed: true, .. }) if *second == now => Some(ready),
            _ => None,
        }
    }

    /// Learns from a plan of `key` just made: the first of its second is built (by `build`) and
    /// kept; the next confirms it or, where it differs, gives the slot up for good. Returns the
    /// kept request this plan is (to send instead of building it again); none where the plan
    /// is not kept. An unsigned plan has no second and is never kept.
    pub(crate) fn learn(
        &mut self,
        key: Key,
        planned: &Planned,
        build: impl FnOnce(&Planned) -> Option<R>,
    ) -> Option<&R> {
        let second = unix_seconds(planned.signed_at?);
        match self.slots.get_mut(&key) {
            Some(Slot::Fresh) => return None,
            Some(Slot::Second { second: kept, msg, confirmed, .. }) if *kept == second => {
                if *msg != planned.msg {
                    self.slots.insert(key, Slot::Fresh);
                    return None;
                }
                *confirmed = true;
            }
            _ => {
                if !self.room_in(second, key) {
                    return None;
                }
                let ready = build(planned)?;
                self.slots.insert(key, Slot::Second { second, msg: planned.msg.clone(), ready, confirmed: false });
            }
        }
        match self.slots.get(&key) {
            Some(Slot::Second { ready, .. }) => Some(ready),
            _ => None,
        }
    }

    /// Whether a slot for `key` in `second` may be kept: the older seconds' slots are let go
    /// when the slots are full (what was given up stays given up).
    fn room_in(&mut self, second: i64, key: Key) -> bool {
        if self.slots.len() < MOST_KEPT || self.slots.contains_key(&key) {
            return true;
        }
        self.slots.retain(|_, slot| match slot {
            Slot::Second { second: kept, .. } => *kept == second,
            Slot::Fresh => true,
        });
        self.slots.len() < MOST_KEPT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn planned(second: i64, body: &str) -> Planned {
        Planned {
            msg: Message::new("POST", "/register", body.as_bytes().to_vec()),
            tls: None,
            signing_string: Some(format!("date: {second}")),
            origin: None,
            signed_at: Some(UNIX_EPOCH + Duration::from_millis(second.unsigned_abs() * 1000 + 250)),
        }
    }

    /// What a case shows; the plans of one slot in turn (second, body); a second; what is sent
    /// again in it (none where the next request must be planned).
    type Case<'a> = (&'a str, &'a [(i64, &'a str)], i64, Option<&'a str>);

    #[test]
    fn a_request_is_sent_again_only_in_its_second_and_after_two_plans_agreed() {
        let cases: &[Case] = &[
            ("one plan proves nothing", &[(10, "a")], 10, None),
            ("two plans of one second agree", &[(10, "a"), (10, "a")], 10, Some("a")),
            ("not in the next second", &[(10, "a"), (10, "a")], 11, None),
            ("nor in the one before", &[(10, "a"), (10, "a")], 9, None),
            ("a new second is proven again", &[(10, "a"), (10, "a"), (11, "b")], 11, None),
            ("and then reused", &[(10, "a"), (10, "a"), (11, "b"), (11, "b")], 11, Some("b")),
            ("two plans that differ", &[(10, "a"), (10, "b")], 10, None),
            ("give the slot up for good", &[(10, "a"), (10, "b"), (11, "c"), (11, "c")], 11, None),
            ("plans of two seconds never compare", &[(10, "a"), (11, "b"), (11, "b")], 11, Some("b")),
        ];
        for (what, plans, now, sent) in cases {
            let mut resend = Resend::default();
            for (second, body) in *plans {
                resend.learn((0, 0), &planned(*second, body), |p| {
                    Some(String::from_utf8_lossy(&p.msg.body).into_owned())
                });
            }
            assert_eq!(resend.ready((0, 0), *now).map(String::as_str), *sent, "{what}");
            assert_eq!(resend.ready((0, 1), *now), None, "{what}: another body's slot");
        }
    }

    #[test]
    fn a_user_keeps_at_most_its_share_of_slots_and_lets_older_seconds_go() {
        let mut resend = Resend::default();
        let twice = |resend: &mut Resend<()>, second, body| {
            for _ in 0..2 {
                resend.learn((0, body), &planned(second, "a"), |_| Some(()));
            }
        };
        for body in 0..=MOST_KEPT {
            twice(&mut resend, 10, body);
        }
        assert!(resend.ready((0, MOST_KEPT - 1), 10).is_some(), "the last that fitted");
        assert!(resend.ready((0, MOST_KEPT), 10).is_none(), "none past the bound in one second");
        twice(&mut resend, 11, MOST_KEPT);
        assert!(resend.ready((0, MOST_KEPT), 11).is_some(), "a new second makes room");
        assert_eq!(resend.slots.len(), 1, "the older second's slots let go");
    }

    #[test]
    fn what_cannot_be_built_or_is_unsigned_is_never_sent_again() {
        let mut resend: Resend<()> = Resend::default();
        for _ in 0..2 {
            resend.learn((0, 0), &planned(10, "a"), |_| None);
            resend.learn((1, 0), &Planned { signed_at: None, ..planned(10, "a") }, |_| Some(()));
        }
        assert!(resend.ready((0, 0), 10).is_none() && resend.ready((1, 0), 10).is_none());
    }
}
