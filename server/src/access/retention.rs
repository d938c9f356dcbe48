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

    /// Changes a case's retention record with `change` and saves it; every change is audited as
    /// `kind` with `detail` by `by` (`None`: the server itself). Refused for a document that is
    /// not a case or is erased.
    pub fn update_retention(
        &self,
        document: DocumentId,
        kind: &str,
        by: Option<&str>,
        detail: serde_json::Value,
        change: impl FnOnce(&mut Retention),
    ) -> Result<DocRecord, ServerError> {
        let mut record = self
            .record(&document)
            .filter(|r| r.kind == Kind::Case && !r.erased)
            .ok_or_else(|| ServerError::NotFound(format!("no case {document}")))?;
        change(&mut record.retention);
        self.save(document, record.clone())?;
        self.inner
            .audit
            .note(kind, by, None, Some(document.to_string()), detail);
        Ok(record)
    }
}
