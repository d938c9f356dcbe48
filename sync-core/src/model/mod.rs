//! Typed documents: the case (*sprawa*) and the PZK (*Partnerski Zespół Kooperacji*) documents.
//!
//! Each case and each partner team is one Automerge document. This module maps them to plain
//! Rust values with functions over [`automerge::Automerge`]: constructors ([`case::new_case`],
//! [`pzk::new_pzk`]), edits that each make one Automerge change with a commit message and the
//! caller's time, readers ([`case::read_case`], [`pzk::read_pzk`]) and [`validate`], which the
//! server runs after merging a peer's changes. Like the rest of `sync-core` it reads no clock
//! and draws no random numbers: times, ids and the Automerge actor are arguments.
//!
//! The case workflow lives beside the case: [`workflow`] moves a case from stage to stage by
//! the model's rules and resolves concurrent stage changes, [`history`] reads a case as it was
//! at a version and lists what changed between two, [`editor`] defines how each change names
//! its author (login and institution), and [`warsaw`] shows times in Polish local time.
//! [`free_texts`] names the free text whose edits no rule constrains (what a server may relay
//! without applying it at once, issue #23). The
//! walk-through of one case is in `docs/case-workflow.md`.
//!
//! # Modelling rules
//!
//! The layout keeps CRDT merges safe:
//! - **Whatever is edited concurrently is a map keyed by a stable id** (goals, services,
//!   members, meetings, answers...), never a list position.
//! - **Free text is Automerge Text, one object per section** (a diagnosis sector, a monitoring
//!   note, a goal's SMART part, meeting minutes), so concurrent edits merge character by
//!   character and no single text grows without bound. Whole-text edits are stored as diffs.
//! - **Append-only logs** (monitoring notes, consent events, PZK decisions and recommendations)
//!   are maps keyed by a client-chosen id whose entries are written once; contract signatures
//!   are a list appended at its end.
//! - **Status fields are single map keys.** When replicas set one concurrently, readers return a
//!   [`Conflict`]: Automerge's deterministic winner plus every other value, for the user to see
//!   and settle by setting the field again.
//! - **Containers are created once**, by the constructor, so replicas never race to create the
//!   same object and lose each other's content.
//!
//! Scalars are stored as Automerge scalars: strings as `Str` (JavaScript clients write them as
//! `ImmutableString`, since plain JavaScript strings become Text), times as `Timestamp` in
//! milliseconds (a JavaScript `Date`), calendar dates as `"YYYY-MM-DD"` strings. Keys a build
//! does not know are allowed and kept, so an older server accepts a newer client's additions
//! within the same [`SCHEMA_VERSION`].
//!
//! # Example
//!
//! Two workers edit the same diagnosis sector offline; the merge keeps both edits, and a goal
//! status set concurrently is reported as a conflict.
//!
//! ```
//! use automerge::ActorId;
//! use chrono::{TimeZone, Utc};
//! use sync_core::model::{self, case, DocumentKind, Editor};
//! use sync_core::model::case::{CaseInit, DiagnosisSector, GoalPlan, GoalStatus, Referral};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let at = Utc.with_ymd_and_hms(2021, 3, 1, 9, 0, 0).single().ok_or("time")?;
//! let init = CaseInit {
//!     actor: ActorId::from(b"anna-tablet".as_slice()),
//!     owner: "anna".into(),
//!     lead_institution: "gops-przykladowo".into(),
//!     referral: Referral {
//!         by: "pedagog".into(),
//!         institution: "sp-1".into(),
//!         reason: "Frequent absences at school.".into(),
//!         at,
//!     },
//!     household: Default::default(),
//! };
//! // Every edit names its author: a login and the institution they act for.
//! let anna_gops = Editor::new("anna", "gops-przykladowo")?;
//! let jan_school = Editor::new("jan", "sp-1")?;
//! let mut anna = case::new_case(&init, &anna_gops, at)?;
//! let housing = DiagnosisSector::Housing;
//! case::set_diagnosis_section(&mut anna, housing, "Two rooms.", &anna_gops, at)?;
//! let plan = GoalPlan {
//!     specific: "Regular school attendance".into(),
//!     measurable: "Absences under 10%".into(),
//!     achievable: "With help of the day centre".into(),
//!     relevant: "The child wants to pass the year".into(),
//!     deadline: chrono::NaiveDate::from_ymd_opt(2021, 6, 25).ok_or("date")?,
//!     responsible: "sp-1".into(),
//!     services: Default::default(),
//! };
//! case::upsert_goal(&mut anna, "g1", &plan, &anna_gops, at)?;
//!
//! // A school worker's tablet gets a copy and both work offline.
//! let mut jan = anna.fork().with_actor(ActorId::from(b"jan-tablet".as_slice()));
//! case::set_diagnosis_section(&mut anna, housing, "Two rooms, damp.", &anna_gops, at)?;
//! case::set_diagnosis_section(&mut jan, housing, "Two small rooms.", &jan_school, at)?;
//! case::set_goal_status(&mut anna, "g1", GoalStatus::InProgress, &anna_gops, at)?;
//! case::set_goal_status(&mut jan, "g1", GoalStatus::Dropped, &jan_school, at)?;
//!
//! anna.merge(&mut jan)?;
//! assert_eq!(model::validate(&anna)?, DocumentKind::Case);
//! let view = case::read_case(&anna)?;
//! assert_eq!(view.diagnosis[&DiagnosisSector::Housing], "Two small rooms, damp.");
//! let status = case::goal_status(&anna, "g1")?;
//! assert!(status.is_conflicted());
//! assert_eq!(view.conflicts(), vec!["goals/g1/status".to_owned()]);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

#[macro_use]
mod enums;

pub mod addressed;
mod addressed_link;
#[cfg(test)]
mod addressed_tests;
pub mod case;
mod conflict;
pub mod consultation;
pub mod editor;
mod free_text;
mod header;
pub mod history;
pub mod justice;
mod keyed;
pub mod pzk;
mod reader;
pub mod referral;
pub mod seen;
pub mod timeline;
pub mod warsaw;
mod write;

#[cfg(test)]
mod testing;

use automerge::Automerge;

pub use self::case::workflow;
pub use self::conflict::Conflict;
pub use self::editor::Editor;
pub use self::enums::WireEnum;
pub use self::free_text::{every_text, free_texts};
pub use self::header::{kind_of, schema_version, DocumentKind, SCHEMA_VERSION};
pub use self::reader::conflict_at;
use crate::error::SchemaError;

/// Checks a document against its schema: its kind, its version, and the shape of every known
/// field (maps where maps belong, Text where free text belongs, known enum strings, timestamps,
/// well-formed ids). A server runs it after merging a peer's changes.
///
/// Every concurrent value of a scalar key is checked, not only the winner. Of objects written
/// concurrently at one key only the winner is checked, as only it is ever read. Keys the schema
/// does not name are allowed.
///
/// A case must also be in a valid *state*: the rules of [`workflow`] (no contract signed
/// without a plan, no stage from `contract` on without goals, no hand-over without a target...)
/// hold for every concurrent stage value; a broken one is [`SchemaError::Rule`] with the reason.
/// Every state the edit functions can reach passes, and so does every merge of valid states.
pub fn validate(doc: &Automerge) -> Result<DocumentKind, SchemaError> {
    let kind = kind_of(doc)?;
    schema_version(doc)?;
    match kind {
        DocumentKind::Case => {
            let view = case::read_case(doc)?;
            case::read_attachments(doc)?;
            case::read_rectifications(doc)?;
            case::justice_document(doc)?;
            workflow::check_state(doc, &view)?;
        }
        DocumentKind::Pzk => {
            let view = pzk::read_pzk(doc)?;
            pzk::check_frozen(doc, &view)?;
            pzk::check_state(&view.agreement)?;
        }
        DocumentKind::Referral => {
            referral::read_referral(doc)?;
        }
        DocumentKind::Seen => {
            seen::read_seen(doc)?;
        }
        DocumentKind::Justice => {
            justice::read_justice(doc)?;
        }
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use automerge::transaction::{Transactable, Transaction};
    use automerge::{AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, ROOT};

    use super::testing::{at, case_with_goal, editor, fork_as, merged, new_case, new_pzk};
    use super::*;

    /// A breaking edit made with raw Automerge operations, below the typed API.
    type Breaker = fn(&mut Automerge);

    /// A row of the table of broken documents: name, fixture, breaking edit, expected outcome.
    type Row = (&'static str, fn() -> Automerge, Breaker, &'static str);

    /// The object at `path` (map keys from the root).
    fn obj(doc: &Automerge, path: &[&str]) -> ObjId {
        path.iter().fold(ROOT, |parent, key| {
            doc.get(&parent, *key)
                .expect("readable")
                .unwrap_or_else(|| panic!("no {key} in the fixture"))
                .1
        })
    }

    fn raw(
        doc: &mut Automerge,
        edit: impl FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    ) {
        doc.transact(edit).expect("raw edit applies");
    }

    fn put(doc: &mut Automerge, path: &[&str], key: &str, value: impl Into<ScalarValue>) {
        let target = obj(doc, path);
        raw(doc, |tx| tx.put(&target, key, value));
    }

    /// What `validate` said, reduced to what the table compares: the variant, and the path of a
    /// field error.
    fn outcome(doc: &Automerge) -> String {
        match validate(doc) {
            Ok(kind) => format!("ok {kind}"),
            Err(SchemaError::Field { path, .. }) => format!("field {path}"),
            Err(SchemaError::UnknownType(_)) => "unknown type".to_owned(),
            Err(SchemaError::UnsupportedVersion { found, supported }) => {
                format!("version {found} > {supported}")
            }
            Err(other) => format!("other {other}"),
        }
    }

    fn check(name: &str, fixture: fn() -> Automerge, breaker: Breaker, expected: &str) {
        let mut doc = fixture();
        breaker(&mut doc);
        assert_eq!(outcome(&doc), expected, "{name}");
    }

    #[test]
    fn new_documents_validate() {
        assert_eq!(
            validate(&new_case()).expect("a new case is valid"),
            DocumentKind::Case
        );
        assert_eq!(
            validate(&new_pzk()).expect("a new PZK is valid"),
            DocumentKind::Pzk
        );
        assert_eq!(kind_of(&new_pzk()).expect("typed"), DocumentKind::Pzk);
        assert_eq!(
            schema_version(&new_case()).expect("versioned"),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn unknown_keys_are_allowed() {
        let mut doc = case_with_goal();
        put(&mut doc, &[], "futureField", "from a newer client");
        put(&mut doc, &["goals", "g1"], "priority", 2u64);
        put(
            &mut doc,
            &["diagnosis"],
            "spirituality",
            "a sector of a later version",
        );
        assert_eq!(outcome(&doc), "ok case");
    }

    #[test]
    fn broken_documents_are_refused_with_the_path() {
        let table: &[Row] = &[
            ("no type", Automerge::new, |_| {}, "unknown type"),
            (
                "wrong type",
                new_case,
                |d| put(d, &[], "type", "family"),
                "unknown type",
            ),
            (
                "type not a string",
                new_case,
                |d| put(d, &[], "type", 1u64),
                "unknown type",
            ),
            (
                "newer schema",
                new_case,
                |d| put(d, &[], "schemaVersion", 2u64),
                "version 2 > 1",
            ),
            (
                "schema version 0",
                new_pzk,
                |d| put(d, &[], "schemaVersion", 0u64),
                "field schemaVersion",
            ),
            (
                "schema version as text",
                new_case,
                |d| put(d, &[], "schemaVersion", "1"),
                "field schemaVersion",
            ),
            (
                "unknown stage",
                new_case,
                |d| put(d, &[], "stage", "paused"),
                "field stage",
            ),
            (
                "unknown goal status",
                case_with_goal,
                |d| put(d, &["goals", "g1"], "status", "paused"),
                "field goals/g1/status",
            ),
            (
                "status as a number",
                case_with_goal,
                |d| put(d, &["goals", "g1"], "status", 3u64),
                "field goals/g1/status",
            ),
            (
                "diagnosis text as a string",
                new_case,
                |d| put(d, &["diagnosis"], "health", "Asthma."),
                "field diagnosis/health",
            ),
            (
                "goal part as a string",
                case_with_goal,
                |d| put(d, &["goals", "g1"], "measurable", "often"),
                "field goals/g1/measurable",
            ),
            (
                "goal not a map",
                case_with_goal,
                |d| put(d, &["goals"], "g2", "finish school"),
                "field goals/g2",
            ),
            (
                "goal id with a slash",
                case_with_goal,
                |d| {
                    let goals = obj(d, &["goals"]);
                    raw(d, |tx| tx.put_object(&goals, "a/b", ObjType::Map).map(drop));
                },
                "field goals/a/b",
            ),
            (
                "deadline not a date",
                case_with_goal,
                |d| put(d, &["goals", "g1"], "deadline", "soon"),
                "field goals/g1/deadline",
            ),
            (
                "createdAt as a string",
                new_case,
                |d| put(d, &[], "createdAt", "2021-03-01"),
                "field createdAt",
            ),
            (
                "goals missing",
                new_case,
                |d| raw(d, |tx| tx.delete(ROOT, "goals")),
                "field goals",
            ),
            (
                "goals as a list",
                new_case,
                |d| {
                    raw(d, |tx| {
                        tx.put_object(ROOT, "goals", ObjType::List).map(drop)
                    })
                },
                "field goals",
            ),
            (
                "signature over an unknown change",
                new_case,
                |d| {
                    let list = obj(d, &["contract", "signatures"]);
                    raw(d, |tx| {
                        let entry = tx.insert_object(&list, 0, ObjType::Map)?;
                        let heads = tx.put_object(&entry, "heads", ObjType::List)?;
                        tx.insert(&heads, 0, "ab".repeat(32))
                    });
                },
                "field contract/signatures/0/heads/0",
            ),
            (
                "unknown agreement status",
                new_pzk,
                |d| put(d, &["agreement"], "status", "maybe"),
                "field agreement/status",
            ),
            (
                "rationale as a string",
                new_pzk,
                |d| put(d, &["decision92"], "rationale", "because"),
                "field decision92/rationale",
            ),
            (
                "case document with a PZK type",
                new_case,
                |d| put(d, &[], "type", "pzk"),
                "field name",
            ),
        ];
        for (name, fixture, breaker, expected) in table {
            check(name, *fixture, *breaker, expected);
        }
    }

    #[test]
    fn a_bad_value_hidden_by_a_concurrent_winner_is_still_refused() {
        let base = case_with_goal();
        let mut good = fork_as(&base, "aa");
        let mut bad = fork_as(&base, "zz");
        case::set_goal_status(
            &mut good,
            "g1",
            case::GoalStatus::Achieved,
            &editor("anna"),
            at(11),
        )
        .expect("status set");
        put(&mut bad, &["goals", "g1"], "status", "paused");
        let doc = merged(&good, &bad);
        assert_eq!(outcome(&doc), "field goals/g1/status");
    }

    #[test]
    fn concurrent_types_are_refused() {
        let base = new_case();
        let mut one = fork_as(&base, "aa");
        let mut two = fork_as(&base, "bb");
        put(&mut one, &[], "type", "pzk");
        put(&mut two, &[], "type", "family");
        assert_eq!(outcome(&merged(&one, &two)), "field type");
    }

    #[test]
    fn concurrent_versions_count_the_newest() {
        let base = new_case();
        let mut one = fork_as(&base, "aa");
        let mut two = fork_as(&base, "bb");
        put(&mut one, &[], "schemaVersion", 1u64);
        put(&mut two, &[], "schemaVersion", 7u64);
        for doc in [merged(&one, &two), merged(&two, &one)] {
            assert_eq!(outcome(&doc), "version 7 > 1");
        }
    }

    #[test]
    fn edits_refuse_the_other_kind_and_newer_versions() {
        let mut pzk_doc = new_pzk();
        let err = case::set_stage_raw(
            &mut pzk_doc,
            case::Stage::Diagnosis,
            &editor("anna"),
            at(10),
        )
        .expect_err("a PZK document is not a case");
        assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
        let mut newer = new_case();
        put(&mut newer, &[], "schemaVersion", 2u64);
        let err = case::set_stage_raw(&mut newer, case::Stage::Diagnosis, &editor("anna"), at(10))
            .expect_err("a newer case is not edited");
        assert_eq!(
            err,
            SchemaError::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
    }
}
