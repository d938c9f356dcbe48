//! [`TabletDuties`]: what a tablet's client does beyond plain syncing. A tablet holds only what
//! its user may hold: it fetches the server's list of those documents before each connection
//! and again while connected, and removes the rest; a token the server never accepted keeps it
//! offline; a revocation wipes the store and removes its files.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use sync_core::DocumentId;

use crate::client::{AfterRefusal, AfterRevocation, Duties, ListFetch};
use crate::transport::ServerAddress;

/// A tablet's duties (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub(super) struct TabletDuties {
    /// While connected, fetch the document list again this often.
    pub(super) refresh_every: Option<Duration>,
    /// Removed after a revocation wiped the store (directories and files).
    pub(super) wipe_paths: Vec<PathBuf>,
}

impl Duties for TabletDuties {
    fn fetch_list(&self, server: &ServerAddress) -> Option<ListFetch> {
        let server = server.clone();
        Some(Box::pin(
            async move { crate::http::my_documents(&server).await },
        ))
    }

    fn refresh_every(&self) -> Option<Duration> {
        self.refresh_every
    }

    /// Everything held that is neither listed nor created here and still unacknowledged (the
    /// server cannot list a document it has not seen yet).
    fn must_go(
        &self,
        listed: &BTreeSet<DocumentId>,
        held: &BTreeSet<DocumentId>,
        created_here: &BTreeSet<DocumentId>,
    ) -> Vec<DocumentId> {
        held.iter()
            .filter(|d| !listed.contains(d) && !created_here.contains(d))
            .copied()
            .collect()
    }

    fn after_refusal(&self) -> AfterRefusal {
        AfterRefusal::StayOffline
    }

    fn after_revocation(&self) -> AfterRevocation {
        AfterRevocation::WipeAndStop
    }

    fn after_wipe(&self) {
        for path in &self.wipe_paths {
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
            if let Err(e) = removed {
                tracing::warn!(error = %e, path = %path.display(), "removing the wiped store");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> DocumentId {
        DocumentId::from_random([n; 16])
    }

    #[test]
    fn a_tablet_keeps_what_is_listed_or_created_here() {
        let duties = TabletDuties {
            refresh_every: None,
            wipe_paths: Vec::new(),
        };
        let listed = BTreeSet::from([id(1)]);
        let created_here = BTreeSet::from([id(2)]);
        let held = BTreeSet::from([id(1), id(2), id(3)]);
        assert_eq!(duties.must_go(&listed, &held, &created_here), vec![id(3)]);
    }
}
