//! Rectification (*sprostowanie*, GDPR art. 16): a correction of a person's data recorded as
//! such in the case, not as a silent edit. The correction is applied to the field and, in the
//! same change, an entry is appended to `rectifications`, an append-only map keyed by a
//! client-chosen id like the other logs (the same id twice is refused, entries never change):
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `field` | string | the corrected field's path, see [`RectifiedField`] |
//! | `old` | string? | the value before, absent when the field was empty |
//! | `new` | string? | the value after, absent when the correction clears the field |
//! | `reason` | string | why (required, one to [`MAX_REASON_CHARS`] characters) |
//! | `by`, `institution` | string | who corrected it |
//! | `at` | timestamp | when |
//!
//! The fields a rectification may correct are the person's identifying data: a household
//! member's name, relation and date of birth, the household's address and phone. Free-text
//! notes are corrected by editing them (their history keeps every version); a rectification
//! makes the correction of a fact visible to anyone who reads the case or its access report.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ROOT};
use chrono::{DateTime, NaiveDate, Utc};

use super::contact::{normalize_address, normalize_phone};
use super::layout::{key, open_case};
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::reader::{check_id, Node};
use crate::model::write;

/// The longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// A field a rectification may correct, named by its path in the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RectifiedField {
    /// `household/{person}/name`.
    MemberName(String),
    /// `household/{person}/relation`.
    MemberRelation(String),
    /// `household/{person}/birthDate` (`YYYY-MM-DD`).
    MemberBirthDate(String),
    /// `householdAddress`.
    Address,
    /// `householdPhone`.
    Phone,
}

impl RectifiedField {
    /// The field's path in the case, as the log names it.
    pub fn path(&self) -> String {
        match self {
            Self::MemberName(p) => format!("{}/{p}/{}", key::HOUSEHOLD, key::NAME),
            Self::MemberRelation(p) => format!("{}/{p}/{}", key::HOUSEHOLD, key::RELATION),
            Self::MemberBirthDate(p) => format!("{}/{p}/{}", key::HOUSEHOLD, key::BIRTH_DATE),
            Self::Address => key::HOUSEHOLD_ADDRESS.to_owned(),
            Self::Phone => key::HOUSEHOLD_PHONE.to_owned(),
        }
    }

    /// The field a path names, or `rectification.unknown-field`.
    pub fn parse(path: &str) -> Result<Self, RuleViolation> {
        let unknown = || RuleViolation::RectificationUnknownField(path.chars().take(80).collect());
        match path {
            key::HOUSEHOLD_ADDRESS => return Ok(Self::Address),
            key::HOUSEHOLD_PHONE => return Ok(Self::Phone),
            _ => {}
        }
        let mut parts = path.split('/');
        let (Some(key::HOUSEHOLD), Some(person), Some(field), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown());
        };
        if check_id(key::HOUSEHOLD, person).is_err() {
            return Err(unknown());
        }
        let person = person.to_owned();
        match field {
            key::NAME => Ok(Self::MemberName(person)),
            key::RELATION => Ok(Self::MemberRelation(person)),
            key::BIRTH_DATE => Ok(Self::MemberBirthDate(person)),
            _ => Err(unknown()),
        }
    }

    fn member(&self) -> Option<&str> {
        match self {
            Self::MemberName(p) | Self::MemberRelation(p) | Self::MemberBirthDate(p) => Some(p),
            Self::Address | Self::Phone => None,
        }
    }

    fn key(&self) -> &'static str {
        match self {
            Self::MemberName(_) => key::NAME,
            Self::MemberRelation(_) => key::RELATION,
            Self::MemberBirthDate(_) => key::BIRTH_DATE,
            Self::Address => key::HOUSEHOLD_ADDRESS,
            Self::Phone => key::HOUSEHOLD_PHONE,
        }
    }

    /// The value as kept, from what was typed (`None` clears); refused when it is no value of
    /// the field. A name and a relation cannot be cleared.
    pub fn normalize(&self, typed: Option<&str>) -> Result<Option<String>, RuleViolation> {
        let typed = typed.unwrap_or("");
        let invalid = || RuleViolation::RectificationValueInvalid(self.path());
        match self {
            Self::Address => normalize_address(typed),
            Self::Phone => normalize_phone(typed),
            Self::MemberName(_) | Self::MemberRelation(_) => {
                let kept = typed.trim();
                if kept.is_empty() || kept.chars().count() > 200 || kept.contains(char::is_control)
                {
                    return Err(invalid());
                }
                Ok(Some(kept.to_owned()))
            }
            Self::MemberBirthDate(_) => match typed.trim() {
                "" => Ok(None),
                // Exactly `YYYY-MM-DD`, as the case app's model checks it: what parses and
                // prints back the same.
                day => NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .ok()
                    .map(write::date)
                    .filter(|kept| kept == day)
                    .map(Some)
                    .ok_or_else(invalid),
            },
        }
    }
}

/// A correction asked for: which field, its new value (`None` clears it) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rectification {
    /// The field corrected.
    pub field: RectifiedField,
    /// The new value as typed; kept normalised (a phone in E.164, a date as `YYYY-MM-DD`).
    pub new: Option<String>,
    /// Why (required).
    pub reason: String,
}

/// A rectification entry as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RectificationView {
    /// The field corrected.
    pub field: RectifiedField,
    /// The value before, `None` when the field was empty.
    pub old: Option<String>,
    /// The value after, `None` when the correction cleared it.
    pub new: Option<String>,
    /// Why.
    pub reason: String,
    /// The login of who corrected it.
    pub by: String,
    /// The institution they acted for.
    pub institution: String,
    /// When.
    pub at: DateTime<Utc>,
}

fn check_reason(reason: &str) -> Result<String, RuleViolation> {
    let kept = reason.trim();
    if kept.is_empty() || kept.chars().count() > MAX_REASON_CHARS {
        return Err(RuleViolation::RectificationReasonRequired);
    }
    Ok(kept.to_owned())
}

/// Corrects a field and records the correction under `rectification_id` in one change: the
/// old and the new value, who, why and when. Refused without a reason, for a field the case
/// does not hold (an unknown household member), for a value the field cannot take, when the
/// value does not change, and for an id already used.
///
/// A case created before rectifications existed gets its `rectifications` map with its first
/// entry.
pub fn rectify(
    doc: &mut Automerge,
    rectification_id: &str,
    rectification: &Rectification,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let reason = check_reason(&rectification.reason).map_err(SchemaError::Rule)?;
    let field = &rectification.field;
    let new = field
        .normalize(rectification.new.as_deref())
        .map_err(SchemaError::Rule)?;
    let root = open_case(doc)?;
    let parent = key::RECTIFICATIONS;
    check_id(parent, rectification_id)?;
    let existing = if root.has(parent)? {
        let map = root.map(parent)?;
        map.absent(rectification_id, "rectification")?;
        Some(map.id())
    } else {
        None
    };
    let target_node = match field.member() {
        Some(person) => {
            let household = root.map(key::HOUSEHOLD)?;
            if !household.has(person)? {
                return Err(SchemaError::Rule(RuleViolation::RectificationUnknownField(
                    field.path(),
                )));
            }
            household.map(person)?
        }
        None => root,
    };
    let target: ObjId = target_node.id();
    let old = target_node.opt_str(field.key())?;
    if old == new {
        return Err(SchemaError::Rule(RuleViolation::RectificationNoChange(
            field.path(),
        )));
    }
    let path = field.path();
    let message = editor::message(
        format_args!("rectifications/{rectification_id}: {path} corrected"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        write::put_opt_str(tx, &target, field.key(), new.as_deref())?;
        let log = match existing {
            Some(id) => id,
            None => write::new_map(tx, &ROOT, parent)?,
        };
        let map = write::new_map(tx, &log, rectification_id)?;
        tx.put(&map, key::FIELD, path.as_str())?;
        if let Some(old) = &old {
            tx.put(&map, key::OLD, old.as_str())?;
        }
        if let Some(new) = &new {
            tx.put(&map, key::NEW, new.as_str())?;
        }
        tx.put(&map, key::REASON, reason.as_str())?;
        tx.put(&map, key::BY, by.login())?;
        tx.put(&map, key::INSTITUTION, by.institution())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Every rectification of the case by id, each checked; none for a case without the log.
pub fn read_rectifications(
    doc: &Automerge,
) -> Result<BTreeMap<String, RectificationView>, SchemaError> {
    let root = open_case(doc)?;
    if !root.has(key::RECTIFICATIONS)? {
        return Ok(BTreeMap::new());
    }
    let mut out = BTreeMap::new();
    for (id, node) in root.map(key::RECTIFICATIONS)?.entries()? {
        out.insert(id, read_entry(&node)?);
    }
    Ok(out)
}

fn read_entry(node: &Node<'_>) -> Result<RectificationView, SchemaError> {
    let path = node.str(key::FIELD)?;
    let field = RectifiedField::parse(&path).map_err(|v| node.error(key::FIELD, v.to_string()))?;
    let reason = node.str(key::REASON)?;
    check_reason(&reason).map_err(|v| node.error(key::REASON, v.to_string()))?;
    Ok(RectificationView {
        field,
        old: node.opt_str(key::OLD)?,
        new: node.opt_str(key::NEW)?,
        reason,
        by: node.str(key::BY)?,
        institution: node.str(key::INSTITUTION)?,
        at: node.timestamp(key::AT)?,
    })
}
