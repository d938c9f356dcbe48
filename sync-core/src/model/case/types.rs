//! The case's values: its closed sets of values (stage, statuses, modes, sectors), what an edit
//! takes, and what a reader returns ([`CaseView`] and its parts).

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, ChangeHash};
use chrono::{DateTime, NaiveDate, Utc};

use super::layout::key;
use crate::model::conflict::Conflict;
use crate::model::consultation::ConsultationView;

wire_enum! {
    /// The stage of a case (*etap pracy z osobą/rodziną*), following step K7.2 and stage IV.
    Stage {
        /// *Zgłoszenie* — the referral has come in.
        Referral = "referral",
        /// *Screening* — checking whether the model fits the person or family.
        Screening = "screening",
        /// *Diagnoza wielowymiarowa* — the multidimensional diagnosis.
        Diagnosis = "diagnosis",
        /// *IPP — indywidualny program pomocy* — the individual help plan is being written.
        Ipp = "ipp",
        /// *Kontrakt socjalny / rodzinny* — the social or family contract is being agreed.
        Contract = "contract",
        /// *Realizacja i monitorowanie* — services are delivered and progress is monitored.
        Delivery = "delivery",
        /// *Ewaluacja* (9.1) — the work is evaluated after support ends.
        Evaluation = "evaluation",
        /// *Zamknięcie* (9.3) — the case is closed.
        Closed = "closed",
        /// *Przekazanie* (9.3) — the person or family is handed over to another institution.
        HandedOver = "handed_over",
    }
}

wire_enum! {
    /// A sector of the multidimensional diagnosis (*sfera diagnozy wielowymiarowej*).
    DiagnosisSector {
        /// *Sytuacja społeczna* — social situation and relations.
        Social = "social",
        /// *Zdrowie* — health.
        Health = "health",
        /// *Edukacja* — education.
        Education = "education",
        /// *Mieszkanie* — housing.
        Housing = "housing",
        /// *Dochód i praca* — income and work.
        IncomeWork = "income_work",
        /// *Rodzina* — family functioning and care.
        Family = "family",
        /// *Wymiar sprawiedliwości i bezpieczeństwo* — courts, probation (*kuratorzy*), police, safety.
        JusticeSafety = "justice_safety",
        /// *Inne* — anything else.
        Other = "other",
    }
}

wire_enum! {
    /// The status of an IPP goal (*status celu*).
    GoalStatus {
        /// *Zaplanowany* — planned, not started.
        Planned = "planned",
        /// *W realizacji* — being worked on.
        InProgress = "in_progress",
        /// *Osiągnięty* — achieved.
        Achieved = "achieved",
        /// *Nieosiągnięty* — not achieved by its deadline.
        NotAchieved = "not_achieved",
        /// *Zaniechany* — dropped.
        Dropped = "dropped",
    }
}

wire_enum! {
    /// The status of a service in the person's basket (*status usługi w koszyku usług*).
    ServiceStatus {
        /// *Zaplanowana* — planned.
        Planned = "planned",
        /// *Realizowana* — being delivered.
        Active = "active",
        /// *Zakończona* — finished.
        Finished = "finished",
        /// *Odmowa* — the person or family refused it.
        Refused = "refused",
    }
}

wire_enum! {
    /// How a contract was accepted (*sposób podpisania kontraktu*), remote acceptance included.
    SigningMode {
        /// *Osobiście* — signed in person.
        InPerson = "in_person",
        /// *Telefonicznie* — accepted by phone.
        Phone = "phone",
        /// *Wideo* — accepted in a video call.
        Video = "video",
    }
}

wire_enum! {
    /// How a monitoring contact happened (*forma kontaktu*).
    ContactMode {
        /// *Wizyta domowa* — a home visit.
        HomeVisit = "home_visit",
        /// *Telefon* — a phone call.
        Phone = "phone",
        /// *Wideo* — a video call.
        Video = "video",
        /// *W siedzibie instytucji* — at the office.
        Office = "office",
        /// *Inna* — another form.
        Other = "other",
    }
}

wire_enum! {
    /// A consent event (*zgoda*): consent given or withdrawn.
    ConsentState {
        /// *Zgoda udzielona* — consent given.
        Given = "given",
        /// *Zgoda wycofana* — consent withdrawn.
        Withdrawn = "withdrawn",
    }
}

wire_enum! {
    /// The result of screening (*wynik screeningu*).
    ScreeningOutcome {
        /// *Zakwalifikowano* — the person or family is taken into the model.
        Qualified = "qualified",
        /// *Nie zakwalifikowano* — not taken in.
        NotQualified = "not_qualified",
    }
}

wire_enum! {
    /// The PZK's decision on the case at 9.2 (*decyzja PZK*).
    PzkDecision {
        /// *Kontynuacja* — support continues.
        Continue = "continue",
        /// *Zakończenie* — support ends; evaluation and closing or hand-over follow.
        End = "end",
    }
}

/// What a new case starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseInit {
    /// The Automerge actor of the creating device (bound to the user by the server).
    pub actor: ActorId,
    /// The login of the owning social worker (*pracownik socjalny*).
    pub owner: String,
    /// The id of the lead institution (usually the GOPS/MOPS or PCPR).
    pub lead_institution: String,
    /// The referral (*zgłoszenie*) that opens the case.
    pub referral: Referral,
    /// The household members (*osoby w gospodarstwie domowym*) named in the referral, by
    /// person id; more can be added later with [`add_household_member`].
    pub household: BTreeMap<String, HouseholdMember>,
}

/// The referral (*zgłoszenie*): who referred the person or family, why and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referral {
    /// The login or name of the person who referred.
    pub by: String,
    /// The id of the referring institution (any PZK member).
    pub institution: String,
    /// Why, in free text.
    pub reason: String,
    /// When the referral was made.
    pub at: DateTime<Utc>,
}

/// A member of the household (*członek gospodarstwa domowego*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdMember {
    /// The member's name.
    pub name: String,
    /// The relation to the person the case is about (e.g. "matka", "syn"), or "self".
    pub relation: String,
    /// The date of birth, when known.
    pub birth_date: Option<NaiveDate>,
}

/// The screening (*screening*) as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screening {
    /// The result, once recorded.
    pub outcome: Option<Conflict<ScreeningOutcome>>,
    /// Free-text notes.
    pub notes: String,
    /// Who recorded the result.
    pub by: Option<String>,
    /// When the result was recorded.
    pub at: Option<DateTime<Utc>>,
}

/// The plan of one IPP goal (*cel IPP*), written as a SMART goal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalPlan {
    /// *Konkretny* — what exactly is to be achieved.
    pub specific: String,
    /// *Mierzalny* — how achievement is measured.
    pub measurable: String,
    /// *Osiągalny* — why it is achievable.
    pub achievable: String,
    /// *Istotny* — why it matters to the person or family.
    pub relevant: String,
    /// *Określony w czasie* — the deadline.
    pub deadline: NaiveDate,
    /// The id of the institution responsible for the goal.
    pub responsible: String,
    /// The ids of the basket services that serve the goal.
    pub services: BTreeSet<String>,
}

/// An IPP goal as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalView {
    /// The SMART plan.
    pub plan: GoalPlan,
    /// The status, with concurrent values.
    pub status: Conflict<GoalStatus>,
    /// When the goal was first written.
    pub created_at: DateTime<Utc>,
}

/// A service of the basket (*usługa w koszyku usług*) as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    /// The id of the providing institution.
    pub provider: String,
    /// The status, with concurrent values.
    pub status: Conflict<ServiceStatus>,
    /// When the service was put in the basket.
    pub added_at: DateTime<Utc>,
}

/// A signing of the contract (*podpisanie kontraktu*), in person or remote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Who signed or accepted (the person or a family member).
    pub signer: String,
    /// How the contract was accepted.
    pub mode: SigningMode,
    /// What the signer was told and agreed to, in words: the recorded consent, required when
    /// the contract is accepted remotely (by phone or video).
    pub consent_note: String,
}

/// A contract signing as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureView {
    /// The signing.
    pub signature: Signature,
    /// The document's heads when it was signed: the version of the contract that was accepted.
    pub heads: Vec<ChangeHash>,
    /// When it was signed.
    pub at: DateTime<Utc>,
    /// The login of the worker who recorded the signing.
    pub recorded_by: String,
}

/// The contract (*kontrakt socjalny / rodzinny*) as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractView {
    /// The current text.
    pub text: String,
    /// The signings, in the order of the list.
    pub signatures: Vec<SignatureView>,
}

/// A monitoring note (*notatka z monitorowania*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringNote {
    /// The login of the author.
    pub author: String,
    /// The id of the author's institution.
    pub institution: String,
    /// How the contact happened.
    pub mode: ContactMode,
    /// The note, in free text.
    pub text: String,
}

/// A monitoring note as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringNoteView {
    /// The note's id.
    pub id: String,
    /// The note.
    pub note: MonitoringNote,
    /// When the contact happened.
    pub at: DateTime<Utc>,
}

/// A consent event (*zgoda na udostępnienie danych*): consent to share with an institution for a
/// purpose, given or withdrawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentEvent {
    /// The id of the institution the data may be shared with.
    pub institution: String,
    /// What for.
    pub purpose: String,
    /// Given or withdrawn.
    pub state: ConsentState,
    /// Who gave or withdrew it (a household member id or a name).
    pub by: String,
}

/// A consent event as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentView {
    /// The event.
    pub event: ConsentEvent,
    /// When consent was given or withdrawn.
    pub at: DateTime<Utc>,
    /// The login of the worker who recorded it.
    pub recorded_by: String,
}

/// The evaluation (*ewaluacja*, 9.1) as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The evaluation, in free text.
    pub text: String,
    /// Who last wrote it.
    pub by: Option<String>,
    /// When it was last written.
    pub at: Option<DateTime<Utc>>,
}

/// The PZK's decision on the case (9.2) as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PzkDecisionView {
    /// The decision, with concurrent values.
    pub decision: Conflict<PzkDecision>,
    /// The id of the PZK meeting that decided, when known.
    pub meeting: Option<String>,
    /// Who recorded it.
    pub by: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// Who takes the person or family over at the hand-over (*przekazanie*, 9.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoverTarget {
    /// The id of the institution taking the person or family over.
    pub institution: String,
    /// The login or name of the worker there who takes them over, when agreed.
    pub worker: Option<String>,
}

/// The hand-over (*przekazanie*, 9.3) as read from a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handover {
    /// The id of the institution taking the person or family over.
    pub target: String,
    /// The login or name of the worker there who takes them over, when agreed.
    pub target_worker: Option<String>,
    /// What was agreed, in free text.
    pub note: String,
    /// Who recorded it.
    pub by: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// A whole case as plain Rust values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseView {
    /// The document's schema version.
    pub schema_version: u64,
    /// When the case was created.
    pub created_at: DateTime<Utc>,
    /// The stage, with concurrent values.
    pub stage: Conflict<Stage>,
    /// The login of the owning social worker.
    pub owner: String,
    /// The id of the lead institution.
    pub lead_institution: String,
    /// The household, by person id.
    pub household: BTreeMap<String, HouseholdMember>,
    /// The referral.
    pub referral: Referral,
    /// The screening.
    pub screening: Screening,
    /// The diagnosis text of every sector.
    pub diagnosis: BTreeMap<DiagnosisSector, String>,
    /// The IPP goals, by goal id.
    pub goals: BTreeMap<String, GoalView>,
    /// The service basket, by service id.
    pub services: BTreeMap<String, ServiceView>,
    /// The contract.
    pub contract: ContractView,
    /// The monitoring notes, oldest first (by time, then id).
    pub monitoring: Vec<MonitoringNoteView>,
    /// The consultations, by id.
    pub consultations: BTreeMap<String, ConsultationView>,
    /// The consent events, by id.
    pub consents: BTreeMap<String, ConsentView>,
    /// The evaluation.
    pub evaluation: Evaluation,
    /// The PZK's decision, once recorded.
    pub pzk_decision: Option<PzkDecisionView>,
    /// The hand-over, once agreed.
    pub handover: Option<Handover>,
    /// The next planned visit, when one is set.
    pub next_visit: Option<NaiveDate>,
    /// The household's address, when one is set.
    pub address: Option<String>,
    /// The household's contact phone (E.164), when one is set.
    pub phone: Option<String>,
}

impl CaseView {
    /// The paths of status fields holding concurrent values, which a user must settle.
    pub fn conflicts(&self) -> Vec<String> {
        let mut paths = Vec::new();
        if self.stage.is_conflicted() {
            paths.push(key::STAGE.to_owned());
        }
        if self
            .screening
            .outcome
            .as_ref()
            .is_some_and(Conflict::is_conflicted)
        {
            paths.push(format!("{}/{}", key::SCREENING, key::OUTCOME));
        }
        for (id, goal) in &self.goals {
            if goal.status.is_conflicted() {
                paths.push(format!("{}/{id}/{}", key::GOALS, key::STATUS));
            }
        }
        for (id, service) in &self.services {
            if service.status.is_conflicted() {
                paths.push(format!("{}/{id}/{}", key::SERVICES, key::STATUS));
            }
        }
        if self
            .pzk_decision
            .as_ref()
            .is_some_and(|d| d.decision.is_conflicted())
        {
            paths.push(format!("{}/{}", key::PZK_DECISION, key::DECISION));
        }
        paths
    }

    /// Whether consent to share with `institution` for `purpose` is in force: the latest event
    /// for them (by time, then id) gave it.
    pub fn consent_in_force(&self, institution: &str, purpose: &str) -> bool {
        self.consents
            .iter()
            .filter(|(_, c)| c.event.institution == institution && c.event.purpose == purpose)
            .max_by(|(a_id, a), (b_id, b)| (a.at, a_id).cmp(&(b.at, b_id)))
            .is_some_and(|(_, c)| c.event.state == ConsentState::Given)
    }
}
