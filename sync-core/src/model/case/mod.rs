//! The case (*sprawa*): one person, family or group supported under step K7.2 of the model.
//!
//! # Layout
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `type` | string `"case"` | |
//! | `schemaVersion` | integer | [`SCHEMA_VERSION`](super::SCHEMA_VERSION) |
//! | `createdAt` | timestamp | |
//! | `stage` | [`Stage`] string | status: concurrent values are a [`Conflict`], resolved by [`stage`] |
//! | `owner` | string | login of the owning social worker (*pracownik socjalny*) |
//! | `leadInstitution` | string | id of the lead institution |
//! | `household` | map: person id → `{name, relation, birthDate?}` | |
//! | `referral` | `{by, institution, reason: Text, at}` | *zgłoszenie* |
//! | `screening` | `{notes: Text, outcome?, by?, at?}` | outcome is a [`ScreeningOutcome`] |
//! | `diagnosis` | map: [`DiagnosisSector`] → Text | one Text per sector |
//! | `goals` | map: goal id → goal | IPP goals, see below |
//! | `services` | map: service id → `{provider, status, addedAt}` | *koszyk usług* |
//! | `contract` | `{text: Text, signatures: list}` | signatures are append-only |
//! | `monitoring` | map: note id → `{author, institution, at, mode, text: Text}` | append-only |
//! | `consultations` | map: id → consultation | see [`super::consultation`] |
//! | `consents` | map: id → `{institution, purpose, state, by, recordedBy, at}` | append-only |
//! | `evaluation` | `{text: Text, by?, at?}` | 9.1 |
//! | `pzkDecision` | `{decision?, meeting?, by?, at?}` | 9.2 |
//! | `handover` | `{note: Text, target?, targetWorker?, by?, at?}` | 9.3, *przekazanie* |
//! | `nextVisit` | optional `"YYYY-MM-DD"` | the next planned visit; absent in older cases |
//! | `householdAddress` | optional string | one line, trimmed, at most 200 characters; absent in older cases |
//! | `householdPhone` | optional string | the contact phone in E.164 (`+48601234567`); see `contact` |
//! | `attachments` | map: id → attachment | append-only, see [`attachments`](self::attach_file) |
//! | `justiceDocument` | optional string | the id of the case's [`justice`](crate::model::justice) document, linked once; the content never lives here |
//! | `rectifications` | map: id → `{field, old?, new?, reason, by, institution, at}` | append-only, GDPR art. 16, see [`rectify`]; absent in older cases |
//!
//! A goal is `{specific, measurable, achievable, relevant: Text, deadline: "YYYY-MM-DD",
//! responsible, status, services: map service id → true, createdAt}`; a contract signature is
//! `{heads: list of hex change hashes, signer, at, mode, consentNote, recordedBy}`.
//!
//! Every edit takes the [`Editor`] who makes it (login and institution), or, for entries that
//! name their own author and institution (monitoring notes, consultations and their answers),
//! takes them from the entry. Who and for which institution goes into the change's commit
//! message (see [`super::editor`]); fields such as `by` and `recordedBy` keep the login. The
//! stage moves through [`super::workflow`], which checks the rules of the model.
//!
//! Every container above is created by [`new_case`], so edits only ever add keys inside them
//! and two replicas never race to create the same object. Append-only logs (monitoring notes,
//! consent events) are maps keyed by a client-chosen id: appending the same id twice is refused,
//! so a retried upload cannot duplicate an entry; contract signatures are a list, appended at
//! its end. Entries of these logs are never changed after they are written.
//!
//! # Where things are
//!
//! One file per step of the work with a case: `intake` (referral, household, screening),
//! `diagnosis`, `plan` (IPP goals and the basket of services), `contract`, `logs` (monitoring
//! notes, consultations, consents), `closing` (evaluation, the PZK's decision, hand-over), and
//! [`workflow`] (which stage may follow which). `types` holds the values edits take and readers
//! return, `read` the readers, `stage` the stage value, `layout` the keys of the fields.

mod attachments;
mod closing;
mod contact;
mod contract;
mod diagnosis;
mod intake;
pub(crate) mod layout;
mod logs;
mod plan;
mod read;
mod rectification;
mod stage;
mod types;
mod visits;
pub mod workflow;

#[cfg(test)]
mod attachment_tests;
#[cfg(test)]
mod rectification_tests;
#[cfg(test)]
mod tests;

pub use self::attachments::{
    attach_file, attachment_ids, is_sha256_hex, read_attachments, referenced_blobs, sniff_mime,
    Attachment, AttachmentKind, AttachmentLink, AttachmentView, ALLOWED_MIME, MAX_ATTACHMENT_BYTES,
    SNIFF_BYTES,
};
pub use self::closing::{set_evaluation, set_handover, set_pzk_decision};
pub use self::contact::{
    normalize_address, normalize_phone, set_household_contact, HouseholdContact, MAX_ADDRESS_CHARS,
};
pub use self::contract::{
    contract_changed_since_signed, set_contract_text, sign_contract, signed_contract_text,
};
pub use self::diagnosis::{set_diagnosis_section, splice_diagnosis};
pub use self::intake::{
    add_household_member, justice_document, link_justice_document, link_referral_document,
    new_case, referral_document, set_screening,
};
pub use self::logs::{
    answer_consultation, append_monitoring_note, open_consultation, record_consent,
};
pub use self::plan::{
    add_listed_service, add_service, set_goal_status, set_service_status, upsert_goal,
};
pub use self::read::{goal_status, read_case, service_status};
pub use self::rectification::{
    read_rectifications, rectify, Rectification, RectificationView, RectifiedField,
    MAX_REASON_CHARS,
};
pub use self::stage::{set_stage_raw, stage};
pub use self::types::{
    CaseInit, CaseView, ConsentEvent, ConsentState, ConsentView, ContactMode, ContractView,
    DiagnosisSector, Evaluation, GoalPlan, GoalStatus, GoalView, Handover, HandoverTarget,
    HouseholdMember, MonitoringNote, MonitoringNoteView, PzkDecision, PzkDecisionView, Referral,
    Screening, ScreeningOutcome, ServiceStatus, ServiceView, Signature, SignatureView, SigningMode,
    Stage,
};
pub use self::visits::set_next_visit;
