use super::*;
use serde_json::json;

/// Payloads encoded by cbor-x 1.6.9 the way automerge-repo 2.5.6 encodes ephemeral data
/// (`new Encoder({ tagUint8Array: false, useRecords: false })`), from `Presence` messages.
const JS_SNAPSHOT: &str = "b900016a5f5f70726573656e6365b90002647479706568736e617073686f74657374617465b90002666d656d626572b90003656c6f67696e63657761646e616d6569457761204e6f77616b6b696e737469747574696f6e6473702d3165666f637573b900026773656374696f6e676d696e757465736765646974696e67f5";
const JS_UPDATE: &str = "b900016a5f5f70726573656e6365b90003647479706566757064617465676368616e6e656c65666f6375736576616c7565b900026773656374696f6e666167656e64616765646974696e67f4";
const JS_HEARTBEAT: &str = "b900016a5f5f70726573656e6365b90001647479706569686561727462656174";
const JS_GOODBYE: &str = "b900016a5f5f70726573656e6365b90001647479706567676f6f64627965";
const JS_FLOAT_UPDATE: &str = "b900016a5f5f70726573656e6365b90003647479706566757064617465676368616e6e656c66637572736f726576616c7565fb3ff8000000000000";

fn bytes(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text).expect("test constant is hex")
}

fn peer(name: &str) -> PeerId {
    PeerId::new(name).expect("valid peer id")
}

fn ewa_state() -> State {
    State::from([
        (
            MEMBER.to_string(),
            json!({"login": "ewa", "name": "Ewa Nowak", "institution": "sp-1"}),
        ),
        (
            FOCUS.to_string(),
            json!({"section": "minutes", "editing": true}),
        ),
    ])
}

#[test]
fn reads_what_the_js_client_sends() {
    assert_eq!(
        Message::decode(&bytes(JS_SNAPSHOT)),
        Ok(Some(Message::Snapshot(ewa_state())))
    );
    assert_eq!(
        Message::decode(&bytes(JS_UPDATE)),
        Ok(Some(Message::Update {
            channel: FOCUS.into(),
            value: json!({"section": "agenda", "editing": false}),
        }))
    );
    assert_eq!(
        Message::decode(&bytes(JS_HEARTBEAT)),
        Ok(Some(Message::Heartbeat))
    );
    assert_eq!(
        Message::decode(&bytes(JS_GOODBYE)),
        Ok(Some(Message::Goodbye))
    );
    assert_eq!(
        Message::decode(&bytes(JS_FLOAT_UPDATE)),
        Ok(Some(Message::Update {
            channel: "cursor".into(),
            value: json!(1.5),
        }))
    );
}

#[test]
fn what_we_send_reads_back_the_same() {
    for message in [
        Message::Snapshot(ewa_state()),
        Message::Update {
            channel: "cursor".into(),
            value: json!([1, -2, 2.5, null, "ą"]),
        },
        Message::Heartbeat,
        Message::Goodbye,
    ] {
        assert_eq!(Message::decode(&message.encode()), Ok(Some(message)));
    }
}

#[test]
fn other_ephemeral_data_is_not_presence_and_bad_presence_is_an_error() {
    // {"hello": "x"}: someone else's ephemeral data.
    let other = Message::Update {
        channel: "c".into(),
        value: json!(1),
    }
    .encode();
    let mut not_presence = Vec::new();
    ciborium::into_writer(
        &Cbor::Map(vec![(Cbor::Text("hello".into()), Cbor::Text("x".into()))]),
        &mut not_presence,
    )
    .expect("writes into a Vec");
    assert_eq!(Message::decode(&not_presence), Ok(None));
    assert!(Message::decode(&other[..other.len() - 1]).is_err());
    let mut unknown = Vec::new();
    ciborium::into_writer(
        &Cbor::Map(vec![(
            Cbor::Text(MARKER.into()),
            Cbor::Map(vec![(
                Cbor::Text("type".into()),
                Cbor::Text("dance".into()),
            )]),
        )]),
        &mut unknown,
    )
    .expect("writes into a Vec");
    assert!(matches!(
        Message::decode(&unknown),
        Err(DecodeError::UnknownType(_))
    ));
    assert!(matches!(
        Message::decode(&vec![0u8; MAX_PAYLOAD + 1]),
        Err(DecodeError::TooLarge { .. })
    ));
}

fn started(at: u64) -> Presence {
    let mut p = Presence::new(PresenceConfig {
        heartbeat: Millis(1_000),
        peer_ttl: Millis(3_000),
    });
    let first = p.start(Millis(at), State::new());
    assert_eq!(
        Message::decode(&first),
        Ok(Some(Message::Snapshot(State::new())))
    );
    p
}

#[test]
fn a_new_peer_is_tracked_and_answered_with_our_snapshot() {
    let mut p = started(0);
    let event = p
        .receive(Millis(100), &peer("ewa"), &bytes(JS_SNAPSHOT))
        .expect("valid presence");
    assert_eq!(
        event,
        Some(PresenceEvent::Snapshot {
            peer: peer("ewa"),
            state: ewa_state(),
        })
    );
    let ewa = &p.peers()[&peer("ewa")];
    assert_eq!(
        ewa.member(),
        Some(Member {
            login: "ewa".into(),
            name: "Ewa Nowak".into(),
            institution: "sp-1".into(),
        })
    );
    // Our announcement goes out after the delay, not before.
    assert_eq!(p.next_deadline(), Some(Millis(100 + ANNOUNCE_DELAY.0)));
    assert!(p.tick(Millis(599)).send.is_empty());
    let tick = p.tick(Millis(600));
    assert_eq!(tick.send.len(), 1);
    assert!(matches!(
        Message::decode(&tick.send[0]),
        Ok(Some(Message::Snapshot(_)))
    ));
    // An update merges into what we know.
    p.receive(Millis(700), &peer("ewa"), &bytes(JS_UPDATE))
        .expect("valid presence");
    assert_eq!(
        p.peers()[&peer("ewa")].focus(),
        Some(Focus {
            section: "agenda".into(),
            editing: false,
        })
    );
    assert!(p.peers()[&peer("ewa")].member().is_some());
}

#[test]
fn heartbeats_keep_a_peer_and_silence_prunes_it() {
    let mut p = started(0);
    // A stranger's heartbeat is not a peer yet.
    assert_eq!(
        p.receive(Millis(10), &peer("ewa"), &bytes(JS_HEARTBEAT)),
        Ok(None)
    );
    assert!(p.peers().is_empty());
    p.receive(Millis(20), &peer("ewa"), &bytes(JS_SNAPSHOT))
        .expect("valid presence");
    p.receive(Millis(2_500), &peer("ewa"), &bytes(JS_HEARTBEAT))
        .expect("valid presence");
    assert_eq!(p.peers()[&peer("ewa")].last_seen_at, Millis(2_500));
    assert_eq!(p.peers()[&peer("ewa")].last_active_at, Millis(20));
    // Still within the TTL of the heartbeat at 2.5 s.
    assert!(p.tick(Millis(5_000)).pruned.is_empty());
    let tick = p.tick(Millis(6_000));
    assert_eq!(tick.pruned, vec![peer("ewa")]);
    assert!(p.peers().is_empty());
}

#[test]
fn we_send_heartbeats_only_when_quiet() {
    let mut p = started(0);
    assert!(p
        .set(
            Millis(900),
            FOCUS,
            json!({"section": "minutes", "editing": false})
        )
        .is_some());
    // The update at 0.9 s counts as a sign of life: no heartbeat at 1 s.
    assert!(p.tick(Millis(1_000)).send.is_empty());
    let tick = p.tick(Millis(1_900));
    assert_eq!(tick.send.len(), 1);
    assert_eq!(Message::decode(&tick.send[0]), Ok(Some(Message::Heartbeat)));
}

#[test]
fn goodbye_forgets_at_once_and_stop_says_goodbye_once() {
    let mut p = started(0);
    p.receive(Millis(1), &peer("ewa"), &bytes(JS_SNAPSHOT))
        .expect("valid presence");
    assert_eq!(
        p.receive(Millis(2), &peer("ewa"), &bytes(JS_GOODBYE)),
        Ok(Some(PresenceEvent::Goodbye { peer: peer("ewa") }))
    );
    assert!(p.peers().is_empty());
    let goodbye = p.stop().expect("running");
    assert_eq!(Message::decode(&goodbye), Ok(Some(Message::Goodbye)));
    assert_eq!(p.stop(), None);
    assert_eq!(p.next_deadline(), None);
    assert_eq!(
        p.receive(Millis(3), &peer("ewa"), &bytes(JS_SNAPSHOT)),
        Ok(None)
    );
    // Set while stopped is kept for the next start but not sent.
    assert_eq!(p.set(Millis(4), "x", json!(1)), None);
}

/// Delivers `payloads` from `from` to `to`; returns what `to` wants to send within a second.
fn deliver(to: &mut Presence, now: u64, from: &PeerId, payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    for payload in payloads {
        to.receive(Millis(now), from, payload)
            .expect("valid presence");
    }
    to.tick(Millis(now + ANNOUNCE_DELAY.0)).send
}

#[test]
fn a_peer_back_from_offline_rejoins_and_learns_the_current_state() {
    let (anna, ewa) = (peer("anna"), peer("ewa"));
    let mut a = Presence::new(PresenceConfig::default());
    let mut e = Presence::new(PresenceConfig::default());
    let from_a = a.start(Millis(0), State::new());
    let from_e = e.start(Millis(0), ewa_state());
    // They meet: each announces to the stranger once, and the exchange ends.
    let e_answers = deliver(&mut e, 10, &anna, &[from_a]);
    assert_eq!(e_answers.len(), 1);
    assert!(deliver(&mut a, 10, &ewa, &[from_e]).len() == 1);
    assert!(
        deliver(&mut a, 600, &ewa, &e_answers).is_empty(),
        "no answer to a known peer"
    );
    // Anna goes offline; Ewa moves to the agenda meanwhile (Anna misses it).
    let missed = e
        .set(
            Millis(5_000),
            FOCUS,
            json!({"section": "agenda", "editing": false}),
        )
        .expect("running");
    drop(missed);
    // Anna is back: she rejoins, Ewa meets her anew and answers with her current state.
    let (rejoin, forgotten) = a.rejoin(Millis(9_000));
    assert_eq!(forgotten, vec![ewa.clone()]);
    assert!(a.peers().is_empty());
    let answer = deliver(&mut e, 9_010, &anna, &rejoin);
    assert_eq!(answer.len(), 1);
    deliver(&mut a, 9_600, &ewa, &answer);
    assert_eq!(
        a.peers()[&ewa].focus(),
        Some(Focus {
            section: "agenda".into(),
            editing: false,
        })
    );
}

#[test]
fn map_keys_that_are_not_scalars_are_dropped_not_expanded() {
    // Found by fuzzing (fuzz/regressions/presence_decode/): a nested map as a key was written
    // as JSON text, escaped again at every level, and a 500-byte payload decoded to 150 KB.
    let mut key = Cbor::Text("\"".into());
    for _ in 0..20 {
        key = Cbor::Map(vec![(key, Cbor::Integer(0.into()))]);
    }
    let state = Cbor::Map(vec![
        (key, Cbor::Bool(true)),
        (Cbor::Integer(7.into()), Cbor::Text("seven".into())),
        (Cbor::Bool(true), Cbor::Null),
    ]);
    let payload = Cbor::Map(vec![(
        Cbor::Text(MARKER.into()),
        Cbor::Map(vec![
            (Cbor::Text("type".into()), Cbor::Text("snapshot".into())),
            (Cbor::Text("state".into()), state),
        ]),
    )]);
    let mut data = Vec::new();
    ciborium::into_writer(&payload, &mut data).expect("encodes");
    let decoded = Message::decode(&data).expect("decodes");
    let expected = State::from([
        ("7".to_owned(), json!("seven")),
        ("true".to_owned(), Value::Null),
    ]);
    assert_eq!(decoded, Some(Message::Snapshot(expected)));
}
