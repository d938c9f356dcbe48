//! A blob's name ([`BlobId`]: its case and the SHA-256 of its bytes, also its key in sled) and
//! the sled tree of the blobs' records: what the backend, the blob files and the backups'
//! carrying format all name blobs by.

use sync_core::DocumentId;

/// The sled tree of attachment records.
pub const META_TREE: &str = "attachment_meta";

/// One blob's name: its case and its content hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId {
    /// The case.
    pub document: DocumentId,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

impl BlobId {
    pub(super) fn key(&self) -> Vec<u8> {
        [self.document.as_bytes().as_slice(), &self.sha256].concat()
    }

    pub(super) fn from_key(key: &[u8]) -> Option<Self> {
        let document: [u8; 16] = key.get(..16)?.try_into().ok()?;
        let sha256: [u8; 32] = key.get(16..48)?.try_into().ok()?;
        Some(Self {
            document: DocumentId::from_bytes(document),
            sha256,
        })
    }
}
