//! The history of a case: the case as it was at a version, and what changed between two
//! versions ("what changed since my last visit").
//!
//! A *version* is a set of heads (Automerge change hashes), as [`automerge::Automerge::get_heads`]
//! returns and as a contract signing keeps. [`case_at`] reads the case as it was at a version;
//! [`changes_between`] lists the changes that one version holds and another does not, each with
//! its author and time as the edit functions record them (see [`super::editor`]).
//!
//! ```
//! use automerge::ActorId;
//! use chrono::{TimeZone, Utc};
//! use sync_core::model::{case, history, workflow, Editor};
//! use sync_core::model::case::{CaseInit, Referral, Stage};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let at = Utc.with_ymd_and_hms(2021, 3, 1, 9, 0, 0).single().ok_or("time")?;
//! let anna = Editor::new("anna", "gops")?;
//! let init = CaseInit {
//!     actor: ActorId::from(b"anna-tablet".as_slice()),
//!     owner: "anna".into(),
//!     lead_institution: "gops".into(),
//!     referral: Referral {
//!         by: "pedagog".into(),
//!         institution: "sp-1".into(),
//!         reason: "Frequent absences at school.".into(),
//!         at,
//!     },
//!     household: Default::default(),
//! };
//! let mut doc = case::new_case(&init, &anna, at)?;
//! let last_visit = doc.get_heads();
//! workflow::transition(&mut doc, Stage::Screening, &anna, at)?;
//!
//! let since = history::changes_between(&doc, &last_visit, &doc.get_heads())?;
//! assert_eq!(since.len(), 1);
//! assert_eq!(since[0].summary, "stage: referral -> screening");
//! assert_eq!(since[0].author.as_deref(), Some("anna"));
//! assert_eq!(since[0].institution.as_deref(), Some("gops"));
//! assert_eq!(since[0].local_time, "2021-03-01 10:00 CET");
//! assert_eq!(history::case_at(&doc, &last_visit)?.stage.value, Stage::Referral);
//! # Ok(())
//! # }
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use automerge::{ActorId, Automerge, ChangeHash, ChangeMetadata};
use chrono::{DateTime, Utc};

use super::case::{self, CaseView};
use super::{editor, warsaw};
use crate::error::{RuleViolation, SchemaError};

/// One change of a document's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The change's hash.
    pub hash: ChangeHash,
    /// The Automerge actor (device) that made it; the server binds actors to users.
    pub actor: ActorId,
    /// The login of the user who made it, from the commit message; `None` for a change that
    /// does not follow the message convention (e.g. written by another client).
    pub author: Option<String>,
    /// The id of the institution the user acted for, from the commit message; `None` when the
    /// message does not name it (PZK edits, other clients).
    pub institution: Option<String>,
    /// When it was made, as its author's device said, to the second. A change without a time
    /// (or with one out of range) shows the Unix epoch.
    pub at: DateTime<Utc>,
    /// [`Self::at`] in Polish local time for display, e.g. `2021-03-01 10:00 CET`.
    pub local_time: String,
    /// What changed: the commit message without its author trailers, e.g.
    /// `stage: delivery -> evaluation`.
    pub summary: String,
}

/// The case as it was at the version `heads`, e.g. as signed: the heads a signing keeps.
///
/// The version is rebuilt from the changes it holds (`fork_at`), which costs time in proportion
/// to the history. Heads the document does not hold are refused with [`SchemaError::Rule`].
pub fn case_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<CaseView, SchemaError> {
    check_heads(doc, heads)?;
    let past = doc.fork_at(heads)?;
    case::read_case(&past)
}

/// The changes the version `to` holds and the version `from` does not, causes before effects,
/// and otherwise by time, then hash: the same list on every replica.
///
/// `from` is typically the heads a user saw on their last visit and `to` the document's heads
/// now; an empty `from` lists the whole history up to `to`. The versions need not be ordered:
/// changes `from` holds and `to` does not are simply not listed. Heads the document does not
/// hold (a visit recorded on another device that has not synced yet) are refused with
/// [`SchemaError::Rule`] rather than answered wrongly.
pub fn changes_between(
    doc: &Automerge,
    from: &[ChangeHash],
    to: &[ChangeHash],
) -> Result<Vec<HistoryEntry>, SchemaError> {
    check_heads(doc, from)?;
    check_heads(doc, to)?;
    let picked = reachable_without(doc, from, to);
    Ok(causal_order(picked).into_iter().map(entry).collect())
}

fn check_heads(doc: &Automerge, heads: &[ChangeHash]) -> Result<(), SchemaError> {
    for head in heads {
        if doc.get_change_meta_by_hash(head).is_none() {
            return Err(SchemaError::Rule(RuleViolation::UnknownHeads(
                head.to_string(),
            )));
        }
    }
    Ok(())
}

/// The changes that are ancestors of `to` (inclusive) but not of `from`.
fn reachable_without<'a>(
    doc: &'a Automerge,
    from: &[ChangeHash],
    to: &[ChangeHash],
) -> HashMap<ChangeHash, ChangeMetadata<'a>> {
    let mut outside: HashMap<ChangeHash, ChangeMetadata<'a>> = doc
        .get_changes_meta(from)
        .into_iter()
        .map(|meta| (meta.hash, meta))
        .collect();
    let mut picked = HashMap::new();
    let mut stack = to.to_vec();
    while let Some(hash) = stack.pop() {
        if let Some(meta) = outside.remove(&hash) {
            stack.extend(meta.deps.iter().copied());
            picked.insert(hash, meta);
        }
    }
    picked
}

/// Orders changes so each follows the changes it depends on; of the changes ready at one
/// point, the earliest (by time, then hash) goes first.
fn causal_order(mut picked: HashMap<ChangeHash, ChangeMetadata<'_>>) -> Vec<ChangeMetadata<'_>> {
    let mut waiting_on: HashMap<ChangeHash, usize> = HashMap::new();
    let mut dependents: HashMap<ChangeHash, Vec<ChangeHash>> = HashMap::new();
    for (hash, meta) in &picked {
        let inside: BTreeSet<ChangeHash> = meta
            .deps
            .iter()
            .filter(|dep| picked.contains_key(dep))
            .copied()
            .collect();
        for dep in &inside {
            dependents.entry(*dep).or_default().push(*hash);
        }
        waiting_on.insert(*hash, inside.len());
    }
    let mut ready: BinaryHeap<Reverse<(i64, ChangeHash)>> = waiting_on
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(hash, _)| Reverse((picked[hash].timestamp, *hash)))
        .collect();
    let mut ordered = Vec::with_capacity(picked.len());
    while let Some(Reverse((_, hash))) = ready.pop() {
        for next in dependents.remove(&hash).unwrap_or_default() {
            let count = waiting_on.entry(next).or_default();
            *count = count.saturating_sub(1);
            if *count == 0 {
                ready.push(Reverse((picked[&next].timestamp, next)));
            }
        }
        if let Some(meta) = picked.remove(&hash) {
            ordered.push(meta);
        }
    }
    ordered
}

fn entry(meta: ChangeMetadata<'_>) -> HistoryEntry {
    let parsed = editor::parse(meta.message.as_deref().unwrap_or_default());
    let at = DateTime::from_timestamp(meta.timestamp, 0).unwrap_or(DateTime::UNIX_EPOCH);
    HistoryEntry {
        hash: meta.hash,
        actor: meta.actor.into_owned(),
        author: parsed.author,
        institution: parsed.institution,
        at,
        local_time: warsaw::display(at),
        summary: parsed.summary,
    }
}
