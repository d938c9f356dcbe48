//! [`DocumentPresence`]: where this user is in a document and who else is there, in
//! automerge-repo's presence format (browsers on the meeting page and tablets see each other).

use std::sync::{Arc, Mutex};

use client_sdk::Peers;
use sync_core::presence::Focus;

use crate::error::KooperacjaError;
use crate::records::PresencePeer;
use crate::runtime::runtime;
use crate::streams::{follow, PeersListener, Subscription};

fn peers(peers: &Peers) -> Vec<PresencePeer> {
    peers
        .iter()
        .map(|(peer, state)| {
            let member = state.member();
            let focus = state.focus();
            PresencePeer {
                peer_id: peer.to_string(),
                login: member.as_ref().map(|m| m.login.clone()),
                name: member.as_ref().map(|m| m.name.clone()),
                institution: member.map(|m| m.institution),
                section: focus.as_ref().map(|f| f.section.clone()),
                editing: focus.is_some_and(|f| f.editing),
                state_json: serde_json::to_string(&state.state).unwrap_or_default(),
            }
        })
        .collect()
}

/// Presence in one document. `stop` says goodbye; freeing it without stopping leaves the
/// others to forget this peer after their timeout.
#[derive(Debug, uniffi::Object)]
pub struct DocumentPresence {
    presence: Mutex<Option<client_sdk::DocumentPresence>>,
}

impl DocumentPresence {
    pub(crate) fn new(presence: client_sdk::DocumentPresence) -> Arc<Self> {
        Arc::new(Self {
            presence: Mutex::new(Some(presence)),
        })
    }

    fn with<R>(
        &self,
        act: impl FnOnce(&client_sdk::DocumentPresence) -> Result<R, client_sdk::SdkError>,
    ) -> Result<R, KooperacjaError> {
        let guard = self
            .presence
            .lock()
            .map_err(|_| KooperacjaError::stopped("presence failed"))?;
        let presence = guard
            .as_ref()
            .ok_or_else(|| KooperacjaError::stopped("presence was stopped"))?;
        Ok(act(presence)?)
    }
}

#[uniffi::export]
impl DocumentPresence {
    /// Says where this user is: the section, and whether they are typing there.
    pub fn set_focus(&self, section: String, editing: bool) -> Result<(), KooperacjaError> {
        self.with(|p| p.set_focus(&Focus { section, editing }))
    }

    /// Sets another channel of this user's state to a JSON value.
    pub fn set_channel(&self, channel: String, json: String) -> Result<(), KooperacjaError> {
        let value: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| KooperacjaError::invalid(&format!("presence value is not JSON: {e}")))?;
        self.with(|p| p.set(&channel, value))
    }

    /// The peers known now.
    pub fn peers(&self) -> Result<Vec<PresencePeer>, KooperacjaError> {
        self.with(|p| Ok(peers(&p.peers().borrow())))
    }

    /// Delivers the peers now and whenever they come, change or go.
    pub fn watch_peers(
        &self,
        listener: Arc<dyn PeersListener>,
    ) -> Result<Arc<Subscription>, KooperacjaError> {
        let source = self.with(|p| Ok(p.peers()))?;
        let closing = listener.clone();
        follow(
            source,
            peers,
            move |p| listener.on_peers(p),
            move || closing.on_closed(),
        )
    }

    /// Says goodbye and stops; stopping twice does nothing.
    pub async fn stop(&self) -> Result<(), KooperacjaError> {
        let presence = self
            .presence
            .lock()
            .map_err(|_| KooperacjaError::stopped("presence failed"))?
            .take();
        if let Some(presence) = presence {
            runtime()?
                .spawn(presence.stop())
                .await
                .map_err(|e| KooperacjaError::stopped(&e.to_string()))?;
        }
        Ok(())
    }
}
