//! [`Duties`]: the hook through which a client takes on work beyond plain syncing, asked at the
//! few points where a tablet's client differs from a plain one.
//!
//! The client's thread carries out what the hook decides (fetching a list, removing documents,
//! wiping the store); the hook only decides. A plain client ([`SyncClient::start`]) runs with
//! [`Plain`], whose every answer is "nothing more"; a tablet's duties live in
//! `crate::tablet::duties`.
//!
//! [`SyncClient::start`]: super::SyncClient::start

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sync_core::DocumentId;

use crate::error::SdkError;
use crate::http::Listed;
use crate::transport::ServerAddress;

/// Fetches the documents this device's user may hold.
pub(crate) type ListFetch = Pin<Box<dyn Future<Output = Result<Vec<Listed>, SdkError>> + Send>>;

/// What the client does after the server refused a token it never accepted before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterRefusal {
    /// Try again with backoff, as after any failure.
    Retry,
    /// Stay offline until the app asks again: a token that never worked will not start working.
    StayOffline,
}

/// What the client does with its store once the server revoked the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterRevocation {
    /// Keep the store and the thread; stop syncing.
    Keep,
    /// Remove every document and state entry, then stop the thread (and call
    /// [`Duties::after_wipe`] once it has stopped).
    WipeAndStop,
}

/// Work a client does beyond plain syncing; every default is the plain client's answer.
pub(crate) trait Duties: Send + 'static {
    /// The fetch of the documents this user may hold, run before each connection and on every
    /// refresh while connected; `None` when the client keeps no such list (it then holds
    /// whatever it is given and fetches nothing before connecting).
    fn fetch_list(&self, _server: &ServerAddress) -> Option<ListFetch> {
        None
    }

    /// While connected, how often to fetch the list again.
    fn refresh_every(&self) -> Option<Duration> {
        None
    }

    /// Which of the documents `held` here must go, now that the server listed those the user
    /// may hold; `created_here` were created on this device and are not acknowledged yet.
    fn must_go(
        &self,
        _listed: &BTreeSet<DocumentId>,
        _held: &BTreeSet<DocumentId>,
        _created_here: &BTreeSet<DocumentId>,
    ) -> Vec<DocumentId> {
        Vec::new()
    }

    /// What to do after the server refused a token it never accepted.
    fn after_refusal(&self) -> AfterRefusal {
        AfterRefusal::Retry
    }

    /// What to do with the store after a revocation.
    fn after_revocation(&self) -> AfterRevocation {
        AfterRevocation::Keep
    }

    /// Runs on the client's thread after it has stopped with its store wiped (the store is
    /// closed by then): removes what remains on disk.
    fn after_wipe(&self) {}
}

/// A plain client's duties: none.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Plain;

impl Duties for Plain {}
