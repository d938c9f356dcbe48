//! What the team advises and decides beyond a meeting's own record: consultations on cases
//! (named only by a pseudonymous reference), the 9.2 decision, and recommendations (K10).

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc};
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use super::meetings::write_entry;
use super::types::*;
use crate::error::SchemaError;
use crate::model::addressed_link as addressed;
use crate::model::consultation::{self, Answer, ConsultationRequest, NewAnswer};
use crate::model::editor::Editor;
use crate::model::write;

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

/// Adds an answer to a consultation; answers are keyed by id, so concurrent answers all stay.
/// A consultation addressed to an institution is answered only for that institution.
pub fn answer_consultation(
    doc: &mut Automerge,
    consultation_id: &str,
    answer_id: &str,
    answer: &Answer,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consultations = open_pzk(doc)?.map(key::CONSULTATIONS)?;
    let new = NewAnswer::find(&consultations, consultation_id, answer_id)?;
    addressed::check_answerer(&consultations.map(consultation_id)?, &answer.institution)?;
    new.add(doc, answer, at, |summary| {
        write::message(summary, &answer.by)
    })
}

/// Records the team's 9.2 decision with its rationale; recording it settles a conflict on it.
pub fn set_decision_9_2(
    doc: &mut Automerge,
    decision: TeamDecision,
    rationale: &str,
    meeting: Option<&str>,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = open_pzk(doc)?;
    let node = root.map(key::DECISION_92)?;
    if let Some(meeting) = meeting {
        root.map(key::MEETINGS)?.map(meeting)?;
    }
    let rationale_text = node.text_obj(key::RATIONALE)?.id();
    let map = node.id();
    let message = write::message(format_args!("decision92: {decision}"), by.login());
    write::commit(doc, message, at, |tx| {
        tx.put(&map, key::DECISION, decision.as_str())?;
        write::update_text(tx, &rationale_text, rationale)?;
        write::put_opt_str(tx, &map, key::MEETING, meeting)?;
        tx.put(&map, key::BY, by.login())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// A new recommendation: its text, category, and whether it is part of the 9.2 decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recommendation {
    /// The recommendation.
    pub text: String,
    /// Its category.
    pub category: RecommendationCategory,
    /// Whether it belongs to the team's 9.2 decision (*w decyzji 9.2*).
    pub decision_9_2: bool,
}

/// Adds a recommendation (K10); recommendations are append-only, so an existing id is refused.
pub fn add_recommendation(
    doc: &mut Automerge,
    recommendation_id: &str,
    recommendation: &Recommendation,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let recommendations = open_pzk(doc)?.map(key::RECOMMENDATIONS)?;
    recommendations.absent(recommendation_id, "recommendation")?;
    let recommendations = recommendations.id();
    let message = write::message(
        format_args!("recommendations/{recommendation_id}: added"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        let text = recommendation.text.as_str();
        write_entry(tx, &recommendations, recommendation_id, text, by, at)?;
        let map = match tx.get(&recommendations, recommendation_id)? {
            Some((_, map)) => map,
            None => return Err(SchemaError::Automerge("recommendation not written".into())),
        };
        tx.put(&map, key::CATEGORY, recommendation.category.as_str())?;
        tx.put(&map, key::DECISION_92, recommendation.decision_9_2)?;
        Ok(())
    })
}
