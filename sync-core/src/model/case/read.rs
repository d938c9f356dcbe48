//! Reading a case: the whole document as a [`CaseView`], or one status with every concurrent
//! value. Every field's shape is checked on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use automerge::{Automerge, ChangeHash, ReadDoc};

use super::layout::{key, open_case};
use super::stage::resolve;
use super::types::*;
use crate::error::SchemaError;
use crate::model::conflict::Conflict;
use crate::model::consultation;
use crate::model::header;
use crate::model::reader::Node;

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
        schema_version: header::schema_version(doc)?,
        created_at: root.timestamp(header::key::CREATED_AT)?,
        stage: resolve(root.status(key::STAGE)?),
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
        next_visit: root.opt_date(key::NEXT_VISIT)?,
        address: root.opt_str(key::HOUSEHOLD_ADDRESS)?,
        phone: root.opt_str(key::HOUSEHOLD_PHONE)?,
    })
}

pub(super) fn read_member(node: &Node<'_>) -> Result<HouseholdMember, SchemaError> {
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

pub(super) fn read_goal(node: &Node<'_>) -> Result<GoalView, SchemaError> {
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

pub(super) fn read_contract(node: &Node<'_>) -> Result<ContractView, SchemaError> {
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
