//! Consultations addressed to an institution through a PZK document
//! ([`sync_core::model::addressed`]): who may ask and who may answer.
//!
//! A question addressed to institution X names its case by the case's document id; it is
//! accepted only from a user who may write that case, for their own institution. An answer to
//! it is accepted only from a member of X, for X. Either must be written by a device of the
//! user it names (the Automerge actor that created it is bound to that user's device), so
//! nobody writes in someone else's name. Each question and answer is checked once, when it
//! first reaches the server (its key is kept in the document's record): losing access to the
//! case later does not make the team's document invalid.

use automerge::{ActorId, Automerge};
use sync_core::engine::Access;
use sync_core::model::addressed::{addressed_entries, AddressedEntry};
use sync_core::{DocumentId, Refusal};

use super::record::DocRecord;
use super::registry::Registry;

impl Registry {
    /// Checks the questions and answers new in PZK document `doc` and records them as checked.
    pub(super) fn check_addressed(
        &self,
        doc: &Automerge,
        record: &mut DocRecord,
    ) -> Result<(), Refusal> {
        let entries = addressed_entries(doc).map_err(Refusal::Invalid)?;
        for entry in entries {
            if record.addressed_checked.contains(&entry.key) {
                continue;
            }
            if entry.answer {
                self.check_answer(&entry)?;
            } else {
                self.check_question(&entry)?;
            }
            record.addressed_checked.insert(entry.key);
        }
        Ok(())
    }

    fn check_question(&self, entry: &AddressedEntry) -> Result<(), Refusal> {
        let user = self
            .user(&entry.by)
            .ok_or(Refusal::ConsultationNotCaseWriter)?;
        let own = user.institution.as_deref() == Some(entry.institution.as_str());
        let case = entry.case_ref.parse::<DocumentId>().ok();
        let writes =
            case.is_some_and(|c| self.access_of(&user.login, &c, true) == Access::ReadWrite);
        if own && writes && self.written_by(entry.actor.as_ref(), &user.login) {
            Ok(())
        } else {
            Err(Refusal::ConsultationNotCaseWriter)
        }
    }

    fn check_answer(&self, entry: &AddressedEntry) -> Result<(), Refusal> {
        let member = self
            .user(&entry.by)
            .is_some_and(|u| u.institution.as_deref() == Some(entry.to.as_str()));
        if member
            && entry.institution == entry.to
            && self.written_by(entry.actor.as_ref(), &entry.by)
        {
            Ok(())
        } else {
            Err(Refusal::ConsultationAnswerNotAddressed)
        }
    }

    /// Whether `actor` is bound to a device of `login`.
    fn written_by(&self, actor: Option<&ActorId>, login: &str) -> bool {
        let Some(actor) = actor else { return false };
        let device = {
            let Ok(known) = self.inner.actor_devices.read() else {
                return false;
            };
            known.get(actor.to_bytes()).cloned()
        };
        device
            .and_then(|d| self.inner.directory.device(&d).ok().flatten())
            .is_some_and(|d| d.user == login && !d.revoked)
    }
}
