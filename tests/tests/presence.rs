//! A remote PZK meeting: members of different institutions in the team's document see who else
//! is there and where, through the server, with the SDK's presence; a member of another team
//! sees nothing and is seen by no one; a member who drops offline catches up on return; a
//! member who leaves is forgotten at once.

use std::time::Duration;

use client_sdk::{ClientEvent, DocumentPresence, PresenceOptions, SyncClient};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;
use sync_core::presence::{Focus, Member, PeerState, PresenceEvent};
use sync_core::{DocumentId, PeerId};

fn member(login: &str, institution: &str) -> Member {
    Member {
        login: login.into(),
        // The name of the account (provision_region names each user by login): the server
        // shows every peer under its own account.
        name: login.into(),
        institution: institution.into(),
    }
}

fn focus(section: &str, editing: bool) -> Focus {
    Focus {
        section: section.into(),
        editing,
    }
}

/// A tablet of `login` that holds the PZK document and is present in it.
async fn join(
    server: &kooperacja_server::serve::RunningServer,
    login: &str,
    institution: &str,
    doc: DocumentId,
) -> (SyncClient, DocumentPresence) {
    join_as(server, login, doc, &member(login, institution)).await
}

/// A tablet of `login` that holds the PZK document and is present in it as `shown`.
async fn join_as(
    server: &kooperacja_server::serve::RunningServer,
    login: &str,
    doc: DocumentId,
    shown: &Member,
) -> (SyncClient, DocumentPresence) {
    let t = tablet(server, login, &format!("tablet-{login}"));
    let mut events = t.events();
    t.find(doc).expect("find");
    t.wait_until("the PZK document", WAIT, || async {
        Ok(t.heads(doc).await?.is_some())
    })
    .await
    .expect("the member receives the PZK document");
    // Drain what arrived so far; the caller watches later events.
    while events.try_recv().is_ok() {}
    let options =
        PresenceOptions::member(shown).with_timing(Duration::from_secs(1), Duration::from_secs(3));
    let presence = t.presence(doc, options).expect("presence starts");
    (t, presence)
}

/// Waits until `presence` knows a peer for which `what` holds; returns it.
async fn wait_for_peer(
    presence: &DocumentPresence,
    label: &str,
    what: impl Fn(&PeerState) -> bool,
) -> (PeerId, PeerState) {
    let mut peers = presence.peers();
    tokio::time::timeout(WAIT, async {
        loop {
            let found = peers
                .borrow_and_update()
                .iter()
                .find(|(_, s)| what(s))
                .map(|(id, s)| (id.clone(), s.clone()));
            if let Some(found) = found {
                return found;
            }
            peers.changed().await.expect("presence runs");
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {label}"))
}

fn is(login: &'static str, section: &'static str) -> impl Fn(&PeerState) -> bool {
    move |s: &PeerState| {
        s.member().is_some_and(|m| m.login == login)
            && s.focus().is_some_and(|f| f.section == section)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_pzk_meeting_shows_who_is_there_and_only_to_the_team() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Untyped documents are allowed so that the outsider can store one of her own (below);
    // the PZK document is typed and its access rules apply.
    let server = start_with(ServeConfig::for_tests(dir.path(), TlsMode::Dev)).await;
    provision_region(&server);
    let (animator, pzk) = create_as(&server, "animator1", new_team_doc()).await;
    let heads_before = animator.heads(pzk).await.expect("heads");

    let (school, school_presence) = join(&server, "szkola-rep", "szkola", pzk).await;
    let (police, police_presence) = join(&server, "policja-rep", "policja", pzk).await;
    school_presence
        .set_focus(&focus("minutes", true))
        .expect("focus");
    police_presence
        .set_focus(&focus("agenda", false))
        .expect("focus");

    // Each sees the other, with name, institution and section.
    let (school_peer, seen) = wait_for_peer(
        &police_presence,
        "the school in the minutes",
        is("szkola-rep", "minutes"),
    )
    .await;
    assert_eq!(seen.member(), Some(member("szkola-rep", "szkola")));
    assert_eq!(seen.focus(), Some(focus("minutes", true)));
    wait_for_peer(
        &school_presence,
        "the police at the agenda",
        is("policja-rep", "agenda"),
    )
    .await;

    // A member of another PZK asks for the document and is told it is unavailable; what she
    // broadcasts about it reaches no one, and she receives nothing.
    let outsider = tablet(&server, "inna", "tablet-inna");
    let mut outsider_events = outsider.events();
    outsider.find(pzk).expect("find");
    wait_event(
        &mut outsider_events,
        "the outsider refused the document",
        |e| *e == ClientEvent::Unavailable(pzk),
    )
    .await;
    let outsider_presence = outsider
        .presence(pzk, PresenceOptions::member(&member("inna", "gops2")))
        .expect("presence starts");
    outsider_presence
        .set_focus(&focus("minutes", false))
        .expect("focus");
    // Frames of one connection are handled in order: once her own new document is
    // acknowledged, her presence frames before it have been handled (and dropped).
    let own = random_id();
    outsider.create(own, new_case()).await.expect("created");
    wait_acknowledged(&outsider, own).await;
    // The school moves after that; once the police sees the move, the outsider's presence
    // would have arrived before it.
    school_presence
        .set_focus(&focus("decisions", true))
        .expect("focus");
    wait_for_peer(
        &police_presence,
        "the school at the decisions",
        is("szkola-rep", "decisions"),
    )
    .await;
    let police_sees: Vec<String> = police_presence
        .peers()
        .borrow()
        .values()
        .filter_map(|s| s.member().map(|m| m.login))
        .collect();
    assert_eq!(police_sees, vec!["szkola-rep".to_string()]);
    assert!(
        outsider_presence.peers().borrow().is_empty(),
        "the outsider learns of no one"
    );
    while let Ok(event) = outsider_events.try_recv() {
        assert!(
            !matches!(event, ClientEvent::Ephemeral { document, .. } if document == pzk),
            "presence of the team's document reached the outsider"
        );
    }

    // The police drops offline; the school moves meanwhile; back online, the police's snapshot
    // gets the school's current state in answer.
    let mut police_events = police.events();
    police.set_online(false).expect("offline");
    wait_event(&mut police_events, "the police tablet offline", |e| {
        matches!(e, ClientEvent::Disconnected(_))
    })
    .await;
    school_presence
        .set_focus(&focus("attendance", false))
        .expect("focus");
    police.set_online(true).expect("online");
    wait_for_peer(
        &police_presence,
        "the school at the attendance after reconnecting",
        is("szkola-rep", "attendance"),
    )
    .await;

    // The school leaves: the police forgets it at once (goodbye), long before the TTL.
    let mut police_presence_events = police_presence.events();
    school_presence.stop().await;
    wait_event(
        &mut police_presence_events,
        "the school's goodbye",
        |e| matches!(e, PresenceEvent::Goodbye { peer } if *peer == school_peer),
    )
    .await;
    assert!(!police_presence.peers().borrow().contains_key(&school_peer));

    // Presence is never stored: the document is as the animator made it.
    let heads_after = police.heads(pzk).await.expect("heads");
    assert_eq!(heads_before, heads_after);

    police_presence.stop().await;
    outsider_presence.stop().await;
    for t in [school, police, outsider, animator] {
        t.shutdown().await;
    }
    server.shutdown().await.expect("shutdown");
}

/// The police's representative tries to pass as the school's in the meeting: in her snapshot,
/// then in an update of the member channel. The school's representative sees her under her own
/// account every time, and the meeting goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_is_shown_under_her_own_account_whatever_she_claims() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_with(ServeConfig::for_tests(dir.path(), TlsMode::Dev)).await;
    provision_region(&server);
    let (animator, pzk) = create_as(&server, "animator1", new_team_doc()).await;
    let (school, school_presence) = join(&server, "szkola-rep", "szkola", pzk).await;

    // The attacker's moves: her presence starts with the school's identity, and later says it
    // again in an update of the member channel.
    let forged = Member {
        login: "szkola-rep".into(),
        name: "Dyrektor Szkoły".into(),
        institution: "szkola".into(),
    };
    let (police, police_presence) = join_as(&server, "policja-rep", pzk, &forged).await;
    police_presence
        .set_focus(&focus("agenda", false))
        .expect("focus");
    let (police_peer, seen) = wait_for_peer(
        &school_presence,
        "the police at the agenda",
        is("policja-rep", "agenda"),
    )
    .await;
    assert_eq!(seen.member(), Some(member("policja-rep", "policja")));

    police_presence
        .set(
            sync_core::presence::MEMBER,
            serde_json::to_value(&forged).expect("json"),
        )
        .expect("update");
    police_presence
        .set_focus(&focus("minutes", true))
        .expect("focus");
    let (_, seen) = wait_for_peer(
        &school_presence,
        "the police in the minutes",
        is("policja-rep", "minutes"),
    )
    .await;
    assert_eq!(seen.member(), Some(member("policja-rep", "policja")));
    let shown_as_school: Vec<PeerId> = school_presence
        .peers()
        .borrow()
        .iter()
        .filter(|(_, s)| s.member().is_some_and(|m| m.login == "szkola-rep"))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        shown_as_school.is_empty(),
        "{shown_as_school:?} posed as the school"
    );
    assert!(school_presence.peers().borrow().contains_key(&police_peer));

    // The school's own presence still reaches the police, under the school's name.
    school_presence
        .set_focus(&focus("decisions", true))
        .expect("focus");
    let (_, school_seen) = wait_for_peer(
        &police_presence,
        "the school at the decisions",
        is("szkola-rep", "decisions"),
    )
    .await;
    assert_eq!(school_seen.member(), Some(member("szkola-rep", "szkola")));

    police_presence.stop().await;
    school_presence.stop().await;
    for t in [school, police, animator] {
        t.shutdown().await;
    }
    server.shutdown().await.expect("shutdown");
}
