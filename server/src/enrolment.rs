//! One-time enrolment codes: ten characters a person types on a new tablet. A code is stored
//! only as a salted Argon2id hash under its first [`LOOKUP`] characters (which find it, as a
//! login finds an account); the rest is the secret. Guessing is stopped twice over: a code that
//! meets [`CODE_FAILURES`] wrong guesses is burned, and a source (an address) with
//! [`SOURCE_FAILURES`] failed attempts in [`SOURCE_WINDOW`] seconds is refused before any hash
//! is computed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::error::ServerError;
use crate::kv::{Kv, Tree};

/// How long a one-time enrolment code stays valid.
pub const ENROLMENT_CODE_HOURS: i64 = 72;
/// Wrong guesses that burn a code.
pub const CODE_FAILURES: u32 = 5;
/// Failed attempts from one source within [`SOURCE_WINDOW`] before it is refused.
pub const SOURCE_FAILURES: u32 = 10;
/// The window of [`SOURCE_FAILURES`], in seconds.
pub const SOURCE_WINDOW: i64 = 15 * 60;
/// Characters of a code that find its record; the others are checked against the hash.
pub const LOOKUP: usize = 4;
/// Length of a code.
pub const CODE_LEN: usize = 10;
/// Sources remembered at once (beyond, the expired are forgotten, then all share one count).
const MAX_SOURCES: usize = 4096;

/// Ten characters a person can type: no 0/O, 1/I/L.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A one-time enrolment code, shown once to the person setting up a tablet.
#[derive(Clone, Debug, Serialize)]
pub struct EnrolmentCode {
    /// The code to type on the tablet.
    pub code: String,
    /// Whose device it enrols.
    pub user: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredCode {
    user: String,
    expires_at: i64,
    used: bool,
    #[serde(default)]
    failures: u32,
    /// Argon2id, PHC string (algorithm, parameters, salt, hash).
    hash: String,
}

/// The codes of a store, and the failed attempts per source of this node.
#[derive(Clone, Debug)]
pub struct Codes {
    tree: Tree,
    sources: Arc<Mutex<HashMap<String, (u32, i64)>>>,
    hashing: Arc<Mutex<()>>,
}

fn refused() -> ServerError {
    ServerError::Invalid("unknown, used or expired enrolment code".into())
}

fn burned() -> ServerError {
    ServerError::TooManyAttempts(format!(
        "Ten kod rejestracyjny został zablokowany po {CODE_FAILURES} błędnych próbach. \
         Poproś administratora o nowy kod."
    ))
}

fn source_blocked() -> ServerError {
    ServerError::TooManyAttempts(
        "Zbyt wiele nieudanych prób użycia kodu rejestracyjnego z tego adresu. \
         Spróbuj ponownie za 15 minut."
            .into(),
    )
}

fn decode(bytes: &[u8]) -> Result<StoredCode, ServerError> {
    serde_json::from_slice(bytes).map_err(|e| ServerError::Corrupt(e.to_string()))
}

fn encode(code: &StoredCode) -> Result<Vec<u8>, ServerError> {
    serde_json::to_vec(code).map_err(|e| ServerError::Corrupt(e.to_string()))
}

fn hash(code: &str) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServerError::Corrupt(e.to_string()))?;
    Argon2::default()
        .hash_password(code.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Corrupt(e.to_string()))
}

fn matches(code: &str, stored: &StoredCode) -> Result<bool, ServerError> {
    let parsed =
        PasswordHash::new(&stored.hash).map_err(|e| ServerError::Corrupt(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(code.as_bytes(), &parsed)
        .is_ok())
}

impl Codes {
    /// Opens the codes' tree.
    pub fn open(kv: &Kv) -> Result<Self, ServerError> {
        Ok(Self {
            tree: kv.open_tree("codes")?,
            sources: Arc::new(Mutex::new(HashMap::new())),
            hashing: Arc::new(Mutex::new(())),
        })
    }

    /// Makes a code for `login` (whose account the caller has checked) from ten random bytes.
    pub fn make(
        &self,
        login: &str,
        random: [u8; 10],
        now: i64,
    ) -> Result<EnrolmentCode, ServerError> {
        let code: String = random
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        let expires_at = now + ENROLMENT_CODE_HOURS * 3600;
        let stored = StoredCode {
            user: login.into(),
            expires_at,
            used: false,
            failures: 0,
            hash: hash(&code)?,
        };
        let lookup = &code[..LOOKUP];
        let old = self.tree.get(lookup)?;
        if let Some(old) = &old {
            let old = decode(old)?;
            if !old.used && old.failures < CODE_FAILURES && old.expires_at >= now {
                return Err(ServerError::Invalid(
                    "a pending code starts like this one; make another".into(),
                ));
            }
        }
        if !self.tree.swap(lookup, old.as_deref(), encode(&stored)?)? {
            return Err(ServerError::Invalid(
                "a code was made at the same time; make another".into(),
            ));
        }
        let expires = chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or_default();
        Ok(EnrolmentCode {
            code,
            user: login.into(),
            expires_at: expires.to_rfc3339(),
        })
    }

    /// Redeems a code typed (in any case) from `source`: whose device it enrols. A code works
    /// once; wrong guesses count against the code they name and against the source.
    pub fn redeem(&self, typed: &str, source: &str, now: i64) -> Result<String, ServerError> {
        // Counted before it is tried, so that a burst of attempts at once is cut off too; an
        // attempt that succeeds is not held against its source.
        let key = self.attempt(source, now)?;
        let user = self.check(typed, now)?;
        self.with_sources(|sources| {
            if let Some(entry) = sources.get_mut(&key) {
                entry.0 = entry.0.saturating_sub(1);
            }
        })?;
        Ok(user)
    }

    fn check(&self, typed: &str, now: i64) -> Result<String, ServerError> {
        let code = typed.trim().to_ascii_uppercase();
        let well_formed = code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
        let Some(old) = well_formed
            .then(|| self.tree.get(&code[..LOOKUP]))
            .transpose()?
            .flatten()
        else {
            return Err(refused());
        };
        let mut stored = decode(&old)?;
        if stored.used || stored.expires_at < now {
            return Err(refused());
        }
        let right = {
            // One slow hash at a time (19 MiB each): a burst cannot exhaust memory.
            let _one = self
                .hashing
                .lock()
                .map_err(|_| ServerError::Corrupt("the hashing lock is poisoned".into()))?;
            matches(&code, &stored)?
        };
        if stored.failures >= CODE_FAILURES {
            // Its holder learns why; a guesser learns nothing new.
            return Err(if right { burned() } else { refused() });
        }
        if right {
            stored.used = true;
        } else {
            stored.failures += 1;
        }
        // Compare-and-swap: of two tablets racing with one code, one wins; a guess racing
        // another is counted again.
        if !self
            .tree
            .swap(&code[..LOOKUP], Some(&old), encode(&stored)?)?
            || !right
        {
            return Err(refused());
        }
        Ok(stored.user)
    }

    fn with_sources<T>(
        &self,
        then: impl FnOnce(&mut HashMap<String, (u32, i64)>) -> T,
    ) -> Result<T, ServerError> {
        let mut sources = self
            .sources
            .lock()
            .map_err(|_| ServerError::Corrupt("the attempts' lock is poisoned".into()))?;
        Ok(then(&mut sources))
    }

    /// Counts an attempt of `source` (refused past [`SOURCE_FAILURES`]): the key it is
    /// counted under.
    fn attempt(&self, source: &str, now: i64) -> Result<String, ServerError> {
        self.with_sources(|sources| {
            if !sources.contains_key(source) && sources.len() >= MAX_SOURCES {
                sources.retain(|_, (_, since)| now - *since < SOURCE_WINDOW);
            }
            // Past the bound, new sources share one count.
            let key = if sources.contains_key(source) || sources.len() < MAX_SOURCES {
                source
            } else {
                "*"
            };
            let entry = sources.entry(key.to_string()).or_insert((0, now));
            if now - entry.1 >= SOURCE_WINDOW {
                *entry = (0, now);
            }
            if entry.0 >= SOURCE_FAILURES {
                return Err(source_blocked());
            }
            entry.0 += 1;
            Ok(key.to_string())
        })?
    }
}
