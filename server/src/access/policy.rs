//! [`ServerPolicy`]: the policy the engine asks on every message, answered by the registry.

use automerge::Automerge;
use sync_core::engine::{Access, ChangeSummary, Policy, Principal};
use sync_core::presence::{self, Bound, Member};
use sync_core::{DocumentId, Refusal};

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
}
