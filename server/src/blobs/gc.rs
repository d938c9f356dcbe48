//! Collecting orphaned blobs: uploads no case refers to (the tablet's change naming them never
//! came, or the upload was abandoned half-way) are deleted once older than the grace period.

use std::collections::{BTreeMap, BTreeSet};

use sync_core::model::case;
use sync_core::DocumentId;

use super::Blobs;
use crate::error::ServerError;

/// What a collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Collected {
    /// Blobs looked at.
    pub blobs: usize,
    /// Blobs deleted.
    pub removed: usize,
}

impl Blobs {
    /// Deletes every blob started before `now - grace` that its case does not refer to (or
    /// whose case is gone). Blocking.
    pub fn collect_orphans(&self, now: i64) -> Result<Collected, ServerError> {
        let cutoff = now.saturating_sub(i64::try_from(self.grace.as_secs()).unwrap_or(i64::MAX));
        let mut done = Collected::default();
        let mut referenced: BTreeMap<DocumentId, Option<BTreeSet<String>>> = BTreeMap::new();
        for (id, bytes) in self.backend.all_meta()? {
            done.blobs += 1;
            let meta = super::Meta::decode(&bytes)?;
            if meta.started > cutoff {
                continue;
            }
            let names = match referenced.entry(id.document) {
                std::collections::btree_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::btree_map::Entry::Vacant(new) => {
                    new.insert(self.referenced_by(id.document)?)
                }
            };
            let keep = names
                .as_ref()
                .is_none_or(|names| names.contains(&hex::encode(id.sha256)));
            if !keep {
                self.backend.remove(&id)?;
                done.removed += 1;
            }
        }
        Ok(done)
    }

    /// The hashes a stored case's attachment entries name: none when the case is gone, `None`
    /// (keep them all) when it does not read as a case of this build.
    fn referenced_by(&self, document: DocumentId) -> Result<Option<BTreeSet<String>>, ServerError> {
        let Some(stored) = self.storage.load_now(document)? else {
            return Ok(Some(BTreeSet::new()));
        };
        let doc = sync_core::engine::load_stored(&stored)?;
        Ok(case::referenced_blobs(&doc)
            .ok()
            .map(|names| names.into_iter().collect()))
    }
}
