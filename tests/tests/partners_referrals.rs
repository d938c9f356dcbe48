//! Referrals (K7.2) over the real server: a school pedagogue refers a family to the GOPS of
//! their PZK while offline, a GOPS social worker accepts it and a case opens with the referral
//! linked and the referrer recorded; the referrer sees the outcome and its date and nothing of
//! the case; a decline carries its reason; a referral outside the referrer's PZK, or to an
//! institution that is not social services, is refused with its code.

use client_sdk::{ClientEvent, SdkError, Tablet};
use kooperacja_test_support::*;
use sync_core::model::case;
use sync_core::model::referral::ReferralStatus;
use sync_core::{Coded, DocumentId};

/// Waits until `tablet` holds `document` (it asks the server for its list first).
async fn wait_listed(tablet: &Tablet, document: DocumentId) {
    tablet.refresh_documents().expect("refresh");
    wait_holds(tablet, document).await;
}

/// Waits until the referral reads as `status` on `tablet`.
async fn wait_status_of(tablet: &Tablet, document: DocumentId, status: ReferralStatus) {
    let mut events = tablet.events();
    tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(view) = tablet.referral(document).await {
                if view.status.value == status {
                    return;
                }
            }
            let _ = events.recv().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the referral never reads as {status}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pedagogue_refers_a_family_offline_and_the_gops_worker_opens_a_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);

    // The school's pedagogue writes the referral with no connection.
    let (pedagogue, _p) = institution_tablet(&server, "szkola-rep", "szkola", false).await;
    let referral = pedagogue
        .refer(nowak_family("gops"))
        .await
        .expect("written");
    assert_eq!(
        pedagogue
            .referral(referral)
            .await
            .expect("reads")
            .status
            .value,
        ReferralStatus::Submitted
    );
    assert!(server.state.registry.record(&referral).is_none(), "offline");
    pedagogue.set_online(true).expect("online");
    wait_up_to_date(&pedagogue).await;
    let record = server.state.registry.record(&referral).expect("recorded");
    assert_eq!(record.referred_to.as_deref(), Some("gops"));

    // Anna, a social worker of the GOPS, finds it in her inbox and accepts it.
    let (anna, _a) = institution_tablet(&server, "anna", "gops", true).await;
    wait_listed(&anna, referral).await;
    let seen = anna.referral(referral).await.expect("reads");
    assert_eq!(
        (seen.by.as_str(), seen.institution.as_str()),
        ("szkola-rep", "szkola")
    );
    let case_id = anna.accept_referral(referral).await.expect("accepted");
    wait_up_to_date(&anna).await;

    // The case names the referrer and links the referral.
    let opened = anna.case(case_id).await.expect("the case");
    assert_eq!(opened.referral.by, "szkola-rep");
    assert_eq!(opened.referral.institution, "szkola");
    assert_eq!(opened.household["p1"].name, "Rodzina Nowaków");
    let linked = anna
        .read(case_id, |doc| Ok(case::referral_document(doc)?))
        .await
        .expect("reads");
    assert_eq!(linked, Some(referral.to_string()));
    assert_eq!(
        server.state.registry.record(&case_id).expect("case").owner,
        "anna"
    );

    // The pedagogue sees the outcome and its date, and nothing of the case.
    wait_status_of(&pedagogue, referral, ReferralStatus::Accepted).await;
    let outcome = pedagogue.referral(referral).await.expect("reads");
    assert_eq!(
        outcome.decision.as_ref().map(|d| d.by.as_str()),
        Some("anna")
    );
    let listed = server.state.registry.visible_to("szkola-rep");
    assert!(listed.iter().all(|(id, ..)| *id != case_id), "{listed:?}");
    let probe = tablet(&server, "szkola-rep", "szkola-probe");
    let mut probe_events = probe.events();
    probe.find(case_id).expect("find");
    wait_event(
        &mut probe_events,
        "the case is unavailable",
        |e| matches!(e, ClientEvent::Unavailable(d) if *d == case_id),
    )
    .await;

    // Deciding again is refused before any second case is opened.
    let again = anna.accept_referral(referral).await.expect_err("decided");
    assert!(matches!(&again, SdkError::Schema(_)), "{again:?}");
    assert_eq!(again.code(), "referral.already-decided");

    // The server audited the referral and its acceptance.
    let audit = audit_of(&server, referral);
    let statuses: Vec<String> = audit
        .iter()
        .filter(|r| r.kind == "referral")
        .map(|r| r.detail["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(statuses, ["submitted", "accepted"]);

    pedagogue.shutdown().await;
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_referral_tells_the_referrer_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let (police, _p) = institution_tablet(&server, "policja-rep", "policja", true).await;
    let referral = police.refer(nowak_family("gops")).await.expect("written");
    wait_up_to_date(&police).await;

    let (bartek, _b) = institution_tablet(&server, "bartek", "gops", true).await;
    wait_listed(&bartek, referral).await;
    let blank = bartek
        .decline_referral(referral, "  ")
        .await
        .expect_err("needs a reason");
    assert_eq!(blank.code(), "referral.decline-reason-required");
    bartek
        .decline_referral(
            referral,
            "Rodzina mieszka w innej gminie; przekazaliśmy do MOPS.",
        )
        .await
        .expect("declined");
    wait_up_to_date(&bartek).await;

    wait_status_of(&police, referral, ReferralStatus::Declined).await;
    let outcome = police.referral(referral).await.expect("reads");
    let decision = outcome.decision.expect("decided");
    assert_eq!(
        decision.reason.as_deref(),
        Some("Rodzina mieszka w innej gminie; przekazaliśmy do MOPS.")
    );
    assert!(decision.case.is_none());

    // The referrer reads it but cannot change it.
    let mut events = police.events();
    police
        .edit(referral, |doc, _, _| {
            use automerge::transaction::Transactable;
            doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(automerge::ROOT, "urgency", "urgent")
            })
            .map_err(|e| sync_core::SchemaError::Automerge(e.error.to_string()))?;
            Ok(())
        })
        .await
        .expect("saved locally");
    let reason = refusal_reason(&mut events).await;
    assert!(
        reason.contains("read") || reason.contains("refus"),
        "{reason}"
    );

    police.shutdown().await;
    bartek.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_outside_the_referrers_pzk_is_refused_with_its_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);

    // `inna` works for gops2, whose PZK (pzk2) the GOPS of pzk1 is not in.
    let (inna, _i) = institution_tablet(&server, "inna", "gops2", true).await;
    let mut events = inna.events();
    let stranger = inna
        .refer(nowak_family("gops"))
        .await
        .expect("written locally");
    let reason = refusal_reason(&mut events).await;
    assert!(
        reason.contains("[refusal.referral-no-pzk-relation]"),
        "{reason}"
    );
    assert!(server.state.registry.record(&stranger).is_none());
    inna.shutdown().await;

    // The police refer to the school: not social services.
    let (police, _p) = institution_tablet(&server, "policja-rep", "policja", true).await;
    let mut events = police.events();
    let wrong = police
        .refer(nowak_family("szkola"))
        .await
        .expect("written locally");
    let reason = refusal_reason(&mut events).await;
    assert!(
        reason.contains("[refusal.referral-not-social-services]"),
        "{reason}"
    );
    assert!(server.state.registry.record(&wrong).is_none());
    police.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
