//! Concurrent stage changes: replicas that moved a case to different stages at once show the
//! furthest one with the others to confirm, and every merge order shows the same stage.

use std::collections::BTreeSet;

use automerge::Automerge;
use kooperacja_test_support::nowak::*;
use proptest::prelude::*;
use sync_core::model::case::{self, PzkDecision, Stage};
use sync_core::model::{workflow, Conflict};

// ---------------------------------------------------------------------------------------------
// Concurrent stage changes

/// Continue (9.2) on one device, re-diagnose on another, close on a third.
fn three_concurrent_moves() -> (Automerge, Automerge, Automerge) {
    let mut base = walk_to(Stage::Evaluation);
    end_support(&mut base);
    let mut close = fork_as(&base, "anna-tablet-2");
    let mut rediagnose = fork_as(&base, "jan-tablet");
    let mut cont = fork_as(&base, "marta-laptop");
    workflow::transition(&mut close, Stage::Closed, &anna(), march(4, 9)).expect("closed");
    workflow::transition(&mut rediagnose, Stage::Diagnosis, &jan(), march(4, 9))
        .expect("back to diagnosis");
    decide(&mut cont, PzkDecision::Continue);
    workflow::transition(&mut cont, Stage::Delivery, &marta(), march(4, 9)).expect("continued");
    (close, rediagnose, cont)
}

#[test]
fn concurrent_moves_show_the_furthest_stage_with_the_others_to_confirm() {
    let (close, rediagnose, cont) = three_concurrent_moves();
    let mut one = close.clone();
    merge(&mut one, &rediagnose);
    merge(&mut one, &cont);
    let mut two = cont.clone();
    merge(&mut two, &rediagnose);
    merge(&mut two, &close);
    let expected = Conflict {
        value: Stage::Closed,
        alternatives: vec![Stage::Delivery, Stage::Diagnosis],
    };
    for doc in [&one, &two] {
        assert_eq!(case::stage(doc).expect("stage"), expected);
        assert_eq!(case::read_case(doc).expect("reads").stage, expected);
        assert!(case::read_case(doc)
            .expect("reads")
            .conflicts()
            .contains(&"stage".to_owned()));
    }

    let reason = rule_reason(workflow::transition(
        &mut one,
        Stage::Evaluation,
        &anna(),
        march(5, 9),
    ));
    assert!(reason.contains("in conflict"), "{reason}");
    let reason = rule_reason(workflow::resolve_stage(
        &mut one,
        Stage::Ipp,
        &anna(),
        march(5, 9),
    ));
    assert!(
        reason.contains("not one of the concurrent stages"),
        "{reason}"
    );

    workflow::resolve_stage(&mut one, Stage::Diagnosis, &anna(), march(5, 9)).expect("confirmed");
    merge(&mut two, &one);
    for doc in [&one, &two] {
        assert_eq!(
            case::stage(doc).expect("stage"),
            Conflict::settled(Stage::Diagnosis)
        );
    }
    let reason = rule_reason(workflow::resolve_stage(
        &mut one,
        Stage::Diagnosis,
        &anna(),
        march(5, 10),
    ));
    assert!(reason.contains("not in conflict"), "{reason}");
}

/// A base case whose every stage value is a valid state: goals, a signed contract, the
/// evaluation, the decision to end and a hand-over target are all there.
fn base_for_any_stage() -> Automerge {
    let mut doc = walk_to(Stage::Evaluation);
    end_support(&mut doc);
    set_target(&mut doc);
    doc
}

fn stage_strategy() -> impl Strategy<Value = Stage> {
    proptest::sample::select(Stage::ALL.to_vec())
}

/// 2 to 4 forks, each writing 1 or 2 stages in a row; and for each replica the order in which
/// it merges the others.
fn forks_and_orders() -> impl Strategy<Value = (Vec<Vec<Stage>>, Vec<Vec<usize>>)> {
    proptest::collection::vec(proptest::collection::vec(stage_strategy(), 1..=2), 2..=4)
        .prop_flat_map(|writes| {
            let n = writes.len();
            let order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
            (
                Just(writes),
                proptest::collection::vec(order, n + 1..=n + 1),
            )
        })
}

/// The stage values a merge of all forks holds: the last value of every fork that wrote one.
///
/// Writing the value a replica already shows adds no operation (Automerge skips it), so a fork
/// whose writes never differ from the base's value keeps nothing of its own; when no fork wrote
/// anything, the base's value stays.
fn surviving_values(base: Stage, writes: &[Vec<Stage>]) -> BTreeSet<Stage> {
    let written: BTreeSet<Stage> = writes
        .iter()
        .filter(|stages| stages.iter().any(|stage| *stage != base))
        .filter_map(|stages| stages.last().copied())
        .collect();
    if written.is_empty() {
        [base].into()
    } else {
        written
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_merge_order_shows_the_same_stage(
        (writes, orders) in forks_and_orders()
    ) {
        let base = base_for_any_stage();
        let forks: Vec<Automerge> = writes
            .iter()
            .enumerate()
            .map(|(i, stages)| {
                let mut fork = fork_as(&base, &format!("device-{i}"));
                for (hour, stage) in (1..).zip(stages) {
                    case::set_stage_raw(&mut fork, *stage, &anna(), march(10, hour))
                        .expect("stage written");
                }
                fork
            })
            .collect();

        let mut descending: Vec<Stage> = surviving_values(Stage::Evaluation, &writes)
            .into_iter()
            .rev()
            .collect();
        let furthest = descending.remove(0);
        let expected = Conflict { value: furthest, alternatives: descending };

        // Replica i starts from fork i (the last order starts from the base) and merges the
        // forks in its own order.
        let mut shown = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let mut replica = forks.get(i).cloned().unwrap_or_else(|| base.clone());
            for j in order {
                merge(&mut replica, &forks[*j]);
            }
            shown.push(case::stage(&replica).expect("stage"));
        }
        prop_assert!(shown.windows(2).all(|pair| pair[0] == pair[1]), "{:?}", shown);
        prop_assert_eq!(&shown[0], &expected);
    }
}
