//! What a tablet's UI shows about syncing: the connection, progress, changes waiting for the
//! server, when the last sync finished and the last error in words.

use std::fmt;

use chrono::{DateTime, Utc};

/// Where syncing stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// No connection: working offline by choice, no server configured, or waiting to retry
    /// after a failure (see [`SyncStatus::last_error`]).
    Offline,
    /// Connecting to the server (TLS, token, the document list, the handshake).
    Connecting,
    /// Connected; `synced` of `total` documents hold exactly what the server holds.
    Syncing {
        /// Documents whose heads equal the server's.
        synced: usize,
        /// Documents on this device (and those the server lists that are still arriving).
        total: usize,
    },
    /// Connected and every document holds exactly what the server holds.
    UpToDate,
    /// The server revoked this device; its local data is wiped and it no longer syncs.
    Revoked,
}

/// The Polish words a tablet UI shows (the users' own words).
impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncState::Offline => f.write_str("Brak połączenia"),
            SyncState::Connecting => f.write_str("Łączenie z serwerem…"),
            SyncState::Syncing { synced, total } => {
                write!(f, "Synchronizacja: {synced} z {total} dokumentów")
            }
            SyncState::UpToDate => f.write_str("Wszystko zsynchronizowane"),
            SyncState::Revoked => f.write_str("Urządzenie zablokowane — dane usunięte z tabletu"),
        }
    }
}

/// The sync status of a tablet, for its UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncStatus {
    /// Where syncing stands.
    pub state: SyncState,
    /// Changes made on this device that the server has not yet acknowledged (they are safe in
    /// the local store and are sent again after every reconnect until acknowledged).
    pub pending_changes: usize,
    /// When the tablet was last up to date with the server.
    pub last_sync: Option<DateTime<Utc>>,
    /// The last connection or sync error in words; cleared once up to date again.
    pub last_error: Option<String>,
}

impl SyncStatus {
    /// The status before anything happened.
    pub fn offline() -> Self {
        Self {
            state: SyncState::Offline,
            pending_changes: 0,
            last_sync: None,
            last_error: None,
        }
    }
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.state)?;
        if self.pending_changes > 0 {
            write!(f, "; niewysłane zmiany: {}", self.pending_changes)?;
        }
        if let Some(at) = self.last_sync {
            write!(
                f,
                "; ostatnia synchronizacja: {}",
                at.format("%Y-%m-%d %H:%M")
            )?;
        }
        if let Some(error) = &self.last_error {
            write!(f, "; błąd: {error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_in_polish() {
        let status = SyncStatus {
            state: SyncState::Syncing {
                synced: 2,
                total: 5,
            },
            pending_changes: 3,
            last_sync: None,
            last_error: Some("connection refused".into()),
        };
        assert_eq!(
            status.to_string(),
            "Synchronizacja: 2 z 5 dokumentów; niewysłane zmiany: 3; błąd: connection refused"
        );
        assert_eq!(SyncStatus::offline().to_string(), "Brak połączenia");
    }
}
