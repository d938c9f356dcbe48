//! Where attachment pieces and their records are kept: on the embedded store, records in a
//! sled tree beside the documents (`attachment_meta`) and each blob's pieces in a file of its
//! own beside the store ([`super::files`]); on PostgreSQL, two tables of their own
//! (`attachment_meta`, `attachment_pieces`, migration 4 of `crate::pg`), so any node of a
//! region serves any blob. Every call blocks: callers run them off the executor's threads.

use std::path::Path;

use sync_core::DocumentId;

use super::files::Files;
use super::id::{BlobId, META_TREE};
use crate::error::ServerError;
use crate::pg::Pg;
use crate::store::DocStore;

/// The store of attachment records and pieces.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A sled tree of records and a folder of files.
    Sled {
        /// `attachment_meta`.
        meta: sled::Tree,
        /// The blob files.
        files: Files,
    },
    /// PostgreSQL tables.
    Pg(Pg),
}

impl Backend {
    /// The backend beside the documents' store; on sled, the files under `data_dir`, and
    /// pieces still kept in sled (by an older version, or restored from a backup) moved into
    /// them first ([`super::carry::move_into_files`]).
    pub fn open(store: &DocStore, data_dir: &Path) -> Result<Self, ServerError> {
        Ok(match store {
            DocStore::Sled(s) => {
                let meta = s.db().open_tree(META_TREE)?;
                let files = Files::new(data_dir);
                super::carry::move_into_files(s.db(), &meta, &files)?;
                Backend::Sled { meta, files }
            }
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
            Backend::Sled { files, .. } => files.piece(id, index),
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
            Backend::Sled { files, .. } => files.put_piece(id, index, &bytes),
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

    /// Makes the pieces written so far durable (before the record counts them; a PostgreSQL
    /// commit already is).
    pub fn sync_pieces(&self, id: &BlobId) -> Result<(), ServerError> {
        match self {
            Backend::Sled { files, .. } => files.sync(id),
            Backend::Pg(_) => Ok(()),
        }
    }

    /// Makes the records written so far durable (before an upload request is answered).
    pub fn flush_meta(&self) -> Result<(), ServerError> {
        match self {
            Backend::Sled { meta, .. } => meta.flush().map(drop).map_err(ServerError::from),
            Backend::Pg(_) => Ok(()),
        }
    }

    /// The blob files (the embedded store only).
    pub fn files(&self) -> Option<&Files> {
        match self {
            Backend::Sled { files, .. } => Some(files),
            Backend::Pg(_) => None,
        }
    }

    /// Removes a blob's pieces and record.
    pub fn remove(&self, id: &BlobId) -> Result<(), ServerError> {
        if let Backend::Sled { files, .. } = self {
            files.remove(id)?;
        }
        self.remove_prefix(id.key())
    }

    /// Removes every blob of a document.
    pub fn remove_document(&self, document: DocumentId) -> Result<(), ServerError> {
        if let Backend::Sled { files, .. } = self {
            files.remove_document(document)?;
        }
        self.remove_prefix(document.as_bytes().to_vec())
    }

    fn remove_prefix(&self, prefix: Vec<u8>) -> Result<(), ServerError> {
        match self {
            Backend::Sled { meta, .. } => {
                for key in meta.scan_prefix(&prefix).keys() {
                    meta.remove(key?)?;
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
