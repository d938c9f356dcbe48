//! The steps of the work with a case (`client-sdk/src/tablet/steps.rs`): signing, consent,
//! consultations, the PZK's 9.2 decision, the hand-over, the next visit, and the stage bar.

use sync_core::model::case::{ConsentEvent, HandoverTarget, PzkDecision, Signature};

use crate::convert::{document_id, hashes, parse_day};
use crate::error::KooperacjaError;
use crate::records::StageMove;
use crate::runtime::run;
use crate::tablet::Tablet;

#[uniffi::export]
impl Tablet {
    /// Records a signing of the contract as it stands (in person, or accepted remotely with the
    /// recorded consent); returns the heads signed (hex): the version accepted.
    pub async fn sign_contract(
        &self,
        document: String,
        signature: Signature,
    ) -> Result<Vec<String>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let heads = run(async move { tablet.sign_contract(id, signature).await }).await?;
        Ok(hashes(&heads))
    }

    /// Records consent given or withdrawn; returns the event's id.
    pub async fn record_consent(
        &self,
        document: String,
        event: ConsentEvent,
    ) -> Result<String, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.record_consent(id, event).await }).await
    }

    /// Asks other institutions a question about the case; returns the consultation's id.
    pub async fn ask_consultation(
        &self,
        document: String,
        question: String,
    ) -> Result<String, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.ask_consultation(id, &question).await }).await
    }

    /// Answers a consultation for this user's institution; returns the answer's id.
    pub async fn answer_consultation(
        &self,
        document: String,
        consultation_id: String,
        text: String,
    ) -> Result<String, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move {
            tablet
                .answer_consultation(id, &consultation_id, &text)
                .await
        })
        .await
    }

    /// Records the PZK's decision on the case (9.2), with the deciding meeting when known.
    pub async fn set_pzk_decision(
        &self,
        document: String,
        decision: PzkDecision,
        meeting: Option<String>,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move {
            tablet
                .set_pzk_decision(id, decision, meeting.as_deref())
                .await
        })
        .await
    }

    /// Records the agreed hand-over (9.3) with a note.
    pub async fn set_handover(
        &self,
        document: String,
        target: HandoverTarget,
        note: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_handover(id, target, &note).await }).await
    }

    /// Sets the next planned visit (`YYYY-MM-DD`), or clears it with none.
    pub async fn set_next_visit(
        &self,
        document: String,
        day: Option<String>,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let day = day.as_deref().map(parse_day).transpose()?;
        run(async move { tablet.set_next_visit(id, day).await }).await
    }

    /// The stage bar: each move the workflow offers, open or blocked with the reason.
    pub async fn stage_moves(&self, document: String) -> Result<Vec<StageMove>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let moves = run(async move { tablet.stage_moves(id).await }).await?;
        Ok(moves.into_iter().map(Into::into).collect())
    }
}
