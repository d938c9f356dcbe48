//! Reading a document's objects with the path of every field, so schema errors say where.
//!
//! A [`Node`] is one map or list of a document plus its path from the root
//! (`goals/g1`). Its getters check the shape of what they read: every concurrent value of a
//! scalar key is parsed (a value hidden by the winner is checked too), objects must have the
//! expected type, and what is absent is reported as `missing`. [`conflict_at`] reads one
//! status-like field by its path with every concurrent value.

use std::collections::BTreeMap;

use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use chrono::{DateTime, NaiveDate, Utc};

use super::conflict::Conflict;
use super::enums::WireEnum;
use crate::error::{RuleViolation, SchemaError};

/// The longest id (goal, note, institution...) accepted, in bytes.
pub(crate) const MAX_ID_LEN: usize = 128;

/// Stored form of calendar dates (deadlines, birth dates).
pub(crate) const DATE_FORMAT: &str = "%Y-%m-%d";

/// One object of a document and its path from the root.
#[derive(Clone, Debug)]
pub(crate) struct Node<'a> {
    doc: &'a Automerge,
    obj: ObjId,
    path: String,
}

impl<'a> Node<'a> {
    /// The root map.
    pub(crate) fn root(doc: &'a Automerge) -> Self {
        Self {
            doc,
            obj: ROOT,
            path: String::new(),
        }
    }

    /// The document this node belongs to.
    pub(crate) fn doc(&self) -> &'a Automerge {
        self.doc
    }

    /// The object's id, to write to it in a transaction.
    pub(crate) fn id(&self) -> ObjId {
        self.obj.clone()
    }

    /// The object's path from the root, e.g. `goals/g1` (empty for the root).
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The path of a key of this object, e.g. `goals/g1/status`.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.path)
        }
    }

    /// A schema error about one key of this object.
    pub(crate) fn error(&self, key: &str, reason: impl Into<String>) -> SchemaError {
        SchemaError::Field {
            path: self.path_of(key),
            reason: reason.into(),
        }
    }

    fn missing(&self, key: &str) -> SchemaError {
        self.error(key, "missing")
    }

    /// Whether the key is present.
    pub(crate) fn has(&self, key: &str) -> Result<bool, SchemaError> {
        Ok(self.doc.get(&self.obj, key)?.is_some())
    }

    /// Checks that an append-only entry `id` is new: entries are never overwritten.
    pub(crate) fn absent(&self, id: &str, what: &'static str) -> Result<(), SchemaError> {
        check_id(&self.path, id)?;
        if self.has(id)? {
            return Err(SchemaError::Rule(RuleViolation::EntryExists {
                what,
                path: self.path_of(id),
            }));
        }
        Ok(())
    }

    /// The number of elements (list) or characters (text).
    pub(crate) fn len(&self) -> usize {
        self.doc.length(&self.obj)
    }

    /// Every concurrent value of a scalar key, parsed; `None` when the key is absent.
    pub(crate) fn opt_field<T: PartialEq>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&ScalarValue) -> Option<T>,
    ) -> Result<Option<Conflict<T>>, SchemaError> {
        let Some((_, winner)) = self.doc.get(&self.obj, key)? else {
            return Ok(None);
        };
        let mut value = None;
        let mut others = Vec::new();
        for (stored, id) in self.doc.get_all(&self.obj, key)? {
            let parsed = match &stored {
                Value::Scalar(scalar) => parse(scalar),
                Value::Object(_) => None,
            }
            .ok_or_else(|| {
                self.error(
                    key,
                    format!("expected {expected}, found {}", describe(&stored)),
                )
            })?;
            if id == winner {
                value = Some(parsed);
            } else {
                others.push(parsed);
            }
        }
        let value = value.ok_or_else(|| {
            SchemaError::Automerge(format!(
                "{}: the winner is not among the values",
                self.path_of(key)
            ))
        })?;
        Ok(Some(Conflict::new(value, others)))
    }

    /// Like [`Self::opt_field`] for a key that must be present.
    pub(crate) fn field<T: PartialEq>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&ScalarValue) -> Option<T>,
    ) -> Result<Conflict<T>, SchemaError> {
        self.opt_field(key, expected, parse)?
            .ok_or_else(|| self.missing(key))
    }

    /// A required string (the winning value).
    pub(crate) fn str(&self, key: &str) -> Result<String, SchemaError> {
        Ok(self.field(key, "a string", parse_str)?.value)
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<String>, SchemaError> {
        Ok(self.opt_field(key, "a string", parse_str)?.map(|c| c.value))
    }

    /// A required timestamp.
    pub(crate) fn timestamp(&self, key: &str) -> Result<DateTime<Utc>, SchemaError> {
        Ok(self.field(key, "a timestamp", parse_timestamp)?.value)
    }

    /// An optional timestamp.
    pub(crate) fn opt_timestamp(&self, key: &str) -> Result<Option<DateTime<Utc>>, SchemaError> {
        Ok(self
            .opt_field(key, "a timestamp", parse_timestamp)?
            .map(|c| c.value))
    }

    /// A required calendar date stored as `YYYY-MM-DD`.
    pub(crate) fn date(&self, key: &str) -> Result<NaiveDate, SchemaError> {
        Ok(self
            .field(key, "a date string YYYY-MM-DD", parse_date)?
            .value)
    }

    /// An optional calendar date.
    pub(crate) fn opt_date(&self, key: &str) -> Result<Option<NaiveDate>, SchemaError> {
        Ok(self
            .opt_field(key, "a date string YYYY-MM-DD", parse_date)?
            .map(|c| c.value))
    }

    /// A required non-negative integer (every concurrent value).
    pub(crate) fn uints(&self, key: &str) -> Result<Conflict<u64>, SchemaError> {
        self.field(key, "a non-negative integer", parse_uint)
    }

    /// An optional non-negative integer.
    pub(crate) fn opt_uint(&self, key: &str) -> Result<Option<u64>, SchemaError> {
        Ok(self
            .opt_field(key, "a non-negative integer", parse_uint)?
            .map(|c| c.value))
    }

    /// A required boolean.
    pub(crate) fn bool(&self, key: &str) -> Result<bool, SchemaError> {
        Ok(self.field(key, "a boolean", parse_bool)?.value)
    }

    /// A required status-like key with every concurrent value.
    pub(crate) fn status<T: WireEnum>(&self, key: &str) -> Result<Conflict<T>, SchemaError> {
        self.field(key, &T::expected(), parse_enum::<T>)
    }

    /// An optional status-like key with every concurrent value.
    pub(crate) fn opt_status<T: WireEnum>(
        &self,
        key: &str,
    ) -> Result<Option<Conflict<T>>, SchemaError> {
        self.opt_field(key, &T::expected(), parse_enum::<T>)
    }

    /// A required enum whose entry is immutable (its winner; concurrent values are still checked).
    pub(crate) fn enumeration<T: WireEnum>(&self, key: &str) -> Result<T, SchemaError> {
        Ok(self.status(key)?.value)
    }

    /// The child object at `key`, which must be of type `ty`.
    fn object(&self, key: &str, ty: ObjType) -> Result<Node<'a>, SchemaError> {
        match self.doc.get(&self.obj, key)? {
            Some((Value::Object(found), id)) if found == ty => Ok(Node {
                doc: self.doc,
                obj: id,
                path: self.path_of(key),
            }),
            Some((other, _)) => Err(self.error(
                key,
                format!("expected {}, found {}", describe_type(ty), describe(&other)),
            )),
            None => Err(self.missing(key)),
        }
    }

    /// The required map at `key`.
    pub(crate) fn map(&self, key: &str) -> Result<Node<'a>, SchemaError> {
        self.object(key, ObjType::Map)
    }

    /// The map at `key`, or `None` when the key is absent.
    pub(crate) fn opt_map(&self, key: &str) -> Result<Option<Node<'a>>, SchemaError> {
        if self.has(key)? {
            self.map(key).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The required list at `key`.
    pub(crate) fn list(&self, key: &str) -> Result<Node<'a>, SchemaError> {
        self.object(key, ObjType::List)
    }

    /// The required Text object at `key`.
    pub(crate) fn text_obj(&self, key: &str) -> Result<Node<'a>, SchemaError> {
        self.object(key, ObjType::Text)
    }

    /// The content of the required Text object at `key`.
    pub(crate) fn text(&self, key: &str) -> Result<String, SchemaError> {
        let node = self.text_obj(key)?;
        Ok(self.doc.text(&node.obj)?)
    }

    /// The keys of an id-keyed map, each checked to be a valid id.
    pub(crate) fn ids(&self) -> Result<Vec<String>, SchemaError> {
        let keys: Vec<String> = self.doc.keys(&self.obj).collect();
        for key in &keys {
            check_id(&self.path, key)?;
        }
        Ok(keys)
    }

    /// The entries of an id-keyed map whose values are maps.
    pub(crate) fn entries(&self) -> Result<Vec<(String, Node<'a>)>, SchemaError> {
        self.ids()?
            .into_iter()
            .map(|id| self.map(&id).map(|node| (id, node)))
            .collect()
    }

    /// Reads every entry of an id-keyed map of maps with `read`.
    pub(crate) fn read_map<T>(
        &self,
        read: impl Fn(&Node<'a>) -> Result<T, SchemaError>,
    ) -> Result<BTreeMap<String, T>, SchemaError> {
        self.entries()?
            .into_iter()
            .map(|(id, node)| read(&node).map(|value| (id, value)))
            .collect()
    }

    /// Every concurrent string value of a key; `None` when absent.
    pub(crate) fn opt_strs(&self, key: &str) -> Result<Option<Conflict<String>>, SchemaError> {
        self.opt_field(key, "a string", parse_str)
    }

    /// The elements of a list whose elements are maps.
    pub(crate) fn items(&self) -> Result<Vec<Node<'a>>, SchemaError> {
        (0..self.len()).map(|index| self.item(index)).collect()
    }

    fn item(&self, index: usize) -> Result<Node<'a>, SchemaError> {
        let key = index.to_string();
        match self.doc.get(&self.obj, index)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(Node {
                doc: self.doc,
                obj: id,
                path: self.path_of(&key),
            }),
            Some((other, _)) => {
                Err(self.error(&key, format!("expected a map, found {}", describe(&other))))
            }
            None => Err(self.missing(&key)),
        }
    }

    /// The elements of a list whose elements are strings.
    pub(crate) fn str_items(&self) -> Result<Vec<String>, SchemaError> {
        (0..self.len())
            .map(|index| {
                let key = index.to_string();
                let stored = self
                    .doc
                    .get(&self.obj, index)?
                    .ok_or_else(|| self.missing(&key))?
                    .0;
                match &stored {
                    Value::Scalar(scalar) => parse_str(scalar),
                    Value::Object(_) => None,
                }
                .ok_or_else(|| {
                    self.error(
                        &key,
                        format!("expected a string, found {}", describe(&stored)),
                    )
                })
            })
            .collect()
    }
}

/// Checks an id chosen by a client (goal, note, institution...): the key of an id-keyed map.
///
/// An id is 1 to [`MAX_ID_LEN`] bytes, without `/` (the path separator) or control characters.
pub(crate) fn check_id(parent: &str, id: &str) -> Result<(), SchemaError> {
    let bad = id.is_empty()
        || id.len() > MAX_ID_LEN
        || id.contains('/')
        || id.chars().any(char::is_control);
    if bad {
        let path = if parent.is_empty() {
            id.to_owned()
        } else {
            format!("{parent}/{id}")
        };
        return Err(SchemaError::Field {
            path,
            reason: format!(
                "an id must be 1 to {MAX_ID_LEN} bytes without '/' or control characters"
            ),
        });
    }
    Ok(())
}

fn parse_str(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn parse_timestamp(value: &ScalarValue) -> Option<DateTime<Utc>> {
    match value {
        ScalarValue::Timestamp(millis) => DateTime::from_timestamp_millis(*millis),
        _ => None,
    }
}

fn parse_date(value: &ScalarValue) -> Option<NaiveDate> {
    match value {
        ScalarValue::Str(s) => NaiveDate::parse_from_str(s, DATE_FORMAT).ok(),
        _ => None,
    }
}

/// Integers as Rust (`Uint`, `Int`) and JavaScript (`Int`, or an integral `F64`) write them.
fn parse_uint(value: &ScalarValue) -> Option<u64> {
    const MAX_SAFE_JS_INTEGER: f64 = 9_007_199_254_740_991.0;
    match value {
        ScalarValue::Uint(n) => Some(*n),
        ScalarValue::Int(n) => u64::try_from(*n).ok(),
        ScalarValue::F64(f) if f.fract() == 0.0 && (0.0..=MAX_SAFE_JS_INTEGER).contains(f) => {
            Some(*f as u64)
        }
        _ => None,
    }
}

fn parse_bool(value: &ScalarValue) -> Option<bool> {
    match value {
        ScalarValue::Boolean(b) => Some(*b),
        _ => None,
    }
}

fn parse_enum<T: WireEnum>(value: &ScalarValue) -> Option<T> {
    match value {
        ScalarValue::Str(s) => T::from_wire(s),
        _ => None,
    }
}

fn describe_type(ty: ObjType) -> &'static str {
    match ty {
        ObjType::Map | ObjType::Table => "a map",
        ObjType::List => "a list",
        ObjType::Text => "a Text object",
    }
}

/// A stored value in words, for error messages.
fn describe(value: &Value<'_>) -> String {
    match value {
        Value::Object(ty) => describe_type(*ty).to_owned(),
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(s) => format!("the string {:?}", s.as_str()),
            ScalarValue::Bytes(_) => "bytes".to_owned(),
            ScalarValue::Int(n) => format!("the integer {n}"),
            ScalarValue::Uint(n) => format!("the unsigned integer {n}"),
            ScalarValue::F64(f) => format!("the number {f}"),
            ScalarValue::Counter(_) => "a counter".to_owned(),
            ScalarValue::Timestamp(_) => "a timestamp".to_owned(),
            ScalarValue::Boolean(b) => format!("the boolean {b}"),
            ScalarValue::Null => "null".to_owned(),
            ScalarValue::Unknown { type_code, .. } => {
                format!("a value of unknown type {type_code}")
            }
        },
    }
}

/// Reads a status-like key at `path` (map keys from the root, e.g. `["goals", "g1", "status"]`).
///
/// The maps on the way are followed through their winning values. Every concurrent value of the
/// last key must be one of `T`'s wire strings, otherwise the error names the path.
pub fn conflict_at<T: WireEnum>(
    doc: &Automerge,
    path: &[&str],
) -> Result<Conflict<T>, SchemaError> {
    let Some((key, maps)) = path.split_last() else {
        return Err(SchemaError::Field {
            path: String::new(),
            reason: "an empty path names no field".to_owned(),
        });
    };
    let mut node = Node::root(doc);
    for map in maps {
        node = node.map(map)?;
    }
    node.status(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_path_is_refused() {
        let doc = Automerge::new();
        let err = conflict_at::<crate::model::case::Stage>(&doc, &[]).expect_err("empty path");
        assert!(matches!(err, SchemaError::Field { .. }), "{err:?}");
    }
}
