//! The leader person or family (*osoba/rodzina liderska*, step 5.3): a partner of the team who
//! is named without being made a user.
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `leader` | `{label, note}`? | `label`: one line, 1 to [`MAX_LEADER_LABEL`] characters; `note`: up to [`MAX_LEADER_NOTE`] |
//!
//! Every member institution reads the PZK document, so the leader is named only as the team
//! knows them (e.g. "Rodzina liderska z Przykładowa" or a first name and a role) with a short
//! note on what they bring: no address, PESEL, phone or health data, which belong in a case.

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use crate::error::SchemaError;
use crate::model::editor::Editor;
use crate::model::reader::Node;
use crate::model::write;

/// The longest leader label, in characters.
pub const MAX_LEADER_LABEL: usize = 120;
/// The longest note on the leader, in characters.
pub const MAX_LEADER_NOTE: usize = 1000;

/// The leader person or family, as the team names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leader {
    /// How the team names them, one line.
    pub label: String,
    /// What they bring to the team, in a few words.
    pub note: String,
}

fn check_leader(leader: &Leader) -> Result<(), SchemaError> {
    let field = |name: &str, reason: String| SchemaError::Field {
        path: format!("{}/{name}", key::LEADER),
        reason,
    };
    let label = leader.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LEADER_LABEL || label.contains('\n') {
        return Err(field(
            key::LABEL,
            format!("one line of 1 to {MAX_LEADER_LABEL} characters"),
        ));
    }
    if leader.note.chars().count() > MAX_LEADER_NOTE {
        return Err(field(
            key::NOTE,
            format!("at most {MAX_LEADER_NOTE} characters"),
        ));
    }
    Ok(())
}

/// Names the team's leader person or family, or changes how they are named.
pub fn set_leader(
    doc: &mut Automerge,
    leader: &Leader,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    check_leader(leader)?;
    let root = open_pzk(doc)?;
    let existing = match root.has(key::LEADER)? {
        true => Some(root.map(key::LEADER)?.id()),
        false => None,
    };
    let message = write::message("leader: saved", by.login());
    write::commit(doc, message, at, |tx| {
        let map = match existing {
            Some(map) => map,
            None => write::new_map(tx, &ROOT, key::LEADER)?,
        };
        tx.put(&map, key::LABEL, leader.label.trim())?;
        tx.put(&map, key::NOTE, leader.note.trim())?;
        Ok(())
    })
}

/// Removes the leader (the team no longer works with them).
pub fn clear_leader(
    doc: &mut Automerge,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    open_pzk(doc)?.map(key::LEADER)?;
    let message = write::message("leader: removed", by.login());
    write::commit(doc, message, at, |tx| {
        tx.delete(ROOT, key::LEADER)?;
        Ok(())
    })
}

/// Reads the leader, when the team has named one.
pub(super) fn read_leader(root: &Node<'_>) -> Result<Option<Leader>, SchemaError> {
    if !root.has(key::LEADER)? {
        return Ok(None);
    }
    let node = root.map(key::LEADER)?;
    let leader = Leader {
        label: node.str(key::LABEL)?,
        note: node.str(key::NOTE)?,
    };
    check_leader(&leader)?;
    Ok(Some(leader))
}
