//! Rectification (GDPR art. 16) from the tablet: a correction of a person's data recorded as
//! such in the case, with who, why and the old value (`sync_core::model::case::rectify`).

use std::collections::BTreeMap;

use sync_core::model::case::{self, Rectification, RectificationView};
use sync_core::DocumentId;

use super::{random_id, Tablet};
use crate::error::SdkError;

impl Tablet {
    /// Corrects a field of the case and records the correction (which field, the old and the
    /// new value, this tablet's user and institution, the reason, the time); returns the
    /// entry's id. Refused as the model refuses it: `rectification.reason-required`,
    /// `rectification.unknown-field`, `rectification.value-invalid`, `rectification.no-change`,
    /// or the field's own code (`household.phone-invalid`...).
    pub async fn rectify(
        &self,
        document: DocumentId,
        rectification: Rectification,
    ) -> Result<String, SdkError> {
        let id = random_id("r");
        let entry_id = id.clone();
        self.edit(document, move |doc, by, at| {
            case::rectify(doc, &entry_id, &rectification, by, at)
        })
        .await?;
        Ok(id)
    }

    /// The case's rectifications by id.
    pub async fn rectifications(
        &self,
        document: DocumentId,
    ) -> Result<BTreeMap<String, RectificationView>, SdkError> {
        self.read(document, |doc| Ok(case::read_rectifications(doc)?))
            .await
    }
}
