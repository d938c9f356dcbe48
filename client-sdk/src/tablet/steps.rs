//! The steps of the work with a case that once needed the generic [`Tablet::edit`]: signing
//! or accepting the contract, consent, consultations (asking, answering), the PZK's 9.2
//! decision, the hand-over, the next visit, the household's address and phone; and the stage bar's moves. The case app's
//! TypeScript model (`web/src/model`) offers the same operations, held to the same rules by
//! the shared test vectors.

use automerge::ChangeHash;
use chrono::NaiveDate;
use sync_core::model::case::{
    self, ConsentEvent, HandoverTarget, HouseholdContact, PzkDecision, Signature,
};
use sync_core::model::consultation::{Answer, ConsultationRequest};
use sync_core::model::workflow::{self, StageMove};
use sync_core::DocumentId;

use super::{random_id, Tablet};
use crate::error::SdkError;

impl Tablet {
    /// Records a signing of the contract as it stands (in person, or accepted by phone or video
    /// with the recorded consent in `signature.consent_note`), recorded by this tablet's user;
    /// returns the heads signed: the version of the contract that was accepted.
    ///
    /// Refused as the model refuses it: a contract without text or before the IPP has a goal,
    /// a signing naming no signer, remote acceptance without consent
    /// ([`SdkError::code`](crate::SdkError) tells which).
    pub async fn sign_contract(
        &self,
        document: DocumentId,
        signature: Signature,
    ) -> Result<Vec<ChangeHash>, SdkError> {
        self.edit(document, move |doc, by, at| {
            case::sign_contract(doc, &signature, by, at)
        })
        .await
    }

    /// Records consent to share with an institution for a purpose, given or withdrawn
    /// (withdrawal is a new event); returns the event's id.
    pub async fn record_consent(
        &self,
        document: DocumentId,
        event: ConsentEvent,
    ) -> Result<String, SdkError> {
        let id = random_id("k");
        let consent_id = id.clone();
        self.edit(document, move |doc, by, at| {
            case::record_consent(doc, &consent_id, &event, by, at)
        })
        .await?;
        Ok(id)
    }

    /// Asks other institutions a question about the case (*konsultacja*), as this tablet's user
    /// for their institution; returns the consultation's id.
    pub async fn ask_consultation(
        &self,
        document: DocumentId,
        question: &str,
    ) -> Result<String, SdkError> {
        let id = random_id("c");
        let request = ConsultationRequest {
            asked_by: self.editor().login().to_owned(),
            institution: self.editor().institution().to_owned(),
            question: question.to_owned(),
        };
        let consultation_id = id.clone();
        self.edit(document, move |doc, _, at| {
            case::open_consultation(doc, &consultation_id, &request, at)
        })
        .await?;
        Ok(id)
    }

    /// Answers a consultation as this tablet's user for their institution; answers of several
    /// institutions at once all stay. Returns the answer's id.
    pub async fn answer_consultation(
        &self,
        document: DocumentId,
        consultation_id: &str,
        text: &str,
    ) -> Result<String, SdkError> {
        let id = random_id("a");
        let answer = Answer {
            by: self.editor().login().to_owned(),
            institution: self.editor().institution().to_owned(),
            text: text.to_owned(),
        };
        let (consultation_id, answer_id) = (consultation_id.to_owned(), id.clone());
        self.edit(document, move |doc, _, at| {
            case::answer_consultation(doc, &consultation_id, &answer_id, &answer, at)
        })
        .await?;
        Ok(id)
    }

    /// Records the PZK's decision on the case (9.2): continue the support or end it, with the
    /// deciding meeting's id when known. Recording it again settles a conflict on it.
    pub async fn set_pzk_decision(
        &self,
        document: DocumentId,
        decision: PzkDecision,
        meeting: Option<&str>,
    ) -> Result<(), SdkError> {
        let meeting = meeting.map(str::to_owned);
        self.edit(document, move |doc, by, at| {
            case::set_pzk_decision(doc, decision, meeting.as_deref(), by, at)
        })
        .await
    }

    /// Records the agreed hand-over (9.3) to another institution with a note; the case then
    /// moves to `handed_over` with [`Tablet::move_to_stage`].
    pub async fn set_handover(
        &self,
        document: DocumentId,
        target: HandoverTarget,
        note: &str,
    ) -> Result<(), SdkError> {
        let note = note.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_handover(doc, &target, &note, by, at)
        })
        .await
    }

    /// Sets the next planned visit, or clears it with `None`.
    pub async fn set_next_visit(
        &self,
        document: DocumentId,
        day: Option<NaiveDate>,
    ) -> Result<(), SdkError> {
        self.edit(document, move |doc, by, at| {
            case::set_next_visit(doc, day, by, at)
        })
        .await
    }

    /// Sets the household's address and contact phone (`None` or blank clears one); the phone
    /// is kept in the international form. Refused with `household.phone-invalid` or
    /// `household.address-invalid` when it is no phone number or not one line of 200 characters.
    pub async fn set_household_contact(
        &self,
        document: DocumentId,
        contact: HouseholdContact,
    ) -> Result<(), SdkError> {
        self.edit(document, move |doc, by, at| {
            case::set_household_contact(doc, &contact, by, at)
        })
        .await
    }

    /// The stage bar: each move the workflow offers from the case's stage, open (`Ok`) or
    /// blocked with the reason (its code and Polish text through [`sync_core::Coded`]).
    pub async fn stage_moves(&self, document: DocumentId) -> Result<Vec<StageMove>, SdkError> {
        self.read(document, |doc| Ok(workflow::moves(doc)?)).await
    }
}
