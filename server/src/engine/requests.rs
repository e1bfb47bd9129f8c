//! The engine's memory of request ids, for idempotent retries: the same id
//! from the same account gets the first answer and is never applied twice.
//!
//! Kept per account: one account's traffic (a flood of refused commands,
//! say) can never push another account's ids out. Viewers can change
//! nothing, so their commands are not remembered at all.

use std::collections::{HashMap, VecDeque};

use auction_proto::{Access, Actor, Rejection};

type Answer = Result<u64, Rejection>;

/// One account's last ids, oldest first.
#[derive(Default)]
struct Account {
    answers: HashMap<String, Answer>,
    order: VecDeque<String>,
}

pub struct Requests {
    per_account: usize,
    accounts: HashMap<String, Account>,
}

impl Requests {
    /// Remembers the last `per_account` ids of each account.
    pub fn new(per_account: usize) -> Requests {
        Requests {
            per_account,
            accounts: HashMap::new(),
        }
    }

    /// The first answer to `id` from `actor`, if it is remembered.
    pub fn answered(&self, actor: &Actor, id: &str) -> Option<&Answer> {
        self.accounts.get(&actor.user)?.answers.get(id)
    }

    /// Remembers the answer to a new id (viewers' are not kept).
    pub fn remember(&mut self, actor: &Actor, id: &str, answer: Answer) {
        if matches!(actor.access, Access::Viewer) {
            return;
        }
        if !self.accounts.contains_key(&actor.user) {
            self.accounts.insert(actor.user.clone(), Account::default());
        }
        let Some(account) = self.accounts.get_mut(&actor.user) else {
            return;
        };
        if account.answers.insert(id.to_string(), answer).is_some() {
            return;
        }
        account.order.push_back(id.to_string());
        while account.order.len() > self.per_account {
            if let Some(old) = account.order.pop_front() {
                account.answers.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auction_proto::{RejectCode, TeamCode};

    fn team(code: &str) -> Actor {
        let code = TeamCode::new(code);
        Actor::new(code.account(), Access::Team { team: code })
    }

    #[test]
    fn each_account_keeps_its_own_ids_whatever_others_send() {
        let mut r = Requests::new(3);
        r.remember(&team("CSK"), "csk-bid-1", Ok(30));
        let refused = Err(Rejection::new(RejectCode::Forbidden, "no"));
        for n in 0..1000 {
            r.remember(&team("MI"), &format!("mi-{n}"), refused.clone());
            r.remember(
                &Actor::new("viewer", Access::Viewer),
                &format!("v-{n}"),
                refused.clone(),
            );
        }
        assert_eq!(r.answered(&team("CSK"), "csk-bid-1"), Some(&Ok(30)));
        // The same id from another account is another request.
        assert_eq!(r.answered(&team("MI"), "csk-bid-1"), None);
        // An account's own flood pushes out only its own oldest ids.
        assert_eq!(r.answered(&team("MI"), "mi-0"), None);
        assert!(r.answered(&team("MI"), "mi-999").is_some());
        assert!(
            r.answered(&Actor::new("viewer", Access::Viewer), "v-999")
                .is_none()
        );
    }
}
