//! The device's blob store, metadata stripping, eviction and backoff, without a server.

use std::io::{Cursor, Read};
use std::time::Duration;

use chrono::Utc;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use sync_core::DocumentId;

use super::local::{to_evict, BlobKey, LocalBlobs, LocalMeta, PIECE};
use super::queue::backoff;
use super::strip;
use crate::crypto::TabletKey;
use crate::error::SdkError;

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::fill(&mut bytes[..]);
    bytes[..9].copy_from_slice(b"%PDF-1.7\n");
    bytes
}

fn store() -> (tempfile::TempDir, LocalBlobs, TabletKey) {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = TabletKey::random();
    let blobs = LocalBlobs::new(dir.path().join("attachments"), &key);
    (dir, blobs, key)
}

fn read_all(blobs: &LocalBlobs, key: &BlobKey) -> Vec<u8> {
    let mut out = Vec::new();
    blobs
        .reader(key)
        .expect("reader")
        .read_to_end(&mut out)
        .expect("read");
    out
}

#[test]
fn a_file_of_several_pieces_is_stored_sealed_and_read_back_from_any_offset() {
    let (dir, blobs, _key) = store();
    let document = DocumentId::from_random([3; 16]);
    let file = pdf(2 * PIECE + 1234);
    let stored = blobs
        .import(
            document,
            &mut Cursor::new(file.clone()),
            1 << 30,
            Utc::now(),
        )
        .expect("stored");
    assert_eq!(stored.key.sha256, <[u8; 32]>::from(Sha256::digest(&file)));
    assert_eq!(stored.meta.mime, "application/pdf");
    assert!(!stored.meta.uploaded && stored.fresh);
    assert_eq!(read_all(&blobs, &stored.key), file);

    let mut reader = blobs.reader(&stored.key).expect("reader");
    reader.seek_to(PIECE as u64 + 10).expect("seek");
    let mut rest = Vec::new();
    while let Ok(chunk) = reader.next_chunk() {
        if chunk.is_empty() {
            break;
        }
        rest.extend(chunk);
    }
    assert_eq!(rest, file[PIECE + 10..]);

    // On disk: no plaintext, and another key opens nothing.
    let on_disk = std::fs::read(
        dir.path()
            .join("attachments")
            .join(document.to_string())
            .join(format!("{}.blob", stored.key.hex())),
    )
    .expect("blob file");
    assert!(!on_disk.windows(9).any(|w| w == b"%PDF-1.7\n"));
    let stranger = LocalBlobs::new(dir.path().join("attachments"), &TabletKey::random());
    assert!(matches!(
        stranger.meta(&stored.key),
        Err(SdkError::AttachmentCorrupt(_))
    ));

    let again = blobs
        .import(document, &mut Cursor::new(file), 1 << 30, Utc::now())
        .expect("stored again");
    assert!(!again.fresh, "the same bytes are kept once");
}

#[test]
fn too_large_and_unknown_types_are_refused_and_leave_nothing() {
    let (dir, blobs, _) = store();
    let document = DocumentId::from_random([4; 16]);
    let refused = blobs.import(
        document,
        &mut Cursor::new(pdf(PIECE + 1)),
        PIECE as u64,
        Utc::now(),
    );
    assert!(matches!(
        refused,
        Err(SdkError::AttachmentTooLarge { limit, .. }) if limit == PIECE as u64
    ));
    let zip = b"PK\x03\x04\x14\x00\x06\x00 more bytes".to_vec();
    assert!(matches!(
        blobs.import(document, &mut Cursor::new(zip), 1 << 20, Utc::now()),
        Err(SdkError::AttachmentType)
    ));
    let left: Vec<_> = std::fs::read_dir(dir.path().join("attachments").join(document.to_string()))
        .expect("folder")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_cut_download_continues_after_its_whole_pieces_and_a_wrong_hash_is_discarded() {
    let (_dir, blobs, _) = store();
    let file = pdf(3 * PIECE + 7);
    let key = BlobKey {
        document: DocumentId::from_random([5; 16]),
        sha256: Sha256::digest(&file).into(),
    };
    let mut first = blobs.begin_download(&key).expect("begin");
    first.push(&file[..PIECE + PIECE / 2]).expect("push");
    drop(first); // The connection is lost: the half piece is gone, the whole one stays.
    let mut second = blobs.begin_download(&key).expect("resume");
    assert_eq!(second.size, PIECE as u64);
    second.push(&file[PIECE..]).expect("push");
    let meta = blobs
        .finish_download(&key, second, "application/pdf", Utc::now())
        .expect("verified");
    assert!(meta.uploaded);
    assert_eq!(read_all(&blobs, &key), file);

    let other = BlobKey {
        sha256: [9; 32],
        ..key
    };
    let mut wrong = blobs.begin_download(&other).expect("begin");
    wrong.push(&file).expect("push");
    assert!(matches!(
        blobs.finish_download(&other, wrong, "application/pdf", Utc::now()),
        Err(SdkError::AttachmentCorrupt(_))
    ));
    assert!(!blobs.has_bytes(&other));
}

#[test]
fn eviction_takes_only_uploaded_blobs_unused_since_the_cutoff() {
    let meta = |uploaded, used_at| LocalMeta {
        size: 1,
        mime: "application/pdf".into(),
        uploaded,
        refused: None,
        used_at,
    };
    let key = |n| BlobKey {
        document: DocumentId::from_random([n; 16]),
        sha256: [n; 32],
    };
    let blobs = [
        (key(1), meta(true, 100)),
        (key(2), meta(true, 201)),
        (key(3), meta(false, 50)),
        (key(4), meta(true, 200)),
    ];
    assert_eq!(to_evict(&blobs, 200), vec![key(1), key(4)]);
}

#[test]
fn backoff_doubles_up_to_its_ceiling_with_jitter() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (min, max) = (Duration::from_millis(200), Duration::from_secs(30));
    for attempt in 1..40 {
        let wait = backoff(attempt, min, max, &mut rng);
        let ceiling = (min * 2u32.pow((attempt - 1).min(20))).min(max);
        assert!(
            wait <= ceiling && wait >= ceiling / 2,
            "{attempt}: {wait:?}"
        );
    }
}

#[test]
fn a_jpeg_loses_exif_and_comments_and_keeps_its_image() {
    let jpeg = [
        &[0xFF, 0xD8][..],
        &[0xFF, 0xE1, 0x00, 0x10],
        b"Exif\0\0MM\0\x2A\0\0\0\x08",
        &[0xFF, 0xFE, 0x00, 0x07],
        b"where",
        &[
            0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x3F,
        ],
        &[0xFF, 0xD9],
    ]
    .concat();
    let clean = strip::strip("image/jpeg", jpeg.clone()).expect("stripped");
    assert!(!clean.windows(4).any(|w| w == b"Exif"));
    assert!(!clean.windows(5).any(|w| w == b"where"));
    assert!(clean.ends_with(&[0x3F, 0x00, 0x3F, 0xFF, 0xD9]));
    // A second image appended after the first (phones' multi-picture files) goes, with its EXIF.
    let with_trailer = [&jpeg[..], &jpeg[..]].concat();
    let clean = strip::strip("image/jpeg", with_trailer).expect("stripped");
    assert!(!clean.windows(4).any(|w| w == b"Exif"));
    assert_eq!(clean.windows(2).filter(|w| *w == [0xFF, 0xD9]).count(), 1);
    assert!(matches!(
        strip::strip("image/heic", jpeg),
        Err(SdkError::PhotoMetadata(_))
    ));
    assert!(matches!(
        strip::strip("image/jpeg", b"\xFF\xD8\xFF garbage".to_vec()),
        Err(SdkError::PhotoMetadata(_))
    ));
}
