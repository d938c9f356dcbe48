//! The case's attachments (*załączniki*): a signed contract's photo or scan, consent forms,
//! photos of housing conditions, letters from other institutions.
//!
//! The bytes stay out of the document: an entry names its file by SHA-256 (the server's blob
//! store and the tablet's cache are content-addressed), with its MIME type, size and kind, who
//! attached it and when, a caption, and optionally the signature or consent event it documents.
//! `attachments` is an append-only map keyed by a client-chosen id, like the other logs:
//! attaching under an existing id is refused and entries are never changed.
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `sha256` | string | 64 lowercase hex digits |
//! | `mime` | string | one of [`ALLOWED_MIME`] |
//! | `size` | integer | bytes, 1 to [`MAX_ATTACHMENT_BYTES`] |
//! | `kind` | [`AttachmentKind`] string | |
//! | `signature` | integer? | index into `contract/signatures` |
//! | `consent` | string? | id of an entry of `consents` |
//! | `author`, `institution` | string | who attached it |
//! | `at` | timestamp | |
//! | `caption` | string | may be empty |

use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use crate::error::SchemaError;
use crate::model::editor::{self, Editor};
use crate::model::reader::{check_id, Node};
use crate::model::write;

/// The MIME types an attachment may have: PDF, JPEG, PNG, and the phone camera formats HEIC/HEIF
/// (iPhones and many Android phones save photos so) and WebP (Android screenshots, browsers).
pub const ALLOWED_MIME: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heif",
    "image/webp",
];

/// The largest attachment the model accepts (1 GiB); servers set their own, lower limit.
pub const MAX_ATTACHMENT_BYTES: u64 = 1 << 30;

wire_enum! {
    /// What an attachment is (*rodzaj załącznika*).
    AttachmentKind {
        /// *Podpisany kontrakt* — a photo or scan of the signed paper contract.
        SignedContract = "signed_contract",
        /// *Zgoda* — a signed consent form.
        Consent = "consent",
        /// *Zdjęcie* — a photo (housing conditions...).
        Photo = "photo",
        /// *Dokument innej instytucji* — a court's letter, a school's opinion...
        ExternalDocument = "external_document",
    }
}

/// What a signature or consent entry an attachment documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentLink {
    /// The contract signature at this index of `contract/signatures`.
    Signature(u64),
    /// The consent event with this id.
    Consent(String),
}

/// A new attachment entry: the file's description, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// SHA-256 of the bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// The MIME type, one of [`ALLOWED_MIME`].
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// What it is.
    pub kind: AttachmentKind,
    /// The signature or consent it documents, if any.
    pub link: Option<AttachmentLink>,
    /// A caption (*opis*), may be empty.
    pub caption: String,
}

/// An attachment entry as read, with who attached it and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentView {
    /// The entry.
    pub attachment: Attachment,
    /// The login of who attached it.
    pub author: String,
    /// The institution they acted for.
    pub institution: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// How many first bytes [`sniff_mime`] needs (fewer only when the whole file is shorter).
pub const SNIFF_BYTES: usize = 16;

/// The MIME type of a file starting with `head`, told by its first bytes (never by its name or
/// a client's word), or `None` for a type an attachment may not have. The server and the
/// tablet judge a file the same way.
pub fn sniff_mime(head: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if head.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if head.starts_with(PNG) {
        return Some("image/png");
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some("image/heic"),
            b"mif1" | b"msf1" => Some("image/heif"),
            _ => None,
        };
    }
    None
}

/// Whether `text` is a SHA-256 as entries and the blob store name files: 64 lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Attaches a file to the case under `attachment_id`; an existing id is refused. A link must
/// name a signature or consent the case holds.
///
/// A case created before attachments existed gets its `attachments` map with its first entry.
pub fn attach_file(
    doc: &mut Automerge,
    attachment_id: &str,
    attachment: &Attachment,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = open_case(doc)?;
    let parent = key::ATTACHMENTS;
    check_id(parent, attachment_id)?;
    let path = format!("{parent}/{attachment_id}");
    check_entry(&root, &path, attachment)?;
    let existing = if root.has(parent)? {
        let map = root.map(parent)?;
        map.absent(attachment_id, "attachment")?;
        Some(map.id())
    } else {
        None
    };
    let message = editor::message(
        format_args!(
            "attachments/{attachment_id}: {} {}",
            attachment.kind, attachment.mime
        ),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let attachments = match existing {
            Some(id) => id,
            None => write::new_map(tx, &ROOT, parent)?,
        };
        let map = write::new_map(tx, &attachments, attachment_id)?;
        tx.put(&map, key::SHA256, attachment.sha256.as_str())?;
        tx.put(&map, key::MIME, attachment.mime.as_str())?;
        tx.put(&map, key::SIZE, attachment.size)?;
        tx.put(&map, key::KIND, attachment.kind.as_str())?;
        match &attachment.link {
            Some(AttachmentLink::Signature(index)) => tx.put(&map, key::SIGNATURE, *index)?,
            Some(AttachmentLink::Consent(id)) => tx.put(&map, key::CONSENT, id.as_str())?,
            None => {}
        }
        tx.put(&map, key::AUTHOR, by.login())?;
        tx.put(&map, key::INSTITUTION, by.institution())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        tx.put(&map, key::CAPTION, attachment.caption.as_str())?;
        Ok(())
    })
}

/// Every attachment entry of the case by id, each checked; none for a case without the map.
pub fn read_attachments(doc: &Automerge) -> Result<BTreeMap<String, AttachmentView>, SchemaError> {
    let root = open_case(doc)?;
    if !root.has(key::ATTACHMENTS)? {
        return Ok(BTreeMap::new());
    }
    let map = root.map(key::ATTACHMENTS)?;
    let mut out = BTreeMap::new();
    for (id, node) in map.entries()? {
        let view = read_entry(&node)?;
        check_entry(&root, node.path(), &view.attachment)?;
        check_written_once(&node)?;
        out.insert(id, view);
    }
    Ok(out)
}

/// The ids of the case's attachment entries, unchecked (cheap: no entry is read); for a host
/// that has validated the document already.
pub fn attachment_ids(doc: &Automerge) -> Result<BTreeSet<String>, SchemaError> {
    let root = open_case(doc)?;
    if !root.has(key::ATTACHMENTS)? {
        return Ok(BTreeSet::new());
    }
    Ok(doc.keys(root.map(key::ATTACHMENTS)?.id()).collect())
}

/// The SHA-256 of every file a case refers to (the server keeps these blobs).
pub fn referenced_blobs(doc: &Automerge) -> Result<Vec<String>, SchemaError> {
    Ok(read_attachments(doc)?
        .into_values()
        .map(|view| view.attachment.sha256)
        .collect())
}

fn read_entry(node: &Node<'_>) -> Result<AttachmentView, SchemaError> {
    let signature = node.opt_uint(key::SIGNATURE)?;
    let consent = node.opt_str(key::CONSENT)?;
    let link = match (signature, consent) {
        (Some(_), Some(_)) => {
            return Err(node.error(key::CONSENT, "an attachment links one entry, not two"))
        }
        (Some(index), None) => Some(AttachmentLink::Signature(index)),
        (None, Some(id)) => Some(AttachmentLink::Consent(id)),
        (None, None) => None,
    };
    Ok(AttachmentView {
        attachment: Attachment {
            sha256: node.str(key::SHA256)?,
            mime: node.str(key::MIME)?,
            size: node
                .opt_uint(key::SIZE)?
                .ok_or_else(|| node.error(key::SIZE, "missing"))?,
            kind: node.enumeration(key::KIND)?,
            link,
            caption: node.str(key::CAPTION)?,
        },
        author: node.str(key::AUTHOR)?,
        institution: node.str(key::INSTITUTION)?,
        at: node.timestamp(key::AT)?,
    })
}

/// An entry is written once, whole: every value in it was put by the change that made the
/// entry (append-only, whoever sends the change: a later or concurrent change that rewrites
/// the hash, the caption or the author of an existing entry breaks the rule).
fn check_written_once(node: &Node<'_>) -> Result<(), SchemaError> {
    let doc = node.doc();
    let entry = node.id();
    let made_by = doc.hash_for_opid(&entry);
    let keys: Vec<String> = doc.keys(&entry).collect();
    for name in keys {
        let values = doc
            .get_all(&entry, name.as_str())
            .map_err(|e| node.error(&name, e.to_string()))?;
        for (_, op) in values {
            if made_by.is_none() || doc.hash_for_opid(&op) != made_by {
                return Err(node.error(
                    &name,
                    "an attachment entry is written once: its fields never change",
                ));
            }
        }
    }
    Ok(())
}

/// The checks an entry passes both when written and when read: the hash, type, size and link.
fn check_entry(root: &Node<'_>, path: &str, entry: &Attachment) -> Result<(), SchemaError> {
    let field = |name: &str, reason: &str| SchemaError::Field {
        path: format!("{path}/{name}"),
        reason: reason.to_owned(),
    };
    if !is_sha256_hex(&entry.sha256) {
        return Err(field(key::SHA256, "expected 64 lowercase hex digits"));
    }
    if !ALLOWED_MIME.contains(&entry.mime.as_str()) {
        return Err(field(
            key::MIME,
            &format!("expected one of {}", ALLOWED_MIME.join(", ")),
        ));
    }
    if entry.size == 0 || entry.size > MAX_ATTACHMENT_BYTES {
        return Err(field(
            key::SIZE,
            &format!("expected 1 to {MAX_ATTACHMENT_BYTES} bytes"),
        ));
    }
    let missing = match &entry.link {
        Some(AttachmentLink::Signature(index)) => {
            let held = root.map(key::CONTRACT)?.list(key::SIGNATURES)?.len() as u64;
            (*index >= held).then_some((key::SIGNATURE, "no such contract signature"))
        }
        Some(AttachmentLink::Consent(id)) => {
            (!root.map(key::CONSENTS)?.has(id)?).then_some((key::CONSENT, "no such consent event"))
        }
        None => None,
    };
    if let Some((name, reason)) = missing {
        return Err(field(name, reason));
    }
    Ok(())
}
