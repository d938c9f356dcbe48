//! [`KooperacjaError`]: every failure of the SDK as a typed exception (Kotlin
//! `KooperacjaException.WrongKey`, Swift `KooperacjaError.WrongKey`...), each carrying the stable
//! reason code, the Polish message for the user (the catalogue `sync-core/messages/pl.json`) and
//! the technical detail in English for logs.

use client_sdk::SdkError;
use sync_core::Coded;

/// What can go wrong, one variant per kind of failure an app handles differently.
///
/// `reason_code` is stable (e.g. `sdk.wrong-key`, `stage.move-not-allowed`,
/// `rejection.read-only`) and `message_pl` is what the user reads; `detail` is for logs only.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KooperacjaError {
    /// The key does not open this device's store; nothing in it was read or changed.
    #[error("{detail}")]
    WrongKey {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The server revoked this device; its data on the device has been wiped.
    #[error("{detail}")]
    Revoked {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The server refused: the token (401), or a change it will not take (the code names why,
    /// e.g. `rejection.read-only`).
    #[error("{detail}")]
    Refused {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// A rule of the model refused the edit or read (a stage move not allowed, a contract
    /// without text...); nothing was changed.
    #[error("{detail}")]
    Rule {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The user may only read this document; the edit was refused on the device.
    #[error("{detail}")]
    ReadOnly {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The document is not on this device (or has not arrived yet).
    #[error("{detail}")]
    UnknownDocument {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The network failed (connection refused, TLS, WebSocket) or the server URL is wrong.
    #[error("{detail}")]
    Network {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The store on the device failed, is in use by another open tablet, or is not one this
    /// SDK made; the edit was not saved.
    #[error("{detail}")]
    Storage {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// A wait ran out of time.
    #[error("{detail}")]
    Timeout {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// The tablet was shut down or wiped, or the SDK's background task stopped.
    #[error("{detail}")]
    Stopped {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// A request the SDK cannot carry out as asked (a malformed id or date, an unknown field
    /// path, a value that is not one of a conflict's values...).
    #[error("{detail}")]
    Invalid {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
}

impl KooperacjaError {
    /// The stable reason code.
    pub fn reason_code(&self) -> &str {
        match self {
            Self::WrongKey { reason_code, .. }
            | Self::Revoked { reason_code, .. }
            | Self::Refused { reason_code, .. }
            | Self::Rule { reason_code, .. }
            | Self::ReadOnly { reason_code, .. }
            | Self::UnknownDocument { reason_code, .. }
            | Self::Network { reason_code, .. }
            | Self::Storage { reason_code, .. }
            | Self::Timeout { reason_code, .. }
            | Self::Stopped { reason_code, .. }
            | Self::Invalid { reason_code, .. } => reason_code,
        }
    }

    /// A request that cannot be carried out as asked, explained by `detail`.
    pub(crate) fn invalid(detail: &str) -> Self {
        let (reason_code, message_pl, detail) = parts(&SdkError::Invalid(detail.to_owned()));
        Self::Invalid {
            reason_code,
            message_pl,
            detail,
        }
    }

    /// The tablet or the SDK's runtime is gone, explained by `detail`.
    pub(crate) fn stopped(detail: &str) -> Self {
        let (reason_code, message_pl, _) = parts(&SdkError::Stopped);
        Self::Stopped {
            reason_code,
            message_pl,
            detail: detail.to_owned(),
        }
    }
}

fn parts(error: &SdkError) -> (String, String, String) {
    (
        error.code().to_owned(),
        error.message_pl(),
        error.to_string(),
    )
}

impl From<SdkError> for KooperacjaError {
    fn from(error: SdkError) -> Self {
        let (reason_code, message_pl, detail) = parts(&error);
        let refused = reason_code.starts_with("rejection.");
        match error {
            SdkError::WrongKey(_) => Self::WrongKey {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Revoked => Self::Revoked {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Unauthorized(_) => Self::Refused {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Network(_) if refused => Self::Refused {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Network(_) | SdkError::Url(_) => Self::Network {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Schema(_) | SdkError::Automerge(_) => Self::Rule {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::ReadOnly(_) => Self::ReadOnly {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::UnknownDocument(_) => Self::UnknownDocument {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Storage(_) | SdkError::StoreInUse(_) | SdkError::UnknownStore(_) => {
                Self::Storage {
                    reason_code,
                    message_pl,
                    detail,
                }
            }
            SdkError::Timeout(_) => Self::Timeout {
                reason_code,
                message_pl,
                detail,
            },
            SdkError::Stopped => Self::Stopped {
                reason_code,
                message_pl,
                detail,
            },
            // `Invalid`, and any failure the SDK gains later (its own code and text kept).
            _ => Self::Invalid {
                reason_code,
                message_pl,
                detail,
            },
        }
    }
}

impl From<sync_core::SchemaError> for KooperacjaError {
    fn from(error: sync_core::SchemaError) -> Self {
        SdkError::Schema(error).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_key_keeps_its_code_and_polish_text() {
        let error = KooperacjaError::from(SdkError::WrongKey("/data".into()));
        let KooperacjaError::WrongKey {
            reason_code,
            message_pl,
            ..
        } = &error
        else {
            panic!("not WrongKey: {error:?}");
        };
        assert_eq!(reason_code, "sdk.wrong-key");
        assert!(!message_pl.starts_with("Błąd:"), "{message_pl}");
    }

    #[test]
    fn a_refusal_quoted_in_a_close_reason_is_a_refusal_with_the_servers_code() {
        let error = KooperacjaError::from(SdkError::Network(
            "the server closed the connection (1008): [rejection.read-only] changes refused".into(),
        ));
        assert!(
            matches!(error, KooperacjaError::Refused { .. }),
            "{error:?}"
        );
        assert_eq!(error.reason_code(), "rejection.read-only");
        let plain = KooperacjaError::from(SdkError::Network("reset".into()));
        assert!(
            matches!(plain, KooperacjaError::Network { .. }),
            "{plain:?}"
        );
    }
}
