//! Plain documents for tests that sync bytes rather than cases: an untyped document with a
//! `notes` text, a PZK team's document, and random document ids.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use sync_core::model::editor::Editor;
use sync_core::model::pzk::{self, AgendaItem, MeetingMode, MeetingPlan, PzkInit};
use sync_core::DocumentId;

/// An untyped document (`type: test`) with a `notes` text and a `fields` map.
pub fn new_case() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "type", "test")?;
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        tx.put_object(ROOT, "fields", ObjType::Map)?;
        Ok(())
    })
    .expect("seed");
    doc
}

/// A fresh random document id.
pub fn random_id() -> DocumentId {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    DocumentId::from_bytes(b)
}

/// The `notes` text, or "" while the document has not arrived.
pub fn notes(doc: &Automerge) -> String {
    match doc.get(ROOT, "notes") {
        Ok(Some((_, id))) => doc.text(&id).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The PZK document of team `pzk1`, as its animator makes it.
pub fn new_team_doc() -> Automerge {
    let init = PzkInit {
        actor: automerge::ActorId::random(),
        name: "PZK Gminy Przykładowo".into(),
        animator: "animator1".into(),
        agreement_text: "Porozumienie o współpracy.".into(),
    };
    pzk::new_pzk(&init, chrono::Utc::now()).expect("pzk")
}

/// Schedules remote meeting `meeting` of a PZK document on `date` (UTC, at the given hour),
/// with `agenda` as its items `p1`, `p2`, … in order, written by `editor`.
pub fn schedule_remote_meeting(
    doc: &mut Automerge,
    editor: &Editor,
    meeting: &str,
    (year, month, day, hour): (i32, u32, u32, u32),
    agenda: &[&str],
) {
    use chrono::TimeZone;
    let at = chrono::Utc::now();
    let plan = MeetingPlan {
        date: chrono::Utc
            .with_ymd_and_hms(year, month, day, hour, 0, 0)
            .single()
            .expect("a date"),
        mode: MeetingMode::Remote,
        link: None,
    };
    pzk::schedule_meeting(doc, meeting, &plan, editor, at).expect("meeting");
    for (order, title) in (1u64..).zip(agenda) {
        let item = AgendaItem {
            title: (*title).into(),
            order,
        };
        pzk::set_agenda_item(doc, meeting, &format!("p{order}"), &item, editor, at)
            .expect("agenda item");
    }
}
