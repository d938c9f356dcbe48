//! The registry's tables: loading them, keeping them in step with the store and with other
//! nodes, assignments and erasure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::Deserialize;
use sync_core::DocumentId;

use super::record::{DocRecord, Kind};
use crate::audit::Audit;
use crate::error::ServerError;
use crate::identity::{Directory, Team, User};

/// Shared, in-memory view of the access tables, kept in step with sled.
#[derive(Clone, Debug)]
pub struct Registry {
    pub(super) inner: Arc<RegistryInner>,
}

/// The tables, in memory and in the store, and what the rules read beside them.
#[derive(Debug)]
pub(super) struct RegistryInner {
    pub(super) documents: crate::kv::Tree,
    pub(super) actors: crate::kv::Tree,
    pub(super) directory: Directory,
    pub(super) audit: Arc<Audit>,
    pub(super) allow_untyped: bool,
    pub(super) records: RwLock<HashMap<DocumentId, DocRecord>>,
    pub(super) users: RwLock<HashMap<String, User>>,
    pub(super) teams: RwLock<Vec<Team>>,
    pub(super) actor_devices: RwLock<HashMap<Vec<u8>, String>>,
    /// Documents whose access changed since the hub last looked.
    pub(super) changed: Mutex<Vec<DocumentId>>,
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ServerError> {
    serde_json::from_slice(bytes).map_err(|e| ServerError::Corrupt(e.to_string()))
}

impl Registry {
    /// Loads the tables into memory.
    pub fn open(
        kv: &crate::kv::Kv,
        directory: Directory,
        audit: Arc<Audit>,
        allow_untyped: bool,
    ) -> Result<Self, ServerError> {
        let documents = kv.open_tree("documents")?;
        let actors = kv.open_tree("actors")?;
        let mut records = HashMap::new();
        for (k, v) in documents.entries()? {
            let raw: [u8; 16] = k
                .as_slice()
                .try_into()
                .map_err(|_| ServerError::Corrupt("document key".into()))?;
            records.insert(DocumentId::from_bytes(raw), decode(&v)?);
        }
        let mut actor_devices = HashMap::new();
        for (k, v) in actors.entries()? {
            actor_devices.insert(k, String::from_utf8_lossy(&v).into_owned());
        }
        let registry = Self {
            inner: Arc::new(RegistryInner {
                documents,
                actors,
                directory,
                audit,
                allow_untyped,
                records: RwLock::new(records),
                users: RwLock::default(),
                teams: RwLock::default(),
                actor_devices: RwLock::new(actor_devices),
                changed: Mutex::default(),
            }),
        };
        registry.reload_directory()?;
        Ok(registry)
    }

    /// Re-reads users and teams (after the admin API changed them).
    pub fn reload_directory(&self) -> Result<(), ServerError> {
        let users: HashMap<String, User> = self
            .inner
            .directory
            .users()?
            .into_iter()
            .map(|u| (u.login.clone(), u))
            .collect();
        let teams = self.inner.directory.teams()?;
        if let Ok(mut slot) = self.inner.users.write() {
            *slot = users;
        }
        if let Ok(mut slot) = self.inner.teams.write() {
            *slot = teams;
        }
        Ok(())
    }

    /// The audit log.
    pub fn audit(&self) -> &Audit {
        &self.inner.audit
    }

    /// A document's record.
    pub fn record(&self, document: &DocumentId) -> Option<DocRecord> {
        self.inner.records.read().ok()?.get(document).cloned()
    }

    /// Changes a document's record as the store holds it now, not this node's copy (another
    /// node may have changed it a moment ago), and writes it only if nobody wrote it meanwhile
    /// (compare and swap, tried again on a conflict). `change` returns whether there is
    /// anything to write; `None` when there was not. Refused for a document with no record.
    pub(super) fn update_stored(
        &self,
        document: DocumentId,
        mut change: impl FnMut(&mut DocRecord) -> Result<bool, ServerError>,
    ) -> Result<Option<DocRecord>, ServerError> {
        for _ in 0..UPDATE_TRIES {
            let old = self
                .inner
                .documents
                .get(document.as_bytes())?
                .ok_or_else(|| ServerError::NotFound(format!("no document {document}")))?;
            let mut record: DocRecord = decode(&old)?;
            if !change(&mut record)? {
                self.remember(document, record);
                return Ok(None);
            }
            if self.swap_record(document, Some(&old), &record)? {
                return Ok(Some(record));
            }
        }
        Err(conflict(document))
    }

    /// Writes `validated`, what the document itself decides of its record (see
    /// [`DocRecord::take_validated`]), onto the record as the store holds it now: assignments,
    /// erasure and retention are the API's and the sweep's, and may have changed through
    /// another node. A record is made when none is stored. Compare and swap, as
    /// [`Registry::update_stored`].
    pub(super) fn save_validated(
        &self,
        document: DocumentId,
        validated: &DocRecord,
    ) -> Result<DocRecord, ServerError> {
        for _ in 0..UPDATE_TRIES {
            let old = self.inner.documents.get(document.as_bytes())?;
            let record = match &old {
                None => validated.clone(),
                Some(bytes) => {
                    let mut stored: DocRecord = decode(bytes)?;
                    stored.take_validated(validated);
                    stored
                }
            };
            if self.swap_record(document, old.as_deref(), &record)? {
                return Ok(record);
            }
        }
        Err(conflict(document))
    }

    /// Writes `record` if the stored one is still `old`; keeps it as this node's copy then.
    fn swap_record(
        &self,
        document: DocumentId,
        old: Option<&[u8]>,
        record: &DocRecord,
    ) -> Result<bool, ServerError> {
        let bytes = serde_json::to_vec(record).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        let written = self.inner.documents.swap(document.as_bytes(), old, bytes)?;
        if written {
            self.remember(document, record.clone());
        }
        Ok(written)
    }

    /// Keeps `record` as this node's copy of the document's record.
    pub(super) fn remember(&self, document: DocumentId, record: DocRecord) {
        if let Ok(mut map) = self.inner.records.write() {
            map.insert(document, record);
        }
    }

    /// Another node changed a table (PostgreSQL notification `kv <tree> <key hex>`, or `all`
    /// after the listener reconnected): refresh what is kept in memory. Access changes apply
    /// to this node's connected peers at the hub's next tick.
    pub fn refresh(&self, what: &str) -> Result<(), ServerError> {
        let mut words = what.split(' ');
        let (kind, tree, key) = (words.next(), words.next(), words.next());
        match (kind, tree) {
            (Some("kv"), Some("documents")) => {
                let Some(raw) = key
                    .and_then(|k| hex::decode(k).ok())
                    .and_then(|k| <[u8; 16]>::try_from(k).ok())
                else {
                    return Ok(());
                };
                let document = DocumentId::from_bytes(raw);
                if let Some(bytes) = self.inner.documents.get(raw)? {
                    let record: DocRecord = decode(&bytes)?;
                    if let Ok(mut map) = self.inner.records.write() {
                        map.insert(document, record);
                    }
                    self.touched(document);
                }
            }
            (Some("kv"), Some("actors")) => {
                let Some(actor) = key.and_then(|k| hex::decode(k).ok()) else {
                    return Ok(());
                };
                if let Some(device) = self.inner.actors.get(&actor)? {
                    if let Ok(mut map) = self.inner.actor_devices.write() {
                        map.insert(actor, String::from_utf8_lossy(&device).into_owned());
                    }
                }
            }
            (Some("kv"), Some("users" | "teams" | "institutions")) => self.reload_directory()?,
            (Some("all"), _) => {
                self.reload_directory()?;
                let mut fresh = HashMap::new();
                for (k, v) in self.inner.documents.entries()? {
                    if let Ok(raw) = <[u8; 16]>::try_from(k.as_slice()) {
                        fresh.insert(DocumentId::from_bytes(raw), decode::<DocRecord>(&v)?);
                    }
                }
                let ids: Vec<DocumentId> = fresh.keys().copied().collect();
                if let Ok(mut map) = self.inner.records.write() {
                    *map = fresh;
                }
                // Actors bound through other nodes meanwhile.
                let mut actors = HashMap::new();
                for (k, v) in self.inner.actors.entries()? {
                    actors.insert(k, String::from_utf8_lossy(&v).into_owned());
                }
                if let Ok(mut map) = self.inner.actor_devices.write() {
                    map.extend(actors);
                }
                for id in ids {
                    self.touched(id);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Marks a document's access as changed (connected peers are re-checked).
    pub(super) fn touched(&self, document: DocumentId) {
        if let Ok(mut changed) = self.inner.changed.lock() {
            changed.push(document);
        }
    }

    /// Documents whose access changed since the last call.
    pub fn take_changed(&self) -> Vec<DocumentId> {
        self.inner
            .changed
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// Assigns a user or an institution to a case (changes access at once).
    pub fn assign(
        &self,
        document: DocumentId,
        user: Option<&str>,
        institution: Option<&str>,
        by: &str,
        remove: bool,
    ) -> Result<DocRecord, ServerError> {
        let assigned = |record: &mut DocRecord| {
            if record.kind != Kind::Case {
                return Err(ServerError::Invalid("only cases are assigned".into()));
            }
            let mut changed = false;
            if let Some(u) = user {
                changed |= if remove {
                    record.assigned_users.remove(u)
                } else {
                    record.assigned_users.insert(u.to_string())
                };
            }
            if let Some(i) = institution {
                changed |= if remove {
                    record.assigned_institutions.remove(i)
                } else {
                    record.assigned_institutions.insert(i.to_string())
                };
            }
            Ok(changed)
        };
        self.update_stored(document, assigned)?;
        let record = self
            .record(&document)
            .ok_or_else(|| ServerError::NotFound(format!("no document {document}")))?;
        self.touched(document);
        // A justice document's access follows its case's assignments.
        for part in self.justice_parts_of(&document) {
            self.touched(part);
        }
        self.inner.audit.note(
            "grant",
            Some(by),
            None,
            Some(document.to_string()),
            serde_json::json!({ "user": user, "institution": institution, "removed": remove }),
        );
        Ok(record)
    }

    /// Tombstones a document and, for a case, its justice documents (police and court
    /// information): nobody may read, write or re-create them again. Returns every document
    /// tombstoned, the case first; the caller removes their histories from the store and from
    /// the engine.
    pub fn erase(&self, document: DocumentId, by: &str) -> Result<Vec<DocumentId>, ServerError> {
        let parts = self.justice_parts_of(&document);
        self.erase_one(document, by)?;
        let mut erased = vec![document];
        for part in parts {
            self.erase_one(part, by)?;
            erased.push(part);
        }
        Ok(erased)
    }

    fn erase_one(&self, document: DocumentId, by: &str) -> Result<(), ServerError> {
        self.update_stored(document, |record| {
            record.erased = true;
            record.assigned_users.clear();
            record.assigned_institutions.clear();
            record.consents.clear();
            Ok(true)
        })?;
        self.inner.audit.note(
            "erase",
            Some(by),
            None,
            Some(document.to_string()),
            serde_json::json!({}),
        );
        Ok(())
    }

    /// A user, from memory or (the first time it is asked for) from the directory.
    pub(super) fn user(&self, login: &str) -> Option<User> {
        if let Some(user) = self.inner.users.read().ok()?.get(login) {
            return Some(user.clone());
        }
        let user = self.inner.directory.user(login).ok()??;
        if let Ok(mut users) = self.inner.users.write() {
            users.insert(login.to_string(), user.clone());
        }
        Some(user)
    }

    /// A PZK team, from memory.
    pub(super) fn team(&self, id: &str) -> Option<Team> {
        self.inner
            .teams
            .read()
            .ok()?
            .iter()
            .find(|t| t.id == id)
            .cloned()
    }
}

/// Compare-and-swap attempts of [`Registry::update_stored`] and [`Registry::save_validated`]
/// before they give up.
const UPDATE_TRIES: usize = 16;

fn conflict(document: DocumentId) -> ServerError {
    ServerError::Conflict(format!("the record of {document} kept changing"))
}
