//! The audit log: append-only and tamper-evident. Each record holds the hash of the one before
//! it, and its own hash covers its content and that link; the hash is an HMAC-SHA256 keyed with
//! the audit key ([`crate::secrets`]), which lives outside the store and its backups, so whoever
//! can write the database or a backup but lacks the key cannot drop records and re-chain the
//! rest: `verify` (which needs the key) finds it.
//!
//! **Upgrading an unkeyed log.** Logs written before the key existed are chained with plain
//! SHA-256. The first time a server opens its log with the audit key, it appends to each chain
//! that ends with plain records a *boundary* record (`audit-keyed`, keyed, linked to the last
//! plain record) and leaves a marker beside the key ([`KEYED_MARKER`] in the secrets
//! directory): the plain records before the boundary verify as before, and the boundary's keyed
//! hash pins them (re-chaining them changes the link it covers). Once the marker exists no
//! boundary is ever added again, so a log rewritten without the key into plain records stays
//! plain: `verify` (with the key) refuses a chain that ends with plain records, a plain record
//! after a keyed one, and a keyed record after plain ones that is not a boundary. What the
//! chain alone cannot show is records cut off its end.
//!
//! It records logins, enrolments, revocations, grants and consent changes, each document a
//! session first reads, each received change (document, change hashes, actors, user, device,
//! time) and each refusal; repeated refusals of one device for one reason are counted and
//! written once per window ([`crate::refusals`]), so a client cannot grow the log without bound.
//! It never records document content.

use std::sync::Mutex;
use std::time::Instant;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServerError;
use crate::kv::{Kv, Tree};
use crate::refusals::Refusals;
use crate::secrets::{Key, Secrets};

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
    /// Whether `hash` is keyed (HMAC-SHA256 with the audit key); `false` only for the records
    /// of a log written before the key existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keyed: bool,
}

impl AuditRecord {
    /// Sets `hash`: an HMAC-SHA256 with `key`, or with `None` the plain SHA-256 of records
    /// written before the key existed (kept public: whoever rewrites a log has this code too).
    pub fn seal(&mut self, key: Option<&Key>) {
        self.keyed = key.is_some();
        self.hash = self.compute_hash(key);
    }

    fn compute_hash(&self, key: Option<&Key>) -> String {
        match key {
            Some(key) => match Hmac::<Sha256>::new_from_slice(key.bytes()) {
                Ok(mut mac) => {
                    self.parts(|part| mac.update(part));
                    hex::encode(mac.finalize().into_bytes())
                }
                // HMAC takes keys of any length: not reached.
                Err(_) => String::new(),
            },
            None => {
                let mut h = Sha256::new();
                self.parts(|part| h.update(part));
                hex::encode(h.finalize())
            }
        }
    }

    /// Feeds every field the hash covers, each with its length first.
    fn parts(&self, mut feed: impl FnMut(&[u8])) {
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
            feed(&(part.len() as u64).to_be_bytes());
            feed(part.as_bytes());
        }
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
    key: Key,
    refusals: Mutex<Refusals>,
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

/// The kind of the record that starts the keyed part of a log written before the key existed.
pub const KEYED_BOUNDARY: &str = "audit-keyed";

/// The file beside the audit key that says the log is keyed (no boundary is added after it).
pub const KEYED_MARKER: &str = "audit.keyed";

impl Audit {
    /// Opens the log with the audit key and finds its tail. The first time (no
    /// [`KEYED_MARKER`] beside the key), chains that end with unkeyed records (a log written
    /// before the key existed) get their keyed boundary record.
    pub fn open(kv: &Kv, secrets: &Secrets) -> Result<Self, ServerError> {
        let name = match kv {
            Kv::Sled(_) => CHAIN.to_string(),
            Kv::Pg(pg) => format!("{CHAIN}@{}", pg.node()),
        };
        let key = &secrets.audit;
        let marker = secrets.dir.join(KEYED_MARKER);
        let upgrade = !marker.exists();
        let tree = kv.open_tree(&name)?;
        // Other nodes' chains (PostgreSQL) too: a node retired before the upgrade never will.
        let mut names = kv.tree_names(CHAIN)?;
        names.retain(|other| *other != name);
        names.push(name.clone());
        let mut last = None;
        for chain in &names {
            let tail = if upgrade {
                mark_keyed_boundary(&kv.open_tree(chain)?, key)?
            } else {
                tail_of(&kv.open_tree(chain)?)?
            };
            if tail.as_ref().is_some_and(|t| !t.keyed) {
                tracing::error!(
                    chain,
                    "the audit log ends with unkeyed records although it was keyed: it was \
                     rewritten without the audit key; `admin audit --verify` fails"
                );
            }
            last = tail;
        }
        if upgrade {
            crate::secrets::write_private_file(
                &marker,
                b"The audit log of this server is keyed with audit.key.\n",
            )?;
        }
        let tail = match last {
            Some(last) => (last.seq + 1, last.hash),
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
            key: key.clone(),
            refusals: Mutex::new(Refusals::default()),
        })
    }

    /// Opens the log with a disk guard: while the disk is below its reserve, records are held
    /// in memory (in order, up to [`MAX_HELD`]) and written once space returns.
    pub fn open_guarded(
        kv: &Kv,
        secrets: &Secrets,
        disk: std::sync::Arc<crate::disk::DiskGuard>,
    ) -> Result<Self, ServerError> {
        let mut audit = Self::open(kv, secrets)?;
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
            keyed: true,
        };
        record.seal(Some(&self.key));
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
            // Compare-and-swap: a record already at this place is another writer's (a copied
            // data directory sharing this node's id, two admin runs at once), never replaced.
            for (seq, held) in std::mem::take(&mut tail.held) {
                self.tree.claim(seq.to_be_bytes(), held)?;
            }
            self.tree.claim(record.seq.to_be_bytes(), bytes)?;
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

    /// A refused attempt of a device (a revoked token, a cap reached): the first of a window
    /// for this device and reason is written, with how many the previous window counted
    /// without writing; the others are only counted ([`crate::refusals`]).
    pub fn refusal(&self, kind: &str, user: Option<&str>, device: &str, reason: &'static str) {
        let seen = match self.refusals.lock() {
            Ok(mut refusals) => refusals.see(Instant::now(), device, reason),
            Err(_) => return,
        };
        if let Some(repeats) = seen {
            self.note(
                kind,
                user,
                Some(device),
                None,
                serde_json::json!({
                    "reason": reason,
                    "unrecorded_repeats_before": repeats,
                    "window_seconds": crate::refusals::WINDOW.as_secs(),
                }),
            );
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

    /// Writes what this node handed to the store's batch writer (PostgreSQL), so that a query
    /// sees it; a conflict found is logged (and shown by `/readyz`), not returned here.
    fn written(&self) {
        if let Kv::Pg(pg) = &self.kv {
            if let Err(e) = pg.flush_claims() {
                tracing::warn!(error = %e, "audit records not all written");
            }
        }
    }

    /// The records matching a query, in time order (all nodes' chains).
    pub fn query(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, ServerError> {
        self.written();
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

    /// Checks every chain with the key; `Ok(n)` with the number of records, or the first
    /// broken link.
    pub fn verify(&self) -> Result<u64, ServerError> {
        self.written();
        let mut total = 0;
        for chain in self.chains()? {
            total += verify_chain(&chain, &self.key)?;
        }
        Ok(total)
    }
}

/// Appends the keyed boundary record to a chain whose last record is unkeyed (a log written
/// before the key existed); returns the chain's last record after that, if any.
fn mark_keyed_boundary(chain: &Tree, key: &Key) -> Result<Option<AuditRecord>, ServerError> {
    let Some(last) = tail_of(chain)? else {
        return Ok(None);
    };
    if last.keyed {
        return Ok(Some(last));
    }
    let mut boundary = AuditRecord {
        seq: last.seq + 1,
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        kind: KEYED_BOUNDARY.into(),
        user: None,
        device: None,
        document: None,
        detail: serde_json::json!({ "unkeyed_records": last.seq + 1 }),
        prev: last.hash.clone(),
        hash: String::new(),
        keyed: false,
    };
    boundary.seal(Some(key));
    let bytes = serde_json::to_vec(&boundary).map_err(|e| ServerError::Corrupt(e.to_string()))?;
    // Only if nobody appended meanwhile (another node opening the same chain).
    if chain.swap(boundary.seq.to_be_bytes(), None, bytes)? {
        tracing::info!(
            records = boundary.seq,
            "the audit log is keyed from here on"
        );
        return Ok(Some(boundary));
    }
    let (_, v) = chain
        .last()?
        .ok_or_else(|| ServerError::Corrupt("audit tail vanished".into()))?;
    serde_json::from_slice(&v)
        .map(Some)
        .map_err(|e| ServerError::Corrupt(format!("audit tail: {e}")))
}

/// The last record of a chain, if any.
fn tail_of(chain: &Tree) -> Result<Option<AuditRecord>, ServerError> {
    chain
        .last()?
        .map(|(_, v)| serde_json::from_slice(&v))
        .transpose()
        .map_err(|e| ServerError::Corrupt(format!("audit tail: {e}")))
}

fn verify_chain(chain: &Tree, key: &Key) -> Result<u64, ServerError> {
    {
        let mut prev = GENESIS.to_string();
        let mut expected = 0u64;
        let mut keyed = false;
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
            if keyed && !r.keyed {
                return Err(ServerError::Invalid(format!(
                    "audit record {expected} is not keyed but follows keyed records: \
                     the log was rewritten without the audit key"
                )));
            }
            if !keyed && r.keyed && expected > 0 && r.kind != KEYED_BOUNDARY {
                return Err(ServerError::Invalid(format!(
                    "audit record {expected} is keyed but follows records that are not, with \
                     no boundary: the log was rewritten without the audit key"
                )));
            }
            keyed = r.keyed;
            if r.compute_hash(r.keyed.then_some(key)) != r.hash {
                return Err(ServerError::Invalid(format!(
                    "audit record {expected} was altered (its hash does not match)"
                )));
            }
            prev = r.hash;
            expected += 1;
        }
        if expected > 0 && !keyed {
            return Err(ServerError::Invalid(
                "the audit log ends with records that are not keyed: it was rewritten \
                 without the audit key"
                    .into(),
            ));
        }
        Ok(expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(dir: &tempfile::TempDir) -> Secrets {
        Secrets::open_or_create(&dir.path().join("secrets")).expect("secrets")
    }

    /// A record as a server before the audit key wrote it.
    fn plain(seq: u64, prev: &str) -> AuditRecord {
        let mut r = AuditRecord {
            seq,
            at: format!("2026-01-01T00:00:0{seq}Z"),
            kind: "login".into(),
            user: Some("anna".into()),
            device: None,
            document: None,
            detail: serde_json::json!({}),
            prev: prev.into(),
            hash: String::new(),
            keyed: false,
        };
        r.seal(None);
        r
    }

    /// Writes `n` records chained with plain hashes over the tree's first `n` places.
    fn write_plain(tree: &sled::Tree, n: u64) {
        let mut prev = GENESIS.to_string();
        for seq in 0..n {
            let r = plain(seq, &prev);
            prev = r.hash.clone();
            tree.insert(seq.to_be_bytes(), serde_json::to_vec(&r).expect("json"))
                .expect("insert");
        }
    }

    #[test]
    fn an_unkeyed_log_upgrades_in_place_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path().join("db")).expect("db");
        let tree = db.open_tree("audit").expect("tree");
        write_plain(&tree, 3);
        let kv = crate::kv::Kv::Sled(db.clone());
        let audit = Audit::open(&kv, &secrets(&dir)).expect("audit");
        audit
            .record("login", Some("anna"), None, None, serde_json::json!({}))
            .expect("record");
        // Three old records, the boundary, one keyed record.
        assert_eq!(audit.verify().expect("the upgraded log verifies"), 5);
        let kinds: Vec<_> = audit
            .query(&AuditQuery::default())
            .expect("query")
            .into_iter()
            .map(|r| (r.kind, r.keyed))
            .collect();
        assert_eq!(kinds[3], (KEYED_BOUNDARY.to_string(), true));

        // Rewritten as plain records by someone without the key: no new boundary, no pass.
        drop(audit);
        write_plain(&tree, 5);
        let audit = Audit::open(&kv, &secrets(&dir)).expect("audit");
        let err = audit.verify().expect_err("a plain rewrite is found");
        assert!(err.to_string().contains("without the audit key"), "{err}");
        audit
            .record("login", Some("anna"), None, None, serde_json::json!({}))
            .expect("record");
        let err = audit.verify().expect_err("still found after new records");
        assert!(err.to_string().contains("no boundary"), "{err}");
    }

    #[test]
    fn the_chain_verifies_and_any_change_breaks_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("db");
        let audit = Audit::open(&crate::kv::Kv::Sled(db.clone()), &secrets(&dir)).expect("audit");
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
        let audit = Audit::open(&crate::kv::Kv::Sled(db.clone()), &secrets(&dir)).expect("audit");
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
