//! Referrals (*zgłoszenia*): a partner institution's member refers a person or family to a
//! GOPS/MOPS/PCPR of their PZK; that institution's social worker accepts it (a case opens with
//! the referral linked) or declines it with a reason. All of it works offline.

use std::time::SystemTime;

use sync_core::model::referral::{LegalBasis, ReferralStatus, ReferralView, SubjectKind, Urgency};

use crate::convert::{document_id, time};
use crate::error::KooperacjaError;
use crate::runtime::run;
use crate::tablet::Tablet;

/// A person or a family.
#[uniffi::remote(Enum)]
pub enum SubjectKind {
    Person,
    Family,
}

/// How soon a referral needs an answer.
#[uniffi::remote(Enum)]
pub enum Urgency {
    Routine,
    Soon,
    Urgent,
}

/// The basis for passing the person's data on.
#[uniffi::remote(Enum)]
pub enum LegalBasis {
    Consent,
    LegalDuty,
    VitalInterest,
}

/// Where a referral stands.
#[uniffi::remote(Enum)]
pub enum ReferralStatus {
    Submitted,
    Accepted,
    Declined,
}

/// What a referrer fills in.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReferralForm {
    /// The receiving institution (a GOPS/MOPS/PCPR of the referrer's PZK).
    pub to: String,
    /// A person or a family.
    pub subject_kind: SubjectKind,
    /// Their name.
    pub subject_name: String,
    /// Why.
    pub reason: String,
    /// How soon.
    pub urgency: Urgency,
    /// How to reach them.
    pub contact: String,
    /// The basis for passing their data on.
    pub basis: LegalBasis,
    /// The consent's form or the provision, in words.
    pub basis_note: String,
}

impl From<ReferralForm> for client_sdk::ReferralForm {
    fn from(f: ReferralForm) -> Self {
        Self {
            to: f.to,
            subject_kind: f.subject_kind,
            subject_name: f.subject_name,
            reason: f.reason,
            urgency: f.urgency,
            contact: f.contact,
            basis: f.basis,
            basis_note: f.basis_note,
        }
    }
}

/// A referral as read.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReferralDetails {
    /// The receiving institution.
    pub to: String,
    /// The referrer's login.
    pub by: String,
    /// The referrer's institution.
    pub institution: String,
    /// When it was written.
    pub created_at: SystemTime,
    /// A person or a family.
    pub subject_kind: SubjectKind,
    /// Their name.
    pub subject_name: String,
    /// Why.
    pub reason: String,
    /// How soon.
    pub urgency: Urgency,
    /// How to reach them.
    pub contact: String,
    /// The basis.
    pub basis: LegalBasis,
    /// The basis in words.
    pub basis_note: String,
    /// Where it stands (one of the concurrent decisions when two were taken at once).
    pub status: ReferralStatus,
    /// Whether two decisions were taken at once (the conflicts screen resolves it).
    pub status_conflicted: bool,
    /// Who decided, once decided.
    pub decided_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<SystemTime>,
    /// The reason of a decline.
    pub decline_reason: Option<String>,
    /// The case opened by an acceptance.
    pub case_id: Option<String>,
}

impl From<ReferralView> for ReferralDetails {
    fn from(v: ReferralView) -> Self {
        let decision = v.decision;
        Self {
            to: v.to,
            by: v.by,
            institution: v.institution,
            created_at: time(v.created_at),
            subject_kind: v.subject_kind,
            subject_name: v.subject_name,
            reason: v.reason,
            urgency: v.urgency,
            contact: v.contact,
            basis: v.basis,
            basis_note: v.basis_note,
            status_conflicted: v.status.is_conflicted(),
            status: v.status.value,
            decided_by: decision.as_ref().map(|d| d.by.clone()),
            decided_at: decision.as_ref().map(|d| time(d.at)),
            decline_reason: decision.as_ref().and_then(|d| d.reason.clone()),
            case_id: decision.and_then(|d| d.case),
        }
    }
}

#[uniffi::export]
impl Tablet {
    // ----- referrals -----

    /// Writes a referral from this tablet's user for their institution; durable on the device
    /// on return, sent when a connection exists (the server refuses one to an institution the
    /// referrer shares no PZK with). Returns its document id.
    pub async fn refer(&self, form: ReferralForm) -> Result<String, KooperacjaError> {
        let tablet = self.running()?;
        let id = run(async move { tablet.refer(form.into()).await }).await?;
        Ok(id.to_string())
    }

    /// Reads a referral.
    pub async fn referral(&self, referral_id: String) -> Result<ReferralDetails, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&referral_id)?);
        let view = run(async move { tablet.referral(id).await }).await?;
        Ok(view.into())
    }

    /// Accepts a referral: opens a case owned by this tablet's user, linked to the referral and
    /// naming the referrer, and records the acceptance. Returns the case's id. A referral
    /// already decided is refused before any case opens.
    pub async fn accept_referral(&self, referral_id: String) -> Result<String, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&referral_id)?);
        let case = run(async move { tablet.accept_referral(id).await }).await?;
        Ok(case.to_string())
    }

    /// Declines a referral with the reason the referrer reads.
    pub async fn decline_referral(
        &self,
        referral_id: String,
        reason: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&referral_id)?);
        run(async move { tablet.decline_referral(id, &reason).await }).await
    }
}
