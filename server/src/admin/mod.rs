//! Provisioning on a stopped server's data directory: the `admin` command ([`args`]) and
//! [`run`], which carries it out. A running server offers the same operations over its
//! authenticated HTTP API (`crate::api`).

mod args;

use std::path::Path;

pub use args::{
    AdminArgs, AdminCommand, DeviceCommand, InstitutionCommand, PlaceArgs, PzkCommand,
    TokenCommand, UserCommand,
};

use crate::audit::{Audit, AuditQuery};
use crate::error::ServerError;
use crate::identity::{random_device_secret, Directory, Role};

/// Runs an admin command on a data directory; returns what to print on stdout.
pub fn run(
    data_dir: &Path,
    secrets_dir: &Path,
    store: Option<&str>,
    command: AdminCommand,
) -> Result<String, ServerError> {
    let out = run_command(data_dir, secrets_dir, store, command)?;
    if store.is_none() {
        // Closed now: rewritten if an erasure or `encrypt-at-rest` left stale bytes in it.
        crate::at_rest::rewrite::rewrite_if_pending(&crate::store::store_path(data_dir))?;
    }
    Ok(out)
}

fn run_command(
    data_dir: &Path,
    secrets_dir: &Path,
    store: Option<&str>,
    command: AdminCommand,
) -> Result<String, ServerError> {
    let secrets = crate::secrets::Secrets::open_or_create(secrets_dir)?;
    let path = crate::store::store_path(data_dir);
    if let AdminCommand::Restore {
        from,
        backup_key_file,
    } = &command
    {
        if store.is_some() {
            return Err(ServerError::Invalid(
                "restore is for the sled store; restore PostgreSQL with its own tools".into(),
            ));
        }
        let key = crate::backup::key(backup_key_file.as_deref())?;
        let store = crate::backup::restore(from, &path, &key)?;
        let kv = crate::kv::Kv::Sled(store.db().clone());
        if let Err(e) = Directory::open(&kv, &secrets.master) {
            drop((kv, store));
            let _ = std::fs::remove_dir_all(&path);
            return Err(ServerError::Config(format!(
                "{e}; nothing was restored: restore with the --secrets-dir of the server the \
                 backup came from"
            )));
        }
        let audit = Audit::open(&crate::kv::Kv::Sled(store.db().clone()), &secrets)?;
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
    let storage =
        crate::at_rest::rewrite::open(store, &path, "admin", &secrets.master).map_err(|e| {
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
    let directory = Directory::open(&kv, &secrets.master)?;
    let audit = Audit::open(&kv, &secrets)?;
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
            let mut user = directory.add_user(&login, &name, Role::parse_all(&roles)?)?;
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
            command:
                InstitutionCommand::Add {
                    id,
                    name,
                    sector,
                    place,
                },
        } => {
            let place = place.place()?;
            directory.add_institution(&id, &name, &sector)?;
            json_line(&directory.place_institution(&id, place)?)?
        }
        AdminCommand::Institution {
            command: InstitutionCommand::Place { id, place },
        } => json_line(&directory.place_institution(&id, place.place()?)?)?,
        AdminCommand::Pzk {
            command:
                PzkCommand::Add {
                    id,
                    name,
                    animator,
                    place,
                },
        } => {
            let place = place.place()?;
            directory.add_team(&id, &name, &animator)?;
            json_line(&directory.place_team(&id, place)?)?
        }
        AdminCommand::Pzk {
            command: PzkCommand::Place { pzk, place },
        } => json_line(&directory.place_team(&pzk, place.place()?)?)?,
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
        AdminCommand::Pzk {
            command: PzkCommand::Adviser { pzk, login },
        } => {
            let team = directory.assign_adviser(&pzk, &login)?;
            audit.record(
                "grant",
                Some(&login),
                None,
                None,
                serde_json::json!({ "pzk": pzk, "adviser": login }),
            )?;
            json_line(&team)?
        }
        AdminCommand::Export { format } => {
            let audit = std::sync::Arc::new(audit);
            let registry =
                crate::access::Registry::open(&kv, directory.clone(), audit.clone(), false)?;
            let salt = directory.export_salt()?;
            let export = crate::export::cases(&storage, &registry, &salt, chrono::Utc::now())?;
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
        AdminCommand::AccessReport { document, format } => {
            let id = sync_core::DocumentId::parse(&document)
                .map_err(|e| ServerError::Invalid(e.to_string()))?;
            let audit = std::sync::Arc::new(audit);
            let registry =
                crate::access::Registry::open(&kv, directory.clone(), audit.clone(), false)?;
            let report = crate::access_report::gather(&storage, &registry, id)?;
            audit.record(
                "access-report",
                None,
                None,
                Some(id.to_string()),
                serde_json::json!({ "format": format, "by": "admin command" }),
            )?;
            match format.as_str() {
                "html" => crate::access_report::to_html(&report),
                "json" => json_line(&report)?,
                other => {
                    return Err(ServerError::Invalid(format!(
                        "unknown format {other:?}; use json or html"
                    )))
                }
            }
        }
        AdminCommand::MigrateToPostgres { to } => {
            let crate::store::DocStore::Sled(from) = storage.inner() else {
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
        AdminCommand::EncryptAtRest => {
            let done = storage.encrypt_all_now()?;
            audit.record(
                "encrypt-at-rest",
                None,
                None,
                None,
                serde_json::json!({ "documents": done.documents, "sealed_chunks": done.sealed_chunks }),
            )?;
            json_line(&done)?
        }
        AdminCommand::Backup {
            out,
            backup_key_file,
        } => {
            let key = crate::backup::key(backup_key_file.as_deref())?;
            let entries = crate::backup::write_store(storage.inner(), data_dir, &out, &key)?;
            audit.record(
                "backup",
                None,
                None,
                None,
                serde_json::json!({ "file": out.display().to_string(), "entries": entries }),
            )?;
            json_line(
                &serde_json::json!({ "backup": out.display().to_string(), "entries": entries }),
            )?
        }
        AdminCommand::Restore { .. } => {
            return Err(ServerError::Invalid(
                "restore runs before the store is opened".into(),
            ))
        }
        AdminCommand::Token {
            command: TokenCommand::RotateKey,
        } => {
            let rotation = directory.rotate_signing_key()?;
            audit.record(
                "token-key-rotated",
                None,
                None,
                None,
                serde_json::json!({ "key_id": rotation.key_id }),
            )?;
            json_line(&rotation)?
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
        AdminCommand::Erase { document } => {
            let id = sync_core::DocumentId::parse(&document)
                .map_err(|e| ServerError::Invalid(format!("{document:?}: {e}")))?;
            let audit = std::sync::Arc::new(audit);
            let registry = crate::access::Registry::open(&kv, directory.clone(), audit, false)?;
            // A case's justice documents go with it; each one's attachments' records and
            // files go too (the key goes with the document).
            let blobs = crate::blobs::Backend::open(storage.inner(), data_dir)?;
            for erased in registry.erase(id, "admin")? {
                blobs.remove_document(erased)?;
                futures::executor::block_on(sync_core::storage::Storage::remove(&storage, erased))?;
            }
            json_line(&serde_json::json!({ "erased": id.to_string() }))?
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
            let enrolled = directory.enroll(&user, random_device_secret())?;
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
