//! The PZK document (*Partnerski Zespół Kooperacji*): one partner team of a gmina or powiat.
//!
//! # Layout
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `type` | string `"pzk"` | |
//! | `schemaVersion` | integer | [`SCHEMA_VERSION`](super::SCHEMA_VERSION) |
//! | `createdAt` | timestamp | |
//! | `name` | string | the team's name |
//! | `animator` | string | login of the animator who leads the team |
//! | `agreement` | `{text: Text, status, parties, signatories, concludedOn?, validFrom?, validTo?, scan?, signed?}` | inter-institution agreement (5.2), see [`agreement`]: frozen once signed |
//! | `leader` | `{label, note}`? | the leader person or family (5.3), named without being a user, see [`leader`] |
//! | `members` | map: institution id → `{name, sector, role, representatives}` | representatives: person id → `{name, function}` |
//! | `workPlan` | map: milestone id → `{step, month, title, status}` | the schedule (6.2): 18 months in the model, longer when extended (months 1 to 120) |
//! | `services` | map: service id → `{description: Text, provider, sector, capacity?, remoteCapable, retired}` | *Lista aktywności i usług* (6.3) |
//! | `meetings` | map: meeting id → meeting | see below |
//! | `consultations` | map: id → consultation + `{caseRef, meeting?, to?}` | see [`super::consultation`] |
//! | `decision92` | `{rationale: Text, decision?, meeting?, by?, at?}` | the 9.2 decision |
//! | `recommendations` | map: id → `{text: Text, by, at, category?, decision92?}` | K10, append-only; category `legal`, `organisational` or `services` (*prawne, organizacyjne, usługowe*); `decision92`: part of the 9.2 decision |
//!
//! A meeting is `{date: timestamp, mode, link?, agenda: map item id → {title, order},
//! attendance: map person id → how they took part, minutes: Text, decisions: map id → {text:
//! Text, by, at}, invitations: map institution id → {by, at}, minutesApproved?: {by, at}}`.
//! `link` is the video call's `https://` address; only member institutions are invited; once
//! `minutesApproved` is written (by the login its change names as author) no later or
//! concurrent change may touch the meeting (see `frozen`).
//!
//! The PZK document is read by every member institution, so it never names a person or family
//! that is being supported: a consultation refers to a case only by a pseudonymous reference
//! (`caseRef`, letters, digits and `-_./:#`, no spaces), which the validator enforces. Services
//! are retired, never deleted, because cases refer to their ids.
//!
//! # Where things are
//!
//! One file per part of the team's work: `team` (the document, members), `agreement`, `leader`,
//! `work_plan`, `services` (the list of activities and services), `meetings`, and `decisions`
//! (consultations, the 9.2 decision, recommendations). `types` holds the values edits take and
//! readers return, `read` the readers, `layout` the keys of the fields.
//!
//! Every edit takes the [`Editor`](crate::model::Editor) who makes it; its commit message names
//! the editor's login alone (an `Author` trailer, no `Institution`), as PZK changes always have,
//! and fields such as `by` keep the login.

mod agreement;
mod agreement_values;
mod decisions;
mod frozen;
pub(crate) mod layout;
mod leader;
mod meetings;
mod read;
mod services;
mod team;
pub(crate) mod types;
mod work_plan;

#[cfg(test)]
mod agreement_tests;
#[cfg(test)]
mod meeting_tests;
#[cfg(test)]
mod tests;

pub use self::agreement::{
    attach_agreement_scan, check_state, referenced_blobs, remove_agreement_party,
    set_agreement_dates, set_agreement_party, set_agreement_status, set_agreement_text,
    set_signatory,
};
pub use self::agreement_values::{AgreementDates, AgreementScan, Signatory, SignedAgreement};
pub use self::decisions::{
    add_recommendation, answer_consultation, open_consultation, set_decision_9_2, Recommendation,
};
pub use self::frozen::check_frozen;
pub use self::leader::{clear_leader, set_leader, Leader, MAX_LEADER_LABEL, MAX_LEADER_NOTE};
pub use self::meetings::{
    approve_minutes, invite_institution, record_attendance, record_decision, schedule_meeting,
    set_agenda_item, set_minutes,
};
pub use self::read::{agreement_status, milestone_status, read_pzk};
pub use self::services::{retire_service, upsert_service};
pub use self::team::{new_pzk, remove_representative, set_representative, upsert_member};
pub use self::types::{
    is_case_ref, is_meeting_link, is_step, AgendaItem, AgreementStatus, AgreementView, Attendance,
    Entry, InstitutionSector, MeetingMode, MeetingPlan, MeetingView, Member, MemberRole,
    MemberView, Milestone, MilestoneStatus, MilestoneView, PzkConsultationView, PzkInit, PzkView,
    RecommendationCategory, RecommendationView, Representative, ServiceEntry, ServiceEntryView,
    Stamp, TeamDecision, TeamDecisionView, MAX_CASE_REF_LEN, MAX_LINK_LEN, PLAN_MONTHS,
};
pub use self::work_plan::{set_milestone_status, upsert_milestone};
