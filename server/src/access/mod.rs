//! Who may see and change what. The rules live on the server, never inside a CRDT document
//! that writers could edit; what the server derives from a case (its consents, its stage, its
//! hand-over) is read from the document only after the server has validated it.
//!
//! | document | read-write | read |
//! | --- | --- | --- |
//! | case (open) | its owner, assigned users, users of assigned institutions | users of PZK member institutions for which the case records consent for the purpose `pzk` |
//! | case (closed / handed over) | users of the institution it was handed over to | its owner and assigned users |
//! | PZK | its animator, users of its member institutions | coordinators (ROPS) |
//! | untyped (only with `--allow-untyped-documents`) | its creator's devices | — |
//!
//! Creating: cases by social workers and animators, PZK documents by the animator of a team;
//! any user may create untyped documents when the server allows them.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use automerge::Automerge;
use serde::{Deserialize, Serialize};
use sync_core::engine::{Access, ChangeSummary, Policy, Principal};
use sync_core::model::{self, DocumentKind};
use sync_core::{DocumentId, Refusal};

use crate::audit::Audit;
use crate::error::ServerError;
use crate::identity::{Directory, Role, Team, User};

/// The consent purpose that opens a case to the PZK's member institutions.
pub const PZK_PURPOSE: &str = "pzk";

/// What kind of document a record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A case (*sprawa*).
    Case,
    /// A PZK document.
    Pzk,
    /// A document of no known type (development, other apps).
    Untyped,
}

/// The server's record of one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRecord {
    /// Its kind.
    pub kind: Kind,
    /// The user who created it.
    pub owner: String,
    /// The owner's institution at creation (the case's lead institution).
    pub institution: Option<String>,
    /// For a PZK document: its team.
    pub team: Option<String>,
    /// Users assigned to the case.
    #[serde(default)]
    pub assigned_users: BTreeSet<String>,
    /// Institutions assigned to the case.
    #[serde(default)]
    pub assigned_institutions: BTreeSet<String>,
    /// Institutions the case records consent for (purpose `pzk`), as last validated.
    #[serde(default)]
    pub consents: BTreeSet<String>,
    /// Closed or handed over.
    #[serde(default)]
    pub finished: bool,
    /// The institution the case was handed over to, once recorded.
    #[serde(default)]
    pub handed_to: Option<String>,
    /// Erased (GDPR art. 17): its history is gone and its id may never be used again.
    #[serde(default)]
    pub erased: bool,
}

/// Shared, in-memory view of the access tables, kept in step with sled.
#[derive(Clone, Debug)]
pub struct Registry {
    inner: Arc<RegistryInner>,
}

#[derive(Debug)]
struct RegistryInner {
    documents: crate::kv::Tree,
    actors: crate::kv::Tree,
    directory: Directory,
    audit: Arc<Audit>,
    allow_untyped: bool,
    records: RwLock<HashMap<DocumentId, DocRecord>>,
    users: RwLock<HashMap<String, User>>,
    teams: RwLock<Vec<Team>>,
    actor_devices: RwLock<HashMap<Vec<u8>, String>>,
    /// Documents whose access changed since the hub last looked.
    changed: Mutex<Vec<DocumentId>>,
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ServerError> {
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

    fn save(&self, document: DocumentId, record: DocRecord) -> Result<(), ServerError> {
        let bytes = serde_json::to_vec(&record).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        self.inner.documents.insert(document.as_bytes(), bytes)?;
        if let Ok(mut map) = self.inner.records.write() {
            map.insert(document, record);
        }
        Ok(())
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
                for id in ids {
                    self.touched(id);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Marks a document's access as changed (connected peers are re-checked).
    fn touched(&self, document: DocumentId) {
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
        self.inner.audit.note(
            "grant",
            Some(by),
            None,
            Some(document.to_string()),
            serde_json::json!({ "user": user, "institution": institution, "removed": remove }),
        );
        Ok(record)
    }

    /// A user, from memory or (the first time it is asked for) from the directory.
    /// Tombstones a document: nobody may read, write or re-create it again. The caller removes
    /// its history from the store and from the engine.
    pub fn erase(&self, document: DocumentId, by: &str) -> Result<(), ServerError> {
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

    fn user(&self, login: &str) -> Option<User> {
        if let Some(user) = self.inner.users.read().ok()?.get(login) {
            return Some(user.clone());
        }
        let user = self.inner.directory.user(login).ok()??;
        if let Ok(mut users) = self.inner.users.write() {
            users.insert(login.to_string(), user.clone());
        }
        Some(user)
    }

    fn team(&self, id: &str) -> Option<Team> {
        self.inner
            .teams
            .read()
            .ok()?
            .iter()
            .find(|t| t.id == id)
            .cloned()
    }

    /// What a user may do with a document.
    pub fn access_of(&self, login: &str, document: &DocumentId, exists: bool) -> Access {
        let Some(user) = self.user(login) else {
            return Access::None;
        };
        match self.record(document) {
            None if exists => Access::None,
            None => {
                let creates = user
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::SocialWorker | Role::Animator | Role::Admin));
                if creates || self.inner.allow_untyped {
                    Access::ReadWrite
                } else {
                    Access::None
                }
            }
            Some(record) => self.rule(&user, &record),
        }
    }

    fn rule(&self, user: &User, record: &DocRecord) -> Access {
        if record.erased {
            return Access::None;
        }
        let is = |login: &str| user.login == login;
        let in_institution = |i: &str| user.institution.as_deref() == Some(i);
        match record.kind {
            Kind::Untyped => {
                if is(&record.owner) {
                    Access::ReadWrite
                } else {
                    Access::None
                }
            }
            Kind::Pzk => {
                let Some(team) = record.team.as_deref().and_then(|t| self.team(t)) else {
                    return if is(&record.owner) {
                        Access::ReadWrite
                    } else {
                        Access::None
                    };
                };
                if is(&team.animator) || team.institutions.iter().any(|i| in_institution(i)) {
                    Access::ReadWrite
                } else if user.roles.contains(&Role::Coordinator) {
                    Access::Read
                } else {
                    Access::None
                }
            }
            Kind::Case => {
                let team_member = || {
                    let teams = self.inner.teams.read();
                    let Ok(teams) = teams else { return false };
                    let lead = record.institution.as_deref();
                    teams.iter().any(|t| {
                        lead.is_some_and(|l| t.institutions.iter().any(|i| i == l))
                            && t.institutions.iter().any(|i| in_institution(i))
                    })
                };
                let worker = is(&record.owner)
                    || record.assigned_users.contains(&user.login)
                    || record
                        .assigned_institutions
                        .iter()
                        .any(|i| in_institution(i));
                if record.handed_to.as_deref().is_some_and(in_institution) {
                    return Access::ReadWrite;
                }
                if record.finished {
                    return if worker { Access::Read } else { Access::None };
                }
                if worker {
                    Access::ReadWrite
                } else if record.consents.iter().any(|i| in_institution(i)) && team_member() {
                    Access::Read
                } else {
                    Access::None
                }
            }
        }
    }

    /// The documents a user may hold, with their kind.
    pub fn visible_to(&self, login: &str) -> Vec<(DocumentId, Kind, Access)> {
        let Ok(records) = self.inner.records.read() else {
            return Vec::new();
        };
        let Some(user) = self.user(login) else {
            return Vec::new();
        };
        let mut out: Vec<(DocumentId, Kind, Access)> = records
            .iter()
            .map(|(id, r)| (*id, r.kind, self.rule(&user, r)))
            .filter(|(_, _, a)| *a != Access::None)
            .collect();
        out.sort_by_key(|(id, ..)| *id);
        out
    }

    /// Binds change authors (actors) to devices; refuses an actor of another device.
    fn check_actors(
        &self,
        principal: &Principal,
        document: &DocumentId,
        changes: &[ChangeSummary],
    ) -> Result<(), Refusal> {
        let mut fresh = Vec::new();
        {
            let known = self
                .inner
                .actor_devices
                .read()
                .map_err(|_| Refusal::HostFailed("actor table poisoned".into()))?;
            for change in changes {
                let actor = change.actor.to_bytes().to_vec();
                match known.get(&actor) {
                    Some(device) if *device != principal.device => {
                        return Err(Refusal::ForgedActor {
                            change: change.hash,
                            actor: change.actor.clone(),
                        });
                    }
                    Some(_) => {}
                    None => fresh.push(actor),
                }
            }
        }
        if !fresh.is_empty() {
            let mut known = self
                .inner
                .actor_devices
                .write()
                .map_err(|_| Refusal::HostFailed("actor table poisoned".into()))?;
            for actor in fresh {
                if let Some(device) = known.get(&actor) {
                    if *device != principal.device {
                        return Err(Refusal::ActorOfAnotherDevice);
                    }
                    continue;
                }
                self.inner
                    .actors
                    .insert(&actor, principal.device.as_bytes())
                    .map_err(|e| {
                        Refusal::HostFailed(format!("storing the actor binding failed: {e}"))
                    })?;
                known.insert(actor, principal.device.clone());
            }
        }
        let hashes: Vec<String> = changes.iter().map(|c| c.hash.to_string()).collect();
        let actors: BTreeSet<String> = changes.iter().map(|c| c.actor.to_string()).collect();
        self.inner.audit.note(
            "change",
            Some(&principal.user),
            Some(&principal.device),
            Some(document.to_string()),
            serde_json::json!({ "changes": hashes, "actors": actors }),
        );
        Ok(())
    }

    /// Validates a document a peer changed, registers a new one, and updates what the server
    /// derives from it (consents, stage, hand-over).
    fn check(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
    ) -> Result<(), Refusal> {
        let existing = self.record(document);
        let kind = match model::validate(doc) {
            Ok(DocumentKind::Case) => Kind::Case,
            Ok(DocumentKind::Pzk) => Kind::Pzk,
            Err(sync_core::SchemaError::UnknownType(_))
                if self.inner.allow_untyped
                    && existing.as_ref().is_none_or(|r| r.kind == Kind::Untyped) =>
            {
                Kind::Untyped
            }
            Err(e) => return Err(Refusal::Invalid(e)),
        };
        let mut record = match (existing, created_by) {
            (Some(r), _) => {
                if r.kind != kind {
                    return Err(Refusal::TypeChanged);
                }
                r
            }
            (None, Some(principal)) => self.new_record(kind, principal, doc)?,
            (None, None) => return Err(Refusal::NoOwner),
        };
        let before = record.clone();
        if kind == Kind::Case {
            let facts = case_facts(doc);
            record.consents = facts.consents;
            record.finished = facts.finished;
            record.handed_to = facts.handed_to;
        }
        if created_by.is_some() || record != before {
            if record.consents != before.consents && created_by.is_none() {
                self.inner.audit.note(
                    "consent",
                    None,
                    None,
                    Some(document.to_string()),
                    serde_json::json!({ "institutions": record.consents }),
                );
            }
            self.save(*document, record)
                .map_err(|e| Refusal::HostFailed(e.to_string()))?;
            self.touched(*document);
        }
        Ok(())
    }

    fn new_record(
        &self,
        kind: Kind,
        principal: &Principal,
        doc: &Automerge,
    ) -> Result<DocRecord, Refusal> {
        let user = self.user(&principal.user).ok_or(Refusal::UnknownUser)?;
        let team = match kind {
            Kind::Pzk => {
                let teams = self
                    .inner
                    .teams
                    .read()
                    .map_err(|_| Refusal::HostFailed("team table poisoned".into()))?;
                let led: Vec<&Team> = teams.iter().filter(|t| t.animator == user.login).collect();
                let name = model::pzk::read_pzk(doc).ok().map(|v| v.name);
                let chosen = match led.as_slice() {
                    [one] => Some(one.id.clone()),
                    many => many
                        .iter()
                        .find(|t| Some(&t.name) == name.as_ref())
                        .map(|t| t.id.clone()),
                };
                Some(chosen.ok_or(Refusal::NotTeamAnimator)?)
            }
            Kind::Case => {
                let allowed = user
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::SocialWorker | Role::Animator | Role::Admin));
                if !allowed {
                    return Err(Refusal::MayNotOpenCases);
                }
                None
            }
            Kind::Untyped => None,
        };
        Ok(DocRecord {
            kind,
            owner: user.login.clone(),
            institution: user.institution.clone(),
            team,
            assigned_users: BTreeSet::new(),
            assigned_institutions: BTreeSet::new(),
            consents: BTreeSet::new(),
            finished: false,
            handed_to: None,
            erased: false,
        })
    }
}

/// What the server derives from a case: the institutions with consent in force for the PZK
/// purpose, whether it is finished (closed or handed over, and not in conflict), and to whom it
/// was handed over. The case is read once.
struct CaseFacts {
    consents: BTreeSet<String>,
    finished: bool,
    handed_to: Option<String>,
}

fn case_facts(doc: &Automerge) -> CaseFacts {
    let Ok(view) = model::case::read_case(doc) else {
        return CaseFacts {
            consents: BTreeSet::new(),
            finished: false,
            handed_to: None,
        };
    };
    let consents = view
        .consents
        .values()
        .map(|c| c.event.institution.clone())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .filter(|i| view.consent_in_force(i, PZK_PURPOSE))
        .collect();
    // A stage in conflict is not settled: nobody loses access until someone resolves it.
    let finished = !view.stage.is_conflicted()
        && matches!(
            view.stage.value,
            model::case::Stage::Closed | model::case::Stage::HandedOver
        );
    let handed_to = finished.then(|| view.handover.map(|h| h.target)).flatten();
    CaseFacts {
        consents,
        finished,
        handed_to,
    }
}

/// The policy the engine asks on every message.
#[derive(Clone, Debug)]
pub struct ServerPolicy {
    registry: Registry,
}

impl ServerPolicy {
    /// A policy over the registry.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

impl Policy for ServerPolicy {
    fn access(&self, principal: &Principal, document: &DocumentId, exists: bool) -> Access {
        self.registry.access_of(&principal.user, document, exists)
    }

    fn inspects_changes(&self) -> bool {
        true
    }

    fn check_changes(
        &self,
        principal: &Principal,
        document: &DocumentId,
        changes: &[ChangeSummary],
    ) -> Result<(), Refusal> {
        self.registry.check_actors(principal, document, changes)
    }

    fn check_document(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
    ) -> Result<(), Refusal> {
        self.registry.check(document, doc, created_by)
    }
}
