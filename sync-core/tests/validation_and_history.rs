//! Validation of case documents as the server does it after every merge (invalid states refused
//! with the reason, every state on the way valid), and the history API: what changed between two
//! versions, who and when.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ReadDoc, ROOT};
use kooperacja_test_support::nowak::*;
use sync_core::model::case::{self, DiagnosisSector, Stage};
use sync_core::model::{history, validate, workflow, DocumentKind};
use sync_core::SchemaError;

// ---------------------------------------------------------------------------------------------
// Validation of document states

/// Writes a contract signing with raw Automerge operations, below the typed API.
fn raw_signing(doc: &mut Automerge, heads: Vec<String>, mode: &str, consent: &str) {
    let (_, contract) = doc
        .get(ROOT, "contract")
        .expect("readable")
        .expect("a contract");
    let (_, list) = doc
        .get(&contract, "signatures")
        .expect("readable")
        .expect("a signature list");
    let index = doc.length(&list);
    doc.transact(|tx| {
        let entry: ObjId = tx.insert_object(&list, index, ObjType::Map)?;
        let heads_list = tx.put_object(&entry, "heads", ObjType::List)?;
        for (i, head) in heads.iter().enumerate() {
            tx.insert(&heads_list, i, head.as_str())?;
        }
        tx.put(&entry, "signer", "p1")?;
        tx.put(&entry, "at", automerge::ScalarValue::Timestamp(0))?;
        tx.put(&entry, "mode", mode)?;
        tx.put(&entry, "consentNote", consent)?;
        tx.put(&entry, "recordedBy", "mallory")?;
        Ok::<_, automerge::AutomergeError>(())
    })
    .expect("raw signing written");
}

fn current_heads(doc: &Automerge) -> Vec<String> {
    doc.get_heads().iter().map(ToString::to_string).collect()
}

fn validation_reason(doc: &Automerge) -> String {
    match validate(doc) {
        Err(SchemaError::Rule(reason)) => reason.to_string(),
        Err(SchemaError::Field { path, reason }) => format!("field {path}: {reason}"),
        other => panic!("expected an invalid state, got {other:?}"),
    }
}

/// A row of the table of invalid states: the stage to start from, a breaking edit below the
/// workflow's rules, and words of the reason `validate` gives.
type StateRow = (Stage, fn(&mut Automerge), &'static str);

fn force(doc: &mut Automerge, stage: Stage) {
    case::set_stage_raw(doc, stage, &anna(), march(9, 9)).expect("stage forced");
}

#[test]
fn invalid_states_are_refused_with_the_reason() {
    let table: &[StateRow] = &[
        (
            Stage::Ipp,
            |d| {
                case::set_contract_text(d, "School.", &anna(), march(9, 8)).expect("text");
                let heads = current_heads(d);
                raw_signing(d, heads, "in_person", "");
            },
            "without a plan",
        ),
        (
            Stage::Contract,
            |d| {
                let heads = current_heads(d);
                raw_signing(d, heads, "in_person", "");
            },
            "empty contract",
        ),
        (
            Stage::Contract,
            |d| {
                case::set_contract_text(d, "School.", &anna(), march(9, 8)).expect("text");
                let heads = current_heads(d);
                raw_signing(d, heads, "phone", "");
            },
            "without a recorded consent",
        ),
        (
            Stage::Contract,
            |d| raw_signing(d, vec!["ab".repeat(32)], "in_person", ""),
            "does not hold",
        ),
        (
            Stage::Ipp,
            |d| force(d, Stage::Contract),
            "contract has no IPP goal",
        ),
        (
            Stage::Diagnosis,
            |d| force(d, Stage::Evaluation),
            "evaluation has no IPP goal",
        ),
        (
            Stage::Contract,
            |d| force(d, Stage::Delivery),
            "delivery has no signed contract",
        ),
        (
            Stage::Evaluation,
            |d| force(d, Stage::HandedOver),
            "no hand-over target",
        ),
    ];
    for (from, breaker, words) in table {
        let mut doc = walk_to(*from);
        breaker(&mut doc);
        let reason = validation_reason(&doc);
        assert!(reason.contains(words), "{from}: {reason}");
    }
}

#[test]
fn every_state_on_the_way_validates() {
    for stage in Stage::ALL {
        let doc = walk_to(*stage);
        assert_eq!(
            validate(&doc).expect("valid"),
            DocumentKind::Case,
            "{stage}"
        );
    }
    let mut closed_early = walk_to(Stage::Screening);
    not_qualify(&mut closed_early);
    workflow::transition(&mut closed_early, Stage::Closed, &anna(), march(1, 11)).expect("closed");
    validate(&closed_early).expect("a case closed after screening is valid");
}

#[test]
fn an_invalid_value_hidden_in_a_stage_conflict_is_still_refused() {
    let base = walk_to(Stage::Screening);
    let mut valid = fork_as(&base, "anna-tablet-2");
    let mut broken = fork_as(&base, "mallory-tablet");
    not_qualify(&mut valid);
    workflow::transition(&mut valid, Stage::Closed, &anna(), march(1, 11)).expect("closed");
    force(&mut broken, Stage::Contract);
    valid.merge(&mut broken).expect("merges");
    assert_eq!(case::stage(&valid).expect("stage").value, Stage::Closed);
    let reason = validation_reason(&valid);
    assert!(reason.contains("contract has no IPP goal"), "{reason}");
}

// ---------------------------------------------------------------------------------------------
// History

#[test]
fn changes_between_two_versions_list_what_changed_who_and_when() {
    let mut gops = walk_to(Stage::Diagnosis);
    let last_visit = gops.get_heads();
    let mut school = fork_as(&gops, "jan-tablet");
    let mut health = fork_as(&gops, "ola-tablet");
    case::set_diagnosis_section(
        &mut school,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        at(4, 1, 8),
    )
    .expect("school");
    case::set_diagnosis_section(
        &mut health,
        DiagnosisSector::Health,
        "Mother: chronic illness.",
        &ola(),
        at(3, 31, 8),
    )
    .expect("health");
    merge(&mut gops, &school);
    merge(&mut gops, &health);
    workflow::transition(&mut gops, Stage::Ipp, &anna(), at(4, 2, 8)).expect("ipp");

    let since = history::changes_between(&gops, &last_visit, &gops.get_heads()).expect("history");
    let seen: Vec<(Option<&str>, Option<&str>, &str, &str)> = since
        .iter()
        .map(|e| {
            (
                e.author.as_deref(),
                e.institution.as_deref(),
                e.summary.as_str(),
                e.local_time.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                Some("ola"),
                Some("poz"),
                "diagnosis/health: updated",
                "2021-03-31 10:00 CEST"
            ),
            (
                Some("jan"),
                Some("sp-1"),
                "diagnosis/education: updated",
                "2021-04-01 10:00 CEST"
            ),
            (
                Some("anna"),
                Some("gops"),
                "stage: diagnosis -> ipp",
                "2021-04-02 10:00 CEST"
            ),
        ]
    );
    assert_eq!(since[1].actor, actor("jan-tablet"));
    assert_eq!(since[1].at, at(4, 1, 8));

    let whole = history::changes_between(&gops, &[], &gops.get_heads()).expect("history");
    assert_eq!(whole.len(), gops.get_changes(&[]).len());
    assert_eq!(whole[0].summary, "case created: referral from sp-1");
    assert!(
        history::changes_between(&gops, &gops.get_heads(), &last_visit)
            .expect("history")
            .is_empty()
    );
    let concurrent =
        history::changes_between(&gops, &school.get_heads(), &health.get_heads()).expect("history");
    assert_eq!(concurrent.len(), 1, "only the health change");
    assert_eq!(concurrent[0].author.as_deref(), Some("ola"));
}

#[test]
fn versions_a_document_does_not_hold_are_refused() {
    let doc = referral();
    let mut elsewhere = fork_as(&doc, "jan-tablet");
    workflow::transition(&mut elsewhere, Stage::Screening, &jan(), march(1, 10)).expect("moved");
    let unknown = elsewhere.get_heads();
    let reason = rule_reason(history::changes_between(&doc, &unknown, &doc.get_heads()));
    assert!(reason.contains("not in this document"), "{reason}");
    let reason = rule_reason(history::case_at(&doc, &unknown));
    assert!(reason.contains("not in this document"), "{reason}");
}

#[test]
fn changes_from_other_clients_are_listed_without_an_author() {
    let mut doc = referral();
    let before = doc.get_heads();
    doc.transact(|tx| tx.put(ROOT, "clientNote", "from a JS client"))
        .expect("a raw change");
    let since = history::changes_between(&doc, &before, &doc.get_heads()).expect("history");
    assert_eq!(since.len(), 1);
    assert_eq!(
        (since[0].author.as_deref(), since[0].summary.as_str()),
        (None, "")
    );
    assert_eq!(since[0].local_time, "1970-01-01 01:00 CET");
}
