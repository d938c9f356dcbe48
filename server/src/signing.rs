//! The keys that sign short-lived access tokens (`kat_…`), kept in the store only **wrapped**
//! (XChaCha20-Poly1305 under the master key of [`crate::secrets`]): a backup or a database dump
//! holds no key that signs a token. The clear key of older versions is emptied on first
//! start and signs nothing any more (see [`Keyring::open`]).
//!
//! A token names the key that signed it, when it was issued and when it expires:
//! `kat_v2.<key id>.<issued>.<expiry>.<device id>.<HMAC-SHA256>`. Whatever expiry a token
//! claims, it is refused once [`ACCESS_TOKEN_SECONDS`] have passed since it was issued. A
//! rotation ([`Keyring::rotate`]) signs new tokens with a new key; the old key still checks the
//! tokens it signed before the rotation (and only those) until their lifetime passes, then it
//! is dropped at the next rotation.
//!
//! Nodes sharing a PostgreSQL store share the keys: a token naming a key this node has not
//! seen yet makes it read the keys again, and tokens are always signed with the newest key.

use std::fmt;
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::ServerError;
use crate::kv::{Kv, Tree};
use crate::secrets::Key;

/// How long an access token lives, from the time it was issued.
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;

/// A token issued this far in the future (a node's clock ahead of another's) is still taken.
const CLOCK_SKEW: i64 = 60;

/// The wrapped signing keys, in the `meta` tree.
const KEYS: &str = "token-keys";
/// Before keys were wrapped: the one signing key, in clear. Emptied by the upgrade.
const LEGACY_KEY: &str = "token-secret";
/// The export's pseudonym salt, wrapped.
const EXPORT_SALT: &str = "export-salt";

type HmacSha256 = hmac::Hmac<Sha256>;

/// A signing key as stored: wrapped by the master key.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredKey {
    id: u32,
    created_at: i64,
    /// When a newer key replaced it: it checks only tokens issued before.
    #[serde(default)]
    retired_at: Option<i64>,
    wrapped: String,
}

struct SigningKey {
    stored: StoredKey,
    key: Key,
}

/// What checking a token found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// A genuine, live token of this device.
    Device(String),
    /// A genuine token past its lifetime, or one of an older format: refresh it.
    Expired,
    /// Not a token this server signed.
    Unknown,
}

/// What a rotation did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Rotation {
    /// The key that signs new tokens from now on.
    pub key_id: u32,
    /// Older keys still checking the tokens they signed until those expire.
    pub still_accepted: Vec<u32>,
    /// Keys dropped: every token they signed has expired.
    pub dropped: Vec<u32>,
}

/// The signing keys of a store, unwrapped in memory. Clones share them.
#[derive(Clone)]
pub struct Keyring {
    meta: Tree,
    master: Key,
    keys: Arc<RwLock<Vec<SigningKey>>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyring(…)")
    }
}

fn wrap(master: &Key, label: &str, plain: &[u8]) -> Result<String, ServerError> {
    let cipher = XChaCha20Poly1305::new(master.bytes().into());
    let mut nonce = [0u8; 24];
    rand::fill(&mut nonce[..]);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: label.as_bytes(),
            },
        )
        .map_err(|_| ServerError::Corrupt("wrapping a key failed".into()))?;
    Ok(hex::encode([&nonce[..], &sealed].concat()))
}

fn unwrap(master: &Key, label: &str, wrapped: &str) -> Result<Vec<u8>, ServerError> {
    let bytes =
        hex::decode(wrapped).map_err(|_| ServerError::Corrupt(format!("{label} is not hex")))?;
    if bytes.len() < 24 {
        return Err(ServerError::Corrupt(format!("{label} is too short")));
    }
    let (nonce, sealed) = bytes.split_at(24);
    XChaCha20Poly1305::new(master.bytes().into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: label.as_bytes(),
            },
        )
        .map_err(|_| {
            ServerError::Config(format!(
                "{label} does not open with this master key: is --secrets-dir the one this \
                 store was made with?"
            ))
        })
}

fn key_label(id: u32) -> String {
    format!("token signing key {id}")
}

fn to_key(bytes: &[u8]) -> Result<Key, ServerError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ServerError::Corrupt("a signing key is not 32 bytes".into()))?;
    Ok(Key::from_bytes(bytes))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Keyring {
    /// Opens the keys of a store, making the first on first start. A store whose key is still
    /// in clear (before this version) is upgraded in place: the clear key is emptied and signs
    /// nothing any more (it has lain in backups and dumps: presumed stolen; the tokens it signed
    /// had the older format and are refused anyway); it stays only as the export's salt,
    /// wrapped, so that pseudonyms do not change.
    pub fn open(kv: &Kv, master: &Key) -> Result<Self, ServerError> {
        let meta = kv.open_tree("meta")?;
        let legacy = meta.get(LEGACY_KEY)?.filter(|k| k.len() == 32);
        if meta.get(KEYS)?.is_none() {
            let stored = vec![StoredKey {
                id: 1,
                created_at: now(),
                retired_at: None,
                wrapped: wrap(master, &key_label(1), Key::random().bytes())?,
            }];
            // Of several nodes starting at once, the first keys written are everyone's.
            meta.swap(KEYS, None, encode(&stored)?)?;
        }
        if meta.get(EXPORT_SALT)?.is_none() {
            // The export's pseudonyms were salted with the clear key: they stay the same.
            let salt = legacy
                .clone()
                .unwrap_or_else(|| Key::random().bytes().to_vec());
            meta.swap(EXPORT_SALT, None, wrap(master, EXPORT_SALT, &salt)?)?;
        }
        if legacy.is_some() {
            meta.insert(LEGACY_KEY, [])?;
            tracing::info!("the clear token-signing key is gone; a new one is kept wrapped");
        }
        let ring = Self {
            meta,
            master: master.clone(),
            keys: Arc::new(RwLock::new(Vec::new())),
        };
        ring.reload()?;
        Ok(ring)
    }

    fn stored(&self) -> Result<(Vec<u8>, Vec<StoredKey>), ServerError> {
        let raw = self
            .meta
            .get(KEYS)?
            .ok_or_else(|| ServerError::Corrupt("the token-signing keys vanished".into()))?;
        let keys = serde_json::from_slice(&raw).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        Ok((raw, keys))
    }

    /// Reads the keys again from the store (another node may have rotated them).
    fn reload(&self) -> Result<(), ServerError> {
        let (_, stored) = self.stored()?;
        let mut keys = Vec::with_capacity(stored.len());
        for s in stored {
            let key = to_key(&unwrap(&self.master, &key_label(s.id), &s.wrapped)?)?;
            keys.push(SigningKey { stored: s, key });
        }
        *self
            .keys
            .write()
            .map_err(|_| ServerError::Corrupt("the keyring's lock is poisoned".into()))? = keys;
        Ok(())
    }

    fn with_keys<T>(&self, then: impl FnOnce(&[SigningKey]) -> T) -> Result<T, ServerError> {
        let keys = self
            .keys
            .read()
            .map_err(|_| ServerError::Corrupt("the keyring's lock is poisoned".into()))?;
        Ok(then(&keys))
    }

    /// Signs a token for a device, issued at `issued`, expiring at `expiry`, with the newest key.
    pub fn sign(&self, device_id: &str, issued: i64, expiry: i64) -> Result<String, ServerError> {
        self.reload()?;
        self.with_keys(|keys| {
            let k = keys
                .iter()
                .max_by_key(|k| k.stored.id)
                .ok_or_else(|| ServerError::Corrupt("no token-signing key".into()))?;
            let payload = format!("v2.{}.{issued}.{expiry}.{device_id}", k.stored.id);
            mac(&k.key, &payload).map(|m| format!("kat_{payload}.{}", hex::encode(m)))
        })?
    }

    /// Checks a token at time `now`: its signature, its key, and its lifetime counted from
    /// when it was issued, whatever expiry it claims.
    pub fn check(&self, token: &str, now: i64) -> Result<Checked, ServerError> {
        let Some(rest) = token.strip_prefix("kat_") else {
            return Ok(Checked::Unknown);
        };
        let Some(payload) = rest.strip_prefix("v2.") else {
            // Tokens of the format before key ids lived 15 minutes: all are past.
            return Ok(Checked::Expired);
        };
        let Some((claims, mac_hex)) = payload.rsplit_once('.') else {
            return Ok(Checked::Unknown);
        };
        let mut fields = claims.splitn(4, '.');
        let (Some(id), Some(issued), Some(expiry), Some(device)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Ok(Checked::Unknown);
        };
        let (Ok(id), Ok(issued), Ok(expiry), Ok(given)) = (
            id.parse::<u32>(),
            issued.parse::<i64>(),
            expiry.parse::<i64>(),
            hex::decode(mac_hex),
        ) else {
            return Ok(Checked::Unknown);
        };
        // A key newer than any known here: another node rotated.
        if !self.with_keys(|keys| keys.iter().any(|k| k.stored.id >= id))? {
            self.reload()?;
        }
        let genuine: Result<bool, ServerError> = self.with_keys(|keys| {
            let Some(k) = keys.iter().find(|k| k.stored.id == id) else {
                return Ok(false);
            };
            // A retired key signs nothing new: a token it "issued" later is forged.
            let before_retired = k
                .stored
                .retired_at
                .is_none_or(|at| issued <= at + CLOCK_SKEW);
            Ok(before_retired && verify(&k.key, &format!("v2.{claims}"), &given)?)
        })?;
        if !genuine? {
            return Ok(Checked::Unknown);
        }
        if issued > now + CLOCK_SKEW {
            return Ok(Checked::Unknown);
        }
        if expiry.min(issued.saturating_add(ACCESS_TOKEN_SECONDS)) < now {
            return Ok(Checked::Expired);
        }
        Ok(Checked::Device(device.to_string()))
    }

    /// Makes a new signing key for new tokens; older keys keep checking the tokens they signed
    /// until those expire, and keys whose tokens have all expired are dropped.
    pub fn rotate(&self, now: i64) -> Result<Rotation, ServerError> {
        loop {
            let (raw, mut stored) = self.stored()?;
            let dropped: Vec<u32> = stored
                .iter()
                .filter(|k| {
                    k.retired_at
                        .is_some_and(|at| at + ACCESS_TOKEN_SECONDS + CLOCK_SKEW < now)
                })
                .map(|k| k.id)
                .collect();
            stored.retain(|k| !dropped.contains(&k.id));
            for k in &mut stored {
                k.retired_at.get_or_insert(now);
            }
            let id = stored.iter().map(|k| k.id).max().unwrap_or(0) + 1;
            stored.push(StoredKey {
                id,
                created_at: now,
                retired_at: None,
                wrapped: wrap(&self.master, &key_label(id), Key::random().bytes())?,
            });
            // Compare-and-swap: of two rotations at once, one is retried on the other's keys.
            if self.meta.swap(KEYS, Some(&raw), encode(&stored)?)? {
                self.reload()?;
                return Ok(Rotation {
                    key_id: id,
                    still_accepted: stored.iter().map(|k| k.id).filter(|k| *k != id).collect(),
                    dropped,
                });
            }
        }
    }

    /// The salt of the export's pseudonyms.
    pub fn export_salt(&self) -> Result<Vec<u8>, ServerError> {
        let wrapped = self
            .meta
            .get(EXPORT_SALT)?
            .ok_or_else(|| ServerError::Corrupt("the export salt vanished".into()))?;
        unwrap(
            &self.master,
            EXPORT_SALT,
            &String::from_utf8_lossy(&wrapped),
        )
    }
}

fn encode(keys: &[StoredKey]) -> Result<Vec<u8>, ServerError> {
    serde_json::to_vec(keys).map_err(|e| ServerError::Corrupt(e.to_string()))
}

fn hmac_of(key: &Key, payload: &str) -> Result<HmacSha256, ServerError> {
    use hmac::Mac;
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key.bytes())
        .map_err(|e| ServerError::Corrupt(e.to_string()))?;
    mac.update(payload.as_bytes());
    Ok(mac)
}

fn mac(key: &Key, payload: &str) -> Result<Vec<u8>, ServerError> {
    use hmac::Mac;
    Ok(hmac_of(key, payload)?.finalize().into_bytes().to_vec())
}

fn verify(key: &Key, payload: &str, given: &[u8]) -> Result<bool, ServerError> {
    use hmac::Mac;
    Ok(hmac_of(key, payload)?.verify_slice(given).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (tempfile::TempDir, Kv, Key, Keyring) {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv = Kv::Sled(sled::open(dir.path().join("db")).expect("sled"));
        let master = Key::random();
        let ring = Keyring::open(&kv, &master).expect("keyring");
        (dir, kv, master, ring)
    }

    #[test]
    fn a_token_lives_its_issued_lifetime_whatever_it_claims() {
        let (_dir, _kv, _master, ring) = ring();
        let t0 = 1_800_000_000;
        let year_2100 = 4_102_444_800;
        let token = ring.sign("dev-1", t0, year_2100).expect("signed");
        let device = Checked::Device("dev-1".into());
        assert_eq!(ring.check(&token, t0).expect("checked"), device);
        assert_eq!(
            ring.check(&token, t0 + ACCESS_TOKEN_SECONDS)
                .expect("checked"),
            device
        );
        assert_eq!(
            ring.check(&token, t0 + ACCESS_TOKEN_SECONDS + 1)
                .expect("checked"),
            Checked::Expired
        );
        // Issued in the future: not a token this server gave.
        let early = ring.sign("dev-1", t0 + 3600, year_2100).expect("signed");
        assert_eq!(ring.check(&early, t0).expect("checked"), Checked::Unknown);
        // Another claim under the same signature.
        let other = token.replacen(".dev-1.", ".dev-2.", 1);
        assert_eq!(ring.check(&other, t0).expect("checked"), Checked::Unknown);
        assert_eq!(
            ring.check("kat_dev-1.4102444800.00", t0).expect("checked"),
            Checked::Expired
        );
    }

    #[test]
    fn a_rotated_key_checks_only_its_old_tokens_until_they_expire() {
        let (_dir, kv, master, ring) = ring();
        let t0 = 1_800_000_000;
        let old = ring.sign("dev-1", t0, t0 + 900).expect("signed");
        let rotation = ring.rotate(t0 + 60).expect("rotated");
        assert_eq!(rotation.key_id, 2);
        assert_eq!(rotation.still_accepted, vec![1]);
        let new = ring.sign("dev-1", t0 + 61, t0 + 961).expect("signed");
        assert!(new.starts_with("kat_v2.2."), "{new}");
        assert_eq!(
            ring.check(&old, t0 + 120).expect("checked"),
            Checked::Device("dev-1".into())
        );
        // Another node (same store, same master key) learns of key 2 from the token itself.
        let other_node = Keyring::open(&kv, &master).expect("keyring");
        assert_eq!(
            other_node.check(&new, t0 + 120).expect("checked"),
            Checked::Device("dev-1".into())
        );
        let later = ring.rotate(t0 + 60 + ACCESS_TOKEN_SECONDS + CLOCK_SKEW + 1);
        assert_eq!(later.expect("rotated").dropped, vec![1]);
        assert_eq!(
            ring.check(&old, t0 + 120).expect("checked"),
            Checked::Unknown
        );
        // The keys do not open with another master key.
        assert!(Keyring::open(&kv, &Key::random()).is_err());
    }

    #[test]
    fn a_clear_key_of_an_older_store_is_emptied_and_signs_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv = Kv::Sled(sled::open(dir.path().join("db")).expect("sled"));
        let meta = kv.open_tree("meta").expect("meta");
        let clear = [42u8; 32];
        meta.insert(LEGACY_KEY, clear).expect("legacy key");
        let master = Key::random();
        let ring = Keyring::open(&kv, &master).expect("upgraded");
        assert_eq!(meta.get(LEGACY_KEY).expect("read"), Some(Vec::new()));
        assert_eq!(ring.export_salt().expect("salt"), clear.to_vec());
        for (_, value) in meta.entries().expect("entries") {
            assert!(
                !value.windows(32).any(|w| w == clear),
                "the clear key is still stored"
            );
        }
        let token = ring
            .sign("dev-1", 1_800_000_000, 1_800_000_900)
            .expect("signed");
        let again = Keyring::open(&kv, &master).expect("reopened");
        assert_eq!(
            again.check(&token, 1_800_000_001).expect("checked"),
            Checked::Device("dev-1".into())
        );
    }
}
