//! Attachments on the tablet (issue #18): Anna photographs the family's signed contract at the
//! kitchen table with no connection; the photo is stored encrypted on her tablet without its
//! GPS position, the queue sends it when she is back online, and Bartek's tablet, which syncs
//! only the entry, fetches the photo when he opens it. Uploads survive a killed app and a
//! restarted server, a 25 MiB scan crosses a slow mobile link, unused files leave the tablet
//! (never one still waiting for upload), and the ROPS export knows nothing of them.

use std::io::{Cursor, Read};
use std::path::Path;

use client_sdk::{
    AttachmentEvent, AttachmentPlace, ServerAddress, Tablet, TabletConfig, TabletKey,
};
use kooperacja_server::admin::{run, AdminCommand};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::fault_proxy::FrameProxy;
use kooperacja_test_support::*;
use sync_core::model::case::AttachmentKind;
use sync_core::{Coded, DocumentId};

/// A camera's JPEG (a tiny but well-formed 8×8 grey image) with the EXIF a phone writes: the
/// GPS position of the family's flat, the phone's make and model.
fn camera_photo() -> Vec<u8> {
    use img_parts::ImageEXIF;
    let image = [
        &[0xFF, 0xD8][..],
        // APP0 JFIF.
        &[0xFF, 0xE0, 0x00, 0x10],
        b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0",
        // A quantisation table of ones.
        &[0xFF, 0xDB, 0x00, 0x43, 0x00],
        &[1u8; 64],
        // Baseline frame: 8×8, one component.
        &[
            0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
        ],
        // Huffman tables: DC and AC, one one-bit code for symbol 0.
        &[0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01],
        &[0u8; 15],
        &[0x00],
        &[0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01],
        &[0u8; 15],
        &[0x00],
        // Scan: one block, DC difference 0 and end of block, padded with ones.
        &[
            0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x3F,
        ],
        &[0xFF, 0xD9],
    ]
    .concat();
    let rational = |n: u32| exif::Rational { num: n, denom: 1 };
    let fields = [
        (
            exif::Tag::Make,
            exif::Value::Ascii(vec![b"Telefon".to_vec()]),
        ),
        (
            exif::Tag::Model,
            exif::Value::Ascii(vec![b"Model 7".to_vec()]),
        ),
        (
            exif::Tag::GPSLatitudeRef,
            exif::Value::Ascii(vec![b"N".to_vec()]),
        ),
        (
            exif::Tag::GPSLatitude,
            exif::Value::Rational(vec![rational(52), rational(13), rational(56)]),
        ),
        (
            exif::Tag::GPSLongitudeRef,
            exif::Value::Ascii(vec![b"E".to_vec()]),
        ),
        (
            exif::Tag::GPSLongitude,
            exif::Value::Rational(vec![rational(21), rational(0), rational(30)]),
        ),
    ]
    .map(|(tag, value)| exif::Field {
        tag,
        ifd_num: exif::In::PRIMARY,
        value,
    });
    let mut writer = exif::experimental::Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("EXIF written");
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(image.into()).expect("a JPEG");
    jpeg.set_exif(Some(tiff.into_inner().into()));
    jpeg.encoder().bytes().to_vec()
}

/// The photo's EXIF as a reader of it finds it.
fn exif_of(photo: &[u8]) -> Result<exif::Exif, exif::Error> {
    exif::Reader::new().read_from_container(&mut Cursor::new(photo))
}

fn tablet_settings(
    dir: &Path,
    key: &TabletKey,
    name: &str,
    login: &str,
    server: ServerAddress,
    online: bool,
) -> TabletConfig {
    let mut settings = config(dir, key, name, login).with_server(server);
    settings.online = online;
    // The institution the region's directory gives Anna and Bartek.
    settings.institution = "gops".into();
    settings
}

/// The bytes of an attachment on the tablet, read as the app reads them (off the executor).
async fn read_attachment(tablet: &Tablet, case: DocumentId, sha256: &str) -> Vec<u8> {
    let mut reader = tablet
        .open_attachment(case, sha256)
        .await
        .expect("opens on the device");
    tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).expect("reads");
        bytes
    })
    .await
    .expect("read")
}

/// Waits for the upload of `sha256` to be accepted; returns the largest progress reported.
async fn wait_uploaded(
    events: &mut tokio::sync::broadcast::Receiver<AttachmentEvent>,
    sha256: &str,
) -> u64 {
    let mut sent = 0;
    wait_event(events, "the upload accepted", |event| match event {
        AttachmentEvent::Uploading {
            sha256: s, sent: n, ..
        } if s == sha256 => {
            sent = sent.max(*n);
            false
        }
        AttachmentEvent::Uploaded { sha256: s, .. } => s == sha256,
        _ => false,
    })
    .await;
    sent
}

/// Waits until the upload of `sha256` has reached `bytes` (sent or held by the server).
async fn wait_progress(
    events: &mut tokio::sync::broadcast::Receiver<AttachmentEvent>,
    sha256: &str,
    bytes: u64,
) {
    wait_event(events, "upload progress", |event| {
        matches!(event, AttachmentEvent::Uploading { sha256: s, sent, .. } if s == sha256 && *sent >= bytes)
    })
    .await;
}

fn place_of(states: &[client_sdk::AttachmentState], sha256: &str) -> AttachmentPlace {
    states
        .iter()
        .find(|s| s.view.attachment.sha256 == sha256)
        .map(|s| s.place.clone())
        .expect("the case lists the attachment")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anna_photographs_the_signed_contract_offline_and_bartek_opens_it_on_demand() {
    let server_dir = tempfile::tempdir().expect("dir");
    let server = start_server(server_dir.path()).await;
    provision_region(&server);
    let anna_device = enroll(&server, "anna");
    let (anna_dir, anna_key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let address = kooperacja_test_support::address(&server, &anna_device.token, None);
    let anna = Tablet::open(tablet_settings(
        anna_dir.path(),
        &anna_key,
        "tablet-anna",
        "anna",
        address,
        false,
    ))
    .await
    .expect("opens");
    let case = create_referred_case(&anna).await;

    // At the kitchen table, offline: the camera's photo, with where it was taken.
    let photo = camera_photo();
    let original = exif_of(&photo).expect("the camera wrote EXIF");
    assert!(original
        .get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
        .is_some());
    let camera_file = anna_dir.path().join("IMG_0001.jpg");
    std::fs::write(&camera_file, &photo).expect("camera file");
    let mut events = anna.attachment_events();
    let attached = anna
        .attach_file(
            case,
            &camera_file,
            AttachmentKind::SignedContract,
            None,
            "Kontrakt podpisany przy stole",
        )
        .await
        .expect("attached offline");
    assert_eq!(attached.mime, "image/jpeg");
    let states = anna.attachments(case).await.expect("attachments");
    assert_eq!(states.len(), 1);
    assert_eq!(
        states[0].view.attachment.kind,
        AttachmentKind::SignedContract
    );
    assert_eq!(states[0].view.author, "anna");
    assert_eq!(
        place_of(&states, &attached.sha256),
        AttachmentPlace::WaitingForUpload
    );

    // What the tablet stored has no EXIF at all (no GPS, no phone), and is still the image.
    let stored = read_attachment(&anna, case, &attached.sha256).await;
    assert_eq!(sha256_hex(&stored), attached.sha256);
    assert!(
        matches!(exif_of(&stored), Err(exif::Error::NotFound(_))),
        "EXIF left in the stored photo: {:?}",
        exif_of(&stored).map(|e| e.fields().map(|f| f.tag).collect::<Vec<_>>())
    );
    assert!(!stored.windows(7).any(|w| w == b"Telefon"));
    assert!(
        stored.ends_with(&[0x3F, 0x00, 0x3F, 0xFF, 0xD9]),
        "the scan is kept"
    );
    // Nothing readable on the tablet's disk.
    std::fs::remove_file(&camera_file).expect("the app deletes the camera's copy");
    for file in files_under(&anna_dir.path().join("attachments")) {
        let bytes = std::fs::read(&file).expect("file");
        assert!(!bytes.windows(4).any(|w| w == b"JFIF"), "{file:?}");
    }

    // Back online: the queue sends it.
    anna.set_online(true).expect("online");
    let sent = wait_uploaded(&mut events, &attached.sha256).await;
    assert_eq!(sent, attached.size, "progress reached the whole file");
    let states = anna.attachments(case).await.expect("attachments");
    assert_eq!(place_of(&states, &attached.sha256), AttachmentPlace::Cached);

    // Bartek, her colleague, gets the case: the entry, not the bytes.
    anna.assign(case, "bartek").await.expect("shared");
    let (bartek_dir, bartek_key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let bartek_device = enroll(&server, "bartek");
    let bartek = online_tablet(
        bartek_dir.path(),
        &bartek_key,
        "tablet-bartek",
        "bartek",
        &server,
        &bartek_device,
        None,
    )
    .await;
    wait_holds(&bartek, case).await;
    let states = bartek.attachments(case).await.expect("attachments");
    assert_eq!(
        place_of(&states, &attached.sha256),
        AttachmentPlace::OnServer
    );
    assert_eq!(
        files_under(&bartek_dir.path().join("attachments")),
        Vec::<std::path::PathBuf>::new()
    );
    let not_here = bartek
        .open_attachment(case, &attached.sha256)
        .await
        .expect_err("not downloaded yet");
    assert_eq!(not_here.code(), "sdk.attachment-not-cached", "{not_here}");

    // He opens it: downloaded with progress, verified, readable offline from now on.
    let mut downloads = bartek.attachment_events();
    bartek
        .download_attachment(case, &attached.sha256)
        .await
        .expect("downloaded");
    let mut received = 0;
    wait_event(&mut downloads, "the download done", |event| match event {
        AttachmentEvent::Downloading {
            received: n, size, ..
        } => {
            assert_eq!(*size, attached.size);
            received = received.max(*n);
            false
        }
        AttachmentEvent::Downloaded { sha256, .. } => *sha256 == attached.sha256,
        _ => false,
    })
    .await;
    assert_eq!(received, attached.size);
    bartek.set_online(false).expect("offline");
    assert_eq!(
        read_attachment(&bartek, case, &attached.sha256).await,
        stored
    );
    let unknown = bartek
        .download_attachment(case, &"0".repeat(64))
        .await
        .expect_err("no such entry");
    assert_eq!(unknown.code(), "sdk.attachment-unknown");

    anna.shutdown().await;
    bartek.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

fn loopback(dir: &Path) -> ServeConfig {
    ServeConfig::for_tests(dir, TlsMode::InsecureLoopback)
}

/// Anna's tablet at `proxy`, offline, with a case the server has and `scan` attached.
async fn anna_with_scan(
    server: &RunningServer,
    proxy: &FrameProxy,
    dir: &Path,
    key: &TabletKey,
    scan: &[u8],
) -> (Tablet, TabletConfig, DocumentId, String) {
    let device = enroll(server, "anna");
    let address = kooperacja_test_support::address(server, &device.token, Some(proxy.addr));
    let settings = tablet_settings(dir, key, "tablet-anna", "anna", address, true);
    let anna = Tablet::open(settings.clone()).await.expect("opens");
    let case = create_referred_case(&anna).await;
    wait_up_to_date(&anna).await;
    anna.set_online(false).expect("offline");
    let file = dir.join("skan.pdf");
    std::fs::write(&file, scan).expect("scan file");
    let attached = anna
        .attach_file(
            case,
            &file,
            AttachmentKind::ExternalDocument,
            None,
            "Pismo z sądu",
        )
        .await
        .expect("attached");
    assert_eq!(attached.sha256, sha256_hex(scan));
    (anna, settings, case, attached.sha256)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_by_a_killed_app_and_a_restarted_server_resumes_to_the_verified_scan() {
    let server_dir = tempfile::tempdir().expect("dir");
    let mut server = start_with(loopback(server_dir.path())).await;
    provision_region(&server);
    let proxy = FrameProxy::start(server.addr, rand::random()).await;
    // A slow link, so that the cuts fall in the middle of the transfer.
    proxy.slow_link(Some(2 * 1024 * 1024));
    let (dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let scan = pdf_file(6 * 1024 * 1024 + rand::random_range(0..256 * 1024));
    let size = scan.len() as u64;
    let (anna, settings, case, sha) =
        anna_with_scan(&server, &proxy, dir.path(), &key, &scan).await;

    // The app is killed at a random point of the upload.
    let mut events = anna.attachment_events();
    anna.set_online(true).expect("online");
    let kill_at = rand::random_range(size / 8..size / 3);
    wait_progress(&mut events, &sha, kill_at).await;
    drop(anna);
    let token = enroll(&server, "anna").token;
    let kept = upload_offset(&server, &token, case, &sha).await;
    assert!(kept < size, "the server has part of it: {kept} of {size}");

    // It starts again and continues; the server is restarted at another random point.
    let anna = Tablet::open(settings).await.expect("reopens");
    let mut events = anna.attachment_events();
    let restart_at = rand::random_range(size / 2..size * 3 / 4);
    wait_progress(&mut events, &sha, restart_at).await;
    proxy.cut_all();
    server.shutdown().await.expect("shutdown");
    server = start_with(loopback(server_dir.path())).await;
    proxy.set_upstream(server.addr);
    wait_uploaded(&mut events, &sha).await;

    // One verified file on the server, sent in several resumed parts.
    let token = enroll(&server, "anna").token;
    let path = attachment_path(case, &sha, "");
    let download = get_binary(server.addr, &token, &path, None).await;
    assert_eq!(download.status, 200);
    assert!(download.body == scan, "the server's file is the scan");
    let resumed: Vec<u64> = audit_of(&server, case)
        .into_iter()
        .filter(|r| r.kind.starts_with("attachment_upload") || r.kind == "attachment_uploaded")
        .filter_map(|r| r.detail["from"].as_u64())
        .filter(|from| *from > 0)
        .collect();
    assert!(!resumed.is_empty(), "an upload resumed past its start");
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

/// The bytes the server holds of a blob (waiting out a request it still finishes).
async fn upload_offset(server: &RunningServer, token: &str, case: DocumentId, sha: &str) -> u64 {
    received(server.addr, token, case, sha).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_25_mib_scan_crosses_a_slow_mobile_link() {
    let server_dir = tempfile::tempdir().expect("dir");
    let server = start_with(loopback(server_dir.path())).await;
    provision_region(&server);
    let proxy = FrameProxy::start(server.addr, rand::random()).await;
    proxy.slow_link(Some(12 * 1024 * 1024));
    let (dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let scan = pdf_file(25 * 1024 * 1024);
    let (anna, _, case, sha) = anna_with_scan(&server, &proxy, dir.path(), &key, &scan).await;
    let mut events = anna.attachment_events();
    anna.set_online(true).expect("online");
    let sent = wait_uploaded(&mut events, &sha).await;
    assert_eq!(sent, scan.len() as u64);
    assert!(
        proxy
            .counts()
            .plain_bytes
            .load(std::sync::atomic::Ordering::SeqCst)
            >= scan.len(),
        "the file crossed the slow link"
    );
    let token = enroll(&server, "anna").token;
    let status = get_binary(
        server.addr,
        &token,
        &attachment_path(case, &sha, "/status"),
        None,
    )
    .await;
    assert_eq!(status.json()["complete"], true);
    assert_eq!(status.json()["received"].as_u64(), Some(scan.len() as u64));
    let download = get_binary(server.addr, &token, &attachment_path(case, &sha, ""), None).await;
    assert_eq!(sha256_hex(&download.body), sha);
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_uploaded_files_unopened_for_a_while_leave_the_tablet() {
    let server_dir = tempfile::tempdir().expect("dir");
    let server = start_server(server_dir.path()).await;
    provision_region(&server);
    let device = enroll(&server, "anna");
    let (dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let address = kooperacja_test_support::address(&server, &device.token, None);
    let anna = Tablet::open(tablet_settings(
        dir.path(),
        &key,
        "tablet-anna",
        "anna",
        address,
        true,
    ))
    .await
    .expect("opens");
    let case = create_referred_case(&anna).await;
    let mut events = anna.attachment_events();
    let attach = |name: &'static str| {
        let anna = &anna;
        let file = dir.path().join(name);
        async move {
            std::fs::write(&file, pdf_file(300 * 1024)).expect("file");
            anna.attach_file(case, &file, AttachmentKind::ExternalDocument, None, name)
                .await
                .expect("attached")
                .sha256
        }
    };
    let old = attach("stare.pdf").await;
    wait_uploaded(&mut events, &old).await;
    let cutoff = chrono::Utc::now();
    let opened = attach("otwierane.pdf").await;
    wait_uploaded(&mut events, &opened).await;
    let _ = read_attachment(&anna, case, &opened).await;
    anna.set_online(false).expect("offline");
    let waiting = attach("czeka.pdf").await;

    // Files not used since the cutoff go, if the server has them.
    let evicted = anna.evict_attachments(cutoff).await.expect("evicted");
    assert_eq!(evicted, vec![(case, old.clone())]);
    let states = anna.attachments(case).await.expect("attachments");
    assert_eq!(place_of(&states, &old), AttachmentPlace::OnServer);
    assert_eq!(place_of(&states, &opened), AttachmentPlace::Cached);
    assert_eq!(
        place_of(&states, &waiting),
        AttachmentPlace::WaitingForUpload
    );

    // Even evicting everything used until now keeps the file the server lacks.
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let evicted = anna.evict_attachments(later).await.expect("evicted");
    assert_eq!(evicted, vec![(case, opened.clone())]);
    let states = anna.attachments(case).await.expect("attachments");
    assert_eq!(
        place_of(&states, &waiting),
        AttachmentPlace::WaitingForUpload
    );
    let _ = read_attachment(&anna, case, &waiting).await;

    // An evicted file comes back on demand.
    anna.set_online(true).expect("online");
    wait_uploaded(&mut events, &waiting).await;
    anna.download_attachment(case, &old)
        .await
        .expect("downloaded again");
    let bytes = read_attachment(&anna, case, &old).await;
    assert_eq!(sha256_hex(&bytes), old);
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_de_identified_export_leaves_attachments_out() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::Dev);
    config.allow_untyped = false;
    let server = start_with(config).await;
    provision_region(&server);
    let device = enroll(&server, "anna");
    let (tablet_dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let address = kooperacja_test_support::address(&server, &device.token, None);
    let anna = Tablet::open(tablet_settings(
        tablet_dir.path(),
        &key,
        "tablet-anna",
        "anna",
        address,
        true,
    ))
    .await
    .expect("opens");
    let case = create_referred_case(&anna).await;
    let mut events = anna.attachment_events();
    let file = tablet_dir.path().join("wyrok.pdf");
    std::fs::write(&file, pdf_file(100 * 1024)).expect("file");
    let caption = "Wyrok sądu rodzinnego w sprawie Kowalskich";
    let attached = anna
        .attach_file(case, &file, AttachmentKind::ExternalDocument, None, caption)
        .await
        .expect("attached");
    wait_uploaded(&mut events, &attached.sha256).await;
    wait_up_to_date(&anna).await;
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");

    for format in ["json", "csv"] {
        let export = run(
            dir.path(),
            &dir.path().join("secrets"),
            None,
            AdminCommand::Export {
                format: format.into(),
            },
        )
        .expect("export");
        let rows = if format == "json" {
            let value: serde_json::Value = serde_json::from_str(&export).expect("json");
            value["cases"].as_array().expect("rows").len()
        } else {
            export.lines().count() - 1
        };
        assert_eq!(rows, 1, "the case is exported: {export}");
        for secret in [
            attached.sha256.as_str(),
            "Kowalskich",
            "Wyrok",
            "application/pdf",
            "external_document",
            "attachment",
            "załącz",
        ] {
            assert!(
                !export.to_lowercase().contains(&secret.to_lowercase()),
                "{secret:?} in the {format} export: {export}"
            );
        }
    }
}
