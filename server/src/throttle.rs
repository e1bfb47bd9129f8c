//! Login throttling: guessing slows down without letting a stranger lock
//! anybody out.
//!
//! Two counters, each with a few free failures and then a lockout that
//! doubles from 1 s to 5 min:
//! - per account *and* address: a guesser at one machine is stopped for
//!   that account; the owner, at another machine, is not;
//! - per address (IPv6 by its /64): one machine guessing across accounts.
//!
//! There is no per-account lockout: anyone could use one to keep the
//! presenter out (it did: six wrong passwords from another machine did).
//! An attempt takes its place *before* its password is hashed, so a burst
//! of simultaneous guesses gets as many hashes as it has free failures,
//! not one each. A success clears only its own account-and-address count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth::LoginError;

/// Failures of one account from one address before it must wait.
pub const ACCOUNT_FROM_FREE: u32 = 5;
/// Failures from one address (any account) before it must wait.
pub const ADDRESS_FREE: u32 = 20;
pub const MAX_LOCKOUT: Duration = Duration::from_secs(300);
/// A counter with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Counters kept at most (a few MiB); past it, counters not locked out are
/// dropped first.
pub const MAX_COUNTERS: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    AccountFrom(String, IpAddr),
    Address(IpAddr),
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::AccountFrom(..) => ACCOUNT_FROM_FREE,
            Key::Address(_) => ADDRESS_FREE,
        }
    }
}

/// An address as a throttle sees it: IPv4 as is, IPv6 by its /64 (one
/// machine can hold a whole /64).
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[derive(Default)]
struct Counter {
    failures: u32,
    /// Attempts whose password is being checked now.
    in_flight: u32,
    until: Option<Instant>,
    last: Option<Instant>,
}

impl Counter {
    /// Whether one more attempt may be checked now; if not, for how long
    /// it must wait.
    fn admits(&self, free: u32, now: Instant) -> Result<(), Duration> {
        match self.until {
            Some(until) if until > now => Err(until - now),
            // Locked out before and the wait is over: one attempt at a time.
            Some(_) if self.in_flight > 0 => Err(Duration::from_secs(1)),
            Some(_) => Ok(()),
            None if self.failures + self.in_flight >= free => Err(Duration::from_secs(1)),
            None => Ok(()),
        }
    }

    fn fail(&mut self, free: u32, now: Instant) {
        self.failures += 1;
        self.last = Some(now);
        if self.failures >= free {
            let doublings = (self.failures - free).min(9);
            let wait = Duration::from_secs(1u64 << doublings).min(MAX_LOCKOUT);
            self.until = Some(now + wait);
        }
    }

    fn idle(&self) -> bool {
        self.in_flight == 0 && self.failures == 0
    }
}

#[derive(Default)]
pub struct Throttle {
    counters: Mutex<HashMap<Key, Counter>>,
}

/// A login attempt holding its place until its password is checked.
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: [Key; 2],
    settled: bool,
}

impl Throttle {
    fn counters(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Counter>> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a place for an attempt at `account` from `from`, or says how
    /// long to wait.
    pub fn begin(self: &Arc<Self>, account: &str, from: IpAddr) -> Result<Attempt, LoginError> {
        let from = network(from);
        let keys = [
            Key::AccountFrom(account.to_string(), from),
            Key::Address(from),
        ];
        let now = Instant::now();
        let mut counters = self.counters();
        for key in &keys {
            if let Some(wait) = counters
                .get(key)
                .and_then(|c| c.admits(key.free(), now).err())
            {
                return Err(LoginError::Throttled(wait.as_secs().max(1)));
            }
        }
        if counters.len() >= MAX_COUNTERS {
            prune(&mut counters, now);
        }
        for key in &keys {
            counters.entry(key.clone()).or_default().in_flight += 1;
        }
        Ok(Attempt {
            throttle: self.clone(),
            keys,
            settled: false,
        })
    }

    /// Counters held now (for tests and the abuse bench).
    pub fn len(&self) -> usize {
        self.counters().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Forgets stale counters; if that is not enough, those not locked out.
fn prune(counters: &mut HashMap<Key, Counter>, now: Instant) {
    counters.retain(|_, c| {
        c.in_flight > 0 || c.last.is_some_and(|t| now.duration_since(t) < FORGET_AFTER)
    });
    if counters.len() >= MAX_COUNTERS {
        counters.retain(|_, c| c.in_flight > 0 || c.until.is_some_and(|u| u > now));
    }
}

/// How a login attempt ended.
#[derive(Clone, Copy)]
enum Outcome {
    Wrong,
    Right,
    /// Never checked (the server was too busy to hash it).
    Unchecked,
}

impl Attempt {
    /// The password was wrong.
    pub fn failed(mut self) {
        self.settle(Outcome::Wrong);
    }

    /// The password was right: this account-and-address starts afresh
    /// (the address's own count stays: a good login of one account does
    /// not excuse guesses at others).
    pub fn succeeded(mut self) {
        self.settle(Outcome::Right);
    }

    /// The password was never checked (the server was too busy): the place
    /// is given back and nothing is counted.
    pub fn withdraw(mut self) {
        self.settle(Outcome::Unchecked);
    }

    fn settle(&mut self, outcome: Outcome) {
        let now = Instant::now();
        let mut counters = self.throttle.counters();
        for key in &self.keys {
            let Some(c) = counters.get_mut(key) else {
                continue;
            };
            c.in_flight = c.in_flight.saturating_sub(1);
            match (outcome, key) {
                (Outcome::Wrong, _) => c.fail(key.free(), now),
                (Outcome::Right, Key::AccountFrom(..)) => {
                    c.failures = 0;
                    c.until = None;
                }
                (Outcome::Right, Key::Address(_)) | (Outcome::Unchecked, _) => {}
            }
            if c.idle() {
                counters.remove(key);
            }
        }
        self.settled = true;
    }
}

impl Drop for Attempt {
    /// An attempt dropped unsettled (its task ended) counts as a failure:
    /// hanging up mid-check must not be a free guess.
    fn drop(&mut self) {
        if !self.settled {
            self.settle(Outcome::Wrong);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_gets_only_its_free_attempts_and_others_are_not_locked_out() {
        let t = Arc::new(Throttle::default());
        let guesser = ip("192.0.2.2");
        // Simultaneous: places are taken before any password is checked.
        let held: Vec<_> = (0..ACCOUNT_FROM_FREE)
            .map(|_| t.begin("presenter", guesser).unwrap())
            .collect();
        assert!(matches!(
            t.begin("presenter", guesser),
            Err(LoginError::Throttled(_))
        ));
        held.into_iter().for_each(Attempt::failed);
        assert!(t.begin("presenter", guesser).is_err());
        // The presenter at another machine is not affected.
        t.begin("presenter", ip("192.0.2.1")).unwrap().succeeded();
        // The guesser may still try other accounts, up to the address limit.
        for n in ACCOUNT_FROM_FREE..ADDRESS_FREE {
            t.begin(&format!("team{n}"), guesser).unwrap().failed();
        }
        let mut refused = 0;
        for account in ["csk", "rcb", "kkr", "dc", "rr"] {
            refused += usize::from(t.begin(account, guesser).is_err());
        }
        assert_eq!(
            refused, 5,
            "the address is locked out after its free failures"
        );
    }

    #[test]
    fn a_success_does_not_clear_the_address_count() {
        let t = Arc::new(Throttle::default());
        let a = ip("192.0.2.9");
        for n in 0..ADDRESS_FREE {
            // Interleaved good logins of an open account from the same address.
            t.begin("viewer", a).unwrap().succeeded();
            let account = format!("team{}", n % 4);
            t.begin(&account, a).unwrap().failed();
        }
        assert!(t.begin("csk", a).is_err());
    }

    #[test]
    fn an_ipv6_machine_is_one_address() {
        let t = Arc::new(Throttle::default());
        for n in 0..ADDRESS_FREE {
            let from = ip(&format!("2001:db8::{:x}", n + 1));
            t.begin(&format!("acct{n}"), from).unwrap().failed();
        }
        assert!(t.begin("other", ip("2001:db8::ffff")).is_err());
        assert!(t.begin("other", ip("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn a_login_never_checked_counts_nothing() {
        let t = Arc::new(Throttle::default());
        let a = ip("192.0.2.4");
        for _ in 0..2 * ACCOUNT_FROM_FREE {
            t.begin("mi", a).unwrap().withdraw();
        }
        t.begin("mi", a).unwrap().succeeded();
        assert!(t.is_empty());
    }

    #[test]
    fn hanging_up_mid_check_counts_as_a_failure() {
        let t = Arc::new(Throttle::default());
        let a = ip("192.0.2.3");
        for _ in 0..ACCOUNT_FROM_FREE {
            drop(t.begin("mi", a).unwrap());
        }
        assert!(t.begin("mi", a).is_err());
    }
}
