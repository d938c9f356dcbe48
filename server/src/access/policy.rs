//! [`ServerPolicy`]: the policy the engine asks on every message, answered by the registry.

use automerge::{Automerge, ObjId};
use sync_core::engine::{Access, ChangeSummary, Policy, Principal};
use sync_core::presence::{self, Bound, Member};
use sync_core::{DocumentId, Refusal};

use super::record::Kind;
use super::registry::Registry;

/// The policy the engine asks on every message.
#[derive(Clone, Debug)]
pub struct ServerPolicy {
    registry: Registry,
}

impl ServerPolicy {
    /// A policy over the registry.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

impl Policy for ServerPolicy {
    fn access(&self, principal: &Principal, document: &DocumentId, exists: bool) -> Access {
        self.registry.access_of(&principal.user, document, exists)
    }

    fn inspects_changes(&self) -> bool {
        true
    }

    fn check_changes(
        &self,
        principal: &Principal,
        document: &DocumentId,
        changes: &[ChangeSummary],
    ) -> Result<(), Refusal> {
        self.registry.check_actors(principal, document, changes)
    }

    fn ephemeral(
        &self,
        principal: &Principal,
        _document: &DocumentId,
        data: Vec<u8>,
    ) -> Option<Vec<u8>> {
        // Presence shows the sender's account, whatever the sender says it is.
        let user = self.registry.user(&principal.user)?;
        let member = Member {
            login: user.login,
            name: user.name,
            institution: user.institution.unwrap_or_default(),
        };
        match presence::bind_member(&data, &member) {
            Bound::Unchanged => Some(data),
            Bound::Rewritten(bound) => Some(bound),
            Bound::Dropped => None,
        }
    }

    fn check_document(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
    ) -> Result<(), Refusal> {
        self.registry.check(document, doc, created_by, &[])
    }

    fn check_document_by(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
        writers: &[&Principal],
    ) -> Result<(), Refusal> {
        self.registry.check(document, doc, created_by, writers)
    }

    /// The free text of a case or PZK document (`model::free_texts`): no check of
    /// [`Policy::check_document_by`] depends on it. The parts of a PZK document only its
    /// editors change (`pzk_parts`) and a meeting whose minutes are approved are not among
    /// them, so that check still sees every change of those. Every text of an untyped document
    /// (allowed by `--allow-untyped-documents`): only its kind is checked.
    fn relay_texts(&self, document: &DocumentId, doc: &Automerge) -> Vec<ObjId> {
        match self.registry.record(document).map(|r| r.kind) {
            Some(Kind::Case | Kind::Pzk) => sync_core::model::free_texts(doc),
            // Its creator's alone, and no rule reads its content.
            Some(Kind::Untyped) => sync_core::model::every_text(doc),
            _ => Vec::new(),
        }
    }
}
