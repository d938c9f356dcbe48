//! The audit log: append-only and tamper-evident (each record holds the SHA-256 of the one
//! before it, and its own hash covers its content and that link).
//!
//! It records logins, enrolments, revocations, grants and consent changes, each document a
//! session first reads, each received change (document, change hashes, actors, user, device,
//! time) and each refusal. It never records document content.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServerError;
use crate::kv::{Kv, Tree};

/// One record of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the log, from 0.
    pub seq: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What happened: `login`, `enrol`, `revoke`, `grant`, `consent`, `read`, `change`,
    /// `reject`, `erase`...
    pub kind: String,
    /// The user concerned.
    pub user: Option<String>,
    /// The device concerned.
    pub device: Option<String>,
    /// The document concerned.
    pub document: Option<String>,
    /// Details (change hashes, actors, reasons); never document content.
    pub detail: serde_json::Value,
    /// The hash of the previous record (hex; zeros for the first).
    pub prev: String,
    /// The hash of this record (hex).
    pub hash: String,
}

impl AuditRecord {
    fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.seq.to_string().as_str(),
            &self.at,
            &self.kind,
            self.user.as_deref().unwrap_or(""),
            self.device.as_deref().unwrap_or(""),
            self.document.as_deref().unwrap_or(""),
            &self.detail.to_string(),
            &self.prev,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// What to look for in the log.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Only this user.
    pub user: Option<String>,
    /// Only this document.
    pub document: Option<String>,
    /// From this time on (RFC 3339).
    pub since: Option<String>,
    /// Up to this time (RFC 3339).
    pub until: Option<String>,
}

/// The log: one hash chain per writer in its own tree (`audit` on one machine; on PostgreSQL
/// `audit@<node>` per server node, so that nodes never contend for the chain's tail).
#[derive(Debug)]
pub struct Audit {
    tree: Tree,
    kv: Kv,
    tail: Mutex<Tail>,
    disk: Option<std::sync::Arc<crate::disk::DiskGuard>>,
}

/// The end of the chain, and records held in memory while the disk is below its reserve.
#[derive(Debug)]
struct Tail {
    seq: u64,
    hash: String,
    held: Vec<(u64, Vec<u8>)>,
}

/// Records held in memory at most while the disk is full; past this, recording fails.
pub const MAX_HELD: usize = 100_000;

/// The name of the log's trees (`audit`, or `audit@<node>`).
const CHAIN: &str = "audit";

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Audit {
    /// Opens the log and finds its tail.
    pub fn open(kv: &Kv) -> Result<Self, ServerError> {
        let name = match kv {
            Kv::Sled(_) => CHAIN.to_string(),
            Kv::Pg(pg) => format!("{CHAIN}@{}", pg.node()),
        };
        let tree = kv.open_tree(&name)?;
        let tail = match tree.last()? {
            Some((_, v)) => {
                let last: AuditRecord = serde_json::from_slice(&v)
                    .map_err(|e| ServerError::Corrupt(format!("audit tail: {e}")))?;
                (last.seq + 1, last.hash)
            }
            None => (0, GENESIS.to_string()),
        };
        Ok(Self {
            tree,
            kv: kv.clone(),
            tail: Mutex::new(Tail {
                seq: tail.0,
                hash: tail.1,
                held: Vec::new(),
            }),
            disk: None,
        })
    }

    /// Opens the log with a disk guard: while the disk is below its reserve, records are held
    /// in memory (in order, up to [`MAX_HELD`]) and written once space returns.
    pub fn open_guarded(
        kv: &Kv,
        disk: std::sync::Arc<crate::disk::DiskGuard>,
    ) -> Result<Self, ServerError> {
        let mut audit = Self::open(kv)?;
        audit.disk = Some(disk);
        Ok(audit)
    }

    /// Appends a record. It becomes durable with the next group commit (the one that stores
    /// the change it describes, for `change` records).
    pub fn record(
        &self,
        kind: &str,
        user: Option<&str>,
        device: Option<&str>,
        document: Option<String>,
        detail: serde_json::Value,
    ) -> Result<(), ServerError> {
        let mut tail = self
            .tail
            .lock()
            .map_err(|_| ServerError::Corrupt("audit lock poisoned".into()))?;
        let mut record = AuditRecord {
            seq: tail.seq,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            kind: kind.into(),
            user: user.map(str::to_string),
            device: device.map(str::to_string),
            document,
            detail,
            prev: tail.hash.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        let bytes = serde_json::to_vec(&record).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        let full = self.disk.as_ref().is_some_and(|d| d.check().is_err());
        if full {
            if tail.held.len() >= MAX_HELD {
                return Err(ServerError::Storage(sync_core::StorageError::Io(format!(
                    "the disk is full and {MAX_HELD} audit records wait in memory already"
                ))));
            }
            tail.held.push((record.seq, bytes));
        } else {
            for (seq, held) in std::mem::take(&mut tail.held) {
                self.tree.insert(seq.to_be_bytes(), held)?;
            }
            self.tree.insert(record.seq.to_be_bytes(), bytes)?;
        }
        tail.seq = record.seq + 1;
        tail.hash = record.hash;
        Ok(())
    }

    /// Records, logging (not failing) when the store refuses: auditing must not take the
    /// server down, and the store's failure shows in the storage path too.
    pub fn note(
        &self,
        kind: &str,
        user: Option<&str>,
        device: Option<&str>,
        document: Option<String>,
        detail: serde_json::Value,
    ) {
        if let Err(e) = self.record(kind, user, device, document, detail) {
            tracing::error!(error = %e, kind, "could not write the audit log");
        }
    }

    /// Every chain of the log (one per node that ever wrote).
    fn chains(&self) -> Result<Vec<Tree>, ServerError> {
        self.kv
            .tree_names(CHAIN)?
            .iter()
            .map(|name| self.kv.open_tree(name))
            .collect()
    }

    /// The records matching a query, in time order (all nodes' chains).
    pub fn query(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, ServerError> {
        let mut out = Vec::new();
        let mut values = Vec::new();
        for chain in self.chains()? {
            values.extend(chain.values()?);
        }
        for item in values {
            let r: AuditRecord = serde_json::from_slice(&item)
                .map_err(|e| ServerError::Corrupt(format!("audit record: {e}")))?;
            let keep = q.user.as_ref().is_none_or(|u| r.user.as_ref() == Some(u))
                && q.document
                    .as_ref()
                    .is_none_or(|d| r.document.as_ref() == Some(d))
                && q.since.as_ref().is_none_or(|s| r.at.as_str() >= s.as_str())
                && q.until.as_ref().is_none_or(|u| r.at.as_str() <= u.as_str());
            if keep {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(out)
    }

    /// Checks every chain; `Ok(n)` with the number of records, or the first broken link.
    pub fn verify(&self) -> Result<u64, ServerError> {
        let mut total = 0;
        for chain in self.chains()? {
            total += verify_chain(&chain)?;
        }
        Ok(total)
    }
}

fn verify_chain(chain: &Tree) -> Result<u64, ServerError> {
    {
        let mut prev = GENESIS.to_string();
        let mut expected = 0u64;
        for (k, v) in chain.entries()? {
            let r: AuditRecord = serde_json::from_slice(&v).map_err(|e| {
                ServerError::Invalid(format!("audit record {expected} does not decode: {e}"))
            })?;
            let key_seq = k
                .as_slice()
                .try_into()
                .map(u64::from_be_bytes)
                .unwrap_or(u64::MAX);
            if r.seq != expected || key_seq != expected {
                return Err(ServerError::Invalid(format!(
                    "audit record {expected} is missing or out of place"
                )));
            }
            if r.prev != prev {
                return Err(ServerError::Invalid(format!(
                    "audit record {expected} does not follow record {}",
                    expected.saturating_sub(1)
                )));
            }
            if r.compute_hash() != r.hash {
                return Err(ServerError::Invalid(format!(
                    "audit record {expected} was altered (its hash does not match)"
                )));
            }
            prev = r.hash;
            expected += 1;
        }
        Ok(expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_verifies_and_any_change_breaks_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("db");
        let audit = Audit::open(&crate::kv::Kv::Sled(db.clone())).expect("audit");
        for i in 0..5 {
            audit
                .record(
                    "read",
                    Some("anna"),
                    Some("dev-1"),
                    Some(format!("doc{i}")),
                    serde_json::json!({}),
                )
                .expect("record");
        }
        assert_eq!(audit.verify().expect("intact"), 5);
        let q = AuditQuery {
            document: Some("doc3".into()),
            ..AuditQuery::default()
        };
        assert_eq!(audit.query(&q).expect("query").len(), 1);

        // Someone edits record 2 in place.
        let tree = db.open_tree("audit").expect("tree");
        let raw = tree.get(2u64.to_be_bytes()).expect("get").expect("present");
        let mut r: AuditRecord = serde_json::from_slice(&raw).expect("decode");
        r.user = Some("eve".into());
        tree.insert(2u64.to_be_bytes(), serde_json::to_vec(&r).expect("encode"))
            .expect("insert");
        let err = audit.verify().expect_err("tampering is found");
        assert!(err.to_string().contains("record 2 was altered"), "{err}");

        // Or deletes one.
        let fresh = tempfile::tempdir().expect("tempdir");
        let db = sled::open(fresh.path()).expect("db");
        let audit = Audit::open(&crate::kv::Kv::Sled(db.clone())).expect("audit");
        for _ in 0..3 {
            audit
                .record("login", Some("anna"), None, None, serde_json::json!({}))
                .expect("record");
        }
        db.open_tree("audit")
            .expect("tree")
            .remove(1u64.to_be_bytes())
            .expect("remove");
        assert!(audit.verify().is_err());
    }
}
