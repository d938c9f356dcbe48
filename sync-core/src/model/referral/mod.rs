//! The referral document (*zgłoszenie*, K7.2 step 1 from the partner's side): a member of a
//! partner institution asks a GOPS/MOPS or PCPR of their PZK to take a person or family in.
//!
//! # Layout
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `type` | string `"referral"` | |
//! | `schemaVersion`, `createdAt` | | as every document |
//! | `to` | string | the receiving institution's id (a GOPS/MOPS/PCPR of the referrer's PZK) |
//! | `by`, `institution` | string | the referrer's login and institution |
//! | `subject` | `{kind, name}` | who: a person or a family, by name |
//! | `reason` | Text | why |
//! | `urgency` | string | [`Urgency`] |
//! | `contact` | string | how to reach them |
//! | `basis` | string | [`LegalBasis`]: consent or the provision that allows it, with `basisNote` |
//! | `status` | string | [`ReferralStatus`]: `submitted`, then `accepted` or `declined` |
//! | `decision` | `{by, at, reason?, case?}` | written with the status by the receiving worker |
//!
//! One document per referral, so it travels offline like a case: the referrer writes it once
//! (the server lets them read it afterwards, never change it) and the receiving institution's
//! social workers decide. Accepting opens a case whose `referral` names the referrer and links
//! this document ([`crate::model::case::link_referral_document`]); the referrer reads the outcome
//! and its date here and nothing of the case unless it is shared with them.
//!
//! A decision is taken once: deciding a decided referral is
//! [`RuleViolation::ReferralAlreadyDecided`]; two workers deciding offline at once leave a
//! conflict on `status` that the readers report and a new decision settles.

mod edit;
mod read;
mod types;

#[cfg(test)]
mod tests;

pub use self::edit::{accept_referral, decline_referral, new_referral};
pub use self::read::read_referral;
pub use self::types::{
    LegalBasis, ReferralDecision, ReferralInit, ReferralStatus, ReferralView, SubjectKind, Urgency,
};

/// The keys of the referral document.
pub(crate) mod key {
    pub(crate) const TO: &str = "to";
    pub(crate) const BY: &str = "by";
    pub(crate) const INSTITUTION: &str = "institution";
    pub(crate) const SUBJECT: &str = "subject";
    pub(crate) const KIND: &str = "kind";
    pub(crate) const NAME: &str = "name";
    pub(crate) const REASON: &str = "reason";
    pub(crate) const URGENCY: &str = "urgency";
    pub(crate) const CONTACT: &str = "contact";
    pub(crate) const BASIS: &str = "basis";
    pub(crate) const BASIS_NOTE: &str = "basisNote";
    pub(crate) const STATUS: &str = "status";
    pub(crate) const DECISION: &str = "decision";
    pub(crate) const AT: &str = "at";
    pub(crate) const CASE: &str = "case";
}
