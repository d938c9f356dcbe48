//! The text sessions open on the client's thread ([`Sessions`]): the keystrokes each buffered
//! since its last commit, its cursor, and when it commits if no keystroke comes first.
//!
//! Nothing here touches the engine or the store: a commit is handed to the thread as an
//! [`EditFn`] (one Automerge change), which stores it like any other edit. The app's side of a
//! session is [`crate::TextSession`].

use std::collections::HashMap;
use std::time::Duration;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, AutomergeError, Cursor, ObjId, ObjType, ReadDoc, Value, ROOT};
use chrono::Utc;
use sync_core::model::Editor;
use sync_core::wire::Message;
use sync_core::DocumentId;

use super::command::{Edit, EditFn, TextTarget};
use crate::error::SdkError;

/// An open text session.
#[derive(Debug)]
struct Session {
    document: DocumentId,
    target: TextTarget,
    /// The text as the user sees it: the document's text with the buffered edits applied.
    text: Vec<char>,
    cursor: usize,
    /// Buffered splices `(pos, del, insert)`, each relative to the text after the previous.
    ops: Vec<(usize, usize, String)>,
    /// When to commit if no keystroke comes first.
    deadline: Option<tokio::time::Instant>,
    /// The cursor as an Automerge cursor while a remote change is applied.
    mark: Option<Cursor>,
}

impl Session {
    fn splice(&mut self, pos: usize, del: usize, insert: &str) {
        let pos = pos.min(self.text.len());
        let del = del.min(self.text.len() - pos);
        if del == 0 && insert.is_empty() {
            return;
        }
        self.text.splice(pos..pos + del, insert.chars());
        let inserted = insert.chars().count();
        self.cursor = pos + inserted;
        // Consecutive typing becomes one splice.
        if let Some((last_pos, 0, last_insert)) = self.ops.last_mut() {
            if del == 0 && pos == *last_pos + last_insert.chars().count() {
                last_insert.push_str(insert);
                return;
            }
        }
        self.ops.push((pos, del, insert.to_owned()));
    }

    fn edit(&mut self, edit: Edit) {
        match edit {
            Edit::Type(text) => self.splice(self.cursor, 0, &text),
            Edit::Backspace(n) => {
                let n = n.min(self.cursor);
                self.splice(self.cursor - n, n, "");
            }
            Edit::Splice { pos, del, insert } => self.splice(pos, del, &insert),
            Edit::MoveCursor(pos) => self.cursor = pos.min(self.text.len()),
        }
    }
}

/// The open text sessions by id, and how they commit.
#[derive(Debug)]
pub(super) struct Sessions {
    open: HashMap<u64, Session>,
    /// The user recorded as author of the commits.
    author: Option<Editor>,
    /// A session commits after this long without a keystroke.
    idle_commit: Duration,
}

impl Sessions {
    /// No session open yet.
    pub(super) fn new(author: Option<Editor>, idle_commit: Duration) -> Self {
        Self {
            open: HashMap::new(),
            author,
            idle_commit,
        }
    }

    /// Opens (or, for an id already open, replaces) session `id` on `target` in `doc`, the
    /// cursor at the end of its text.
    pub(super) fn open(
        &mut self,
        id: u64,
        document: DocumentId,
        doc: &Automerge,
        target: TextTarget,
    ) -> Result<(), SdkError> {
        let obj = text_object(doc, &target.path)?;
        let text: Vec<char> = doc.text(&obj)?.chars().collect();
        let session = Session {
            document,
            target,
            cursor: text.len(),
            text,
            ops: Vec::new(),
            deadline: None,
            mark: None,
        };
        self.open.insert(id, session);
        Ok(())
    }

    /// The document session `id` edits.
    pub(super) fn document(&self, id: u64) -> Option<DocumentId> {
        self.open.get(&id).map(|s| s.document)
    }

    /// Whether some session edits `document`.
    pub(super) fn edit_document(&self, document: DocumentId) -> bool {
        self.open.values().any(|s| s.document == document)
    }

    /// Applies a keystroke; a keystroke that changed the text moves the idle commit later.
    pub(super) fn edit(&mut self, id: u64, edit: Edit) {
        let idle = self.idle_commit;
        if let Some(session) = self.open.get_mut(&id) {
            let typed = !matches!(edit, Edit::MoveCursor(_));
            session.edit(edit);
            if typed && !session.ops.is_empty() {
                session.deadline = Some(tokio::time::Instant::now() + idle);
            }
        }
    }

    /// The text as the user sees it and the cursor.
    pub(super) fn view(&self, id: u64) -> Option<(String, usize)> {
        self.open
            .get(&id)
            .map(|s| (s.text.iter().collect(), s.cursor))
    }

    /// Takes what session `id` buffered as one change to `document`, or `None` when there is
    /// nothing to commit (no such session, or no keystroke since its last commit).
    pub(super) fn take_commit(&mut self, id: u64) -> Option<(DocumentId, EditFn)> {
        let session = self.open.get_mut(&id)?;
        session.deadline = None;
        if session.ops.is_empty() {
            return None;
        }
        let ops = std::mem::take(&mut session.ops);
        let document = session.document;
        let path = session.target.path.clone();
        let message = commit_message(
            &format!("{}: edited", session.target.label),
            self.author.as_ref(),
        );
        let at = Utc::now().timestamp();
        let edit: EditFn = Box::new(move |doc| {
            let obj = text_object(doc, &path)?;
            doc.transact_with(
                |_| CommitOptions::default().with_message(message).with_time(at),
                |tx| {
                    for (pos, del, insert) in &ops {
                        let len = tx.length(&obj);
                        let pos = (*pos).min(len);
                        let del = (*del).min(len - pos);
                        tx.splice_text(&obj, pos, del as isize, insert)?;
                    }
                    Ok::<(), AutomergeError>(())
                },
            )
            .map(|_| ())
            .map_err(|failure| SdkError::Automerge(failure.error))
        });
        Some((document, edit))
    }

    /// The sessions of `document` other than `except` with keystrokes to commit.
    pub(super) fn dirty_in(&self, document: DocumentId, except: Option<u64>) -> Vec<u64> {
        self.open
            .iter()
            .filter(|(id, s)| s.document == document && Some(**id) != except && !s.ops.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every open session.
    pub(super) fn ids(&self) -> Vec<u64> {
        self.open.keys().copied().collect()
    }

    /// The sessions whose idle time is over.
    pub(super) fn due(&self, now: tokio::time::Instant) -> Vec<u64> {
        self.open
            .iter()
            .filter(|(_, s)| s.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The earliest idle commit.
    pub(super) fn next_deadline(&self) -> Option<tokio::time::Instant> {
        self.open.values().filter_map(|s| s.deadline).min()
    }

    /// Ends session `id` (commit it first).
    pub(super) fn close(&mut self, id: u64) {
        self.open.remove(&id);
    }

    /// Ends every session of a document that left this device.
    pub(super) fn forget(&mut self, document: DocumentId) {
        self.open.retain(|_, s| s.document != document);
    }

    /// Ends every session (a wiped store).
    pub(super) fn clear(&mut self) {
        self.open.clear();
    }

    /// Before a remote change to `document` (its buffered keystrokes committed): marks each of
    /// its sessions' cursors, so that they can follow the merged text.
    pub(super) fn mark_cursors(&mut self, document: DocumentId, doc: &Automerge) {
        for session in self.open.values_mut() {
            if session.document != document {
                continue;
            }
            session.mark = text_object(doc, &session.target.path).ok().and_then(|obj| {
                if session.cursor >= session.text.len() {
                    doc.get_cursor(&obj, automerge::CursorPosition::End, None)
                } else {
                    doc.get_cursor(&obj, session.cursor, None)
                }
                .ok()
            });
        }
    }

    /// After a remote change: every session of the document shows the merged text, its cursor
    /// where the user left it.
    pub(super) fn follow_remote(&mut self, document: DocumentId, doc: &Automerge) {
        for session in self.open.values_mut() {
            if session.document != document {
                continue;
            }
            let Ok(obj) = text_object(doc, &session.target.path) else {
                continue;
            };
            if let Ok(text) = doc.text(&obj) {
                session.text = text.chars().collect();
            }
            let mark = session.mark.take();
            session.cursor = mark
                .and_then(|m| doc.get_cursor_position(&obj, &m, None).ok())
                .unwrap_or(session.cursor)
                .min(session.text.len());
        }
    }
}

/// The Text object at `path` (map keys from the root).
fn text_object(doc: &Automerge, path: &[String]) -> Result<ObjId, SdkError> {
    let shown = path.join("/");
    let mut obj = ROOT;
    for (i, key) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match doc.get(&obj, key.as_str())? {
            Some((Value::Object(ObjType::Text), id)) if last => return Ok(id),
            Some((Value::Object(ObjType::Map), id)) if !last => obj = id,
            _ => {
                return Err(SdkError::Invalid(format!(
                    "{shown} is not a text field of this document"
                )))
            }
        }
    }
    Err(SdkError::Invalid(
        "an empty path names no text field".into(),
    ))
}

/// A commit message in the model's convention: the summary, then `Author` and `Institution`
/// trailers (written by `sync_core::model::editor::message`, which the history reader parses).
fn commit_message(summary: &str, by: Option<&Editor>) -> String {
    match by {
        Some(by) => sync_core::model::editor::message(summary, by),
        None => summary.to_owned(),
    }
}

/// Whether a sync message carries changes (and so may move text under a session's cursor).
pub(super) fn carries_changes(message: &Message) -> bool {
    match message {
        Message::Sync(m) | Message::Request(m) => automerge::sync::Message::decode(&m.data)
            .map(|s| !s.changes.is_empty())
            .unwrap_or(false),
        _ => false,
    }
}
