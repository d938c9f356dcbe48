//! Consultations (*konsultowanie*): a question put to other institutions and their answers.
//!
//! Cases and PZK documents both keep them, as a map keyed by consultation id:
//!
//! | key | type |
//! | --- | --- |
//! | `question` | Text |
//! | `askedBy` | string (user login) |
//! | `institution` | string (institution id) |
//! | `at` | timestamp |
//! | `answers` | map: answer id → `{by, institution, at, text: Text}` |
//!
//! A case's consultation asked of an institution through the PZK also has `addressedTo`
//! `{pzk, consultation, to}`, and the PZK's consultation a `to` ([`super::addressed`]).
//!
//! Answers are keyed by id, so institutions answering at the same time never overwrite each
//! other; each answer's text is its own Text object.

use std::collections::BTreeMap;

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId};
use chrono::{DateTime, Utc};

use super::reader::Node;
use super::write;
use crate::error::SchemaError;

pub(crate) mod key {
    pub(crate) const QUESTION: &str = "question";
    pub(crate) const ASKED_BY: &str = "askedBy";
    pub(crate) const INSTITUTION: &str = "institution";
    pub(crate) const AT: &str = "at";
    pub(crate) const ANSWERS: &str = "answers";
    pub(crate) const BY: &str = "by";
    pub(crate) const TEXT: &str = "text";
}

/// A new consultation: who asks, for which institution, and the question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultationRequest {
    /// The login of the user who asks.
    pub asked_by: String,
    /// The id of the institution that asks.
    pub institution: String,
    /// The question, in free text.
    pub question: String,
}

/// An answer to a consultation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The login of the user who answers.
    pub by: String,
    /// The id of the institution that answers.
    pub institution: String,
    /// The answer, in free text.
    pub text: String,
}

/// An answer as read from a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerView {
    /// The answer itself.
    pub answer: Answer,
    /// When it was given.
    pub at: DateTime<Utc>,
}

/// A consultation as read from a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultationView {
    /// Who asked what.
    pub request: ConsultationRequest,
    /// When it was asked.
    pub at: DateTime<Utc>,
    /// The answers, by answer id.
    pub answers: BTreeMap<String, AnswerView>,
    /// In a case: the PZK consultation that carries it to an institution not sharing the case,
    /// whose answers are read there ([`super::addressed`]).
    pub addressed: Option<super::addressed_link::Addressed>,
}

/// Writes a new consultation at `id` of `parent` and returns its map.
pub(crate) fn create(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    id: &str,
    request: &ConsultationRequest,
    at: DateTime<Utc>,
) -> Result<ObjId, SchemaError> {
    let map = write::new_map(tx, parent, id)?;
    write::new_text(tx, &map, key::QUESTION, &request.question)?;
    tx.put(&map, key::ASKED_BY, request.asked_by.as_str())?;
    tx.put(&map, key::INSTITUTION, request.institution.as_str())?;
    tx.put(&map, key::AT, write::timestamp(at))?;
    write::new_map(tx, &map, key::ANSWERS)?;
    Ok(map)
}

/// A new answer about to be added to a consultation: where it goes.
///
/// Cases and PZK documents add answers alike and differ only in the commit message, which
/// names the institution too in a case and only the login in a PZK document.
pub(crate) struct NewAnswer<'i> {
    /// The consultation's `answers` map.
    answers: ObjId,
    consultation_id: &'i str,
    answer_id: &'i str,
}

impl<'i> NewAnswer<'i> {
    /// Finds the `answers` map of consultation `consultation_id` in `consultations` (a
    /// document's consultations map) and checks that `answer_id` is new.
    pub(crate) fn find(
        consultations: &Node<'_>,
        consultation_id: &'i str,
        answer_id: &'i str,
    ) -> Result<Self, SchemaError> {
        let answers = consultations.map(consultation_id)?.map(key::ANSWERS)?;
        answers.absent(answer_id, "answer")?;
        Ok(Self {
            answers: answers.id(),
            consultation_id,
            answer_id,
        })
    }

    /// Adds `answer` as one change at `at`; `sign` turns the change's summary into its commit
    /// message.
    pub(crate) fn add(
        self,
        doc: &mut Automerge,
        answer: &Answer,
        at: DateTime<Utc>,
        sign: impl FnOnce(std::fmt::Arguments<'_>) -> String,
    ) -> Result<(), SchemaError> {
        let Self {
            answers,
            consultation_id,
            answer_id,
        } = self;
        let message = sign(format_args!(
            "consultations/{consultation_id}/answers/{answer_id}: answered"
        ));
        write::commit(doc, message, at, |tx| {
            let map = write::new_map(tx, &answers, answer_id)?;
            tx.put(&map, key::BY, answer.by.as_str())?;
            tx.put(&map, key::INSTITUTION, answer.institution.as_str())?;
            tx.put(&map, key::AT, write::timestamp(at))?;
            write::new_text(tx, &map, key::TEXT, &answer.text)?;
            Ok(())
        })
    }
}

/// Reads one consultation map.
pub(crate) fn read(node: &Node<'_>) -> Result<ConsultationView, SchemaError> {
    let answers = node
        .map(key::ANSWERS)?
        .entries()?
        .into_iter()
        .map(|(id, answer)| read_answer(&answer).map(|view| (id, view)))
        .collect::<Result<_, _>>()?;
    Ok(ConsultationView {
        request: ConsultationRequest {
            asked_by: node.str(key::ASKED_BY)?,
            institution: node.str(key::INSTITUTION)?,
            question: node.text(key::QUESTION)?,
        },
        at: node.timestamp(key::AT)?,
        answers,
        addressed: super::addressed_link::read_link(node)?,
    })
}

fn read_answer(node: &Node<'_>) -> Result<AnswerView, SchemaError> {
    Ok(AnswerView {
        answer: Answer {
            by: node.str(key::BY)?,
            institution: node.str(key::INSTITUTION)?,
            text: node.text(key::TEXT)?,
        },
        at: node.timestamp(key::AT)?,
    })
}
