//! Referrals (*zgłoszenia*, K7.2): a partner institution's member refers a person or family to
//! a GOPS/MOPS/PCPR of their PZK; that institution's social worker accepts it (a case opens
//! with the referral linked and the referrer recorded) or declines it with a reason. Both work
//! offline; the server refuses a referral to an institution the referrer shares no PZK with
//! (`refusal.referral-no-pzk-relation`).

use std::collections::BTreeMap;

use chrono::Utc;
use sync_core::model::case::{self, CaseInit, HouseholdMember, Referral};
use sync_core::model::referral::{
    self, LegalBasis, ReferralInit, ReferralView, SubjectKind, Urgency,
};
use sync_core::DocumentId;

use super::Tablet;
use crate::error::SdkError;

/// What a referrer fills in.
#[derive(Clone, Debug, PartialEq, Eq)]
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

impl Tablet {
    /// Writes a referral from this tablet's user for their institution; durable on the device
    /// when this returns, sent when a connection exists.
    pub async fn refer(&self, form: ReferralForm) -> Result<DocumentId, SdkError> {
        let init = ReferralInit {
            actor: self.actor.clone(),
            to: form.to,
            by: self.editor.login().to_owned(),
            institution: self.editor.institution().to_owned(),
            subject_kind: form.subject_kind,
            subject_name: form.subject_name,
            reason: form.reason,
            urgency: form.urgency,
            contact: form.contact,
            basis: form.basis,
            basis_note: form.basis_note,
        };
        let doc = referral::new_referral(&init, &self.editor, Utc::now())?;
        self.create(doc).await
    }

    /// Reads a referral.
    pub async fn referral(&self, document: DocumentId) -> Result<ReferralView, SdkError> {
        self.read(document, |doc| Ok(referral::read_referral(doc)?))
            .await
    }

    /// Accepts a referral: opens a case owned by this tablet's user for their institution,
    /// whose referral names the referrer and links the referral document, then records the
    /// acceptance with the case's id. Returns the case.
    ///
    /// A referral already decided is refused before any case is opened.
    pub async fn accept_referral(&self, document: DocumentId) -> Result<DocumentId, SdkError> {
        let view = self.referral(document).await?;
        if view.decision.is_some() && !view.status.is_conflicted() {
            return Err(SdkError::from(sync_core::SchemaError::Rule(
                sync_core::RuleViolation::ReferralAlreadyDecided(view.status.value.as_str()),
            )));
        }
        let mut household = BTreeMap::new();
        household.insert(
            "p1".to_owned(),
            HouseholdMember {
                name: view.subject_name.clone(),
                relation: "self".to_owned(),
                birth_date: None,
            },
        );
        let init = CaseInit {
            actor: self.actor.clone(),
            owner: self.editor.login().to_owned(),
            lead_institution: self.editor.institution().to_owned(),
            referral: Referral {
                by: view.by.clone(),
                institution: view.institution.clone(),
                reason: view.reason.clone(),
                at: view.created_at,
            },
            household,
        };
        let mut doc = case::new_case(&init, &self.editor, Utc::now())?;
        case::link_referral_document(&mut doc, &document.to_string(), &self.editor, Utc::now())?;
        let case_id = self.create(doc).await?;
        let linked = case_id.to_string();
        self.edit(document, move |doc, by, at| {
            referral::accept_referral(doc, &linked, by, at)
        })
        .await?;
        Ok(case_id)
    }

    /// Declines a referral with the reason the referrer reads.
    pub async fn decline_referral(
        &self,
        document: DocumentId,
        reason: &str,
    ) -> Result<(), SdkError> {
        let reason = reason.to_owned();
        self.edit(document, move |doc, by, at| {
            referral::decline_referral(doc, &reason, by, at)
        })
        .await
    }
}
