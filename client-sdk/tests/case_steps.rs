//! Anna takes a family's case from referral to hand-over on her tablet with the SDK's typed
//! calls alone (no generic `Tablet::edit`): the contract accepted by video with the recorded
//! consent, consent to share with the police, a consultation asked and answered, the next
//! visit, the PZK's 9.2 decision and the hand-over. What the rules refuse comes back with the
//! model's code and its Polish text, and the stage bar says why a move is blocked.

use chrono::NaiveDate;
use client_sdk::{SdkError, Tablet, TabletKey};
use kooperacja_test_support::{config, create_referred_case, goal_plan};
use sync_core::model::case::{
    ConsentEvent, ConsentState, DiagnosisSector, HandoverTarget, PzkDecision, ScreeningOutcome,
    Signature, SigningMode, Stage,
};
use sync_core::{Coded, DocumentId};

async fn open(dir: &std::path::Path) -> Tablet {
    Tablet::open(config(dir, &TabletKey::random(), "tablet-1", "anna"))
        .await
        .expect("tablet opens")
}

/// Anna's case walked to the contract stage, with the contract's text written.
async fn case_at_contract(tablet: &Tablet) -> DocumentId {
    let case = create_referred_case(tablet).await;
    tablet
        .move_to_stage(case, Stage::Screening)
        .await
        .expect("screening");
    tablet
        .set_screening(
            case,
            ScreeningOutcome::Qualified,
            "Rodzina chce współpracować.",
        )
        .await
        .expect("screening decision");
    tablet
        .move_to_stage(case, Stage::Diagnosis)
        .await
        .expect("diagnosis");
    tablet
        .set_diagnosis(case, DiagnosisSector::Education, "Nieobecności 30%.")
        .await
        .expect("diagnosis written");
    tablet.move_to_stage(case, Stage::Ipp).await.expect("ipp");
    tablet
        .upsert_goal(case, "g1", goal_plan())
        .await
        .expect("goal");
    tablet
        .move_to_stage(case, Stage::Contract)
        .await
        .expect("contract");
    tablet
        .set_contract_text(case, "Kuba chodzi do szkoły codziennie.")
        .await
        .expect("contract text");
    case
}

fn refused_with(result: Result<impl std::fmt::Debug, SdkError>) -> SdkError {
    result.expect_err("refused by the rules")
}

#[tokio::test]
async fn a_case_goes_from_referral_to_hand_over_with_typed_calls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tablet = open(dir.path()).await;
    let case = case_at_contract(&tablet).await;

    // Accepted by video without the recorded consent: refused, in Polish, with the code.
    let mut by_video = Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::Video,
        consent_note: String::new(),
    };
    let refused = refused_with(tablet.sign_contract(case, by_video.clone()).await);
    assert_eq!(refused.code(), "contract.remote-without-consent");
    assert_eq!(
        refused.message_pl(),
        "Kontrakt zaakceptowany zdalnie (wideo) wymaga notatki o wyrażonej zgodzie."
    );
    // The stage bar: delivery is blocked until the contract is signed, and says so.
    let moves = tablet.stage_moves(case).await.expect("moves");
    let delivery = &moves
        .iter()
        .find(|(to, _)| *to == Stage::Delivery)
        .expect("offered")
        .1;
    let blocked = delivery.as_ref().expect_err("blocked");
    assert_eq!(blocked.code(), "contract.not-signed");
    assert_eq!(
        blocked.message_pl(),
        "Realizacja zaczyna się po podpisaniu kontraktu."
    );

    by_video.consent_note = "Kontrakt odczytany na wideo; Maria go akceptuje.".to_owned();
    let heads = tablet.sign_contract(case, by_video).await.expect("signed");
    assert!(!heads.is_empty());
    let moves = tablet.stage_moves(case).await.expect("moves");
    assert!(moves
        .iter()
        .any(|(to, open)| *to == Stage::Delivery && open.is_ok()));
    tablet
        .move_to_stage(case, Stage::Delivery)
        .await
        .expect("delivery");

    let consent = ConsentEvent {
        institution: "policja".to_owned(),
        purpose: "konsultacja".to_owned(),
        state: ConsentState::Given,
        by: "p1".to_owned(),
    };
    let consent_id = tablet.record_consent(case, consent).await.expect("consent");
    let asked = tablet
        .ask_consultation(case, "Czy były interwencje w domu?")
        .await
        .expect("asked");
    let answer_id = tablet
        .answer_consultation(case, &asked, "Nie odnotowano.")
        .await
        .expect("answered");
    let unknown = refused_with(tablet.answer_consultation(case, "c-none", "?").await);
    assert_eq!(unknown.code(), "field.invalid");
    let visit = NaiveDate::from_ymd_opt(2021, 3, 20).expect("date");
    tablet
        .set_next_visit(case, Some(visit))
        .await
        .expect("next visit");

    tablet
        .move_to_stage(case, Stage::Evaluation)
        .await
        .expect("evaluation");
    let refused = refused_with(tablet.move_to_stage(case, Stage::Closed).await);
    assert_eq!(refused.code(), "evaluation.missing");
    tablet
        .set_evaluation(case, "Frekwencja wróciła do normy.")
        .await
        .expect("evaluation");
    tablet
        .set_pzk_decision(case, PzkDecision::End, Some("m-3"))
        .await
        .expect("9.2 decision");
    let refused = refused_with(tablet.move_to_stage(case, Stage::HandedOver).await);
    assert_eq!(refused.code(), "handover.no-target");
    let target = HandoverTarget {
        institution: "pcpr".to_owned(),
        worker: Some("ewa".to_owned()),
    };
    tablet
        .set_handover(case, target, "PCPR przejmuje rodzinę.")
        .await
        .expect("hand-over");
    tablet
        .move_to_stage(case, Stage::HandedOver)
        .await
        .expect("handed over");

    let view = tablet.case(case).await.expect("the case");
    assert_eq!(view.stage.value, Stage::HandedOver);
    assert_eq!(view.contract.signatures.len(), 1);
    assert_eq!(
        view.contract.signatures[0].signature.mode,
        SigningMode::Video
    );
    assert!(view.consent_in_force("policja", "konsultacja"));
    assert!(view.consents.contains_key(&consent_id));
    let consultation = &view.consultations[&asked];
    assert_eq!(consultation.request.asked_by, "anna");
    assert_eq!(
        consultation.answers[&answer_id].answer.text,
        "Nie odnotowano."
    );
    assert_eq!(view.next_visit, Some(visit));
    let decision = view.pzk_decision.expect("decided");
    assert_eq!(
        (decision.decision.value, decision.meeting.as_deref()),
        (PzkDecision::End, Some("m-3"))
    );
    let handover = view.handover.expect("handed over");
    assert_eq!(
        (handover.target.as_str(), handover.target_worker.as_deref()),
        ("pcpr", Some("ewa"))
    );
    // Final: the stage bar offers nothing.
    assert!(tablet.stage_moves(case).await.expect("moves").is_empty());
    tablet.shutdown().await;
}
