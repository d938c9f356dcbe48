//! The server's access policy: who may read and write which document.
//!
//! The working minimum of this release: a document belongs to the user whose device created it,
//! and all of that user's devices may read and write it; nobody else may see it. Ownership is
//! kept in the `owners` tree (never inside a CRDT document that writers could edit) and mirrored
//! in memory, because the engine asks on every message.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sync_core::engine::{Access, Policy, Principal};
use sync_core::DocumentId;

use crate::error::ServerError;

/// Document ownership, durable in sled and mirrored in memory.
#[derive(Clone, Debug)]
pub struct Owners {
    tree: sled::Tree,
    map: Arc<RwLock<HashMap<DocumentId, Arc<str>>>>,
}

impl Owners {
    /// Loads the `owners` tree into memory.
    pub fn open(db: &sled::Db) -> Result<Self, ServerError> {
        let tree = db.open_tree("owners")?;
        let mut map = HashMap::new();
        for item in tree.iter() {
            let (k, v) = item?;
            let raw: [u8; 16] = k
                .as_ref()
                .try_into()
                .map_err(|_| ServerError::Corrupt("owner key is not a document id".into()))?;
            let login = String::from_utf8(v.to_vec())
                .map_err(|_| ServerError::Corrupt("owner is not UTF-8".into()))?;
            map.insert(DocumentId::from_bytes(raw), Arc::from(login));
        }
        Ok(Self {
            tree,
            map: Arc::new(RwLock::new(map)),
        })
    }

    /// Records the owner of a new document (made durable by the next group commit, which is the
    /// one that stores the document's first changes).
    pub fn record(&self, document: DocumentId, login: &str) -> Result<(), ServerError> {
        self.tree.insert(document.as_bytes(), login.as_bytes())?;
        if let Ok(mut map) = self.map.write() {
            map.entry(document).or_insert_with(|| Arc::from(login));
        }
        Ok(())
    }

    /// The owner of a document.
    pub fn owner(&self, document: &DocumentId) -> Option<Arc<str>> {
        self.map.read().ok()?.get(document).cloned()
    }

    /// The documents a user owns.
    pub fn owned_by(&self, login: &str) -> Vec<DocumentId> {
        let Ok(map) = self.map.read() else {
            return Vec::new();
        };
        let mut out: Vec<DocumentId> = map
            .iter()
            .filter(|(_, owner)| owner.as_ref() == login)
            .map(|(id, _)| *id)
            .collect();
        out.sort();
        out
    }
}

/// The policy the engine asks.
#[derive(Clone, Debug)]
pub struct ServerPolicy {
    owners: Owners,
}

impl ServerPolicy {
    /// A policy over the ownership records.
    pub fn new(owners: Owners) -> Self {
        Self { owners }
    }
}

impl Policy for ServerPolicy {
    fn access(&self, principal: &Principal, document: &DocumentId, exists: bool) -> Access {
        match self.owners.owner(document) {
            Some(owner) if owner.as_ref() == principal.user => Access::ReadWrite,
            Some(_) => Access::None,
            // Nothing stored and nobody owns it: the caller may create it.
            None if !exists => Access::ReadWrite,
            None => Access::None,
        }
    }
}
