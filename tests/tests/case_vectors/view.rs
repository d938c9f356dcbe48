//! What both sides compare: a case, its stage moves and its state check as canonical JSON.
//!
//! The TypeScript runner (`web/model-test/vectors.mjs`) writes the same shapes from its own
//! readers. Times are ISO strings with milliseconds (as `Date.toISOString`), concurrent values
//! are `{value, alternatives}` with the alternatives sorted (the stage's keep the workflow's
//! order, furthest first), and a signing's heads are counted, not listed: a change written by
//! TypeScript has other hashes than the Rust change it mirrors.

use automerge::Automerge;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sync_core::model::case::{self, workflow, CaseView, Stage};
use sync_core::model::Conflict;
use sync_core::{Coded, SchemaError};

pub fn time(at: &DateTime<Utc>) -> Value {
    json!(at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn opt_time(at: &Option<DateTime<Utc>>) -> Value {
    at.as_ref().map_or(Value::Null, time)
}

fn conflict<T: ToString>(found: &Conflict<T>, sort: bool) -> Value {
    let mut alternatives: Vec<String> = found.alternatives.iter().map(T::to_string).collect();
    if sort {
        alternatives.sort();
    }
    json!({ "value": found.value.to_string(), "alternatives": alternatives })
}

/// An error as both sides report it: the code, and the arguments of a rule (a field error's
/// words differ between the sides; its code does not).
pub fn error(e: &SchemaError) -> Value {
    let args: Map<String, Value> = match e {
        SchemaError::Rule(_) => e
            .args()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), json!(value)))
            .collect(),
        _ => Map::new(),
    };
    json!({ "code": e.code(), "args": args })
}

fn outcome(result: &Result<(), SchemaError>) -> Value {
    match result {
        Ok(()) => Value::Null,
        Err(e) => error(e),
    }
}

/// The case as canonical JSON, or the error reading it gives.
pub fn case(doc: &Automerge) -> Value {
    match case::read_case(doc) {
        Ok(view) => view_json(&view),
        Err(e) => json!({ "error": error(&e) }),
    }
}

fn view_json(v: &CaseView) -> Value {
    let map = |entries: Vec<(String, Value)>| Value::Object(entries.into_iter().collect());
    json!({
        "schemaVersion": v.schema_version,
        "createdAt": time(&v.created_at),
        "stage": conflict(&v.stage, false),
        "owner": v.owner,
        "leadInstitution": v.lead_institution,
        "household": map(v.household.iter().map(|(id, m)| (id.clone(), json!({
            "name": m.name,
            "relation": m.relation,
            "birthDate": m.birth_date.map(|d| d.to_string()),
        }))).collect()),
        "referral": {
            "by": v.referral.by,
            "institution": v.referral.institution,
            "reason": v.referral.reason,
            "at": time(&v.referral.at),
        },
        "screening": {
            "outcome": v.screening.outcome.as_ref().map(|o| conflict(o, true)),
            "notes": v.screening.notes,
            "by": v.screening.by,
            "at": opt_time(&v.screening.at),
        },
        "diagnosis": map(v.diagnosis.iter().map(|(s, t)| (s.to_string(), json!(t))).collect()),
        "goals": map(v.goals.iter().map(|(id, g)| (id.clone(), json!({
            "plan": {
                "specific": g.plan.specific,
                "measurable": g.plan.measurable,
                "achievable": g.plan.achievable,
                "relevant": g.plan.relevant,
                "deadline": g.plan.deadline.to_string(),
                "responsible": g.plan.responsible,
                "services": g.plan.services.iter().collect::<Vec<_>>(),
            },
            "status": conflict(&g.status, true),
            "createdAt": time(&g.created_at),
        }))).collect()),
        "services": map(v.services.iter().map(|(id, s)| (id.clone(), json!({
            "provider": s.provider,
            "status": conflict(&s.status, true),
            "addedAt": time(&s.added_at),
        }))).collect()),
        "contract": {
            "text": v.contract.text,
            "signatures": v.contract.signatures.iter().map(|s| json!({
                "signature": {
                    "signer": s.signature.signer,
                    "mode": s.signature.mode.as_str(),
                    "consentNote": s.signature.consent_note,
                },
                "heads": s.heads.len(),
                "at": time(&s.at),
                "recordedBy": s.recorded_by,
            })).collect::<Vec<_>>(),
        },
        "monitoring": v.monitoring.iter().map(|n| json!({
            "id": n.id,
            "note": {
                "author": n.note.author,
                "institution": n.note.institution,
                "mode": n.note.mode.as_str(),
                "text": n.note.text,
            },
            "at": time(&n.at),
        })).collect::<Vec<_>>(),
        "consultations": map(v.consultations.iter().map(|(id, c)| (id.clone(), json!({
            "request": {
                "askedBy": c.request.asked_by,
                "institution": c.request.institution,
                "question": c.request.question,
            },
            "at": time(&c.at),
            "answers": map(c.answers.iter().map(|(aid, a)| (aid.clone(), json!({
                "answer": {
                    "by": a.answer.by,
                    "institution": a.answer.institution,
                    "text": a.answer.text,
                },
                "at": time(&a.at),
            }))).collect()),
        }))).collect()),
        "consents": map(v.consents.iter().map(|(id, c)| (id.clone(), json!({
            "event": {
                "institution": c.event.institution,
                "purpose": c.event.purpose,
                "state": c.event.state.as_str(),
                "by": c.event.by,
            },
            "at": time(&c.at),
            "recordedBy": c.recorded_by,
        }))).collect()),
        "evaluation": {
            "text": v.evaluation.text,
            "by": v.evaluation.by,
            "at": opt_time(&v.evaluation.at),
        },
        "pzkDecision": v.pzk_decision.as_ref().map(|d| json!({
            "decision": conflict(&d.decision, true),
            "meeting": d.meeting,
            "by": d.by,
            "at": time(&d.at),
        })),
        "handover": v.handover.as_ref().map(|h| json!({
            "target": h.target,
            "targetWorker": h.target_worker,
            "note": h.note,
            "by": h.by,
            "at": time(&h.at),
        })),
        "nextVisit": v.next_visit.map(|d| d.to_string()),
        "address": v.address,
        "phone": v.phone,
    })
}

/// The moves the stage bar offers, each open (`null`) or blocked with its error.
pub fn moves(doc: &Automerge) -> Value {
    match workflow::moves(doc) {
        Ok(moves) => Value::Array(
            moves
                .iter()
                .map(|(to, result)| json!({ "to": to.as_str(), "blocked": outcome(result) }))
                .collect(),
        ),
        Err(e) => json!({ "error": error(&e) }),
    }
}

/// The whole table: a move to every stage, open or refused with its error.
pub fn checks(doc: &Automerge) -> Value {
    Value::Array(
        Stage::ALL
            .iter()
            .map(|to| {
                let result = workflow::check_transition(doc, *to).map(|_| ());
                json!({ "to": to.as_str(), "blocked": outcome(&result) })
            })
            .collect(),
    )
}

/// The state rules of a case (`validate` of what `read_case` reads): `null`, or the rule the
/// state breaks.
pub fn state(doc: &Automerge) -> Value {
    let checked = case::read_case(doc).and_then(|_| sync_core::model::validate(doc).map(|_| ()));
    outcome(&checked)
}

/// The rectifications (GDPR art. 16) by id, or the error reading them gives.
pub fn rectifications(doc: &Automerge) -> Value {
    match case::read_rectifications(doc) {
        Ok(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(id, r)| {
                    let entry = json!({
                        "field": r.field.path(),
                        "old": r.old,
                        "new": r.new,
                        "reason": r.reason,
                        "by": r.by,
                        "institution": r.institution,
                        "at": time(&r.at),
                    });
                    (id, entry)
                })
                .collect(),
        ),
        Err(e) => json!({ "error": error(&e) }),
    }
}

/// The case's attachment entries by id, or the error reading them gives.
pub fn attachments(doc: &Automerge) -> Value {
    let all = match case::read_attachments(doc) {
        Ok(all) => all,
        Err(e) => return json!({ "error": error(&e) }),
    };
    let entry = |a: &case::AttachmentView| {
        let link = match &a.attachment.link {
            Some(case::AttachmentLink::Signature(index)) => json!({ "signature": index }),
            Some(case::AttachmentLink::Consent(id)) => json!({ "consent": id }),
            None => Value::Null,
        };
        json!({
            "sha256": a.attachment.sha256,
            "mime": a.attachment.mime,
            "size": a.attachment.size,
            "kind": a.attachment.kind.as_str(),
            "link": link,
            "caption": a.attachment.caption,
            "author": a.author,
            "institution": a.institution,
            "at": time(&a.at),
        })
    };
    Value::Object(all.iter().map(|(id, a)| (id.clone(), entry(a))).collect())
}

/// Everything both sides compare about one document.
pub fn all(doc: &Automerge) -> Value {
    json!({
        "view": case(doc),
        "rectifications": rectifications(doc),
        "attachments": attachments(doc),
        "moves": moves(doc),
        "checks": checks(doc),
        "state": state(doc),
    })
}
