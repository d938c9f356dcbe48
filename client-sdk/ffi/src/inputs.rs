//! What edits take. Records the model defines with plain fields are exposed as they are
//! (`#[uniffi::remote]`); those holding times, days or maps have a boundary twin here.

use std::collections::BTreeMap;
use std::time::SystemTime;

use sync_core::model::case::{
    ConsentEvent, ConsentState, GoalPlan, HandoverTarget, HouseholdMember, Referral, Signature,
    SigningMode,
};

use crate::convert::{parse_day, utc};
use crate::error::KooperacjaError;

/// A signing of the contract (*podpisanie kontraktu*): who, how, and for remote acceptance the
/// recorded consent in words.
#[uniffi::remote(Record)]
pub struct Signature {
    pub signer: String,
    pub mode: SigningMode,
    pub consent_note: String,
}

/// Consent to share with an institution for a purpose, given or withdrawn (*zgoda*).
#[uniffi::remote(Record)]
pub struct ConsentEvent {
    pub institution: String,
    pub purpose: String,
    pub state: ConsentState,
    pub by: String,
}

/// Who takes the person or family over at the hand-over (9.3).
#[uniffi::remote(Record)]
pub struct HandoverTarget {
    pub institution: String,
    pub worker: Option<String>,
}

/// The referral (*zgłoszenie*) that opens a case.
#[derive(Clone, Debug, uniffi::Record)]
pub struct ReferralInput {
    /// The login or name of the person who referred.
    pub by: String,
    /// The referring institution's id.
    pub institution: String,
    /// Why, in free text.
    pub reason: String,
    /// When the referral was made.
    pub at: SystemTime,
}

impl From<ReferralInput> for Referral {
    fn from(r: ReferralInput) -> Self {
        Referral {
            by: r.by,
            institution: r.institution,
            reason: r.reason,
            at: utc(r.at),
        }
    }
}

/// A member of the household (*członek gospodarstwa domowego*).
#[derive(Clone, Debug, uniffi::Record)]
pub struct HouseholdMemberInput {
    /// The person's id within the case (e.g. `p1`).
    pub person_id: String,
    /// Their name.
    pub name: String,
    /// The relation to the person the case is about (`matka`, `syn`...), or `self`.
    pub relation: String,
    /// The date of birth (`YYYY-MM-DD`), when known.
    #[uniffi(default = None)]
    pub birth_date: Option<String>,
}

impl HouseholdMemberInput {
    pub(crate) fn into_model(self) -> Result<(String, HouseholdMember), KooperacjaError> {
        let birth_date = self.birth_date.as_deref().map(parse_day).transpose()?;
        Ok((
            self.person_id,
            HouseholdMember {
                name: self.name,
                relation: self.relation,
                birth_date,
            },
        ))
    }
}

/// The household of a new case, by person id.
pub(crate) fn household(
    members: Vec<HouseholdMemberInput>,
) -> Result<BTreeMap<String, HouseholdMember>, KooperacjaError> {
    members
        .into_iter()
        .map(HouseholdMemberInput::into_model)
        .collect()
}

/// The plan of one IPP goal, written as a SMART goal.
#[derive(Clone, Debug, uniffi::Record)]
pub struct GoalPlanInput {
    /// *Konkretny* — what exactly is to be achieved.
    pub specific: String,
    /// *Mierzalny* — how achievement is measured.
    pub measurable: String,
    /// *Osiągalny* — why it is achievable.
    pub achievable: String,
    /// *Istotny* — why it matters.
    pub relevant: String,
    /// *Określony w czasie* — the deadline (`YYYY-MM-DD`).
    pub deadline: String,
    /// The institution responsible for the goal.
    pub responsible: String,
    /// The basket services that serve the goal.
    #[uniffi(default = [])]
    pub services: Vec<String>,
}

impl GoalPlanInput {
    pub(crate) fn into_model(self) -> Result<GoalPlan, KooperacjaError> {
        Ok(GoalPlan {
            specific: self.specific,
            measurable: self.measurable,
            achievable: self.achievable,
            relevant: self.relevant,
            deadline: parse_day(&self.deadline)?,
            responsible: self.responsible,
            services: self.services.into_iter().collect(),
        })
    }
}
