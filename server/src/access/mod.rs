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

mod actors;
mod policy;
mod registry;
mod rules;
mod validate;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use sync_core::DocumentId;

pub use policy::ServerPolicy;

use crate::audit::Audit;
use crate::identity::{Directory, Team, User};

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
