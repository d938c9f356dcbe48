//! The read views of a case and a PZK document as plain records: maps become lists ordered by
//! id (each item carries its id), a field that may hold concurrent values carries the value
//! every device shows and the others (`*_alternatives`; non-empty means a conflict to resolve).

mod case;
mod pzk;

pub use case::CaseView;
pub use pzk::PzkView;

use crate::convert::time;

/// A consultation (*konsultacja*): the question and the answers of the institutions.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConsultationView {
    /// Its id.
    pub id: String,
    /// Who asked.
    pub asked_by: String,
    /// For which institution.
    pub institution: String,
    /// The question.
    pub question: String,
    /// When it was asked.
    pub at: std::time::SystemTime,
    /// The answers, by id.
    pub answers: Vec<AnswerView>,
}

/// An answer to a consultation.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AnswerView {
    /// Its id.
    pub id: String,
    /// Who answered.
    pub by: String,
    /// For which institution.
    pub institution: String,
    /// The answer.
    pub text: String,
    /// When.
    pub at: std::time::SystemTime,
}

pub(crate) fn consultation(
    id: String,
    c: sync_core::model::consultation::ConsultationView,
) -> ConsultationView {
    ConsultationView {
        id,
        asked_by: c.request.asked_by,
        institution: c.request.institution,
        question: c.request.question,
        at: time(c.at),
        answers: c
            .answers
            .into_iter()
            .map(|(id, a)| AnswerView {
                id,
                by: a.answer.by,
                institution: a.answer.institution,
                text: a.answer.text,
                at: time(a.at),
            })
            .collect(),
    }
}
