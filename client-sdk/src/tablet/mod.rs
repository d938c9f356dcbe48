//! [`Tablet`]: the SDK as a tablet app uses it — an encrypted store on the device, typed case and
//! PZK documents, text sessions, sync status, conflicts, and background sync.

mod attach;
mod config;
mod duties;
mod rectify;
mod referrals;
mod steps;

use std::collections::BTreeMap;
use std::time::Duration;

use automerge::{ActorId, Automerge};
use chrono::{DateTime, Utc};
use sync_core::model::case::{
    self, CaseInit, CaseView, ContactMode, DiagnosisSector, GoalPlan, GoalStatus, HouseholdMember,
    MonitoringNote, Referral, ScreeningOutcome, ServiceStatus, Stage,
};
use sync_core::model::pzk::{self, PzkInit, PzkView};
use sync_core::model::{workflow, Editor};
use sync_core::{DocumentId, SchemaError};
use tokio::sync::{broadcast, oneshot, watch};

use crate::attachments::local::LocalBlobs;
use crate::attachments::queue::Queue;
use crate::attachments::Attachments;
use crate::client::{self, ClientConfig, ClientEvent, LocalDocument, Options, SyncClient};
use crate::conflicts::{self, FieldConflict};
use crate::error::SdkError;
use crate::session::{TextField, TextSession};
use crate::status::{SyncState, SyncStatus};
use crate::store::TabletStore;
use crate::transport::ServerAddress;

pub use config::TabletConfig;
use duties::TabletDuties;
pub use referrals::ReferralForm;

/// A tablet: the local encrypted store, its documents, and the background sync with the
/// regional server.
///
/// Every edit is durable on the device when its call returns (text sessions: when they
/// commit). Documents stored on the device are loaded when it opens and synced whenever a
/// connection exists. [`Tablet::shutdown`] stops it cleanly; dropping it stops at once, like an
/// app being killed, which loses nothing that was durable.
#[derive(Debug)]
pub struct Tablet {
    client: SyncClient,
    editor: Editor,
    actor: ActorId,
    server: Option<ServerAddress>,
    attachments: Attachments,
}

fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes[..]);
    format!("{prefix}-{}", hex::encode(bytes))
}

impl Tablet {
    /// Opens the store in `config.data_dir` (creating it on first use), loads the documents
    /// kept on the device and starts syncing in the background.
    ///
    /// A wrong key fails with [`SdkError::WrongKey`] and changes nothing on disk.
    pub async fn open(config: TabletConfig) -> Result<Self, SdkError> {
        let editor = Editor::new(&config.user, &config.institution)?;
        let client_config = ClientConfig {
            peer_id: config.peer_id.clone(),
            server: config.server.clone(),
            min_backoff: config.min_backoff,
            max_backoff: config.max_backoff,
        };
        let options = Options {
            online: config.online,
            author: Some(editor.clone()),
            idle_commit: config.commit_after_idle,
        };
        let duties = TabletDuties {
            refresh_every: config.refresh_documents_every,
            wipe_paths: vec![
                TabletStore::store_path(&config.data_dir),
                TabletStore::key_check_path(&config.data_dir),
                attach::blobs_path(&config.data_dir),
            ],
        };
        let (dir, key) = (config.data_dir.clone(), config.key.clone());
        let (client, ready) = client::spawn(client_config, options, Box::new(duties), move || {
            let store = TabletStore::open(&dir, &key)?;
            Ok((store.clone(), store))
        })?;
        let ready = match ready.await {
            Ok(Ok(ready)) => ready,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(SdkError::Stopped),
        };
        let actor = ready
            .actor
            .ok_or_else(|| SdkError::UnknownStore(config.data_dir.display().to_string()))?;
        let blobs = LocalBlobs::new(attach::blobs_path(&config.data_dir), &config.key);
        let queue = config.server.clone().map(|server| Queue {
            server,
            status: client.status(),
            events: client.events(),
            min_backoff: config.min_backoff,
            max_backoff: config.max_backoff,
            evict_after: config.evict_attachments_after,
        });
        let attachments = Attachments::start(blobs, config.max_attachment_bytes, queue);
        Ok(Self {
            client,
            editor,
            actor,
            server: config.server,
            attachments,
        })
    }

    /// The sync client underneath (heads, acknowledgements, presence).
    pub fn client(&self) -> &SyncClient {
        &self.client
    }

    /// The user (login and institution) recorded as the author of this tablet's edits.
    pub fn editor(&self) -> &Editor {
        &self.editor
    }

    // ----- sync -----

    /// The latest sync status (a UI binds to this).
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.client.status()
    }

    /// Every change of the sync status from now on, in order.
    pub fn status_changes(&self) -> broadcast::Receiver<SyncStatus> {
        self.client.status_changes()
    }

    /// What happens: connections, stored changes, removed documents, revocation.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.client.events()
    }

    /// Goes offline (closes the connection, stops reconnecting) or back online.
    pub fn set_online(&self, online: bool) -> Result<(), SdkError> {
        self.client.set_online(online)
    }

    /// Fetches the documents the user may hold again now (pull to refresh): new ones arrive,
    /// those no longer shared leave.
    pub fn refresh_documents(&self) -> Result<(), SdkError> {
        self.client.refresh_documents()
    }

    /// Waits until the status satisfies `check`, up to `timeout`; returns that status.
    pub async fn wait_for_status(
        &self,
        what: &str,
        timeout: Duration,
        check: impl FnMut(&SyncStatus) -> bool,
    ) -> Result<SyncStatus, SdkError> {
        self.client.wait_for_status(what, timeout, check).await
    }

    /// Waits until every document here holds exactly what the server holds.
    pub async fn wait_until_up_to_date(&self, timeout: Duration) -> Result<SyncStatus, SdkError> {
        self.wait_for_status("up to date", timeout, |s| {
            s.state == SyncState::UpToDate || s.state == SyncState::Revoked
        })
        .await
        .and_then(|s| match s.state {
            SyncState::Revoked => Err(SdkError::Revoked),
            _ => Ok(s),
        })
    }

    /// The documents on this device.
    pub async fn documents(&self) -> Result<Vec<LocalDocument>, SdkError> {
        self.client.documents().await
    }

    /// Waits until the tablet's sync thread has stopped: after a revocation, once the store is
    /// wiped and removed. Never returns while the tablet runs.
    pub async fn until_stopped(&self) {
        self.client.until_stopped().await;
    }

    /// Stops cleanly: open text sessions are committed and the connection is closed.
    pub async fn shutdown(self) {
        self.client.shutdown().await;
    }

    // ----- documents -----

    /// Creates a case (*sprawa*) at stage `referral`, owned by this tablet's user; durable on
    /// the device when this returns, and sent to the server when a connection exists.
    pub async fn create_case(
        &self,
        lead_institution: &str,
        referral: Referral,
        household: BTreeMap<String, HouseholdMember>,
    ) -> Result<DocumentId, SdkError> {
        let init = CaseInit {
            actor: self.actor.clone(),
            owner: self.editor.login().to_owned(),
            lead_institution: lead_institution.to_owned(),
            referral,
            household,
        };
        let doc = case::new_case(&init, &self.editor, Utc::now())?;
        self.create(doc).await
    }

    /// Creates a PZK document (*Partnerski Zespół Kooperacji*) led by this tablet's user.
    pub async fn create_pzk(
        &self,
        name: &str,
        agreement_text: &str,
    ) -> Result<DocumentId, SdkError> {
        let init = PzkInit {
            actor: self.actor.clone(),
            name: name.to_owned(),
            animator: self.editor.login().to_owned(),
            agreement_text: agreement_text.to_owned(),
        };
        let doc = pzk::new_pzk(&init, Utc::now())?;
        self.create(doc).await
    }

    async fn create(&self, doc: Automerge) -> Result<DocumentId, SdkError> {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes[..]);
        let id = DocumentId::from_random(bytes);
        self.client.create(id, doc).await?;
        Ok(id)
    }

    /// Reads a document with `read`; [`SdkError::UnknownDocument`] when it is not here (or has
    /// not arrived yet).
    pub async fn read<R: Send + 'static>(
        &self,
        document: DocumentId,
        read: impl FnOnce(&Automerge) -> Result<R, SdkError> + Send + 'static,
    ) -> Result<R, SdkError> {
        self.client
            .read(document, move |doc| match doc {
                Some(doc) if !doc.get_heads().is_empty() => read(doc),
                _ => Err(SdkError::UnknownDocument(document)),
            })
            .await?
    }

    /// Reads a case.
    pub async fn case(&self, document: DocumentId) -> Result<CaseView, SdkError> {
        self.read(document, |doc| Ok(case::read_case(doc)?)).await
    }

    /// Reads a PZK document.
    pub async fn pzk(&self, document: DocumentId) -> Result<PzkView, SdkError> {
        self.read(document, |doc| Ok(pzk::read_pzk(doc)?)).await
    }

    /// Runs an edit of the model (`sync_core::model::case`, `::workflow`, `::pzk`) as this
    /// tablet's user, now: `edit(doc, by, at)` (PZK edits take `by.login()`). Durable on the
    /// device when this returns; a failed edit changes nothing.
    ///
    /// ```no_run
    /// # async fn f(tablet: &client_sdk::Tablet, case: sync_core::DocumentId) -> Result<(), client_sdk::SdkError> {
    /// use sync_core::model::case::{self, ScreeningOutcome};
    /// tablet.edit(case, |doc, by, at| {
    ///     case::set_screening(doc, ScreeningOutcome::Qualified, "Fits the model.", by, at)
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn edit<R: Send + 'static>(
        &self,
        document: DocumentId,
        edit: impl FnOnce(&mut Automerge, &Editor, DateTime<Utc>) -> Result<R, SchemaError>
            + Send
            + 'static,
    ) -> Result<R, SdkError> {
        let by = self.editor.clone();
        let (tx, rx) = oneshot::channel();
        self.client
            .edit(
                document,
                Box::new(move |doc| {
                    let result = edit(doc, &by, Utc::now())?;
                    let _ = tx.send(result);
                    Ok(())
                }),
            )
            .await?;
        rx.await.map_err(|_| SdkError::Stopped)
    }

    /// Moves the case to another stage (*etap*) as the workflow allows
    /// ([`workflow::transition`]); a conflicting stage is settled with [`Tablet::resolve`].
    pub async fn move_to_stage(&self, document: DocumentId, stage: Stage) -> Result<(), SdkError> {
        self.edit(document, move |doc, by, at| {
            workflow::transition(doc, stage, by, at)
        })
        .await
    }

    /// Adds a household member, or updates one.
    pub async fn add_household_member(
        &self,
        document: DocumentId,
        person_id: &str,
        member: HouseholdMember,
    ) -> Result<(), SdkError> {
        let person_id = person_id.to_owned();
        self.edit(document, move |doc, by, at| {
            case::add_household_member(doc, &person_id, &member, by, at)
        })
        .await
    }

    /// Records the screening result and notes.
    pub async fn set_screening(
        &self,
        document: DocumentId,
        outcome: ScreeningOutcome,
        notes: &str,
    ) -> Result<(), SdkError> {
        let notes = notes.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_screening(doc, outcome, &notes, by, at)
        })
        .await
    }

    /// Replaces a diagnosis sector's text (stored as a diff, so others' concurrent edits of the
    /// same sector are kept). For typing, use [`Tablet::edit_text`].
    pub async fn set_diagnosis(
        &self,
        document: DocumentId,
        sector: DiagnosisSector,
        text: &str,
    ) -> Result<(), SdkError> {
        let text = text.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_diagnosis_section(doc, sector, &text, by, at)
        })
        .await
    }

    /// Adds an IPP goal or updates its plan.
    pub async fn upsert_goal(
        &self,
        document: DocumentId,
        goal_id: &str,
        plan: GoalPlan,
    ) -> Result<(), SdkError> {
        let goal_id = goal_id.to_owned();
        self.edit(document, move |doc, by, at| {
            case::upsert_goal(doc, &goal_id, &plan, by, at)
        })
        .await
    }

    /// Sets a goal's status; setting it resolves a conflict on it.
    pub async fn set_goal_status(
        &self,
        document: DocumentId,
        goal_id: &str,
        status: GoalStatus,
    ) -> Result<(), SdkError> {
        let goal_id = goal_id.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_goal_status(doc, &goal_id, status, by, at)
        })
        .await
    }

    /// Puts a service of the PZK's list into the case's basket.
    pub async fn add_service(
        &self,
        document: DocumentId,
        service_id: &str,
        provider: &str,
    ) -> Result<(), SdkError> {
        let (service_id, provider) = (service_id.to_owned(), provider.to_owned());
        self.edit(document, move |doc, by, at| {
            case::add_service(doc, &service_id, &provider, by, at)
        })
        .await
    }

    /// Sets a basket service's status; setting it resolves a conflict on it.
    pub async fn set_service_status(
        &self,
        document: DocumentId,
        service_id: &str,
        status: ServiceStatus,
    ) -> Result<(), SdkError> {
        let service_id = service_id.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_service_status(doc, &service_id, status, by, at)
        })
        .await
    }

    /// Replaces the contract's text.
    pub async fn set_contract_text(
        &self,
        document: DocumentId,
        text: &str,
    ) -> Result<(), SdkError> {
        let text = text.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_contract_text(doc, &text, by, at)
        })
        .await
    }

    /// Appends a monitoring note (*notatka z monitorowania*) by this tablet's user and
    /// institution; returns the note's id.
    pub async fn append_monitoring_note(
        &self,
        document: DocumentId,
        mode: ContactMode,
        text: &str,
    ) -> Result<String, SdkError> {
        let note_id = random_id("n");
        let note = MonitoringNote {
            author: self.editor.login().to_owned(),
            institution: self.editor.institution().to_owned(),
            mode,
            text: text.to_owned(),
        };
        let id = note_id.clone();
        self.edit(document, move |doc, _, at| {
            case::append_monitoring_note(doc, &id, &note, at)
        })
        .await?;
        Ok(note_id)
    }

    /// Writes the evaluation (9.1).
    pub async fn set_evaluation(&self, document: DocumentId, text: &str) -> Result<(), SdkError> {
        let text = text.to_owned();
        self.edit(document, move |doc, by, at| {
            case::set_evaluation(doc, &text, by, at)
        })
        .await
    }

    /// Opens a text session on a free-text field: keystrokes are buffered and committed as few
    /// changes (see [`TextSession`]). Opening it commits other sessions of the same document.
    pub async fn edit_text(
        &self,
        document: DocumentId,
        field: TextField,
    ) -> Result<TextSession, SdkError> {
        TextSession::open(self.client.session_sender(), document, field).await
    }

    /// Shares a case with a co-worker: asks the server to assign `login` to it (the owner, an
    /// animator or an admin may). Their tablets fetch it at their next connection.
    pub async fn assign(&self, document: DocumentId, login: &str) -> Result<(), SdkError> {
        let server = self.server()?;
        crate::http::assign(server, document, login, false).await
    }

    /// Stops sharing a case with a co-worker: their tablets remove it at their next connection.
    pub async fn unassign(&self, document: DocumentId, login: &str) -> Result<(), SdkError> {
        let server = self.server()?;
        crate::http::assign(server, document, login, true).await
    }

    fn server(&self) -> Result<&ServerAddress, SdkError> {
        self.server
            .as_ref()
            .ok_or_else(|| SdkError::Invalid("this tablet has no server configured".into()))
    }

    // ----- conflicts -----

    /// The status fields of a document that hold concurrent values, with who set each value
    /// and when. Text and collections merge and never appear here.
    pub async fn conflicts(&self, document: DocumentId) -> Result<Vec<FieldConflict>, SdkError> {
        let me = self.actor.clone();
        self.read(document, move |doc| conflicts::conflicts(doc, &me))
            .await
    }

    /// Resolves a conflict: `value` (one of the field's values) becomes the only value, in a
    /// change recorded as this tablet's user's. Durable on the device when this returns.
    pub async fn resolve(
        &self,
        document: DocumentId,
        path: &str,
        value: &str,
    ) -> Result<(), SdkError> {
        let (path, value, by) = (path.to_owned(), value.to_owned(), self.editor.clone());
        self.client
            .edit(
                document,
                Box::new(move |doc| conflicts::resolve(doc, &path, &value, &by, Utc::now())),
            )
            .await
    }
}
