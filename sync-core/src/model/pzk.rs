//! The PZK document (*Partnerski Zespół Kooperacji*): one partner team of a gmina or powiat.
//!
//! # Layout
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `type` | string `"pzk"` | |
//! | `schemaVersion` | integer | [`SCHEMA_VERSION`](super::SCHEMA_VERSION) |
//! | `createdAt` | timestamp | |
//! | `name` | string | the team's name |
//! | `animator` | string | login of the animator who leads the team |
//! | `agreement` | `{text: Text, status}` | inter-institution agreement (5.2) |
//! | `members` | map: institution id → `{name, sector, role, representatives}` | representatives: person id → `{name, function}` |
//! | `workPlan` | map: milestone id → `{step, month, title, status}` | 18-month schedule (6.2) |
//! | `services` | map: service id → `{description: Text, provider, sector, capacity?, remoteCapable, retired}` | *Lista aktywności i usług* (6.3) |
//! | `meetings` | map: meeting id → meeting | see below |
//! | `consultations` | map: id → consultation + `{caseRef, meeting?}` | see [`super::consultation`] |
//! | `decision92` | `{rationale: Text, decision?, meeting?, by?, at?}` | the 9.2 decision |
//! | `recommendations` | map: id → `{text: Text, by, at}` | K10, append-only |
//!
//! A meeting is `{date: timestamp, mode, agenda: map item id → {title, order}, attendance: map
//! person id → how they took part, minutes: Text, decisions: map id → {text: Text, by, at}}`.
//!
//! The PZK document is read by every member institution, so it never names a person or family
//! that is being supported: a consultation refers to a case only by a pseudonymous reference
//! (`caseRef`, letters, digits and `-_./:#`, no spaces), which the validator enforces. Services
//! are retired, never deleted, because cases refer to their ids.

use std::collections::BTreeMap;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Automerge, ObjId, ROOT};
use chrono::{DateTime, Utc};

use super::access::{check_id, Node};
use super::conflict::Conflict;
use super::consultation::{self, Answer, ConsultationRequest, ConsultationView};
use super::{write, DocumentKind};
use crate::error::SchemaError;

/// The months of the PZK work plan: I to XVIII.
pub const PLAN_MONTHS: std::ops::RangeInclusive<u8> = 1..=18;

/// The longest pseudonymous case reference, in bytes.
pub const MAX_CASE_REF_LEN: usize = 64;

mod key {
    pub(super) const NAME: &str = "name";
    pub(super) const ANIMATOR: &str = "animator";
    pub(super) const AGREEMENT: &str = "agreement";
    pub(super) const MEMBERS: &str = "members";
    pub(super) const WORK_PLAN: &str = "workPlan";
    pub(super) const SERVICES: &str = "services";
    pub(super) const MEETINGS: &str = "meetings";
    pub(super) const CONSULTATIONS: &str = "consultations";
    pub(super) const DECISION_92: &str = "decision92";
    pub(super) const RECOMMENDATIONS: &str = "recommendations";

    pub(super) const TEXT: &str = "text";
    pub(super) const STATUS: &str = "status";
    pub(super) const SECTOR: &str = "sector";
    pub(super) const ROLE: &str = "role";
    pub(super) const REPRESENTATIVES: &str = "representatives";
    pub(super) const FUNCTION: &str = "function";
    pub(super) const STEP: &str = "step";
    pub(super) const MONTH: &str = "month";
    pub(super) const TITLE: &str = "title";
    pub(super) const DESCRIPTION: &str = "description";
    pub(super) const PROVIDER: &str = "provider";
    pub(super) const CAPACITY: &str = "capacity";
    pub(super) const REMOTE_CAPABLE: &str = "remoteCapable";
    pub(super) const RETIRED: &str = "retired";
    pub(super) const DATE: &str = "date";
    pub(super) const MODE: &str = "mode";
    pub(super) const AGENDA: &str = "agenda";
    pub(super) const ORDER: &str = "order";
    pub(super) const ATTENDANCE: &str = "attendance";
    pub(super) const MINUTES: &str = "minutes";
    pub(super) const DECISIONS: &str = "decisions";
    pub(super) const CASE_REF: &str = "caseRef";
    pub(super) const MEETING: &str = "meeting";
    pub(super) const DECISION: &str = "decision";
    pub(super) const RATIONALE: &str = "rationale";
    pub(super) const BY: &str = "by";
    pub(super) const AT: &str = "at";
}

wire_enum! {
    /// The status of the inter-institution agreement (*porozumienie*, step 5.2).
    AgreementStatus {
        /// *Projekt* — being drafted.
        Draft = "draft",
        /// *Podpisane* — signed and in force.
        Signed = "signed",
        /// *Rozwiązane* — ended.
        Terminated = "terminated",
    }
}

wire_enum! {
    /// The sector of a member institution or of a service's provider (*sektor*).
    InstitutionSector {
        /// *Pomoc społeczna* — GOPS/MOPS, PCPR.
        SocialAssistance = "social_assistance",
        /// *Oświata* — schools, kindergartens, counselling centres.
        Education = "education",
        /// *Ochrona zdrowia* — health care.
        Health = "health",
        /// *Policja* — police.
        Police = "police",
        /// *Wymiar sprawiedliwości* — courts and probation officers (*kuratorzy*).
        Justice = "justice",
        /// *Interwencja kryzysowa* — crisis-intervention centres.
        CrisisIntervention = "crisis_intervention",
        /// *Wsparcie dzienne* — community day centres (*świetlice, placówki wsparcia dziennego*).
        DayCentre = "day_centre",
        /// *Kultura* — culture.
        Culture = "culture",
        /// *Rynek pracy* — the labour office (*PUP*) and employment services.
        LabourMarket = "labour_market",
        /// *Organizacje pozarządowe* — NGOs.
        Ngo = "ngo",
        /// *Inny* — another sector.
        Other = "other",
    }
}

wire_enum! {
    /// A member's role in the team (*rola w PZK*).
    MemberRole {
        /// *Instytucja wiodąca* — the GOPS/PCPR that leads the team through its animator.
        Lead = "lead",
        /// *Członek* — a member institution.
        Member = "member",
        /// *Lider* — a person or family brought in as a partner (step 5.3).
        Leader = "leader",
        /// *Doradca* — the ROPS adviser who moderates meetings.
        Adviser = "adviser",
    }
}

wire_enum! {
    /// The status of a work-plan milestone (*status zadania w harmonogramie*).
    MilestoneStatus {
        /// *Zaplanowane* — planned.
        Planned = "planned",
        /// *W realizacji* — under way.
        InProgress = "in_progress",
        /// *Zrealizowane* — done.
        Done = "done",
        /// *Odwołane* — cancelled.
        Cancelled = "cancelled",
    }
}

wire_enum! {
    /// How a meeting is held (*forma spotkania*), per the standards of remote cooperation.
    MeetingMode {
        /// *Stacjonarnie* — everyone in the room.
        InPerson = "in_person",
        /// *Zdalnie* — everyone remote.
        Remote = "remote",
        /// *Hybrydowo* — some in the room, some remote.
        Mixed = "mixed",
    }
}

wire_enum! {
    /// How a person took part in a meeting (*obecność*).
    Attendance {
        /// *Osobiście* — in the room.
        InPerson = "in_person",
        /// *Wideo* — by video.
        Video = "video",
        /// *Telefonicznie* — by phone.
        Phone = "phone",
        /// *Nieobecny* — absent.
        Absent = "absent",
    }
}

wire_enum! {
    /// The team's decision at step 9.2 (*decyzja o kontynuacji*): whether the PZK goes on.
    TeamDecision {
        /// *Kontynuacja* — the team continues.
        Continue = "continue",
        /// *Zakończenie* — the team ends its work.
        End = "end",
    }
}

/// What a new PZK document starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PzkInit {
    /// The Automerge actor of the creating device (bound to the user by the server).
    pub actor: ActorId,
    /// The team's name, e.g. "PZK Gminy Przykładowo".
    pub name: String,
    /// The login of the animator who leads the team.
    pub animator: String,
    /// The first draft of the agreement.
    pub agreement_text: String,
}

/// The agreement (*porozumienie*) as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreementView {
    /// The text.
    pub text: String,
    /// The status, with concurrent values.
    pub status: Conflict<AgreementStatus>,
}

/// A member institution (*instytucja członkowska*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The institution's name.
    pub name: String,
    /// Its sector.
    pub sector: InstitutionSector,
    /// Its role in the team.
    pub role: MemberRole,
}

/// A representative of a member institution (*przedstawiciel*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Representative {
    /// The person's name.
    pub name: String,
    /// Their function at the institution, e.g. "pedagog szkolny".
    pub function: String,
}

/// A member as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberView {
    /// The member.
    pub member: Member,
    /// Its representatives, by person id.
    pub representatives: BTreeMap<String, Representative>,
}

/// A milestone of the work plan (*harmonogram*, step 6.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Milestone {
    /// The model's step, e.g. `K6.2` or `K7.2`.
    pub step: String,
    /// The month of the schedule, 1 to 18 (I–XVIII).
    pub month: u8,
    /// What is to be done.
    pub title: String,
}

/// A milestone as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MilestoneView {
    /// The milestone.
    pub milestone: Milestone,
    /// The status, with concurrent values.
    pub status: Conflict<MilestoneStatus>,
}

/// An entry of the list of activities and services (*Lista aktywności i usług*, step 6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    /// What the service is, in free text.
    pub description: String,
    /// The id of the providing member institution.
    pub provider: String,
    /// The provider's sector.
    pub sector: InstitutionSector,
    /// How many persons or families it can take, when limited.
    pub capacity: Option<u64>,
    /// Whether it can be delivered remotely.
    pub remote_capable: bool,
}

/// A services-list entry as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntryView {
    /// The entry.
    pub entry: ServiceEntry,
    /// Whether it is no longer offered (kept because cases refer to it).
    pub retired: bool,
}

/// When and how a meeting (*spotkanie PZK*) is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingPlan {
    /// When it starts.
    pub date: DateTime<Utc>,
    /// How it is held.
    pub mode: MeetingMode,
}

/// An item of a meeting's agenda (*porządek spotkania*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgendaItem {
    /// The item.
    pub title: String,
    /// Its place in the agenda; items are shown by order, then id.
    pub order: u64,
}

/// A written entry: a meeting decision or a recommendation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The text.
    pub text: String,
    /// Who wrote it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A meeting as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingView {
    /// When and how.
    pub plan: MeetingPlan,
    /// The agenda, by item id.
    pub agenda: BTreeMap<String, AgendaItem>,
    /// How each person took part, with concurrent values.
    pub attendance: BTreeMap<String, Conflict<Attendance>>,
    /// The minutes (*protokół*).
    pub minutes: String,
    /// The decisions (*ustalenia*), by id.
    pub decisions: BTreeMap<String, Entry>,
}

/// A consultation held in the team about a case, named only by a pseudonymous reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PzkConsultationView {
    /// The pseudonymous reference to the case.
    pub case_ref: String,
    /// The meeting it was raised at, if any.
    pub meeting: Option<String>,
    /// The question and answers.
    pub consultation: ConsultationView,
}

/// The 9.2 decision as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamDecisionView {
    /// The decision, with concurrent values.
    pub decision: Conflict<TeamDecision>,
    /// Why, in free text.
    pub rationale: String,
    /// The meeting that decided, if recorded.
    pub meeting: Option<String>,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A whole PZK document as plain Rust values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PzkView {
    /// The document's schema version.
    pub schema_version: u64,
    /// When the document was created.
    pub created_at: DateTime<Utc>,
    /// The team's name.
    pub name: String,
    /// The animator's login.
    pub animator: String,
    /// The agreement.
    pub agreement: AgreementView,
    /// The member institutions, by institution id.
    pub members: BTreeMap<String, MemberView>,
    /// The work plan, by milestone id.
    pub work_plan: BTreeMap<String, MilestoneView>,
    /// The list of activities and services, by service id.
    pub services: BTreeMap<String, ServiceEntryView>,
    /// The meetings, by meeting id.
    pub meetings: BTreeMap<String, MeetingView>,
    /// The consultations, by id.
    pub consultations: BTreeMap<String, PzkConsultationView>,
    /// The 9.2 decision, once recorded.
    pub decision_9_2: Option<TeamDecisionView>,
    /// The recommendations (K10), by id.
    pub recommendations: BTreeMap<String, Entry>,
}

impl PzkView {
    /// The paths of status fields holding concurrent values, which a user must settle.
    pub fn conflicts(&self) -> Vec<String> {
        let mut paths = Vec::new();
        if self.agreement.status.is_conflicted() {
            paths.push(format!("{}/{}", key::AGREEMENT, key::STATUS));
        }
        for (id, milestone) in &self.work_plan {
            if milestone.status.is_conflicted() {
                paths.push(format!("{}/{id}/{}", key::WORK_PLAN, key::STATUS));
            }
        }
        for (meeting_id, meeting) in &self.meetings {
            for (person, attendance) in &meeting.attendance {
                if attendance.is_conflicted() {
                    paths.push(format!(
                        "{}/{meeting_id}/{}/{person}",
                        key::MEETINGS,
                        key::ATTENDANCE
                    ));
                }
            }
        }
        if self
            .decision_9_2
            .as_ref()
            .is_some_and(|d| d.decision.is_conflicted())
        {
            paths.push(format!("{}/{}", key::DECISION_92, key::DECISION));
        }
        paths
    }
}

/// Whether `step` names a step of the model: `K1` to `K10`, optionally with sub-steps (`K6.2`).
pub fn is_step(step: &str) -> bool {
    let Some(rest) = step.strip_prefix('K') else {
        return false;
    };
    let number = |part: &str| {
        !part.is_empty()
            && part.len() <= 2
            && part.bytes().all(|b| b.is_ascii_digit())
            && !part.starts_with('0')
    };
    let mut parts = rest.split('.');
    let main = parts.next().unwrap_or_default();
    number(main) && main.parse::<u8>().is_ok_and(|n| n <= 10) && parts.all(number)
}

/// Whether `case_ref` is a pseudonymous case reference: 1 to [`MAX_CASE_REF_LEN`] ASCII letters,
/// digits or `-_./:#`, so no name with spaces fits.
pub fn is_case_ref(case_ref: &str) -> bool {
    (1..=MAX_CASE_REF_LEN).contains(&case_ref.len())
        && case_ref
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:#".contains(&b))
}

// ---------------------------------------------------------------------------------------------
// Creating and editing

/// Creates a PZK document with a draft agreement and every container it will ever hold.
pub fn new_pzk(init: &PzkInit, at: DateTime<Utc>) -> Result<Automerge, SchemaError> {
    let mut doc = Automerge::new().with_actor(init.actor.clone());
    let message = write::message(format_args!("PZK {} created", init.name), &init.animator);
    write::commit(&mut doc, message, at, |tx| {
        super::write_header(tx, DocumentKind::Pzk, at)?;
        tx.put(ROOT, key::NAME, init.name.as_str())?;
        tx.put(ROOT, key::ANIMATOR, init.animator.as_str())?;
        let agreement = write::new_map(tx, &ROOT, key::AGREEMENT)?;
        write::new_text(tx, &agreement, key::TEXT, &init.agreement_text)?;
        tx.put(&agreement, key::STATUS, AgreementStatus::Draft.as_str())?;
        let decision = write::new_map(tx, &ROOT, key::DECISION_92)?;
        write::new_text(tx, &decision, key::RATIONALE, "")?;
        for map in [
            key::MEMBERS,
            key::WORK_PLAN,
            key::SERVICES,
            key::MEETINGS,
            key::CONSULTATIONS,
            key::RECOMMENDATIONS,
        ] {
            write::new_map(tx, &ROOT, map)?;
        }
        Ok(())
    })?;
    Ok(doc)
}

/// The root of `doc`, checked to be a PZK document of a supported schema version.
fn open_pzk(doc: &Automerge) -> Result<Node<'_>, SchemaError> {
    super::open(doc, DocumentKind::Pzk)
}

/// Replaces the agreement's text (as a diff, so concurrent edits elsewhere in it are kept).
pub fn set_agreement_text(
    doc: &mut Automerge,
    text: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let text_obj = open_pzk(doc)?
        .map(key::AGREEMENT)?
        .text_obj(key::TEXT)?
        .id();
    let message = write::message("agreement: text updated", by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &text_obj, text)
    })
}

/// Sets the agreement's status; setting it settles a conflict on it.
pub fn set_agreement_status(
    doc: &mut Automerge,
    status: AgreementStatus,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?.id();
    let message = write::message(format_args!("agreement/status: {status}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&agreement, key::STATUS, status.as_str())?;
        Ok(())
    })
}

/// Adds a member institution, or updates the fields that changed when it is present.
pub fn upsert_member(
    doc: &mut Automerge,
    institution_id: &str,
    member: &Member,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let members = open_pzk(doc)?.map(key::MEMBERS)?;
    check_id(key::MEMBERS, institution_id)?;
    let existing = match members.has(institution_id)? {
        true => {
            let node = members.map(institution_id)?;
            Some((node.id(), read_member_fields(&node)?))
        }
        false => None,
    };
    let members = members.id();
    let message = write::message(format_args!("members/{institution_id}: saved"), by);
    write::commit(doc, message, at, |tx| {
        let (map, current) = match existing {
            Some((map, current)) => (map, Some(current)),
            None => {
                let map = write::new_map(tx, &members, institution_id)?;
                write::new_map(tx, &map, key::REPRESENTATIVES)?;
                (map, None)
            }
        };
        let current = current.as_ref();
        write::put_if_changed(
            tx,
            &map,
            key::NAME,
            current.map(|c| &c.name),
            member.name.clone(),
        )?;
        let sector = current.map(|c| c.sector.as_str());
        write::put_if_changed(
            tx,
            &map,
            key::SECTOR,
            sector.as_ref(),
            member.sector.as_str(),
        )?;
        let role = current.map(|c| c.role.as_str());
        write::put_if_changed(tx, &map, key::ROLE, role.as_ref(), member.role.as_str())?;
        Ok(())
    })
}

/// Adds or updates a representative of a member institution.
pub fn set_representative(
    doc: &mut Automerge,
    institution_id: &str,
    person_id: &str,
    representative: &Representative,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let representatives = open_pzk(doc)?
        .map(key::MEMBERS)?
        .map(institution_id)?
        .map(key::REPRESENTATIVES)?;
    check_id(representatives.path(), person_id)?;
    let existing = match representatives.has(person_id)? {
        true => {
            let node = representatives.map(person_id)?;
            Some((node.id(), read_representative(&node)?))
        }
        false => None,
    };
    let representatives = representatives.id();
    let message = write::message(
        format_args!("members/{institution_id}/representatives/{person_id}: saved"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let (map, current) = match existing {
            Some((map, current)) => (map, Some(current)),
            None => (write::new_map(tx, &representatives, person_id)?, None),
        };
        let current = current.as_ref();
        let name = current.map(|c| &c.name);
        write::put_if_changed(tx, &map, key::NAME, name, representative.name.clone())?;
        let function = current.map(|c| &c.function);
        write::put_if_changed(
            tx,
            &map,
            key::FUNCTION,
            function,
            representative.function.clone(),
        )?;
        Ok(())
    })
}

/// Removes a representative of a member institution.
pub fn remove_representative(
    doc: &mut Automerge,
    institution_id: &str,
    person_id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let representatives = open_pzk(doc)?
        .map(key::MEMBERS)?
        .map(institution_id)?
        .map(key::REPRESENTATIVES)?;
    representatives.map(person_id)?;
    let representatives = representatives.id();
    let message = write::message(
        format_args!("members/{institution_id}/representatives/{person_id}: removed"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        tx.delete(&representatives, person_id)?;
        Ok(())
    })
}

fn check_milestone(milestone_id: &str, milestone: &Milestone) -> Result<(), SchemaError> {
    let field = |name: &str, reason: String| SchemaError::Field {
        path: format!("{}/{milestone_id}/{name}", key::WORK_PLAN),
        reason,
    };
    if !is_step(&milestone.step) {
        return Err(field(
            key::STEP,
            format!("{:?} is not a step K1 to K10", milestone.step),
        ));
    }
    if !PLAN_MONTHS.contains(&milestone.month) {
        return Err(field(
            key::MONTH,
            format!("{} is not a month 1 to 18", milestone.month),
        ));
    }
    Ok(())
}

/// Adds a work-plan milestone (status `planned`) or updates the fields that changed.
///
/// The status is left alone; it changes only through [`set_milestone_status`].
pub fn upsert_milestone(
    doc: &mut Automerge,
    milestone_id: &str,
    milestone: &Milestone,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let plan = open_pzk(doc)?.map(key::WORK_PLAN)?;
    check_id(key::WORK_PLAN, milestone_id)?;
    check_milestone(milestone_id, milestone)?;
    let existing = match plan.has(milestone_id)? {
        true => {
            let node = plan.map(milestone_id)?;
            Some((node.id(), read_milestone(&node)?.milestone))
        }
        false => None,
    };
    let plan = plan.id();
    let message = write::message(format_args!("workPlan/{milestone_id}: saved"), by);
    write::commit(doc, message, at, |tx| {
        let (map, current) = match existing {
            Some((map, current)) => (map, Some(current)),
            None => {
                let map = write::new_map(tx, &plan, milestone_id)?;
                tx.put(&map, key::STATUS, MilestoneStatus::Planned.as_str())?;
                (map, None)
            }
        };
        let current = current.as_ref();
        write::put_if_changed(
            tx,
            &map,
            key::STEP,
            current.map(|c| &c.step),
            milestone.step.clone(),
        )?;
        let month = current.map(|c| u64::from(c.month));
        write::put_if_changed(
            tx,
            &map,
            key::MONTH,
            month.as_ref(),
            u64::from(milestone.month),
        )?;
        write::put_if_changed(
            tx,
            &map,
            key::TITLE,
            current.map(|c| &c.title),
            milestone.title.clone(),
        )?;
        Ok(())
    })
}

/// Sets a milestone's status; setting it settles a conflict on it.
pub fn set_milestone_status(
    doc: &mut Automerge,
    milestone_id: &str,
    status: MilestoneStatus,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let milestone = open_pzk(doc)?.map(key::WORK_PLAN)?.map(milestone_id)?.id();
    let message = write::message(format_args!("workPlan/{milestone_id}/status: {status}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&milestone, key::STATUS, status.as_str())?;
        Ok(())
    })
}

/// The objects of an existing services-list entry and its current fields.
struct ServiceTargets {
    map: ObjId,
    description: ObjId,
    current: ServiceEntry,
}

/// Adds an entry to the list of activities and services, or updates the fields that changed.
pub fn upsert_service(
    doc: &mut Automerge,
    service_id: &str,
    entry: &ServiceEntry,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let services = open_pzk(doc)?.map(key::SERVICES)?;
    check_id(key::SERVICES, service_id)?;
    check_id(
        &format!("{}/{service_id}/{}", key::SERVICES, key::PROVIDER),
        &entry.provider,
    )?;
    let existing = match services.has(service_id)? {
        true => {
            let node = services.map(service_id)?;
            Some(ServiceTargets {
                map: node.id(),
                description: node.text_obj(key::DESCRIPTION)?.id(),
                current: read_service(&node)?.entry,
            })
        }
        false => None,
    };
    let services = services.id();
    let message = write::message(format_args!("services/{service_id}: saved"), by);
    write::commit(doc, message, at, |tx| match &existing {
        Some(targets) => update_service(tx, targets, entry),
        None => create_service(tx, &services, service_id, entry),
    })
}

fn create_service(
    tx: &mut Transaction<'_>,
    services: &ObjId,
    service_id: &str,
    entry: &ServiceEntry,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, services, service_id)?;
    write::new_text(tx, &map, key::DESCRIPTION, &entry.description)?;
    tx.put(&map, key::PROVIDER, entry.provider.as_str())?;
    tx.put(&map, key::SECTOR, entry.sector.as_str())?;
    if let Some(capacity) = entry.capacity {
        tx.put(&map, key::CAPACITY, capacity)?;
    }
    tx.put(&map, key::REMOTE_CAPABLE, entry.remote_capable)?;
    tx.put(&map, key::RETIRED, false)?;
    Ok(())
}

fn update_service(
    tx: &mut Transaction<'_>,
    targets: &ServiceTargets,
    entry: &ServiceEntry,
) -> Result<(), SchemaError> {
    let (map, current) = (&targets.map, &targets.current);
    if current.description != entry.description {
        write::update_text(tx, &targets.description, &entry.description)?;
    }
    write::put_if_changed(
        tx,
        map,
        key::PROVIDER,
        Some(&current.provider),
        entry.provider.clone(),
    )?;
    let sector = current.sector.as_str();
    write::put_if_changed(tx, map, key::SECTOR, Some(&sector), entry.sector.as_str())?;
    if current.capacity != entry.capacity {
        match entry.capacity {
            Some(capacity) => tx.put(map, key::CAPACITY, capacity)?,
            None => tx.delete(map, key::CAPACITY)?,
        }
    }
    let remote = Some(&current.remote_capable);
    write::put_if_changed(tx, map, key::REMOTE_CAPABLE, remote, entry.remote_capable)?;
    Ok(())
}

/// Marks a services-list entry as no longer offered. Entries are never deleted, because cases
/// refer to their ids.
pub fn retire_service(
    doc: &mut Automerge,
    service_id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let service = open_pzk(doc)?.map(key::SERVICES)?.map(service_id)?.id();
    let message = write::message(format_args!("services/{service_id}: retired"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&service, key::RETIRED, true)?;
        Ok(())
    })
}

/// Schedules a meeting, or moves an existing one (date and mode).
pub fn schedule_meeting(
    doc: &mut Automerge,
    meeting_id: &str,
    plan: &MeetingPlan,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let meetings = open_pzk(doc)?.map(key::MEETINGS)?;
    check_id(key::MEETINGS, meeting_id)?;
    let existing = match meetings.has(meeting_id)? {
        true => {
            let node = meetings.map(meeting_id)?;
            Some((node.id(), read_meeting_plan(&node)?))
        }
        false => None,
    };
    let meetings = meetings.id();
    let message = write::message(format_args!("meetings/{meeting_id}: scheduled"), by);
    write::commit(doc, message, at, |tx| {
        let (map, current) = match existing {
            Some((map, current)) => (map, Some(current)),
            None => (create_meeting(tx, &meetings, meeting_id)?, None),
        };
        if current.as_ref().map(|c| c.date) != Some(plan.date) {
            tx.put(&map, key::DATE, write::timestamp(plan.date))?;
        }
        let mode = current.map(|c| c.mode.as_str());
        write::put_if_changed(tx, &map, key::MODE, mode.as_ref(), plan.mode.as_str())?;
        Ok(())
    })
}

fn create_meeting(
    tx: &mut Transaction<'_>,
    meetings: &ObjId,
    meeting_id: &str,
) -> Result<ObjId, SchemaError> {
    let map = write::new_map(tx, meetings, meeting_id)?;
    write::new_map(tx, &map, key::AGENDA)?;
    write::new_map(tx, &map, key::ATTENDANCE)?;
    write::new_text(tx, &map, key::MINUTES, "")?;
    write::new_map(tx, &map, key::DECISIONS)?;
    Ok(map)
}

/// Adds or updates an agenda item of a meeting.
pub fn set_agenda_item(
    doc: &mut Automerge,
    meeting_id: &str,
    item_id: &str,
    item: &AgendaItem,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let agenda = open_pzk(doc)?
        .map(key::MEETINGS)?
        .map(meeting_id)?
        .map(key::AGENDA)?;
    check_id(agenda.path(), item_id)?;
    let existing = match agenda.has(item_id)? {
        true => {
            let node = agenda.map(item_id)?;
            Some((node.id(), read_agenda_item(&node)?))
        }
        false => None,
    };
    let agenda = agenda.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/agenda/{item_id}: saved"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let (map, current) = match existing {
            Some((map, current)) => (map, Some(current)),
            None => (write::new_map(tx, &agenda, item_id)?, None),
        };
        let current = current.as_ref();
        write::put_if_changed(
            tx,
            &map,
            key::TITLE,
            current.map(|c| &c.title),
            item.title.clone(),
        )?;
        write::put_if_changed(tx, &map, key::ORDER, current.map(|c| &c.order), item.order)?;
        Ok(())
    })
}

/// Records how a person took part in a meeting; recording it settles a conflict on it.
pub fn record_attendance(
    doc: &mut Automerge,
    meeting_id: &str,
    person_id: &str,
    attendance: Attendance,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let list = open_pzk(doc)?
        .map(key::MEETINGS)?
        .map(meeting_id)?
        .map(key::ATTENDANCE)?;
    check_id(list.path(), person_id)?;
    let list = list.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/attendance/{person_id}: {attendance}"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        tx.put(&list, person_id, attendance.as_str())?;
        Ok(())
    })
}

/// Replaces a meeting's minutes (as a diff, so concurrent edits elsewhere in them are kept).
pub fn set_minutes(
    doc: &mut Automerge,
    meeting_id: &str,
    text: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let minutes = open_pzk(doc)?
        .map(key::MEETINGS)?
        .map(meeting_id)?
        .text_obj(key::MINUTES)?
        .id();
    let message = write::message(format_args!("meetings/{meeting_id}/minutes: updated"), by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &minutes, text)
    })
}

/// Records a decision of a meeting; decisions are append-only, so an existing id is refused.
pub fn record_decision(
    doc: &mut Automerge,
    meeting_id: &str,
    decision_id: &str,
    text: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let decisions = open_pzk(doc)?
        .map(key::MEETINGS)?
        .map(meeting_id)?
        .map(key::DECISIONS)?;
    decisions.absent(decision_id, "decision")?;
    let decisions = decisions.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/decisions/{decision_id}: recorded"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        write_entry(tx, &decisions, decision_id, text, by, at)
    })
}

fn write_entry(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    id: &str,
    text: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, parent, id)?;
    write::new_text(tx, &map, key::TEXT, text)?;
    tx.put(&map, key::BY, by)?;
    tx.put(&map, key::AT, write::timestamp(at))?;
    Ok(())
}

/// Opens a consultation about a case, named only by its pseudonymous reference `case_ref`
/// (see [`is_case_ref`]), optionally raised at a meeting.
pub fn open_consultation(
    doc: &mut Automerge,
    consultation_id: &str,
    case_ref: &str,
    meeting: Option<&str>,
    request: &ConsultationRequest,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = open_pzk(doc)?;
    let consultations = root.map(key::CONSULTATIONS)?;
    consultations.absent(consultation_id, "consultation")?;
    let path = format!("{}/{consultation_id}", key::CONSULTATIONS);
    check_case_ref(&path, case_ref)?;
    if let Some(meeting) = meeting {
        root.map(key::MEETINGS)?.map(meeting)?;
    }
    let consultations = consultations.id();
    let message = write::message(
        format_args!("consultations/{consultation_id}: opened on {case_ref}"),
        &request.asked_by,
    );
    write::commit(doc, message, at, |tx| {
        let map = consultation::create(tx, &consultations, consultation_id, request, at)?;
        tx.put(&map, key::CASE_REF, case_ref)?;
        write::put_opt_str(tx, &map, key::MEETING, meeting)
    })
}

fn check_case_ref(parent: &str, case_ref: &str) -> Result<(), SchemaError> {
    if is_case_ref(case_ref) {
        return Ok(());
    }
    Err(SchemaError::Field {
        path: format!("{parent}/{}", key::CASE_REF),
        reason: format!(
            "a case is named only by a pseudonymous reference of 1 to {MAX_CASE_REF_LEN} \
             letters, digits or -_./:# (no names)"
        ),
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
    let consultations = open_pzk(doc)?.map(key::CONSULTATIONS)?;
    let answers = consultation::answers_for_new(&consultations, consultation_id, answer_id)?;
    let message = write::message(
        format_args!("consultations/{consultation_id}/answers/{answer_id}: answered"),
        &answer.by,
    );
    write::commit(doc, message, at, |tx| {
        consultation::add_answer(tx, &answers, answer_id, answer, at)
    })
}

/// Records the team's 9.2 decision with its rationale; recording it settles a conflict on it.
pub fn set_decision_9_2(
    doc: &mut Automerge,
    decision: TeamDecision,
    rationale: &str,
    meeting: Option<&str>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = open_pzk(doc)?;
    let node = root.map(key::DECISION_92)?;
    if let Some(meeting) = meeting {
        root.map(key::MEETINGS)?.map(meeting)?;
    }
    let rationale_text = node.text_obj(key::RATIONALE)?.id();
    let map = node.id();
    let message = write::message(format_args!("decision92: {decision}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&map, key::DECISION, decision.as_str())?;
        write::update_text(tx, &rationale_text, rationale)?;
        write::put_opt_str(tx, &map, key::MEETING, meeting)?;
        tx.put(&map, key::BY, by)?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Adds a recommendation (K10); recommendations are append-only, so an existing id is refused.
pub fn add_recommendation(
    doc: &mut Automerge,
    recommendation_id: &str,
    text: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let recommendations = open_pzk(doc)?.map(key::RECOMMENDATIONS)?;
    recommendations.absent(recommendation_id, "recommendation")?;
    let recommendations = recommendations.id();
    let message = write::message(
        format_args!("recommendations/{recommendation_id}: added"),
        by,
    );
    write::commit(doc, message, at, |tx| {
        write_entry(tx, &recommendations, recommendation_id, text, by, at)
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The agreement's status with every concurrent value.
pub fn agreement_status(doc: &Automerge) -> Result<Conflict<AgreementStatus>, SchemaError> {
    open_pzk(doc)?.map(key::AGREEMENT)?.status(key::STATUS)
}

/// A milestone's status with every concurrent value.
pub fn milestone_status(
    doc: &Automerge,
    milestone_id: &str,
) -> Result<Conflict<MilestoneStatus>, SchemaError> {
    open_pzk(doc)?
        .map(key::WORK_PLAN)?
        .map(milestone_id)?
        .status(key::STATUS)
}

/// Reads a whole PZK document, checking the shape of every field on the way.
pub fn read_pzk(doc: &Automerge) -> Result<PzkView, SchemaError> {
    let root = open_pzk(doc)?;
    Ok(PzkView {
        schema_version: super::schema_version(doc)?,
        created_at: root.timestamp(super::key::CREATED_AT)?,
        name: root.str(key::NAME)?,
        animator: root.str(key::ANIMATOR)?,
        agreement: read_agreement(&root.map(key::AGREEMENT)?)?,
        members: root.map(key::MEMBERS)?.read_map(read_member)?,
        work_plan: root.map(key::WORK_PLAN)?.read_map(read_milestone)?,
        services: root.map(key::SERVICES)?.read_map(read_service)?,
        meetings: root.map(key::MEETINGS)?.read_map(read_meeting)?,
        consultations: root.map(key::CONSULTATIONS)?.read_map(read_consultation)?,
        decision_9_2: read_decision(&root.map(key::DECISION_92)?)?,
        recommendations: root.map(key::RECOMMENDATIONS)?.read_map(read_entry)?,
    })
}

fn read_agreement(node: &Node<'_>) -> Result<AgreementView, SchemaError> {
    Ok(AgreementView {
        text: node.text(key::TEXT)?,
        status: node.status(key::STATUS)?,
    })
}

fn read_member_fields(node: &Node<'_>) -> Result<Member, SchemaError> {
    Ok(Member {
        name: node.str(key::NAME)?,
        sector: node.enumeration(key::SECTOR)?,
        role: node.enumeration(key::ROLE)?,
    })
}

fn read_member(node: &Node<'_>) -> Result<MemberView, SchemaError> {
    Ok(MemberView {
        member: read_member_fields(node)?,
        representatives: node
            .map(key::REPRESENTATIVES)?
            .read_map(read_representative)?,
    })
}

fn read_representative(node: &Node<'_>) -> Result<Representative, SchemaError> {
    Ok(Representative {
        name: node.str(key::NAME)?,
        function: node.str(key::FUNCTION)?,
    })
}

fn read_milestone(node: &Node<'_>) -> Result<MilestoneView, SchemaError> {
    let step = node.str(key::STEP)?;
    if !is_step(&step) {
        return Err(node.error(key::STEP, format!("{step:?} is not a step K1 to K10")));
    }
    let months = node.uints(key::MONTH)?;
    let month = |m: u64| {
        u8::try_from(m)
            .ok()
            .filter(|m| PLAN_MONTHS.contains(m))
            .ok_or_else(|| node.error(key::MONTH, format!("{m} is not a month 1 to 18")))
    };
    for other in &months.alternatives {
        month(*other)?;
    }
    Ok(MilestoneView {
        milestone: Milestone {
            step,
            month: month(months.value)?,
            title: node.str(key::TITLE)?,
        },
        status: node.status(key::STATUS)?,
    })
}

fn read_service(node: &Node<'_>) -> Result<ServiceEntryView, SchemaError> {
    Ok(ServiceEntryView {
        entry: ServiceEntry {
            description: node.text(key::DESCRIPTION)?,
            provider: node.str(key::PROVIDER)?,
            sector: node.enumeration(key::SECTOR)?,
            capacity: node.opt_uint(key::CAPACITY)?,
            remote_capable: node.bool(key::REMOTE_CAPABLE)?,
        },
        retired: node.bool(key::RETIRED)?,
    })
}

fn read_meeting_plan(node: &Node<'_>) -> Result<MeetingPlan, SchemaError> {
    Ok(MeetingPlan {
        date: node.timestamp(key::DATE)?,
        mode: node.enumeration(key::MODE)?,
    })
}

fn read_meeting(node: &Node<'_>) -> Result<MeetingView, SchemaError> {
    let attendance = node.map(key::ATTENDANCE)?;
    let attendance = attendance
        .ids()?
        .into_iter()
        .map(|person| attendance.status(&person).map(|a| (person, a)))
        .collect::<Result<_, _>>()?;
    Ok(MeetingView {
        plan: read_meeting_plan(node)?,
        agenda: node.map(key::AGENDA)?.read_map(read_agenda_item)?,
        attendance,
        minutes: node.text(key::MINUTES)?,
        decisions: node.map(key::DECISIONS)?.read_map(read_entry)?,
    })
}

fn read_agenda_item(node: &Node<'_>) -> Result<AgendaItem, SchemaError> {
    Ok(AgendaItem {
        title: node.str(key::TITLE)?,
        order: node.uints(key::ORDER)?.value,
    })
}

fn read_entry(node: &Node<'_>) -> Result<Entry, SchemaError> {
    Ok(Entry {
        text: node.text(key::TEXT)?,
        by: node.str(key::BY)?,
        at: node.timestamp(key::AT)?,
    })
}

fn read_consultation(node: &Node<'_>) -> Result<PzkConsultationView, SchemaError> {
    let case_ref = node.str(key::CASE_REF)?;
    check_case_ref(node.path(), &case_ref)?;
    Ok(PzkConsultationView {
        case_ref,
        meeting: node.opt_str(key::MEETING)?,
        consultation: consultation::read(node)?,
    })
}

fn read_decision(node: &Node<'_>) -> Result<Option<TeamDecisionView>, SchemaError> {
    let rationale = node.text(key::RATIONALE)?;
    let Some(decision) = node.opt_status(key::DECISION)? else {
        return Ok(None);
    };
    Ok(Some(TeamDecisionView {
        decision,
        rationale,
        meeting: node.opt_str(key::MEETING)?,
        by: node.str(key::BY)?,
        at: node.timestamp(key::AT)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{at, fork_as, merged, new_case, new_pzk};
    use crate::model::validate;

    fn view(doc: &Automerge) -> PzkView {
        read_pzk(doc).expect("the PZK document reads back")
    }

    fn school() -> Member {
        Member {
            name: "Szkoła Podstawowa nr 1".to_owned(),
            sector: InstitutionSector::Education,
            role: MemberRole::Member,
        }
    }

    fn day_centre() -> ServiceEntry {
        ServiceEntry {
            description: "Afternoon homework club.".to_owned(),
            provider: "swietlica".to_owned(),
            sector: InstitutionSector::DayCentre,
            capacity: Some(12),
            remote_capable: false,
        }
    }

    fn with_meeting() -> Automerge {
        let mut doc = new_pzk();
        let plan = MeetingPlan {
            date: at(14),
            mode: MeetingMode::Remote,
        };
        schedule_meeting(&mut doc, "m1", &plan, "ewa", at(10)).expect("scheduled");
        doc
    }

    fn request() -> ConsultationRequest {
        ConsultationRequest {
            asked_by: "anna".to_owned(),
            institution: "gops".to_owned(),
            question: "Who can offer tutoring?".to_owned(),
        }
    }

    fn field_path(err: &SchemaError) -> &str {
        match err {
            SchemaError::Field { path, .. } => path,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_new_pzk_has_a_draft_agreement_and_empty_containers() {
        let pzk = view(&new_pzk());
        assert_eq!(
            (pzk.name.as_str(), pzk.animator.as_str()),
            ("PZK Gminy Przykładowo", "ewa")
        );
        assert_eq!(pzk.agreement.text, "Porozumienie o współpracy.");
        assert_eq!(
            pzk.agreement.status,
            Conflict::settled(AgreementStatus::Draft)
        );
        assert!(pzk.members.is_empty() && pzk.work_plan.is_empty() && pzk.meetings.is_empty());
        assert_eq!((pzk.decision_9_2, pzk.created_at), (None, at(9)));
    }

    #[test]
    fn the_agreement_is_edited_and_signed() {
        let mut doc = new_pzk();
        set_agreement_text(&mut doc, "Porozumienie o współpracy w PZK.", "ewa", at(10))
            .expect("text");
        set_agreement_status(&mut doc, AgreementStatus::Signed, "ewa", at(11)).expect("status");
        let agreement = view(&doc).agreement;
        assert_eq!(agreement.text, "Porozumienie o współpracy w PZK.");
        assert_eq!(
            agreement_status(&doc).expect("status").value,
            AgreementStatus::Signed
        );
    }

    #[test]
    fn members_and_representatives_are_kept_by_id() {
        let mut doc = new_pzk();
        upsert_member(&mut doc, "sp-1", &school(), "ewa", at(10)).expect("member");
        let rep = Representative {
            name: "Jan Nowak".to_owned(),
            function: "pedagog szkolny".to_owned(),
        };
        set_representative(&mut doc, "sp-1", "jan", &rep, "ewa", at(11)).expect("representative");
        set_representative(&mut doc, "sp-1", "ola", &rep, "ewa", at(11)).expect("representative");
        let mut changed = school();
        changed.role = MemberRole::Lead;
        upsert_member(&mut doc, "sp-1", &changed, "ewa", at(12)).expect("updated");
        remove_representative(&mut doc, "sp-1", "ola", "ewa", at(13)).expect("removed");
        let member = &view(&doc).members["sp-1"];
        assert_eq!(member.member, changed);
        assert_eq!(member.representatives.keys().collect::<Vec<_>>(), ["jan"]);
        assert_eq!(member.representatives["jan"], rep);
        assert!(remove_representative(&mut doc, "sp-1", "ola", "ewa", at(14)).is_err());
        assert!(set_representative(&mut doc, "police", "jan", &rep, "ewa", at(14)).is_err());
    }

    #[test]
    fn milestones_follow_the_18_month_plan() {
        let mut doc = new_pzk();
        let mut milestone = Milestone {
            step: "K6.2".to_owned(),
            month: 1,
            title: "Work plan agreed".to_owned(),
        };
        upsert_milestone(&mut doc, "ms1", &milestone, "ewa", at(10)).expect("milestone");
        set_milestone_status(&mut doc, "ms1", MilestoneStatus::Done, "ewa", at(11)).expect("done");
        milestone.month = 2;
        upsert_milestone(&mut doc, "ms1", &milestone, "ewa", at(12)).expect("moved");
        let view = &view(&doc).work_plan["ms1"];
        assert_eq!(view.milestone, milestone);
        assert_eq!(view.status, Conflict::settled(MilestoneStatus::Done));
        assert_eq!(
            milestone_status(&doc, "ms1").expect("status").value,
            MilestoneStatus::Done
        );

        milestone.month = 19;
        let err = upsert_milestone(&mut doc, "ms2", &milestone, "ewa", at(13)).expect_err("month");
        assert_eq!(field_path(&err), "workPlan/ms2/month");
        milestone.month = 3;
        milestone.step = "step six".to_owned();
        let err = upsert_milestone(&mut doc, "ms2", &milestone, "ewa", at(13)).expect_err("step");
        assert_eq!(field_path(&err), "workPlan/ms2/step");
    }

    #[test]
    fn steps_and_case_references_are_recognised() {
        for (step, ok) in [
            ("K1", true),
            ("K6.2", true),
            ("K7.2.8", true),
            ("K10", true),
            ("K11", false),
            ("K0", false),
            ("K06", false),
            ("K6.", false),
            ("6.2", false),
            ("K+1", false),
        ] {
            assert_eq!(is_step(step), ok, "{step}");
        }
        for (case_ref, ok) in [
            ("R-2021/017", true),
            ("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu", true),
            ("Jan Kowalski", false),
            ("", false),
            ("Łucja", false),
        ] {
            assert_eq!(is_case_ref(case_ref), ok, "{case_ref}");
        }
    }

    #[test]
    fn services_are_updated_and_retired_never_deleted() {
        let mut doc = new_pzk();
        upsert_service(&mut doc, "svc-1", &day_centre(), "ewa", at(10)).expect("service");
        let mut entry = day_centre();
        entry.description = "Afternoon homework club, also online.".to_owned();
        entry.capacity = None;
        entry.remote_capable = true;
        upsert_service(&mut doc, "svc-1", &entry, "ewa", at(11)).expect("updated");
        retire_service(&mut doc, "svc-1", "ewa", at(12)).expect("retired");
        let service = &view(&doc).services["svc-1"];
        assert_eq!((&service.entry, service.retired), (&entry, true));
        assert!(retire_service(&mut doc, "svc-9", "ewa", at(12)).is_err());
    }

    #[test]
    fn meetings_hold_agenda_attendance_minutes_and_decisions() {
        let mut doc = with_meeting();
        let item = AgendaItem {
            title: "Services list update".to_owned(),
            order: 1,
        };
        set_agenda_item(&mut doc, "m1", "i1", &item, "ewa", at(11)).expect("agenda");
        record_attendance(&mut doc, "m1", "jan", Attendance::Video, "ewa", at(14)).expect("jan");
        record_attendance(&mut doc, "m1", "ola", Attendance::Absent, "ewa", at(14)).expect("ola");
        set_minutes(&mut doc, "m1", "The list was updated.", "ewa", at(15)).expect("minutes");
        record_decision(&mut doc, "m1", "d1", "Add tutoring.", "ewa", at(15)).expect("decision");
        assert!(record_decision(&mut doc, "m1", "d1", "Again.", "ewa", at(15)).is_err());
        let moved = MeetingPlan {
            date: at(16),
            mode: MeetingMode::Mixed,
        };
        schedule_meeting(&mut doc, "m1", &moved, "ewa", at(12)).expect("moved");

        let meeting = &view(&doc).meetings["m1"];
        assert_eq!(meeting.plan, moved);
        assert_eq!(meeting.agenda["i1"], item);
        assert_eq!(
            meeting.attendance["jan"],
            Conflict::settled(Attendance::Video)
        );
        assert_eq!(meeting.attendance["ola"].value, Attendance::Absent);
        assert_eq!(meeting.minutes, "The list was updated.");
        assert_eq!(meeting.decisions["d1"].text, "Add tutoring.");
        assert_eq!(meeting.decisions["d1"].at, at(15));
    }

    #[test]
    fn concurrent_attendance_records_are_a_conflict() {
        let base = with_meeting();
        let mut ewa = fork_as(&base, "ewa-laptop-2");
        let mut doradca = fork_as(&base, "doradca");
        record_attendance(&mut ewa, "m1", "jan", Attendance::Phone, "ewa", at(14)).expect("ewa");
        record_attendance(
            &mut doradca,
            "m1",
            "jan",
            Attendance::Video,
            "doradca",
            at(14),
        )
        .expect("doradca");
        let one = view(&merged(&ewa, &doradca));
        let two = view(&merged(&doradca, &ewa));
        assert_eq!(one.meetings["m1"].attendance, two.meetings["m1"].attendance);
        assert_eq!(
            one.conflicts(),
            vec!["meetings/m1/attendance/jan".to_owned()]
        );
    }

    #[test]
    fn consultations_name_cases_only_by_pseudonym() {
        let mut doc = with_meeting();
        let err = open_consultation(&mut doc, "k1", "Jan Kowalski", None, &request(), at(10))
            .expect_err("a name is not a pseudonym");
        assert_eq!(field_path(&err), "consultations/k1/caseRef");
        assert!(
            open_consultation(&mut doc, "k1", "R-017", Some("m9"), &request(), at(10)).is_err()
        );
        open_consultation(&mut doc, "k1", "R-017", Some("m1"), &request(), at(10)).expect("opened");
        let answer = Answer {
            by: "jan".to_owned(),
            institution: "sp-1".to_owned(),
            text: "The school's volunteers.".to_owned(),
        };
        answer_consultation(&mut doc, "k1", "a1", &answer, at(11)).expect("answered");
        let consultation = &view(&doc).consultations["k1"];
        assert_eq!(
            (
                consultation.case_ref.as_str(),
                consultation.meeting.as_deref()
            ),
            ("R-017", Some("m1"))
        );
        assert_eq!(consultation.consultation.request, request());
        assert_eq!(consultation.consultation.answers["a1"].answer, answer);
        validate(&doc).expect("valid");
    }

    #[test]
    fn the_9_2_decision_and_recommendations_are_recorded() {
        let mut doc = with_meeting();
        set_decision_9_2(
            &mut doc,
            TeamDecision::Continue,
            "Families need it.",
            Some("m1"),
            "ewa",
            at(12),
        )
        .expect("decided");
        add_recommendation(&mut doc, "r1", "Fund the tutoring.", "ewa", at(13)).expect("added");
        assert!(add_recommendation(&mut doc, "r1", "Again.", "ewa", at(13)).is_err());
        let pzk = view(&doc);
        let decision = pzk.decision_9_2.expect("a decision");
        assert_eq!(decision.decision, Conflict::settled(TeamDecision::Continue));
        assert_eq!(
            (decision.rationale.as_str(), decision.meeting.as_deref()),
            ("Families need it.", Some("m1"))
        );
        assert_eq!(pzk.recommendations["r1"].by, "ewa");
    }

    #[test]
    fn pzk_edits_refuse_a_case() {
        let mut doc = new_case();
        let err = upsert_member(&mut doc, "sp-1", &school(), "ewa", at(10)).expect_err("a case");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
    }

    #[test]
    fn a_month_out_of_range_written_raw_is_refused() {
        let mut doc = new_pzk();
        let milestone = Milestone {
            step: "K5".to_owned(),
            month: 5,
            title: "PZK set up".to_owned(),
        };
        upsert_milestone(&mut doc, "ms1", &milestone, "ewa", at(10)).expect("milestone");
        let map = open_pzk(&doc)
            .and_then(|root| root.map(key::WORK_PLAN)?.map("ms1"))
            .expect("the milestone's map")
            .id();
        doc.transact(|tx| tx.put(&map, key::MONTH, 19u64))
            .expect("raw edit");
        let err = validate(&doc).expect_err("month 19");
        assert_eq!(field_path(&err), "workPlan/ms1/month");
    }
}
