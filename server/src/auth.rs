//! Accounts, passwords (argon2id), session tokens and login throttling.
//!
//! Accounts follow the league: `admin`, `presenter`, `viewer` and one per
//! team (its code in lower case). Only argon2id hashes are stored. Session
//! tokens are 256 random bits, handed to the client once; the server keeps
//! only their SHA-256, so the data directory does not hold live tokens.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use auction_proto::{Access, League, TeamCode};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError};
use crate::throttle::Throttle;

/// How long a session token lives.
pub const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// Stored sessions of one account, at most: past it, the oldest ends.
pub const MAX_SESSIONS_PER_ACCOUNT: usize = 100;
/// Tokens of the open viewer account start with this. They are not stored:
/// anyone may be a viewer, so a viewer token grants nothing to remember,
/// and a crowd of big screens costs the disk nothing.
const OPEN_TOKEN: &str = "open.";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("account storage failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored account record is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("there is no account `{0}`")]
    UnknownUser(String),
    #[error("a password must have at least 8 characters")]
    WeakPassword,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("cannot write {path}: {source}")]
    Credentials {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed logins: try again in {0} s")]
    Throttled(u64),
    #[error("the server is busy checking other logins: try again in a moment")]
    Busy,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccountRecord {
    access: Access,
    /// The argon2id PHC string; `None` for an open account.
    hash: Option<String>,
    /// OpenSSH public keys allowed to log in as this account.
    #[serde(default)]
    keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    user: String,
    expires_at_ms: u64,
}

/// An account's name as the server keys it: trimmed, lower case, and
/// `view` spelled `viewer`. Made only through [`AccountName::new`], so two
/// spellings of one account can never be two keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountName(String);

impl AccountName {
    pub fn new(typed: &str) -> AccountName {
        match typed.trim().to_ascii_lowercase().as_str() {
            "view" => AccountName("viewer".into()),
            other => AccountName(other.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AccountName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<AccountName> for String {
    fn from(name: AccountName) -> String {
        name.0
    }
}

impl std::ops::Deref for AccountName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: AccountName,
    pub access: Access,
    /// The bearer token; shown to its client once, never logged.
    pub token: String,
    pub expires_at_ms: u64,
}

pub struct Auth {
    accounts: sled::Tree,
    sessions: sled::Tree,
    store: Store,
    viewer_open: bool,
    throttle: Arc<Throttle>,
    /// Passwords checked so far (for tests and the abuse bench).
    hashes: AtomicU64,
    /// Open sessions by token hash, each told when its token is revoked:
    /// one session's logout wakes that session's connections, not all.
    watched: Mutex<HashMap<Vec<u8>, tokio::sync::watch::Sender<bool>>>,
}

/// One connection's watch on its session token; see [`Auth::watch`].
pub struct Revocation {
    auth: std::sync::Arc<Auth>,
    key: Vec<u8>,
    rx: tokio::sync::watch::Receiver<bool>,
}

impl Revocation {
    /// Resolves once the token is revoked (a logout with it, a password
    /// change of its account).
    pub async fn revoked(&mut self) {
        if self.rx.wait_for(|revoked| *revoked).await.is_err() {
            // The sender lives as long as any watch on the token.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Revocation {
    fn drop(&mut self) {
        let mut watched = self.auth.watched_sessions();
        // The last watch of a token (this one) takes its entry away.
        if watched
            .get(&self.key)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            watched.remove(&self.key);
        }
    }
}

/// A login whose place in the throttle is taken and whose password is
/// yet to be checked.
pub struct LoginAttempt {
    user: AccountName,
    /// `None` for an open account.
    place: Option<crate::throttle::Attempt>,
}

impl LoginAttempt {
    /// Whether checking it costs a password hash (an open account's does not).
    pub fn hashes(&self) -> bool {
        self.place.is_some()
    }

    /// Gives the attempt up unchecked (the server was too busy to hash):
    /// it counts as no failure.
    pub fn withdraw(self) {
        if let Some(place) = self.place {
            place.withdraw();
        }
    }
}

/// The account names for a league, with what each may do.
pub fn league_accounts(league: &League) -> Vec<(String, Access)> {
    let mut out = vec![
        ("admin".to_string(), Access::Admin),
        ("presenter".to_string(), Access::Presenter),
        ("viewer".to_string(), Access::Viewer),
    ];
    for t in &league.teams {
        out.push((
            t.code.account(),
            Access::Team {
                team: t.code.clone(),
            },
        ));
    }
    out
}

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A random password of 20 letters and digits (about 119 bits).
pub fn generate_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

fn now_ms() -> u64 {
    crate::engine::actor::system_now_ms()
}

impl Auth {
    pub fn open(store: &Store, viewer_open: bool) -> Result<Auth, AuthError> {
        Ok(Auth {
            accounts: store.tree("accounts")?,
            sessions: store.tree("sessions")?,
            store: store.clone(),
            viewer_open,
            throttle: Arc::default(),
            hashes: AtomicU64::new(0),
            watched: Mutex::new(HashMap::new()),
        })
    }

    /// Makes sure every account of the league exists. A password comes from
    /// `env_password(user)` (`AUCTION_PASSWORD_<USER>`) when set; an account
    /// with none gets a generated one, returned here to be shown once.
    pub fn provision(
        &self,
        league: &League,
        env_password: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<(String, String)>, AuthError> {
        let mut generated = Vec::new();
        for (user, access) in league_accounts(league) {
            let existing = self.record(&user)?;
            let keys = existing
                .as_ref()
                .map(|r| r.keys.clone())
                .unwrap_or_default();
            let from_env = env_password(&user).filter(|p| !p.is_empty());
            let hash = match (from_env, existing) {
                (Some(pw), Some(rec))
                    if rec.hash.as_deref().is_some_and(|h| verify_password(h, &pw)) =>
                {
                    rec.hash
                }
                (Some(pw), existing) => {
                    // A changed password ends the account's sessions, as
                    // `passwd` and the admin's change do.
                    if existing.is_some() {
                        self.revoke_sessions(&user)?;
                    }
                    Some(hash_password(&pw)?)
                }
                (None, Some(rec)) if rec.hash.is_some() => rec.hash,
                (None, _) if access == Access::Viewer && self.viewer_open => None,
                (None, _) => {
                    let pw = generate_password();
                    let hash = hash_password(&pw)?;
                    generated.push((user.clone(), pw));
                    Some(hash)
                }
            };
            self.put(&user, &AccountRecord { access, hash, keys })?;
        }
        self.store.flush_blocking()?;
        Ok(generated)
    }

    fn record(&self, user: &str) -> Result<Option<AccountRecord>, AuthError> {
        Ok(match self.accounts.get(user.as_bytes())? {
            Some(v) => Some(serde_json::from_slice(&v)?),
            None => None,
        })
    }

    fn put(&self, user: &str, record: &AccountRecord) -> Result<(), AuthError> {
        self.accounts
            .insert(user.as_bytes(), serde_json::to_vec(record)?)?;
        Ok(())
    }

    /// The access of an account, if it exists.
    pub fn access(&self, user: &str) -> Result<Option<Access>, AuthError> {
        Ok(self.record(&AccountName::new(user))?.map(|r| r.access))
    }

    /// Whether this account logs in without a password.
    pub fn is_open(&self, user: &str) -> bool {
        let user = AccountName::new(user);
        matches!(self.record(&user), Ok(Some(r)) if r.hash.is_none() && r.access == Access::Viewer && self.viewer_open)
    }

    /// Checks a password (slow on purpose: call from a blocking thread) and
    /// opens a session: [`Auth::begin_login`] then [`Auth::finish_login`].
    pub fn login(&self, user: &str, password: &str, from: IpAddr) -> Result<Session, LoginError> {
        let attempt = self.begin_login(user, from)?;
        self.finish_login(attempt, password)
    }

    /// Takes the attempt's place in the throttle, before any hashing: a
    /// burst of guesses gets only the free attempts it has left.
    pub fn begin_login(&self, user: &str, from: IpAddr) -> Result<LoginAttempt, LoginError> {
        let user = AccountName::new(user);
        // An open account has no password to guess: never slowed, never
        // counted (a hall behind one address keeps its big screens).
        let place = match self.is_open(&user) {
            true => None,
            false => Some(self.throttle.begin(&user, from)?),
        };
        Ok(LoginAttempt { user, place })
    }

    /// Checks the password of a begun attempt (slow on purpose: call from a
    /// blocking thread) and opens a session.
    pub fn finish_login(
        &self,
        attempt: LoginAttempt,
        password: &str,
    ) -> Result<Session, LoginError> {
        let LoginAttempt { user, place } = attempt;
        let ok = match self.record(&user) {
            Ok(Some(rec)) => match &rec.hash {
                None => rec.access == Access::Viewer && self.viewer_open,
                Some(hash) => verify_password(hash, password),
            },
            _ => {
                // Spend the same time on unknown users, so timing does not tell.
                let _ = hash_password(password);
                false
            }
        };
        if let Some(place) = place {
            self.hashes.fetch_add(1, Ordering::Relaxed);
            match ok {
                true => place.succeeded(),
                false => place.failed(),
            }
        }
        if !ok {
            return Err(LoginError::BadCredentials);
        }
        self.open_session(&user).map_err(|e| {
            tracing::error!(error = %e, "could not store a session");
            LoginError::BadCredentials
        })
    }

    /// Opens a session for an account already authenticated (by SSH key, say).
    /// Stores and flushes the session (call from a blocking thread), except
    /// for the open viewer account, whose sessions are not stored.
    pub fn open_session(&self, user: &str) -> Result<Session, AuthError> {
        let user = AccountName::new(user);
        let access = self
            .record(&user)?
            .ok_or_else(|| AuthError::UnknownUser(user.to_string()))?
            .access;
        let random: String = {
            let bytes: [u8; 32] = rand::random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let expires_at_ms = now_ms() + TOKEN_TTL.as_millis() as u64;
        if self.is_open(&user) {
            return Ok(Session {
                user,
                access,
                token: format!("{OPEN_TOKEN}{random}"),
                expires_at_ms,
            });
        }
        let rec = SessionRecord {
            user: user.to_string(),
            expires_at_ms,
        };
        self.sessions
            .insert(hash_token(&random), serde_json::to_vec(&rec)?)?;
        self.prune_sessions(&user)?;
        self.store.flush_blocking()?;
        Ok(Session {
            user,
            access,
            token: random,
            expires_at_ms,
        })
    }

    /// Deletes expired sessions, and the oldest of `user`'s past
    /// [`MAX_SESSIONS_PER_ACCOUNT`] (their connections are closed).
    fn prune_sessions(&self, user: &AccountName) -> Result<(), AuthError> {
        let now = now_ms();
        let mut own = Vec::new();
        for item in self.sessions.iter() {
            let (key, value) = item?;
            let rec: SessionRecord = serde_json::from_slice(&value)?;
            if rec.expires_at_ms <= now {
                self.sessions.remove(&key)?;
            } else if rec.user == user.as_str() {
                own.push((rec.expires_at_ms, key));
            }
        }
        own.sort();
        let excess = own.len().saturating_sub(MAX_SESSIONS_PER_ACCOUNT);
        for (_, key) in own.into_iter().take(excess) {
            self.sessions.remove(&key)?;
            self.revoke(&key);
        }
        Ok(())
    }

    /// The session behind a token, if it exists and has not expired.
    pub fn resume(&self, token: &str) -> Option<Session> {
        if let Some(random) = token.strip_prefix(OPEN_TOKEN) {
            let viewer = AccountName::new("viewer");
            return (random.len() == 64 && self.is_open(&viewer)).then(|| Session {
                user: viewer,
                access: Access::Viewer,
                token: token.to_string(),
                expires_at_ms: now_ms() + TOKEN_TTL.as_millis() as u64,
            });
        }
        let key = hash_token(token);
        let rec: SessionRecord = serde_json::from_slice(&self.sessions.get(&key).ok()??).ok()?;
        if rec.expires_at_ms <= now_ms() {
            let _ = self.sessions.remove(&key);
            return None;
        }
        let access = self.record(&rec.user).ok()??.access;
        Some(Session {
            user: AccountName::new(&rec.user),
            access,
            token: token.to_string(),
            expires_at_ms: rec.expires_at_ms,
        })
    }

    pub fn logout(&self, token: &str) {
        let key = hash_token(token);
        let _ = self.sessions.remove(&key);
        let _ = self.store.flush_blocking();
        self.revoke(&key);
    }

    fn watched_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, tokio::sync::watch::Sender<bool>>> {
        self.watched.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells the connections watching this token hash that it is revoked.
    fn revoke(&self, key: &[u8]) {
        if let Some(tx) = self.watched_sessions().get(key) {
            tx.send_replace(true);
        }
    }

    /// Resolves when a session ends from the server's side: its token
    /// revoked (a logout with it, a password change) or expired.
    pub fn session_end(
        self: &std::sync::Arc<Self>,
        session: &Session,
    ) -> impl Future<Output = ()> + Send + 'static {
        let left = session.expires_at_ms.saturating_sub(now_ms());
        // An open viewer's token is not stored, so nothing can revoke it.
        let mut watch =
            (!session.token.starts_with(OPEN_TOKEN)).then(|| self.watch(&session.token));
        async move {
            let revoked = async {
                match watch.as_mut() {
                    Some(w) => w.revoked().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = revoked => {}
                () = tokio::time::sleep(Duration::from_millis(left)) => {}
            }
        }
    }

    /// Watches a session's token for revocation. Only the connections of
    /// that token are woken when it is revoked.
    pub fn watch(self: &std::sync::Arc<Self>, token: &str) -> Revocation {
        let key = hash_token(token);
        let rx = self
            .watched_sessions()
            .entry(key.clone())
            .or_insert_with(|| tokio::sync::watch::Sender::new(false))
            .subscribe();
        let watch = Revocation {
            auth: self.clone(),
            key,
            rx,
        };
        // Revoked before it was watched: a logout racing this login. (An
        // open viewer's token is never stored: only its logout, while
        // watched, ends it.)
        let stored = token.starts_with(OPEN_TOKEN)
            || self.sessions.contains_key(&watch.key).unwrap_or(false);
        if !stored {
            self.revoke(&watch.key);
        }
        watch
    }

    /// Sets a password and revokes every session of the account.
    pub fn set_password(&self, user: &str, password: &str) -> Result<(), AuthError> {
        let user = AccountName::new(user);
        if password.chars().count() < 8 {
            return Err(AuthError::WeakPassword);
        }
        let mut rec = self
            .record(&user)?
            .ok_or_else(|| AuthError::UnknownUser(user.to_string()))?;
        rec.hash = Some(hash_password(password)?);
        self.put(&user, &rec)?;
        self.revoke_sessions(&user)?;
        self.store.flush_blocking()?;
        Ok(())
    }

    /// Drops every session of `user`.
    pub fn revoke_sessions(&self, user: &str) -> Result<usize, AuthError> {
        let mut n = 0;
        for item in self.sessions.iter() {
            let (k, v) = item?;
            let rec: SessionRecord = serde_json::from_slice(&v)?;
            if rec.user == user {
                self.sessions.remove(&k)?;
                self.revoke(&k);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Passwords checked since start.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Public keys registered for `user` (OpenSSH format lines).
    pub fn keys(&self, user: &str) -> Result<Vec<String>, AuthError> {
        let user = AccountName::new(user);
        Ok(self
            .record(&user)?
            .ok_or_else(|| AuthError::UnknownUser(user.to_string()))?
            .keys)
    }

    /// Replaces the keys of `user`.
    pub fn set_keys(&self, user: &str, keys: Vec<String>) -> Result<(), AuthError> {
        let user = AccountName::new(user);
        let mut rec = self
            .record(&user)?
            .ok_or_else(|| AuthError::UnknownUser(user.to_string()))?;
        // A key taken away ends the sessions it may have opened (which key
        // opened which session is not recorded: all of the account's).
        let removed = rec.keys.iter().any(|k| !keys.contains(k));
        rec.keys = keys;
        self.put(&user, &rec)?;
        if removed {
            self.revoke_sessions(&user)?;
        }
        self.store.flush_blocking()?;
        Ok(())
    }
}

/// The environment variable that holds a password for `user`.
pub fn password_env_var(user: &str) -> String {
    format!("AUCTION_PASSWORD_{}", user.to_ascii_uppercase())
}

/// Appends newly generated passwords to `DATA/credentials.txt` (mode 0600).
pub fn write_credentials(
    data_dir: &Path,
    generated: &[(String, String)],
) -> Result<PathBuf, AuthError> {
    let path = data_dir.join("credentials.txt");
    let err = |source| AuthError::Credentials {
        path: path.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(err)?;
    // A file that was already there keeps its mode otherwise.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    let mut text = String::new();
    if file.metadata().map_err(err)?.len() == 0 {
        text.push_str(
            "# Generated passwords, one account per line. Only hashes are kept by the server:\n",
        );
        text.push_str("# hand these out, then delete this file. Change one with `auction-server passwd USER`.\n");
    }
    for (user, password) in generated {
        text.push_str(&format!("{user} {password}\n"));
    }
    file.write_all(text.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)?;
    Ok(path)
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("viewer_open", &self.viewer_open)
            .finish_non_exhaustive()
    }
}

/// The team an account bids for, if it is a team account.
pub fn team_of(access: &Access) -> Option<&TeamCode> {
    match access {
        Access::Team { team } => Some(team),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn auth(dir: &Path) -> Arc<Auth> {
        let store = Store::open(dir).unwrap();
        let auth = Auth::open(&store, true).unwrap();
        auth.put(
            "mi",
            &AccountRecord {
                access: Access::Team {
                    team: TeamCode::new("MI"),
                },
                hash: Some(hash_password("a long password").unwrap()),
                keys: Vec::new(),
            },
        )
        .unwrap();
        let viewer = AccountRecord {
            access: Access::Viewer,
            hash: None,
            keys: Vec::new(),
        };
        auth.put("viewer", &viewer).unwrap();
        Arc::new(auth)
    }

    fn login(auth: &Auth, user: &str, password: &str) -> Session {
        auth.login(user, password, "127.0.0.1".parse().unwrap())
            .unwrap()
    }

    /// Whether the watch fired (without waiting for it).
    fn fired(watch: &mut Revocation) -> bool {
        *watch.rx.borrow_and_update()
    }

    #[tokio::test]
    async fn a_revocation_reaches_only_the_sessions_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let auth = auth(dir.path());
        let (a, b) = (login(&auth, "viewer", ""), login(&auth, "viewer", ""));
        let team = login(&auth, "mi", "a long password");
        let (mut a1, mut a2) = (auth.watch(&a.token), auth.watch(&a.token));
        let (mut b1, mut t1) = (auth.watch(&b.token), auth.watch(&team.token));

        // One viewer logs out: both connections of that session hear it,
        // the other viewer and the team do not.
        auth.logout(&a.token);
        assert!(fired(&mut a1) && fired(&mut a2));
        assert!(!fired(&mut b1) && !fired(&mut t1));
        tokio::time::timeout(Duration::from_secs(1), a1.revoked())
            .await
            .expect("the revoked session's watch resolves");

        // A password change ends every session of that account only.
        auth.set_password("mi", "another long password").unwrap();
        assert!(fired(&mut t1));
        assert!(!fired(&mut b1));

        // A stored token revoked before anything watched it is seen at once
        // (an open viewer's token is not stored: there is nothing to see).
        let c = login(&auth, "mi", "another long password");
        auth.logout(&c.token);
        assert!(fired(&mut auth.watch(&c.token)));
    }

    #[tokio::test]
    async fn the_last_watch_of_a_token_takes_its_entry_away() {
        let dir = tempfile::tempdir().unwrap();
        let auth = auth(dir.path());
        let s = login(&auth, "viewer", "");
        let first = auth.watch(&s.token);
        let second = auth.watch(&s.token);
        drop(first);
        assert_eq!(auth.watched_sessions().len(), 1);
        drop(second);
        assert!(auth.watched_sessions().is_empty());
    }
}
