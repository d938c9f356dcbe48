//! [`PzkView`]: a whole PZK document (*Partnerski Zespół Kooperacji*) as records.

use std::time::SystemTime;

use sync_core::model::pzk::{
    self as model, AgreementStatus, Attendance, InstitutionSector, MeetingMode, MemberRole,
    MilestoneStatus, TeamDecision,
};

use super::{consultation, ConsultationView};
use crate::convert::time;

/// A whole PZK document.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PzkView {
    pub schema_version: u64,
    pub created_at: SystemTime,
    /// The team's name.
    pub name: String,
    /// The animator's login.
    pub animator: String,
    /// The agreement's text.
    pub agreement_text: String,
    pub agreement_status: AgreementStatus,
    pub agreement_status_alternatives: Vec<AgreementStatus>,
    /// The member institutions, by id.
    pub members: Vec<PzkMemberView>,
    /// The work plan, by milestone id.
    pub work_plan: Vec<MilestoneView>,
    /// The list of activities and services, by id.
    pub services: Vec<ServiceEntryView>,
    /// The meetings, by id.
    pub meetings: Vec<MeetingView>,
    /// The consultations held about cases (named by pseudonymous references), by id.
    pub consultations: Vec<PzkConsultationView>,
    /// The 9.2 decision, once recorded.
    pub decision_9_2: Option<TeamDecisionView>,
    /// The recommendations (K10), by id.
    pub recommendations: Vec<EntryView>,
    /// The paths of status fields holding concurrent values.
    pub conflicts: Vec<String>,
}

/// A member institution with its representatives.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PzkMemberView {
    pub institution: String,
    pub name: String,
    pub sector: InstitutionSector,
    pub role: MemberRole,
    pub representatives: Vec<RepresentativeView>,
}

/// A representative of a member institution.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RepresentativeView {
    pub person_id: String,
    pub name: String,
    pub function: String,
}

/// A milestone of the work plan.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MilestoneView {
    pub id: String,
    pub step: String,
    pub month: u8,
    pub title: String,
    pub status: MilestoneStatus,
    pub status_alternatives: Vec<MilestoneStatus>,
}

/// An entry of the list of activities and services.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ServiceEntryView {
    pub id: String,
    pub description: String,
    pub provider: String,
    pub sector: InstitutionSector,
    pub capacity: Option<u64>,
    pub remote_capable: bool,
    pub retired: bool,
}

/// A meeting.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MeetingView {
    pub id: String,
    pub date: SystemTime,
    pub mode: MeetingMode,
    /// The agenda, in order.
    pub agenda: Vec<AgendaItemView>,
    pub attendance: Vec<AttendanceView>,
    pub minutes: String,
    pub decisions: Vec<EntryView>,
}

/// An agenda item.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AgendaItemView {
    pub id: String,
    pub title: String,
    pub order: u64,
}

/// How one person took part in a meeting.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AttendanceView {
    pub person: String,
    pub attendance: Attendance,
    pub attendance_alternatives: Vec<Attendance>,
}

/// A written entry: a meeting decision or a recommendation.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct EntryView {
    pub id: String,
    pub text: String,
    pub by: String,
    pub at: SystemTime,
}

/// A consultation held in the team about a case.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PzkConsultationView {
    pub case_ref: String,
    pub meeting: Option<String>,
    pub consultation: ConsultationView,
}

/// The team's 9.2 decision.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TeamDecisionView {
    pub decision: TeamDecision,
    pub decision_alternatives: Vec<TeamDecision>,
    pub rationale: String,
    pub meeting: Option<String>,
    pub by: String,
    pub at: SystemTime,
}

fn entry(id: String, e: model::Entry) -> EntryView {
    EntryView {
        id,
        text: e.text,
        by: e.by,
        at: time(e.at),
    }
}

fn meeting(id: String, m: model::MeetingView) -> MeetingView {
    let mut agenda: Vec<AgendaItemView> = m
        .agenda
        .into_iter()
        .map(|(id, a)| AgendaItemView {
            id,
            title: a.title,
            order: a.order,
        })
        .collect();
    agenda.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
    MeetingView {
        id,
        date: time(m.plan.date),
        mode: m.plan.mode,
        agenda,
        attendance: m
            .attendance
            .into_iter()
            .map(|(person, a)| AttendanceView {
                person,
                attendance: a.value,
                attendance_alternatives: a.alternatives,
            })
            .collect(),
        minutes: m.minutes,
        decisions: m
            .decisions
            .into_iter()
            .map(|(id, e)| entry(id, e))
            .collect(),
    }
}

impl From<model::PzkView> for PzkView {
    fn from(v: model::PzkView) -> Self {
        let conflicts = v.conflicts();
        PzkView {
            schema_version: v.schema_version,
            created_at: time(v.created_at),
            name: v.name,
            animator: v.animator,
            agreement_text: v.agreement.text,
            agreement_status: v.agreement.status.value,
            agreement_status_alternatives: v.agreement.status.alternatives,
            members: v
                .members
                .into_iter()
                .map(|(institution, m)| PzkMemberView {
                    institution,
                    name: m.member.name,
                    sector: m.member.sector,
                    role: m.member.role,
                    representatives: m
                        .representatives
                        .into_iter()
                        .map(|(person_id, r)| RepresentativeView {
                            person_id,
                            name: r.name,
                            function: r.function,
                        })
                        .collect(),
                })
                .collect(),
            work_plan: v
                .work_plan
                .into_iter()
                .map(|(id, m)| MilestoneView {
                    id,
                    step: m.milestone.step,
                    month: m.milestone.month,
                    title: m.milestone.title,
                    status: m.status.value,
                    status_alternatives: m.status.alternatives,
                })
                .collect(),
            services: v
                .services
                .into_iter()
                .map(|(id, s)| ServiceEntryView {
                    id,
                    description: s.entry.description,
                    provider: s.entry.provider,
                    sector: s.entry.sector,
                    capacity: s.entry.capacity,
                    remote_capable: s.entry.remote_capable,
                    retired: s.retired,
                })
                .collect(),
            meetings: v
                .meetings
                .into_iter()
                .map(|(id, m)| meeting(id, m))
                .collect(),
            consultations: v
                .consultations
                .into_iter()
                .map(|(id, c)| PzkConsultationView {
                    case_ref: c.case_ref,
                    meeting: c.meeting,
                    consultation: consultation(id, c.consultation),
                })
                .collect(),
            decision_9_2: v.decision_9_2.map(|d| TeamDecisionView {
                decision: d.decision.value,
                decision_alternatives: d.decision.alternatives,
                rationale: d.rationale,
                meeting: d.meeting,
                by: d.by,
                at: time(d.at),
            }),
            recommendations: v
                .recommendations
                .into_iter()
                .map(|(id, r)| entry(id, r.entry))
                .collect(),
            conflicts,
        }
    }
}
