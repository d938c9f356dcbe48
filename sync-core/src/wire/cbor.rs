//! Lenient field access over a decoded CBOR map, and strict encoding.

pub(super) use ciborium::Value;

use crate::error::DecodeError;
use crate::ids::{DocumentId, PeerId, StorageId};
use crate::wire::{PeerMetadata, RemoteHeads};

/// How deep CBOR may nest before a frame is refused (protocol messages need about four levels).
const RECURSION_LIMIT: usize = 32;

pub(super) struct Fields(Vec<(Value, Value)>);

pub(super) fn to_bytes(map: Vec<(&'static str, Value)>) -> Vec<u8> {
    let value = Value::Map(map.into_iter().map(|(k, v)| (text(k), v)).collect());
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and every value here is encodable.
    if let Err(e) = ciborium::into_writer(&value, &mut out) {
        unreachable!("encoding a CBOR value into memory failed: {e}");
    }
    out
}

/// A CBOR text value.
pub(super) fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// An absent key, `null` and CBOR `undefined` all mean "not given".
fn given(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

impl Fields {
    pub(super) fn parse(frame: &[u8]) -> Result<Self, DecodeError> {
        let value: Value = ciborium::de::from_reader_with_recursion_limit(frame, RECURSION_LIMIT)
            .map_err(|e| DecodeError::Cbor(e.to_string()))?;
        match value {
            Value::Map(entries) if entries.iter().all(|(k, _)| k.is_text()) => Ok(Self(entries)),
            _ => Err(DecodeError::NotAMap),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        given(
            self.0
                .iter()
                .find(|(k, _)| k.as_text() == Some(key))
                .map(|(_, v)| v),
        )
    }

    pub(super) fn opt_string(&self, key: &'static str) -> Result<Option<String>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s.clone())),
            Some(_) => Err(DecodeError::WrongType {
                field: key,
                expected: "text",
            }),
        }
    }

    pub(super) fn string(&self, key: &'static str) -> Result<String, DecodeError> {
        self.required_string(key, "")
    }

    pub(super) fn required_string(
        &self,
        key: &'static str,
        ty: &str,
    ) -> Result<String, DecodeError> {
        self.opt_string(key)?
            .ok_or_else(|| DecodeError::MissingField {
                message_type: ty.to_owned(),
                field: key,
            })
    }

    pub(super) fn peer_id(&self, key: &'static str, ty: &str) -> Result<PeerId, DecodeError> {
        Ok(PeerId::new(self.required_string(key, ty)?)?)
    }

    pub(super) fn document_id(&self, ty: &str) -> Result<DocumentId, DecodeError> {
        Ok(DocumentId::parse(&self.required_string("documentId", ty)?)?)
    }

    pub(super) fn bytes(&self, key: &'static str, ty: &str) -> Result<Vec<u8>, DecodeError> {
        match self.get(key) {
            None => Err(DecodeError::MissingField {
                message_type: ty.to_owned(),
                field: key,
            }),
            Some(Value::Bytes(b)) => Ok(b.clone()),
            // A typed array tagged by an encoder that tags Uint8Array (tag 64).
            Some(Value::Tag(64, inner)) => match inner.as_ref() {
                Value::Bytes(b) => Ok(b.clone()),
                _ => Err(DecodeError::WrongType {
                    field: key,
                    expected: "bytes",
                }),
            },
            Some(_) => Err(DecodeError::WrongType {
                field: key,
                expected: "bytes",
            }),
        }
    }

    /// A non-negative whole number that may arrive as an integer or a float64.
    pub(super) fn count(&self, key: &'static str, ty: &str) -> Result<u64, DecodeError> {
        let wrong = DecodeError::WrongType {
            field: key,
            expected: "a non-negative whole number",
        };
        match self.get(key) {
            None => Err(DecodeError::MissingField {
                message_type: ty.to_owned(),
                field: key,
            }),
            Some(Value::Integer(i)) => u64::try_from(*i).map_err(|_| wrong),
            Some(Value::Float(f)) if f.is_finite() && *f >= 0.0 && f.fract() == 0.0 => {
                if *f <= 9_007_199_254_740_992.0 {
                    // Exact: whole floats up to 2^53 convert without loss.
                    Ok(*f as u64)
                } else {
                    Err(wrong)
                }
            }
            Some(_) => Err(wrong),
        }
    }

    pub(super) fn string_list(&self, key: &'static str) -> Result<Vec<String>, DecodeError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Text(s) => Ok(s.clone()),
                    _ => Err(DecodeError::WrongType {
                        field: key,
                        expected: "array of text",
                    }),
                })
                .collect(),
            Some(_) => Err(DecodeError::WrongType {
                field: key,
                expected: "array of text",
            }),
        }
    }

    /// A list of text that may be absent (`None`), unlike [`Self::string_list`].
    pub(super) fn opt_string_list(
        &self,
        key: &'static str,
    ) -> Result<Option<Vec<String>>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.string_list(key).map(Some),
        }
    }

    pub(super) fn storage_list(&self, key: &'static str) -> Result<Vec<StorageId>, DecodeError> {
        self.string_list(key)?
            .into_iter()
            .map(|s| StorageId::new(s).map_err(DecodeError::from))
            .collect()
    }

    /// `peerMetadata` (what the JS code sends) or `metadata` (what the CDDL names).
    pub(super) fn metadata(&self) -> Result<PeerMetadata, DecodeError> {
        let value = self.get("peerMetadata").or_else(|| self.get("metadata"));
        let Some(value) = value else {
            return Ok(PeerMetadata::default());
        };
        let Value::Map(entries) = value else {
            return Err(DecodeError::WrongType {
                field: "peerMetadata",
                expected: "map",
            });
        };
        let inner = Fields(entries.clone());
        let storage_id = inner
            .opt_string("storageId")?
            .map(StorageId::new)
            .transpose()?;
        let is_ephemeral = match inner.get("isEphemeral") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(DecodeError::WrongType {
                    field: "isEphemeral",
                    expected: "bool",
                })
            }
        };
        Ok(PeerMetadata {
            storage_id,
            is_ephemeral,
        })
    }

    pub(super) fn remote_heads(&self) -> Result<Vec<RemoteHeads>, DecodeError> {
        let wrong = || DecodeError::WrongType {
            field: "newHeads",
            expected: "map of storageId to {heads, timestamp}",
        };
        let Some(Value::Map(entries)) = self.get("newHeads") else {
            return Err(wrong());
        };
        entries
            .iter()
            .map(|(k, v)| {
                let storage = k.as_text().ok_or_else(wrong)?;
                let Value::Map(inner) = v else {
                    return Err(wrong());
                };
                let inner = Fields(inner.clone());
                // NaN or an infinity is no time: it counts as absent (a NaN would also make
                // the message unequal to itself, found by fuzzing).
                let timestamp = match inner.get("timestamp") {
                    Some(Value::Float(f)) if f.is_finite() => *f,
                    Some(Value::Integer(i)) => i128::from(*i) as f64,
                    _ => 0.0,
                };
                Ok(RemoteHeads {
                    storage_id: StorageId::new(storage)?,
                    heads: inner.string_list("heads")?,
                    timestamp,
                })
            })
            .collect()
    }
}
