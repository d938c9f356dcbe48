//! The model's closed sets of values, exposed as they are (`#[uniffi::remote]`): Kotlin and Swift
//! get the same enums the Rust model checks, with no copy to drift. Their Polish terms are in the
//! model's documentation (`sync_core::model`).

use client_sdk::SmartPart;
use sync_core::model::case::{
    ConsentState, ContactMode, DiagnosisSector, GoalStatus, PzkDecision, ScreeningOutcome,
    ServiceStatus, SigningMode, Stage,
};
use sync_core::model::pzk::{
    AgreementStatus, Attendance, InstitutionSector, MeetingMode, MemberRole, MilestoneStatus,
    TeamDecision,
};

/// The stage of a case (*etap*).
#[uniffi::remote(Enum)]
pub enum Stage {
    Referral,
    Screening,
    Diagnosis,
    Ipp,
    Contract,
    Delivery,
    Evaluation,
    Closed,
    HandedOver,
}

/// A sector of the multidimensional diagnosis (*sfera diagnozy*).
#[uniffi::remote(Enum)]
pub enum DiagnosisSector {
    Social,
    Health,
    Education,
    Housing,
    IncomeWork,
    Family,
    JusticeSafety,
    Other,
}

/// The status of an IPP goal.
#[uniffi::remote(Enum)]
pub enum GoalStatus {
    Planned,
    InProgress,
    Achieved,
    NotAchieved,
    Dropped,
}

/// The status of a service in the basket.
#[uniffi::remote(Enum)]
pub enum ServiceStatus {
    Planned,
    Active,
    Finished,
    Refused,
}

/// How a contract was accepted (in person, by phone, by video).
#[uniffi::remote(Enum)]
pub enum SigningMode {
    InPerson,
    Phone,
    Video,
}

/// How a monitoring contact happened.
#[uniffi::remote(Enum)]
pub enum ContactMode {
    HomeVisit,
    Phone,
    Video,
    Office,
    Other,
}

/// Consent given or withdrawn.
#[uniffi::remote(Enum)]
pub enum ConsentState {
    Given,
    Withdrawn,
}

/// The result of screening.
#[uniffi::remote(Enum)]
pub enum ScreeningOutcome {
    Qualified,
    NotQualified,
}

/// The PZK's decision on a case (9.2).
#[uniffi::remote(Enum)]
pub enum PzkDecision {
    Continue,
    End,
}

/// The status of a PZK agreement (*porozumienie*).
#[uniffi::remote(Enum)]
pub enum AgreementStatus {
    Draft,
    Signed,
    Terminated,
}

/// The sector of a member institution.
#[uniffi::remote(Enum)]
pub enum InstitutionSector {
    SocialAssistance,
    Education,
    Health,
    Police,
    Justice,
    CrisisIntervention,
    DayCentre,
    Culture,
    LabourMarket,
    Ngo,
    Other,
}

/// A member institution's role in the team.
#[uniffi::remote(Enum)]
pub enum MemberRole {
    Lead,
    Member,
    Leader,
    Adviser,
}

/// The status of a work-plan milestone.
#[uniffi::remote(Enum)]
pub enum MilestoneStatus {
    Planned,
    InProgress,
    Done,
    Cancelled,
}

/// How a PZK meeting is held.
#[uniffi::remote(Enum)]
pub enum MeetingMode {
    InPerson,
    Remote,
    Mixed,
}

/// How a person took part in a meeting.
#[uniffi::remote(Enum)]
pub enum Attendance {
    InPerson,
    Video,
    Phone,
    Absent,
}

/// The team's 9.2 decision.
#[uniffi::remote(Enum)]
pub enum TeamDecision {
    Continue,
    End,
}

/// A SMART part of an IPP goal, for a text session.
#[uniffi::remote(Enum)]
pub enum SmartPart {
    Specific,
    Measurable,
    Achievable,
    Relevant,
}
