//! The one Tokio runtime every call of the bindings runs on.
//!
//! The foreign side polls the futures UniFFI hands it from its own threads (Kotlin coroutines,
//! Swift tasks); the SDK's futures need a Tokio context, so each call is spawned here and its
//! `JoinHandle` (which any executor may poll) is what the foreign side awaits.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

use crate::error::KooperacjaError;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime, started on first use (two worker threads: a tablet's work is small and bursty).
pub(crate) fn runtime() -> Result<&'static Runtime, KooperacjaError> {
    let started = RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kooperacja-sdk")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    started
        .as_ref()
        .map_err(|e| KooperacjaError::stopped(&format!("the SDK's runtime did not start: {e}")))
}

/// Runs `future` on the runtime and waits for it from whatever executor polls the caller.
pub(crate) async fn run<T, E>(
    future: impl Future<Output = Result<T, E>> + Send + 'static,
) -> Result<T, KooperacjaError>
where
    T: Send + 'static,
    E: Into<KooperacjaError> + Send + 'static,
{
    match runtime()?.spawn(future).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) => Err(KooperacjaError::stopped(&format!(
            "the SDK's task failed: {e}"
        ))),
    }
}
