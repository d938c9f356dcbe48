//! Identifiers of the automerge-repo protocol: documents, peers and storages.
//!
//! A [`DocumentId`] is 16 random bytes shown as bs58check text (what automerge-repo calls a
//! "legacy UUID"); its URL form is `automerge:<id>`, optionally followed by `#<heads>` where the
//! heads are bs58check-encoded change hashes separated by `|`.

use std::fmt;
use std::str::FromStr;

use automerge::ChangeHash;

use crate::error::IdError;

/// The URL scheme of automerge-repo document URLs.
pub const URL_PREFIX: &str = "automerge:";

/// The id of one Automerge document (a case, a PZK team document...).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    /// Wraps 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Makes a new random id from 16 bytes of caller-supplied randomness (sync-core takes no RNG).
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the bs58check text form (without `automerge:`).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        if text.is_empty() || text.len() > 64 {
            return Err(IdError::DocumentId(format!(
                "expected a bs58check string of 16 bytes, got {} characters",
                text.len()
            )));
        }
        let bytes = bs58::decode(text)
            .with_check(None)
            .into_vec()
            .map_err(|e| IdError::DocumentId(format!("not valid bs58check: {e}")))?;
        let raw: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
            IdError::DocumentId(format!("expected 16 bytes, decoded {}", bytes.len()))
        })?;
        Ok(Self(raw))
    }

    /// The `automerge:<id>` URL.
    pub fn url(&self) -> String {
        format!("{URL_PREFIX}{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A parsed `automerge:` URL: a document and optionally a version of it (its heads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutomergeUrl {
    /// The document.
    pub document_id: DocumentId,
    /// The version, when the URL names one (`#head|head`).
    pub heads: Option<Vec<ChangeHash>>,
}

impl AutomergeUrl {
    /// Parses `automerge:<id>` or `automerge:<id>#<heads>`.
    pub fn parse(url: &str) -> Result<Self, IdError> {
        let rest = url
            .strip_prefix(URL_PREFIX)
            .ok_or_else(|| IdError::Url(format!("does not start with {URL_PREFIX}")))?;
        let (id, heads) = match rest.split_once('#') {
            Some((id, heads)) => (id, Some(heads)),
            None => (rest, None),
        };
        let document_id = DocumentId::parse(id)?;
        let heads = heads
            .map(|h| {
                if h.is_empty() {
                    return Ok(Vec::new());
                }
                h.split('|').map(decode_head).collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self { document_id, heads })
    }
}

impl fmt::Display for AutomergeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{URL_PREFIX}{}", self.document_id)?;
        if let Some(heads) = &self.heads {
            let encoded: Vec<String> = heads
                .iter()
                .map(|h| bs58::encode(h.0).with_check().into_string())
                .collect();
            write!(f, "#{}", encoded.join("|"))?;
        }
        Ok(())
    }
}

fn decode_head(text: &str) -> Result<ChangeHash, IdError> {
    if text.is_empty() {
        return Err(IdError::Url("empty head between '|' separators".into()));
    }
    let bytes = bs58::decode(text)
        .with_check(None)
        .into_vec()
        .map_err(|e| IdError::Url(format!("head {text:?} is not bs58check: {e}")))?;
    let raw: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| IdError::Url(format!("head {text:?} is not 32 bytes")))?;
    Ok(ChangeHash(raw))
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps: non-empty, at most the protocol's length limit, no control characters.
            pub fn new(text: impl Into<String>) -> Result<Self, IdError> {
                let text = text.into();
                if text.is_empty() || text.len() > $max || text.chars().any(char::is_control) {
                    return Err(IdError::Text {
                        kind: stringify!($name),
                        reason: format!("must be 1 to {} printable characters", $max),
                    });
                }
                Ok(Self(text))
            }

            /// The text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

/// The longest [`PeerId`], in bytes.
pub const MAX_PEER_ID: usize = 256;

string_id!(
    /// A peer's self-chosen id (`senderId`); the server binds it to an authenticated device.
    PeerId,
    MAX_PEER_ID
);
string_id!(
    /// The id of a peer's durable storage (`peerMetadata.storageId`), when it has one.
    StorageId,
    256
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_id_round_trips_through_text_and_url() {
        let id = DocumentId::from_bytes([7; 16]);
        let text = id.to_string();
        assert_eq!(DocumentId::parse(&text).expect("parses"), id);
        let url = AutomergeUrl::parse(&id.url()).expect("url parses");
        assert_eq!(url.document_id, id);
        assert_eq!(url.heads, None);
    }

    #[test]
    fn url_with_heads_round_trips() {
        let url = AutomergeUrl {
            document_id: DocumentId::from_bytes([1; 16]),
            heads: Some(vec![ChangeHash([9; 32]), ChangeHash([10; 32])]),
        };
        assert_eq!(AutomergeUrl::parse(&url.to_string()).expect("parses"), url);
    }

    #[test]
    fn bad_ids_are_refused() {
        let good = DocumentId::from_bytes([3; 16]).to_string();
        let mut flipped: Vec<char> = good.chars().collect();
        flipped[2] = if flipped[2] == 'A' { 'B' } else { 'A' };
        let flipped: String = flipped.into_iter().collect();
        let twenty = bs58::encode([1u8; 20]).with_check().into_string();
        for bad in ["", "0OIl", "automerge:xyz", &flipped, &twenty] {
            assert!(DocumentId::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(
            AutomergeUrl::parse(&good).is_err(),
            "a bare id is not a URL"
        );
        assert!(PeerId::new("").is_err());
        assert!(PeerId::new("a\nb").is_err());
    }
}
