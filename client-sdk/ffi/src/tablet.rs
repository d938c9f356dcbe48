//! [`Tablet`]: the SDK as a native app holds it: open, sync, documents, reads, history,
//! conflicts, sharing, presence, streams, shutdown and wipe. The edits are in `edits.rs` and
//! `steps.rs`.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use client_sdk::{PresenceOptions, SdkError, TabletConfig, TabletStore};
use sync_core::model::{history, pzk};
use sync_core::presence::Member;

use crate::config::TabletSettings;
use crate::convert::document_id;
use crate::error::KooperacjaError;
use crate::inputs::{household, ReferralInput};
use crate::presence::DocumentPresence;
use crate::records::{FieldConflict, HistoryEntry, LocalDocument, SyncStatus};
use crate::runtime::{run, runtime};
use crate::streams::{self, Subscription, SyncStatusListener, TabletEventListener};
use crate::text::{TextField, TextSession};
use crate::views::{CaseView, PzkView};

/// A tablet: the encrypted store on the device, its documents, and background sync.
///
/// Every edit is durable on the device when its call returns. `shutdown` stops it cleanly;
/// after it, or after `wipe` or a revocation, every call fails with `Stopped`.
#[derive(Debug, uniffi::Object)]
pub struct Tablet {
    inner: RwLock<Option<Arc<client_sdk::Tablet>>>,
    data_dir: PathBuf,
}

impl Tablet {
    /// The running tablet, or `Stopped`.
    pub(crate) fn running(&self) -> Result<Arc<client_sdk::Tablet>, KooperacjaError> {
        self.inner
            .read()
            .map_err(|_| KooperacjaError::stopped("the tablet failed"))?
            .clone()
            .ok_or_else(|| SdkError::Stopped.into())
    }

    /// Stops the tablet (once): open text sessions are committed, the connection closed.
    async fn stop(&self) -> Result<(), KooperacjaError> {
        let taken = self
            .inner
            .write()
            .map_err(|_| KooperacjaError::stopped("the tablet failed"))?
            .take();
        if let Some(tablet) = taken {
            runtime()?
                .spawn(async move {
                    match Arc::try_unwrap(tablet) {
                        Ok(tablet) => tablet.shutdown().await,
                        // A call still running holds it; it stops when that call ends.
                        Err(shared) => drop(shared),
                    }
                })
                .await
                .map_err(|e| KooperacjaError::stopped(&e.to_string()))?;
        }
        Ok(())
    }
}

#[uniffi::export]
impl Tablet {
    /// Opens the store in `settings.data_dir` (creating it on first use), loads the documents
    /// kept on the device and starts syncing. A wrong key fails with `WrongKey` and changes
    /// nothing on disk.
    #[uniffi::constructor]
    pub async fn open(settings: TabletSettings) -> Result<Arc<Self>, KooperacjaError> {
        let config = TabletConfig::try_from(settings)?;
        let data_dir = config.data_dir.clone();
        let tablet = run(client_sdk::Tablet::open(config)).await?;
        Ok(Arc::new(Self {
            inner: RwLock::new(Some(Arc::new(tablet))),
            data_dir,
        }))
    }

    // ----- sync -----

    /// The sync status now.
    pub fn status(&self) -> Result<SyncStatus, KooperacjaError> {
        let status = self.running()?.status().borrow().clone();
        Ok(status.into())
    }

    /// Delivers the sync status now and at every change to `listener` (Kotlin:
    /// `tablet.statusFlow()`).
    pub fn watch_status(
        &self,
        listener: Arc<dyn SyncStatusListener>,
    ) -> Result<Arc<Subscription>, KooperacjaError> {
        streams::statuses(self.running()?.status(), listener)
    }

    /// Delivers every event from now on to `listener` (Kotlin: `tablet.eventFlow()`).
    pub fn watch_events(
        &self,
        listener: Arc<dyn TabletEventListener>,
    ) -> Result<Arc<Subscription>, KooperacjaError> {
        streams::events(self.running()?.events(), listener)
    }

    /// Goes offline (closes the connection, stops reconnecting) or back online.
    pub fn set_online(&self, online: bool) -> Result<(), KooperacjaError> {
        Ok(self.running()?.set_online(online)?)
    }

    /// Fetches the documents the user may hold again now (pull to refresh).
    pub fn refresh_documents(&self) -> Result<(), KooperacjaError> {
        Ok(self.running()?.refresh_documents()?)
    }

    /// Waits until every document here holds exactly what the server holds, up to
    /// `timeout_ms`; `Revoked` if the server revokes the device meanwhile.
    pub async fn wait_until_up_to_date(
        &self,
        timeout_ms: u64,
    ) -> Result<SyncStatus, KooperacjaError> {
        let tablet = self.running()?;
        let status = run(async move {
            tablet
                .wait_until_up_to_date(Duration::from_millis(timeout_ms))
                .await
        })
        .await?;
        Ok(status.into())
    }

    /// Waits until the tablet's sync has stopped: after a revocation, once the store is wiped
    /// and removed.
    pub async fn until_stopped(&self) -> Result<(), KooperacjaError> {
        let tablet = self.running()?;
        run(async move {
            tablet.until_stopped().await;
            Ok::<_, KooperacjaError>(())
        })
        .await
    }

    /// Stops cleanly: open text sessions are committed and the connection is closed. The
    /// store stays on the device for the next `open`.
    pub async fn shutdown(&self) -> Result<(), KooperacjaError> {
        self.stop().await
    }

    /// Removes everything this tablet holds on the device (a user leaving, a device handed
    /// back): stops syncing and deletes the encrypted store and its key check. Changes the
    /// server has not acknowledged are lost; check `status().pendingChanges` first.
    pub async fn wipe(&self) -> Result<(), KooperacjaError> {
        self.stop().await?;
        let paths = [
            TabletStore::store_path(&self.data_dir),
            TabletStore::key_check_path(&self.data_dir),
        ];
        run(async move {
            for path in paths {
                let removed = if path.is_dir() {
                    tokio::fs::remove_dir_all(&path).await
                } else {
                    tokio::fs::remove_file(&path).await
                };
                match removed {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(SdkError::Storage(sync_core::StorageError::Io(format!(
                            "removing {}: {e}",
                            path.display()
                        ))))
                    }
                }
            }
            Ok(())
        })
        .await
    }

    // ----- documents -----

    /// The documents on this device.
    pub async fn documents(&self) -> Result<Vec<LocalDocument>, KooperacjaError> {
        let tablet = self.running()?;
        let documents = run(async move { tablet.documents().await }).await?;
        Ok(documents.into_iter().map(Into::into).collect())
    }

    /// Creates a case (*sprawa*) at stage `referral`, owned by this tablet's user; durable on
    /// the device on return, sent to the server when a connection exists. Returns its id.
    pub async fn create_case(
        &self,
        lead_institution: String,
        referral: ReferralInput,
        household_members: Vec<crate::inputs::HouseholdMemberInput>,
    ) -> Result<String, KooperacjaError> {
        let tablet = self.running()?;
        let household = household(household_members)?;
        let id = run(async move {
            tablet
                .create_case(&lead_institution, referral.into(), household)
                .await
        })
        .await?;
        Ok(id.to_string())
    }

    /// Creates a PZK document led by this tablet's user. Returns its id.
    pub async fn create_pzk(
        &self,
        name: String,
        agreement_text: String,
    ) -> Result<String, KooperacjaError> {
        let tablet = self.running()?;
        let id = run(async move { tablet.create_pzk(&name, &agreement_text).await }).await?;
        Ok(id.to_string())
    }

    /// Reads a case.
    pub async fn case(&self, document: String) -> Result<CaseView, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        Ok(run(async move { tablet.case(id).await }).await?.into())
    }

    /// Reads a PZK document.
    pub async fn pzk(&self, document: String) -> Result<PzkView, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let view = run(async move { tablet.read(id, |doc| Ok(pzk::read_pzk(doc)?)).await }).await?;
        Ok(view.into())
    }

    /// The document's history: every change, causes before effects, with who made it, for
    /// which institution, when, and what changed.
    pub async fn history(&self, document: String) -> Result<Vec<HistoryEntry>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let entries = run(async move {
            tablet
                .read(id, |doc| {
                    Ok(history::changes_between(doc, &[], &doc.get_heads())?)
                })
                .await
        })
        .await?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    /// Opens a text session on a free-text field.
    pub async fn edit_text(
        &self,
        document: String,
        field: TextField,
    ) -> Result<Arc<TextSession>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let session = run(async move { tablet.edit_text(id, field.into()).await }).await?;
        Ok(TextSession::new(session))
    }

    // ----- conflicts -----

    /// The status fields of a document holding concurrent values, with who set each and when.
    pub async fn conflicts(&self, document: String) -> Result<Vec<FieldConflict>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let conflicts = run(async move { tablet.conflicts(id).await }).await?;
        Ok(conflicts.into_iter().map(Into::into).collect())
    }

    /// Resolves a conflict: `value` (one of the field's values) becomes the only value.
    pub async fn resolve(
        &self,
        document: String,
        path: String,
        value: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.resolve(id, &path, &value).await }).await
    }

    // ----- sharing -----

    /// Shares a case with a co-worker (the server assigns `login` to it); their tablets fetch
    /// it at their next connection or refresh.
    pub async fn assign(&self, document: String, login: String) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.assign(id, &login).await }).await
    }

    /// Stops sharing a case with a co-worker: their tablets remove it.
    pub async fn unassign(&self, document: String, login: String) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        run(async move { tablet.unassign(id, &login).await }).await
    }

    // ----- presence -----

    /// Starts presence in a document as this tablet's user, shown as `display_name`.
    pub fn join_presence(
        &self,
        document: String,
        display_name: String,
    ) -> Result<Arc<DocumentPresence>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&document)?);
        let me = Member {
            login: tablet.editor().login().to_owned(),
            name: display_name,
            institution: tablet.editor().institution().to_owned(),
        };
        let _context = runtime()?.enter();
        let presence = tablet.client().presence(id, PresenceOptions::member(&me))?;
        Ok(DocumentPresence::new(presence))
    }
}
