//! Conflicts a user must see: status fields set concurrently to different values, with who set
//! each value and when, and their resolution.
//!
//! The model lists the conflicted status fields of a document (`stage`, `goals/g1/status`,
//! `services/s1/status`, `agreement/status`...). For each, Automerge keeps every concurrent value
//! with the id of the operation that wrote it; the operation's actor and counter identify the
//! change that holds it, and the model's history reader ([`history::changes_between`]) gives that
//! change's author, institution and time as the edit functions recorded them. Text and
//! collections never conflict: they merge.
//!
//! A conflict is resolved with the model's own edit for the field (a stage with
//! [`workflow::resolve_stage`], a goal status with [`case::set_goal_status`]...), so the
//! resolution is validated and recorded like any other edit.

use std::collections::HashMap;

use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT,
};
use chrono::{DateTime, Utc};
use sync_core::model::case::{GoalStatus, PzkDecision, ScreeningOutcome, ServiceStatus, Stage};
use sync_core::model::history::{self, HistoryEntry};
use sync_core::model::pzk::{AgreementStatus, Attendance, MilestoneStatus, TeamDecision};
use sync_core::model::{self, case, pzk, workflow, DocumentKind, Editor};
use sync_core::SchemaError;

use crate::error::SdkError;

/// One of the values a conflicted field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictValue {
    /// The value as stored (a wire string such as `achieved` or `in_progress`).
    pub value: String,
    /// Whether this is the value every device shows until the conflict is resolved.
    pub shown: bool,
    /// The login of who set it, as the change records it (`None` for a change written by a
    /// client that does not follow the model's message convention).
    pub by: Option<String>,
    /// The institution they acted for, when recorded.
    pub institution: Option<String>,
    /// When it was set (the change's time, to the second).
    pub at: Option<DateTime<Utc>>,
    /// The device that set it (its Automerge actor, in hex).
    pub device: String,
    /// Whether this device set it.
    pub this_device: bool,
}

/// A field holding concurrent values, for the user to resolve with [`crate::Tablet::resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldConflict {
    /// The field's path, e.g. `goals/g1/status`.
    pub path: String,
    /// Every concurrent value, the shown one first; a value two people set appears twice.
    pub values: Vec<ConflictValue>,
}

/// The map holding the last key of `path`, following the shown value of each key on the way.
fn parent<'a>(doc: &Automerge, path: &'a str) -> Result<(ObjId, &'a str), SdkError> {
    let keys: Vec<&str> = path.split('/').collect();
    let Some((last, maps)) = keys.split_last() else {
        return Err(SdkError::Invalid("an empty path names no field".into()));
    };
    let mut obj = ROOT;
    for key in maps {
        match doc.get(&obj, *key)? {
            Some((Value::Object(ObjType::Map), id)) => obj = id,
            _ => return Err(SdkError::Invalid(format!("{path} names no field"))),
        }
    }
    Ok((obj, last))
}

fn scalar_text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            other => Some(other.to_string()),
        },
        Value::Object(_) => None,
    }
}

/// The paths of the document's conflicted status fields, as the model reports them.
fn conflicted_paths(doc: &Automerge) -> Result<(DocumentKind, Vec<String>), SdkError> {
    let kind = model::kind_of(doc)?;
    let paths = match kind {
        DocumentKind::Case => case::read_case(doc)?.conflicts(),
        DocumentKind::Pzk => pzk::read_pzk(doc)?.conflicts(),
        DocumentKind::Referral => model::referral::read_referral(doc)?.conflicts(),
        // Entries are only added: nothing to be in conflict.
        DocumentKind::Seen | DocumentKind::Justice => Vec::new(),
    };
    Ok((kind, paths))
}

/// The value a conflicted field shows: the model's choice (for the stage, the value furthest
/// along the workflow), otherwise Automerge's winner.
fn shown_value(
    doc: &Automerge,
    kind: DocumentKind,
    path: &str,
) -> Result<Option<String>, SdkError> {
    if kind == DocumentKind::Case && path == "stage" {
        return Ok(Some(case::stage(doc)?.value.as_str().to_owned()));
    }
    let (obj, key) = parent(doc, path)?;
    Ok(doc.get(&obj, key)?.and_then(|(v, _)| scalar_text(&v)))
}

/// Every conflicted status field of a case or PZK document, with who set each value and when.
pub(crate) fn conflicts(doc: &Automerge, me: &ActorId) -> Result<Vec<FieldConflict>, SdkError> {
    let (kind, paths) = conflicted_paths(doc)?;
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let changes = doc.get_changes_meta(&[]);
    let entries: HashMap<ChangeHash, HistoryEntry> =
        history::changes_between(doc, &[], &doc.get_heads())?
            .into_iter()
            .map(|e| (e.hash, e))
            .collect();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let shown = shown_value(doc, kind, &path)?;
        let (obj, key) = parent(doc, &path)?;
        let mut values = Vec::new();
        for (value, id) in doc.get_all(&obj, key)? {
            let Some(text) = scalar_text(&value) else {
                continue;
            };
            let ObjId::Id(counter, actor, _) = &id else {
                continue;
            };
            let entry = changes
                .iter()
                .find(|c| {
                    c.actor.as_ref() == actor && c.start_op <= *counter && *counter <= c.max_op
                })
                .and_then(|c| entries.get(&c.hash));
            values.push(ConflictValue {
                shown: shown.as_deref() == Some(text.as_str()),
                value: text,
                by: entry.and_then(|e| e.author.clone()),
                institution: entry.and_then(|e| e.institution.clone()),
                at: entry.map(|e| e.at),
                device: actor.to_hex_string(),
                this_device: actor == me,
            });
        }
        values.sort_by_key(|v| !v.shown);
        out.push(FieldConflict { path, values });
    }
    Ok(out)
}

fn parse<T>(path: &str, value: &str, parse: fn(&str) -> Option<T>) -> Result<T, SdkError> {
    parse(value).ok_or_else(|| SdkError::Invalid(format!("{value:?} is not a value of {path}")))
}

/// Resolves a conflict on `path` by writing `value` (one of its current values) with the
/// model's edit for that field, as `by`.
pub(crate) fn resolve(
    doc: &mut Automerge,
    path: &str,
    value: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SdkError> {
    let (kind, paths) = conflicted_paths(doc)?;
    if !paths.iter().any(|p| p == path) {
        return Err(SdkError::Invalid(format!(
            "{path} holds no conflict to resolve"
        )));
    }
    let (obj, key) = parent(doc, path)?;
    let offered = doc
        .get_all(&obj, key)?
        .iter()
        .any(|(v, _)| scalar_text(v).as_deref() == Some(value));
    if !offered {
        return Err(SdkError::Invalid(format!(
            "{value:?} is not one of the values of {path}"
        )));
    }
    let keys: Vec<&str> = path.split('/').collect();
    let done: Result<(), SchemaError> = match (kind, keys.as_slice()) {
        (DocumentKind::Case, ["stage"]) => {
            workflow::resolve_stage(doc, parse(path, value, Stage::parse)?, by, at)
        }
        (DocumentKind::Case, ["goals", goal, "status"]) => {
            case::set_goal_status(doc, goal, parse(path, value, GoalStatus::parse)?, by, at)
        }
        (DocumentKind::Case, ["services", service, "status"]) => {
            let status = parse(path, value, ServiceStatus::parse)?;
            case::set_service_status(doc, service, status, by, at)
        }
        (DocumentKind::Case, ["screening", "outcome"]) => {
            let outcome = parse(path, value, ScreeningOutcome::parse)?;
            let notes = case::read_case(doc)?.screening.notes;
            case::set_screening(doc, outcome, &notes, by, at)
        }
        (DocumentKind::Case, ["pzkDecision", "decision"]) => {
            let decision = parse(path, value, PzkDecision::parse)?;
            let meeting = case::read_case(doc)?.pzk_decision.and_then(|d| d.meeting);
            case::set_pzk_decision(doc, decision, meeting.as_deref(), by, at)
        }
        (DocumentKind::Pzk, ["agreement", "status"]) => {
            let status = parse(path, value, AgreementStatus::parse)?;
            pzk::set_agreement_status(doc, status, by, at)
        }
        (DocumentKind::Pzk, ["workPlan", milestone, "status"]) => {
            let status = parse(path, value, MilestoneStatus::parse)?;
            pzk::set_milestone_status(doc, milestone, status, by, at)
        }
        (DocumentKind::Pzk, ["meetings", meeting, "attendance", person]) => {
            let attendance = parse(path, value, Attendance::parse)?;
            pzk::record_attendance(doc, meeting, person, attendance, by, at)
        }
        (DocumentKind::Pzk, ["decision92", "decision"]) => {
            let decision = parse(path, value, TeamDecision::parse)?;
            let current = pzk::read_pzk(doc)?.decision_9_2;
            let rationale = current
                .as_ref()
                .map(|d| d.rationale.clone())
                .unwrap_or_default();
            let meeting = current.and_then(|d| d.meeting);
            pzk::set_decision_9_2(doc, decision, &rationale, meeting.as_deref(), by, at)
        }
        _ => {
            return Err(SdkError::Invalid(format!(
                "this SDK does not know how to resolve {path}; set the field with its model edit"
            )))
        }
    };
    Ok(done?)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use sync_core::model::case::{CaseInit, GoalPlan, Referral};

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 3, 1, 9, minute, 0)
            .single()
            .expect("a time")
    }

    fn actor(name: &str) -> ActorId {
        ActorId::from(name.as_bytes())
    }

    fn editor(login: &str, institution: &str) -> Editor {
        Editor::new(login, institution).expect("an editor")
    }

    fn base() -> Automerge {
        let anna = editor("anna", "gops");
        let init = CaseInit {
            actor: actor("anna-tablet"),
            owner: "anna".into(),
            lead_institution: "gops".into(),
            referral: Referral {
                by: "pedagog".into(),
                institution: "sp-1".into(),
                reason: "Absences.".into(),
                at: at(0),
            },
            household: Default::default(),
        };
        let mut doc = case::new_case(&init, &anna, at(1)).expect("case");
        let plan = GoalPlan {
            specific: "School".into(),
            measurable: "Absences under 10%".into(),
            achievable: "Day centre".into(),
            relevant: "Wants to pass".into(),
            deadline: chrono::NaiveDate::from_ymd_opt(2021, 6, 25).expect("date"),
            responsible: "sp-1".into(),
            services: Default::default(),
        };
        case::upsert_goal(&mut doc, "g1", &plan, &anna, at(2)).expect("goal");
        doc
    }

    #[test]
    fn concurrent_statuses_are_listed_with_who_and_when_and_resolved() {
        let base = base();
        let (anna, jan) = (editor("anna", "gops"), editor("jan", "sp-1"));
        let mut a = base.fork().with_actor(actor("anna-tablet"));
        let mut j = base.fork().with_actor(actor("jan-tablet"));
        case::set_goal_status(&mut a, "g1", GoalStatus::Achieved, &anna, at(10)).expect("a");
        case::set_goal_status(&mut j, "g1", GoalStatus::Dropped, &jan, at(11)).expect("j");
        a.merge(&mut j).expect("merged");

        let found = conflicts(&a, &actor("anna-tablet")).expect("read");
        assert_eq!(found.len(), 1);
        let conflict = &found[0];
        assert_eq!(conflict.path, "goals/g1/status");
        type Seen = (
            String,
            Option<String>,
            Option<String>,
            Option<DateTime<Utc>>,
            bool,
        );
        let mut seen: Vec<Seen> = conflict
            .values
            .iter()
            .map(|v| {
                let who = (v.by.clone(), v.institution.clone());
                (v.value.clone(), who.0, who.1, v.at, v.this_device)
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (
                    "achieved".into(),
                    Some("anna".into()),
                    Some("gops".into()),
                    Some(at(10)),
                    true
                ),
                (
                    "dropped".into(),
                    Some("jan".into()),
                    Some("sp-1".into()),
                    Some(at(11)),
                    false
                ),
            ]
        );
        assert!(conflict.values[0].shown);
        assert_eq!(conflict.values.iter().filter(|v| v.shown).count(), 1);

        let err = resolve(&mut a, "goals/g1/status", "planned", &anna, at(12))
            .expect_err("not one of the values");
        assert!(matches!(err, SdkError::Invalid(_)), "{err:?}");
        resolve(&mut a, "goals/g1/status", "dropped", &anna, at(12)).expect("resolved");
        assert!(conflicts(&a, &actor("anna-tablet"))
            .expect("read")
            .is_empty());
        assert_eq!(
            case::goal_status(&a, "g1").expect("status").value,
            GoalStatus::Dropped
        );
        let err = resolve(&mut a, "goals/g1/status", "dropped", &anna, at(13))
            .expect_err("nothing to resolve");
        assert!(matches!(err, SdkError::Invalid(_)), "{err:?}");
    }
}
