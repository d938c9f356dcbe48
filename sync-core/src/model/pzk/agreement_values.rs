//! The values of the agreement (*porozumienie*) that edits take and readers return: its
//! signatories, dates, scan and signed version (see [`super::agreement`]). Apart from the
//! agreement's edits so that the document's view ([`super::types`]) names them without
//! depending on the edits.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

/// A signatory of the agreement (*osoba podpisująca*): who signed, for which institution, in
/// which function, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signatory {
    /// The person's name, e.g. "Jan Kowalski".
    pub person: String,
    /// The institution they signed for (its name or id).
    pub institution: String,
    /// Their function, e.g. "Wójt Gminy" or "Dyrektor".
    pub function: String,
    /// When they signed.
    pub signed_at: DateTime<Utc>,
}

/// The agreement's dates: when it was concluded and the period it is in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgreementDates {
    /// *Data zawarcia*.
    pub concluded_on: Option<NaiveDate>,
    /// *Obowiązuje od*.
    pub valid_from: Option<NaiveDate>,
    /// *Obowiązuje do*.
    pub valid_to: Option<NaiveDate>,
}

/// The scan of the signed paper agreement: a blob of the PZK document named by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreementScan {
    /// 64 lowercase hex digits.
    pub sha256: String,
    /// One of the attachments' MIME types (PDF or a photo).
    pub mime: String,
    /// Bytes.
    pub size: u64,
    /// The file's name as chosen, for the download.
    pub name: String,
}

/// The version of the agreement that was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedAgreement {
    /// The text signed.
    pub text: String,
    /// The parties, by id, with their names.
    pub parties: BTreeMap<String, String>,
    /// Who recorded the signing.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}
