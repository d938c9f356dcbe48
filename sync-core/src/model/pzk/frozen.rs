//! Frozen meetings: once a meeting's minutes are approved (`minutesApproved`), no change made
//! after the approval, or concurrently with it, may touch the meeting: its date, mode, link,
//! invitations, agenda, attendance, minutes, decisions, or the approval itself. The approval
//! names the login of the change that wrote it, and the server checks that login against its
//! team table, so an approval cannot be written in someone else's name.
//!
//! [`check_frozen`] runs in [`validate`](crate::model::validate), so a server refuses such a
//! change whoever sends it, and a client that merged one sees the rule it breaks.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId};
use automerge::{ActorId, Automerge, ChangeHash, ObjId, ReadDoc, Value};

use super::layout::{key, open_pzk};
use super::types::PzkView;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor;

/// An Automerge operation id: its counter and actor.
type OpKey = (u64, ActorId);

/// Checks every approved meeting of `view` (read from `doc`): the approval's `by` is the
/// author its change names, and no change outside the approval's causal past touches the
/// meeting.
pub fn check_frozen(doc: &Automerge, view: &PzkView) -> Result<(), SchemaError> {
    let approved: Vec<(&String, &str)> = view
        .meetings
        .iter()
        .filter_map(|(id, m)| m.minutes_approved.as_ref().map(|a| (id, a.by.as_str())))
        .collect();
    if approved.is_empty() {
        return Ok(());
    }
    let meetings = open_pzk(doc)?.map(key::MEETINGS)?;
    let meetings_obj = op_key(&meetings.id());
    // What each change touches, decoded once however many meetings are approved.
    let mut touched: HashMap<ChangeHash, Vec<(OpKey, Option<String>)>> = HashMap::new();
    for (meeting_id, by) in approved {
        let meeting = meetings.map(meeting_id)?;
        let approval = meeting.map(key::MINUTES_APPROVED)?;
        let path = approval.path().to_owned();
        let forged = || SchemaError::Field {
            path: format!("{path}/{}", key::BY),
            reason: "an approval names the author of the change that wrote it".to_owned(),
        };
        let hash = doc.hash_for_opid(&approval.id()).ok_or_else(forged)?;
        let author = doc
            .get_change_meta_by_hash(&hash)
            .and_then(|meta| meta.message.map(|m| editor::parse(&m).author))
            .flatten();
        if author.as_deref() != Some(by) {
            return Err(forged());
        }
        let mut frozen = HashSet::new();
        collect_objects(doc, meeting.id(), &mut frozen)?;
        for change in doc.get_changes(&[hash]) {
            let ops = touched.entry(change.hash()).or_insert_with(|| {
                change
                    .decode()
                    .operations
                    .into_iter()
                    .filter_map(|op| match (op.obj, op.key) {
                        (ObjectId::Id(id), Key::Map(k)) => Some(((id.0, id.1), Some(k.into()))),
                        (ObjectId::Id(id), Key::Seq(_)) => Some(((id.0, id.1), None)),
                        (ObjectId::Root, _) => None,
                    })
                    .collect()
            });
            let touches = ops.iter().any(|(obj, k)| {
                frozen.contains(obj)
                    || (Some(obj) == meetings_obj.as_ref() && k.as_deref() == Some(meeting_id))
            });
            if touches {
                let refused = RuleViolation::MeetingFrozen(meeting_id.clone());
                return Err(SchemaError::Rule(refused));
            }
        }
    }
    Ok(())
}

fn op_key(id: &ObjId) -> Option<OpKey> {
    match id {
        ObjId::Id(counter, actor, _) => Some((*counter, actor.clone())),
        ObjId::Root => None,
    }
}

/// `obj` and every object below it, every concurrent value included.
fn collect_objects(
    doc: &Automerge,
    obj: ObjId,
    into: &mut HashSet<OpKey>,
) -> Result<(), SchemaError> {
    let children: Vec<ObjId> = match doc.object_type(&obj)? {
        automerge::ObjType::Map | automerge::ObjType::Table => {
            let mut children = Vec::new();
            for k in doc.keys(&obj).collect::<Vec<_>>() {
                for (value, id) in doc.get_all(&obj, k.as_str())? {
                    if let Value::Object(_) = value {
                        children.push(id);
                    }
                }
            }
            children
        }
        automerge::ObjType::List => (0..doc.length(&obj))
            .filter_map(|i| match doc.get(&obj, i) {
                Ok(Some((Value::Object(_), id))) => Some(id),
                _ => None,
            })
            .collect(),
        automerge::ObjType::Text => Vec::new(),
    };
    if let Some(k) = op_key(&obj) {
        into.insert(k);
    }
    for child in children {
        collect_objects(doc, child, into)?;
    }
    Ok(())
}
