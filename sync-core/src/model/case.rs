//! The case (*sprawa*): one person, family or group supported under step K7.2 of the model.
//!
//! # Layout
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `type` | string `"case"` | |
//! | `schemaVersion` | integer | [`SCHEMA_VERSION`](super::SCHEMA_VERSION) |
//! | `createdAt` | timestamp | |
//! | `stage` | [`Stage`] string | status: concurrent values are a [`Conflict`], resolved by [`stage`] |
//! | `owner` | string | login of the owning social worker (*pracownik socjalny*) |
//! | `leadInstitution` | string | id of the lead institution |
//! | `household` | map: person id → `{name, relation, birthDate?}` | |
//! | `referral` | `{by, institution, reason: Text, at}` | *zgłoszenie* |
//! | `screening` | `{notes: Text, outcome?, by?, at?}` | outcome is a [`ScreeningOutcome`] |
//! | `diagnosis` | map: [`DiagnosisSector`] → Text | one Text per sector |
//! | `goals` | map: goal id → goal | IPP goals, see below |
//! | `services` | map: service id → `{provider, status, addedAt}` | *koszyk usług* |
//! | `contract` | `{text: Text, signatures: list}` | signatures are append-only |
//! | `monitoring` | map: note id → `{author, institution, at, mode, text: Text}` | append-only |
//! | `consultations` | map: id → consultation | see [`super::consultation`] |
//! | `consents` | map: id → `{institution, purpose, state, by, recordedBy, at}` | append-only |
//! | `evaluation` | `{text: Text, by?, at?}` | 9.1 |
//! | `pzkDecision` | `{decision?, meeting?, by?, at?}` | 9.2 |
//! | `handover` | `{note: Text, target?, targetWorker?, by?, at?}` | 9.3, *przekazanie* |
//!
//! A goal is `{specific, measurable, achievable, relevant: Text, deadline: "YYYY-MM-DD",
//! responsible, status, services: map service id → true, createdAt}`; a contract signature is
//! `{heads: list of hex change hashes, signer, at, mode, consentNote, recordedBy}`.
//!
//! Every edit takes the [`Editor`] who makes it (login and institution), or, for entries that
//! name their own author and institution (monitoring notes, consultations and their answers),
//! takes them from the entry. Who and for which institution goes into the change's commit
//! message (see [`super::editor`]); fields such as `by` and `recordedBy` keep the login. The
//! stage moves through [`super::workflow`], which checks the rules of the model.
//!
//! Every container above is created by [`new_case`], so edits only ever add keys inside them
//! and two replicas never race to create the same object. Append-only logs (monitoring notes,
//! consent events) are maps keyed by a client-chosen id: appending the same id twice is refused,
//! so a retried upload cannot duplicate an entry; contract signatures are a list, appended at
//! its end. Entries of these logs are never changed after they are written.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ROOT};
use chrono::{DateTime, NaiveDate, Utc};

use super::access::{check_id, Node};
use super::conflict::Conflict;
use super::consultation::{self, Answer, ConsultationRequest, ConsultationView};
use super::editor::{self, Editor};
use super::{pzk, workflow, write, DocumentKind};
use crate::error::SchemaError;

mod key {
    pub(super) const STAGE: &str = "stage";
    pub(super) const OWNER: &str = "owner";
    pub(super) const LEAD_INSTITUTION: &str = "leadInstitution";
    pub(super) const HOUSEHOLD: &str = "household";
    pub(super) const REFERRAL: &str = "referral";
    pub(super) const SCREENING: &str = "screening";
    pub(super) const DIAGNOSIS: &str = "diagnosis";
    pub(super) const GOALS: &str = "goals";
    pub(super) const SERVICES: &str = "services";
    pub(super) const CONTRACT: &str = "contract";
    pub(super) const MONITORING: &str = "monitoring";
    pub(super) const CONSULTATIONS: &str = "consultations";
    pub(super) const CONSENTS: &str = "consents";
    pub(super) const EVALUATION: &str = "evaluation";
    pub(super) const PZK_DECISION: &str = "pzkDecision";
    pub(super) const HANDOVER: &str = "handover";

    pub(super) const NAME: &str = "name";
    pub(super) const RELATION: &str = "relation";
    pub(super) const BIRTH_DATE: &str = "birthDate";
    pub(super) const BY: &str = "by";
    pub(super) const INSTITUTION: &str = "institution";
    pub(super) const REASON: &str = "reason";
    pub(super) const AT: &str = "at";
    pub(super) const OUTCOME: &str = "outcome";
    pub(super) const NOTES: &str = "notes";
    pub(super) const SPECIFIC: &str = "specific";
    pub(super) const MEASURABLE: &str = "measurable";
    pub(super) const ACHIEVABLE: &str = "achievable";
    pub(super) const RELEVANT: &str = "relevant";
    pub(super) const DEADLINE: &str = "deadline";
    pub(super) const RESPONSIBLE: &str = "responsible";
    pub(super) const STATUS: &str = "status";
    pub(super) const LINKED_SERVICES: &str = "services";
    pub(super) const CREATED_AT: &str = "createdAt";
    pub(super) const PROVIDER: &str = "provider";
    pub(super) const ADDED_AT: &str = "addedAt";
    pub(super) const TEXT: &str = "text";
    pub(super) const SIGNATURES: &str = "signatures";
    pub(super) const HEADS: &str = "heads";
    pub(super) const SIGNER: &str = "signer";
    pub(super) const MODE: &str = "mode";
    pub(super) const CONSENT_NOTE: &str = "consentNote";
    pub(super) const RECORDED_BY: &str = "recordedBy";
    pub(super) const AUTHOR: &str = "author";
    pub(super) const PURPOSE: &str = "purpose";
    pub(super) const STATE: &str = "state";
    pub(super) const DECISION: &str = "decision";
    pub(super) const MEETING: &str = "meeting";
    pub(super) const TARGET: &str = "target";
    pub(super) const TARGET_WORKER: &str = "targetWorker";
    pub(super) const NOTE: &str = "note";

    /// The SMART parts of a goal kept as Text, in the order of `smart_values`.
    pub(super) const SMART: [&str; 4] = [SPECIFIC, MEASURABLE, ACHIEVABLE, RELEVANT];
}

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

// ---------------------------------------------------------------------------------------------
// Creating and editing

/// Records a referral (*zgłoszenie*, K7.2 step 1): creates a case at stage `referral` with the
/// referral, the household it names, and every container the case will ever hold.
///
/// The first change is made by `init.actor` and names `by` (usually the owning worker, who
/// enters the referral), so the case's history starts with its author.
pub fn new_case(init: &CaseInit, by: &Editor, at: DateTime<Utc>) -> Result<Automerge, SchemaError> {
    check_id(key::LEAD_INSTITUTION, &init.lead_institution)?;
    check_id(key::REFERRAL, &init.referral.institution)?;
    for person_id in init.household.keys() {
        check_id(key::HOUSEHOLD, person_id)?;
    }
    let mut doc = Automerge::new().with_actor(init.actor.clone());
    let what = format_args!("case created: referral from {}", init.referral.institution);
    let message = editor::message(what, by);
    write::commit(&mut doc, message, at, |tx| {
        super::write_header(tx, DocumentKind::Case, at)?;
        tx.put(ROOT, key::STAGE, Stage::Referral.as_str())?;
        tx.put(ROOT, key::OWNER, init.owner.as_str())?;
        tx.put(ROOT, key::LEAD_INSTITUTION, init.lead_institution.as_str())?;
        let household = write::new_map(tx, &ROOT, key::HOUSEHOLD)?;
        for (person_id, member) in &init.household {
            write_member(tx, &household, person_id, member)?;
        }
        write_referral(tx, &init.referral)?;
        write_containers(tx)
    })?;
    Ok(doc)
}

fn write_member(
    tx: &mut Transaction<'_>,
    household: &ObjId,
    person_id: &str,
    member: &HouseholdMember,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, household, person_id)?;
    tx.put(&map, key::NAME, member.name.as_str())?;
    tx.put(&map, key::RELATION, member.relation.as_str())?;
    if let Some(birth) = member.birth_date {
        tx.put(&map, key::BIRTH_DATE, write::date(birth))?;
    }
    Ok(())
}

fn write_referral(tx: &mut Transaction<'_>, referral: &Referral) -> Result<(), SchemaError> {
    let map = write::new_map(tx, &ROOT, key::REFERRAL)?;
    tx.put(&map, key::BY, referral.by.as_str())?;
    tx.put(&map, key::INSTITUTION, referral.institution.as_str())?;
    write::new_text(tx, &map, key::REASON, &referral.reason)?;
    tx.put(&map, key::AT, write::timestamp(referral.at))?;
    Ok(())
}

/// The containers that later edits fill in, each created once here.
fn write_containers(tx: &mut Transaction<'_>) -> Result<(), SchemaError> {
    let screening = write::new_map(tx, &ROOT, key::SCREENING)?;
    write::new_text(tx, &screening, key::NOTES, "")?;
    let diagnosis = write::new_map(tx, &ROOT, key::DIAGNOSIS)?;
    for sector in DiagnosisSector::ALL {
        write::new_text(tx, &diagnosis, sector.as_str(), "")?;
    }
    let contract = write::new_map(tx, &ROOT, key::CONTRACT)?;
    write::new_text(tx, &contract, key::TEXT, "")?;
    write::new_list(tx, &contract, key::SIGNATURES)?;
    let evaluation = write::new_map(tx, &ROOT, key::EVALUATION)?;
    write::new_text(tx, &evaluation, key::TEXT, "")?;
    let handover = write::new_map(tx, &ROOT, key::HANDOVER)?;
    write::new_text(tx, &handover, key::NOTE, "")?;
    for map in [
        key::GOALS,
        key::SERVICES,
        key::MONITORING,
        key::CONSULTATIONS,
        key::CONSENTS,
        key::PZK_DECISION,
    ] {
        write::new_map(tx, &ROOT, map)?;
    }
    Ok(())
}

/// The root of `doc`, checked to be a case of a supported schema version.
fn open_case(doc: &Automerge) -> Result<Node<'_>, SchemaError> {
    super::open(doc, DocumentKind::Case)
}

/// Sets the stage without checking the rules of the workflow, for repairs and migrations;
/// setting the stage settles a conflict on it.
///
/// Use [`workflow::transition`] to move a case and [`workflow::resolve_stage`] to settle a
/// conflict: they check the rules. A stage set here must still pass [`super::validate`], which
/// the server runs on every change it receives.
pub fn set_stage_raw(
    doc: &mut Automerge,
    stage: Stage,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    open_case(doc)?;
    let message = editor::message(format_args!("stage: {stage} (set without rules)"), by);
    write_stage(doc, stage, message, at)
}

/// Writes the stage as one change with `message`; the workflow's rules are the caller's.
pub(super) fn write_stage(
    doc: &mut Automerge,
    stage: Stage,
    message: String,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    write::commit(doc, message, at, |tx| {
        tx.put(ROOT, key::STAGE, stage.as_str())?;
        Ok(())
    })
}

/// Adds a household member, or updates the fields that changed when `person_id` is present.
pub fn add_household_member(
    doc: &mut Automerge,
    person_id: &str,
    member: &HouseholdMember,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let household = open_case(doc)?.map(key::HOUSEHOLD)?;
    check_id(key::HOUSEHOLD, person_id)?;
    let existing = match household.has(person_id)? {
        true => {
            let node = household.map(person_id)?;
            Some((node.id(), read_member(&node)?))
        }
        false => None,
    };
    let household = household.id();
    let message = editor::message(format_args!("household/{person_id}: member saved"), by);
    write::commit(doc, message, at, |tx| {
        let (map, current) = match existing {
            Some((map, current)) => (map, Some(current)),
            None => (write::new_map(tx, &household, person_id)?, None),
        };
        let current = current.as_ref();
        write::put_if_changed(
            tx,
            &map,
            key::NAME,
            current.map(|c| &c.name),
            member.name.clone(),
        )?;
        write::put_if_changed(
            tx,
            &map,
            key::RELATION,
            current.map(|c| &c.relation),
            member.relation.clone(),
        )?;
        let birth = member.birth_date.map(write::date);
        if current.map(|c| c.birth_date.map(write::date)) != Some(birth.clone()) {
            write::put_opt_str(tx, &map, key::BIRTH_DATE, birth.as_deref())?;
        }
        Ok(())
    })
}

/// Records the screening (K7.2 step 2): its result and the decision whether to proceed
/// (`outcome`: [`ScreeningOutcome::Qualified`] to proceed to the diagnosis,
/// [`ScreeningOutcome::NotQualified`] not to), with the reason in `notes`.
///
/// The decision needs a reason: empty notes are refused. Setting it again settles a conflict
/// on it; the move out of the screening ([`workflow::transition`]) reads it.
pub fn set_screening(
    doc: &mut Automerge,
    outcome: ScreeningOutcome,
    notes: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    if notes.trim().is_empty() {
        return Err(SchemaError::Rule(
            "a screening decision needs its reason in the notes".to_owned(),
        ));
    }
    let screening = open_case(doc)?.map(key::SCREENING)?;
    let notes_text = screening.text_obj(key::NOTES)?.id();
    let screening = screening.id();
    let message = editor::message(format_args!("screening: {outcome}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&screening, key::OUTCOME, outcome.as_str())?;
        write::update_text(tx, &notes_text, notes)?;
        tx.put(&screening, key::BY, by.login())?;
        tx.put(&screening, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

fn diagnosis_text(doc: &Automerge, sector: DiagnosisSector) -> Result<Node<'_>, SchemaError> {
    open_case(doc)?
        .map(key::DIAGNOSIS)?
        .text_obj(sector.as_str())
}

/// Replaces a diagnosis sector's text; the change is stored as a diff, so concurrent edits of
/// other parts of the same text are kept.
pub fn set_diagnosis_section(
    doc: &mut Automerge,
    sector: DiagnosisSector,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let section = diagnosis_text(doc, sector)?.id();
    let message = editor::message(format_args!("diagnosis/{sector}: updated"), by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &section, text)
    })
}

/// Splices a diagnosis sector's text: deletes `del` characters at `pos` and inserts `insert`
/// there. Positions count in the document's text encoding (Unicode code points by default).
pub fn splice_diagnosis(
    doc: &mut Automerge,
    sector: DiagnosisSector,
    pos: usize,
    del: usize,
    insert: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let section = diagnosis_text(doc, sector)?;
    let len = section.len();
    if pos.checked_add(del).is_none_or(|end| end > len) {
        return Err(SchemaError::Field {
            path: section.path().to_owned(),
            reason: format!("splice of {del} at {pos} is outside the text of length {len}"),
        });
    }
    let del = isize::try_from(del).map_err(|_| SchemaError::Rule("splice too long".to_owned()))?;
    let section = section.id();
    let message = editor::message(format_args!("diagnosis/{sector}: edited"), by);
    write::commit(doc, message, at, |tx| {
        tx.splice_text(&section, pos, del, insert)?;
        Ok(())
    })
}

/// The objects of an existing goal and its current plan, to update it field by field.
struct GoalTargets {
    map: ObjId,
    texts: [ObjId; 4],
    services: ObjId,
    current: GoalPlan,
}

fn smart_values(plan: &GoalPlan) -> [&str; 4] {
    [
        &plan.specific,
        &plan.measurable,
        &plan.achievable,
        &plan.relevant,
    ]
}

fn goal_targets(goal: &Node<'_>) -> Result<GoalTargets, SchemaError> {
    let [s, m, a, r] = key::SMART;
    Ok(GoalTargets {
        map: goal.id(),
        texts: [
            goal.text_obj(s)?.id(),
            goal.text_obj(m)?.id(),
            goal.text_obj(a)?.id(),
            goal.text_obj(r)?.id(),
        ],
        services: goal.map(key::LINKED_SERVICES)?.id(),
        current: read_goal(goal)?.plan,
    })
}

/// Adds an IPP goal (status `planned`) or updates an existing one's plan field by field.
///
/// The status is left alone; it changes only through [`set_goal_status`].
pub fn upsert_goal(
    doc: &mut Automerge,
    goal_id: &str,
    plan: &GoalPlan,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let goals = open_case(doc)?.map(key::GOALS)?;
    check_id(key::GOALS, goal_id)?;
    let links = format!("{}/{goal_id}/{}", key::GOALS, key::LINKED_SERVICES);
    for service in &plan.services {
        check_id(&links, service)?;
    }
    check_id(
        &format!("{}/{goal_id}/{}", key::GOALS, key::RESPONSIBLE),
        &plan.responsible,
    )?;
    let existing = match goals.has(goal_id)? {
        true => Some(goal_targets(&goals.map(goal_id)?)?),
        false => None,
    };
    let goals = goals.id();
    let message = editor::message(format_args!("goals/{goal_id}: plan saved"), by);
    write::commit(doc, message, at, |tx| match &existing {
        Some(targets) => update_goal(tx, targets, plan),
        None => create_goal(tx, &goals, goal_id, plan, at),
    })
}

fn create_goal(
    tx: &mut Transaction<'_>,
    goals: &ObjId,
    goal_id: &str,
    plan: &GoalPlan,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, goals, goal_id)?;
    for (part, value) in key::SMART.into_iter().zip(smart_values(plan)) {
        write::new_text(tx, &map, part, value)?;
    }
    tx.put(&map, key::DEADLINE, write::date(plan.deadline))?;
    tx.put(&map, key::RESPONSIBLE, plan.responsible.as_str())?;
    tx.put(&map, key::STATUS, GoalStatus::Planned.as_str())?;
    let links = write::new_map(tx, &map, key::LINKED_SERVICES)?;
    for service in &plan.services {
        tx.put(&links, service.as_str(), true)?;
    }
    tx.put(&map, key::CREATED_AT, write::timestamp(at))?;
    Ok(())
}

fn update_goal(
    tx: &mut Transaction<'_>,
    targets: &GoalTargets,
    plan: &GoalPlan,
) -> Result<(), SchemaError> {
    let current = smart_values(&targets.current);
    for ((text, old), new) in targets.texts.iter().zip(current).zip(smart_values(plan)) {
        if old != new {
            write::update_text(tx, text, new)?;
        }
    }
    let old_deadline = write::date(targets.current.deadline);
    write::put_if_changed(
        tx,
        &targets.map,
        key::DEADLINE,
        Some(&old_deadline),
        write::date(plan.deadline),
    )?;
    write::put_if_changed(
        tx,
        &targets.map,
        key::RESPONSIBLE,
        Some(&targets.current.responsible),
        plan.responsible.clone(),
    )?;
    for added in plan.services.difference(&targets.current.services) {
        tx.put(&targets.services, added.as_str(), true)?;
    }
    for removed in targets.current.services.difference(&plan.services) {
        tx.delete(&targets.services, removed.as_str())?;
    }
    Ok(())
}

/// Sets a goal's status; setting it settles a conflict on it.
pub fn set_goal_status(
    doc: &mut Automerge,
    goal_id: &str,
    status: GoalStatus,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let goal = open_case(doc)?.map(key::GOALS)?.map(goal_id)?.id();
    let message = editor::message(format_args!("goals/{goal_id}/status: {status}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&goal, key::STATUS, status.as_str())?;
        Ok(())
    })
}

/// Puts a service into the basket (*koszyk usług*, status `planned`) with the id it has in the
/// PZK's services list and its provider institution.
///
/// The case document cannot see the PZK document; [`add_listed_service`] checks the service
/// against the list when the caller holds it.
pub fn add_service(
    doc: &mut Automerge,
    service_id: &str,
    provider: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let services = open_case(doc)?.map(key::SERVICES)?;
    services.absent(service_id, "service")?;
    check_id(
        &format!("{}/{service_id}/{}", key::SERVICES, key::PROVIDER),
        provider,
    )?;
    let services = services.id();
    let message = editor::message(format_args!("services/{service_id}: added"), by);
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &services, service_id)?;
        tx.put(&map, key::PROVIDER, provider)?;
        tx.put(&map, key::STATUS, ServiceStatus::Planned.as_str())?;
        tx.put(&map, key::ADDED_AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Puts a service of the PZK's services list (*Lista aktywności i usług*, 6.3) into the basket,
/// with the provider the list names.
///
/// A service the list does not hold, or one it has retired, is refused.
pub fn add_listed_service(
    doc: &mut Automerge,
    pzk_doc: &Automerge,
    service_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let list = pzk::read_pzk(pzk_doc)?.services;
    let listed = list.get(service_id).ok_or_else(|| {
        SchemaError::Rule(format!(
            "service {service_id} is not on the PZK's list of activities and services"
        ))
    })?;
    if listed.retired {
        return Err(SchemaError::Rule(format!(
            "service {service_id} is retired from the PZK's list and is no longer offered"
        )));
    }
    add_service(doc, service_id, &listed.entry.provider, by, at)
}

/// Sets a basket service's status; setting it settles a conflict on it.
pub fn set_service_status(
    doc: &mut Automerge,
    service_id: &str,
    status: ServiceStatus,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let service = open_case(doc)?.map(key::SERVICES)?.map(service_id)?.id();
    let message = editor::message(format_args!("services/{service_id}/status: {status}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&service, key::STATUS, status.as_str())?;
        Ok(())
    })
}

/// Replaces the contract's text (as a diff, so concurrent edits elsewhere in it are kept).
pub fn set_contract_text(
    doc: &mut Automerge,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let contract_text = open_case(doc)?
        .map(key::CONTRACT)?
        .text_obj(key::TEXT)?
        .id();
    let message = editor::message("contract: text updated", by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &contract_text, text)
    })
}

/// Records a signing of the contract as it is now (K7.2 step 5), made by `signature.signer` and
/// recorded by the worker `by`, and returns the heads that were signed.
///
/// The signing freezes a version: it keeps the document's current heads, so the accepted text
/// stays readable ([`signed_contract_text`]) whatever edits follow, and
/// [`contract_changed_since_signed`] tells when the text has changed since. A contract is signed
/// on an IPP: signing an empty contract, or one of a case without goals, breaks a rule of the
/// model. Remote acceptance (by phone or video) needs the recorded consent in
/// `signature.consent_note`.
pub fn sign_contract(
    doc: &mut Automerge,
    signature: &Signature,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<Vec<ChangeHash>, SchemaError> {
    let root = open_case(doc)?;
    let contract = root.map(key::CONTRACT)?;
    if contract.text(key::TEXT)?.trim().is_empty() {
        return Err(SchemaError::Rule(
            "a contract without text cannot be signed".to_owned(),
        ));
    }
    if root.map(key::GOALS)?.ids()?.is_empty() {
        return Err(SchemaError::Rule(
            "a contract cannot be signed before the IPP has a goal".to_owned(),
        ));
    }
    check_signature(signature)?;
    let signatures = contract.list(key::SIGNATURES)?;
    let (list, index) = (signatures.id(), signatures.len());
    let heads = doc.get_heads();
    let message = editor::message(
        format_args!(
            "contract: signed by {} ({})",
            signature.signer, signature.mode
        ),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let entry = tx.insert_object(&list, index, ObjType::Map)?;
        write_signature(tx, &entry, signature, by, &heads, at)
    })?;
    Ok(heads)
}

/// Checks what a signing must name: the signer, and for remote acceptance the recorded consent.
fn check_signature(signature: &Signature) -> Result<(), SchemaError> {
    if signature.signer.trim().is_empty() {
        return Err(SchemaError::Rule(
            "a signing must name who signed".to_owned(),
        ));
    }
    if signature.mode != SigningMode::InPerson && signature.consent_note.trim().is_empty() {
        return Err(SchemaError::Rule(format!(
            "a contract accepted remotely ({}) needs the recorded consent",
            signature.mode
        )));
    }
    Ok(())
}

fn write_signature(
    tx: &mut Transaction<'_>,
    entry: &ObjId,
    signature: &Signature,
    by: &Editor,
    heads: &[ChangeHash],
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let list = write::new_list(tx, entry, key::HEADS)?;
    for (i, head) in heads.iter().enumerate() {
        tx.insert(&list, i, head.to_string())?;
    }
    tx.put(entry, key::SIGNER, signature.signer.as_str())?;
    tx.put(entry, key::AT, write::timestamp(at))?;
    tx.put(entry, key::MODE, signature.mode.as_str())?;
    tx.put(entry, key::CONSENT_NOTE, signature.consent_note.as_str())?;
    tx.put(entry, key::RECORDED_BY, by.login())?;
    Ok(())
}

/// The contract text exactly as it was when signing number `index` (0 = first) was made.
pub fn signed_contract_text(doc: &Automerge, index: usize) -> Result<String, SchemaError> {
    let contract = open_case(doc)?.map(key::CONTRACT)?;
    let signing = read_contract(&contract)?
        .signatures
        .into_iter()
        .nth(index)
        .ok_or_else(|| contract.error(key::SIGNATURES, format!("no signing number {index}")))?;
    let text = contract.text_obj(key::TEXT)?.id();
    Ok(doc.text_at(&text, &signing.heads)?)
}

/// Whether the contract's text differs from the text of its latest signing: the contract was
/// changed after it was signed and the change is not (yet) signed.
///
/// The latest signing is the one with the latest signing time (of equal times, the later in
/// the list). A contract never signed has not changed since signing: the answer is `false`.
pub fn contract_changed_since_signed(doc: &Automerge) -> Result<bool, SchemaError> {
    let contract = open_case(doc)?.map(key::CONTRACT)?;
    let view = read_contract(&contract)?;
    let latest = view
        .signatures
        .iter()
        .enumerate()
        .max_by_key(|(index, signing)| (signing.at, *index));
    let Some((_, signing)) = latest else {
        return Ok(false);
    };
    let text = contract.text_obj(key::TEXT)?.id();
    Ok(doc.text_at(&text, &signing.heads)? != view.text)
}

/// The contract text as it was at `heads`.
pub(super) fn contract_text_at(
    doc: &Automerge,
    heads: &[ChangeHash],
) -> Result<String, SchemaError> {
    let text = open_case(doc)?
        .map(key::CONTRACT)?
        .text_obj(key::TEXT)?
        .id();
    Ok(doc.text_at(&text, heads)?)
}

/// How many IPP goals the case had at `heads`.
pub(super) fn goal_count_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<usize, SchemaError> {
    let goals = open_case(doc)?.map(key::GOALS)?.id();
    Ok(doc.keys_at(&goals, heads).count())
}

/// Appends a monitoring note; notes are append-only, so an existing `note_id` is refused.
pub fn append_monitoring_note(
    doc: &mut Automerge,
    note_id: &str,
    note: &MonitoringNote,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let notes = open_case(doc)?.map(key::MONITORING)?;
    notes.absent(note_id, "monitoring note")?;
    let notes = notes.id();
    let author = Editor::new(&note.author, &note.institution)?;
    let message = editor::message(
        format_args!("monitoring/{note_id}: {} note", note.mode),
        &author,
    );
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &notes, note_id)?;
        tx.put(&map, key::AUTHOR, note.author.as_str())?;
        tx.put(&map, key::INSTITUTION, note.institution.as_str())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        tx.put(&map, key::MODE, note.mode.as_str())?;
        write::new_text(tx, &map, key::TEXT, &note.text)?;
        Ok(())
    })
}

/// Opens a consultation (*konsultacja*) about the case with other institutions.
pub fn open_consultation(
    doc: &mut Automerge,
    consultation_id: &str,
    request: &ConsultationRequest,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consultations = open_case(doc)?.map(key::CONSULTATIONS)?;
    consultations.absent(consultation_id, "consultation")?;
    let consultations = consultations.id();
    let author = Editor::new(&request.asked_by, &request.institution)?;
    let message = editor::message(
        format_args!("consultations/{consultation_id}: opened"),
        &author,
    );
    write::commit(doc, message, at, |tx| {
        consultation::create(tx, &consultations, consultation_id, request, at)?;
        Ok(())
    })
}

/// Adds an answer to a consultation; answers are keyed by id, so concurrent answers all stay.
pub fn answer_consultation(
    doc: &mut Automerge,
    consultation_id: &str,
    answer_id: &str,
    answer: &Answer,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consultations = open_case(doc)?.map(key::CONSULTATIONS)?;
    let answers = consultation::answers_for_new(&consultations, consultation_id, answer_id)?;
    let author = Editor::new(&answer.by, &answer.institution)?;
    let message = editor::message(
        format_args!("consultations/{consultation_id}/answers/{answer_id}: answered"),
        &author,
    );
    write::commit(doc, message, at, |tx| {
        consultation::add_answer(tx, &answers, answer_id, answer, at)
    })
}

/// Records a consent event (*zgoda*), recorded by the worker `by`; events are append-only, so
/// an existing `consent_id` is refused. Withdrawing consent is a new event with state
/// [`ConsentState::Withdrawn`].
pub fn record_consent(
    doc: &mut Automerge,
    consent_id: &str,
    event: &ConsentEvent,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consents = open_case(doc)?.map(key::CONSENTS)?;
    consents.absent(consent_id, "consent event")?;
    check_id(
        &format!("{}/{consent_id}/{}", key::CONSENTS, key::INSTITUTION),
        &event.institution,
    )?;
    let consents = consents.id();
    let message = editor::message(
        format_args!(
            "consents/{consent_id}: {} for {}",
            event.state, event.institution
        ),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &consents, consent_id)?;
        tx.put(&map, key::INSTITUTION, event.institution.as_str())?;
        tx.put(&map, key::PURPOSE, event.purpose.as_str())?;
        tx.put(&map, key::STATE, event.state.as_str())?;
        tx.put(&map, key::BY, event.by.as_str())?;
        tx.put(&map, key::RECORDED_BY, by.login())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Writes the evaluation (9.1).
pub fn set_evaluation(
    doc: &mut Automerge,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let evaluation = open_case(doc)?.map(key::EVALUATION)?;
    let text_obj = evaluation.text_obj(key::TEXT)?.id();
    let evaluation = evaluation.id();
    let message = editor::message("evaluation: updated", by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &text_obj, text)?;
        tx.put(&evaluation, key::BY, by.login())?;
        tx.put(&evaluation, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Records the PZK's decision on the case (9.2), with the deciding meeting's id when known.
pub fn set_pzk_decision(
    doc: &mut Automerge,
    decision: PzkDecision,
    meeting: Option<&str>,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = open_case(doc)?.map(key::PZK_DECISION)?.id();
    if let Some(meeting) = meeting {
        check_id(&format!("{}/{}", key::PZK_DECISION, key::MEETING), meeting)?;
    }
    let message = editor::message(format_args!("pzkDecision: {decision}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&map, key::DECISION, decision.as_str())?;
        write::put_opt_str(tx, &map, key::MEETING, meeting)?;
        tx.put(&map, key::BY, by.login())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Records the agreed hand-over (*przekazanie*, 9.3) to `target` (an institution, and the
/// worker there when agreed) with a note. The case moves to stage `handed_over` with
/// [`workflow::transition`].
pub fn set_handover(
    doc: &mut Automerge,
    target: &HandoverTarget,
    note: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let handover = open_case(doc)?.map(key::HANDOVER)?;
    check_id(&handover.path_of(key::TARGET), &target.institution)?;
    let note_text = handover.text_obj(key::NOTE)?.id();
    let handover = handover.id();
    let message = editor::message(format_args!("handover: to {}", target.institution), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&handover, key::TARGET, target.institution.as_str())?;
        write::put_opt_str(tx, &handover, key::TARGET_WORKER, target.worker.as_deref())?;
        write::update_text(tx, &note_text, note)?;
        tx.put(&handover, key::BY, by.login())?;
        tx.put(&handover, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The case's stage, with the values written concurrently with it.
///
/// When replicas changed the stage concurrently, every replica shows the same value whatever
/// order it merged the changes in: the value furthest along the workflow (see
/// [`workflow::resolve`]); the others are the alternatives, for someone to confirm one with
/// [`workflow::resolve_stage`].
pub fn stage(doc: &Automerge) -> Result<Conflict<Stage>, SchemaError> {
    Ok(workflow::resolve(open_case(doc)?.status(key::STAGE)?))
}

/// A goal's status with every concurrent value.
pub fn goal_status(doc: &Automerge, goal_id: &str) -> Result<Conflict<GoalStatus>, SchemaError> {
    open_case(doc)?
        .map(key::GOALS)?
        .map(goal_id)?
        .status(key::STATUS)
}

/// A basket service's status with every concurrent value.
pub fn service_status(
    doc: &Automerge,
    service_id: &str,
) -> Result<Conflict<ServiceStatus>, SchemaError> {
    open_case(doc)?
        .map(key::SERVICES)?
        .map(service_id)?
        .status(key::STATUS)
}

/// Reads a whole case, checking the shape of every field on the way.
pub fn read_case(doc: &Automerge) -> Result<CaseView, SchemaError> {
    let root = open_case(doc)?;
    Ok(CaseView {
        schema_version: super::schema_version(doc)?,
        created_at: root.timestamp(super::key::CREATED_AT)?,
        stage: workflow::resolve(root.status(key::STAGE)?),
        owner: root.str(key::OWNER)?,
        lead_institution: root.str(key::LEAD_INSTITUTION)?,
        household: root.map(key::HOUSEHOLD)?.read_map(read_member)?,
        referral: read_referral(&root.map(key::REFERRAL)?)?,
        screening: read_screening(&root.map(key::SCREENING)?)?,
        diagnosis: read_diagnosis(&root.map(key::DIAGNOSIS)?)?,
        goals: root.map(key::GOALS)?.read_map(read_goal)?,
        services: root.map(key::SERVICES)?.read_map(read_service)?,
        contract: read_contract(&root.map(key::CONTRACT)?)?,
        monitoring: read_monitoring(&root.map(key::MONITORING)?)?,
        consultations: root.map(key::CONSULTATIONS)?.read_map(consultation::read)?,
        consents: root.map(key::CONSENTS)?.read_map(read_consent)?,
        evaluation: read_evaluation(&root.map(key::EVALUATION)?)?,
        pzk_decision: read_pzk_decision(&root.map(key::PZK_DECISION)?)?,
        handover: read_handover(&root.map(key::HANDOVER)?)?,
    })
}

fn read_member(node: &Node<'_>) -> Result<HouseholdMember, SchemaError> {
    Ok(HouseholdMember {
        name: node.str(key::NAME)?,
        relation: node.str(key::RELATION)?,
        birth_date: node.opt_date(key::BIRTH_DATE)?,
    })
}

fn read_referral(node: &Node<'_>) -> Result<Referral, SchemaError> {
    Ok(Referral {
        by: node.str(key::BY)?,
        institution: node.str(key::INSTITUTION)?,
        reason: node.text(key::REASON)?,
        at: node.timestamp(key::AT)?,
    })
}

fn read_screening(node: &Node<'_>) -> Result<Screening, SchemaError> {
    Ok(Screening {
        outcome: node.opt_status(key::OUTCOME)?,
        notes: node.text(key::NOTES)?,
        by: node.opt_str(key::BY)?,
        at: node.opt_timestamp(key::AT)?,
    })
}

fn read_diagnosis(node: &Node<'_>) -> Result<BTreeMap<DiagnosisSector, String>, SchemaError> {
    DiagnosisSector::ALL
        .iter()
        .map(|sector| node.text(sector.as_str()).map(|text| (*sector, text)))
        .collect()
}

fn read_goal(node: &Node<'_>) -> Result<GoalView, SchemaError> {
    let links = node.map(key::LINKED_SERVICES)?;
    let mut services = BTreeSet::new();
    for id in links.ids()? {
        if links.bool(&id)? {
            services.insert(id);
        }
    }
    Ok(GoalView {
        plan: GoalPlan {
            specific: node.text(key::SPECIFIC)?,
            measurable: node.text(key::MEASURABLE)?,
            achievable: node.text(key::ACHIEVABLE)?,
            relevant: node.text(key::RELEVANT)?,
            deadline: node.date(key::DEADLINE)?,
            responsible: node.str(key::RESPONSIBLE)?,
            services,
        },
        status: node.status(key::STATUS)?,
        created_at: node.timestamp(key::CREATED_AT)?,
    })
}

fn read_service(node: &Node<'_>) -> Result<ServiceView, SchemaError> {
    Ok(ServiceView {
        provider: node.str(key::PROVIDER)?,
        status: node.status(key::STATUS)?,
        added_at: node.timestamp(key::ADDED_AT)?,
    })
}

fn read_contract(node: &Node<'_>) -> Result<ContractView, SchemaError> {
    let signatures = node
        .list(key::SIGNATURES)?
        .items()?
        .iter()
        .map(read_signature)
        .collect::<Result<_, _>>()?;
    Ok(ContractView {
        text: node.text(key::TEXT)?,
        signatures,
    })
}

fn read_signature(node: &Node<'_>) -> Result<SignatureView, SchemaError> {
    let list = node.list(key::HEADS)?;
    let heads = list
        .str_items()?
        .iter()
        .enumerate()
        .map(|(i, hex)| read_head(node.doc(), &list, i, hex))
        .collect::<Result<_, _>>()?;
    Ok(SignatureView {
        signature: Signature {
            signer: node.str(key::SIGNER)?,
            mode: node.enumeration(key::MODE)?,
            consent_note: node.str(key::CONSENT_NOTE)?,
        },
        heads,
        at: node.timestamp(key::AT)?,
        recorded_by: node.str(key::RECORDED_BY)?,
    })
}

/// A signed head: a hex change hash of a change the document holds.
fn read_head(
    doc: &Automerge,
    list: &Node<'_>,
    i: usize,
    hex: &str,
) -> Result<ChangeHash, SchemaError> {
    let index = i.to_string();
    let hash = ChangeHash::from_str(hex)
        .map_err(|_| list.error(&index, "expected a change hash of 64 hex digits"))?;
    if doc.get_change_by_hash(&hash).is_none() {
        return Err(list.error(&index, "names a change the document does not hold"));
    }
    Ok(hash)
}

fn read_monitoring(node: &Node<'_>) -> Result<Vec<MonitoringNoteView>, SchemaError> {
    let mut notes: Vec<MonitoringNoteView> = node
        .entries()?
        .into_iter()
        .map(|(id, note)| read_note(id, &note))
        .collect::<Result<_, _>>()?;
    notes.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    Ok(notes)
}

fn read_note(id: String, node: &Node<'_>) -> Result<MonitoringNoteView, SchemaError> {
    Ok(MonitoringNoteView {
        id,
        note: MonitoringNote {
            author: node.str(key::AUTHOR)?,
            institution: node.str(key::INSTITUTION)?,
            mode: node.enumeration(key::MODE)?,
            text: node.text(key::TEXT)?,
        },
        at: node.timestamp(key::AT)?,
    })
}

fn read_consent(node: &Node<'_>) -> Result<ConsentView, SchemaError> {
    Ok(ConsentView {
        event: ConsentEvent {
            institution: node.str(key::INSTITUTION)?,
            purpose: node.str(key::PURPOSE)?,
            state: node.enumeration(key::STATE)?,
            by: node.str(key::BY)?,
        },
        at: node.timestamp(key::AT)?,
        recorded_by: node.str(key::RECORDED_BY)?,
    })
}

fn read_evaluation(node: &Node<'_>) -> Result<Evaluation, SchemaError> {
    Ok(Evaluation {
        text: node.text(key::TEXT)?,
        by: node.opt_str(key::BY)?,
        at: node.opt_timestamp(key::AT)?,
    })
}

fn read_pzk_decision(node: &Node<'_>) -> Result<Option<PzkDecisionView>, SchemaError> {
    let Some(decision) = node.opt_status(key::DECISION)? else {
        return Ok(None);
    };
    Ok(Some(PzkDecisionView {
        decision,
        meeting: node.opt_str(key::MEETING)?,
        by: node.str(key::BY)?,
        at: node.timestamp(key::AT)?,
    }))
}

fn read_handover(node: &Node<'_>) -> Result<Option<Handover>, SchemaError> {
    let note = node.text(key::NOTE)?;
    let Some(target) = node.opt_str(key::TARGET)? else {
        return Ok(None);
    };
    Ok(Some(Handover {
        target,
        target_worker: node.opt_str(key::TARGET_WORKER)?,
        note,
        by: node.str(key::BY)?,
        at: node.timestamp(key::AT)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{
        at, case_with_goal, day, editor, fork_as, goal_plan, merged, new_case, new_pzk,
    };
    use crate::model::validate;

    fn view(doc: &Automerge) -> CaseView {
        read_case(doc).expect("the case reads back")
    }

    /// The message and time (seconds) of the last change made on this replica.
    fn last_change(doc: &Automerge) -> (String, i64) {
        let change = doc.get_last_local_change().expect("a local change");
        (
            change.message().unwrap_or_default().to_owned(),
            change.timestamp(),
        )
    }

    fn note(author: &str, text: &str) -> MonitoringNote {
        MonitoringNote {
            author: author.to_owned(),
            institution: "gops".to_owned(),
            mode: ContactMode::HomeVisit,
            text: text.to_owned(),
        }
    }

    fn consent(id_state: ConsentState) -> ConsentEvent {
        ConsentEvent {
            institution: "sp-1".to_owned(),
            purpose: "school support".to_owned(),
            state: id_state,
            by: "p1".to_owned(),
        }
    }

    fn signature() -> Signature {
        Signature {
            signer: "p1".to_owned(),
            mode: SigningMode::Video,
            consent_note: "Read aloud and accepted in a video call.".to_owned(),
        }
    }

    #[test]
    fn a_new_case_starts_at_referral_with_every_container() {
        let doc = new_case();
        let case = view(&doc);
        assert_eq!(case.schema_version, 1);
        assert_eq!(case.created_at, at(9));
        assert_eq!(case.stage, Conflict::settled(Stage::Referral));
        assert_eq!(
            (case.owner.as_str(), case.lead_institution.as_str()),
            ("anna", "gops")
        );
        assert_eq!(case.referral.reason, "Frequent absences at school.");
        assert_eq!(case.referral.at, at(8));
        assert_eq!(case.diagnosis.len(), DiagnosisSector::ALL.len());
        assert!(case.diagnosis.values().all(String::is_empty));
        assert!(case.goals.is_empty() && case.monitoring.is_empty() && case.consents.is_empty());
        assert_eq!((&case.pzk_decision, &case.handover), (&None, &None));
        assert!(case.conflicts().is_empty());
        let (message, time) = last_change(&doc);
        assert_eq!(
            (message.as_str(), time),
            (
                "case created: referral from sp-1\n\nAuthor: anna\nInstitution: gops",
                at(9).timestamp()
            )
        );
    }

    #[test]
    fn wire_strings_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(*stage));
        }
        for sector in DiagnosisSector::ALL {
            assert_eq!(DiagnosisSector::parse(&sector.to_string()), Some(*sector));
        }
        assert_eq!(
            GoalStatus::parse("in_progress"),
            Some(GoalStatus::InProgress)
        );
        assert_eq!(Stage::HandedOver.as_str(), "handed_over");
        assert_eq!(GoalStatus::parse("In_Progress"), None);
    }

    #[test]
    fn set_stage_raw_sets_the_stage_in_one_change() {
        let mut doc = new_case();
        set_stage_raw(&mut doc, Stage::Diagnosis, &editor("anna"), at(10)).expect("stage set");
        assert_eq!(stage(&doc).expect("stage").value, Stage::Diagnosis);
        let (message, time) = last_change(&doc);
        assert_eq!(
            (message.as_str(), time),
            (
                "stage: diagnosis (set without rules)\n\nAuthor: anna\nInstitution: gops",
                at(10).timestamp()
            )
        );
    }

    #[test]
    fn household_members_are_added_and_updated() {
        let mut doc = new_case();
        let mut mother = HouseholdMember {
            name: "Maria".to_owned(),
            relation: "self".to_owned(),
            birth_date: Some(day(1, 2)),
        };
        add_household_member(&mut doc, "p1", &mother, &editor("anna"), at(10)).expect("added");
        assert_eq!(view(&doc).household["p1"], mother);
        mother.relation = "mother".to_owned();
        mother.birth_date = None;
        add_household_member(&mut doc, "p1", &mother, &editor("anna"), at(11)).expect("updated");
        assert_eq!(view(&doc).household["p1"], mother);
        let err = add_household_member(&mut doc, "", &mother, &editor("anna"), at(11))
            .expect_err("empty id");
        assert!(matches!(err, SchemaError::Field { .. }), "{err:?}");
    }

    #[test]
    fn screening_records_outcome_and_notes() {
        let mut doc = new_case();
        set_screening(
            &mut doc,
            ScreeningOutcome::Qualified,
            "Fits the model.",
            &editor("anna"),
            at(10),
        )
        .expect("screened");
        let screening = view(&doc).screening;
        assert_eq!(
            screening.outcome,
            Some(Conflict::settled(ScreeningOutcome::Qualified))
        );
        assert_eq!(screening.notes, "Fits the model.");
        assert_eq!(
            (screening.by.as_deref(), screening.at),
            (Some("anna"), Some(at(10)))
        );
    }

    #[test]
    fn diagnosis_sections_are_set_and_spliced() {
        let mut doc = new_case();
        set_diagnosis_section(
            &mut doc,
            DiagnosisSector::Health,
            "Asthma.",
            &editor("nurse"),
            at(10),
        )
        .expect("set");
        splice_diagnosis(
            &mut doc,
            DiagnosisSector::Health,
            6,
            1,
            ", treated.",
            &editor("nurse"),
            at(11),
        )
        .expect("spliced");
        let case = view(&doc);
        assert_eq!(case.diagnosis[&DiagnosisSector::Health], "Asthma, treated.");
        assert_eq!(case.diagnosis[&DiagnosisSector::Housing], "");
        let err = splice_diagnosis(
            &mut doc,
            DiagnosisSector::Health,
            10,
            50,
            "",
            &editor("nurse"),
            at(12),
        )
        .expect_err("outside the text");
        assert!(
            matches!(&err, SchemaError::Field { path, .. } if path == "diagnosis/health"),
            "{err:?}"
        );
    }

    #[test]
    fn concurrent_edits_of_one_diagnosis_section_keep_both() {
        let mut base = new_case();
        let start = "Two rooms. The roof leaks.";
        set_diagnosis_section(
            &mut base,
            DiagnosisSector::Housing,
            start,
            &editor("anna"),
            at(10),
        )
        .expect("set");
        let mut anna = fork_as(&base, "anna-tablet-2");
        let mut jan = fork_as(&base, "jan-tablet");
        set_diagnosis_section(
            &mut anna,
            DiagnosisSector::Housing,
            "Two damp rooms. The roof leaks.",
            &editor("anna"),
            at(11),
        )
        .expect("anna edits");
        splice_diagnosis(
            &mut jan,
            DiagnosisSector::Housing,
            start.len(),
            0,
            " Rent arrears.",
            &editor("jan"),
            at(11),
        )
        .expect("jan edits");
        let expected = "Two damp rooms. The roof leaks. Rent arrears.";
        for doc in [merged(&anna, &jan), merged(&jan, &anna)] {
            assert_eq!(view(&doc).diagnosis[&DiagnosisSector::Housing], expected);
        }
    }

    #[test]
    fn goals_are_created_planned_and_updated_field_by_field() {
        let mut doc = case_with_goal();
        let goal = &view(&doc).goals["g1"];
        assert_eq!(goal.plan, goal_plan("Regular school attendance"));
        assert_eq!(
            (goal.status.clone(), goal.created_at),
            (Conflict::settled(GoalStatus::Planned), at(10))
        );

        set_goal_status(
            &mut doc,
            "g1",
            GoalStatus::InProgress,
            &editor("anna"),
            at(11),
        )
        .expect("status");
        let mut plan = goal_plan("Attends school every day");
        plan.services = ["svc-tutor".to_owned()].into();
        plan.deadline = day(9, 1);
        upsert_goal(&mut doc, "g1", &plan, &editor("anna"), at(12)).expect("updated");
        let goal = &view(&doc).goals["g1"];
        assert_eq!(goal.plan, plan);
        assert_eq!(
            goal.status.value,
            GoalStatus::InProgress,
            "an upsert leaves the status alone"
        );
        assert_eq!(goal.created_at, at(10));
    }

    #[test]
    fn an_unchanged_upsert_adds_no_operation() {
        let mut doc = case_with_goal();
        let heads = doc.get_heads();
        upsert_goal(
            &mut doc,
            "g1",
            &goal_plan("Regular school attendance"),
            &editor("anna"),
            at(11),
        )
        .expect("upsert");
        assert_eq!(doc.get_heads(), heads);
    }

    #[test]
    fn goal_status_of_a_missing_goal_names_it() {
        let mut doc = case_with_goal();
        let err = set_goal_status(
            &mut doc,
            "g9",
            GoalStatus::Achieved,
            &editor("anna"),
            at(11),
        )
        .expect_err("no such goal");
        assert!(
            matches!(&err, SchemaError::Field { path, .. } if path == "goals/g9"),
            "{err:?}"
        );
        let err = goal_status(&doc, "g9").expect_err("no such goal");
        assert!(
            matches!(&err, SchemaError::Field { path, .. } if path == "goals/g9"),
            "{err:?}"
        );
    }

    #[test]
    fn concurrent_goal_statuses_are_a_conflict_with_one_winner_everywhere() {
        let base = case_with_goal();
        let mut anna = fork_as(&base, "anna-tablet-2");
        let mut jan = fork_as(&base, "jan-tablet");
        set_goal_status(
            &mut anna,
            "g1",
            GoalStatus::Achieved,
            &editor("anna"),
            at(11),
        )
        .expect("anna");
        set_goal_status(&mut jan, "g1", GoalStatus::Dropped, &editor("jan"), at(11)).expect("jan");

        let one = merged(&anna, &jan);
        let two = merged(&jan, &anna);
        let (first, second) = (
            goal_status(&one, "g1").expect("status"),
            goal_status(&two, "g1").expect("status"),
        );
        assert_eq!(first, second, "every replica shows the same winner");
        assert!(first.is_conflicted());
        let mut values: Vec<GoalStatus> = first.all().copied().collect();
        values.sort();
        assert_eq!(values, vec![GoalStatus::Achieved, GoalStatus::Dropped]);
        assert_eq!(view(&one).conflicts(), vec!["goals/g1/status".to_owned()]);
        assert_eq!(
            crate::model::conflict_at::<GoalStatus>(&one, &["goals", "g1", "status"])
                .expect("read"),
            first
        );

        let mut settled = one;
        set_goal_status(
            &mut settled,
            "g1",
            GoalStatus::Achieved,
            &editor("anna"),
            at(12),
        )
        .expect("settle");
        assert_eq!(
            goal_status(&settled, "g1").expect("status"),
            Conflict::settled(GoalStatus::Achieved)
        );
    }

    #[test]
    fn concurrent_identical_statuses_are_no_conflict() {
        let base = case_with_goal();
        let mut anna = fork_as(&base, "anna-tablet-2");
        let mut jan = fork_as(&base, "jan-tablet");
        set_goal_status(
            &mut anna,
            "g1",
            GoalStatus::Achieved,
            &editor("anna"),
            at(11),
        )
        .expect("anna");
        set_goal_status(&mut jan, "g1", GoalStatus::Achieved, &editor("jan"), at(11)).expect("jan");
        let status = goal_status(&merged(&anna, &jan), "g1").expect("status");
        assert_eq!(status, Conflict::settled(GoalStatus::Achieved));
    }

    #[test]
    fn basket_services_are_added_once_and_change_status() {
        let mut doc = new_case();
        add_service(
            &mut doc,
            "svc-day-centre",
            "swietlica",
            &editor("anna"),
            at(10),
        )
        .expect("added");
        let err = add_service(
            &mut doc,
            "svc-day-centre",
            "swietlica",
            &editor("anna"),
            at(11),
        )
        .expect_err("already in the basket");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
        set_service_status(
            &mut doc,
            "svc-day-centre",
            ServiceStatus::Active,
            &editor("anna"),
            at(12),
        )
        .expect("status");
        let service = &view(&doc).services["svc-day-centre"];
        assert_eq!(service.provider, "swietlica");
        assert_eq!(service.status, Conflict::settled(ServiceStatus::Active));
        assert_eq!(service.added_at, at(10));
        assert_eq!(
            service_status(&doc, "svc-day-centre")
                .expect("status")
                .value,
            ServiceStatus::Active
        );
    }

    #[test]
    fn a_contract_is_signed_on_an_ipp_and_keeps_the_signed_text() {
        let mut doc = new_case();
        let err =
            sign_contract(&mut doc, &signature(), &editor("anna"), at(10)).expect_err("no text");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
        set_contract_text(
            &mut doc,
            "Maria attends the day centre.",
            &editor("anna"),
            at(10),
        )
        .expect("text");
        let err =
            sign_contract(&mut doc, &signature(), &editor("anna"), at(10)).expect_err("no goals");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");

        upsert_goal(
            &mut doc,
            "g1",
            &goal_plan("School"),
            &editor("anna"),
            at(11),
        )
        .expect("goal");
        let heads = sign_contract(&mut doc, &signature(), &editor("anna"), at(12)).expect("signed");
        set_contract_text(
            &mut doc,
            "Maria attends the day centre twice a week.",
            &editor("anna"),
            at(13),
        )
        .expect("amended");

        let contract = view(&doc).contract;
        assert_eq!(contract.text, "Maria attends the day centre twice a week.");
        assert_eq!(contract.signatures.len(), 1);
        assert_eq!(contract.signatures[0].signature, signature());
        assert_eq!(
            (
                contract.signatures[0].heads.clone(),
                contract.signatures[0].at
            ),
            (heads, at(12))
        );
        assert_eq!(
            signed_contract_text(&doc, 0).expect("signed version"),
            "Maria attends the day centre."
        );
        assert!(signed_contract_text(&doc, 1).is_err());
        validate(&doc).expect("a signed case is valid");
    }

    #[test]
    fn monitoring_notes_are_append_only_and_merge() {
        let base = new_case();
        let mut anna = fork_as(&base, "anna-tablet-2");
        let mut jan = fork_as(&base, "jan-tablet");
        append_monitoring_note(
            &mut anna,
            "n-anna-1",
            &note("anna", "Visit went well."),
            at(12),
        )
        .expect("anna's note");
        append_monitoring_note(
            &mut jan,
            "n-jan-1",
            &note("jan", "Called the school."),
            at(11),
        )
        .expect("jan's note");
        let mut doc = merged(&anna, &jan);
        let notes = view(&doc).monitoring;
        let ids: Vec<&str> = notes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["n-jan-1", "n-anna-1"], "oldest first");
        assert_eq!(notes[1].note, note("anna", "Visit went well."));
        let err = append_monitoring_note(&mut doc, "n-jan-1", &note("jan", "Again"), at(13))
            .expect_err("append-only");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
    }

    #[test]
    fn consultations_collect_answers() {
        let mut doc = new_case();
        let request = ConsultationRequest {
            asked_by: "anna".to_owned(),
            institution: "gops".to_owned(),
            question: "Does the school see progress?".to_owned(),
        };
        open_consultation(&mut doc, "k1", &request, at(10)).expect("opened");
        let answer = Answer {
            by: "pedagog".to_owned(),
            institution: "sp-1".to_owned(),
            text: "Yes, fewer absences.".to_owned(),
        };
        answer_consultation(&mut doc, "k1", "a1", &answer, at(11)).expect("answered");
        assert!(answer_consultation(&mut doc, "k1", "a1", &answer, at(12)).is_err());
        assert!(answer_consultation(&mut doc, "k9", "a1", &answer, at(12)).is_err());
        let consultation = &view(&doc).consultations["k1"];
        assert_eq!((&consultation.request, consultation.at), (&request, at(10)));
        assert_eq!(consultation.answers["a1"].answer, answer);
    }

    #[test]
    fn consent_events_are_logged_and_the_latest_counts() {
        let mut doc = new_case();
        record_consent(
            &mut doc,
            "c1",
            &consent(ConsentState::Given),
            &editor("anna"),
            at(10),
        )
        .expect("given");
        assert!(view(&doc).consent_in_force("sp-1", "school support"));
        record_consent(
            &mut doc,
            "c2",
            &consent(ConsentState::Withdrawn),
            &editor("anna"),
            at(11),
        )
        .expect("withdrawn");
        let case = view(&doc);
        assert!(!case.consent_in_force("sp-1", "school support"));
        assert!(!case.consent_in_force("police", "school support"));
        assert_eq!(case.consents["c1"].event, consent(ConsentState::Given));
        assert!(record_consent(
            &mut doc,
            "c1",
            &consent(ConsentState::Given),
            &editor("anna"),
            at(12)
        )
        .is_err());
    }

    #[test]
    fn evaluation_decision_and_handover_are_recorded() {
        let mut doc = new_case();
        set_evaluation(&mut doc, "Goals mostly achieved.", &editor("anna"), at(10))
            .expect("evaluated");
        set_pzk_decision(
            &mut doc,
            PzkDecision::End,
            Some("m7"),
            &editor("ewa"),
            at(11),
        )
        .expect("decided");
        let target = HandoverTarget {
            institution: "pcpr".to_owned(),
            worker: Some("marek".to_owned()),
        };
        set_handover(
            &mut doc,
            &target,
            "Foster-care support goes on.",
            &editor("anna"),
            at(12),
        )
        .expect("handed over");
        let case = view(&doc);
        assert_eq!(case.evaluation.text, "Goals mostly achieved.");
        assert_eq!(
            (case.evaluation.by.as_deref(), case.evaluation.at),
            (Some("anna"), Some(at(10)))
        );
        let decision = case.pzk_decision.expect("a decision");
        assert_eq!(decision.decision, Conflict::settled(PzkDecision::End));
        assert_eq!(
            (decision.meeting.as_deref(), decision.by.as_str()),
            (Some("m7"), "ewa")
        );
        let handover = case.handover.expect("a hand-over");
        assert_eq!(
            (
                handover.target.as_str(),
                handover.target_worker.as_deref(),
                handover.note.as_str()
            ),
            ("pcpr", Some("marek"), "Foster-care support goes on.")
        );
        assert_eq!(handover.at, at(12));
    }

    #[test]
    fn case_edits_refuse_a_pzk_document() {
        let mut doc = new_pzk();
        let err = upsert_goal(&mut doc, "g1", &goal_plan("x"), &editor("anna"), at(10))
            .expect_err("not a case");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
        assert!(read_case(&doc).is_err());
    }
}
