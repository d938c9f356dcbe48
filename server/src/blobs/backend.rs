//! Where attachment pieces and their records are kept: two sled trees beside the documents
//! (`attachment_meta`, `attachment_pieces`), or two PostgreSQL tables of their own
//! (`attachment_meta`, `attachment_pieces`, migration 4 of `crate::pg`), so any node of a
//! region serves any blob. Every call blocks: callers run them off the executor's threads.

use sync_core::DocumentId;

use crate::error::ServerError;
use crate::pg::Pg;
use crate::store::DocStore;

/// The sled tree of attachment records.
pub const META_TREE: &str = "attachment_meta";
/// The sled tree of sealed pieces.
pub const PIECES_TREE: &str = "attachment_pieces";
/// On sled, a sealed piece is kept as values of at most this many bytes, under its key and a
/// two-byte part number. sled 0.34 writes a larger value (or a leaf page that holds more than
/// about 128 KiB) to a file of its own and then counts it in its page cache at the size of
/// the pointer, not of the bytes: such pages were never evicted, and every uploaded byte
/// stayed in the server's memory until it restarted (RSS grew by 1.1 times each upload). At
/// this size a leaf (at most 16 entries before it splits) stays inline and is counted in full,
/// so the cache's limit holds.
pub const SLED_PART: usize = 4 * 1024;

/// One blob's name: its case and its content hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId {
    /// The case.
    pub document: DocumentId,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

impl BlobId {
    fn key(&self) -> Vec<u8> {
        [self.document.as_bytes().as_slice(), &self.sha256].concat()
    }

    fn piece_key(&self, index: u32) -> Vec<u8> {
        [self.key().as_slice(), &index.to_be_bytes()].concat()
    }

    fn from_key(key: &[u8]) -> Option<Self> {
        let document: [u8; 16] = key.get(..16)?.try_into().ok()?;
        let sha256: [u8; 32] = key.get(16..48)?.try_into().ok()?;
        Some(Self {
            document: DocumentId::from_bytes(document),
            sha256,
        })
    }
}

/// The store of attachment records and pieces.
#[derive(Clone, Debug)]
pub enum Backend {
    /// sled trees.
    Sled {
        /// `attachment_meta`.
        meta: sled::Tree,
        /// `attachment_pieces`.
        pieces: sled::Tree,
    },
    /// PostgreSQL tables.
    Pg(Pg),
}

impl Backend {
    /// The backend beside the documents' store.
    pub fn open(store: &DocStore) -> Result<Self, ServerError> {
        Ok(match store {
            DocStore::Sled(s) => Backend::Sled {
                meta: s.db().open_tree(META_TREE)?,
                pieces: s.db().open_tree(PIECES_TREE)?,
            },
            DocStore::Pg(p) => Backend::Pg(p.pg().clone()),
        })
    }

    /// A blob's record.
    pub fn meta(&self, id: &BlobId) -> Result<Option<Vec<u8>>, ServerError> {
        match self {
            Backend::Sled { meta, .. } => Ok(meta.get(id.key())?.map(|v| v.to_vec())),
            Backend::Pg(pg) => {
                let (document, sha) = (id.document.as_bytes().to_vec(), id.sha256.to_vec());
                pg.run(move |c| {
                    let row = c.query_opt(
                        "SELECT meta FROM attachment_meta WHERE document = $1 AND sha256 = $2",
                        &[&document, &sha],
                    )?;
                    Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
                })
            }
        }
    }

    /// Stores a blob's record.
    pub fn put_meta(&self, id: &BlobId, bytes: Vec<u8>) -> Result<(), ServerError> {
        match self {
            Backend::Sled { meta, .. } => {
                meta.insert(id.key(), bytes)?;
                Ok(())
            }
            Backend::Pg(pg) => {
                let (document, sha) = (id.document.as_bytes().to_vec(), id.sha256.to_vec());
                pg.run(move |c| {
                    c.execute(
                        "INSERT INTO attachment_meta (document, sha256, meta) VALUES ($1, $2, $3)
                         ON CONFLICT (document, sha256) DO UPDATE SET meta = excluded.meta",
                        &[&document, &sha, &bytes],
                    )
                })
                .map(drop)
            }
        }
    }

    /// One sealed piece.
    pub fn piece(&self, id: &BlobId, index: u32) -> Result<Option<Vec<u8>>, ServerError> {
        match self {
            Backend::Sled { pieces, .. } => {
                let key = id.piece_key(index);
                // A piece written whole (before pieces were kept in parts) has no part number.
                if let Some(whole) = pieces.get(&key)? {
                    return Ok(Some(whole.to_vec()));
                }
                let mut out = Vec::new();
                for part in pieces.scan_prefix(&key) {
                    out.extend_from_slice(&part?.1);
                }
                Ok((!out.is_empty()).then_some(out))
            }
            Backend::Pg(pg) => {
                let (document, sha) = (id.document.as_bytes().to_vec(), id.sha256.to_vec());
                let piece = i32::try_from(index)
                    .map_err(|_| ServerError::Invalid("piece index out of range".into()))?;
                pg.run(move |c| {
                    let row = c.query_opt(
                        "SELECT bytes FROM attachment_pieces
                         WHERE document = $1 AND sha256 = $2 AND piece = $3",
                        &[&document, &sha, &piece],
                    )?;
                    Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
                })
            }
        }
    }

    /// Stores one sealed piece.
    pub fn put_piece(&self, id: &BlobId, index: u32, bytes: Vec<u8>) -> Result<(), ServerError> {
        match self {
            Backend::Sled { pieces, .. } => {
                let key = id.piece_key(index);
                for old in pieces.scan_prefix(&key).keys() {
                    pieces.remove(old?)?;
                }
                let mut batch = sled::Batch::default();
                for (n, part) in bytes.chunks(SLED_PART).enumerate() {
                    let n = u16::try_from(n)
                        .map_err(|_| ServerError::Invalid("a piece too large".into()))?;
                    batch.insert([key.as_slice(), &n.to_be_bytes()].concat(), part);
                }
                pieces.apply_batch(batch)?;
                Ok(())
            }
            Backend::Pg(pg) => {
                let (document, sha) = (id.document.as_bytes().to_vec(), id.sha256.to_vec());
                let piece = i32::try_from(index)
                    .map_err(|_| ServerError::Invalid("piece index out of range".into()))?;
                pg.run(move |c| {
                    c.execute(
                        "INSERT INTO attachment_pieces (document, sha256, piece, bytes)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (document, sha256, piece) DO UPDATE SET bytes = excluded.bytes",
                        &[&document, &sha, &piece, &bytes],
                    )
                })
                .map(drop)
            }
        }
    }

    /// Removes a blob's pieces and record.
    pub fn remove(&self, id: &BlobId) -> Result<(), ServerError> {
        self.remove_prefix(id.key())
    }

    /// Removes every blob of a document.
    pub fn remove_document(&self, document: DocumentId) -> Result<(), ServerError> {
        self.remove_prefix(document.as_bytes().to_vec())
    }

    fn remove_prefix(&self, prefix: Vec<u8>) -> Result<(), ServerError> {
        match self {
            Backend::Sled { meta, pieces } => {
                for tree in [pieces, meta] {
                    for key in tree.scan_prefix(&prefix).keys() {
                        tree.remove(key?)?;
                    }
                }
                Ok(())
            }
            Backend::Pg(pg) => {
                let document = prefix.get(..16).unwrap_or_default().to_vec();
                let sha = prefix
                    .get(16..)
                    .map(<[u8]>::to_vec)
                    .filter(|s| !s.is_empty());
                pg.run(move |c| {
                    for table in ["attachment_pieces", "attachment_meta"] {
                        c.execute(
                            &format!(
                                "DELETE FROM {table} WHERE document = $1
                                 AND ($2::BYTEA IS NULL OR sha256 = $2)"
                            ),
                            &[&document, &sha],
                        )?;
                    }
                    Ok(())
                })
            }
        }
    }

    /// Every blob's record.
    pub fn all_meta(&self) -> Result<Vec<(BlobId, Vec<u8>)>, ServerError> {
        match self {
            Backend::Sled { meta, .. } => {
                let mut out = Vec::new();
                for item in meta.iter() {
                    let (key, value) = item?;
                    if let Some(id) = BlobId::from_key(&key) {
                        out.push((id, value.to_vec()));
                    }
                }
                Ok(out)
            }
            Backend::Pg(pg) => {
                let rows =
                    pg.run(|c| c.query("SELECT document, sha256, meta FROM attachment_meta", &[]))?;
                Ok(rows
                    .iter()
                    .filter_map(|r| {
                        let key = [r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)].concat();
                        BlobId::from_key(&key).map(|id| (id, r.get::<_, Vec<u8>>(2)))
                    })
                    .collect())
            }
        }
    }
}
