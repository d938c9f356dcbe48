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

use crate::error::{ApiError, ServerError};
use crate::hub::Command;
use crate::identity::{Directory, Enrolment, Role, User};
use crate::AppState;

/// `admin` options.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's data directory.
    #[arg(long, env = "KOOPERACJA_DATA_DIR", default_value = "./kooperacja-data")]
    pub data_dir: PathBuf,
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
pub fn run(data_dir: &Path, command: AdminCommand) -> Result<String, ServerError> {
    let path = crate::serve::store_path(data_dir);
    let storage = sync_core::storage::SledStorage::open(&path).map_err(|e| {
        ServerError::Config(format!(
            "cannot open {} ({e}); if the server is running, use the admin API \
             (/api/v1/admin/...) instead",
            path.display()
        ))
    })?;
    let directory = Directory::open(storage.db())?;
    let out = match command {
        AdminCommand::User {
            command: UserCommand::Add { login, name, roles },
        } => {
            let user = directory.add_user(&login, &name, parse_roles(&roles)?)?;
            json_line(&user)?
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
        } => json_line(&directory.enroll(&user, random48())?)?,
        AdminCommand::Device {
            command: DeviceCommand::Revoke { device },
        } => json_line(&directory.revoke(&device)?)?,
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
        .route("/me/documents", get(my_documents))
        .route("/admin/users", post(add_user))
        .route("/admin/devices", post(enroll))
        .route("/admin/devices/{device}/revoke", post(revoke))
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = crate::ws::bearer(headers, None)
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
    let directory = state.directory.clone();
    let found = tokio::task::spawn_blocking(move || directory.authenticate(&token))
        .await
        .map_err(|_| ApiError::unavailable("authentication failed to run"))??;
    found
        .map(|(user, _)| user)
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked device token"))
}

async fn admin(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let user = caller(state, headers).await?;
    if !user.roles.contains(&Role::Admin) {
        return Err(ApiError::forbidden("this needs the admin role"));
    }
    Ok(user)
}

async fn my_documents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = caller(&state, &headers).await?;
    let documents: Vec<serde_json::Value> = state
        .owners
        .owned_by(&user.login)
        .into_iter()
        .map(|id| serde_json::json!({ "document_id": id.to_string(), "url": id.url() }))
        .collect();
    Ok(Json(serde_json::json!({ "documents": documents })))
}

#[derive(Debug, Deserialize)]
struct NewUser {
    login: String,
    name: String,
    roles: Vec<String>,
}

async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NewUser>,
) -> Result<Json<User>, ApiError> {
    admin(&state, &headers).await?;
    let roles = parse_roles(&body.roles)?;
    Ok(Json(state.directory.add_user(
        &body.login,
        &body.name,
        roles,
    )?))
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
    admin(&state, &headers).await?;
    Ok(Json(state.directory.enroll(&body.user, random48())?))
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(device): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&state, &headers).await?;
    let revoked = state.directory.revoke(&device)?;
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
