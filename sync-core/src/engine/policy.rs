//! The authorisation decision the host supplies: who may read or write which document.

use automerge::{ActorId, Automerge, ChangeHash, ObjId};

use crate::error::Refusal;
use crate::ids::DocumentId;

/// What a connection may do with a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Nothing: the document is answered exactly like an unknown one.
    None,
    /// Receive the document, send no changes.
    Read,
    /// Receive and change.
    ReadWrite,
}

/// Who is authenticated on a connection (the host authenticates before the protocol starts).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Principal {
    /// The user's login.
    pub user: String,
    /// The device (tablet, browser) the user connects from.
    pub device: String,
}

impl Principal {
    /// A principal.
    pub fn new(user: impl Into<String>, device: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            device: device.into(),
        }
    }
}

/// A change new to the engine, as the policy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSummary {
    /// The change's hash.
    pub hash: ChangeHash,
    /// Its author (Automerge actor).
    pub actor: ActorId,
    /// Its commit message, where the model writes the author's trailers
    /// ([`crate::model::editor`]).
    pub message: Option<String>,
}

/// The host's access policy, asked on every message. It must answer from memory (no IO): the
/// engine calls it on its hot path.
pub trait Policy: Send {
    /// What `principal` may do with `document`; `exists` is false when nothing is stored for it
    /// (a `ReadWrite` answer then lets the peer create it).
    fn access(&self, principal: &Principal, document: &DocumentId, exists: bool) -> Access;

    /// Whether `principal` may not see `document` whatever the store holds of it. A message for
    /// such a document that is not in memory is answered as for an unknown document at once,
    /// without loading it: the time a load takes would tell that the document exists. The
    /// default asks [`Policy::access`] for both answers of the store.
    fn denies(&self, principal: &Principal, document: &DocumentId) -> bool {
        self.access(principal, document, true) == Access::None
            && self.access(principal, document, false) == Access::None
    }

    /// Whether [`Policy::check_changes`] wants to see incoming changes (decoding them costs).
    fn inspects_changes(&self) -> bool {
        false
    }

    /// Checks a writer's changes that are new to the engine (e.g. that every change's actor
    /// belongs to the principal's device). An `Err` discards the whole batch they came in and
    /// refuses the writer with that reason.
    fn check_changes(
        &self,
        principal: &Principal,
        document: &DocumentId,
        changes: &[ChangeSummary],
    ) -> Result<(), Refusal> {
        let _ = (principal, document, changes);
        Ok(())
    }

    /// Checks, and may rewrite, the data of an ephemeral message (presence) a peer sends about
    /// a document before it is relayed: e.g. binding the identity it shows to the principal's
    /// account. `None` drops the message.
    fn ephemeral(
        &self,
        principal: &Principal,
        document: &DocumentId,
        data: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let _ = (principal, document);
        Some(data)
    }

    /// Checks a document after a batch of peers' changes was applied to it and before it is
    /// stored (schema and workflow rules; `created_by` is set when the batch created it). An
    /// `Err` discards the whole batch: the document returns to its durable state, and every
    /// connection that sent part of the batch is refused with the reason and closed.
    fn check_document(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
    ) -> Result<(), Refusal> {
        let _ = (document, doc, created_by);
        Ok(())
    }

    /// [`Policy::check_document`] knowing who wrote the batch's changes new to the document
    /// (`writers`: the principal of each connection that sent some), so that a host may refuse
    /// a change of a part of the document that only some of its writers may change (a PZK
    /// document's agreement, by a member institution's user). The engine asks this one; the
    /// default ignores the writers.
    fn check_document_by(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
        writers: &[&Principal],
    ) -> Result<(), Refusal> {
        let _ = writers;
        self.check_document(document, doc, created_by)
    }

    /// The Text objects of `doc` whose edits no rule constrains (free-text fields such as case
    /// notes; not a signed contract's text): splices into them may be relayed without applying
    /// them at once (issue #23, with [`EngineConfig::relay`](super::EngineConfig::relay)), and
    /// [`Policy::check_document`] is not asked for such a batch. None by default.
    fn relay_texts(&self, document: &DocumentId, doc: &Automerge) -> Vec<ObjId> {
        let _ = (document, doc);
        Vec::new()
    }
}

impl<P: Policy + ?Sized> Policy for Box<P> {
    fn access(&self, principal: &Principal, document: &DocumentId, exists: bool) -> Access {
        (**self).access(principal, document, exists)
    }
    fn denies(&self, principal: &Principal, document: &DocumentId) -> bool {
        (**self).denies(principal, document)
    }
    fn inspects_changes(&self) -> bool {
        (**self).inspects_changes()
    }
    fn check_changes(
        &self,
        principal: &Principal,
        document: &DocumentId,
        changes: &[ChangeSummary],
    ) -> Result<(), Refusal> {
        (**self).check_changes(principal, document, changes)
    }
    fn ephemeral(
        &self,
        principal: &Principal,
        document: &DocumentId,
        data: Vec<u8>,
    ) -> Option<Vec<u8>> {
        (**self).ephemeral(principal, document, data)
    }
    fn check_document(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
    ) -> Result<(), Refusal> {
        (**self).check_document(document, doc, created_by)
    }
    fn check_document_by(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
        writers: &[&Principal],
    ) -> Result<(), Refusal> {
        (**self).check_document_by(document, doc, created_by, writers)
    }
    fn relay_texts(&self, document: &DocumentId, doc: &Automerge) -> Vec<ObjId> {
        (**self).relay_texts(document, doc)
    }
}

/// Everyone may read and write everything: for tests and a client talking to its own server.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn access(&self, _: &Principal, _: &DocumentId, _: bool) -> Access {
        Access::ReadWrite
    }
}
