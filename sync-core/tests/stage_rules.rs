//! The stage rules of the case workflow: the table of allowed moves, every other move refused
//! with nothing written, what each allowed move needs, and a move's trace in the history.

use std::collections::BTreeSet;

use automerge::Automerge;
use kooperacja_test_support::nowak::*;
use sync_core::model::case::{self, PzkDecision, Stage};
use sync_core::model::{history, validate, workflow, Conflict};

// ---------------------------------------------------------------------------------------------
// Stage rules

/// Every allowed move, as the workflow documents it.
const ALLOWED: &[(Stage, Stage)] = &[
    (Stage::Referral, Stage::Screening),
    (Stage::Screening, Stage::Diagnosis),
    (Stage::Screening, Stage::Closed),
    (Stage::Diagnosis, Stage::Ipp),
    (Stage::Ipp, Stage::Contract),
    (Stage::Ipp, Stage::Diagnosis),
    (Stage::Contract, Stage::Delivery),
    (Stage::Contract, Stage::Ipp),
    (Stage::Contract, Stage::Diagnosis),
    (Stage::Delivery, Stage::Evaluation),
    (Stage::Delivery, Stage::Diagnosis),
    (Stage::Evaluation, Stage::Closed),
    (Stage::Evaluation, Stage::HandedOver),
    (Stage::Evaluation, Stage::Delivery),
    (Stage::Evaluation, Stage::Diagnosis),
];

#[test]
fn the_table_of_allowed_moves_is_the_documented_one() {
    for from in Stage::ALL {
        for to in Stage::ALL {
            assert_eq!(
                workflow::is_allowed(*from, *to),
                ALLOWED.contains(&(*from, *to)),
                "{from} -> {to}"
            );
        }
    }
}

#[test]
fn every_move_the_table_does_not_allow_is_refused_and_writes_nothing() {
    let mut refused = 0;
    for from in Stage::ALL {
        let mut doc = walk_to(*from);
        let heads = doc.get_heads();
        for to in Stage::ALL {
            if ALLOWED.contains(&(*from, *to)) {
                continue;
            }
            let reason = rule_reason(workflow::transition(&mut doc, *to, &anna(), march(9, 9)));
            let expected = if from == to {
                "already at stage"
            } else if matches!(from, Stage::Closed | Stage::HandedOver) {
                "is final"
            } else {
                "cannot move"
            };
            assert!(reason.contains(expected), "{from} -> {to}: {reason}");
            assert_eq!(doc.get_heads(), heads, "{from} -> {to} wrote a change");
            refused += 1;
        }
    }
    assert_eq!(refused, 81 - ALLOWED.len());
}

/// A row of the table of allowed moves: the stage, what is done at it first, the move, and the
/// expected outcome (`Ok`, or `Err` with words of the reason).
type MoveRow = (Stage, fn(&mut Automerge), Stage, Result<(), &'static str>);

fn nothing(_: &mut Automerge) {}

fn sign_then_amend(doc: &mut Automerge) {
    sign(doc);
    amend_contract(doc);
}

fn evaluate_and_continue(doc: &mut Automerge) {
    evaluate(doc);
    decide(doc, PzkDecision::Continue);
}

#[test]
fn allowed_moves_check_what_they_need() {
    use Stage::*;
    let table: &[MoveRow] = &[
        (Referral, nothing, Screening, Ok(())),
        (Screening, nothing, Diagnosis, Err("decision to proceed")),
        (
            Screening,
            not_qualify,
            Diagnosis,
            Err("decision to proceed"),
        ),
        (Screening, qualify, Diagnosis, Ok(())),
        (Screening, nothing, Closed, Err("decision not to proceed")),
        (Screening, qualify, Closed, Err("decision not to proceed")),
        (Screening, not_qualify, Closed, Ok(())),
        (Diagnosis, nothing, Ipp, Err("diagnosis sector")),
        (Diagnosis, write_diagnosis, Ipp, Ok(())),
        (Ipp, nothing, Contract, Err("at least one goal")),
        (Ipp, add_goal, Contract, Ok(())),
        (Ipp, nothing, Diagnosis, Ok(())),
        (
            Contract,
            nothing,
            Delivery,
            Err("once the contract is signed"),
        ),
        (
            Contract,
            sign_then_amend,
            Delivery,
            Err("changed since it was signed"),
        ),
        (Contract, sign, Delivery, Ok(())),
        (Contract, nothing, Ipp, Ok(())),
        (Contract, nothing, Diagnosis, Ok(())),
        (Delivery, nothing, Evaluation, Ok(())),
        (Delivery, nothing, Diagnosis, Ok(())),
        (Evaluation, nothing, Delivery, Err("to continue")),
        (Evaluation, end_support, Delivery, Err("to continue")),
        (Evaluation, evaluate_and_continue, Delivery, Ok(())),
        (Evaluation, nothing, Closed, Err("evaluation (9.1)")),
        (Evaluation, evaluate, Closed, Err("to end")),
        (Evaluation, evaluate_and_continue, Closed, Err("to end")),
        (Evaluation, end_support, Closed, Ok(())),
        (Evaluation, end_support, HandedOver, Err("target")),
        (Evaluation, evaluate_and_continue, HandedOver, Err("to end")),
        (
            Evaluation,
            |d| {
                end_support(d);
                set_target(d)
            },
            HandedOver,
            Ok(()),
        ),
        (Evaluation, nothing, Diagnosis, Ok(())),
    ];
    for (from, setup, to, expected) in table {
        check_move(*from, *setup, *to, *expected);
    }
    let moves: BTreeSet<(Stage, Stage)> = table.iter().map(|(f, _, t, _)| (*f, *t)).collect();
    assert_eq!(moves.len(), ALLOWED.len(), "every allowed move has a row");
}

fn check_move(from: Stage, setup: fn(&mut Automerge), to: Stage, expected: Result<(), &str>) {
    let mut doc = walk_to(from);
    setup(&mut doc);
    let heads = doc.get_heads();
    let result = workflow::transition(&mut doc, to, &anna(), march(9, 9));
    match expected {
        Ok(()) => {
            result.unwrap_or_else(|err| panic!("{from} -> {to}: {err}"));
            assert_eq!(case::stage(&doc).expect("stage"), Conflict::settled(to));
            validate(&doc).unwrap_or_else(|err| panic!("{from} -> {to} is valid: {err}"));
        }
        Err(words) => {
            let reason = rule_reason(result);
            assert!(reason.contains(words), "{from} -> {to}: {reason}");
            assert_eq!(doc.get_heads(), heads, "{from} -> {to} wrote a change");
        }
    }
}

#[test]
fn a_move_names_both_stages_and_its_author_in_the_history() {
    let mut doc = walk_to(Stage::Delivery);
    let before = doc.get_heads();
    workflow::transition(&mut doc, Stage::Evaluation, &jan(), march(6, 9)).expect("moved");
    let entries = history::changes_between(&doc, &before, &doc.get_heads()).expect("history");
    let entry = entries.first().expect("one change");
    assert_eq!(entries.len(), 1);
    assert_eq!(entry.summary, "stage: delivery -> evaluation");
    assert_eq!(
        (entry.author.as_deref(), entry.institution.as_deref()),
        (Some("jan"), Some("sp-1"))
    );
    assert_eq!(
        (entry.at, entry.local_time.as_str()),
        (march(6, 9), "2021-03-06 10:00 CET")
    );
}
