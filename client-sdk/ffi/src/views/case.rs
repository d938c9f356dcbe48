//! [`CaseView`]: a whole case (*sprawa*) as records.

use std::time::SystemTime;

use sync_core::model::case::{
    self as model, ConsentState, ContactMode, DiagnosisSector, GoalStatus, PzkDecision,
    ScreeningOutcome, ServiceStatus, SigningMode, Stage,
};

use super::{consultation, ConsultationView};
use crate::convert::{day, hashes, time};

/// A whole case.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CaseView {
    /// The document's schema version.
    pub schema_version: u64,
    /// When the case was created.
    pub created_at: SystemTime,
    /// The stage every device shows (for a conflict: the one furthest along the workflow).
    pub stage: Stage,
    /// Stages set concurrently with it (a conflict to resolve when not empty).
    pub stage_alternatives: Vec<Stage>,
    /// The owning social worker's login.
    pub owner: String,
    /// The lead institution's id.
    pub lead_institution: String,
    /// The household, by person id.
    pub household: Vec<HouseholdMemberView>,
    /// The referral.
    pub referral: ReferralView,
    /// The screening.
    pub screening: ScreeningView,
    /// The diagnosis, one text per sector.
    pub diagnosis: Vec<DiagnosisText>,
    /// The IPP goals, by id.
    pub goals: Vec<GoalView>,
    /// The service basket, by id.
    pub services: Vec<ServiceView>,
    /// The contract's text.
    pub contract_text: String,
    /// The contract's signings, in order.
    pub signatures: Vec<SignatureView>,
    /// The monitoring notes, oldest first.
    pub monitoring: Vec<MonitoringNoteView>,
    /// The consultations, by id.
    pub consultations: Vec<ConsultationView>,
    /// The consent events, by id.
    pub consents: Vec<ConsentView>,
    /// The evaluation (9.1).
    pub evaluation: EvaluationView,
    /// The PZK's decision (9.2), once recorded.
    pub pzk_decision: Option<PzkDecisionView>,
    /// The hand-over (9.3), once agreed.
    pub handover: Option<HandoverView>,
    /// The next planned visit (`YYYY-MM-DD`).
    pub next_visit: Option<String>,
    /// The paths of status fields holding concurrent values (see `conflicts` for who set what).
    pub conflicts: Vec<String>,
}

/// A household member.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdMemberView {
    pub person_id: String,
    pub name: String,
    pub relation: String,
    /// `YYYY-MM-DD`, when known.
    pub birth_date: Option<String>,
}

/// The referral.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReferralView {
    pub by: String,
    pub institution: String,
    pub reason: String,
    pub at: SystemTime,
}

/// The screening.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ScreeningView {
    /// The result, once recorded.
    pub outcome: Option<ScreeningOutcome>,
    /// Results recorded concurrently with it.
    pub outcome_alternatives: Vec<ScreeningOutcome>,
    pub notes: String,
    pub by: Option<String>,
    pub at: Option<SystemTime>,
}

/// The diagnosis text of one sector.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DiagnosisText {
    pub sector: DiagnosisSector,
    pub text: String,
}

/// An IPP goal.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct GoalView {
    pub id: String,
    pub specific: String,
    pub measurable: String,
    pub achievable: String,
    pub relevant: String,
    /// `YYYY-MM-DD`.
    pub deadline: String,
    pub responsible: String,
    pub services: Vec<String>,
    pub status: GoalStatus,
    pub status_alternatives: Vec<GoalStatus>,
    pub created_at: SystemTime,
}

/// A service in the basket.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ServiceView {
    pub id: String,
    pub provider: String,
    pub status: ServiceStatus,
    pub status_alternatives: Vec<ServiceStatus>,
    pub added_at: SystemTime,
}

/// A signing of the contract.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SignatureView {
    pub signer: String,
    pub mode: SigningMode,
    pub consent_note: String,
    /// The version signed (change hashes, hex).
    pub heads: Vec<String>,
    pub at: SystemTime,
    pub recorded_by: String,
}

/// A monitoring note.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MonitoringNoteView {
    pub id: String,
    pub author: String,
    pub institution: String,
    pub mode: ContactMode,
    pub text: String,
    pub at: SystemTime,
}

/// A consent event.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConsentView {
    pub id: String,
    pub institution: String,
    pub purpose: String,
    pub state: ConsentState,
    pub by: String,
    pub at: SystemTime,
    pub recorded_by: String,
}

/// The evaluation.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct EvaluationView {
    pub text: String,
    pub by: Option<String>,
    pub at: Option<SystemTime>,
}

/// The PZK's decision on the case.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PzkDecisionView {
    pub decision: PzkDecision,
    pub decision_alternatives: Vec<PzkDecision>,
    pub meeting: Option<String>,
    pub by: String,
    pub at: SystemTime,
}

/// The hand-over.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HandoverView {
    pub target: String,
    pub target_worker: Option<String>,
    pub note: String,
    pub by: String,
    pub at: SystemTime,
}

impl From<model::CaseView> for CaseView {
    fn from(v: model::CaseView) -> Self {
        let conflicts = v.conflicts();
        let (outcome, outcome_alternatives) = match v.screening.outcome {
            Some(c) => (Some(c.value), c.alternatives),
            None => (None, Vec::new()),
        };
        CaseView {
            schema_version: v.schema_version,
            created_at: time(v.created_at),
            stage: v.stage.value,
            stage_alternatives: v.stage.alternatives,
            owner: v.owner,
            lead_institution: v.lead_institution,
            household: v
                .household
                .into_iter()
                .map(|(person_id, m)| HouseholdMemberView {
                    person_id,
                    name: m.name,
                    relation: m.relation,
                    birth_date: m.birth_date.map(day),
                })
                .collect(),
            referral: ReferralView {
                by: v.referral.by,
                institution: v.referral.institution,
                reason: v.referral.reason,
                at: time(v.referral.at),
            },
            screening: ScreeningView {
                outcome,
                outcome_alternatives,
                notes: v.screening.notes,
                by: v.screening.by,
                at: v.screening.at.map(time),
            },
            diagnosis: v
                .diagnosis
                .into_iter()
                .map(|(sector, text)| DiagnosisText { sector, text })
                .collect(),
            goals: v
                .goals
                .into_iter()
                .map(|(id, g)| GoalView {
                    id,
                    specific: g.plan.specific,
                    measurable: g.plan.measurable,
                    achievable: g.plan.achievable,
                    relevant: g.plan.relevant,
                    deadline: day(g.plan.deadline),
                    responsible: g.plan.responsible,
                    services: g.plan.services.into_iter().collect(),
                    status: g.status.value,
                    status_alternatives: g.status.alternatives,
                    created_at: time(g.created_at),
                })
                .collect(),
            services: v
                .services
                .into_iter()
                .map(|(id, s)| ServiceView {
                    id,
                    provider: s.provider,
                    status: s.status.value,
                    status_alternatives: s.status.alternatives,
                    added_at: time(s.added_at),
                })
                .collect(),
            contract_text: v.contract.text,
            signatures: v
                .contract
                .signatures
                .into_iter()
                .map(|s| SignatureView {
                    signer: s.signature.signer,
                    mode: s.signature.mode,
                    consent_note: s.signature.consent_note,
                    heads: hashes(&s.heads),
                    at: time(s.at),
                    recorded_by: s.recorded_by,
                })
                .collect(),
            monitoring: v
                .monitoring
                .into_iter()
                .map(|n| MonitoringNoteView {
                    id: n.id,
                    author: n.note.author,
                    institution: n.note.institution,
                    mode: n.note.mode,
                    text: n.note.text,
                    at: time(n.at),
                })
                .collect(),
            consultations: v
                .consultations
                .into_iter()
                .map(|(id, c)| consultation(id, c))
                .collect(),
            consents: v
                .consents
                .into_iter()
                .map(|(id, c)| ConsentView {
                    id,
                    institution: c.event.institution,
                    purpose: c.event.purpose,
                    state: c.event.state,
                    by: c.event.by,
                    at: time(c.at),
                    recorded_by: c.recorded_by,
                })
                .collect(),
            evaluation: EvaluationView {
                text: v.evaluation.text,
                by: v.evaluation.by,
                at: v.evaluation.at.map(time),
            },
            pzk_decision: v.pzk_decision.map(|d| PzkDecisionView {
                decision: d.decision.value,
                decision_alternatives: d.decision.alternatives,
                meeting: d.meeting,
                by: d.by,
                at: time(d.at),
            }),
            handover: v.handover.map(|h| HandoverView {
                target: h.target,
                target_worker: h.target_worker,
                note: h.note,
                by: h.by,
                at: time(h.at),
            }),
            next_visit: v.next_visit.map(day),
            conflicts,
        }
    }
}
