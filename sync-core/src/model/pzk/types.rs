//! The PZK document's values: its closed sets of values (statuses, sectors, roles, meeting
//! modes), what an edit takes, what a reader returns ([`PzkView`] and its parts), and the checks
//! of a model step and a pseudonymous case reference.

use std::collections::BTreeMap;

use automerge::ActorId;
use chrono::{DateTime, Utc};

use super::agreement_values::{AgreementDates, AgreementScan, Signatory, SignedAgreement};
use super::layout::key;
use super::leader::Leader;
use crate::error::SchemaError;
use crate::model::conflict::Conflict;
use crate::model::consultation::ConsultationView;

/// The months of the PZK work plan, counted from its start: the model's 18 months, and as many
/// more as a team's schedule runs (the seeds' schedule, extended for COVID, runs 29), up to ten
/// years.
pub const PLAN_MONTHS: std::ops::RangeInclusive<u8> = 1..=120;

/// The longest pseudonymous case reference, in bytes.
pub const MAX_CASE_REF_LEN: usize = 64;

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
    /// The parties, by id, with their names.
    pub parties: BTreeMap<String, String>,
    /// Who signed, by id.
    pub signatories: BTreeMap<String, Signatory>,
    /// When it was concluded and is in force.
    pub dates: AgreementDates,
    /// The scan of the signed paper.
    pub scan: Option<AgreementScan>,
    /// The version signed, frozen; `None` until signed.
    pub signed: Option<SignedAgreement>,
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
    /// The month of the schedule, from 1 (see [`PLAN_MONTHS`]).
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
    /// The video call's address (`https://` only, see [`is_meeting_link`]), when it has one.
    pub link: Option<String>,
}

/// Who did something and when: an invitation of an institution to a meeting, or the approval
/// of a meeting's minutes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The login of who did it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
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
    /// The member institutions invited (*zaproszenia*), by institution id.
    pub invitations: BTreeMap<String, Stamp>,
    /// The approval of the minutes (*zatwierdzenie protokołu*); from then on the meeting is
    /// frozen.
    pub minutes_approved: Option<Stamp>,
}

/// A consultation held in the team about a case, named only by a pseudonymous reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PzkConsultationView {
    /// The pseudonymous reference to the case.
    pub case_ref: String,
    /// The meeting it was raised at, if any.
    pub meeting: Option<String>,
    /// The institution it is addressed to, if it was asked of one
    /// ([`crate::model::addressed`]); only that institution's members answer it.
    pub to: Option<String>,
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
    /// The leader person or family (5.3), when named.
    pub leader: Option<Leader>,
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
    pub recommendations: BTreeMap<String, RecommendationView>,
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

/// The longest video-call link, in bytes.
pub const MAX_LINK_LEN: usize = 2048;

/// Whether `link` is a video-call address a meeting may carry: `https://` and a host, at most
/// [`MAX_LINK_LEN`] bytes, no spaces or control characters (so no `javascript:` or plain
/// `http:` link is ever shown to a member as a place to join).
pub fn is_meeting_link(link: &str) -> bool {
    let Some(rest) = link.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    link.len() <= MAX_LINK_LEN
        && !host.is_empty()
        && !host.starts_with(':')
        && link.chars().all(|c| !c.is_whitespace() && !c.is_control())
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

/// Checks that a consultation at `parent` names its case by a pseudonymous reference only.
pub(crate) fn check_case_ref(parent: &str, case_ref: &str) -> Result<(), SchemaError> {
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

// Recommendations (K10.2).

wire_enum! {
    /// The kind of a recommendation (*rekomendacja*, K10.2).
    RecommendationCategory {
        /// *Prawne* — changes of local law or of the rules institutions work by.
        Legal = "legal",
        /// *Organizacyjne* — how institutions organise their cooperation.
        Organisational = "organisational",
        /// *Usługowe* — services to start, extend or change.
        Services = "services",
    }
}

/// A recommendation as read from the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecommendationView {
    /// The text, who wrote it and when.
    pub entry: Entry,
    /// Its category; `None` for a recommendation written before categories.
    pub category: Option<RecommendationCategory>,
    /// Whether it belongs to the team's 9.2 decision.
    pub decision_9_2: bool,
}
