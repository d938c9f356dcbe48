//! Attachments in the case app (issue #18), in real headless Chromium with profiles on disk: a
//! social worker, offline at the family's kitchen table, photographs the signed contract with
//! the app's camera input (the photo carries EXIF with a GPS position, as a phone writes it),
//! attaches it to the signing, closes the browser and opens it again offline and still sees it;
//! online, it uploads. The server then holds a file with the same SHA-256 and no EXIF at all;
//! her second device sees the entry and downloads the file on demand; a file of another type is
//! refused in Polish; the device's raw IndexedDB never holds the photo's bytes in clear; files
//! not opened for the set days are evicted; signing out wipes them.
//!
//! The browsers run `web/e2e/case-app-attachments.mjs` (what it needs: the support crate's
//! `browser` module); the app is the one in `web/dist`: build it first (`npm run build` in web/).

use std::time::Duration;

use automerge::Automerge;
use chrono::{Duration as Days, Utc};
use kooperacja_server::blobs::BlobId;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::case::{
    self, workflow, AttachmentKind, AttachmentLink, CaseInit, DiagnosisSector, GoalPlan,
    ScreeningOutcome, Signature, SigningMode, Stage,
};
use sync_core::model::Editor;
use sync_core::DocumentId;

/// How long the browsers may take in all (each of their waits times out sooner).
const BROWSER_DEADLINE: Duration = Duration::from_secs(300);
/// A string the fixture photo carries in its GPS EXIF (`web/e2e/fixtures/gps-photo.mjs`).
const MARKER: &str = "GPS-KOOPERACJA-ul.Lipowa-7";
const CAPTION: &str = "Kontrakt podpisany przy stole, strona 1";

fn photo_path() -> std::path::PathBuf {
    workspace_root().join("tests/fixtures/attachments/contract-with-gps.jpg")
}

/// Anna's case of the Kowalski family, signed in person, every change hers.
fn signed_case() -> Automerge {
    let anna = Editor::new("anna", "gops").expect("editor");
    let now = Utc::now();
    let mut household = std::collections::BTreeMap::new();
    household.insert(
        "p1".to_owned(),
        case::HouseholdMember {
            name: "Ewa Kowalska".into(),
            relation: "matka".into(),
            birth_date: None,
        },
    );
    let init = CaseInit {
        actor: automerge::ActorId::random(),
        owner: "anna".into(),
        lead_institution: "gops".into(),
        referral: case::Referral {
            by: "anna".into(),
            institution: "gops".into(),
            reason: "Zaległości czynszowe, dzieci często nieobecne w szkole.".into(),
            at: now,
        },
        household,
    };
    let mut doc = case::new_case(&init, &anna, now).expect("a case");
    let step = |doc: &mut Automerge, to: Stage| {
        workflow::transition(doc, to, &anna, Utc::now()).expect("stage move");
    };
    step(&mut doc, Stage::Screening);
    case::set_screening(
        &mut doc,
        ScreeningOutcome::Qualified,
        "Rodzina chce współpracy.",
        &anna,
        now,
    )
    .expect("screened");
    step(&mut doc, Stage::Diagnosis);
    case::set_diagnosis_section(
        &mut doc,
        DiagnosisSector::Social,
        "Zadłużenie, matka bez pracy.",
        &anna,
        now,
    )
    .expect("diagnosis");
    step(&mut doc, Stage::Ipp);
    let goal = GoalPlan {
        specific: "Spłata zaległości w ratach.".into(),
        measurable: "Rata co miesiąc.".into(),
        achievable: "Pomoc doradcy.".into(),
        relevant: "Bez tego eksmisja.".into(),
        deadline: (now + Days::days(365)).date_naive(),
        responsible: "gops".into(),
        services: Default::default(),
    };
    case::upsert_goal(&mut doc, "cel-1", &goal, &anna, now).expect("goal");
    step(&mut doc, Stage::Contract);
    case::set_contract_text(
        &mut doc,
        "Ewa spłaca zaległość; GOPS zapewnia doradcę.",
        &anna,
        now,
    )
    .expect("contract text");
    let signature = Signature {
        signer: "Ewa Kowalska".into(),
        mode: SigningMode::InPerson,
        consent_note: String::new(),
    };
    case::sign_contract(&mut doc, &signature, &anna, now).expect("signed");
    doc
}

/// The file the server holds for `case`, read piece by piece as a download would.
async fn server_copy(server: &RunningServer, case: DocumentId, sha256: &str) -> Vec<u8> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(sha256, &mut hash).expect("a SHA-256 in hex");
    let id = BlobId {
        document: case,
        sha256: hash,
    };
    let blobs = server.state.blobs.clone();
    let key = blobs
        .reading_key(case)
        .await
        .expect("key store")
        .expect("the case has a key");
    let meta = blobs.meta(&id).expect("blob store").expect("the blob");
    assert!(meta.complete, "accepted (hash verified): {meta:?}");
    let pieces = meta.size.div_ceil(kooperacja_server::blobs::PIECE as u64) as u32;
    let mut bytes = Vec::new();
    for index in 0..pieces {
        bytes.extend(blobs.read_piece(&id, &key, index).expect("a piece"));
    }
    bytes
}

/// Every EXIF field a JPEG carries (kamadak-exif's reading; none when it has no EXIF block).
fn exif_fields(jpeg: &[u8]) -> Vec<String> {
    match exif::Reader::new().read_from_container(&mut std::io::Cursor::new(jpeg)) {
        Ok(found) => found.fields().map(|f| f.tag.to_string()).collect(),
        Err(exif::Error::NotFound(_)) => Vec::new(),
        Err(other) => panic!("the JPEG's EXIF does not read: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_of_the_signed_contract_taken_offline_reaches_the_server_without_its_gps() {
    require_browser_tools();
    // The fixture really carries a GPS position: what the app must remove.
    let photo = std::fs::read(photo_path()).expect("the fixture photo");
    let fields = exif_fields(&photo);
    for tag in ["GPSLatitude", "GPSLongitude", "Make"] {
        assert!(fields.iter().any(|f| f == tag), "fixture EXIF {fields:?}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (owner_tablet, case_id) = create_as(&server, "anna", signed_case()).await;

    // A school's opinion, scanned to a PDF of 1.5 MB: sent in two ranges of 1 MiB.
    let opinion = pdf_file(1_500_000);
    let opinion_path = dir.path().join("opinia.pdf");
    std::fs::write(&opinion_path, &opinion).expect("the PDF written");

    let spec = json!({
        "pdf": opinion_path,
        "profiles": dir.path().join("profiles"),
        "pin": "135790",
        "worker": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "workerSecond": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "document": case_id.to_string(),
        "photo": photo_path(),
        "marker": MARKER,
        "caption": CAPTION,
    });
    let script = BrowserScript {
        script: "case-app-attachments.mjs",
        env: vec![("ATTACH_SPEC", spec.to_string())],
        deadline: BROWSER_DEADLINE,
    };
    let result: Json = script
        .run(&server, &cert, |request| async move {
            panic!("case-app-attachments.mjs asks nothing: {request}")
        })
        .await;
    eprintln!("attachments in the app: {result}");

    // Offline: stored, shown with a preview, beside the signing.
    assert_eq!(result["offlineState"], json!("na urządzeniu"));
    assert_eq!(result["mime"], json!("image/jpeg"));
    assert_eq!(result["kind"], json!("podpisany kontrakt"));
    assert_eq!(result["thumbnail"], json!(1));
    assert_eq!(
        result["besideSigning"],
        json!(1),
        "the scan beside its signing"
    );
    // A refused type, in the catalogue's Polish, and nothing attached.
    let refusal = result["refusal"].as_str().unwrap_or_default();
    assert!(
        refusal.starts_with("Nieobsługiwany rodzaj pliku"),
        "{refusal:?}"
    );
    assert_eq!(result["tilesAfterRefusal"], json!(1));
    // The stored photo: a JPEG with no EXIF, no GPS, no marker; its hash is its name.
    let sha = result["sha256"]
        .as_str()
        .expect("the file's hash")
        .to_owned();
    assert_eq!(result["stored"]["sha256"], json!(sha));
    assert_eq!(result["stored"]["jpeg"], json!(true));
    assert_eq!(
        result["stored"]["found"],
        json!([]),
        "no EXIF in the stored photo"
    );
    // The raw store: the file's pieces are there, and no byte of them in clear.
    let raw = &result["raw"];
    assert!(
        raw["counts"]["blob-pieces"].as_u64().unwrap_or(0) >= 2,
        "{raw}"
    );
    assert_eq!(raw["counts"]["uploads"], json!(1));
    assert_eq!(raw["found"], json!([]), "plaintext in IndexedDB: {raw}");
    // After closing the browser, offline.
    assert_eq!(result["afterReopen"]["state"], json!("na urządzeniu"));
    assert_eq!(result["afterReopen"]["thumbnail"], json!(1));
    assert_eq!(result["afterReopen"]["opened"], json!(sha));
    assert_eq!(result["sentState"], json!("wysłane"));

    // The server holds the same bytes, with no EXIF (kamadak-exif finds no block at all).
    let held = server_copy(&server, case_id, &sha).await;
    assert_eq!(sha256_hex(&held), sha);
    assert_eq!(
        held.len() as u64,
        result["stored"]["size"].as_u64().unwrap_or(0)
    );
    assert_eq!(
        exif_fields(&held),
        Vec::<String>::new(),
        "EXIF left on the server"
    );
    assert!(
        !held.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
        "the GPS marker reached the server"
    );
    // The PDF: cut off after its first MiB (69 % of it confirmed), resumed to the same file.
    let pdf = &result["pdf"];
    assert_eq!(pdf["icon"], json!("PDF"), "a labelled tile for a PDF");
    assert_eq!(pdf["paused"], json!("wysłano 69 %, reszta po połączeniu"));
    assert_eq!(pdf["sent"], json!("wysłane"));
    // One PUT went through, the next was cut (a retry may or may not come before the link is
    // back: its timing is the queue's backoff, not part of the story).
    assert!(pdf["puts"].as_u64().unwrap_or(0) >= 2, "{pdf}");
    let opinion_sha = sha256_hex(&opinion);
    assert_eq!(
        pdf["sha256"],
        json!(opinion_sha),
        "a PDF is stored as it is"
    );
    assert!(server_copy(&server, case_id, &opinion_sha).await == opinion);

    // The second device: the entry, the file on demand, then evicted.
    let second = &result["second"];
    assert_eq!(second["before"], json!("na serwerze"));
    assert_eq!(second["caption"], json!(CAPTION));
    assert_eq!(second["opened"]["sha256"], json!(sha));
    assert_eq!(second["after"], json!("pobrane na urządzenie"));
    assert_eq!(second["thumbnail"], json!(1));
    assert_eq!(second["evicted"], json!("na serwerze"));
    assert_eq!(
        second["evictedRaw"]["blob-pieces"],
        json!(1),
        "only the preview stays after eviction"
    );
    // Signing out left nothing.
    for (store, count) in result["afterWipe"].as_object().expect("store counts") {
        assert_eq!(count, &json!(0), "{store} after the wipe");
    }
    assert_eq!(result["problems"], json!([]), "no page errors");

    // The case's entry as the Rust model reads it on the owner's tablet (which synced it): the
    // signed contract, linked to the signing.
    let tablet = &owner_tablet;
    tablet
        .wait_until("the attachment entry on the tablet", WAIT, || async move {
            tablet
                .read(case_id, |doc| {
                    doc.is_some_and(|d| case::read_attachments(d).is_ok_and(|a| a.len() == 2))
                })
                .await
        })
        .await
        .expect("the entries arrive");
    let entries = tablet
        .read(case_id, |doc| {
            case::read_attachments(doc.expect("the case")).expect("valid attachments")
        })
        .await
        .expect("read");
    assert_eq!(entries.len(), 2, "the photo and the PDF");
    let entry = entries
        .values()
        .find(|e| e.attachment.mime == "image/jpeg")
        .expect("the photo's entry");
    assert_eq!(entry.attachment.sha256, sha);
    assert_eq!(entry.attachment.kind, AttachmentKind::SignedContract);
    assert_eq!(entry.attachment.link, Some(AttachmentLink::Signature(0)));
    assert_eq!(entry.attachment.caption, CAPTION);
    assert_eq!(entry.author, "anna");
    let audit: Vec<String> = audit_of(&server, case_id)
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert!(
        audit.iter().any(|k| k == "attachment_uploaded"),
        "{audit:?}"
    );
    assert!(
        audit.iter().any(|k| k == "attachment_downloaded"),
        "{audit:?}"
    );
    server.shutdown().await.expect("clean shutdown");
}
