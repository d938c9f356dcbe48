//! The shapes of the answers that handlers build as JSON values (`serde_json::json!`), for the
//! OpenAPI document ([`super::openapi`]). The API's tests check every answer against them, so
//! these descriptions cannot drift from what the handlers send.

use serde::Serialize;
use utoipa::ToSchema;

use crate::identity::{Device, Role};

/// Every refusal and error: a clear message (Polish where the user reads it).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, e.g. `this needs the admin role`.
    pub error: String,
}

/// `GET /me`: the caller's profile.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Profile {
    /// Login.
    pub login: String,
    /// Display name.
    pub name: String,
    /// The institution's id.
    pub institution: Option<String>,
    /// The institution's full name.
    pub institution_name: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
}

/// `GET /me/documents`: the documents the caller may hold.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DocumentList {
    /// One entry per document.
    pub documents: Vec<DocumentEntry>,
}

/// One document the caller may hold.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DocumentEntry {
    /// The document's id (bs58check).
    pub document_id: String,
    /// Its `automerge:` URL.
    pub url: String,
    /// `case`, `pzk` or `untyped`.
    pub kind: crate::access::Kind,
    /// What the caller may do.
    pub access: AccessLevel,
    /// For a finished case whose owner has been told: the day it is to be erased at the end
    /// of its retention (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erase_on: Option<String>,
}

/// What a caller may do with a document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AccessLevel {
    /// Read and write.
    ReadWrite,
    /// Read only.
    Read,
}

/// `POST /admin/devices/{device}/revoke`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Revoked {
    /// The device, now revoked.
    pub device: Device,
    /// How many of its connections were closed.
    pub connections_closed: usize,
}

/// `POST /admin/backup`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BackupDone {
    /// The backup file on the server.
    pub backup: String,
    /// Entries copied.
    pub entries: u64,
}

/// `POST /admin/documents/{document}/erase`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Erased {
    /// The erased document's id.
    pub erased: String,
}

/// `DELETE /admin/documents/{document}/retention-hold`: the hold lifted.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldLifted {
    /// The case's id.
    pub document: String,
    /// Whether it was held (false: there was no hold to lift).
    pub lifted: bool,
}
