//! The server's errors: [`ServerError`] for what fails inside, [`ApiError`] for what a client
//! is shown (a clear message; the internal cause goes to the log, never to the client).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sync_core::StorageError;

/// How the error of a job starts while PostgreSQL is away (`crate::pg`).
pub const UNREACHABLE: &str = "PostgreSQL is unreachable";

/// Anything that can fail in the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// sled failed outside the document store (identity trees).
    #[error("database: {0}")]
    Database(#[from] sled::Error),
    /// A configuration that cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// TLS setup failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An administrative request that cannot be carried out (unknown user, bad role...).
    #[error("{0}")]
    Invalid(String),
    /// Something looked up that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Too many failed attempts (enrolment codes): refused for a while. Shown as it is.
    #[error("{0}")]
    TooManyAttempts(String),
    /// Stored identity data that does not decode.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// A compare-and-swap write found another writer's value: two processes write one chain
    /// (an audit chain, an actor's binding).
    #[error("another writer: {0}")]
    Conflict(String),
    /// The server is stopping: the work was not done.
    #[error("the server is stopping")]
    Stopping,
}

impl ServerError {
    /// An IO error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// An HTTP error response: a status and a message safe to show.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// 401 with a reason.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
        }
    }

    /// 400 with a reason.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 404 with a reason.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 403 with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// 429 with a reason.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: message.into(),
        }
    }

    /// Any status with a reason (the attachment endpoints' 409, 413, 415, 416, 422).
    pub fn status(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 503 with a reason.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::Invalid(m) => Self {
                status: StatusCode::BAD_REQUEST,
                message: m,
            },
            ServerError::NotFound(m) => Self {
                status: StatusCode::NOT_FOUND,
                message: m,
            },
            ServerError::Stopping => Self::unavailable("the server is stopping"),
            ServerError::TooManyAttempts(m) => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: m,
            },
            ServerError::Storage(StorageError::Io(m)) if m.starts_with(UNREACHABLE) => {
                tracing::warn!(error = %m, "request refused: the database is away");
                Self::unavailable(
                    "the database is unreachable right now; nothing was changed, try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message:
                        "internal error; the administrator can find the cause in the server log"
                            .into(),
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}
