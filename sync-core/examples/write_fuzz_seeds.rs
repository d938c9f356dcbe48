//! Writes the seed corpus of the fuzz targets to fuzz/corpus/ (documents and engine scripts
//! from `sync_core::fuzzing`, hand-made frames and presence payloads, the JS golden fixtures):
//! `cargo run -p sync-core --features fuzzing --example write_fuzz_seeds`.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (name, bytes) in sync_core::fuzzing::seed_documents() {
        let d = dir.join("document_load");
        std::fs::create_dir_all(&d).expect("writing the seed corpus");
        std::fs::write(d.join(format!("seed-{name}.automerge")), bytes)
            .expect("writing the seed corpus");
    }
    for (name, bytes) in sync_core::fuzzing::seed_scripts() {
        let d = dir.join("engine_input");
        std::fs::create_dir_all(&d).expect("writing the seed corpus");
        std::fs::write(d.join(format!("seed-{name}")), bytes).expect("writing the seed corpus");
    }
    use ciborium::Value as V;
    let t = |s: &str| V::Text(s.into());
    let doc = sync_core::DocumentId::from_bytes([7; 16]).to_string();
    let cbor = |v: V| {
        let mut out = Vec::new();
        ciborium::into_writer(&v, &mut out).expect("writing the seed corpus");
        out
    };
    let frames: Vec<(&str, V)> = vec![
        (
            "ephemeral-float-count",
            V::Map(vec![
                (t("type"), t("ephemeral")),
                (t("senderId"), t("a")),
                (t("targetId"), t("b")),
                (t("documentId"), t(&doc)),
                (t("count"), V::Float(3.0)),
                (t("sessionId"), t("s")),
                (t("data"), V::Tag(64, Box::new(V::Bytes(vec![0xa0])))),
            ]),
        ),
        (
            "join-metadata-null",
            V::Map(vec![
                (t("type"), t("join")),
                (t("senderId"), t("a")),
                (
                    t("metadata"),
                    V::Map(vec![
                        (t("storageId"), V::Null),
                        (t("isEphemeral"), V::Bool(true)),
                    ]),
                ),
                (t("supportedProtocolVersions"), V::Array(vec![t("1")])),
            ]),
        ),
        (
            "peer-no-version",
            V::Map(vec![
                (t("type"), t("peer")),
                (t("senderId"), t("s")),
                (t("targetId"), t("a")),
                (t("peerMetadata"), V::Null),
            ]),
        ),
        (
            "heads-integer-timestamp",
            V::Map(vec![
                (t("type"), t("remote-heads-changed")),
                (t("senderId"), t("a")),
                (t("targetId"), t("b")),
                (t("documentId"), t(&doc)),
                (
                    t("newHeads"),
                    V::Map(vec![(
                        t("st"),
                        V::Map(vec![
                            (t("heads"), V::Array(vec![t("x")])),
                            (t("timestamp"), V::Integer(5.into())),
                        ]),
                    )]),
                ),
            ]),
        ),
        ("error-no-message", V::Map(vec![(t("type"), t("error"))])),
        (
            "leave",
            V::Map(vec![(t("type"), t("leave")), (t("senderId"), t("a"))]),
        ),
        (
            "subscription",
            V::Map(vec![
                (t("type"), t("remote-subscription-change")),
                (t("senderId"), t("a")),
                (t("targetId"), t("b")),
                (t("add"), V::Array(vec![t("st")])),
                (t("remove"), V::Null),
            ]),
        ),
        ("unknown-type", V::Map(vec![(t("type"), t("gossip"))])),
        ("not-a-map", V::Array(vec![t("type")])),
    ];
    let d = dir.join("frame_decode");
    std::fs::create_dir_all(&d).expect("writing the seed corpus");
    for (name, v) in frames {
        std::fs::write(d.join(format!("hand-{name}.cbor")), cbor(v))
            .expect("writing the seed corpus");
    }
    let mut deep = vec![0x81u8; 40];
    deep.push(0x00);
    std::fs::write(d.join("hand-deep-nesting.cbor"), deep).expect("writing the seed corpus");
    std::fs::write(d.join("hand-truncated.cbor"), [0xa2, 0x64, b't', b'y'])
        .expect("writing the seed corpus");
    let d = dir.join("presence_decode");
    std::fs::create_dir_all(&d).expect("writing the seed corpus");
    use sync_core::presence::Message as P;
    let mut state = sync_core::presence::State::new();
    state.insert(
        "member".into(),
        serde_json::json!({"login": "ewa", "name": "Ewa", "institution": "gops"}),
    );
    state.insert(
        "focus".into(),
        serde_json::json!({"section": "minutes", "editing": true}),
    );
    let msgs = vec![
        ("snapshot", P::Snapshot(state)),
        (
            "update",
            P::Update {
                channel: "focus".into(),
                value: serde_json::json!({"section": "agenda", "editing": false, "n": 1.5, "big": 18446744073709551615u64, "neg": -3}),
            },
        ),
        ("heartbeat", P::Heartbeat),
        ("goodbye", P::Goodbye),
    ];
    for (name, m) in msgs {
        std::fs::write(d.join(format!("hand-{name}.cbor")), m.encode())
            .expect("writing the seed corpus");
    }
    let odd = V::Map(vec![(
        t("__presence"),
        V::Map(vec![
            (t("type"), t("snapshot")),
            (
                t("state"),
                V::Map(vec![
                    (V::Integer(1.into()), V::Bytes(vec![1, 2])),
                    (t("t"), V::Tag(1, Box::new(V::Float(f64::NAN)))),
                ]),
            ),
        ]),
    )]);
    std::fs::write(d.join("hand-odd-keys.cbor"), cbor(odd)).expect("writing the seed corpus");
    std::fs::write(
        d.join("hand-not-presence.cbor"),
        cbor(V::Map(vec![(t("cursor"), V::Integer(3.into()))])),
    )
    .expect("writing the seed corpus");
    // JS presence payloads: the data of the golden ephemeral frames.
    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/js/frames");
    for entry in std::fs::read_dir(&js).expect("writing the seed corpus") {
        let path = entry.expect("writing the seed corpus").path();
        let bytes = std::fs::read(&path).expect("writing the seed corpus");
        std::fs::copy(
            &path,
            dir.join("frame_decode").join(format!(
                "js-{}",
                path.file_name()
                    .expect("writing the seed corpus")
                    .to_string_lossy()
            )),
        )
        .expect("writing the seed corpus");
        if let Ok(sync_core::wire::Message::Ephemeral(e)) =
            sync_core::wire::decode(&bytes, usize::MAX)
        {
            std::fs::write(
                d.join(format!(
                    "js-{}",
                    path.file_name()
                        .expect("writing the seed corpus")
                        .to_string_lossy()
                )),
                e.data,
            )
            .expect("writing the seed corpus");
        }
    }
    let d = dir.join("document_load");
    std::fs::copy(
        js.join("../doc-created-by-js.automerge"),
        d.join("js-doc-created-by-js.automerge"),
    )
    .expect("writing the seed corpus");
    // Edit scripts (not starting with the magic bytes): on a case, a PZK, an empty document.
    std::fs::write(
        d.join("script-case-stage"),
        [1u8, 2, 0, 5, 2, 0, 54, 7, 0xaa, 2, 0, 74, 5, 7, 1],
    )
    .expect("writing the seed corpus");
    std::fs::write(
        d.join("script-pzk-members"),
        [3u8, 1, 24, 3, 0, 70, 0, 2, 0, 28, 7, 0, 4, 63, 7],
    )
    .expect("writing the seed corpus");
    std::fs::write(
        d.join("script-empty-header"),
        [0u8, 2, 0, 0, 0, 2, 3, 1, 0, 1, 2, 0, 19, 1],
    )
    .expect("writing the seed corpus");
}
