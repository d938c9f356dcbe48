//! Text sessions: keystrokes buffered into few Automerge changes.
//!
//! A [`TextSession`] edits one free-text field (a diagnosis sector, the contract, a goal's SMART
//! part...). Keystrokes go to the client's thread at once and show in [`TextSession::text`], but
//! they become one Automerge change only at a boundary: the user stops typing for the tablet's
//! `commit_after_idle`, moves to another field ([`TextSession::switch_to`], or a session opened on
//! another field of the same document), calls [`TextSession::commit`], or closes or drops the
//! session. A change from the server for the same document is also a boundary: what was typed
//! is committed first, so positions keep meaning what the user saw, and the cursor follows the
//! merged text.
//!
//! Keystrokes are in memory until their commit: a crash loses at most the last idle interval of
//! typing. Everything committed is durable on the device.

use std::sync::atomic::{AtomicU64, Ordering};

use sync_core::model::case::DiagnosisSector;
use sync_core::DocumentId;
use tokio::sync::oneshot;

use crate::client::{Edit, SessionCmd, SessionSender, TextTarget};
use crate::error::SdkError;

/// A part of an IPP goal written as a SMART goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmartPart {
    /// *Konkretny* — what exactly is to be achieved.
    Specific,
    /// *Mierzalny* — how achievement is measured.
    Measurable,
    /// *Osiągalny* — why it is achievable.
    Achievable,
    /// *Istotny* — why it matters.
    Relevant,
}

impl SmartPart {
    fn key(self) -> &'static str {
        match self {
            SmartPart::Specific => "specific",
            SmartPart::Measurable => "measurable",
            SmartPart::Achievable => "achievable",
            SmartPart::Relevant => "relevant",
        }
    }
}

/// A free-text field of a case or PZK document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextField {
    /// A sector of the multidimensional diagnosis (*diagnoza wielowymiarowa*).
    Diagnosis(DiagnosisSector),
    /// The referral's reason (*powód zgłoszenia*).
    ReferralReason,
    /// The screening notes.
    ScreeningNotes,
    /// A SMART part of an IPP goal.
    Goal {
        /// The goal's id.
        goal: String,
        /// Which part.
        part: SmartPart,
    },
    /// The contract's text (*kontrakt socjalny*).
    ContractText,
    /// The evaluation (*ewaluacja*, 9.1).
    Evaluation,
    /// The hand-over note (*przekazanie*, 9.3).
    HandoverNote,
    /// A PZK's agreement text (*porozumienie*).
    AgreementText,
    /// A PZK meeting's minutes (*protokół*).
    Minutes {
        /// The meeting's id.
        meeting: String,
    },
    /// Any other Text object, by the map keys from the document's root.
    Path(Vec<String>),
}

impl TextField {
    /// The map keys from the root to the field's Text object.
    pub fn path(&self) -> Vec<String> {
        let keys: Vec<&str> = match self {
            TextField::Diagnosis(sector) => vec!["diagnosis", sector.as_str()],
            TextField::ReferralReason => vec!["referral", "reason"],
            TextField::ScreeningNotes => vec!["screening", "notes"],
            TextField::Goal { goal, part } => vec!["goals", goal.as_str(), part.key()],
            TextField::ContractText => vec!["contract", "text"],
            TextField::Evaluation => vec!["evaluation", "text"],
            TextField::HandoverNote => vec!["handover", "note"],
            TextField::AgreementText => vec!["agreement", "text"],
            TextField::Minutes { meeting } => vec!["meetings", meeting.as_str(), "minutes"],
            TextField::Path(path) => return path.clone(),
        };
        keys.into_iter().map(str::to_owned).collect()
    }

    pub(crate) fn target(&self) -> TextTarget {
        let path = self.path();
        TextTarget {
            label: path.join("/"),
            path,
        }
    }
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// An editing session on one text field.
///
/// Keystrokes become one Automerge change only at a boundary: the user stops typing for the
/// tablet's `commit_after_idle`, moves to another field, calls [`TextSession::commit`], closes or
/// drops the session, or a change to the document arrives from the server (what was typed is
/// committed first, and the cursor follows the merged text).
///
/// Edits return at once (they are buffered on the client's thread); positions count Unicode
/// code points. Dropping the session commits what it buffered.
#[derive(Debug)]
pub struct TextSession {
    id: u64,
    sender: SessionSender,
    document: DocumentId,
    field: TextField,
    closed: bool,
}

impl TextSession {
    /// Opens a session; fails if the document is not here or the field is not text in it.
    pub(crate) async fn open(
        sender: SessionSender,
        document: DocumentId,
        field: TextField,
    ) -> Result<Self, SdkError> {
        let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        let (ack, done) = oneshot::channel();
        let target = field.target();
        if !sender.send(
            id,
            SessionCmd::Open {
                document,
                target,
                ack,
            },
        ) {
            return Err(SdkError::Stopped);
        }
        done.await.map_err(|_| SdkError::Stopped)??;
        Ok(Self {
            id,
            sender,
            document,
            field,
            closed: false,
        })
    }

    /// The document being edited.
    pub fn document(&self) -> DocumentId {
        self.document
    }

    /// The field being edited.
    pub fn field(&self) -> &TextField {
        &self.field
    }

    fn edit(&self, edit: Edit) -> Result<(), SdkError> {
        if self.sender.send(self.id, SessionCmd::Edit(edit)) {
            Ok(())
        } else {
            Err(SdkError::Stopped)
        }
    }

    /// Types `text` at the cursor (the cursor starts at the end of the field).
    pub fn type_text(&self, text: &str) -> Result<(), SdkError> {
        self.edit(Edit::Type(text.to_owned()))
    }

    /// Deletes up to `count` characters before the cursor.
    pub fn backspace(&self, count: usize) -> Result<(), SdkError> {
        self.edit(Edit::Backspace(count))
    }

    /// Deletes `del` characters at `pos` and inserts `insert` there (positions past the end are
    /// taken as the end); the cursor moves past the insertion.
    pub fn splice(&self, pos: usize, del: usize, insert: &str) -> Result<(), SdkError> {
        self.edit(Edit::Splice {
            pos,
            del,
            insert: insert.to_owned(),
        })
    }

    /// Moves the cursor (past the end means the end).
    pub fn move_cursor(&self, pos: usize) -> Result<(), SdkError> {
        self.edit(Edit::MoveCursor(pos))
    }

    /// The field's text as the user sees it (with the keystrokes not yet committed) and the
    /// cursor.
    pub async fn view(&self) -> Result<(String, usize), SdkError> {
        let (tx, rx) = oneshot::channel();
        if !self.sender.send(self.id, SessionCmd::Read(tx)) {
            return Err(SdkError::Stopped);
        }
        rx.await
            .map_err(|_| SdkError::Stopped)?
            .ok_or_else(|| SdkError::Invalid("the text session is closed".into()))
    }

    /// The field's text as the user sees it.
    pub async fn text(&self) -> Result<String, SdkError> {
        Ok(self.view().await?.0)
    }

    /// Commits the buffered keystrokes as one change; durable on the device when this returns.
    pub async fn commit(&self) -> Result<(), SdkError> {
        let (ack, done) = oneshot::channel();
        if !self.sender.send(self.id, SessionCmd::Commit(ack)) {
            return Err(SdkError::Stopped);
        }
        done.await.map_err(|_| SdkError::Stopped)?
    }

    /// Commits, then edits another field of the same document (the cursor at its end).
    pub async fn switch_to(&mut self, field: TextField) -> Result<(), SdkError> {
        let (ack, done) = oneshot::channel();
        let target = field.target();
        if !self
            .sender
            .send(self.id, SessionCmd::Switch { target, ack })
        {
            return Err(SdkError::Stopped);
        }
        done.await.map_err(|_| SdkError::Stopped)??;
        self.field = field;
        Ok(())
    }

    /// Commits and ends the session; durable on the device when this returns.
    pub async fn close(mut self) -> Result<(), SdkError> {
        self.closed = true;
        let (ack, done) = oneshot::channel();
        if !self.sender.send(self.id, SessionCmd::Close(Some(ack))) {
            return Err(SdkError::Stopped);
        }
        done.await.map_err(|_| SdkError::Stopped)?
    }
}

impl Drop for TextSession {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.sender.send(self.id, SessionCmd::Close(None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_name_the_model_paths() {
        let table = [
            (
                TextField::Diagnosis(DiagnosisSector::Housing),
                "diagnosis/housing",
            ),
            (
                TextField::Goal {
                    goal: "g1".into(),
                    part: SmartPart::Measurable,
                },
                "goals/g1/measurable",
            ),
            (TextField::ContractText, "contract/text"),
            (
                TextField::Minutes {
                    meeting: "m1".into(),
                },
                "meetings/m1/minutes",
            ),
            (
                TextField::Path(vec!["handover".into(), "note".into()]),
                "handover/note",
            ),
        ];
        for (field, label) in table {
            assert_eq!(field.target().label, label);
        }
    }
}
