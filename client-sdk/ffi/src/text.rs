//! [`TextSession`]: typing into a free-text field; keystrokes are buffered and become one change
//! at a boundary (idle time, another field, `commit`, `close`, a change from the server).

use std::sync::Arc;

use client_sdk::SmartPart;
use sync_core::model::case::DiagnosisSector;
use tokio::sync::{Mutex, MutexGuard};

use crate::error::KooperacjaError;
use crate::records::TextView;
use crate::runtime::run;

/// A free-text field of a case or PZK document.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum TextField {
    /// A sector of the multidimensional diagnosis.
    Diagnosis { sector: DiagnosisSector },
    /// The referral's reason.
    ReferralReason,
    /// The screening notes.
    ScreeningNotes,
    /// A SMART part of an IPP goal.
    Goal { goal: String, part: SmartPart },
    /// The contract's text.
    ContractText,
    /// The evaluation (9.1).
    Evaluation,
    /// The hand-over note (9.3).
    HandoverNote,
    /// A PZK's agreement text.
    AgreementText,
    /// A PZK meeting's minutes.
    Minutes { meeting: String },
    /// Any other text, by the map keys from the document's root.
    Path { keys: Vec<String> },
}

impl From<TextField> for client_sdk::TextField {
    fn from(field: TextField) -> Self {
        use client_sdk::TextField as F;
        match field {
            TextField::Diagnosis { sector } => F::Diagnosis(sector),
            TextField::ReferralReason => F::ReferralReason,
            TextField::ScreeningNotes => F::ScreeningNotes,
            TextField::Goal { goal, part } => F::Goal { goal, part },
            TextField::ContractText => F::ContractText,
            TextField::Evaluation => F::Evaluation,
            TextField::HandoverNote => F::HandoverNote,
            TextField::AgreementText => F::AgreementText,
            TextField::Minutes { meeting } => F::Minutes { meeting },
            TextField::Path { keys } => F::Path(keys),
        }
    }
}

type Slot = Arc<Mutex<Option<client_sdk::TextSession>>>;

/// An editing session on one text field. Keystroke calls return at once; positions count
/// Unicode code points. Close it (or let it be freed) to commit what it buffered.
#[derive(Debug, uniffi::Object)]
pub struct TextSession {
    session: Slot,
}

impl TextSession {
    pub(crate) fn new(session: client_sdk::TextSession) -> Arc<Self> {
        Arc::new(Self {
            session: Arc::new(Mutex::new(Some(session))),
        })
    }

    /// The session for a keystroke: from the app's threads it waits for a commit in flight; on
    /// one of the SDK's own threads (inside a listener) it never blocks.
    fn now(&self) -> Result<MutexGuard<'_, Option<client_sdk::TextSession>>, KooperacjaError> {
        match self.session.try_lock() {
            Ok(guard) => Ok(guard),
            Err(_) if tokio::runtime::Handle::try_current().is_err() => {
                Ok(self.session.blocking_lock())
            }
            Err(_) => Err(KooperacjaError::invalid(
                "the text session is busy committing; type again from the app's thread",
            )),
        }
    }

    fn keystroke(
        &self,
        act: impl FnOnce(&client_sdk::TextSession) -> Result<(), client_sdk::SdkError>,
    ) -> Result<(), KooperacjaError> {
        let guard = self.now()?;
        let session = guard.as_ref().ok_or_else(closed)?;
        Ok(act(session)?)
    }
}

fn closed() -> KooperacjaError {
    KooperacjaError::invalid("the text session is closed")
}

#[uniffi::export]
impl TextSession {
    /// Types `text` at the cursor (the cursor starts at the end of the field).
    pub fn type_text(&self, text: String) -> Result<(), KooperacjaError> {
        self.keystroke(|s| s.type_text(&text))
    }

    /// Deletes up to `count` characters before the cursor.
    pub fn backspace(&self, count: u64) -> Result<(), KooperacjaError> {
        self.keystroke(|s| s.backspace(count as usize))
    }

    /// Deletes `delete` characters at `position` and inserts `insert` there.
    pub fn splice(
        &self,
        position: u64,
        delete: u64,
        insert: String,
    ) -> Result<(), KooperacjaError> {
        self.keystroke(|s| s.splice(position as usize, delete as usize, &insert))
    }

    /// Moves the cursor (past the end means the end).
    pub fn move_cursor(&self, position: u64) -> Result<(), KooperacjaError> {
        self.keystroke(|s| s.move_cursor(position as usize))
    }

    /// The document being edited.
    pub fn document(&self) -> Result<String, KooperacjaError> {
        let guard = self.now()?;
        Ok(guard.as_ref().ok_or_else(closed)?.document().to_string())
    }

    /// The field's text as the user sees it (uncommitted keystrokes included) and the cursor.
    pub async fn view(&self) -> Result<TextView, KooperacjaError> {
        let slot = self.session.clone();
        run(async move {
            let guard = slot.lock().await;
            let session = guard.as_ref().ok_or_else(closed)?;
            let (text, cursor) = session.view().await?;
            Ok::<_, KooperacjaError>(TextView {
                text,
                cursor: cursor as u64,
            })
        })
        .await
    }

    /// Commits the buffered keystrokes as one change; durable on the device when this returns.
    pub async fn commit(&self) -> Result<(), KooperacjaError> {
        let slot = self.session.clone();
        run(async move {
            let guard = slot.lock().await;
            let session = guard.as_ref().ok_or_else(closed)?;
            Ok::<_, KooperacjaError>(session.commit().await?)
        })
        .await
    }

    /// Commits, then edits another field of the same document.
    pub async fn switch_to(&self, field: TextField) -> Result<(), KooperacjaError> {
        let slot = self.session.clone();
        run(async move {
            let mut guard = slot.lock().await;
            let session = guard.as_mut().ok_or_else(closed)?;
            Ok::<_, KooperacjaError>(session.switch_to(field.into()).await?)
        })
        .await
    }

    /// Commits and ends the session; durable on the device when this returns. Finishing twice
    /// does nothing. (Not `close`: Kotlin's `AutoCloseable.close` is the binding's own, which
    /// frees the native object; freeing a session unfinished also commits what it buffered.)
    pub async fn finish(&self) -> Result<(), KooperacjaError> {
        let slot = self.session.clone();
        run(async move {
            let session = slot.lock().await.take();
            match session {
                Some(session) => Ok::<_, KooperacjaError>(session.close().await?),
                None => Ok(()),
            }
        })
        .await
    }
}
