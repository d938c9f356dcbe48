//! The shared test scaffolding of the Kooperacja workspace, used by the tests of `sync-core`,
//! `client-sdk` and the `tests` crate (where everything that drives the server with the SDK
//! lives, so that neither of the two imports the other).
//!
//! - Always: [`WAIT`]; the one case-fixture builder [`CaseFixture`] and the case workflow's
//!   story it walks ([`case_story`], gathered under one import in [`nowak`]); plain test
//!   documents ([`documents`]); files on disk ([`files`]).
//! - Feature `server`: a server in this process ([`server`]: [`start_server`], [`enroll`],
//!   the PZK region, metrics), a server in a child process for benchmarks
//!   ([`server_process`]), a throwaway PostgreSQL ([`pg_cluster`]), the frame-aware
//!   fault proxy ([`fault_proxy`]), raw WebSockets that speak frame by frame
//!   ([`raw_socket`]) and browser scripts in Chromium ([`browser`]).
//! - Feature `tablet`: tablet settings, [`tablet_at`], the case data a tablet enters, and
//!   waits on tablets and clients ([`tablet`]).
//! - Both: tablets and clients of the in-process server ([`in_process`]).
//!
//! Helpers panic with a message on failure: they are for tests.

use std::time::Duration;

#[cfg(all(feature = "server", feature = "tablet"))]
pub mod access_probe;
pub mod app_fixtures;
#[cfg(feature = "server")]
pub mod attachments;
#[cfg(feature = "server")]
pub mod browser;
pub mod case_fixture;
pub mod case_story;
pub mod documents;
#[cfg(all(feature = "server", feature = "tablet"))]
pub mod evaluation_region;
#[cfg(any(feature = "server", feature = "tablet"))]
pub mod events;
#[cfg(feature = "server")]
pub mod fault_proxy;
pub mod files;
#[cfg(all(feature = "server", feature = "tablet"))]
pub mod in_process;
#[cfg(feature = "server")]
pub mod pg_cluster;
#[cfg(feature = "server")]
pub mod pg_tls;
#[cfg(feature = "server")]
pub mod raw_socket;
#[cfg(feature = "tablet")]
pub mod referrals;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod server_process;
#[cfg(feature = "server")]
mod slow_link;
#[cfg(feature = "tablet")]
pub mod tablet;

/// The longest any single wait of the tests may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// The case workflow's story under one import: its people, times and steps
/// ([`case_story`]), the Nowak family's referral and a walk to any stage.
pub mod nowak {
    pub use crate::case_fixture::{referral, walk_to};
    pub use crate::case_story::*;
}

#[cfg(all(feature = "server", feature = "tablet"))]
pub use access_probe::{acknowledged, arrives, probe, Can};
pub use app_fixtures::{app_team_document, case_in_delivery, meeting_team_document, TUTORING};
#[cfg(feature = "server")]
pub use attachments::*;
#[cfg(feature = "server")]
pub use browser::{enrolment_code, require_browser_tools, screens_dir, BrowserScript};
pub use case_fixture::{new_family_case, CaseFixture};
pub use documents::*;
#[cfg(any(feature = "server", feature = "tablet"))]
pub use events::wait_event;
pub use files::*;
#[cfg(all(feature = "server", feature = "tablet"))]
pub use in_process::*;
#[cfg(feature = "tablet")]
pub use referrals::{nowak_family, school_referral};
#[cfg(feature = "server")]
pub use server::*;
#[cfg(feature = "server")]
pub use server_process::{
    memory_of, reset_peak_of, serve_until_stdin_closes, Memory, ServerProcess, SERVE_ARG,
};
#[cfg(feature = "tablet")]
pub use tablet::*;
