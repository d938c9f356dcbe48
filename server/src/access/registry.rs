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

    pub(super) fn save(&self, document: DocumentId, record: DocRecord) -> Result<(), ServerError> {
        let bytes = serde_json::to_vec(&record).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        self.inner.documents.insert(document.as_bytes(), bytes)?;
        self.remember(document, record);
        Ok(())
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
        let mut record = self
            .record(&document)
            .ok_or_else(|| ServerError::NotFound(format!("no document {document}")))?;
        if record.kind != Kind::Case {
            return Err(ServerError::Invalid("only cases are assigned".into()));
        }
        if let Some(u) = user {
            if remove {
                record.assigned_users.remove(u);
            } else {
                record.assigned_users.insert(u.to_string());
            }
        }
        if let Some(i) = institution {
            if remove {
                record.assigned_institutions.remove(i);
            } else {
                record.assigned_institutions.insert(i.to_string());
            }
        }
        self.save(document, record.clone())?;
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
        let mut record = self
            .record(&document)
            .ok_or_else(|| ServerError::NotFound(format!("no document {document}")))?;
        record.erased = true;
        record.assigned_users.clear();
        record.assigned_institutions.clear();
        record.consents.clear();
        self.save(document, record)?;
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
