use super::*;

fn peer(s: &str) -> PeerId {
    PeerId::new(s).expect("valid peer id")
}

fn doc_id() -> DocumentId {
    DocumentId::from_bytes([42; 16])
}

fn cbor_map(entries: Vec<(&str, Value)>) -> Vec<u8> {
    let value = Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect());
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).expect("encodes");
    out
}

#[test]
fn every_message_type_round_trips() {
    let messages = vec![
        Message::Join(Join {
            sender_id: peer("a"),
            metadata: PeerMetadata {
                storage_id: Some(StorageId::new("s1").expect("valid")),
                is_ephemeral: false,
            },
            supported_protocol_versions: vec!["1".into()],
        }),
        Message::Peer(PeerMsg {
            sender_id: peer("server"),
            metadata: PeerMetadata::default(),
            selected_protocol_version: "1".into(),
            target_id: peer("a"),
        }),
        Message::Error {
            message: "nope".into(),
        },
        Message::Request(DocMessage {
            sender_id: peer("a"),
            target_id: peer("b"),
            document_id: doc_id(),
            data: vec![1, 2, 3],
        }),
        Message::Sync(DocMessage {
            sender_id: peer("a"),
            target_id: peer("b"),
            document_id: doc_id(),
            data: vec![],
        }),
        Message::DocUnavailable {
            sender_id: peer("a"),
            target_id: peer("b"),
            document_id: doc_id(),
        },
        Message::Ephemeral(Ephemeral {
            sender_id: peer("a"),
            target_id: peer("b"),
            document_id: doc_id(),
            count: 7,
            session_id: "sess".into(),
            data: vec![0xa0],
        }),
        Message::RemoteSubscriptionChange {
            sender_id: peer("a"),
            target_id: peer("b"),
            add: vec![StorageId::new("s2").expect("valid")],
            remove: vec![],
        },
        Message::RemoteHeadsChanged {
            sender_id: peer("a"),
            target_id: peer("b"),
            document_id: doc_id(),
            new_heads: vec![RemoteHeads {
                storage_id: StorageId::new("s2").expect("valid"),
                heads: vec!["abc".into()],
                timestamp: 1.7e12,
            }],
        },
        Message::Leave {
            sender_id: peer("a"),
        },
    ];
    for m in messages {
        let frame = encode(&m);
        assert_eq!(
            decode(&frame, DEFAULT_MAX_FRAME),
            Ok(m.clone()),
            "{}",
            m.type_name()
        );
    }
}

#[test]
fn decoding_is_lenient_where_js_clients_vary() {
    // `metadata` instead of `peerMetadata`, no versions given, an undefined storage id.
    let frame = cbor_map(vec![
        ("type", text("join")),
        ("senderId", text("a")),
        (
            "metadata",
            Value::Map(vec![
                (text("storageId"), Value::Null),
                (text("isEphemeral"), Value::Bool(true)),
            ]),
        ),
    ]);
    let Ok(Message::Join(join)) = decode(&frame, DEFAULT_MAX_FRAME) else {
        panic!("join must decode");
    };
    assert!(join.metadata.is_ephemeral);
    assert_eq!(join.metadata.storage_id, None);
    // An older client names no versions: it speaks "1" (as the JS reference server assumes).
    assert_eq!(join.supported_protocol_versions, vec!["1".to_string()]);
    // An explicit empty list names none.
    let frame = cbor_map(vec![
        ("type", text("join")),
        ("senderId", text("a")),
        ("supportedProtocolVersions", Value::Array(vec![])),
    ]);
    let Ok(Message::Join(join)) = decode(&frame, DEFAULT_MAX_FRAME) else {
        panic!("join must decode");
    };
    assert!(join.supported_protocol_versions.is_empty());

    // A float count.
    let frame = cbor_map(vec![
        ("type", text("ephemeral")),
        ("senderId", text("a")),
        ("targetId", text("b")),
        ("documentId", text(&doc_id().to_string())),
        ("count", Value::Float(3.0)),
        ("sessionId", text("s")),
        ("data", Value::Bytes(vec![])),
        ("extra", Value::Null),
    ]);
    let Ok(Message::Ephemeral(e)) = decode(&frame, DEFAULT_MAX_FRAME) else {
        panic!("ephemeral must decode");
    };
    assert_eq!(e.count, 3);
}

#[test]
fn a_timestamp_that_is_not_a_finite_number_counts_as_absent() {
    // Found by fuzzing (fuzz/regressions/frame_decode/): a NaN timestamp decoded as NaN, and
    // the message was then unequal to itself after a round trip.
    for odd in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let frame = cbor_map(vec![
            ("type", text("remote-heads-changed")),
            ("senderId", text("a")),
            ("targetId", text("b")),
            ("documentId", text(&doc_id().to_string())),
            (
                "newHeads",
                Value::Map(vec![(
                    text("storage"),
                    Value::Map(vec![(text("timestamp"), Value::Float(odd))]),
                )]),
            ),
        ]);
        let message = decode(&frame, DEFAULT_MAX_FRAME).expect("decodes");
        let Message::RemoteHeadsChanged { new_heads, .. } = &message else {
            panic!("remote-heads-changed must decode as such");
        };
        assert_eq!(new_heads[0].timestamp, 0.0);
        assert_eq!(decode(&encode(&message), DEFAULT_MAX_FRAME), Ok(message));
    }
}

#[test]
fn malformed_frames_yield_typed_errors() {
    let good_sync = encode(&Message::Sync(DocMessage {
        sender_id: peer("a"),
        target_id: peer("b"),
        document_id: doc_id(),
        data: vec![1, 2, 3, 4],
    }));
    let mut nested = vec![0x81u8; 10_000];
    nested.push(0x01);
    type Check = fn(&DecodeError) -> bool;
    let table: Vec<(&str, Vec<u8>, Check)> = vec![
        ("empty frame", vec![], |e| matches!(e, DecodeError::Cbor(_))),
        (
            "truncated CBOR",
            good_sync[..good_sync.len() - 2].to_vec(),
            |e| matches!(e, DecodeError::Cbor(_)),
        ),
        ("not a map", vec![0x01], |e| {
            matches!(e, DecodeError::NotAMap)
        }),
        ("deeply nested", nested, |e| {
            matches!(e, DecodeError::Cbor(_))
        }),
        (
            "unknown type",
            cbor_map(vec![("type", text("teleport"))]),
            |e| matches!(e, DecodeError::UnknownType(t) if t == "teleport"),
        ),
        ("no type", cbor_map(vec![("senderId", text("a"))]), |e| {
            matches!(e, DecodeError::MissingField { field: "type", .. })
        }),
        (
            "type of wrong CBOR type",
            cbor_map(vec![("type", Value::Integer(5.into()))]),
            |e| matches!(e, DecodeError::WrongType { field: "type", .. }),
        ),
        (
            "data as text",
            cbor_map(vec![
                ("type", text("sync")),
                ("senderId", text("a")),
                ("targetId", text("b")),
                ("documentId", text(&doc_id().to_string())),
                ("data", text("oops")),
            ]),
            |e| matches!(e, DecodeError::WrongType { field: "data", .. }),
        ),
        (
            "invalid document id",
            cbor_map(vec![
                ("type", text("request")),
                ("senderId", text("a")),
                ("targetId", text("b")),
                ("documentId", text("not-an-id")),
                ("data", Value::Bytes(vec![])),
            ]),
            |e| matches!(e, DecodeError::Id(_)),
        ),
        (
            "negative count",
            cbor_map(vec![
                ("type", text("ephemeral")),
                ("senderId", text("a")),
                ("targetId", text("b")),
                ("documentId", text(&doc_id().to_string())),
                ("count", Value::Float(-1.0)),
                ("sessionId", text("s")),
                ("data", Value::Bytes(vec![])),
            ]),
            |e| matches!(e, DecodeError::WrongType { field: "count", .. }),
        ),
        (
            "empty sender id",
            cbor_map(vec![("type", text("leave")), ("senderId", text(""))]),
            |e| matches!(e, DecodeError::Id(_)),
        ),
    ];
    for (name, frame, check) in table {
        match decode(&frame, DEFAULT_MAX_FRAME) {
            Err(e) => assert!(check(&e), "{name}: unexpected error {e:?}"),
            Ok(m) => panic!("{name}: decoded as {m:?}"),
        }
    }
}

#[test]
fn oversized_frames_are_refused_before_parsing() {
    let frame = vec![0u8; 1025];
    assert_eq!(
        decode(&frame, 1024),
        Err(DecodeError::TooLarge {
            size: 1025,
            limit: 1024
        })
    );
}
