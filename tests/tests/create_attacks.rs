//! What a partner with a valid account may create (issue #19's open door): since any member of
//! an institution may write a document the server does not know yet (that is how a referral is
//! sent), what the new document *is* decides at its first change. A school pedagogue tries to
//! open a case, to found a PZK of his own and to store a document of no known type on a
//! production server; each is refused with its code, leaves no record behind and the id stays
//! unknown to everyone, while the GOPS worker keeps working.

use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::DocumentId;

/// Waits for the refusal of the pedagogue's first change and checks that the server kept
/// nothing of the document.
async fn refused_without_trace(
    server: &RunningServer,
    events: &mut tokio::sync::broadcast::Receiver<client_sdk::ClientEvent>,
    document: DocumentId,
    code: &str,
) {
    let reason = refusal_reason(events).await;
    assert!(reason.contains(&format!("[{code}]")), "{reason}");
    assert!(
        server.state.registry.record(&document).is_none(),
        "a refused creation left a record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_pedagogue_cannot_open_a_case_found_a_pzk_or_store_untyped_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);

    // A case, written on his tablet as if he were a social worker.
    let (school, _s) = institution_tablet(&server, "szkola-rep", "szkola", true).await;
    let mut events = school.events();
    let case = create_referred_case(&school).await;
    refused_without_trace(&server, &mut events, case, "refusal.may-not-open-cases").await;
    school.shutdown().await;

    // A PZK document naming himself its animator.
    let (school, _s) = institution_tablet(&server, "szkola-rep", "szkola", true).await;
    let mut events = school.events();
    let team = school
        .create_pzk("PZK Szkoły", "Porozumienie, które nikt nie podpisał")
        .await
        .expect("written locally");
    refused_without_trace(&server, &mut events, team, "refusal.not-team-animator").await;
    school.shutdown().await;

    // A document of no known type (somewhere to keep data outside the rules).
    let client = tablet(&server, "szkola-rep", "tablet-szkola-raw");
    let mut events = client.events();
    let stash = random_id();
    client
        .create(stash, new_case())
        .await
        .expect("written locally");
    refused_without_trace(&server, &mut events, stash, "document.unknown-type").await;
    client.shutdown().await;

    // None of the three ids leads anywhere for him or for the GOPS worker afterwards, and the
    // worker's own case is acknowledged as before.
    for id in [case, team, stash] {
        assert!(server.state.registry.record(&id).is_none());
    }
    let (anna, _own) = create_as(&server, "anna", new_family_case("anna")).await;
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
