//! The operations of the vectors, as JSON, carried out with sync-core's edit functions. The
//! TypeScript runner carries out the same JSON with `web/src/model`.
//!
//! An operation is `{"op": name, "by": [login, institution], "at": ISO time, ...arguments}`.

use std::collections::BTreeSet;

use automerge::Automerge;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use sync_core::model::case::{
    self, workflow, Attachment, AttachmentLink, ConsentEvent, GoalPlan, HandoverTarget,
    HouseholdMember, MonitoringNote, Signature,
};
use sync_core::model::consultation::{Answer, ConsultationRequest};
use sync_core::model::{Editor, WireEnum};
use sync_core::SchemaError;

fn text<'v>(op: &'v Value, key: &str) -> &'v str {
    op[key]
        .as_str()
        .unwrap_or_else(|| panic!("operation {op} lacks the string {key}"))
}

fn opt_text<'v>(op: &'v Value, key: &str) -> Option<&'v str> {
    op[key].as_str()
}

fn wire<T: WireEnum>(op: &Value, key: &str) -> T {
    T::from_wire(text(op, key)).unwrap_or_else(|| panic!("{op}: bad {key}"))
}

fn day(value: &str) -> NaiveDate {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").expect("a date in a vector")
}

pub fn at(op: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text(op, "at"))
        .expect("an ISO time in a vector")
        .with_timezone(&Utc)
}

pub fn editor(op: &Value) -> Editor {
    let by = &op["by"];
    Editor::new(
        by[0].as_str().expect("a login"),
        by[1].as_str().expect("an institution"),
    )
    .expect("a valid editor in a vector")
}

/// Carries out `op` on `doc`; `pzk` is the PZK document a listed service is checked against.
pub fn apply(doc: &mut Automerge, op: &Value, pzk: Option<&Automerge>) -> Result<(), SchemaError> {
    let (by, at) = (editor(op), at(op));
    match text(op, "op") {
        "addHouseholdMember" => {
            let member = HouseholdMember {
                name: text(op, "name").to_owned(),
                relation: text(op, "relation").to_owned(),
                birth_date: opt_text(op, "birthDate").map(day),
            };
            case::add_household_member(doc, text(op, "personId"), &member, &by, at)
        }
        "setScreening" => case::set_screening(doc, wire(op, "outcome"), text(op, "notes"), &by, at),
        "setDiagnosis" => {
            case::set_diagnosis_section(doc, wire(op, "sector"), text(op, "text"), &by, at)
        }
        "upsertGoal" => {
            let plan = &op["plan"];
            let goal = GoalPlan {
                specific: text(plan, "specific").to_owned(),
                measurable: text(plan, "measurable").to_owned(),
                achievable: text(plan, "achievable").to_owned(),
                relevant: text(plan, "relevant").to_owned(),
                deadline: day(text(plan, "deadline")),
                responsible: text(plan, "responsible").to_owned(),
                services: plan["services"]
                    .as_array()
                    .expect("services")
                    .iter()
                    .map(|s| s.as_str().expect("a service id").to_owned())
                    .collect::<BTreeSet<_>>(),
            };
            case::upsert_goal(doc, text(op, "goalId"), &goal, &by, at)
        }
        "setGoalStatus" => {
            case::set_goal_status(doc, text(op, "goalId"), wire(op, "status"), &by, at)
        }
        "addService" => {
            case::add_service(doc, text(op, "serviceId"), text(op, "provider"), &by, at)
        }
        "addListedService" => {
            let pzk = pzk.expect("a vector with a listed service has a PZK document");
            case::add_listed_service(doc, pzk, text(op, "serviceId"), &by, at)
        }
        "setServiceStatus" => {
            case::set_service_status(doc, text(op, "serviceId"), wire(op, "status"), &by, at)
        }
        "setContractText" => case::set_contract_text(doc, text(op, "text"), &by, at),
        "signContract" => {
            let signature = Signature {
                signer: text(op, "signer").to_owned(),
                mode: wire(op, "mode"),
                consent_note: text(op, "consentNote").to_owned(),
            };
            case::sign_contract(doc, &signature, &by, at).map(|_| ())
        }
        "appendMonitoringNote" => {
            let note = MonitoringNote {
                author: by.login().to_owned(),
                institution: by.institution().to_owned(),
                mode: wire(op, "mode"),
                text: text(op, "text").to_owned(),
            };
            case::append_monitoring_note(doc, text(op, "noteId"), &note, at)
        }
        "openConsultation" => {
            let request = ConsultationRequest {
                asked_by: by.login().to_owned(),
                institution: by.institution().to_owned(),
                question: text(op, "question").to_owned(),
            };
            case::open_consultation(doc, text(op, "id"), &request, at)
        }
        "answerConsultation" => {
            let answer = Answer {
                by: by.login().to_owned(),
                institution: by.institution().to_owned(),
                text: text(op, "text").to_owned(),
            };
            case::answer_consultation(doc, text(op, "id"), text(op, "answerId"), &answer, at)
        }
        "recordConsent" => {
            let event = ConsentEvent {
                institution: text(op, "institution").to_owned(),
                purpose: text(op, "purpose").to_owned(),
                state: wire(op, "state"),
                by: text(op, "person").to_owned(),
            };
            case::record_consent(doc, text(op, "id"), &event, &by, at)
        }
        "setEvaluation" => case::set_evaluation(doc, text(op, "text"), &by, at),
        "setPzkDecision" => {
            let meeting = opt_text(op, "meeting");
            case::set_pzk_decision(doc, wire(op, "decision"), meeting, &by, at)
        }
        "setHandover" => {
            let target = HandoverTarget {
                institution: text(op, "institution").to_owned(),
                worker: opt_text(op, "worker").map(str::to_owned),
            };
            case::set_handover(doc, &target, text(op, "note"), &by, at)
        }
        "setNextVisit" => case::set_next_visit(doc, opt_text(op, "day").map(day), &by, at),
        "setHouseholdContact" => {
            let contact = case::HouseholdContact {
                address: opt_text(op, "address").map(str::to_owned),
                phone: opt_text(op, "phone").map(str::to_owned),
            };
            case::set_household_contact(doc, &contact, &by, at)
        }
        "rectify" => {
            let field =
                case::RectifiedField::parse(text(op, "field")).map_err(SchemaError::Rule)?;
            let rectification = case::Rectification {
                field,
                new: opt_text(op, "new").map(str::to_owned),
                reason: text(op, "reason").to_owned(),
            };
            case::rectify(doc, text(op, "id"), &rectification, &by, at)
        }
        "attachFile" => {
            let link = match (op["signature"].as_u64(), opt_text(op, "consent")) {
                (Some(index), _) => Some(AttachmentLink::Signature(index)),
                (None, Some(id)) => Some(AttachmentLink::Consent(id.to_owned())),
                (None, None) => None,
            };
            let attachment = Attachment {
                sha256: text(op, "sha256").to_owned(),
                mime: text(op, "mime").to_owned(),
                size: op["size"].as_u64().expect("a size in a vector"),
                kind: wire(op, "kind"),
                link,
                caption: text(op, "caption").to_owned(),
            };
            case::attach_file(doc, text(op, "id"), &attachment, &by, at)
        }
        "transition" => workflow::transition(doc, wire(op, "to"), &by, at),
        "resolveStage" => workflow::resolve_stage(doc, wire(op, "chosen"), &by, at),
        other => panic!("unknown operation {other:?}"),
    }
}

/// An operation as written in a vector: `name`, by `who` at `when`, with `args`.
pub fn op(name: &str, who: (&str, &str), when: &str, args: Value) -> Value {
    let mut op = json!({ "op": name, "by": [who.0, who.1], "at": when });
    if let (Some(op), Value::Object(args)) = (op.as_object_mut(), args) {
        op.extend(args);
    }
    op
}
