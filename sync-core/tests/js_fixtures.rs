//! Golden fixtures captured from the official JS client and server (automerge-repo 2.5.6):
//! every frame decodes, says what the JS side meant, and survives our re-encoding; every id
//! the JS library made parses to the same bytes; a document saved by JS loads here.

use std::path::PathBuf;

use automerge::ReadDoc;
use serde_json::Value as Json;
use sync_core::wire::{self, Message, DEFAULT_MAX_FRAME};
use sync_core::{AutomergeUrl, DocumentId};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/js")
}

fn json(path: &str) -> Json {
    let text = std::fs::read_to_string(fixtures().join(path)).expect("fixture present");
    serde_json::from_str(&text).expect("fixture is JSON")
}

#[test]
fn every_js_frame_decodes_to_what_the_js_side_meant() {
    let manifest = json("frames/manifest.json");
    let entries = manifest.as_array().expect("array");
    let mut types = std::collections::BTreeSet::new();
    for entry in entries {
        let file = entry["file"].as_str().expect("file");
        let bytes = std::fs::read(fixtures().join("frames").join(file)).expect("frame");
        let message =
            wire::decode(&bytes, DEFAULT_MAX_FRAME).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            message.type_name(),
            entry["type"].as_str().expect("type"),
            "{file}"
        );
        types.insert(message.type_name());
        if let Some(sender) = entry["senderId"].as_str() {
            assert_eq!(
                message.sender_id().map(|p| p.as_str()),
                Some(sender),
                "{file}"
            );
        }
        if let Some(doc) = entry["documentId"].as_str() {
            assert_eq!(
                message.document_id().map(|d| d.to_string()),
                Some(doc.to_string()),
                "{file}"
            );
        }
        match &message {
            Message::Sync(m) | Message::Request(m) => {
                let sync = automerge::sync::Message::decode(&m.data)
                    .unwrap_or_else(|e| panic!("{file}: sync payload: {e}"));
                let expected: Vec<String> = entry["syncMessage"]["heads"]
                    .as_array()
                    .expect("heads")
                    .iter()
                    .map(|h| h.as_str().expect("hex").to_string())
                    .collect();
                let got: Vec<String> = sync.heads.iter().map(|h| h.to_string()).collect();
                assert_eq!(got, expected, "{file}");
            }
            Message::Ephemeral(e) => {
                assert_eq!(Some(e.count), entry["count"].as_u64(), "{file}");
                assert_eq!(
                    Some(e.session_id.as_str()),
                    entry["sessionId"].as_str(),
                    "{file}"
                );
                assert_eq!(
                    Some(e.data.len() as u64),
                    entry["dataLength"].as_u64(),
                    "{file}"
                );
            }
            _ => {}
        }
        // Our strict encoding of it decodes to the same message.
        let again = wire::decode(&wire::encode(&message), DEFAULT_MAX_FRAME).expect("re-decodes");
        assert_eq!(again, message, "{file}");
    }
    for ty in [
        "join",
        "peer",
        "request",
        "sync",
        "doc-unavailable",
        "ephemeral",
    ] {
        assert!(types.contains(ty), "no {ty} fixture");
    }
}

#[test]
fn document_ids_made_by_js_round_trip() {
    let ids = json("document-ids.json");
    for id in ids["ids"].as_array().expect("ids") {
        let text = id["documentId"].as_str().expect("id");
        let parsed = DocumentId::parse(text).expect("a JS id parses");
        assert_eq!(
            hex::encode(parsed.as_bytes()),
            id["bytesHex"].as_str().expect("hex")
        );
        assert_eq!(parsed.to_string(), text);
        assert_eq!(parsed.url(), id["url"].as_str().expect("url"));
    }
    for with_heads in ids["withHeads"].as_array().expect("withHeads") {
        let url = with_heads["url"].as_str().expect("url");
        let parsed = AutomergeUrl::parse(url).expect("a JS url with heads parses");
        let hex_heads: Vec<String> = with_heads["hexHeads"]
            .as_array()
            .expect("hexHeads")
            .iter()
            .map(|h| h.as_str().expect("hex").to_string())
            .collect();
        let got: Vec<String> = parsed
            .heads
            .unwrap_or_default()
            .iter()
            .map(|h| h.to_string())
            .collect();
        assert_eq!(got, hex_heads, "{url}");
    }
    // Everything JS refuses we refuse; we also refuse ids of the wrong length, which JS lets by.
    for bad in ids["invalid"].as_array().expect("invalid") {
        let input = bad["input"].as_str().expect("input");
        let refused = if bad["kind"] == "url" {
            AutomergeUrl::parse(input).is_err()
        } else {
            DocumentId::parse(input).is_err()
        };
        let js_valid = bad["jsIsValidDocumentId"].as_bool().unwrap_or(false);
        let reason = bad["reason"].as_str().unwrap_or_default();
        assert!(
            refused || (js_valid && !reason.contains("16")),
            "{input}: {reason}"
        );
    }
}

#[test]
fn a_document_saved_by_js_loads_with_its_heads_and_content() {
    let meta = json("doc-created-by-js.json");
    let bytes = std::fs::read(fixtures().join("doc-created-by-js.automerge")).expect("doc");
    let doc = automerge::Automerge::load(&bytes).expect("loads");
    let heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
    let expected: Vec<String> = meta["heads"]
        .as_array()
        .expect("heads")
        .iter()
        .map(|h| h.as_str().expect("hex").to_string())
        .collect();
    assert_eq!(heads, expected);
    let (_, notes) = doc
        .get(automerge::ROOT, "notes")
        .expect("get")
        .expect("notes");
    assert_eq!(
        doc.text(&notes).expect("text"),
        meta["content"]["notes"].as_str().expect("notes")
    );
}
