//! The typed edits of a case (`client_sdk::Tablet`'s own): each is checked by the model's
//! rules, recorded as this tablet's user's, and durable on the device when it returns; a
//! refused edit changes nothing and fails with `Rule` (its code and Polish text).

use sync_core::model::case::{
    ContactMode, DiagnosisSector, GoalStatus, ScreeningOutcome, ServiceStatus, Stage,
};

use crate::convert::document_id;
use crate::error::KooperacjaError;
use crate::inputs::{GoalPlanInput, HouseholdMemberInput};
use crate::runtime::run;
use crate::tablet::Tablet;

#[uniffi::export]
impl Tablet {
    /// Moves the case to another stage as the workflow allows.
    pub async fn move_to_stage(
        &self,
        document: String,
        stage: Stage,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.move_to_stage(id, stage).await }).await
    }

    /// Adds a household member, or updates one.
    pub async fn add_household_member(
        &self,
        document: String,
        member: HouseholdMemberInput,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let (person_id, member) = member.into_model()?;
        run(async move { tablet.add_household_member(id, &person_id, member).await }).await
    }

    /// Records the screening result and notes.
    pub async fn set_screening(
        &self,
        document: String,
        outcome: ScreeningOutcome,
        notes: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_screening(id, outcome, &notes).await }).await
    }

    /// Replaces a diagnosis sector's text (as a diff: others' concurrent edits stay). For
    /// typing, use `editText`.
    pub async fn set_diagnosis(
        &self,
        document: String,
        sector: DiagnosisSector,
        text: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_diagnosis(id, sector, &text).await }).await
    }

    /// Adds an IPP goal or updates its plan.
    pub async fn upsert_goal(
        &self,
        document: String,
        goal_id: String,
        plan: GoalPlanInput,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let plan = plan.into_model()?;
        run(async move { tablet.upsert_goal(id, &goal_id, plan).await }).await
    }

    /// Sets a goal's status; setting it resolves a conflict on it.
    pub async fn set_goal_status(
        &self,
        document: String,
        goal_id: String,
        status: GoalStatus,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_goal_status(id, &goal_id, status).await }).await
    }

    /// Puts a service of the PZK's list into the case's basket.
    pub async fn add_service(
        &self,
        document: String,
        service_id: String,
        provider: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.add_service(id, &service_id, &provider).await }).await
    }

    /// Sets a basket service's status; setting it resolves a conflict on it.
    pub async fn set_service_status(
        &self,
        document: String,
        service_id: String,
        status: ServiceStatus,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_service_status(id, &service_id, status).await }).await
    }

    /// Replaces the contract's text.
    pub async fn set_contract_text(
        &self,
        document: String,
        text: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_contract_text(id, &text).await }).await
    }

    /// Appends a monitoring note by this tablet's user; returns the note's id.
    pub async fn append_monitoring_note(
        &self,
        document: String,
        mode: ContactMode,
        text: String,
    ) -> Result<String, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.append_monitoring_note(id, mode, &text).await }).await
    }

    /// Writes the evaluation (9.1).
    pub async fn set_evaluation(
        &self,
        document: String,
        text: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.set_evaluation(id, &text).await }).await
    }
}
