//! Reading a PZK document: the whole document as a [`PzkView`], or one status with every
//! concurrent value. Every field's shape is checked on the way.

use automerge::Automerge;

use super::agreement::read_agreement;
use super::layout::{key, open_pzk};
use super::leader::read_leader;
use super::types::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::conflict::Conflict;
use crate::model::consultation;
use crate::model::header;
use crate::model::reader::Node;

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
    let view = PzkView {
        schema_version: header::schema_version(doc)?,
        created_at: root.timestamp(header::key::CREATED_AT)?,
        name: root.str(key::NAME)?,
        animator: root.str(key::ANIMATOR)?,
        agreement: read_agreement(&root.map(key::AGREEMENT)?)?,
        leader: read_leader(&root)?,
        members: root.map(key::MEMBERS)?.read_map(read_member)?,
        work_plan: root.map(key::WORK_PLAN)?.read_map(read_milestone)?,
        services: root.map(key::SERVICES)?.read_map(read_service)?,
        meetings: root.map(key::MEETINGS)?.read_map(read_meeting)?,
        consultations: root.map(key::CONSULTATIONS)?.read_map(read_consultation)?,
        decision_9_2: read_decision(&root.map(key::DECISION_92)?)?,
        recommendations: root
            .map(key::RECOMMENDATIONS)?
            .read_map(read_recommendation)?,
    };
    check_invitations(&view)?;
    Ok(view)
}

/// Only member institutions of the team are invited to its meetings.
fn check_invitations(view: &PzkView) -> Result<(), SchemaError> {
    let invited = view.meetings.values().flat_map(|m| m.invitations.keys());
    match invited.into_iter().find(|i| !view.members.contains_key(*i)) {
        Some(outsider) => Err(SchemaError::Rule(RuleViolation::InviteeNotMember(
            outsider.clone(),
        ))),
        None => Ok(()),
    }
}

pub(super) fn read_member_fields(node: &Node<'_>) -> Result<Member, SchemaError> {
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

pub(super) fn read_representative(node: &Node<'_>) -> Result<Representative, SchemaError> {
    Ok(Representative {
        name: node.str(key::NAME)?,
        function: node.str(key::FUNCTION)?,
    })
}

pub(super) fn read_milestone(node: &Node<'_>) -> Result<MilestoneView, SchemaError> {
    let step = node.str(key::STEP)?;
    if !is_step(&step) {
        return Err(node.error(key::STEP, format!("{step:?} is not a step K1 to K10")));
    }
    let months = node.uints(key::MONTH)?;
    let month = |m: u64| {
        u8::try_from(m)
            .ok()
            .filter(|m| PLAN_MONTHS.contains(m))
            .ok_or_else(|| {
                node.error(
                    key::MONTH,
                    format!("{m} is not a month 1 to {}", PLAN_MONTHS.end()),
                )
            })
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

pub(super) fn read_service(node: &Node<'_>) -> Result<ServiceEntryView, SchemaError> {
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

pub(super) fn read_meeting_plan(node: &Node<'_>) -> Result<MeetingPlan, SchemaError> {
    let link = node.opt_str(key::LINK)?;
    if link.as_deref().is_some_and(|l| !is_meeting_link(l)) {
        return Err(SchemaError::Rule(RuleViolation::MeetingLinkInvalid));
    }
    Ok(MeetingPlan {
        date: node.timestamp(key::DATE)?,
        mode: node.enumeration(key::MODE)?,
        link,
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
        invitations: match node.opt_map(key::INVITATIONS)? {
            Some(map) => map.read_map(read_stamp)?,
            None => Default::default(),
        },
        minutes_approved: node
            .opt_map(key::MINUTES_APPROVED)?
            .map(|m| read_stamp(&m))
            .transpose()?,
    })
}

fn read_stamp(node: &Node<'_>) -> Result<Stamp, SchemaError> {
    Ok(Stamp {
        by: node.str(key::BY)?,
        at: node.timestamp(key::AT)?,
    })
}

pub(super) fn read_agenda_item(node: &Node<'_>) -> Result<AgendaItem, SchemaError> {
    Ok(AgendaItem {
        title: node.str(key::TITLE)?,
        order: node.uints(key::ORDER)?.value,
    })
}

pub(super) fn read_entry(node: &Node<'_>) -> Result<Entry, SchemaError> {
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
        to: crate::model::addressed_link::read_to(node)?,
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

/// Reads a recommendation; the category and link an older one lacks read as none.
pub(super) fn read_recommendation(node: &Node<'_>) -> Result<RecommendationView, SchemaError> {
    let decision_9_2 = match node.has(key::DECISION_92)? {
        true => node.bool(key::DECISION_92)?,
        false => false,
    };
    Ok(RecommendationView {
        entry: read_entry(node)?,
        category: node.opt_status(key::CATEGORY)?.map(|c| c.value),
        decision_9_2,
    })
}
