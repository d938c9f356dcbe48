//! The referral's values: its closed sets, what a new one takes and what a reader returns.

use automerge::ActorId;
use chrono::{DateTime, Utc};

use crate::model::conflict::Conflict;

wire_enum! {
    /// How soon the referrer asks for contact (*pilność*).
    Urgency {
        /// *Zwykłe* — in the usual course.
        Routine = "routine",
        /// *Pilne* — within days.
        Soon = "soon",
        /// *Bardzo pilne* — at once (a child at risk).
        Urgent = "urgent",
    }
}

wire_enum! {
    /// On what basis the referrer passes the person's data on (*podstawa*).
    LegalBasis {
        /// *Zgoda* — the person or family agreed to be referred.
        Consent = "consent",
        /// *Obowiązek prawny* — a provision requires or allows it (e.g. the Blue Card procedure).
        LegalDuty = "legal_duty",
        /// *Ochrona żywotnych interesów* — to protect someone's vital interests (GDPR art. 9(2)(c)).
        VitalInterest = "vital_interest",
    }
}

wire_enum! {
    /// Whom a referral is about.
    SubjectKind {
        /// *Osoba*.
        Person = "person",
        /// *Rodzina*.
        Family = "family",
    }
}

wire_enum! {
    /// Where a referral stands.
    ReferralStatus {
        /// *Przesłane* — waiting for the receiving institution.
        Submitted = "submitted",
        /// *Przyjęte* — a case was opened.
        Accepted = "accepted",
        /// *Odrzucone* — declined, with a reason.
        Declined = "declined",
    }
}

/// What a new referral holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralInit {
    /// The Automerge actor of the referrer's device.
    pub actor: ActorId,
    /// The receiving institution (a GOPS/MOPS/PCPR).
    pub to: String,
    /// The referrer's login.
    pub by: String,
    /// The referrer's institution.
    pub institution: String,
    /// A person or a family.
    pub subject_kind: SubjectKind,
    /// Their name.
    pub subject_name: String,
    /// Why.
    pub reason: String,
    /// How soon.
    pub urgency: Urgency,
    /// How to reach them (address, phone, through the school...).
    pub contact: String,
    /// The basis for passing their data on.
    pub basis: LegalBasis,
    /// The consent's form or the provision, in words.
    pub basis_note: String,
}

/// A decision on a referral.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralDecision {
    /// The deciding worker's login.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why it was declined (declined referrals only).
    pub reason: Option<String>,
    /// The case opened (accepted referrals only).
    pub case: Option<String>,
}

/// A referral as read from its document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralView {
    /// The receiving institution.
    pub to: String,
    /// The referrer's login.
    pub by: String,
    /// The referrer's institution.
    pub institution: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
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
    /// Where it stands (with concurrent decisions, if two were taken at once).
    pub status: Conflict<ReferralStatus>,
    /// The decision, once taken.
    pub decision: Option<ReferralDecision>,
}

impl ReferralView {
    /// The paths of fields in conflict (for the conflicts screen).
    pub fn conflicts(&self) -> Vec<String> {
        if self.status.is_conflicted() {
            vec![super::key::STATUS.to_owned()]
        } else {
            Vec::new()
        }
    }
}
