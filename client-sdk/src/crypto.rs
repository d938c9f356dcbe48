//! Encryption at rest: XChaCha20-Poly1305 with a random 24-byte nonce per stored value.
//!
//! A sealed value is `version (1 byte) ‖ nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`. The
//! nonce is drawn at random for every value: with XChaCha's 192-bit nonces that is safe for any
//! number of values a tablet will ever store. Every value is bound to *where* it is stored by the
//! associated data (the document id and chunk key, or the name of a metadata entry), so a value
//! copied to another place in the store fails to open instead of being read as something else.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The format version written in front of every sealed value.
const VERSION: u8 = 1;
/// The length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;
/// The length of the Poly1305 tag.
const TAG_LEN: usize = 16;

/// The 32-byte key the host app provides (from the platform's key store: Android Keystore,
/// iOS Keychain, a TPM), which encrypts everything the SDK stores on the device.
///
/// Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct TabletKey([u8; 32]);

impl TabletKey {
    /// Wraps 32 bytes of key material.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key (for tests and first-time provisioning by the host app, which must
    /// then keep it in the platform's key store).
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        Self(bytes)
    }
}

impl From<[u8; 32]> for TabletKey {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for TabletKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TabletKey(…)")
    }
}

/// A value that does not open (the wrong key, a damaged value, or a value moved from
/// elsewhere), or one too long to seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenError;

/// Seals and opens values with one key.
#[derive(Clone)]
pub(crate) struct Cipher {
    aead: XChaCha20Poly1305,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(XChaCha20-Poly1305)")
    }
}

impl Cipher {
    /// A cipher for `key`.
    pub(crate) fn new(key: &TabletKey) -> Self {
        Self {
            aead: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// Encrypts `plaintext`, bound to `aad`, under a fresh random nonce.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, OpenError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce[..]);
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        // Encryption fails only for values longer than XChaCha20 can count (256 GiB).
        let sealed = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| OpenError)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a value made by [`Cipher::seal`] with the same key and `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_place() {
        let key = TabletKey::random();
        let cipher = Cipher::new(&key);
        let sealed = cipher.seal(b"doc-1", b"Pani Kowalska").expect("sealed");
        assert_eq!(
            cipher.open(b"doc-1", &sealed).expect("opens"),
            b"Pani Kowalska"
        );
        assert_eq!(
            cipher.open(b"doc-2", &sealed),
            Err(OpenError),
            "moved value"
        );
        assert_eq!(
            Cipher::new(&TabletKey::random()).open(b"doc-1", &sealed),
            Err(OpenError),
            "wrong key"
        );
        let mut damaged = sealed.clone();
        if let Some(last) = damaged.last_mut() {
            *last ^= 1;
        }
        assert_eq!(cipher.open(b"doc-1", &damaged), Err(OpenError));
        assert_eq!(cipher.open(b"doc-1", &sealed[..10]), Err(OpenError));
        assert!(!sealed.windows(8).any(|w| w == b"Kowalska"));
    }

    #[test]
    fn every_seal_draws_a_new_nonce() {
        let cipher = Cipher::new(&TabletKey::random());
        assert_ne!(
            cipher.seal(b"", b"same").expect("sealed"),
            cipher.seal(b"", b"same").expect("sealed")
        );
    }

    #[test]
    fn the_key_is_never_printed() {
        assert_eq!(format!("{:?}", TabletKey::new([7; 32])), "TabletKey(…)");
    }
}
