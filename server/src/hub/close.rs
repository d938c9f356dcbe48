//! Why the server closes a connection: every WebSocket close code and reason it sends, in one
//! enum. The codes are sync-core's [`close_code`] constants; the writer turns a [`Closing`] into
//! the close frame (`crate::ws::writer::close_frame`).

use std::borrow::Cow;

use sync_core::catalogue::{coded_text, DEVICE_REVOKED};
use sync_core::engine::close_code;

/// Why a connection is being closed, and so which code and reason its peer reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closing {
    /// The engine refused something (a malformed frame, a protocol violation, a refused
    /// change...) or replaced the connection: its own code and reason.
    Engine {
        /// WebSocket close code (see [`close_code`]).
        code: u16,
        /// Reason.
        reason: String,
    },
    /// The device was revoked while connected: its reason carries the code
    /// `server.device-revoked`, on which the case app wipes the device at once.
    Revoked,
    /// The server is shutting down.
    ShuttingDown,
    /// The peer does not read what the server sends.
    SlowReader,
    /// The peer sent a frame over the size limit.
    FrameTooLarge {
        /// The limit, in bytes.
        max_frame: usize,
    },
    /// The peer sent more frames than its rate allows.
    RateLimited {
        /// The sustained rate allowed.
        frames_per_second: u32,
    },
    /// The peer sent a text frame.
    TextFrame,
    /// The peer answered no ping for longer than the idle timeout.
    NoPong,
}

impl Closing {
    /// The WebSocket close code.
    pub fn code(&self) -> u16 {
        match self {
            Closing::Engine { code, .. } => *code,
            Closing::Revoked => close_code::REVOKED,
            Closing::ShuttingDown | Closing::NoPong => close_code::GOING_AWAY,
            Closing::SlowReader => close_code::POLICY_VIOLATION,
            Closing::FrameTooLarge { .. } => close_code::TOO_BIG,
            Closing::RateLimited { .. } => close_code::RATE_LIMITED,
            Closing::TextFrame => close_code::PROTOCOL_ERROR,
        }
    }

    /// The reason, as the peer reads it (before the writer truncates it to what a close frame
    /// holds).
    pub fn reason(&self) -> Cow<'_, str> {
        match self {
            Closing::Engine { reason, .. } => Cow::Borrowed(reason),
            Closing::Revoked => Cow::Owned(coded_text(DEVICE_REVOKED, "this device was revoked")),
            Closing::ShuttingDown => Cow::Borrowed("the server is shutting down"),
            Closing::SlowReader => {
                Cow::Borrowed("too slow to read what the server sends; reconnect")
            }
            Closing::FrameTooLarge { max_frame } => {
                Cow::Owned(format!("frame over the limit of {max_frame} bytes"))
            }
            Closing::RateLimited { frames_per_second } => {
                Cow::Owned(format!("more than {frames_per_second} frames per second"))
            }
            Closing::TextFrame => {
                Cow::Borrowed("text frames are not part of the protocol: send binary CBOR frames")
            }
            Closing::NoPong => Cow::Borrowed("no answer to pings"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes and reasons are what the server sent before they were named here.
    #[test]
    fn codes_and_reasons_are_unchanged() {
        let table = [
            (
                Closing::Revoked,
                4001,
                "[server.device-revoked] this device was revoked",
            ),
            (Closing::ShuttingDown, 1001, "the server is shutting down"),
            (
                Closing::SlowReader,
                1008,
                "too slow to read what the server sends; reconnect",
            ),
            (
                Closing::FrameTooLarge { max_frame: 1024 },
                1009,
                "frame over the limit of 1024 bytes",
            ),
            (
                Closing::RateLimited {
                    frames_per_second: 2000,
                },
                4002,
                "more than 2000 frames per second",
            ),
            (
                Closing::TextFrame,
                1002,
                "text frames are not part of the protocol: send binary CBOR frames",
            ),
            (Closing::NoPong, 1001, "no answer to pings"),
        ];
        for (closing, code, reason) in table {
            assert_eq!(closing.code(), code, "{closing:?}");
            assert_eq!(closing.reason(), reason, "{closing:?}");
        }
    }
}
