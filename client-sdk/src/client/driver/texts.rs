//! Text sessions as the driver serves them: a session's requests, and its buffered keystrokes
//! committed as one stored change at every boundary (idle time, another field, an explicit
//! commit, closing, shutting down, or a change arriving from the server).

use sync_core::storage::Storage;
use sync_core::DocumentId;

use super::Driver;
use crate::client::command::{Ack, SessionCmd, TextTarget};
use crate::error::SdkError;
use crate::store::Meta;

impl<S: Storage + Clone, M: Meta> Driver<S, M> {
    /// Serves one request of text session `id`.
    pub(super) async fn session(&mut self, id: u64, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Open {
                document,
                target,
                ack,
            } => {
                self.commit_document_sessions(document, Some(id)).await;
                let _ = ack.send(self.open_session(id, document, target));
            }
            SessionCmd::Edit(edit) => self.sessions.edit(id, edit),
            SessionCmd::Read(tx) => {
                let _ = tx.send(self.sessions.view(id));
            }
            SessionCmd::Commit(ack) => self.commit_session(id, Some(ack)).await,
            SessionCmd::Switch { target, ack } => {
                self.commit_session(id, None).await;
                let Some(document) = self.sessions.document(id) else {
                    let _ = ack.send(Err(SdkError::Invalid("the text session is closed".into())));
                    return;
                };
                self.commit_document_sessions(document, Some(id)).await;
                let _ = ack.send(self.open_session(id, document, target));
            }
            SessionCmd::Close(ack) => {
                self.commit_session(id, ack).await;
                self.sessions.close(id);
            }
        }
    }

    /// Opens session `id` on `target`, if the document is here and this user may edit it.
    fn open_session(
        &mut self,
        id: u64,
        document: DocumentId,
        target: TextTarget,
    ) -> Result<(), SdkError> {
        if self.docs.read_only.contains(&document) {
            return Err(SdkError::ReadOnly(document));
        }
        let doc = self
            .engine
            .document(&document)
            .ok_or(SdkError::UnknownDocument(document))?;
        self.sessions.open(id, document, doc, target)
    }

    /// Commits a session's buffered keystrokes as one change (durable when `ack` hears back).
    pub(super) async fn commit_session(&mut self, id: u64, ack: Option<Ack>) {
        match self.sessions.take_commit(id) {
            Some((document, edit)) => self.apply_change(document, edit, ack).await,
            None => {
                if let Some(ack) = ack {
                    let _ = ack.send(Ok(()));
                }
            }
        }
    }

    /// Commits every other session of a document (the user moved to another section).
    async fn commit_document_sessions(&mut self, document: DocumentId, except: Option<u64>) {
        for id in self.sessions.dirty_in(document, except) {
            self.commit_session(id, None).await;
        }
    }

    /// Commits every session (the client is shutting down).
    pub(super) async fn commit_all_sessions(&mut self) {
        for id in self.sessions.ids() {
            self.commit_session(id, None).await;
        }
    }

    /// Commits the sessions whose idle time is over.
    pub(super) async fn commit_idle_sessions(&mut self) {
        for id in self.sessions.due(tokio::time::Instant::now()) {
            self.commit_session(id, None).await;
        }
    }

    /// Before a remote change to `document` is applied: commit what its sessions buffered (so
    /// positions still mean what the user saw) and mark their cursors.
    pub(super) async fn before_remote_change(&mut self, document: DocumentId) {
        self.commit_document_sessions(document, None).await;
        if let Some(doc) = self.engine.document(&document) {
            self.sessions.mark_cursors(document, doc);
        }
    }
}
