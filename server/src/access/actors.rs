//! Actor bindings: each change author (an Automerge actor) belongs to the device that first
//! sent a change of it; a change of another device's actor is refused, and so is a change whose
//! author trailers name someone else than the writer (`model::editor::check_authorship`).
//! Accepted changes are audited.

use std::collections::BTreeSet;

use sync_core::engine::{ChangeSummary, Principal};
use sync_core::{model, DocumentId, Refusal};

use super::registry::Registry;

impl Registry {
    /// Binds change authors (actors) to devices; refuses an actor of another device.
    pub(super) fn check_actors(
        &self,
        principal: &Principal,
        document: &DocumentId,
        changes: &[ChangeSummary],
    ) -> Result<(), Refusal> {
        // The history names whom the author trailers name: only the writer, for their own
        // institution.
        let institution = self.user(&principal.user).and_then(|u| u.institution);
        for change in changes {
            model::editor::check_authorship(
                change.hash,
                change.message.as_deref(),
                &principal.user,
                institution.as_deref(),
            )?;
        }
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
                // Compare-and-swap, off this thread on PostgreSQL: another node that bound
                // the actor first wins, and its notification corrects this table.
                self.inner
                    .actors
                    .claim(&actor, principal.device.as_bytes())
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
}
