//! The case workflow of the Model Kooperacji: which stage may follow which, what each move
//! needs, how concurrent stage changes are shown, and which document states are invalid.
//!
//! One definition for the SDK, the server's validation and every client.
//!
//! # Stages and moves
//!
//! ```text
//! forward   referral ─► screening ─► diagnosis ─► ipp ─► contract ─► delivery ─► evaluation ─┬─► closed
//!                           │                                                                 └─► handed_over
//!                           └─► closed            (screening decision: do not proceed)
//! returns   ipp, contract, delivery, evaluation ─► diagnosis   (circumstances changed)
//!           contract ─► ipp                                     (plan reworked before signing)
//!           evaluation ─► delivery                              (9.2: the PZK continues support)
//! final     closed, handed_over
//! ```
//!
//! | from | to | kind | needs |
//! | --- | --- | --- | --- |
//! | referral | screening | forward | — |
//! | screening | diagnosis | forward | a settled screening decision to proceed (`qualified`) |
//! | screening | closed | not taken in | a settled screening decision not to proceed (`not_qualified`) |
//! | diagnosis | ipp | forward | at least one diagnosis sector written |
//! | ipp | contract | forward | at least one IPP goal |
//! | ipp | diagnosis | return | — |
//! | contract | delivery | forward | a signed contract, unchanged since its latest signing |
//! | contract | ipp | return: the plan is reworked before signing | — |
//! | contract | diagnosis | return | — |
//! | delivery | evaluation | forward | — |
//! | delivery | diagnosis | return | — |
//! | evaluation | closed | forward (9.3) | the evaluation (9.1) written and a settled 9.2 decision to end |
//! | evaluation | handed_over | forward (9.3) | as for closed, and a hand-over target |
//! | evaluation | delivery | continue (9.2) | a settled 9.2 decision to continue |
//! | evaluation | diagnosis | return | — |
//! | closed, handed_over | — | final | — |
//!
//! A return to the diagnosis is allowed from every stage between the IPP and the evaluation:
//! circumstances of a family change (a crisis, a move, a new member), and the plan then starts
//! again from a new diagnosis. Everything written so far stays; goals and signings are never
//! removed. [`transition`] refuses every other move, any move while the stage is in conflict,
//! and a move whose needs are not met, with [`SchemaError::Rule`] and the reason.
//! [`check_transition`] answers the same question without writing, for a UI to show which
//! moves are open. Moves are checked against the replica's own state: two replicas may each
//! make a valid move concurrently, and the merge then holds a stage conflict.
//!
//! # Concurrent stage changes
//!
//! When replicas change the stage without seeing each other's change, Automerge keeps every
//! value. The case shows **the value furthest along the workflow**, in the order of [`Stage`]
//! (referral < screening < diagnosis < ipp < contract < delivery < evaluation < closed <
//! handed_over), and lists the others as alternatives, furthest first ([`resolve`]). The
//! resolution depends only on the set of values, never on the order replicas merged in or on
//! actor ids, so every replica shows the same stage. The values differ, so there are no ties.
//! A JavaScript client reproduces it from `getConflicts(doc, "stage")`: take the value with the
//! highest rank. The shown value is *not* Automerge's own winner, which a plain `doc.stage`
//! read returns. A conflicted stage is for a person to confirm with [`resolve_stage`], which
//! writes the chosen value over every concurrent one.
//!
//! # Invalid states
//!
//! [`validate`](crate::model::validate) refuses a case whose state breaks these rules, with
//! [`SchemaError::Rule`] and the reason:
//!
//! 1. every contract signing was made on a plan: at its heads the IPP had a goal and the
//!    contract had text; a remote signing (phone, video) carries the recorded consent;
//! 2. every stage value from `contract` on (`contract`, `delivery`, `evaluation`,
//!    `handed_over`) has at least one IPP goal;
//! 3. every stage value `delivery`, `evaluation` or `handed_over` has a signed contract;
//! 4. every stage value `handed_over` has a hand-over target;
//! 5. (checked when reading) every signed head is a change the document holds.
//!
//! `closed` has no rule of its own: a case is closed either after the screening (with no plan)
//! or after the evaluation.
//!
//! Every state reachable through the edit functions passes, and so does every merge of valid
//! states: goals, signings and the hand-over target are never removed by any edit, so what
//! made a stage valid on one replica stays true after a merge. Concurrent moves leave a stage
//! conflict each of whose values is valid; it is accepted and shown as a conflict. Needs that
//! later edits may legitimately change (the screening decision, the evaluation text, the 9.2
//! decision, a contract amended after signing) are checked when the move is made, not as a
//! state rule, so a merge never turns them into a rejected document.

use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::contract::{contract_changed_since_signed, contract_text_at, goal_count_at};
use super::read::read_case;
pub use super::stage::resolve;
use super::stage::{stage, write_stage};
use super::types::{
    CaseView, PzkDecision, ScreeningOutcome, Signature, SignatureView, SigningMode, Stage,
};
use crate::error::{RuleViolation, SchemaError};
use crate::model::conflict::Conflict;
use crate::model::editor::{self, Editor};

/// The stages a case at `from` may move to, forward moves first.
///
/// `closed` and `handed_over` are final: nothing follows them.
pub fn allowed_moves(from: Stage) -> &'static [Stage] {
    use Stage::*;
    match from {
        Referral => &[Screening],
        Screening => &[Diagnosis, Closed],
        Diagnosis => &[Ipp],
        Ipp => &[Contract, Diagnosis],
        Contract => &[Delivery, Ipp, Diagnosis],
        Delivery => &[Evaluation, Diagnosis],
        Evaluation => &[Closed, HandedOver, Delivery, Diagnosis],
        Closed | HandedOver => &[],
    }
}

/// Whether the workflow allows a move from `from` to `to` at all, whatever the case holds.
pub fn is_allowed(from: Stage, to: Stage) -> bool {
    allowed_moves(from).contains(&to)
}

/// Whether the case could move to `to` now: the move is allowed from its stage, the stage is not
/// in conflict, and what the move needs is there. Returns the stage the case would move from.
pub fn check_transition(doc: &Automerge, to: Stage) -> Result<Stage, SchemaError> {
    let case = read_case(doc)?;
    let from = settled_stage(&case.stage)?;
    check_move(from, to)?;
    check_needs(doc, &case, from, to)?;
    Ok(from)
}

/// A move the stage bar offers: the stage, and `Ok` when the case may move there now, or the
/// reason it may not.
pub type StageMove = (Stage, Result<(), SchemaError>);

/// The moves the workflow offers from the case's stage (from each concurrent value while the
/// stage is in conflict, in the order shown), each open (`Ok`) or blocked with the reason
/// [`check_transition`] gives; for a stage bar that says why a move is not offered.
pub fn moves(doc: &Automerge) -> Result<Vec<StageMove>, SchemaError> {
    let current = stage(doc)?;
    let mut targets: Vec<Stage> = Vec::new();
    for to in current.all().flat_map(|from| allowed_moves(*from)) {
        if !targets.contains(to) {
            targets.push(*to);
        }
    }
    Ok(targets
        .into_iter()
        .map(|to| (to, check_transition(doc, to).map(|_| ())))
        .collect())
}

/// Moves the case to stage `to` as one change by `by` at `at`, after [`check_transition`].
pub fn transition(
    doc: &mut Automerge,
    to: Stage,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let from = check_transition(doc, to)?;
    let message = editor::message(format_args!("stage: {from} -> {to}"), by);
    write_stage(doc, to, message, at)
}

/// Settles a stage conflict: writes `chosen`, one of the concurrent values, over all of them.
///
/// Refused when the stage is not in conflict (move it with [`transition`]) or when `chosen` is
/// not one of the concurrent values (confirm one of them first, then move).
pub fn resolve_stage(
    doc: &mut Automerge,
    chosen: Stage,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let found = stage(doc)?;
    if !found.is_conflicted() {
        return Err(rule(RuleViolation::StageNotConflicted(
            found.value.as_str(),
        )));
    }
    if !found.all().any(|stage| *stage == chosen) {
        return Err(rule(RuleViolation::StageNotConcurrent {
            chosen: chosen.as_str(),
            stages: list(found.all()),
        }));
    }
    let others = list(found.all().filter(|stage| **stage != chosen));
    let message = editor::message(
        format_args!("stage: {chosen} confirmed (concurrent: {others})"),
        by,
    );
    write_stage(doc, chosen, message, at)
}

/// Checks the rules every state of a case keeps (see the module documentation).
pub(crate) fn check_state(doc: &Automerge, case: &CaseView) -> Result<(), SchemaError> {
    for (index, signing) in case.contract.signatures.iter().enumerate() {
        check_signing(doc, index, signing)?;
    }
    for stage in case.stage.all() {
        check_stage_state(case, *stage)?;
    }
    Ok(())
}

/// A signing was made on a plan and an agreed text, and remote acceptance has its consent.
fn check_signing(
    doc: &Automerge,
    index: usize,
    signing: &SignatureView,
) -> Result<(), SchemaError> {
    if goal_count_at(doc, &signing.heads)? == 0 {
        return Err(rule(RuleViolation::SigningWithoutPlan(index)));
    }
    if contract_text_at(doc, &signing.heads)?.trim().is_empty() {
        return Err(rule(RuleViolation::SigningEmptyContract(index)));
    }
    let Signature {
        mode, consent_note, ..
    } = &signing.signature;
    if *mode != SigningMode::InPerson && consent_note.trim().is_empty() {
        return Err(rule(RuleViolation::SigningRemoteWithoutConsent(
            index,
            mode.as_str(),
        )));
    }
    Ok(())
}

fn check_stage_state(case: &CaseView, stage: Stage) -> Result<(), SchemaError> {
    use Stage::*;
    let needs_goals = matches!(stage, Contract | Delivery | Evaluation | HandedOver);
    if needs_goals && case.goals.is_empty() {
        return Err(rule(RuleViolation::StageWithoutGoal(stage.as_str())));
    }
    let needs_signing = matches!(stage, Delivery | Evaluation | HandedOver);
    if needs_signing && case.contract.signatures.is_empty() {
        return Err(rule(RuleViolation::StageWithoutSigning(stage.as_str())));
    }
    if stage == HandedOver && case.handover.is_none() {
        return Err(rule(RuleViolation::HandedOverWithoutTarget));
    }
    Ok(())
}

/// The stage a move starts from: refused while replicas disagree on it.
fn settled_stage(stage: &Conflict<Stage>) -> Result<Stage, SchemaError> {
    if stage.is_conflicted() {
        return Err(rule(RuleViolation::StageConflicted(list(stage.all()))));
    }
    Ok(stage.value)
}

fn check_move(from: Stage, to: Stage) -> Result<(), SchemaError> {
    if is_allowed(from, to) {
        return Ok(());
    }
    let allowed = allowed_moves(from);
    let violation = if from == to {
        RuleViolation::AlreadyThere(to.as_str())
    } else if allowed.is_empty() {
        RuleViolation::Final {
            from: from.as_str(),
            to: to.as_str(),
        }
    } else {
        RuleViolation::MoveNotAllowed {
            from: from.as_str(),
            to: to.as_str(),
            allowed: list(allowed.iter()),
        }
    };
    Err(rule(violation))
}

/// What a move needs from the case, beyond being allowed.
fn check_needs(
    doc: &Automerge,
    case: &CaseView,
    from: Stage,
    to: Stage,
) -> Result<(), SchemaError> {
    use Stage::*;
    match (from, to) {
        (Screening, Diagnosis) => needs_screening(case, ScreeningOutcome::Qualified, to),
        (Screening, Closed) => needs_screening(case, ScreeningOutcome::NotQualified, to),
        (Diagnosis, Ipp) => needs_diagnosis(case),
        (Ipp, Contract) => needs_goal(case),
        (Contract, Delivery) => needs_signed_contract(doc, case),
        (Evaluation, Delivery) => needs_decision(case, PzkDecision::Continue, to),
        (Evaluation, Closed) => needs_end(case, to),
        (Evaluation, HandedOver) => {
            needs_end(case, to)?;
            needs_handover(case)
        }
        _ => Ok(()),
    }
}

fn needs_screening(
    case: &CaseView,
    wanted: ScreeningOutcome,
    to: Stage,
) -> Result<(), SchemaError> {
    match &case.screening.outcome {
        Some(outcome) if outcome.is_conflicted() => Err(rule(RuleViolation::ScreeningConflicted {
            to: to.as_str(),
            values: sorted_list(outcome.all()),
        })),
        Some(outcome) if outcome.value == wanted => Ok(()),
        _ => Err(rule(RuleViolation::ScreeningMissing {
            to: to.as_str(),
            decision: wanted.as_str(),
        })),
    }
}

fn needs_diagnosis(case: &CaseView) -> Result<(), SchemaError> {
    if case.diagnosis.values().all(|text| text.trim().is_empty()) {
        return Err(rule(RuleViolation::DiagnosisEmpty));
    }
    Ok(())
}

fn needs_goal(case: &CaseView) -> Result<(), SchemaError> {
    if case.goals.is_empty() {
        return Err(rule(RuleViolation::IppWithoutGoal));
    }
    Ok(())
}

fn needs_signed_contract(doc: &Automerge, case: &CaseView) -> Result<(), SchemaError> {
    if case.contract.signatures.is_empty() {
        return Err(rule(RuleViolation::ContractNotSigned));
    }
    if contract_changed_since_signed(doc)? {
        return Err(rule(RuleViolation::ContractChangedSinceSigned));
    }
    Ok(())
}

fn needs_decision(case: &CaseView, wanted: PzkDecision, to: Stage) -> Result<(), SchemaError> {
    match &case.pzk_decision {
        Some(decision) if decision.decision.is_conflicted() => {
            Err(rule(RuleViolation::DecisionConflicted {
                to: to.as_str(),
                values: sorted_list(decision.decision.all()),
            }))
        }
        Some(decision) if decision.decision.value == wanted => Ok(()),
        _ => Err(rule(RuleViolation::DecisionMissing {
            to: to.as_str(),
            decision: wanted.as_str(),
        })),
    }
}

fn needs_end(case: &CaseView, to: Stage) -> Result<(), SchemaError> {
    if case.evaluation.text.trim().is_empty() {
        return Err(rule(RuleViolation::EvaluationMissing(to.as_str())));
    }
    needs_decision(case, PzkDecision::End, to)
}

fn needs_handover(case: &CaseView) -> Result<(), SchemaError> {
    if case.handover.is_none() {
        return Err(rule(RuleViolation::HandoverWithoutTarget));
    }
    Ok(())
}

fn rule(violation: RuleViolation) -> SchemaError {
    SchemaError::Rule(violation)
}

/// Values as a comma-separated list, for messages.
fn list<'a, T: std::fmt::Display + 'a>(values: impl Iterator<Item = &'a T>) -> String {
    values
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Concurrent values as a sorted comma-separated list: the same on every replica and in the
/// TypeScript model, whatever order Automerge lists them in.
fn sorted_list<'a, T: std::fmt::Display + 'a>(values: impl Iterator<Item = &'a T>) -> String {
    let mut words: Vec<String> = values.map(ToString::to_string).collect();
    words.sort();
    words.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_order_is_the_workflow_order() {
        use Stage::*;
        let order = [
            Referral, Screening, Diagnosis, Ipp, Contract, Delivery, Evaluation, Closed, HandedOver,
        ];
        assert_eq!(Stage::ALL, order);
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn resolution_takes_the_furthest_value_whatever_the_winner() {
        use Stage::*;
        let one = resolve(Conflict::new(Diagnosis, [Evaluation, Delivery]));
        let two = resolve(Conflict::new(Delivery, [Diagnosis, Evaluation, Diagnosis]));
        assert_eq!(one, two);
        assert_eq!(one.value, Evaluation);
        assert_eq!(one.alternatives, vec![Delivery, Diagnosis]);
        assert_eq!(resolve(Conflict::settled(Ipp)), Conflict::settled(Ipp));
    }

    #[test]
    fn every_forward_step_is_allowed_and_finals_allow_nothing() {
        for pair in Stage::ALL[..Stage::ALL.len() - 2].windows(2) {
            assert!(is_allowed(pair[0], pair[1]), "{} -> {}", pair[0], pair[1]);
        }
        assert!(is_allowed(Stage::Evaluation, Stage::HandedOver));
        assert!(allowed_moves(Stage::Closed).is_empty());
        assert!(allowed_moves(Stage::HandedOver).is_empty());
    }
}
