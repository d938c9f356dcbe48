//! Provisioning: the `admin` command (on a stopped server's data directory) and the same
//! operations over the authenticated HTTP API while it runs.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::{Args, Subcommand};
use serde::Deserialize;
use tokio::sync::oneshot;

use crate::audit::{Audit, AuditQuery};
use crate::error::{ApiError, ServerError};
use crate::hub::Command;
use crate::identity::{Authenticated, Directory, Enrolment, Role, User};
use crate::AppState;

/// `admin` options.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's data directory.
    #[arg(long, env = "KOOPERACJA_DATA_DIR", default_value = "./kooperacja-data")]
    pub data_dir: PathBuf,
    /// The region's PostgreSQL store (`postgres://…`), when it runs on one.
    #[arg(long, env = "KOOPERACJA_STORE")]
    pub store: Option<String>,
    /// What to administer.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Administrative commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Devices (tablets, browsers).
    Device {
        /// What to do with devices.
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Institutions (GOPS/MOPS, PCPR, schools, health care, police, courts, NGOs, the ROPS).
    Institution {
        /// What to do with institutions.
        #[command(subcommand)]
        command: InstitutionCommand,
    },
    /// PZK teams (*Partnerski Zespół Kooperacji*).
    Pzk {
        /// What to do with teams.
        #[command(subcommand)]
        command: PzkCommand,
    },
    /// De-identified export of cases for the ROPS evaluation (no names, no free text).
    Export {
        /// `json` (rows and counts per stage) or `csv` (rows).
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// Copies this data directory's sled store (documents, identity, access, audit) into a
    /// PostgreSQL database, for a region that grows to several nodes. Progress on stderr.
    MigrateToPostgres {
        /// The database (`postgres://…`); its tables are made if missing.
        #[arg(long)]
        to: String,
    },
    /// Copies the whole store (documents, identity, audit) into one backup file.
    Backup {
        /// The backup file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores a backup file into this data directory (its store must not exist yet).
    Restore {
        /// The backup file to read.
        #[arg(long)]
        from: PathBuf,
    },
    /// The audit log: query (JSON lines) or verify its hash chain.
    Audit {
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
        /// Only this document (its id).
        #[arg(long)]
        document: Option<String>,
        /// From this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Up to this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Check the chain instead of listing.
        #[arg(long)]
        verify: bool,
    },
}

/// `admin institution ...`
#[derive(Debug, Subcommand)]
pub enum InstitutionCommand {
    /// Adds an institution.
    Add {
        /// Short stable id, e.g. `gops-wadowice`.
        #[arg(long)]
        id: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Sector: social, education, health, police, justice, ngo, rops, other.
        #[arg(long, default_value = "social")]
        sector: String,
    },
}

/// `admin pzk ...`
#[derive(Debug, Subcommand)]
pub enum PzkCommand {
    /// Adds a PZK team led by an animator.
    Add {
        /// Short stable id.
        #[arg(long)]
        id: String,
        /// Name (the PZK document's name).
        #[arg(long)]
        name: String,
        /// The animator's login.
        #[arg(long)]
        animator: String,
    },
    /// Adds a member institution to a team.
    Member {
        /// The team.
        #[arg(long)]
        pzk: String,
        /// The institution.
        #[arg(long)]
        institution: String,
    },
}

/// `admin user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user.
    Add {
        /// Unique login.
        #[arg(long)]
        login: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role (repeat for several): social-worker, animator, pzk-member, coordinator, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The institution the user works for.
        #[arg(long)]
        institution: Option<String>,
    },
    /// Lists users as JSON lines.
    List,
}

/// `admin device ...`
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Enrols a device for a user; prints `{"device_id", "user", "token"}`.
    Enroll {
        /// The user's login.
        #[arg(long)]
        user: String,
    },
    /// Makes a one-time enrolment code for a tablet of a user (`POST /api/v1/enroll` redeems it).
    Code {
        /// The user's login.
        #[arg(long)]
        user: String,
    },
    /// Revokes a device.
    Revoke {
        /// The device id.
        #[arg(long)]
        device: String,
    },
}

fn parse_roles(roles: &[String]) -> Result<Vec<Role>, ServerError> {
    roles.iter().map(|r| r.parse()).collect()
}

fn random48() -> [u8; 48] {
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes[..]);
    bytes
}

/// Runs an admin command on a data directory; returns what to print on stdout.
pub fn run(
    data_dir: &Path,
    store: Option<&str>,
    command: AdminCommand,
) -> Result<String, ServerError> {
    let path = crate::serve::store_path(data_dir);
    if let AdminCommand::Restore { from } = &command {
        if store.is_some() {
            return Err(ServerError::Invalid(
                "restore is for the sled store; restore PostgreSQL with its own tools".into(),
            ));
        }
        let store = sync_core::storage::SledStorage::restore_from(from, &path)?;
        let audit = Audit::open(&crate::kv::Kv::Sled(store.db().clone()))?;
        let records = audit.verify()?;
        audit.record(
            "restore",
            None,
            None,
            None,
            serde_json::json!({ "from": from.display().to_string() }),
        )?;
        store.make_durable()?;
        return json_line(&serde_json::json!({ "restored": true, "audit_records": records }));
    }
    let storage = crate::serve::open_store(store, &path, "admin").map_err(|e| {
        ServerError::Config(match store {
            // The URL may hold a password: not repeated in an error.
            Some(_) => format!("cannot open the PostgreSQL store ({e})"),
            None => format!(
                "cannot open {} ({e}); if the server is running, use the admin API \
                 (/api/v1/admin/...) instead",
                path.display()
            ),
        })
    })?;
    let kv = storage.kv();
    let directory = Directory::open(&kv)?;
    let audit = Audit::open(&kv)?;
    let out = match command {
        AdminCommand::User {
            command:
                UserCommand::Add {
                    login,
                    name,
                    roles,
                    institution,
                },
        } => {
            let mut user = directory.add_user(&login, &name, parse_roles(&roles)?)?;
            if let Some(i) = institution {
                user = directory.set_institution(&login, &i)?;
            }
            audit.record(
                "user-added",
                Some(&login),
                None,
                None,
                serde_json::json!({ "roles": roles }),
            )?;
            json_line(&user)?
        }
        AdminCommand::Institution {
            command: InstitutionCommand::Add { id, name, sector },
        } => json_line(&directory.add_institution(&id, &name, &sector)?)?,
        AdminCommand::Pzk {
            command: PzkCommand::Add { id, name, animator },
        } => json_line(&directory.add_team(&id, &name, &animator)?)?,
        AdminCommand::Pzk {
            command: PzkCommand::Member { pzk, institution },
        } => {
            let team = directory.add_team_member(&pzk, &institution)?;
            audit.record(
                "grant",
                None,
                None,
                None,
                serde_json::json!({ "pzk": pzk, "institution": institution }),
            )?;
            json_line(&team)?
        }
        AdminCommand::Export { format } => {
            let audit = std::sync::Arc::new(audit);
            let registry =
                crate::access::Registry::open(&kv, directory.clone(), audit.clone(), false)?;
            let salt = kv
                .open_tree("meta")?
                .get("token-secret")?
                .unwrap_or_default();
            let export = crate::export::cases(&storage, &registry, &salt)?;
            audit.record(
                "export",
                None,
                None,
                None,
                serde_json::json!({ "cases": export.cases.len() }),
            )?;
            match format.as_str() {
                "csv" => crate::export::to_csv(&export),
                "json" => json_line(&export)?,
                other => {
                    return Err(ServerError::Invalid(format!(
                        "unknown format {other:?}; use json or csv"
                    )))
                }
            }
        }
        AdminCommand::MigrateToPostgres { to } => {
            let crate::store::DocStore::Sled(from) = &storage else {
                return Err(ServerError::Invalid(
                    "migrate-to-postgres copies a sled data directory; this store is not sled"
                        .into(),
                ));
            };
            let report = crate::migrate::sled_to_postgres(from, &to, &mut std::io::stderr())?;
            audit.record(
                "migrated",
                None,
                None,
                None,
                serde_json::json!({ "to": "postgres", "documents": report.documents }),
            )?;
            json_line(&report)?
        }
        AdminCommand::Backup { out } => {
            let entries = storage.backup_to(&out)?;
            json_line(
                &serde_json::json!({ "backup": out.display().to_string(), "entries": entries }),
            )?
        }
        AdminCommand::Restore { .. } => {
            return Err(ServerError::Invalid(
                "restore runs before the store is opened".into(),
            ))
        }
        AdminCommand::Audit { verify: true, .. } => {
            let n = audit.verify()?;
            json_line(&serde_json::json!({ "verified": true, "records": n }))?
        }
        AdminCommand::Audit {
            user,
            document,
            since,
            until,
            verify: false,
        } => {
            let mut out = String::new();
            for record in audit.query(&AuditQuery {
                user,
                document,
                since,
                until,
            })? {
                out.push_str(&json_line(&record)?);
            }
            out
        }
        AdminCommand::User {
            command: UserCommand::List,
        } => {
            let mut out = String::new();
            for user in directory.users()? {
                out.push_str(&json_line(&user)?);
            }
            out
        }
        AdminCommand::Device {
            command: DeviceCommand::Enroll { user },
        } => {
            let enrolled = directory.enroll(&user, random48())?;
            audit.record(
                "enrol",
                Some(&user),
                Some(&enrolled.device_id),
                None,
                serde_json::json!({}),
            )?;
            json_line(&enrolled)?
        }
        AdminCommand::Device {
            command: DeviceCommand::Code { user },
        } => {
            let mut random = [0u8; 10];
            rand::fill(&mut random[..]);
            let code = directory.enrolment_code(&user, random)?;
            audit.record(
                "enrolment-code",
                Some(&user),
                None,
                None,
                serde_json::json!({}),
            )?;
            json_line(&code)?
        }
        AdminCommand::Device {
            command: DeviceCommand::Revoke { device },
        } => {
            let revoked = directory.revoke(&device)?;
            audit.record(
                "revoke",
                Some(&revoked.user),
                Some(&device),
                None,
                serde_json::json!({}),
            )?;
            json_line(&revoked)?
        }
    };
    storage.make_durable()?;
    Ok(out)
}

fn json_line<T: serde::Serialize>(value: &T) -> Result<String, ServerError> {
    let mut s = serde_json::to_string(value).map_err(|e| ServerError::Corrupt(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// The HTTP API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/me", get(who_am_i))
        .route("/me/documents", get(my_documents))
        .route("/enroll", post(redeem))
        .route("/token", post(access_token))
        .route("/admin/users", post(add_user))
        .route("/admin/devices", post(enroll))
        .route("/admin/devices/{device}/revoke", post(revoke))
        .route("/admin/backup", post(backup))
        .route("/admin/documents/{document}/erase", post(erase))
        .route("/documents/{document}/assign", post(assign))
        .route("/documents/{document}/unassign", post(unassign))
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = crate::ws::bearer(headers, None)
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
    let directory = state.directory.clone();
    let found = tokio::task::spawn_blocking(move || directory.authenticate(&token))
        .await
        .map_err(|_| ApiError::unavailable("authentication failed to run"))??;
    match found {
        Authenticated::Device(user, _) => Ok(user),
        Authenticated::Revoked(_) => Err(ApiError::unauthorized(crate::ws::REVOKED_MESSAGE)),
        Authenticated::Expired => Err(ApiError::unauthorized(
            "the access token has expired; get a new one with POST /api/v1/token",
        )),
        Authenticated::Unknown => Err(ApiError::unauthorized("unknown device token")),
    }
}

async fn admin(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let user = caller(state, headers).await?;
    if !user.roles.contains(&Role::Admin) {
        return Err(ApiError::forbidden("this needs the admin role"));
    }
    Ok(user)
}

/// The caller's profile: login, name, institution (with its name) and roles. The meeting page
/// shows it and announces it in its presence.
async fn who_am_i(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = caller(&state, &headers).await?;
    let institution_name = match &user.institution {
        Some(id) => state.directory.institution(id)?.map(|i| i.name),
        None => None,
    };
    Ok(Json(serde_json::json!({
        "login": user.login,
        "name": user.name,
        "institution": user.institution,
        "institution_name": institution_name,
        "roles": user.roles,
    })))
}

async fn my_documents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = caller(&state, &headers).await?;
    let documents: Vec<serde_json::Value> = state
        .registry
        .visible_to(&user.login)
        .into_iter()
        .map(|(id, kind, access)| {
            serde_json::json!({
                "document_id": id.to_string(),
                "url": id.url(),
                "kind": kind,
                "access": if access == sync_core::engine::Access::ReadWrite { "read-write" } else { "read" },
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "documents": documents })))
}

#[derive(Debug, Deserialize)]
struct NewUser {
    login: String,
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    institution: Option<String>,
}

async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NewUser>,
) -> Result<Json<User>, ApiError> {
    let by = admin(&state, &headers).await?;
    let roles = parse_roles(&body.roles)?;
    let mut user = state.directory.add_user(&body.login, &body.name, roles)?;
    if let Some(i) = &body.institution {
        user = state.directory.set_institution(&body.login, i)?;
    }
    state.registry.reload_directory()?;
    state.registry.audit().note(
        "user-added",
        Some(&body.login),
        None,
        None,
        serde_json::json!({ "by": by.login }),
    );
    Ok(Json(user))
}

#[derive(Debug, Deserialize)]
struct NewDevice {
    user: String,
}

async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NewDevice>,
) -> Result<Json<Enrolment>, ApiError> {
    let by = admin(&state, &headers).await?;
    let enrolled = state.directory.enroll(&body.user, random48())?;
    state.registry.audit().note(
        "enrol",
        Some(&body.user),
        Some(&enrolled.device_id),
        None,
        serde_json::json!({ "by": by.login }),
    );
    Ok(Json(enrolled))
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(device): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let revoked = state.directory.revoke(&device)?;
    state.registry.audit().note(
        "revoke",
        Some(&revoked.user),
        Some(&device),
        None,
        serde_json::json!({ "by": by.login }),
    );
    let (ack, closed) = oneshot::channel();
    state
        .hub
        .send(Command::DropDevice(device.clone(), ack))
        .await;
    let closed = closed.await.unwrap_or(0);
    Ok(Json(
        serde_json::json!({ "device": revoked, "connections_closed": closed }),
    ))
}

#[derive(Debug, Deserialize)]
struct Assignment {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    institution: Option<String>,
}

async fn assign(
    state: State<AppState>,
    headers: HeaderMap,
    document: UrlPath<String>,
    body: Json<Assignment>,
) -> Result<Json<crate::access::DocRecord>, ApiError> {
    change_assignment(state, headers, document, body, false).await
}

async fn unassign(
    state: State<AppState>,
    headers: HeaderMap,
    document: UrlPath<String>,
    body: Json<Assignment>,
) -> Result<Json<crate::access::DocRecord>, ApiError> {
    change_assignment(state, headers, document, body, true).await
}

/// The case's owner, an animator or an admin assigns or unassigns workers and institutions.
async fn change_assignment(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
    Json(body): Json<Assignment>,
    remove: bool,
) -> Result<Json<crate::access::DocRecord>, ApiError> {
    let user = caller(&state, &headers).await?;
    let id = sync_core::DocumentId::parse(&document)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let record = state
        .registry
        .record(&id)
        .ok_or_else(|| ApiError::not_found("no such document"))?;
    let allowed = record.owner == user.login
        || user
            .roles
            .iter()
            .any(|r| matches!(r, Role::Admin | Role::Animator));
    if !allowed {
        // Exactly what an unknown document answers: ids cannot be probed.
        return Err(ApiError::not_found("no such document"));
    }
    if body.user.is_none() && body.institution.is_none() {
        return Err(ApiError::bad_request("give a user or an institution"));
    }
    let record = state.registry.assign(
        id,
        body.user.as_deref(),
        body.institution.as_deref(),
        &user.login,
        remove,
    )?;
    state.hub.send(Command::AccessChanged(Some(id))).await;
    Ok(Json(record))
}

#[derive(Debug, Deserialize)]
struct Redeem {
    code: String,
}

/// A tablet enrols itself with a one-time code and receives its device token.
async fn redeem(
    State(state): State<AppState>,
    Json(body): Json<Redeem>,
) -> Result<Json<Enrolment>, ApiError> {
    let enrolled = state.directory.redeem(&body.code, random48())?;
    state.registry.audit().note(
        "enrol",
        Some(&enrolled.user),
        Some(&enrolled.device_id),
        None,
        serde_json::json!({ "by": "enrolment-code" }),
    );
    Ok(Json(enrolled))
}

/// A device exchanges its device token for a short-lived access token.
async fn access_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<crate::identity::AccessToken>, ApiError> {
    let token = crate::ws::bearer(&headers, None)
        .ok_or_else(|| ApiError::unauthorized("a device token is required"))?;
    let directory = state.directory.clone();
    let issued = tokio::task::spawn_blocking(move || {
        directory.access_token(&token, crate::identity::ACCESS_TOKEN_SECONDS)
    })
    .await
    .map_err(|_| ApiError::unavailable("token service failed to run"))??;
    issued
        .map(Json)
        .ok_or_else(|| ApiError::unauthorized("a valid device token (kt_…) is required"))
}

/// An online backup: the hub pauses (no document or audit writes start) while the store is
/// copied into `data_dir/backups/`.
async fn backup(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let (paused_tx, paused) = oneshot::channel();
    let (resume, resume_rx) = oneshot::channel();
    if !state.hub.send(Command::Pause(paused_tx, resume_rx)).await {
        return Err(ApiError::unavailable("the server is stopping"));
    }
    paused
        .await
        .map_err(|_| ApiError::unavailable("the server is stopping"))?;
    let dir = state.data_dir.join("backups");
    let file = dir.join(format!(
        "backup-{}.kbk",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    let storage = state.storage.clone();
    let target = file.clone();
    let copied = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)
            .map_err(|e| ServerError::io("creating the backup folder", e))?;
        storage.backup_to(&target).map_err(ServerError::from)
    })
    .await;
    let _ = resume.send(());
    let entries = copied.map_err(|_| ApiError::unavailable("the backup failed to run"))??;
    state.registry.audit().note(
        "backup",
        Some(&by.login),
        None,
        None,
        serde_json::json!({ "file": file.display().to_string(), "entries": entries }),
    );
    Ok(Json(
        serde_json::json!({ "backup": file.display().to_string(), "entries": entries }),
    ))
}

/// Erases a case (GDPR art. 17 where the law allows): its history leaves the store, its id is
/// tombstoned so no device can upload it again, devices holding it are told it is unavailable
/// (tablets drop it when the server no longer lists it), and the audit log keeps only that an
/// erasure happened.
async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let id = sync_core::DocumentId::parse(&document)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.registry.erase(id, &by.login)?;
    let (ack, done) = oneshot::channel();
    if !state.hub.send(Command::Erase(id, ack)).await {
        return Err(ApiError::unavailable("the server is stopping"));
    }
    done.await
        .map_err(|_| ApiError::unavailable("the server is stopping"))?
        .map_err(ServerError::from)?;
    Ok(Json(serde_json::json!({ "erased": id.to_string() })))
}
