//! Free text whose edits no rule constrains (issue #23): the Text objects of a document into
//! which typing may be relayed by a server without applying it to its op set at once, because
//! no check the server runs on a changed document ([`validate`](super::validate), the server's
//! own guards) can refuse a splice into them or derive anything from their content.
//!
//! | document | free text | not free text, and why |
//! | --- | --- | --- |
//! | case | the referral's reason, the screening notes, every diagnosis sector, the SMART parts of every goal, every monitoring note's text, every consultation's question and answers, the evaluation (9.1), the hand-over note | the contract's text: a signing freezes the text it was made on (`contract_changed_since_signed`), so its edits are kept on the full path |
//! | PZK | every consultation's question and answers; the minutes and decision texts of a meeting whose minutes are not approved | an approved meeting (frozen: `check_frozen` must see every change of it); the parts only the team's editors change (agreement, services, 9.2 decision, recommendations...: the server compares them batch by batch) |
//! | referral, seen | none | a referral is written and decided once; a seen document has no text |
//!
//! Only the winner of each key is named (a Text object written concurrently and losing is never
//! read, and a splice into it takes the full path like any other change). A document that is
//! not a case or a PZK document, or whose layout is broken, has no free text.

use automerge::{Automerge, ObjId, ObjType, ReadDoc, Value, ROOT};

use super::case::layout::key as case_key;
use super::consultation::key as consultation_key;
use super::header::{key as header_key, kind_of, DocumentKind};
use super::pzk::layout::key as pzk_key;

/// The Text objects of `doc` whose edits no rule constrains (see the module documentation).
pub fn free_texts(doc: &Automerge) -> Vec<ObjId> {
    let mut out = Vec::new();
    match kind_of(doc) {
        Ok(DocumentKind::Case) => case_texts(doc, &mut out),
        Ok(DocumentKind::Pzk) => pzk_texts(doc, &mut out),
        _ => {}
    }
    out
}

fn case_texts(doc: &Automerge, out: &mut Vec<ObjId>) {
    let single = [
        (case_key::REFERRAL, case_key::REASON),
        (case_key::SCREENING, case_key::NOTES),
        (case_key::EVALUATION, case_key::TEXT),
        (case_key::HANDOVER, case_key::NOTE),
    ];
    for (part, field) in single {
        if let Some(map) = child(doc, &ROOT, part, ObjType::Map) {
            out.extend(child(doc, &map, field, ObjType::Text));
        }
    }
    if let Some(diagnosis) = child(doc, &ROOT, case_key::DIAGNOSIS, ObjType::Map) {
        for sector in doc.keys(&diagnosis) {
            out.extend(child(doc, &diagnosis, &sector, ObjType::Text));
        }
    }
    for goal in entries(doc, &ROOT, case_key::GOALS) {
        for part in case_key::SMART {
            out.extend(child(doc, &goal, part, ObjType::Text));
        }
    }
    for note in entries(doc, &ROOT, case_key::MONITORING) {
        out.extend(child(doc, &note, case_key::TEXT, ObjType::Text));
    }
    consultation_texts(doc, case_key::CONSULTATIONS, out);
}

fn pzk_texts(doc: &Automerge, out: &mut Vec<ObjId>) {
    consultation_texts(doc, pzk_key::CONSULTATIONS, out);
    for meeting in entries(doc, &ROOT, pzk_key::MEETINGS) {
        // An approval, even a concurrent one, freezes the whole meeting.
        let approved = doc
            .get_all(&meeting, pzk_key::MINUTES_APPROVED)
            .map_or(true, |all| !all.is_empty());
        if approved {
            continue;
        }
        out.extend(child(doc, &meeting, pzk_key::MINUTES, ObjType::Text));
        for decision in entries(doc, &meeting, pzk_key::DECISIONS) {
            out.extend(child(doc, &decision, pzk_key::TEXT, ObjType::Text));
        }
    }
}

/// Deeper than any typed document goes: below it, objects are not walked.
const MAX_DEPTH: usize = 16;

/// Every Text object of `doc` reachable from its root (winners only, down to a depth of 16):
/// the free text of a document no schema constrains (an untyped document, where a server allows
/// them, is its creator's alone and no rule checks its content).
pub fn every_text(doc: &Automerge) -> Vec<ObjId> {
    let mut out = Vec::new();
    let mut stack = vec![(ROOT, ObjType::Map, 0usize)];
    while let Some((obj, kind, depth)) = stack.pop() {
        if kind == ObjType::Text {
            out.push(obj);
            continue;
        }
        if depth >= MAX_DEPTH {
            continue;
        }
        let children: Vec<(Value<'_>, ObjId)> = match kind {
            // The root's `type` names the kind (a Text there would be read as one): never free.
            ObjType::Map | ObjType::Table => doc
                .keys(&obj)
                .filter(|k| obj != ROOT || k != header_key::TYPE)
                .filter_map(|k| doc.get(&obj, k).ok().flatten())
                .collect(),
            ObjType::List => (0..doc.length(&obj))
                .filter_map(|i| doc.get(&obj, i).ok().flatten())
                .collect(),
            ObjType::Text => Vec::new(),
        };
        for (value, id) in children {
            if let Value::Object(kind) = value {
                stack.push((id, kind, depth + 1));
            }
        }
    }
    out
}

/// The questions and answers of the consultations map at root key `key`.
fn consultation_texts(doc: &Automerge, key: &str, out: &mut Vec<ObjId>) {
    for consultation in entries(doc, &ROOT, key) {
        out.extend(child(
            doc,
            &consultation,
            consultation_key::QUESTION,
            ObjType::Text,
        ));
        for answer in entries(doc, &consultation, consultation_key::ANSWERS) {
            out.extend(child(doc, &answer, consultation_key::TEXT, ObjType::Text));
        }
    }
}

/// The object at `key` of map `parent`, if it is one of type `kind`.
fn child(doc: &Automerge, parent: &ObjId, key: &str, kind: ObjType) -> Option<ObjId> {
    match doc.get(parent, key) {
        Ok(Some((Value::Object(found), id))) if found == kind => Some(id),
        _ => None,
    }
}

/// The maps that are the values of the map at `key` of `parent`.
fn entries(doc: &Automerge, parent: &ObjId, key: &str) -> Vec<ObjId> {
    let Some(map) = child(doc, parent, key, ObjType::Map) else {
        return Vec::new();
    };
    doc.keys(&map)
        .filter_map(|k| child(doc, &map, &k, ObjType::Map))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{at, case_with_goal, editor, new_pzk};

    #[test]
    fn a_case_names_its_notes_and_not_its_contract() {
        let doc = case_with_goal();
        let texts = free_texts(&doc);
        let contract = child(&doc, &ROOT, case_key::CONTRACT, ObjType::Map)
            .and_then(|c| child(&doc, &c, case_key::TEXT, ObjType::Text))
            .expect("a contract text");
        assert!(!texts.contains(&contract));
        let screening = child(&doc, &ROOT, case_key::SCREENING, ObjType::Map)
            .and_then(|s| child(&doc, &s, case_key::NOTES, ObjType::Text))
            .expect("screening notes");
        assert!(texts.contains(&screening));
        let goal = entries(&doc, &ROOT, case_key::GOALS).pop().expect("a goal");
        let specific = child(&doc, &goal, case_key::SPECIFIC, ObjType::Text).expect("specific");
        assert!(texts.contains(&specific));
    }

    #[test]
    fn a_pzk_document_names_no_guarded_part() {
        let doc = new_pzk();
        let texts = free_texts(&doc);
        let agreement = child(&doc, &ROOT, pzk_key::AGREEMENT, ObjType::Map)
            .and_then(|a| child(&doc, &a, pzk_key::TEXT, ObjType::Text))
            .expect("an agreement text");
        assert!(!texts.contains(&agreement));
    }

    #[test]
    fn a_meeting_s_minutes_are_free_until_approved() {
        use crate::model::pzk::{approve_minutes, schedule_meeting, set_minutes};
        use crate::model::pzk::{MeetingMode, MeetingPlan};
        let mut doc = new_pzk();
        let plan = MeetingPlan {
            date: at(14),
            mode: MeetingMode::InPerson,
            link: None,
        };
        schedule_meeting(&mut doc, "m1", &plan, &editor("ewa"), at(10)).expect("m1");
        set_minutes(&mut doc, "m1", "Omówiono plan.", &editor("ewa"), at(11)).expect("minutes");
        let minutes = |doc: &Automerge| {
            entries(doc, &ROOT, pzk_key::MEETINGS)
                .pop()
                .and_then(|m| child(doc, &m, pzk_key::MINUTES, ObjType::Text))
                .expect("minutes")
        };
        let before = minutes(&doc);
        assert!(free_texts(&doc).contains(&before));
        approve_minutes(&mut doc, "m1", &editor("ewa"), at(12)).expect("approved");
        assert!(!free_texts(&doc).contains(&minutes(&doc)));
    }

    #[test]
    fn a_document_of_no_known_kind_has_no_free_text() {
        assert!(free_texts(&Automerge::new()).is_empty());
    }

    #[test]
    fn every_text_finds_texts_in_maps_and_lists() {
        use automerge::transaction::Transactable;
        let mut doc = Automerge::new();
        let (notes, nested) = doc
            .transact::<_, _, automerge::AutomergeError>(|tx| {
                let notes = tx.put_object(ROOT, "notes", ObjType::Text)?;
                let list = tx.put_object(ROOT, "items", ObjType::List)?;
                let item = tx.insert_object(&list, 0, ObjType::Map)?;
                let nested = tx.put_object(&item, "text", ObjType::Text)?;
                tx.put_object(ROOT, "type", ObjType::Text)?;
                Ok((notes, nested))
            })
            .expect("doc")
            .result;
        let mut found = every_text(&doc);
        found.sort();
        let mut want = vec![notes, nested];
        want.sort();
        assert_eq!(found, want);
    }
}
