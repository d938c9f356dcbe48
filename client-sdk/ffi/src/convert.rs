//! Conversions at the boundary: document ids as their base58check text, times as
//! `SystemTime` (Kotlin `java.time.Instant`, Swift `Date`), calendar days as ISO text
//! (`2026-12-06`), change hashes as hex.

use std::time::SystemTime;

use automerge::ChangeHash;
use chrono::{DateTime, NaiveDate, Utc};
use sync_core::DocumentId;

use crate::error::KooperacjaError;

/// A document id from its text, or a clear error.
pub(crate) fn document_id(text: &str) -> Result<DocumentId, KooperacjaError> {
    DocumentId::parse(text)
        .map_err(|e| KooperacjaError::invalid(&format!("document id {text:?}: {e}")))
}

/// A time for the foreign side.
pub(crate) fn time(at: DateTime<Utc>) -> SystemTime {
    SystemTime::from(at)
}

/// A time from the foreign side.
pub(crate) fn utc(at: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(at)
}

/// A calendar day as ISO text.
pub(crate) fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A calendar day from ISO text (`2026-12-06`), or a clear error.
pub(crate) fn parse_day(text: &str) -> Result<NaiveDate, KooperacjaError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| KooperacjaError::invalid(&format!("date {text:?} (expected YYYY-MM-DD): {e}")))
}

/// Change hashes as hex.
pub(crate) fn hashes(heads: &[ChangeHash]) -> Vec<String> {
    heads.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_back_and_bad_days_are_refused() {
        let date = parse_day("2026-12-06").expect("a day");
        assert_eq!(day(date), "2026-12-06");
        let error = parse_day("6.12.2026").expect_err("not ISO");
        assert_eq!(error.reason_code(), "sdk.invalid");
        assert_eq!(
            document_id("nope").expect_err("not an id").reason_code(),
            "sdk.invalid"
        );
    }
}
