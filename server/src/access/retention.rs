//! The registry's part of retention (`crate::retention`): which cases are finished, and their
//! retention record (closing date, notice, legal hold) changed and audited in one place.

use sync_core::DocumentId;

use super::record::{DocRecord, Kind, Retention};
use super::registry::Registry;
use crate::error::ServerError;

impl Registry {
    /// The finished (closed or handed over) cases not erased, with their records, in id order.
    pub fn finished_cases(&self) -> Vec<(DocumentId, DocRecord)> {
        let Ok(records) = self.inner.records.read() else {
            return Vec::new();
        };
        let mut out: Vec<(DocumentId, DocRecord)> = records
            .iter()
            .filter(|(_, r)| r.kind == Kind::Case && r.finished && !r.erased)
            .map(|(id, r)| (*id, r.clone()))
            .collect();
        out.sort_by_key(|(id, _)| *id.as_bytes());
        out
    }

    /// Changes a case's retention record with `change` and saves it, unless `change` finds
    /// nothing to do (returns `false`: the step was taken already); every change is audited as
    /// `kind` with `detail` by `by` (`None`: the server itself). Refused for a document that is
    /// not a case or is erased. Returns the saved record, `None` when there was nothing to do.
    ///
    /// The record is read from the store, not from this node's copy, and written only if
    /// nobody wrote it meanwhile (compare and swap, tried again on a conflict): nodes sweeping
    /// at once take each step once, and a hold an administrator placed through another node
    /// a moment ago is never overwritten.
    pub fn update_retention(
        &self,
        document: DocumentId,
        kind: &str,
        by: Option<&str>,
        detail: serde_json::Value,
        mut change: impl FnMut(&mut Retention) -> bool,
    ) -> Result<Option<DocRecord>, ServerError> {
        let saved = self.update_stored(document, |record| {
            if record.kind != Kind::Case || record.erased {
                return Err(ServerError::NotFound(format!("no case {document}")));
            }
            Ok(change(&mut record.retention))
        })?;
        if saved.is_some() {
            self.inner
                .audit
                .note(kind, by, None, Some(document.to_string()), detail);
        }
        Ok(saved)
    }

    /// A case's record as the store holds it now (with its bytes), `None` for a document that
    /// is not a case or is erased.
    pub fn stored_case(
        &self,
        document: DocumentId,
    ) -> Result<Option<(Vec<u8>, DocRecord)>, ServerError> {
        let Some(bytes) = self.inner.documents.get(document.as_bytes())? else {
            return Ok(None);
        };
        let record: DocRecord = super::registry::decode(&bytes)?;
        Ok((record.kind == Kind::Case && !record.erased).then_some((bytes, record)))
    }
}
